/*
 * Sealed packets: seal (stream out) and open (verify, then decrypt).
 *
 *   prefix   "BTNP" | version | kind | header length (u16 BE)
 *   header   canonical msgpack map; with the prefix, the AEAD's associated data
 *   body     XChaCha20-Poly1305 of the canonical body map
 *   streams  one crypto_secretstream per attachment, 64 KiB chunks
 *   sig      Ed25519 over "BATON-PACKET-SIG-v1\0" || BLAKE2b-512(all before)
 *
 * Key: K = BLAKE2b-256("BATON-PACKET-KEY-v1\0" || X25519(eph, recipient) ||
 * eph_pk || recipient_enc_pk || sender_id_pk || recipient_id_pk); the body
 * key and each attachment key are crypto_kdf subkeys of K. Because K and the
 * associated data both name the sender, a packet re-signed by anyone else no
 * longer decrypts; because the signature covers the recipient, it cannot be
 * re-addressed.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "proto_impl.h"

#define MAGIC        "BTNP"
#define KEY_DOMAIN   "BATON-PACKET-KEY-v1"
#define SIG_DOMAIN   "BATON-PACKET-SIG-v1"
#define HASH_DOMAIN  "BATON-PACKET-HASH-v1"
#define DIGEST_BYTES 64
#define SS_HEADER    crypto_secretstream_xchacha20poly1305_HEADERBYTES
#define SS_ABYTES    crypto_secretstream_xchacha20poly1305_ABYTES
#define AEAD_ABYTES  crypto_aead_xchacha20poly1305_ietf_ABYTES

_Static_assert(BATON_NONCE_BYTES == crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, "nonce size");
_Static_assert(crypto_kdf_KEYBYTES == 32, "kdf key size");

/*
 * The keys of opened packets, 32 bytes each, live in the slots of pages that
 * sodium_malloc locked and fenced, kept for the packets that follow: a key
 * no longer costs a sodium_malloc and a sodium_free of its own, half a dozen
 * system calls (mmap, mprotect, mlock and back) that a receiving node paid
 * for every packet. A slot is zeroed when it is given back. The pages stay
 * for the life of the process: as many as packets were ever open at once,
 * over 64.
 */
#define KEY_SLOTS 64
struct key_page {
	uint8_t slot[KEY_SLOTS][32];
	uint64_t used; /* bit i: slot i holds a key */
	struct key_page *next;
};

static pthread_mutex_t key_lock = PTHREAD_MUTEX_INITIALIZER;
static struct key_page *key_pages;

static uint8_t *key_take(void)
{
	struct key_page *p;
	uint8_t *k = NULL;

	pthread_mutex_lock(&key_lock);
	for (p = key_pages; p != NULL && p->used == UINT64_MAX; p = p->next)
		;
	if (p == NULL && (p = sodium_malloc(sizeof(*p))) != NULL) {
		memset(p, 0, sizeof(*p));
		p->next = key_pages;
		key_pages = p;
	}
	if (p != NULL) {
		int i = __builtin_ctzll(~p->used);
		p->used |= UINT64_C(1) << i;
		k = p->slot[i];
	}
	pthread_mutex_unlock(&key_lock);
	return k;
}

static void key_give(uint8_t *k)
{
	sodium_memzero(k, 32);
	pthread_mutex_lock(&key_lock);
	for (struct key_page *p = key_pages; p != NULL; p = p->next) {
		uintptr_t at = (uintptr_t)k, base = (uintptr_t)p->slot;
		if (at >= base && at < base + sizeof(p->slot)) {
			p->used &= ~(UINT64_C(1) << ((at - base) / 32));
			break;
		}
	}
	pthread_mutex_unlock(&key_lock);
}

struct baton_opened {
	baton_source src;
	baton_header hdr;
	baton_body body;
	baton_consent consent;
	baton_enrolment enrolment; /* when the body carries one in place of a consent */
	baton_packet_info info;
	uint8_t *plain; /* decrypted body; body's pointers point into it */
	size_t plain_len;
	uint64_t *att_off; /* offset of each attachment stream */
	uint8_t *key;      /* K, in sodium_malloc memory */
};

static uint64_t stream_len(uint64_t size)
{
	uint64_t chunks = size == 0 ? 1 : (size + BATON_CHUNK_BYTES - 1) / BATON_CHUNK_BYTES;
	return SS_HEADER + chunks * SS_ABYTES + size;
}

/* ---- memory source ---- */

static int mem_read_at(void *ctx, uint64_t off, uint8_t *buf, size_t len)
{
	const baton_source *s = ctx;
	const uint8_t *p = s->ctx;
	if (off > s->len || len > s->len - off)
		return BATON_ETRUNC;
	memcpy(buf, p + off, len);
	return 0;
}

void baton_source_mem(baton_source *src, const uint8_t *buf, size_t len)
{
	src->read_at = NULL;
	src->ctx = (void *)(uintptr_t)buf;
	src->len = len;
}

static int src_read(const baton_source *s, uint64_t off, uint8_t *buf, size_t len)
{
	if (off > s->len || len > s->len - off)
		return bti_diag_err(BATON_ETRUNC,
		                    "packet: ends at byte %llu, %zu more bytes needed at %llu",
		                    (unsigned long long)s->len, len, (unsigned long long)off);
	if (s->read_at == NULL)
		return mem_read_at((void *)(uintptr_t)s, off, buf, len);
	return s->read_at(s->ctx, off, buf, len);
}

/* ---- header ---- */

static const char *const header_keys[] = {"blen", "created", "eph",  "expires",
                                          "id",   "nonce",   "rcpt", "sndr"};
enum { HK_BLEN, HK_CREATED, HK_EPH, HK_EXPIRES, HK_ID, HK_NONCE, HK_RCPT, HK_SNDR, HK_N };

static void enc_header(struct enc *e, const void *obj)
{
	const baton_header *h = obj;
	bti_enc_map(e, HK_N);
	bti_enc_str(e, "blen"), bti_enc_uint(e, h->body_len);
	bti_enc_str(e, "created"), bti_enc_uint(e, h->created);
	bti_enc_str(e, "eph"), bti_enc_bin(e, h->eph, BATON_PK_BYTES);
	bti_enc_str(e, "expires"), bti_enc_uint(e, h->expires);
	bti_enc_str(e, "id"), bti_enc_bin(e, h->id, BATON_ID_BYTES);
	bti_enc_str(e, "nonce"), bti_enc_bin(e, h->nonce, BATON_NONCE_BYTES);
	bti_enc_str(e, "rcpt"), bti_enc_bin(e, h->recipient, BATON_PK_BYTES);
	bti_enc_str(e, "sndr"), bti_enc_bin(e, h->sender, BATON_PK_BYTES);
}

static int dec_header(const uint8_t *p, size_t len, baton_header *h)
{
	static const struct dec_limits lim = {BATON_HEADER_MAX, 1, 64};
	msgpack_zone z;
	msgpack_object o;
	const msgpack_object *v[HK_N];
	int r;

	if (!msgpack_zone_init(&z, 512))
		return BATON_ENOMEM;
	if ((r = bti_mp_decode(p, len, &lim, &z, &o)) != 0 ||
	    (r = bti_mp_fields(&o, "header", header_keys, HK_N, v)) != 0 ||
	    (r = bti_mp_uint(v[HK_BLEN], "header", "blen", &h->body_len)) != 0 ||
	    (r = bti_mp_uint(v[HK_CREATED], "header", "created", &h->created)) != 0 ||
	    (r = bti_mp_fixbin(v[HK_EPH], "header", "eph", h->eph, BATON_PK_BYTES)) != 0 ||
	    (r = bti_mp_uint(v[HK_EXPIRES], "header", "expires", &h->expires)) != 0 ||
	    (r = bti_mp_fixbin(v[HK_ID], "header", "id", h->id, BATON_ID_BYTES)) != 0 ||
	    (r = bti_mp_fixbin(v[HK_NONCE], "header", "nonce", h->nonce, BATON_NONCE_BYTES)) != 0 ||
	    (r = bti_mp_fixbin(v[HK_RCPT], "header", "rcpt", h->recipient, BATON_PK_BYTES)) != 0 ||
	    (r = bti_mp_fixbin(v[HK_SNDR], "header", "sndr", h->sender, BATON_PK_BYTES)) != 0)
		goto out;
	if (h->body_len < AEAD_ABYTES || h->body_len > BATON_BODY_MAX + AEAD_ABYTES) {
		r = bti_diag_err(BATON_EVALUE, "header.blen: %llu is outside %u..%u",
		                 (unsigned long long)h->body_len, (unsigned)AEAD_ABYTES,
		                 (unsigned)(BATON_BODY_MAX + AEAD_ABYTES));
		goto out;
	}
	if (h->expires <= h->created) {
		r = bti_diag_err(BATON_EVALUE, "header.expires: not after header.created");
		goto out;
	}
	if (h->expires - h->created > BATON_PACKET_MAX_LIFETIME) {
		r = bti_diag_err(BATON_EVALUE, "header.expires: more than %llu days after created",
		                 (unsigned long long)(BATON_PACKET_MAX_LIFETIME / 86400));
		goto out;
	}
	if ((r = bti_check_ed25519_pk("header", "sndr", h->sender)) != 0 ||
	    (r = bti_check_ed25519_pk("header", "rcpt", h->recipient)) != 0)
		goto out;
out:
	msgpack_zone_destroy(&z);
	return r;
}

