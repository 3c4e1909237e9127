/*
 * baton guardian keygen | pubkey | link | unlink | invite | invites | confirm |
 * cancel: guardians' keys, which of them may consent for a student, and the
 * invitations a parent enrols a key with.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <qrencode.h>
#include <sodium.h>

#include "cli.h"
#include "bti.h"
#include "family_notify.h"
#include "guardian.h"
#include "invite.h"
#include "web.h"

/*
 * Draws text as a QR code (invite_qr's modules) with half-block
 * characters, two rows of modules per line, dark on an explicitly light
 * background so that it scans on any terminal.
 */
static int print_qr(const char *text)
{
	json_t *rows = NULL;
	const int quiet = 2;
	int r, n;
	if ((r = invite_qr(text, &rows)) != 0)
		return r;
	n = (int)json_array_size(rows);
	for (int y = -quiet; y < n + quiet; y += 2) {
		const char *a =
		    y >= 0 && y < n ? json_string_value(json_array_get(rows, (size_t)y)) : NULL;
		const char *b = y + 1 >= 0 && y + 1 < n
		                    ? json_string_value(json_array_get(rows, (size_t)y + 1))
		                    : NULL;
		fputs("\033[47;30m", stdout);
		for (int x = -quiet; x < n + quiet; x++) {
			int in = x >= 0 && x < n;
			int top = in && a && a[x] == '1', bot = in && b && b[x] == '1';
			fputs(top && bot ? "\u2588"
			      : top      ? "\u2580"
			      : bot      ? "\u2584"
			                 : " ",
			      stdout);
		}
		fputs("\033[0m\n", stdout);
	}
	json_decref(rows);
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

/* Writes the public key line of k to a new file at pub, for reading without the passphrase. */
static int write_pub(const baton_key *k, const char *pub)
{
	char line[BATON_PUBKEY_TEXT_MAX + 1];
	int r;
	if ((r = baton_pubkey_format(BATON_PUBKEY_GUARDIAN, baton_key_id_pk(k), line)) != 0)
		return r;
	strcat(line, "\n");
	return baton_file_create(pub, (const uint8_t *)line, strlen(line), 0644);
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
	char *pass, pub[4096];
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
			    "--qr also draws it as a QR code for the registrar to scan. The line\n"
			    "is also written to FILE.pub, which 'guardian pubkey' reads without\n"
			    "the passphrase.\n");
			return opt == 'h' ? EXIT_OK : EXIT_USAGE;
		}
	}
	if (!out || optind != argc)
		return cli_usage_error("guardian keygen: --out FILE is required");
	if (snprintf(pub, sizeof(pub), "%s.pub", out) >= (int)sizeof(pub))
		return cli_usage_error("guardian keygen: %s: path too long", out);
	/* Checked first, so that a refusal leaves no key file behind. */
	if (access(pub, F_OK) == 0 || errno != ENOENT)
		return cli_fail("guardian keygen",
		                bti_diag_err(BATON_EEXIST, "%s: already exists", pub));
	if ((r = cli_passphrase(&com, 1, &pass, &plen)) != 0)
		return cli_fail("passphrase", r);
	if ((r = baton_key_generate(BATON_KEY_GUARDIAN, &k)) == 0)
		r = pass ? baton_key_save(k, out, pass, plen, NULL) : baton_key_save_plain(k, out);
	cli_pass_free(pass);
	if (r == 0 && (r = write_pub(k, pub)) != 0)
		unlink(out);
	if (r != 0) {
		baton_key_free(k);
		return cli_fail("guardian keygen", r);
	}
	printf("Created %s and %s. Give this public key to the school:\n", out, pub);
	print_pubkey(k, qr);
	baton_key_free(k);
	return EXIT_OK;
}

/*
 * The key line in the file pub (a FILE.pub that keygen wrote): 0 and pk, the
 * file's read error, or BATON_EVALUE, naming pub, when it does not hold a
 * guardian key line.
 */
