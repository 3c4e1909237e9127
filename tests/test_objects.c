/*
 * Signed objects: cards, consents, revocations, receipts. Round trips,
 * fields refused at signing (Baton never signs what it would refuse), the
 * validity window, objects of one type offered as another, and signatures
 * verified once and parsed again.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include <cmocka.h>

#include <baton/disclosures.h>

#include "testutil.h"

#define SEC(s) BATON_SEC_BIT(BATON_SEC_##s)

static void test_card_round_trip(void **state)
{
	baton_key *a = tu_key(BATON_KEY_SCHOOL, 1);
	baton_card c, got;
	uint8_t *buf;
	size_t len;
	int type;
	(void)state;
	tu_card(a, "Lincoln High School", "LHS-001", &buf, &len);
	assert_int_equal(baton_card_parse(buf, len, &got), 0);
	assert_string_equal(got.name, "Lincoln High School");
	assert_string_equal(got.code, "LHS-001");
	assert_memory_equal(got.id_pk, baton_key_id_pk(a), 32);
	assert_memory_equal(got.enc_pk, baton_key_enc_pk(a), 32);
	assert_int_equal(got.n_endpoints, 1);
	assert_string_equal(got.endpoints[0], "tcp://127.0.0.1:7701");
	assert_int_equal(baton_object_type(buf, len, &type), 0);
	assert_int_equal(type, BATON_OBJ_CARD);
	/* A card is not a consent. */
	baton_consent cons;
	assert_int_equal(baton_consent_parse(buf, len, &cons), BATON_EMAGIC);
	free(buf);

	/* Refused at signing: bad code, no endpoint, low-order encryption key, wrong key. */
	c = got;
	snprintf(c.code, sizeof(c.code), "LHS 001");
	assert_int_equal(baton_card_sign(&c, baton_key_id_sk(a), &buf, &len), BATON_EVALUE);
	assert_non_null(strstr(baton_diag(), "card.code"));
	c = got;
	c.n_endpoints = 0;
	assert_int_equal(baton_card_sign(&c, baton_key_id_sk(a), &buf, &len), BATON_EVALUE);
	c = got;
	snprintf(c.endpoints[0], sizeof(c.endpoints[0]), "not a url");
	assert_int_equal(baton_card_sign(&c, baton_key_id_sk(a), &buf, &len), BATON_EVALUE);
	c = got;
	memset(c.enc_pk, 0, 32);
	assert_int_equal(baton_card_sign(&c, baton_key_id_sk(a), &buf, &len), BATON_EBADKEY);
	c = got;
	c.valid_until = c.valid_from;
	assert_int_equal(baton_card_sign(&c, baton_key_id_sk(a), &buf, &len), BATON_EVALUE);
	baton_key *other = tu_key(BATON_KEY_SCHOOL, 2);
	assert_int_equal(baton_card_sign(&got, baton_key_id_sk(other), &buf, &len), BATON_EINVAL);
	assert_null(buf);
	baton_key_free(other);
	baton_key_free(a);
}

