/*
 * Setup for the transfer benchmarks in tests/bench/run.sh: what a registrar
 * and N families would do by hand before a class moves on, done in one
 * process so that the setup of a 1000-student cohort takes a second, not
 * the minutes of 2N 'baton guardian link' and 'baton consent grant' runs.
 * Nothing here is timed.
 *
 *   bench_cohort pick SCHOOL.json N OUT.json
 *       Writes to OUT.json the first N records of SCHOOL.json (gen_school's
 *       output) whose student is a minor today and not in postsecondary
 *       education, the students a parent consents for. Attachment paths
 *       are kept as they are: put OUT.json beside SCHOOL.json. Fails when
 *       fewer than N qualify.
 *
 *   bench_cohort restate IN.json OUT.json
 *       Copies gen_school's output, giving each state_student_id a number
 *       unique in the file (ST-00000001, ...). gen_school draws them at
 *       random from 10^8 values, so past a few thousand students two
 *       collide, and 'baton student import' rightly refuses the file.
 *       Streams line by line: a million students is 4.6 GB of JSON.
 *
 *   bench_cohort consents --dir NODE --to CODE --out DIR
 *       For every student in NODE's store: makes one guardian key (Ed25519,
 *       in memory only), links it to every student in one transaction with
 *       an audit entry per link, as 'baton guardian link' does, then signs
 *       one consent per student (sections "all", 30 days, from NODE's school
 *       to the pinned school CODE), as 'baton consent grant' does, into
 *       DIR/ID.consent. Fails if a student is eligible to consent alone
 *       (18 or over): their consent would need their own key.
 *
 * Run it while no 'baton serve' holds NODE open for writing.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include <baton/baton.h>

static const char *const progname = "bench_cohort";

#include "bench.h"
#include "cli.h"
#include "consent.h"
#include "store.h"

#define CONSENT_DAYS 30

/* ---- pick ---- */

