/*
 * The canonical msgpack codec: the encoder's shortest forms, and the
 * pre-walk refusing every hostile input of SECURITY.md (declared lengths
 * far past the input, depth, trailing bytes, duplicate keys, forbidden
 * types, non-canonical forms, bad UTF-8) before msgpack-c sees it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proto_impl.h"
#include "testutil.h"

#define B(...) ((const uint8_t[]){__VA_ARGS__})
#define WALK(err, ...)                                                                             \
	do {                                                                                       \
		static const uint8_t in_[] = {__VA_ARGS__};                                        \
		assert_int_equal(bti_mp_walk(in_, sizeof(in_), &bti_dec_default_limits), err);     \
	} while (0)

static void encode_uint(uint64_t v, uint8_t *out, size_t *len)
{
	struct enc e;
	bti_enc_init(&e, out, 16);
	bti_enc_uint(&e, v);
	assert_int_equal(e.err, 0);
	*len = e.len;
}

static void test_encoder_shortest(void **state)
{
	static const struct {
		uint64_t v;
		size_t len;
		uint8_t first;
	} cases[] = {
	    {0, 1, 0x00},           {127, 1, 0x7f},        {128, 2, 0xcc},   {255, 2, 0xcc},
	    {256, 3, 0xcd},         {65535, 3, 0xcd},      {65536, 5, 0xce}, {0xffffffff, 5, 0xce},
	    {0x100000000, 9, 0xcf}, {UINT64_MAX, 9, 0xcf},
	};
	uint8_t out[16];
	size_t len;
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		encode_uint(cases[i].v, out, &len);
		assert_int_equal(len, cases[i].len);
		assert_int_equal(out[0], cases[i].first);
		/* What the encoder writes, the walker accepts. */
		assert_int_equal(bti_mp_walk(out, len, &bti_dec_default_limits), 0);
	}
}

static void test_encoder_strings_containers(void **state)
{
	uint8_t buf[70000], text[66000];
	struct enc e;
	(void)state;
	memset(text, 'a', sizeof(text));
	static const struct {
		size_t n;
		uint8_t type;
		size_t hdr;
	} strs[] = {{0, 0xa0, 1},   {31, 0xbf, 1},    {32, 0xd9, 2},   {255, 0xd9, 2},
	            {256, 0xda, 3}, {65535, 0xda, 3}, {65536, 0xdb, 5}};
	struct dec_limits big = {sizeof(buf), 4, 16};
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
		bti_enc_init(&e, buf, sizeof(buf));
		bti_enc_strn(&e, (const char *)text, strs[i].n);
		assert_int_equal(e.err, 0);
		assert_int_equal(buf[0], strs[i].type);
		assert_int_equal(e.len, strs[i].hdr + strs[i].n);
		assert_int_equal(bti_mp_walk(buf, e.len, &big), 0);
	}
	bti_enc_init(&e, buf, sizeof(buf));
	bti_enc_bin(&e, text, 0);
	assert_int_equal(buf[0], 0xc4);
	bti_enc_init(&e, buf, sizeof(buf));
	bti_enc_bin(&e, text, 256);
	assert_int_equal(buf[0], 0xc5);
	bti_enc_init(&e, buf, sizeof(buf));
	bti_enc_map(&e, 15);
	assert_int_equal(buf[0], 0x8f);
	bti_enc_init(&e, buf, sizeof(buf));
	bti_enc_array(&e, 16);
	assert_int_equal(buf[0], 0xdc);
	/* The counting pass and the writing pass agree, and overflow is caught. */
	bti_enc_init(&e, buf, 3);
	bti_enc_strn(&e, "abcd", 4);
	assert_int_equal(e.err, BATON_EINTERNAL);
	/* Counting is asked for by name; a NULL buffer is only a buffer with no room. */
	bti_enc_init_count(&e);
	bti_enc_strn(&e, "abcd", 4);
	assert_int_equal(e.err, 0);
	assert_int_equal(e.len, 5);
	bti_enc_init(&e, NULL, 0);
	bti_enc_strn(&e, "abcd", 4);
	assert_int_equal(e.err, BATON_EINTERNAL);
}