static int read_prefix_header(const baton_source *src, uint8_t *ad, size_t *adlen, baton_header *h)
{
	int r;
	size_t hlen;

	memset(h, 0, sizeof(*h));
	if (src->len < BATON_PREFIX_BYTES)
		return bti_diag_err(BATON_ETRUNC, "packet: %llu bytes, shorter than the prefix",
		                    (unsigned long long)src->len);
	if ((r = src_read(src, 0, ad, BATON_PREFIX_BYTES)) != 0)
		return r;
	if (memcmp(ad, MAGIC, 4) != 0)
		return bti_diag_err(BATON_EMAGIC, "packet: does not start with \"BTNP\"");
	if (ad[4] != BATON_PACKET_VERSION)
		return bti_diag_err(BATON_EVERSION, "packet: version %u (this build reads %u)",
		                    ad[4], BATON_PACKET_VERSION);
	if (ad[5] != BATON_KIND_TRANSFER && ad[5] != BATON_KIND_REQUEST)
		return bti_diag_err(BATON_EKIND, "packet: unknown kind %u", ad[5]);
	hlen = ((size_t)ad[6] << 8) | ad[7];
	if (hlen == 0 || hlen > BATON_HEADER_MAX)
		return bti_diag_err(hlen ? BATON_ETOOBIG : BATON_EVALUE,
		                    "packet: header length %zu (1..%u)", hlen, BATON_HEADER_MAX);
	if ((r = src_read(src, BATON_PREFIX_BYTES, ad + BATON_PREFIX_BYTES, hlen)) != 0)
		return r;
	if ((r = dec_header(ad + BATON_PREFIX_BYTES, hlen, h)) != 0)
		return r;
	h->version = ad[4];
	h->kind = ad[5];
	*adlen = BATON_PREFIX_BYTES + hlen;
	return 0;
}

int baton_packet_peek(const baton_source *src, baton_header *hdr)
{
	uint8_t ad[BATON_PREFIX_BYTES + BATON_HEADER_MAX];
	size_t adlen;

	bti_diag_clear();
	return read_prefix_header(src, ad, &adlen, hdr);
}

/* ---- body ---- */

static const char *const transfer_keys[] = {"atts",       "audit",     "basis",    "consent",
                                            "enrolment",  "guardians", "sections", "state_id",
                                            "statements", "student",   "terms"};
enum {
	TK_ATTS,
	TK_AUDIT,
	TK_BASIS,
	TK_CONSENT,
	TK_ENROLMENT,
	TK_GUARDIANS,
	TK_SECTIONS,
	TK_STATE_ID,
	TK_STATEMENTS,
	TK_STUDENT,
	TK_TERMS,
	TK_N
};
static const char *const statements_keys[] = {"held", "objects"};
enum { SMK_HELD, SMK_OBJECTS, SMK_N };
static const char *const request_keys[] = {"audit", "consent", "enrolment", "note", "want"};
enum { QK_AUDIT, QK_CONSENT, QK_ENROLMENT, QK_NOTE, QK_WANT, QK_N };
static const char *const att_keys[] = {"hash", "media", "name", "section", "size"};
enum { AK_HASH, AK_MEDIA, AK_NAME, AK_SECTION, AK_SIZE, AK_N };

struct body_enc {
	const baton_body *b;
	baton_kind kind;
};

static uint32_t present_mask(const baton_body *b)
{
	uint32_t m = 0;
	for (int s = 0; s < BATON_SEC_COUNT; s++)
		if (b->section[s] != NULL)
			m |= BATON_SEC_BIT(s);
	return m;
}

static void enc_body(struct enc *e, const void *obj)
{
	const struct body_enc *be_ = obj;
	const baton_body *b = be_->b;

	if (be_->kind == BATON_KIND_REQUEST) {
		int has_note = b->note[0] != '\0';
		bti_enc_map(e, (uint32_t)(1 + has_note + (b->audit_len > 0) +
		                          (b->consent_len > 0 || b->enrolment_len == 0) +
		                          (b->enrolment_len > 0)));
		if (b->audit_len > 0)
			bti_enc_str(e, "audit"), bti_enc_bin(e, b->audit, b->audit_len);
		if (b->consent_len > 0 || b->enrolment_len == 0)
			bti_enc_str(e, "consent"), bti_enc_bin(e, b->consent, b->consent_len);
		if (b->enrolment_len > 0)
			bti_enc_str(e, "enrolment"), bti_enc_bin(e, b->enrolment, b->enrolment_len);
		if (has_note)
			bti_enc_str(e, "note"), bti_enc_str(e, b->note);
		bti_enc_str(e, "want"), bti_enc_sections(e, b->requested_mask);
		return;
	}
	int has_statements = b->n_held > 0 || b->n_statements > 0;
	int with_consent = !b->basis_enrolment || b->consent_len > 0;
	uint32_t n = 2 + (b->n_attachments > 0) + (b->n_guardians > 0) + (b->state_id[0] != 0) +
	             (b->audit_len > 0) + (b->terms_len > 0) + (b->basis_enrolment != 0) +
	             with_consent + (b->enrolment_len > 0) + has_statements;
	bti_enc_map(e, n);
	if (b->n_attachments > 0) {
		bti_enc_str(e, "atts");
		bti_enc_array(e, (uint32_t)b->n_attachments);
		for (size_t i = 0; i < b->n_attachments; i++) {
			const baton_attachment *a = &b->attachments[i];
			const char *sec = baton_section_name(a->section);
			bti_enc_map(e, AK_N);
			bti_enc_str(e, "hash"), bti_enc_bin(e, a->hash, BATON_HASH_BYTES);
			bti_enc_str(e, "media"), bti_enc_str(e, a->media_type);
			bti_enc_str(e, "name"), bti_enc_str(e, a->name);
			bti_enc_str(e, "section"), bti_enc_str(e, sec ? sec : "");
			bti_enc_str(e, "size"), bti_enc_uint(e, a->size);
		}
	}
	if (b->audit_len > 0)
		bti_enc_str(e, "audit"), bti_enc_bin(e, b->audit, b->audit_len);
	if (b->basis_enrolment)
		bti_enc_str(e, "basis"), bti_enc_str(e, "enrolment");
	if (with_consent)
		bti_enc_str(e, "consent"), bti_enc_bin(e, b->consent, b->consent_len);
	if (b->enrolment_len > 0)
		bti_enc_str(e, "enrolment"), bti_enc_bin(e, b->enrolment, b->enrolment_len);
	if (b->n_guardians > 0) {
		bti_enc_str(e, "guardians");
		bti_enc_array(e, (uint32_t)b->n_guardians);
		for (size_t i = 0; i < b->n_guardians && i < BATON_MAX_GUARDIANS; i++)
			bti_enc_bin(e, b->guardians[i], BATON_PK_BYTES);
	}
	uint32_t mask = present_mask(b);
	bti_enc_str(e, "sections");
	bti_enc_map(e, (uint32_t)__builtin_popcount(mask));
	for (int i = 0; i < BATON_SEC_COUNT; i++) { /* keys in bytewise name order */
		baton_section s = baton_section_nth(i);
		if (!(mask & BATON_SEC_BIT(s)))
			continue;
		bti_enc_str(e, baton_section_name(s));
		bti_enc_bin(e, b->section[s], b->section_len[s]);
	}
	if (b->state_id[0] != '\0')
		bti_enc_str(e, "state_id"), bti_enc_str(e, b->state_id);
	if (has_statements) {
		bti_enc_str(e, "statements");
		bti_enc_map(e, SMK_N);
		bti_enc_str(e, "held");
		bti_enc_array(e, (uint32_t)b->n_held);
		for (size_t i = 0; i < b->n_held && i < BATON_MAX_STATEMENTS; i++)
			bti_enc_bin(e, b->held[i], BATON_ID_BYTES);
		bti_enc_str(e, "objects");
		bti_enc_array(e, (uint32_t)b->n_statements);
		for (size_t i = 0; i < b->n_statements && i < BATON_MAX_STATEMENTS; i++)
			bti_enc_bin(e, b->statement[i], b->statement_len[i]);
	}
	bti_enc_str(e, "student"), bti_enc_str(e, b->student);
	if (b->terms_len > 0)
		bti_enc_str(e, "terms"), bti_enc_strn(e, b->terms, b->terms_len);
}

