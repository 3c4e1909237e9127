/*
 * baton import: verifies a packet carried by hand, imports the record and
 * writes the signed receipt for the sending school. ('baton serve' does the
 * same for packets that arrive over the network.)
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "bti.h"
#include "transfer.h"

#define SKEW 300

static int import_cmd(int argc, char **argv)
{
	static const struct option opts[] = {{"receipt-out", required_argument, NULL, 'r'},
	                                     {"force", no_argument, NULL, 'F'},
	                                     CLI_COMMON_OPTS,
	                                     {NULL, 0, NULL, 0}};
	struct cli_common com = {0};
	const char *receipt_out = NULL;
	struct recv_req q;
	baton_source src;
	baton_key *key = NULL;
	store *st = NULL;
	int opt, r, rc, fd = -1, force = 0;

	memset(&q, 0, sizeof(q));
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (cli_common_opt(&com, opt, optarg))
			continue;
		if (opt == 'r' || opt == 'F') {
			if (opt == 'r')
				receipt_out = optarg;
			else
				force = 1;
			continue;
		}
		fprintf(opt == 'h' ? stdout : stderr,
		        "usage: baton import PACKET [--receipt-out FILE [--force]] [--dir DIR]\n\n"
		        "Verifies a packet carried by hand and imports the record; writes the\n"
		        "signed receipt (acceptance or rejection) for the sending school.\n");
		return opt == 'h' ? EXIT_OK : EXIT_USAGE;
	}
	if (optind + 1 != argc)
		return cli_usage_error("import: one PACKET file expected");
	if (force && !receipt_out)
		return cli_usage_error("import: --force goes with --receipt-out");
	/* Refused before the import, which the receipt would otherwise not record. */
	if (receipt_out && (r = outfile_check(receipt_out, force)) != 0)
		return cli_fail(NULL, r);
	if ((fd = open(argv[optind], O_RDONLY | O_CLOEXEC)) < 0)
		return cli_fail(NULL,
		                bti_diag_err(BATON_EIO, "%s: %s", argv[optind], strerror(errno)));
	if ((r = baton_source_fd(&src, &fd)) != 0) {
		close(fd);
		return cli_fail(argv[optind], r);
	}
	if ((rc = cli_open_store(&com, &st)) != EXIT_OK ||
	    (rc = cli_load_school_key(&com, &key)) != EXIT_OK)
		goto out;
	store_set_audit_signer(st, key);
	q.src = &src;
	q.key = key;
	q.now = cli_now();
	q.skew = SKEW;
	r = transfer_receive(st, &q);
	if (r != 0) {
		rc = cli_fail(argv[optind], r);
		goto out;
	}
	/* The receipt exists only after the import (or rejection) committed. */
	if (q.receipt && receipt_out &&
	    (r = outfile_write(receipt_out, q.receipt, q.receipt_len, 0644, force)) != 0) {
		rc = cli_fail(NULL, r);
		fprintf(stderr,
		        "baton: the packet was %s all the same; importing it again writes the "
		        "same receipt\n",
		        q.reason == BATON_REASON_ACCEPTED ? "imported" : "answered");
		goto out;
	}
	if (q.reason == BATON_REASON_ACCEPTED && q.kind == BATON_KIND_REQUEST) {
		printf("Request %s from %s for student %s: %s\n", cli_hex(q.packet, BATON_ID_BYTES),
		       q.from, q.student,
		       q.replay         ? "seen before, the same receipt"
		       : q.auto_release ? "releasing it (policy auto-release on)"
		                        : "held for 'baton release' or 'baton deny'");
		if (receipt_out)
			printf("  receipt written to %s\n", receipt_out);
		rc = EXIT_OK;
		if (!q.replay && q.auto_release) {
			struct send_req s;
			memset(&s, 0, sizeof(s));
			s.key = key;
			s.node_dir = cli_dir(&com);
			s.now = q.now;
			s.skew = SKEW;
			rc = cli_sent(&s, transfer_release(st, q.packet, &s));
		}
	} else if (q.reason == BATON_REASON_ACCEPTED) {
		if (q.replay)
			printf("Already imported from %s as %s (packet %s); the same receipt%s\n",
			       q.from, q.student, cli_hex(q.packet, BATON_ID_BYTES),
			       receipt_out ? " was written again" : " stands");
		else if (q.review)
			printf("Held %s from %s for review as %llu: not the child on file as %s "
			       "('baton review show %llu')\n  packet %s\n",
			       argv[optind], q.from, (unsigned long long)q.held, q.student,
			       (unsigned long long)q.held, cli_hex(q.packet, BATON_ID_BYTES));
		else
			printf("Imported %s from %s as %s, version %u%s\n  packet %s\n",
			       argv[optind], q.from, q.student, q.version,
			       q.unchanged ? " (the same record as the one on file)" : "",
			       cli_hex(q.packet, BATON_ID_BYTES));
		if (receipt_out)
			printf("  receipt written to %s\n", receipt_out);
		rc = EXIT_OK;
	} else if (q.unverified) {
		/* Not a pinned school's packet: the registrar is told so, and nothing is on file.
		 */
		fprintf(stderr,
		        "baton: %s: refused (%s): %s%s%s%s; nothing recorded, no receipt written\n",
		        argv[optind], baton_reason_name(q.reason), baton_diag(),
		        q.claims[0] ? "; the packet claims to be from " : "", q.claims,
		        q.claims[0] ? " (not verified)" : "");
		rc = EXIT_REJECTED;
	} else {
		fprintf(stderr, "baton: %s: rejected (%s): %s%s%s\n", argv[optind],
		        baton_reason_name(q.reason), baton_diag(),
		        q.receipt && receipt_out ? "; rejection receipt written to " : "",
		        q.receipt && receipt_out ? receipt_out : "");
		rc = EXIT_REJECTED;
	}
out:
	free(q.receipt);
	store_close(st);
	baton_key_free(key);
	close(fd);
	return rc;
}

int cmd_import(int argc, char **argv)
{
	return import_cmd(argc, argv);
}
