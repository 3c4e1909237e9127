/*
 * Regenerates tests/vectors/: one JSON case per file, each naming its
 * expected result. Deterministic: every key comes from a fixed seed and
 * libsodium's random source is replaced by a seeded stream, so running it
 * twice writes identical files.
 *
 * Packets are built here by a second implementation of the layout in
 * proto/PROTOCOL.md (not by baton_packet_seal), so that hostile variants can
 * be made and so the vectors check the library against the specification.
 * Before writing a case the generator checks that the library gives the
 * expected result, and stops if it does not.
 *
 * usage: gen_vectors DIR
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include <baton/disclosures.h>

#include "frame.h"
#include "proto_impl.h"
#include "testutil.h"

#define SEC(s) BATON_SEC_BIT(BATON_SEC_##s)
#define CHUNK  BATON_CHUNK_BYTES

static const char *outdir;
static int written;

/* ---- deterministic randomness ---- */

static uint64_t rng_counter;

static void det_buf(void *const buf, const size_t size)
{
	uint8_t seed[randombytes_SEEDBYTES], ctr[8];
	for (int i = 0; i < 8; i++)
		ctr[i] = (uint8_t)(rng_counter >> (8 * i));
	rng_counter++;
	crypto_generichash(seed, sizeof(seed), ctr, sizeof(ctr), (const uint8_t *)"baton-vectors",
	                   13);
	randombytes_buf_deterministic(buf, size, seed);
}

static uint32_t det_random(void)
{
	uint32_t v;
	det_buf(&v, sizeof(v));
	return v;
}

static const char *det_name(void)
{
	return "baton-vectors";
}

static struct randombytes_implementation det_impl = {det_name, det_random, NULL,
                                                     NULL,     det_buf,    NULL};

/* ---- output ---- */

static char *hex(const uint8_t *p, size_t n)
{
	char *s = malloc(2 * n + 1);
	sodium_bin2hex(s, 2 * n + 1, p, n);
	return s;
}

static void set_hex(json_t *o, const char *key, const uint8_t *p, size_t n)
{
	char *h = hex(p, n);
	json_object_set_new(o, key, json_string(h));
	free(h);
}

/* Writes the case after checking that the library agrees with it. */
static void emit(json_t *v, const char *name, const char *kind, const char *desc, int got,
                 int expect, const uint8_t *input, size_t len)
{
	char path[512];
	if (got != expect) {
		fprintf(stderr, "gen_vectors: %s: library gives %s (%s), the case says %s\n", name,
		        baton_errname(got), baton_diag(), baton_errname(expect));
		exit(1);
	}
	json_object_set_new(v, "name", json_string(name));
	json_object_set_new(v, "kind", json_string(kind));
	json_object_set_new(v, "description", json_string(desc));
	json_object_set_new(v, "expect", json_string(expect ? baton_errname(expect) : "OK"));
	set_hex(v, "input", input, len);
	snprintf(path, sizeof(path), "%s/%s.json", outdir, name);
	if (json_dump_file(v, path, JSON_INDENT(1) | JSON_SORT_KEYS) != 0) {
		fprintf(stderr, "gen_vectors: cannot write %s\n", path);
		exit(1);
	}
	json_decref(v);
	written++;
}

/* ---- keys ---- */

static baton_key *school_a, *school_b, *school_c, *mallory, *guardian, *guardian2;
static const uint8_t SEED_A = 0xa1, SEED_B = 0xb2, SEED_C = 0xc3, SEED_M = 0x3d, SEED_G = 0x61;

static void seed_hex(json_t *v, const char *key, uint8_t s)
{
	uint8_t seed[32];
	memset(seed, s, sizeof(seed));
	set_hex(v, key, seed, 32);
}

/* Small-order Ed25519 point (order 4) and low-order X25519 points. */
static const uint8_t ed_small_order[32] = {
    0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67, 0x0f,
    0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a};
static const uint8_t x_low_order[32] = {
    0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3, 0xfa, 0xf1, 0x9f, 0xc4, 0x6a,
    0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32, 0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49, 0xb8, 0x00};

/* ---- signed objects, built by hand ---- */

struct obj {
	uint8_t *p;
	size_t len;
};

/* Envelope [type, body, sig] over raw body bytes, signed by sk (or a given signature). */
static struct obj envelope(int type, const uint8_t *body, size_t blen, const uint8_t *sk)
{
	static const char domain[] = "BATON-SIG-v1";
	uint8_t sig[64];
	size_t mlen = sizeof(domain) + 1 + blen;
	uint8_t *msg = malloc(mlen);
	memcpy(msg, domain, sizeof(domain));
	msg[sizeof(domain)] = (uint8_t)type;
	memcpy(msg + sizeof(domain) + 1, body, blen);
	crypto_sign_detached(sig, NULL, msg, mlen, sk);
	free(msg);
	struct obj o;
	o.p = malloc(blen + 100);
	struct enc e;
	bti_enc_init(&e, o.p, blen + 100);
	bti_enc_array(&e, 3);
	bti_enc_uint(&e, (uint64_t)type);
	bti_enc_bin(&e, body, blen);
	bti_enc_bin(&e, sig, 64);
	o.len = e.len;
	return o;
}

/* Consent body fields, written in order; variants change one thing. */
enum cvariant {
	CV_OK,
	CV_DUPKEY,
	CV_UNKNOWN,
	CV_MISSING,
	CV_WRONGTYPE,
	CV_UNSORTED_SECTIONS,
	CV_UNKNOWN_SECTION,
	CV_BAD_UTF8,
	CV_NIL,
	CV_SMALL_ORDER_SIGNER,
	CV_UNSORTED_KEYS,
	CV_NONCANON_INT,
	CV_NAMES, /* sections: the names in cv_names, written as given */
};

/* For CV_NAMES: the sections list, name by name, as PROTOCOL.md 2.9 orders them. */
static const char *const *cv_names;
static size_t cv_n;

/* names joined by ',' into out (room for every section): what a case's member must say. */
static const char *join_names(char *out, size_t cap, const char *const *names, size_t n)
{
	size_t len = 0;
	out[0] = '\0';
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(out + len, cap - len, "%s%s", i ? "," : "", names[i]);
	if (len >= cap)
		exit(2);
	return out;
}

/* The library's reading of a list must be the names the generator wrote. */
static void same_names(const char *what, const char *got, const char *const *names, size_t n)
{
	char want[512];
	if (strcmp(got, join_names(want, sizeof(want), names, n)) != 0) {
		fprintf(stderr,
		        "gen_vectors: %s: the library reads \"%s\", the case wrote \"%s\"\n", what,
		        got, want);
		exit(1);
	}
}

static size_t consent_body(uint8_t *buf, size_t cap, const baton_consent *c, enum cvariant cv)
{
	struct enc e;
	uint32_t n = 12 + (cv == CV_DUPKEY || cv == CV_UNKNOWN) - (cv == CV_MISSING);
	bti_enc_init(&e, buf, cap);
	bti_enc_map(&e, n);
	if (cv == CV_UNSORTED_KEYS) {
		bti_enc_str(&e, "from"), bti_enc_bin(&e, c->from_pk, 32);
		bti_enc_str(&e, "expires"), bti_enc_uint(&e, c->expires);
	} else {
		bti_enc_str(&e, "expires");
		if (cv == CV_NONCANON_INT) {
			/* The right value in a wider form than needed. */
			uint8_t wide[9] = {0xcf};
			for (int i = 0; i < 8; i++)
				wide[1 + i] = (uint8_t)(c->expires >> (56 - 8 * i));
			for (int i = 0; i < 9; i++)
				bti_enc_byte(&e, wide[i]);
		} else if (cv == CV_NIL) {
			bti_enc_byte(&e, 0xc0);
		} else {
			bti_enc_uint(&e, c->expires);
		}
		bti_enc_str(&e, "from"), bti_enc_bin(&e, c->from_pk, 32);
	}
	bti_enc_str(&e, "from_code"), bti_enc_str(&e, c->from_code);
	bti_enc_str(&e, "id"), bti_enc_bin(&e, c->id, 16);
	if (cv == CV_DUPKEY)
		bti_enc_str(&e, "id"), bti_enc_bin(&e, c->id, 16);
	bti_enc_str(&e, "issued");
	if (cv == CV_WRONGTYPE)
		bti_enc_str(&e, "yesterday");
	else
		bti_enc_uint(&e, c->issued);
	if (cv == CV_UNKNOWN)
		bti_enc_str(&e, "lunch_menu"), bti_enc_str(&e, "tacos");
	bti_enc_str(&e, "purpose");
	if (cv == CV_BAD_UTF8)
		bti_enc_byte(&e, 0xa2), bti_enc_byte(&e, 0xc0), bti_enc_byte(&e, 0xaf);
	else
		bti_enc_str(&e, c->purpose);
	bti_enc_str(&e, "role"), bti_enc_str(&e, "guardian");
	bti_enc_str(&e, "sections");
	if (cv == CV_UNSORTED_SECTIONS) {
		bti_enc_array(&e, 2), bti_enc_str(&e, "transcript"), bti_enc_str(&e, "identity");
	} else if (cv == CV_UNKNOWN_SECTION) {
		bti_enc_array(&e, 2), bti_enc_str(&e, "identity"), bti_enc_str(&e, "lunch");
	} else if (cv == CV_NAMES) {
		bti_enc_array(&e, (uint32_t)cv_n);
		for (size_t i = 0; i < cv_n; i++)
			bti_enc_str(&e, cv_names[i]);
	} else {
		bti_enc_sections(&e, c->sections);
	}
	if (cv != CV_MISSING)
		bti_enc_str(&e, "signer"),
		    bti_enc_bin(&e, cv == CV_SMALL_ORDER_SIGNER ? ed_small_order : c->signer, 32);
	bti_enc_str(&e, "student"), bti_enc_str(&e, c->student);
	bti_enc_str(&e, "to"), bti_enc_bin(&e, c->to_pk, 32);
	bti_enc_str(&e, "to_code"), bti_enc_str(&e, c->to_code);
	if (e.err) {
		fprintf(stderr, "gen_vectors: consent body: %s\n", baton_errname(e.err));
		exit(1);
	}
	return e.len;
}

static void base_consent(baton_consent *c)
{
	tu_consent_fill(c, guardian, school_a, school_b, SEC(IDENTITY) | SEC(TRANSCRIPT));
}

static int run_consent(const uint8_t *p, size_t n, uint64_t now)
{
	baton_consent c;
	int r = baton_consent_parse(p, n, &c);
	return r ? r : baton_check_validity(c.issued, c.expires, now, TU_SKEW);
}

static void consent_case(const char *name, const char *desc, enum cvariant cv, int expect,
                         uint64_t now, void (*mutate)(struct obj *))
{
	baton_consent c;
	uint8_t body[2048];
	base_consent(&c);
	size_t blen = consent_body(body, sizeof(body), &c, cv);
	struct obj o = envelope(BATON_OBJ_CONSENT, body, blen, baton_key_id_sk(guardian));
	if (mutate)
		mutate(&o);
	json_t *v = json_object();
	json_object_set_new(v, "now", json_integer((json_int_t)now));
	json_object_set_new(v, "skew", json_integer((json_int_t)TU_SKEW));
	int got = run_consent(o.p, o.len, now);
	if (got == 0) {
		char secs[BATON_SECTIONS_TEXT_MAX];
		if (baton_consent_parse(o.p, o.len, &c) != 0 ||
		    baton_sections_format(c.sections, secs, sizeof(secs)) != 0)
			exit(2);
		if (cv == CV_NAMES)
			same_names(name, secs, cv_names, cv_n);
		json_object_set_new(v, "sections", json_string(secs));
	}
	emit(v, name, "consent", desc, got, expect, o.p, o.len);
	free(o.p);
}

static void put_login_sig(struct obj *o);

static void flip_sig(struct obj *o)
{
	o->p[o->len - 1] ^= 0x01;
}

static void flip_body(struct obj *o)
{
	/* The student id "S-1001" becomes "s-1001". */
	uint8_t *at = memmem(o->p, o->len, "S-1001", 6);
	if (at == NULL)
		exit(2);
	at[0] ^= 0x20;
}

static void append_byte(struct obj *o)
{
	o->p[o->len++] = 0x00;
}

static void truncate_half(struct obj *o)
{
	o->len /= 2;
}

static void truncate_after_header(struct obj *o)
{
	o->len = 1; /* array header only: the type is missing */
}

static void noncanonical_sig(struct obj *o)
{
	/* S + L: the same signature in a second form that verifiers must refuse. */
	static const uint8_t L[32] = {0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58,
	                              0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
	                              0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	                              0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10};
	uint8_t *s = o->p + o->len - 32;
	unsigned carry = 0;
	for (int i = 0; i < 32; i++) {
		carry += (unsigned)s[i] + L[i];
		s[i] = (uint8_t)carry;
		carry >>= 8;
	}
}

static void wrap_deep(struct obj *o)
{
	/* The consent nested inside ten one-element arrays. */
	uint8_t *p = malloc(o->len + 10);
	memset(p, 0x91, 10);
	memcpy(p + 10, o->p, o->len);
	free(o->p);
	o->p = p;
	o->len += 10;
}

static void huge_length(struct obj *o)
{
	/* bin32 declaring 2^31 bytes where the body should be. */
	static const uint8_t h[] = {0x93, 0x02, 0xc6, 0x80, 0x00, 0x00, 0x00, 0x00};
	memcpy(o->p, h, sizeof(h));
	o->len = sizeof(h) + 4;
}

static void reserved_byte(struct obj *o)
{
	o->p[1] = 0xc1;
}

static void gen_consents(void)
{
	consent_case("consent-valid", "a guardian's consent, signature valid, inside its window",
	             CV_OK, 0, TU_NOW, NULL);
	consent_case("consent-bad-signature", "last byte of the signature flipped", CV_OK,
	             BATON_EBADSIG, TU_NOW, flip_sig);
	consent_case("consent-login-signature",
	             "the signer's family sign-in signature (login-ok) in place of the consent's",
	             CV_OK, BATON_EBADSIG, TU_NOW, put_login_sig);
	consent_case("consent-body-changed", "the student id changed after signing", CV_OK,
	             BATON_EBADSIG, TU_NOW, flip_body);
	consent_case("consent-expired", "now is after consent.expires", CV_OK, BATON_EEXPIRED,
	             TU_NOW + 31 * TU_DAY, NULL);
	consent_case("consent-not-yet-valid", "now is before consent.issued minus the skew", CV_OK,
	             BATON_ENOTYET, TU_NOW - 2 * TU_DAY, NULL);
	consent_case("consent-truncated", "cut to half its length", CV_OK, BATON_ELENGTH, TU_NOW,
	             truncate_half);
	consent_case("consent-truncated-after-header", "only the envelope's array header", CV_OK,
	             BATON_ELENGTH, TU_NOW, truncate_after_header);
	consent_case("consent-trailing-bytes", "a valid consent followed by one byte", CV_OK,
	             BATON_ETRAILING, TU_NOW, append_byte);
	consent_case("consent-duplicate-key", "body repeats the key \"id\" (signed)", CV_DUPKEY,
	             BATON_EDUPKEY, TU_NOW, NULL);
	consent_case("consent-unknown-field", "body has a field this version does not define",
	             CV_UNKNOWN, BATON_EUNKNOWN, TU_NOW, NULL);
	consent_case("consent-missing-field", "body has no signer", CV_MISSING, BATON_EMISSING,
	             TU_NOW, NULL);
	consent_case("consent-wrong-type", "issued is a string", CV_WRONGTYPE, BATON_ETYPE, TU_NOW,
	             NULL);
	consent_case("consent-unsorted-keys", "\"from\" before \"expires\"", CV_UNSORTED_KEYS,
	             BATON_ENONCANON, TU_NOW, NULL);
	consent_case("consent-noncanonical-integer", "expires as a uint64 that fits in 32 bits",
	             CV_NONCANON_INT, BATON_ENONCANON, TU_NOW, NULL);
	consent_case("consent-unsorted-sections", "sections not in ascending order",
	             CV_UNSORTED_SECTIONS, BATON_ENONCANON, TU_NOW, NULL);
	consent_case("consent-unknown-section", "a section name that does not exist",
	             CV_UNKNOWN_SECTION, BATON_EVALUE, TU_NOW, NULL);
	consent_case("consent-bad-utf8", "purpose is an overlong UTF-8 encoding", CV_BAD_UTF8,
	             BATON_EUTF8, TU_NOW, NULL);
	consent_case("consent-nil", "expires is nil", CV_NIL, BATON_ETYPE, TU_NOW, NULL);
	consent_case("consent-small-order-signer", "signer is a small-order Ed25519 point",
	             CV_SMALL_ORDER_SIGNER, BATON_EBADKEY, TU_NOW, NULL);
	consent_case("consent-noncanonical-signature", "signature S replaced by S + L", CV_OK,
	             BATON_EBADSIG, TU_NOW, noncanonical_sig);
	consent_case("consent-depth", "nested ten arrays deep, past the cap of 8", CV_OK,
	             BATON_EDEPTH, TU_NOW, wrap_deep);
	consent_case("consent-length-past-input", "bin32 declares 2^31 bytes", CV_OK, BATON_ELENGTH,
	             TU_NOW, huge_length);
	consent_case("consent-reserved-byte", "type byte 0xc1 where the type should be", CV_OK,
	             BATON_ETYPE, TU_NOW, reserved_byte);

	/* 100,000 levels of nesting. */
	size_t n = 100000;
	uint8_t *deep = malloc(n + 1);
	memset(deep, 0x91, n);
	deep[n] = 0x01;
	baton_consent c;
	json_t *v = json_object();
	json_object_set_new(v, "now", json_integer((json_int_t)TU_NOW));
	emit(v, "consent-depth-100000", "consent", "100,000 nested arrays: refused at the cap",
	     baton_consent_parse(deep, n + 1, &c), BATON_ETOOBIG, deep, n + 1);
	free(deep);

	/* A receipt offered as a consent. */
	baton_receipt rc;
	memset(&rc, 0, sizeof(rc));
	memcpy(rc.receiver, baton_key_id_pk(school_b), 32);
	rc.time = TU_NOW;
	uint8_t *rb;
	size_t rl;
	baton_receipt_sign(&rc, baton_key_id_sk(school_b), &rb, &rl);
	v = json_object();
	json_object_set_new(v, "now", json_integer((json_int_t)TU_NOW));
	emit(v, "consent-is-a-receipt", "consent", "a valid receipt where a consent is expected",
	     baton_consent_parse(rb, rl, &c), BATON_EMAGIC, rb, rl);
	free(rb);
}

/* ---- cards, revocations, receipts ---- */

static int run_card(const uint8_t *p, size_t n, uint64_t now)
{
	baton_card c;
	int r = baton_card_parse(p, n, &c);
	return r ? r : baton_check_validity(c.valid_from, c.valid_until, now, TU_SKEW);
}

static struct obj card_obj(const uint8_t *enc_pk)
{
	uint8_t body[1024];
	struct enc e;
	bti_enc_init(&e, body, sizeof(body));
	bti_enc_map(&e, 7);
	bti_enc_str(&e, "code"), bti_enc_str(&e, "RAS-204");
	bti_enc_str(&e, "enc"), bti_enc_bin(&e, enc_pk, 32);
	bti_enc_str(&e, "endpoints"), bti_enc_array(&e, 1), bti_enc_str(&e, "tcp://127.0.0.1:7702");
	bti_enc_str(&e, "id"), bti_enc_bin(&e, baton_key_id_pk(school_b), 32);
	bti_enc_str(&e, "name"), bti_enc_str(&e, "Riverside Academy");
	bti_enc_str(&e, "valid_from"), bti_enc_uint(&e, TU_NOW - TU_DAY);
	bti_enc_str(&e, "valid_until"), bti_enc_uint(&e, TU_NOW + 365 * TU_DAY);
	return envelope(BATON_OBJ_CARD, body, e.len, baton_key_id_sk(school_b));
}

static void card_case(const char *name, const char *desc, const uint8_t *enc_pk, int expect,
                      uint64_t now, void (*mutate)(struct obj *))
{
	struct obj o = card_obj(enc_pk);
	if (mutate)
		mutate(&o);
	json_t *v = json_object();
	json_object_set_new(v, "now", json_integer((json_int_t)now));
	json_object_set_new(v, "skew", json_integer((json_int_t)TU_SKEW));
	emit(v, name, "card", desc, run_card(o.p, o.len, now), expect, o.p, o.len);
	free(o.p);
}

