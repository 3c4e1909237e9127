/*
 * baton request, requests, release, deny, policy: the receiving school asks
 * for a record, carrying the family's consent; the sending school releases
 * it at once (policy auto-release on) or holds it for its registrar, who
 * releases or refuses it. A refusal is a signed receipt delivered to the
 * school that asked.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cli.h"
#include "bti.h"
#include "transfer.h"

#define SKEW 300

int cmd_request(int argc, char **argv)
{
	static const struct option opts[] = {{"from", required_argument, NULL, 'f'},
	                                     {"consent", required_argument, NULL, 'c'},
	                                     {"sections", required_argument, NULL, 'S'},
	                                     {"note", required_argument, NULL, 'n'},
	                                     {"out", required_argument, NULL, 'o'},
	                                     {"force", no_argument, NULL, 'F'},
	                                     CLI_COMMON_OPTS,
	                                     {NULL, 0, NULL, 0}};
	struct cli_common com = {0};
	struct send_req s;
	const char *consent_file = NULL, *note = NULL;
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
		case 'f':
			s.to_code = optarg;
			break;
		case 'c':
			consent_file = optarg;
			break;
		case 'S':
			if ((r = baton_sections_parse(optarg, &s.sections)) != 0)
				return cli_fail("--sections", r);
			break;
		case 'n':
			note = optarg;
			break;
		case 'o':
			s.out = optarg;
			break;
		case 'F':
			s.force = 1;
			break;
		default:
			fprintf(
			    opt == 'h' ? stdout : stderr,
			    "usage: baton request --from CODE --consent FILE [--sections LIST]\n"
			    "                     [--note TEXT] [--out PACKET [--force]] [--dir "
			    "DIR]\n\n"
			    "Asks the school CODE for a student's record, carrying the family's\n"
			    "consent (which names the student and the sections). The request is\n"
			    "queued for 'baton serve', or written to PACKET with --out. That "
			    "school\nsends the record, or a signed refusal, when it decides.\n");
			return opt == 'h' ? EXIT_OK : EXIT_USAGE;
		}
	}
	if (optind != argc || !s.to_code || !consent_file)
		return cli_usage_error("request: --from CODE and --consent FILE are required");
	if (s.force && !s.out)
		return cli_usage_error("request: --force goes with --out");
	if (note && (note[0] == 0 || strlen(note) > BATON_NOTE_MAX))
		return cli_usage_error("request: --note must be 1 to %d bytes", BATON_NOTE_MAX);
	if ((r = baton_file_read(consent_file, BATON_OBJ_MAX, &consent, &s.consent_len)) != 0)
		return cli_fail(NULL, r);
	s.consent = consent;
	if ((rc = cli_open_store(&com, &st)) != EXIT_OK ||
	    (rc = cli_load_school_key(&com, &key)) != EXIT_OK)
		goto out;
	store_set_audit_signer(st, key);
	s.key = key;
	s.node_dir = cli_dir(&com);
	s.now = cli_now();
	s.skew = SKEW;
	s.note = note;
	if ((r = transfer_request(st, &s)) != 0) {
		rc = cli_fail(consent_file, r);
		goto out;
	}
	char secs[200];
	baton_sections_format(s.release, secs, sizeof(secs));
	printf("Asked %s for a record: %s\n  request %s%s%s\n", s.to_code, secs,
	       cli_hex(s.info.id, BATON_ID_BYTES),
	       s.out       ? ", written to "
	       : s.path[0] ? ", queued for 'baton serve' as "
	                   : ", queued for 'baton serve'",
	       s.path);
	rc = EXIT_OK;
out:
	store_close(st);
	baton_key_free(key);
	free(consent);
	return rc;
}

/* A request named by its id, or by a prefix of at least 8 hex digits naming only one. */
struct find_req {
	const char *hex;
	size_t n;
	int matches;
	uint8_t id[BATON_ID_BYTES];
};

static int find_req_cb(const store_request *e, void *arg)
{
	struct find_req *f = arg;
	char hex[2 * BATON_ID_BYTES + 1];
	sodium_bin2hex(hex, sizeof(hex), e->id, BATON_ID_BYTES);
	if (strncasecmp(hex, f->hex, f->n) == 0) {
		f->matches++;
		memcpy(f->id, e->id, BATON_ID_BYTES);
	}
	return 0;
}

static int find_req_fn(store_txn *t, void *arg)
{
	return store_request_each(t, find_req_cb, arg);
}

static int request_id(store *st, const char *hex, uint8_t id[BATON_ID_BYTES])
{
	struct find_req f = {hex, strlen(hex), 0, {0}};
	int r;
	if ((r = cli_id_prefix(hex, "request id")) != 0 ||
	    (r = store_read(st, find_req_fn, &f)) != 0)
		return r;
	if (f.matches == 0)
		return bti_diag_err(BATON_EVALUE, "no request %s (see 'baton requests --all')",
		                    hex);
	if (f.matches > 1)
		return bti_diag_err(BATON_EVALUE,
		                    "request id %s names %d requests: give more digits", hex,
		                    f.matches);
	memcpy(id, f.id, BATON_ID_BYTES);
	return 0;
}