static void test_consent_round_trip(void **state)
{
	baton_key *a = tu_key(BATON_KEY_SCHOOL, 1), *b = tu_key(BATON_KEY_SCHOOL, 2);
	baton_key *g = tu_key(BATON_KEY_GUARDIAN, 3);
	baton_consent c, got;
	uint8_t *buf;
	size_t len;
	(void)state;
	tu_consent_fill(&c, g, a, b, SEC(IDENTITY) | SEC(TRANSCRIPT) | SEC(HEALTH));
	tu_consent_sign(&c, g, &buf, &len);
	assert_int_equal(baton_consent_parse(buf, len, &got), 0);
	/* The parse names the bytes it verified by their hash. */
	crypto_generichash(c.hash, sizeof(c.hash), buf, len, NULL, 0);
	assert_memory_equal(&got, &c, sizeof(c));
	free(buf);

	/* Record schema version 2's sections, and all fourteen at once. */
	const uint32_t v2[] = {SEC(CUSTODY) | SEC(GRADUATION) | SEC(SECTION_504),
	                       SEC(ENGLISH_LEARNER) | SEC(HOMELESS) | SEC(IDENTITY),
	                       BATON_SEC_ALL_MASK};
	for (size_t i = 0; i < sizeof(v2) / sizeof(v2[0]); i++) {
		baton_consent w = c;
		w.sections = v2[i];
		tu_consent_sign(&w, g, &buf, &len);
		assert_int_equal(baton_consent_parse(buf, len, &got), 0);
		assert_int_equal(got.sections, v2[i]);
		free(buf);
	}

	c.role = BATON_ROLE_STUDENT;
	tu_consent_sign(&c, g, &buf, &len);
	assert_int_equal(baton_consent_parse(buf, len, &got), 0);
	assert_int_equal(got.role, BATON_ROLE_STUDENT);
	free(buf);

	/* Refused at signing. */
	baton_consent bad = c;
	bad.sections = 0;
	assert_int_equal(baton_consent_sign(&bad, baton_key_id_sk(g), &buf, &len), BATON_EVALUE);
	bad = c;
	bad.expires = bad.issued;
	assert_int_equal(baton_consent_sign(&bad, baton_key_id_sk(g), &buf, &len), BATON_EVALUE);
	assert_non_null(strstr(baton_diag(), "consent.expires"));
	bad = c;
	memcpy(bad.to_pk, bad.from_pk, 32);
	assert_int_equal(baton_consent_sign(&bad, baton_key_id_sk(g), &buf, &len), BATON_EVALUE);
	bad = c;
	bad.purpose[0] = '\0';
	assert_int_equal(baton_consent_sign(&bad, baton_key_id_sk(g), &buf, &len), BATON_EVALUE);
	bad = c;
	bad.role = (baton_role)9;
	assert_int_equal(baton_consent_sign(&bad, baton_key_id_sk(g), &buf, &len), BATON_EVALUE);
	bad = c;
	snprintf(bad.student, sizeof(bad.student), "S-1\n001");
	assert_int_equal(baton_consent_sign(&bad, baton_key_id_sk(g), &buf, &len), BATON_EVALUE);
	baton_key_free(a), baton_key_free(b), baton_key_free(g);
}

static void test_revocation_round_trip(void **state)
{
	baton_key *g = tu_key(BATON_KEY_GUARDIAN, 3), *h = tu_key(BATON_KEY_GUARDIAN, 4);
	baton_revocation r = {{0}, {0}, TU_NOW}, got;
	uint8_t *buf;
	size_t len;
	(void)state;
	memset(r.consent_id, 0x5a, 16);
	memcpy(r.signer, baton_key_id_pk(g), 32);
	assert_int_equal(baton_revocation_sign(&r, baton_key_id_sk(g), &buf, &len), 0);
	assert_int_equal(baton_revocation_parse(buf, len, &got), 0);
	assert_memory_equal(&got, &r, sizeof(r));
	free(buf);
	/* Only the signer named can sign it. */
	assert_int_equal(baton_revocation_sign(&r, baton_key_id_sk(h), &buf, &len), BATON_EINVAL);
	baton_key_free(g), baton_key_free(h);
}

static void test_receipt_round_trip(void **state)
{
	baton_key *b = tu_key(BATON_KEY_SCHOOL, 2);
	baton_receipt r, got;
	uint8_t *buf;
	size_t len1, len2;
	(void)state;
	memset(&r, 0, sizeof(r));
	memset(r.packet_id, 1, 16);
	memset(r.packet_hash, 2, 32);
	memcpy(r.receiver, baton_key_id_pk(b), 32);
	r.reason = BATON_REASON_ACCEPTED;
	r.time = TU_NOW;
	assert_int_equal(baton_receipt_sign(&r, baton_key_id_sk(b), &buf, &len1), 0);
	assert_int_equal(baton_receipt_parse(buf, len1, &got), 0);
	assert_memory_equal(&got, &r, sizeof(r));
	free(buf);
	r.reason = BATON_REASON_STORAGE;
	snprintf(r.note, sizeof(r.note), "disk full; try again later");
	assert_int_equal(baton_receipt_sign(&r, baton_key_id_sk(b), &buf, &len2), 0);
	assert_true(len2 > len1);
	assert_int_equal(baton_receipt_parse(buf, len2, &got), 0);
	assert_string_equal(got.note, r.note);
	assert_true(baton_reason_retryable(got.reason));
	assert_false(baton_reason_retryable(BATON_REASON_DENIED));
	free(buf);
	r.reason = BATON_REASON_MAX + 1;
	assert_int_equal(baton_receipt_sign(&r, baton_key_id_sk(b), &buf, &len1), BATON_EVALUE);
	r.reason = -1;
	assert_int_equal(baton_receipt_sign(&r, baton_key_id_sk(b), &buf, &len1), BATON_EVALUE);
	for (int i = 0; i <= BATON_REASON_MAX; i++)
		assert_non_null(baton_reason_name(i));
	assert_null(baton_reason_name(BATON_REASON_MAX + 1));
	baton_key_free(b);
}

