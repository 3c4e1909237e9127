/* Fixtures shared by the unit tests and the vector generator. */
#ifndef BATON_TESTUTIL_H
#define BATON_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <baton/baton.h>

#define TU_NOW  UINT64_C(1800000000) /* 2027-01-15, a fixed "now" */
#define TU_DAY  UINT64_C(86400)
#define TU_SKEW UINT64_C(300)

/* A growing byte buffer; tu_buf_write is a baton_write_fn. */
typedef struct tu_buf {
	uint8_t *p;
	size_t len, cap;
} tu_buf;
int tu_buf_write(void *ctx, const uint8_t *buf, size_t len);
void tu_buf_free(tu_buf *b);

/* A key from a seed of 32 copies of byte s. Aborts on failure. */
baton_key *tu_key(baton_key_kind kind, uint8_t s);

/* A signed card for school key k. Caller frees *out. */
void tu_card(const baton_key *k, const char *name, const char *code, uint8_t **out, size_t *len);

/* Fills c with a guardian consent from school a to school b for student "S-1001". */
void tu_consent_fill(baton_consent *c, const baton_key *guardian, const baton_key *a,
                     const baton_key *b, uint32_t sections);
/* Signs c with guardian. Caller frees *out. */
void tu_consent_sign(const baton_consent *c, const baton_key *guardian, uint8_t **out, size_t *len);

/* Sample record sections (JSON text) used by the fixtures. */
extern const char tu_identity[];
extern const char tu_transcript[];
extern const char tu_health[];

/*
 * A transfer fixture: student S-1001, identity + transcript (+ health when
 * with_health), the consent bytes, the guardian, and n_att attachments whose
 * bytes come from tu_att_bytes(i) of the sizes given.
 */
typedef struct tu_transfer {
	baton_body body;
	baton_attachment atts[4];
	uint8_t *att_data[4];
	baton_att_reader readers[4];
	struct tu_reader {
		const uint8_t *p;
		size_t off, len;
	} rd[4];
} tu_transfer;
void tu_transfer_init(tu_transfer *t, const uint8_t *consent, size_t consent_len,
                      const baton_key *guardian, size_t n_att, const size_t *sizes);
/* Rewinds the attachment readers so the fixture can be sealed again. */
void tu_transfer_rewind(tu_transfer *t);
void tu_transfer_free(tu_transfer *t);

/* Seals t from a to b into out, created at TU_NOW, valid 7 days. Returns the seal result. */
int tu_seal(tu_transfer *t, const baton_key *a, const baton_key *b, tu_buf *out,
            baton_packet_info *info);

/* Open parameters for school key b at time now. */
baton_open_params tu_open_params(const baton_key *b, uint64_t now);

/* Opens buf as school b at TU_NOW and reads every attachment (discarding bytes). */
int tu_open_all(const uint8_t *buf, size_t len, const baton_key *b);

#endif