static void gen_cards(void)
{
	const uint8_t *enc = baton_key_enc_pk(school_b);
	uint8_t zero[32] = {0};
	card_case("card-valid", "Riverside Academy's card, signed by its identity key", enc, 0,
	          TU_NOW, NULL);
	card_case("card-bad-signature", "signature flipped", enc, BATON_EBADSIG, TU_NOW, flip_sig);
	card_case("card-low-order-enc", "encryption key is a low-order X25519 point", x_low_order,
	          BATON_EBADKEY, TU_NOW, NULL);
	card_case("card-zero-enc", "encryption key is all zeros", zero, BATON_EBADKEY, TU_NOW,
	          NULL);
	card_case("card-expired", "now is after valid_until", enc, BATON_EEXPIRED,
	          TU_NOW + 400 * TU_DAY, NULL);
	card_case("card-not-yet-valid", "now is before valid_from", enc, BATON_ENOTYET,
	          TU_NOW - 2 * TU_DAY, NULL);
	card_case("card-trailing-bytes", "valid card and one more byte", enc, BATON_ETRAILING,
	          TU_NOW, append_byte);
}

static void gen_revocations_receipts(void)
{
	baton_revocation rv;
	memset(&rv, 0, sizeof(rv));
	memset(rv.consent_id, 0x5a, 16);
	memcpy(rv.signer, baton_key_id_pk(guardian), 32);
	rv.time = TU_NOW;
	uint8_t *p;
	size_t n;
	baton_revocation_sign(&rv, baton_key_id_sk(guardian), &p, &n);
	baton_revocation got;
	emit(json_object(), "revocation-valid", "revocation",
	     "a guardian withdraws consent 5a5a...", baton_revocation_parse(p, n, &got), 0, p, n);
	p[n - 5] ^= 0x40;
	emit(json_object(), "revocation-bad-signature", "revocation", "signature changed",
	     baton_revocation_parse(p, n, &got), BATON_EBADSIG, p, n);
	emit(json_object(), "revocation-truncated", "revocation", "the last byte is missing",
	     baton_revocation_parse(p, n - 1, &got), BATON_ELENGTH, p, n - 1);
	free(p);

	baton_receipt rc, rg;
	memset(&rc, 0, sizeof(rc));
	memset(rc.packet_id, 0x11, 16);
	memset(rc.packet_hash, 0x22, 32);
	memcpy(rc.receiver, baton_key_id_pk(school_b), 32);
	rc.time = TU_NOW;
	baton_receipt_sign(&rc, baton_key_id_sk(school_b), &p, &n);
	emit(json_object(), "receipt-accepted", "receipt", "an acceptance receipt",
	     baton_receipt_parse(p, n, &rg), 0, p, n);
	p[n - 1] ^= 1;
	emit(json_object(), "receipt-bad-signature", "receipt", "signature flipped",
	     baton_receipt_parse(p, n, &rg), BATON_EBADSIG, p, n);
	free(p);
	rc.reason = BATON_REASON_DENIED;
	snprintf(rc.note, sizeof(rc.note), "No consent on file");
	baton_receipt_sign(&rc, baton_key_id_sk(school_b), &p, &n);
	emit(json_object(), "receipt-denied", "receipt", "a refusal with a note",
	     baton_receipt_parse(p, n, &rg), 0, p, n);
	free(p);

	/* Hand-built receipt bodies: unknown reason; empty note present. */
	for (int k = 0; k < 2; k++) {
		uint8_t body[512];
		struct enc e;
		bti_enc_init(&e, body, sizeof(body));
		bti_enc_map(&e, k ? 6 : 5);
		bti_enc_str(&e, "hash"), bti_enc_bin(&e, rc.packet_hash, 32);
		if (k)
			bti_enc_str(&e, "note"), bti_enc_str(&e, "");
		bti_enc_str(&e, "packet"), bti_enc_bin(&e, rc.packet_id, 16);
		bti_enc_str(&e, "reason"), bti_enc_uint(&e, k ? 0 : 99);
		bti_enc_str(&e, "receiver"), bti_enc_bin(&e, rc.receiver, 32);
		bti_enc_str(&e, "time"), bti_enc_uint(&e, TU_NOW);
		struct obj o = envelope(BATON_OBJ_RECEIPT, body, e.len, baton_key_id_sk(school_b));
		emit(json_object(), k ? "receipt-empty-note" : "receipt-unknown-reason", "receipt",
		     k ? "note present but empty (must be omitted)" : "reason code 99",
		     baton_receipt_parse(o.p, o.len, &rg), BATON_EVALUE, o.p, o.len);
		free(o.p);
	}
}

/* ---- rotation statements ---- */

/* Rotation body fields, written in order; variants change one thing. */
enum rvariant {
	RV_OK,
	RV_SAME_KEY,
	RV_SMALL_ORDER_NEW,
	RV_SMALL_ORDER_OLD,
	RV_SHORT_NEW,
	RV_CODE_SPACE,
	RV_CODE_EMPTY,
	RV_CODE_LONG,
	RV_MISSING_TIME,
	RV_UNKNOWN,
	RV_TIME_STR,
	RV_UNSORTED_KEYS,
	RV_DUPKEY,
};

static size_t rotation_body(uint8_t *buf, size_t cap, const uint8_t *old_pk, const uint8_t *new_pk,
                            enum rvariant rv)
{
	struct enc e;
	const char *code = rv == RV_CODE_SPACE   ? "RAS 204"
	                   : rv == RV_CODE_EMPTY ? ""
	                   : rv == RV_CODE_LONG  ? "RAS-204-RIVERSIDE-ACADEMY-NORTH-1"
	                                         : "RAS-204";
	const uint8_t *nw = rv == RV_SAME_KEY          ? old_pk
	                    : rv == RV_SMALL_ORDER_NEW ? ed_small_order
	                                               : new_pk;
	const uint8_t *od = rv == RV_SMALL_ORDER_OLD ? ed_small_order : old_pk;
	bti_enc_init(&e, buf, cap);
	bti_enc_map(&e, 4 + (rv == RV_UNKNOWN || rv == RV_DUPKEY) - (rv == RV_MISSING_TIME));
	bti_enc_str(&e, "code"), bti_enc_str(&e, code);
	if (rv == RV_DUPKEY)
		bti_enc_str(&e, "code"), bti_enc_str(&e, code);
	if (rv == RV_UNSORTED_KEYS) {
		bti_enc_str(&e, "old"), bti_enc_bin(&e, od, 32);
		bti_enc_str(&e, "new"), bti_enc_bin(&e, nw, 32);
	} else {
		bti_enc_str(&e, "new"), bti_enc_bin(&e, nw, rv == RV_SHORT_NEW ? 31 : 32);
		bti_enc_str(&e, "old"), bti_enc_bin(&e, od, 32);
	}
	if (rv == RV_UNKNOWN)
		bti_enc_str(&e, "reason"), bti_enc_str(&e, "key lost");
	if (rv == RV_TIME_STR)
		bti_enc_str(&e, "time"), bti_enc_str(&e, "today");
	else if (rv != RV_MISSING_TIME)
		bti_enc_str(&e, "time"), bti_enc_uint(&e, TU_NOW);
	if (e.err) {
		fprintf(stderr, "gen_vectors: rotation body: %s\n", baton_errname(e.err));
		exit(1);
	}
	return e.len;
}

/*
 * Riverside Academy (school_b) moves to a new identity key: the statement is
 * signed under type by the old key, or by the new one when by_new.
 */
static void rotation_case(const char *name, const char *desc, enum rvariant rv, int type,
                          int by_new, int expect, void (*mutate)(struct obj *))
{
	baton_key *nk = tu_key(BATON_KEY_SCHOOL, 0xb3);
	const uint8_t *old_pk = baton_key_id_pk(school_b), *new_pk = baton_key_id_pk(nk);
	uint8_t body[512];
	baton_rotation got;
	size_t blen = rotation_body(body, sizeof(body), old_pk, new_pk, rv);
	struct obj o = envelope(type, body, blen, baton_key_id_sk(by_new ? nk : school_b));
	if (mutate)
		mutate(&o);
	json_t *v = json_object();
	if (expect == 0) {
		json_object_set_new(v, "code", json_string("RAS-204"));
		set_hex(v, "old_pk", old_pk, 32);
		set_hex(v, "new_pk", new_pk, 32);
		json_object_set_new(v, "time", json_integer((json_int_t)TU_NOW));
	}
	emit(v, name, "rotation", desc, baton_rotation_parse(o.p, o.len, &got), expect, o.p, o.len);
	free(o.p);
	baton_key_free(nk);
}

static void cut_one(struct obj *o)
{
	o->len--;
}

static void flip_time(struct obj *o)
{
	/* The last byte of the uint32 time, after signing. */
	uint8_t *at = memmem(o->p, o->len, "time\xce", 5);
	if (at == NULL)
		exit(2);
	at[8] ^= 0x01;
}

static void gen_rotations(void)
{
	const int T = BATON_OBJ_ROTATION, b = 0;
	rotation_case("rotation-valid", "Riverside Academy's old key names its new key", RV_OK, T,
	              b, 0, NULL);
	rotation_case("rotation-bad-signature", "last byte of the signature flipped", RV_OK, T, b,
	              BATON_EBADSIG, flip_sig);
	rotation_case("rotation-body-changed", "the time changed after signing", RV_OK, T, b,
	              BATON_EBADSIG, flip_time);
	rotation_case("rotation-signed-by-new", "signed by the new key, not the old one", RV_OK, T,
	              1, BATON_EBADSIG, NULL);
	rotation_case("rotation-noncanonical-signature", "signature S replaced by S + L", RV_OK, T,
	              b, BATON_EBADSIG, noncanonical_sig);
	rotation_case("rotation-same-key", "new is the old key", RV_SAME_KEY, T, b, BATON_EVALUE,
	              NULL);
	rotation_case("rotation-small-order-new", "new is a small-order Ed25519 point",
	              RV_SMALL_ORDER_NEW, T, b, BATON_EBADKEY, NULL);
	rotation_case("rotation-small-order-old", "old (the signer) is a small-order point",
	              RV_SMALL_ORDER_OLD, T, b, BATON_EBADKEY, NULL);
	rotation_case("rotation-short-key", "new is 31 bytes", RV_SHORT_NEW, T, b, BATON_EVALUE,
	              NULL);
	rotation_case("rotation-code-space", "code \"RAS 204\" has a space", RV_CODE_SPACE, T, b,
	              BATON_EVALUE, NULL);
	rotation_case("rotation-code-empty", "code is an empty string", RV_CODE_EMPTY, T, b,
	              BATON_EVALUE, NULL);
	rotation_case("rotation-code-too-long", "code is 33 bytes", RV_CODE_LONG, T, b,
	              BATON_EVALUE, NULL);
	rotation_case("rotation-missing-field", "no time", RV_MISSING_TIME, T, b, BATON_EMISSING,
	              NULL);
	rotation_case("rotation-unknown-field", "body has a field \"reason\"", RV_UNKNOWN, T, b,
	              BATON_EUNKNOWN, NULL);
	rotation_case("rotation-wrong-type", "time is a string", RV_TIME_STR, T, b, BATON_ETYPE,
	              NULL);
	rotation_case("rotation-unsorted-keys", "\"old\" before \"new\"", RV_UNSORTED_KEYS, T, b,
	              BATON_ENONCANON, NULL);
	rotation_case("rotation-duplicate-key", "body repeats the key \"code\"", RV_DUPKEY, T, b,
	              BATON_EDUPKEY, NULL);
	rotation_case("rotation-is-a-card", "a valid rotation body under envelope type 1", RV_OK,
	              BATON_OBJ_CARD, b, BATON_EMAGIC, NULL);
	rotation_case("rotation-truncated", "the last byte is missing", RV_OK, T, b, BATON_ELENGTH,
	              cut_one);
	rotation_case("rotation-trailing-bytes", "a valid statement followed by one byte", RV_OK, T,
	              b, BATON_ETRAILING, append_byte);
}

/* ---- packets: a second implementation of the layout ---- */

struct raw {
	int version, kind;
	uint64_t created, expires;
	const baton_key *signer;  /* signs the packet */
	const uint8_t *sndr;      /* header sender (default: signer's key) */
	const baton_key *to;      /* recipient whose keys the header names */
	const uint8_t *eph_force; /* header eph overriding the real one */
	const uint8_t *body;      /* body plaintext */
	size_t body_len;
	const uint8_t *att[2]; /* attachment plaintexts */
	size_t att_len[2];
	size_t n_att;
	int header_variant;      /* 0 canonical; see raw_header */
	int garble_body;         /* encrypt garbage under a wrong key */
	size_t extra_before_sig; /* bytes appended before signing */
	long cut_before_sig;     /* bytes removed before signing */
};

static size_t raw_header(uint8_t *out, const struct raw *r, uint64_t blen, const uint8_t *eph,
                         const uint8_t *id, const uint8_t *nonce, const uint8_t *sndr)
{
	struct enc e;
	int hv = r->header_variant;
	bti_enc_init(&e, out, 1024);
	bti_enc_map(&e, 8 + (hv == 1 || hv == 2) - (hv == 3));
	bti_enc_str(&e, "blen");
	if (hv == 4)
		bti_enc_byte(&e, 0xcd), bti_enc_byte(&e, (uint8_t)(blen >> 8)),
		    bti_enc_byte(&e, (uint8_t)blen); /* non-canonical: blen < 256 */
	else
		bti_enc_uint(&e, blen);
	if (hv == 1)
		bti_enc_str(&e, "blen"), bti_enc_uint(&e, blen);
	bti_enc_str(&e, "created"), bti_enc_uint(&e, r->created);
	bti_enc_str(&e, "eph");
	if (hv == 6)
		bti_enc_byte(&e, 0xc6), bti_enc_byte(&e, 0x80), bti_enc_byte(&e, 0),
		    bti_enc_byte(&e, 0), bti_enc_byte(&e, 0);
	else if (hv == 5)
		bti_enc_array(&e, 1), bti_enc_bin(&e, eph, 32);
	else
		bti_enc_bin(&e, eph, 32);
	if (hv == 6) {
		/* The header stops at a length of 2^31: nothing else follows. */
		return e.len;
	}
	bti_enc_str(&e, "expires"), bti_enc_uint(&e, r->expires);
	if (hv == 2)
		bti_enc_str(&e, "flags"), bti_enc_uint(&e, 0);
	bti_enc_str(&e, "id"), bti_enc_bin(&e, id, 16);
	bti_enc_str(&e, "nonce"), bti_enc_bin(&e, nonce, 24);
	bti_enc_str(&e, "rcpt"), bti_enc_bin(&e, baton_key_id_pk(r->to), 32);
	if (hv != 3)
		bti_enc_str(&e, "sndr"), bti_enc_bin(&e, sndr, 32);
	return e.len;
}

static struct obj raw_packet(const struct raw *r)
{
	static const char kd[] = "BATON-PACKET-KEY-v1", sd[] = "BATON-PACKET-SIG-v1";
	uint8_t eph_sk[32], eph[32], ss[32], k[32], bk[32], id[16], nonce[24], hdr[1024];
	const uint8_t *sndr = r->sndr ? r->sndr : baton_key_id_pk(r->signer);
	const uint8_t *rcpt_enc = baton_key_enc_pk(r->to);
	crypto_generichash_state st;
	tu_buf out = {0};

	randombytes_buf(eph_sk, 32);
	crypto_scalarmult_base(eph, eph_sk);
	if (r->eph_force)
		memcpy(eph, r->eph_force, 32);
	if (crypto_scalarmult(ss, eph_sk, rcpt_enc) != 0)
		exit(2);
	crypto_generichash_init(&st, NULL, 0, 32);
	crypto_generichash_update(&st, (const uint8_t *)kd, sizeof(kd));
	crypto_generichash_update(&st, ss, 32);
	crypto_generichash_update(&st, eph, 32);
	crypto_generichash_update(&st, rcpt_enc, 32);
	crypto_generichash_update(&st, sndr, 32);
	crypto_generichash_update(&st, baton_key_id_pk(r->to), 32);
	crypto_generichash_final(&st, k, 32);
	if (r->garble_body)
		k[0] ^= 1;
	crypto_kdf_derive_from_key(bk, 32, 0, "BTNbody_", k);
	randombytes_buf(id, 16);
	randombytes_buf(nonce, 24);

	uint64_t blen = r->body_len + 16;
	size_t hlen = raw_header(hdr, r, blen, eph, id, nonce, sndr);
	uint8_t prefix[8] = {'B',
	                     'T',
	                     'N',
	                     'P',
	                     (uint8_t)r->version,
	                     (uint8_t)r->kind,
	                     (uint8_t)(hlen >> 8),
	                     (uint8_t)hlen};
	if (r->header_variant == 7)
		prefix[6] = 0x02, prefix[7] = 0x58; /* declares 600 bytes */
	tu_buf_write(&out, prefix, 8);
	tu_buf_write(&out, hdr, hlen);
	uint8_t *ct = malloc(blen);
	crypto_aead_xchacha20poly1305_ietf_encrypt(ct, NULL, r->body, r->body_len, out.p, out.len,
	                                           NULL, nonce, bk);
	tu_buf_write(&out, ct, blen);
	free(ct);
	for (size_t i = 0; i < r->n_att; i++) {
		crypto_secretstream_xchacha20poly1305_state ss_st;
		uint8_t ak[32], sh[24], c[CHUNK + 17];
		size_t left = r->att_len[i], off = 0;
		crypto_kdf_derive_from_key(ak, 32, i + 1, "BTNattch", k);
		crypto_secretstream_xchacha20poly1305_init_push(&ss_st, sh, ak);
		tu_buf_write(&out, sh, 24);
		do {
			size_t m = left < CHUNK ? left : CHUNK;
			unsigned long long cl;
			left -= m;
			crypto_secretstream_xchacha20poly1305_push(
			    &ss_st, c, &cl, r->att[i] + off, m, NULL, 0,
			    left ? 0 : crypto_secretstream_xchacha20poly1305_TAG_FINAL);
			tu_buf_write(&out, c, (size_t)cl);
			off += m;
		} while (left > 0);
	}
	for (size_t i = 0; i < r->extra_before_sig; i++)
		tu_buf_write(&out, (const uint8_t *)"\0", 1);
	if (r->cut_before_sig)
		out.len -= (size_t)r->cut_before_sig;

	uint8_t digest[64], msg[sizeof(sd) + 64], sig[64];
	crypto_generichash(digest, 64, out.p, out.len, NULL, 0);
	memcpy(msg, sd, sizeof(sd));
	memcpy(msg + sizeof(sd), digest, 64);
	crypto_sign_detached(sig, NULL, msg, sizeof(msg), baton_key_id_sk(r->signer));
	tu_buf_write(&out, sig, 64);
	return (struct obj){out.p, out.len};
}

/* Transfer body variants. */
enum bvariant {
	BV_OK,
	BV_UNKNOWN,
	BV_NO_IDENTITY,
	BV_DUPKEY,
	BV_DEEP,
	BV_BAD_NAME,
	BV_NOT_UTF8,
	BV_HEALTH,
	BV_OTHER_STUDENT,
	BV_NOT_GUARDIAN,
	BV_AUDIT,       /* with the sender's audit head */
	BV_AUDIT_OTHER, /* with an audit head signed by another school */
};

static const char att_pdf[] = "%PDF-1.4\n% Baton test vector attachment\n%%EOF\n";

/* The audit heads a body carries in BV_AUDIT and BV_AUDIT_OTHER. */
static struct obj head_a, head_c;

