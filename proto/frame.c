/*
 * Chunk frames and acknowledgements, batches and their replies (PROTOCOL.md
 * section 10). The first
 * chunk of a packet carries its sender's signature over the packet's
 * length, the chunk layout and the first chunk with the header in it, so that a receiver keeps
 * nothing on disk for a party it has not authenticated.
 */
#include <string.h>

#include <sodium.h>

#include "frame.h"
#include "proto_impl.h"

#define ADMIT_DOMAIN     "BATON-ADMIT-v1"
#define ADMIT_DOMAIN_LEN 15 /* with its NUL */
/* Domain, id, total, chunk size, time, and the hash of the first chunk. */
#define ADMIT_MSG_LEN (ADMIT_DOMAIN_LEN + BATON_ID_BYTES + 8 + 4 + 8 + 32)

static void put_head(uint8_t *p, const char *magic, const uint8_t id[BATON_ID_BYTES])
{
	memcpy(p, magic, 4);
	p[4] = FRAME_VERSION;
	p[5] = p[6] = p[7] = 0;
	memcpy(p + 8, id, BATON_ID_BYTES);
}

size_t bti_frame_chunk_bytes(uint64_t total, uint64_t off)
{
	if (off >= total)
		return 0;
	return total - off < FRAME_CHUNK ? (size_t)(total - off) : FRAME_CHUNK;
}

void bti_frame_chunk_head(uint8_t out[FRAME_HEAD], const uint8_t id[BATON_ID_BYTES], uint64_t total,
                          uint64_t off)
{
	put_head(out, "BTNC", id);
	put_be64(out + 24, total);
	put_be64(out + 32, off);
}

/* The data of a chunk must be exactly what the layout puts at its offset. */
static int check_data(const struct frame_chunk *f)
{
	size_t want = bti_frame_chunk_bytes(f->total, f->off);
	if (f->off % FRAME_CHUNK != 0)
		return bti_diag_err(BATON_EVALUE,
		                    "chunk frame: offset %llu is not a multiple of %lu",
		                    (unsigned long long)f->off, (unsigned long)FRAME_CHUNK);
	if (f->n < want)
		return bti_diag_err(BATON_ETRUNC,
		                    "chunk frame: %zu bytes at %llu, the layout says %zu", f->n,
		                    (unsigned long long)f->off, want);
	if (f->n > want)
		return bti_diag_err(BATON_ETRAILING,
		                    "chunk frame: %zu bytes at %llu, the layout says %zu", f->n,
		                    (unsigned long long)f->off, want);
	return 0;
}

int bti_frame_chunk_decode(const uint8_t *p, size_t len, struct frame_chunk *f)
{
	memset(f, 0, sizeof(*f));
	if (len < FRAME_HEAD)
		return bti_diag_err(BATON_ETRUNC, "chunk frame: %zu bytes, shorter than its head",
		                    len);
	if (memcmp(p, "BTNC", 4) != 0)
		return bti_diag_err(BATON_EMAGIC, "chunk frame: not \"BTNC\"");
	if (p[4] != FRAME_VERSION)
		return bti_diag_err(BATON_EVERSION, "chunk frame: version %u (this node reads %d)",
		                    p[4], FRAME_VERSION);
	if (p[5] || p[6] || p[7])
		return bti_diag_err(BATON_EVALUE, "chunk frame: reserved bytes are not zero");
	memcpy(f->id, p + 8, BATON_ID_BYTES);
	f->total = get_be64(p + 24);
	f->off = get_be64(p + 32);
	if (f->total < FRAME_PACKET_MIN)
		return bti_diag_err(BATON_EVALUE,
		                    "chunk frame: total %llu is too short for a packet",
		                    (unsigned long long)f->total);
	if (f->total > FRAME_PACKET_MAX)
		return bti_diag_err(BATON_ETOOBIG, "chunk frame: total %llu is over %llu",
		                    (unsigned long long)f->total,
		                    (unsigned long long)FRAME_PACKET_MAX);
	if (f->off > f->total)
		return bti_diag_err(BATON_EVALUE, "chunk frame: offset %llu past total %llu",
		                    (unsigned long long)f->off, (unsigned long long)f->total);
	f->n = len - FRAME_HEAD;
	if (f->n == 0)
		return 0; /* a probe */
	f->data = p + FRAME_HEAD;
	if (f->off == 0) {
		if (f->n < FRAME_ADMIT)
			return bti_diag_err(BATON_ETRUNC,
			                    "chunk frame: the first chunk ends inside "
			                    "its admission");
		if (get_be32(f->data) != FRAME_CHUNK)
			return bti_diag_err(
			    BATON_EVALUE, "chunk frame: chunk size %lu (must be %lu)",
			    (unsigned long)get_be32(f->data), (unsigned long)FRAME_CHUNK);
		f->admit = 1;
		f->time = get_be64(f->data + 4);
		f->sig = f->data + 12;
		f->data += FRAME_ADMIT;
		f->n -= FRAME_ADMIT;
	}
	return check_data(f);
}

