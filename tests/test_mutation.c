/*
 * Mutation tests: for every signed or sealed object, every single-byte flip
 * (two patterns per byte) and every truncation must be rejected. A mutated
 * object that still verifies is the worst bug Baton could have.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include <baton/disclosures.h>

#include "frame.h"
#include "testutil.h"

typedef int (*check_fn)(const uint8_t *buf, size_t len, void *ctx);

static const uint8_t flips[] = {0x01, 0xff};

/*
 * Asserts check accepts buf, and rejects each flip and each truncation with
 * an error code. Every mutation is tried, and the count of rejections must
 * match, so one accepted mutation among thousands is named, not lost.
 */
static void mutate_all(const uint8_t *buf, size_t len, check_fn check, void *ctx)
{
	uint8_t *m = malloc(len);
	size_t tried = 0, rejected = 0;
	char first[128] = "";
	int r;

	assert_non_null(m);
	assert_int_equal(check(buf, len, ctx), 0);
	for (size_t i = 0; i < len; i++) {
		for (size_t f = 0; f < sizeof(flips); f++) {
			memcpy(m, buf, len);
			m[i] ^= flips[f];
			tried++;
			if ((r = check(m, len, ctx)) < 0)
				rejected++;
			else if (first[0] == '\0')
				snprintf(first, sizeof(first),
				         "flip 0x%02x at byte %zu of %zu (%d)", flips[f], i, len,
				         r);
		}
	}
	for (size_t n = 0; n < len; n++) {
		/* A fresh copy of exactly n bytes, so ASan sees any read past the end. */
		uint8_t *t = malloc(n ? n : 1);
		assert_non_null(t);
		memcpy(t, buf, n);
		tried++;
		if ((r = check(t, n, ctx)) < 0)
			rejected++;
		else if (first[0] == '\0')
			snprintf(first, sizeof(first), "truncation to %zu of %zu bytes (%d)", n,
			         len, r);
		free(t);
	}
	free(m);
	if (rejected != tried)
		fail_msg("%zu of %zu mutations were not rejected; the first: %s", tried - rejected,
		         tried, first);
	assert_int_equal(tried, 3 * len);
}

static int check_card(const uint8_t *b, size_t n, void *ctx)
{
	baton_card c;
	(void)ctx;
	return baton_card_parse(b, n, &c);
}

static int check_consent(const uint8_t *b, size_t n, void *ctx)
{
	baton_consent c;
	(void)ctx;
	return baton_consent_parse(b, n, &c);
}

static int check_revocation(const uint8_t *b, size_t n, void *ctx)
{
	baton_revocation r;
	(void)ctx;
	return baton_revocation_parse(b, n, &r);
}

static int check_receipt(const uint8_t *b, size_t n, void *ctx)
{
	baton_receipt r;
	(void)ctx;
	return baton_receipt_parse(b, n, &r);
}

static int check_rotation(const uint8_t *b, size_t n, void *ctx)
{
	baton_rotation r;
	(void)ctx;
	return baton_rotation_parse(b, n, &r);
}

static int check_packet(const uint8_t *b, size_t n, void *ctx)
{
	return tu_open_all(b, n, ctx);
}

static int check_keyfile(const uint8_t *b, size_t n, void *ctx)
{
	baton_key *k = NULL;
	const char *pass = ctx;
	int r = baton_key_decode(b, n, pass, pass ? strlen(pass) : 0, &k);
	baton_key_free(k);
	return r;
}

/*
 * A family sign-in as a verifier meets it: the message (PROTOCOL.md 7.5)
 * followed by its signature, for the school whose identity key ctx points
 * to, by the guardian key that follows it. Each part is read from the bytes
 * and checked: prefix, fingerprint, origin length, then the signature over
 * the message rebuilt from the origin and nonce read.
 */
static int check_login(const uint8_t *b, size_t n, void *ctx)
{
	const uint8_t *school = ctx, *key = school + BATON_PK_BYTES;
	char fp[BATON_FINGERPRINT_LEN + 1], origin[BATON_LOGIN_ORIGIN_MAX + 1];
	uint8_t msg[BATON_LOGIN_MSG_MAX];
	size_t mlen;

	if (n < 15 + BATON_FINGERPRINT_LEN + 1)
		return BATON_ETRUNC;
	if (memcmp(b, "BATON-LOGIN-v1", 15) != 0)
		return BATON_EMAGIC;
	baton_fingerprint(school, fp);
	if (memcmp(b + 15, fp, BATON_FINGERPRINT_LEN) != 0)
		return BATON_EBADSIG;
	size_t olen = b[44];
	if (n != 45 + olen + BATON_LOGIN_NONCE_BYTES + BATON_SIG_BYTES)
		return BATON_ELENGTH;
	memcpy(origin, b + 45, olen);
	origin[olen] = '\0';
	const uint8_t *nonce = b + 45 + olen, *sig = nonce + BATON_LOGIN_NONCE_BYTES;
	int r = baton_login_verify(school, origin, nonce, key, sig);
	if (r != 0)
		return r;
	assert_int_equal(baton_login_message(school, origin, nonce, msg, &mlen), 0);
	return mlen == n - BATON_SIG_BYTES && memcmp(msg, b, mlen) == 0 ? 0 : BATON_EMAGIC;
}

static void test_card(void **state)
{
	baton_key *a = tu_key(BATON_KEY_SCHOOL, 1);
	uint8_t *card;
	size_t len;
	(void)state;
	tu_card(a, "Lincoln High School", "LHS-001", &card, &len);
	mutate_all(card, len, check_card, NULL);
	free(card);
	baton_key_free(a);
}

static void test_consent(void **state)
{
	baton_key *a = tu_key(BATON_KEY_SCHOOL, 1), *b = tu_key(BATON_KEY_SCHOOL, 2);
	baton_key *g = tu_key(BATON_KEY_GUARDIAN, 3);
	baton_consent c;
	uint8_t *buf;
	size_t len;
	(void)state;
	tu_consent_fill(&c, g, a, b,
	                BATON_SEC_BIT(BATON_SEC_IDENTITY) | BATON_SEC_BIT(BATON_SEC_TRANSCRIPT));
	tu_consent_sign(&c, g, &buf, &len);
	mutate_all(buf, len, check_consent, NULL);
	free(buf);
	baton_key_free(a), baton_key_free(b), baton_key_free(g);
}

static void test_revocation(void **state)
{
	baton_key *g = tu_key(BATON_KEY_GUARDIAN, 3);
	baton_revocation rv = {{0}, {0}, TU_NOW};
	uint8_t *buf;
	size_t len;
	(void)state;
	memset(rv.consent_id, 0x5a, sizeof(rv.consent_id));
	memcpy(rv.signer, baton_key_id_pk(g), 32);
	assert_int_equal(baton_revocation_sign(&rv, baton_key_id_sk(g), &buf, &len), 0);
	mutate_all(buf, len, check_revocation, NULL);
	free(buf);
	baton_key_free(g);
}