static void test_validity(void **state)
{
	(void)state;
	assert_int_equal(baton_check_validity(100, 200, 150, 0), 0);
	assert_int_equal(baton_check_validity(100, 200, 100, 0), 0);
	assert_int_equal(baton_check_validity(100, 200, 200, 0), 0);
	assert_int_equal(baton_check_validity(100, 200, 201, 0), BATON_EEXPIRED);
	assert_int_equal(baton_check_validity(100, 200, 99, 0), BATON_ENOTYET);
	assert_int_equal(baton_check_validity(100, 200, 90, 10), 0);
	assert_int_equal(baton_check_validity(100, 200, 89, 10), BATON_ENOTYET);
	/* Skew larger than the start does not wrap around. */
	assert_int_equal(baton_check_validity(5, 200, 0, 10), 0);
}

static void test_object_type_garbage(void **state)
{
	int type;
	(void)state;
	assert_int_equal(baton_object_type((const uint8_t *)"\x93\x01\xc4", 3, &type),
	                 BATON_EMAGIC);
	assert_int_equal(baton_object_type((const uint8_t *)"", 0, &type), BATON_EMAGIC);
	assert_int_equal(type, 0);
}

/*
 * The largest disclosure copy (PROTOCOL.md 3.13): the most entries a copy
 * holds, every field at its longest, makes and reads back within the
 * entries' limits, each field as written; one entry more is refused. And
 * fields the reader refuses are refused at making, nothing made.
 */
/*
 * A signature found valid once is not verified again for the same bytes:
 * each parse must still refuse the same object with one byte changed, right
 * after the good one, and an object signed here with one byte changed; and
 * an object pushed out of the signatures kept is verified again, still valid.
 */
static void test_verified_again(void **state)
{
	baton_key *a = tu_key(BATON_KEY_SCHOOL, 1);
	baton_audit_head h, got;
	baton_card card;
	uint8_t *cb, *hb, *first = NULL;
	size_t clen, hlen, flen = 0;
	(void)state;

	tu_card(a, "Lincoln High School", "LHS-001", &cb, &clen);
	assert_int_equal(baton_card_parse(cb, clen, &card), 0);
	assert_int_equal(baton_card_parse(cb, clen, &card), 0);
	cb[clen - 1] ^= 1; /* the signature's last byte */
	assert_int_equal(baton_card_parse(cb, clen, &card), BATON_EBADSIG);
	cb[clen - 1] ^= 1;
	assert_int_equal(baton_card_parse(cb, clen, &card), 0);
	cb[clen - 70] ^= 1; /* a byte of the body, before the signature */
	assert_int_not_equal(baton_card_parse(cb, clen, &card), 0);
	cb[clen - 70] ^= 1;

	/* Signed here: the signature is kept as made, and a changed copy is still refused. */
	memset(&h, 0, sizeof(h));
	h.count = 7;
	memset(h.head, 0x42, sizeof(h.head));
	memcpy(h.key, baton_key_id_pk(a), BATON_PK_BYTES);
	h.time = 1700000000;
	assert_int_equal(baton_audit_head_sign(&h, baton_key_id_sk(a), &hb, &hlen), 0);
	assert_int_equal(baton_audit_head_parse(hb, hlen, &got), 0);
	assert_int_equal(got.count, 7);
	hb[hlen - 1] ^= 1;
	assert_int_equal(baton_audit_head_parse(hb, hlen, &got), BATON_EBADSIG);
	hb[hlen - 1] ^= 1;
	free(hb);

	/* More heads than the signatures kept: the first is verified again, and holds. */
	for (uint64_t i = 1; i <= 300; i++) {
		h.count = i;
		assert_int_equal(baton_audit_head_sign(&h, baton_key_id_sk(a), &hb, &hlen), 0);
		assert_int_equal(baton_audit_head_parse(hb, hlen, &got), 0);
		if (i == 1) {
			first = hb;
			flen = hlen;
		} else {
			free(hb);
		}
	}
	assert_int_equal(baton_audit_head_parse(first, flen, &got), 0);
	assert_int_equal(got.count, 1);
	first[flen - 1] ^= 1;
	assert_int_equal(baton_audit_head_parse(first, flen, &got), BATON_EBADSIG);
	assert_int_equal(baton_card_parse(cb, clen, &card), 0);
	free(first);

	/*
	 * A seed with another key's public half signs what that key's holder
	 * never signed: the signature does not verify under it, and must not be
	 * remembered as if it did.
	 */
	baton_key *b = tu_key(BATON_KEY_SCHOOL, 2);
	uint8_t *mixed = sodium_malloc(BATON_SK_BYTES), *mb;
	size_t mlen;
	assert_non_null(mixed);
	memcpy(mixed, baton_key_id_sk(a), 32);
	memcpy(mixed + 32, baton_key_id_pk(b), BATON_PK_BYTES);
	card.valid_from += 1;
	memcpy(card.id_pk, baton_key_id_pk(b), BATON_PK_BYTES);
	assert_int_equal(baton_card_sign(&card, mixed, &mb, &mlen), 0);
	assert_int_equal(baton_card_parse(mb, mlen, &card), BATON_EBADSIG);
	free(mb);
	sodium_free(mixed);
	baton_key_free(b);
	free(cb);
	baton_key_free(a);
}

