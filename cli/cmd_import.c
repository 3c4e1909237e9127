/*
 * baton import: verifies a packet carried by hand, imports the record and
 * writes the signed receipt for the sending school. ('baton serve' does the
 * same for packets that arrive over the network.)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "bti.h"
#include "transfer.h"
#include "view_files.h"

#define SKEW 300

static const char import_usage[] =
    "usage: baton import PACKET [--receipt-out FILE [--force]] [--json] [--dir DIR]\n\n"
    "Verifies a packet carried by hand and imports the record; writes the\n"
    "signed receipt (acceptance or rejection) for the sending school.\n"
    "--json prints the outcome as one JSON object, with the same exit code.\n";

struct import_opts {
	struct cli_common com;
	const char *packet, *receipt_out;
	int force;
};

/* Parses import's command line into o. Returns -1 to go on, or the exit code. */
static int import_options(int argc, char **argv, struct import_opts *o)
{
	static const struct option opts[] = {{"receipt-out", required_argument, NULL, 'r'},
	                                     {"force", no_argument, NULL, 'F'},
	                                     CLI_COMMON_OPTS,
	                                     {NULL, 0, NULL, 0}};
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (cli_common_opt(&o->com, opt, optarg))
			continue;
		if (opt == 'r')
			o->receipt_out = optarg;
		else if (opt == 'F')
			o->force = 1;
		else {
			fputs(import_usage, opt == 'h' ? stdout : stderr);
			return opt == 'h' ? EXIT_OK : EXIT_USAGE;
		}
	}
	if (optind + 1 != argc)
		return cli_usage_error("import: one PACKET file expected");
	if (o->force && !o->receipt_out)
		return cli_usage_error("import: --force goes with --receipt-out");
	o->packet = argv[optind];
	return -1;
}

/* The outcome as one JSON object on standard output; the exit code is the text's. */
static void imported_json(const struct import_opts *o, const struct recv_req *q)
{
	int ok = q->reason == BATON_REASON_ACCEPTED;
	json_t *v = json_pack(
	    "{s:s, s:s, s:s, s:s, s:s, s:s?, s:s?, s:s?}", "file", o->packet, "result",
	    files_import_result(q), "reason", baton_reason_name(q->reason), "kind",
	    q->kind == BATON_KIND_REQUEST ? "request" : "record", "packet",
	    cli_hex(q->packet, BATON_ID_BYTES), "from", q->unverified ? NULL : q->from, "receipt",
	    q->receipt ? o->receipt_out : NULL, "error", ok ? NULL : baton_diag());
	if (v && ok && q->kind != BATON_KIND_REQUEST) {
		json_object_set_new(v, "student", json_string(q->student));
		if (!q->replay)
			json_object_set_new(v, "version", json_integer(q->version));
		if (q->review)
			json_object_set_new(v, "held", json_integer((json_int_t)q->held));
	} else if (v && ok)
		json_object_set_new(v, "student", json_string(q->student));
	cli_print_json(v);
}

static int imported_request(const struct import_opts *o, store *st, const baton_key *key,
                            const struct recv_req *q)
{
	if (o->com.json)
		goto release;
	printf("Request %s from %s for student %s: %s\n", cli_hex(q->packet, BATON_ID_BYTES),
	       q->from, q->student,
	       q->replay         ? "seen before, the same receipt"
	       : q->auto_release ? "releasing it (by this school's policy)"
	                         : "held for 'baton release' or 'baton deny'");
	if (o->receipt_out)
		printf("  receipt written to %s\n", o->receipt_out);
release:
	if (q->replay || !q->auto_release)
		return EXIT_OK;
	struct send_req s;
	memset(&s, 0, sizeof(s));
	s.key = key;
	s.node_dir = cli_dir(&o->com);
	s.now = q->now;
	s.skew = SKEW;
	int r = transfer_release(st, q->packet, &s);
	/* With --json stdout holds the object alone: only a failure is told, on stderr. */
	if (o->com.json && r == 0 && !s.refused && !s.skipped)
		return EXIT_OK;
	return cli_sent(&s, r);
}

