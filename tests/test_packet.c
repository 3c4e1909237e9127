/*
 * Sealed packets: round trips (byte-identical sections and attachments,
 * including a 50 MB attachment through a file with bounded buffers), and
 * each receiver check refusing what it should.
 */
#include <fcntl.h>
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

#include "testutil.h"

#define SEC(s) BATON_SEC_BIT(BATON_SEC_##s)

struct fixture {
	baton_key *a, *b, *c, *g, *g2;
	uint8_t *consent;
	size_t consent_len;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	baton_consent c;
	f->a = tu_key(BATON_KEY_SCHOOL, 1);
	f->b = tu_key(BATON_KEY_SCHOOL, 2);
	f->c = tu_key(BATON_KEY_SCHOOL, 4);
	f->g = tu_key(BATON_KEY_GUARDIAN, 3);
	f->g2 = tu_key(BATON_KEY_GUARDIAN, 5);
	tu_consent_fill(&c, f->g, f->a, f->b, SEC(IDENTITY) | SEC(TRANSCRIPT));
	tu_consent_sign(&c, f->g, &f->consent, &f->consent_len);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	baton_key_free(f->a), baton_key_free(f->b), baton_key_free(f->c);
	baton_key_free(f->g), baton_key_free(f->g2);
	free(f->consent);
	free(f);
	return 0;
}

static int collect(void *ctx, const uint8_t *buf, size_t len)
{
	return tu_buf_write(ctx, buf, len);
}

static void test_round_trip(void **state)
{
	struct fixture *f = *state;
	size_t sizes[] = {1234, 0, BATON_CHUNK_BYTES, 2 * BATON_CHUNK_BYTES + 1};
	tu_transfer t;
	tu_buf pkt = {0};
	baton_packet_info sent;
	baton_source src;
	baton_opened *o;
	baton_open_params op = tu_open_params(f->b, TU_NOW);

	tu_transfer_init(&t, f->consent, f->consent_len, f->g, 4, sizes);
	assert_int_equal(tu_seal(&t, f->a, f->b, &pkt, &sent), 0);
	assert_int_equal(sent.len, pkt.len);
	baton_source_mem(&src, pkt.p, pkt.len);
	assert_int_equal(baton_packet_open(&src, &op, &o), 0);

	const baton_body *got = baton_opened_body(o);
	const baton_header *h = baton_opened_header(o);
	assert_int_equal(h->kind, BATON_KIND_TRANSFER);
	assert_memory_equal(h->sender, baton_key_id_pk(f->a), 32);
	assert_memory_equal(baton_opened_info(o)->hash, sent.hash, BATON_HASH_BYTES);
	assert_memory_equal(baton_opened_info(o)->id, sent.id, BATON_ID_BYTES);
	assert_string_equal(got->student, "S-1001");
	assert_string_equal(got->state_id, "ST-4410-2291");
	for (int s = 0; s < BATON_SEC_COUNT; s++) {
		assert_int_equal(got->section_len[s], t.body.section_len[s]);
		if (t.body.section[s])
			assert_memory_equal(got->section[s], t.body.section[s],
			                    t.body.section_len[s]);
		else
			assert_null(got->section[s]);
	}
	assert_int_equal(got->n_guardians, 1);
	assert_memory_equal(got->guardians[0], baton_key_id_pk(f->g), 32);
	assert_int_equal(got->n_attachments, 4);
	for (size_t i = 0; i < 4; i++) {
		tu_buf plain = {0};
		assert_string_equal(got->attachments[i].name, t.atts[i].name);
		assert_int_equal(got->attachments[i].size, sizes[i]);
		assert_int_equal(baton_opened_attachment(o, i, collect, &plain), 0);
		assert_int_equal(plain.len, sizes[i]);
		if (sizes[i])
			assert_memory_equal(plain.p, t.att_data[i], sizes[i]);
		tu_buf_free(&plain);
	}
	/* Attachments can be read in any order, and again. */
	tu_buf again = {0};
	assert_int_equal(baton_opened_attachment(o, 0, collect, &again), 0);
	assert_memory_equal(again.p, t.att_data[0], sizes[0]);
	tu_buf_free(&again);
	assert_int_equal(baton_opened_attachment(o, 4, collect, &again), BATON_EINVAL);
	assert_string_equal(baton_opened_consent(o)->student, "S-1001");
	baton_opened_free(o);

	/* Sealing twice gives different packets (fresh ephemeral key, id and nonce). */
	tu_buf pkt2 = {0};
	baton_packet_info sent2;
	assert_int_equal(tu_seal(&t, f->a, f->b, &pkt2, &sent2), 0);
	assert_memory_not_equal(sent.id, sent2.id, BATON_ID_BYTES);
	assert_memory_not_equal(sent.hash, sent2.hash, BATON_HASH_BYTES);
	tu_buf_free(&pkt2);
	tu_buf_free(&pkt);
	tu_transfer_free(&t);
}