static void test_walk_accepts_canonical(void **state)
{
	(void)state;
	WALK(0, 0x80);                                        /* {} */
	WALK(0, 0x90);                                        /* [] */
	WALK(0, 0x82, 0xa1, 'a', 0x01, 0xa1, 'b', 0xc3);      /* {"a":1,"b":true} */
	WALK(0, 0x82, 0xa1, 'a', 0x01, 0xa2, 'a', 'a', 0xc2); /* "a" < "aa" */
	WALK(0, 0xa3, 0xe2, 0x82, 0xac);                      /* "€" */
	WALK(0, 0xc4, 0x00);                                  /* empty bin */
}

static void test_walk_truncation_and_lengths(void **state)
{
	(void)state;
	assert_int_equal(bti_mp_walk(B(0), 0, &bti_dec_default_limits), BATON_ETRUNC);
	WALK(BATON_ETRUNC, 0xcd, 0x01);       /* uint16 missing a byte */
	WALK(BATON_ELENGTH, 0x92, 0x01);      /* array of 2 with 1 byte left */
	WALK(BATON_ETRUNC, 0x92, 0x91, 0x01); /* ends where the second item should be */
	WALK(BATON_ELENGTH, 0xa5, 'a', 'b');  /* fixstr of 5 with 2 bytes */
	/* Declared lengths far past the input: str32, bin32, array32, map32 of 2^31. */
	WALK(BATON_ELENGTH, 0xdb, 0x80, 0x00, 0x00, 0x00, 'x');
	WALK(BATON_ELENGTH, 0xc6, 0x80, 0x00, 0x00, 0x00, 'x');
	WALK(BATON_ELENGTH, 0xdd, 0x80, 0x00, 0x00, 0x00, 0x01);
	WALK(BATON_ELENGTH, 0xdf, 0x80, 0x00, 0x00, 0x00, 0xa1, 'a', 0x01);
	WALK(BATON_ELENGTH, 0xdf, 0xff, 0xff, 0xff, 0xff);
	/* A 5-byte input that would make msgpack-c reserve gigabytes. */
	WALK(BATON_ELENGTH, 0xdd, 0x7f, 0xff, 0xff, 0xff);
}

static void test_walk_trailing(void **state)
{
	(void)state;
	WALK(BATON_ETRAILING, 0x01, 0x02);
	WALK(BATON_ETRAILING, 0x80, 0x00);
}

static void test_walk_depth(void **state)
{
	uint8_t deep[DEC_MAX_DEPTH + 2];
	(void)state;
	/* Exactly the cap is allowed, one more is not. */
	memset(deep, 0x91, sizeof(deep));
	deep[DEC_MAX_DEPTH] = 0x01;
	assert_int_equal(bti_mp_walk(deep, DEC_MAX_DEPTH + 1, &bti_dec_default_limits), 0);
	deep[DEC_MAX_DEPTH] = 0x91;
	deep[DEC_MAX_DEPTH + 1] = 0x01;
	assert_int_equal(bti_mp_walk(deep, sizeof(deep), &bti_dec_default_limits), BATON_EDEPTH);
	/* 100,000 levels: refused quickly, without recursion. */
	size_t n = 100000;
	uint8_t *p = malloc(n + 1);
	memset(p, 0x91, n);
	p[n] = 0x01;
	struct dec_limits lim = {n + 1, DEC_MAX_DEPTH, n + 1};
	assert_int_equal(bti_mp_walk(p, n + 1, &lim), BATON_EDEPTH);
	memset(p, 0x81, n); /* maps nest through their values */
	assert_int_equal(bti_mp_walk(p, n + 1, &lim), BATON_ETYPE); /* a map key must be a string */
	free(p);
}

