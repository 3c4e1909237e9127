/*
 * baton inbox: packets received, and their receipts, oldest first.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "bti.h"

static int inbox_one(const store_inbox *e, void *arg)
{
	baton_receipt rc;
	/* The receipt's note says what became of an accepted packet ("held for review"). */
	if (baton_receipt_parse(e->receipt, e->receipt_len, &rc) != 0)
		rc.note[0] = '\0';
	return json_array_append_new(arg, json_pack("{s:s, s:s, s:s, s:s, s:I, s:s}", "packet",
	                                            cli_hex(e->packet, BATON_ID_BYTES), "from",
	                                            e->from, "student", e->student, "result",
	                                            baton_reason_name(e->reason), "time",
	                                            (json_int_t)e->time, "note", rc.note))
	           ? BATON_ENOMEM
	           : 0;
}

static int inbox_fn(store_txn *t, void *arg)
{
	return store_inbox_each(t, inbox_one, arg);
}

static void inbox_print(const json_t *arr)
{
	size_t i;
	const json_t *e;
	json_array_foreach(arr, i, e)
	{
		const char *note = cli_str(e, "note");
		printf("%s  %s  from %-10s %-10s ", cli_str(e, "packet"),
		       cli_time(cli_int(e, "time")), cli_str(e, "from"), cli_str(e, "student"));
		/* The result is padded only to line up the notes after it. */
		if (note[0])
			printf("%-9s  %s\n", cli_str(e, "result"), note);
		else
			printf("%s\n", cli_str(e, "result"));
	}
}

int cmd_inbox(int argc, char **argv)
{
	struct cli_common com = {0};
	store *st;
	int r, rc;

	if ((rc = cli_common_only(argc, argv, &com,
	                          "usage: baton inbox [--json] [--dir DIR]\n\n"
	                          "Packets received, oldest first, with the date each arrived "
	                          "(UTC)\nand the receipt given for it.\n")) >= 0)
		return rc;
	if (optind != argc)
		return cli_usage_error("inbox: no arguments expected");
	if ((rc = cli_open_store(&com, &st)) != EXIT_OK)
		return rc;
	json_t *arr = json_array();
	r = arr ? store_read(st, inbox_fn, arr) : BATON_ENOMEM;
	store_close(st);
	return cli_table_done(r, arr, "time", com.json, inbox_print, "inbox",
	                      "The inbox is empty.");
}