static int read_pub_file(const char *pub, uint8_t pk[BATON_PK_BYTES])
{
	char line[BATON_PUBKEY_TEXT_MAX + 2];
	uint8_t *buf = NULL;
	size_t n;
	int r;

	if ((r = baton_file_read(pub, sizeof(line) - 1, &buf, &n)) != 0)
		return r;
	memcpy(line, buf, n);
	line[n] = '\0';
	free(buf);
	line[strcspn(line, "\r\n")] = '\0';
	if (baton_pubkey_parse(BATON_PUBKEY_GUARDIAN, line, pk) != 0)
		return bti_diag_err(BATON_EVALUE, "%s: not a guardian public key line", pub);
	return 0;
}

/*
 * The key line in path.pub: 0 and pk, BATON_ENOTFOUND when there is no such
 * file, or read_pub_file's errors.
 */
static int read_pub(const char *path, uint8_t pk[BATON_PK_BYTES])
{
	char pub[4096];

	if (snprintf(pub, sizeof(pub), "%s.pub", path) >= (int)sizeof(pub))
		return bti_diag_err(BATON_EINVAL, "%s: path too long", path);
	if (access(pub, F_OK) != 0 && errno == ENOENT)
		return BATON_ENOTFOUND;
	return read_pub_file(pub, pk);
}

/* 1 when arg names a FILE.pub that exists, rather than being the key line, else 0. */
static int is_pub_file(const char *arg)
{
	size_t n = strlen(arg);
	return n > 4 && strcmp(arg + n - 4, ".pub") == 0 && access(arg, F_OK) == 0;
}

/*
 * The public key of the guardian key file at path: from path.pub when
 * there is one (checked against the key when that is not encrypted), else
 * from the key itself, which may ask for the passphrase.
 */
static int guardian_pk(const struct cli_common *com, const char *path, uint8_t pk[BATON_PK_BYTES])
{
	baton_key *k = NULL;
	char *pass = NULL;
	size_t plen = 0;
	int r, enc, have_pub;

	if ((r = baton_key_file_encrypted(path, &enc)) != 0)
		return r;
	if ((r = read_pub(path, pk)) != 0 && r != BATON_ENOTFOUND)
		return r;
	have_pub = r == 0;
	if (have_pub && enc)
		return 0;
	if (enc && (r = cli_passphrase(com, 0, &pass, &plen)) != 0)
		return r;
	r = baton_key_load(path, pass, plen, &k);
	cli_pass_free(pass);
	if (r == 0 && baton_key_kind_of(k) != BATON_KEY_GUARDIAN)
		r = bti_diag_err(BATON_EVALUE, "a school key, not a guardian key");
	else if (r == 0 && have_pub && sodium_memcmp(pk, baton_key_id_pk(k), BATON_PK_BYTES) != 0)
		r = bti_diag_err(BATON_EVALUE, "%s.pub: not the public key of %s", path, path);
	else if (r == 0)
		memcpy(pk, baton_key_id_pk(k), BATON_PK_BYTES);
	baton_key_free(k);
	return r;
}