static size_t transfer_body(uint8_t *buf, size_t cap, const uint8_t *consent, size_t clen,
                            enum bvariant bv, int with_att)
{
	int with_head = bv == BV_AUDIT || bv == BV_AUDIT_OTHER;
	struct enc e;
	uint8_t hash[32];
	crypto_generichash(hash, 32, (const uint8_t *)att_pdf, sizeof(att_pdf) - 1, NULL, 0);
	bti_enc_init(&e, buf, cap);
	bti_enc_map(&e,
	            (uint32_t)(4 + with_att + (bv == BV_UNKNOWN) + (bv == BV_DUPKEY) + with_head));
	if (with_att) {
		bti_enc_str(&e, "atts"), bti_enc_array(&e, 1), bti_enc_map(&e, 5);
		bti_enc_str(&e, "hash"), bti_enc_bin(&e, hash, 32);
		bti_enc_str(&e, "media"), bti_enc_str(&e, "application/pdf");
		bti_enc_str(&e, "name"),
		    bti_enc_str(&e, bv == BV_BAD_NAME ? "../../.profile" : "t.pdf");
		bti_enc_str(&e, "section"), bti_enc_str(&e, "transcript");
		bti_enc_str(&e, "size"), bti_enc_uint(&e, sizeof(att_pdf) - 1);
	}
	if (with_head) {
		const struct obj *h = bv == BV_AUDIT ? &head_a : &head_c;
		bti_enc_str(&e, "audit"), bti_enc_bin(&e, h->p, h->len);
	}
	bti_enc_str(&e, "consent"), bti_enc_bin(&e, consent, clen);
	if (bv == BV_DUPKEY)
		bti_enc_str(&e, "consent"), bti_enc_bin(&e, consent, clen);
	bti_enc_str(&e, "guardians"), bti_enc_array(&e, 1);
	bti_enc_bin(&e, baton_key_id_pk(bv == BV_NOT_GUARDIAN ? guardian2 : guardian), 32);
	if (bv == BV_UNKNOWN)
		bti_enc_str(&e, "priority"), bti_enc_str(&e, "urgent");
	bti_enc_str(&e, "sections");
	if (bv == BV_DEEP) {
		bti_enc_map(&e, 1), bti_enc_str(&e, "identity");
		for (int i = 0; i < 5; i++)
			bti_enc_array(&e, 1);
		bti_enc_uint(&e, 1);
	} else {
		bti_enc_map(&e, bv == BV_NO_IDENTITY ? 1 : bv == BV_HEALTH ? 3 : 2);
		if (bv == BV_HEALTH)
			bti_enc_str(&e, "health"), bti_enc_bin(&e, tu_health, strlen(tu_health));
		if (bv != BV_NO_IDENTITY)
			bti_enc_str(&e, "identity"),
			    bti_enc_bin(&e, tu_identity, strlen(tu_identity));
		bti_enc_str(&e, "transcript");
		if (bv == BV_NOT_UTF8)
			bti_enc_bin(&e, "\xfe\xff", 2);
		else
			bti_enc_bin(&e, tu_transcript, strlen(tu_transcript));
	}
	bti_enc_str(&e, "student"), bti_enc_str(&e, bv == BV_OTHER_STUDENT ? "S-2002" : "S-1001");
	return e.len;
}

static uint8_t *consent_bytes;
static size_t consent_len;

/* When set, a request case's want must read as exactly these names. */
static const char *const *want_names;
static size_t want_n;

static void packet_case(const char *name, const char *desc, struct raw *r, const baton_key *me,
                        uint64_t now, int expect, void (*mutate)(struct obj *))
{
	struct obj o = raw_packet(r);
	if (mutate)
		mutate(&o);
	baton_source src;
	baton_opened *op = NULL;
	baton_open_params p = tu_open_params(me, now);
	baton_source_mem(&src, o.p, o.len);
	int got = baton_packet_open(&src, &p, &op);

	json_t *v = json_object();
	uint8_t seed = me == school_a ? SEED_A : me == school_b ? SEED_B : SEED_C;
	seed_hex(v, "recipient_seed", seed);
	json_object_set_new(v, "now", json_integer((json_int_t)now));
	json_object_set_new(v, "skew", json_integer((json_int_t)TU_SKEW));
	if (got == 0) {
		const baton_body *b = baton_opened_body(op);
		json_t *secs = json_object(), *atts = json_array();
		for (int s = 0; s < BATON_SEC_COUNT; s++)
			if (b->section[s])
				json_object_set_new(
				    secs, baton_section_name((baton_section)s),
				    json_stringn((const char *)b->section[s], b->section_len[s]));
		for (size_t i = 0; i < b->n_attachments; i++) {
			json_t *a = json_object();
			tu_buf plain = {0};
			if ((got = baton_opened_attachment(op, i, tu_buf_write, &plain)) != 0)
				break;
			json_object_set_new(a, "name", json_string(b->attachments[i].name));
			set_hex(a, "content", plain.p ? plain.p : (const uint8_t *)"", plain.len);
			json_array_append_new(atts, a);
			tu_buf_free(&plain);
		}
		if (r->kind == BATON_KIND_TRANSFER) {
			json_object_set_new(v, "sections", secs);
			json_object_set_new(v, "attachments", atts);
		} else {
			json_decref(secs), json_decref(atts);
			char want[BATON_SECTIONS_TEXT_MAX];
			baton_sections_format(b->requested_mask, want, sizeof(want));
			if (want_names)
				same_names(name, want, want_names, want_n);
			json_object_set_new(v, "want", json_string(want));
		}
		set_hex(v, "packet_hash", baton_opened_info(op)->hash, 32);
	}
	baton_opened_free(op);
	emit(v, name, "packet", desc, got, expect, o.p, o.len);
	free(o.p);
}

static void base_raw(struct raw *r, uint8_t *body, size_t cap, enum bvariant bv, int with_att)
{
	memset(r, 0, sizeof(*r));
	r->version = 1;
	r->kind = BATON_KIND_TRANSFER;
	r->created = TU_NOW;
	r->expires = TU_NOW + 7 * TU_DAY;
	r->signer = school_a;
	r->to = school_b;
	r->body = body;
	r->body_len = transfer_body(body, cap, consent_bytes, consent_len, bv, with_att);
	if (with_att) {
		r->att[0] = (const uint8_t *)att_pdf;
		r->att_len[0] = sizeof(att_pdf) - 1;
		r->n_att = 1;
	}
}

static void flip_last(struct obj *o)
{
	o->p[o->len - 1] ^= 0x80;
}

static void flip_mid(struct obj *o)
{
	o->p[o->len / 2] ^= 0x04;
}

static void cut_to_4(struct obj *o)
{
	o->len = 4;
}

static void cut_to_20(struct obj *o)
{
	o->len = 20;
}

static void cut_body(struct obj *o)
{
	o->len = 300;
}

static void cut_last_byte(struct obj *o)
{
	o->len -= 1;
}

static void bad_magic(struct obj *o)
{
	o->p[0] = 'X';
}

static void add_trailing(struct obj *o)
{
	o->p[o->len++] = 0x42;
}

/* Replaces one 32-byte key in the packet with another and signs it again as signer. */
static void resign(struct obj *o, const uint8_t *old_pk, const uint8_t *new_pk,
                   const baton_key *signer)
{
	static const char sd[] = "BATON-PACKET-SIG-v1";
	uint8_t digest[64], msg[sizeof(sd) + 64];
	uint8_t *at = memmem(o->p, o->len, old_pk, 32);
	if (at == NULL)
		exit(2);
	memcpy(at, new_pk, 32);
	crypto_generichash(digest, 64, o->p, o->len - 64, NULL, 0);
	memcpy(msg, sd, sizeof(sd));
	memcpy(msg + sizeof(sd), digest, 64);
	crypto_sign_detached(o->p + o->len - 64, NULL, msg, sizeof(msg), baton_key_id_sk(signer));
}

static void open_case(const char *name, const char *desc, struct obj *o, const baton_key *me,
                      uint8_t seed, int expect)
{
	baton_source src;
	baton_opened *op = NULL;
	baton_open_params p = tu_open_params(me, TU_NOW);
	baton_source_mem(&src, o->p, o->len);
	json_t *v = json_object();
	seed_hex(v, "recipient_seed", seed);
	json_object_set_new(v, "now", json_integer((json_int_t)TU_NOW));
	json_object_set_new(v, "skew", json_integer((json_int_t)TU_SKEW));
	int got = baton_packet_open(&src, &p, &op);
	baton_opened_free(op);
	emit(v, name, "packet", desc, got, expect, o->p, o->len);
	free(o->p);
}

static void gen_packets(void)
{
	uint8_t body[8192];
	struct raw r;
	baton_consent c;
	tu_consent_fill(&c, guardian, school_a, school_b, SEC(IDENTITY) | SEC(TRANSCRIPT));
	c.issued = TU_NOW - TU_DAY;
	tu_consent_sign(&c, guardian, &consent_bytes, &consent_len);

#define PKT(name, desc, bv, att, tweak, me, now, expect, mutate)                                   \
	do {                                                                                       \
		base_raw(&r, body, sizeof(body), bv, att);                                         \
		tweak;                                                                             \
		packet_case(name, desc, &r, me, now, expect, mutate);                              \
	} while (0)

	PKT("packet-valid-transfer", "a transfer with one PDF attachment", BV_OK, 1, , school_b,
	    TU_NOW, 0, NULL);
	PKT("packet-valid-transfer-no-attachments", "sections only", BV_OK, 0, , school_b, TU_NOW,
	    0, NULL);
	PKT("packet-valid-at-skew-edge", "created 300 s in the receiver's future", BV_OK, 0, ,
	    school_b, TU_NOW - TU_SKEW, 0, NULL);
	PKT("packet-bad-signature", "last byte of the signature flipped", BV_OK, 1, , school_b,
	    TU_NOW, BATON_EBADSIG, flip_last);
	PKT("packet-body-flipped", "one bit of the body ciphertext flipped", BV_OK, 1, , school_b,
	    TU_NOW, BATON_EBADSIG, flip_mid);
	PKT("packet-wrong-recipient", "sealed for school C, opened by school B", BV_OK, 0,
	    r.to = school_c, school_b, TU_NOW, BATON_EWRONGRCPT, NULL);
	PKT("packet-signed-by-other", "the header names school A but school M signed it", BV_OK, 0,
	    (r.signer = mallory, r.sndr = baton_key_id_pk(school_a)), school_b, TU_NOW,
	    BATON_EBADSIG, NULL);
	PKT("packet-truncated-prefix", "only 4 bytes", BV_OK, 0, , school_b, TU_NOW, BATON_ETRUNC,
	    cut_to_4);
	PKT("packet-truncated-header", "cut inside the header", BV_OK, 0, , school_b, TU_NOW,
	    BATON_ETRUNC, cut_to_20);
	PKT("packet-truncated-body", "cut inside the body ciphertext", BV_OK, 0, , school_b, TU_NOW,
	    BATON_ETRUNC, cut_body);
	PKT("packet-truncated-signature", "the last byte is missing", BV_OK, 1, , school_b, TU_NOW,
	    BATON_EBADSIG, cut_last_byte);
	PKT("packet-truncated-resigned", "an attachment stream cut short, then signed", BV_OK, 1,
	    r.cut_before_sig = 10, school_b, TU_NOW, BATON_ETRUNC, NULL);
	PKT("packet-trailing-bytes", "one byte after the signature", BV_OK, 0, , school_b, TU_NOW,
	    BATON_EBADSIG, add_trailing);
	PKT("packet-trailing-resigned",
	    "three bytes between the last stream and the signature, "
	    "signed",
	    BV_OK, 1, r.extra_before_sig = 3, school_b, TU_NOW, BATON_ETRAILING, NULL);
	PKT("packet-bad-magic", "does not start with BTNP", BV_OK, 0, , school_b, TU_NOW,
	    BATON_EMAGIC, bad_magic);
	PKT("packet-bad-version", "version 2", BV_OK, 0, r.version = 2, school_b, TU_NOW,
	    BATON_EVERSION, NULL);
	PKT("packet-unknown-kind", "kind 9", BV_OK, 0, r.kind = 9, school_b, TU_NOW, BATON_EKIND,
	    NULL);
	PKT("packet-header-duplicate-key", "header repeats blen", BV_OK, 0, r.header_variant = 1,
	    school_b, TU_NOW, BATON_EDUPKEY, NULL);
	PKT("packet-header-unknown-field", "header has a field \"flags\"", BV_OK, 0,
	    r.header_variant = 2, school_b, TU_NOW, BATON_EUNKNOWN, NULL);
	PKT("packet-header-missing-field", "header has no sndr", BV_OK, 0, r.header_variant = 3,
	    school_b, TU_NOW, BATON_EMISSING, NULL);
	PKT("packet-header-noncanonical", "blen as uint16 when it fits in uint8", BV_OK, 0,
	    (r.header_variant = 4, r.body_len = 100), school_b, TU_NOW, BATON_ENONCANON, NULL);
	PKT("packet-header-depth", "eph nested in an array: past the header's depth cap of 1",
	    BV_OK, 0, r.header_variant = 5, school_b, TU_NOW, BATON_EDEPTH, NULL);
	PKT("packet-header-length-past-input", "eph declared as 2^31 bytes", BV_OK, 0,
	    r.header_variant = 6, school_b, TU_NOW, BATON_ELENGTH, NULL);
	PKT("packet-header-too-long", "prefix declares a 600-byte header", BV_OK, 0,
	    r.header_variant = 7, school_b, TU_NOW, BATON_ETOOBIG, NULL);
	PKT("packet-expired", "opened a day after it expired", BV_OK, 0, , school_b,
	    TU_NOW + 8 * TU_DAY, BATON_EEXPIRED, NULL);
	PKT("packet-not-yet-valid", "created an hour in the receiver's future", BV_OK, 0, ,
	    school_b, TU_NOW - 3600, BATON_ENOTYET, NULL);
	PKT("packet-low-order-eph", "ephemeral key is a low-order point (signed)", BV_OK, 0,
	    r.eph_force = x_low_order, school_b, TU_NOW, BATON_EBADKEY, NULL);
	static const uint8_t zero[32] = {0};
	PKT("packet-zero-eph", "ephemeral key is all zeros (signed)", BV_OK, 0, r.eph_force = zero,
	    school_b, TU_NOW, BATON_EBADKEY, NULL);
	PKT("packet-small-order-sender", "sender key is a small-order Ed25519 point", BV_OK, 0,
	    r.sndr = ed_small_order, school_b, TU_NOW, BATON_EBADKEY, NULL);
	PKT("packet-body-wrong-key", "body encrypted under another key (signed)", BV_OK, 0,
	    r.garble_body = 1, school_b, TU_NOW, BATON_EDECRYPT, NULL);
	PKT("packet-body-unknown-field", "body has a field \"priority\"", BV_UNKNOWN, 0, , school_b,
	    TU_NOW, BATON_EUNKNOWN, NULL);
	PKT("packet-body-missing-identity", "identity section absent", BV_NO_IDENTITY, 0, ,
	    school_b, TU_NOW, BATON_EMISSING, NULL);
	PKT("packet-body-duplicate-key", "body repeats consent", BV_DUPKEY, 0, , school_b, TU_NOW,
	    BATON_EDUPKEY, NULL);
	PKT("packet-body-depth", "a section nested past the body's depth cap of 4", BV_DEEP, 0, ,
	    school_b, TU_NOW, BATON_EDEPTH, NULL);
	PKT("packet-attachment-path", "attachment named ../../.profile", BV_BAD_NAME, 1, , school_b,
	    TU_NOW, BATON_EVALUE, NULL);
	PKT("packet-section-not-utf8", "transcript text is not UTF-8", BV_NOT_UTF8, 0, , school_b,
	    TU_NOW, BATON_EUTF8, NULL);
	PKT("packet-consent-section-not-consented",
	    "health is sent but the consent does not "
	    "name it",
	    BV_HEALTH, 0, , school_b, TU_NOW, BATON_ECONSENT, NULL);
	PKT("packet-consent-other-student", "the consent is for S-1001, the record is S-2002",
	    BV_OTHER_STUDENT, 0, , school_b, TU_NOW, BATON_ECONSENT, NULL);
	PKT("packet-consent-signer-not-guardian", "the consent's signer is not a listed guardian",
	    BV_NOT_GUARDIAN, 0, , school_b, TU_NOW, BATON_ECONSENT, NULL);
	PKT("packet-consent-other-receiver", "sent from A to C with a consent for A to B", BV_OK, 0,
	    r.to = school_c, school_c, TU_NOW, BATON_ECONSENT, NULL);

	/* Re-addressed: a packet for C whose header now names B, not re-signed. */
	base_raw(&r, body, sizeof(body), BV_OK, 0);
	r.to = school_c;
	struct obj o = raw_packet(&r);
	memcpy(memmem(o.p, o.len, baton_key_id_pk(school_c), 32), baton_key_id_pk(school_b), 32);
	open_case("packet-readdressed-header",
	          "a packet for C with its header's recipient "
	          "changed to B",
	          &o, school_b, SEED_B, BATON_EBADSIG);
	/* Re-signed: M takes A's packet to B, puts its own key in the header, signs it. */
	base_raw(&r, body, sizeof(body), BV_OK, 0);
	o = raw_packet(&r);
	resign(&o, baton_key_id_pk(school_a), baton_key_id_pk(mallory), mallory);
	open_case("packet-resigned-by-other",
	          "a third school claims A's packet as its own and "
	          "re-signs it: the AEAD binds A",
	          &o, school_b, SEED_B, BATON_EDECRYPT);
	/* Forwarded: B re-addresses A's packet to C and signs it as B; C cannot decrypt it. */
	base_raw(&r, body, sizeof(body), BV_OK, 0);
	o = raw_packet(&r);
	memcpy(memmem(o.p, o.len, baton_key_id_pk(school_b), 32), baton_key_id_pk(school_c), 32);
	resign(&o, baton_key_id_pk(school_a), baton_key_id_pk(school_b), school_b);
	open_case("packet-resigned-by-recipient",
	          "the recipient re-addresses a packet to a third "
	          "school and signs it as its own",
	          &o, school_c, SEED_C, BATON_EDECRYPT);
	/* A request from B to A. */
	{
		uint8_t rb[2048];
		struct enc e;
		bti_enc_init(&e, rb, sizeof(rb));
		bti_enc_map(&e, 2);
		bti_enc_str(&e, "consent"), bti_enc_bin(&e, consent_bytes, consent_len);
		bti_enc_str(&e, "want"), bti_enc_sections(&e, SEC(TRANSCRIPT));
		memset(&r, 0, sizeof(r));
		r.version = 1, r.kind = BATON_KIND_REQUEST;
		r.created = TU_NOW, r.expires = TU_NOW + TU_DAY;
		r.signer = school_b, r.to = school_a, r.body = rb, r.body_len = e.len;
		packet_case("packet-valid-request", "B asks A for S-1001's transcript", &r,
		            school_a, TU_NOW, 0, NULL);
		bti_enc_init(&e, rb, sizeof(rb));
		bti_enc_map(&e, 2);
		bti_enc_str(&e, "consent"), bti_enc_bin(&e, consent_bytes, consent_len);
		bti_enc_str(&e, "want"), bti_enc_sections(&e, SEC(TRANSCRIPT) | SEC(DISCIPLINE));
		r.body_len = e.len;
		packet_case("packet-request-beyond-consent", "asks for discipline, not consented",
		            &r, school_a, TU_NOW, BATON_ECONSENT, NULL);
	}
#undef PKT
}

/* ---- msgpack and key files ---- */

static void msgpack_case(const char *name, const char *desc, const uint8_t *p, size_t n, int expect)
{
	emit(json_object(), name, "msgpack", desc, bti_mp_walk(p, n, &bti_dec_default_limits),
	     expect, p, n);
}

static void gen_msgpack(void)
{
	msgpack_case("msgpack-valid-map", "{\"a\":1,\"b\":true}",
	             (const uint8_t *)"\x82\xa1"
	                              "a\x01\xa1"
	                              "b\xc3",
	             7, 0);
	msgpack_case("msgpack-str32-2gib", "str32 declaring 2^31 bytes",
	             (const uint8_t *)"\xdb\x80\x00\x00\x00xy", 7, BATON_ELENGTH);
	msgpack_case("msgpack-map32-2gib", "map32 declaring 2^31 entries",
	             (const uint8_t *)"\xdf\x80\x00\x00\x00\xa1"
	                              "a\x01",
	             8, BATON_ELENGTH);
	msgpack_case("msgpack-array32-huge", "a 5-byte array32 header that would reserve ~50 GB",
	             (const uint8_t *)"\xdd\x7f\xff\xff\xff", 5, BATON_ELENGTH);
	msgpack_case("msgpack-float", "float64", (const uint8_t *)"\xcb\0\0\0\0\0\0\0\0", 9,
	             BATON_ETYPE);
	msgpack_case("msgpack-negative", "negative fixint", (const uint8_t *)"\xff", 1,
	             BATON_ETYPE);
	msgpack_case("msgpack-ext", "fixext1", (const uint8_t *)"\xd4\x01\x00", 3, BATON_ETYPE);
	msgpack_case("msgpack-duplicate-key", "{\"a\":1,\"a\":2}",
	             (const uint8_t *)"\x82\xa1"
	                              "a\x01\xa1"
	                              "a\x02",
	             7, BATON_EDUPKEY);
	msgpack_case("msgpack-trailing", "1 then 2", (const uint8_t *)"\x01\x02", 2,
	             BATON_ETRAILING);
}

