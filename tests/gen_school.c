/*
 * Writes a made-up school's student records in the form of proto/RECORD.md:
 * OUTDIR/school.json, a JSON array of COUNT records for "Lincoln High
 * School", and for about one student in twelve a one-page PDF under
 * OUTDIR/files/ that the record lists as an attachment.
 *
 * Every name, id, date and score is invented from small word lists and a
 * seeded generator (xoshiro256**), so the same arguments always give
 * byte-identical output. Each record draws from its own stream, made from
 * the seed and the record's index, so a larger COUNT only adds records.
 * Records are written one at a time, so COUNT can be large; above
 * ATTACH_MAX_COUNT no attachments are written (and records differ from the
 * smaller files'), which keeps a big file from also making tens of thousands
 * of PDFs.
 *
 * usage: gen_school OUTDIR [COUNT] [SEED]    (COUNT 240, SEED 20261123)
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#define SCHOOL_NAME      "Lincoln High School"
#define SCHOOL_CODE      "LHS-001"
#define DEFAULT_COUNT    240
#define DEFAULT_SEED     20261123u
#define MAX_COUNT        1000000
#define ATTACH_MAX_COUNT 10000
#define CUR_YEAR         2026 /* school year 2026-2027, in progress on the as-of date */
#define MAX_COURSES      40
#define MAX_LINES        44 /* text lines that fit on one PDF page */

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void die(const char *what, const char *detail)
{
	fprintf(stderr, "gen_school: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
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

/* One stream per record, so a record does not depend on those before it. */
static void rng_init(struct rng *r, uint64_t seed, uint64_t stream)
{
	uint64_t x = seed ^ (stream * 0xd1342543de82ef95u);
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

/* 0 .. n-1; the tiny bias of multiply-shift does not matter here. */
static unsigned below(struct rng *r, unsigned n)
{
	return (unsigned)(((rng_next(r) >> 32) * n) >> 32);
}

static bool chance(struct rng *r, unsigned percent)
{
	return below(r, 100) < percent;
}

static int between(struct rng *r, int lo, int hi)
{
	return lo + (int)below(r, (unsigned)(hi - lo + 1));
}

#define PICK(r, a) ((a)[below((r), N(a))])

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

static long weekday_on_or_before(long z)
{
	int w = weekday(z);
	return w >= 5 ? z - (w - 4) : z;
}

static long weekday_on_or_after(long z)
{
	int w = weekday(z);
	return w >= 5 ? z + (7 - w) : z;
}

static void fmt_date(char *out, size_t size, long z)
{
	int y, m, d;
	civil_from_days(z, &y, &m, &d);
	snprintf(out, size, "%04d-%02d-%02d", y, m, d);
}

/* School year Y runs from late August of Y to mid June of Y+1. */
static long year_start(int y)
{
	return weekday_on_or_after(days_from_civil(y, 8, 19));
}

static long year_end(int y)
{
	return weekday_on_or_before(days_from_civil(y + 1, 6, 11));
}

static long weekdays_between(long a, long b)
{
	long n = 0;
	for (long z = a; z <= b; z++)
		n += weekday(z) < 5;
	return n;
}

/* A weekday in [a, b]; a and b are weekdays. */
static long school_day(struct rng *r, long a, long b)
{
	long z = a + (long)below(r, (unsigned)(b - a + 1));
	z = weekday_on_or_before(z);
	return z < a ? a : z;
}

static long as_of; /* 2026-11-23: ages and "still enrolled" are as of this day */

/* ---- word lists (invented combinations, never real people) ---- */

struct given {
	const char *name;
	char sex; /* 'F', 'M' or 'U' when either */
	const char *nick;
};

static const struct given givens[] = {
    {"Amara", 'F', NULL},        {"Chidi", 'M', NULL},       {"Kwame", 'M', NULL},
    {"Aisha", 'F', NULL},        {"Omar", 'M', NULL},        {"Layla", 'F', NULL},
    {"Yusuf", 'M', NULL},        {"Fatima", 'F', "Fati"},    {"Mei", 'F', NULL},
    {"Wei", 'U', NULL},          {"Hiroshi", 'M', "Hiro"},   {"Yuki", 'U', NULL},
    {"Ji-woo", 'U', "Jay"},      {"Min-jun", 'M', NULL},     {"Seo-yeon", 'F', "Sunny"},
    {"Priya", 'F', NULL},        {"Arjun", 'M', NULL},       {"Ananya", 'F', "Annie"},
    {"Rohan", 'M', NULL},        {"Diego", 'M', NULL},       {"Sofía", 'F', "Sofi"},
    {"Mateo", 'M', NULL},        {"Valentina", 'F', "Vale"}, {"José", 'M', "Pepe"},
    {"Camila", 'F', "Cami"},     {"Lucas", 'M', NULL},       {"Chloé", 'F', NULL},
    {"Élodie", 'F', NULL},       {"Björn", 'M', NULL},       {"Freya", 'F', NULL},
    {"Søren", 'M', NULL},        {"Ingrid", 'F', NULL},      {"Liam", 'M', NULL},
    {"Noah", 'M', NULL},         {"Emma", 'F', NULL},        {"Olivia", 'F', "Liv"},
    {"Ethan", 'M', NULL},        {"Zoë", 'F', NULL},         {"Aleksandr", 'M', "Sasha"},
    {"Ekaterina", 'F', "Katya"}, {"Dmitri", 'M', "Dima"},    {"Nadia", 'F', NULL},
    {"Tomasz", 'M', "Tomek"},    {"Zofia", 'F', "Zosia"},    {"Kai", 'U', NULL},
    {"Leilani", 'F', "Lani"},    {"Noa", 'U', NULL},         {"Eitan", 'M', NULL},
    {"Thandiwe", 'F', "Thandi"}, {"Sipho", 'M', NULL},       {"Anh", 'U', NULL},
    {"Linh", 'F', NULL},         {"Minh", 'M', NULL},        {"Malia", 'F', NULL},
    {"Inés", 'F', NULL},         {"Renée", 'F', NULL},       {"Niamh", 'F', NULL},
    {"Cian", 'M', NULL},         {"Aroha", 'F', NULL},       {"Nikolai", 'M', "Niko"},
    {"Esperanza", 'F', "Espe"},  {"Benjamin", 'M', "Ben"},   {"Katherine", 'F', "Kate"},
    {"Samuel", 'M', "Sam"},      {"Alejandro", 'M', "Alex"}, {"Margaret", 'F', "Maggie"},
    {"Tariq", 'M', NULL},        {"Zainab", 'F', NULL},      {"Elijah", 'M', "Eli"},
    {"Jonah", 'M', NULL},        {"Marisol", 'F', NULL},     {"Keanu", 'M', NULL},
    {"Ayasha", 'F', NULL},       {"Dakota", 'U', NULL},      {"River", 'U', NULL},
};

/* Names for parents and other adults, by sex. */
static const char *const adult_f[] = {
    "Ngozi",   "Adwoa",    "Mariam", "Hana",      "Li Na",  "Keiko",     "Soo-jin", "Deepa",
    "Lakshmi", "Rosa",     "Lucía",  "Guadalupe", "Marie",  "Anneliese", "Astrid",  "Siobhán",
    "Sarah",   "Jennifer", "Olga",   "Agnieszka", "Rivka",  "Nomvula",   "Thu",     "Mele",
    "Ruth",    "Carmen",   "Yasmin", "Grace",     "Hélène", "Nia",
};

static const char *const adult_m[] = {
    "Emeka",  "Kofi",    "Hassan", "Karim",  "Jian",     "Takeshi", "Dong-hyun", "Vikram",
    "Suresh", "Carlos",  "Andrés", "Miguel", "François", "Klaus",   "Lars",      "Seamus",
    "David",  "Michael", "Sergei", "Piotr",  "Avi",      "Bongani", "Tuan",      "Sione",
    "Paul",   "Ricardo", "Farid",  "Marcus", "Jérôme",   "Tomás",
};

static const char *const families[] = {
    "Okafor",   "Mensah",   "Adeyemi",   "Haddad",       "Nasser",     "Khan",
    "Rahman",   "Chen",     "Wang",      "Liu",          "Tanaka",     "Sato",
    "Nakamura", "Kim",      "Park",      "Choi",         "Patel",      "Sharma",
    "Iyer",     "Reddy",    "García",    "Hernández",    "López",      "Martínez",
    "Núñez",    "Muñoz",    "Rossi",     "Bianchi",      "Dubois",     "Lefèvre",
    "Müller",   "Schmidt",  "Johansson", "Lindqvist",    "Andersen",   "O'Brien",
    "Murphy",   "Kowalski", "Nowak",     "Petrov",       "Novak",      "Cohen",
    "Levi",     "Dlamini",  "Nkosi",     "Nguyen",       "Tran",       "Pham",
    "Kealoha",  "Mahelona", "Walker",    "Bennett",      "Brooks",     "Rivera",
    "Santos",   "Silva",    "Al-Sayed",  "Yilmaz",       "Demir",      "Papadopoulos",
    "Ngata",    "Begay",    "Yazzie",    "Van der Berg", "Fitzgerald", "Achterberg",
};

/* UTF-8 letters in the lists above and their plain ASCII forms. */
static const char *const fold_table[][2] = {
    {"á", "a"}, {"é", "e"}, {"í", "i"}, {"ó", "o"}, {"ú", "u"}, {"ñ", "n"},
    {"ü", "u"}, {"ö", "o"}, {"ø", "o"}, {"è", "e"}, {"ë", "e"}, {"ô", "o"},
    {"É", "e"}, {"ç", "c"}, {"à", "a"}, {"å", "a"}, {"ä", "a"},
};

/* ---- courses ---- */

struct course_def {
	const char *code;
	const char *title;
	const char *term; /* "FY" full year (1 credit), "S1"/"S2" one semester (0.5) */
};

static const struct course_def english[] = {
    {"ENG109", "English 9", "FY"},
    {"ENG210", "English 10", "FY"},
    {"ENG311", "American Literature", "FY"},
    {"ENG412", "AP English Literature", "FY"},
};

static const struct course_def math[] = {
    {"MATH101", "Algebra I", "FY"},      {"MATH201", "Geometry", "FY"},
    {"MATH301", "Algebra II", "FY"},     {"MATH401", "Precalculus", "FY"},
    {"MATH501", "AP Calculus AB", "FY"}, {"MATH502", "AP Statistics", "FY"},
};

static const struct course_def science[] = {
    {"SCI110", "Biology", "FY"},
    {"SCI210", "Chemistry", "FY"},
    {"SCI310", "Physics", "FY"},
    {"SCI420", "AP Environmental Science", "FY"},
};

static const struct course_def social[][2] = {
    {{"SOC100", "World Geography", "FY"}, {NULL, NULL, NULL}},
    {{"SOC200", "World History", "FY"}, {NULL, NULL, NULL}},
    {{"SOC300", "U.S. History", "FY"}, {NULL, NULL, NULL}},
    {{"SOC410", "Government", "S1"}, {"SOC420", "Economics", "S2"}},
};

static const struct course_def electives[] = {
    {"ART110", "Studio Art", "FY"},       {"MUS120", "Concert Band", "FY"},
    {"THR130", "Theater Arts", "FY"},     {"CSC200", "Computer Science Principles", "FY"},
    {"BUS150", "Personal Finance", "S1"}, {"PHO160", "Digital Photography", "S2"},
    {"JRN170", "Journalism", "FY"},       {"CUL180", "Culinary Arts", "S1"},
};

static const char *const languages[][2] = {
    {"SPA", "Spanish"},
    {"FRE", "French"},
    {"CHI", "Mandarin Chinese"},
    {"GER", "German"},
};

static const char *const roman[] = {"I", "II", "III", "IV"};

static const char *const letter_grades[] = {"A", "A-", "B+", "B", "B-", "C+",
                                            "C", "C-", "D+", "D", "D-"};

struct course {
	char year[32];
	char code[16];
	char title[64];
	const char *term;
	const char *grade;
	double attempted, earned;
};

/* ---- one student ---- */

enum status { CURRENT, GRADUATED, WITHDRAWN };

struct student {
	struct rng r;
	unsigned long pos; /* 0-based position in the file */
	char id[32];
	const struct given *given;
	const char *middle, *family;
	char full[160]; /* "Given Family", for the PDFs */
	long birth;
	int grade;      /* grade level in CUR_YEAR; 13 and 14 have graduated */
	int first_year; /* school year of grade 9 */
	int lhs_year;   /* first school year here (later for a transfer in) */
	int last_year;  /* last school year with any enrollment */
	enum status status;
	long exit; /* last day here, 0 while enrolled */
	long end;  /* last day any section may describe */
	int ability, math0, lang;
	unsigned elective;
	const char *senior_math; /* set by make_courses */
	struct course courses[MAX_COURSES];
	int ncourses;
	bool sped, iep_plan;
	const char *disability;
	long plan_date;
	const char *services[3];
	int nservices;
};

static void put(json_t *o, const char *key, json_t *v)
{
	if (!v || json_object_set_new(o, key, v) != 0)
		die("cannot build JSON", key);
}

static void put_str(json_t *o, const char *key, const char *s)
{
	put(o, key, json_string(s));
}

static void put_date(json_t *o, const char *key, long z)
{
	char buf[32];
	fmt_date(buf, sizeof(buf), z);
	put_str(o, key, buf);
}

static void append(json_t *a, json_t *v)
{
	if (!v || json_array_append_new(a, v) != 0)
		die("cannot build JSON", NULL);
}

/* Lower-case ASCII for e-mail addresses; apostrophes and spaces go. */
static void fold_ascii(char *out, size_t size, const char *s)
{
	size_t n = 0;
	while (*s && n + 1 < size) {
		size_t i;
		for (i = 0; i < N(fold_table); i++) {
			size_t len = strlen(fold_table[i][0]);
			if (strncmp(s, fold_table[i][0], len) == 0) {
				out[n++] = fold_table[i][1][0];
				s += len;
				break;
			}
		}
		if (i < N(fold_table))
			continue;
		unsigned char c = (unsigned char)*s++;
		if (c >= 'A' && c <= 'Z')
			out[n++] = (char)(c - 'A' + 'a');
		else if ((c >= 'a' && c <= 'z') || c == '-')
			out[n++] = (char)c;
	}
	out[n] = '\0';
}

static void school_year(char *out, size_t size, int y)
{
	snprintf(out, size, "%d-%d", y, y + 1);
}

/* Age and grade first, then the dates that follow from them. */
static void make_student(struct student *st, uint64_t seed, unsigned long pos)
{
	struct rng *r = &st->r;
	memset(st, 0, sizeof(*st));
	rng_init(r, seed, pos);
	st->pos = pos;
	snprintf(st->id, sizeof(st->id), "S-%lu", 1001 + pos);

	st->given = &PICK(r, givens);
	st->family = PICK(r, families);
	if (chance(r, 40)) {
		do
			st->middle = PICK(r, givens).name;
		while (strcmp(st->middle, st->given->name) == 0);
	}
	snprintf(st->full, sizeof(st->full), "%s %s", st->given->name, st->family);

	/* Ages 13..19 on the as-of date; the ends are rare, as in a high school. */
	static const unsigned age_weights[] = {3, 17, 19, 19, 19, 15, 8};
	unsigned w = below(r, 100), age = 13;
	for (size_t i = 0; i < N(age_weights) && w >= age_weights[i]; i++) {
		w -= age_weights[i];
		age++;
	}
	int ay, am, ad;
	civil_from_days(as_of, &ay, &am, &ad);
	long lo = days_from_civil(ay - (int)age - 1, am, ad) + 1;
	long hi = days_from_civil(ay - (int)age, am, ad);
	st->birth = lo + (long)below(r, (unsigned)(hi - lo + 1));

	/* Kindergarten the autumn after turning five (1 September cutoff). */
	int by, bm, bd;
	civil_from_days(st->birth, &by, &bm, &bd);
	int k_year = by + (bm < 9 ? 5 : 6);
	st->grade = CUR_YEAR - k_year;
	if (st->grade > 9 && chance(r, 6))
		st->grade--; /* repeated a year */
	if (st->grade < 9)
		st->grade = 9; /* skipped ahead */
	st->first_year = CUR_YEAR - (st->grade - 9);

	static const int abilities[] = {0, 1, 1, 2, 2, 2, 3, 3, 3, 3};
	st->ability = PICK(r, abilities);
	st->math0 = st->ability >= 3 && chance(r, 50) ? 1 : 0;
	st->lang = chance(r, 70) ? (int)below(r, N(languages)) : -1;
	st->elective = below(r, N(electives));

	/* Transfers in arrive over the summer from another high school. */
	st->lhs_year = st->first_year;
	int years = st->grade >= 13 ? 4 : st->grade - 8;
	if (years > 1 && chance(r, 15))
		st->lhs_year = st->first_year + 1 + (int)below(r, (unsigned)(years - 1));

	if (st->grade >= 13) {
		st->status = GRADUATED;
		st->last_year = st->first_year + 3;
		st->exit = year_end(st->last_year);
	} else if (chance(r, 7)) {
		st->status = WITHDRAWN;
		st->last_year = between(r, st->lhs_year, CUR_YEAR);
		long a = year_start(st->last_year) + 14;
		long b = st->last_year == CUR_YEAR ? as_of - 3 : year_end(st->last_year) - 14;
		st->exit = school_day(r, weekday_on_or_after(a), weekday_on_or_before(b));
	} else {
		st->status = CURRENT;
		st->last_year = CUR_YEAR;
	}
	st->end = st->exit ? st->exit : as_of;
}

static void add_course(struct student *st, int y, const struct course_def *def)
{
	struct rng *r = &st->r;
	if (st->ncourses >= MAX_COURSES)
		return;
	struct course *c = &st->courses[st->ncourses++];
	school_year(c->year, sizeof(c->year), y);
	snprintf(c->code, sizeof(c->code), "%s", def->code);
	snprintf(c->title, sizeof(c->title), "%s", def->title);
	c->term = def->term;
	c->attempted = strcmp(def->term, "FY") == 0 ? 1.0 : 0.5;
	c->earned = c->attempted;
	if (y == CUR_YEAR && st->status == CURRENT) {
		c->grade = "IP"; /* in progress: nothing earned yet */
		c->earned = 0;
	} else if (st->status == WITHDRAWN && y == st->last_year) {
		c->grade = "W";
		c->earned = 0;
	} else if (st->ability <= 1 && chance(r, 3)) {
		c->grade = "F";
		c->earned = 0;
	} else {
		int i = (3 - st->ability) * 2 + (int)below(r, 4);
		c->grade = letter_grades[i < (int)N(letter_grades) ? i : (int)N(letter_grades) - 1];
		if (strncmp(c->code, "PE", 2) == 0)
			c->grade = "P"; /* pass/fail */
	}
}

static void make_courses(struct student *st)
{
	struct rng *r = &st->r;
	for (int y = st->first_year; y <= st->last_year; y++) {
		int g = y - st->first_year; /* 0 for grade 9 */
		/* The year in progress is listed only when no year is finished yet. */
		if (y == CUR_YEAR && st->status == CURRENT && g > 0)
			break;
		add_course(st, y, &english[g]);
		int m = st->math0 + g;
		if (m >= 4)
			m = 4 + (int)below(r, 2);
		add_course(st, y, &math[m]);
		if (g == 3)
			st->senior_math = math[m].title;
		add_course(st, y, &science[g]);
		for (int i = 0; i < 2 && social[g][i].code; i++)
			add_course(st, y, &social[g][i]);
		if (st->lang >= 0) {
			char code[32], title[64];
			snprintf(code, sizeof(code), "%s%d00", languages[st->lang][0], g + 1);
			snprintf(title, sizeof(title), "%s %s", languages[st->lang][1], roman[g]);
			const struct course_def def = {code, title, "FY"};
			add_course(st, y, &def);
		}
		if (g == 0) {
			static const struct course_def pe = {"PE100", "Physical Education", "S1"};
			static const struct course_def health = {"HLT100", "Health", "S2"};
			add_course(st, y, &pe);
			add_course(st, y, &health);
		} else {
			/* Steps of 3 through 8 electives: no repeats within 3 years. */
			add_course(st, y,
			           &electives[(st->elective + 3 * (unsigned)g) % N(electives)]);
		}
	}
}

static json_t *identity_json(struct student *st)
{
	struct rng *r = &st->r;
	json_t *o = json_object();
	put_str(o, "given_name", st->given->name);
	if (st->middle)
		put_str(o, "middle_name", st->middle);
	put_str(o, "family_name", st->family);
	put_date(o, "birth_date", st->birth);
	if (st->given->nick && chance(r, 60))
		put_str(o, "preferred_name", st->given->nick);
	if (chance(r, 94)) {
		char sex = st->given->sex;
		if (sex == 'U')
			sex = chance(r, 50) ? 'F' : 'M';
		if (chance(r, 3))
			sex = 'X';
		put_str(o, "sex", sex == 'F' ? "F" : sex == 'M' ? "M" : "X");
	}
	return o;
}

static json_t *guardian_json(struct student *st, const char *relation)
{
	struct rng *r = &st->r;
	bool female = strcmp(relation, "mother") == 0 || strcmp(relation, "grandmother") == 0 ||
	              strcmp(relation, "aunt") == 0 || strcmp(relation, "stepmother") == 0;
	bool male = strcmp(relation, "father") == 0 || strcmp(relation, "grandfather") == 0 ||
	            strcmp(relation, "uncle") == 0 || strcmp(relation, "stepfather") == 0;
	if (!female && !male)
		female = chance(r, 50);
	const char *given = female ? PICK(r, adult_f) : PICK(r, adult_m);
	bool parent = strcmp(relation, "mother") == 0 || strcmp(relation, "father") == 0;
	const char *family = chance(r, parent ? 85 : 40) ? st->family : PICK(r, families);

	json_t *o = json_object();
	char name[160], a[64], b[64], mail[160];
	snprintf(name, sizeof(name), "%s %s", given, family);
	put_str(o, "name", name);
	put_str(o, "relation", relation);
	if (chance(r, 80)) {
		static const char *const domains[] = {"example.org", "example.net", "example.com"};
		fold_ascii(a, sizeof(a), given);
		fold_ascii(b, sizeof(b), family);
		/* One draw per statement: argument order is up to the compiler. */
		unsigned num = chance(r, 30) ? 10 + below(r, 90) : 0;
		const char *domain = PICK(r, domains);
		if (num)
			snprintf(mail, sizeof(mail), "%s.%s%u@%s", a, b, num, domain);
		else
			snprintf(mail, sizeof(mail), "%s.%s@%s", a, b, domain);
		put_str(o, "email", mail);
	}
	if (chance(r, 90)) {
		/* 555-0100..0199 is set aside for fiction. */
		char phone[32];
		snprintf(phone, sizeof(phone), "(217) 555-01%02u", below(r, 100));
		put_str(o, "phone", phone);
	}
	return o;
}

static json_t *guardians_json(struct student *st)
{
	struct rng *r = &st->r;
	static const char *const first[] = {"mother", "mother",      "mother",   "mother",
	                                    "mother", "mother",      "father",   "father",
	                                    "father", "grandmother", "guardian", "aunt"};
	const char *rel = PICK(r, first);
	json_t *a = json_array();
	append(a, guardian_json(st, rel));
	if (chance(r, 60)) {
		const char *second;
		if (strcmp(rel, "mother") == 0)
			second = chance(r, 85) ? "father" : "stepfather";
		else if (strcmp(rel, "father") == 0)
			second = chance(r, 85) ? "mother" : "stepmother";
		else
			second = chance(r, 50) ? "grandfather" : "uncle";
		append(a, guardian_json(st, second));
	}
	return a;
}

static json_t *enrollment_row(const char *name, const char *code, long entry, long leave, int grade)
{
	json_t *o = json_object();
	char g[16];
	snprintf(g, sizeof(g), "%02d", grade);
	put_str(o, "school_name", name);
	put_str(o, "school_code", code);
	put_date(o, "entry_date", entry);
	if (leave)
		put_date(o, "exit_date", leave);
	put_str(o, "grade_level", g);
	return o;
}

static json_t *enrollment_json(struct student *st)
{
	struct rng *r = &st->r;
	static const char *const other[][2] = {
	    {"Maple Grove High School", "MGH-014"},
	    {"Riverside Academy", "RVA-203"},
	    {"Eastfield Secondary School", "EFS-077"},
	    {"Cedar Hills High School", "CHH-310"},
	};
	json_t *a = json_array();
	if (st->lhs_year > st->first_year) {
		int k = (int)below(r, N(other));
		append(a, enrollment_row(other[k][0], other[k][1], year_start(st->first_year),
		                         year_end(st->lhs_year - 1),
		                         9 + st->lhs_year - 1 - st->first_year));
	}
	append(a, enrollment_row(SCHOOL_NAME, SCHOOL_CODE, year_start(st->lhs_year), st->exit,
	                         9 + st->last_year - st->first_year));
	return a;
}

static json_t *transcript_json(struct student *st)
{
	json_t *a = json_array();
	for (int i = 0; i < st->ncourses; i++) {
		const struct course *c = &st->courses[i];
		json_t *o = json_object();
		put_str(o, "school_year", c->year);
		put_str(o, "term", c->term);
		put_str(o, "course_code", c->code);
		put_str(o, "course_title", c->title);
		put_str(o, "grade", c->grade);
		put(o, "credits_attempted", json_real(c->attempted));
		put(o, "credits_earned", json_real(c->earned));
		append(a, o);
	}
	return a;
}

static json_t *attendance_json(struct student *st)
{
	struct rng *r = &st->r;
	bool chronic = chance(r, 12);
	json_t *a = json_array();
	for (int y = st->first_year; y <= st->last_year; y++) {
		long start = year_start(y), stop = year_end(y);
		long full = weekdays_between(start, stop);
		if (y == st->last_year && st->end < stop)
			stop = st->end;
		/* A 180-day calendar; part years get their share of it. */
		long enrolled = weekdays_between(start, stop) * 180 / full;
		long excused = (long)below(r, (unsigned)(enrolled / 20 + 1));
		long unexcused = (long)below(r, (unsigned)(enrolled / (chronic ? 8 : 60) + 1));
		long unrecorded = chance(r, 8) ? (long)below(r, 3) : 0;
		if (excused + unexcused + unrecorded > enrolled)
			unrecorded = 0;
		char sy[32];
		school_year(sy, sizeof(sy), y);
		json_t *o = json_object();
		put_str(o, "school_year", sy);
		put(o, "days_enrolled", json_integer(enrolled));
		put(o, "days_present", json_integer(enrolled - excused - unexcused - unrecorded));
		put(o, "days_absent_excused", json_integer(excused));
		put(o, "days_absent_unexcused", json_integer(unexcused));
		append(a, o);
	}
	return a;
}

/* The day, if the student was enrolled on it in the school year of grade g. */
static long test_day(struct student *st, int g, int month, int day)
{
	int y = st->first_year + g - 9;
	if (y > st->last_year)
		return 0;
	long z = weekday_on_or_after(days_from_civil(month >= 8 ? y : y + 1, month, day));
	z += (long)below(&st->r, 4);
	z = weekday_on_or_before(z);
	return z >= year_start(st->first_year) && z <= st->end ? z : 0;
}

static void add_score(json_t *a, const char *name, const char *subject, long z, json_t *score,
                      const char *level)
{
	json_t *o = json_object();
	put_str(o, "name", name);
	put_str(o, "subject", subject);
	put_date(o, "date", z);
	put(o, "score", score);
	if (level)
		put_str(o, "performance_level", level);
	append(a, o);
}

static int scaled(struct student *st, int lo, int hi)
{
	int v = lo + (hi - lo) * st->ability / 5 + (int)below(&st->r, (unsigned)(hi - lo) / 2);
	v = v / 10 * 10;
	return v > hi ? hi : v;
}

static json_t *assessments_json(struct student *st)
{
	struct rng *r = &st->r;
	json_t *a = json_array();
	long z;
	if (chance(r, 8) && (z = test_day(st, 9, 2, 3))) {
		/* English learners: proficiency is reported as a string like "3.8". */
		static const char *const levels[] = {"Entering", "Emerging", "Developing",
		                                     "Expanding", "Bridging"};
		int whole = between(r, 2, 5);
		char s[32];
		snprintf(s, sizeof(s), "%d.%u", whole, below(r, 10));
		add_score(a, "ACCESS for ELLs", "English Language Proficiency", z, json_string(s),
		          levels[whole - 1]);
	}
	if (chance(r, 70) && (z = test_day(st, 9, 10, 14))) {
		add_score(a, "PSAT 8/9", "Math", z, json_integer(scaled(st, 120, 720)), NULL);
		add_score(a, "PSAT 8/9", "Reading and Writing", z,
		          json_integer(scaled(st, 120, 720)), NULL);
	}
	if (chance(r, 80) && (z = test_day(st, 9, 5, 6))) {
		int v = scaled(st, 650, 850);
		const char *level = v < 700   ? "Below Basic"
		                    : v < 740 ? "Basic"
		                    : v < 790 ? "Proficient"
		                              : "Advanced";
		add_score(a, "State End-of-Course Exam", math[st->math0].title, z, json_integer(v),
		          level);
	}
	if (chance(r, 60) && (z = test_day(st, 10, 4, 8))) {
		/* Rubric scores in half points. */
		double v = 1.0 + 0.5 * (double)(st->ability * 2 + (int)below(r, 4));
		add_score(a, "District Writing Assessment", "English Language Arts", z,
		          json_real(v),
		          v < 3.0   ? "Developing"
		          : v < 5.0 ? "Proficient"
		                    : "Exemplary");
	}
	if (chance(r, 60) && (z = test_day(st, 11, 3, 9))) {
		add_score(a, "SAT", "Math", z, json_integer(scaled(st, 200, 800)), NULL);
		add_score(a, "SAT", "Reading and Writing", z, json_integer(scaled(st, 200, 800)),
		          NULL);
	}
	/* Seniors in an AP math course sit its exam (scored 1-5) in May. */
	if (st->ability >= 2 && st->senior_math && strncmp(st->senior_math, "AP ", 3) == 0 &&
	    (z = test_day(st, 12, 5, 4)))
		add_score(a, "AP Exam", st->senior_math + 3, z,
		          json_integer(between(r, st->ability, 5)), NULL);
	if (st->status == GRADUATED && chance(r, 30) && (z = test_day(st, 12, 4, 20))) {
		static const char *const medals[] = {"Bronze", "Silver", "Gold"};
		add_score(a, "Career Readiness Certificate", "Workplace Skills", z,
		          json_string(PICK(r, medals)), NULL);
	}
	if (json_array_size(a) == 0) {
		json_decref(a);
		return NULL;
	}
	return a;
}

static void make_sped(struct student *st, bool forced)
{
	struct rng *r = &st->r;
	static const char *const categories[] = {
	    "Specific learning disability", "Speech or language impairment",
	    "Other health impairment",      "Autism",
	    "Emotional disturbance",        "Hearing impairment",
	};
	static const char *const services[] = {
	    "Resource room support, 5 hours a week",
	    "Speech-language therapy, 30 minutes a week",
	    "Extended time on tests",
	    "Counseling, biweekly",
	    "Occupational therapy consultation",
	    "Assistive technology: text-to-speech",
	};
	st->sped = true;
	st->iep_plan = forced || chance(r, 88);
	if (st->iep_plan && chance(r, 85))
		st->disability = PICK(r, categories);
	if (chance(r, 85)) {
		long lo = st->end - 330 > st->birth ? st->end - 330 : st->birth;
		st->plan_date =
		    school_day(r, weekday_on_or_after(lo), weekday_on_or_before(st->end));
	}
	unsigned first = below(r, N(services)), n = 1 + below(r, 3);
	for (unsigned i = 0; i < n; i++)
		st->services[st->nservices++] = services[(first + i * 2) % N(services)];
}

static json_t *sped_json(struct student *st)
{
	json_t *o = json_object();
	put(o, "iep", json_boolean(st->iep_plan));
	if (st->disability)
		put_str(o, "disability_category", st->disability);
	if (st->plan_date)
		put_date(o, "plan_date", st->plan_date);
	json_t *s = json_array();
	for (int i = 0; i < st->nservices; i++)
		append(s, json_string(st->services[i]));
	put(o, "services", s);
	return o;
}

/* Pick up to n distinct entries of list, in list order. */
static json_t *some_of(struct rng *r, const char *const *list, size_t len, unsigned n)
{
	json_t *a = json_array();
	unsigned start = below(r, (unsigned)len);
	for (unsigned i = 0; i < n; i++)
		append(a, json_string(list[(start + i * 3) % len]));
	return a;
}

static json_t *health_json(struct student *st)
{
	struct rng *r = &st->r;
	/* A childhood schedule: vaccine and age in days at the dose. */
	static const struct {
		const char *vaccine;
		int age;
	} schedule[] = {
	    {"Hepatitis B", 0}, {"DTaP", 61},   {"IPV", 61},       {"MMR", 380},
	    {"Varicella", 380}, {"DTaP", 1600}, {"MMR", 1600},     {"Tdap", 4050},
	    {"MenACWY", 4050},  {"HPV", 4120},  {"MenACWY", 5850},
	};
	static const char *const allergies[] = {"peanuts",    "tree nuts", "penicillin",
	                                        "bee stings", "latex",     "shellfish"};
	static const char *const conditions[] = {
	    "asthma", "type 1 diabetes", "seasonal allergies", "epilepsy", "migraine", "ADHD"};
	json_t *o = json_object(), *imm = json_array();
	long jitter = 0;
	for (size_t i = 0; i < N(schedule); i++) {
		/* Doses due at the same age are given at the same visit. */
		if (i == 0 || schedule[i].age != schedule[i - 1].age)
			jitter = (long)below(r, 45);
		long z = st->birth + schedule[i].age + jitter;
		if (z > as_of || !chance(r, 70))
			continue;
		json_t *v = json_object();
		put_str(v, "vaccine", schedule[i].vaccine);
		put_date(v, "date", z);
		append(imm, v);
	}
	put(o, "immunizations", imm);
	put(o, "allergies",
	    some_of(r, allergies, N(allergies), chance(r, 60) ? 0 : 1 + below(r, 2)));
	put(o, "conditions",
	    some_of(r, conditions, N(conditions), chance(r, 55) ? 0 : 1 + below(r, 2)));
	return o;
}

/* A school day here, in term time, on or before the student's last day. */
static long enrolled_day(struct student *st)
{
	int y = between(&st->r, st->lhs_year, st->last_year);
	long hi = year_end(y) < st->end ? year_end(y) : weekday_on_or_before(st->end);
	return school_day(&st->r, year_start(y), hi);
}

static json_t *discipline_json(struct student *st)
{
	struct rng *r = &st->r;
	static const char *const incidents[] = {
	    "Repeated tardiness to first period",  "Disruptive behavior in class",
	    "Use of a phone during a test",        "Left campus without permission",
	    "Verbal altercation with a classmate", "Graffiti on a restroom wall",
	};
	static const char *const actions[] = {
	    "Parent conference",      "Lunch detention",
	    "After-school detention", "One-day in-school suspension",
	    "Restorative conference", "Loss of campus privileges",
	};
	long z1 = enrolled_day(st), z2 = chance(r, 35) ? enrolled_day(st) : 0;
	if (z2 && z2 < z1) {
		long t = z1;
		z1 = z2;
		z2 = t;
	}
	json_t *a = json_array();
	for (int i = 0; i < 2; i++) {
		long z = i ? z2 : z1;
		if (!z)
			continue;
		json_t *o = json_object();
		put_date(o, "date", z);
		put_str(o, "incident", PICK(r, incidents));
		put_str(o, "action", PICK(r, actions));
		append(a, o);
	}
	return a;
}

/* ---- a one-page PDF ---- */

struct buf {
	char *p;
	size_t len, cap;
};

static void buf_add(struct buf *b, const void *p, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 1024;
		while (b->len + n + 1 > cap)
			cap *= 2;
		char *q = realloc(b->p, cap);
		if (!q)
			die("out of memory", NULL);
		b->p = q;
		b->cap = cap;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void buf_printf(struct buf *b, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		die("PDF line too long", NULL);
	buf_add(b, tmp, (size_t)n);
}

/*
 * A PDF string literal in WinAnsiEncoding: the Latin-1 letters of the name
 * lists become octal escapes, anything else outside ASCII becomes '?'.
 */
static void pdf_string(struct buf *b, const char *s)
{
	buf_add(b, "(", 1);
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		if ((p[0] == 0xc2 || p[0] == 0xc3) && (p[1] & 0xc0) == 0x80) {
			buf_printf(b, "\\%03o", ((p[0] & 0x03u) << 6) | (p[1] & 0x3fu));
			p += 2;
		} else if (*p == '(' || *p == ')' || *p == '\\') {
			buf_printf(b, "\\%c", *p++);
		} else if (*p >= 0x20 && *p < 0x7f) {
			buf_add(b, p++, 1);
		} else {
			buf_add(b, "?", 1);
			while (*++p >= 0x80 && *p < 0xc0)
				;
		}
	}
	buf_add(b, ")", 1);
}

struct page {
	char title[200];
	char lines[MAX_LINES][120];
	int n;
};

static void page_line(struct page *pg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void page_line(struct page *pg, const char *fmt, ...)
{
	if (pg->n >= MAX_LINES)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(pg->lines[pg->n++], sizeof(pg->lines[0]), fmt, ap);
	va_end(ap);
}

/* Objects 1..7 with their byte offsets in the xref table. */
static void write_pdf(const char *path, const struct page *pg)
{
	struct buf content = {0}, b = {0};
	buf_printf(&content, "BT\n/F1 16 Tf\n72 720 Td\n");
	pdf_string(&content, pg->title);
	buf_printf(&content, " Tj\n/F2 10 Tf\n14 TL\nT*\n");
	for (int i = 0; i < pg->n; i++) {
		/* ' moves to the next line and shows the string. */
		pdf_string(&content, pg->lines[i]);
		buf_printf(&content, " '\n");
	}
	buf_printf(&content, "ET\n");

	size_t off[8];
	buf_printf(&b, "%%PDF-1.4\n%%\xe2\xe3\xcf\xd3\n");
	off[1] = b.len;
	buf_printf(&b, "1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n");
	off[2] = b.len;
	buf_printf(&b, "2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n");
	off[3] = b.len;
	buf_printf(
	    &b, "3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792]\n"
	        "   /Resources << /Font << /F1 4 0 R /F2 7 0 R >> >> /Contents 5 0 R >>\nendobj\n");
	off[4] = b.len;
	buf_printf(&b, "4 0 obj\n<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold\n"
	               "   /Encoding /WinAnsiEncoding >>\nendobj\n");
	off[5] = b.len;
	buf_printf(&b, "5 0 obj\n<< /Length %zu >>\nstream\n", content.len);
	buf_add(&b, content.p, content.len);
	buf_printf(&b, "endstream\nendobj\n");
	off[6] = b.len;
	buf_printf(&b, "6 0 obj\n<< /Title ");
	pdf_string(&b, pg->title);
	buf_printf(&b, " /Producer (gen_school) >>\nendobj\n");
	off[7] = b.len;
	/* Fixed-width body text, so the transcript's columns line up. */
	buf_printf(&b, "7 0 obj\n<< /Type /Font /Subtype /Type1 /BaseFont /Courier\n"
	               "   /Encoding /WinAnsiEncoding >>\nendobj\n");

	size_t xref = b.len;
	/* Each entry is exactly 20 bytes, ending in space and newline. */
	buf_printf(&b, "xref\n0 8\n0000000000 65535 f \n");
	for (int i = 1; i <= 7; i++)
		buf_printf(&b, "%010zu 00000 n \n", off[i]);
	buf_printf(&b, "trailer\n<< /Size 8 /Root 1 0 R /Info 6 0 R >>\nstartxref\n%zu\n%%%%EOF\n",
	           xref);

	FILE *f = fopen(path, "wb");
	if (!f || fwrite(b.p, 1, b.len, f) != b.len || fclose(f) != 0)
		die("cannot write", path);
	free(content.p);
	free(b.p);
}

static void transcript_page(struct page *pg, const struct student *st)
{
	char birth[32];
	fmt_date(birth, sizeof(birth), st->birth);
	snprintf(pg->title, sizeof(pg->title), "Official transcript - %s", st->full);
	page_line(pg, "%s (%s)    Student %s    Born %s", SCHOOL_NAME, SCHOOL_CODE, st->id, birth);
	page_line(pg, "%s", "");
	double attempted = 0, earned = 0;
	for (int i = 0; i < st->ncourses; i++) {
		const struct course *c = &st->courses[i];
		page_line(pg, "%s %s %-7s %-28s %-2s %.1f/%.1f", c->year, c->term, c->code,
		          c->title, c->grade, c->earned, c->attempted);
		attempted += c->attempted;
		earned += c->earned;
	}
	page_line(pg, "%s", "");
	page_line(pg, "Credits earned %.1f of %.1f attempted.", earned, attempted);
	page_line(pg, "Grades: A-D passing, F failing, P pass, W withdrawn, IP in progress.");
	page_line(pg, "Synthetic test data: this student and school do not exist.");
}

static void iep_page(struct page *pg, const struct student *st)
{
	char birth[32], plan[32];
	fmt_date(birth, sizeof(birth), st->birth);
	snprintf(pg->title, sizeof(pg->title), "Individualized Education Program - %s", st->full);
	page_line(pg, "%s (%s)    Student %s    Born %s", SCHOOL_NAME, SCHOOL_CODE, st->id, birth);
	page_line(pg, "%s", "");
	if (st->plan_date) {
		fmt_date(plan, sizeof(plan), st->plan_date);
		page_line(pg, "Plan date: %s", plan);
	}
	page_line(pg, "Eligibility: %s", st->disability ? st->disability : "on file");
	page_line(pg, "%s", "");
	page_line(pg, "Services:");
	for (int i = 0; i < st->nservices; i++)
		page_line(pg, "  - %s", st->services[i]);
	page_line(pg, "%s", "");
	page_line(pg, "Annual goals:");
	page_line(pg, "  1. Complete multi-step assignments with a checklist, 4 of 5 times.");
	page_line(pg, "  2. Read grade-level texts and summarize the main idea in writing.");
	page_line(pg, "  3. Ask for help or a break using an agreed signal when needed.");
	page_line(pg, "Progress is reported to the family with each report card.");
	page_line(pg, "%s", "");
	page_line(pg, "Synthetic test data: this student and school do not exist.");
}

/* ---- output ---- */

static char *join(const char *a, const char *b)
{
	size_t n = strlen(a) + strlen(b) + 2;
	char *p = malloc(n);
	if (!p)
		die("out of memory", NULL);
	snprintf(p, n, "%s/%s", a, b);
	return p;
}

static void make_dir(const char *path)
{
	if (mkdir(path, 0777) != 0 && errno != EEXIST)
		die("cannot create directory", path);
}

/* Writes the student's PDF and returns its attachments entry. */
static json_t *attachment_json(const struct student *st, const char *outdir)
{
	bool iep = st->sped && st->iep_plan;
	const char *kind = iep ? "iep" : "transcript";
	char name[32], rel[96];
	snprintf(name, sizeof(name), "%s.pdf", kind);
	snprintf(rel, sizeof(rel), "files/%s-%s.pdf", st->id, kind);

	struct page *pg = calloc(1, sizeof(*pg));
	if (!pg)
		die("out of memory", NULL);
	if (iep)
		iep_page(pg, st);
	else
		transcript_page(pg, st);
	char *path = join(outdir, rel);
	write_pdf(path, pg);
	free(path);
	free(pg);

	json_t *a = json_array(), *o = json_object();
	put_str(o, "name", name);
	put_str(o, "media_type", "application/pdf");
	put_str(o, "section", iep ? "special_education" : "transcript");
	put_str(o, "path", rel);
	append(a, o);
	return a;
}

static json_t *record_json(struct student *st, const char *outdir, bool attachments)
{
	struct rng *r = &st->r;
	/* Every twelfth student has a PDF; every fourth of those an IEP. */
	bool attach = attachments && st->pos % 12 == 5;
	bool force_sped = attach && st->pos % 48 == 5;

	make_courses(st);
	json_t *o = json_object();
	put_str(o, "student_id", st->id);
	if (chance(r, 92)) {
		char sid[32];
		unsigned hi = below(r, 10000), lo = below(r, 10000);
		snprintf(sid, sizeof(sid), "ST-%04u-%04u", hi, lo);
		put_str(o, "state_student_id", sid);
	}
	put(o, "identity", identity_json(st));
	/* Some adult students keep no guardian contacts. */
	if (!(st->birth <= days_from_civil(2008, 11, 23) && chance(r, 30)))
		put(o, "guardians", guardians_json(st));
	put(o, "enrollment", enrollment_json(st));
	put(o, "transcript", transcript_json(st));
	put(o, "attendance", attendance_json(st));
	json_t *tests = assessments_json(st);
	if (tests)
		put(o, "assessments", tests);
	if (force_sped || chance(r, 9)) {
		make_sped(st, force_sped);
		put(o, "special_education", sped_json(st));
	}
	if (chance(r, 30))
		put(o, "health", health_json(st));
	if (chance(r, 8))
		put(o, "discipline", discipline_json(st));
	if (attach)
		put(o, "attachments", attachment_json(st, outdir));
	return o;
}

static bool parse_ulong(const char *s, unsigned long long max, unsigned long long *out)
{
	char *end;
	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end || v > max)
		return false;
	*out = v;
	return true;
}

int main(int argc, char **argv)
{
	unsigned long long count = DEFAULT_COUNT, seed = DEFAULT_SEED;
	if (argc < 2 || argc > 4 || (argc > 2 && !parse_ulong(argv[2], MAX_COUNT, &count)) ||
	    (argc > 3 && !parse_ulong(argv[3], UINT64_MAX, &seed))) {
		fprintf(stderr,
		        "usage: gen_school OUTDIR [COUNT] [SEED]\n"
		        "  COUNT 0..%d (default %d), SEED 0..2^64-1 (default %u)\n",
		        MAX_COUNT, DEFAULT_COUNT, DEFAULT_SEED);
		return 2;
	}
	const char *outdir = argv[1];
	bool attachments = count <= ATTACH_MAX_COUNT;
	as_of = days_from_civil(2026, 11, 23);

	make_dir(outdir);
	if (attachments && count > 5) {
		char *files = join(outdir, "files");
		make_dir(files);
		free(files);
	}
	char *path = join(outdir, "school.json");
	FILE *f = fopen(path, "w");
	if (!f)
		die("cannot write", path);

	/* One record at a time, so memory does not grow with COUNT. */
	struct student *st = malloc(sizeof(*st));
	if (!st)
		die("out of memory", NULL);
	fputs("[\n", f);
	for (unsigned long i = 0; i < count; i++) {
		make_student(st, seed, i);
		json_t *rec = record_json(st, outdir, attachments);
		if (i)
			fputs(",\n", f);
		if (json_dumpf(rec, f, JSON_INDENT(2)) != 0)
			die("cannot write", path);
		json_decref(rec);
	}
	fputs(count ? "\n]\n" : "]\n", f);
	if (ferror(f) || fclose(f) != 0)
		die("cannot write", path);
	free(st);
	free(path);
	return 0;
}
