/* Fixtures shared by the unit tests and the vector generator. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "testutil.h"

const char tu_identity[] = "{\"birth_date\":\"2011-04-17\",\"family_name\":\"Okafor\","
                           "\"given_name\":\"Amara\"}";
const char tu_transcript[] = "[{\"course_code\":\"MATH101\",\"grade\":\"A-\",\"term\":\"S1\"}]";
const char tu_health[] = "{\"allergies\":[\"peanuts\"]}";

static void die(const char *what, int r)
{
	fprintf(stderr, "fixture: %s: %s (%s)\n", what, baton_strerror(r), baton_diag());
	abort();
}

int tu_buf_write(void *ctx, const uint8_t *buf, size_t len)
{
	tu_buf *b = ctx;
	if (len == 0)
		return 0;
	if (b->len + len > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + len)
			cap *= 2;
		uint8_t *p = realloc(b->p, cap);
		if (p == NULL)
			return BATON_ENOMEM;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, buf, len);
	b->len += len;
	return 0;
}

void tu_buf_free(tu_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

baton_key *tu_key(baton_key_kind kind, uint8_t s)
{
	uint8_t seed[32];
	baton_key *k;
	int r;
	memset(seed, s, sizeof(seed));
	if ((r = baton_key_from_seed(kind, seed, &k)) != 0)
		die("key", r);
	return k;
}

void tu_card(const baton_key *k, const char *name, const char *code, uint8_t **out, size_t *len)
{
	baton_card c;
	int r;
	memset(&c, 0, sizeof(c));
	snprintf(c.name, sizeof(c.name), "%s", name);
	snprintf(c.code, sizeof(c.code), "%s", code);
	memcpy(c.id_pk, baton_key_id_pk(k), 32);
	memcpy(c.enc_pk, baton_key_enc_pk(k), 32);
	snprintf(c.endpoints[0], sizeof(c.endpoints[0]), "tcp://127.0.0.1:7701");
	c.n_endpoints = 1;
	c.valid_from = TU_NOW - TU_DAY;
	c.valid_until = TU_NOW + 365 * TU_DAY;
	if ((r = baton_card_sign(&c, baton_key_id_sk(k), out, len)) != 0)
		die("card", r);
}

void tu_consent_fill(baton_consent *c, const baton_key *guardian, const baton_key *a,
                     const baton_key *b, uint32_t sections)
{
	memset(c, 0, sizeof(*c));
	memset(c->id, 0x5a, sizeof(c->id));
	snprintf(c->student, sizeof(c->student), "S-1001");
	memcpy(c->from_pk, baton_key_id_pk(a), 32);
	snprintf(c->from_code, sizeof(c->from_code), "LHS-001");
	memcpy(c->to_pk, baton_key_id_pk(b), 32);
	snprintf(c->to_code, sizeof(c->to_code), "RAS-204");
	c->sections = sections;
	snprintf(c->purpose, sizeof(c->purpose), "Enrollment at Riverside Academy");
	c->issued = TU_NOW - TU_DAY;
	c->expires = TU_NOW + 30 * TU_DAY;
	memcpy(c->signer, baton_key_id_pk(guardian), 32);
	c->role = BATON_ROLE_GUARDIAN;
}

void tu_consent_sign(const baton_consent *c, const baton_key *guardian, uint8_t **out, size_t *len)
{
	int r;
	if ((r = baton_consent_sign(c, baton_key_id_sk(guardian), out, len)) != 0)
		die("consent", r);
}

static int tu_read(void *ctx, uint8_t *buf, size_t n)
{
	struct tu_reader *m = ctx;
	if (n > m->len - m->off)
		return BATON_ETRUNC;
	memcpy(buf, m->p + m->off, n);
	m->off += n;
	return 0;
}

void tu_transfer_init(tu_transfer *t, const uint8_t *consent, size_t consent_len,
                      const baton_key *guardian, size_t n_att, const size_t *sizes)
{
	memset(t, 0, sizeof(*t));
	snprintf(t->body.student, sizeof(t->body.student), "S-1001");
	snprintf(t->body.state_id, sizeof(t->body.state_id), "ST-4410-2291");
	t->body.section[BATON_SEC_IDENTITY] = (const uint8_t *)tu_identity;
	t->body.section_len[BATON_SEC_IDENTITY] = strlen(tu_identity);
	t->body.section[BATON_SEC_TRANSCRIPT] = (const uint8_t *)tu_transcript;
	t->body.section_len[BATON_SEC_TRANSCRIPT] = strlen(tu_transcript);
	t->body.consent = consent;
	t->body.consent_len = consent_len;
	memcpy(t->body.guardians[0], baton_key_id_pk(guardian), 32);
	t->body.n_guardians = 1;
	for (size_t i = 0; i < n_att && i < 4; i++) {
		baton_attachment *a = &t->atts[i];
		snprintf(a->name, sizeof(a->name), "transcript-%zu.pdf", i);
		snprintf(a->media_type, sizeof(a->media_type), "application/pdf");
		a->section = BATON_SEC_TRANSCRIPT;
		a->size = sizes[i];
		t->att_data[i] = malloc(sizes[i] ? sizes[i] : 1);
		uint8_t seed[randombytes_SEEDBYTES] = {(uint8_t)(i + 1)};
		randombytes_buf_deterministic(t->att_data[i], sizes[i], seed);
		crypto_generichash(a->hash, sizeof(a->hash), t->att_data[i], sizes[i], NULL, 0);
		t->rd[i] = (struct tu_reader){t->att_data[i], 0, sizes[i]};
		t->readers[i] = (baton_att_reader){tu_read, &t->rd[i]};
	}
	t->body.attachments = n_att ? t->atts : NULL;
	t->body.n_attachments = n_att;
}

void tu_transfer_rewind(tu_transfer *t)
{
	for (size_t i = 0; i < 4; i++)
		t->rd[i].off = 0;
}

void tu_transfer_free(tu_transfer *t)
{
	for (size_t i = 0; i < 4; i++)
		free(t->att_data[i]);
	memset(t, 0, sizeof(*t));
}

int tu_seal(tu_transfer *t, const baton_key *a, const baton_key *b, tu_buf *out,
            baton_packet_info *info)
{
	baton_seal_params p = {BATON_KIND_TRANSFER,
	                       TU_NOW,
	                       TU_NOW + 7 * TU_DAY,
	                       baton_key_id_sk(a),
	                       baton_key_id_pk(b),
	                       baton_key_enc_pk(b),
	                       NULL};
	tu_transfer_rewind(t);
	return baton_packet_seal(&p, &t->body, t->readers, tu_buf_write, out, info);
}

baton_open_params tu_open_params(const baton_key *b, uint64_t now)
{
	baton_open_params p = {baton_key_id_pk(b), baton_key_enc_sk(b), baton_key_enc_pk(b), now,
	                       TU_SKEW};
	return p;
}

static int discard(void *ctx, const uint8_t *buf, size_t len)
{
	(void)ctx, (void)buf, (void)len;
	return 0;
}

int tu_open_all(const uint8_t *buf, size_t len, const baton_key *b)
{
	baton_source src;
	baton_opened *o;
	baton_open_params p = tu_open_params(b, TU_NOW);
	int r;

	baton_source_mem(&src, buf, len);
	if ((r = baton_packet_open(&src, &p, &o)) != 0)
		return r;
	for (size_t i = 0; i < baton_opened_body(o)->n_attachments && r == 0; i++)
		r = baton_opened_attachment(o, i, discard, NULL);
	baton_opened_free(o);
	return r;
}
