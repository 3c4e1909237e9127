/*
 * baton receipt import: records the receiving school's signed receipt for a
 * packet sent from here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "bti.h"
#include "transfer.h"

static int receipt_import(int argc, char **argv)
{
	struct cli_common com = {0};
	baton_receipt rc_;
	store_outbox ob;
	uint8_t *buf;
	size_t len;
	store *st;
	int r, rc;

	if ((rc = cli_common_only(argc, argv, &com,
	                          "usage: baton receipt import FILE [--dir DIR]\n\n"
	                          "Records the receiving school's signed receipt for a packet sent "
	                          "from here.\n")) >= 0)
		return rc;
	if (optind + 1 != argc)
		return cli_usage_error("receipt import: one FILE expected");
	if ((r = baton_file_read(argv[optind], BATON_OBJ_MAX, &buf, &len)) != 0)
		return cli_fail(NULL, r);
	if ((rc = cli_open_store(&com, &st)) != EXIT_OK) {
		free(buf);
		return rc;
	}
	r = transfer_receipt(st, buf, len, &rc_, &ob);
	store_close(st);
	free(buf);
	if (r != 0)
		return cli_fail(argv[optind], r);
	printf("Receipt from %s for %s %s (student %s): %s%s%s\n", ob.to,
	       ob.kind == OUT_REQUEST ? "request" : "packet",
	       cli_hex(rc_.packet_id, BATON_ID_BYTES), ob.student, baton_reason_name(rc_.reason),
	       rc_.note[0] ? ": " : "", rc_.note);
	return EXIT_OK;
}

int cmd_receipt(int argc, char **argv)
{
	static const struct cmd sub[] = {
	    {"import", receipt_import, "record a receipt received as a file"},
	};
	return cli_dispatch("receipt", sub, sizeof(sub) / sizeof(sub[0]), argc, argv);
}