static void test_disclosures_largest(void **state)
{
	baton_key *a = tu_key(BATON_KEY_SCHOOL, 1), *b = tu_key(BATON_KEY_SCHOOL, 2);
	size_t n = BATON_DISCLOSURES_MAX_ENTRIES + 1, len, hlen;
	baton_disclosure *x = calloc(n, sizeof(*x));
	baton_disclosures d, got;
	baton_audit_head h;
	uint8_t *head, *out;
	(void)state;

	assert_non_null(x);
	memset(&h, 0, sizeof(h));
	h.count = UINT64_MAX;
	memcpy(h.key, baton_key_id_pk(a), 32);
	h.time = TU_NOW;
	assert_int_equal(baton_audit_head_sign(&h, baton_key_id_sk(a), &head, &hlen), 0);
	for (size_t i = 0; i < n; i++) {
		x[i].seq = UINT64_MAX - n + i; /* every one a uint64 */
		memset(x[i].hash, (int)(i & 0xff), 32);
		x[i].time = UINT64_MAX - n + i;
		snprintf(x[i].basis, sizeof(x[i].basis), "%s", "enrolment");
		memset(x[i].by, 'b', BATON_BY_MAX);
		x[i].has_consent = x[i].has_packet = x[i].has_packet_hash = x[i].has_to = 1;
		memset(x[i].consent, 0xc0, 16);
		memset(x[i].packet, 0xd0, 16);
		memset(x[i].packet_hash, 0xe0, 32);
		snprintf(x[i].receipt, sizeof(x[i].receipt), "%s", "received");
		x[i].sections = (1u << BATON_SEC_COUNT) - 1;
		memcpy(x[i].to, baton_key_id_pk(b), 32);
		memset(x[i].to_code, 'C', BATON_CODE_MAX);
		memset(x[i].to_name, 'n', BATON_NAME_MAX);
	}
	memset(&d, 0, sizeof(d));
	memcpy(d.audit, head, hlen);
	d.audit_len = hlen;
	memset(d.code, 'L', BATON_CODE_MAX);
	memset(d.name, 'N', BATON_NAME_MAX);
	memcpy(d.school, baton_key_id_pk(a), 32);
	memset(d.student, 's', BATON_STUDENT_MAX);
	d.time = TU_NOW;
	d.entry = x;
	d.count = n;
	assert_int_equal(baton_disclosures_make(&d, baton_key_id_sk(a), &out, &len), BATON_EVALUE);
	assert_null(out);
	d.count = n - 1;
	assert_int_equal(baton_disclosures_make(&d, baton_key_id_sk(a), &out, &len), 0);
	/* As PROTOCOL.md 3.13 counts it: 4096 entries of 649 bytes in an array16. */
	size_t elen = (size_t)out[8] << 24 | (size_t)out[9] << 16 | (size_t)out[10] << 8 | out[11];
	assert_int_equal(len - BATON_DISCLOSURES_PREFIX - elen, 3 + 649 * (n - 1));
	assert_int_equal(baton_disclosures_parse(out, len, &got), 0);
	assert_int_equal(got.count, n - 1);
	assert_memory_equal(got.entry, x, (n - 1) * sizeof(*x));
	assert_string_equal(got.student, d.student);
	assert_string_equal(got.name, d.name);
	assert_int_equal(got.head.count, h.count);
	baton_disclosures_free(&got);
	assert_null(got.entry);
	free(out);

	/* Refused at making, as the reader would: nothing made. */
	d.count = 2;
	snprintf(x[1].basis, sizeof(x[1].basis), "%s", "interest");
	assert_int_equal(baton_disclosures_make(&d, baton_key_id_sk(a), &out, &len), BATON_EVALUE);
	assert_null(out);
	snprintf(x[1].basis, sizeof(x[1].basis), "%s", "consent");
	x[1].seq = x[0].seq;
	assert_int_equal(baton_disclosures_make(&d, baton_key_id_sk(a), &out, &len), BATON_EVALUE);
	assert_null(out);
	x[1].seq = 0;
	assert_int_equal(baton_disclosures_make(&d, baton_key_id_sk(a), &out, &len), BATON_EVALUE);
	x[1].seq = x[0].seq + 1;
	x[1].to_name[3] = '\n';
	assert_int_equal(baton_disclosures_make(&d, baton_key_id_sk(a), &out, &len), BATON_EVALUE);
	x[1].to_name[3] = 'n';
	x[1].sections = 0;
	assert_int_equal(baton_disclosures_make(&d, baton_key_id_sk(a), &out, &len), BATON_EVALUE);
	x[1].sections = SEC(IDENTITY);
	/* The head of another school's log. */
	memcpy(h.key, baton_key_id_pk(b), 32);
	free(head);
	assert_int_equal(baton_audit_head_sign(&h, baton_key_id_sk(b), &head, &hlen), 0);
	memcpy(d.audit, head, hlen);
	assert_int_equal(baton_disclosures_make(&d, baton_key_id_sk(a), &out, &len), BATON_EVALUE);
	assert_null(out);
	free(head);
	free(x);
	baton_key_free(a);
	baton_key_free(b);
}

