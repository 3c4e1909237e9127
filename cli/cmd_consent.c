/*
 * baton consent grant | revoke | show  (a parent's device, no node needed)
 * baton consent import | list | check  (on the school's node)
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "cli.h"
#include "consent.h"
#include "view_consent.h"
#include "bti.h"

#define DAY              UINT64_C(86400)
#define CONSENT_MAX_DAYS 366

/* "30d", "2w", "12h" from now, or "YYYY-MM-DD" (the end of that day, UTC). */
static int parse_expiry(const char *s, uint64_t now, uint64_t *out)
{
	char *end;
	int y, m, d;
	if (sscanf(s, "%4d-%2d-%2d", &y, &m, &d) == 3 && strlen(s) == 10) {
		struct tm tm = {0};
		tm.tm_year = y - 1900, tm.tm_mon = m - 1, tm.tm_mday = d;
		tm.tm_hour = 23, tm.tm_min = 59, tm.tm_sec = 59;
		time_t t = timegm(&tm);
		/* timegm normalises 2026-13-02 to 2027-01-02: insist the date comes back unchanged.
		 */
		if (t == (time_t)-1 || tm.tm_mday != d || tm.tm_mon != m - 1 ||
		    tm.tm_year != y - 1900)
			return bti_diag_err(BATON_EVALUE, "--expires: \"%s\" is not a date", s);
		*out = (uint64_t)t;
	} else {
		unsigned long long n = strtoull(s, &end, 10);
		uint64_t unit = *end == 'd' ? DAY : *end == 'w' ? 7 * DAY : *end == 'h' ? 3600 : 0;
		if (end == s || unit == 0 || end[1] != '\0' || n == 0 || n > 100000)
			return bti_diag_err(
			    BATON_EVALUE,
			    "--expires: \"%s\": use a duration (30d, 2w, 12h) or a date "
			    "(YYYY-MM-DD)",
			    s);
		*out = now + n * unit;
	}
	if (*out <= now)
		return bti_diag_err(BATON_EVALUE, "--expires: \"%s\" is in the past", s);
	if (*out - now > CONSENT_MAX_DAYS * DAY)
		return bti_diag_err(BATON_EVALUE, "--expires: \"%s\" is more than %d days away", s,
		                    CONSENT_MAX_DAYS);
	return 0;
}

static int load_card(const char *path, uint64_t now, baton_card *c)
{
	uint8_t *buf;
	size_t len;
	int r;
	if ((r = baton_file_read(path, BATON_OBJ_MAX, &buf, &len)) != 0)
		return r;
	r = baton_card_parse(buf, len, c);
	free(buf);
	if (r != 0) {
		char why[400];
		snprintf(why, sizeof(why), "%s", baton_diag());
		return bti_diag_err(r, "%s: %s", path, why);
	}
	if ((r = baton_check_validity(c->valid_from, c->valid_until, now, 300)) != 0)
		return bti_diag_err(r, "%s: the card of %s is %s", path, c->code,
		                    r == BATON_EEXPIRED ? "expired" : "not valid yet");
	return 0;
}

/* Loads a guardian key file, asking for its passphrase when it has one. */
int cli_load_guardian_key(const struct cli_common *com, const char *path, baton_key **k)
{
	char *pass = NULL;
	size_t plen = 0;
	int enc, r;
	if ((r = baton_key_file_encrypted(path, &enc)) != 0)
		return r;
	if (enc) {
		struct cli_common c2 = *com;
		c2.no_passphrase = 0;
		if ((r = cli_passphrase(&c2, 0, &pass, &plen)) != 0)
			return r;
	}
	r = baton_key_load(path, pass, plen, k);
	cli_pass_free(pass);
	if (r == 0 && baton_key_kind_of(*k) != BATON_KEY_GUARDIAN) {
		baton_key_free(*k);
		*k = NULL;
		return bti_diag_err(BATON_EKEYFILE, "%s: a school key, not a guardian key", path);
	}
	return r;
}