/*
 * The message an admission signs, after reading the packet's header from
 * the first chunk: the whole chunk is hashed into it, so that every byte
 * kept before the packet's own signature can be checked is the sender's.
 */
static int admit_message(uint8_t msg[ADMIT_MSG_LEN], const uint8_t *id, uint64_t total,
                         uint64_t time, const uint8_t *data, size_t n, baton_header *h)
{
	baton_source src;
	int r;

	baton_source_mem(&src, data, n);
	if ((r = baton_packet_peek(&src, h)) != 0)
		return r;
	if (memcmp(h->id, id, BATON_ID_BYTES) != 0)
		return bti_diag_err(BATON_EVALUE,
		                    "chunk frame: the packet header names another id");
	memcpy(msg, ADMIT_DOMAIN, ADMIT_DOMAIN_LEN);
	memcpy(msg + 15, id, BATON_ID_BYTES);
	put_be64(msg + 31, total);
	put_be32(msg + 39, FRAME_CHUNK);
	put_be64(msg + 43, time);
	crypto_generichash(msg + 51, 32, data, n, NULL, 0);
	return 0;
}

int bti_frame_admit_sign(uint8_t *out, const baton_key *k, const uint8_t id[BATON_ID_BYTES],
                         uint64_t total, uint64_t time, const uint8_t *data, size_t n)
{
	uint8_t msg[ADMIT_MSG_LEN];
	baton_header h;
	int r;

	if (n != bti_frame_chunk_bytes(total, 0) || total < FRAME_PACKET_MIN)
		return bti_diag_err(BATON_EINVAL,
		                    "chunk frame: %zu bytes are not a first chunk of %llu", n,
		                    (unsigned long long)total);
	if ((r = admit_message(msg, id, total, time, data, n, &h)) != 0)
		return r;
	bti_frame_chunk_head(out, id, total, 0);
	put_be32(out + FRAME_HEAD, FRAME_CHUNK);
	put_be64(out + FRAME_HEAD + 4, time);
	crypto_sign_detached(out + FRAME_HEAD + 12, NULL, msg, sizeof(msg), baton_key_id_sk(k));
	return 0;
}

int bti_frame_admit_verify(const struct frame_chunk *f, const uint8_t *me, uint64_t now,
                           uint64_t skew, baton_header *h)
{
	uint8_t msg[ADMIT_MSG_LEN];
	int r;

	memset(h, 0, sizeof(*h));
	if (!f->admit)
		return bti_diag_err(BATON_EINVAL, "chunk frame: not a first chunk");
	if ((r = admit_message(msg, f->id, f->total, f->time, f->data, f->n, h)) != 0)
		return r;
	if (me && sodium_memcmp(h->recipient, me, BATON_PK_BYTES) != 0)
		return bti_diag_err(BATON_EWRONGRCPT,
		                    "chunk frame: the packet is for another school");
	if (now > skew && f->time < now - skew)
		return bti_diag_err(BATON_EEXPIRED,
		                    "chunk frame: admission signed at %llu, now is %llu",
		                    (unsigned long long)f->time, (unsigned long long)now);
	if (f->time > now + skew)
		return bti_diag_err(BATON_ENOTYET,
		                    "chunk frame: admission signed at %llu, now is %llu",
		                    (unsigned long long)f->time, (unsigned long long)now);
	if (crypto_sign_verify_detached(f->sig, msg, sizeof(msg), h->sender) != 0)
		return bti_diag_err(BATON_EBADSIG,
		                    "chunk frame: the admission's signature does not "
		                    "verify under the header's sender");
	return 0;
}

