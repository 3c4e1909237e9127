/*
 * baton send: seals a consented record for another school, as a file to
 * carry or in the outbox for 'baton serve'; with --consents, a whole cohort.
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

/* A cohort: every *.consent file of a folder, each sent to the student it names. */
struct cohort {
	const struct cli_common *com;
	const char *dir, *to;
	uint32_t sections;
	int again;
	struct dirent **names;
	uint8_t **bytes;
	size_t *lens;
	int n;
	size_t sent, refused, skipped;
	json_t *results; /* with --json: one object a student */
	struct cli_progress progress;
};

static int consent_file_name(const struct dirent *d)
{
	size_t n = strlen(d->d_name);
	return n > 8 && strcmp(d->d_name + n - 8, ".consent") == 0;
}

/* The consent files of the folder, by name. */
static int cohort_list(struct cohort *c)
{
	if ((c->n = scandir(c->dir, &c->names, consent_file_name, alphasort)) < 0) {
		c->n = 0;
		return bti_diag_err(BATON_EIO, "%s: %s", c->dir, strerror(errno));
	}
	if (c->n == 0)
		return bti_diag_err(BATON_EVALUE, "%s: no *.consent files", c->dir);
	return 0;
}

/* Reads every consent file first: one that cannot be read stops the cohort before any is sent. */
static int cohort_read(struct cohort *c)
{
	size_t dlen = strlen(c->dir);
	const char *sep = dlen && c->dir[dlen - 1] == '/' ? "" : "/";
	int r;

	if ((c->bytes = calloc((size_t)c->n, sizeof(*c->bytes))) == NULL ||
	    (c->lens = calloc((size_t)c->n, sizeof(*c->lens))) == NULL)
		return BATON_ENOMEM;
	for (int i = 0; i < c->n; i++) {
		char path[4200];
		snprintf(path, sizeof(path), "%s%s%s", c->dir, sep, c->names[i]->d_name);
		if ((r = baton_file_read(path, BATON_OBJ_MAX, &c->bytes[i], &c->lens[i])) != 0)
			return r; /* the error names the file */
	}
	return 0;
}

static void cohort_free(struct cohort *c)
{
	for (int i = 0; i < c->n; i++) {
		if (c->bytes)
			free(c->bytes[i]);
		free(c->names[i]);
	}
	free(c->names);
	free(c->bytes);
	free(c->lens);
	json_decref(c->results);
}

/* One student's outcome: a line, or an object in c->results. */
static void cohort_report(struct cohort *c, const struct send_req *s, const char *file)
{
	/* A consent that does not verify names no student: its file does. */
	const char *who = s->student ? s->student : file;
	const char *state = s->skipped ? "skipped" : s->refused ? "refused" : "sent";
	c->skipped += s->skipped != 0;
	c->refused += s->refused && !s->skipped;
	c->sent += !s->refused && !s->skipped;
	if (c->results) {
		json_t *o =
		    json_pack("{s:s, s:s, s:s}", "student", who, "file", file, "state", state);
		if (o && s->refused)
			json_object_set_new(o, "error", json_string(s->why));
		if (o && !s->refused && !s->skipped) {
			json_object_set_new(o, "packet",
			                    json_string(cli_hex(s->info.id, BATON_ID_BYTES)));
			json_object_set_new(o, "bytes", json_integer((json_int_t)s->info.len));
		}
		json_array_append_new(c->results, o);
	} else if (s->skipped) {
		printf("%-12s skipped: %s\n", who, s->why);
	} else if (s->refused) {
		printf("%-12s refused (%s): %s\n", who, baton_errname(s->refused), s->why);
	} else {
		printf("%-12s packet %s queued, %llu bytes\n", who,
		       cli_hex(s->info.id, BATON_ID_BYTES), (unsigned long long)s->info.len);
	}
}

/* Seals the students of consent files [at, at+k) in one transaction. */
static int cohort_batch(struct cohort *c, store *st, const baton_key *key, struct send_req *s,
                        int at, size_t k)
{
	int r;
	for (size_t i = 0; i < k; i++) {
		memset(&s[i], 0, sizeof(s[i]));
		/* No student: the one the consent names, once its signature verifies. */
		s[i].consent = c->bytes[at + (int)i];
		s[i].consent_len = c->lens[at + (int)i];
		s[i].to_code = c->to;
		s[i].sections = c->sections;
		s[i].again = c->again;
		s[i].key = key;
		s[i].node_dir = cli_dir(c->com);
		s[i].now = cli_now();
		s[i].skew = SKEW;
	}
	if ((r = transfer_send_many(st, s, k)) != 0)
		return r;
	for (size_t i = 0; i < k; i++)
		cohort_report(c, &s[i], c->names[at + (int)i]->d_name);
	cli_progress(&c->progress, "sending to %s: %zu of %d students", c->to, (size_t)at + k,
	             c->n);
	return 0;
}