static void test_walk_keys(void **state)
{
	(void)state;
	WALK(BATON_EDUPKEY, 0x82, 0xa1, 'a', 0x01, 0xa1, 'a', 0x02);
	WALK(BATON_ENONCANON, 0x82, 0xa1, 'b', 0x01, 0xa1, 'a', 0x02);
	WALK(BATON_ENONCANON, 0x82, 0xa2, 'a', 'a', 0x01, 0xa1, 'a', 0x02);
	WALK(BATON_ETYPE, 0x81, 0x01, 0x02); /* integer key */
	/* Keys compare within one map only. */
	WALK(0, 0x82, 0xa1, 'a', 0x81, 0xa1, 'z', 0x01, 0xa1, 'b', 0x81, 0xa1, 'a', 0x01);
}

static void test_walk_forbidden_types(void **state)
{
	(void)state;
	WALK(BATON_ETYPE, 0xc0);             /* nil */
	WALK(BATON_ETYPE, 0xc1);             /* reserved */
	WALK(BATON_ETYPE, 0xff);             /* negative fixint */
	WALK(BATON_ETYPE, 0xd0, 0x80);       /* int8 */
	WALK(BATON_ETYPE, 0xca, 0, 0, 0, 0); /* float32 */
	WALK(BATON_ETYPE, 0xcb, 0, 0, 0, 0, 0, 0, 0, 0);
	WALK(BATON_ETYPE, 0xd4, 0x01, 0x00); /* fixext1 */
	WALK(BATON_ETYPE, 0xc7, 0x00, 0x01); /* ext8 */
}

static void test_walk_noncanonical(void **state)
{
	(void)state;
	WALK(BATON_ENONCANON, 0xcc, 0x05);       /* 5 as uint8 */
	WALK(BATON_ENONCANON, 0xcd, 0x00, 0xff); /* 255 as uint16 */
	WALK(BATON_ENONCANON, 0xce, 0x00, 0x00, 0xff, 0xff);
	WALK(BATON_ENONCANON, 0xcf, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff);
	WALK(BATON_ENONCANON, 0xd9, 0x01, 'a'); /* short string as str8 */
	WALK(BATON_ENONCANON, 0xda, 0x00, 0x01, 'a');
	WALK(BATON_ENONCANON, 0xc5, 0x00, 0x01, 'a');  /* short bin as bin16 */
	WALK(BATON_ENONCANON, 0xdc, 0x00, 0x01, 0x01); /* 1-element array16 */
	WALK(BATON_ENONCANON, 0xde, 0x00, 0x00);
}

static void test_walk_utf8(void **state)
{
	(void)state;
	WALK(BATON_EUTF8, 0xa2, 0xc0, 0xaf);             /* overlong '/' */
	WALK(BATON_EUTF8, 0xa3, 0xed, 0xa0, 0x80);       /* surrogate */
	WALK(BATON_EUTF8, 0xa4, 0xf4, 0x90, 0x80, 0x80); /* past U+10FFFF */
	WALK(BATON_EUTF8, 0xa1, 0x00);                   /* NUL */
	WALK(BATON_EUTF8, 0xa1, 0x80);                   /* lone continuation */
	WALK(BATON_EUTF8, 0xa2, 0xe2, 0x82);             /* cut sequence */
	WALK(0, 0xa4, 0xf0, 0x9f, 0x8e, 0x93);           /* U+1F393 */
}

static void test_walk_caps(void **state)
{
	uint8_t many[40];
	(void)state;
	struct dec_limits lim = {64, 4, 8};
	memset(many, 0x01, sizeof(many));
	many[0] = 0x9f; /* array of 15 */
	assert_int_equal(bti_mp_walk(many, 16, &lim), BATON_ETOOBIG);
	lim.max_objects = 16;
	assert_int_equal(bti_mp_walk(many, 16, &lim), 0);
	lim.max_len = 15;
	assert_int_equal(bti_mp_walk(many, 16, &lim), BATON_ETOOBIG);
}