/*
 * Redisclosure terms (PROTOCOL.md 4.4): str 1..BATON_TERMS_MAX, the text
 * rule but with LF allowed. *p points into the body.
 */
static int dec_terms(const msgpack_object *v, const char **p, size_t *len)
{
	if (v->type != MSGPACK_OBJECT_STR)
		return bti_diag_err(BATON_ETYPE, "body.terms: expected a str");
	size_t n = v->via.str.size;
	if (n < 1 || n > BATON_TERMS_MAX)
		return bti_diag_err(BATON_EVALUE, "body.terms: %zu bytes, expected 1..%d", n,
		                    BATON_TERMS_MAX);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v->via.str.ptr[i];
		if ((c < 0x20 && c != '\n') || c == 0x7f)
			return bti_diag_err(BATON_EVALUE,
			                    "body.terms: contains a control character at byte %zu",
			                    i);
	}
	*p = v->via.str.ptr;
	*len = n;
	return 0;
}

static int check_filename(const char *what, const char *s)
{
	int r;
	if ((r = bti_check_text(what, "name", s)) != 0)
		return r;
	if (s[0] == '.' || strchr(s, '/') || strchr(s, '\\'))
		return bti_diag_err(
		    BATON_EVALUE,
		    "%s.name: \"%s\" must be a plain file name (no '/', '\\', leading '.')", what,
		    s);
	return 0;
}