static int guardian_pubkey(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"qr", no_argument, NULL, 'q'}, CLI_COMMON_OPTS, {NULL, 0, NULL, 0}};
	struct cli_common com = {0};
	char line[BATON_PUBKEY_TEXT_MAX], fpr[BATON_FINGERPRINT_LEN + 1];
	uint8_t pk[BATON_PK_BYTES];
	int qr = 0, opt, r;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (cli_common_opt(&com, opt, optarg))
			continue;
		if (opt == 'q') {
			qr = 1;
			continue;
		}
		fprintf(opt == 'h' ? stdout : stderr,
		        "usage: baton guardian pubkey FILE [--qr]\n\n"
		        "Prints the public key line of the guardian key FILE on standard output\n"
		        "(its fingerprint goes to standard error). It is read from FILE.pub,\n"
		        "which 'guardian keygen' writes, without the passphrase; a key without\n"
		        "FILE.pub needs the passphrase. FILE may be the FILE.pub itself.\n");
		return opt == 'h' ? EXIT_OK : EXIT_USAGE;
	}
	if (optind + 1 != argc)
		return cli_usage_error("guardian pubkey: one key FILE expected");
	/* The FILE.pub itself, which is what a parent hands over, is read as it is. */
	r = is_pub_file(argv[optind]) ? read_pub_file(argv[optind], pk)
	                              : guardian_pk(&com, argv[optind], pk);
	if (r != 0)
		return cli_fail(argv[optind], r);
	baton_pubkey_format(BATON_PUBKEY_GUARDIAN, pk, line);
	baton_fingerprint(pk, fpr);
	printf("%s\n", line);
	fprintf(stderr, "fingerprint %s\n", fpr);
	if (qr)
		print_qr(line);
	return EXIT_OK;
}

static int link_cmd(int argc, char **argv, int unlink)
{
	static const struct option opts[] = {{"relation", required_argument, NULL, 'r'},
	                                     {"restricted", no_argument, NULL, 'R'},
	                                     CLI_COMMON_OPTS,
	                                     {NULL, 0, NULL, 0}};
	struct cli_common com = {0};
	struct {
		const char *student;
		store_guardian g;
	} c;
	store *st;
	int opt, r, rc;

	memset(&c, 0, sizeof(c));
	snprintf(c.g.relation, sizeof(c.g.relation), "guardian");
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (cli_common_opt(&com, opt, optarg))
			continue;
		if (opt == 'r' && !unlink) {
			if (!guardian_relation_valid(optarg))
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
			              "Links a guardian's public key (baton-gk1-..., or the "
			              "FILE.pub that\n'guardian keygen' wrote) to a student. "
			              "--relation self marks the student's\nown key, used once "
			              "the student is eligible. --restricted keeps the link on\n"
			              "file but refuses that key's consents (court order).\n");
			return opt == 'h' ? EXIT_OK : EXIT_USAGE;
		}
	}
	if (optind + 2 != argc)
		return cli_usage_error("guardian %s: STUDENT_ID and PUBKEY expected",
		                       unlink ? "unlink" : "link");
	c.student = argv[optind];
	const char *pub = argv[optind + 1];
	r = is_pub_file(pub) ? read_pub_file(pub, c.g.pk)
	                     : baton_pubkey_parse(BATON_PUBKEY_GUARDIAN, pub, c.g.pk);
	if (r != 0)
		return cli_fail(pub, r);
	if ((rc = cli_open_store(&com, &st)) != EXIT_OK)
		return rc;
	r = unlink ? guardian_unlink(st, c.student, c.g.pk) : guardian_link(st, c.student, &c.g);
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

static int cmd_guardian_link(int argc, char **argv)
{
	return link_cmd(argc, argv, 0);
}

static int cmd_guardian_unlink(int argc, char **argv)
{
	return link_cmd(argc, argv, 1);
}

/*
 * The base of an invitation's URL: --url, else the web settings' public
 * URL; BATON_EVALUE saying to give --url when there is neither.
 */
static int invite_base(const struct cli_common *com, const char *given, char *base, size_t cap)
{
	struct web_conf wc;
	int r;
	if (given) {
		snprintf(base, cap, "%s", given);
		return 0;
	}
	if ((r = web_conf_read(cli_dir(com), &wc)) != 0 && r != BATON_ENOTFOUND)
		return r;
	if (r != 0 || !wc.url[0])
		return bti_diag_err(BATON_EVALUE,
		                    "no URL for the invitation: give --url BASE (the console's "
		                    "address, e.g. https://school.example:8443), or set it once "
		                    "with 'baton web set --url BASE'");
	snprintf(base, cap, "%s", wc.url);
	return 0;
}

