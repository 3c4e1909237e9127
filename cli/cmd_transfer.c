/*
 * baton send, baton import, baton receipt import, baton inbox, baton outbox:
 * a record leaving one school and arriving at another, as packet and
 * receipt files. (Delivery over the network by 'baton serve' uses the same
 * code.)
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

#define COHORT_BATCH 64 /* students sealed per transaction */

static int consent_file_name(const struct dirent *d)
{
	size_t n = strlen(d->d_name);
	return n > 8 && strcmp(d->d_name + n - 8, ".consent") == 0;
}

/*
 * Sends a whole cohort, one packet per consent file, COHORT_BATCH per
 * transaction. Every file is read first: one that cannot be read stops the
 * cohort before any student is sent.
 */
static int send_cohort(const struct cli_common *com, const char *dir, const char *to,
                       uint32_t sections, int again)
{
	struct dirent **names = NULL;
	struct send_req *s = NULL;
	uint8_t **bytes = NULL;
	size_t *lens = NULL;
	baton_key *key = NULL;
	store *st = NULL;
	size_t sent = 0, refused = 0, skipped = 0, dlen = strlen(dir);
	const char *sep = dlen && dir[dlen - 1] == '/' ? "" : "/";
	int n, rc, r = 0;

	if ((n = scandir(dir, &names, consent_file_name, alphasort)) < 0)
		return cli_fail(NULL, bti_diag_err(BATON_EIO, "%s: %s", dir, strerror(errno)));
	if (n == 0) {
		free(names);
		return cli_fail(NULL, bti_diag_err(BATON_EVALUE, "%s: no *.consent files", dir));
	}
	if ((s = calloc(COHORT_BATCH, sizeof(*s))) == NULL ||
	    (bytes = calloc((size_t)n, sizeof(*bytes))) == NULL ||
	    (lens = calloc((size_t)n, sizeof(*lens))) == NULL) {
		rc = cli_fail(NULL, BATON_ENOMEM);
		goto out;
	}
	for (int i = 0; i < n; i++) {
		char path[4200];
		snprintf(path, sizeof(path), "%s%s%s", dir, sep, names[i]->d_name);
		if ((r = baton_file_read(path, BATON_OBJ_MAX, &bytes[i], &lens[i])) != 0) {
			rc = cli_fail("send", r); /* the error names the file */
			printf("Nothing was sent.\n");
			goto out;
		}
	}
	if ((rc = cli_open_store(com, &st)) != EXIT_OK ||
	    (rc = cli_load_school_key(com, &key)) != EXIT_OK)
		goto out;
	store_set_audit_signer(st, key);
	for (int at = 0; at < n && r == 0; at += COHORT_BATCH) {
		size_t k = (size_t)(n - at < COHORT_BATCH ? n - at : COHORT_BATCH);
		for (size_t i = 0; i < k; i++) {
			memset(&s[i], 0, sizeof(s[i]));
			/* No student: the one the consent names, once its signature verifies. */
			s[i].student = NULL;
			s[i].consent = bytes[at + (int)i];
			s[i].consent_len = lens[at + (int)i];
			s[i].to_code = to;
			s[i].sections = sections;
			s[i].again = again;
			s[i].key = key;
			s[i].node_dir = cli_dir(com);
			s[i].now = cli_now();
			s[i].skew = SKEW;
		}
		if ((r = transfer_send_many(st, s, k)) != 0)
			break;
		for (size_t i = 0; i < k; i++) {
			if (s[i].skipped) {
				skipped++;
				printf("%-12s skipped: %s\n", s[i].student, s[i].why);
			} else if (s[i].refused) {
				/* A consent that does not verify names no student: its file does.
				 */
				refused++;
				printf("%-12s refused (%s): %s\n",
				       s[i].student ? s[i].student : names[at + (int)i]->d_name,
				       baton_errname(s[i].refused), s[i].why);
			} else {
				sent++;
				printf("%-12s packet %s queued, %llu bytes\n", s[i].student,
				       cli_hex(s[i].info.id, BATON_ID_BYTES),
				       (unsigned long long)s[i].info.len);
			}
		}
	}
	if (r != 0) {
		rc = cli_fail("send", r);
		printf("%zu sealed and queued before the error; the rest were not sent\n", sent);
		goto out;
	}
	printf("%zu of %d students sealed for %s and queued for 'baton serve'; %zu refused\n", sent,
	       n, to, refused);
	if (skipped)
		printf("%zu already sent under the same consent and not sent again (--again sends "
		       "them anyway)\n",
		       skipped);
	rc = refused ? EXIT_REJECTED : EXIT_OK;
out:
	for (int i = 0; i < n; i++) {
		if (bytes)
			free(bytes[i]);
		free(names[i]);
	}
	free(names);
	free(bytes);
	free(lens);
	free(s);
	store_close(st);
	baton_key_free(key);
	return rc;
}

