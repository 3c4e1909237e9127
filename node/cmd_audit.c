/*
 * baton audit [--student ID] and baton audit verify: the hash-chained log of
 * every change, disclosure and request. --student is the record of
 * disclosures a parent may inspect (34 CFR 99.32).
 */
#include <string.h>

#include "cli.h"
#include "proto_impl.h"

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
	if (c->arr) {
		json_t *j = json_pack("{s:I, s:I, s:s, s:s}", "seq", (json_int_t)e->seq, "time",
		                      (json_int_t)e->time, "action", e->action, "hash",
		                      cli_hex(e->hash, 32));
		if (e->student[0])
			json_object_set_new(j, "student", json_string(e->student));
		if (e->peer[0])
			json_object_set_new(j, "peer", json_string(e->peer));
		if (e->has_consent)
			json_object_set_new(j, "consent", json_string(cli_hex(e->consent, 16)));
		if (e->has_packet)
			json_object_set_new(j, "packet", json_string(cli_hex(e->packet, 16)));
		if (e->sections)
			json_object_set_new(j, "sections", json_string(secs));
		if (e->detail[0])
			json_object_set_new(j, "detail", json_string(e->detail));
		return json_array_append_new(c->arr, j) ? BATON_ENOMEM : 0;
	}
	printf("%6llu  %s  %-15s", (unsigned long long)e->seq, cli_time(e->time), e->action);
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

struct verify_ctx {
	uint64_t bad, count;
};

static int audit_verify(store_txn *t, void *arg)
{
	struct verify_ctx *c = arg;
	return store_audit_verify(t, &c->bad, &c->count);
}

int cmd_audit(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"student", required_argument, NULL, 's'}, CLI_COMMON_OPTS, {NULL, 0, NULL, 0}};
	struct cli_common com = {0};
	struct audit_ctx c;
	store *st;
	int opt, r, rc;

	memset(&c, 0, sizeof(c));
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (cli_common_opt(&com, opt, optarg))
			continue;
		if (opt == 's') {
			c.student = optarg;
			continue;
		}
		fprintf(opt == 'h' ? stdout : stderr,
		        "usage: baton audit [--student ID] [--json] [--dir DIR]\n"
		        "       baton audit verify [--dir DIR]\n\n"
		        "Prints the audit log: every import, link, request and disclosure.\n"
		        "--student prints one student's record of requests and disclosures.\n"
		        "'verify' recomputes the hash chain and names the first entry that does\n"
		        "not match.\n");
		return opt == 'h' ? EXIT_OK : EXIT_USAGE;
	}
	int verify = optind < argc && strcmp(argv[optind], "verify") == 0;
	if (optind + verify != argc)
		return cli_usage_error("audit: unexpected \"%s\"", argv[optind + verify]);
	if ((rc = cli_open_store(&com, &st)) != EXIT_OK)
		return rc;
	if (verify) {
		struct verify_ctx v = {0, 0};
		r = store_read(st, audit_verify, &v);
		store_close(st);
		if (r == BATON_EHASH && v.bad) {
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
		printf("audit log verified: %llu entries, chain intact\n",
		       (unsigned long long)v.count);
		return EXIT_OK;
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
