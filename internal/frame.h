/*
 * The frames of the network transport (PROTOCOL.md section 10) that carry
 * a large packet in chunks, and their acknowledgements: encoding and
 * decoding only, no I/O, so that they can be fuzzed and checked against the
 * vectors on their own. Decoded pointers point into the caller's buffer,
 * which must outlive them; nothing here allocates, so nothing is freed.
 * Return values follow <baton/error.h>.
 */
#ifndef BATON_FRAME_H
#define BATON_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include <baton/keys.h>
#include <baton/objects.h>
#include <baton/packet.h>

#define FRAME_VERSION    2
#define FRAME_HEAD       40                  /* "BTNC", version, 3 zero bytes, id, total, offset */
#define FRAME_ADMIT      (4 + 8 + 64)        /* chunk size, time, signature: the first chunk only */
#define FRAME_CHUNK      (UINT32_C(1) << 20) /* packet bytes in every chunk but the last */
#define FRAME_ACK_LEN    32                  /* "BTNA", version, 3 zero bytes, id, bytes held */
#define FRAME_PACKET_MIN (BATON_PREFIX_BYTES + 64)
#define FRAME_PACKET_MAX (UINT64_C(64) << 30) /* the largest packet taken in chunks */

/* One decoded chunk frame. */
struct frame_chunk {
	uint8_t id[BATON_ID_BYTES];
	uint64_t total; /* packet bytes in all */
	uint64_t off;   /* of data's first byte in the packet */
	int admit;      /* the first chunk: time and sig are set */
	uint64_t time;  /* when the sender signed the admission */
	const uint8_t *sig;
	const uint8_t *data; /* n bytes of the packet, or NULL for a probe */
	size_t n;
};

/*
 * Decodes one chunk frame of len bytes at p into *f and checks its layout:
 * a probe (no data), the first chunk (offset 0, with its admission), or a
 * later chunk of exactly the bytes the layout puts at its offset. Verifies
 * no signature. 0, or BATON_ETRUNC, BATON_EMAGIC, BATON_EVERSION (an
 * earlier frame version), BATON_EVALUE, BATON_ETOOBIG or BATON_ETRAILING.
 */
int bti_frame_chunk_decode(const uint8_t *p, size_t len, struct frame_chunk *f);

/* The bytes of the packet a data chunk at off carries (0 at or past total). Cannot fail. */
size_t bti_frame_chunk_bytes(uint64_t total, uint64_t off);

/* Writes the head of a probe or of a chunk after the first into out (the caller's). Cannot fail. */
void bti_frame_chunk_head(uint8_t out[FRAME_HEAD], const uint8_t id[BATON_ID_BYTES], uint64_t total,
                          uint64_t off);

/*
 * Writes the head and the admission of the first chunk, whose n bytes
 * (bti_frame_chunk_bytes(total, 0)) follow at out + FRAME_HEAD + FRAME_ADMIT:
 * the sender's identity key k signs the packet's id, its total length, the
 * chunk size, time and the hash of data, which must begin with the
 * packet's prefix and header. 0, or
 * BATON_EINVAL when n is not the first chunk's length, or the error of
 * reading the header from data.
 */
int bti_frame_admit_sign(uint8_t *out, const baton_key *k, const uint8_t id[BATON_ID_BYTES],
                         uint64_t total, uint64_t time, const uint8_t *data, size_t n);

/*
 * Checks the admission of a decoded first chunk: the packet header in its
 * data (into *h), the same id as the frame, addressed to me (unless NULL),
 * signed within skew seconds of now, and the signature by the header's
 * sender. Whether the sender is pinned is the caller's to check. 0, or the
 * header's error, BATON_EVALUE, BATON_EWRONGRCPT, BATON_EEXPIRED,
 * BATON_ENOTYET or BATON_EBADSIG.
 */
int bti_frame_admit_verify(const struct frame_chunk *f, const uint8_t *me, uint64_t now,
                           uint64_t skew, baton_header *h);

/* Writes into out (the caller's) the acknowledgement that the receiver holds have bytes of id. */
void bti_frame_ack_put(uint8_t out[FRAME_ACK_LEN], const uint8_t id[BATON_ID_BYTES], uint64_t have);
/* 0 when p is an acknowledgement for id, setting *have; else BATON_EMAGIC. */
int bti_frame_ack_decode(const uint8_t *p, size_t len, const uint8_t id[BATON_ID_BYTES],
                         uint64_t *have);

