/*
 * Writes a made-up school district in the shape of the Ed-Fi API's JSON:
 * OUTDIR/RESOURCE.json, one JSON array per resource, each element an object
 * as GET /ed-fi/RESOURCE returns it (camelCase names, "id", "_etag" and
 * "_lastModifiedDate", references as "xxxReference" objects of the target's
 * identity fields with a "link", descriptors as full URI strings). Data
 * Standard 5 by default (contacts, studentContactAssociations); --ds4 writes
 * Data Standard 4's names (parents, studentParentAssociations) and grading
 * period identities.
 *
 * One district, "Maple Ridge ISD": a high school, a middle school and two
 * elementary schools; COUNT students in grades PK to 12, each with up to
 * five school years in the district (2022-2023 to 2026-2027, the last in
 * progress: its first semester final, its second semester's grades in
 * progress). Per student, on average: about 20 course transcripts, 10
 * attendance events, 2 contacts; and for some, every program: special
 * education, Section 504, English learner, homeless, health with
 * immunisations and exemptions, discipline, a diploma, a custody
 * restriction on a contact, a mid-year withdrawal, a repeated grade.
 *
 * Deterministic: the same arguments give byte-identical files (every value
 * comes from xoshiro256** streams seeded from SEED and the record's place).
 * Streaming: students are made and written a block at a time (BLOCK
 * students), so memory does not grow with COUNT. Each file's records are in
 * an order of their own: blocks take students in a scrambled order and each
 * file shuffles each block's records on its own, so a student's resources
 * are scattered through every file, as an API's paging returns them.
 *
 * --descriptors DIR checks every descriptor value written against the
 * Ed-Fi default descriptors in DIR (TypeDescriptor.xml files, CodeValue and
 * Namespace) and fails, naming each one, when a value is not among them.
 *
 * --post leaves out what only the API adds (each record's "id", "_etag" and
 * "_lastModifiedDate", each reference's "link"): the bodies a system POSTs.
 *
 * usage: gen_edfi [--ds4] [--post] [-n COUNT] [--seed SEED] [--descriptors DIR] OUTDIR
 *        (COUNT 1000, SEED 20261207)
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define DEFAULT_COUNT 1000
#define DEFAULT_SEED  20261207u
#define MAX_COUNT     5000000
#define BLOCK         4096
#define CUR_START     2026 /* the school year 2026-2027 is in progress: Ed-Fi's schoolYear 2027 */
#define NYEARS        5
#define LEA_ID        482001
#define NS            "uri://ed-fi.org/"
#define ASSESS_NS     "uri://maple-ridge.example.org/Assessment"

#define N(a) (sizeof(a) / sizeof((a)[0]))

