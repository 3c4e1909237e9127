/*
 * libFuzzer harness for sealed packets: baton_packet_peek and
 * baton_packet_open over an in-memory source, as the school whose key comes
 * from a fixed seed (32 bytes of 0x02), at a fixed time. An opened packet's
 * header, body and consent are read (for ASan/UBSan) and every attachment is
 * decrypted into a writer that reads and discards the plaintext.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <baton/baton.h>

#include "fuzz.h"

#define RECIPIENT_SEED 0xb2
#define NOW            UINT64_C(1800000000)
#define SKEW           300

static baton_key *school;
/* A baton_write_fn that reads what it is given and keeps none of it. */
static int discard(void *ctx, const uint8_t *buf, size_t len)
{
	(void)ctx;
	touch(buf, len);
	return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	uint8_t seed[32];

	(void)argc;
	(void)argv;
	if (baton_init() != 0)
		abort();
	memset(seed, RECIPIENT_SEED, sizeof(seed));
	if (baton_key_from_seed(BATON_KEY_SCHOOL, seed, &school) != 0)
		abort();
	return 0;
}

static void touch_opened(const baton_opened *o)
{
	const baton_header *h = baton_opened_header(o);
	const baton_body *b = baton_opened_body(o);
	const baton_packet_info *info = baton_opened_info(o);
	const baton_consent *c = baton_opened_consent(o);

	touch(h, sizeof(*h));
	touch(info, sizeof(*info));
	touch(c, sizeof(*c));
	touch_str(b->student, sizeof(b->student));
	touch_str(b->state_id, sizeof(b->state_id));
	for (size_t s = 0; s < BATON_SEC_COUNT; s++)
		if (b->section[s] != NULL)
			touch(b->section[s], b->section_len[s]);
	touch(b->consent, b->consent_len);
	if (b->n_guardians > BATON_MAX_GUARDIANS || b->n_attachments > BATON_MAX_ATTACHMENTS)
		abort();
	touch(b->guardians, b->n_guardians * BATON_PK_BYTES);
	for (size_t i = 0; i < b->n_attachments; i++) {
		const baton_attachment *a = &b->attachments[i];
		touch_str(a->name, sizeof(a->name));
		touch_str(a->media_type, sizeof(a->media_type));
		touch(a->hash, sizeof(a->hash));
		sink += (size_t)a->section + (size_t)a->size;
	}
	sink += (size_t)b->requested_mask;
	touch_str(b->note, sizeof(b->note));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	baton_source src;
	baton_header hdr;
	baton_opened *o = NULL;
	baton_open_params p = {
	    .id_pk = baton_key_id_pk(school),
	    .enc_sk = baton_key_enc_sk(school),
	    .enc_pk = baton_key_enc_pk(school),
	    .now = NOW,
	    .skew = SKEW,
	};

	baton_source_mem(&src, data, size);
	if (baton_packet_peek(&src, &hdr) == 0)
		touch(&hdr, sizeof(hdr));
	if (baton_packet_open(&src, &p, &o) != 0)
		return 0;
	touch_opened(o);
	size_t n = baton_opened_body(o)->n_attachments;
	for (size_t i = 0; i < n; i++)
		sink += (size_t)baton_opened_attachment(o, i, discard, NULL);
	baton_opened_free(o);
	return 0;
}