/* Today as YYYYMMDD and as "YYYY-MM-DD", in UTC like the node's rule. */
static void today(int *ymd, char iso[11])
{
	time_t now = time(NULL);
	struct tm tm;
	if (gmtime_r(&now, &tm) == NULL)
		die("gmtime failed");
	*ymd = (tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
	strftime(iso, 11, "%Y-%m-%d", &tm);
}

/*
 * Whether a parent consents for this student: under 18 today and not in
 * postsecondary education (node/consent.c, consent_student_eligible), with
 * a margin of a day so that a birthday during the run changes nothing.
 */
static int is_minor(json_t *rec, int ymd, const char *iso)
{
	const char *birth =
	    json_string_value(json_object_get(json_object_get(rec, "identity"), "birth_date"));
	int y, m, d;
	size_t i;
	json_t *e;

	if (birth == NULL || sscanf(birth, "%d-%d-%d", &y, &m, &d) != 3)
		return 0;
	if (ymd + 1 >= (y + 18) * 10000 + m * 100 + d)
		return 0;
	json_array_foreach(json_object_get(rec, "enrollment"), i, e)
	{
		const char *g = json_string_value(json_object_get(e, "grade_level"));
		const char *exit_date = json_string_value(json_object_get(e, "exit_date"));
		if (g && strcmp(g, "PS") == 0 && (exit_date == NULL || strcmp(exit_date, iso) >= 0))
			return 0;
	}
	return 1;
}

static int cmd_pick(int argc, char **argv)
{
	json_error_t err;
	json_t *all, *out, *rec;
	char *end, iso[11];
	unsigned long want;
	size_t i;
	int ymd;

	if (argc != 5)
		die("usage: %s pick SCHOOL.json N OUT.json", progname);
	want = strtoul(argv[3], &end, 10);
	if (*argv[3] == 0 || *end != 0 || want == 0 || want > 1000000)
		die("pick: N: \"%s\" is not a count 1..1000000", argv[3]);
	if ((all = json_load_file(argv[2], 0, &err)) == NULL || !json_is_array(all))
		die("pick: %s: %s", argv[2], all ? "not a JSON array" : err.text);
	if ((out = json_array()) == NULL)
		die("out of memory");
	today(&ymd, iso);
	json_array_foreach(all, i, rec)
	{
		if (json_array_size(out) == want)
			break;
		if (is_minor(rec, ymd, iso) && json_array_append(out, rec) != 0)
			die("out of memory");
	}
	if (json_array_size(out) < want)
		die("pick: %s: only %zu of its %zu students are minors, %lu wanted", argv[2],
		    json_array_size(out), json_array_size(all), want);
	if (json_dump_file(out, argv[4], JSON_PRESERVE_ORDER | JSON_COMPACT) != 0)
		die("pick: %s: cannot write", argv[4]);
	json_decref(out);
	json_decref(all);
	return 0;
}

/* ---- restate ---- */

/* How gen_school (json_dumpf, indent 2) writes the key, at the top level of a record. */
#define STATE_ID_LINE "  \"state_student_id\": \""

static int cmd_restate(int argc, char **argv)
{
	FILE *in, *out;
	char *line = NULL;
	size_t cap = 0, n = 0, plen = strlen(STATE_ID_LINE);
	ssize_t len;

	if (argc != 4)
		die("usage: %s restate IN.json OUT.json", progname);
	if ((in = fopen(argv[2], "r")) == NULL)
		die("restate: %s: cannot open", argv[2]);
	if ((out = fopen(argv[3], "w")) == NULL)
		die("restate: %s: cannot create", argv[3]);
	while ((len = getline(&line, &cap, in)) != -1) {
		char *close;
		if ((size_t)len > plen && memcmp(line, STATE_ID_LINE, plen) == 0 &&
		    (close = strchr(line + plen, '"')) != NULL) {
			/* Keeps what follows the value: the comma and the newline. */
			fprintf(out, "%s%s%08zu%s", STATE_ID_LINE, "ST-", ++n, close);
		} else if (fwrite(line, 1, (size_t)len, out) != (size_t)len) {
			die("restate: %s: write failed", argv[3]);
		}
	}
	if (ferror(in))
		die("restate: %s: read failed", argv[2]);
	free(line);
	fclose(in);
	if (fclose(out) != 0)
		die("restate: %s: write failed", argv[3]);
	if (n == 0)
		die("restate: %s: no state_student_id line in gen_school's form", argv[2]);
	return 0;
}

/* ---- consents ---- */

struct cohort {
	char (*ids)[BATON_STUDENT_MAX + 1];
	size_t n, cap;
	store_guardian g;
	baton_card me, to;
	const char *to_code;
	const char *eligible; /* out: a student who consents alone */
};

static int collect_cb(const store_student *s, void *arg)
{
	struct cohort *c = arg;
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 1024;
		void *p = realloc(c->ids, cap * sizeof(*c->ids));
		if (p == NULL)
			return BATON_ENOMEM;
		c->ids = p;
		c->cap = cap;
	}
	snprintf(c->ids[c->n++], sizeof(*c->ids), "%s", s->id);
	return 0;
}

static int read_fn(store_txn *t, void *arg)
{
	struct cohort *c = arg;
	int r;

	if ((r = store_own_card(t, &c->me)) != 0)
		return r == BATON_ENOTFOUND ? BATON_EMISSING : r;
	if ((r = store_peer_card(t, c->to_code, &c->to)) != 0)
		return r == BATON_ENOTFOUND ? BATON_EMISSING : r;
	c->n = 0;
	return store_student_each(t, collect_cb, c);
}

/* What 'baton guardian link ID KEY --relation mother' writes, for every student. */
static int link_fn(store_txn *t, void *arg)
{
	struct cohort *c = arg;
	char detail[128], fpr[BATON_FINGERPRINT_LEN + 1];
	int r, eligible;

	baton_fingerprint(c->g.pk, fpr);
	snprintf(detail, sizeof(detail), "%s key %s", c->g.relation, fpr);
	c->g.linked = t->now;
	for (size_t i = 0; i < c->n; i++) {
		if ((r = consent_student_eligible(t, c->ids[i], t->now, &eligible)) != 0)
			return r;
		if (eligible) {
			c->eligible = c->ids[i];
			return BATON_EELIGIBLE;
		}
		if ((r = store_guardian_put(t, c->ids[i], &c->g)) != 0 ||
		    (r = cli_audit(t, "guardian-link", c->ids[i], NULL, detail)) != 0)
			return r;
	}
	return 0;
}