static void test_decode_and_fields(void **state)
{
	static const uint8_t in[] = {0x83, 0xa1, 'a', 0x05, 0xa1, 'b',  0xa2, 'h',
	                             'i',  0xa1, 'z', 0xc4, 0x02, 0xaa, 0xbb};
	static const char *const keys[] = {"a", "b", "c", "z"};
	const msgpack_object *v[4];
	msgpack_zone z;
	msgpack_object o;
	uint64_t u;
	char s[8];
	(void)state;

	assert_true(msgpack_zone_init(&z, 256));
	assert_int_equal(bti_mp_decode(in, sizeof(in), &bti_dec_default_limits, &z, &o), 0);
	assert_int_equal(bti_mp_fields(&o, "t", keys, 4, v), 0);
	assert_int_equal(bti_mp_uint(v[0], "t", "a", &u), 0);
	assert_int_equal(u, 5);
	assert_int_equal(bti_mp_str(v[1], "t", "b", 1, s, sizeof(s)), 0);
	assert_string_equal(s, "hi");
	assert_int_equal(bti_mp_str(v[1], "t", "b", 1, s, 2), BATON_EVALUE); /* too long */
	assert_int_equal(bti_mp_uint(v[2], "t", "c", &u), BATON_EMISSING);
	assert_string_equal(baton_diag(), "t.c: required field missing");
	assert_int_equal(bti_mp_uint(v[1], "t", "b", &u), BATON_ETYPE);
	assert_non_null(strstr(baton_diag(), "t.b"));
	uint8_t fixed[2];
	assert_int_equal(bti_mp_fixbin(v[3], "t", "z", fixed, 2), 0);
	assert_int_equal(bti_mp_fixbin(v[3], "t", "z", fixed, 1), BATON_EVALUE);
	/* A key outside the schema is an error, naming the key. */
	assert_int_equal(bti_mp_fields(&o, "t", keys, 2, v), BATON_EUNKNOWN);
	assert_non_null(strstr(baton_diag(), "\"z\""));
	msgpack_zone_destroy(&z);
}