static void gen_keyfiles(void)
{
	char dir[] = "/tmp/baton-gen-XXXXXX", path[64];
	if (mkdtemp(dir) == NULL)
		exit(1);
	for (int k = 0; k < 2; k++) {
		uint8_t *buf;
		size_t len;
		baton_key *l = NULL;
		snprintf(path, sizeof(path), "%s/k%d", dir, k);
		if (k)
			baton_key_save(guardian, path, "correct horse", 13, &baton_kdf_min);
		else
			baton_key_save_plain(guardian, path);
		baton_file_read(path, 4096, &buf, &len);
		remove(path);
		const char *pass = k ? "correct horse" : NULL;
		json_t *v = json_object();
		json_object_set_new(v, "passphrase", pass ? json_string(pass) : json_null());
		set_hex(v, "id_pk", baton_key_id_pk(guardian), 32);
		int r = baton_key_decode(buf, len, pass, pass ? strlen(pass) : 0, &l);
		baton_key_free(l);
		emit(v, k ? "keyfile-encrypted" : "keyfile-unencrypted", "keyfile",
		     k ? "a guardian key under Argon2id (minimum cost)" : "an unencrypted key file",
		     r, 0, buf, len);
		if (k) {
			v = json_object();
			json_object_set_new(v, "passphrase", json_string("correct horsE"));
			emit(v, "keyfile-wrong-passphrase", "keyfile", "one letter off",
			     baton_key_decode(buf, len, "correct horsE", 13, &l), BATON_EPASSPHRASE,
			     buf, len);
			buf[0] = 'X';
			v = json_object();
			json_object_set_new(v, "passphrase", json_string("correct horse"));
			emit(v, "keyfile-bad-magic", "keyfile", "does not start with BTNK",
			     baton_key_decode(buf, len, "correct horse", 13, &l), BATON_EKEYFILE,
			     buf, len);
		}
		free(buf);
	}
	remove(dir);
}

/* ---- family sign-in (PROTOCOL.md section 7.5) ---- */

#define LOGIN_ORIGIN "https://school.example:8443"

static void login_nonce(uint8_t nonce[32], uint8_t b)
{
	memset(nonce, b, 32);
}

/* A login signature by guardian for school A, LOGIN_ORIGIN, nonce 0x4e. */
static void login_sig_base(uint8_t sig[64])
{
	uint8_t n[32];
	login_nonce(n, 0x4e);
	if (baton_login_sign(baton_key_id_pk(school_a), LOGIN_ORIGIN, n, baton_key_id_sk(guardian),
	                     sig) != 0)
		exit(1);
}

/* The consent's own signature replaced by the same guardian's login signature. */
static void put_login_sig(struct obj *o)
{
	login_sig_base(o->p + o->len - 64);
}

/* Checks sig as a sign-in by key for school A at origin, nonce 0x4e. */
static void login_case(const char *name, const char *desc, const char *origin,
                       const uint8_t sig[64], const uint8_t *key, int expect)
{
	uint8_t n[32], msg[BATON_LOGIN_MSG_MAX];
	size_t mlen;
	login_nonce(n, 0x4e);
	json_t *v = json_object();
	set_hex(v, "school_pk", baton_key_id_pk(school_a), 32);
	json_object_set_new(v, "origin", json_string(origin));
	set_hex(v, "nonce", n, 32);
	set_hex(v, "key", key, 32);
	if (expect == 0) {
		if (baton_login_message(baton_key_id_pk(school_a), origin, n, msg, &mlen) != 0)
			exit(1);
		set_hex(v, "message", msg, mlen);
	}
	emit(v, name, "login", desc,
	     baton_login_verify(baton_key_id_pk(school_a), origin, n, key, sig), expect, sig, 64);
}

static void gen_logins(void)
{
	uint8_t sig[64], n[32];
	char longest[BATON_LOGIN_ORIGIN_MAX + 2];
	const uint8_t *G = baton_key_id_pk(guardian), *G2 = baton_key_id_pk(guardian2);

	login_sig_base(sig);
	login_case("login-ok", "a guardian's sign-in at school A from " LOGIN_ORIGIN, LOGIN_ORIGIN,
	           sig, G, 0);
	login_case("login-other-key", "verified with another guardian's key", LOGIN_ORIGIN, sig, G2,
	           BATON_EBADSIG);
	login_case("login-other-origin", "signed for " LOGIN_ORIGIN ", checked for port 8444",
	           "https://school.example:8444", sig, G, BATON_EBADSIG);
	login_case("login-http-origin", "signed for " LOGIN_ORIGIN ", checked for its http:// twin",
	           "http://school.example:8443", sig, G, BATON_EBADSIG);
	login_nonce(n, 0x4f);
	baton_login_sign(baton_key_id_pk(school_a), LOGIN_ORIGIN, n, baton_key_id_sk(guardian),
	                 sig);
	login_case("login-other-nonce", "signed over nonce 0x4f bytes, checked with 0x4e bytes",
	           LOGIN_ORIGIN, sig, G, BATON_EBADSIG);
	login_nonce(n, 0x4e);
	baton_login_sign(baton_key_id_pk(school_b), LOGIN_ORIGIN, n, baton_key_id_sk(guardian),
	                 sig);
	login_case("login-other-fingerprint",
	           "signed for school B's fingerprint, checked at school A", LOGIN_ORIGIN, sig, G,
	           BATON_EBADSIG);
	/* The same guardian's consent: its signature is over "BATON-SIG-v1\0" || 2 || body. */
	baton_consent c;
	uint8_t body[2048];
	tu_consent_fill(&c, guardian, school_a, school_b, SEC(IDENTITY) | SEC(TRANSCRIPT));
	size_t blen = consent_body(body, sizeof(body), &c, CV_OK);
	struct obj o = envelope(BATON_OBJ_CONSENT, body, blen, baton_key_id_sk(guardian));
	memcpy(sig, o.p + o.len - 64, 64);
	free(o.p);
	login_case("login-consent-signature",
	           "the signature of the guardian's consent (consent-valid) presented as a sign-in",
	           LOGIN_ORIGIN, sig, G, BATON_EBADSIG);
	login_sig_base(sig);
	login_case("login-origin-empty", "an empty origin", "", sig, G, BATON_EVALUE);
	memset(longest, 'a', sizeof(longest) - 1);
	memcpy(longest, "https://", 8);
	longest[sizeof(longest) - 1] = '\0';
	login_case("login-origin-too-long", "an origin of 256 bytes", longest, sig, G,
	           BATON_EVALUE);
	login_case("login-origin-space", "an origin with a space", "https://school example", sig, G,
	           BATON_EVALUE);
	login_case("login-small-order-key", "the key is a small-order point", LOGIN_ORIGIN, sig,
	           ed_small_order, BATON_EBADKEY);
}

/* ---- chunk frames (PROTOCOL.md section 10), written from the table ---- */

struct frame_raw {
	int version;
	uint8_t reserved;   /* byte 5 */
	uint32_t chunk;     /* the admission's chunk size */
	uint64_t time;      /* of signing */
	uint64_t total;     /* 0: the packet's length */
	const uint8_t *id;  /* the frame's id (default: the header's) */
	const uint8_t *sk;  /* signs the admission (default: school A's) */
	size_t drop, extra; /* data bytes left out, or added, after signing */
	size_t flip;        /* 1 + offset of a data byte flipped after signing */
};

/* The first chunk of the packet pkt, with its admission. */
static struct obj first_chunk(const struct obj *pkt, const struct frame_raw *f)
{
	static const char dom[] = "BATON-ADMIT-v1";
	uint8_t msg[15 + 16 + 8 + 4 + 8 + 32];
	struct obj o;
	baton_source src;
	baton_header h;
	uint64_t total = f->total ? f->total : pkt->len;

	baton_source_mem(&src, pkt->p, pkt->len);
	if (baton_packet_peek(&src, &h) != 0)
		exit(2);
	o.len = 116 + pkt->len - f->drop + f->extra;
	o.p = calloc(1, o.len);
	memcpy(o.p, "BTNC", 4);
	o.p[4] = (uint8_t)f->version;
	o.p[5] = f->reserved;
	memcpy(o.p + 8, f->id ? f->id : h.id, 16);
	put_be64(o.p + 24, total);
	put_be64(o.p + 32, 0);
	put_be32(o.p + 40, f->chunk);
	put_be64(o.p + 44, f->time);
	memcpy(o.p + 116, pkt->p, pkt->len - f->drop);
	memcpy(msg, dom, sizeof(dom));
	memcpy(msg + 15, o.p + 8, 16);
	memcpy(msg + 31, o.p + 24, 8);
	memcpy(msg + 39, o.p + 40, 12);
	crypto_generichash(msg + 51, 32, o.p + 116, pkt->len - f->drop, NULL, 0);
	crypto_sign_detached(o.p + 52, NULL, msg, sizeof(msg),
	                     f->sk ? f->sk : baton_key_id_sk(school_a));
	if (f->flip)
		o.p[116 + f->flip - 1] ^= 0x01;
	return o;
}

static int run_chunk(const uint8_t *p, size_t n, const baton_key *me, uint64_t now)
{
	struct frame_chunk f;
	baton_header h;
	int r = bti_frame_chunk_decode(p, n, &f);
	return r || !f.admit ? r
	                     : bti_frame_admit_verify(&f, baton_key_id_pk(me), now, TU_SKEW, &h);
}

static void chunk_case(const char *name, const char *desc, struct obj o, uint64_t now, int expect)
{
	json_t *v = json_object();
	seed_hex(v, "recipient_seed", SEED_B);
	json_object_set_new(v, "now", json_integer((json_int_t)now));
	json_object_set_new(v, "skew", json_integer((json_int_t)TU_SKEW));
	emit(v, name, "chunk", desc, run_chunk(o.p, o.len, school_b, now), expect, o.p, o.len);
	free(o.p);
}

static void gen_chunks(void)
{
	uint8_t body[8192], other_id[16], head[64];
	struct raw r;
	struct obj pkt, pkt_c;
	struct frame_raw f;

	base_raw(&r, body, sizeof(body), BV_OK, 0);
	pkt = raw_packet(&r);
	r.to = school_c;
	pkt_c = raw_packet(&r);
	memset(other_id, 0x5a, sizeof(other_id));
#define FR(tweak)                                                                                  \
	(memset(&f, 0, sizeof(f)), f.version = 2, f.chunk = 1u << 20, f.time = TU_NOW, tweak, &f)

	chunk_case("chunk-first-valid",
	           "the first chunk of a packet from A to B, admission signed "
	           "by A",
	           first_chunk(&pkt, FR((void)0)), TU_NOW, 0);
	chunk_case("chunk-first-at-skew-edge", "signed 300 s before the receiver's now",
	           first_chunk(&pkt, FR((void)0)), TU_NOW + TU_SKEW, 0);
	chunk_case("chunk-first-signed-by-other", "the header names A, school M signed",
	           first_chunk(&pkt, FR(f.sk = baton_key_id_sk(mallory))), TU_NOW, BATON_EBADSIG);
	chunk_case("chunk-first-data-flipped",
	           "one bit of the body ciphertext flipped after signing",
	           first_chunk(&pkt, FR(f.flip = pkt.len - 100)), TU_NOW, BATON_EBADSIG);
	chunk_case("chunk-first-wrong-recipient", "a packet for school C, read by school B",
	           first_chunk(&pkt_c, FR((void)0)), TU_NOW, BATON_EWRONGRCPT);
	chunk_case("chunk-first-expired", "signed 301 s before the receiver's now",
	           first_chunk(&pkt, FR((void)0)), TU_NOW + TU_SKEW + 1, BATON_EEXPIRED);
	chunk_case("chunk-first-not-yet", "signed 301 s after the receiver's now",
	           first_chunk(&pkt, FR((void)0)), TU_NOW - TU_SKEW - 1, BATON_ENOTYET);
	chunk_case("chunk-first-other-id", "the frame names another id than the header",
	           first_chunk(&pkt, FR(f.id = other_id)), TU_NOW, BATON_EVALUE);
	chunk_case("chunk-frame-version-1", "frame version 1, which had no admission",
	           first_chunk(&pkt, FR(f.version = 1)), TU_NOW, BATON_EVERSION);
	chunk_case("chunk-frame-reserved", "a reserved byte is not zero",
	           first_chunk(&pkt, FR(f.reserved = 1)), TU_NOW, BATON_EVALUE);
	chunk_case("chunk-first-chunk-size", "the admission names chunks of 65536 bytes",
	           first_chunk(&pkt, FR(f.chunk = 65536)), TU_NOW, BATON_EVALUE);
	chunk_case("chunk-first-short", "one byte fewer than the total",
	           first_chunk(&pkt, FR(f.drop = 1)), TU_NOW, BATON_ETRUNC);
	chunk_case("chunk-first-trailing", "one byte more than the total",
	           first_chunk(&pkt, FR(f.extra = 1)), TU_NOW, BATON_ETRAILING);
	chunk_case("chunk-first-short-of-layout", "a total of 2 MiB, but less than 1 MiB of data",
	           first_chunk(&pkt, FR(f.total = 2u << 20)), TU_NOW, BATON_ETRUNC);
	chunk_case("chunk-total-over-limit", "a total of 2^36 + 1 bytes",
	           first_chunk(&pkt, FR(f.total = (UINT64_C(1) << 36) + 1)), TU_NOW, BATON_ETOOBIG);
	struct obj cut = first_chunk(&pkt, FR((void)0));
	cut.len = 40 + 50;
	chunk_case("chunk-first-truncated-admission", "the frame ends inside the admission", cut,
	           TU_NOW, BATON_ETRUNC);
	cut = first_chunk(&pkt, FR((void)0));
	cut.len = 39;
	chunk_case("chunk-frame-truncated-head", "39 bytes", cut, TU_NOW, BATON_ETRUNC);
	cut = first_chunk(&pkt, FR((void)0));
	memcpy(cut.p, "BTNP", 4);
	chunk_case("chunk-frame-bad-magic", "\"BTNP\" where \"BTNC\" belongs", cut, TU_NOW,
	           BATON_EMAGIC);
	/* A probe, and a later chunk, written out here. */
	memset(head, 0, sizeof(head));
	memcpy(head, "BTNC\x02", 5);
	memcpy(head + 8, other_id, 16);
	put_be64(head + 24, 3u << 20);
	cut.p = malloc(40), cut.len = 40;
	memcpy(cut.p, head, 40);
	chunk_case("chunk-probe", "a probe: the head alone, at offset 0", cut, TU_NOW, 0);
	put_be64(head + 32, 5);
	cut.p = malloc(50), cut.len = 50;
	memcpy(cut.p, head, 40), memset(cut.p + 40, 0xee, 10);
	chunk_case("chunk-offset-unaligned", "10 bytes at offset 5", cut, TU_NOW, BATON_EVALUE);
#undef FR
	free(pkt.p), free(pkt_c.p);
}

/* ---- directory offers and updates (PROTOCOL.md section 10), written from the tables ---- */

struct offer_raw {
	const char *magic;
	int version;
	uint8_t reserved; /* byte 7 */
	size_t k;         /* entries; entry i's key is 32 bytes of 0x20 + i (see order) */
	int order;        /* 1: keys descending instead; 2: the last key repeats the one before */
	size_t cut;       /* bytes left off the end */
};

static struct obj offer_raw_obj(const struct offer_raw *b)
{
	struct obj o;
	o.len = 8 + 40 * b->k;
	o.p = calloc(1, o.len);
	memcpy(o.p, b->magic, 4);
	o.p[4] = (uint8_t)b->version;
	o.p[7] = b->reserved;
	for (size_t i = 0; i < b->k; i++) {
		size_t key = b->order == 1                    ? b->k - 1 - i
		             : b->order == 2 && i + 1 == b->k ? i - 1
		                                              : i;
		uint8_t *q = o.p + 8 + 40 * i;
		memset(q, 0x20 + (int)key, 32);
		/* The version, u64 big-endian: entry i holds 1000 * i + 1, the last 2^64 - 1. */
		uint64_t v = i + 1 == b->k && b->k > 2 ? UINT64_MAX : 1000 * (uint64_t)i + 1;
		for (int j = 0; j < 8; j++)
			q[32 + j] = (uint8_t)(v >> (56 - 8 * j));
	}
	o.len -= b->cut;
	return o;
}

/* Decodes o as an offer; one that decodes lists its entries: [key hex, version]. */
static void offer_case(const char *name, const char *desc, struct obj o, int expect)
{
	struct frame_offer e[FRAME_OFFER_MAX];
	size_t k;
	json_t *v = json_object(), *entries = json_array();
	int r = bti_frame_offer_decode(o.p, o.len, e, &k);
	for (size_t i = 0; r == 0 && i < k; i++) {
		char *h = hex(e[i].authority, 32);
		char ver[24];
		snprintf(ver, sizeof(ver), "%llu", (unsigned long long)e[i].version);
		json_array_append_new(entries, json_pack("[s, s]", h, ver));
		free(h);
	}
	if (r == 0)
		json_object_set_new(v, "entries", entries);
	else
		json_decref(entries);
	emit(v, name, "offer", desc, r, expect, o.p, o.len);
	free(o.p);
}

/* An update by hand: head, code length n (claimed), the code, then dir_len bytes of 0x5a. */
static void update_case(const char *name, const char *desc, int version, uint8_t reserved, int n,
                        const char *code, size_t dir_len, size_t total, int expect)
{
	size_t len = total ? total : 8 + strlen(code) + dir_len;
	uint8_t *p = calloc(1, len < 8 ? 8 : len);
	json_t *v = json_object();
	char got[BATON_CODE_MAX + 1];
	const uint8_t *dir;
	size_t dlen;

	memcpy(p, "BTNU", 4);
	p[4] = (uint8_t)version;
	p[5] = (uint8_t)n;
	p[7] = reserved;
	if (len > 8 + strlen(code))
		memset(p + 8 + strlen(code), 0x5a, len - 8 - strlen(code));
	if (len >= 8 + strlen(code))
		memcpy(p + 8, code, strlen(code));
	int r = bti_frame_update_decode(p, len, got, &dir, &dlen);
	if (r == 0) {
		json_object_set_new(v, "code", json_string(got));
		json_object_set_new(v, "directory_len", json_integer((json_int_t)dlen));
	}
	emit(v, name, "update", desc, r, expect, p, len);
	free(p);
}

static void gen_offers(void)
{
	struct offer_raw b;
#define O(tweak)                                                                                   \
	(memset(&b, 0, sizeof(b)), b.magic = "BTNO", b.version = 1, b.k = 2, tweak,                \
	 offer_raw_obj(&b))
	offer_case("offer-empty", "no entry: nothing pinned", O(b.k = 0), 0);
	offer_case("offer-two", "two authorities, versions 1 and 1001", O((void)0), 0);
	offer_case("offer-max", "64 authorities, the last at version 2^64 - 1", O(b.k = 64), 0);
	offer_case("offer-too-many", "65 entries", O(b.k = 65), BATON_ETOOBIG);
	offer_case("offer-descending", "keys in descending order", O(b.order = 1), BATON_ENONCANON);
	offer_case("offer-repeated-key", "a key twice", O((b.k = 3, b.order = 2)), BATON_ENONCANON);
	offer_case("offer-bad-magic", "\"BTNU\" where \"BTNO\" belongs", O(b.magic = "BTNU"),
	           BATON_EMAGIC);
	offer_case("offer-version-2", "offer frame version 2", O(b.version = 2), BATON_EVERSION);
	offer_case("offer-reserved", "the last reserved byte is 1", O(b.reserved = 1),
	           BATON_EVALUE);
	offer_case("offer-truncated-head", "7 bytes", O((b.k = 0, b.cut = 1)), BATON_ETRUNC);
	offer_case("offer-cut-entry", "the last entry one byte short", O(b.cut = 1), BATON_ETRUNC);
#undef O
	update_case("update-ok", "from LHS-001, a directory of 300 bytes", 1, 0, 7, "LHS-001", 300,
	            0, 0);
	update_case("update-code-max", "a code of 32 bytes, a directory of 1 byte", 1, 0, 32,
	            "A2345678901234567890123456789012", 1, 0, 0);
	update_case("update-no-directory", "a code and nothing after it", 1, 0, 7, "LHS-001", 0, 0,
	            BATON_ETRUNC);
	update_case("update-code-empty", "a code of length 0", 1, 0, 0, "", 300, 0, BATON_EVALUE);
	update_case("update-code-33", "a code length of 33", 1, 0, 33, "LHS-001", 300, 0,
	            BATON_EVALUE);
	update_case("update-code-bad", "a code with a space", 1, 0, 7, "LHS 001", 300, 0,
	            BATON_EVALUE);
	update_case("update-bad-version", "update frame version 2", 2, 0, 7, "LHS-001", 300, 0,
	            BATON_EVERSION);
	update_case("update-reserved", "the last reserved byte is 1", 1, 1, 7, "LHS-001", 300, 0,
	            BATON_EVALUE);
	update_case("update-truncated-head", "7 bytes", 1, 0, 7, "", 0, 7, BATON_ETRUNC);
}

/* ---- batches and their replies (PROTOCOL.md section 10), written from the table ---- */