static int cmd_consents(int argc, char **argv)
{
	const char *dir = NULL, *out = NULL;
	struct cohort c;
	baton_key *k = NULL;
	store *st = NULL;
	uint32_t sections;
	uint64_t now = (uint64_t)time(NULL);
	int r;

	memset(&c, 0, sizeof(c));
	for (int i = 2; i < argc; i++) {
		if (i + 1 < argc && strcmp(argv[i], "--dir") == 0)
			dir = argv[++i];
		else if (i + 1 < argc && strcmp(argv[i], "--to") == 0)
			c.to_code = argv[++i];
		else if (i + 1 < argc && strcmp(argv[i], "--out") == 0)
			out = argv[++i];
		else
			die("consents: unknown option \"%s\"", argv[i]);
	}
	if (dir == NULL || c.to_code == NULL || out == NULL)
		die("usage: %s consents --dir NODE --to CODE --out DIR", progname);
	if ((r = store_open(dir, 0, &st)) != 0)
		die_baton(dir, r);
	if ((r = store_read(st, read_fn, &c)) == BATON_EMISSING)
		die("consents: %s: the node has no card, or %s is not pinned", dir, c.to_code);
	if (r != 0)
		die_baton("consents: reading the store", r);
	if (c.n == 0)
		die("consents: %s has no students", dir);

	if (mkdir(out, 0755) != 0)
		die("consents: %s: cannot create the directory (it must not exist)", out);
	if ((r = baton_key_generate(BATON_KEY_GUARDIAN, &k)) != 0)
		die_baton("guardian key", r);
	memcpy(c.g.pk, baton_key_id_pk(k), BATON_PK_BYTES);
	snprintf(c.g.relation, sizeof(c.g.relation), "mother");
	if ((r = store_write(st, link_fn, &c)) == BATON_EELIGIBLE)
		die("consents: student %s is 18 or over: the consent needs their own key",
		    c.eligible);
	if (r != 0)
		die_baton("link", r);
	store_close(st);

	if ((r = baton_sections_parse("all", &sections)) != 0)
		die_baton("sections", r);
	for (size_t i = 0; i < c.n; i++) {
		baton_consent cs;
		uint8_t *bytes = NULL;
		size_t len;
		char path[4096];

		memset(&cs, 0, sizeof(cs));
		randombytes_buf(cs.id, sizeof(cs.id));
		snprintf(cs.student, sizeof(cs.student), "%s", c.ids[i]);
		memcpy(cs.from_pk, c.me.id_pk, BATON_PK_BYTES);
		snprintf(cs.from_code, sizeof(cs.from_code), "%s", c.me.code);
		memcpy(cs.to_pk, c.to.id_pk, BATON_PK_BYTES);
		snprintf(cs.to_code, sizeof(cs.to_code), "%s", c.to.code);
		cs.sections = sections | BATON_SEC_BIT(BATON_SEC_IDENTITY);
		snprintf(cs.purpose, sizeof(cs.purpose), "Enrollment at %s", c.to.name);
		cs.issued = now;
		cs.expires = now + CONSENT_DAYS * 86400u;
		memcpy(cs.signer, baton_key_id_pk(k), BATON_PK_BYTES);
		cs.role = BATON_ROLE_GUARDIAN;
		if ((r = baton_consent_sign(&cs, baton_key_id_sk(k), &bytes, &len)) != 0)
			die_baton("consent", r);
		if ((size_t)snprintf(path, sizeof(path), "%s/%s.consent", out, c.ids[i]) >=
		    sizeof(path))
			die("consents: %s: path too long", out);
		if ((r = baton_file_create(path, bytes, len, 0644)) != 0)
			die_baton(path, r);
		free(bytes);
	}
	baton_key_free(k);
	free(c.ids);
	printf("%zu students linked to one guardian key, %zu consents in %s\n", c.n, c.n, out);
	return 0;
}

int main(int argc, char **argv)
{
	if (baton_init() != 0)
		die("libsodium failed to start");
	if (argc >= 2 && strcmp(argv[1], "pick") == 0)
		return cmd_pick(argc, argv);
	if (argc >= 2 && strcmp(argv[1], "restate") == 0)
		return cmd_restate(argc, argv);
	if (argc >= 2 && strcmp(argv[1], "consents") == 0)
		return cmd_consents(argc, argv);
	fprintf(stderr,
	        "usage: %s pick SCHOOL.json N OUT.json\n"
	        "       %s restate IN.json OUT.json\n"
	        "       %s consents --dir NODE --to CODE --out DIR\n",
	        progname, progname, progname);
	return 1;
}