static void test_receipt(void **state)
{
	baton_key *b = tu_key(BATON_KEY_SCHOOL, 2);
	baton_receipt rc;
	uint8_t *buf;
	size_t len;
	(void)state;
	memset(&rc, 0, sizeof(rc));
	memset(rc.packet_id, 0x11, sizeof(rc.packet_id));
	memset(rc.packet_hash, 0x22, sizeof(rc.packet_hash));
	memcpy(rc.receiver, baton_key_id_pk(b), 32);
	rc.reason = BATON_REASON_DENIED;
	rc.time = TU_NOW;
	snprintf(rc.note, sizeof(rc.note), "No consent on file for this student");
	assert_int_equal(baton_receipt_sign(&rc, baton_key_id_sk(b), &buf, &len), 0);
	mutate_all(buf, len, check_receipt, NULL);
	free(buf);
	baton_key_free(b);
}

static void test_rotation(void **state)
{
	baton_key *old = tu_key(BATON_KEY_SCHOOL, 2), *new = tu_key(BATON_KEY_SCHOOL, 4);
	baton_rotation rt;
	uint8_t *buf;
	size_t len;
	(void)state;
	memset(&rt, 0, sizeof(rt));
	snprintf(rt.code, sizeof(rt.code), "RAS-204");
	memcpy(rt.old_pk, baton_key_id_pk(old), 32);
	memcpy(rt.new_pk, baton_key_id_pk(new), 32);
	rt.time = TU_NOW;
	assert_int_equal(baton_rotation_sign(&rt, baton_key_id_sk(old), &buf, &len), 0);
	mutate_all(buf, len, check_rotation, NULL);
	free(buf);
	baton_key_free(old), baton_key_free(new);
}

static int check_audit_head(const uint8_t *b, size_t n, void *ctx)
{
	baton_audit_head h;
	(void)ctx;
	return baton_audit_head_parse(b, n, &h);
}

static uint8_t *signed_head(const baton_key *k, size_t *len)
{
	baton_audit_head h;
	uint8_t *buf;
	memset(&h, 0, sizeof(h));
	h.count = 300;
	memset(h.head, 0x48, sizeof(h.head));
	memcpy(h.key, baton_key_id_pk(k), 32);
	h.time = TU_NOW;
	assert_int_equal(baton_audit_head_sign(&h, baton_key_id_sk(k), &buf, len), 0);
	return buf;
}

static void test_audit_head(void **state)
{
	baton_key *a = tu_key(BATON_KEY_SCHOOL, 1);
	size_t len;
	uint8_t *buf = signed_head(a, &len);
	(void)state;
	mutate_all(buf, len, check_audit_head, NULL);
	free(buf);
	baton_key_free(a);
}

/* ---- disclosure copies (PROTOCOL.md 3.13) ---- */

static int check_disclosures(const uint8_t *b, size_t n, void *ctx)
{
	baton_disclosures d;
	int r = baton_disclosures_parse(b, n, &d);
	(void)ctx;
	baton_disclosures_free(&d);
	return r;
}

/* A copy of three disclosures, every optional field present in one, absent in another. */
static void test_disclosures(void **state)
{
	baton_key *a = tu_key(BATON_KEY_SCHOOL, 1), *b = tu_key(BATON_KEY_SCHOOL, 2);
	baton_disclosure x[3];
	baton_disclosures d;
	size_t hlen, len;
	uint8_t *head = signed_head(a, &hlen), *buf;
	(void)state;

	memset(&d, 0, sizeof(d));
	memset(x, 0, sizeof(x));
	for (int i = 0; i < 3; i++) {
		x[i].seq = 10 + 40 * (uint64_t)i;
		memset(x[i].hash, 0x30 + i, 32);
		x[i].time = TU_NOW - 1000 + (uint64_t)i;
		snprintf(x[i].basis, sizeof(x[i].basis), "%s", i == 1 ? "other" : "consent");
		snprintf(x[i].receipt, sizeof(x[i].receipt), "%s", i == 2 ? "waiting" : "received");
		x[i].sections =
		    BATON_SEC_BIT(BATON_SEC_IDENTITY) | (i ? BATON_SEC_BIT(BATON_SEC_HEALTH) : 0);
		snprintf(x[i].to_code, sizeof(x[i].to_code), "RAS-%d", 204 + i);
		if (i != 1) {
			snprintf(x[i].by, sizeof(x[i].by), "%s", "maria");
			x[i].has_consent = x[i].has_packet = x[i].has_packet_hash = x[i].has_to = 1;
			memset(x[i].consent, 0x43, 16);
			memset(x[i].packet, 0x50 + i, 16);
			memset(x[i].packet_hash, 0x68, 32);
			memcpy(x[i].to, baton_key_id_pk(b), 32);
			snprintf(x[i].to_name, sizeof(x[i].to_name), "%s", "Riverside Academy");
		}
	}
	memcpy(d.audit, head, hlen);
	d.audit_len = hlen;
	snprintf(d.code, sizeof(d.code), "%s", "LHS-001");
	snprintf(d.name, sizeof(d.name), "%s", "Lincoln High School");
	memcpy(d.school, baton_key_id_pk(a), 32);
	snprintf(d.student, sizeof(d.student), "%s", "S-1");
	d.time = TU_NOW;
	d.count = 3;
	d.entry = x;
	assert_int_equal(baton_disclosures_make(&d, baton_key_id_sk(a), &buf, &len), 0);
	mutate_all(buf, len, check_disclosures, NULL);
	free(buf);
	/* Signed by another key than the copy names: refused, nothing made. */
	assert_int_equal(baton_disclosures_make(&d, baton_key_id_sk(b), &buf, &len), BATON_EINVAL);
	assert_null(buf);
	free(head);
	baton_key_free(a);
	baton_key_free(b);
}

/* A receipt carrying the receiver's head: a flip inside the head is refused too. */
static void test_receipt_with_head(void **state)
{
	baton_key *b = tu_key(BATON_KEY_SCHOOL, 2);
	baton_receipt rc;
	uint8_t *buf, *head;
	size_t len, hlen;
	(void)state;
	memset(&rc, 0, sizeof(rc));
	memset(rc.packet_id, 0x11, sizeof(rc.packet_id));
	memset(rc.packet_hash, 0x22, sizeof(rc.packet_hash));
	memcpy(rc.receiver, baton_key_id_pk(b), 32);
	rc.time = TU_NOW;
	head = signed_head(b, &hlen);
	memcpy(rc.audit, head, hlen);
	rc.audit_len = hlen;
	assert_int_equal(baton_receipt_sign(&rc, baton_key_id_sk(b), &buf, &len), 0);
	mutate_all(buf, len, check_receipt, NULL);
	free(buf);
	free(head);
	baton_key_free(b);
}