static int check_media_type(const char *what, const char *s)
{
	const char *slash = strchr(s, '/');
	if (slash == NULL || slash == s || slash[1] == '\0' || strchr(slash + 1, '/'))
		goto bad;
	for (const char *c = s; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') || strchr("/!#$&^_.+-", *c)))
			goto bad;
	return 0;
bad:
	return bti_diag_err(BATON_EVALUE, "%s.media: \"%s\" is not a media type", what, s);
}

static int dec_attachment(const msgpack_object *o, size_t i, baton_attachment *a)
{
	const msgpack_object *v[AK_N];
	char what[32], sec[32];
	int r;

	snprintf(what, sizeof(what), "body.atts[%zu]", i);
	memset(a, 0, sizeof(*a));
	if ((r = bti_mp_fields(o, what, att_keys, AK_N, v)) != 0 ||
	    (r = bti_mp_fixbin(v[AK_HASH], what, "hash", a->hash, BATON_HASH_BYTES)) != 0 ||
	    (r = bti_mp_str(v[AK_MEDIA], what, "media", 3, a->media_type, sizeof(a->media_type))) !=
	        0 ||
	    (r = check_media_type(what, a->media_type)) != 0 ||
	    (r = bti_mp_str(v[AK_NAME], what, "name", 1, a->name, sizeof(a->name))) != 0 ||
	    (r = check_filename(what, a->name)) != 0 ||
	    (r = bti_mp_str(v[AK_SECTION], what, "section", 1, sec, sizeof(sec))) != 0 ||
	    (r = bti_mp_uint(v[AK_SIZE], what, "size", &a->size)) != 0)
		return r;
	if (baton_section_lookup(sec, strlen(sec), &a->section) != 0)
		return bti_diag_err(BATON_EVALUE, "%s.section: unknown section \"%s\"", what, sec);
	if (a->size > BATON_ATT_MAX)
		return bti_diag_err(BATON_EVALUE, "%s.size: %llu is over the limit", what,
		                    (unsigned long long)a->size);
	return 0;
}

/* The statements map (PROTOCOL.md 4.4): its shape only; the statements are checked at step 8. */
static int dec_statements(const msgpack_object *o, baton_body *b)
{
	const msgpack_object *v[SMK_N];
	char field[32];
	int r;

	if ((r = bti_mp_fields(o, "body.statements", statements_keys, SMK_N, v)) != 0 ||
	    (r = bti_mp_array(v[SMK_HELD], "body.statements", "held", 1, BATON_MAX_STATEMENTS)) !=
	        0)
		return r;
	b->n_held = v[SMK_HELD]->via.array.size;
	for (size_t i = 0; i < b->n_held; i++) {
		snprintf(field, sizeof(field), "held[%zu]", i);
		if ((r = bti_mp_fixbin(&v[SMK_HELD]->via.array.ptr[i], "body.statements", field,
		                       b->held[i], BATON_ID_BYTES)) != 0)
			return r;
		if (i > 0 && memcmp(b->held[i - 1], b->held[i], BATON_ID_BYTES) >= 0)
			return bti_diag_err(BATON_EVALUE,
			                    "body.statements.%s: not above the id before it (the "
			                    "list is strictly ascending)",
			                    field);
	}
	if ((r = bti_mp_array(v[SMK_OBJECTS], "body.statements", "objects", 1,
	                      BATON_MAX_STATEMENTS)) != 0)
		return r;
	b->n_statements = v[SMK_OBJECTS]->via.array.size;
	for (size_t i = 0; i < b->n_statements; i++) {
		snprintf(field, sizeof(field), "objects[%zu]", i);
		if ((r = bti_mp_bin(&v[SMK_OBJECTS]->via.array.ptr[i], "body.statements", field, 1,
		                    BATON_OBJ_MAX, &b->statement[i], &b->statement_len[i])) != 0)
			return r;
	}
	return 0;
}

static int dec_transfer(const msgpack_object *o, baton_body *b)
{
	baton_audit_head head;
	const msgpack_object *v[TK_N];
	const uint8_t *p;
	size_t n;
	int r;

	if ((r = bti_mp_fields(o, "body", transfer_keys, TK_N, v)) != 0)
		return r;
	if (v[TK_ATTS] != NULL) {
		if ((r = bti_mp_array(v[TK_ATTS], "body", "atts", 1, BATON_MAX_ATTACHMENTS)) != 0)
			return r;
		b->n_attachments = v[TK_ATTS]->via.array.size;
		if ((b->attachments = calloc(b->n_attachments, sizeof(*b->attachments))) == NULL)
			return BATON_ENOMEM;
		for (size_t i = 0; i < b->n_attachments; i++)
			if ((r = dec_attachment(&v[TK_ATTS]->via.array.ptr[i], i,
			                        &b->attachments[i])) != 0)
				return r;
	}
	if (v[TK_AUDIT] != NULL &&
	    (r = bti_audit_field(v[TK_AUDIT], "body", &b->audit, &b->audit_len, &head)) != 0)
		return r;
	if (v[TK_BASIS] != NULL) {
		char basis[16];
		if ((r = bti_mp_str(v[TK_BASIS], "body", "basis", 1, basis, sizeof(basis))) != 0 &&
		    r != BATON_EVALUE)
			return r;
		if (r != 0 || strcmp(basis, "enrolment") != 0)
			return bti_diag_err(BATON_EVALUE,
			                    "body.basis: expected \"enrolment\" (a consent is the "
			                    "basis when it is absent)");
		b->basis_enrolment = 1;
	}
	if (b->basis_enrolment && v[TK_CONSENT] != NULL)
		return bti_diag_err(BATON_EVALUE, "body.consent: not with basis enrolment");
	if (!b->basis_enrolment &&
	    (r = bti_mp_bin(v[TK_CONSENT], "body", "consent", 1, BATON_OBJ_MAX, &b->consent,
	                    &b->consent_len)) != 0)
		return r;
	if (!b->basis_enrolment && v[TK_ENROLMENT] != NULL)
		return bti_diag_err(BATON_EVALUE, "body.enrolment: only with basis enrolment");
	if (b->basis_enrolment &&
	    (r = bti_mp_bin(v[TK_ENROLMENT], "body", "enrolment", 1, BATON_OBJ_MAX, &b->enrolment,
	                    &b->enrolment_len)) != 0)
		return r;
	if (v[TK_GUARDIANS] != NULL) {
		if ((r = bti_mp_array(v[TK_GUARDIANS], "body", "guardians", 1,
		                      BATON_MAX_GUARDIANS)) != 0)
			return r;
		b->n_guardians = v[TK_GUARDIANS]->via.array.size;
		for (size_t i = 0; i < b->n_guardians; i++) {
			char field[32];
			snprintf(field, sizeof(field), "guardians[%zu]", i);
			if ((r = bti_mp_fixbin(&v[TK_GUARDIANS]->via.array.ptr[i], "body", field,
			                       b->guardians[i], BATON_PK_BYTES)) != 0 ||
			    (r = bti_check_ed25519_pk("body", field, b->guardians[i])) != 0)
				return r;
			for (size_t j = 0; j < i; j++)
				if (sodium_memcmp(b->guardians[j], b->guardians[i], 32) == 0)
					return bti_diag_err(BATON_EVALUE,
					                    "body.%s: repeats guardians[%zu]",
					                    field, j);
		}
	}
	if ((r = bti_mp_need(v[TK_SECTIONS], "body", "sections")) != 0)
		return r;
	if (v[TK_SECTIONS]->type != MSGPACK_OBJECT_MAP)
		return bti_diag_err(BATON_ETYPE, "body.sections: expected a map");
	const msgpack_object_map *m = &v[TK_SECTIONS]->via.map;
	for (uint32_t i = 0; i < m->size; i++) {
		const msgpack_object *k = &m->ptr[i].key;
		baton_section s;
		if (baton_section_lookup(k->via.str.ptr, k->via.str.size, &s) != 0)
			return bti_diag_err(BATON_EUNKNOWN,
			                    "body.sections: unknown section \"%.*s\"",
			                    (int)k->via.str.size, k->via.str.ptr);
		char field[48];
		snprintf(field, sizeof(field), "sections.%s", baton_section_name((baton_section)s));
		if ((r = bti_mp_bin(&m->ptr[i].val, "body", field, 1, BATON_BODY_MAX, &p, &n)) != 0)
			return r;
		if (!bti_utf8_valid(p, n))
			return bti_diag_err(BATON_EUTF8, "body.%s: not UTF-8 text", field);
		b->section[s] = p;
		b->section_len[s] = n;
	}
	if (b->section[BATON_SEC_IDENTITY] == NULL)
		return bti_diag_err(BATON_EMISSING,
		                    "body.sections.identity: required field missing");
	if (v[TK_STATE_ID] != NULL && ((r = bti_mp_str(v[TK_STATE_ID], "body", "state_id", 1,
	                                               b->state_id, sizeof(b->state_id))) != 0 ||
	                               (r = bti_check_text("body", "state_id", b->state_id)) != 0))
		return r;
	if (v[TK_STATEMENTS] != NULL) {
		if (v[TK_STATEMENTS]->type != MSGPACK_OBJECT_MAP)
			return bti_diag_err(BATON_ETYPE, "body.statements: expected a map");
		if ((r = dec_statements(v[TK_STATEMENTS], b)) != 0)
			return r;
	}
	if ((r = bti_mp_str(v[TK_STUDENT], "body", "student", 1, b->student, sizeof(b->student))) !=
	        0 ||
	    (r = bti_check_text("body", "student", b->student)) != 0)
		return r;
	if (v[TK_TERMS] != NULL && (r = dec_terms(v[TK_TERMS], &b->terms, &b->terms_len)) != 0)
		return r;
	for (size_t i = 0; i < b->n_attachments; i++)
		if (b->section[b->attachments[i].section] == NULL)
			return bti_diag_err(BATON_EVALUE,
			                    "body.atts[%zu].section: \"%s\" is not in the packet",
			                    i, baton_section_name(b->attachments[i].section));
	return 0;
}

static int dec_request(const msgpack_object *o, baton_body *b)
{
	const msgpack_object *v[QK_N];
	baton_audit_head head;
	int r;

	if ((r = bti_mp_fields(o, "body", request_keys, QK_N, v)) != 0 ||
	    (v[QK_AUDIT] != NULL &&
	     (r = bti_audit_field(v[QK_AUDIT], "body", &b->audit, &b->audit_len, &head)) != 0) ||
	    (v[QK_CONSENT] != NULL &&
	     (r = bti_mp_bin(v[QK_CONSENT], "body", "consent", 1, BATON_OBJ_MAX, &b->consent,
	                     &b->consent_len)) != 0) ||
	    (v[QK_ENROLMENT] != NULL &&
	     (r = bti_mp_bin(v[QK_ENROLMENT], "body", "enrolment", 1, BATON_OBJ_MAX, &b->enrolment,
	                     &b->enrolment_len)) != 0))
		return r;
	/* Exactly one basis: the family's consent, or the enrolling school's statement. */
	if (v[QK_CONSENT] != NULL && v[QK_ENROLMENT] != NULL)
		return bti_diag_err(BATON_EVALUE,
		                    "body.enrolment: with body.consent (exactly one)");
	if (v[QK_CONSENT] == NULL && v[QK_ENROLMENT] == NULL)
		return bti_diag_err(BATON_EMISSING,
		                    "body.consent: required field missing (or body.enrolment)");
	if (v[QK_NOTE] != NULL &&
	    ((r = bti_mp_str(v[QK_NOTE], "body", "note", 1, b->note, sizeof(b->note))) != 0 ||
	     (r = bti_check_text("body", "note", b->note)) != 0))
		return r;
	return bti_mp_sections(v[QK_WANT], "body", "want", &b->requested_mask);
}

/* Decodes a body of the given kind; pointers in *b point into p. */
static int dec_body(const uint8_t *p, size_t len, baton_kind kind, baton_body *b)
{
	static const struct dec_limits lim = {BATON_BODY_MAX, 4, 2048};
	msgpack_zone z;
	msgpack_object o;
	int r;

	memset(b, 0, sizeof(*b));
	if (!msgpack_zone_init(&z, 4096))
		return BATON_ENOMEM;
	if ((r = bti_mp_decode(p, len, &lim, &z, &o)) == 0)
		r = kind == BATON_KIND_REQUEST ? dec_request(&o, b) : dec_transfer(&o, b);
	msgpack_zone_destroy(&z);
	if (r != 0) {
		free(b->attachments);
		memset(b, 0, sizeof(*b));
	}
	return r;
}

static int body_head_is_sender(const baton_header *h, const baton_body *b)
{
	baton_audit_head head;
	int r;
	if (b->audit_len == 0)
		return 0;
	/* Decoded once already: only running out of memory can fail here. */
	if ((r = baton_audit_head_parse(b->audit, b->audit_len, &head)) != 0)
		return r == BATON_ENOMEM ? r : bti_diag_err(r, "body.audit: %s", baton_strerror(r));
	if (sodium_memcmp(head.key, h->sender, BATON_PK_BYTES) != 0)
		return bti_diag_err(BATON_EVALUE,
		                    "body.audit: signed by another key than header.sndr");
	return 0;
}

/*
 * The statement check (PROTOCOL.md 5.1 step 8): every statement carried is
 * the family's, about this student at the sender and a section sent, and
 * declared; every statement declared is carried.
 */
static int body_statements_check(const baton_header *h, const baton_body *b)
{
	baton_statement *st;
	uint8_t seen[BATON_MAX_STATEMENTS] = {0};
	int r = 0;

	if (h->kind != BATON_KIND_TRANSFER || (b->n_statements == 0 && b->n_held == 0))
		return 0;
	if ((st = malloc(sizeof(*st))) == NULL)
		return BATON_ENOMEM;
	for (size_t i = 0; i < b->n_statements; i++) {
		size_t k;
		if ((r = baton_statement_parse(b->statement[i], b->statement_len[i], st)) != 0) {
			if (r != BATON_ENOMEM) {
				char why[300];
				snprintf(why, sizeof(why), "%s",
				         baton_diag()[0] ? baton_diag() : baton_strerror(r));
				r = bti_diag_err(BATON_EVALUE,
				                 "body.statements.objects[%zu]: %s (%s)", i, why,
				                 baton_errname(r));
			}
			break;
		}
		if (sodium_memcmp(st->school, h->sender, BATON_PK_BYTES) != 0) {
			r = bti_diag_err(BATON_EVALUE,
			                 "body.statements.objects[%zu]: about a record at another "
			                 "school than header.sndr",
			                 i);
			break;
		}
		if (strcmp(st->student, b->student) != 0) {
			r = bti_diag_err(BATON_EVALUE,
			                 "body.statements.objects[%zu]: about another student than "
			                 "body.student",
			                 i);
			break;
		}
		if (b->section[st->section] == NULL) {
			r = bti_diag_err(
			    BATON_EVALUE,
			    "body.statements.objects[%zu]: section \"%s\" is not in the "
			    "packet",
			    i, baton_section_name(st->section));
			break;
		}
		for (k = 0; k < b->n_held; k++)
			if (memcmp(b->held[k], st->id, BATON_ID_BYTES) == 0)
				break;
		if (k == b->n_held) {
			r = bti_diag_err(BATON_EVALUE,
			                 "body.statements.objects[%zu]: its id is not in "
			                 "body.statements.held",
			                 i);
			break;
		}
		if (seen[k]) {
			r = bti_diag_err(BATON_EVALUE,
			                 "body.statements.objects[%zu]: the same statement twice",
			                 i);
			break;
		}
		seen[k] = 1;
	}
	for (size_t k = 0; r == 0 && k < b->n_held; k++)
		if (!seen[k]) {
			char idhex[2 * BATON_ID_BYTES + 1];
			sodium_bin2hex(idhex, sizeof(idhex), b->held[k], BATON_ID_BYTES);
			r = bti_diag_err(
			    BATON_EVALUE,
			    "body.statements.held[%zu]: statement %s, which the sender "
			    "holds, is not in the packet",
			    k, idhex);
		}
	free(st);
	return r;
}

int bti_packet_body_decode(const uint8_t *p, size_t len, int kind, baton_body *b)
{
	return dec_body(p, len, (baton_kind)kind, b);
}

void bti_packet_body_free(baton_body *b)
{
	free(b->attachments);
	memset(b, 0, sizeof(*b));
}

int bti_packet_body_encode(const baton_body *b, int kind, uint8_t **out, size_t *len)
{
	struct body_enc be_ = {b, (baton_kind)kind};
	return bti_enc_alloc(enc_body, &be_, out, len);
}

/*
 * The consent must cover this packet: a transfer is sent by the consent's
 * sending school to its receiving school, for its student, with no section
 * beyond it (identity always travels), signed by one of the listed guardian
 * keys, and made while the consent was valid. A request comes from the
 * receiving school and asks for no more than the consent allows.
 */
/* 1 when pk is one of the n former keys and the consent was issued before that key was left. */
static int is_named_former(const baton_former_key *k, size_t n, const uint8_t *pk,
                           const baton_consent *c, uint64_t skew)
{
	for (size_t i = 0; k && i < n; i++)
		if (sodium_memcmp(k[i].pk, pk, BATON_PK_BYTES) == 0 &&
		    c->issued <= k[i].until + skew)
			return 1;
	return 0;
}

/* 1 when verified is the parse of exactly these consent bytes. */
static int is_parse_of(const baton_consent *verified, const uint8_t *p, size_t len)
{
	uint8_t hash[BATON_HASH_BYTES];

	if (verified == NULL)
		return 0;
	crypto_generichash(hash, sizeof(hash), p, len, NULL, 0);
	return sodium_memcmp(hash, verified->hash, sizeof(hash)) == 0;
}

/*
 * The enclosed enrolment statement covers the packet (PROTOCOL.md 5.2): it
 * is the receiving school's (the requester's) statement, naming the sending
 * school, valid when the packet was made, for the student a transfer
 * carries. *s is the statement.
 */
static int check_enrolment(const baton_header *h, const baton_body *b, uint64_t skew,
                           baton_enrolment *s)
{
	int r;
	if ((r = baton_enrolment_parse(b->enrolment, b->enrolment_len, s)) != 0) {
		if (r == BATON_ENOMEM)
			return r;
		char why[400];
		snprintf(why, sizeof(why), "%s", baton_diag());
		return bti_diag_err(BATON_ECONSENT, "body.enrolment: %s (%s)", baton_strerror(r),
		                    why);
	}
	const uint8_t *from = h->kind == BATON_KIND_TRANSFER ? h->sender : h->recipient;
	const uint8_t *to = h->kind == BATON_KIND_TRANSFER ? h->recipient : h->sender;
	if (sodium_memcmp(s->from_pk, from, BATON_PK_BYTES) != 0)
		return bti_diag_err(BATON_ECONSENT, "body.enrolment: names another sending school");
	if (sodium_memcmp(s->to_pk, to, BATON_PK_BYTES) != 0)
		return bti_diag_err(BATON_ECONSENT,
		                    "body.enrolment: signed by another school than the one the "
		                    "student is enrolling at");
	if (baton_check_validity(s->issued, s->expires, h->created, skew) != 0)
		return bti_diag_err(BATON_ECONSENT,
		                    "body.enrolment: not valid when the packet was made");
	if (h->kind == BATON_KIND_TRANSFER && strcmp(s->student, b->student) != 0)
		return bti_diag_err(BATON_ECONSENT,
		                    "body.enrolment: for student \"%s\", not \"%s\"", s->student,
		                    b->student);
	return 0;
}

/*
 * The enclosed consent covers the packet; *c is the consent. verified (may
 * be NULL) is the caller's parse of it, used only for exactly those bytes.
 */
static int check_consent(const baton_header *h, const baton_body *b, uint64_t skew,
                         const baton_former_keys *fk, const baton_consent *verified,
                         baton_consent *c)
{
	int r;
	char bad[160];

	if (is_parse_of(verified, b->consent, b->consent_len))
		*c = *verified;
	else if ((r = baton_consent_parse(b->consent, b->consent_len, c)) != 0) {
		if (r == BATON_ENOMEM)
			return r; /* the receiver's trouble, not the consent's */
		char why[400];
		snprintf(why, sizeof(why), "%s", baton_diag());
		return bti_diag_err(BATON_ECONSENT, "body.consent: %s (%s)", baton_strerror(r),
		                    why);
	}
	const uint8_t *from = h->kind == BATON_KIND_TRANSFER ? h->sender : h->recipient;
	const uint8_t *to = h->kind == BATON_KIND_TRANSFER ? h->recipient : h->sender;
	if (sodium_memcmp(c->from_pk, from, BATON_PK_BYTES) != 0 &&
	    !(fk && is_named_former(fk->from, fk->n_from, c->from_pk, c, skew)))
		return bti_diag_err(BATON_ECONSENT,
		                    "body.consent: names another sending school (%s)",
		                    c->from_code);
	if (sodium_memcmp(c->to_pk, to, BATON_PK_BYTES) != 0 &&
	    !(fk && is_named_former(fk->to, fk->n_to, c->to_pk, c, skew)))
		return bti_diag_err(BATON_ECONSENT,
		                    "body.consent: names another receiving school (%s)",
		                    c->to_code);
	if (baton_check_validity(c->issued, c->expires, h->created, skew) != 0)
		return bti_diag_err(BATON_ECONSENT,
		                    "body.consent: not valid when the packet was made");
	if (h->kind == BATON_KIND_REQUEST) {
		uint32_t extra =
		    b->requested_mask & ~(c->sections | BATON_SEC_BIT(BATON_SEC_IDENTITY));
		if (extra != 0) {
			baton_sections_format(extra, bad, sizeof(bad));
			return bti_diag_err(BATON_ECONSENT, "body.want: %s not in the consent",
			                    bad);
		}
		return 0;
	}
	if (strcmp(c->student, b->student) != 0)
		return bti_diag_err(BATON_ECONSENT, "body.consent: for student \"%s\", not \"%s\"",
		                    c->student, b->student);
	uint32_t extra = present_mask(b) & ~(c->sections | BATON_SEC_BIT(BATON_SEC_IDENTITY));
	if (extra != 0) {
		baton_sections_format(extra, bad, sizeof(bad));
		return bti_diag_err(BATON_ECONSENT, "body.sections: %s not in the consent", bad);
	}
	for (size_t i = 0; i < b->n_guardians; i++)
		if (sodium_memcmp(b->guardians[i], c->signer, BATON_PK_BYTES) == 0)
			return 0;
	return bti_diag_err(BATON_ECONSENT, "body.consent: signer is not among body.guardians");
}

/* ---- keys ---- */

static int derive_key(uint8_t k[32], const uint8_t ss[32], const uint8_t eph_pk[32],
                      const uint8_t rcpt_enc_pk[32], const uint8_t sender_id_pk[32],
                      const uint8_t rcpt_id_pk[32])
{
	crypto_generichash_state st;
	crypto_generichash_init(&st, NULL, 0, 32);
	crypto_generichash_update(&st, (const uint8_t *)KEY_DOMAIN, sizeof(KEY_DOMAIN));
	crypto_generichash_update(&st, ss, 32);
	crypto_generichash_update(&st, eph_pk, 32);
	crypto_generichash_update(&st, rcpt_enc_pk, 32);
	crypto_generichash_update(&st, sender_id_pk, 32);
	crypto_generichash_update(&st, rcpt_id_pk, 32);
	crypto_generichash_final(&st, k, 32);
	sodium_memzero(&st, sizeof(st));
	return 0;
}

static void subkey(uint8_t out[32], uint64_t id, const uint8_t k[32])
{
	/* id 0: the body; id i+1: attachment i. */
	crypto_kdf_derive_from_key(out, 32, id, id == 0 ? "BTNbody_" : "BTNattch", k);
}

static void sig_message(uint8_t msg[sizeof(SIG_DOMAIN) + DIGEST_BYTES],
                        const uint8_t digest[DIGEST_BYTES])
{
	memcpy(msg, SIG_DOMAIN, sizeof(SIG_DOMAIN));
	memcpy(msg + sizeof(SIG_DOMAIN), digest, DIGEST_BYTES);
}

static void packet_hash(uint8_t out[BATON_HASH_BYTES], const uint8_t digest[DIGEST_BYTES],
                        const uint8_t sig[BATON_SIG_BYTES])
{
	crypto_generichash_state st;
	crypto_generichash_init(&st, NULL, 0, BATON_HASH_BYTES);
	crypto_generichash_update(&st, (const uint8_t *)HASH_DOMAIN, sizeof(HASH_DOMAIN));
	crypto_generichash_update(&st, digest, DIGEST_BYTES);
	crypto_generichash_update(&st, sig, BATON_SIG_BYTES);
	crypto_generichash_final(&st, out, BATON_HASH_BYTES);
}

/* ---- seal ---- */

struct hashed_writer {
	baton_write_fn w;
	void *ctx;
	crypto_generichash_state st;
	uint64_t len;
};

static int hw_write(struct hashed_writer *hw, const uint8_t *p, size_t n)
{
	crypto_generichash_update(&hw->st, p, n);
	hw->len += n;
	return hw->w(hw->ctx, p, n);
}

static int seal_attachment(struct hashed_writer *hw, const uint8_t k[32], size_t i,
                           const baton_attachment *a, const baton_att_reader *rd, uint8_t *buf,
                           uint8_t *ct)
{
	crypto_secretstream_xchacha20poly1305_state ss;
	crypto_generichash_state h;
	uint8_t ak[32], hdr[SS_HEADER], hash[BATON_HASH_BYTES];
	uint64_t left = a->size;
	int r;

	subkey(ak, i + 1, k);
	crypto_secretstream_xchacha20poly1305_init_push(&ss, hdr, ak);
	sodium_memzero(ak, sizeof(ak));
	crypto_generichash_init(&h, NULL, 0, BATON_HASH_BYTES);
	if ((r = hw_write(hw, hdr, sizeof(hdr))) != 0)
		goto out;
	do {
		size_t n = left < BATON_CHUNK_BYTES ? (size_t)left : BATON_CHUNK_BYTES;
		unsigned long long clen;
		if (n > 0 && (r = rd->read(rd->ctx, buf, n)) != 0)
			goto out;
		crypto_generichash_update(&h, buf, n);
		left -= n;
		uint8_t tag = left == 0 ? crypto_secretstream_xchacha20poly1305_TAG_FINAL
		                        : crypto_secretstream_xchacha20poly1305_TAG_MESSAGE;
		crypto_secretstream_xchacha20poly1305_push(&ss, ct, &clen, buf, n, NULL, 0, tag);
		if ((r = hw_write(hw, ct, (size_t)clen)) != 0)
			goto out;
	} while (left > 0);
	crypto_generichash_final(&h, hash, sizeof(hash));
	if (sodium_memcmp(hash, a->hash, BATON_HASH_BYTES) != 0)
		r = bti_diag_err(BATON_EHASH, "attachment \"%s\": bytes read do not match its hash",
		                 a->name);
out:
	sodium_memzero(&ss, sizeof(ss));
	sodium_memzero(buf, BATON_CHUNK_BYTES);
	return r;
}

int baton_packet_seal(const baton_seal_params *p, const baton_body *body,
                      const baton_att_reader *readers, baton_write_fn w, void *wctx,
                      baton_packet_info *info)
{
	return baton_packet_seal_former(p, NULL, body, readers, w, wctx, info);
}

int baton_packet_seal_former(const baton_seal_params *p, const baton_former_keys *former,
                             const baton_body *body, const baton_att_reader *readers,
                             baton_write_fn w, void *wctx, baton_packet_info *info)
{
	struct body_enc be_ = {body, p->kind};
	struct hashed_writer hw = {.w = w, .ctx = wctx};
	baton_header h;
	baton_body check;
	uint8_t *plain = NULL, *ct = NULL, *buf = NULL, *ctbuf = NULL;
	uint8_t ad[BATON_PREFIX_BYTES + BATON_HEADER_MAX];
	uint8_t eph_sk[32], ss[32], k[32], bk[32], digest[DIGEST_BYTES], sig[BATON_SIG_BYTES];
	uint8_t msg[sizeof(SIG_DOMAIN) + DIGEST_BYTES];
	size_t plen = 0;
	int r;

	bti_diag_clear();
	memset(&check, 0, sizeof(check));
	if (info)
		memset(info, 0, sizeof(*info));
	if ((p->kind != BATON_KIND_TRANSFER && p->kind != BATON_KIND_REQUEST) ||
	    p->sender_sk == NULL || p->recipient_id_pk == NULL || p->recipient_enc_pk == NULL ||
	    p->expires <= p->created || (body->n_attachments > 0 && readers == NULL))
		return bti_diag_err(BATON_EINVAL,
		                    "seal: missing key, bad kind or expiry not after creation");
	if (p->kind == BATON_KIND_REQUEST && body->n_attachments > 0)
		return bti_diag_err(BATON_EINVAL, "seal: a request carries no attachments");
	if (p->expires - p->created > BATON_PACKET_MAX_LIFETIME)
		return bti_diag_err(BATON_EINVAL, "seal: valid for more than %llu days",
		                    (unsigned long long)(BATON_PACKET_MAX_LIFETIME / 86400));
	if (body->n_guardians > BATON_MAX_GUARDIANS || body->n_attachments > BATON_MAX_ATTACHMENTS)
		return bti_diag_err(BATON_EINVAL, "seal: more than %d guardians or %d attachments",
		                    BATON_MAX_GUARDIANS, BATON_MAX_ATTACHMENTS);
	if ((r = bti_check_ed25519_pk("recipient", "id", p->recipient_id_pk)) != 0 ||
	    (r = bti_check_x25519_pk("recipient", "enc", p->recipient_enc_pk)) != 0)
		return r;

	/* Encode, then decode with the receiver's rules: never seal what we would refuse. */
	if ((r = bti_enc_alloc(enc_body, &be_, &plain, &plen)) != 0)
		goto out;
	if (plen > BATON_BODY_MAX) {
		r = bti_diag_err(BATON_ETOOBIG, "seal: body of %zu bytes is over %u", plen,
		                 BATON_BODY_MAX);
		goto out;
	}
	if ((r = dec_body(plain, plen, p->kind, &check)) != 0)
		goto out;

	memset(&h, 0, sizeof(h));
	h.version = BATON_PACKET_VERSION;
	h.kind = (uint8_t)p->kind;
	randombytes_buf(h.id, sizeof(h.id));
	randombytes_buf(h.nonce, sizeof(h.nonce));
	memcpy(h.sender, p->sender_sk + 32, BATON_PK_BYTES);
	memcpy(h.recipient, p->recipient_id_pk, BATON_PK_BYTES);
	h.created = p->created;
	h.expires = p->expires;
	h.body_len = plen + AEAD_ABYTES;
	if ((r = body_statements_check(&h, &check)) != 0)
		goto out;
	{
		baton_consent c;
		baton_enrolment en;
		if ((r = check.enrolment_len > 0
		             ? check_enrolment(&h, &check, 0, &en)
		             : check_consent(&h, &check, 0, former, p->consent, &c)) != 0)
			goto out;
	}
	randombytes_buf(eph_sk, sizeof(eph_sk));
	crypto_scalarmult_base(h.eph, eph_sk);
	if (crypto_scalarmult(ss, eph_sk, p->recipient_enc_pk) != 0) {
		r = bti_diag_err(BATON_EBADKEY, "recipient.enc: low-order X25519 public key");
		goto out;
	}
	derive_key(k, ss, h.eph, p->recipient_enc_pk, h.sender, h.recipient);

	struct enc e;
	bti_enc_init(&e, ad + BATON_PREFIX_BYTES, BATON_HEADER_MAX);
	enc_header(&e, &h);
	if (e.err) {
		r = e.err;
		goto out;
	}
	memcpy(ad, MAGIC, 4);
	ad[4] = BATON_PACKET_VERSION;
	ad[5] = (uint8_t)p->kind;
	ad[6] = (uint8_t)(e.len >> 8);
	ad[7] = (uint8_t)e.len;
	size_t adlen = BATON_PREFIX_BYTES + e.len;

	if ((ct = malloc(plen + AEAD_ABYTES)) == NULL) {
		r = BATON_ENOMEM;
		goto out;
	}
	subkey(bk, 0, k);
	crypto_aead_xchacha20poly1305_ietf_encrypt(ct, NULL, plain, plen, ad, adlen, NULL, h.nonce,
	                                           bk);
	crypto_generichash_init(&hw.st, NULL, 0, DIGEST_BYTES);
	if ((r = hw_write(&hw, ad, adlen)) != 0 || (r = hw_write(&hw, ct, plen + AEAD_ABYTES)) != 0)
		goto out;

	if (body->n_attachments > 0) {
		if ((buf = malloc(BATON_CHUNK_BYTES)) == NULL ||
		    (ctbuf = malloc(BATON_CHUNK_BYTES + SS_ABYTES)) == NULL) {
			r = BATON_ENOMEM;
			goto out;
		}
		for (size_t i = 0; i < body->n_attachments; i++)
			if ((r = seal_attachment(&hw, k, i, &body->attachments[i], &readers[i], buf,
			                         ctbuf)) != 0)
				goto out;
	}

	crypto_generichash_final(&hw.st, digest, sizeof(digest));
	sig_message(msg, digest);
	crypto_sign_detached(sig, NULL, msg, sizeof(msg), p->sender_sk);
	if ((r = w(wctx, sig, sizeof(sig))) != 0)
		goto out;
	if (info) {
		memcpy(info->id, h.id, sizeof(h.id));
		packet_hash(info->hash, digest, sig);
		info->len = hw.len + sizeof(sig);
	}
out:
	sodium_memzero(eph_sk, sizeof(eph_sk));
	sodium_memzero(ss, sizeof(ss));
	sodium_memzero(k, sizeof(k));
	sodium_memzero(bk, sizeof(bk));
	if (plain) {
		sodium_memzero(plain, plen);
		free(plain);
	}
	free(check.attachments);
	free(ct);
	free(buf);
	free(ctbuf);
	return r;
}

/* ---- open ---- */

/* BLAKE2b-512 of [0, len - 64), the message the signature covers. */
static int digest_of(const baton_source *src, uint8_t digest[DIGEST_BYTES], uint8_t *buf)
{
	crypto_generichash_state st;
	uint64_t end = src->len - BATON_SIG_BYTES, off = 0;
	int r;
	crypto_generichash_init(&st, NULL, 0, DIGEST_BYTES);
	while (off < end) {
		size_t n = end - off < BATON_CHUNK_BYTES ? (size_t)(end - off) : BATON_CHUNK_BYTES;
		if ((r = src_read(src, off, buf, n)) != 0)
			return r;
		crypto_generichash_update(&st, buf, n);
		off += n;
	}
	crypto_generichash_final(&st, digest, DIGEST_BYTES);
	return 0;
}

int baton_packet_hash(const baton_source *src, uint8_t out[BATON_HASH_BYTES])
{
	uint8_t digest[DIGEST_BYTES], sig[BATON_SIG_BYTES], *buf;
	int r;

	bti_diag_clear();
	if (src->len < BATON_SIG_BYTES)
		return bti_diag_err(BATON_ETRUNC, "packet: shorter than a signature");
	if ((buf = malloc(BATON_CHUNK_BYTES)) == NULL)
		return BATON_ENOMEM;
	if ((r = digest_of(src, digest, buf)) == 0 &&
	    (r = src_read(src, src->len - BATON_SIG_BYTES, sig, sizeof(sig))) == 0)
		packet_hash(out, digest, sig);
	free(buf);
	return r;
}

int baton_packet_verify(const baton_source *src, baton_header *hdr)
{
	uint8_t ad[BATON_PREFIX_BYTES + BATON_HEADER_MAX];
	uint8_t digest[DIGEST_BYTES], sig[BATON_SIG_BYTES];
	uint8_t msg[sizeof(SIG_DOMAIN) + DIGEST_BYTES];
	uint8_t *buf = NULL;
	size_t adlen = 0;
	int r;

	bti_diag_clear();
	/* Steps 1, 2, 4 and 5 of opening, with the same errors. */
	if ((r = read_prefix_header(src, ad, &adlen, hdr)) != 0)
		return r;
	if (src->len < adlen + hdr->body_len + BATON_SIG_BYTES)
		return bti_diag_err(BATON_ETRUNC, "packet: %llu bytes cannot hold a %llu-byte body",
		                    (unsigned long long)src->len,
		                    (unsigned long long)hdr->body_len);
	if ((buf = malloc(BATON_CHUNK_BYTES)) == NULL)
		return BATON_ENOMEM;
	if ((r = digest_of(src, digest, buf)) != 0 ||
	    (r = src_read(src, src->len - BATON_SIG_BYTES, sig, sizeof(sig))) != 0)
		goto out;
	sig_message(msg, digest);
	if (crypto_sign_verify_detached(sig, msg, sizeof(msg), hdr->sender) != 0)
		r = bti_diag_err(BATON_EBADSIG, "packet.signature: does not verify");
out:
	free(buf);
	return r;
}

int baton_packet_open(const baton_source *src, const baton_open_params *p, baton_opened **out)
{
	return baton_packet_open_former(src, p, NULL, out);
}

int baton_packet_open_former(const baton_source *src, const baton_open_params *p,
                             const baton_former_keys *former, baton_opened **out)
{
	baton_opened *o = NULL;
	uint8_t ad[BATON_PREFIX_BYTES + BATON_HEADER_MAX];
	uint8_t digest[DIGEST_BYTES], sig[BATON_SIG_BYTES], ss[32], bk[32];
	uint8_t msg[sizeof(SIG_DOMAIN) + DIGEST_BYTES];
	uint8_t *buf = NULL;
	size_t adlen = 0;
	int r;

	bti_diag_clear();
	*out = NULL;
	if (p->id_pk == NULL || p->enc_sk == NULL || p->enc_pk == NULL)
		return BATON_EINVAL;
	if ((o = calloc(1, sizeof(*o))) == NULL)
		return BATON_ENOMEM;
	o->src = *src;

	/* 1-2: prefix and header. */
	if ((r = read_prefix_header(src, ad, &adlen, &o->hdr)) != 0)
		goto out;
	/* 3: addressed to this school. */
	if (sodium_memcmp(o->hdr.recipient, p->id_pk, BATON_PK_BYTES) != 0) {
		r = bti_diag_err(BATON_EWRONGRCPT, "header.rcpt: addressed to another school");
		goto out;
	}
	/* 4: room for the body and the signature. */
	if (src->len < adlen + o->hdr.body_len + BATON_SIG_BYTES) {
		r = bti_diag_err(BATON_ETRUNC, "packet: %llu bytes cannot hold a %llu-byte body",
		                 (unsigned long long)src->len, (unsigned long long)o->hdr.body_len);
		goto out;
	}
	/* 5: the sender's signature over everything before it. */
	{
		uint64_t end = src->len - BATON_SIG_BYTES;
		if ((buf = malloc(BATON_CHUNK_BYTES + SS_ABYTES)) == NULL) {
			r = BATON_ENOMEM;
			goto out;
		}
		if ((r = digest_of(src, digest, buf)) != 0 ||
		    (r = src_read(src, end, sig, sizeof(sig))) != 0)
			goto out;
		sig_message(msg, digest);
		if (crypto_sign_verify_detached(sig, msg, sizeof(msg), o->hdr.sender) != 0) {
			r = bti_diag_err(BATON_EBADSIG, "packet.signature: does not verify");
			goto out;
		}
		memcpy(o->info.id, o->hdr.id, BATON_ID_BYTES);
		packet_hash(o->info.hash, digest, sig);
		o->info.len = src->len;
	}
	/* 6: validity period. */
	if ((r = baton_check_validity(o->hdr.created, o->hdr.expires, p->now, p->skew)) != 0) {
		bti_diag_set("header: %s (created %llu, expires %llu, now %llu)",
		             r == BATON_EEXPIRED ? "expired" : "created in the future",
		             (unsigned long long)o->hdr.created, (unsigned long long)o->hdr.expires,
		             (unsigned long long)p->now);
		goto out;
	}
	/* 7: key agreement and body decryption. */
	if ((o->key = key_take()) == NULL) {
		r = BATON_ENOMEM;
		goto out;
	}
	if (crypto_scalarmult(ss, p->enc_sk, o->hdr.eph) != 0) {
		r = bti_diag_err(BATON_EBADKEY, "header.eph: low-order X25519 public key");
		goto out;
	}
	derive_key(o->key, ss, o->hdr.eph, p->enc_pk, o->hdr.sender, o->hdr.recipient);
	subkey(bk, 0, o->key);
	o->plain_len = (size_t)o->hdr.body_len - AEAD_ABYTES;
	if ((o->plain = malloc((size_t)o->hdr.body_len)) == NULL) {
		r = BATON_ENOMEM;
		goto out;
	}
	if ((r = src_read(src, adlen, o->plain, (size_t)o->hdr.body_len)) != 0)
		goto out;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(o->plain, NULL, NULL, o->plain,
	                                               o->hdr.body_len, ad, adlen, o->hdr.nonce,
	                                               bk) != 0) {
		r = bti_diag_err(BATON_EDECRYPT, "packet.body: does not decrypt for this school");
		goto out;
	}
	/* 8: body decoding; a head in the body is the sender's own; the statements. */
	if ((r = dec_body(o->plain, o->plain_len, (baton_kind)o->hdr.kind, &o->body)) != 0 ||
	    (r = body_head_is_sender(&o->hdr, &o->body)) != 0 ||
	    (r = body_statements_check(&o->hdr, &o->body)) != 0)
		goto out;
	/* 9: exact length, now that attachment sizes are known. */
	{
		uint64_t expect = adlen + o->hdr.body_len;
		if ((o->att_off = calloc(o->body.n_attachments + 1, sizeof(uint64_t))) == NULL) {
			r = BATON_ENOMEM;
			goto out;
		}
		for (size_t i = 0; i < o->body.n_attachments; i++) {
			o->att_off[i] = expect;
			expect += stream_len(o->body.attachments[i].size);
		}
		expect += BATON_SIG_BYTES;
		if (expect != src->len) {
			r = bti_diag_err(expect > src->len ? BATON_ETRUNC : BATON_ETRAILING,
			                 "packet: %llu bytes, the body accounts for %llu",
			                 (unsigned long long)src->len, (unsigned long long)expect);
			goto out;
		}
	}
	/* 10: the consent (or the enrolment statement) covers this packet. */
	if ((r = o->body.enrolment_len > 0
	             ? check_enrolment(&o->hdr, &o->body, p->skew, &o->enrolment)
	             : check_consent(&o->hdr, &o->body, p->skew, former, NULL, &o->consent)) != 0)
		goto out;

	*out = o;
	o = NULL;
out:
	sodium_memzero(ss, sizeof(ss));
	sodium_memzero(bk, sizeof(bk));
	free(buf);
	baton_opened_free(o);
	return r;
}