static void describe_consent(FILE *f, const baton_consent *c, uint64_t now)
{
	char fpr[BATON_FINGERPRINT_LEN + 1], secs[BATON_SECTIONS_TEXT_MAX],
	    left[BATON_SECTIONS_TEXT_MAX];
	baton_sections_format(c->sections, secs, sizeof(secs));
	baton_sections_format(BATON_SEC_SENSITIVE_MASK & ~c->sections, left, sizeof(left));
	fprintf(f, "  student   %s (as %s knows them)\n", c->student, c->from_code);
	baton_fingerprint(c->from_pk, fpr);
	fprintf(f, "  from      %s, fingerprint %s\n", c->from_code, fpr);
	baton_fingerprint(c->to_pk, fpr);
	fprintf(f, "  to        %s, fingerprint %s\n", c->to_code, fpr);
	fprintf(f, "  sections  %s\n", secs);
	if (left[0])
		fprintf(f, "            not included: %s (sensitive: only when named)\n", left);
	fprintf(f, "  purpose   %s\n", c->purpose);
	fprintf(f, "  valid     from %s", cli_time(c->issued));
	fprintf(f, " until %s%s\n", cli_time(c->expires),
	        now > c->expires        ? " (EXPIRED)"
	        : now + 300 < c->issued ? " (NOT YET VALID)"
	                                : "");
	baton_fingerprint(c->signer, fpr);
	fprintf(f, "  signed by %s key %s\n",
	        c->role == BATON_ROLE_STUDENT ? "the student's own" : "a guardian's", fpr);
	fprintf(f, "  id        %s\n", cli_hex(c->id, BATON_ID_BYTES));
}

static int confirm(const char *question)
{
	char answer[16] = "";
	FILE *tty = fopen("/dev/tty", "r+");
	if (tty == NULL)
		return -1;
	fprintf(tty, "%s [y/N] ", question);
	fflush(tty);
	if (fgets(answer, sizeof(answer), tty) == NULL)
		answer[0] = 0;
	fclose(tty);
	return answer[0] == 'y' || answer[0] == 'Y';
}

static const char grant_usage[] =
    "usage: baton consent grant --key FILE --student ID --from CARD --to CARD\n"
    "         --sections LIST [--purpose TEXT] [--expires 30d|DATE] --out FILE\n"
    "         [--role guardian|student] [--yes]\n\n"
    "Signs a consent for the sending school (--from) to release the named\n"
    "sections of one student's record to the receiving school (--to).\n"
    "LIST is comma-separated: assessments, attendance, custody, discipline,\n"
    "english_learner, enrollment, graduation, guardians, health, homeless,\n"
    "identity, section_504, special_education, transcript; 'all' is every\n"
    "section that is not sensitive. The sensitive ones (custody, discipline,\n"
    "english_learner, health, homeless, section_504, special_education) go\n"
    "only when named. Shows what will be released and asks before signing\n"
    "(--yes: does not ask).\n";

struct grant_opts {
	struct cli_common com;
	const char *key, *student, *from, *to, *sections, *purpose, *expires, *out, *role;
	int yes;
};