struct batch_raw {
	const char *magic;
	int version;
	uint8_t reserved;     /* byte 7 */
	size_t k;             /* items */
	const uint32_t *lens; /* of each item; NULL: all of len */
	uint32_t len;
	uint32_t claim; /* when not 0, the last item's length field says this instead */
	size_t tail;    /* bytes of 0xee after the last item */
};

/* A batch or reply by hand: item i holds its length in bytes of 0x10 + i. */
static struct obj batch_raw_obj(const struct batch_raw *b)
{
	struct obj o;
	size_t off = 8;

	o.len = 8 + b->tail;
	for (size_t i = 0; i < b->k; i++)
		o.len += 4 + (b->lens ? b->lens[i] : b->len);
	o.p = calloc(1, o.len);
	memcpy(o.p, b->magic, 4);
	o.p[4] = (uint8_t)b->version;
	o.p[7] = b->reserved;
	for (size_t i = 0; i < b->k; i++) {
		uint32_t n = b->lens ? b->lens[i] : b->len;
		put_be32(o.p + off, i + 1 == b->k && b->claim ? b->claim : n);
		memset(o.p + off + 4, 0x10 + (int)(i & 0x3f), n);
		off += 4 + n;
	}
	memset(o.p + off, 0xee, b->tail);
	return o;
}

/* Decodes o as kind; a case that decodes lists its items in hex. */
static void batch_case(const char *name, const char *kind, const char *desc, struct obj o,
                       int expect)
{
	struct frame_item it[FRAME_BATCH_MAX];
	size_t k;
	json_t *v = json_object(), *items = json_array();
	int reply = strcmp(kind, "batch_reply") == 0;
	int r = reply ? bti_frame_reply_decode(o.p, o.len, it, &k)
	              : bti_frame_batch_decode(o.p, o.len, it, &k);

	for (size_t i = 0; r == 0 && i < k; i++) {
		char *h = hex(it[i].p, it[i].n);
		json_array_append_new(items, json_string(h));
		free(h);
	}
	if (r == 0)
		json_object_set_new(v, "items", items);
	else
		json_decref(items);
	emit(v, name, kind, desc, r, expect, o.p, o.len);
	free(o.p);
}

static void gen_batches(void)
{
	static const uint32_t several[] = {72, 1, 300};
	static const uint32_t with_empty[] = {72, 0, 300};
	static const uint32_t receipts[] = {0, 120, 0, 140};
	struct batch_raw b;
#define BR(magic_, tweak)                                                                          \
	(memset(&b, 0, sizeof(b)), b.magic = magic_, b.version = 1, b.k = 1, b.len = 80, tweak,    \
	 batch_raw_obj(&b))
#define B(tweak) BR("BTNB", tweak)
#define R(tweak) BR("BTNR", tweak)

	batch_case("batch-one-item", "batch", "one packet of 80 bytes", B((void)0), 0);
	batch_case("batch-several-items", "batch", "three packets of 72, 1 and 300 bytes",
	           B((b.k = 3, b.lens = several)), 0);
	batch_case("batch-max-items", "batch", "64 packets of 2 bytes", B((b.k = 64, b.len = 2)),
	           0);
	batch_case("batch-too-many-items", "batch", "65 packets of 2 bytes",
	           B((b.k = 65, b.len = 2)), BATON_ETOOBIG);
	batch_case("batch-no-items", "batch", "the head alone", B(b.k = 0), BATON_EVALUE);
	batch_case("batch-empty-item", "batch", "a second item of length 0",
	           B((b.k = 3, b.lens = with_empty)), BATON_EVALUE);
	batch_case("batch-bad-magic", "batch", "\"BTNR\" where \"BTNB\" belongs",
	           B(b.magic = "BTNR"), BATON_EMAGIC);
	batch_case("batch-version-2", "batch", "batch frame version 2", B(b.version = 2),
	           BATON_EVERSION);
	batch_case("batch-reserved", "batch", "the last reserved byte is 1", B(b.reserved = 1),
	           BATON_EVALUE);
	struct obj cut = B((void)0);
	cut.len = 7;
	batch_case("batch-truncated-head", "batch", "7 bytes", cut, BATON_ETRUNC);
	batch_case("batch-item-past-end", "batch",
	           "an item's length is one more than the bytes left", B(b.claim = 81),
	           BATON_ETRUNC);
	batch_case("batch-item-length-huge", "batch", "an item's length is 2^32 - 1",
	           B((b.k = 2, b.claim = UINT32_MAX)), BATON_ETRUNC);
	batch_case("batch-trailing", "batch",
	           "three bytes after the last item, too few for a length", B(b.tail = 3),
	           BATON_ETRAILING);

	batch_case("batch-reply-one-item", "batch_reply", "one receipt of 120 bytes",
	           R(b.len = 120), 0);
	batch_case("batch-reply-several-items", "batch_reply",
	           "four items: no receipt, a receipt, no receipt, a receipt",
	           R((b.k = 4, b.lens = receipts)), 0);
	batch_case("batch-reply-no-receipt", "batch_reply", "one item of length 0: no receipt",
	           R(b.len = 0), 0);
	batch_case("batch-reply-receipt-at-limit", "batch_reply", "a receipt of 16384 bytes",
	           R(b.len = FRAME_RECEIPT_MAX), 0);
	batch_case("batch-reply-receipt-too-long", "batch_reply", "a receipt of 16385 bytes",
	           R(b.len = FRAME_RECEIPT_MAX + 1), BATON_ETOOBIG);
	batch_case("batch-reply-too-many-items", "batch_reply", "65 items of no receipt",
	           R((b.k = 65, b.len = 0)), BATON_ETOOBIG);
	batch_case("batch-reply-no-items", "batch_reply", "the head alone", R(b.k = 0),
	           BATON_EVALUE);
	batch_case("batch-reply-bad-magic", "batch_reply", "\"BTNB\" where \"BTNR\" belongs",
	           R(b.magic = "BTNB"), BATON_EMAGIC);
	batch_case("batch-reply-version-2", "batch_reply", "batch reply version 2",
	           R(b.version = 2), BATON_EVERSION);
	batch_case("batch-reply-reserved", "batch_reply", "the last reserved byte is 1",
	           R(b.reserved = 1), BATON_EVALUE);
	batch_case("batch-reply-item-past-end", "batch_reply",
	           "an item's length is one more than the bytes left", R(b.claim = 81),
	           BATON_ETRUNC);
	batch_case("batch-reply-trailing", "batch_reply",
	           "two bytes after the last item, too few for a length", R(b.tail = 2),
	           BATON_ETRAILING);
#undef B
#undef R
#undef BR
}

/* ---- audit heads (PROTOCOL.md 3.10) ---- */

enum hvariant { HV_OK, HV_ZERO, HV_UNKNOWN, HV_SMALL_KEY, HV_SHORT_HEAD };

/* An audit head body by hand: count, head, key, time (and a variant). */
static struct obj head_obj(const baton_key *k, uint64_t count, enum hvariant hv)
{
	uint8_t body[256], h[32];
	struct enc e;
	memset(h, 0x48, sizeof(h));
	bti_enc_init(&e, body, sizeof(body));
	bti_enc_map(&e, hv == HV_UNKNOWN ? 5 : 4);
	bti_enc_str(&e, "count"), bti_enc_uint(&e, hv == HV_ZERO ? 0 : count);
	bti_enc_str(&e, "head"), bti_enc_bin(&e, h, hv == HV_SHORT_HEAD ? 31 : 32);
	bti_enc_str(&e, "key"),
	    bti_enc_bin(&e, hv == HV_SMALL_KEY ? ed_small_order : baton_key_id_pk(k), 32);
	bti_enc_str(&e, "time"), bti_enc_uint(&e, TU_NOW);
	if (hv == HV_UNKNOWN)
		bti_enc_str(&e, "where"), bti_enc_str(&e, "here");
	return envelope(BATON_OBJ_AUDIT_HEAD, body, e.len, baton_key_id_sk(k));
}

static void bump_count(struct obj *o)
{
	/* "count" then positive fixint 42. */
	uint8_t *at = memmem(o->p, o->len,
	                     "\xa5"
	                     "count\x2a",
	                     7);
	if (at == NULL)
		exit(2);
	at[6] = 43;
}

static void head_case(const char *name, const char *desc, enum hvariant hv, int expect,
                      void (*mutate)(struct obj *))
{
	baton_audit_head got;
	struct obj o = head_obj(school_a, 42, hv);
	if (mutate)
		mutate(&o);
	emit(json_object(), name, "audit_head", desc, baton_audit_head_parse(o.p, o.len, &got),
	     expect, o.p, o.len);
	free(o.p);
}

/* A receipt by school B over a hand-built body carrying head h. */
static void receipt_head_case(const char *name, const char *desc, const struct obj *h, int expect)
{
	uint8_t body[768], id[16], ph[32];
	struct enc e;
	baton_receipt rg;
	memset(id, 0x11, sizeof(id));
	memset(ph, 0x22, sizeof(ph));
	bti_enc_init(&e, body, sizeof(body));
	bti_enc_map(&e, 6);
	bti_enc_str(&e, "audit"), bti_enc_bin(&e, h->p, h->len);
	bti_enc_str(&e, "hash"), bti_enc_bin(&e, ph, 32);
	bti_enc_str(&e, "packet"), bti_enc_bin(&e, id, 16);
	bti_enc_str(&e, "reason"), bti_enc_uint(&e, 0);
	bti_enc_str(&e, "receiver"), bti_enc_bin(&e, baton_key_id_pk(school_b), 32);
	bti_enc_str(&e, "time"), bti_enc_uint(&e, TU_NOW);
	struct obj o = envelope(BATON_OBJ_RECEIPT, body, e.len, baton_key_id_sk(school_b));
	emit(json_object(), name, "receipt", desc, baton_receipt_parse(o.p, o.len, &rg), expect,
	     o.p, o.len);
	free(o.p);
}

static void gen_audit_heads(void)
{
	head_case("audit-head-valid", "school A's log held 42 entries", HV_OK, 0, NULL);
	head_case("audit-head-bad-signature", "signature flipped", HV_OK, BATON_EBADSIG, flip_sig);
	head_case("audit-head-body-changed", "the count changed after signing (42 to 43)", HV_OK,
	          BATON_EBADSIG, bump_count);
	head_case("audit-head-count-zero", "a head covering no entry", HV_ZERO, BATON_EVALUE, NULL);
	head_case("audit-head-unknown-field", "a field the format does not have", HV_UNKNOWN,
	          BATON_EUNKNOWN, NULL);
	head_case("audit-head-small-order-key", "key is a small-order point", HV_SMALL_KEY,
	          BATON_EBADKEY, NULL);
	head_case("audit-head-short-hash", "head is 31 bytes", HV_SHORT_HEAD, BATON_EVALUE, NULL);
	head_case("audit-head-truncated", "cut in half", HV_OK, BATON_ELENGTH, truncate_half);

	struct obj hb = head_obj(school_b, 7, HV_OK), ha = head_obj(school_a, 7, HV_OK);
	receipt_head_case("receipt-with-audit-head", "an acceptance carrying the receiver's head",
	                  &hb, 0);
	receipt_head_case("receipt-audit-head-other-key",
	                  "the head inside is school A's, the receipt school B's", &ha,
	                  BATON_EVALUE);
	hb.p[hb.len - 1] ^= 1;
	receipt_head_case("receipt-audit-head-bad-signature", "the head's signature flipped", &hb,
	                  BATON_EBADSIG);
	free(hb.p);
	free(ha.p);

	uint8_t body[8192];
	struct raw r;
	baton_consent c;
	tu_consent_fill(&c, guardian, school_a, school_b, SEC(IDENTITY) | SEC(TRANSCRIPT));
	tu_consent_sign(&c, guardian, &consent_bytes, &consent_len);
	head_a = head_obj(school_a, 9, HV_OK);
	head_c = head_obj(school_c, 9, HV_OK);
	base_raw(&r, body, sizeof(body), BV_AUDIT, 0);
	packet_case("packet-with-audit-head", "the body carries the sender's head", &r, school_b,
	            TU_NOW, 0, NULL);
	base_raw(&r, body, sizeof(body), BV_AUDIT_OTHER, 0);
	packet_case("packet-audit-head-other-school", "the head in the body is school C's", &r,
	            school_b, TU_NOW, BATON_EVALUE, NULL);
	free(head_a.p);
	free(head_c.p);
	free(consent_bytes);
}

/* ---- disclosure copies (PROTOCOL.md 3.13) ---- */

enum dvariant {
	DV_OK,
	DV_EMPTY,
	DV_HEAD_OTHER,
	DV_COUNT_MORE,
	DV_SEQ_ORDER,
	DV_SEQ_PAST_HEAD,
	DV_BAD_BASIS,
	DV_UNKNOWN_FIELD,
	DV_PACKET_HASH_ALONE,
	DV_NOT_ARRAY,
	DV_TYPE_4,
	DV_V2,             /* the second entry names custody, graduation and identity */
	DV_V2_INDEX_ORDER, /* ...in index order: identity, custody, graduation */
};

/* The two disclosures of the copies: the first over a consent, received; the second waiting. */
static void dc_entries(baton_disclosure x[2])
{
	memset(x, 0, 2 * sizeof(*x));
	for (int i = 0; i < 2; i++) {
		x[i].seq = i == 0 ? 12 : 30;
		memset(x[i].hash, 0x31 + i, 32);
		x[i].time = TU_NOW - 86400 + (uint64_t)i * 3600;
		snprintf(x[i].basis, sizeof(x[i].basis), "%s", i == 0 ? "consent" : "enrolment");
		if (i == 0) {
			snprintf(x[i].by, sizeof(x[i].by), "%s", "maria");
			x[i].has_consent = 1;
			memset(x[i].consent, 0x43, 16);
		}
		x[i].has_packet = x[i].has_packet_hash = 1;
		memset(x[i].packet, 0x50 + i, 16);
		memset(x[i].packet_hash, 0x68 + i, 32);
		snprintf(x[i].receipt, sizeof(x[i].receipt), "%s", i == 0 ? "received" : "waiting");
		x[i].sections = i == 0 ? SEC(IDENTITY) | SEC(TRANSCRIPT) : SEC(IDENTITY);
		x[i].has_to = 1;
		memcpy(x[i].to, baton_key_id_pk(school_b), 32);
		snprintf(x[i].to_code, sizeof(x[i].to_code), "%s", "RAS-204");
		snprintf(x[i].to_name, sizeof(x[i].to_name), "%s", "Riverside Academy");
	}
}

static void dc_entry(struct enc *e, const baton_disclosure *x, enum dvariant dv, int i)
{
	int odd = i == 1; /* the variants change the second entry */
	bti_enc_map(e, 13 - !x->has_consent - !x->by[0] + (odd && dv == DV_UNKNOWN_FIELD) -
	                   (odd && dv == DV_PACKET_HASH_ALONE));
	bti_enc_str(e, "basis"),
	    bti_enc_str(e, odd && dv == DV_BAD_BASIS ? "legitimate interest" : x->basis);
	if (x->by[0])
		bti_enc_str(e, "by"), bti_enc_str(e, x->by);
	if (x->has_consent)
		bti_enc_str(e, "consent"), bti_enc_bin(e, x->consent, 16);
	bti_enc_str(e, "hash"), bti_enc_bin(e, x->hash, 32);
	if (!(odd && dv == DV_PACKET_HASH_ALONE))
		bti_enc_str(e, "packet"), bti_enc_bin(e, x->packet, 16);
	bti_enc_str(e, "packet_hash"), bti_enc_bin(e, x->packet_hash, 32);
	bti_enc_str(e, "receipt"), bti_enc_str(e, x->receipt);
	bti_enc_str(e, "sections");
	if (odd && (dv == DV_V2 || dv == DV_V2_INDEX_ORDER)) {
		static const char *const names[] = {"custody", "graduation", "identity"};
		static const char *const by_index[] = {"identity", "custody", "graduation"};
		bti_enc_array(e, 3);
		for (int k = 0; k < 3; k++)
			bti_enc_str(e, dv == DV_V2 ? names[k] : by_index[k]);
	} else {
		bti_enc_sections(e, x->sections);
	}
	bti_enc_str(e, "seq"), bti_enc_uint(e, odd && dv == DV_SEQ_ORDER       ? 12
	                                       : odd && dv == DV_SEQ_PAST_HEAD ? 41
	                                                                       : x->seq);
	bti_enc_str(e, "time"), bti_enc_uint(e, x->time);
	bti_enc_str(e, "to"), bti_enc_bin(e, x->to, 32);
	bti_enc_str(e, "to_code"), bti_enc_str(e, x->to_code);
	bti_enc_str(e, "to_name"), bti_enc_str(e, x->to_name);
	if (odd && dv == DV_UNKNOWN_FIELD)
		bti_enc_str(e, "where"), bti_enc_str(e, "here");
}

/* A copy of student S-1's disclosures by school A, built by hand. */
static struct obj dc_file(enum dvariant dv)
{
	static const char domain[] = "BATON-DISCLOSURES-v1";
	baton_disclosure x[2];
	uint8_t list[2048], body[1024], h[32];
	size_t n = dv == DV_EMPTY ? 0 : 2;
	struct enc e;
	struct obj head = head_obj(dv == DV_HEAD_OTHER ? school_b : school_a, 40, HV_OK), env, f;
	crypto_generichash_state st;

	dc_entries(x);
	bti_enc_init(&e, list, sizeof(list));
	if (dv == DV_NOT_ARRAY)
		bti_enc_map(&e, 0);
	else
		bti_enc_array(&e, (uint32_t)n);
	for (size_t i = 0; dv != DV_NOT_ARRAY && i < n; i++)
		dc_entry(&e, &x[i], dv, (int)i);
	crypto_generichash_init(&st, NULL, 0, 32);
	crypto_generichash_update(&st, (const uint8_t *)domain, sizeof(domain));
	crypto_generichash_update(&st, list, e.len);
	crypto_generichash_final(&st, h, 32);
	size_t llen = e.len;
	bti_enc_init(&e, body, sizeof(body));
	bti_enc_map(&e, 8);
	bti_enc_str(&e, "audit"), bti_enc_bin(&e, head.p, head.len);
	bti_enc_str(&e, "code"), bti_enc_str(&e, "LHS-001");
	bti_enc_str(&e, "count"), bti_enc_uint(&e, dv == DV_COUNT_MORE ? 3 : n);
	bti_enc_str(&e, "entries"), bti_enc_bin(&e, h, 32);
	bti_enc_str(&e, "name"), bti_enc_str(&e, "Lincoln High School");
	bti_enc_str(&e, "school"), bti_enc_bin(&e, baton_key_id_pk(school_a), 32);
	bti_enc_str(&e, "student"), bti_enc_str(&e, "S-1");
	bti_enc_str(&e, "time"), bti_enc_uint(&e, TU_NOW);
	env = envelope(dv == DV_TYPE_4 ? BATON_OBJ_RECEIPT : BATON_OBJ_DISCLOSURES, body, e.len,
	               baton_key_id_sk(school_a));
	f.len = 12 + env.len + llen;
	f.p = malloc(f.len);
	memcpy(f.p, "BTND\x01\x00\x00\x00", 8);
	put_be32(f.p + 8, (uint32_t)env.len);
	memcpy(f.p + 12, env.p, env.len);
	memcpy(f.p + 12 + env.len, list, llen);
	free(env.p);
	free(head.p);
	return f;
}

/* Offsets in a copy: the signed object's length and where the entries start. */
static size_t dc_entries_at(const struct obj *o)
{
	return 12 + get_be32(o->p + 8);
}
static void dc_magic(struct obj *o)
{
	o->p[3] = 'P';
}
static void dc_version(struct obj *o)
{
	o->p[4] = 2;
}
static void dc_reserved(struct obj *o)
{
	o->p[7] = 1;
}
static void dc_len_zero(struct obj *o)
{
	memset(o->p + 8, 0, 4);
}
static void dc_len_past(struct obj *o)
{
	put_be32(o->p + 8, (uint32_t)(o->len - 11));
}
static void dc_short(struct obj *o)
{
	o->len = 11;
}
static void dc_sig(struct obj *o)
{
	o->p[dc_entries_at(o) - 1] ^= 1;
}
static void dc_entry_changed(struct obj *o)
{
	/* The first entry's basis: "consent" becomes "consenu". */
	uint8_t *at = memmem(o->p + dc_entries_at(o), o->len - dc_entries_at(o), "consent", 7);
	if (at == NULL)
		exit(2);
	at[6] = 'u';
}
static void dc_entry_dropped(struct obj *o)
{
	o->len = dc_entries_at(o) + 1;
	o->p[o->len - 1] = 0x90; /* an empty array */
}
static void dc_appended(struct obj *o)
{
	o->p = realloc(o->p, o->len + 1);
	o->p[o->len++] = 0x00;
}