/* Redisclosure terms: in a receipt (its hash), and in a sealed transfer body. */
static void test_terms(void **state)
{
	static const char text[] = "Do not redisclose without consent.\n34 CFR 99.33.";
	baton_key *a = tu_key(BATON_KEY_SCHOOL, 1), *b = tu_key(BATON_KEY_SCHOOL, 2);
	baton_key *g = tu_key(BATON_KEY_GUARDIAN, 3);
	baton_receipt rc, back;
	baton_consent c;
	tu_transfer t;
	tu_buf pkt = {0};
	uint8_t *buf, *consent;
	size_t len, clen;
	(void)state;

	memset(&rc, 0, sizeof(rc));
	memset(rc.packet_id, 0x11, sizeof(rc.packet_id));
	memset(rc.packet_hash, 0x22, sizeof(rc.packet_hash));
	memcpy(rc.receiver, baton_key_id_pk(b), 32);
	rc.time = TU_NOW;
	crypto_generichash(rc.terms, 32, (const uint8_t *)text, strlen(text), NULL, 0);
	rc.has_terms = 1;
	assert_int_equal(baton_receipt_sign(&rc, baton_key_id_sk(b), &buf, &len), 0);
	assert_int_equal(baton_receipt_parse(buf, len, &back), 0);
	assert_true(back.has_terms);
	assert_memory_equal(back.terms, rc.terms, 32);
	mutate_all(buf, len, check_receipt, NULL);
	free(buf);

	tu_consent_fill(&c, g, a, b,
	                BATON_SEC_BIT(BATON_SEC_IDENTITY) | BATON_SEC_BIT(BATON_SEC_TRANSCRIPT));
	tu_consent_sign(&c, g, &consent, &clen);
	tu_transfer_init(&t, consent, clen, g, 0, NULL);
	t.body.terms = text;
	t.body.terms_len = strlen(text);
	assert_int_equal(tu_seal(&t, a, b, &pkt, NULL), 0);
	mutate_all(pkt.p, pkt.len, check_packet, b);
	tu_buf_free(&pkt);
	/* Sealing refuses terms the receiver would refuse. */
	t.body.terms = "a\tb";
	t.body.terms_len = 3;
	assert_int_equal(tu_seal(&t, a, b, &pkt, NULL), BATON_EVALUE);
	tu_buf_free(&pkt);
	tu_transfer_free(&t);
	free(consent);
	baton_key_free(a), baton_key_free(b), baton_key_free(g);
}

static void mutate_transfer(size_t n_att, const size_t *sizes)
{
	baton_key *a = tu_key(BATON_KEY_SCHOOL, 1), *b = tu_key(BATON_KEY_SCHOOL, 2);
	baton_key *g = tu_key(BATON_KEY_GUARDIAN, 3);
	baton_consent c;
	tu_transfer t;
	tu_buf pkt = {0};
	uint8_t *consent;
	size_t clen;

	tu_consent_fill(&c, g, a, b,
	                BATON_SEC_BIT(BATON_SEC_IDENTITY) | BATON_SEC_BIT(BATON_SEC_TRANSCRIPT));
	tu_consent_sign(&c, g, &consent, &clen);
	tu_transfer_init(&t, consent, clen, g, n_att, sizes);
	assert_int_equal(tu_seal(&t, a, b, &pkt, NULL), 0);
	mutate_all(pkt.p, pkt.len, check_packet, b);
	tu_buf_free(&pkt);
	tu_transfer_free(&t);
	free(consent);
	baton_key_free(a), baton_key_free(b), baton_key_free(g);
}

/* The sender's head inside the sealed body. */
static void test_transfer_packet_with_head(void **state)
{
	baton_key *a = tu_key(BATON_KEY_SCHOOL, 1), *b = tu_key(BATON_KEY_SCHOOL, 2);
	baton_key *g = tu_key(BATON_KEY_GUARDIAN, 3);
	baton_consent c;
	tu_transfer t;
	tu_buf pkt = {0};
	uint8_t *consent, *head;
	size_t clen, hlen;
	(void)state;

	tu_consent_fill(&c, g, a, b,
	                BATON_SEC_BIT(BATON_SEC_IDENTITY) | BATON_SEC_BIT(BATON_SEC_TRANSCRIPT));
	tu_consent_sign(&c, g, &consent, &clen);
	tu_transfer_init(&t, consent, clen, g, 0, NULL);
	head = signed_head(a, &hlen);
	t.body.audit = head;
	t.body.audit_len = hlen;
	assert_int_equal(tu_seal(&t, a, b, &pkt, NULL), 0);
	mutate_all(pkt.p, pkt.len, check_packet, b);
	tu_buf_free(&pkt);
	/* A head of another school in the body is refused even when all else holds. */
	free(head);
	head = signed_head(g, &hlen);
	t.body.audit = head;
	t.body.audit_len = hlen;
	assert_int_equal(tu_seal(&t, a, b, &pkt, NULL), 0);
	assert_int_equal(check_packet(pkt.p, pkt.len, b), BATON_EVALUE);
	tu_buf_free(&pkt);
	free(head);
	tu_transfer_free(&t);
	free(consent);
	baton_key_free(a), baton_key_free(b), baton_key_free(g);
}

static void test_transfer_packet(void **state)
{
	size_t sizes[] = {700, 0};
	(void)state;
	mutate_transfer(2, sizes);
}

static void test_transfer_packet_two_chunks(void **state)
{
	/* Large enough for two secretstream chunks; flips every 97th byte's neighbourhood. */
	size_t sizes[] = {BATON_CHUNK_BYTES + 5};
	(void)state;
	baton_key *a = tu_key(BATON_KEY_SCHOOL, 1), *b = tu_key(BATON_KEY_SCHOOL, 2);
	baton_key *g = tu_key(BATON_KEY_GUARDIAN, 3);
	baton_consent c;
	tu_transfer t;
	tu_buf pkt = {0};
	uint8_t *consent;
	size_t clen;

	tu_consent_fill(&c, g, a, b,
	                BATON_SEC_BIT(BATON_SEC_IDENTITY) | BATON_SEC_BIT(BATON_SEC_TRANSCRIPT));
	tu_consent_sign(&c, g, &consent, &clen);
	tu_transfer_init(&t, consent, clen, g, 1, sizes);
	assert_int_equal(tu_seal(&t, a, b, &pkt, NULL), 0);
	assert_int_equal(check_packet(pkt.p, pkt.len, b), 0);
	/* Every byte of a 65 KB packet three ways would take minutes: sample densely instead. */
	for (size_t i = 0; i < pkt.len; i += 61) {
		pkt.p[i] ^= 0x01;
		if (check_packet(pkt.p, pkt.len, b) == 0)
			fail_msg("flip at byte %zu accepted", i);
		pkt.p[i] ^= 0x01;
	}
	for (size_t n = pkt.len - 200; n < pkt.len; n++)
		assert_int_not_equal(check_packet(pkt.p, n, b), 0);
	tu_buf_free(&pkt);
	tu_transfer_free(&t);
	free(consent);
	baton_key_free(a), baton_key_free(b), baton_key_free(g);
}