/* A record accepted: imported, seen before, or held for review. */
static int imported_record(const struct import_opts *o, const struct recv_req *q)
{
	if (q->replay)
		printf("Already imported from %s as %s (packet %s); the same receipt%s\n", q->from,
		       q->student, cli_hex(q->packet, BATON_ID_BYTES),
		       o->receipt_out ? " was written again" : " stands");
	else if (q->review)
		printf("Held %s from %s for review as %llu: not the child on file as %s "
		       "('baton review show %llu')\n  packet %s\n",
		       o->packet, q->from, (unsigned long long)q->held, q->student,
		       (unsigned long long)q->held, cli_hex(q->packet, BATON_ID_BYTES));
	else
		printf("Imported %s from %s as %s, version %u%s\n  packet %s\n", o->packet, q->from,
		       q->student, q->version,
		       q->unchanged ? " (the same record as the one on file)" : "",
		       cli_hex(q->packet, BATON_ID_BYTES));
	if (o->receipt_out)
		printf("  receipt written to %s\n", o->receipt_out);
	return EXIT_OK;
}

/* A packet refused: unverified (nothing recorded), or rejected with a receipt. */
static int imported_refused(const struct import_opts *o, const struct recv_req *q)
{
	if (q->unverified) {
		/* Not a pinned school's packet: the registrar is told so, and nothing is on file.
		 */
		fprintf(stderr,
		        "baton: %s: refused (%s): %s%s%s%s; nothing recorded, no receipt written\n",
		        o->packet, baton_reason_name(q->reason), baton_diag(),
		        q->claims[0] ? "; the packet claims to be from " : "", q->claims,
		        q->claims[0] ? " (not verified)" : "");
		return EXIT_REJECTED;
	}
	fprintf(stderr, "baton: %s: rejected (%s): %s%s%s\n", o->packet,
	        baton_reason_name(q->reason), baton_diag(),
	        q->receipt && o->receipt_out ? "; rejection receipt written to " : "",
	        q->receipt && o->receipt_out ? o->receipt_out : "");
	return EXIT_REJECTED;
}

/* Imports the packet open at src, then writes the receipt. Returns the exit code. */
static int import_packet(const struct import_opts *o, baton_source *src)
{
	struct recv_req q;
	baton_key *key = NULL;
	store *st = NULL;
	int r, rc;

	memset(&q, 0, sizeof(q));
	if ((rc = cli_open_store(&o->com, &st)) != EXIT_OK ||
	    (rc = cli_load_school_key(&o->com, &key)) != EXIT_OK)
		goto out;
	store_set_audit_signer(st, key);
	q.src = src;
	q.key = key;
	q.now = cli_now();
	q.skew = SKEW;
	char what[200];
	struct cli_ticker tk;
	snprintf(what, sizeof(what), "importing %s", o->packet);
	cli_ticker_start(&tk, what);
	r = transfer_receive(st, &q);
	cli_ticker_stop(&tk);
	if (r != 0) {
		rc = cli_fail(o->packet, r);
		goto out;
	}
	/* The receipt exists only after the import (or rejection) committed. */
	if (q.receipt && o->receipt_out &&
	    (r = outfile_write(o->receipt_out, q.receipt, q.receipt_len, 0644, o->force)) != 0) {
		rc = cli_fail(NULL, r);
		fprintf(stderr,
		        "baton: the packet was %s all the same; importing it again writes the "
		        "same receipt\n",
		        q.reason == BATON_REASON_ACCEPTED ? "imported" : "answered");
		goto out;
	}
	if (o->com.json)
		imported_json(o, &q);
	if (q.reason != BATON_REASON_ACCEPTED)
		rc = imported_refused(o, &q);
	else if (q.kind == BATON_KIND_REQUEST)
		rc = imported_request(o, st, key, &q);
	else
		rc = o->com.json ? EXIT_OK : imported_record(o, &q);
out:
	free(q.receipt);
	store_close(st);
	baton_key_free(key);
	return rc;
}

static int import_cmd(int argc, char **argv)
{
	struct import_opts o;
	baton_source src;
	int r, rc, fd;

	memset(&o, 0, sizeof(o));
	if ((rc = import_options(argc, argv, &o)) >= 0)
		return rc;
	/* Refused before the import, which the receipt would otherwise not record. */
	if (o.receipt_out && (r = outfile_check(o.receipt_out, o.force)) != 0)
		return cli_fail(NULL, r);
	if ((fd = open(o.packet, O_RDONLY | O_CLOEXEC)) < 0)
		return cli_fail(NULL, bti_diag_err(BATON_EIO, "%s: %s", o.packet, strerror(errno)));
	if ((r = baton_source_fd(&src, &fd)) != 0) {
		close(fd);
		return cli_fail(o.packet, r);
	}
	rc = import_packet(&o, &src);
	close(fd);
	return rc;
}

int cmd_import(int argc, char **argv)
{
	return import_cmd(argc, argv);
}