/* Signs a directory of the given cards and withdrawn keys with authority key ak. */
static int dir_sign(const baton_key *ak, const char *name, uint64_t version, uint8_t **cards,
                    size_t *lens, size_t n, const uint8_t *w, size_t nw, uint8_t **out, size_t *len)
{
	return baton_directory_sign(name, version, TU_NOW - TU_DAY, TU_NOW + 30 * TU_DAY,
	                            (const uint8_t *const *)cards, lens, n, w, nw,
	                            baton_key_id_sk(ak), out, len);
}

static void test_directory(void **state)
{
	baton_key *ak = tu_key(BATON_KEY_AUTHORITY, 9);
	baton_key *s[5];
	static const char *const codes[3] = {"RHS-002", "LHS-001", "MHS-003"};
	uint8_t *cards[4], *out, w[2 * 32], h[32];
	size_t lens[4], len;
	baton_directory d;
	baton_card card;
	(void)state;

	for (int i = 0; i < 5; i++)
		s[i] = tu_key(BATON_KEY_SCHOOL, (uint8_t)(i + 1));
	for (int i = 0; i < 3; i++)
		tu_card(s[i], "A School", codes[i], &cards[i], &lens[i]);
	/* Withdrawn keys given out of order: signing sorts them. */
	const uint8_t *k3 = baton_key_id_pk(s[3]), *k4 = baton_key_id_pk(s[4]);
	int k3_first = memcmp(k3, k4, 32) < 0;
	memcpy(w, k3_first ? k4 : k3, 32);
	memcpy(w + 32, k3_first ? k3 : k4, 32);
	assert_int_equal(dir_sign(ak, "State Board", 7, cards, lens, 3, w, 2, &out, &len), 0);
	assert_int_equal(baton_directory_parse(out, len, &d), 0);
	assert_memory_equal(d.authority, baton_key_id_pk(ak), 32);
	assert_string_equal(d.name, "State Board");
	assert_int_equal(d.version, 7);
	assert_int_equal(d.issued, TU_NOW - TU_DAY);
	assert_int_equal(d.expires, TU_NOW + 30 * TU_DAY);
	assert_int_equal(d.n_members, 3);
	assert_string_equal(d.members[0].parsed.code, "LHS-001");
	assert_string_equal(d.members[1].parsed.code, "MHS-003");
	assert_string_equal(d.members[2].parsed.code, "RHS-002");
	assert_int_equal(d.members[0].card_len, lens[1]);
	assert_memory_equal(d.members[0].card, cards[1], lens[1]);
	assert_true(d.members[0].card >= out && d.members[0].card + lens[1] <= out + len);
	assert_memory_equal(d.members[2].parsed.id_pk, baton_key_id_pk(s[0]), 32);
	assert_int_equal(d.n_withdrawn, 2);
	assert_memory_equal(d.withdrawn, k3_first ? k3 : k4, 32);
	assert_memory_equal(d.withdrawn + 32, k3_first ? k4 : k3, 32);
	crypto_generichash(h, 32, out, len, NULL, 0);
	assert_memory_equal(d.hash, h, 32);
	baton_directory_free(&d);
	assert_null(d.members);
	baton_directory_free(NULL);
	/* A directory is no card, and a card no directory. */
	assert_int_equal(baton_card_parse(out, len, &card), BATON_EMAGIC);
	assert_int_equal(baton_directory_parse(cards[0], lens[0], &d), BATON_EMAGIC);
	/* The cheap checks before a full parse: the authority read from the head, its signature. */
	uint8_t apk[32];
	assert_int_equal(baton_directory_authority(out, len, apk), 0);
	assert_memory_equal(apk, baton_key_id_pk(ak), 32);
	assert_int_equal(baton_directory_verify_signature(out, len, apk), 0);
	assert_int_equal(baton_directory_verify_signature(out, len, k3), BATON_EBADSIG);
	assert_int_equal(baton_directory_authority(cards[0], lens[0], apk), BATON_EMAGIC);
	/* A cut envelope: the same error as the full parse gives. */
	int cut = baton_directory_parse(out, len - 1, &d);
	assert_true(cut < 0);
	assert_int_equal(baton_directory_authority(out, len - 1, apk), cut);
	/* The authority's signature covers the body. */
	out[len - 1] ^= 1;
	assert_int_equal(baton_directory_parse(out, len, &d), BATON_EBADSIG);
	assert_int_equal(baton_directory_verify_signature(out, len, baton_key_id_pk(ak)),
	                 BATON_EBADSIG);
	assert_null(d.members);
	free(out);

	/* Empty. */
	assert_int_equal(dir_sign(ak, "State Board", 1, NULL, NULL, 0, NULL, 0, &out, &len), 0);
	assert_int_equal(baton_directory_parse(out, len, &d), 0);
	assert_int_equal(d.n_members, 0);
	assert_null(d.members);
	assert_int_equal(d.n_withdrawn, 0);
	free(out);

	/* Refused at signing, as a node would refuse it: nothing made. */
	tu_card(s[3], "Another", "LHS-001", &cards[3], &lens[3]);
	assert_int_equal(dir_sign(ak, "B", 1, cards, lens, 4, NULL, 0, &out, &len), BATON_EVALUE);
	assert_non_null(strstr(baton_diag(), "\"LHS-001\" twice"));
	assert_null(out);
	free(cards[3]);
	tu_card(s[3], "Another", "ZHS-001", &cards[3], &lens[3]);
	assert_int_equal(dir_sign(ak, "B", 1, cards, lens, 4, w, 2, &out, &len), BATON_EVALUE);
	assert_non_null(strstr(baton_diag(), "withdrawn"));
	assert_null(out);
	memcpy(w + 32, w, 32);
	assert_int_equal(dir_sign(ak, "B", 1, cards, lens, 3, w, 2, &out, &len), BATON_ENONCANON);
	assert_null(out);
	assert_int_equal(dir_sign(ak, "B", 0, cards, lens, 3, NULL, 0, &out, &len), BATON_EVALUE);
	assert_int_equal(dir_sign(ak, "", 1, cards, lens, 3, NULL, 0, &out, &len), BATON_EVALUE);
	char longname[130];
	memset(longname, 'n', 129);
	longname[129] = 0;
	assert_int_equal(dir_sign(ak, longname, 1, cards, lens, 3, NULL, 0, &out, &len),
	                 BATON_EVALUE);
	longname[128] = 0;
	assert_int_equal(dir_sign(ak, longname, 1, cards, lens, 3, NULL, 0, &out, &len), 0);
	free(out);
	assert_int_equal(baton_directory_sign("B", 1, TU_NOW, TU_NOW, NULL, NULL, 0, NULL, 0,
	                                      baton_key_id_sk(ak), &out, &len),
	                 BATON_EVALUE);
	assert_non_null(strstr(baton_diag(), "directory.expires"));
	memset(w, 0, 32); /* not a valid key */
	assert_int_equal(dir_sign(ak, "B", 1, cards, lens, 3, w, 1, &out, &len), BATON_EBADKEY);
	cards[3][lens[3] - 1] ^= 1; /* a forged card */
	assert_int_equal(dir_sign(ak, "B", 1, cards, lens, 4, NULL, 0, &out, &len), BATON_EBADSIG);
	assert_non_null(strstr(baton_diag(), "directory.members[3]: card.signature"));
	assert_null(out);
	for (int i = 0; i < 4; i++)
		free(cards[i]);
	for (int i = 0; i < 5; i++)
		baton_key_free(s[i]);
	baton_key_free(ak);
}