static int send_cmd(int argc, char **argv)
{
	static const struct option opts[] = {{"to", required_argument, NULL, 't'},
	                                     {"consent", required_argument, NULL, 'c'},
	                                     {"sections", required_argument, NULL, 'S'},
	                                     {"out", required_argument, NULL, 'o'},
	                                     {"consents", required_argument, NULL, 'C'},
	                                     {"force", no_argument, NULL, 'F'},
	                                     {"again", no_argument, NULL, 'A'},
	                                     CLI_COMMON_OPTS,
	                                     {NULL, 0, NULL, 0}};
	struct cli_common com = {0};
	struct send_req s;
	const char *consent_file = NULL, *out = NULL, *cohort = NULL;
	uint8_t *consent = NULL;
	baton_key *key = NULL;
	store *st = NULL;
	int opt, r, rc;

	memset(&s, 0, sizeof(s));
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (cli_common_opt(&com, opt, optarg))
			continue;
		switch (opt) {
		case 't':
			s.to_code = optarg;
			break;
		case 'c':
			consent_file = optarg;
			break;
		case 'S':
			if ((r = baton_sections_parse(optarg, &s.sections)) != 0)
				return cli_fail("--sections", r);
			break;
		case 'o':
			out = optarg;
			break;
		case 'C':
			cohort = optarg;
			break;
		case 'F':
			s.force = 1;
			break;
		case 'A':
			s.again = 1;
			break;
		default:
			fprintf(
			    opt == 'h' ? stdout : stderr,
			    "usage: baton send STUDENT_ID --to CODE --consent FILE [--sections "
			    "LIST]\n                  [--out PACKET [--force]] [--again] [--dir "
			    "DIR]\n"
			    "       baton send --to CODE --consents DIR [--sections LIST] "
			    "[--again] "
			    "[--dir DIR]\n\n"
			    "Checks the consent against every release rule, then seals the\n"
			    "consented sections, their attachments, the consent and the "
			    "guardians'\nkeys for the school CODE. With --out the packet is a "
			    "file to carry\n(an existing PACKET is replaced only with --force); "
			    "otherwise it waits\nin the outbox for 'baton serve'.\nWith "
			    "--consents, every *.consent file in DIR is sent, each "
			    "to the\nstudent it names (a class moving on together).\n"
			    "A record already queued, sent or receipted for CODE under the same\n"
			    "consent is not sent again, and is listed as skipped, unless "
			    "--again.\n");
			return opt == 'h' ? EXIT_OK : EXIT_USAGE;
		}
	}
	if (s.force && !out)
		return cli_usage_error("send: --force goes with --out");
	if (cohort && (optind != argc || !s.to_code || consent_file || out))
		return cli_usage_error("send: --consents DIR takes --to CODE, and no student, "
		                       "--consent or --out");
	if (cohort)
		return send_cohort(&com, cohort, s.to_code, s.sections, s.again);
	if (optind + 1 != argc || !s.to_code || !consent_file)
		return cli_usage_error(
		    "send: STUDENT_ID, --to CODE and --consent FILE are required");
	s.student = argv[optind];
	if ((r = baton_file_read(consent_file, BATON_OBJ_MAX, &consent, &s.consent_len)) != 0)
		return cli_fail(NULL, r);
	s.consent = consent;
	if ((rc = cli_open_store(&com, &st)) != EXIT_OK ||
	    (rc = cli_load_school_key(&com, &key)) != EXIT_OK)
		goto out;
	store_set_audit_signer(st, key);
	s.key = key;
	s.out = out;
	s.node_dir = cli_dir(&com);
	s.now = cli_now();
	s.skew = SKEW;
	rc = cli_sent(&s, transfer_send(st, &s));
out:
	store_close(st);
	baton_key_free(key);
	free(consent);
	return rc;
}

int cli_sent(const struct send_req *s, int r)
{
	if (r == 0 && s->skipped) {
		fprintf(stderr, "baton: %s: %s\n", s->student, s->why);
		return EXIT_REJECTED;
	}
	if (r == 0 && s->refused) {
		fprintf(stderr, "baton: release refused (%s): %s\n", baton_errname(s->refused),
		        baton_diag());
		return EXIT_REJECTED;
	}
	if (r != 0)
		return cli_fail("send", r);
	char secs[200];
	baton_sections_format(s->release, secs, sizeof(secs));
	/* cli_hex has one buffer: one call per printf. */
	printf("Sealed %s's record for %s: %s\n  packet %s, %llu bytes%s%s\n", s->student,
	       s->to_code, secs, cli_hex(s->info.id, BATON_ID_BYTES),
	       (unsigned long long)s->info.len,
	       s->out       ? ", written to "
	       : s->path[0] ? ", queued for 'baton serve' as "
	                    : ", queued for 'baton serve'",
	       s->path);
	printf("  hash   %s\n", cli_hex(s->info.hash, BATON_HASH_BYTES));
	return EXIT_OK;
}

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