static void test_peek(void **state)
{
	struct fixture *f = *state;
	tu_transfer t;
	tu_buf pkt = {0};
	baton_source src;
	baton_header h;

	tu_transfer_init(&t, f->consent, f->consent_len, f->g, 0, NULL);
	assert_int_equal(tu_seal(&t, f->a, f->b, &pkt, NULL), 0);
	baton_source_mem(&src, pkt.p, pkt.len);
	assert_int_equal(baton_packet_peek(&src, &h), 0);
	assert_memory_equal(h.sender, baton_key_id_pk(f->a), 32);
	assert_memory_equal(h.recipient, baton_key_id_pk(f->b), 32);
	assert_int_equal(h.created, TU_NOW);
	assert_int_equal(h.expires, TU_NOW + 7 * TU_DAY);
	/* A prefix declaring an empty header, and one declaring more than 512 bytes. */
	uint8_t bad[8] = {'B', 'T', 'N', 'P', 1, 1, 0, 0};
	baton_source bsrc;
	baton_source_mem(&bsrc, bad, sizeof(bad));
	assert_int_equal(baton_packet_peek(&bsrc, &h), BATON_EVALUE);
	bad[6] = 2, bad[7] = 1; /* 513 */
	assert_int_equal(baton_packet_peek(&bsrc, &h), BATON_ETOOBIG);
	tu_buf_free(&pkt);
	tu_transfer_free(&t);
}

static void test_wrong_recipient_and_time(void **state)
{
	struct fixture *f = *state;
	tu_transfer t;
	tu_buf pkt = {0};
	baton_source src;
	baton_opened *o = NULL;

	tu_transfer_init(&t, f->consent, f->consent_len, f->g, 0, NULL);
	assert_int_equal(tu_seal(&t, f->a, f->b, &pkt, NULL), 0);
	baton_source_mem(&src, pkt.p, pkt.len);

	baton_open_params op = tu_open_params(f->c, TU_NOW);
	assert_int_equal(baton_packet_open(&src, &op, &o), BATON_EWRONGRCPT);
	assert_null(o);
	/* Even the sender cannot open what it sealed for someone else. */
	op = tu_open_params(f->a, TU_NOW);
	assert_int_equal(baton_packet_open(&src, &op, &o), BATON_EWRONGRCPT);

	op = tu_open_params(f->b, TU_NOW + 7 * TU_DAY + 1);
	assert_int_equal(baton_packet_open(&src, &op, &o), BATON_EEXPIRED);
	op = tu_open_params(f->b, TU_NOW + 7 * TU_DAY);
	assert_int_equal(baton_packet_open(&src, &op, &o), 0);
	baton_opened_free(o);
	op = tu_open_params(f->b, TU_NOW - TU_SKEW - 1);
	assert_int_equal(baton_packet_open(&src, &op, &o), BATON_ENOTYET);
	op = tu_open_params(f->b, TU_NOW - TU_SKEW);
	assert_int_equal(baton_packet_open(&src, &op, &o), 0);
	baton_opened_free(o);
	tu_buf_free(&pkt);
	tu_transfer_free(&t);
}

/*
 * Who signed a packet, without keys or a clock: the sender's signature
 * verifies, and no longer does with any byte changed or cut.
 */
