/*
 * Runs every case in tests/vectors/ (or $BATON_VECTORS): decodes the input
 * as the case's kind, compares the result with the error name the case
 * expects, and for valid packets compares the decrypted sections and
 * attachments byte for byte.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <sodium.h>

#include <baton/disclosures.h>

#include "frame.h"
#include "proto_impl.h"
#include "testutil.h"

static uint8_t *unhex(const char *h, size_t *len)
{
	size_t n = strlen(h) / 2;
	uint8_t *p = malloc(n ? n : 1);
	assert_non_null(p);
	assert_int_equal(sodium_hex2bin(p, n ? n : 1, h, strlen(h), NULL, len, NULL), 0);
	return p;
}

static baton_key *seed_key(json_t *v)
{
	size_t n;
	uint8_t *seed = unhex(json_string_value(json_object_get(v, "recipient_seed")), &n);
	baton_key *k;
	assert_int_equal(n, 32);
	assert_int_equal(baton_key_from_seed(BATON_KEY_SCHOOL, seed, &k), 0);
	free(seed);
	return k;
}

static uint64_t num(json_t *v, const char *key)
{
	return (uint64_t)json_integer_value(json_object_get(v, key));
}

static int run_packet(json_t *v, const uint8_t *in, size_t len)
{
	baton_key *me = seed_key(v);
	baton_source src;
	baton_opened *o = NULL;
	baton_open_params p = tu_open_params(me, num(v, "now"));
	p.skew = num(v, "skew");
	baton_source_mem(&src, in, len);
	int r = baton_packet_open(&src, &p, &o);
	if (r == 0) {
		const baton_body *b = baton_opened_body(o);
		json_t *secs = json_object_get(v, "sections"),
		       *atts = json_object_get(v, "attachments");
		const char *key;
		json_t *val;
		size_t i, n = 0;
		if (secs) {
			json_object_foreach(secs, key, val)
			{
				baton_section s;
				assert_int_equal(baton_section_lookup(key, strlen(key), &s), 0);
				assert_int_equal(b->section_len[s], json_string_length(val));
				assert_memory_equal(b->section[s], json_string_value(val),
				                    b->section_len[s]);
				n++;
			}
			for (int s = 0; s < BATON_SEC_COUNT; s++)
				n -= b->section[s] != NULL;
			assert_int_equal(n, 0);
		}
		if (atts) {
			assert_int_equal(json_array_size(atts), b->n_attachments);
			json_array_foreach(atts, i, val)
			{
				tu_buf plain = {0};
				size_t clen;
				uint8_t *want = unhex(
				    json_string_value(json_object_get(val, "content")), &clen);
				assert_string_equal(
				    b->attachments[i].name,
				    json_string_value(json_object_get(val, "name")));
				assert_int_equal(
				    baton_opened_attachment(o, i, tu_buf_write, &plain), 0);
				assert_int_equal(plain.len, clen);
				if (clen)
					assert_memory_equal(plain.p, want, clen);
				free(want);
				tu_buf_free(&plain);
			}
		}
		/* A transfer's terms: exactly the member's text, or none when it is absent. */
		json_t *terms = json_object_get(v, "terms");
		if (secs && terms) {
			assert_int_equal(b->terms_len, json_string_length(terms));
			assert_memory_equal(b->terms, json_string_value(terms), b->terms_len);
		} else if (secs) {
			assert_int_equal(b->terms_len, 0);
		}
		json_t *want = json_object_get(v, "want");
		if (want) {
			char got[BATON_SECTIONS_TEXT_MAX];
			assert_int_equal(baton_sections_format(b->requested_mask, got, sizeof(got)),
			                 0);
			assert_string_equal(got, json_string_value(want));
		}
		json_t *ph = json_object_get(v, "packet_hash");
		if (ph) {
			size_t hl;
			uint8_t *h = unhex(json_string_value(ph), &hl);
			assert_memory_equal(h, baton_opened_info(o)->hash, 32);
			free(h);
		}
	}
	baton_opened_free(o);
	baton_key_free(me);
	return r;
}

/* A statement that parses must name what the case says it names. */
static int run_rotation(json_t *v, const uint8_t *in, size_t len)
{
	baton_rotation rt;
	int r = baton_rotation_parse(in, len, &rt);
	if (r != 0)
		return r;
	size_t n;
	uint8_t *old_pk = unhex(json_string_value(json_object_get(v, "old_pk")), &n);
	assert_int_equal(n, 32);
	uint8_t *new_pk = unhex(json_string_value(json_object_get(v, "new_pk")), &n);
	assert_int_equal(n, 32);
	assert_string_equal(rt.code, json_string_value(json_object_get(v, "code")));
	assert_memory_equal(rt.old_pk, old_pk, 32);
	assert_memory_equal(rt.new_pk, new_pk, 32);
	assert_int_equal(rt.time, num(v, "time"));
	free(old_pk);
	free(new_pk);
	return 0;
}