static void test_request_packet(void **state)
{
	baton_key *a = tu_key(BATON_KEY_SCHOOL, 1), *b = tu_key(BATON_KEY_SCHOOL, 2);
	baton_key *g = tu_key(BATON_KEY_GUARDIAN, 3);
	baton_consent c;
	baton_body body;
	tu_buf pkt = {0};
	uint8_t *consent;
	size_t clen;
	(void)state;

	/* The request goes from the receiving school b to the sending school a. */
	tu_consent_fill(&c, g, a, b,
	                BATON_SEC_BIT(BATON_SEC_IDENTITY) | BATON_SEC_BIT(BATON_SEC_TRANSCRIPT));
	tu_consent_sign(&c, g, &consent, &clen);
	memset(&body, 0, sizeof(body));
	body.consent = consent;
	body.consent_len = clen;
	body.requested_mask = BATON_SEC_BIT(BATON_SEC_TRANSCRIPT);
	snprintf(body.note, sizeof(body.note), "Student starts Monday");
	baton_seal_params p = {
	    BATON_KIND_REQUEST,  TU_NOW, TU_NOW + TU_DAY, baton_key_id_sk(b), baton_key_id_pk(a),
	    baton_key_enc_pk(a), NULL};
	assert_int_equal(baton_packet_seal(&p, &body, NULL, tu_buf_write, &pkt, NULL), 0);
	mutate_all(pkt.p, pkt.len, check_packet, a);
	tu_buf_free(&pkt);
	free(consent);
	baton_key_free(a), baton_key_free(b), baton_key_free(g);
}

static int check_enrolment(const uint8_t *b, size_t n, void *ctx)
{
	baton_enrolment s;
	(void)ctx;
	return baton_enrolment_parse(b, n, &s);
}

/*
 * An enrolment statement (type 8), a request carrying one in place of a
 * consent, and the transfer that answers it: every flip and cut is refused.
 */
static void test_enrolment(void **state)
{
	baton_key *a = tu_key(BATON_KEY_SCHOOL, 1), *b = tu_key(BATON_KEY_SCHOOL, 2);
	baton_enrolment s;
	baton_body body;
	tu_buf pkt = {0};
	uint8_t *st;
	size_t slen;
	(void)state;

	/* b asks a for the record a holds as S-1001: the student is enrolling at b. */
	memset(&s, 0, sizeof(s));
	snprintf(s.birth_date, sizeof(s.birth_date), "2012-08-06");
	snprintf(s.family_name, sizeof(s.family_name), "Fitzgerald");
	snprintf(s.given_name, sizeof(s.given_name), "Jonah");
	snprintf(s.kind, sizeof(s.kind), BATON_ENROL_KIND);
	snprintf(s.student, sizeof(s.student), "S-1001");
	memcpy(s.from_pk, baton_key_id_pk(a), 32);
	memcpy(s.to_pk, baton_key_id_pk(b), 32);
	s.issued = TU_NOW - 60;
	s.expires = TU_NOW + 30 * TU_DAY;
	/* Only the enrolling school's key signs it. */
	assert_int_equal(baton_enrolment_sign(&s, baton_key_id_sk(a), &st, &slen), BATON_EINVAL);
	assert_int_equal(baton_enrolment_sign(&s, baton_key_id_sk(b), &st, &slen), 0);
	mutate_all(st, slen, check_enrolment, NULL);

	memset(&body, 0, sizeof(body));
	body.enrolment = st;
	body.enrolment_len = slen;
	body.requested_mask = BATON_SEC_BIT(BATON_SEC_TRANSCRIPT);
	baton_seal_params p = {
	    BATON_KIND_REQUEST,  TU_NOW, TU_NOW + TU_DAY, baton_key_id_sk(b), baton_key_id_pk(a),
	    baton_key_enc_pk(a), NULL};
	assert_int_equal(baton_packet_seal(&p, &body, NULL, tu_buf_write, &pkt, NULL), 0);
	mutate_all(pkt.p, pkt.len, check_packet, a);
	tu_buf_free(&pkt);

	/* The answer: a to b, on the statement, no consent. */
	static const char ident[] = "{\"given_name\":\"Jonah\",\"family_name\":\"Fitzgerald\","
	                            "\"birth_date\":\"2012-08-06\"}";
	memset(&body, 0, sizeof(body));
	snprintf(body.student, sizeof(body.student), "S-1001");
	body.section[BATON_SEC_IDENTITY] = (const uint8_t *)ident;
	body.section_len[BATON_SEC_IDENTITY] = strlen(ident);
	body.basis_enrolment = 1;
	body.enrolment = st;
	body.enrolment_len = slen;
	baton_seal_params q = {
	    BATON_KIND_TRANSFER, TU_NOW, TU_NOW + TU_DAY, baton_key_id_sk(a), baton_key_id_pk(b),
	    baton_key_enc_pk(b), NULL};
	assert_int_equal(baton_packet_seal(&q, &body, NULL, tu_buf_write, &pkt, NULL), 0);
	mutate_all(pkt.p, pkt.len, check_packet, b);
	tu_buf_free(&pkt);
	/* A sealer refuses a statement that does not cover the packet. */
	snprintf(body.student, sizeof(body.student), "S-2002");
	assert_int_equal(baton_packet_seal(&q, &body, NULL, tu_buf_write, &pkt, NULL),
	                 BATON_ECONSENT);
	tu_buf_free(&pkt);
	free(st);
	baton_key_free(a), baton_key_free(b);
}

/* A first chunk is accepted only whole, as a first chunk, with its admission verifying. */
static int check_admission(const uint8_t *b, size_t n, void *ctx)
{
	struct frame_chunk f;
	baton_header h;
	int r = bti_frame_chunk_decode(b, n, &f);
	if (r != 0)
		return r;
	if (!f.admit)
		return BATON_ETRUNC;
	return bti_frame_admit_verify(&f, baton_key_id_pk(ctx), TU_NOW, TU_SKEW, &h);
}