/* Parses consent grant's command line into o. Returns -1 to go on, or the exit code. */
static int grant_options(int argc, char **argv, struct grant_opts *o)
{
	static const struct option opts[] = {{"key", required_argument, NULL, 'k'},
	                                     {"student", required_argument, NULL, 's'},
	                                     {"from", required_argument, NULL, 'f'},
	                                     {"to", required_argument, NULL, 't'},
	                                     {"sections", required_argument, NULL, 'S'},
	                                     {"purpose", required_argument, NULL, 'p'},
	                                     {"expires", required_argument, NULL, 'e'},
	                                     {"out", required_argument, NULL, 'o'},
	                                     {"role", required_argument, NULL, 'r'},
	                                     {"yes", no_argument, NULL, 'y'},
	                                     CLI_COMMON_OPTS,
	                                     {NULL, 0, NULL, 0}};
	static const char letters[] = "ksftSpeor";
	const char **slot[] = {&o->key,     &o->student, &o->from, &o->to,  &o->sections,
	                       &o->purpose, &o->expires, &o->out,  &o->role};
	int opt;

	o->expires = "30d";
	o->role = "guardian";
	optind = 1;
	while ((opt = getopt_long(argc, argv, "hy", opts, NULL)) != -1) {
		const char *at = opt > 0 && opt < 128 ? strchr(letters, opt) : NULL;
		if (cli_common_opt(&o->com, opt, optarg))
			continue;
		if (at != NULL) {
			*slot[at - letters] = optarg;
		} else if (opt == 'y') {
			o->yes = 1;
		} else {
			fputs(grant_usage, opt == 'h' ? stdout : stderr);
			return opt == 'h' ? EXIT_OK : EXIT_USAGE;
		}
	}
	if (optind != argc || !o->key || !o->student || !o->from || !o->to || !o->sections ||
	    !o->out)
		return cli_usage_error("consent grant: --key, --student, --from, --to, --sections "
		                       "and --out are required");
	return -1;
}

/*
 * Fills the consent c from the options and the two cards (read into fc and
 * tc), all but the signer. Returns the exit code, EXIT_OK to go on.
 */
static int grant_fill(const struct grant_opts *o, uint64_t now, baton_consent *c, baton_card *fc,
                      baton_card *tc)
{
	int r;
	memset(c, 0, sizeof(*c));
	if (strcmp(o->role, "guardian") == 0)
		c->role = BATON_ROLE_GUARDIAN;
	else if (strcmp(o->role, "student") == 0)
		c->role = BATON_ROLE_STUDENT;
	else
		return cli_usage_error("--role: \"%s\": use guardian or student", o->role);
	if (strlen(o->student) > BATON_STUDENT_MAX)
		return cli_usage_error("--student: at most %d bytes", BATON_STUDENT_MAX);
	if ((r = baton_sections_parse(o->sections, &c->sections)) != 0)
		return cli_fail("--sections", r);
	c->sections |= BATON_SEC_BIT(BATON_SEC_IDENTITY); /* identity always travels */
	if ((r = parse_expiry(o->expires, now, &c->expires)) != 0)
		return cli_fail(NULL, r);
	if ((r = load_card(o->from, now, fc)) != 0 || (r = load_card(o->to, now, tc)) != 0)
		return cli_fail(NULL, r);
	if (memcmp(fc->id_pk, tc->id_pk, BATON_PK_BYTES) == 0)
		return cli_usage_error("--from and --to are the same school");
	randombytes_buf(c->id, sizeof(c->id));
	snprintf(c->student, sizeof(c->student), "%s", o->student);
	memcpy(c->from_pk, fc->id_pk, BATON_PK_BYTES);
	snprintf(c->from_code, sizeof(c->from_code), "%s", fc->code);
	memcpy(c->to_pk, tc->id_pk, BATON_PK_BYTES);
	snprintf(c->to_code, sizeof(c->to_code), "%s", tc->code);
	if (o->purpose)
		snprintf(c->purpose, sizeof(c->purpose), "%s", o->purpose);
	else
		snprintf(c->purpose, sizeof(c->purpose), "Enrollment at %s", tc->name);
	c->issued = now;
	return EXIT_OK;
}

