/*
 * Sealed packets: a transfer (the record) or a request (a school asking for
 * a record), signed by the sending school and encrypted for the receiving
 * school. One format for every route: network, file, USB stick, email.
 *
 * Layout and checks are specified in proto/PROTOCOL.md. In short:
 *
 *   prefix(8) | header (canonical msgpack) | body ciphertext (AEAD) |
 *   attachment streams (crypto_secretstream) | Ed25519 signature(64)
 *
 * Sealing streams attachments from readers to a writer and opening reads
 * through a random-access source, so memory stays bounded by the body size
 * (at most BATON_BODY_MAX) whatever the attachment sizes.
 */
#ifndef BATON_PACKET_H
#define BATON_PACKET_H

#include <stddef.h>
#include <stdint.h>

#include <baton/objects.h>
#include <baton/record.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BATON_PACKET_VERSION 1
#define BATON_PREFIX_BYTES   8
#define BATON_HEADER_MAX     512
#define BATON_BODY_MAX       (16u * 1024 * 1024) /* plaintext body, bytes */
#define BATON_ATT_MAX        (UINT64_C(1) << 40) /* one attachment, bytes */
#define BATON_CHUNK_BYTES    65536               /* attachment plaintext per chunk */
#define BATON_NONCE_BYTES    24
/* Longest a packet may be valid: bounds how far a sender can backdate it. */
#define BATON_PACKET_MAX_LIFETIME (UINT64_C(30) * 86400)

typedef enum baton_kind {
	BATON_KIND_TRANSFER = 1,
	BATON_KIND_REQUEST = 2,
} baton_kind;

typedef struct baton_header {
	uint8_t version;
	uint8_t kind; /* baton_kind */
	uint8_t id[BATON_ID_BYTES];
	uint8_t sender[BATON_PK_BYTES];    /* sender's Ed25519 identity key */
	uint8_t recipient[BATON_PK_BYTES]; /* recipient's Ed25519 identity key */
	uint64_t created;
	uint64_t expires;
	uint8_t eph[BATON_PK_BYTES]; /* ephemeral X25519 public key */
	uint8_t nonce[BATON_NONCE_BYTES];
	uint64_t body_len; /* body ciphertext bytes */
} baton_header;

typedef struct baton_attachment {
	char name[BATON_FILENAME_MAX + 1]; /* a plain file name, no directories */
	char media_type[BATON_MEDIA_MAX + 1];
	baton_section section;
	uint64_t size;
	uint8_t hash[BATON_HASH_BYTES]; /* BLAKE2b-256 of the plaintext */
} baton_attachment;

/*
 * The body. A transfer uses student, state_id, sections, consent, guardians
 * and attachments; a request uses consent, sections (as requested_mask) and
 * note. Pointers are borrowed: when sealing they belong to the caller; when
 * opened they point into memory owned by the baton_opened handle.
 */
typedef struct baton_body {
	char student[BATON_STUDENT_MAX + 1];     /* transfer: id at the sender */
	char state_id[BATON_STUDENT_MAX + 1];    /* transfer: statewide id or "" */
	const uint8_t *section[BATON_SEC_COUNT]; /* transfer: UTF-8 JSON, NULL = absent */
	size_t section_len[BATON_SEC_COUNT];
	const uint8_t *consent; /* encoded consent (objects.h); required */
	size_t consent_len;
	uint8_t guardians[BATON_MAX_GUARDIANS][BATON_PK_BYTES];
	size_t n_guardians;
	baton_attachment *attachments; /* transfer: n_attachments entries */
	size_t n_attachments;
	uint32_t requested_mask;       /* request: sections asked for (non-empty) */
	char note[BATON_NOTE_MAX + 1]; /* request: optional text */
	/* optional: the sender's latest signed audit head (objects.h), signed by
	 * the packet's sender; audit_len 0 when absent */
	const uint8_t *audit;
	size_t audit_len;
	/* transfer, optional (PROTOCOL.md 4.4 statements): the ids of every
	 * statement of disagreement the sender holds for the sections sent,
	 * ascending (held), and the encoded statements (objects.h) themselves;
	 * both counts 0 when none */
	uint8_t held[BATON_MAX_STATEMENTS][BATON_ID_BYTES];
	size_t n_held;
	const uint8_t *statement[BATON_MAX_STATEMENTS];
	size_t statement_len[BATON_MAX_STATEMENTS];
	size_t n_statements;
	/* transfer, optional: the sender's redisclosure terms (34 CFR 99.33), UTF-8
	 * text (LF allowed), not NUL-terminated; terms_len 0 when absent */
	const char *terms;
	size_t terms_len;
	/* The legal basis: a transfer with basis_enrolment set, and a request,
	 * may carry an encoded enrolment statement (objects.h) in place of the
	 * consent (consent NULL, consent_len 0); enrolment_len 0 when absent */
	int basis_enrolment; /* transfer: body.basis is "enrolment" */
	const uint8_t *enrolment;
	size_t enrolment_len;
} baton_body;

