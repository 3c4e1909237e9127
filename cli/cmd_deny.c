/*
 * baton deny: the registrar refuses a held request; the refusal is a signed
 * receipt delivered to the school that asked.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "cli.h"
#include "bti.h"
#include "transfer.h"

#define SKEW 300

int cmd_deny(int argc, char **argv)
{
	static const struct option opts[] = {{"reason", required_argument, NULL, 'r'},
	                                     {"out", required_argument, NULL, 'o'},
	                                     {"force", no_argument, NULL, 'F'},
	                                     CLI_COMMON_OPTS,
	                                     {NULL, 0, NULL, 0}};
	struct cli_common com = {0};
	const char *reason = NULL, *out = NULL;
	uint8_t id[BATON_ID_BYTES], *receipt = NULL;
	size_t len;
	baton_key *key = NULL;
	store *st = NULL;
	int opt, r, rc, force = 0;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (cli_common_opt(&com, opt, optarg))
			continue;
		if (opt == 'r' || opt == 'o') {
			*(opt == 'r' ? &reason : &out) = optarg;
			continue;
		}
		if (opt == 'F') {
			force = 1;
			continue;
		}
		fprintf(opt == 'h' ? stdout : stderr,
		        "usage: baton deny ID --reason TEXT [--out FILE [--force]] [--dir DIR]\n\n"
		        "Refuses a held request. The school that asked receives a refusal\n"
		        "signed by this school, with the reason: delivered by 'baton serve',\n"
		        "or written to FILE with --out to carry by hand.\n");
		return opt == 'h' ? EXIT_OK : EXIT_USAGE;
	}
	if (optind + 1 != argc || reason == NULL)
		return cli_usage_error("deny: a request ID and --reason TEXT are required");
	if (reason[0] == 0 || strlen(reason) > BATON_NOTE_MAX)
		return cli_usage_error("deny: --reason must be 1 to %d bytes", BATON_NOTE_MAX);
	if (force && !out)
		return cli_usage_error("deny: --force goes with --out");
	/* Before the refusal is recorded: it would not be written afterwards. */
	if (out && (r = outfile_check(out, force)) != 0)
		return cli_fail(NULL, r);
	if ((rc = cli_open_store(&com, &st)) != EXIT_OK)
		return rc;
	if ((r = cli_request_id(st, argv[optind], id)) != 0) {
		rc = cli_fail("deny", r);
		goto out;
	}
	if ((rc = cli_load_school_key(&com, &key)) != EXIT_OK)
		goto out;
	store_set_audit_signer(st, key);
	if ((r = transfer_deny(st, key, id, reason, cli_now(), &receipt, &len)) != 0) {
		rc = cli_fail("deny", r);
		goto out;
	}
	printf("Denied request %s; the refusal is queued for 'baton serve'\n",
	       cli_hex(id, BATON_ID_BYTES));
	/* After the commit: the refusal exists whether or not this file can be written. */
	if (out && (r = outfile_write(out, receipt, len, 0644, force)) != 0) {
		rc = cli_fail(NULL, r);
		goto out;
	}
	if (out)
		printf("  refusal written to %s\n", out);
	rc = EXIT_OK;
out:
	free(receipt);
	store_close(st);
	baton_key_free(key);
	return rc;
}