/* Shows what will be signed and, without --yes, asks. Returns EXIT_OK to sign. */
static int grant_confirm(const struct grant_opts *o, const baton_consent *c, const baton_card *fc,
                         const baton_card *tc, uint64_t now)
{
	printf("You are about to sign this consent. %s (%s) may send, for the purpose below,\n"
	       "these parts of the record to %s (%s):\n",
	       fc->name, fc->code, tc->name, tc->code);
	describe_consent(stdout, c, now);
	fflush(stdout);
	if (o->yes)
		return EXIT_OK;
	int a = confirm("Sign it?");
	if (a < 0)
		return cli_usage_error("consent grant: no terminal to confirm on; read the "
		                       "summary and add --yes");
	if (a == 0) {
		fprintf(stderr, "baton: not signed\n");
		return EXIT_REJECTED;
	}
	return EXIT_OK;
}

static int consent_grant(int argc, char **argv)
{
	struct grant_opts o;
	baton_card fc, tc;
	baton_consent c;
	baton_key *k = NULL;
	uint8_t *bytes = NULL;
	size_t len;
	uint64_t now = cli_now();
	int r, rc;

	memset(&o, 0, sizeof(o));
	if ((rc = grant_options(argc, argv, &o)) >= 0)
		return rc;
	if ((rc = grant_fill(&o, now, &c, &fc, &tc)) != EXIT_OK)
		return rc;
	if ((r = cli_load_guardian_key(&o.com, o.key, &k)) != 0)
		return cli_fail(o.key, r);
	memcpy(c.signer, baton_key_id_pk(k), BATON_PK_BYTES);
	if ((rc = grant_confirm(&o, &c, &fc, &tc, now)) != EXIT_OK) {
		baton_key_free(k);
		return rc;
	}
	r = baton_consent_sign(&c, baton_key_id_sk(k), &bytes, &len);
	baton_key_free(k);
	if (r == 0)
		r = baton_file_create(o.out, bytes, len, 0644);
	free(bytes);
	if (r != 0)
		return cli_fail("consent grant", r);
	printf("Signed. Give %s to %s (or to %s, which asks for the record).\n", o.out, fc.name,
	       tc.name);
	return EXIT_OK;
}

static int consent_revoke_cmd(int argc, char **argv)
{
	static const struct option opts[] = {{"key", required_argument, NULL, 'k'},
	                                     {"out", required_argument, NULL, 'o'},
	                                     CLI_COMMON_OPTS,
	                                     {NULL, 0, NULL, 0}};
	struct cli_common com = {0};
	const char *key = NULL, *out = NULL;
	uint8_t *buf = NULL, *bytes = NULL;
	size_t len, blen;
	baton_consent c;
	baton_revocation rv;
	baton_key *k = NULL;
	int opt, r;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (cli_common_opt(&com, opt, optarg))
			continue;
		if (opt == 'k')
			key = optarg;
		else if (opt == 'o')
			out = optarg;
		else {
			fprintf(opt == 'h' ? stdout : stderr,
			        "usage: baton consent revoke --key FILE CONSENTFILE --out FILE\n\n"
			        "Signs a revocation of the consent; give it to the sending school\n"
			        "('baton consent import FILE' there).\n");
			return opt == 'h' ? EXIT_OK : EXIT_USAGE;
		}
	}
	if (optind + 1 != argc || !key || !out)
		return cli_usage_error("consent revoke: --key, CONSENTFILE and --out are required");
	if ((r = baton_file_read(argv[optind], BATON_OBJ_MAX, &buf, &len)) != 0)
		return cli_fail(NULL, r);
	r = baton_consent_parse(buf, len, &c);
	free(buf);
	if (r != 0)
		return cli_fail(argv[optind], r);
	if ((r = cli_load_guardian_key(&com, key, &k)) != 0)
		return cli_fail(key, r);
	memset(&rv, 0, sizeof(rv));
	memcpy(rv.consent_id, c.id, BATON_ID_BYTES);
	memcpy(rv.signer, baton_key_id_pk(k), BATON_PK_BYTES);
	rv.time = cli_now();
	if (memcmp(rv.signer, c.signer, BATON_PK_BYTES) != 0)
		fprintf(stderr,
		        "baton: note: this key did not sign the consent; the school accepts "
		        "the revocation only from a guardian linked to %s\n",
		        c.student);
	r = baton_revocation_sign(&rv, baton_key_id_sk(k), &bytes, &blen);
	baton_key_free(k);
	if (r == 0)
		r = baton_file_create(out, bytes, blen, 0644);
	free(bytes);
	if (r != 0)
		return cli_fail("consent revoke", r);
	printf("Revocation of consent %s (student %s, %s to %s) written to %s\n",
	       cli_hex(c.id, BATON_ID_BYTES), c.student, c.from_code, c.to_code, out);
	return EXIT_OK;
}