static int guardian_invite(int argc, char **argv)
{
	static const struct option opts[] = {{"relation", required_argument, NULL, 'r'},
	                                     {"url", required_argument, NULL, 'u'},
	                                     CLI_COMMON_OPTS,
	                                     {NULL, 0, NULL, 0}};
	struct cli_common com = {0};
	const char *relation = NULL, *url_arg = NULL;
	char base[INVITE_URL_MAX], url[INVITE_URL_MAX], code[INVITE_CODE_TEXT];
	store_invite v;
	json_t *qr = NULL;
	store *st;
	int opt, r, rc;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (cli_common_opt(&com, opt, optarg))
			continue;
		if (opt == 'r')
			relation = optarg;
		else if (opt == 'u')
			url_arg = optarg;
		else {
			fprintf(
			    opt == 'h' ? stdout : stderr,
			    "usage: baton guardian invite STUDENT_ID --relation "
			    "mother|father|guardian|self\n"
			    "                             [--url BASE] [--json] [--dir DIR]\n\n"
			    "Makes a one-time invitation for a parent (or the student, as self)\n"
			    "to enrol a key made on their own device: prints the code, its expiry\n"
			    "(7 days), the URL BASE/family/#invite=CODE and its QR code. The code\n"
			    "is shown only here. BASE is --url, else 'baton web set --url'.\n"
			    "Once the parent has enrolled, 'baton guardian confirm ID' links\n"
			    "the key.\n");
			return opt == 'h' ? EXIT_OK : EXIT_USAGE;
		}
	}
	if (optind + 1 != argc)
		return cli_usage_error("guardian invite: STUDENT_ID expected");
	if (!relation)
		return cli_usage_error("guardian invite: --relation mother|father|guardian|self "
		                       "is required");
	if (!invite_relation_valid(relation))
		return cli_usage_error("--relation: \"%s\": use mother, father, guardian or self",
		                       relation);
	/* Everything that can be refused is, before anything is written. */
	if ((r = invite_base(&com, url_arg, base, sizeof(base))) != 0 ||
	    (r = invite_url(base, "XXXX-XXXX-XXXX", url)) != 0)
		return cli_fail("guardian invite", r);
	if ((rc = cli_open_store(&com, &st)) != EXIT_OK)
		return rc;
	r = invite_make(st, argv[optind], relation, code, &v);
	store_close(st);
	if (r != 0)
		return cli_fail("guardian invite", r);
	if ((r = invite_url(base, code, url)) == 0 && (r = invite_qr(url, &qr)) != 0)
		qr = NULL;
	if (r != 0) {
		sodium_memzero(code, sizeof(code));
		return cli_fail("guardian invite", r);
	}
	if (com.json) {
		cli_print_json(json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:o}", "id", v.id, "code",
		                         code, "url", url, "student", v.student, "relation",
		                         v.relation, "expires", (json_int_t)v.expires, "qr", qr));
	} else {
		json_decref(qr);
		printf("Invitation %s for %s (%s), single use, expires %s\n", v.id, v.student,
		       v.relation, cli_time(v.expires));
		printf("code  %s\nurl   %s\n", code, url);
		print_qr(url);
		printf("Give the code or the QR code to the %s alone. Once they have enrolled,\n"
		       "compare the key's fingerprint with theirs and run\n"
		       "'baton guardian confirm %s'.\n",
		       strcmp(v.relation, "self") == 0 ? "student" : v.relation, v.id);
	}
	sodium_memzero(code, sizeof(code));
	sodium_memzero(url, sizeof(url));
	return EXIT_OK;
}