static void test_verify(void **state)
{
	struct fixture *f = *state;
	tu_transfer t;
	tu_buf pkt = {0};
	baton_source src;
	baton_header h;

	tu_transfer_init(&t, f->consent, f->consent_len, f->g, 0, NULL);
	assert_int_equal(tu_seal(&t, f->a, f->b, &pkt, NULL), 0);
	baton_source_mem(&src, pkt.p, pkt.len);
	assert_int_equal(baton_packet_verify(&src, &h), 0);
	assert_memory_equal(h.sender, baton_key_id_pk(f->a), 32);
	for (size_t i = 0; i < pkt.len; i++) {
		pkt.p[i] ^= 1;
		assert_int_not_equal(baton_packet_verify(&src, &h), 0);
		pkt.p[i] ^= 1;
	}
	for (size_t n = 0; n < pkt.len; n++) {
		baton_source cut;
		baton_source_mem(&cut, pkt.p, n);
		assert_int_not_equal(baton_packet_verify(&cut, &h), 0);
	}
	/* Step 5's error, where opening would report it too. */
	pkt.p[pkt.len - 1] ^= 1;
	assert_int_equal(baton_packet_verify(&src, &h), BATON_EBADSIG);
	tu_buf_free(&pkt);
	tu_transfer_free(&t);
}

/* Seals the fixture with a consent c' (changed by the caller) and expects err on opening. */
static void expect_consent(struct fixture *f, const baton_consent *c, const baton_key *signer,
                           void (*tweak)(tu_transfer *), int err, const char *diag_part)
{
	uint8_t *consent;
	size_t clen;
	tu_transfer t;
	tu_buf pkt = {0};

	tu_consent_sign(c, signer, &consent, &clen);
	tu_transfer_init(&t, consent, clen, f->g, 0, NULL);
	if (tweak)
		tweak(&t);
	/*
	 * The sender refuses to seal what the receiver would refuse; that the
	 * receiver refuses it too is shown by the packet-consent-* vectors,
	 * which are sealed by an independent implementation.
	 */
	int r = tu_seal(&t, f->a, f->b, &pkt, NULL);
	if (err == 0) {
		assert_int_equal(r, 0);
		assert_int_equal(tu_open_all(pkt.p, pkt.len, f->b), 0);
	} else {
		assert_int_equal(r, err);
	}
	if (diag_part && strstr(baton_diag(), diag_part) == NULL)
		fail_msg("diagnostic \"%s\" does not mention \"%s\"", baton_diag(), diag_part);
	tu_buf_free(&pkt);
	tu_transfer_free(&t);
	free(consent);
}

static void add_health(tu_transfer *t)
{
	t->body.section[BATON_SEC_HEALTH] = (const uint8_t *)tu_health;
	t->body.section_len[BATON_SEC_HEALTH] = strlen(tu_health);
}

static void other_student(tu_transfer *t)
{
	snprintf(t->body.student, sizeof(t->body.student), "S-2002");
}

static void test_consent_coverage(void **state)
{
	struct fixture *f = *state;
	baton_consent c;

	/* Accepted as is. */
	tu_consent_fill(&c, f->g, f->a, f->b, SEC(IDENTITY) | SEC(TRANSCRIPT));
	expect_consent(f, &c, f->g, NULL, 0, NULL);
	/* Identity always travels even when the consent does not list it. */
	tu_consent_fill(&c, f->g, f->a, f->b, SEC(TRANSCRIPT));
	expect_consent(f, &c, f->g, NULL, 0, NULL);
	/* A sensitive section that was not consented. */
	tu_consent_fill(&c, f->g, f->a, f->b, SEC(IDENTITY) | SEC(TRANSCRIPT));
	expect_consent(f, &c, f->g, add_health, BATON_ECONSENT, "health");
	/* ...and accepted once named. */
	tu_consent_fill(&c, f->g, f->a, f->b, SEC(IDENTITY) | SEC(TRANSCRIPT) | SEC(HEALTH));
	expect_consent(f, &c, f->g, add_health, 0, NULL);
	/* Consent for another student. */
	tu_consent_fill(&c, f->g, f->a, f->b, SEC(IDENTITY) | SEC(TRANSCRIPT));
	expect_consent(f, &c, f->g, other_student, BATON_ECONSENT, "S-1001");
	/* Consent naming another receiving school. */
	tu_consent_fill(&c, f->g, f->a, f->c, SEC(IDENTITY) | SEC(TRANSCRIPT));
	expect_consent(f, &c, f->g, NULL, BATON_ECONSENT, "receiving");
	/* Consent naming another sending school. */
	tu_consent_fill(&c, f->g, f->c, f->b, SEC(IDENTITY) | SEC(TRANSCRIPT));
	expect_consent(f, &c, f->g, NULL, BATON_ECONSENT, "sending");
	/* Consent expired before the packet was made. */
	tu_consent_fill(&c, f->g, f->a, f->b, SEC(IDENTITY) | SEC(TRANSCRIPT));
	c.issued = TU_NOW - 10 * TU_DAY;
	c.expires = TU_NOW - TU_DAY;
	expect_consent(f, &c, f->g, NULL, BATON_ECONSENT, "not valid");
	/* Signed by a key that is not among the guardians the packet lists. */
	tu_consent_fill(&c, f->g2, f->a, f->b, SEC(IDENTITY) | SEC(TRANSCRIPT));
	expect_consent(f, &c, f->g2, NULL, BATON_ECONSENT, "guardians");
}

