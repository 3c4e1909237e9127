/*
 * baton audit [--student ID] and baton audit verify: the hash-chained log of
 * every change, disclosure and request. --student is the record of
 * disclosures a parent may inspect (34 CFR 99.32).
 */
#include <string.h>

#include "cli.h"
#include "view_school.h"
#include "bti.h"
#include "view_audit.h"

struct show_ctx {
	json_t *arr;
	size_t n;
};

static int show_one(const store_audit *e, void *arg)
{
	struct show_ctx *c = arg;
	char secs[160] = "";
	c->n++;
	if (e->sections)
		baton_sections_format(e->sections, secs, sizeof(secs));
	if (c->arr)
		return json_array_append_new(c->arr, audit_entry_json(e)) ? BATON_ENOMEM : 0;
	printf("%6llu  %s  %-15s", (unsigned long long)e->seq, cli_time(e->time), e->action);
	if (store_audit_basis(e)[0])
		printf("  basis %s", store_audit_basis(e));
	if (e->student[0])
		printf("  student %s", e->student);
	if (e->peer[0])
		printf("  school %s", e->peer);
	if (e->sections)
		printf("  sections %s", secs);
	if (e->has_packet)
		printf("  packet %s", cli_hex(e->packet, 16));
	if (e->has_consent)
		printf("  consent %s", cli_hex(e->consent, 16));
	if (e->detail[0])
		printf("  %s", e->detail);
	if (e->by[0])
		printf("  by %s", e->by);
	printf("\n");
	return 0;
}

struct audit_ctx {
	const char *student;
	struct show_ctx show;
};

static int audit_show(store_txn *t, void *arg)
{
	struct audit_ctx *c = arg;
	return store_audit_each(t, c->student, show_one, &c->show);
}

struct sign_ctx {
	const baton_key *key;
	int signed_now;
	uint64_t count;
};

static int audit_sign(store_txn *t, void *arg)
{
	struct sign_ctx *c = arg;
	int r = store_audit_sign(t, c->key, &c->signed_now);
	return r ? r : store_audit_count(t, &c->count);
}

/* What verify found, in words that do not call an unsigned tail intact. */
static void verify_report(const struct audit_verified *v, const char *against)
{
	char fp[BATON_FINGERPRINT_LEN + 1];
	unsigned long long n = v->count, s = v->heads.signed_through;
	if (n == s) {
		printf("audit log verified: %llu entries, chain intact\n", n);
	} else {
		printf("audit log verified: %llu entries, chain unbroken, but entries %llu..%llu "
		       "are not signed yet ('baton audit sign' or 'baton serve' signs them)\n",
		       n, s + 1, n);
	}
	if (s > 0) {
		baton_fingerprint(v->heads.key, fp);
		printf("signed: entries 1..%llu (%llu heads), the latest by %s\n", s,
		       (unsigned long long)v->heads.heads, fp);
	}
	if (against)
		printf("%s: the head a peer holds (entry %llu) matches this log\n", against,
		       (unsigned long long)v->held_at);
}

static int do_verify(store *st, const char *against, int json)
{
	struct audit_verified v;
	uint8_t *held = NULL;
	size_t hlen = 0;
	int r;

	if (against && (r = baton_file_read(against, BATON_OBJ_MAX, &held, &hlen)) != 0)
		return cli_fail(against, r);
	r = audit_verify(st, held, hlen, &v);
	free(held);
	if (json && (r == 0 || audit_verify_failed(&v, r)))
		cli_print_json(audit_verify_json(&v, against, r));
	if (r != 0 && v.against_failed) {
		fprintf(stderr, "baton: audit verify: FAILED against %s (entry %llu): %s\n",
		        against, (unsigned long long)v.held_at, baton_diag());
		return EXIT_REJECTED;
	}
	if ((r == BATON_EHASH || r == BATON_EBADSIG) && v.bad) {
		fprintf(stderr, "baton: audit verify: FAILED at entry %llu: %s\n",
		        (unsigned long long)v.bad, baton_diag());
		return EXIT_REJECTED;
	}
	if (r == BATON_EHASH) {
		fprintf(stderr, "baton: audit verify: FAILED: %s\n", baton_diag());
		return EXIT_REJECTED;
	}
	if (r != 0)
		return cli_fail("audit verify", r);
	if (!json)
		verify_report(&v, against);
	return EXIT_OK;
}

static int do_sign(const struct cli_common *com, store *st)
{
	baton_key *key = NULL;
	int rc, r;
	if ((rc = cli_load_school_key(com, &key)) != EXIT_OK)
		return rc;
	struct sign_ctx c = {key, 0, 0};
	r = store_write(st, audit_sign, &c);
	baton_key_free(key);
	if (r != 0)
		return cli_fail("audit sign", r);
	printf("audit log signed to its last entry (%llu entries)%s\n", (unsigned long long)c.count,
	       c.signed_now ? "" : "; it was signed already");
	return EXIT_OK;
}

struct held_out {
	const char *school, *out;
	size_t n;
};

/* The head kept from one school, written as it came. */
static int held_write(const char *code, const uint8_t *p, size_t len, void *arg)
{
	struct held_out *c = arg;
	if (strcmp(code, c->school) != 0)
		return 0;
	c->n++;
	return baton_file_create(c->out, p, len, 0644);
}

static int audit_held_write(store_txn *t, void *arg)
{
	return store_peer_head_each(t, held_write, arg);
}