const baton_header *baton_opened_header(const baton_opened *o)
{
	return &o->hdr;
}

const baton_body *baton_opened_body(const baton_opened *o)
{
	return &o->body;
}

const baton_packet_info *baton_opened_info(const baton_opened *o)
{
	return &o->info;
}

const baton_enrolment *baton_opened_enrolment(const baton_opened *o)
{
	return o->body.enrolment_len > 0 ? &o->enrolment : NULL;
}

const baton_consent *baton_opened_consent(const baton_opened *o)
{
	return &o->consent;
}

int baton_opened_attachment(baton_opened *o, size_t i, baton_write_fn w, void *wctx)
{
	crypto_secretstream_xchacha20poly1305_state ss;
	crypto_generichash_state h;
	const baton_attachment *a;
	uint8_t ak[32], hdr[SS_HEADER], hash[BATON_HASH_BYTES];
	uint8_t *ct = NULL, *pt = NULL;
	uint64_t off, left;
	int r;

	bti_diag_clear();
	if (o == NULL || i >= o->body.n_attachments)
		return BATON_EINVAL;
	a = &o->body.attachments[i];
	off = o->att_off[i];
	left = a->size;
	if ((ct = malloc(BATON_CHUNK_BYTES + SS_ABYTES)) == NULL ||
	    (pt = malloc(BATON_CHUNK_BYTES)) == NULL) {
		r = BATON_ENOMEM;
		goto out;
	}
	if ((r = src_read(&o->src, off, hdr, sizeof(hdr))) != 0)
		goto out;
	off += sizeof(hdr);
	subkey(ak, i + 1, o->key);
	if (crypto_secretstream_xchacha20poly1305_init_pull(&ss, hdr, ak) != 0) {
		r = bti_diag_err(BATON_EDECRYPT, "attachment %zu: bad stream header", i);
		goto out;
	}
	crypto_generichash_init(&h, NULL, 0, BATON_HASH_BYTES);
	do {
		size_t n = left < BATON_CHUNK_BYTES ? (size_t)left : BATON_CHUNK_BYTES;
		unsigned long long plen;
		uint8_t tag;
		if ((r = src_read(&o->src, off, ct, n + SS_ABYTES)) != 0)
			goto out;
		off += n + SS_ABYTES;
		left -= n;
		if (crypto_secretstream_xchacha20poly1305_pull(&ss, pt, &plen, &tag, ct,
		                                               n + SS_ABYTES, NULL, 0) != 0 ||
		    plen != n ||
		    tag != (left == 0 ? crypto_secretstream_xchacha20poly1305_TAG_FINAL
		                      : crypto_secretstream_xchacha20poly1305_TAG_MESSAGE)) {
			r = bti_diag_err(BATON_EDECRYPT,
			                 "attachment \"%s\": chunk at byte %llu does "
			                 "not decrypt",
			                 a->name, (unsigned long long)(a->size - left - n));
			goto out;
		}
		crypto_generichash_update(&h, pt, n);
		if (n > 0 && (r = w(wctx, pt, n)) != 0)
			goto out;
	} while (left > 0);
	crypto_generichash_final(&h, hash, sizeof(hash));
	if (sodium_memcmp(hash, a->hash, BATON_HASH_BYTES) != 0)
		r = bti_diag_err(BATON_EHASH, "attachment \"%s\": content does not match its hash",
		                 a->name);
out:
	sodium_memzero(ak, sizeof(ak));
	sodium_memzero(&ss, sizeof(ss));
	if (pt) {
		sodium_memzero(pt, BATON_CHUNK_BYTES);
		free(pt);
	}
	free(ct);
	return r;
}

void baton_opened_free(baton_opened *o)
{
	if (o == NULL)
		return;
	if (o->plain) {
		sodium_memzero(o->plain, (size_t)o->hdr.body_len);
		free(o->plain);
	}
	free(o->body.attachments);
	free(o->att_off);
	if (o->key)
		key_give(o->key);
	sodium_memzero(o, sizeof(*o));
	free(o);
}