static const char *const out_states[] = {"queued",  "sent",   "receipted", "rejected",
                                         "expired", "denied", "delivered", "answered"};
static const char *const out_kinds[] = {"?", "transfer", "request", "refusal"};

struct box_ctx {
	json_t *arr;
	size_t n;
};

static int inbox_one(const store_inbox *e, void *arg)
{
	struct box_ctx *c = arg;
	baton_receipt rc;
	/* The receipt's note says what became of an accepted packet ("held for review"). */
	if (baton_receipt_parse(e->receipt, e->receipt_len, &rc) != 0)
		rc.note[0] = '\0';
	c->n++;
	if (c->arr)
		return json_array_append_new(c->arr,
		                             json_pack("{s:s, s:s, s:s, s:s, s:I, s:s}", "packet",
		                                       cli_hex(e->packet, BATON_ID_BYTES), "from",
		                                       e->from, "student", e->student, "result",
		                                       baton_reason_name(e->reason), "time",
		                                       (json_int_t)e->time, "note", rc.note))
		           ? BATON_ENOMEM
		           : 0;
	printf("%s  from %-10s %-10s %-9s %s%s%s\n", cli_hex(e->packet, BATON_ID_BYTES), e->from,
	       e->student, baton_reason_name(e->reason), cli_time(e->time), rc.note[0] ? "  " : "",
	       rc.note);
	return 0;
}

static int outbox_one(const store_outbox *e, void *arg)
{
	struct box_ctx *c = arg;
	const char *state = e->state >= 0 && e->state <= OUT_ANSWERED ? out_states[e->state] : "?";
	const char *kind =
	    e->kind >= OUT_TRANSFER && e->kind <= OUT_REFUSAL ? out_kinds[e->kind] : "?";
	c->n++;
	if (c->arr)
		return json_array_append_new(
		           c->arr, json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:I, s:I, s:s}",
		                             "packet", cli_hex(e->packet, BATON_ID_BYTES), "kind",
		                             kind, "to", e->to, "student", e->student, "state",
		                             state, "attempts", (int)e->attempts, "last_error",
		                             e->last_error, "created", (json_int_t)e->created,
		                             "expires", (json_int_t)e->expires, "file", e->file))
		           ? BATON_ENOMEM
		           : 0;
	printf("%s  %-8s to %-10s %-10s %-9s attempts %u%s%s\n", cli_hex(e->packet, BATON_ID_BYTES),
	       kind, e->to, e->student, state, e->attempts, e->last_error[0] ? "  " : "",
	       e->last_error);
	return 0;
}

static int inbox_fn(store_txn *t, void *arg)
{
	return store_inbox_each(t, inbox_one, arg);
}

static int outbox_fn(store_txn *t, void *arg)
{
	return store_outbox_each(t, outbox_one, arg);
}

static int box_cmd(int argc, char **argv, int inbox)
{
	static const struct option opts[] = {CLI_COMMON_OPTS, {NULL, 0, NULL, 0}};
	struct cli_common com = {0};
	store *st;
	int opt, r, rc;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1)
		if (!cli_common_opt(&com, opt, optarg)) {
			fprintf(opt == 'h' ? stdout : stderr,
			        inbox ? "usage: baton inbox [--json] [--dir DIR]\n"
			              : "usage: baton outbox [--json] [--dir DIR]\n"
			                "       baton outbox export ID --out FILE [--dir DIR]\n");
			return opt == 'h' ? EXIT_OK : EXIT_USAGE;
		}
	if (optind != argc)
		return cli_usage_error("%s: no arguments expected", inbox ? "inbox" : "outbox");
	if ((rc = cli_open_store(&com, &st)) != EXIT_OK)
		return rc;
	struct box_ctx c = {com.json ? json_array() : NULL, 0};
	r = store_read(st, inbox ? inbox_fn : outbox_fn, &c);
	store_close(st);
	if (r != 0) {
		json_decref(c.arr);
		return cli_fail(inbox ? "inbox" : "outbox", r);
	}
	if (c.arr)
		cli_print_json(c.arr);
	else if (c.n == 0)
		printf("The %s is empty.\n", inbox ? "inbox" : "outbox");
	return EXIT_OK;
}

int cmd_inbox(int argc, char **argv)
{
	return box_cmd(argc, argv, 1);
}

struct export_ctx {
	const char *hex;
	size_t n;
	int matches;
	store_outbox e;
	uint8_t *bytes; /* a packet kept in the store */
	size_t len;
};