void bti_frame_ack_put(uint8_t out[FRAME_ACK_LEN], const uint8_t id[BATON_ID_BYTES], uint64_t have)
{
	put_head(out, "BTNA", id);
	put_be64(out + 24, have);
}

int bti_frame_ack_decode(const uint8_t *p, size_t len, const uint8_t id[BATON_ID_BYTES],
                         uint64_t *have)
{
	*have = 0;
	if (len != FRAME_ACK_LEN || memcmp(p, "BTNA", 4) != 0 || p[4] != FRAME_VERSION || p[5] ||
	    p[6] || p[7] || memcmp(p + 8, id, BATON_ID_BYTES) != 0)
		return BATON_EMAGIC;
	*have = get_be64(p + 24);
	return 0;
}

/*
 * Batches and their replies: a head, then items to the end of the message,
 * each a u32 big-endian length and that many bytes. A batch's items are
 * whole packets, never empty; a reply's are receipts, empty where none was
 * written.
 */
struct batch_kind {
	const char *magic, *what;
	int empty_ok;    /* an item may be empty */
	size_t item_max; /* the longest item */
};

static const struct batch_kind batch_kind = {"BTNB", "batch frame", 0, UINT32_MAX};
static const struct batch_kind reply_kind = {"BTNR", "batch reply", 1, FRAME_RECEIPT_MAX};

static int batch_item(const struct batch_kind *bk, const uint8_t *p, size_t len, size_t *off,
                      size_t i, struct frame_item *it)
{
	size_t left = len - *off;
	uint32_t n;

	if (i == FRAME_BATCH_MAX)
		return bti_diag_err(BATON_ETOOBIG, "%s: more than %d items", bk->what,
		                    FRAME_BATCH_MAX);
	if (left < 4)
		return bti_diag_err(BATON_ETRAILING,
		                    "%s: %zu bytes after item %zu, too few for a length", bk->what,
		                    left, i);
	n = get_be32(p + *off);
	if (n > left - 4)
		return bti_diag_err(BATON_ETRUNC, "%s: item %zu of %lu bytes, %zu left", bk->what,
		                    i + 1, (unsigned long)n, left - 4);
	if (n == 0 && !bk->empty_ok)
		return bti_diag_err(BATON_EVALUE, "%s: item %zu is empty", bk->what, i + 1);
	if (n > bk->item_max)
		return bti_diag_err(BATON_ETOOBIG, "%s: item %zu of %lu bytes, over %zu", bk->what,
		                    i + 1, (unsigned long)n, bk->item_max);
	it->p = n ? p + *off + 4 : NULL;
	it->n = n;
	*off += 4 + (size_t)n;
	return 0;
}

static int batch_decode(const struct batch_kind *bk, const uint8_t *p, size_t len,
                        struct frame_item items[FRAME_BATCH_MAX], size_t *k)
{
	size_t off = FRAME_BATCH_HEAD;
	int r;

	*k = 0;
	if (len < FRAME_BATCH_HEAD)
		return bti_diag_err(BATON_ETRUNC, "%s: %zu bytes, shorter than its head", bk->what,
		                    len);
	if (memcmp(p, bk->magic, 4) != 0)
		return bti_diag_err(BATON_EMAGIC, "%s: not \"%s\"", bk->what, bk->magic);
	if (p[4] != FRAME_BATCH_VERSION)
		return bti_diag_err(BATON_EVERSION, "%s: version %u (this node reads %d)", bk->what,
		                    p[4], FRAME_BATCH_VERSION);
	if (p[5] || p[6] || p[7])
		return bti_diag_err(BATON_EVALUE, "%s: reserved bytes are not zero", bk->what);
	while (off < len) {
		if ((r = batch_item(bk, p, len, &off, *k, &items[*k])) != 0) {
			*k = 0;
			return r;
		}
		(*k)++;
	}
	if (*k == 0)
		return bti_diag_err(BATON_EVALUE, "%s: no item", bk->what);
	return 0;
}

int bti_frame_batch_decode(const uint8_t *p, size_t len, struct frame_item items[FRAME_BATCH_MAX],
                           size_t *k)
{
	return batch_decode(&batch_kind, p, len, items, k);
}