/*
 * A batch (ctx NULL) or a batch's reply: one that decodes holds its items
 * inside the input and encodes back to exactly the input's bytes.
 */
static int check_batch(const uint8_t *b, size_t n, void *ctx)
{
	struct frame_item it[FRAME_BATCH_MAX];
	size_t k;
	uint8_t *e;
	int reply = ctx != NULL;
	int r = reply ? bti_frame_reply_decode(b, n, it, &k) : bti_frame_batch_decode(b, n, it, &k);

	if (r != 0) {
		assert_true(r < 0);
		return r;
	}
	assert_in_range(k, 1, FRAME_BATCH_MAX);
	for (size_t i = 0; i < k; i++)
		if (it[i].n)
			assert_true(it[i].p >= b + FRAME_BATCH_HEAD && it[i].p + it[i].n <= b + n);
	assert_int_equal(bti_frame_batch_len(it, k), n);
	assert_non_null(e = malloc(n));
	assert_int_equal(reply ? bti_frame_reply_put(e, it, k) : bti_frame_batch_put(e, it, k), 0);
	assert_memory_equal(e, b, n);
	free(e);
	return 0;
}

/*
 * Batches are not signed, so a flip in an item is a different batch: every
 * flip and truncation must decode to what encodes back to it, or be
 * refused. A flip in the head is always refused, and a truncation decodes
 * only where it ends an item (ends[]: those ends, but the last).
 */
static void robust_all(const uint8_t *buf, size_t len, void *reply, const size_t *ends,
                       size_t n_ends)
{
	uint8_t *m = malloc(len);
	size_t taken = 0;

	assert_non_null(m);
	assert_int_equal(check_batch(buf, len, reply), 0);
	for (size_t i = 0; i < len; i++) {
		for (size_t f = 0; f < sizeof(flips); f++) {
			memcpy(m, buf, len);
			m[i] ^= flips[f];
			int r = check_batch(m, len, reply);
			if (r == 0 && i < FRAME_BATCH_HEAD)
				fail_msg("flip 0x%02x at byte %zu of the head taken", flips[f], i);
			taken += r == 0;
		}
	}
	for (size_t n = 0; n < len; n++) {
		uint8_t *t = malloc(n ? n : 1); /* exactly n bytes, for ASan */
		int at_end = 0;
		assert_non_null(t);
		memcpy(t, buf, n);
		for (size_t j = 0; j < n_ends; j++)
			at_end |= ends[j] == n;
		if ((check_batch(t, n, reply) == 0) != at_end)
			fail_msg("truncation to %zu of %zu bytes %s", n, len,
			         at_end ? "refused at an item's end" : "taken inside an item");
		free(t);
	}
	/* The items' bytes are opaque: most of their flips are another valid batch. */
	assert_true(taken > 0);
	free(m);
}

static void test_batch(void **state)
{
	static const size_t lens[] = {72, 1, 300}, rlens[] = {0, 120, 0, 140};
	static const size_t ends[] = {8 + 76, 8 + 76 + 5}, rends[] = {12, 136, 140};
	uint8_t data[300], *buf;
	struct frame_item it[4];
	size_t len;
	int reply = 1;

	(void)state;
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + 3);
	for (size_t i = 0; i < 3; i++)
		it[i].p = data, it[i].n = lens[i];
	len = bti_frame_batch_len(it, 3);
	assert_non_null(buf = malloc(len));
	assert_int_equal(bti_frame_batch_put(buf, it, 3), 0);
	robust_all(buf, len, NULL, ends, 2);
	free(buf);

	for (size_t i = 0; i < 4; i++)
		it[i].p = rlens[i] ? data : NULL, it[i].n = rlens[i];
	len = bti_frame_batch_len(it, 4);
	assert_non_null(buf = malloc(len));
	assert_int_equal(bti_frame_reply_put(buf, it, 4), 0);
	robust_all(buf, len, &reply, rends, 3);
	free(buf);
}

/* An offer that decodes holds its entries in key order and encodes back to exactly its bytes. */
static int check_offer(const uint8_t *b, size_t n)
{
	struct frame_offer e[FRAME_OFFER_MAX];
	size_t k;
	uint8_t *out;
	int r = bti_frame_offer_decode(b, n, e, &k);
	if (r != 0) {
		assert_true(r < 0);
		return r;
	}
	assert_true(k <= FRAME_OFFER_MAX);
	assert_int_equal(bti_frame_offer_len(k), n);
	assert_non_null(out = malloc(n));
	assert_int_equal(bti_frame_offer_put(out, e, k), 0);
	assert_memory_equal(out, b, n);
	free(out);
	return 0;
}

/* An update that decodes gives a school code and the rest, and encodes back to its bytes. */
static int check_update(const uint8_t *b, size_t n)
{
	char code[BATON_CODE_MAX + 1];
	const uint8_t *dir;
	size_t dlen;
	uint8_t *out;
	int r = bti_frame_update_decode(b, n, code, &dir, &dlen);
	if (r != 0) {
		assert_true(r < 0);
		assert_string_equal(code, "");
		return r;
	}
	assert_in_range(strlen(code), 1, BATON_CODE_MAX);
	assert_true(dlen >= 1 && dir == b + 8 + strlen(code) && dir + dlen == b + n);
	assert_int_equal(bti_frame_update_len(code, dlen), n);
	assert_non_null(out = malloc(n));
	assert_int_equal(bti_frame_update_put(out, code, dir, dlen), 0);
	assert_memory_equal(out, b, n);
	free(out);
	return 0;
}

/*
 * Offers and updates are not signed (the directory an update carries is):
 * every flip and truncation decodes to what encodes back to it, or is
 * refused. A flip of the magic or version is always refused; an offer cut
 * anywhere but at an entry's end is refused, and an update cut inside its
 * code; an update over one message is refused.
 */