static int export_find(const store_outbox *e, void *arg)
{
	struct export_ctx *x = arg;
	if (e->kind != OUT_REFUSAL &&
	    strncasecmp(cli_hex(e->packet, BATON_ID_BYTES), x->hex, x->n) == 0) {
		x->matches++;
		x->e = *e;
	}
	return 0;
}

static int export_fn(store_txn *t, void *arg)
{
	struct export_ctx *x = arg;
	int r = store_outbox_each(t, export_find, x);
	if (r != 0 || x->matches != 1 || x->e.file[0])
		return r;
	r = store_packet_get(t, x->e.packet, &x->bytes, &x->len);
	return r == BATON_ENOTFOUND
	           ? bti_diag_err(BATON_EIO, "store: the packet's bytes are missing")
	           : r;
}

/*
 * Copies the packet file at from to a new file at to, in bounded memory: to
 * a temporary name beside it, which takes the name when whole.
 */
static int copy_file(const char *from, const char *to, int force)
{
	uint8_t buf[65536];
	char tmp[4200];
	int in = -1, out = -1, r;
	ssize_t n = 0;
	if ((r = outfile_check(to, force)) != 0)
		return r;
	if (snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", to, (long)getpid()) >= (int)sizeof(tmp))
		return bti_diag_err(BATON_EINVAL, "%s: path too long", to);
	if ((in = open(from, O_RDONLY | O_CLOEXEC)) < 0)
		return bti_diag_err(BATON_EIO, "%s: %s", from, strerror(errno));
	if ((out = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644)) < 0) {
		r = bti_diag_err(BATON_EIO, "%s: %s", tmp, strerror(errno));
		close(in);
		return r;
	}
	while (r == 0 && (n = read(in, buf, sizeof(buf))) > 0)
		r = baton_write_fd(&out, buf, (size_t)n);
	if (r == 0 && (n < 0 || fsync(out) != 0))
		r = bti_diag_err(BATON_EIO, "%s: %s", to, strerror(errno));
	close(in);
	close(out);
	if (r == 0)
		r = outfile_place(tmp, to, force);
	if (r != 0)
		unlink(tmp);
	return r;
}

/* baton outbox export ID --out FILE: a queued packet, to carry by hand. */
static int outbox_export(int argc, char **argv)
{
	static const struct option opts[] = {{"out", required_argument, NULL, 'o'},
	                                     {"force", no_argument, NULL, 'F'},
	                                     CLI_COMMON_OPTS,
	                                     {NULL, 0, NULL, 0}};
	struct cli_common com = {0};
	struct export_ctx x;
	const char *out = NULL;
	store *st;
	int opt, r, rc, force = 0;

	memset(&x, 0, sizeof(x));
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (cli_common_opt(&com, opt, optarg))
			continue;
		if (opt == 'o' || opt == 'F') {
			if (opt == 'o')
				out = optarg;
			else
				force = 1;
			continue;
		}
		fprintf(
		    opt == 'h' ? stdout : stderr,
		    "usage: baton outbox export ID --out FILE [--force] [--dir DIR]\n\n"
		    "Writes a packet from the outbox (ID: its id, or 8+ of its digits) to FILE,\n"
		    "to carry by hand when the network cannot reach the other school. Its\n"
		    "state does not change: 'baton receipt import' records the receipt.\n");
		return opt == 'h' ? EXIT_OK : EXIT_USAGE;
	}
	if (optind + 1 != argc || out == NULL)
		return cli_usage_error("outbox export: a packet ID and --out FILE are required");
	x.hex = argv[optind];
	x.n = strlen(x.hex);
	if ((r = cli_id_prefix(x.hex, "packet id")) != 0)
		return cli_fail(NULL, r);
	if ((rc = cli_open_store(&com, &st)) != EXIT_OK)
		return rc;
	r = store_read(st, export_fn, &x);
	store_close(st);
	if (r == 0 && x.matches != 1)
		r = bti_diag_err(BATON_EVALUE,
		                 x.matches ? "%s names more than one packet: give more digits"
		                           : "no packet %s in the outbox",
		                 x.hex);
	if (r == 0)
		r = x.bytes ? outfile_write(out, x.bytes, x.len, 0644, force)
		            : copy_file(x.e.file, out, force);
	free(x.bytes);
	if (r != 0)
		return cli_fail("outbox export", r);
	printf("Wrote packet %s (%s to %s) to %s\n", cli_hex(x.e.packet, BATON_ID_BYTES),
	       x.e.student, x.e.to, out);
	return EXIT_OK;
}

int cmd_outbox(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "export") == 0)
		return outbox_export(argc - 1, argv + 1);
	return box_cmd(argc, argv, 0);
}

int cmd_send(int argc, char **argv)
{
	return send_cmd(argc, argv);
}

int cmd_import(int argc, char **argv)
{
	return import_cmd(argc, argv);
}