/* The end of a cohort: the counts, as a line or with the results as JSON. */
static int cohort_done(struct cohort *c, int r)
{
	cli_progress_end(&c->progress);
	if (c->results) {
		json_t *o = json_pack("{s:s, s:b, s:i, s:I, s:I, s:I, s:O}", "to", c->to,
		                      "complete", r == 0, "students", c->n, "sent",
		                      (json_int_t)c->sent, "refused", (json_int_t)c->refused,
		                      "skipped", (json_int_t)c->skipped, "results", c->results);
		if (o && r != 0)
			json_object_set_new(o, "error", json_string(baton_diag_for(r)));
		cli_print_json(o);
	}
	if (r != 0) {
		int rc = cli_fail("send", r);
		if (!c->results)
			printf("%zu sealed and queued before the error; the rest were not sent\n",
			       c->sent);
		return rc;
	}
	if (!c->results)
		printf("%zu of %d students sealed for %s and queued for 'baton serve'; %zu "
		       "refused\n",
		       c->sent, c->n, c->to, c->refused);
	if (!c->results && c->skipped)
		printf("%zu already sent under the same consent and not sent again (--again sends "
		       "them anyway)\n",
		       c->skipped);
	return c->refused ? EXIT_REJECTED : EXIT_OK;
}

/*
 * Sends a whole cohort, one packet per consent file, COHORT_BATCH per
 * transaction.
 */
static int send_cohort(struct cohort *c)
{
	struct send_req *s = NULL;
	baton_key *key = NULL;
	store *st = NULL;
	int r, rc;

	if (c->com->json && (c->results = json_array()) == NULL)
		return cli_fail(NULL, BATON_ENOMEM);
	if ((r = cohort_list(c)) != 0) {
		rc = cli_fail(NULL, r);
		goto out;
	}
	if ((r = cohort_read(c)) != 0) {
		rc = cli_fail("send", r);
		if (!c->com->json)
			printf("Nothing was sent.\n");
		goto out;
	}
	if ((s = calloc(COHORT_BATCH, sizeof(*s))) == NULL) {
		rc = cli_fail(NULL, BATON_ENOMEM);
		goto out;
	}
	if ((rc = cli_open_store(c->com, &st)) != EXIT_OK ||
	    (rc = cli_load_school_key(c->com, &key)) != EXIT_OK)
		goto out;
	store_set_audit_signer(st, key);
	cli_progress_start(&c->progress);
	for (int at = 0; at < c->n && r == 0; at += COHORT_BATCH)
		r = cohort_batch(c, st, key, s, at,
		                 (size_t)(c->n - at < COHORT_BATCH ? c->n - at : COHORT_BATCH));
	rc = cohort_done(c, r);
out:
	cohort_free(c);
	free(s);
	store_close(st);
	baton_key_free(key);
	return rc;
}

/* Why a single send was refused or skipped: the request's own words, which
 * outlive the diagnostic cleared on the way out of the store. */
static const char *sent_why(const struct send_req *s)
{
	if (s->why[0])
		return s->why;
	if (baton_diag()[0])
		return baton_diag();
	return baton_strerror(s->refused);
}

/* A single send's outcome as JSON; the exit code is cli_sent's. */
static int sent_json(const struct send_req *s, int r)
{
	char secs[200];
	json_t *o;
	if (r != 0 || s->refused) {
		const char *why = r != 0 ? baton_diag_for(r) : sent_why(s);
		o = json_pack("{s:s?, s:s, s:b, s:s, s:s}", "student", s->student, "to", s->to_code,
		              "sent", 0, "state",
		              s->skipped ? "skipped"
		              : r        ? "error"
		                         : "refused",
		              "error", why[0] ? why : baton_strerror(r ? r : s->refused));
		cli_print_json(o);
		return cli_sent(s, r); /* the same line on stderr, and the same exit code */
	}
	baton_sections_format(s->release, secs, sizeof(secs));
	o = json_pack("{s:s, s:s, s:b, s:s, s:s, s:s, s:I, s:s, s:s}", "student", s->student, "to",
	              s->to_code, "sent", 1, "state", s->out ? "written" : "queued", "sections",
	              secs, "packet", cli_hex(s->info.id, BATON_ID_BYTES), "bytes",
	              (json_int_t)s->info.len, "hash", "", "file", s->path);
	if (o)
		json_object_set_new(o, "hash",
		                    json_string(cli_hex(s->info.hash, BATON_HASH_BYTES)));
	cli_print_json(o);
	return EXIT_OK;
}