static const char custody_json[] =
    "[{\"name\":\"Pat Doe\",\"restriction\":\"May not pick up the student\"}]";
static const char graduation_json[] = "{\"credits_earned\":21.5,\"expected_year\":2027}";
static const char s504_json[] = "{\"eligible\":true}";

/* Record schema version 2's sections: custody, graduation and section_504 with identity. */
static void add_v2(tu_transfer *t)
{
	t->body.section[BATON_SEC_TRANSCRIPT] = NULL, t->body.section_len[BATON_SEC_TRANSCRIPT] = 0;
	t->body.section[BATON_SEC_CUSTODY] = (const uint8_t *)custody_json;
	t->body.section_len[BATON_SEC_CUSTODY] = strlen(custody_json);
	t->body.section[BATON_SEC_GRADUATION] = (const uint8_t *)graduation_json;
	t->body.section_len[BATON_SEC_GRADUATION] = strlen(graduation_json);
	t->body.section[BATON_SEC_SECTION_504] = (const uint8_t *)s504_json;
	t->body.section_len[BATON_SEC_SECTION_504] = strlen(s504_json);
}

static void add_homeless(tu_transfer *t)
{
	add_v2(t);
	t->body.section[BATON_SEC_HOMELESS] = (const uint8_t *)"{\"begin_date\":\"2026-09-01\"}";
	t->body.section_len[BATON_SEC_HOMELESS] = strlen("{\"begin_date\":\"2026-09-01\"}");
}

/*
 * The sections added after version 1 travel like the others: the map's keys
 * in bytewise name order (custody before identity, section_504 before
 * transcript), each byte for byte, and each only when the consent names it.
 */