/* A statement of disagreement that parses must name what the case says it names. */
static int run_statement(json_t *v, const uint8_t *in, size_t len)
{
	baton_statement *st = malloc(sizeof(*st));
	size_t n;
	assert_non_null(st);
	int r = baton_statement_parse(in, len, st);
	if (r == 0) {
		uint8_t *signer = unhex(json_string_value(json_object_get(v, "signer_pk")), &n);
		assert_int_equal(n, 32);
		assert_memory_equal(st->signer, signer, 32);
		assert_string_equal(baton_section_name(st->section),
		                    json_string_value(json_object_get(v, "section")));
		assert_string_equal(st->text, json_string_value(json_object_get(v, "text")));
		free(signer);
	}
	free(st);
	return r;
}

/* A chunk frame; a first chunk's admission is verified as the receiver named. */
static int run_chunk(json_t *v, const uint8_t *in, size_t len)
{
	struct frame_chunk f;
	baton_header h;
	baton_key *me;
	int r = bti_frame_chunk_decode(in, len, &f);
	if (r != 0 || !f.admit)
		return r;
	me = seed_key(v);
	r = bti_frame_admit_verify(&f, baton_key_id_pk(me), num(v, "now"), num(v, "skew"), &h);
	baton_key_free(me);
	return r;
}

/* A batch or its reply; one that decodes must give exactly the items the case lists. */
static int run_batch(json_t *v, int reply, const uint8_t *in, size_t len)
{
	struct frame_item it[FRAME_BATCH_MAX];
	json_t *items = json_object_get(v, "items");
	size_t k;
	int r = reply ? bti_frame_reply_decode(in, len, it, &k)
	              : bti_frame_batch_decode(in, len, it, &k);
	if (r != 0)
		return r;
	assert_non_null(items);
	assert_int_equal(k, json_array_size(items));
	for (size_t i = 0; i < k; i++) {
		size_t n;
		uint8_t *want = unhex(json_string_value(json_array_get(items, i)), &n);
		assert_int_equal(it[i].n, n);
		if (n)
			assert_memory_equal(it[i].p, want, n);
		free(want);
	}
	return 0;
}

/* An offer: one that decodes must give exactly the entries the case lists. */
static int run_offer(json_t *v, const uint8_t *in, size_t len)
{
	struct frame_offer e[FRAME_OFFER_MAX];
	json_t *entries = json_object_get(v, "entries");
	size_t k;
	int r = bti_frame_offer_decode(in, len, e, &k);
	if (r != 0)
		return r;
	assert_non_null(entries);
	assert_int_equal(k, json_array_size(entries));
	for (size_t i = 0; i < k; i++) {
		size_t n;
		json_t *x = json_array_get(entries, i);
		uint8_t *want = unhex(json_string_value(json_array_get(x, 0)), &n);
		assert_int_equal(n, BATON_PK_BYTES);
		assert_memory_equal(e[i].authority, want, n);
		assert_int_equal(e[i].version,
		                 strtoull(json_string_value(json_array_get(x, 1)), NULL, 10));
		free(want);
	}
	return 0;
}

/* An update: one that decodes must give the code and the directory's length the case lists. */
static int run_update(json_t *v, const uint8_t *in, size_t len)
{
	char code[BATON_CODE_MAX + 1];
	const uint8_t *dir;
	size_t dlen;
	int r = bti_frame_update_decode(in, len, code, &dir, &dlen);
	if (r != 0)
		return r;
	assert_string_equal(code, json_string_value(json_object_get(v, "code")));
	assert_int_equal(dlen, num(v, "directory_len"));
	assert_true(dir == in + 8 + strlen(code) && dir + dlen == in + len);
	return 0;
}