/* A directory larger than any other signed object: its body is a bin32. */
static void test_directory_large(void **state)
{
	enum { N = 400 };
	baton_key *ak = tu_key(BATON_KEY_AUTHORITY, 9);
	uint8_t **cards = calloc(N, sizeof(*cards)), *out;
	size_t *lens = calloc(N, sizeof(*lens)), len;
	uint8_t *w = malloc(N * 32);
	baton_directory d;
	(void)state;

	assert_non_null(cards);
	assert_non_null(lens);
	assert_non_null(w);
	for (size_t i = 0; i < N; i++) {
		baton_key *k, *x;
		char code[16];
		assert_int_equal(baton_key_generate(BATON_KEY_SCHOOL, &k), 0);
		assert_int_equal(baton_key_generate(BATON_KEY_GUARDIAN, &x), 0);
		snprintf(code, sizeof(code), "S-%04zu", N - i);
		tu_card(k, "A School With A Longer Name Than Most", code, &cards[i], &lens[i]);
		memcpy(w + 32 * i, baton_key_id_pk(x), 32);
		baton_key_free(k);
		baton_key_free(x);
	}
	assert_int_equal(dir_sign(ak, "State Board", 3, cards, lens, N, w, N, &out, &len), 0);
	assert_true(len > 65536 + 80);
	assert_int_equal(out[1], BATON_OBJ_DIRECTORY);
	assert_int_equal(out[2], 0xc6); /* bin32 */
	assert_int_equal(baton_directory_parse(out, len, &d), 0);
	assert_int_equal(d.n_members, N);
	assert_int_equal(d.n_withdrawn, N);
	assert_string_equal(d.members[0].parsed.code, "S-0001");
	assert_string_equal(d.members[N - 1].parsed.code, "S-0400");
	for (size_t i = 1; i < N; i++)
		assert_true(memcmp(d.withdrawn + 32 * (i - 1), d.withdrawn + 32 * i, 32) < 0);
	baton_directory_free(&d);
	/* Every other signed object stops at 16384 bytes. */
	baton_card c;
	assert_int_equal(baton_card_parse(out, len, &c), BATON_ETOOBIG);
	free(out);
	assert_int_equal(
	    dir_sign(ak, "B", 1, cards, lens, BATON_DIRECTORY_MEMBERS_MAX + 1, NULL, 0, &out, &len),
	    BATON_EVALUE);
	assert_null(out);
	for (size_t i = 0; i < N; i++)
		free(cards[i]);
	free(cards);
	free(lens);
	free(w);
	baton_key_free(ak);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_card_round_trip),
	    cmocka_unit_test(test_consent_round_trip),
	    cmocka_unit_test(test_revocation_round_trip),
	    cmocka_unit_test(test_receipt_round_trip),
	    cmocka_unit_test(test_validity),
	    cmocka_unit_test(test_object_type_garbage),
	    cmocka_unit_test(test_disclosures_largest),
	    cmocka_unit_test(test_directory),
	    cmocka_unit_test(test_directory_large),
	    cmocka_unit_test(test_verified_again),
	};
	if (baton_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
