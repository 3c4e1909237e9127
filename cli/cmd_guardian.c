/* baton guardian link | unlink: which keys may consent for a student. */
#include <stdlib.h>
#include <string.h>

#include <qrencode.h>

#include "cli.h"
#include "bti.h"

/*
 * Draws text as a QR code with half-block characters, two modules per line,
 * dark on an explicitly light background so that it scans on any terminal.
 */
static int print_qr(const char *text)
{
	QRcode *q = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	const int quiet = 2;
	if (q == NULL)
		return bti_diag_err(BATON_ENOMEM, "cannot make a QR code");
	int n = q->width;
	for (int y = -quiet; y < n + quiet; y += 2) {
		fputs("\033[47;30m", stdout);
		for (int x = -quiet; x < n + quiet; x++) {
			int top = y >= 0 && y < n && x >= 0 && x < n && (q->data[y * n + x] & 1);
			int bot = y + 1 >= 0 && y + 1 < n && x >= 0 && x < n &&
			          (q->data[(y + 1) * n + x] & 1);
			fputs(top && bot ? "\u2588"
			      : top      ? "\u2580"
			      : bot      ? "\u2584"
			                 : " ",
			      stdout);
		}
		fputs("\033[0m\n", stdout);
	}
	QRcode_free(q);
	return 0;
}

static void print_pubkey(const baton_key *k, int qr)
{
	char line[BATON_PUBKEY_TEXT_MAX], fpr[BATON_FINGERPRINT_LEN + 1];
	baton_pubkey_format(BATON_PUBKEY_GUARDIAN, baton_key_id_pk(k), line);
	baton_fingerprint(baton_key_id_pk(k), fpr);
	printf("%s\nfingerprint %s\n", line, fpr);
	if (qr)
		print_qr(line);
}

static int guardian_keygen(int argc, char **argv)
{
	static const struct option opts[] = {{"out", required_argument, NULL, 'o'},
	                                     {"qr", no_argument, NULL, 'q'},
	                                     CLI_COMMON_OPTS,
	                                     {NULL, 0, NULL, 0}};
	struct cli_common com = {0};
	const char *out = NULL;
	int qr = 0, opt, r;
	baton_key *k = NULL;
	char *pass;
	size_t plen;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (cli_common_opt(&com, opt, optarg))
			continue;
		if (opt == 'o')
			out = optarg;
		else if (opt == 'q')
			qr = 1;
		else {
			fprintf(
			    opt == 'h' ? stdout : stderr,
			    "usage: baton guardian keygen --out FILE [--qr]\n"
			    "                             [--passphrase-file FILE | "
			    "--no-passphrase]\n\n"
			    "Creates a parent's (or student's) consent key, encrypted under a\n"
			    "passphrase, and prints the public key line to give to the school;\n"
			    "--qr also draws it as a QR code for the registrar to scan.\n");
			return opt == 'h' ? EXIT_OK : EXIT_USAGE;
		}
	}
	if (!out || optind != argc)
		return cli_usage_error("guardian keygen: --out FILE is required");
	if ((r = cli_passphrase(&com, 1, &pass, &plen)) != 0)
		return cli_fail("passphrase", r);
	if ((r = baton_key_generate(BATON_KEY_GUARDIAN, &k)) == 0)
		r = baton_key_save(k, out, pass, plen, NULL);
	cli_pass_free(pass);
	if (r != 0) {
		baton_key_free(k);
		return cli_fail("guardian keygen", r);
	}
	printf("Created %s. Give this public key to the school:\n", out);
	print_pubkey(k, qr);
	baton_key_free(k);
	return EXIT_OK;
}

static int guardian_pubkey(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"qr", no_argument, NULL, 'q'}, CLI_COMMON_OPTS, {NULL, 0, NULL, 0}};
	struct cli_common com = {0};
	int qr = 0, opt, r, enc;
	baton_key *k;
	char *pass = NULL;
	size_t plen = 0;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (cli_common_opt(&com, opt, optarg))
			continue;
		if (opt == 'q') {
			qr = 1;
			continue;
		}
		fprintf(opt == 'h' ? stdout : stderr, "usage: baton guardian pubkey FILE [--qr]\n");
		return opt == 'h' ? EXIT_OK : EXIT_USAGE;
	}
	if (optind + 1 != argc)
		return cli_usage_error("guardian pubkey: one key FILE expected");
	if ((r = baton_key_file_encrypted(argv[optind], &enc)) != 0)
		return cli_fail(NULL, r);
	if (enc && (r = cli_passphrase(&com, 0, &pass, &plen)) != 0)
		return cli_fail("passphrase", r);
	r = baton_key_load(argv[optind], pass, plen, &k);
	cli_pass_free(pass);
	if (r != 0)
		return cli_fail(argv[optind], r);
	if (baton_key_kind_of(k) != BATON_KEY_GUARDIAN) {
		baton_key_free(k);
		fprintf(stderr, "baton: %s: a school key, not a guardian key\n", argv[optind]);
		return EXIT_REJECTED;
	}
	print_pubkey(k, qr);
	baton_key_free(k);
	return EXIT_OK;
}

struct link_ctx {
	const char *student;
	store_guardian g;
	int unlink;
};

struct prior {
	const uint8_t *pk;
	int found, restricted;
};

static int prior_cb(const store_guardian *g, void *arg)
{
	struct prior *p = arg;
	if (memcmp(g->pk, p->pk, BATON_PK_BYTES) == 0) {
		p->found = 1;
		p->restricted = g->restricted;
	}
	return 0;
}

static int do_link(store_txn *t, void *arg)
{
	struct link_ctx *c = arg;
	store_student s;
	char detail[128], fpr[BATON_FINGERPRINT_LEN + 1];
	int r;

	if ((r = store_student_get(t, c->student, &s)) != 0)
		return r == BATON_ENOTFOUND
		           ? bti_diag_err(BATON_EVALUE, "no student \"%s\"", c->student)
		           : r;
	baton_fingerprint(c->g.pk, fpr);
	if (c->unlink) {
		if ((r = store_guardian_del(t, c->student, c->g.pk)) != 0)
			return r == BATON_ENOTFOUND
			           ? bti_diag_err(BATON_EVALUE, "key %s is not linked to %s", fpr,
			                          c->student)
			           : r;
		snprintf(detail, sizeof(detail), "key %s", fpr);
		return cli_audit(t, "guardian-unlink", c->student, NULL, detail);
	}
	/* A restriction (a court order) is never lifted as a side effect of re-linking. */
	struct prior p = {c->g.pk, 0, 0};
	if ((r = store_guardian_each(t, c->student, prior_cb, &p)) != 0)
		return r;
	if (p.found && p.restricted && !c->g.restricted)
		return bti_diag_err(
		    BATON_ERESTRICTED,
		    "key %s is restricted for %s; to lift the restriction, unlink the "
		    "key first (recorded in the audit log), then link it again",
		    fpr, c->student);
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
	    {"keygen", guardian_keygen, "create a guardian key (on the parent's device)"},
	    {"pubkey", guardian_pubkey, "print a guardian key's public line"},
	    {"link", guardian_link, "link a guardian key to a student"},
	    {"unlink", guardian_unlink, "remove a link"},
	};
	return cli_dispatch("guardian", sub, sizeof(sub) / sizeof(sub[0]), argc, argv);
}