/* Each head as school_held_json gives it, one line each. */
static void held_print(json_t *arr)
{
	size_t i;
	json_t *h;
	json_array_foreach(arr, i, h)
	{
		printf("school %s: its log said %llu entries, head %s, at %s",
		       json_string_value(json_object_get(h, "school")),
		       (unsigned long long)json_integer_value(json_object_get(h, "entries")),
		       json_string_value(json_object_get(h, "head")),
		       cli_time((uint64_t)json_integer_value(json_object_get(h, "time"))));
		printf(" (signed by %s)\n", json_string_value(json_object_get(h, "key")));
	}
}

/* baton audit held [--school CODE [--out FILE]]: what other schools' logs said. */
static int do_held(const struct cli_common *com, store *st, const char *school, const char *out)
{
	struct held_out c = {school, out, 0};
	json_t *arr = NULL;
	int r;
	if (out) {
		r = store_read(st, audit_held_write, &c);
		if (r == 0 && c.n == 0)
			r = bti_diag_err(BATON_EVALUE, "no head kept from school %s", school);
		if (r == 0)
			printf("Wrote the head kept from %s to %s\n", school, out);
		return cli_list_done(r, NULL, c.n, "audit held", "");
	}
	if ((r = school_held_json(st, school, &arr)) == 0 && !com->json) {
		held_print(arr);
		c.n = json_array_size(arr);
		json_decref(arr);
		arr = NULL;
	}
	return cli_list_done(r, arr, c.n, "audit held", "No heads kept from other schools.");
}

int cmd_audit(int argc, char **argv)
{
	static const struct option opts[] = {{"student", required_argument, NULL, 's'},
	                                     {"against", required_argument, NULL, 'a'},
	                                     {"school", required_argument, NULL, 'S'},
	                                     {"out", required_argument, NULL, 'o'},
	                                     CLI_COMMON_OPTS,
	                                     {NULL, 0, NULL, 0}};
	static const char *const subs[] = {"verify", "sign", "held"};
	struct cli_common com = {0};
	struct audit_ctx c;
	const char *against = NULL, *school = NULL, *out = NULL;
	store *st;
	int opt, r, rc, sub = -1;

	/* copy and check have options of their own. */
	if (argc > 1 && strcmp(argv[1], "copy") == 0)
		return cmd_audit_copy(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "check") == 0)
		return cmd_audit_check(argc - 1, argv + 1);
	memset(&c, 0, sizeof(c));
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (cli_common_opt(&com, opt, optarg))
			continue;
		if (opt == 's' || opt == 'a' || opt == 'S' || opt == 'o') {
			*(opt == 's'   ? &c.student
			  : opt == 'a' ? &against
			  : opt == 'S' ? &school
			               : &out) = optarg;
			continue;
		}
		fprintf(opt == 'h' ? stdout : stderr,
		        "usage: baton audit [--student ID] [--json] [--dir DIR]\n"
		        "       baton audit verify [--against HEADFILE] [--json] [--dir DIR]\n"
		        "       baton audit sign [--dir DIR]\n"
		        "       baton audit held [--school CODE [--out HEADFILE]] [--json] [--dir "
		        "DIR]\n"
		        "       baton audit copy --student ID --out FILE [--dir DIR]\n"
		        "       baton audit check FILE [--key LINE | --card CARDFILE] [--against "
		        "DIR]\n\n"
		        "Prints the audit log: every import, link, request and disclosure.\n"
		        "--student prints one student's record of requests and disclosures.\n"
		        "'verify' recomputes the hash chain, checks every head signed by this\n"
		        "school's key against it, names the first entry or head that does not\n"
		        "match, and says which entries are not signed yet. --against checks a\n"
		        "head another school kept from this one ('baton audit held --out' there).\n"
		        "'sign' signs the log's head with the school key (serve does it itself).\n"
		        "'held' prints the latest head each school sent in a packet or receipt.\n"
		        "'copy' writes a student's record of disclosures signed for the family;\n"
		        "'check' verifies such a copy ('baton audit check --help').\n");
		return opt == 'h' ? EXIT_OK : EXIT_USAGE;
	}
	for (int i = 0; optind < argc && i < 3; i++)
		if (strcmp(argv[optind], subs[i]) == 0)
			sub = i;
	if (optind + (sub >= 0) != argc)
		return cli_usage_error("audit: unexpected \"%s\"", argv[optind + (sub >= 0)]);
	if ((against && sub != 0) || ((school || out) && sub != 2) || (out && !school) ||
	    (c.student && sub >= 0))
		return cli_usage_error("audit: --against goes with verify, --school and --out with "
		                       "held (--out needs --school), --student with neither");
	if ((rc = cli_open_store(&com, &st)) != EXIT_OK)
		return rc;
	if (sub >= 0) {
		rc = sub == 0   ? do_verify(st, against, com.json)
		     : sub == 1 ? do_sign(&com, st)
		                : do_held(&com, st, school, out);
		store_close(st);
		return rc;
	}
	c.show.arr = com.json ? json_array() : NULL;
	r = store_read(st, audit_show, &c);
	store_close(st);
	if (r != 0) {
		json_decref(c.show.arr);
		return cli_fail("audit", r);
	}
	if (c.show.arr)
		cli_print_json(c.show.arr);
	else if (c.show.n == 0)
		printf("No audit entries%s%s.\n", c.student ? " for " : "",
		       c.student ? c.student : "");
	return EXIT_OK;
}