static void test_offer(void **state)
{
	struct frame_offer e[3];
	uint8_t buf[8 + 3 * 40], *m, *u;
	size_t len = sizeof(buf), ulen;
	static const uint8_t dir[] = {0x93, 0x0a, 0xc4, 0x01, 0x02, 0xc4, 0x00};

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		memset(e[i].authority, 0x30 + (int)i * 0x20, BATON_PK_BYTES);
		e[i].version = 7 + i * 0x0101010101ULL;
	}
	assert_int_equal(bti_frame_offer_put(buf, e, 3), 0);
	assert_int_equal(check_offer(buf, len), 0);
	assert_non_null(m = malloc(len));
	for (size_t i = 0; i < len; i++)
		for (size_t f = 0; f < sizeof(flips); f++) {
			memcpy(m, buf, len);
			m[i] ^= flips[f];
			if (check_offer(m, len) == 0 && i < 8)
				fail_msg("flip 0x%02x at byte %zu of the offer's head taken",
				         flips[f], i);
		}
	for (size_t n = 0; n < len; n++) {
		uint8_t *t = malloc(n ? n : 1);
		assert_non_null(t);
		memcpy(t, buf, n);
		if ((check_offer(t, n) == 0) != (n >= 8 && (n - 8) % 40 == 0))
			fail_msg("offer cut to %zu of %zu bytes", n, len);
		free(t);
	}
	free(m);

	ulen = bti_frame_update_len("LHS-001", sizeof(dir));
	assert_non_null(u = malloc(ulen));
	assert_int_equal(bti_frame_update_put(u, "LHS-001", dir, sizeof(dir)), 0);
	assert_int_equal(check_update(u, ulen), 0);
	assert_non_null(m = malloc(ulen));
	for (size_t i = 0; i < ulen; i++)
		for (size_t f = 0; f < sizeof(flips); f++) {
			memcpy(m, u, ulen);
			m[i] ^= flips[f];
			if (check_update(m, ulen) == 0 && i < 5)
				fail_msg("flip 0x%02x at byte %zu of the update's head taken",
				         flips[f], i);
		}
	for (size_t n = 0; n < ulen; n++) {
		uint8_t *t = malloc(n ? n : 1);
		assert_non_null(t);
		memcpy(t, u, n);
		if ((check_update(t, n) == 0) != (n >= 8 + 7 + 1))
			fail_msg("update cut to %zu of %zu bytes", n, ulen);
		free(t);
	}
	free(m);
	free(u);
	/* One message at most: the largest is taken, a byte more refused, and never made. */
	assert_non_null(u = calloc(1, FRAME_UPDATE_MAX + 1));
	assert_non_null(m = calloc(1, FRAME_UPDATE_MAX));
	assert_int_equal(bti_frame_update_put(u, "LHS-001", m, FRAME_UPDATE_MAX - 15), 0);
	assert_int_equal(check_update(u, FRAME_UPDATE_MAX), 0);
	u[FRAME_UPDATE_MAX] = 0x5a;
	assert_int_equal(check_update(u, FRAME_UPDATE_MAX + 1), BATON_ETOOBIG);
	assert_int_equal(bti_frame_update_put(u, "LHS-001", m, FRAME_UPDATE_MAX - 14),
	                 BATON_EINVAL);
	free(m);
	free(u);
}

/* The first chunk of a sealed transfer (the whole packet: under one chunk). */
static void test_chunk_admission(void **state)
{
	baton_key *a = tu_key(BATON_KEY_SCHOOL, 1), *b = tu_key(BATON_KEY_SCHOOL, 2);
	baton_key *g = tu_key(BATON_KEY_GUARDIAN, 3);
	size_t sizes[] = {300}, clen;
	baton_consent c;
	baton_header h;
	baton_source src;
	tu_transfer t;
	tu_buf pkt = {0};
	uint8_t *consent, *frame;
	(void)state;

	tu_consent_fill(&c, g, a, b,
	                BATON_SEC_BIT(BATON_SEC_IDENTITY) | BATON_SEC_BIT(BATON_SEC_TRANSCRIPT));
	tu_consent_sign(&c, g, &consent, &clen);
	tu_transfer_init(&t, consent, clen, g, 1, sizes);
	assert_int_equal(tu_seal(&t, a, b, &pkt, NULL), 0);
	baton_source_mem(&src, pkt.p, pkt.len);
	assert_int_equal(baton_packet_peek(&src, &h), 0);
	assert_non_null(frame = malloc(FRAME_HEAD + FRAME_ADMIT + pkt.len));
	memcpy(frame + FRAME_HEAD + FRAME_ADMIT, pkt.p, pkt.len);
	assert_int_equal(bti_frame_admit_sign(frame, a, h.id, pkt.len, TU_NOW,
	                                      frame + FRAME_HEAD + FRAME_ADMIT, pkt.len),
	                 0);
	mutate_all(frame, FRAME_HEAD + FRAME_ADMIT + pkt.len, check_admission, b);
	free(frame);
	tu_buf_free(&pkt);
	tu_transfer_free(&t);
	free(consent);
	baton_key_free(a), baton_key_free(b), baton_key_free(g);
}

static void mutate_keyfile(baton_key_kind kind, const char *pass)
{
	char dir[] = "/tmp/baton-test-XXXXXX", path[64];
	baton_key *k = tu_key(kind, 9);
	uint8_t *buf;
	size_t len;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/k", dir);
	assert_int_equal(pass ? baton_key_save(k, path, pass, strlen(pass), &baton_kdf_min)
	                      : baton_key_save_plain(k, path),
	                 0);
	assert_int_equal(baton_file_read(path, 4096, &buf, &len), 0);
	mutate_all(buf, len, check_keyfile, (void *)(uintptr_t)pass);
	free(buf);
	unlink(path);
	rmdir(dir);
	baton_key_free(k);
}

static void test_keyfile_plain(void **state)
{
	(void)state;
	mutate_keyfile(BATON_KEY_SCHOOL, NULL);
}

static void test_keyfile_encrypted(void **state)
{
	(void)state;
	mutate_keyfile(BATON_KEY_SCHOOL, "hunter2 is not a passphrase");
}

static void test_keyfile_authority(void **state)
{
	(void)state;
	mutate_keyfile(BATON_KEY_AUTHORITY, "hunter2 is not a passphrase");
}

static int check_directory(const uint8_t *b, size_t n, void *ctx)
{
	baton_directory d;
	(void)ctx;
	int r = baton_directory_parse(b, n, &d);
	baton_directory_free(&d);
	return r;
}

/*
 * A directory of two schools with one key withdrawn: a flip in a member's
 * card, in a withdrawn key or in the authority's part is refused alike.
 */
static void test_directory(void **state)
{
	baton_key *ak = tu_key(BATON_KEY_AUTHORITY, 7), *a = tu_key(BATON_KEY_SCHOOL, 1),
	          *b = tu_key(BATON_KEY_SCHOOL, 2), *x = tu_key(BATON_KEY_SCHOOL, 3);
	uint8_t *cards[2], *out;
	size_t lens[2], len;
	(void)state;

	tu_card(a, "Lincoln High School", "LHS-001", &cards[0], &lens[0]);
	tu_card(b, "Riverside Academy", "RAS-204", &cards[1], &lens[1]);
	assert_int_equal(baton_directory_sign("State Board", 2, TU_NOW, TU_NOW + 30 * TU_DAY,
	                                      (const uint8_t *const *)cards, lens, 2,
	                                      baton_key_id_pk(x), 1, baton_key_id_sk(ak), &out,
	                                      &len),
	                 0);
	mutate_all(out, len, check_directory, NULL);
	free(out);
	free(cards[0]);
	free(cards[1]);
	baton_key_free(ak), baton_key_free(a), baton_key_free(b), baton_key_free(x);
}