static void invites_print(const json_t *arr)
{
	size_t i;
	const json_t *e;
	printf("%-4s  %-9s  %-12s  %-8s  %-20s  %s\n", "ID", "STATE", "STUDENT", "RELATION",
	       "EXPIRES", "KEY");
	json_array_foreach(arr, i, e)
	{
		printf("%-4s  %-9s  ", cli_str(e, "id"), cli_str(e, "state"));
		cli_pad(stdout, cli_str(e, "student"), 12);
		printf("  %-8s  %-20s  %s\n", cli_str(e, "relation"),
		       cli_time(cli_int(e, "expires")),
		       json_object_get(e, "fingerprint") ? cli_str(e, "fingerprint") : "-");
	}
}

static int guardian_invites(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"student", required_argument, NULL, 's'}, CLI_COMMON_OPTS, {NULL, 0, NULL, 0}};
	struct cli_common com = {0};
	const char *student = NULL;
	json_t *arr = NULL;
	store *st;
	int opt, r, rc;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (cli_common_opt(&com, opt, optarg))
			continue;
		if (opt == 's') {
			student = optarg;
			continue;
		}
		fprintf(opt == 'h' ? stdout : stderr,
		        "usage: baton guardian invites [--student ID] [--json] [--dir DIR]\n\n"
		        "The invitations, newest first, with their state (open, claimed,\n"
		        "linked, cancelled, burned, expired) and a claimed key's fingerprint.\n");
		return opt == 'h' ? EXIT_OK : EXIT_USAGE;
	}
	if (optind != argc)
		return cli_usage_error("guardian invites: no arguments expected");
	if ((rc = cli_open_store(&com, &st)) != EXIT_OK)
		return rc;
	r = invite_list(st, student, &arr);
	store_close(st);
	return cli_table_done(r, arr, NULL, com.json, invites_print, "guardian invites",
	                      "No invitations.");
}

static int invite_change(int argc, char **argv, int confirm)
{
	struct cli_common com = {0};
	store_invite v;
	store_student s;
	char fpr[BATON_FINGERPRINT_LEN + 1];
	store *st;
	int rc, r;

	if ((rc = cli_common_only(argc, argv, &com,
	                          confirm ? "usage: baton guardian confirm ID [--dir DIR]\n\n"
	                                    "Links the key that enrolled with invitation ID to "
	                                    "its student, after\nshowing its fingerprint: "
	                                    "compare it with the one the parent reads.\n"
	                                  : "usage: baton guardian cancel ID [--dir DIR]\n\n"
	                                    "Withdraws an open invitation, or refuses the key "
	                                    "that enrolled with it.\n")) >= 0)
		return rc;
	if (optind + 1 != argc)
		return cli_usage_error("guardian %s: one invitation ID expected",
		                       confirm ? "confirm" : "cancel");
	if ((rc = cli_open_store(&com, &st)) != EXIT_OK)
		return rc;
	if (confirm) {
		/* What is about to be linked, shown first: the registrar compares the fingerprint.
		 */
		if ((r = invite_get(st, argv[optind], &v, &s)) == 0 && v.has_pk) {
			baton_fingerprint(v.pk, fpr);
			printf("Invitation %s: %s key %s for %s (%s %s)\n", v.id, v.relation, fpr,
			       v.student, s.given_name, s.family_name);
		}
		r = r ? r : invite_confirm(st, argv[optind], &v);
	} else {
		r = invite_cancel(st, argv[optind], &v);
	}
	store_close(st);
	if (r != 0)
		return cli_fail(confirm ? "guardian confirm" : "guardian cancel", r);
	if (confirm) {
		baton_fingerprint(v.pk, fpr);
		printf("Linked %s key %s to %s\n", v.relation, fpr, v.student);
	} else {
		printf("Cancelled invitation %s for %s\n", v.id, v.student);
	}
	return EXIT_OK;
}

static int cmd_guardian_confirm(int argc, char **argv)
{
	return invite_change(argc, argv, 1);
}

static int cmd_guardian_cancel(int argc, char **argv)
{
	return invite_change(argc, argv, 0);
}