#define BATON_TERMS_MAX 4096 /* bytes of a transfer's redisclosure terms */

/* Writes exactly len bytes or fails with a BATON_E* code. */
typedef int (*baton_write_fn)(void *ctx, const uint8_t *buf, size_t len);
/* Reads exactly len bytes (the next ones) or fails with a BATON_E* code. */
typedef int (*baton_read_fn)(void *ctx, uint8_t *buf, size_t len);
/* Reads exactly len bytes at offset off or fails with a BATON_E* code. */
typedef int (*baton_read_at_fn)(void *ctx, uint64_t off, uint8_t *buf, size_t len);

/* Where an attachment's plaintext comes from when sealing. */
typedef struct baton_att_reader {
	baton_read_fn read;
	void *ctx;
} baton_att_reader;

/* A packet to open: random access to len bytes. */
typedef struct baton_source {
	baton_read_at_fn read_at;
	void *ctx;
	uint64_t len;
} baton_source;

/* Makes src read from len bytes at buf (borrowed: it must outlive src). Cannot fail. */
void baton_source_mem(baton_source *src, const uint8_t *buf, size_t len);

typedef struct baton_seal_params {
	baton_kind kind;
	uint64_t created;
	uint64_t expires;
	const uint8_t *sender_sk;        /* 64-byte Ed25519 secret key */
	const uint8_t *recipient_id_pk;  /* 32 bytes, from the recipient's card */
	const uint8_t *recipient_enc_pk; /* 32 bytes, from the recipient's card */
	/*
	 * NULL, or what baton_consent_parse returned for the body's consent: its
	 * signature is then not verified a second time. Used only when the body's
	 * consent hashes to consent->hash; any other bytes are parsed and verified.
	 */
	const baton_consent *consent;
} baton_seal_params;

/* What sealing or opening learned about a packet. */
typedef struct baton_packet_info {
	uint8_t id[BATON_ID_BYTES];
	uint8_t hash[BATON_HASH_BYTES]; /* the packet hash a receipt names */
	uint64_t len;                   /* total bytes */
} baton_packet_info;

/*
 * Seals body for the recipient and streams the packet to w. Attachment i's
 * plaintext is read from readers[i] and must match body->attachments[i]
 * (size and hash), else BATON_EHASH; on any error the bytes already written
 * are garbage and must be discarded. info may be NULL (not wanted).
 * Everything stays the caller's. Returns 0; BATON_EINVAL (a parameter out
 * of range, baton_diag() naming it); BATON_EBADKEY (a recipient key);
 * BATON_ETOOBIG (the body over BATON_BODY_MAX); the body's decoding error
 * (Baton seals only what it would open); BATON_ECONSENT; BATON_EHASH;
 * BATON_ENOMEM; or w's or a reader's error.
 */
int baton_packet_seal(const baton_seal_params *p, const baton_body *body,
                      const baton_att_reader *readers, baton_write_fn w, void *wctx,
                      baton_packet_info *info);

/*
 * A key a school held before it rotated to a new one, as a node recorded it
 * from the school's rotation statement (PROTOCOL.md §5.2): a consent issued
 * no later than until (plus the skew) that names pk names that school.
 */
typedef struct baton_former_key {
	uint8_t pk[BATON_PK_BYTES];
	uint64_t until; /* the rotation's time */
} baton_former_key;

