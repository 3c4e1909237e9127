/* baton guardian link | unlink: which keys may consent for a student. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "proto_impl.h"

struct link_ctx {
	const char *student;
	store_guardian g;
	int unlink;
};

static int do_link(store_txn *t, void *arg)
{
	struct link_ctx *c = arg;
	store_student s;
	char detail[128], fpr[BATON_FINGERPRINT_LEN + 1];
	int r;

	if ((r = store_student_get(t, c->student, &s)) != 0)
		return r == 1 ? diag_err(BATON_EVALUE, "no student \"%s\"", c->student) : r;
	baton_fingerprint(c->g.pk, fpr);
	if (c->unlink) {
		if ((r = store_guardian_del(t, c->student, c->g.pk)) != 0)
			return r == 1 ? diag_err(BATON_EVALUE, "key %s is not linked to %s", fpr,
			                         c->student)
			              : r;
		snprintf(detail, sizeof(detail), "key %s", fpr);
		return cli_audit(t, "guardian-unlink", c->student, NULL, detail);
	}
	c->g.linked = t->now;
	if ((r = store_guardian_put(t, c->student, &c->g)) != 0)
		return r;
	snprintf(detail, sizeof(detail), "%s key %s%s", c->g.relation, fpr,
	         c->g.restricted ? ", restricted" : "");
	return cli_audit(t, "guardian-link", c->student, NULL, detail);
}

static int link_cmd(int argc, char **argv, int unlink)
{
	static const struct option opts[] = {{"relation", required_argument, NULL, 'r'},
	                                     {"restricted", no_argument, NULL, 'R'},
	                                     CLI_COMMON_OPTS,
	                                     {NULL, 0, NULL, 0}};
	struct cli_common com = {0};
	struct link_ctx c;
	store *st;
	int opt, r, rc;

	memset(&c, 0, sizeof(c));
	c.unlink = unlink;
	snprintf(c.g.relation, sizeof(c.g.relation), "guardian");
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (cli_common_opt(&com, opt, optarg))
			continue;
		if (opt == 'r' && !unlink) {
			if (strlen(optarg) == 0 || strlen(optarg) >= sizeof(c.g.relation) ||
			    strspn(optarg, "abcdefghijklmnopqrstuvwxyz-_") != strlen(optarg))
				return cli_usage_error("--relation: \"%s\": use a short lower-case "
				                       "word (mother, father, guardian, self)",
				                       optarg);
			snprintf(c.g.relation, sizeof(c.g.relation), "%s", optarg);
		} else if (opt == 'R' && !unlink) {
			c.g.restricted = 1;
		} else {
			fprintf(opt == 'h' ? stdout : stderr,
			        unlink
			            ? "usage: baton guardian unlink STUDENT_ID PUBKEY [--dir DIR]\n"
			            : "usage: baton guardian link STUDENT_ID PUBKEY "
			              "[--relation R] [--restricted] [--dir DIR]\n\n"
			              "Links a guardian's public key (baton-gk1-...) to a "
			              "student. --relation self\nmarks the student's own key, "
			              "used once the student is eligible. --restricted\nkeeps "
			              "the link on file but refuses that key's consents (court "
			              "order).\n");
			return opt == 'h' ? EXIT_OK : EXIT_USAGE;
		}
	}
	if (optind + 2 != argc)
		return cli_usage_error("guardian %s: STUDENT_ID and PUBKEY expected",
		                       unlink ? "unlink" : "link");
	c.student = argv[optind];
	if ((r = baton_pubkey_parse(BATON_PUBKEY_GUARDIAN, argv[optind + 1], c.g.pk)) != 0)
		return cli_fail("PUBKEY", r);
	if ((rc = cli_open_store(&com, &st)) != EXIT_OK)
		return rc;
	r = store_write(st, do_link, &c);
	store_close(st);
	if (r != 0)
		return cli_fail(unlink ? "guardian unlink" : "guardian link", r);
	char fpr[BATON_FINGERPRINT_LEN + 1];
	baton_fingerprint(c.g.pk, fpr);
	if (unlink)
		printf("Unlinked key %s from %s\n", fpr, c.student);
	else
		printf("Linked %s key %s to %s%s\n", c.g.relation, fpr, c.student,
		       c.g.restricted ? " (restricted: its consents are refused)" : "");
	return EXIT_OK;
}

static int guardian_link(int argc, char **argv)
{
	return link_cmd(argc, argv, 0);
}

static int guardian_unlink(int argc, char **argv)
{
	return link_cmd(argc, argv, 1);
}

int cmd_guardian(int argc, char **argv)
{
	static const struct cmd sub[] = {
	    {"link", guardian_link, "link a guardian key to a student"},
	    {"unlink", guardian_unlink, "remove a link"},
	};
	return cli_dispatch("guardian", sub, sizeof(sub) / sizeof(sub[0]), argc, argv);
}