static void test_login(void **state)
{
	baton_key *a = tu_key(BATON_KEY_SCHOOL, 1), *g = tu_key(BATON_KEY_GUARDIAN, 3);
	uint8_t ctx[2 * BATON_PK_BYTES], nonce[BATON_LOGIN_NONCE_BYTES],
	    buf[BATON_LOGIN_MSG_MAX + 64];
	size_t len;
	(void)state;
	memcpy(ctx, baton_key_id_pk(a), BATON_PK_BYTES);
	memcpy(ctx + BATON_PK_BYTES, baton_key_id_pk(g), BATON_PK_BYTES);
	randombytes_buf(nonce, sizeof(nonce));
	assert_int_equal(baton_login_message(baton_key_id_pk(a), "https://school.example:8443",
	                                     nonce, buf, &len),
	                 0);
	assert_int_equal(baton_login_sign(baton_key_id_pk(a), "https://school.example:8443", nonce,
	                                  baton_key_id_sk(g), buf + len),
	                 0);
	mutate_all(buf, len + BATON_SIG_BYTES, check_login, ctx);
	baton_key_free(a), baton_key_free(g);
}

/* ---- statements of disagreement (PROTOCOL.md 3.11, 4.4) ---- */

static int check_statement(const uint8_t *b, size_t n, void *ctx)
{
	baton_statement st;
	(void)ctx;
	return baton_statement_parse(b, n, &st);
}

/* A guardian's statement about S-1001's transcript at the school whose key is school. */
static uint8_t *signed_statement(const baton_key *g, const baton_key *school, uint8_t idbyte,
                                 size_t *len)
{
	baton_statement st;
	uint8_t *buf;
	memset(&st, 0, sizeof(st));
	memset(st.id, idbyte, sizeof(st.id));
	st.role = BATON_ROLE_GUARDIAN;
	memcpy(st.school, baton_key_id_pk(school), 32);
	st.section = BATON_SEC_TRANSCRIPT;
	memcpy(st.signer, baton_key_id_pk(g), 32);
	snprintf(st.student, sizeof(st.student), "S-1001");
	snprintf(st.text, sizeof(st.text),
	         "The grade for Algebra I is wrong.\nShe passed the "
	         "retake in June.");
	st.time = TU_NOW;
	assert_int_equal(baton_statement_sign(&st, baton_key_id_sk(g), &buf, len), 0);
	return buf;
}

static void test_statement(void **state)
{
	baton_key *a = tu_key(BATON_KEY_SCHOOL, 1), *g = tu_key(BATON_KEY_GUARDIAN, 3);
	size_t len;
	uint8_t *buf = signed_statement(g, a, 0x51, &len);
	(void)state;
	mutate_all(buf, len, check_statement, NULL);
	free(buf);
	baton_key_free(a), baton_key_free(g);
}

/*
 * A transfer carrying two statements: every flip is refused, and so is a
 * packet whose sender dropped a statement it still declares, one carrying
 * a statement it does not declare, and one with another school's statement.
 */
static void test_transfer_packet_with_statements(void **state)
{
	baton_key *a = tu_key(BATON_KEY_SCHOOL, 1), *b = tu_key(BATON_KEY_SCHOOL, 2);
	baton_key *g = tu_key(BATON_KEY_GUARDIAN, 3);
	baton_consent c;
	tu_transfer t;
	tu_buf pkt = {0};
	uint8_t *consent, *s1, *s2, *sb;
	size_t clen, l1, l2, lb;
	(void)state;

	tu_consent_fill(&c, g, a, b,
	                BATON_SEC_BIT(BATON_SEC_IDENTITY) | BATON_SEC_BIT(BATON_SEC_TRANSCRIPT));
	tu_consent_sign(&c, g, &consent, &clen);
	tu_transfer_init(&t, consent, clen, g, 0, NULL);
	s1 = signed_statement(g, a, 0x51, &l1);
	s2 = signed_statement(g, a, 0x52, &l2);
	memset(t.body.held[0], 0x51, BATON_ID_BYTES);
	memset(t.body.held[1], 0x52, BATON_ID_BYTES);
	t.body.n_held = 2;
	t.body.statement[0] = s2, t.body.statement_len[0] = l2;
	t.body.statement[1] = s1, t.body.statement_len[1] = l1;
	t.body.n_statements = 2;
	assert_int_equal(tu_seal(&t, a, b, &pkt, NULL), 0);
	mutate_all(pkt.p, pkt.len, check_packet, b);
	tu_buf_free(&pkt);

	/* Dropped, still declared: the sealer refuses to make it. */
	t.body.n_statements = 1;
	assert_int_equal(tu_seal(&t, a, b, &pkt, NULL), BATON_EVALUE);
	assert_non_null(strstr(baton_diag(), "is not in the packet"));
	tu_buf_free(&pkt);
	/* Carried, not declared. */
	t.body.n_statements = 2;
	t.body.n_held = 1;
	assert_int_equal(tu_seal(&t, a, b, &pkt, NULL), BATON_EVALUE);
	tu_buf_free(&pkt);
	/* The declaration out of order. */
	t.body.n_held = 2;
	memset(t.body.held[0], 0x53, BATON_ID_BYTES);
	assert_int_equal(tu_seal(&t, a, b, &pkt, NULL), BATON_EVALUE);
	tu_buf_free(&pkt);
	memset(t.body.held[0], 0x51, BATON_ID_BYTES);
	/* A statement about the record at school B, carried by school A. */
	sb = signed_statement(g, b, 0x52, &lb);
	t.body.statement[0] = sb, t.body.statement_len[0] = lb;
	assert_int_equal(tu_seal(&t, a, b, &pkt, NULL), BATON_EVALUE);
	tu_buf_free(&pkt);
	/* A statement whose signature is broken. */
	s2[l2 - 1] ^= 1;
	t.body.statement[0] = s2, t.body.statement_len[0] = l2;
	assert_int_equal(tu_seal(&t, a, b, &pkt, NULL), BATON_EVALUE);
	assert_non_null(strstr(baton_diag(), "EBADSIG"));
	tu_buf_free(&pkt);
	/* A statement about a section the packet does not carry. */
	s2[l2 - 1] ^= 1;
	t.body.section[BATON_SEC_TRANSCRIPT] = NULL;
	assert_int_equal(tu_seal(&t, a, b, &pkt, NULL), BATON_EVALUE);
	tu_buf_free(&pkt);

	free(s1), free(s2), free(sb);
	tu_transfer_free(&t);
	free(consent);
	baton_key_free(a), baton_key_free(b), baton_key_free(g);
}