static void dc_case(const char *name, const char *desc, enum dvariant dv, int expect,
                    void (*mutate)(struct obj *))
{
	baton_disclosures got;
	struct obj o = dc_file(dv);
	json_t *v = json_object();
	if (mutate)
		mutate(&o);
	int r = baton_disclosures_parse(o.p, o.len, &got);
	set_hex(v, "school_pk", baton_key_id_pk(school_a), 32);
	if (expect == 0) {
		json_object_set_new(v, "student", json_string(got.student));
		json_object_set_new(v, "count", json_integer((json_int_t)got.count));
	}
	baton_disclosures_free(&got);
	emit(v, name, "disclosures", desc, r, expect, o.p, o.len);
	free(o.p);
}

/* The library's own copy of the same disclosures must be the hand-built bytes. */
static void dc_same_as_library(void)
{
	baton_disclosures d;
	baton_disclosure x[2];
	struct obj head = head_obj(school_a, 40, HV_OK), f = dc_file(DV_OK);
	uint8_t *out;
	size_t len;

	memset(&d, 0, sizeof(d));
	dc_entries(x);
	memcpy(d.audit, head.p, head.len);
	d.audit_len = head.len;
	snprintf(d.code, sizeof(d.code), "%s", "LHS-001");
	snprintf(d.name, sizeof(d.name), "%s", "Lincoln High School");
	memcpy(d.school, baton_key_id_pk(school_a), 32);
	snprintf(d.student, sizeof(d.student), "%s", "S-1");
	d.time = TU_NOW;
	d.count = 2;
	d.entry = x;
	if (baton_disclosures_make(&d, baton_key_id_sk(school_a), &out, &len) != 0 ||
	    len != f.len || memcmp(out, f.p, len) != 0) {
		fprintf(stderr,
		        "gen_vectors: disclosures: the library's copy differs from the "
		        "format's (%s)\n",
		        baton_diag());
		exit(1);
	}
	free(out);
	free(f.p);
	free(head.p);
}

static void gen_disclosures(void)
{
	dc_same_as_library();
	dc_case("disclosures-valid", "school A's copy of two disclosures of S-1", DV_OK, 0, NULL);
	dc_case("disclosures-empty", "a copy of a student with no disclosures", DV_EMPTY, 0, NULL);
	dc_case("disclosures-short-prefix", "11 bytes", DV_OK, BATON_ETRUNC, dc_short);
	dc_case("disclosures-bad-magic", "BTNP, not BTND", DV_OK, BATON_EMAGIC, dc_magic);
	dc_case("disclosures-version-2", "version byte 2", DV_OK, BATON_EVERSION, dc_version);
	dc_case("disclosures-reserved", "the last reserved byte is 1", DV_OK, BATON_EVALUE,
	        dc_reserved);
	dc_case("disclosures-length-zero", "the signed object's length is 0", DV_OK, BATON_EVALUE,
	        dc_len_zero);
	dc_case("disclosures-length-past-end", "the signed object's length runs past the file",
	        DV_OK, BATON_ETRUNC, dc_len_past);
	dc_case("disclosures-type-4", "the signed object is of type 4", DV_TYPE_4, BATON_EMAGIC,
	        NULL);
	dc_case("disclosures-bad-signature", "the signature's last byte flipped", DV_OK,
	        BATON_EBADSIG, dc_sig);
	dc_case("disclosures-head-other-school", "the audit head inside is school B's",
	        DV_HEAD_OTHER, BATON_EVALUE, NULL);
	dc_case("disclosures-entry-changed", "one byte of an entry changed after signing", DV_OK,
	        BATON_EHASH, dc_entry_changed);
	dc_case("disclosures-entries-dropped", "the entries replaced by an empty list", DV_OK,
	        BATON_EHASH, dc_entry_dropped);
	dc_case("disclosures-byte-appended", "a byte after the entries", DV_OK, BATON_EHASH,
	        dc_appended);
	dc_case("disclosures-count-more", "the copy says 3 entries, the list has 2", DV_COUNT_MORE,
	        BATON_EVALUE, NULL);
	dc_case("disclosures-not-array", "the entries are a map", DV_NOT_ARRAY, BATON_ETYPE, NULL);
	dc_case("disclosures-seq-order", "the second entry's seq equals the first's", DV_SEQ_ORDER,
	        BATON_EVALUE, NULL);
	dc_case("disclosures-seq-past-head", "an entry at seq 41, the head covers 40",
	        DV_SEQ_PAST_HEAD, BATON_EVALUE, NULL);
	dc_case("disclosures-bad-basis", "a basis the format does not have", DV_BAD_BASIS,
	        BATON_EVALUE, NULL);
	dc_case("disclosures-unknown-field", "an entry with a field the format does not have",
	        DV_UNKNOWN_FIELD, BATON_EUNKNOWN, NULL);
	dc_case("disclosures-packet-hash-alone", "a packet hash without its packet",
	        DV_PACKET_HASH_ALONE, BATON_EVALUE, NULL);
}

/* ---- statements of disagreement (PROTOCOL.md 3.11) ---- */

enum svariant {
	SV_OK,
	SV_UNKNOWN,
	SV_BAD_ROLE,
	SV_BAD_SECTION,
	SV_CONTROL,
	SV_TOO_LONG,
	SV_SMALL_SCHOOL,
	SV_EMPTY_TEXT,
	SV_SHORT_ID,
	SV_CUSTODY, /* about the custody section */
};

static const char statement_text[] =
    "The transcript lists Algebra I as failed.\nShe passed the retake in June 2026.";

/* A statement body by hand: guardian G about S-1001's transcript at school school. */
static size_t statement_body(uint8_t *buf, size_t cap, const baton_key *signer,
                             const baton_key *school, const char *student, uint8_t idbyte,
                             enum svariant sv)
{
	static char longtext[BATON_STATEMENT_TEXT_MAX + 2];
	uint8_t id[16];
	struct enc e;
	memset(id, idbyte, sizeof(id));
	memset(longtext, 'x', BATON_STATEMENT_TEXT_MAX + 1);
	longtext[BATON_STATEMENT_TEXT_MAX + 1] = '\0';
	bti_enc_init(&e, buf, cap);
	bti_enc_map(&e, sv == SV_UNKNOWN ? 9 : 8);
	bti_enc_str(&e, "id"), bti_enc_bin(&e, id, sv == SV_SHORT_ID ? 15 : 16);
	if (sv == SV_UNKNOWN)
		bti_enc_str(&e, "mood"), bti_enc_str(&e, "upset");
	bti_enc_str(&e, "role"), bti_enc_str(&e, sv == SV_BAD_ROLE ? "teacher" : "guardian");
	bti_enc_str(&e, "school"),
	    bti_enc_bin(&e, sv == SV_SMALL_SCHOOL ? ed_small_order : baton_key_id_pk(school), 32);
	bti_enc_str(&e, "section"), bti_enc_str(&e, sv == SV_BAD_SECTION ? "grades"
	                                            : sv == SV_CUSTODY   ? "custody"
	                                                                 : "transcript");
	bti_enc_str(&e, "signer"), bti_enc_bin(&e, baton_key_id_pk(signer), 32);
	bti_enc_str(&e, "student"), bti_enc_str(&e, student);
	bti_enc_str(&e, "text");
	bti_enc_str(&e, sv == SV_CONTROL      ? "wrong\tgrade"
	                : sv == SV_TOO_LONG   ? longtext
	                : sv == SV_EMPTY_TEXT ? ""
	                                      : statement_text);
	bti_enc_str(&e, "time"), bti_enc_uint(&e, TU_NOW);
	return e.len;
}

static struct obj statement_obj(const baton_key *school, const char *student, uint8_t idbyte,
                                enum svariant sv, int type)
{
	uint8_t body[8192];
	size_t n = statement_body(body, sizeof(body), guardian, school, student, idbyte, sv);
	return envelope(type, body, n, baton_key_id_sk(guardian));
}

static void statement_case(const char *name, const char *desc, enum svariant sv, int type,
                           int expect, void (*mutate)(struct obj *))
{
	baton_statement *st = malloc(sizeof(*st));
	struct obj o = statement_obj(school_a, "S-1001", 0x71, sv, type);
	json_t *v = json_object();
	if (mutate)
		mutate(&o);
	int got = baton_statement_parse(o.p, o.len, st);
	if (got == 0) {
		set_hex(v, "signer_pk", baton_key_id_pk(guardian), 32);
		json_object_set_new(v, "section",
		                    json_string(sv == SV_CUSTODY ? "custody" : "transcript"));
		json_object_set_new(v, "text", json_string(statement_text));
	}
	emit(v, name, "statement", desc, got, expect, o.p, o.len);
	free(o.p);
	free(st);
}

/* Statement objects, in the held order the body's ids give, for the packet cases. */
enum spvariant { SP_OK, SP_DROPPED, SP_UNDECLARED, SP_OTHER_STUDENT, SP_OTHER_SCHOOL, SP_BAD_SIG };

/* A transfer body from A to B (identity, transcript) carrying two statements, or a variant.
 */
static size_t statement_transfer_body(uint8_t *buf, size_t cap, enum spvariant sp)
{
	struct obj s1 = statement_obj(school_a, "S-1001", 0x71, SV_OK, BATON_OBJ_STATEMENT);
	struct obj s2 = statement_obj(sp == SP_OTHER_SCHOOL ? school_c : school_a,
	                              sp == SP_OTHER_STUDENT ? "S-2002" : "S-1001", 0x72, SV_OK,
	                              BATON_OBJ_STATEMENT);
	uint8_t id1[16], id2[16];
	struct enc e;
	if (sp == SP_BAD_SIG)
		s2.p[s2.len - 1] ^= 1;
	memset(id1, 0x71, 16);
	memset(id2, 0x72, 16);
	bti_enc_init(&e, buf, cap);
	bti_enc_map(&e, 5);
	bti_enc_str(&e, "consent"), bti_enc_bin(&e, consent_bytes, consent_len);
	bti_enc_str(&e, "guardians"), bti_enc_array(&e, 1);
	bti_enc_bin(&e, baton_key_id_pk(guardian), 32);
	bti_enc_str(&e, "sections"), bti_enc_map(&e, 2);
	bti_enc_str(&e, "identity"), bti_enc_bin(&e, tu_identity, strlen(tu_identity));
	bti_enc_str(&e, "transcript"), bti_enc_bin(&e, tu_transcript, strlen(tu_transcript));
	bti_enc_str(&e, "statements"), bti_enc_map(&e, 2);
	bti_enc_str(&e, "held"), bti_enc_array(&e, sp == SP_UNDECLARED ? 1 : 2);
	bti_enc_bin(&e, id1, 16);
	if (sp != SP_UNDECLARED)
		bti_enc_bin(&e, id2, 16);
	bti_enc_str(&e, "objects"), bti_enc_array(&e, sp == SP_DROPPED ? 1 : 2);
	bti_enc_bin(&e, s1.p, s1.len);
	if (sp != SP_DROPPED)
		bti_enc_bin(&e, s2.p, s2.len);
	bti_enc_str(&e, "student"), bti_enc_str(&e, "S-1001");
	free(s1.p), free(s2.p);
	return e.len;
}

static void statement_packet_case(const char *name, const char *desc, enum spvariant sp, int expect)
{
	uint8_t body[16384];
	struct raw r;
	base_raw(&r, body, sizeof(body), BV_OK, 0);
	r.body_len = statement_transfer_body(body, sizeof(body), sp);
	packet_case(name, desc, &r, school_b, TU_NOW, expect, NULL);
}

static void gen_statements(void)
{
	const int T = BATON_OBJ_STATEMENT;
	statement_case("statement-valid", "a guardian disagrees with the transcript (two lines)",
	               SV_OK, T, 0, NULL);
	statement_case("statement-bad-signature", "signature flipped", SV_OK, T, BATON_EBADSIG,
	               flip_sig);
	statement_case("statement-body-changed", "one byte of the body changed after signing",
	               SV_OK, T, BATON_EBADSIG, flip_body);
	statement_case("statement-is-a-consent", "a valid statement body under envelope type 2",
	               SV_OK, BATON_OBJ_CONSENT, BATON_EMAGIC, NULL);
	statement_case("statement-unknown-field", "a field the format does not have", SV_UNKNOWN, T,
	               BATON_EUNKNOWN, NULL);
	statement_case("statement-bad-role", "role \"teacher\"", SV_BAD_ROLE, T, BATON_EVALUE,
	               NULL);
	statement_case("statement-unknown-section", "section \"grades\"", SV_BAD_SECTION, T,
	               BATON_EVALUE, NULL);
	statement_case("statement-control-character", "a tab in the text (only LF is allowed)",
	               SV_CONTROL, T, BATON_EVALUE, NULL);
	statement_case("statement-text-too-long", "4001 bytes of text", SV_TOO_LONG, T,
	               BATON_EVALUE, NULL);
	statement_case("statement-empty-text", "an empty text", SV_EMPTY_TEXT, T, BATON_EVALUE,
	               NULL);
	statement_case("statement-small-order-school", "school is a small-order point",
	               SV_SMALL_SCHOOL, T, BATON_EBADKEY, NULL);
	statement_case("statement-short-id", "id is 15 bytes", SV_SHORT_ID, T, BATON_EVALUE, NULL);
	statement_case("statement-truncated", "cut in half", SV_OK, T, BATON_ELENGTH,
	               truncate_half);

	baton_consent c;
	tu_consent_fill(&c, guardian, school_a, school_b, SEC(IDENTITY) | SEC(TRANSCRIPT));
	tu_consent_sign(&c, guardian, &consent_bytes, &consent_len);
	statement_packet_case("statement-packet-valid",
	                      "a transfer carrying the two statements it declares", SP_OK, 0);
	statement_packet_case("statement-packet-dropped",
	                      "declares two statements, carries one (the other dropped)",
	                      SP_DROPPED, BATON_EVALUE);
	statement_packet_case("statement-packet-undeclared",
	                      "carries a statement its declaration does not name", SP_UNDECLARED,
	                      BATON_EVALUE);
	statement_packet_case("statement-packet-other-student", "a statement about another student",
	                      SP_OTHER_STUDENT, BATON_EVALUE);
	statement_packet_case("statement-packet-other-school",
	                      "a statement about the record at school C", SP_OTHER_SCHOOL,
	                      BATON_EVALUE);
	statement_packet_case("statement-packet-bad-signature",
	                      "a statement whose signature does not verify", SP_BAD_SIG,
	                      BATON_EVALUE);
	/* consent_bytes stays: the terms' packets carry the same consent (gen_terms frees it). */
}

/* ---- redisclosure terms (PROTOCOL.md 4.4 body.terms, 3.7 receipt.terms) ---- */

enum tvariant { TV_OK, TV_CONTROL, TV_EMPTY, TV_LONG, TV_BIN };

static const char terms_text[] = "These records are disclosed under FERPA.\n"
                                 "Do not redisclose them without consent (34 CFR 99.33).";

/* A transfer body with terms (the last key), changed by tv. */
static size_t terms_body(uint8_t *buf, size_t cap, const uint8_t *consent, size_t clen,
                         enum tvariant tv)
{
	static char long_terms[BATON_TERMS_MAX + 2];
	struct enc e;
	bti_enc_init(&e, buf, cap);
	bti_enc_map(&e, 5);
	bti_enc_str(&e, "consent"), bti_enc_bin(&e, consent, clen);
	bti_enc_str(&e, "guardians"), bti_enc_array(&e, 1);
	bti_enc_bin(&e, baton_key_id_pk(guardian), 32);
	bti_enc_str(&e, "sections"), bti_enc_map(&e, 2);
	bti_enc_str(&e, "identity"), bti_enc_bin(&e, tu_identity, strlen(tu_identity));
	bti_enc_str(&e, "transcript"), bti_enc_bin(&e, tu_transcript, strlen(tu_transcript));
	bti_enc_str(&e, "student"), bti_enc_str(&e, "S-1001");
	bti_enc_str(&e, "terms");
	switch (tv) {
	case TV_OK:
		bti_enc_str(&e, terms_text);
		break;
	case TV_CONTROL:
		bti_enc_str(&e, "Do not redisclose.\tThese records are FERPA-protected.");
		break;
	case TV_EMPTY:
		bti_enc_str(&e, "");
		break;
	case TV_LONG:
		memset(long_terms, 'x', BATON_TERMS_MAX + 1);
		bti_enc_str(&e, long_terms);
		break;
	case TV_BIN:
		bti_enc_bin(&e, terms_text, strlen(terms_text));
		break;
	}
	return e.len;
}

static void terms_packet_case(const char *name, const char *desc, enum tvariant tv, int expect)
{
	static uint8_t body[16384];
	struct raw r;
	uint8_t *consent;
	size_t clen;
	baton_consent c;
	tu_consent_fill(&c, guardian, school_a, school_b, SEC(IDENTITY) | SEC(TRANSCRIPT));
	tu_consent_sign(&c, guardian, &consent, &clen);
	base_raw(&r, body, sizeof(body), BV_OK, 0);
	r.body_len = terms_body(body, sizeof(body), consent, clen, tv);
	if (expect == 0) {
		/* The case says what the body's terms are; test_vectors checks them. */
		struct obj o = raw_packet(&r);
		baton_source src;
		baton_opened *op = NULL;
		baton_open_params p = tu_open_params(school_b, TU_NOW);
		baton_source_mem(&src, o.p, o.len);
		int got = baton_packet_open(&src, &p, &op);
		json_t *v = json_object();
		seed_hex(v, "recipient_seed", SEED_B);
		json_object_set_new(v, "now", json_integer((json_int_t)TU_NOW));
		json_object_set_new(v, "skew", json_integer((json_int_t)TU_SKEW));
		if (got == 0) {
			const baton_body *b = baton_opened_body(op);
			json_t *secs = json_object();
			for (int s = 0; s < BATON_SEC_COUNT; s++)
				if (b->section[s])
					json_object_set_new(
					    secs, baton_section_name((baton_section)s),
					    json_stringn((const char *)b->section[s],
					                 b->section_len[s]));
			json_object_set_new(v, "sections", secs);
			json_object_set_new(v, "attachments", json_array());
			json_object_set_new(v, "terms", json_stringn(b->terms, b->terms_len));
			set_hex(v, "packet_hash", baton_opened_info(op)->hash, 32);
		}
		baton_opened_free(op);
		emit(v, name, "packet", desc, got, expect, o.p, o.len);
		free(o.p);
	} else {
		packet_case(name, desc, &r, school_b, TU_NOW, expect, NULL);
	}
	free(consent);
}

static void terms_receipt_case(const char *name, const char *desc, int variant, int expect)
{
	uint8_t body[512], id[16], ph[32], th[32];
	struct enc e;
	baton_receipt rg;
	memset(id, 0x11, sizeof(id));
	memset(ph, 0x22, sizeof(ph));
	crypto_generichash(th, 32, (const uint8_t *)terms_text, strlen(terms_text), NULL, 0);
	bti_enc_init(&e, body, sizeof(body));
	bti_enc_map(&e, 6);
	bti_enc_str(&e, "hash"), bti_enc_bin(&e, ph, 32);
	bti_enc_str(&e, "packet"), bti_enc_bin(&e, id, 16);
	bti_enc_str(&e, "reason"), bti_enc_uint(&e, 0);
	bti_enc_str(&e, "receiver"), bti_enc_bin(&e, baton_key_id_pk(school_b), 32);
	if (variant == 3) /* out of key order: after "time" */
		bti_enc_str(&e, "time"), bti_enc_uint(&e, TU_NOW);
	bti_enc_str(&e, "terms");
	if (variant == 1)
		bti_enc_bin(&e, th, 31);
	else if (variant == 2)
		bti_enc_str(&e, terms_text);
	else
		bti_enc_bin(&e, th, 32);
	if (variant != 3)
		bti_enc_str(&e, "time"), bti_enc_uint(&e, TU_NOW);
	struct obj o = envelope(BATON_OBJ_RECEIPT, body, e.len, baton_key_id_sk(school_b));
	emit(json_object(), name, "receipt", desc, baton_receipt_parse(o.p, o.len, &rg), expect,
	     o.p, o.len);
	if (expect == 0 && (!rg.has_terms || memcmp(rg.terms, th, 32) != 0)) {
		fprintf(stderr, "gen_vectors: %s: the terms hash did not read back\n", name);
		exit(1);
	}
	free(o.p);
}