int bti_frame_reply_decode(const uint8_t *p, size_t len, struct frame_item items[FRAME_BATCH_MAX],
                           size_t *k)
{
	return batch_decode(&reply_kind, p, len, items, k);
}

size_t bti_frame_batch_len(const struct frame_item *items, size_t k)
{
	size_t len = FRAME_BATCH_HEAD;
	for (size_t i = 0; i < k; i++)
		len += 4 + items[i].n;
	return len;
}

static int batch_put(const struct batch_kind *bk, uint8_t *out, const struct frame_item *items,
                     size_t k)
{
	size_t off = FRAME_BATCH_HEAD;

	if (k == 0 || k > FRAME_BATCH_MAX)
		return bti_diag_err(BATON_EINVAL, "%s: %zu items (1 to %d)", bk->what, k,
		                    FRAME_BATCH_MAX);
	for (size_t i = 0; i < k; i++)
		if ((items[i].n == 0 && !bk->empty_ok) || items[i].n > bk->item_max)
			return bti_diag_err(BATON_EINVAL, "%s: item %zu of %zu bytes", bk->what,
			                    i + 1, items[i].n);
	memcpy(out, bk->magic, 4);
	out[4] = FRAME_BATCH_VERSION;
	out[5] = out[6] = out[7] = 0;
	for (size_t i = 0; i < k; i++) {
		put_be32(out + off, (uint32_t)items[i].n);
		if (items[i].n)
			memcpy(out + off + 4, items[i].p, items[i].n);
		off += 4 + items[i].n;
	}
	return 0;
}

int bti_frame_batch_put(uint8_t *out, const struct frame_item *items, size_t k)
{
	return batch_put(&batch_kind, out, items, k);
}

int bti_frame_reply_put(uint8_t *out, const struct frame_item *items, size_t k)
{
	return batch_put(&reply_kind, out, items, k);
}

/* Offers of the directory versions a node holds, and updates carrying one directory. */
int bti_frame_offer_decode(const uint8_t *p, size_t len, struct frame_offer e[FRAME_OFFER_MAX],
                           size_t *k)
{
	size_t n;

	*k = 0;
	if (len < FRAME_OFFER_HEAD)
		return bti_diag_err(BATON_ETRUNC, "offer frame: %zu bytes, shorter than its head",
		                    len);
	if (memcmp(p, "BTNO", 4) != 0)
		return bti_diag_err(BATON_EMAGIC, "offer frame: not \"BTNO\"");
	if (p[4] != FRAME_OFFER_VERSION)
		return bti_diag_err(BATON_EVERSION, "offer frame: version %u (this node reads %d)",
		                    p[4], FRAME_OFFER_VERSION);
	if (p[5] || p[6] || p[7])
		return bti_diag_err(BATON_EVALUE, "offer frame: reserved bytes are not zero");
	if ((len - FRAME_OFFER_HEAD) % FRAME_OFFER_ENTRY != 0)
		return bti_diag_err(BATON_ETRUNC,
		                    "offer frame: %zu bytes of entries, not a multiple of %d",
		                    len - FRAME_OFFER_HEAD, FRAME_OFFER_ENTRY);
	n = (len - FRAME_OFFER_HEAD) / FRAME_OFFER_ENTRY;
	if (n > FRAME_OFFER_MAX)
		return bti_diag_err(BATON_ETOOBIG, "offer frame: %zu entries, over %d", n,
		                    FRAME_OFFER_MAX);
	for (size_t i = 0; i < n; i++) {
		const uint8_t *q = p + FRAME_OFFER_HEAD + i * FRAME_OFFER_ENTRY;
		if (i > 0 && memcmp(q - FRAME_OFFER_ENTRY, q, BATON_PK_BYTES) >= 0)
			return bti_diag_err(BATON_ENONCANON,
			                    "offer frame: entry %zu's key is not above the one "
			                    "before it",
			                    i + 1);
		memcpy(e[i].authority, q, BATON_PK_BYTES);
		e[i].version = get_be64(q + BATON_PK_BYTES);
	}
	*k = n;
	return 0;
}

size_t bti_frame_offer_len(size_t k)
{
	return FRAME_OFFER_HEAD + k * FRAME_OFFER_ENTRY;
}