static const char send_usage[] =
    "usage: baton send STUDENT_ID --to CODE --consent FILE [--sections LIST]\n"
    "                  [--out PACKET [--force]] [--again] [--json] [--dir DIR]\n"
    "       baton send --to CODE --consents DIR [--sections LIST] [--again] [--json]\n"
    "                  [--dir DIR]\n\n"
    "Checks the consent against every release rule, then seals the\n"
    "consented sections, their attachments, the consent and the guardians'\n"
    "keys for the school CODE. With --out the packet is a file to carry\n"
    "(an existing PACKET is replaced only with --force); otherwise it waits\n"
    "in the outbox for 'baton serve'.\n"
    "With --consents, every *.consent file in DIR is sent, each to the\n"
    "student it names (a class moving on together).\n"
    "A record already queued, sent or receipted for CODE under the same\n"
    "consent is not sent again, and is listed as skipped, unless --again.\n"
    "--json prints one JSON object: what was sealed, or each student's outcome.\n";

struct send_opts {
	struct cli_common com;
	struct send_req s;
	const char *consent_file, *cohort;
};

/* Parses send's command line into o. Returns -1 to go on, or the exit code. */
static int send_options(int argc, char **argv, struct send_opts *o)
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
	int opt, r;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (cli_common_opt(&o->com, opt, optarg))
			continue;
		if (opt == 'S' && (r = baton_sections_parse(optarg, &o->s.sections)) != 0)
			return cli_fail("--sections", r);
		else if (opt == 't' || opt == 'c' || opt == 'o' || opt == 'C')
			*(opt == 't'   ? &o->s.to_code
			  : opt == 'c' ? &o->consent_file
			  : opt == 'o' ? &o->s.out
			               : &o->cohort) = optarg;
		else if (opt == 'F' || opt == 'A')
			*(opt == 'F' ? &o->s.force : &o->s.again) = 1;
		else if (opt != 'S') {
			fputs(send_usage, opt == 'h' ? stdout : stderr);
			return opt == 'h' ? EXIT_OK : EXIT_USAGE;
		}
	}
	if (o->s.force && !o->s.out)
		return cli_usage_error("send: --force goes with --out");
	if (o->cohort && (optind != argc || !o->s.to_code || o->consent_file || o->s.out))
		return cli_usage_error("send: --consents DIR takes --to CODE, and no student, "
		                       "--consent or --out");
	if (!o->cohort && (optind + 1 != argc || !o->s.to_code || !o->consent_file))
		return cli_usage_error(
		    "send: STUDENT_ID, --to CODE and --consent FILE are required");
	return -1;
}

int cmd_send(int argc, char **argv)
{
	struct send_opts o;
	uint8_t *consent = NULL;
	baton_key *key = NULL;
	store *st = NULL;
	int r, rc;

	memset(&o, 0, sizeof(o));
	if ((rc = send_options(argc, argv, &o)) >= 0)
		return rc;
	if (o.cohort) {
		struct cohort c = {.com = &o.com, .dir = o.cohort, .to = o.s.to_code};
		c.sections = o.s.sections;
		c.again = o.s.again;
		return send_cohort(&c);
	}
	o.s.student = argv[optind];
	if ((r = baton_file_read(o.consent_file, BATON_OBJ_MAX, &consent, &o.s.consent_len)) != 0)
		return cli_fail(NULL, r);
	o.s.consent = consent;
	if ((rc = cli_open_store(&o.com, &st)) != EXIT_OK ||
	    (rc = cli_load_school_key(&o.com, &key)) != EXIT_OK)
		goto out;
	store_set_audit_signer(st, key);
	o.s.key = key;
	o.s.node_dir = cli_dir(&o.com);
	o.s.now = cli_now();
	o.s.skew = SKEW;
	char what[200];
	struct cli_ticker tk;
	snprintf(what, sizeof(what), "sealing %s for %s", o.s.student, o.s.to_code);
	cli_ticker_start(&tk, what);
	r = transfer_send(st, &o.s);
	cli_ticker_stop(&tk);
	rc = o.com.json ? sent_json(&o.s, r) : cli_sent(&o.s, r);
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
		        sent_why(s));
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