static int consent_show(int argc, char **argv)
{
	int rc;
	struct cli_common com = {0};
	uint8_t *buf;
	size_t len;
	int r, type = 0;
	uint64_t now = cli_now();

	if ((rc = cli_common_only(
	         argc, argv, &com,
	         "usage: baton consent show FILE [--json]\n\n"
	         "Shows a consent or revocation: who signed it, for which student, from "
	         "and\nto which school, which sections, why, how long, and whether "
	         "the signature\nverifies.\n")) >= 0)
		return rc;
	if (optind + 1 != argc)
		return cli_usage_error("consent show: one FILE expected");
	const char *path = argv[optind];
	if ((r = baton_file_read(path, BATON_OBJ_MAX, &buf, &len)) != 0)
		return cli_fail(NULL, r);
	baton_object_type(buf, len, &type);
	if (type == BATON_OBJ_REVOCATION) {
		baton_revocation rv;
		char fpr[BATON_FINGERPRINT_LEN + 1];
		r = baton_revocation_parse(buf, len, &rv);
		free(buf);
		if (r != 0)
			return cli_fail(path, r);
		baton_fingerprint(rv.signer, fpr);
		if (com.json)
			cli_print_json(json_pack("{s:s, s:s, s:s, s:I, s:s}", "type", "revocation",
			                         "consent", cli_hex(rv.consent_id, 16),
			                         "signer_fingerprint", fpr, "time",
			                         (json_int_t)rv.time, "signature", "valid"));
		else
			printf("Revocation of consent %s\n  signed by key %s on %s\n  signature "
			       "verifies\n",
			       cli_hex(rv.consent_id, 16), fpr, cli_time(rv.time));
		return EXIT_OK;
	}
	baton_consent c;
	r = baton_consent_parse(buf, len, &c);
	free(buf);
	if (r == BATON_EBADSIG) {
		fprintf(stderr,
		        "baton: %s: the signature DOES NOT VERIFY: this consent was changed "
		        "after signing or is forged\n",
		        path);
		return EXIT_REJECTED;
	}
	if (r != 0)
		return cli_fail(path, r);
	if (com.json) {
		cli_print_json(consent_view_json(&c, now));
		return EXIT_OK;
	}
	printf("Consent, signature verifies:\n");
	describe_consent(stdout, &c, now);
	return EXIT_OK;
}

/* ---- on the node ---- */