static void test_v2_sections(void **state)
{
	struct fixture *f = *state;
	baton_consent c;
	uint8_t *consent;
	size_t clen;
	tu_transfer t;
	tu_buf pkt = {0};
	baton_source src;
	baton_opened *o;
	baton_open_params op = tu_open_params(f->b, TU_NOW);

	tu_consent_fill(&c, f->g, f->a, f->b, SEC(CUSTODY) | SEC(GRADUATION) | SEC(SECTION_504));
	tu_consent_sign(&c, f->g, &consent, &clen);
	tu_transfer_init(&t, consent, clen, f->g, 0, NULL);
	add_v2(&t);
	assert_int_equal(tu_seal(&t, f->a, f->b, &pkt, NULL), 0);
	baton_source_mem(&src, pkt.p, pkt.len);
	assert_int_equal(baton_packet_open(&src, &op, &o), 0);
	const baton_body *got = baton_opened_body(o);
	for (int s = 0; s < BATON_SEC_COUNT; s++) {
		assert_int_equal(got->section_len[s], t.body.section_len[s]);
		if (t.body.section[s])
			assert_memory_equal(got->section[s], t.body.section[s],
			                    t.body.section_len[s]);
		else
			assert_null(got->section[s]);
	}
	baton_opened_free(o);
	tu_buf_free(&pkt);
	tu_transfer_free(&t);
	free(consent);

	/* A sensitive new section the consent does not name is refused, by name. */
	expect_consent(f, &c, f->g, add_v2, 0, NULL);
	expect_consent(f, &c, f->g, add_homeless, BATON_ECONSENT, "homeless");
	/* Graduation is not sensitive, but like every section it needs the consent. */
	tu_consent_fill(&c, f->g, f->a, f->b, SEC(CUSTODY) | SEC(SECTION_504));
	expect_consent(f, &c, f->g, add_v2, BATON_ECONSENT, "graduation");

	/* A request for new sections: want travels and opens as it was asked. */
	baton_body body;
	tu_consent_fill(&c, f->g, f->a, f->b,
	                SEC(CUSTODY) | SEC(ENGLISH_LEARNER) | SEC(SECTION_504) | SEC(TRANSCRIPT));
	tu_consent_sign(&c, f->g, &consent, &clen);
	memset(&body, 0, sizeof(body));
	body.consent = consent;
	body.consent_len = clen;
	body.requested_mask = SEC(CUSTODY) | SEC(SECTION_504) | SEC(TRANSCRIPT);
	baton_seal_params p = {BATON_KIND_REQUEST,
	                       TU_NOW,
	                       TU_NOW + TU_DAY,
	                       baton_key_id_sk(f->b),
	                       baton_key_id_pk(f->a),
	                       baton_key_enc_pk(f->a),
	                       NULL};
	assert_int_equal(baton_packet_seal(&p, &body, NULL, tu_buf_write, &pkt, NULL), 0);
	op = tu_open_params(f->a, TU_NOW);
	baton_source_mem(&src, pkt.p, pkt.len);
	assert_int_equal(baton_packet_open(&src, &op, &o), 0);
	assert_int_equal(baton_opened_body(o)->requested_mask,
	                 SEC(CUSTODY) | SEC(SECTION_504) | SEC(TRANSCRIPT));
	baton_opened_free(o);
	tu_buf_free(&pkt);
	body.requested_mask = SEC(CUSTODY) | SEC(HOMELESS);
	assert_int_equal(baton_packet_seal(&p, &body, NULL, tu_buf_write, &pkt, NULL),
	                 BATON_ECONSENT);
	assert_non_null(strstr(baton_diag(), "homeless"));
	assert_int_equal(pkt.len, 0);
	free(consent);
}

/* Seals consent c (signed by the fixture's guardian) from a to b, knowing former; opens it with
 * open_former. */
static void former_round(struct fixture *f, const baton_consent *c,
                         const baton_former_keys *seal_former, const baton_former_keys *open_former,
                         int seal_err, int open_err)
{
	uint8_t *consent;
	size_t clen;
	tu_transfer t;
	tu_buf pkt = {0};
	baton_source src;
	baton_opened *o = NULL;
	baton_seal_params p = {BATON_KIND_TRANSFER,
	                       TU_NOW,
	                       TU_NOW + 7 * TU_DAY,
	                       baton_key_id_sk(f->a),
	                       baton_key_id_pk(f->b),
	                       baton_key_enc_pk(f->b),
	                       NULL};
	baton_open_params op = tu_open_params(f->b, TU_NOW);

	tu_consent_sign(c, f->g, &consent, &clen);
	tu_transfer_init(&t, consent, clen, f->g, 0, NULL);
	assert_int_equal(
	    baton_packet_seal_former(&p, seal_former, &t.body, t.readers, tu_buf_write, &pkt, NULL),
	    seal_err);
	if (seal_err == 0) {
		baton_source_mem(&src, pkt.p, pkt.len);
		assert_int_equal(baton_packet_open_former(&src, &op, open_former, &o), open_err);
		baton_opened_free(o);
	}
	tu_buf_free(&pkt);
	tu_transfer_free(&t);
	free(consent);
}