static void test_sections(void **state)
{
	uint32_t m;
	char buf[200];
	(void)state;
	assert_int_equal(baton_sections_parse("all", &m), 0);
	assert_int_equal(m & BATON_SEC_SENSITIVE_MASK, 0);
	assert_true(m & BATON_SEC_BIT(BATON_SEC_IDENTITY));
	assert_int_equal(baton_sections_parse("all,health", &m), 0);
	assert_true(m & BATON_SEC_BIT(BATON_SEC_HEALTH));
	assert_false(m & BATON_SEC_BIT(BATON_SEC_DISCIPLINE));
	assert_int_equal(baton_sections_parse("transcript,lunch", &m), BATON_EVALUE);
	assert_non_null(strstr(baton_diag(), "\"lunch\""));
	assert_int_equal(baton_sections_parse("", &m), BATON_EVALUE);
	assert_int_equal(baton_sections_parse("identity,special_education", &m), 0);
	assert_int_equal(baton_sections_format(m, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "identity,special_education");
	assert_int_equal(baton_sections_format(m, buf, 5), BATON_EINVAL);
	/* A name that is no section is not found; the name need not be NUL-terminated. */
	baton_section sec = BATON_SEC_IDENTITY;
	assert_int_equal(baton_section_lookup("lunch", 5, &sec), BATON_ENOTFOUND);
	assert_int_equal(sec, BATON_SEC_IDENTITY);
	assert_int_equal(baton_section_lookup("healthy", 6, &sec), 0);
	assert_int_equal(sec, BATON_SEC_HEALTH);
	/* Wire order: baton_section_nth walks every section once, names ascending bytewise. */
	uint32_t seen = 0;
	for (int i = 0; i < BATON_SEC_COUNT; i++) {
		baton_section s = baton_section_nth(i);
		assert_true((int)s >= 0 && s < BATON_SEC_COUNT);
		assert_false(seen & BATON_SEC_BIT(s));
		seen |= BATON_SEC_BIT(s);
		if (i > 0)
			assert_true(strcmp(baton_section_name(baton_section_nth(i - 1)),
			                   baton_section_name(s)) < 0);
	}
	assert_int_equal(seen, BATON_SEC_ALL_MASK);
	assert_int_equal(baton_section_nth(-1), BATON_SEC_COUNT);
	assert_int_equal(baton_section_nth(BATON_SEC_COUNT), BATON_SEC_COUNT);
	assert_true(baton_section_sensitive(BATON_SEC_HEALTH));
	assert_false(baton_section_sensitive(BATON_SEC_TRANSCRIPT));
	assert_null(baton_section_name(BATON_SEC_COUNT));
}

/*
 * Record schema version 2's sections: indexes 0..8 keep version 1's names
 * and bits (a stored mask keeps its meaning), the new ones are 9..13, and
 * every list on the wire is in bytewise name order, not index order.
 */
static void test_sections_v2(void **state)
{
	static const char *const by_index[] = {
	    "assessments",     "attendance", "discipline",        "enrollment", "guardians",
	    "health",          "identity",   "special_education", "transcript", "custody",
	    "english_learner", "graduation", "homeless",          "section_504"};
	static const char all_names[] =
	    "assessments,attendance,custody,discipline,english_learner,enrollment,graduation,"
	    "guardians,health,homeless,identity,section_504,special_education,transcript";
	uint32_t m;
	char buf[BATON_SECTIONS_TEXT_MAX];
	(void)state;

	assert_int_equal(BATON_SEC_COUNT, 14);
	for (int i = 0; i < BATON_SEC_COUNT; i++) {
		baton_section s;
		assert_string_equal(baton_section_name((baton_section)i), by_index[i]);
		assert_int_equal(baton_section_lookup(by_index[i], strlen(by_index[i]), &s), 0);
		assert_int_equal(s, i);
	}
	assert_int_equal(BATON_SEC_BIT(BATON_SEC_TRANSCRIPT), 1u << 8);
	assert_int_equal(BATON_SEC_BIT(BATON_SEC_SECTION_504), 1u << 13);
	/* Sensitive: version 1's three and four of the five new ones. */
	assert_int_equal(BATON_SEC_SENSITIVE_MASK, (1u << 2) | (1u << 5) | (1u << 7) | (1u << 9) |
	                                               (1u << 10) | (1u << 12) | (1u << 13));
	assert_true(baton_section_sensitive(BATON_SEC_CUSTODY));
	assert_true(baton_section_sensitive(BATON_SEC_ENGLISH_LEARNER));
	assert_true(baton_section_sensitive(BATON_SEC_HOMELESS));
	assert_true(baton_section_sensitive(BATON_SEC_SECTION_504));
	assert_false(baton_section_sensitive(BATON_SEC_GRADUATION));
	assert_false(baton_section_sensitive(BATON_SEC_COUNT));

	/* "all": every section that is not sensitive, graduation included. */
	assert_int_equal(baton_sections_parse("all", &m), 0);
	assert_int_equal(baton_sections_format(m, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "assessments,attendance,enrollment,graduation,guardians,identity,"
	                         "transcript");
	assert_int_equal(baton_sections_parse("custody,graduation,section_504", &m), 0);
	assert_int_equal(m, BATON_SEC_BIT(BATON_SEC_CUSTODY) | BATON_SEC_BIT(BATON_SEC_GRADUATION) |
	                        BATON_SEC_BIT(BATON_SEC_SECTION_504));
	/* Parsing takes any order; formatting gives name order, not index order. */
	assert_int_equal(baton_sections_parse("transcript,section_504,identity,custody", &m), 0);
	assert_int_equal(baton_sections_format(m, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "custody,identity,section_504,transcript");
	/* Every section fits in BATON_SECTIONS_TEXT_MAX; one byte less than needed does not. */
	assert_int_equal(baton_sections_format(BATON_SEC_ALL_MASK, buf, sizeof(buf)), 0);
	assert_string_equal(buf, all_names);
	assert_int_equal(baton_sections_format(BATON_SEC_ALL_MASK, buf, sizeof(all_names)), 0);
	assert_int_equal(baton_sections_format(BATON_SEC_ALL_MASK, buf, sizeof(all_names) - 1),
	                 BATON_EINVAL);
	/* A bad entry's error lists every section, the new ones too. */
	assert_int_equal(baton_sections_parse("graduation,section504", &m), BATON_EVALUE);
	assert_int_equal(m, 0);
	assert_non_null(strstr(baton_diag(), "\"section504\""));
	assert_non_null(strstr(baton_diag(),
	                       "use all, assessments, attendance, custody, discipline, "
	                       "english_learner, enrollment, graduation, guardians, "
	                       "health, homeless, identity, section_504, "
	                       "special_education, transcript)"));
	/* Names are matched exactly. */
	assert_int_equal(baton_sections_parse("Custody", &m), BATON_EVALUE);
	assert_int_equal(baton_sections_parse("section_50", &m), BATON_EVALUE);
}

/* Decodes in as a sections list, as a consent's "sections" field. */
static int mp_sections(const uint8_t *in, size_t len, uint32_t *mask)
{
	msgpack_zone z;
	msgpack_object o;
	int r;
	assert_true(msgpack_zone_init(&z, 512));
	r = bti_mp_decode(in, len, &bti_dec_default_limits, &z, &o);
	if (r == 0)
		r = bti_mp_sections(&o, "consent", "sections", mask);
	msgpack_zone_destroy(&z);
	return r;
}

/* A list written name by name, as another implementation would write it. */
static size_t names_list(uint8_t *out, size_t cap, const char *const *names, size_t n)
{
	struct enc e;
	bti_enc_init(&e, out, cap);
	bti_enc_array(&e, (uint32_t)n);
	for (size_t i = 0; i < n; i++)
		bti_enc_str(&e, names[i]);
	assert_int_equal(e.err, 0);
	return e.len;
}

static void test_sections_wire(void **state)
{
	uint8_t a[512], b[512];
	uint32_t m;
	size_t n;
	(void)state;

	/* Every mask: the encoder writes the names of baton_sections_format, in that
	 * order, and the decoder gives the mask back. */
	for (uint32_t mask = 1; mask <= BATON_SEC_ALL_MASK; mask++) {
		char text[BATON_SECTIONS_TEXT_MAX], *save = NULL;
		const char *names[BATON_SEC_COUNT];
		size_t k = 0;
		struct enc e;
		assert_int_equal(baton_sections_format(mask, text, sizeof(text)), 0);
		for (char *t = strtok_r(text, ",", &save); t; t = strtok_r(NULL, ",", &save))
			names[k++] = t;
		n = names_list(a, sizeof(a), names, k);
		bti_enc_init(&e, b, sizeof(b));
		bti_enc_sections(&e, mask);
		assert_int_equal(e.err, 0);
		assert_int_equal(e.len, n);
		assert_memory_equal(a, b, n);
		assert_int_equal(mp_sections(b, n, &m), 0);
		assert_int_equal(m, mask);
	}

	static const char *const ok[] = {"custody", "graduation", "section_504"};
	n = names_list(a, sizeof(a), ok, 3);
	assert_int_equal(mp_sections(a, n, &m), 0);
	assert_int_equal(m, BATON_SEC_BIT(BATON_SEC_CUSTODY) | BATON_SEC_BIT(BATON_SEC_GRADUATION) |
	                        BATON_SEC_BIT(BATON_SEC_SECTION_504));
	/* Index order (identity 6, transcript 8, custody 9) is not name order. */
	static const char *const by_index[] = {"identity", "transcript", "custody"};
	n = names_list(a, sizeof(a), by_index, 3);
	assert_int_equal(mp_sections(a, n, &m), BATON_ENONCANON);
	assert_non_null(strstr(baton_diag(), "consent.sections[2]: \"custody\" out of order"));
	/* "section_504" sorts before "special_education" ('e' < 'p'), though its index is higher.
	 */
	static const char *const s504[] = {"section_504", "special_education"};
	n = names_list(a, sizeof(a), s504, 2);
	assert_int_equal(mp_sections(a, n, &m), 0);
	static const char *const swapped[] = {"special_education", "section_504"};
	n = names_list(a, sizeof(a), swapped, 2);
	assert_int_equal(mp_sections(a, n, &m), BATON_ENONCANON);
	static const char *const twice[] = {"custody", "custody"};
	n = names_list(a, sizeof(a), twice, 2);
	assert_int_equal(mp_sections(a, n, &m), BATON_EVALUE);
	assert_non_null(strstr(baton_diag(), "repeated"));
	static const char *const unknown[] = {"custody", "lunch"};
	n = names_list(a, sizeof(a), unknown, 2);
	assert_int_equal(mp_sections(a, n, &m), BATON_EVALUE);
	assert_non_null(strstr(baton_diag(), "unknown section \"lunch\""));
	/* Fourteen entries at most: all fourteen pass, a fifteenth is EVALUE. */
	const char *all[BATON_SEC_COUNT + 1];
	for (int i = 0; i < BATON_SEC_COUNT; i++)
		all[i] = baton_section_name(baton_section_nth(i));
	n = names_list(a, sizeof(a), all, BATON_SEC_COUNT);
	assert_int_equal(mp_sections(a, n, &m), 0);
	assert_int_equal(m, BATON_SEC_ALL_MASK);
	all[BATON_SEC_COUNT] = "transcript";
	n = names_list(a, sizeof(a), all, BATON_SEC_COUNT + 1);
	assert_int_equal(mp_sections(a, n, &m), BATON_EVALUE);
	assert_non_null(strstr(baton_diag(), "15 entries, expected 1..14"));
}

static void test_errors(void **state)
{
	int code;
	(void)state;
	assert_string_equal(baton_errname(BATON_EBADSIG), "EBADSIG");
	assert_int_equal(baton_errcode("EBADSIG", &code), 0);
	assert_int_equal(code, BATON_EBADSIG);
	assert_int_equal(baton_errcode("ENOPE", &code), BATON_ENOTFOUND);
	assert_string_equal(baton_strerror(12345), "unknown error");
	for (int e = 0; e >= -60; e--)
		if (strcmp(baton_errname(e), "EUNKNOWNCODE") != 0) {
			assert_int_equal(baton_errcode(baton_errname(e), &code), 0);
			assert_int_equal(code, e);
		}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_encoder_shortest),
	    cmocka_unit_test(test_encoder_strings_containers),
	    cmocka_unit_test(test_walk_accepts_canonical),
	    cmocka_unit_test(test_walk_truncation_and_lengths),
	    cmocka_unit_test(test_walk_trailing),
	    cmocka_unit_test(test_walk_depth),
	    cmocka_unit_test(test_walk_keys),
	    cmocka_unit_test(test_walk_forbidden_types),
	    cmocka_unit_test(test_walk_noncanonical),
	    cmocka_unit_test(test_walk_utf8),
	    cmocka_unit_test(test_walk_caps),
	    cmocka_unit_test(test_decode_and_fields),
	    cmocka_unit_test(test_sections),
	    cmocka_unit_test(test_sections_v2),
	    cmocka_unit_test(test_sections_wire),
	    cmocka_unit_test(test_errors),
	};
	if (baton_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