static int consent_import(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"consent", required_argument, NULL, 'c'}, CLI_COMMON_OPTS, {NULL, 0, NULL, 0}};
	struct cli_common com = {0};
	struct consent_import_req x;
	const char *shown_path = NULL;
	baton_consent shown;
	uint8_t *buf;
	store *st;
	int opt, r, rc;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (cli_common_opt(&com, opt, optarg))
			continue;
		if (opt == 'c') {
			shown_path = optarg;
			continue;
		}
		fprintf(opt == 'h' ? stdout : stderr,
		        "usage: baton consent import FILE [--consent CONSENTFILE] [--dir DIR]\n\n"
		        "Records a revocation, or a consent, that a parent brought by hand.\n"
		        "A receiving school that has not seen the consent a revocation\n"
		        "withdraws takes the revocation with that consent (--consent).\n");
		return opt == 'h' ? EXIT_OK : EXIT_USAGE;
	}
	if (optind + 1 != argc)
		return cli_usage_error("consent import: one FILE expected");
	memset(&x, 0, sizeof(x));
	if (shown_path) {
		size_t n;
		if ((r = baton_file_read(shown_path, BATON_OBJ_MAX, &buf, &n)) != 0)
			return cli_fail(NULL, r);
		r = baton_consent_parse(buf, n, &shown);
		free(buf);
		if (r != 0)
			return cli_fail(shown_path, r);
		x.shown = &shown;
	}
	if ((r = baton_file_read(argv[optind], BATON_OBJ_MAX, &buf, &x.len)) != 0)
		return cli_fail(NULL, r);
	x.bytes = buf;
	if (baton_object_type(buf, x.len, &x.type) != 0 ||
	    (x.type != BATON_OBJ_CONSENT && x.type != BATON_OBJ_REVOCATION)) {
		free(buf);
		fprintf(stderr, "baton: %s: not a consent or a revocation\n", argv[optind]);
		return EXIT_REJECTED;
	}
	if (shown_path && x.type != BATON_OBJ_REVOCATION) {
		free(buf);
		return cli_usage_error("consent import: --consent goes with a revocation");
	}
	if ((rc = cli_open_store(&com, &st)) != EXIT_OK) {
		free(buf);
		return rc;
	}
	r = consent_view_import(st, &x);
	store_close(st);
	free(buf);
	if (r != 0)
		return cli_fail(argv[optind], r);
	if (x.type == BATON_OBJ_REVOCATION)
		printf("Recorded the revocation of consent %s%s\n", cli_hex(x.rv.consent_id, 16),
		       x.effective ? ": it will not be used again"
		                   : " (this school has not seen that consent yet; the revocation "
		                     "counts if its signer signed the consent or is linked to the "
		                     "student)");
	else
		printf("Recorded consent %s for student %s (%s to %s)\n", cli_hex(x.c.id, 16),
		       x.c.student, x.c.from_code, x.c.to_code);
	return EXIT_OK;
}

/* One consent of consent_view_list as a line. */
static void list_line(const json_t *j)
{
	const char *f[5] = {"id", "student", "status", "to", "sections"};
	const char *v[5];
	for (size_t i = 0; i < 5; i++)
		v[i] = json_string_value(json_object_get(j, f[i]));
	printf("%s  %-10s %-8s to %-10s until %s  %s\n", v[0], v[1], v[2], v[3],
	       cli_time((uint64_t)json_integer_value(json_object_get(j, "expires"))), v[4]);
}

static int consent_list(int argc, char **argv)
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
		        "usage: baton consent list [--student ID] [--json] [--dir DIR]\n");
		return opt == 'h' ? EXIT_OK : EXIT_USAGE;
	}
	if ((rc = cli_open_store(&com, &st)) != EXIT_OK)
		return rc;
	r = consent_view_list(st, student, cli_now(), &arr);
	store_close(st);
	if (r == 0 && !com.json) {
		for (size_t i = 0; i < json_array_size(arr); i++)
			list_line(json_array_get(arr, i));
		rc = cli_list_done(r, NULL, json_array_size(arr), "consent list",
		                   "No consents on file.");
		json_decref(arr);
		return rc;
	}
	return cli_list_done(r, arr, 0, "consent list", "No consents on file.");
}

struct check_ctx {
	struct release_check q;
	const char *to_code;
	uint8_t to_pk[BATON_PK_BYTES];
	uint8_t my_pk[BATON_PK_BYTES];
	int result;
};

