/*
 * baton release: the sending school sends the record a held request asks
 * for.
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

int cmd_release(int argc, char **argv)
{
	static const struct option opts[] = {{"out", required_argument, NULL, 'o'},
	                                     {"force", no_argument, NULL, 'F'},
	                                     CLI_COMMON_OPTS,
	                                     {NULL, 0, NULL, 0}};
	struct cli_common com = {0};
	struct send_req s;
	uint8_t id[BATON_ID_BYTES];
	baton_key *key = NULL;
	store *st = NULL;
	int opt, r, rc;

	memset(&s, 0, sizeof(s));
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (cli_common_opt(&com, opt, optarg))
			continue;
		if (opt == 'o' || opt == 'F') {
			if (opt == 'o')
				s.out = optarg;
			else
				s.force = 1;
			continue;
		}
		fprintf(opt == 'h' ? stdout : stderr,
		        "usage: baton release ID [--out PACKET [--force]] [--dir DIR]\n\n"
		        "Sends the record a held request asks for to the school that asked,\n"
		        "after checking its consent against every release rule again. The\n"
		        "packet is queued for 'baton serve', or written to PACKET with --out.\n");
		return opt == 'h' ? EXIT_OK : EXIT_USAGE;
	}
	if (optind + 1 != argc)
		return cli_usage_error("release: one request ID expected");
	if (s.force && !s.out)
		return cli_usage_error("release: --force goes with --out");
	if ((rc = cli_open_store(&com, &st)) != EXIT_OK)
		return rc;
	if ((r = cli_request_id(st, argv[optind], id)) != 0) {
		rc = cli_fail("release", r);
		goto out;
	}
	if ((rc = cli_load_school_key(&com, &key)) != EXIT_OK)
		goto out;
	store_set_audit_signer(st, key);
	s.key = key;
	s.node_dir = cli_dir(&com);
	s.now = cli_now();
	s.skew = SKEW;
	rc = cli_sent(&s, transfer_release(st, id, &s));
out:
	store_close(st);
	baton_key_free(key);
	return rc;
}