static void test_consent_former_keys(void **state)
{
	struct fixture *f = *state;
	baton_consent c;
	/* The receiving school held key c until it rotated to b an hour ago. */
	baton_former_key was_c = {{0}, TU_NOW - 3600};
	memcpy(was_c.pk, baton_key_id_pk(f->c), BATON_PK_BYTES);
	baton_former_keys to_c = {NULL, 0, &was_c, 1}, from_c = {&was_c, 1, NULL, 0};

	/* A consent signed a day ago naming c: only with the rotation known, at both ends. */
	tu_consent_fill(&c, f->g, f->a, f->c, SEC(IDENTITY) | SEC(TRANSCRIPT));
	former_round(f, &c, NULL, NULL, BATON_ECONSENT, 0);
	former_round(f, &c, &to_c, &to_c, 0, 0);
	former_round(f, &c, &to_c, NULL, 0, BATON_ECONSENT);
	assert_non_null(strstr(baton_diag(), "receiving"));
	/* A former key of the other school does not stand for this one. */
	former_round(f, &c, &from_c, NULL, BATON_ECONSENT, 0);
	/* Issued after the rotation: it must name the new key. */
	c.issued = TU_NOW - 60;
	former_round(f, &c, &to_c, &to_c, BATON_ECONSENT, 0);
	/* The same for the sending school. */
	tu_consent_fill(&c, f->g, f->c, f->b, SEC(IDENTITY) | SEC(TRANSCRIPT));
	former_round(f, &c, &from_c, &from_c, 0, 0);
	former_round(f, &c, &from_c, &to_c, 0, BATON_ECONSENT);
	assert_non_null(strstr(baton_diag(), "sending"));
}

static void test_request_round_trip(void **state)
{
	struct fixture *f = *state;
	baton_body body;
	tu_buf pkt = {0};
	baton_source src;
	baton_opened *o;

	memset(&body, 0, sizeof(body));
	body.consent = f->consent;
	body.consent_len = f->consent_len;
	body.requested_mask = SEC(TRANSCRIPT) | SEC(IDENTITY);
	baton_seal_params p = {BATON_KIND_REQUEST,
	                       TU_NOW,
	                       TU_NOW + TU_DAY,
	                       baton_key_id_sk(f->b),
	                       baton_key_id_pk(f->a),
	                       baton_key_enc_pk(f->a),
	                       NULL};
	assert_int_equal(baton_packet_seal(&p, &body, NULL, tu_buf_write, &pkt, NULL), 0);
	baton_open_params op = tu_open_params(f->a, TU_NOW);
	baton_source_mem(&src, pkt.p, pkt.len);
	assert_int_equal(baton_packet_open(&src, &op, &o), 0);
	assert_int_equal(baton_opened_header(o)->kind, BATON_KIND_REQUEST);
	assert_int_equal(baton_opened_body(o)->requested_mask, SEC(TRANSCRIPT) | SEC(IDENTITY));
	assert_string_equal(baton_opened_body(o)->note, "");
	baton_opened_free(o);
	tu_buf_free(&pkt);

	/* Asking for more than the consent allows is refused. */
	body.requested_mask = SEC(TRANSCRIPT) | SEC(DISCIPLINE);
	assert_int_equal(baton_packet_seal(&p, &body, NULL, tu_buf_write, &pkt, NULL),
	                 BATON_ECONSENT);
	assert_non_null(strstr(baton_diag(), "discipline"));
	assert_int_equal(pkt.len, 0); /* refused before a byte was written */

	/* A request from a school other than the consent's receiving school. */
	body.requested_mask = SEC(TRANSCRIPT);
	p.sender_sk = baton_key_id_sk(f->c);
	assert_int_equal(baton_packet_seal(&p, &body, NULL, tu_buf_write, &pkt, NULL),
	                 BATON_ECONSENT);
	assert_non_null(strstr(baton_diag(), "receiving"));
}

/*
 * A consent the caller parsed is not verified again by sealing, but only for
 * exactly the bytes it parsed: other bytes in the body are verified.
 */
static void test_seal_verified_consent(void **state)
{
	struct fixture *f = *state;
	baton_consent c;
	tu_transfer t;
	tu_buf pkt = {0};
	baton_seal_params p = {BATON_KIND_TRANSFER,
	                       TU_NOW,
	                       TU_NOW + 7 * TU_DAY,
	                       baton_key_id_sk(f->a),
	                       baton_key_id_pk(f->b),
	                       baton_key_enc_pk(f->b),
	                       &c};
	uint8_t *forged = malloc(f->consent_len);

	assert_non_null(forged);
	assert_int_equal(baton_consent_parse(f->consent, f->consent_len, &c), 0);
	tu_transfer_init(&t, f->consent, f->consent_len, f->g, 0, NULL);
	assert_int_equal(baton_packet_seal(&p, &t.body, t.readers, tu_buf_write, &pkt, NULL), 0);
	tu_buf_free(&pkt);
	/* The body's consent with its signature's last byte flipped: refused. */
	memcpy(forged, f->consent, f->consent_len);
	forged[f->consent_len - 1] ^= 1;
	t.body.consent = forged;
	assert_int_equal(baton_packet_seal(&p, &t.body, t.readers, tu_buf_write, &pkt, NULL),
	                 BATON_ECONSENT);
	assert_non_null(strstr(baton_diag(), "signature"));
	tu_buf_free(&pkt);
	tu_transfer_free(&t);
	free(forged);
}