static int check_fn(store_txn *t, void *arg)
{
	struct check_ctx *x = arg;
	baton_card peer, me;
	int r;

	if ((r = store_own_card(t, &me)) != 0)
		return r == BATON_ENOTFOUND ? bti_diag_err(BATON_EIO, "this node has no card") : r;
	memcpy(x->my_pk, me.id_pk, BATON_PK_BYTES);
	if ((r = store_peer_card(t, x->to_code, &peer)) != 0)
		return r == BATON_ENOTFOUND
		           ? bti_diag_err(BATON_EVALUE, "%s is not a pinned school", x->to_code)
		           : r;
	memcpy(x->to_pk, peer.id_pk, BATON_PK_BYTES);
	x->q.my_id_pk = x->my_pk;
	x->q.to_pk = x->to_pk;
	/* The outcome is the answer; the audit entry is written either way. */
	x->result = consent_check(t, &x->q);
	/* Faults of the store are not answers: let store_write retry or report them. */
	if (x->result == BATON_EIO || x->result == BATON_ENOMEM || x->result == BATON_EINTERNAL ||
	    x->result < -900)
		return x->result;
	return consent_audit(t, &x->q, x->result, x->result ? "consent-refused" : "consent-checked",
	                     x->to_code);
}

static int consent_check_cmd(int argc, char **argv)
{
	static const struct option opts[] = {{"to", required_argument, NULL, 't'},
	                                     {"sections", required_argument, NULL, 'S'},
	                                     CLI_COMMON_OPTS,
	                                     {NULL, 0, NULL, 0}};
	struct cli_common com = {0};
	struct check_ctx x;
	uint8_t *buf = NULL;
	store *st;
	int opt, r, rc;

	memset(&x, 0, sizeof(x));
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (cli_common_opt(&com, opt, optarg))
			continue;
		if (opt == 't') {
			x.to_code = optarg;
		} else if (opt == 'S') {
			if ((r = baton_sections_parse(optarg, &x.q.sections)) != 0)
				return cli_fail("--sections", r);
		} else {
			fprintf(
			    opt == 'h' ? stdout : stderr,
			    "usage: baton consent check FILE --to CODE [--sections LIST] "
			    "[--dir DIR]\n\n"
			    "Applies every rule a release must pass to the consent, for a record\n"
			    "going to the pinned school CODE, and records the outcome in the\n"
			    "audit log. Exit 0 when a release would be allowed, 2 when not.\n");
			return opt == 'h' ? EXIT_OK : EXIT_USAGE;
		}
	}
	if (optind + 1 != argc || !x.to_code)
		return cli_usage_error("consent check: FILE and --to CODE are required");
	if ((r = baton_file_read(argv[optind], BATON_OBJ_MAX, &buf, &x.q.consent_len)) != 0)
		return cli_fail(NULL, r);
	x.q.consent = buf;
	x.q.now = cli_now();
	x.q.skew = 300;
	if ((rc = cli_open_store(&com, &st)) != EXIT_OK) {
		free(buf);
		return rc;
	}
	r = store_write_at(st, x.q.now, check_fn, &x);
	store_close(st);
	free(buf);
	if (r != 0)
		return cli_fail("consent check", r);
	if (x.result != 0) {
		fprintf(stderr, "baton: release refused (%s): %s\n", baton_errname(x.result),
		        baton_diag());
		return EXIT_REJECTED;
	}
	char secs[200];
	baton_sections_format(x.q.release, secs, sizeof(secs));
	printf("Release allowed: student %s to %s, sections %s\n", x.q.c.student, x.to_code, secs);
	return EXIT_OK;
}

int cmd_consent(int argc, char **argv)
{
	static const struct cmd sub[] = {
	    {"grant", consent_grant, "sign a consent (a parent, or the eligible student)"},
	    {"revoke", consent_revoke_cmd, "sign a revocation of a consent"},
	    {"show", consent_show, "show a consent or revocation and check its signature"},
	    {"import", consent_import, "record a consent or revocation brought by hand"},
	    {"list", consent_list, "list the consents this school has seen"},
	    {"check", consent_check_cmd, "apply the release rules to a consent"},
	};
	return cli_dispatch("consent", sub, sizeof(sub) / sizeof(sub[0]), argc, argv);
}