static void gen_terms(void)
{
	terms_packet_case("terms-packet",
	                  "a transfer carrying the sender's redisclosure terms, with a line break",
	                  TV_OK, 0);
	terms_packet_case("terms-packet-control", "terms holding a tab (a control character)",
	                  TV_CONTROL, BATON_EVALUE);
	terms_packet_case("terms-packet-empty", "terms present but empty (must be omitted)",
	                  TV_EMPTY, BATON_EVALUE);
	terms_packet_case("terms-packet-too-long", "terms of 4097 bytes", TV_LONG, BATON_EVALUE);
	terms_packet_case("terms-packet-bin", "terms as a bin, not a str", TV_BIN, BATON_ETYPE);
	terms_receipt_case("terms-receipt", "an acceptance naming the hash of the terms accepted",
	                   0, 0);
	terms_receipt_case("terms-receipt-short", "the terms hash is 31 bytes", 1, BATON_EVALUE);
	terms_receipt_case("terms-receipt-str", "the terms themselves, not their hash", 2,
	                   BATON_ETYPE);
	terms_receipt_case("terms-receipt-after-time", "\"terms\" after \"time\"", 3,
	                   BATON_ENONCANON);
	free(consent_bytes);
	consent_bytes = NULL;
}

/* ---- enrolment statements (PROTOCOL.md 3.12) and the bodies that carry them ---- */

enum evariant { EV_OK, EV_KIND, EV_DATE, EV_SAME, EV_UNKNOWN, EV_EXPIRES };

/* A statement body: school `to` says the student `from` holds as S-1001 is enrolling there.
 */
static size_t enrolment_body(uint8_t *buf, size_t cap, const baton_key *from, const baton_key *to,
                             const char *student, uint64_t issued, uint64_t expires,
                             enum evariant ev)
{
	struct enc e;
	bti_enc_init(&e, buf, cap);
	bti_enc_map(&e, 9 + (ev == EV_UNKNOWN));
	bti_enc_str(&e, "birth_date"), bti_enc_str(&e, ev == EV_DATE ? "2012-13-06" : "2012-08-06");
	bti_enc_str(&e, "expires"), bti_enc_uint(&e, ev == EV_EXPIRES ? issued : expires);
	bti_enc_str(&e, "family_name"), bti_enc_str(&e, "Fitzgerald");
	bti_enc_str(&e, "from"), bti_enc_bin(&e, baton_key_id_pk(ev == EV_SAME ? to : from), 32);
	bti_enc_str(&e, "given_name"), bti_enc_str(&e, "Jonah");
	if (ev == EV_UNKNOWN)
		bti_enc_str(&e, "grade"), bti_enc_str(&e, "07");
	bti_enc_str(&e, "issued"), bti_enc_uint(&e, issued);
	bti_enc_str(&e, "kind"), bti_enc_str(&e, ev == EV_KIND ? "transferring" : "enrolling");
	bti_enc_str(&e, "student"), bti_enc_str(&e, student);
	bti_enc_str(&e, "to"), bti_enc_bin(&e, baton_key_id_pk(to), 32);
	return e.len;
}

static struct obj enrolment_obj(const baton_key *from, const baton_key *to, const baton_key *signer,
                                const char *student, uint64_t issued, uint64_t expires,
                                enum evariant ev)
{
	uint8_t body[1024];
	size_t n = enrolment_body(body, sizeof(body), from, to, student, issued, expires, ev);
	return envelope(BATON_OBJ_ENROLMENT, body, n, baton_key_id_sk(signer));
}

static void enrolment_case(const char *name, const char *desc, struct obj o, int expect,
                           void (*mutate)(struct obj *))
{
	baton_enrolment got;
	if (mutate)
		mutate(&o);
	emit(json_object(), name, "enrolment", desc, baton_enrolment_parse(o.p, o.len, &got),
	     expect, o.p, o.len);
	free(o.p);
}

static void enrol_as_consent(struct obj *o)
{
	o->p[1] = BATON_OBJ_CONSENT; /* the envelope's type, signature left as it was */
}

/* A request from A to B: body {consent?, enrolment?, want}. */
static void enrol_request_case(const char *name, const char *desc, const struct obj *st,
                               int with_consent, int expect)
{
	static uint8_t rb[8192];
	struct enc e;
	struct raw r;
	bti_enc_init(&e, rb, sizeof(rb));
	bti_enc_map(&e, 1 + (st != NULL) + with_consent);
	if (with_consent)
		bti_enc_str(&e, "consent"), bti_enc_bin(&e, consent_bytes, consent_len);
	if (st)
		bti_enc_str(&e, "enrolment"), bti_enc_bin(&e, st->p, st->len);
	bti_enc_str(&e, "want"), bti_enc_sections(&e, SEC(ASSESSMENTS) | SEC(TRANSCRIPT));
	memset(&r, 0, sizeof(r));
	r.version = 1, r.kind = BATON_KIND_REQUEST;
	r.created = TU_NOW, r.expires = TU_NOW + TU_DAY;
	r.signer = school_a, r.to = school_b, r.body = rb, r.body_len = e.len;
	packet_case(name, desc, &r, school_b, TU_NOW, expect, NULL);
}

enum etvariant { ET_OK, ET_NO_BASIS, ET_WITH_CONSENT, ET_BASIS_CONSENT, ET_NO_STATEMENT };

/* B's answer to A: a transfer on the statement st, for student. */
static void enrol_transfer_case(const char *name, const char *desc, const struct obj *st,
                                const char *student, enum etvariant tv, int expect)
{
	static uint8_t tb[16384];
	struct enc e;
	struct raw r;
	int basis = tv != ET_NO_BASIS, consent = tv == ET_WITH_CONSENT,
	    statement = tv != ET_NO_STATEMENT;
	bti_enc_init(&e, tb, sizeof(tb));
	bti_enc_map(&e, (uint32_t)(2 + basis + consent + statement));
	if (basis)
		bti_enc_str(&e, "basis"),
		    bti_enc_str(&e, tv == ET_BASIS_CONSENT ? "consent" : "enrolment");
	if (consent)
		bti_enc_str(&e, "consent"), bti_enc_bin(&e, consent_bytes, consent_len);
	if (statement)
		bti_enc_str(&e, "enrolment"), bti_enc_bin(&e, st->p, st->len);
	bti_enc_str(&e, "sections"), bti_enc_map(&e, 2);
	bti_enc_str(&e, "identity"), bti_enc_bin(&e, tu_identity, strlen(tu_identity));
	bti_enc_str(&e, "transcript"), bti_enc_bin(&e, tu_transcript, strlen(tu_transcript));
	bti_enc_str(&e, "student"), bti_enc_str(&e, student);
	memset(&r, 0, sizeof(r));
	r.version = 1, r.kind = BATON_KIND_TRANSFER;
	r.created = TU_NOW, r.expires = TU_NOW + 7 * TU_DAY;
	r.signer = school_b, r.to = school_a, r.body = tb, r.body_len = e.len;
	packet_case(name, desc, &r, school_a, TU_NOW, expect, NULL);
}

static void gen_enrolment(void)
{
	const uint64_t I = TU_NOW - TU_DAY, X = TU_NOW + 30 * TU_DAY;
	/* A is the school the student is enrolling at; B holds the record as S-1001. */
	enrolment_case("enrolment-valid", "A states that B's S-1001 is enrolling at A",
	               enrolment_obj(school_b, school_a, school_a, "S-1001", I, X, EV_OK), 0, NULL);
	enrolment_case("enrolment-bad-signature", "signature flipped",
	               enrolment_obj(school_b, school_a, school_a, "S-1001", I, X, EV_OK),
	               BATON_EBADSIG, flip_sig);
	enrolment_case("enrolment-body-changed", "a byte of the body changed after signing",
	               enrolment_obj(school_b, school_a, school_a, "S-1001", I, X, EV_OK),
	               BATON_EBADSIG, flip_body);
	enrolment_case("enrolment-signed-by-from", "signed by the school asked (B), not by A",
	               enrolment_obj(school_b, school_a, school_b, "S-1001", I, X, EV_OK),
	               BATON_EBADSIG, NULL);
	enrolment_case("enrolment-kind-other", "kind \"transferring\"",
	               enrolment_obj(school_b, school_a, school_a, "S-1001", I, X, EV_KIND),
	               BATON_EVALUE, NULL);
	enrolment_case("enrolment-birth-date-bad", "birth date with month 13",
	               enrolment_obj(school_b, school_a, school_a, "S-1001", I, X, EV_DATE),
	               BATON_EVALUE, NULL);
	enrolment_case("enrolment-same-school", "from and to are both A",
	               enrolment_obj(school_b, school_a, school_a, "S-1001", I, X, EV_SAME),
	               BATON_EVALUE, NULL);
	enrolment_case("enrolment-expires-not-after-issued", "expires equals issued",
	               enrolment_obj(school_b, school_a, school_a, "S-1001", I, X, EV_EXPIRES),
	               BATON_EVALUE, NULL);
	enrolment_case("enrolment-unknown-field", "a field the format does not have",
	               enrolment_obj(school_b, school_a, school_a, "S-1001", I, X, EV_UNKNOWN),
	               BATON_EUNKNOWN, NULL);
	enrolment_case("enrolment-as-consent", "the envelope says consent (type 2)",
	               enrolment_obj(school_b, school_a, school_a, "S-1001", I, X, EV_OK),
	               BATON_EMAGIC, enrol_as_consent);
	enrolment_case("enrolment-truncated", "cut in half",
	               enrolment_obj(school_b, school_a, school_a, "S-1001", I, X, EV_OK),
	               BATON_ELENGTH, truncate_half);

	baton_consent c;
	tu_consent_fill(&c, guardian, school_b, school_a, SEC(IDENTITY) | SEC(TRANSCRIPT));
	tu_consent_sign(&c, guardian, &consent_bytes, &consent_len);
	struct obj ok = enrolment_obj(school_b, school_a, school_a, "S-1001", I, X, EV_OK);
	struct obj other_from = enrolment_obj(school_c, school_a, school_a, "S-1001", I, X, EV_OK);
	struct obj other_to = enrolment_obj(school_b, school_c, school_c, "S-1001", I, X, EV_OK);
	struct obj expired =
	    enrolment_obj(school_b, school_a, school_a, "S-1001", I - 40 * TU_DAY, I, EV_OK);
	struct obj forged = enrolment_obj(school_b, school_a, school_a, "S-1001", I, X, EV_OK);
	forged.p[forged.len - 1] ^= 1;
	enrol_request_case("enrolment-request", "A asks B for S-1001 on its enrolment statement",
	                   &ok, 0, 0);
	enrol_request_case("enrolment-request-both", "a consent and a statement", &ok, 1,
	                   BATON_EVALUE);
	enrol_request_case("enrolment-request-neither", "no consent, no statement", NULL, 0,
	                   BATON_EMISSING);
	enrol_request_case("enrolment-request-other-school", "the statement names C, not B",
	                   &other_from, 0, BATON_ECONSENT);
	enrol_request_case("enrolment-request-not-requester",
	                   "the statement is C's (signed by C), the request A's", &other_to, 0,
	                   BATON_ECONSENT);
	enrol_request_case("enrolment-request-expired",
	                   "the statement expired before the request was made", &expired, 0,
	                   BATON_ECONSENT);
	enrol_request_case("enrolment-request-bad-signature", "the statement's signature flipped",
	                   &forged, 0, BATON_ECONSENT);
	enrol_transfer_case("enrolment-transfer", "B sends S-1001 to A on A's statement", &ok,
	                    "S-1001", ET_OK, 0);
	enrol_transfer_case("enrolment-transfer-other-student",
	                    "the statement names S-1001, the transfer carries S-2002", &ok,
	                    "S-2002", ET_OK, BATON_ECONSENT);
	enrol_transfer_case("enrolment-transfer-no-basis",
	                    "a statement without basis: the consent it then needs is missing", &ok,
	                    "S-1001", ET_NO_BASIS, BATON_EMISSING);
	enrol_transfer_case("enrolment-transfer-with-consent", "basis enrolment and a consent", &ok,
	                    "S-1001", ET_WITH_CONSENT, BATON_EVALUE);
	enrol_transfer_case("enrolment-transfer-basis-consent",
	                    "basis \"consent\" (must be absent)", &ok, "S-1001", ET_BASIS_CONSENT,
	                    BATON_EVALUE);
	enrol_transfer_case("enrolment-transfer-no-statement", "basis enrolment, no statement", &ok,
	                    "S-1001", ET_NO_STATEMENT, BATON_EMISSING);
	enrol_transfer_case("enrolment-transfer-forged", "the statement's signature flipped",
	                    &forged, "S-1001", ET_OK, BATON_ECONSENT);
	enrol_transfer_case("enrolment-transfer-not-receivers",
	                    "the statement is C's, the transfer goes to A", &other_to, "S-1001",
	                    ET_OK, BATON_ECONSENT);
	free(ok.p), free(other_from.p), free(other_to.p), free(expired.p), free(forged.p);
	free(consent_bytes);
	consent_bytes = NULL;
}

/* ---- record schema version 2's sections (PROTOCOL.md 2.8, 2.9) ---- */

/* Every section, in bytewise name order: written out here, not taken from the library. */
static const char *const all_names[] = {
    "assessments", "attendance",  "custody",           "discipline", "english_learner",
    "enrollment",  "graduation",  "guardians",         "health",     "homeless",
    "identity",    "section_504", "special_education", "transcript"};
#define NAMES(...)  ((const char *const[]){__VA_ARGS__})
#define NNAMES(...) (sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *))

static const char custody_json[] =
    "[{\"court_order\":\"FC-2025-0117\",\"name\":\"Pat Doe\",\"relation\":\"father\","
    "\"restriction\":\"May not pick up the student\",\"since\":\"2025-03-14\"}]";
static const char graduation_json[] =
    "{\"credits_attempted\":24,\"credits_earned\":22.5,\"expected_year\":2027,"
    "\"gpa_unweighted\":3.4,\"plan\":\"Recommended\"}";
static const char court_order_pdf[] = "%PDF-1.4\n% Baton test vector: a court order\n%%EOF\n";

static void names_consent_case(const char *name, const char *desc, const char *const *names,
                               size_t n, int expect)
{
	cv_names = names, cv_n = n;
	consent_case(name, desc, CV_NAMES, expect, TU_NOW, NULL);
}

/* G's consent from A to B for S-1001 naming names as given, valid from a day before TU_NOW. */
static struct obj names_consent(const char *const *names, size_t n)
{
	baton_consent c;
	uint8_t body[2048];
	base_consent(&c);
	c.issued = TU_NOW - TU_DAY;
	cv_names = names, cv_n = n;
	size_t blen = consent_body(body, sizeof(body), &c, CV_NAMES);
	return envelope(BATON_OBJ_CONSENT, body, blen, baton_key_id_sk(guardian));
}

/* Variants of the transfer below. */
enum v2variant {
	V2_OK,
	V2_INDEX_ORDER,      /* the sections' keys in index order */
	V2_UNKNOWN_SECTION,  /* a section "transportation" no version defines, in name order */
	V2_UNKNOWN_ATTACHED, /* the court order attached to "transportation" */
};

/*
 * A transfer from A to B of custody, graduation and identity, with a court
 * order attached to custody; V2_INDEX_ORDER writes the sections' keys in
 * index order (identity 6, custody 9, graduation 11) instead of name order.
 */
static void v2_transfer_case(const char *name, const char *desc, const struct obj *consent,
                             enum v2variant vv, int expect)
{
	int by_index = vv == V2_INDEX_ORDER;
	uint8_t body[8192], hash[32];
	struct enc e;
	struct raw r;
	crypto_generichash(hash, 32, (const uint8_t *)court_order_pdf, sizeof(court_order_pdf) - 1,
	                   NULL, 0);
	bti_enc_init(&e, body, sizeof(body));
	bti_enc_map(&e, 5);
	bti_enc_str(&e, "atts"), bti_enc_array(&e, 1), bti_enc_map(&e, 5);
	bti_enc_str(&e, "hash"), bti_enc_bin(&e, hash, 32);
	bti_enc_str(&e, "media"), bti_enc_str(&e, "application/pdf");
	bti_enc_str(&e, "name"), bti_enc_str(&e, "court-order.pdf");
	bti_enc_str(&e, "section"),
	    bti_enc_str(&e, vv == V2_UNKNOWN_ATTACHED ? "transportation" : "custody");
	bti_enc_str(&e, "size"), bti_enc_uint(&e, sizeof(court_order_pdf) - 1);
	bti_enc_str(&e, "consent"), bti_enc_bin(&e, consent->p, consent->len);
	bti_enc_str(&e, "guardians"), bti_enc_array(&e, 1);
	bti_enc_bin(&e, baton_key_id_pk(guardian), 32);
	bti_enc_str(&e, "sections"), bti_enc_map(&e, vv == V2_UNKNOWN_SECTION ? 4 : 3);
	if (by_index)
		bti_enc_str(&e, "identity"), bti_enc_bin(&e, tu_identity, strlen(tu_identity));
	bti_enc_str(&e, "custody"), bti_enc_bin(&e, custody_json, strlen(custody_json));
	bti_enc_str(&e, "graduation"), bti_enc_bin(&e, graduation_json, strlen(graduation_json));
	if (!by_index)
		bti_enc_str(&e, "identity"), bti_enc_bin(&e, tu_identity, strlen(tu_identity));
	if (vv == V2_UNKNOWN_SECTION)
		bti_enc_str(&e, "transportation"), bti_enc_bin(&e, "{\"bus\":12}", 10);
	bti_enc_str(&e, "student"), bti_enc_str(&e, "S-1001");
	if (e.err)
		exit(2);
	memset(&r, 0, sizeof(r));
	r.version = 1, r.kind = BATON_KIND_TRANSFER;
	r.created = TU_NOW, r.expires = TU_NOW + 7 * TU_DAY;
	r.signer = school_a, r.to = school_b, r.body = body, r.body_len = e.len;
	r.att[0] = (const uint8_t *)court_order_pdf;
	r.att_len[0] = sizeof(court_order_pdf) - 1;
	r.n_att = 1;
	packet_case(name, desc, &r, school_b, TU_NOW, expect, NULL);
}

/* A request from B to A on consent, its want the names as given. */
static void v2_request_case(const char *name, const char *desc, const struct obj *consent,
                            const char *const *want, size_t n, int expect)
{
	uint8_t body[4096];
	struct enc e;
	struct raw r;
	bti_enc_init(&e, body, sizeof(body));
	bti_enc_map(&e, 2);
	bti_enc_str(&e, "consent"), bti_enc_bin(&e, consent->p, consent->len);
	bti_enc_str(&e, "want"), bti_enc_array(&e, (uint32_t)n);
	for (size_t i = 0; i < n; i++)
		bti_enc_str(&e, want[i]);
	if (e.err)
		exit(2);
	memset(&r, 0, sizeof(r));
	r.version = 1, r.kind = BATON_KIND_REQUEST;
	r.created = TU_NOW, r.expires = TU_NOW + TU_DAY;
	r.signer = school_b, r.to = school_a, r.body = body, r.body_len = e.len;
	want_names = want, want_n = n;
	packet_case(name, desc, &r, school_a, TU_NOW, expect, NULL);
	want_names = NULL;
}