static void test_seal_refuses(void **state)
{
	struct fixture *f = *state;
	size_t sizes[] = {100};
	tu_transfer t;
	tu_buf pkt = {0};

	/* Attachment bytes that do not match the declared hash. */
	tu_transfer_init(&t, f->consent, f->consent_len, f->g, 1, sizes);
	t.atts[0].hash[0] ^= 1;
	assert_int_equal(tu_seal(&t, f->a, f->b, &pkt, NULL), BATON_EHASH);
	tu_buf_free(&pkt);
	t.atts[0].hash[0] ^= 1;
	/* A reader that ends early. */
	t.atts[0].size = 101;
	assert_int_not_equal(tu_seal(&t, f->a, f->b, &pkt, NULL), 0);
	tu_buf_free(&pkt);
	t.atts[0].size = 100;
	/* A file name with a directory in it is never sealed. */
	snprintf(t.atts[0].name, sizeof(t.atts[0].name), "../../etc/passwd");
	assert_int_equal(tu_seal(&t, f->a, f->b, &pkt, NULL), BATON_EVALUE);
	assert_non_null(strstr(baton_diag(), "name"));
	tu_buf_free(&pkt);
	snprintf(t.atts[0].name, sizeof(t.atts[0].name), "ok.pdf");
	/* Attachment for a section that is not in the packet. */
	t.atts[0].section = BATON_SEC_HEALTH;
	assert_int_equal(tu_seal(&t, f->a, f->b, &pkt, NULL), BATON_EVALUE);
	tu_buf_free(&pkt);
	t.atts[0].section = BATON_SEC_TRANSCRIPT;
	/* No identity section. */
	t.body.section[BATON_SEC_IDENTITY] = NULL;
	t.body.section_len[BATON_SEC_IDENTITY] = 0;
	assert_int_equal(tu_seal(&t, f->a, f->b, &pkt, NULL), BATON_EMISSING);
	tu_buf_free(&pkt);
	t.body.section[BATON_SEC_IDENTITY] = (const uint8_t *)tu_identity;
	t.body.section_len[BATON_SEC_IDENTITY] = strlen(tu_identity);
	/* Section text that is not UTF-8. */
	t.body.section[BATON_SEC_TRANSCRIPT] = (const uint8_t *)"\xff\xfe";
	t.body.section_len[BATON_SEC_TRANSCRIPT] = 2;
	assert_int_equal(tu_seal(&t, f->a, f->b, &pkt, NULL), BATON_EUTF8);
	tu_buf_free(&pkt);
	t.body.section[BATON_SEC_TRANSCRIPT] = (const uint8_t *)tu_transcript;
	t.body.section_len[BATON_SEC_TRANSCRIPT] = strlen(tu_transcript);
	/* A low-order recipient encryption key. */
	uint8_t zero[32] = {0};
	baton_seal_params p = {BATON_KIND_TRANSFER,   TU_NOW, TU_NOW + 1, baton_key_id_sk(f->a),
	                       baton_key_id_pk(f->b), zero,   NULL};
	tu_transfer_rewind(&t);
	assert_int_equal(baton_packet_seal(&p, &t.body, t.readers, tu_buf_write, &pkt, NULL),
	                 BATON_EBADKEY);
	tu_buf_free(&pkt);
	/* Expiry not after creation. */
	p.recipient_enc_pk = baton_key_enc_pk(f->b);
	p.expires = TU_NOW;
	assert_int_equal(baton_packet_seal(&p, &t.body, t.readers, tu_buf_write, &pkt, NULL),
	                 BATON_EINVAL);
	tu_buf_free(&pkt);
	tu_transfer_free(&t);
}