__attribute__((format(printf, 1, 2))) static void die(const char *fmt, ...)
{
	va_list ap;
	fputs("gen_edfi: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* ---- deterministic randomness ---- */

struct rng {
	uint64_t s[4];
};

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15u);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

static uint64_t g_seed = DEFAULT_SEED;
static bool g_post; /* the shape of a POST body: no id, links, _etag or _lastModifiedDate */

/* A stream of its own for (kind, a, b): one student's plan, one block's shuffle. */
static void rng_init(struct rng *r, uint64_t kind, uint64_t a, uint64_t b)
{
	uint64_t x = g_seed ^ (kind * 0xd1342543de82ef95u) ^ (a * 0x9e3779b97f4a7c15u) ^
	             (b * 0xc2b2ae3d27d4eb4fu);
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(struct rng *r)
{
	uint64_t *s = r->s;
	const uint64_t result = rotl(s[1] * 5, 7) * 9;
	const uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

static unsigned below(struct rng *r, unsigned n)
{
	return (unsigned)(((rng_next(r) >> 32) * n) >> 32);
}

static bool chance(struct rng *r, unsigned per_mille)
{
	return below(r, 1000) < per_mille;
}

static int between(struct rng *r, int lo, int hi)
{
	return lo + (int)below(r, (unsigned)(hi - lo + 1));
}

/* ---- dates, as days since 1970-01-01 ---- */

static long days_from_civil(int y, int m, int d)
{
	y -= m <= 2;
	const long era = (y >= 0 ? y : y - 399) / 400;
	const long yoe = y - era * 400;
	const long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	const long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(long z, int *y, int *m, int *d)
{
	z += 719468;
	const long era = (z >= 0 ? z : z - 146096) / 146097;
	const long doe = z - era * 146097;
	const long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	const long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	const long mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

/* Monday 0 .. Sunday 6; 1970-01-01 was a Thursday. */
static int weekday(long z)
{
	return (int)(((z + 3) % 7 + 7) % 7);
}

/* The n-th (1-based) weekday wd of month m in year y. */
static long nth_weekday(int y, int m, int wd, int n)
{
	long z = days_from_civil(y, m, 1);
	while (weekday(z) != wd)
		z++;
	return z + 7L * (n - 1);
}

static void date_str(long z, char out[11])
{
	int y, m, d;
	civil_from_days(z, &y, &m, &d);
	out[0] = (char)('0' + y / 1000 % 10);
	out[1] = (char)('0' + y / 100 % 10);
	out[2] = (char)('0' + y / 10 % 10);
	out[3] = (char)('0' + y % 10);
	out[4] = '-';
	out[5] = (char)('0' + m / 10);
	out[6] = (char)('0' + m % 10);
	out[7] = '-';
	out[8] = (char)('0' + d / 10);
	out[9] = (char)('0' + d % 10);
	out[10] = 0;
}

/* ---- the school calendar: year k = 0 is 2026-2027, k = 4 is 2022-2023 ---- */

struct cal {
	long begin, end;          /* first and last instructional day */
	long fall_end, spr_begin; /* the two semesters */
	long hol[24];
	int nhol;
	int days, fall_days, spr_days;
	long gp_begin[6], gp_end[6]; /* six-weeks grading periods */
	int gp_days[6];
};

static struct cal g_cal[NYEARS];
static long g_as_of; /* the day the district's data is read: in the second semester of 2026-2027 */

static bool is_holiday(const struct cal *c, long z)
{
	for (int i = 0; i < c->nhol; i++)
		if (c->hol[i] == z)
			return true;
	return false;
}

static bool is_school_day(const struct cal *c, long z)
{
	return z >= c->begin && z <= c->end && weekday(z) < 5 && !is_holiday(c, z);
}

static void cal_init(struct cal *c, int y)
{
	c->begin = nth_weekday(y, 8, 0, 3); /* third Monday of August */
	long end = days_from_civil(y + 1, 5, 31);
	while (weekday(end) != 4)
		end--;
	c->end = end; /* last Friday of May */
	c->nhol = 0;
	c->hol[c->nhol++] = nth_weekday(y, 9, 0, 1); /* Labor Day */
	long thanks = nth_weekday(y, 11, 3, 4);
	for (int i = -1; i <= 1; i++)
		c->hol[c->nhol++] = thanks + i;
	for (long z = days_from_civil(y, 12, 21); z <= days_from_civil(y + 1, 1, 1); z++)
		if (weekday(z) < 5 && c->nhol < (int)N(c->hol) - 6)
			c->hol[c->nhol++] = z;
	c->hol[c->nhol++] = nth_weekday(y + 1, 1, 0, 3); /* Martin Luther King Jr. Day */
	long spring = nth_weekday(y + 1, 3, 0, 2);
	for (int i = 0; i < 5; i++)
		c->hol[c->nhol++] = spring + i;
	c->fall_end = days_from_civil(y, 12, 20);
	while (weekday(c->fall_end) >= 5 || is_holiday(c, c->fall_end))
		c->fall_end--;
	c->spr_begin = days_from_civil(y + 1, 1, 2);
	while (weekday(c->spr_begin) >= 5 || is_holiday(c, c->spr_begin))
		c->spr_begin++;
	c->days = c->fall_days = c->spr_days = 0;
	for (long z = c->begin; z <= c->end; z++)
		if (is_school_day(c, z)) {
			c->days++;
			*(z <= c->fall_end ? &c->fall_days : &c->spr_days) += 1;
		}
	/* Six grading periods of equal instructional days. */
	int per = c->days / 6, n = 0, p = 0;
	for (long z = c->begin; z <= c->end; z++) {
		if (!is_school_day(c, z))
			continue;
		if (n == 0)
			c->gp_begin[p] = z;
		c->gp_end[p] = z;
		if (++n == per && p < 5) {
			c->gp_days[p++] = n;
			n = 0;
		}
	}
	c->gp_days[p] = n;
}

/* ---- descriptors, checked against the Ed-Fi defaults when asked ---- */

struct used_desc {
	const char *type, *code;
};
/* Each thread notes the values it writes in a table of its own. */
struct used_table {
	struct used_desc v[4096];
	size_t n;
};
static struct used_table g_tables[2];
static _Thread_local struct used_table *t_used = &g_tables[0];
#define g_used  (t_used->v)
#define g_nused (t_used->n)

static void desc_note(const char *type, const char *code)
{
	/* Codes and types are string literals: their addresses tell them apart. */
	uint64_t h =
	    ((uintptr_t)type * 0x9e3779b97f4a7c15u) ^ ((uintptr_t)code * 0xc2b2ae3d27d4eb4fu);
	size_t i = (size_t)(h >> 54) & (N(g_used) - 1);
	while (g_used[i].type != NULL) {
		if (g_used[i].type == type && g_used[i].code == code)
			return;
		i = (i + 1) & (N(g_used) - 1);
	}
	if (g_nused + 1 >= N(g_used))
		die("more than %zu descriptor values", N(g_used) - 1);
	g_used[i].type = type;
	g_used[i].code = code;
	g_nused++;
}

static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0;
	if (f == NULL)
		return NULL;
	for (;;) {
		if (n + 65536 + 1 > cap) {
			cap = cap ? cap * 2 : 262144;
			if ((buf = realloc(buf, cap)) == NULL)
				die("out of memory");
		}
		size_t k = fread(buf + n, 1, cap - n - 1, f);
		n += k;
		if (k == 0)
			break;
	}
	fclose(f);
	buf[n] = 0;
	*len = n;
	return buf;
}

/* Whether TypeDescriptor.xml in dir has a CodeValue code (XML-escaped) in namespace
 * uri://ed-fi.org/TypeDescriptor. */
static bool desc_known(const char *dir, const char *type, const char *code)
{
	char path[4096], want[512], ns[256];
	size_t len, w = 0;
	snprintf(path, sizeof(path), "%s/%sDescriptor.xml", dir, type);
	char *text = read_all(path, &len);
	bool found = false;
	if (text == NULL)
		return false;
	for (const char *c = code; *c && w + 8 < sizeof(want); c++) {
		const char *e = *c == '&'   ? "&amp;"
		                : *c == '<' ? "&lt;"
		                : *c == '>' ? "&gt;"
		                            : NULL;
		if (e != NULL) {
			memcpy(want + w, e, strlen(e));
			w += strlen(e);
		} else {
			want[w++] = *c;
		}
	}
	want[w] = 0;
	snprintf(ns, sizeof(ns), "<Namespace>" NS "%sDescriptor</Namespace>", type);
	for (const char *p = text; (p = strstr(p, "<CodeValue>")) != NULL;) {
		p += strlen("<CodeValue>");
		const char *end = strstr(p, "</CodeValue>");
		if (end == NULL)
			break;
		const char *close = strstr(end, "Descriptor>");
		if ((size_t)(end - p) == w && memcmp(p, want, w) == 0 && close != NULL) {
			const char *nsp = strstr(end, "<Namespace>");
			if (nsp != NULL && nsp < close && strncmp(nsp, ns, strlen(ns)) == 0) {
				found = true;
				break;
			}
		}
		p = end;
	}
	free(text);
	return found;
}

static int desc_check(const char *dir)
{
	int bad = 0;
	size_t total = g_tables[0].n + g_tables[1].n;
	struct used_desc *all = calloc(total + 1, sizeof(*all));
	size_t n = 0;
	if (all == NULL)
		die("out of memory");
	for (size_t t = 0; t < N(g_tables); t++)
		for (size_t i = 0; i < N(g_tables[t].v); i++) {
			const struct used_desc *u = &g_tables[t].v[i];
			bool again = false;
			if (u->type == NULL)
				continue;
			/* The same text at two addresses, or in both tables: checked once. */
			for (size_t j = 0; j < n && !again; j++)
				again = strcmp(all[j].type, u->type) == 0 &&
				        strcmp(all[j].code, u->code) == 0;
			if (again)
				continue;
			all[n++] = *u;
			if (desc_known(dir, u->type, u->code))
				continue;
			fprintf(stderr,
			        "gen_edfi: %s%sDescriptor#%s is not in %s/%sDescriptor.xml\n", NS,
			        u->type, u->code, dir, u->type);
			bad++;
		}
	free(all);
	g_tables[0].n = n;
	return bad;
}

/* ---- writing JSON, fast: each file has a buffer, each record is built in it ---- */

struct out {
	const char *name;
	FILE *f;
	char *p;
	size_t n, cap;
	unsigned long count;
	int depth;
	unsigned char first[24];
};

static void out_flush(struct out *o)
{
	if (o->n && fwrite(o->p, 1, o->n, o->f) != o->n)
		die("%s.json: %s", o->name, strerror(errno));
	o->n = 0;
}

static void out_reserve(struct out *o, size_t k)
{
	if (o->n + k > o->cap) {
		out_flush(o);
		if (k > o->cap) {
			o->cap = k * 2;
			if ((o->p = realloc(o->p, o->cap)) == NULL)
				die("out of memory");
		}
	}
}

static void raw(struct out *o, const char *s, size_t k)
{
	out_reserve(o, k);
	memcpy(o->p + o->n, s, k);
	o->n += k;
}

static void rawc(struct out *o, char c)
{
	out_reserve(o, 1);
	o->p[o->n++] = c;
}

static void rawz(struct out *o, const char *s)
{
	raw(o, s, strlen(s));
}

static void sep(struct out *o)
{
	if (!o->first[o->depth])
		rawc(o, ',');
	o->first[o->depth] = 0;
}

static void key(struct out *o, const char *k)
{
	sep(o);
	if (k != NULL) {
		rawc(o, '"');
		rawz(o, k);
		raw(o, "\":", 2);
	}
}

static void qstr(struct out *o, const char *v)
{
	rawc(o, '"');
	for (const char *p = v;;) {
		size_t k = strcspn(p, "\"\\");
		raw(o, p, k);
		if (p[k] == 0)
			break;
		rawc(o, '\\');
		rawc(o, p[k]);
		p += k + 1;
	}
	rawc(o, '"');
}

static void push(struct out *o, char c)
{
	rawc(o, c);
	if (++o->depth >= (int)sizeof(o->first))
		die("JSON nested too deeply");
	o->first[o->depth] = 1;
}

static void obj(struct out *o, const char *k)
{
	key(o, k);
	push(o, '{');
}

static void arr(struct out *o, const char *k)
{
	key(o, k);
	push(o, '[');
}

static void end(struct out *o, char c)
{
	rawc(o, c);
	o->depth--;
}

static void str(struct out *o, const char *k, const char *v)
{
	key(o, k);
	qstr(o, v);
}

static void num(struct out *o, const char *k, long v)
{
	char buf[24], *q = buf + sizeof(buf);
	unsigned long u = v < 0 ? 0 - (unsigned long)v : (unsigned long)v;
	key(o, k);
	do
		*--q = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	if (v < 0)
		*--q = '-';
	raw(o, q, (size_t)(buf + sizeof(buf) - q));
}

/* A decimal with up to two places, as the API writes them (3.0 as 3, 0.5 as 0.5). */
static void dec(struct out *o, const char *k, double v)
{
	char buf[32];
	long c = (long)(v * 100 + (v < 0 ? -0.5 : 0.5));
	key(o, k);
	if (c % 100 == 0)
		snprintf(buf, sizeof(buf), "%ld", c / 100);
	else if (c % 10 == 0)
		snprintf(buf, sizeof(buf), "%ld.%ld", c / 100, labs(c % 100) / 10);
	else
		snprintf(buf, sizeof(buf), "%ld.%02ld", c / 100, labs(c % 100));
	rawz(o, buf);
}

static void boolean(struct out *o, const char *k, bool v)
{
	key(o, k);
	rawz(o, v ? "true" : "false");
}

static void date(struct out *o, const char *k, long z)
{
	char buf[11];
	date_str(z, buf);
	str(o, k, buf);
}

static void desc(struct out *o, const char *k, const char *type, const char *code)
{
	desc_note(type, code);
	key(o, k);
	rawc(o, '"');
	rawz(o, NS);
	rawz(o, type);
	rawz(o, "Descriptor#");
	rawz(o, code);
	rawc(o, '"');
}

/* ["xxxDescriptor": code] as a one-key object in an array of them. */
static void desc_row(struct out *o, const char *k, const char *type, const char *code)
{
	obj(o, NULL);
	desc(o, k, type, code);
	end(o, '}');
}

/* The resource id the API would give the record: 32 hex digits from its identity. */
static uint64_t hash_str(const char *s)
{
	uint64_t h = 0xcbf29ce484222325u ^ g_seed;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3u;
	return h;
}

static void resource_id(char out[33], const char *identity)
{
	uint64_t x = hash_str(identity), a = splitmix64(&x), b = splitmix64(&x);
	for (int i = 0; i < 16; i++) {
		out[i] = "0123456789abcdef"[a >> (60 - 4 * i) & 15];
		out[16 + i] = "0123456789abcdef"[b >> (60 - 4 * i) & 15];
	}
	out[32] = 0;
}

static void ref_link(struct out *o, const char *rel, const char *path, const char *identity)
{
	char id[33];
	if (g_post)
		return;
	resource_id(id, identity);
	obj(o, "link");
	str(o, "rel", rel);
	key(o, "href");
	raw(o, "\"/ed-fi/", 8);
	rawz(o, path);
	rawc(o, '/');
	raw(o, id, 32);
	rawc(o, '"');
	end(o, '}');
}

/* The record's start: "id" from its identity. Its end: "_etag" and "_lastModifiedDate". */
static void begin_record(struct out *o, const char *identity)
{
	char id[33];
	if (o->count++)
		raw(o, ",\n", 2);
	o->depth = 0;
	o->first[0] = 1;
	push(o, '{');
	if (g_post)
		return;
	resource_id(id, identity);
	str(o, "id", id);
}

/* Writes n decimal digits of v into q. */
static void digits(char *q, unsigned long v, int n)
{
	while (n-- > 0) {
		q[n] = (char)('0' + v % 10);
		v /= 10;
	}
}

static void end_record(struct out *o, const char *identity)
{
	if (!g_post) {
		uint64_t h = hash_str(identity);
		char buf[32];
		unsigned long s = (unsigned long)(h % 86400);
		digits(buf, (unsigned long)(h % 9000000000000000000u) + 1000000000000000000u, 19);
		buf[19] = 0;
		str(o, "_etag", buf);
		memcpy(buf, "2027-01-DDTHH:MM:SS.FFFFFFZ", 28);
		digits(buf + 8, 4 + (unsigned long)(h >> 60), 2);
		digits(buf + 11, s / 3600, 2);
		digits(buf + 14, s / 60 % 60, 2);
		digits(buf + 17, s % 60, 2);
		digits(buf + 20, (unsigned long)(h >> 20) % 1000000u, 6);
		str(o, "_lastModifiedDate", buf);
	}
	end(o, '}');
	if (o->n > (1u << 20))
		out_flush(o);
}

/* ---- the district ---- */

static bool g_ds4;

enum { SCH_HIGH, SCH_MIDDLE, SCH_BIRCH, SCH_CEDAR, NSCHOOLS };
static const struct school {
	long id;
	const char *name, *short_name, *category, *code, *street, *postal;
	int lo, hi; /* grade indexes served: 0 PK, 1 KG, 2 first .. 13 twelfth */
} schools[NSCHOOLS] = {
    {482001001, "Maple Ridge High School", "MRHS", "High School", "HS", "1200 Ridgeline Drive",
     "78610", 10, 13},
    {482001041, "Maple Ridge Middle School", "MRMS", "Middle School", "MS", "850 Orchard Lane",
     "78610", 7, 9},
    {482001101, "Birchwood Elementary School", "BES", "Elementary School", "BW", "31 Birch Street",
     "78611", 0, 6},
    {482001102, "Cedar Creek Elementary School", "CCES", "Elementary School", "CC",
     "4410 Creek Road", "78612", 0, 6},
};

static const char *const grade_code[14] = {
    "Prekindergarten", "Kindergarten", "First grade",    "Second grade",  "Third grade",
    "Fourth grade",    "Fifth grade",  "Sixth grade",    "Seventh grade", "Eighth grade",
    "Ninth grade",     "Tenth grade",  "Eleventh grade", "Twelfth grade",
};

static int school_for(int gi, uint32_t s)
{
	return gi >= 10 ? SCH_HIGH : gi >= 7 ? SCH_MIDDLE : (s & 1) ? SCH_CEDAR : SCH_BIRCH;
}

static int school_year(int k) /* Ed-Fi's schoolYear: the year the school year ends */
{
	return CUR_START + 1 - k;
}

static const char *const given_f[] = {
    "Olivia",  "Emma",    "Sofía",  "Amara",  "Mia",      "Zoe",    "Hannah", "Priya",
    "Grace",   "Chloe",   "Leila",  "Ava",    "Isabella", "Nora",   "Camila", "Mei",
    "Aaliyah", "Ruth",    "Elena",  "Fatima", "Lucía",    "Ingrid", "Naomi",  "Yara",
    "Harper",  "Siobhan", "Ximena", "Thu",    "Anaïs",    "Maya",   "Esther", "Keira",
};
static const char *const given_m[] = {
    "Liam",   "Noah",  "Mateo",  "Elijah", "James", "Kai",    "Omar",  "Lucas",
    "Ethan",  "Diego", "Samuel", "Arjun",  "Henry", "Malik",  "Owen",  "Tomás",
    "Jonah",  "Caleb", "Rafael", "Wei",    "Isaac", "Declan", "Yusuf", "Nikolai",
    "Julian", "Minh",  "Felix",  "Andrés", "Ezra",  "Tariq",  "Aiden", "Cian",
};
static const char *const family[] = {
    "Garcia",  "Nguyen",   "Okafor",       "Smith",    "Johnson", "Hernández", "Patel",
    "Kim",     "Brown",    "Martínez",     "Lee",      "Walker",  "O'Brien",   "Haddad",
    "Rossi",   "Novak",    "Fitzgerald",   "Ibrahim",  "Lopez",   "Chen",      "Mensah",
    "Schmidt", "Yamamoto", "Dubois",       "Kowalski", "Ortiz",   "Singh",     "Andersen",
    "Moreau",  "Castillo", "Van der Berg", "Wright",   "Abara",   "Popescu",   "Reyes",
    "Tanaka",  "Morales",  "Hughes",       "Nasser",   "Bianchi",
};
static const char *const streets[] = {"Oak",  "Willow", "Juniper", "Sycamore", "Pecan",
                                      "Mesa", "Ridge",  "Meadow",  "Hollow",   "Spring"};

/* ---- courses ---- */

enum { TERM_FALL, TERM_SPRING, TERM_YEAR };
static const char *const term_code[] = {"Fall Semester", "Spring Semester", "Year Round"};

struct course {
	char code[16], title[64];
	const char *subject;
	int gi, term;
	double credits; /* 0: none (elementary) */
	char state_code[16];
};

#define COURSES_PER_TERM 4
static struct course g_courses[512];
static int g_ncourses;
/* The courses a grade takes in a term: [gi][term][i] */
static int g_plan[14][3][6];
static int g_plan_n[14][3];

static void course_add(int gi, int term, const char *code, const char *title, const char *subj,
                       double credits)
{
	struct course *c = &g_courses[g_ncourses];
	snprintf(c->code, sizeof(c->code), "%s", code);
	snprintf(c->title, sizeof(c->title), "%s", title);
	c->subject = subj;
	c->gi = gi;
	c->term = term;
	c->credits = credits;
	snprintf(c->state_code, sizeof(c->state_code), "%02d%03d%03d", 1 + g_ncourses % 23,
	         gi * 7 + term, g_ncourses);
	g_plan[gi][term][g_plan_n[gi][term]++] = g_ncourses++;
}

static void courses_init(void)
{
	static const struct {
		const char *code, *title, *subject;
	} elem[] = {
	    {"RDG", "Reading", "Reading"},
	    {"MTH", "Mathematics", "Mathematics"},
	    {"SCI", "Science", "Science"},
	    {"SST", "Social Studies", "Social Studies"},
	    {"ART", "Art and Music", "Fine and Performing Arts"},
	};
	static const struct {
		const char *code, *title, *subject;
	} ms[] = {
	    {"ELA", "English Language Arts", "English Language Arts"},
	    {"MATH", "Mathematics", "Mathematics"},
	    {"SCI", "Science", "Science"},
	    {"HIST", "History", "Social Studies"},
	};
	static const struct {
		const char *code, *title, *subject;
	} hs[4][4] = {
	    {{"ENG1", "English I", "English"},
	     {"ALG1", "Algebra I", "Mathematics"},
	     {"BIO", "Biology", "Life and Physical Sciences"},
	     {"WGEO", "World Geography", "Social Sciences and History"}},
	    {{"ENG2", "English II", "English"},
	     {"GEOM", "Geometry", "Mathematics"},
	     {"CHEM", "Chemistry", "Life and Physical Sciences"},
	     {"WHIS", "World History", "Social Sciences and History"}},
	    {{"ENG3", "English III", "English"},
	     {"ALG2", "Algebra II", "Mathematics"},
	     {"PHYS", "Physics", "Life and Physical Sciences"},
	     {"USHI", "United States History", "Social Sciences and History"}},
	    {{"ENG4", "English IV", "English"},
	     {"PCAL", "Precalculus", "Mathematics"},
	     {"ENVS", "Environmental Systems", "Life and Physical Sciences"},
	     {"GOVT", "Government and Economics", "Social Sciences and History"}},
	};
	char code[16], title[64];
	for (int gi = 0; gi <= 6; gi++)
		for (size_t i = 0; i < N(elem); i++) {
			snprintf(code, sizeof(code), "%s-%s", elem[i].code,
			         gi == 0   ? "PK"
			         : gi == 1 ? "K"
			                   : (char[]){(char)('0' + gi - 1), 0});
			snprintf(title, sizeof(title), "%s, %s", elem[i].title, grade_code[gi]);
			course_add(gi, TERM_YEAR, code, title, elem[i].subject, 0);
		}
	for (int gi = 7; gi <= 9; gi++)
		for (int t = TERM_FALL; t <= TERM_SPRING; t++)
			for (size_t i = 0; i < N(ms); i++) {
				snprintf(code, sizeof(code), "%s%d%c", ms[i].code, gi - 1, "AB"[t]);
				snprintf(title, sizeof(title), "%s %d, %s", ms[i].title, gi - 1,
				         t == TERM_FALL ? "first semester" : "second semester");
				course_add(gi, t, code, title, ms[i].subject, 0.5);
			}
	for (int gi = 10; gi <= 13; gi++)
		for (int t = TERM_FALL; t <= TERM_SPRING; t++)
			for (int i = 0; i < 4; i++) {
				snprintf(code, sizeof(code), "%s%c", hs[gi - 10][i].code, "AB"[t]);
				snprintf(title, sizeof(title), "%s %s", hs[gi - 10][i].title,
				         t == TERM_FALL ? "A" : "B");
				course_add(gi, t, code, title, hs[gi - 10][i].subject, 0.5);
			}
}

/* ---- one student's plan: everything its records say, made from its own stream ---- */

#define MAX_TAKES    48
#define MAX_CONTACTS 4
#define MAX_EVENTS   40
#define MAX_CUR      8
#define MAX_SA       16

struct take {
	uint8_t k, term, result, gi, method, cat;
	uint16_t course;
	double numeric, att, earned;
};

struct year {
	uint8_t gi, school, repeat, exit_type, entry_type;
	long entry, exit; /* exit 0: still enrolled */
	bool has_exit;
};

struct contact {
	uint8_t rel, first, last, sex, priority;
	bool lives_with, primary, emergency, legal, restricted;
};

struct event {
	long day;
	uint8_t cat, k;
	bool half;
};

struct sa {
	uint8_t assess, k, gi, level;
	int score;
	bool not_tested;
	uint8_t reason;
};

struct plan {
	uint32_t s;
	char id[16];
	uint8_t first, middle, last, sex, suffix;
	bool has_middle;
	long birth;
	uint8_t gi, nyears;
	struct year y[NYEARS];
	uint8_t ncontacts;
	struct contact c[MAX_CONTACTS];
	uint8_t ntakes;
	struct take t[MAX_TAKES];
	uint8_t ncur;
	uint16_t cur[MAX_CUR];
	double cur_numeric[MAX_CUR];
	uint8_t nev;
	struct event e[MAX_EVENTS];
	uint8_t nsa;
	struct sa sa[MAX_SA];
	bool sped, s504, el, homeless, health, early_grad, withdrawn, custody;
	uint8_t lang, race, plan_type, disability, sped_setting, s504_dis, nighttime, ndisc;
	uint8_t nimm;
	long sped_begin, s504_begin, el_begin, homeless_begin;
	long disc_day[2];
	uint8_t disc_k[2], disc_behavior[2], disc_action[2], disc_location[2];
};

static const char *const relation[] = {"Mother",       "Father",       "Grandmother",
                                       "Grandfather",  "Aunt",         "Foster parent",
                                       "Mother, step", "Father, step", "CourtAppointedGuardian"};
enum { REL_MOTHER, REL_FATHER, REL_GRANDMOTHER, REL_GRANDFATHER, REL_AUNT, REL_FOSTER };
static const char *const languages[] = {"spa", "vie", "ara", "som", "kor",
                                        "por", "rus", "tgl", "hmn"};
static const char *const races[] = {"White",
                                    "Black or African American",
                                    "Asian",
                                    "American Indian or Alaska Native",
                                    "Native Hawaiian or Pacific Islander",
                                    "Other"};
static const char *const results[] = {"Pass", "Fail", "Incomplete", "Withdrawn"};
enum { RES_PASS, RES_FAIL, RES_INCOMPLETE, RES_WITHDRAWN };
static const char *const categories[] = {"General", "Honors", "Advanced Placement"};
static const char *const plan_types[] = {"Recommended", "Distinguished", "Minimum"};
static const char *const disabilities[] = {
    "Specific Learning Disability", "Speech or Language Impairment",
    "Other Health Impairment",      "Autism Spectrum Disorders",
    "Intellectual Disability",      "Serious Emotional Disability"};
static const char *const settings[] = {
    "Inside regular class 80% or more of the day", "Inside regular class between 40-79% of the day",
    "Inside regular class less than 40% of the day", "Separate class"};
static const char *const sped_services[] = {"Speech-Language And Audiology Services",
                                            "Occupational And Physical Therapy",
                                            "Counseling Services", "Psychological Services"};
static const char *const s504_dis[] = {"Attention Deficit Hyperactivity Disorder", "Dyslexia",
                                       "Epilepsy", "Hearing Impairment", "Other Reason"};
static const char *const nighttime[] = {"Doubled-up", "Shelters", "Hotels/motels", "Unsheltered"};
static const char *const vaccines[] = {"DTaP", "IPV",  "MMR",     "HepB", "VAR",
                                       "Hib",  "HepA", "MenACWY", "HPV"};
static const char *const behaviors[] = {"School Code of Conduct", "School Violation",
                                        "State Offense"};
static const char *const actions[] = {"In School Suspension", "Out of School Suspension",
                                      "Removal from Classroom", "Community Service"};
static const char *const locations[] = {"Classroom",      "Hallway or stairs",
                                        "Cafeteria area", "Athletic field or playground",
                                        "School bus",     "Restroom"};
static const char *const incident_text[] = {
    "Pushed another student during passing period.", "Repeated disruption of class after warnings.",
    "Left campus without permission.", "Damaged school property in the restroom.",
    "Verbal altercation with a classmate."};
static const char *const restrictions[] = {
    "May not pick up the student (protective order)",
    "No contact with the student; court order on file",
    "Supervised visits only; may not remove the student from school"};
static const char *const absence_reason[] = {"Illness", "Medical appointment", "Family emergency",
                                             "Religious observance"};

static void student_id(char out[16], uint32_t s)
{
	snprintf(out, 16, "%u", 604000001u + s);
}

static int grade_at(const struct plan *p, int k)
{
	return p->y[k].gi;
}

static double letter_points(double numeric)
{
	return numeric >= 90 ? 4 : numeric >= 80 ? 3 : numeric >= 70 ? 2 : numeric >= 60 ? 1 : 0;
}

static const char *letter(double numeric)
{
	return numeric >= 90   ? "A"
	       : numeric >= 80 ? "B"
	       : numeric >= 70 ? "C"
	       : numeric >= 60 ? "D"
	                       : "F";
}

static long random_school_day(struct rng *r, const struct cal *c, long lo, long hi)
{
	if (lo < c->begin)
		lo = c->begin;
	if (hi > c->end)
		hi = c->end;
	for (int tries = 0; tries < 64; tries++) {
		long z = lo + (long)below(r, (unsigned)(hi - lo + 1));
		if (is_school_day(c, z))
			return z;
	}
	for (long z = lo; z <= hi; z++)
		if (is_school_day(c, z))
			return z;
	return c->begin;
}

static void plan_make(struct plan *p, uint32_t s)
{
	struct rng r;
	rng_init(&r, 1, s, 0);
	memset(p, 0, sizeof(*p));
	p->s = s;
	student_id(p->id, s);
	p->gi = (uint8_t)below(&r, 14);
	p->sex = (uint8_t)below(&r, 2);
	p->first = (uint8_t)below(&r, p->sex ? N(given_m) : N(given_f));
	p->has_middle = chance(&r, 800);
	p->middle = (uint8_t)below(&r, p->sex ? N(given_m) : N(given_f));
	p->last = (uint8_t)below(&r, N(family));
	p->suffix = p->sex && chance(&r, 20) ? (uint8_t)(1 + below(&r, 3)) : 0;
	bool retained = chance(&r, 25) && p->gi >= 2;
	/* Age on 1 September 2026: grade index + 4, one more when held back once. */
	int age = p->gi + 4 + (retained ? 1 : 0);
	long sep1 = days_from_civil(CUR_START, 9, 1);
	p->birth = sep1 - (long)age * 365 - (age / 4) - 364 + (long)below(&r, 365);

	/* School years in the district: most have all they can, some moved in later. */
	int maxy = p->gi + 1 + (retained ? 1 : 0);
	if (maxy > NYEARS)
		maxy = NYEARS;
	p->nyears = (uint8_t)(chance(&r, 700) ? maxy : between(&r, 1, maxy));
	int kr = retained ? between(&r, 1, p->nyears > 1 ? p->nyears - 1 : 1) : -1;
	for (int k = 0; k < p->nyears; k++) {
		struct year *y = &p->y[k];
		int gi = p->gi - k + (retained && k >= kr ? 1 : 0);
		if (gi < 0) { /* younger than school: fewer years */
			p->nyears = (uint8_t)k;
			break;
		}
		const struct cal *c = &g_cal[k];
		y->gi = (uint8_t)gi;
		y->school = (uint8_t)school_for(gi, s);
		y->repeat = retained && k == kr - 1;
		y->entry = c->begin;
		y->entry_type = 2; /* Next year school */
		y->exit = c->end;
		y->has_exit = k > 0;
		y->exit_type = 3; /* End of school year */
	}
	if (p->nyears == 0) {
		p->nyears = 1;
		p->y[0].gi = p->gi;
		p->y[0].school = (uint8_t)school_for(p->gi, s);
		p->y[0].entry = g_cal[0].begin;
	}
	/* The first year here: new to the district, some of them after the start. */
	struct year *first = &p->y[p->nyears - 1];
	first->entry_type = chance(&r, 500) ? 0 : 1; /* Transfer | New to education system */
	if (first->entry_type == 0 && chance(&r, 400))
		first->entry =
		    random_school_day(&r, &g_cal[p->nyears - 1], g_cal[p->nyears - 1].begin,
		                      g_cal[p->nyears - 1].fall_end);
	/* This year: a few have left, a few twelfth graders graduated at the semester. */
	if (p->gi == 13 && p->nyears >= 4 && chance(&r, 30)) {
		p->early_grad = true;
		p->y[0].has_exit = true;
		p->y[0].exit = g_cal[0].fall_end;
		p->y[0].exit_type = 1; /* Graduated */
	} else if (chance(&r, 30)) {
		p->withdrawn = true;
		p->y[0].has_exit = true;
		p->y[0].exit = random_school_day(&r, &g_cal[0], g_cal[0].spr_begin, g_as_of - 1);
		p->y[0].exit_type = 2; /* Transferred */
	}

	/* Contacts: one to three, and for a few a person under a custody restriction. */
	int nc = chance(&r, 250) ? 1 : chance(&r, 860) ? 2 : 3;
	unsigned mother_last = chance(&r, 700) ? p->last : below(&r, N(family));
	for (int j = 0; j < nc; j++) {
		struct contact *c = &p->c[j];
		c->rel = j == 0   ? (chance(&r, 850) ? REL_MOTHER : REL_FOSTER)
		         : j == 1 ? REL_FATHER
		                  : (uint8_t)(REL_GRANDMOTHER + below(&r, 3));
		c->sex = c->rel == REL_FATHER || c->rel == REL_GRANDFATHER ? 1 : 0;
		c->first = (uint8_t)below(&r, c->sex ? N(given_m) : N(given_f));
		c->last = (uint8_t)(c->rel == REL_MOTHER   ? mother_last
		                    : c->rel == REL_FATHER ? p->last
		                                           : below(&r, N(family)));
		c->priority = (uint8_t)(j + 1);
		c->lives_with = j < 2 ? chance(&r, 850) : chance(&r, 200);
		c->primary = j == 0;
		c->emergency = true;
		c->legal = j < 2 && c->rel != REL_AUNT;
	}
	if (chance(&r, 12) && nc < MAX_CONTACTS) {
		struct contact *c = &p->c[nc++];
		c->rel = chance(&r, 700) ? REL_FATHER : (uint8_t)(6 + below(&r, 2));
		c->sex = c->rel != 6;
		c->first = (uint8_t)below(&r, c->sex ? N(given_m) : N(given_f));
		c->last = (uint8_t)below(&r, N(family));
		c->priority = (uint8_t)nc;
		c->restricted = true;
		p->custody = true;
	}
	p->ncontacts = (uint8_t)nc;

	/* Programs. */
	p->sped = chance(&r, 130);
	p->s504 = !p->sped && chance(&r, 35);
	p->el = chance(&r, 100);
	p->homeless = chance(&r, 20);
	p->health = chance(&r, 850);
	p->lang = (uint8_t)below(&r, N(languages));
	p->race = (uint8_t)below(&r, N(races));
	p->plan_type = (uint8_t)below(&r, N(plan_types));
	p->disability = (uint8_t)below(&r, N(disabilities));
	p->sped_setting = (uint8_t)below(&r, N(settings));
	p->s504_dis = (uint8_t)below(&r, N(s504_dis));
	p->nighttime = (uint8_t)below(&r, N(nighttime));
	p->nimm = (uint8_t)between(&r, 3, 7);
	long first_day = p->y[p->nyears - 1].entry;
	p->sped_begin = random_school_day(&r, &g_cal[p->nyears - 1], first_day, first_day + 120);
	p->s504_begin = p->sped_begin + 7;
	p->el_begin = first_day;
	p->homeless_begin = random_school_day(&r, &g_cal[0], g_cal[0].begin, g_cal[0].fall_end);

	/* Course work: every past year, and this year's first semester, final. */
	for (int k = p->nyears - 1; k >= 0; k--) {
		const struct year *y = &p->y[k];
		int gi = y->gi;
		for (int term = TERM_FALL; term <= TERM_YEAR; term++) {
			if (k == 0 && term != TERM_FALL)
				continue; /* in progress */
			if (k == 0 && p->early_grad && term != TERM_FALL)
				continue;
			for (int i = 0; i < g_plan_n[gi][term] && p->ntakes < MAX_TAKES; i++) {
				struct take *t = &p->t[p->ntakes++];
				const struct course *c = &g_courses[g_plan[gi][term][i]];
				t->k = (uint8_t)k;
				t->term = (uint8_t)term;
				t->course = (uint16_t)g_plan[gi][term][i];
				t->gi = (uint8_t)gi;
				t->numeric = 55 + below(&r, 4500) / 100.0;
				t->result = t->numeric < 60  ? RES_FAIL
				            : chance(&r, 15) ? RES_INCOMPLETE
				            : chance(&r, 10) ? RES_WITHDRAWN
				                             : RES_PASS;
				t->cat = gi >= 10 ? (chance(&r, 200)              ? 1
				                     : gi >= 12 && chance(&r, 80) ? 2
				                                                  : 0)
				                  : 0;
				t->att = c->credits;
				t->earned = t->result == RES_PASS ? c->credits : 0;
				t->method = 0;
				if (gi >= 10 && chance(&r, 8)) { /* credit by examination */
					t->method = 1;
					t->att = 0;
					t->earned = c->credits;
					t->result = RES_PASS;
				}
			}
		}
	}
	if (p->y[0].gi >= 7 && !p->early_grad && !p->withdrawn) {
		int gi = p->y[0].gi;
		for (int i = 0; i < g_plan_n[gi][TERM_SPRING] && p->ncur < MAX_CUR; i++) {
			p->cur[p->ncur] = (uint16_t)g_plan[gi][TERM_SPRING][i];
			p->cur_numeric[p->ncur++] = 58 + below(&r, 4200) / 100.0;
		}
	}

	/* Attendance by exception: absences and tardies, this year and before. */
	for (int k = 0; k < p->nyears; k++) {
		const struct year *y = &p->y[k];
		const struct cal *c = &g_cal[k];
		int n = k == 0 ? between(&r, 0, 5) : between(&r, 0, 7);
		long hi = y->has_exit ? y->exit : g_as_of - 1;
		for (int i = 0; i < n && p->nev < MAX_EVENTS; i++) {
			long z = random_school_day(&r, c, y->entry, hi);
			bool dup = false;
			for (int j = 0; j < p->nev; j++)
				dup |= p->e[j].day == z;
			if (dup)
				continue;
			struct event *e = &p->e[p->nev++];
			e->day = z;
			e->k = (uint8_t)k;
			unsigned x = below(&r, 100);
			e->cat = x < 40 ? 0 : x < 65 ? 1 : 2; /* excused, unexcused, tardy */
			e->half = e->cat != 2 && chance(&r, 80);
		}
	}

	/* Assessments: state tests in grades 3 to 8, a college entrance exam, English proficiency.
	 */
	for (int k = p->nyears - 1; k >= 1; k--) {
		int gi = grade_at(p, k);
		for (int a = 0; a < 4 && p->nsa < MAX_SA; a++) {
			bool takes = a < 2 ? gi >= 4 && gi <= 9 : a == 2 ? p->el : gi == 12;
			if (!takes)
				continue;
			struct sa *x = &p->sa[p->nsa++];
			x->assess = (uint8_t)a;
			x->k = (uint8_t)k;
			x->gi = (uint8_t)gi;
			x->not_tested = chance(&r, 30);
			x->reason = (uint8_t)below(&r, 3);
			x->score = a == 3 ? between(&r, 800, 1560) : between(&r, 1200, 2200);
			x->level = (uint8_t)(x->score < 1450   ? 0
			                     : x->score < 1650 ? 1
			                     : x->score < 1900 ? 2
			                                       : 3);
			if (a == 3)
				x->level = (uint8_t)(x->score < 1000 ? 0 : x->score < 1200 ? 1 : 2);
		}
	}

	/* Discipline: middle and high school, a few. */
	if (p->y[0].gi >= 7) {
		p->ndisc = chance(&r, 60) ? (chance(&r, 150) ? 2 : 1) : 0;
		for (int i = 0; i < p->ndisc; i++) {
			int k = (int)below(&r, p->nyears);
			const struct year *y = &p->y[k];
			p->disc_k[i] = (uint8_t)k;
			p->disc_day[i] = random_school_day(&r, &g_cal[k], y->entry,
			                                   y->has_exit ? y->exit : g_as_of - 1);
			if (i == 1 && p->disc_day[1] == p->disc_day[0])
				p->ndisc = 1;
			p->disc_behavior[i] = (uint8_t)below(&r, N(behaviors));
			p->disc_action[i] = (uint8_t)below(&r, N(actions));
			p->disc_location[i] = (uint8_t)below(&r, N(locations));
		}
	}
}

/* ---- references ---- */

static void student_ref(struct out *o, const struct plan *p)
{
	obj(o, "studentReference");
	str(o, "studentUniqueId", p->id);
	ref_link(o, "Student", "students", p->id);
	end(o, '}');
}

static void school_ref(struct out *o, const char *k, int school)
{
	char ident[32];
	snprintf(ident, sizeof(ident), "school:%ld", schools[school].id);
	obj(o, k);
	num(o, "schoolId", schools[school].id);
	ref_link(o, "School", "schools", ident);
	end(o, '}');
}

static void edorg_ref(struct out *o, long id)
{
	char ident[32];
	bool lea = id == LEA_ID;
	snprintf(ident, sizeof(ident), "%s:%ld", lea ? "lea" : "school", id);
	obj(o, "educationOrganizationReference");
	num(o, "educationOrganizationId", id);
	ref_link(o, lea ? "LocalEducationAgency" : "School",
	         lea ? "localEducationAgencies" : "schools", ident);
	end(o, '}');
}

static void year_ref(struct out *o, const char *k, int year)
{
	char ident[32];
	snprintf(ident, sizeof(ident), "schoolYear:%d", year);
	obj(o, k);
	num(o, "schoolYear", year);
	ref_link(o, "SchoolYearType", "schoolYearTypes", ident);
	end(o, '}');
}

static void session_name(char out[64], int k, int term)
{
	snprintf(out, 64, "%d-%d %s", school_year(k) - 1, school_year(k), term_code[term]);
}

static void session_ref(struct out *o, int school, int k, int term)
{
	char name[64], ident[128];
	session_name(name, k, term);
	snprintf(ident, sizeof(ident), "session:%ld:%d:%s", schools[school].id, school_year(k),
	         name);
	obj(o, "sessionReference");
	num(o, "schoolId", schools[school].id);
	num(o, "schoolYear", school_year(k));
	str(o, "sessionName", name);
	ref_link(o, "Session", "sessions", ident);
	end(o, '}');
}

static void calendar_code(char out[32], int school, int k)
{
	snprintf(out, 32, "%s-%d", schools[school].code, school_year(k));
}

static void calendar_ref(struct out *o, int school, int k)
{
	char code[32], ident[96];
	calendar_code(code, school, k);
	snprintf(ident, sizeof(ident), "calendar:%s", code);
	obj(o, "calendarReference");
	str(o, "calendarCode", code);
	num(o, "schoolId", schools[school].id);
	num(o, "schoolYear", school_year(k));
	ref_link(o, "Calendar", "calendars", ident);
	end(o, '}');
}

static void course_ref(struct out *o, int course)
{
	char ident[64];
	snprintf(ident, sizeof(ident), "course:%s", g_courses[course].code);
	obj(o, "courseReference");
	str(o, "courseCode", g_courses[course].code);
	num(o, "educationOrganizationId", LEA_ID);
	ref_link(o, "Course", "courses", ident);
	end(o, '}');
}

static const char *const gp_names[] = {"First Six Weeks",  "Second Six Weeks", "Third Six Weeks",
                                       "Fourth Six Weeks", "Fifth Six Weeks",  "Sixth Six Weeks"};

static void grading_period_ref(struct out *o, int school, int gp)
{
	char ident[96];
	snprintf(ident, sizeof(ident), "gradingPeriod:%ld:%s", schools[school].id, gp_names[gp]);
	obj(o, "gradingPeriodReference");
	if (g_ds4) {
		desc(o, "gradingPeriodDescriptor", "GradingPeriod", gp_names[gp]);
		num(o, "periodSequence", gp + 1);
	} else {
		str(o, "gradingPeriodName", gp_names[gp]);
	}
	num(o, "schoolId", schools[school].id);
	num(o, "schoolYear", school_year(0));
	ref_link(o, "GradingPeriod", "gradingPeriods", ident);
	end(o, '}');
}

static const char *contact_word(void)
{
	return g_ds4 ? "parent" : "contact";
}

static void contact_id(char out[16], const struct plan *p, int j)
{
	snprintf(out, 16, "%u", 704000000u + p->s * 4 + (unsigned)j);
}

static void program_ref(struct out *o, const char *name, const char *type)
{
	char ident[96];
	snprintf(ident, sizeof(ident), "program:%s", name);
	obj(o, "programReference");
	num(o, "educationOrganizationId", LEA_ID);
	str(o, "programName", name);
	desc(o, "programTypeDescriptor", "ProgramType", type);
	ref_link(o, "Program", "programs", ident);
	end(o, '}');
}

/* ---- the shared resources: schools, courses, calendars, sessions, ... ---- */

/* A list of records to write in a shuffled order: (plan or item index, k). */
struct item {
	uint32_t a;
	uint16_t k;
};

static void shuffle(struct item *it, size_t n, uint64_t kind, uint64_t block)
{
	struct rng r;
	rng_init(&r, 2, kind, block);
	for (size_t i = n; i > 1; i--) {
		size_t j = (size_t)(rng_next(&r) % i);
		struct item t = it[i - 1];
		it[i - 1] = it[j];
		it[j] = t;
	}
}

static void write_schools(struct out *o)
{
	char ident[32];
	for (int i = NSCHOOLS - 1; i >= 0; i--) {
		const struct school *s = &schools[i];
		snprintf(ident, sizeof(ident), "school:%ld", s->id);
		begin_record(o, ident);
		num(o, "schoolId", s->id);
		str(o, "nameOfInstitution", s->name);
		str(o, "shortNameOfInstitution", s->short_name);
		obj(o, "localEducationAgencyReference");
		num(o, "localEducationAgencyId", LEA_ID);
		ref_link(o, "LocalEducationAgency", "localEducationAgencies", "lea:482001");
		end(o, '}');
		arr(o, "educationOrganizationCategories");
		desc_row(o, "educationOrganizationCategoryDescriptor",
		         "EducationOrganizationCategory", "School");
		end(o, ']');
		arr(o, "gradeLevels");
		for (int g = s->lo; g <= s->hi; g++)
			desc_row(o, "gradeLevelDescriptor", "GradeLevel", grade_code[g]);
		end(o, ']');
		arr(o, "schoolCategories");
		desc_row(o, "schoolCategoryDescriptor", "SchoolCategory", s->category);
		end(o, ']');
		arr(o, "addresses");
		obj(o, NULL);
		desc(o, "addressTypeDescriptor", "AddressType", "Physical");
		str(o, "streetNumberName", s->street);
		str(o, "city", "Maple Ridge");
		desc(o, "stateAbbreviationDescriptor", "StateAbbreviation", "TX");
		str(o, "postalCode", s->postal);
		str(o, "nameOfCounty", "Travis");
		arr(o, "periods");
		end(o, ']');
		end(o, '}');
		end(o, ']');
		str(o, "webSite", "https://maple-ridge.example.org/");
		end_record(o, ident);
	}
}

static void write_courses(struct out *o)
{
	struct item it[512];
	char ident[64];
	for (int i = 0; i < g_ncourses; i++)
		it[i] = (struct item){(uint32_t)i, 0};
	shuffle(it, (size_t)g_ncourses, 100, 0);
	for (int n = 0; n < g_ncourses; n++) {
		const struct course *c = &g_courses[it[n].a];
		snprintf(ident, sizeof(ident), "course:%s", c->code);
		begin_record(o, ident);
		str(o, "courseCode", c->code);
		arr(o, "identificationCodes");
		obj(o, NULL);
		desc(o, "courseIdentificationSystemDescriptor", "CourseIdentificationSystem",
		     "State course code");
		str(o, "identificationCode", c->state_code);
		end(o, '}');
		obj(o, NULL);
		desc(o, "courseIdentificationSystemDescriptor", "CourseIdentificationSystem",
		     "LEA course code");
		str(o, "identificationCode", c->code);
		end(o, '}');
		end(o, ']');
		edorg_ref(o, LEA_ID);
		str(o, "courseTitle", c->title);
		num(o, "numberOfParts", 1);
		arr(o, "academicSubjects");
		desc_row(o, "academicSubjectDescriptor", "AcademicSubject", c->subject);
		end(o, ']');
		arr(o, "offeredGradeLevels");
		desc_row(o, "gradeLevelDescriptor", "GradeLevel", grade_code[c->gi]);
		end(o, ']');
		desc(o, "courseDefinedByDescriptor", "CourseDefinedBy", "LEA");
		if (c->credits > 0) {
			desc(o, "courseGPAApplicabilityDescriptor", "CourseGPAApplicability",
			     "Applicable");
			dec(o, "maximumAvailableCredits", c->credits);
			desc(o, "maximumAvailableCreditTypeDescriptor", "CreditType",
			     "Carnegie unit");
			boolean(o, "highSchoolCourseRequirement", c->gi >= 10);
		}
		end_record(o, ident);
	}
}

static void write_calendars(struct out *oc, struct out *od, struct out *os, struct out *og)
{
	char code[32], ident[128], name[64];
	struct item *it = malloc(sizeof(*it) * NSCHOOLS * NYEARS * 400);
	size_t n = 0;
	if (it == NULL)
		die("out of memory");
	for (int k = NYEARS - 1; k >= 0; k--)
		for (int s = 0; s < NSCHOOLS; s++) {
			calendar_code(code, s, k);
			snprintf(ident, sizeof(ident), "calendar:%s", code);
			begin_record(oc, ident);
			str(oc, "calendarCode", code);
			school_ref(oc, "schoolReference", s);
			year_ref(oc, "schoolYearTypeReference", school_year(k));
			desc(oc, "calendarTypeDescriptor", "CalendarType", "School");
			arr(oc, "gradeLevels");
			for (int g = schools[s].lo; g <= schools[s].hi; g++)
				desc_row(oc, "gradeLevelDescriptor", "GradeLevel", grade_code[g]);
			end(oc, ']');
			end_record(oc, ident);
			for (int t = TERM_FALL; t <= TERM_SPRING; t++) {
				const struct cal *c = &g_cal[k];
				session_name(name, k, t);
				snprintf(ident, sizeof(ident), "session:%ld:%d:%s", schools[s].id,
				         school_year(k), name);
				begin_record(os, ident);
				str(os, "sessionName", name);
				school_ref(os, "schoolReference", s);
				year_ref(os, "schoolYearTypeReference", school_year(k));
				date(os, "beginDate", t == TERM_FALL ? c->begin : c->spr_begin);
				date(os, "endDate", t == TERM_FALL ? c->fall_end : c->end);
				desc(os, "termDescriptor", "Term", term_code[t]);
				num(os, "totalInstructionalDays",
				    t == TERM_FALL ? c->fall_days : c->spr_days);
				if (k == 0) {
					arr(os, "gradingPeriods");
					for (int gp = t * 3; gp < t * 3 + 3; gp++) {
						obj(os, NULL);
						grading_period_ref(os, s, gp);
						end(os, '}');
					}
					end(os, ']');
				}
				end_record(os, ident);
			}
			const struct cal *c = &g_cal[k];
			for (long z = c->begin - 2; z <= c->end; z++)
				if (weekday(z) < 5)
					it[n++] =
					    (struct item){(uint32_t)(z - c->begin + 2) |
					                      (uint32_t)s << 12 | (uint32_t)k << 16,
					                  0};
		}
	shuffle(it, n, 101, 0);
	for (size_t i = 0; i < n; i++) {
		int k = (int)(it[i].a >> 16), s = (int)(it[i].a >> 12 & 15);
		const struct cal *c = &g_cal[k];
		long z = c->begin - 2 + (long)(it[i].a & 0xfff);
		char d[11];
		date_str(z, d);
		calendar_code(code, s, k);
		snprintf(ident, sizeof(ident), "calendarDate:%s:%s", code, d);
		begin_record(od, ident);
		arr(od, "calendarEvents");
		desc_row(od, "calendarEventDescriptor", "CalendarEvent",
		         z < c->begin          ? "Teacher only day"
		         : is_school_day(c, z) ? "Instructional day"
		                               : "Holiday");
		end(od, ']');
		str(od, "date", d);
		calendar_ref(od, s, k);
		end_record(od, ident);
	}
	free(it);
	/* Grading periods of the year in progress. */
	for (int gp = 5; gp >= 0; gp--)
		for (int s = 0; s < NSCHOOLS; s++) {
			const struct cal *c = &g_cal[0];
			snprintf(ident, sizeof(ident), "gradingPeriod:%ld:%s", schools[s].id,
			         gp_names[gp]);
			begin_record(og, ident);
			desc(og, "gradingPeriodDescriptor", "GradingPeriod", gp_names[gp]);
			if (!g_ds4)
				str(og, "gradingPeriodName", gp_names[gp]);
			school_ref(og, "schoolReference", s);
			year_ref(og, "schoolYearTypeReference", school_year(0));
			date(og, "beginDate", c->gp_begin[gp]);
			date(og, "endDate", c->gp_end[gp]);
			num(og, "totalInstructionalDays", c->gp_days[gp]);
			num(og, "periodSequence", gp + 1);
			end_record(og, ident);
		}
}

static int current_gp(void)
{
	for (int gp = 0; gp < 6; gp++)
		if (g_as_of <= g_cal[0].gp_end[gp])
			return gp;
	return 5;
}

static void section_id(char out[48], int course)
{
	snprintf(out, 48, "%s-%d-01", g_courses[course].code, school_year(0));
}

static void write_sections(struct out *o)
{
	char id[48], ident[128], name[64];
	for (int i = g_ncourses - 1; i >= 0; i--) {
		const struct course *c = &g_courses[i];
		if (c->term == TERM_YEAR)
			continue;
		int s = school_for(c->gi, 0);
		section_id(id, i);
		session_name(name, 0, c->term);
		snprintf(ident, sizeof(ident), "section:%s", id);
		begin_record(o, ident);
		str(o, "sectionIdentifier", id);
		obj(o, "courseOfferingReference");
		str(o, "localCourseCode", c->code);
		num(o, "schoolId", schools[s].id);
		num(o, "schoolYear", school_year(0));
		str(o, "sessionName", name);
		ref_link(o, "CourseOffering", "courseOfferings", ident);
		end(o, '}');
		school_ref(o, "locationSchoolReference", s);
		dec(o, "availableCredits", c->credits);
		desc(o, "availableCreditTypeDescriptor", "CreditType", "Carnegie unit");
		str(o, "sectionName", c->title);
		num(o, "sequenceOfCourse", 1);
		boolean(o, "officialAttendancePeriod", false);
		end_record(o, ident);
	}
}

static const struct assessment {
	const char *id, *title, *subject, *category;
	int lo, hi;
} assessments[] = {
    {"MR-STATE-MATH", "State Assessment of Academic Readiness, Mathematics", "Mathematics",
     "Achievement test", 4, 9},
    {"MR-STATE-RDG", "State Assessment of Academic Readiness, Reading", "Reading",
     "Achievement test", 4, 9},
    {"MR-ELP", "English Language Proficiency Screener", "English", "Language proficiency test", 1,
     13},
    {"MR-CEE", "College Entrance Examination", "Composite", "College entrance exam", 12, 13},
};
static const char *const levels[] = {"Below Basic", "Basic", "Proficient", "Advanced"};

static void write_assessments(struct out *o)
{
	char ident[96];
	for (size_t a = 0; a < N(assessments); a++) {
		const struct assessment *x = &assessments[a];
		snprintf(ident, sizeof(ident), "assessment:%s", x->id);
		begin_record(o, ident);
		arr(o, "academicSubjects");
		desc_row(o, "academicSubjectDescriptor", "AcademicSubject", x->subject);
		end(o, ']');
		str(o, "assessmentIdentifier", x->id);
		str(o, "namespace", ASSESS_NS);
		str(o, "assessmentTitle", x->title);
		desc(o, "assessmentCategoryDescriptor", "AssessmentCategory", x->category);
		arr(o, "assessedGradeLevels");
		for (int g = x->lo; g <= x->hi; g++)
			desc_row(o, "gradeLevelDescriptor", "GradeLevel", grade_code[g]);
		end(o, ']');
		arr(o, "scores");
		obj(o, NULL);
		desc(o, "assessmentReportingMethodDescriptor", "AssessmentReportingMethod",
		     "Scale score");
		str(o, "minimumScore", a == 3 ? "400" : "1000");
		str(o, "maximumScore", a == 3 ? "1600" : "3000");
		desc(o, "resultDatatypeTypeDescriptor", "ResultDatatypeType", "Integer");
		end(o, '}');
		end(o, ']');
		arr(o, "performanceLevels");
		for (int l = 0; l < (a == 3 ? 3 : 4); l++) {
			obj(o, NULL);
			desc(o, "assessmentReportingMethodDescriptor", "AssessmentReportingMethod",
			     "Scale score");
			desc(o, "performanceLevelDescriptor", "PerformanceLevel", levels[l]);
			desc(o, "resultDatatypeTypeDescriptor", "ResultDatatypeType", "Integer");
			end(o, '}');
		}
		end(o, ']');
		num(o, "assessmentVersion", 2026);
		end_record(o, ident);
	}
}

static void write_graduation_plans(struct out *o)
{
	char ident[96];
	for (int yr = school_year(0) + 3; yr >= school_year(0); yr--)
		for (size_t t = 0; t < N(plan_types); t++) {
			snprintf(ident, sizeof(ident), "graduationPlan:%s:%d", plan_types[t], yr);
			begin_record(o, ident);
			desc(o, "graduationPlanTypeDescriptor", "GraduationPlanType",
			     plan_types[t]);
			edorg_ref(o, schools[SCH_HIGH].id);
			year_ref(o, "graduationSchoolYearTypeReference", yr);
			dec(o, "totalRequiredCredits", t == 2 ? 22 : 26);
			desc(o, "totalRequiredCreditTypeDescriptor", "CreditType", "Carnegie unit");
			boolean(o, "individualPlan", false);
			end_record(o, ident);
		}
}

/* ---- the per-student resources: a count and a writer for each ---- */

static void ident_of(char *out, size_t cap, const char *res, const struct plan *p, int k)
{
	snprintf(out, cap, "%s:%s:%d", res, p->id, k);
}

static int n_one(const struct plan *p)
{
	(void)p;
	return 1;
}

static void w_student(struct out *o, const struct plan *p, int k)
{
	static const char *const suffix[] = {"", "Jr", "II", "III"};
	(void)k;
	begin_record(o, p->id);
	str(o, "studentUniqueId", p->id);
	date(o, "birthDate", p->birth);
	str(o, "firstName", p->sex ? given_m[p->first] : given_f[p->first]);
	str(o, "lastSurname", family[p->last]);
	if (p->has_middle)
		str(o, "middleName", p->sex ? given_m[p->middle] : given_f[p->middle]);
	if (p->suffix)
		str(o, "generationCodeSuffix", suffix[p->suffix]);
	str(o, "birthCity", p->s % 5 == 0 ? "San Antonio" : "Austin");
	desc(o, "birthCountryDescriptor", "Country", "US");
	desc(o, "birthStateAbbreviationDescriptor", "StateAbbreviation", "TX");
	desc(o, "birthSexDescriptor", "Sex", p->sex ? "Male" : "Female");
	boolean(o, "multipleBirthStatus", p->s % 40 == 0);
	if (p->s % 9 == 0)
		str(o, "preferredFirstName",
		    p->sex ? given_m[(p->first + 3) % N(given_m)]
		           : given_f[(p->first + 3) % N(given_f)]);
	arr(o, "otherNames");
	end(o, ']');
	arr(o, "personalIdentificationDocuments");
	end(o, ']');
	arr(o, "visas");
	end(o, ']');
	arr(o, "identificationDocuments");
	end(o, ']');
	end_record(o, p->id);
}

static int n_ssa(const struct plan *p)
{
	return p->nyears;
}

static void w_ssa(struct out *o, const struct plan *p, int k)
{
	static const char *const entry[] = {"Transfer", "New to education system",
	                                    "Next year school"};
	static const char *const exit[] = {"Transferred", "Graduated", "Transferred",
	                                   "End of school year"};
	const struct year *y = &p->y[k];
	char ident[64];
	ident_of(ident, sizeof(ident), "ssa", p, k);
	begin_record(o, ident);
	date(o, "entryDate", y->entry);
	school_ref(o, "schoolReference", y->school);
	student_ref(o, p);
	desc(o, "entryGradeLevelDescriptor", "GradeLevel", grade_code[y->gi]);
	calendar_ref(o, y->school, k);
	year_ref(o, "schoolYearTypeReference", school_year(k));
	if (y->gi >= 10) {
		int grad = school_year(k) + (13 - y->gi);
		if (grad > school_year(0) + 3)
			grad = school_year(0) + 3;
		char gpi[96];
		snprintf(gpi, sizeof(gpi), "graduationPlan:%s:%d", plan_types[p->plan_type], grad);
		year_ref(o, "classOfSchoolYearTypeReference", grad);
		obj(o, "graduationPlanReference");
		num(o, "educationOrganizationId", schools[SCH_HIGH].id);
		desc(o, "graduationPlanTypeDescriptor", "GraduationPlanType",
		     plan_types[p->plan_type]);
		num(o, "graduationSchoolYear", grad);
		ref_link(o, "GraduationPlan", "graduationPlans", gpi);
		end(o, '}');
	}
	arr(o, "alternativeGraduationPlans");
	end(o, ']');
	arr(o, "educationPlans");
	end(o, ']');
	desc(o, "entryTypeDescriptor", "EntryType", entry[y->entry_type]);
	desc(o, "enrollmentTypeDescriptor", "EnrollmentType", "Current");
	if (k + 1 < p->nyears && p->y[k + 1].gi == y->gi)
		desc(o, "entryGradeLevelReasonDescriptor", "EntryGradeLevelReason",
		     "Nonpromotion - Inadequate performance");
	if (y->has_exit) {
		date(o, "exitWithdrawDate", y->exit);
		desc(o, "exitWithdrawTypeDescriptor", "ExitWithdrawType", exit[y->exit_type]);
	}
	if (k > 0 || p->early_grad) {
		/* The year after: the next grade, or the same one for a student held back. */
		int next = k > 0 ? p->y[k - 1].gi : -1;
		if (k > 0 && next >= 0)
			desc(o, "nextYearGradeLevelDescriptor", "GradeLevel", grade_code[next]);
	}
	dec(o, "fullTimeEquivalency", 1);
	boolean(o, "primarySchool", true);
	boolean(o, "repeatGradeIndicator", k + 1 < p->nyears && p->y[k + 1].gi == y->gi);
	desc(o, "residencyStatusDescriptor", "ResidencyStatus",
	     "Resident of admin unit and school area");
	boolean(o, "schoolChoiceTransfer", false);
	boolean(o, "termCompletionIndicator", k > 0);
	end_record(o, ident);
}

static void w_seoa(struct out *o, const struct plan *p, int k)
{
	char ident[64], buf[96];
	(void)k;
	ident_of(ident, sizeof(ident), "seoa", p, 0);
	begin_record(o, ident);
	edorg_ref(o, LEA_ID);
	student_ref(o, p);
	arr(o, "addresses");
	obj(o, NULL);
	desc(o, "addressTypeDescriptor", "AddressType", "Home");
	snprintf(buf, sizeof(buf), "%u %s Street", 100 + p->s % 8900, streets[p->s % N(streets)]);
	str(o, "streetNumberName", buf);
	str(o, "city", "Maple Ridge");
	desc(o, "stateAbbreviationDescriptor", "StateAbbreviation", "TX");
	str(o, "postalCode", schools[p->y[0].school].postal);
	arr(o, "periods");
	end(o, ']');
	end(o, '}');
	end(o, ']');
	arr(o, "ancestryEthnicOrigins");
	end(o, ']');
	arr(o, "cohortYears");
	end(o, ']');
	arr(o, "disabilities");
	if (p->sped) {
		obj(o, NULL);
		desc(o, "disabilityDescriptor", "Disability", disabilities[p->disability]);
		arr(o, "designations");
		end(o, ']');
		end(o, '}');
	}
	end(o, ']');
	arr(o, "electronicMails");
	if (p->gi >= 7) {
		obj(o, NULL);
		snprintf(buf, sizeof(buf), "s%s@students.maple-ridge.example.org", p->id);
		str(o, "electronicMailAddress", buf);
		desc(o, "electronicMailTypeDescriptor", "ElectronicMailType", "Organization");
		boolean(o, "primaryEmailAddressIndicator", true);
		end(o, '}');
	}
	end(o, ']');
	boolean(o, "hispanicLatinoEthnicity", p->s % 3 == 0);
	arr(o, "languages");
	if (p->el || p->s % 7 == 0) {
		obj(o, NULL);
		desc(o, "languageDescriptor", "Language", p->el ? languages[p->lang] : "eng");
		arr(o, "uses");
		desc_row(o, "languageUseDescriptor", "LanguageUse", "Home language");
		end(o, ']');
		end(o, '}');
	}
	end(o, ']');
	if (p->el)
		desc(o, "limitedEnglishProficiencyDescriptor", "LimitedEnglishProficiency",
		     "Limited");
	arr(o, "races");
	desc_row(o, "raceDescriptor", "Race", races[p->race]);
	end(o, ']');
	desc(o, "sexDescriptor", "Sex", p->sex ? "Male" : "Female");
	arr(o, "studentCharacteristics");
	end(o, ']');
	arr(o, "studentIdentificationCodes");
	obj(o, NULL);
	str(o, "assigningOrganizationIdentificationCode", "State");
	desc(o, "studentIdentificationSystemDescriptor", "StudentIdentificationSystem", "State");
	snprintf(buf, sizeof(buf), "TX%09u", 310000000u + p->s);
	str(o, "identificationCode", buf);
	end(o, '}');
	end(o, ']');
	arr(o, "studentIndicators");
	end(o, ']');
	arr(o, "telephones");
	end(o, ']');
	arr(o, "tribalAffiliations");
	end(o, ']');
	end_record(o, ident);
}

static int n_contacts(const struct plan *p)
{
	return p->ncontacts;
}

static void w_contact(struct out *o, const struct plan *p, int j)
{
	const struct contact *c = &p->c[j];
	char id[16], buf[128], ident[64];
	const char *first = c->sex ? given_m[c->first] : given_f[c->first];
	contact_id(id, p, j);
	snprintf(ident, sizeof(ident), "%s:%s", contact_word(), id);
	begin_record(o, ident);
	str(o, g_ds4 ? "parentUniqueId" : "contactUniqueId", id);
	str(o, "firstName", first);
	str(o, "lastSurname", family[c->last]);
	desc(o, "sexDescriptor", "Sex", c->sex ? "Male" : "Female");
	if (!c->restricted) {
		arr(o, "addresses");
		obj(o, NULL);
		desc(o, "addressTypeDescriptor", "AddressType", "Home");
		snprintf(buf, sizeof(buf), "%u %s Street", 100 + p->s % 8900,
		         streets[p->s % N(streets)]);
		str(o, "streetNumberName", buf);
		str(o, "city", "Maple Ridge");
		desc(o, "stateAbbreviationDescriptor", "StateAbbreviation", "TX");
		str(o, "postalCode", schools[p->y[0].school].postal);
		arr(o, "periods");
		end(o, ']');
		end(o, '}');
		end(o, ']');
		arr(o, "electronicMails");
		obj(o, NULL);
		/* Lower-case ASCII of the first name: accents dropped. */
		char local[48];
		size_t n = 0;
		for (const char *q = first; *q && n + 1 < sizeof(local); q++)
			if ((*q >= 'A' && *q <= 'Z') || (*q >= 'a' && *q <= 'z'))
				local[n++] = (char)(*q | 0x20);
		local[n] = 0;
		snprintf(buf, sizeof(buf), "%s.%u@example.com", local, p->s * 4 + (unsigned)j);
		str(o, "electronicMailAddress", buf);
		desc(o, "electronicMailTypeDescriptor", "ElectronicMailType", "Home/Personal");
		boolean(o, "primaryEmailAddressIndicator", true);
		end(o, '}');
		end(o, ']');
		arr(o, "telephones");
		obj(o, NULL);
		snprintf(buf, sizeof(buf), "(512) 555-%04u", (p->s * 7 + (unsigned)j * 13) % 10000);
		str(o, "telephoneNumber", buf);
		desc(o, "telephoneNumberTypeDescriptor", "TelephoneNumberType", "Mobile");
		num(o, "orderOfPriority", 1);
		boolean(o, "textMessageCapabilityIndicator", true);
		end(o, '}');
		end(o, ']');
	}
	arr(o, "languages");
	end(o, ']');
	arr(o, "otherNames");
	end(o, ']');
	arr(o, "personalIdentificationDocuments");
	end(o, ']');
	end_record(o, ident);
}

static void w_contact_assoc(struct out *o, const struct plan *p, int j)
{
	const struct contact *c = &p->c[j];
	char id[16], ident[64], cid[64];
	contact_id(id, p, j);
	snprintf(ident, sizeof(ident), "sca:%s:%s", p->id, id);
	snprintf(cid, sizeof(cid), "%s:%s", contact_word(), id);
	begin_record(o, ident);
	obj(o, g_ds4 ? "parentReference" : "contactReference");
	str(o, g_ds4 ? "parentUniqueId" : "contactUniqueId", id);
	ref_link(o, g_ds4 ? "Parent" : "Contact", g_ds4 ? "parents" : "contacts", cid);
	end(o, '}');
	student_ref(o, p);
	num(o, "contactPriority", c->priority);
	if (c->restricted)
		str(o, "contactRestrictions", restrictions[p->s % N(restrictions)]);
	boolean(o, "emergencyContactStatus", c->emergency && !c->restricted);
	boolean(o, "legalGuardian", c->legal && !c->restricted);
	boolean(o, "livesWith", c->lives_with && !c->restricted);
	boolean(o, "primaryContactStatus", c->primary && !c->restricted);
	desc(o, "relationDescriptor", "Relation", relation[c->rel]);
	end_record(o, ident);
}

/* studentAcademicRecords: one per (year, term) with course work, in take order. */
static int n_sar(const struct plan *p)
{
	int n = 0;
	for (int i = 0; i < p->ntakes; i++)
		n += i == 0 || p->t[i].k != p->t[i - 1].k || p->t[i].term != p->t[i - 1].term;
	return n;
}

/* The take index where academic record j starts, and where it ends. */
static void sar_span(const struct plan *p, int j, int *b, int *e)
{
	int n = -1;
	*b = *e = 0;
	for (int i = 0; i < p->ntakes; i++) {
		if (i == 0 || p->t[i].k != p->t[i - 1].k || p->t[i].term != p->t[i - 1].term) {
			if (++n == j + 1) {
				*e = i;
				return;
			}
			if (n == j)
				*b = i;
		}
	}
	*e = p->ntakes;
}

static int term_school(const struct plan *p, int k)
{
	return p->y[k].school;
}

static void sar_ref(struct out *o, const struct plan *p, int k, int term)
{
	char ident[96];
	snprintf(ident, sizeof(ident), "sar:%s:%d:%d", p->id, k, term);
	obj(o, "studentAcademicRecordReference");
	num(o, "educationOrganizationId", schools[term_school(p, k)].id);
	num(o, "schoolYear", school_year(k));
	str(o, "studentUniqueId", p->id);
	desc(o, "termDescriptor", "Term", term_code[term]);
	ref_link(o, "StudentAcademicRecord", "studentAcademicRecords", ident);
	end(o, '}');
}

static void w_sar(struct out *o, const struct plan *p, int j)
{
	int b, e;
	double s_att = 0, s_earn = 0, c_att = 0, c_earn = 0, pts = 0, wpts = 0, ngpa = 0;
	char ident[96];
	sar_span(p, j, &b, &e);
	const struct take *t0 = &p->t[b];
	for (int i = 0; i < e; i++) {
		const struct take *t = &p->t[i];
		c_att += t->att;
		c_earn += t->earned;
		if (i >= b) {
			s_att += t->att;
			s_earn += t->earned;
		}
		if (g_courses[t->course].credits > 0 && t->result != RES_WITHDRAWN &&
		    t->method == 0) {
			double lp = letter_points(t->numeric);
			pts += lp;
			wpts += lp + (lp > 0 && t->cat ? (t->cat == 2 ? 1.0 : 0.5) : 0);
			ngpa++;
		}
	}
	snprintf(ident, sizeof(ident), "sar:%s:%d:%d", p->id, t0->k, t0->term);
	begin_record(o, ident);
	desc(o, "termDescriptor", "Term", term_code[t0->term]);
	edorg_ref(o, schools[term_school(p, t0->k)].id);
	year_ref(o, "schoolYearTypeReference", school_year(t0->k));
	student_ref(o, p);
	arr(o, "academicHonors");
	end(o, ']');
	if (g_courses[t0->course].credits > 0) {
		dec(o, "cumulativeAttemptedCredits", c_att);
		desc(o, "cumulativeAttemptedCreditTypeDescriptor", "CreditType", "Carnegie unit");
		dec(o, "cumulativeEarnedCredits", c_earn);
		desc(o, "cumulativeEarnedCreditTypeDescriptor", "CreditType", "Carnegie unit");
		dec(o, "sessionAttemptedCredits", s_att);
		dec(o, "sessionEarnedCredits", s_earn);
	}
	arr(o, "diplomas");
	if (p->early_grad && t0->k == 0) {
		obj(o, NULL);
		desc(o, "diplomaTypeDescriptor", "DiplomaType", "Regular diploma");
		date(o, "diplomaAwardDate", g_cal[0].fall_end);
		desc(o, "diplomaLevelDescriptor", "DiplomaLevel",
		     p->plan_type == 1 ? "Distinguished" : "Recommended");
		str(o, "diplomaDescription", "High school diploma, early graduation");
		end(o, '}');
	}
	end(o, ']');
	arr(o, "gradePointAverages");
	if (ngpa > 0 && g_courses[t0->course].credits > 0 && t0->gi >= 10) {
		obj(o, NULL);
		desc(o, "gradePointAverageTypeDescriptor", "GradePointAverageType", "Unweighted");
		boolean(o, "isCumulative", true);
		dec(o, "gradePointAverageValue", pts / ngpa);
		dec(o, "maxGradePointAverageValue", 4);
		end(o, '}');
		obj(o, NULL);
		desc(o, "gradePointAverageTypeDescriptor", "GradePointAverageType", "Weighted");
		boolean(o, "isCumulative", true);
		dec(o, "gradePointAverageValue", wpts / ngpa);
		dec(o, "maxGradePointAverageValue", 5);
		end(o, '}');
	}
	end(o, ']');
	if (t0->gi >= 10) {
		int grad = school_year(t0->k) + (13 - t0->gi);
		date(o, "projectedGraduationDate", days_from_civil(grad, 5, 31));
	}
	arr(o, "recognitions");
	end(o, ']');
	arr(o, "reportCards");
	end(o, ']');
	end_record(o, ident);
}

static int n_takes(const struct plan *p)
{
	return p->ntakes;
}

static void w_transcript(struct out *o, const struct plan *p, int i)
{
	static const char *const method[] = {"Classroom credit", "Credit by examination"};
	const struct take *t = &p->t[i];
	const struct course *c = &g_courses[t->course];
	char ident[96];
	snprintf(ident, sizeof(ident), "ct:%s:%d", p->id, i);
	begin_record(o, ident);
	desc(o, "courseAttemptResultDescriptor", "CourseAttemptResult", results[t->result]);
	course_ref(o, t->course);
	sar_ref(o, p, t->k, t->term);
	arr(o, "academicSubjects");
	desc_row(o, "academicSubjectDescriptor", "AcademicSubject", c->subject);
	end(o, ']');
	arr(o, "alternativeCourseIdentificationCodes");
	end(o, ']');
	if (c->credits > 0) {
		dec(o, "attemptedCredits", t->att);
		desc(o, "attemptedCreditTypeDescriptor", "CreditType", "Carnegie unit");
		dec(o, "earnedCredits", t->earned);
		desc(o, "earnedCreditTypeDescriptor", "CreditType", "Carnegie unit");
		desc(o, "methodCreditEarnedDescriptor", "MethodCreditEarned", method[t->method]);
	}
	arr(o, "coursePrograms");
	end(o, ']');
	str(o, "courseTitle", c->title);
	arr(o, "creditCategories");
	if (c->credits > 0)
		desc_row(o, "creditCategoryDescriptor", "CreditCategory", categories[t->cat]);
	end(o, ']');
	arr(o, "earnedAdditionalCredits");
	end(o, ']');
	if (t->result != RES_WITHDRAWN && t->method == 0) {
		str(o, "finalLetterGradeEarned",
		    t->result == RES_INCOMPLETE ? "I" : letter(t->numeric));
		if (t->result != RES_INCOMPLETE)
			dec(o, "finalNumericGradeEarned", t->numeric);
	}
	arr(o, "partialCourseTranscriptAwards");
	end(o, ']');
	arr(o, "sections");
	end(o, ']');
	desc(o, "whenTakenGradeLevelDescriptor", "GradeLevel", grade_code[t->gi]);
	end_record(o, ident);
}

static int n_cur(const struct plan *p)
{
	return p->ncur;
}

static void w_grade(struct out *o, const struct plan *p, int i)
{
	const struct course *c = &g_courses[p->cur[i]];
	int s = p->y[0].school, gp = current_gp();
	char sec[48], name[64], ident[128];
	section_id(sec, p->cur[i]);
	session_name(name, 0, c->term);
	snprintf(ident, sizeof(ident), "grade:%s:%s", p->id, sec);
	begin_record(o, ident);
	desc(o, "gradeTypeDescriptor", "GradeType", "Grading Period");
	grading_period_ref(o, s, gp);
	obj(o, "studentSectionAssociationReference");
	date(o, "beginDate", g_cal[0].spr_begin);
	str(o, "localCourseCode", c->code);
	num(o, "schoolId", schools[s].id);
	num(o, "schoolYear", school_year(0));
	str(o, "sectionIdentifier", sec);
	str(o, "sessionName", name);
	str(o, "studentUniqueId", p->id);
	ref_link(o, "StudentSectionAssociation", "studentSectionAssociations", ident);
	end(o, '}');
	date(o, "currentGradeAsOfDate", g_as_of);
	boolean(o, "currentGradeIndicator", true);
	arr(o, "learningStandardGrades");
	end(o, ']');
	str(o, "letterGradeEarned", letter(p->cur_numeric[i]));
	dec(o, "numericGradeEarned", p->cur_numeric[i]);
	end_record(o, ident);
}

static int n_events(const struct plan *p)
{
	return p->nev;
}

static void w_event(struct out *o, const struct plan *p, int i)
{
	static const char *const cat[] = {"Excused Absence", "Unexcused Absence", "Tardy"};
	const struct event *e = &p->e[i];
	const struct cal *c = &g_cal[e->k];
	int s = p->y[e->k].school;
	char ident[96];
	snprintf(ident, sizeof(ident), "ssae:%s:%ld", p->id, e->day);
	begin_record(o, ident);
	desc(o, "attendanceEventCategoryDescriptor", "AttendanceEventCategory", cat[e->cat]);
	date(o, "eventDate", e->day);
	school_ref(o, "schoolReference", s);
	session_ref(o, s, e->k, e->day <= c->fall_end ? TERM_FALL : TERM_SPRING);
	student_ref(o, p);
	if (e->cat == 2) {
		char t[16];
		snprintf(t, sizeof(t), "08:%02u:00", 5 + (unsigned)(e->day % 40));
		str(o, "arrivalTime", t);
	} else if (e->cat == 0) {
		str(o, "attendanceEventReason", absence_reason[e->day % N(absence_reason)]);
	}
	dec(o, "eventDuration", e->cat == 2 ? 0 : e->half ? 0.5 : 1);
	end_record(o, ident);
}

static int n_sa(const struct plan *p)
{
	return p->nsa;
}

static void w_student_assessment(struct out *o, const struct plan *p, int i)
{
	static const char *const reasons[] = {"Absent", "Medical waiver", "Parental waiver"};
	const struct sa *x = &p->sa[i];
	const struct assessment *a = &assessments[x->assess];
	char id[48], ident[96], buf[32];
	snprintf(id, sizeof(id), "%s-%s-%d", a->id, p->id, school_year(x->k));
	snprintf(ident, sizeof(ident), "studentAssessment:%s", id);
	begin_record(o, ident);
	str(o, "studentAssessmentIdentifier", id);
	obj(o, "assessmentReference");
	str(o, "assessmentIdentifier", a->id);
	str(o, "namespace", ASSESS_NS);
	snprintf(buf, sizeof(buf), "assessment:%s", a->id);
	ref_link(o, "Assessment", "assessments", buf);
	end(o, '}');
	student_ref(o, p);
	school_ref(o, "reportedSchoolReference", p->y[x->k].school);
	year_ref(o, "schoolYearTypeReference", school_year(x->k));
	arr(o, "accommodations");
	end(o, ']');
	long day = g_cal[x->k].end - 45 + x->assess * 2;
	while (weekday(day) >= 5)
		day++;
	char d[11];
	date_str(day, d);
	snprintf(buf, sizeof(buf), "%sT09:00:00Z", d);
	str(o, "administrationDate", buf);
	desc(o, "administrationEnvironmentDescriptor", "AdministrationEnvironment", "School");
	arr(o, "items");
	end(o, ']');
	arr(o, "performanceLevels");
	if (!x->not_tested) {
		obj(o, NULL);
		desc(o, "assessmentReportingMethodDescriptor", "AssessmentReportingMethod",
		     "Scale score");
		desc(o, "performanceLevelDescriptor", "PerformanceLevel", levels[x->level]);
		boolean(o, "performanceLevelMet", x->level >= 2);
		end(o, '}');
	}
	end(o, ']');
	if (x->not_tested)
		desc(o, "reasonNotTestedDescriptor", "ReasonNotTested", reasons[x->reason]);
	desc(o, "retestIndicatorDescriptor", "RetestIndicator", "Primary Administration");
	arr(o, "scoreResults");
	if (!x->not_tested) {
		obj(o, NULL);
		desc(o, "assessmentReportingMethodDescriptor", "AssessmentReportingMethod",
		     "Scale score");
		snprintf(buf, sizeof(buf), "%d", x->score);
		str(o, "result", buf);
		desc(o, "resultDatatypeTypeDescriptor", "ResultDatatypeType", "Integer");
		end(o, '}');
	}
	end(o, ']');
	arr(o, "studentObjectiveAssessments");
	end(o, ']');
	desc(o, "whenAssessedGradeLevelDescriptor", "GradeLevel", grade_code[x->gi]);
	end_record(o, ident);
}

static int n_sped(const struct plan *p)
{
	return p->sped;
}

static void w_sped(struct out *o, const struct plan *p, int k)
{
	char ident[64];
	(void)k;
	ident_of(ident, sizeof(ident), "sped", p, 0);
	begin_record(o, ident);
	date(o, "beginDate", p->sped_begin);
	edorg_ref(o, LEA_ID);
	program_ref(o, "Special Education", "Special Education");
	student_ref(o, p);
	arr(o, "disabilities");
	obj(o, NULL);
	desc(o, "disabilityDescriptor", "Disability", disabilities[p->disability]);
	num(o, "orderOfDisability", 1);
	arr(o, "designations");
	end(o, ']');
	end(o, '}');
	end(o, ']');
	boolean(o, "ideaEligibility", true);
	long iep = g_cal[0].begin + (long)(p->s % 60);
	date(o, "iepBeginDate", iep);
	date(o, "iepEndDate", iep + 364);
	date(o, "iepReviewDate", iep);
	date(o, "lastEvaluationDate", iep - 30 - (long)(p->s % 300));
	boolean(o, "multiplyDisabled", false);
	arr(o, "programParticipationStatuses");
	end(o, ']');
	dec(o, "schoolHoursPerWeek", 32.5);
	arr(o, "serviceProviders");
	end(o, ']');
	dec(o, "specialEducationHoursPerWeek", 2 + (double)(p->s % 19) / 2);
	arr(o, "specialEducationProgramServices");
	obj(o, NULL);
	desc(o, "specialEducationProgramServiceDescriptor", "SpecialEducationProgramService",
	     sped_services[p->s % N(sped_services)]);
	boolean(o, "primaryIndicator", true);
	date(o, "serviceBeginDate", p->sped_begin);
	arr(o, "providers");
	end(o, ']');
	end(o, '}');
	end(o, ']');
	desc(o, "specialEducationSettingDescriptor", "SpecialEducationSetting",
	     settings[p->sped_setting]);
	end_record(o, ident);
}

static int n_504(const struct plan *p)
{
	return p->s504;
}

static void w_504(struct out *o, const struct plan *p, int k)
{
	char ident[64];
	(void)k;
	ident_of(ident, sizeof(ident), "s504", p, 0);
	begin_record(o, ident);
	date(o, "beginDate", p->s504_begin);
	edorg_ref(o, LEA_ID);
	program_ref(o, "Section 504", "Section 504 Placement");
	student_ref(o, p);
	boolean(o, "section504Eligibility", true);
	boolean(o, "accommodationPlan", true);
	if (p->s % 4 == 0)
		date(o, "endDate", g_cal[0].end);
	arr(o, "programParticipationStatuses");
	end(o, ']');
	desc(o, "section504DisabilityDescriptor", "Section504Disability", s504_dis[p->s504_dis]);
	date(o, "section504EligibilityDecisionDate", p->s504_begin - 3);
	date(o, "section504MeetingDate", p->s504_begin - 10);
	end_record(o, ident);
}

static int n_el(const struct plan *p)
{
	return p->el;
}

static void w_el(struct out *o, const struct plan *p, int k)
{
	static const char *const services[] = {"ESL or ELD", "Dual Language", "Newcomer programs",
	                                       "Sheltered English Instruction"};
	char ident[64];
	(void)k;
	ident_of(ident, sizeof(ident), "lip", p, 0);
	begin_record(o, ident);
	date(o, "beginDate", p->el_begin);
	edorg_ref(o, LEA_ID);
	program_ref(o, "English Language Development", "English as a Second Language (ESL)");
	student_ref(o, p);
	num(o, "dosage", 225);
	boolean(o, "englishLearnerParticipation", true);
	arr(o, "englishLanguageProficiencyAssessments");
	end(o, ']');
	arr(o, "languageInstructionProgramServices");
	obj(o, NULL);
	desc(o, "languageInstructionProgramServiceDescriptor", "LanguageInstructionProgramService",
	     services[p->s % N(services)]);
	boolean(o, "primaryIndicator", true);
	date(o, "serviceBeginDate", p->el_begin);
	end(o, '}');
	end(o, ']');
	arr(o, "programParticipationStatuses");
	end(o, ']');
	end_record(o, ident);
}

static int n_homeless(const struct plan *p)
{
	return p->homeless;
}

static void w_homeless(struct out *o, const struct plan *p, int k)
{
	char ident[64];
	(void)k;
	ident_of(ident, sizeof(ident), "homeless", p, 0);
	begin_record(o, ident);
	date(o, "beginDate", p->homeless_begin);
	edorg_ref(o, LEA_ID);
	program_ref(o, "McKinney-Vento Homeless", "Homeless");
	student_ref(o, p);
	boolean(o, "awaitingFosterCare", false);
	desc(o, "homelessPrimaryNighttimeResidenceDescriptor", "HomelessPrimaryNighttimeResidence",
	     nighttime[p->nighttime]);
	arr(o, "homelessProgramServices");
	end(o, ']');
	boolean(o, "homelessUnaccompaniedYouth", p->gi >= 10 && p->s % 3 == 0);
	arr(o, "programParticipationStatuses");
	end(o, ']');
	end_record(o, ident);
}

static int n_health(const struct plan *p)
{
	return p->health;
}

static void w_health(struct out *o, const struct plan *p, int k)
{
	char ident[64];
	(void)k;
	ident_of(ident, sizeof(ident), "health", p, 0);
	begin_record(o, ident);
	edorg_ref(o, LEA_ID);
	student_ref(o, p);
	date(o, "asOfDate", g_cal[0].begin - 10 - (long)(p->s % 20));
	arr(o, "additionalImmunizations");
	if (p->s % 6 == 0) {
		obj(o, NULL);
		str(o, "immunizationName", "Influenza (seasonal)");
		arr(o, "dates");
		obj(o, NULL);
		date(o, "immunizationDate", g_cal[0].begin + 50);
		end(o, '}');
		end(o, ']');
		end(o, '}');
	}
	end(o, ']');
	bool nonmedical = p->s % 50 == 7;
	if (nonmedical) {
		date(o, "nonMedicalImmunizationExemptionDate", p->birth + 4 * 365);
		desc(o, "nonMedicalImmunizationExemptionDescriptor",
		     "NonMedicalImmunizationExemption", p->s % 2 ? "Religious" : "Philosophical");
	}
	arr(o, "requiredImmunizations");
	for (int i = 0; i < p->nimm; i++) {
		obj(o, NULL);
		desc(o, "immunizationTypeDescriptor", "ImmunizationType", vaccines[i]);
		if (p->s % 97 == 3 && i == 2) { /* a medical exemption, no dates */
			str(o, "medicalExemption", "Immunocompromised: vaccine contraindicated");
			date(o, "medicalExemptionDate", p->birth + 3 * 365);
			arr(o, "dates");
			end(o, ']');
		} else if (!(nonmedical && i >= 2)) {
			arr(o, "dates");
			int doses = 1 + (int)((p->s + (unsigned)i) % 3);
			for (int d = 0; d < doses; d++) {
				obj(o, NULL);
				date(o, "immunizationDate",
				     p->birth + 60 + (long)i * 30 + (long)d * 200);
				end(o, '}');
			}
			end(o, ']');
		} else {
			arr(o, "dates");
			end(o, ']');
		}
		end(o, '}');
	}
	end(o, ']');
	end_record(o, ident);
}

static int n_disc(const struct plan *p)
{
	return p->ndisc;
}

static void incident_id(char out[40], const struct plan *p, int i)
{
	snprintf(out, 40, "INC-%s-%d", p->id, i + 1);
}

static void w_incident(struct out *o, const struct plan *p, int i)
{
	int s = p->y[p->disc_k[i]].school;
	char id[40], ident[96];
	incident_id(id, p, i);
	snprintf(ident, sizeof(ident), "incident:%s", id);
	begin_record(o, ident);
	str(o, "incidentIdentifier", id);
	school_ref(o, "schoolReference", s);
	date(o, "incidentDate", p->disc_day[i]);
	arr(o, "behaviors");
	obj(o, NULL);
	desc(o, "behaviorDescriptor", "Behavior", behaviors[p->disc_behavior[i]]);
	str(o, "behaviorDetailedDescription",
	    incident_text[(p->s + (unsigned)i) % N(incident_text)]);
	end(o, '}');
	end(o, ']');
	arr(o, "externalParticipants");
	end(o, ']');
	str(o, "incidentDescription", incident_text[(p->s + (unsigned)i) % N(incident_text)]);
	desc(o, "incidentLocationDescriptor", "IncidentLocation", locations[p->disc_location[i]]);
	str(o, "incidentTime", "10:40:00");
	boolean(o, "reportedToLawEnforcement", false);
	desc(o, "reporterDescriptionDescriptor", "ReporterDescription", "Staff");
	arr(o, "weapons");
	end(o, ']');
	end_record(o, ident);
}

static void sdiba_fields(struct out *o, const struct plan *p, int i, bool with_link)
{
	char id[40], ident[96];
	int s = p->y[p->disc_k[i]].school;
	incident_id(id, p, i);
	desc(o, "behaviorDescriptor", "Behavior", behaviors[p->disc_behavior[i]]);
	obj(o, "disciplineIncidentReference");
	str(o, "incidentIdentifier", id);
	num(o, "schoolId", schools[s].id);
	snprintf(ident, sizeof(ident), "incident:%s", id);
	ref_link(o, "DisciplineIncident", "disciplineIncidents", ident);
	end(o, '}');
	if (with_link)
		student_ref(o, p);
}

static void w_sdiba(struct out *o, const struct plan *p, int i)
{
	char ident[96];
	snprintf(ident, sizeof(ident), "sdiba:%s:%d", p->id, i);
	begin_record(o, ident);
	sdiba_fields(o, p, i, true);
	str(o, "behaviorDetailedDescription",
	    incident_text[(p->s + (unsigned)i) % N(incident_text)]);
	arr(o, "disciplineIncidentParticipationCodes");
	desc_row(o, "disciplineIncidentParticipationCodeDescriptor",
	         "DisciplineIncidentParticipationCode", "Perpetrator");
	end(o, ']');
	arr(o, "weapons");
	end(o, ']');
	end_record(o, ident);
}

static void w_action(struct out *o, const struct plan *p, int i)
{
	char id[40], ident[96], inc[40];
	int s = p->y[p->disc_k[i]].school;
	snprintf(id, sizeof(id), "DA-%s-%d", p->id, i + 1);
	snprintf(ident, sizeof(ident), "action:%s", id);
	incident_id(inc, p, i);
	begin_record(o, ident);
	str(o, "disciplineActionIdentifier", id);
	date(o, "disciplineDate", p->disc_day[i] + (weekday(p->disc_day[i]) == 4 ? 3 : 1));
	arr(o, "disciplines");
	desc_row(o, "disciplineDescriptor", "Discipline", actions[p->disc_action[i]]);
	end(o, ']');
	school_ref(o, "responsibilitySchoolReference", s);
	student_ref(o, p);
	dec(o, "actualDisciplineActionLength", p->disc_action[i] == 2 ? 0.5 : 1 + (p->s % 3));
	dec(o, "disciplineActionLength", p->disc_action[i] == 2 ? 0.5 : 1 + (p->s % 3));
	boolean(o, "iepPlacementMeetingIndicator", p->sped);
	boolean(o, "relatedToZeroTolerancePolicy", false);
	arr(o, "staffs");
	end(o, ']');
	arr(o, "studentDisciplineIncidentBehaviorAssociations");
	obj(o, NULL);
	obj(o, "studentDisciplineIncidentBehaviorAssociationReference");
	desc(o, "behaviorDescriptor", "Behavior", behaviors[p->disc_behavior[i]]);
	str(o, "incidentIdentifier", inc);
	num(o, "schoolId", schools[s].id);
	str(o, "studentUniqueId", p->id);
	snprintf(ident, sizeof(ident), "sdiba:%s:%d", p->id, i);
	ref_link(o, "StudentDisciplineIncidentBehaviorAssociation",
	         "studentDisciplineIncidentBehaviorAssociations", ident);
	end(o, '}');
	end(o, '}');
	end(o, ']');
	snprintf(ident, sizeof(ident), "action:%s", id);
	end_record(o, ident);
}

/* ---- the files ---- */

struct resource {
	const char *name, *ds4_name;
	int (*count)(const struct plan *);
	void (*write)(struct out *, const struct plan *, int);
	struct out o;
};

static struct resource per_student[] = {
    {"students", NULL, n_one, w_student, {0}},
    {"studentSchoolAssociations", NULL, n_ssa, w_ssa, {0}},
    {"studentEducationOrganizationAssociations", NULL, n_one, w_seoa, {0}},
    {"contacts", "parents", n_contacts, w_contact, {0}},
    {"studentContactAssociations", "studentParentAssociations", n_contacts, w_contact_assoc, {0}},
    {"studentAcademicRecords", NULL, n_sar, w_sar, {0}},
    {"courseTranscripts", NULL, n_takes, w_transcript, {0}},
    {"grades", NULL, n_cur, w_grade, {0}},
    {"studentSchoolAttendanceEvents", NULL, n_events, w_event, {0}},
    {"studentAssessments", NULL, n_sa, w_student_assessment, {0}},
    {"studentSpecialEducationProgramAssociations", NULL, n_sped, w_sped, {0}},
    {"studentSection504ProgramAssociations", NULL, n_504, w_504, {0}},
    {"studentLanguageInstructionProgramAssociations", NULL, n_el, w_el, {0}},
    {"studentHomelessProgramAssociations", NULL, n_homeless, w_homeless, {0}},
    {"studentHealths", NULL, n_health, w_health, {0}},
    {"disciplineIncidents", NULL, n_disc, w_incident, {0}},
    {"studentDisciplineIncidentBehaviorAssociations", NULL, n_disc, w_sdiba, {0}},
    {"disciplineActions", NULL, n_disc, w_action, {0}},
};

static const char *const shared_names[] = {"schools",       "courses",     "calendars",
                                           "calendarDates", "sessions",    "gradingPeriods",
                                           "sections",      "assessments", "graduationPlans"};
enum {
	F_SCHOOLS,
	F_COURSES,
	F_CALENDARS,
	F_DATES,
	F_SESSIONS,
	F_GP,
	F_SECTIONS,
	F_ASSESS,
	F_PLANS
};
static struct out shared[N(shared_names)];

static const char *g_dir;

static void out_open(struct out *o, const char *name)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s.json", g_dir, name);
	o->name = name;
	if ((o->f = fopen(path, "wb")) == NULL)
		die("%s: %s", path, strerror(errno));
	o->cap = 2u << 20;
	if ((o->p = malloc(o->cap)) == NULL)
		die("out of memory");
	o->n = 0;
	o->count = 0;
	rawc(o, '[');
	rawc(o, '\n');
}

static void out_close(struct out *o)
{
	if (o->count)
		rawc(o, '\n');
	raw(o, "]\n", 2);
	out_flush(o);
	if (fclose(o->f) != 0)
		die("%s.json: %s", o->name, strerror(errno));
	free(o->p);
	o->p = NULL;
}

/* A scrambled order of the students: x -> (a x + c) mod n, a prime to n. */
static uint32_t g_pa, g_pc;

static void perm_init(uint32_t n)
{
	static const uint32_t primes[] = {2654435761u % 1000003u, 1000003u, 999983u, 104729u,
	                                  7919u};
	g_pc = (uint32_t)(g_seed % n);
	for (size_t i = 0; i < N(primes); i++) {
		uint32_t a = primes[i] % n;
		uint32_t x = a, y = n;
		while (y) {
			uint32_t t = x % y;
			x = y;
			y = t;
		}
		if (a > 1 && x == 1) {
			g_pa = a;
			return;
		}
	}
	g_pa = 1;
}

static uint32_t perm(uint32_t x, uint32_t n)
{
	return (uint32_t)(((uint64_t)g_pa * x + g_pc) % n);
}

/* One block of students, written by two threads: each takes the next file. */
struct block {
	struct plan *plans;
	uint32_t n, start;
	atomic_size_t next;
};

struct worker {
	pthread_t th;
	struct block *b;
	struct used_table *used;
	struct item *items;
	size_t cap;
};
static struct worker g_workers[2];

/* The files by their size, largest first, so that the two threads end together. */
static const unsigned char write_order[] = {6, 8, 1,  9,  5,  3,  7,  2,  14,
                                            4, 0, 10, 12, 11, 13, 15, 16, 17};

static void write_resource(struct worker *w, size_t r)
{
	struct resource *res = &per_student[r];
	const struct block *b = w->b;
	size_t m = 0;
	for (uint32_t i = 0; i < b->n; i++) {
		int c = res->count(&b->plans[i]);
		if (m + (size_t)c > w->cap) {
			w->cap = w->cap ? w->cap * 2 : BLOCK * 32;
			if ((w->items = realloc(w->items, sizeof(*w->items) * w->cap)) == NULL)
				die("out of memory");
		}
		for (int k = 0; k < c; k++)
			w->items[m++] = (struct item){i, (uint16_t)k};
	}
	shuffle(w->items, m, 200 + r, b->start);
	for (size_t j = 0; j < m; j++)
		res->write(&res->o, &b->plans[w->items[j].a], w->items[j].k);
}

static void *work(void *arg)
{
	struct worker *w = arg;
	t_used = w->used;
	for (;;) {
		size_t i = atomic_fetch_add(&w->b->next, 1);
		if (i >= N(write_order))
			return NULL;
		write_resource(w, write_order[i]);
	}
}

static void usage(void)
{
	fprintf(stderr, "usage: gen_edfi [--ds4] [--post] [-n COUNT] [--seed SEED] [--descriptors "
	                "DIR] OUTDIR\n");
	exit(2);
}

int main(int argc, char **argv)
{
	unsigned long count = DEFAULT_COUNT;
	const char *desc_dir = NULL;
	char *e;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--ds4") == 0) {
			g_ds4 = true;
		} else if (strcmp(argv[i], "--post") == 0) {
			g_post = true;
		} else if ((strcmp(argv[i], "-n") == 0 || strcmp(argv[i], "--count") == 0) &&
		           i + 1 < argc) {
			errno = 0;
			count = strtoul(argv[++i], &e, 10);
			if (errno || *e || count < 1 || count > MAX_COUNT)
				die("COUNT must be 1..%d, not \"%s\"", MAX_COUNT, argv[i]);
		} else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
			errno = 0;
			g_seed = strtoull(argv[++i], &e, 10);
			if (errno || *e)
				die("SEED must be a number, not \"%s\"", argv[i]);
		} else if (strcmp(argv[i], "--descriptors") == 0 && i + 1 < argc) {
			desc_dir = argv[++i];
		} else if (argv[i][0] == '-' || g_dir != NULL) {
			usage();
		} else {
			g_dir = argv[i];
		}
	}
	if (g_dir == NULL)
		usage();
	if (mkdir(g_dir, 0755) != 0 && errno != EEXIST)
		die("%s: %s", g_dir, strerror(errno));

	for (int k = 0; k < NYEARS; k++)
		cal_init(&g_cal[k], CUR_START - k);
	g_as_of = g_cal[0].spr_begin + 18;
	while (weekday(g_as_of) >= 5 || is_holiday(&g_cal[0], g_as_of))
		g_as_of++;
	courses_init();

	for (size_t i = 0; i < N(shared_names); i++)
		out_open(&shared[i], shared_names[i]);
	write_schools(&shared[F_SCHOOLS]);
	write_courses(&shared[F_COURSES]);
	write_calendars(&shared[F_CALENDARS], &shared[F_DATES], &shared[F_SESSIONS], &shared[F_GP]);
	write_sections(&shared[F_SECTIONS]);
	write_assessments(&shared[F_ASSESS]);
	write_graduation_plans(&shared[F_PLANS]);
	for (size_t i = 0; i < N(shared_names); i++)
		out_close(&shared[i]);

	for (size_t r = 0; r < N(per_student); r++)
		out_open(&per_student[r].o, g_ds4 && per_student[r].ds4_name
		                                ? per_student[r].ds4_name
		                                : per_student[r].name);
	struct plan *plans = malloc(sizeof(*plans) * BLOCK);
	if (plans == NULL)
		die("out of memory");
	perm_init((uint32_t)count);
	for (uint32_t start = 0; start < count; start += BLOCK) {
		struct block b = {.plans = plans, .start = start};
		b.n = count - start < BLOCK ? (uint32_t)(count - start) : BLOCK;
		for (uint32_t i = 0; i < b.n; i++)
			plan_make(&plans[i], perm(start + i, (uint32_t)count));
		atomic_init(&b.next, 0);
		/* Two writers share the files, the largest first. */
		for (int t = 0; t < 2; t++) {
			g_workers[t].b = &b;
			g_workers[t].used = &g_tables[t];
			if (pthread_create(&g_workers[t].th, NULL, work, &g_workers[t]) != 0)
				die("pthread_create failed");
		}
		for (int t = 0; t < 2; t++)
			pthread_join(g_workers[t].th, NULL);
	}
	for (int t = 0; t < 2; t++)
		free(g_workers[t].items);
	for (size_t r = 0; r < N(per_student); r++) {
		struct out *o = &per_student[r].o;
		fprintf(stderr, "gen_edfi: %s.json: %lu\n", o->name, o->count);
		out_close(o);
	}
	free(plans);
	if (desc_dir != NULL) {
		int bad = desc_check(desc_dir);
		if (bad)
			die("%d descriptor value%s not among the defaults in %s", bad,
			    bad == 1 ? "" : "s", desc_dir);
		fprintf(stderr, "gen_edfi: %zu descriptor values, each among the defaults in %s\n",
		        g_nused, desc_dir);
	}
	fprintf(stderr, "gen_edfi: %lu students (%s) in %s\n", count,
	        g_ds4 ? "Data Standard 4" : "Data Standard 5", g_dir);
	return 0;
}