/*
 * The email address on file for a linked key: the family is told there
 * when the record is sent, asked for, or a consent is about to end.
 */
static int guardian_email(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"remove", no_argument, NULL, 'R'}, CLI_COMMON_OPTS, {NULL, 0, NULL, 0}};
	struct cli_common com = {0};
	char addr[STORE_EMAIL_MAX + 1], fpr[BATON_FINGERPRINT_LEN + 1];
	uint8_t pk[BATON_PK_BYTES];
	int opt, r, rc, remove = 0;
	store *st;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (cli_common_opt(&com, opt, optarg))
			continue;
		if (opt == 'R') {
			remove = 1;
			continue;
		}
		fprintf(opt == 'h' ? stdout : stderr,
		        "usage: baton guardian email STUDENT_ID KEY [ADDRESS | --remove] [--dir "
		        "DIR]\n\n"
		        "Shows, sets or removes the email address on file for a guardian key\n"
		        "linked to the student (KEY: its fingerprint, public key line or hex).\n"
		        "The family is told there when the record is sent or asked for, when a\n"
		        "consent is about to end and when the rights pass at 18; the message\n"
		        "holds no part of the record. One address per key, for every student\n"
		        "the key is linked to.\n");
		return opt == 'h' ? EXIT_OK : EXIT_USAGE;
	}
	if (argc - optind < 2 || argc - optind > 3 || (remove && argc - optind == 3))
		return cli_usage_error("guardian email: STUDENT_ID KEY and ADDRESS or --remove "
		                       "expected");
	const char *set = argc - optind == 3 ? argv[optind + 2] : NULL;
	if (set && (r = notify_email_check("ADDRESS", set)) != 0)
		return cli_fail("guardian email", r);
	if ((rc = cli_open_store(&com, &st)) != EXIT_OK)
		return rc;
	const char *key = argv[optind + 1];
	if (is_pub_file(key) && (r = read_pub_file(key, pk)) == 0) {
		char hex[2 * BATON_PK_BYTES + 1];
		sodium_bin2hex(hex, sizeof(hex), pk, BATON_PK_BYTES);
		r = guardian_find(st, argv[optind], hex, pk);
	} else if (!is_pub_file(key)) {
		r = guardian_find(st, argv[optind], key, pk);
	}
	if (r == 0 && (set || remove))
		r = notify_email_set(st, pk, set ? set : "");
	if (r == 0)
		r = notify_email_get(st, pk, addr);
	store_close(st);
	if (r != 0)
		return cli_fail("guardian email", r);
	baton_fingerprint(pk, fpr);
	if (com.json)
		cli_print_json(
		    json_pack("{s:s, s:s?}", "fingerprint", fpr, "email", addr[0] ? addr : NULL));
	else if (addr[0])
		printf("%s %s: %s\n", set ? "Set the email address of key" : "Key", fpr, addr);
	else
		printf("%s %s\n",
		       remove ? "Removed the email address of key" : "No email address for key",
		       fpr);
	return EXIT_OK;
}

int cmd_guardian(int argc, char **argv)
{
	static const struct cmd sub[] = {
	    {"keygen", guardian_keygen, "create a guardian key (on the parent's device)"},
	    {"pubkey", guardian_pubkey, "print a guardian key's public line"},
	    {"link", cmd_guardian_link, "link a guardian key to a student"},
	    {"unlink", cmd_guardian_unlink, "remove a link"},
	    {"invite", guardian_invite, "make a one-time invitation to enrol a key"},
	    {"invites", guardian_invites, "list invitations and their state"},
	    {"confirm", cmd_guardian_confirm, "link the key that enrolled with an invitation"},
	    {"cancel", cmd_guardian_cancel, "withdraw an invitation or refuse its key"},
	    {"email", guardian_email, "the email address the family is told at"},
	};
	return cli_dispatch("guardian", sub, sizeof(sub) / sizeof(sub[0]), argc, argv);
}