/* A family sign-in (PROTOCOL.md 7.5): the input is the signature. */
static int run_login(json_t *v, const uint8_t *in, size_t len)
{
	size_t n;
	uint8_t *school = unhex(json_string_value(json_object_get(v, "school_pk")), &n);
	assert_int_equal(n, 32);
	uint8_t *nonce = unhex(json_string_value(json_object_get(v, "nonce")), &n);
	assert_int_equal(n, 32);
	uint8_t *key = unhex(json_string_value(json_object_get(v, "key")), &n);
	assert_int_equal(n, 32);
	const char *origin = json_string_value(json_object_get(v, "origin"));
	assert_non_null(origin);
	assert_int_equal(len, 64);
	int r = baton_login_verify(school, origin, nonce, key, in);
	json_t *want = json_object_get(v, "message");
	if (r == 0) {
		uint8_t msg[BATON_LOGIN_MSG_MAX];
		size_t mlen;
		assert_non_null(want);
		uint8_t *m = unhex(json_string_value(want), &n);
		assert_int_equal(baton_login_message(school, origin, nonce, msg, &mlen), 0);
		assert_int_equal(mlen, n);
		assert_memory_equal(msg, m, n);
		free(m);
	}
	free(school);
	free(nonce);
	free(key);
	return r;
}

/* A disclosure copy (PROTOCOL.md 3.13): school, student and count must be the case's. */
static int run_disclosures(json_t *v, const uint8_t *in, size_t len)
{
	baton_disclosures d;
	size_t n;
	int r = baton_disclosures_parse(in, len, &d);
	uint8_t *school = unhex(json_string_value(json_object_get(v, "school_pk")), &n);
	assert_int_equal(n, 32);
	if (r == 0) {
		assert_memory_equal(d.school, school, 32);
		assert_string_equal(d.student, json_string_value(json_object_get(v, "student")));
		assert_int_equal(d.count, num(v, "count"));
		for (size_t i = 0; i < d.count; i++)
			assert_true(d.entry[i].seq >= 1 && d.entry[i].seq <= d.head.count);
	}
	baton_disclosures_free(&d);
	free(school);
	return r;
}

/*
 * A directory (PROTOCOL.md 3.14) valid at now with skew; for OK, its authority,
 * version, member codes in order and withdrawn keys in order must be the case's.
 */
static int run_directory(json_t *v, const uint8_t *in, size_t len)
{
	baton_directory d;
	size_t n;
	int r = baton_directory_parse(in, len, &d);
	if (r != 0)
		return r;
	if ((r = baton_check_validity(d.issued, d.expires, num(v, "now"), num(v, "skew"))) != 0) {
		baton_directory_free(&d);
		return r;
	}
	uint8_t *ak = unhex(json_string_value(json_object_get(v, "authority_pk")), &n);
	assert_int_equal(n, 32);
	assert_memory_equal(d.authority, ak, 32);
	free(ak);
	assert_int_equal(d.version, num(v, "version"));
	json_t *m = json_object_get(v, "members"), *w = json_object_get(v, "withdrawn");
	assert_true(json_is_array(m) && json_is_array(w));
	assert_int_equal(d.n_members, json_array_size(m));
	for (size_t i = 0; i < d.n_members; i++)
		assert_string_equal(d.members[i].parsed.code,
		                    json_string_value(json_array_get(m, i)));
	assert_int_equal(d.n_withdrawn, json_array_size(w));
	for (size_t i = 0; i < d.n_withdrawn; i++) {
		uint8_t *k = unhex(json_string_value(json_array_get(w, i)), &n);
		assert_int_equal(n, 32);
		assert_memory_equal(d.withdrawn + 32 * i, k, 32);
		free(k);
	}
	baton_directory_free(&d);
	return 0;
}