int bti_frame_offer_put(uint8_t *out, const struct frame_offer *e, size_t k)
{
	if (k > FRAME_OFFER_MAX)
		return bti_diag_err(BATON_EINVAL, "offer frame: %zu entries (at most %d)", k,
		                    FRAME_OFFER_MAX);
	for (size_t i = 1; i < k; i++)
		if (memcmp(e[i - 1].authority, e[i].authority, BATON_PK_BYTES) >= 0)
			return bti_diag_err(BATON_EINVAL, "offer frame: keys not ascending");
	memcpy(out, "BTNO", 4);
	out[4] = FRAME_OFFER_VERSION;
	out[5] = out[6] = out[7] = 0;
	for (size_t i = 0; i < k; i++) {
		uint8_t *q = out + FRAME_OFFER_HEAD + i * FRAME_OFFER_ENTRY;
		memcpy(q, e[i].authority, BATON_PK_BYTES);
		put_be64(q + BATON_PK_BYTES, e[i].version);
	}
	return 0;
}

int bti_frame_update_decode(const uint8_t *p, size_t len, char code[BATON_CODE_MAX + 1],
                            const uint8_t **dir, size_t *dir_len)
{
	size_t n;

	code[0] = 0;
	*dir = NULL;
	*dir_len = 0;
	if (len < FRAME_OFFER_HEAD)
		return bti_diag_err(BATON_ETRUNC, "update frame: %zu bytes, shorter than its head",
		                    len);
	if (memcmp(p, "BTNU", 4) != 0)
		return bti_diag_err(BATON_EMAGIC, "update frame: not \"BTNU\"");
	if (p[4] != FRAME_OFFER_VERSION)
		return bti_diag_err(BATON_EVERSION, "update frame: version %u (this node reads %d)",
		                    p[4], FRAME_OFFER_VERSION);
	if (p[6] || p[7])
		return bti_diag_err(BATON_EVALUE, "update frame: reserved bytes are not zero");
	n = p[5];
	if (n == 0 || n > BATON_CODE_MAX)
		return bti_diag_err(BATON_EVALUE, "update frame: a code of %zu bytes (1 to %d)", n,
		                    BATON_CODE_MAX);
	if (len - FRAME_OFFER_HEAD < n + 1)
		return bti_diag_err(BATON_ETRUNC,
		                    "update frame: %zu bytes after the head, too few for a code "
		                    "of %zu and a directory",
		                    len - FRAME_OFFER_HEAD, n);
	memcpy(code, p + FRAME_OFFER_HEAD, n);
	code[n] = 0;
	if (strlen(code) != n || bti_check_code("update frame", "code", code) != 0) {
		code[0] = 0;
		return bti_diag_err(BATON_EVALUE, "update frame: the code is not a school code");
	}
	if (len > FRAME_UPDATE_MAX) {
		code[0] = 0;
		return bti_diag_err(BATON_ETOOBIG, "update frame: %zu bytes, over %lu", len,
		                    (unsigned long)FRAME_UPDATE_MAX);
	}
	*dir = p + FRAME_OFFER_HEAD + n;
	*dir_len = len - FRAME_OFFER_HEAD - n;
	return 0;
}

size_t bti_frame_update_len(const char *code, size_t dir_len)
{
	return FRAME_OFFER_HEAD + strlen(code) + dir_len;
}

int bti_frame_update_put(uint8_t *out, const char *code, const uint8_t *dir, size_t dir_len)
{
	size_t n = strlen(code);
	if (n == 0 || n > BATON_CODE_MAX || dir_len == 0 ||
	    bti_check_code("update frame", "code", code) != 0 ||
	    FRAME_OFFER_HEAD + n + dir_len > FRAME_UPDATE_MAX)
		return bti_diag_err(BATON_EINVAL, "update frame: a code of %zu bytes and %zu more",
		                    n, dir_len);
	memcpy(out, "BTNU", 4);
	out[4] = FRAME_OFFER_VERSION;
	out[5] = (uint8_t)n;
	out[6] = out[7] = 0;
	memcpy(out + FRAME_OFFER_HEAD, code, n);
	memcpy(out + FRAME_OFFER_HEAD + n, dir, dir_len);
	return 0;
}