/* Former keys of the school a consent releases from, and of the one it releases to. */
typedef struct baton_former_keys {
	const baton_former_key *from;
	size_t n_from;
	const baton_former_key *to;
	size_t n_to;
} baton_former_keys;

/*
 * baton_packet_seal, where the enclosed consent may name either school by a
 * former key (former may be NULL: none).
 */
int baton_packet_seal_former(const baton_seal_params *p, const baton_former_keys *former,
                             const baton_body *body, const baton_att_reader *readers,
                             baton_write_fn w, void *wctx, baton_packet_info *info);

/*
 * Parses only the prefix and header (no keys needed): lets a node find the
 * sender's key before opening. No signature has been checked yet. Fills
 * *hdr; returns 0, src's read error, or the prefix's and header's decoding
 * errors (BATON_ETRUNC, BATON_EMAGIC, BATON_EVERSION, BATON_EKIND, ...).
 */
int baton_packet_peek(const baton_source *src, baton_header *hdr);

/*
 * The packet hash a receipt names (PROTOCOL.md §4.9), computed from the bytes
 * alone, without verifying anything: a receiver can name even a packet it
 * refuses. BATON_ETRUNC when src is shorter than a signature.
 */
int baton_packet_hash(const baton_source *src, uint8_t out[BATON_HASH_BYTES]);

/*
 * Whether the packet is signed by the sender its header names: the prefix,
 * the header, room for the body and the signature, and the signature
 * (PROTOCOL.md section 5.1, steps 1, 2, 4 and 5), with their errors. Says
 * who made the packet, nothing about whether it opens; hdr gets the header.
 */
int baton_packet_verify(const baton_source *src, baton_header *hdr);

typedef struct baton_open_params {
	const uint8_t *id_pk;  /* this school's Ed25519 identity public key */
	const uint8_t *enc_sk; /* this school's X25519 secret key */
	const uint8_t *enc_pk; /* this school's X25519 public key */
	uint64_t now;
	uint64_t skew; /* allowed clock difference, seconds */
} baton_open_params;

typedef struct baton_opened baton_opened;

/*
 * Verifies and decrypts a packet, in the order of proto/PROTOCOL.md:
 * prefix, header, recipient, room for body and signature, signature,
 * validity, key agreement and body decryption, body decoding, exact length,
 * and the enclosed consent covering the packet (BATON_ECONSENT for any
 * consent failure, the cause in baton_diag()). Attachments are decrypted on
 * demand by baton_opened_attachment(). On success *out owns the decrypted
 * body; free with baton_opened_free().
 *
 * Not checked here, because they need the node's state: that the sender is
 * a pinned school, revocation, guardian links, replay.
 */
int baton_packet_open(const baton_source *src, const baton_open_params *p, baton_opened **out);
/* baton_packet_open, where the enclosed consent may name either school by a former key. */
int baton_packet_open_former(const baton_source *src, const baton_open_params *p,
                             const baton_former_keys *former, baton_opened **out);

/*
 * What was opened: owned by o, valid until baton_opened_free(o). Cannot
 * fail.
 */
const baton_header *baton_opened_header(const baton_opened *o);
const baton_body *baton_opened_body(const baton_opened *o);
const baton_packet_info *baton_opened_info(const baton_opened *o);
/* The enclosed consent, decoded and its signature verified; owned by o, as above. */
const baton_consent *baton_opened_consent(const baton_opened *o);
/* The enclosed enrolment statement, decoded and verified; NULL when the body carries a consent. */
const baton_enrolment *baton_opened_enrolment(const baton_opened *o);

/*
 * Decrypts attachment i and streams its plaintext to w, checking the
 * secretstream tags and the hash. Returns BATON_EDECRYPT or BATON_EHASH when
 * the bytes are not what was sealed: the caller must then discard what w
 * received. A packet is acceptable only when every attachment read cleanly.
 * Returns 0; BATON_EINVAL when i is not an attachment; BATON_EDECRYPT;
 * BATON_EHASH; BATON_ENOMEM; or the source's or w's error.
 */
int baton_opened_attachment(baton_opened *o, size_t i, baton_write_fn w, void *wctx);

/* Zeroes and frees; NULL is allowed. */
void baton_opened_free(baton_opened *o);

#ifdef __cplusplus
}
#endif
#endif