/*
 * Record schema version 2's sections on the wire: a consent naming the new
 * ones and one naming all fourteen, a transfer carrying custody and
 * graduation (a court order attached to custody), a request wanting all
 * fourteen, a statement about custody and a disclosure copy naming them:
 * every flip and cut of each is refused.
 */
static void test_sections_v2(void **state)
{
	baton_key *a = tu_key(BATON_KEY_SCHOOL, 1), *b = tu_key(BATON_KEY_SCHOOL, 2);
	baton_key *g = tu_key(BATON_KEY_GUARDIAN, 3);
	const uint32_t v2 = BATON_SEC_BIT(BATON_SEC_CUSTODY) | BATON_SEC_BIT(BATON_SEC_GRADUATION) |
	                    BATON_SEC_BIT(BATON_SEC_SECTION_504);
	static const char custody[] =
	    "[{\"name\":\"Pat Doe\",\"restriction\":\"May not pick up the student\"}]";
	static const char graduation[] = "{\"credits_earned\":22.5,\"expected_year\":2027}";
	size_t sizes[] = {300};
	baton_consent c;
	tu_transfer t;
	tu_buf pkt = {0};
	uint8_t *consent, *all, *buf;
	size_t clen, alen, len;
	(void)state;

	tu_consent_fill(&c, g, a, b, v2);
	tu_consent_sign(&c, g, &consent, &clen);
	mutate_all(consent, clen, check_consent, NULL);
	tu_consent_fill(&c, g, a, b, BATON_SEC_ALL_MASK);
	tu_consent_sign(&c, g, &all, &alen);
	mutate_all(all, alen, check_consent, NULL);

	tu_transfer_init(&t, consent, clen, g, 1, sizes);
	t.body.section[BATON_SEC_TRANSCRIPT] = NULL, t.body.section_len[BATON_SEC_TRANSCRIPT] = 0;
	t.body.section[BATON_SEC_CUSTODY] = (const uint8_t *)custody;
	t.body.section_len[BATON_SEC_CUSTODY] = strlen(custody);
	t.body.section[BATON_SEC_GRADUATION] = (const uint8_t *)graduation;
	t.body.section_len[BATON_SEC_GRADUATION] = strlen(graduation);
	t.atts[0].section = BATON_SEC_CUSTODY;
	assert_int_equal(tu_seal(&t, a, b, &pkt, NULL), 0);
	mutate_all(pkt.p, pkt.len, check_packet, b);
	tu_buf_free(&pkt);
	tu_transfer_free(&t);

	baton_body body;
	memset(&body, 0, sizeof(body));
	body.consent = all;
	body.consent_len = alen;
	body.requested_mask = BATON_SEC_ALL_MASK;
	baton_seal_params p = {
	    BATON_KIND_REQUEST,  TU_NOW, TU_NOW + TU_DAY, baton_key_id_sk(b), baton_key_id_pk(a),
	    baton_key_enc_pk(a), NULL};
	assert_int_equal(baton_packet_seal(&p, &body, NULL, tu_buf_write, &pkt, NULL), 0);
	mutate_all(pkt.p, pkt.len, check_packet, a);
	tu_buf_free(&pkt);

	baton_statement st;
	memset(&st, 0, sizeof(st));
	memset(st.id, 0x52, sizeof(st.id));
	st.role = BATON_ROLE_GUARDIAN;
	memcpy(st.school, baton_key_id_pk(a), 32);
	st.section = BATON_SEC_CUSTODY;
	memcpy(st.signer, baton_key_id_pk(g), 32);
	snprintf(st.student, sizeof(st.student), "S-1001");
	snprintf(st.text, sizeof(st.text), "The order was lifted in May 2026.");
	st.time = TU_NOW;
	assert_int_equal(baton_statement_sign(&st, baton_key_id_sk(g), &buf, &len), 0);
	mutate_all(buf, len, check_statement, NULL);
	free(buf);

	baton_disclosure x;
	baton_disclosures d;
	size_t hlen;
	uint8_t *head = signed_head(a, &hlen);
	memset(&x, 0, sizeof(x));
	memset(&d, 0, sizeof(d));
	x.seq = 7;
	memset(x.hash, 0x37, 32);
	x.time = TU_NOW - 60;
	snprintf(x.basis, sizeof(x.basis), "%s", "consent");
	snprintf(x.receipt, sizeof(x.receipt), "%s", "received");
	x.sections = v2 | BATON_SEC_BIT(BATON_SEC_IDENTITY);
	snprintf(x.to_code, sizeof(x.to_code), "%s", "RAS-204");
	memcpy(d.audit, head, hlen);
	d.audit_len = hlen;
	snprintf(d.code, sizeof(d.code), "%s", "LHS-001");
	snprintf(d.name, sizeof(d.name), "%s", "Lincoln High School");
	memcpy(d.school, baton_key_id_pk(a), 32);
	snprintf(d.student, sizeof(d.student), "%s", "S-1001");
	d.time = TU_NOW;
	d.count = 1;
	d.entry = &x;
	assert_int_equal(baton_disclosures_make(&d, baton_key_id_sk(a), &buf, &len), 0);
	mutate_all(buf, len, check_disclosures, NULL);
	free(buf);
	free(head);
	free(consent), free(all);
	baton_key_free(a), baton_key_free(b), baton_key_free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_card),
	    cmocka_unit_test(test_consent),
	    cmocka_unit_test(test_revocation),
	    cmocka_unit_test(test_receipt),
	    cmocka_unit_test(test_rotation),
	    cmocka_unit_test(test_audit_head),
	    cmocka_unit_test(test_receipt_with_head),
	    cmocka_unit_test(test_transfer_packet_with_head),
	    cmocka_unit_test(test_transfer_packet),
	    cmocka_unit_test(test_transfer_packet_two_chunks),
	    cmocka_unit_test(test_request_packet),
	    cmocka_unit_test(test_chunk_admission),
	    cmocka_unit_test(test_batch),
	    cmocka_unit_test(test_offer),
	    cmocka_unit_test(test_keyfile_plain),
	    cmocka_unit_test(test_keyfile_encrypted),
	    cmocka_unit_test(test_keyfile_authority),
	    cmocka_unit_test(test_directory),
	    cmocka_unit_test(test_login),
	    cmocka_unit_test(test_disclosures),
	    cmocka_unit_test(test_statement),
	    cmocka_unit_test(test_transfer_packet_with_statements),
	    cmocka_unit_test(test_terms),
	    cmocka_unit_test(test_enrolment),
	    cmocka_unit_test(test_sections_v2),
	};
	if (baton_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