/* A deterministic 50 MB stream: ChaCha20 keystream blocks, generated as read. */
struct big_reader {
	uint64_t off;
	crypto_generichash_state h;
};

static int big_read(void *ctx, uint8_t *buf, size_t n)
{
	struct big_reader *r = ctx;
	static const uint8_t key[crypto_stream_chacha20_KEYBYTES] = {7};
	uint8_t nonce[crypto_stream_chacha20_NONCEBYTES] = {0};
	/* Offsets are multiples of the chunk size, so each read starts a new block run. */
	crypto_stream_chacha20_xor_ic(buf, memset(buf, 0, n), n, nonce, r->off / 64, key);
	crypto_generichash_update(&r->h, buf, n);
	r->off += n;
	return 0;
}

struct hash_writer {
	crypto_generichash_state h;
	uint64_t n;
};

static int hash_write(void *ctx, const uint8_t *buf, size_t len)
{
	struct hash_writer *w = ctx;
	crypto_generichash_update(&w->h, buf, len);
	w->n += len;
	return 0;
}

static void test_50mb_attachment(void **state)
{
	struct fixture *f = *state;
	const uint64_t size = 50u * 1024 * 1024;
	char path[] = "/tmp/baton-big-XXXXXX";
	tu_transfer t;
	struct big_reader br;
	uint8_t want[32], got[32];
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	unlink(path);
	/* First pass: the hash the body declares. */
	br.off = 0;
	crypto_generichash_init(&br.h, NULL, 0, 32);
	uint8_t *chunk = malloc(BATON_CHUNK_BYTES);
	for (uint64_t off = 0; off < size; off += BATON_CHUNK_BYTES)
		big_read(&br, chunk, BATON_CHUNK_BYTES);
	free(chunk);
	crypto_generichash_final(&br.h, want, 32);

	tu_transfer_init(&t, f->consent, f->consent_len, f->g, 0, NULL);
	baton_attachment att = {.section = BATON_SEC_TRANSCRIPT, .size = size};
	snprintf(att.name, sizeof(att.name), "scans.pdf");
	snprintf(att.media_type, sizeof(att.media_type), "application/pdf");
	memcpy(att.hash, want, 32);
	br.off = 0;
	crypto_generichash_init(&br.h, NULL, 0, 32);
	baton_att_reader rd = {big_read, &br};
	t.body.attachments = &att;
	t.body.n_attachments = 1;
	baton_seal_params p = {BATON_KIND_TRANSFER,
	                       TU_NOW,
	                       TU_NOW + 1000,
	                       baton_key_id_sk(f->a),
	                       baton_key_id_pk(f->b),
	                       baton_key_enc_pk(f->b),
	                       NULL};
	assert_int_equal(baton_packet_seal(&p, &t.body, &rd, baton_write_fd, &fd, NULL), 0);

	baton_source src;
	baton_opened *o;
	baton_open_params op = tu_open_params(f->b, TU_NOW);
	assert_int_equal(baton_source_fd(&src, &fd), 0);
	assert_true(src.len > size);
	assert_int_equal(baton_packet_open(&src, &op, &o), 0);
	struct hash_writer hw = {.n = 0};
	crypto_generichash_init(&hw.h, NULL, 0, 32);
	assert_int_equal(baton_opened_attachment(o, 0, hash_write, &hw), 0);
	crypto_generichash_final(&hw.h, got, 32);
	assert_int_equal(hw.n, size);
	assert_memory_equal(got, want, 32);
	baton_opened_free(o);
	close(fd);
	tu_transfer_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_peek),
	    cmocka_unit_test(test_wrong_recipient_and_time),
	    cmocka_unit_test(test_verify),
	    cmocka_unit_test(test_consent_coverage),
	    cmocka_unit_test(test_v2_sections),
	    cmocka_unit_test(test_consent_former_keys),
	    cmocka_unit_test(test_request_round_trip),
	    cmocka_unit_test(test_seal_verified_consent),
	    cmocka_unit_test(test_seal_refuses),
	    cmocka_unit_test(test_50mb_attachment),
	};
	if (baton_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, setup, teardown);
}