static void gen_sections_v2(void)
{
	const size_t all_n = sizeof(all_names) / sizeof(all_names[0]);

	names_consent_case("consent-sections-v2", "names custody, graduation and section_504",
	                   NAMES("custody", "graduation", "section_504"),
	                   NNAMES("custody", "graduation", "section_504"), 0);
	names_consent_case("consent-sections-all", "names all fourteen sections", all_names, all_n,
	                   0);
	names_consent_case("consent-sections-index-order",
	                   "identity, transcript, custody: index order (6, 8, 9), not name order",
	                   NAMES("identity", "transcript", "custody"),
	                   NNAMES("identity", "transcript", "custody"), BATON_ENONCANON);
	names_consent_case(
	    "consent-sections-504-after-special",
	    "special_education before section_504 (index 7 before 13, but 'p' > 'e')",
	    NAMES("special_education", "section_504"), NNAMES("special_education", "section_504"),
	    BATON_ENONCANON);
	{
		const char *fifteen[15];
		memcpy(fifteen, all_names, sizeof(all_names));
		fifteen[14] = "transcript";
		names_consent_case(
		    "consent-sections-fifteen",
		    "fifteen entries, the last transcript again: past the 14 allowed", fifteen, 15,
		    BATON_EVALUE);
	}

	struct obj cg = names_consent(NAMES("custody", "graduation"), 2);
	struct obj g = names_consent(NAMES("graduation"), 1);
	v2_transfer_case("packet-transfer-v2",
	                 "custody, graduation and identity, a court order attached to custody", &cg,
	                 V2_OK, 0);
	v2_transfer_case("packet-transfer-v2-index-order",
	                 "the sections' keys in index order: identity, custody, graduation", &cg,
	                 V2_INDEX_ORDER, BATON_ENONCANON);
	v2_transfer_case("packet-transfer-v2-custody-not-consented",
	                 "custody is sent but the consent names only graduation", &g, V2_OK,
	                 BATON_ECONSENT);
	/* A section this version does not know, as a node that knows only version 1's nine
	 * meets one of the new ones (PROTOCOL.md 9): refused, never half taken. */
	v2_transfer_case("packet-transfer-unknown-section",
	                 "a section \"transportation\" that no version defines", &cg,
	                 V2_UNKNOWN_SECTION, BATON_EUNKNOWN);
	v2_transfer_case("packet-attachment-unknown-section",
	                 "the court order attached to a section \"transportation\"", &cg,
	                 V2_UNKNOWN_ATTACHED, BATON_EVALUE);
	free(cg.p), free(g.p);

	struct obj cst = names_consent(NAMES("custody", "section_504", "transcript"), 3);
	struct obj all = names_consent(all_names, all_n);
	v2_request_case("packet-request-v2", "B asks A for custody, section_504 and the transcript",
	                &cst, NAMES("custody", "section_504", "transcript"), 3, 0);
	v2_request_case("packet-request-v2-index-order",
	                "want in index order: transcript (8) before custody (9)", &cst,
	                NAMES("transcript", "custody"), 2, BATON_ENONCANON);
	v2_request_case("packet-request-unknown-section",
	                "want names custody and \"transportation\", which no version defines", &cst,
	                NAMES("custody", "transportation"), 2, BATON_EVALUE);
	v2_request_case("packet-request-all", "a consent for all fourteen, and all fourteen wanted",
	                &all, all_names, all_n, 0);
	free(cst.p), free(all.p);

	statement_case("statement-custody", "a guardian disagrees with the custody section",
	               SV_CUSTODY, BATON_OBJ_STATEMENT, 0, NULL);
	dc_case("disclosures-v2", "the second disclosure was of custody, graduation and identity",
	        DV_V2, 0, NULL);
	dc_case("disclosures-v2-index-order",
	        "the second disclosure's sections in index order: identity, custody, graduation",
	        DV_V2_INDEX_ORDER, BATON_ENONCANON, NULL);
}

/* ---- directories (PROTOCOL.md 3.14) ---- */

enum drvariant {
	DR_EMPTY,
	DR_ONE,
	DR_SEVERAL,
	DR_FORGED_CARD,
	DR_CODE_ORDER,
	DR_CODE_TWICE,
	DR_W_UNSORTED,
	DR_W_TWICE,
	DR_MEMBER_WITHDRAWN,
	DR_EXPIRES_ISSUED,
	DR_VERSION_0,
	DR_NAME_EMPTY,
	DR_NAME_LONG,
	DR_UNKNOWN,
	DR_MISSING,
	DR_SMALL_AUTHORITY,
	DR_W_SMALL,
	DR_W_SHORT,
	DR_MEMBER_STR,
	DR_MEMBER_HEAD,
	DR_TYPE_1,
	DR_OTHER_SIGNER,
};

#define DR_NAME    "State Board of Education"
#define DR_VERSION 5
#define DR_ISSUED  (TU_NOW - TU_DAY)
#define DR_EXPIRES (TU_NOW + 30 * TU_DAY)

static baton_key *authority, *withdrawn_a, *withdrawn_b;

/* A member's card by hand, as card_obj, for school key k under code. */
static struct obj dr_card(const baton_key *k, const char *code, const char *name)
{
	uint8_t body[1024];
	struct enc e;
	bti_enc_init(&e, body, sizeof(body));
	bti_enc_map(&e, 7);
	bti_enc_str(&e, "code"), bti_enc_str(&e, code);
	bti_enc_str(&e, "enc"), bti_enc_bin(&e, baton_key_enc_pk(k), 32);
	bti_enc_str(&e, "endpoints"), bti_enc_array(&e, 1), bti_enc_str(&e, "tcp://127.0.0.1:7702");
	bti_enc_str(&e, "id"), bti_enc_bin(&e, baton_key_id_pk(k), 32);
	bti_enc_str(&e, "name"), bti_enc_str(&e, name);
	bti_enc_str(&e, "valid_from"), bti_enc_uint(&e, TU_NOW - TU_DAY);
	bti_enc_str(&e, "valid_until"), bti_enc_uint(&e, TU_NOW + 365 * TU_DAY);
	return envelope(BATON_OBJ_CARD, body, e.len, baton_key_id_sk(k));
}

/* The withdrawn keys of a variant, in the order written; returns their number. */
static size_t dr_withdrawn(enum drvariant dv, const uint8_t *w[3], size_t lens[3])
{
	const uint8_t *x = baton_key_id_pk(withdrawn_a), *y = baton_key_id_pk(withdrawn_b);
	const uint8_t *lo = memcmp(x, y, 32) < 0 ? x : y, *hi = lo == x ? y : x;
	size_t n = 0;
	if (dv == DR_EMPTY || dv == DR_ONE)
		return 0;
	lens[0] = lens[1] = lens[2] = 32;
	if (dv == DR_W_SMALL) {
		w[n++] = ed_small_order;
		return n;
	}
	if (dv == DR_MEMBER_WITHDRAWN) {
		/* School C's key among the others, in order. */
		const uint8_t *c = baton_key_id_pk(school_c), *k[3] = {lo, hi, c};
		for (int i = 0; i < 3; i++)
			for (int j = i + 1; j < 3; j++)
				if (memcmp(k[j], k[i], 32) < 0) {
					const uint8_t *t = k[i];
					k[i] = k[j];
					k[j] = t;
				}
		memcpy(w, k, sizeof(k));
		return 3;
	}
	w[n++] = dv == DR_W_UNSORTED ? hi : lo;
	w[n++] = dv == DR_W_UNSORTED ? lo : dv == DR_W_TWICE ? lo : hi;
	if (dv == DR_W_SHORT)
		lens[1] = 31;
	return n;
}

/* A directory by hand: the authority's three schools A (LHS-001), C (MHS-310), B (RAS-204). */
static struct obj dr_obj(enum drvariant dv)
{
	struct obj a = dr_card(school_a, "LHS-001", "Lincoln High School");
	struct obj b = dr_card(school_b, "RAS-204", "Riverside Academy");
	struct obj c = dr_card(school_c, dv == DR_CODE_TWICE ? "LHS-001" : "MHS-310",
	                       "Mill Creek High School");
	struct obj head = head_obj(school_c, 9, HV_OK), m[3], o;
	size_t nm = dv == DR_EMPTY ? 0 : dv == DR_ONE ? 1 : 3, wl[3];
	const uint8_t *w[3];
	size_t nw = dr_withdrawn(dv, w, wl);
	char longname[BATON_NAME_MAX + 2];
	memset(longname, 'n', BATON_NAME_MAX + 1);
	longname[BATON_NAME_MAX + 1] = '\0';

	if (dv == DR_FORGED_CARD)
		c.p[c.len - 1] ^= 0x01;
	m[0] = a, m[1] = c, m[2] = b;
	if (dv == DR_CODE_ORDER)
		m[1] = b, m[2] = c;
	if (dv == DR_MEMBER_HEAD)
		m[1] = head;
	size_t cap = 4096;
	uint8_t *body = malloc(cap);
	struct enc e;
	bti_enc_init(&e, body, cap);
	bti_enc_map(&e, dv == DR_UNKNOWN ? 8 : dv == DR_MISSING ? 6 : 7);
	bti_enc_str(&e, "authority"),
	    bti_enc_bin(&e, dv == DR_SMALL_AUTHORITY ? ed_small_order : baton_key_id_pk(authority),
	                32);
	bti_enc_str(&e, "expires"),
	    bti_enc_uint(&e, dv == DR_EXPIRES_ISSUED ? DR_ISSUED : DR_EXPIRES);
	bti_enc_str(&e, "issued"), bti_enc_uint(&e, DR_ISSUED);
	bti_enc_str(&e, "members"), bti_enc_array(&e, (uint32_t)nm);
	for (size_t i = 0; i < nm; i++) {
		if (dv == DR_MEMBER_STR && i == 1)
			bti_enc_str(&e, "LHS-001");
		else
			bti_enc_bin(&e, m[i].p, m[i].len);
	}
	bti_enc_str(&e, "name"), bti_enc_str(&e, dv == DR_NAME_EMPTY  ? ""
	                                         : dv == DR_NAME_LONG ? longname
	                                                              : DR_NAME);
	bti_enc_str(&e, "version"), bti_enc_uint(&e, dv == DR_VERSION_0 ? 0 : DR_VERSION);
	if (dv != DR_MISSING) {
		bti_enc_str(&e, "withdrawn"), bti_enc_array(&e, (uint32_t)nw);
		for (size_t i = 0; i < nw; i++)
			bti_enc_bin(&e, w[i], wl[i]);
	}
	if (dv == DR_UNKNOWN)
		bti_enc_str(&e, "zone"), bti_enc_str(&e, "east");
	if (e.err != 0)
		exit(2);
	o = envelope(dv == DR_TYPE_1 ? BATON_OBJ_CARD : BATON_OBJ_DIRECTORY, body, e.len,
	             baton_key_id_sk(dv == DR_OTHER_SIGNER ? mallory : authority));
	free(body);
	free(a.p);
	free(b.p);
	free(c.p);
	free(head.p);
	return o;
}

static int run_directory(const uint8_t *p, size_t n, uint64_t now, baton_directory *d)
{
	int r = baton_directory_parse(p, n, d);
	if (r == 0 && (r = baton_check_validity(d->issued, d->expires, now, TU_SKEW)) != 0)
		baton_directory_free(d);
	return r;
}

static void dr_case(const char *name, const char *desc, enum drvariant dv, int expect, uint64_t now,
                    void (*mutate)(struct obj *))
{
	struct obj o = dr_obj(dv);
	baton_directory d;
	json_t *v = json_object();
	if (mutate)
		mutate(&o);
	int r = run_directory(o.p, o.len, now, &d);
	json_object_set_new(v, "now", json_integer((json_int_t)now));
	json_object_set_new(v, "skew", json_integer((json_int_t)TU_SKEW));
	if (expect == 0) {
		/* What the case built, not what the library read. */
		static const char *const codes[] = {"LHS-001", "MHS-310", "RAS-204"};
		const uint8_t *w[3];
		size_t wl[3], nw = dr_withdrawn(dv, w, wl);
		size_t nm = dv == DR_EMPTY ? 0 : dv == DR_ONE ? 1 : 3;
		json_t *jm = json_array(), *jw = json_array();
		for (size_t i = 0; i < nm; i++)
			json_array_append_new(jm, json_string(codes[i]));
		for (size_t i = 0; i < nw; i++) {
			char *h = hex(w[i], 32);
			json_array_append_new(jw, json_string(h));
			free(h);
		}
		set_hex(v, "authority_pk", baton_key_id_pk(authority), 32);
		json_object_set_new(v, "version", json_integer(DR_VERSION));
		json_object_set_new(v, "members", jm);
		json_object_set_new(v, "withdrawn", jw);
	}
	if (r == 0)
		baton_directory_free(&d);
	emit(v, name, "directory", desc, r, expect, o.p, o.len);
	free(o.p);
}

static void zero_sig(struct obj *o)
{
	memset(o->p + o->len - 64, 0, 64);
}

/* The library's own directory of the same schools, given in another order, must be these bytes. */
static void dr_same_as_library(void)
{
	struct obj a = dr_card(school_a, "LHS-001", "Lincoln High School");
	struct obj b = dr_card(school_b, "RAS-204", "Riverside Academy");
	struct obj c = dr_card(school_c, "MHS-310", "Mill Creek High School");
	struct obj f = dr_obj(DR_SEVERAL);
	const uint8_t *cards[3] = {b.p, c.p, a.p};
	size_t lens[3] = {b.len, c.len, a.len}, len;
	uint8_t w[64], *out;
	memcpy(w, baton_key_id_pk(withdrawn_b), 32);
	memcpy(w + 32, baton_key_id_pk(withdrawn_a), 32);
	if (baton_directory_sign(DR_NAME, DR_VERSION, DR_ISSUED, DR_EXPIRES, cards, lens, 3, w, 2,
	                         baton_key_id_sk(authority), &out, &len) != 0 ||
	    len != f.len || memcmp(out, f.p, len) != 0) {
		fprintf(stderr,
		        "gen_vectors: directory: the library's differs from the format's (%s)\n",
		        baton_diag());
		exit(1);
	}
	free(out);
	free(a.p);
	free(b.p);
	free(c.p);
	free(f.p);
}

static void gen_directories(void)
{
	uint64_t start = DR_ISSUED - TU_SKEW;
	authority = tu_key(BATON_KEY_AUTHORITY, 0xa7);
	withdrawn_a = tu_key(BATON_KEY_SCHOOL, 0xd1);
	withdrawn_b = tu_key(BATON_KEY_SCHOOL, 0xd2);
	dr_same_as_library();
	dr_case("directory-empty", "an authority's directory of no school", DR_EMPTY, 0, TU_NOW,
	        NULL);
	dr_case("directory-one", "one member school", DR_ONE, 0, TU_NOW, NULL);
	dr_case("directory-several", "three schools in code order, two keys withdrawn", DR_SEVERAL,
	        0, TU_NOW, NULL);
	dr_case("directory-within-skew", "now is issued less the skew", DR_SEVERAL, 0, start, NULL);
	dr_case("directory-not-yet-valid", "now is a second before issued less the skew",
	        DR_SEVERAL, BATON_ENOTYET, start - 1, NULL);
	dr_case("directory-expired", "now is a second after expires", DR_SEVERAL, BATON_EEXPIRED,
	        DR_EXPIRES + 1, NULL);
	dr_case("directory-at-expiry", "now is expires: still valid", DR_SEVERAL, 0, DR_EXPIRES,
	        NULL);
	dr_case("directory-bad-signature", "the signature's last byte flipped", DR_SEVERAL,
	        BATON_EBADSIG, TU_NOW, flip_sig);
	dr_case("directory-unsigned", "the signature is 64 zero bytes", DR_SEVERAL, BATON_EBADSIG,
	        TU_NOW, zero_sig);
	dr_case("directory-other-signer", "signed by another key than authority", DR_OTHER_SIGNER,
	        BATON_EBADSIG, TU_NOW, NULL);
	dr_case("directory-forged-card", "the second member card's signature flipped",
	        DR_FORGED_CARD, BATON_EBADSIG, TU_NOW, NULL);
	dr_case("directory-codes-out-of-order", "RAS-204 before MHS-310", DR_CODE_ORDER,
	        BATON_ENONCANON, TU_NOW, NULL);
	dr_case("directory-code-twice", "two cards for LHS-001", DR_CODE_TWICE, BATON_EVALUE,
	        TU_NOW, NULL);
	dr_case("directory-withdrawn-unsorted", "the withdrawn keys in descending order",
	        DR_W_UNSORTED, BATON_ENONCANON, TU_NOW, NULL);
	dr_case("directory-withdrawn-twice", "one key withdrawn twice", DR_W_TWICE, BATON_ENONCANON,
	        TU_NOW, NULL);
	dr_case("directory-member-withdrawn", "school C's key is a member's and withdrawn",
	        DR_MEMBER_WITHDRAWN, BATON_EVALUE, TU_NOW, NULL);
	dr_case("directory-expires-at-issued", "expires equals issued", DR_EXPIRES_ISSUED,
	        BATON_EVALUE, TU_NOW, NULL);
	dr_case("directory-version-0", "version 0", DR_VERSION_0, BATON_EVALUE, TU_NOW, NULL);
	dr_case("directory-name-empty", "an empty name", DR_NAME_EMPTY, BATON_EVALUE, TU_NOW, NULL);
	dr_case("directory-name-too-long", "a name of 129 bytes", DR_NAME_LONG, BATON_EVALUE,
	        TU_NOW, NULL);
	dr_case("directory-unknown-field", "a field the format does not have", DR_UNKNOWN,
	        BATON_EUNKNOWN, TU_NOW, NULL);
	dr_case("directory-missing-withdrawn", "no withdrawn field", DR_MISSING, BATON_EMISSING,
	        TU_NOW, NULL);
	dr_case("directory-small-order-authority", "authority is a small-order point",
	        DR_SMALL_AUTHORITY, BATON_EBADKEY, TU_NOW, NULL);
	dr_case("directory-withdrawn-small-order", "a withdrawn key is a small-order point",
	        DR_W_SMALL, BATON_EBADKEY, TU_NOW, NULL);
	dr_case("directory-withdrawn-short", "a withdrawn key of 31 bytes", DR_W_SHORT,
	        BATON_EVALUE, TU_NOW, NULL);
	dr_case("directory-member-not-bin", "a member that is a str", DR_MEMBER_STR, BATON_ETYPE,
	        TU_NOW, NULL);
	dr_case("directory-member-not-card", "a member that is an audit head", DR_MEMBER_HEAD,
	        BATON_EMAGIC, TU_NOW, NULL);
	dr_case("directory-type-1", "a directory's body in an envelope of type 1", DR_TYPE_1,
	        BATON_EMAGIC, TU_NOW, NULL);
	dr_case("directory-trailing-bytes", "a byte after the envelope", DR_SEVERAL,
	        BATON_ETRAILING, TU_NOW, append_byte);
	baton_key_free(authority);
	baton_key_free(withdrawn_a);
	baton_key_free(withdrawn_b);
}

/* An authority's key file (PROTOCOL.md 7.1 kind 3): only ever encrypted. */
static void gen_authority_keyfiles(void)
{
	char dir[] = "/tmp/baton-gen-XXXXXX", path[64];
	baton_key *k = tu_key(BATON_KEY_AUTHORITY, 0xa7), *l = NULL;
	uint8_t *buf;
	size_t len;
	if (mkdtemp(dir) == NULL)
		exit(1);
	snprintf(path, sizeof(path), "%s/a", dir);
	if (baton_key_save(k, path, "correct horse", 13, &baton_kdf_min) != 0 ||
	    baton_file_read(path, 4096, &buf, &len) != 0)
		exit(1);
	remove(path);
	remove(dir);
	json_t *v = json_object();
	json_object_set_new(v, "passphrase", json_string("correct horse"));
	set_hex(v, "id_pk", baton_key_id_pk(k), 32);
	int r = baton_key_decode(buf, len, "correct horse", 13, &l);
	baton_key_free(l);
	emit(v, "keyfile-authority", "keyfile", "an authority's key (kind 3) under Argon2id", r, 0,
	     buf, len);
	/* Marked unencrypted: kind 3 with protection 0, the KDF fields zeroed. */
	buf[6] = 0;
	memset(buf + 8, 0, 32);
	v = json_object();
	json_object_set_new(v, "passphrase", json_null());
	emit(v, "keyfile-authority-unencrypted", "keyfile",
	     "an authority's key marked unencrypted (protection 0)",
	     baton_key_decode(buf, len, NULL, 0, &l), BATON_EKEYFILE, buf, len);
	buf[6] = 1;
	buf[5] = 4;
	v = json_object();
	json_object_set_new(v, "passphrase", json_string("correct horse"));
	emit(v, "keyfile-unknown-kind", "keyfile", "kind 4, which no version defines",
	     baton_key_decode(buf, len, "correct horse", 13, &l), BATON_EKEYFILE, buf, len);
	free(buf);
	baton_key_free(k);
}

int main(int argc, char **argv)

{
	if (argc != 2) {
		fprintf(stderr, "usage: gen_vectors DIR\n");
		return 1;
	}
	outdir = argv[1];
	randombytes_set_implementation(&det_impl);
	if (baton_init() != 0)
		return 1;
	school_a = tu_key(BATON_KEY_SCHOOL, SEED_A);
	school_b = tu_key(BATON_KEY_SCHOOL, SEED_B);
	school_c = tu_key(BATON_KEY_SCHOOL, SEED_C);
	mallory = tu_key(BATON_KEY_SCHOOL, SEED_M);
	guardian = tu_key(BATON_KEY_GUARDIAN, SEED_G);
	guardian2 = tu_key(BATON_KEY_GUARDIAN, 0x62);

	gen_consents();
	gen_cards();
	gen_revocations_receipts();
	gen_packets();
	gen_msgpack();
	gen_keyfiles();
	gen_rotations();
	gen_chunks();
	free(consent_bytes);
	gen_audit_heads();
	gen_batches();
	gen_offers();
	gen_logins();
	gen_disclosures();
	gen_statements();
	gen_terms();
	gen_enrolment();
	gen_sections_v2();
	gen_directories();
	gen_authority_keyfiles();
	printf("gen_vectors: wrote %d cases to %s\n", written, outdir);
	return 0;
}