static int run_case(json_t *v, const char *kind, const uint8_t *in, size_t len)
{
	int r;
	if (strcmp(kind, "chunk") == 0)
		return run_chunk(v, in, len);
	if (strcmp(kind, "batch") == 0 || strcmp(kind, "batch_reply") == 0)
		return run_batch(v, strcmp(kind, "batch_reply") == 0, in, len);
	if (strcmp(kind, "offer") == 0)
		return run_offer(v, in, len);
	if (strcmp(kind, "update") == 0)
		return run_update(v, in, len);
	if (strcmp(kind, "packet") == 0)
		return run_packet(v, in, len);
	if (strcmp(kind, "consent") == 0) {
		baton_consent c;
		if ((r = baton_consent_parse(in, len, &c)) != 0 ||
		    (json_object_get(v, "now") &&
		     (r = baton_check_validity(c.issued, c.expires, num(v, "now"),
		                               num(v, "skew"))) != 0))
			return r;
		/* A consent that passes names exactly the case's sections, in name order. */
		char got[BATON_SECTIONS_TEXT_MAX];
		json_t *want = json_object_get(v, "sections");
		assert_non_null(want);
		assert_int_equal(baton_sections_format(c.sections, got, sizeof(got)), 0);
		assert_string_equal(got, json_string_value(want));
		return 0;
	}
	if (strcmp(kind, "card") == 0) {
		baton_card c;
		if ((r = baton_card_parse(in, len, &c)) != 0)
			return r;
		return baton_check_validity(c.valid_from, c.valid_until, num(v, "now"),
		                            num(v, "skew"));
	}
	if (strcmp(kind, "revocation") == 0) {
		baton_revocation rv;
		return baton_revocation_parse(in, len, &rv);
	}
	if (strcmp(kind, "receipt") == 0) {
		baton_receipt rc;
		return baton_receipt_parse(in, len, &rc);
	}
	if (strcmp(kind, "enrolment") == 0) {
		baton_enrolment en;
		return baton_enrolment_parse(in, len, &en);
	}
	if (strcmp(kind, "rotation") == 0)
		return run_rotation(v, in, len);
	if (strcmp(kind, "statement") == 0)
		return run_statement(v, in, len);
	if (strcmp(kind, "audit_head") == 0) {
		baton_audit_head h;
		return baton_audit_head_parse(in, len, &h);
	}
	if (strcmp(kind, "msgpack") == 0)
		return bti_mp_walk(in, len, &bti_dec_default_limits);
	if (strcmp(kind, "keyfile") == 0) {
		baton_key *k = NULL;
		const char *pass = json_string_value(json_object_get(v, "passphrase"));
		r = baton_key_decode(in, len, pass, pass ? strlen(pass) : 0, &k);
		if (r == 0) {
			size_t n;
			uint8_t *pk = unhex(json_string_value(json_object_get(v, "id_pk")), &n);
			assert_memory_equal(pk, baton_key_id_pk(k), 32);
			free(pk);
		}
		baton_key_free(k);
		return r;
	}
	if (strcmp(kind, "login") == 0)
		return run_login(v, in, len);
	if (strcmp(kind, "disclosures") == 0)
		return run_disclosures(v, in, len);
	if (strcmp(kind, "directory") == 0)
		return run_directory(v, in, len);
	fail_msg("unknown kind \"%s\"", kind);
	return BATON_EINTERNAL;
}

/* One test per vector file; state is the file's path. */
static void test_vector(void **state)
{
	const char *path = *state;
	json_error_t err;
	json_t *v = json_load_file(path, 0, &err);
	size_t len;
	int want;

	if (v == NULL)
		fail_msg("%s: %s", path, err.text);
	const char *kind = json_string_value(json_object_get(v, "kind"));
	const char *expect = json_string_value(json_object_get(v, "expect"));
	const char *input = json_string_value(json_object_get(v, "input"));
	assert_non_null(kind);
	assert_non_null(expect);
	assert_non_null(input);
	if (strcmp(expect, "OK") == 0)
		want = 0;
	else if (baton_errcode(expect, &want) != 0)
		fail_msg("%s: unknown expected result %s", path, expect);
	uint8_t *in = unhex(input, &len);
	int got = run_case(v, kind, in, len);
	free(in);
	if (got != want) {
		char msg[512];
		snprintf(msg, sizeof(msg), "%s: expected %s, got %s (%s)", path, expect,
		         baton_errname(got), baton_diag());
		json_decref(v);
		fail_msg("%s", msg);
	}
	json_decref(v);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct CMUnitTest *)a)->name, ((const struct CMUnitTest *)b)->name);
}

int main(void)
{
	const char *dir = getenv("BATON_VECTORS") ? getenv("BATON_VECTORS") : "tests/vectors";
	struct CMUnitTest *tests = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d;

	if (baton_init() != 0 || (d = opendir(dir)) == NULL) {
		fprintf(stderr, "test_vectors: cannot open %s\n", dir);
		return 1;
	}
	while ((de = readdir(d)) != NULL) {
		size_t nl = strlen(de->d_name);
		if (nl < 6 || strcmp(de->d_name + nl - 5, ".json") != 0)
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 128;
			tests = realloc(tests, cap * sizeof(*tests));
		}
		char *path = malloc(strlen(dir) + nl + 2), *name = strdup(de->d_name);
		sprintf(path, "%s/%s", dir, de->d_name);
		name[nl - 5] = '\0';
		tests[n++] = (struct CMUnitTest){name, test_vector, NULL, NULL, path};
	}
	closedir(d);
	/* The directory holds well over 60 cases; fewer means it is damaged. */
	if (n < 60) {
		fprintf(stderr, "test_vectors: only %zu vectors in %s\n", n, dir);
		return 1;
	}
	qsort(tests, n, sizeof(*tests), by_name);
	int failed = _cmocka_run_group_tests("vectors", tests, n, NULL, NULL);
	for (size_t i = 0; i < n; i++) {
		free((void *)tests[i].name);
		free(tests[i].initial_state);
	}
	free(tests);
	return failed;
}