static const char *const req_states[] = {"held", "released", "denied"};

struct list_ctx {
	json_t *arr;
	size_t n;
	int all;
};

static int list_one(const store_request *e, void *arg)
{
	struct list_ctx *c = arg;
	const char *state = e->state >= 0 && e->state <= REQ_DENIED ? req_states[e->state] : "?";
	baton_consent cs;
	char secs[200];

	if (!c->all && e->state != REQ_HELD)
		return 0;
	c->n++;
	memset(&cs, 0, sizeof(cs));
	(void)baton_consent_parse(e->consent, e->consent_len, &cs); /* verified on arrival */
	baton_sections_format(e->want, secs, sizeof(secs));
	if (c->arr) {
		json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:s}", "request",
		                      cli_hex(e->id, BATON_ID_BYTES), "from", e->from, "student",
		                      e->student, "state", state, "sections", secs, "purpose",
		                      cs.purpose, "time", (json_int_t)e->time, "note", e->note);
		if (o && e->state == REQ_RELEASED)
			json_object_set_new(o, "packet",
			                    json_string(cli_hex(e->release, BATON_ID_BYTES)));
		if (o && e->state == REQ_DENIED)
			json_object_set_new(o, "reason", json_string(e->answer));
		return json_array_append_new(c->arr, o) ? BATON_ENOMEM : 0;
	}
	printf("%s  from %-10s student %-10s %-8s %s\n", cli_hex(e->id, BATON_ID_BYTES), e->from,
	       e->student, state, cli_time(e->time));
	printf("    sections: %s\n    purpose:  %s\n", secs, cs.purpose);
	if (e->note[0])
		printf("    note:     %s\n", e->note);
	if (e->state == REQ_RELEASED)
		printf("    released as packet %s\n", cli_hex(e->release, BATON_ID_BYTES));
	if (e->state == REQ_DENIED)
		printf("    denied: %s\n", e->answer);
	return 0;
}

static int list_fn(store_txn *t, void *arg)
{
	return store_request_each(t, list_one, arg);
}

int cmd_requests(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"all", no_argument, NULL, 'a'}, CLI_COMMON_OPTS, {NULL, 0, NULL, 0}};
	struct cli_common com = {0};
	struct list_ctx c = {NULL, 0, 0};
	store *st;
	int opt, rc;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (cli_common_opt(&com, opt, optarg))
			continue;
		if (opt == 'a') {
			c.all = 1;
			continue;
		}
		fprintf(
		    opt == 'h' ? stdout : stderr,
		    "usage: baton requests [--all] [--json] [--dir DIR]\n\n"
		    "Requests from other schools waiting for the registrar ('baton release ID'\n"
		    "or 'baton deny ID --reason TEXT'); with --all, answered ones too.\n");
		return opt == 'h' ? EXIT_OK : EXIT_USAGE;
	}
	if (optind != argc)
		return cli_usage_error("requests: no arguments expected");
	if ((rc = cli_open_store(&com, &st)) != EXIT_OK)
		return rc;
	c.arr = com.json ? json_array() : NULL;
	int r = store_read(st, list_fn, &c);
	store_close(st);
	return cli_list_done(r, c.arr, c.n, "requests",
	                     c.all ? "No requests have arrived." : "No requests are waiting.");
}

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
	if ((r = request_id(st, argv[optind], id)) != 0) {
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
	if ((r = request_id(st, argv[optind], id)) != 0) {
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

int cmd_policy(int argc, char **argv)
{
	struct cli_common com = {0};
	store *st;
	int r, rc, on;

	if ((rc = cli_common_only(argc, argv, &com,
	                          "usage: baton policy [auto-release on|off] [--dir DIR]\n\n"
	                          "With auto-release on, a request whose consent passes every "
	                          "release\nrule is answered at once; off (the default), it waits "
	                          "for 'baton\nrelease' or 'baton deny'.\n")) >= 0)
		return rc;
	int set = argc - optind == 2;
	if (!(argc == optind || set) || (set && strcmp(argv[optind], "auto-release") != 0) ||
	    (set && strcmp(argv[optind + 1], "on") != 0 && strcmp(argv[optind + 1], "off") != 0))
		return cli_usage_error("policy: expected 'auto-release on' or 'auto-release off'");
	if ((rc = cli_open_store(&com, &st)) != EXIT_OK)
		return rc;
	on = set && strcmp(argv[optind + 1], "on") == 0;
	r = set ? transfer_policy_set(st, on) : transfer_policy_get(st, &on);
	store_close(st);
	if (r != 0)
		return cli_fail("policy", r);
	printf("auto-release %s: %s\n", on ? "on" : "off",
	       on ? "a request whose consent passes every release rule is answered at once"
	          : "requests wait for 'baton release' or 'baton deny'");
	return EXIT_OK;
}