#define FRAME_BATCH_VERSION 1             /* of the batch frame and its reply */
#define FRAME_BATCH_HEAD    8             /* "BTNB" or "BTNR", version, 3 zero bytes */
#define FRAME_BATCH_MAX     64            /* items in a batch, and so in its reply */
#define FRAME_RECEIPT_MAX   BATON_OBJ_MAX /* the longest receipt in a reply */

/* One item of a batch (a whole packet) or of its reply (a receipt, or n 0: none). */
struct frame_item {
	const uint8_t *p;
	size_t n;
};

/*
 * Decodes a batch of len bytes at p: its head, then 1 to FRAME_BATCH_MAX
 * items of at least one byte to the end of the message, into items (which
 * point into p) and *k. Checks no packet. 0, or BATON_ETRUNC,
 * BATON_EMAGIC, BATON_EVERSION, BATON_EVALUE (a reserved byte, an empty
 * item, no item), BATON_ETOOBIG (too many items) or BATON_ETRAILING (fewer
 * bytes than a length after the last item).
 */
int bti_frame_batch_decode(const uint8_t *p, size_t len, struct frame_item items[FRAME_BATCH_MAX],
                           size_t *k);
/*
 * The same for a batch's reply: 1 to FRAME_BATCH_MAX items, each empty or
 * a receipt of at most FRAME_RECEIPT_MAX bytes (longer: BATON_ETOOBIG).
 */
int bti_frame_reply_decode(const uint8_t *p, size_t len, struct frame_item items[FRAME_BATCH_MAX],
                           size_t *k);

/* The bytes of a batch or reply of these k items. Cannot fail. */
size_t bti_frame_batch_len(const struct frame_item *items, size_t k);
/*
 * Writes the batch (or, with bti_frame_reply_put, the reply) of k items into
 * the bti_frame_batch_len(items, k) bytes at out. 0, or BATON_EINVAL for what
 * its decoder would refuse.
 */
int bti_frame_batch_put(uint8_t *out, const struct frame_item *items, size_t k);
int bti_frame_reply_put(uint8_t *out, const struct frame_item *items, size_t k);

#define FRAME_OFFER_VERSION 1           /* of the offer and update frames */
#define FRAME_OFFER_HEAD    8           /* "BTNO" or "BTNU", version, 3 bytes */
#define FRAME_OFFER_ENTRY   40          /* authority key, version u64 BE */
#define FRAME_OFFER_MAX     64          /* entries in an offer */
#define FRAME_UPDATE_MAX    FRAME_CHUNK /* the longest update message */

/* One entry of an offer: an authority pinned and the version held of its directory (0: none). */
struct frame_offer {
	uint8_t authority[BATON_PK_BYTES];
	uint64_t version;
};

/*
 * Decodes an offer of len bytes at p into e (FRAME_OFFER_MAX entries) and
 * *k. 0, or BATON_ETRUNC, BATON_EMAGIC, BATON_EVERSION, BATON_EVALUE (a
 * reserved byte), BATON_ETOOBIG (too many entries) or BATON_ENONCANON
 * (keys not ascending), with baton_diag() saying what.
 */
int bti_frame_offer_decode(const uint8_t *p, size_t len, struct frame_offer e[FRAME_OFFER_MAX],
                           size_t *k);
/* The bytes of an offer of k entries. */
size_t bti_frame_offer_len(size_t k);
/* Writes the offer of k entries into bti_frame_offer_len(k) bytes at out; BATON_EINVAL for what
 * decode refuses. */
int bti_frame_offer_put(uint8_t *out, const struct frame_offer *e, size_t k);

/*
 * Decodes an update of len bytes at p: the sender's code into code and the
 * directory's bytes (inside p, not checked here) into *dir, *dir_len. 0,
 * or BATON_ETRUNC, BATON_EMAGIC, BATON_EVERSION, BATON_EVALUE (a reserved
 * byte, the code's length or characters), BATON_ETOOBIG (over
 * FRAME_UPDATE_MAX).
 */
int bti_frame_update_decode(const uint8_t *p, size_t len, char code[BATON_CODE_MAX + 1],
                            const uint8_t **dir, size_t *dir_len);
/* The bytes of an update from code with a directory of dir_len bytes. */
size_t bti_frame_update_len(const char *code, size_t dir_len);
/* Writes it into bti_frame_update_len() bytes at out; BATON_EINVAL for what decode refuses. */
int bti_frame_update_put(uint8_t *out, const char *code, const uint8_t *dir, size_t dir_len);

#endif
