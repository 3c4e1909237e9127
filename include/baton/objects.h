/*
 * Signed objects: school cards, consents, revocations and receipts.
 *
 * Each is a canonical msgpack envelope [type, body, signature] whose Ed25519
 * signature covers a domain string, the type and the body bytes (see
 * proto/PROTOCOL.md). The *_sign functions encode and sign; the *_parse
 * functions decode strictly and verify the signature against the signer key
 * that the object itself names. Whether that signer is trusted is the
 * caller's decision (a pinned card, a guardian linked to the student).
 *
 * Time is always passed in as seconds since the Unix epoch; nothing here
 * reads the clock or touches files.
 */
#ifndef BATON_OBJECTS_H
#define BATON_OBJECTS_H

#include <stddef.h>
#include <stdint.h>

#include <baton/record.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Envelope types. */
enum baton_obj_type {
	BATON_OBJ_CARD = 1,
	BATON_OBJ_CONSENT = 2,
	BATON_OBJ_REVOCATION = 3,
	BATON_OBJ_RECEIPT = 4,
	BATON_OBJ_ROTATION = 5,
	BATON_OBJ_AUDIT_HEAD = 6,
	BATON_OBJ_STATEMENT = 7,
	BATON_OBJ_ENROLMENT = 8,  /* enrolment statement */
	BATON_OBJ_DIRECTORY = 10, /* a federation directory (9 is baton/disclosures.h's) */
};

/* Largest encoded signed object accepted by any *_parse function. */
#define BATON_OBJ_MAX 16384
/* Largest encoded audit head carried inside a receipt or a packet body. */
#define BATON_AUDIT_HEAD_MAX 256

/* A school's card: who it is, where it listens, its two public keys. */
typedef struct baton_card {
	char name[BATON_NAME_MAX + 1];
	char code[BATON_CODE_MAX + 1];
	uint8_t id_pk[BATON_PK_BYTES];  /* Ed25519 identity key; signs the card */
	uint8_t enc_pk[BATON_PK_BYTES]; /* X25519 encryption key */
	char endpoints[BATON_MAX_ENDPOINTS][BATON_URL_MAX + 1];
	size_t n_endpoints; /* 1..BATON_MAX_ENDPOINTS */
	uint64_t valid_from;
	uint64_t valid_until;
} baton_card;

typedef enum baton_role {
	BATON_ROLE_GUARDIAN = 1,
	BATON_ROLE_STUDENT = 2, /* the eligible student (18+ or postsecondary) */
} baton_role;

/* A consent to release named sections of one student's record (34 CFR 99.30). */
typedef struct baton_consent {
	uint8_t id[BATON_ID_BYTES];
	char student[BATON_STUDENT_MAX + 1]; /* id at the sending school */
	uint8_t from_pk[BATON_PK_BYTES];     /* sending school's identity key */
	char from_code[BATON_CODE_MAX + 1];
	uint8_t to_pk[BATON_PK_BYTES]; /* receiving school's identity key */
	char to_code[BATON_CODE_MAX + 1];
	uint32_t sections; /* BATON_SEC_BIT mask, never empty */
	char purpose[BATON_PURPOSE_MAX + 1];
	uint64_t issued;
	uint64_t expires;
	uint8_t signer[BATON_PK_BYTES];
	baton_role role;
	/* Set by baton_consent_parse: BLAKE2b-256 of the signed consent it verified. */
	uint8_t hash[BATON_HASH_BYTES];
} baton_consent;

/* A signed withdrawal of one consent, by its signer. */
typedef struct baton_revocation {
	uint8_t consent_id[BATON_ID_BYTES];
	uint8_t signer[BATON_PK_BYTES];
	uint64_t time;
} baton_revocation;

/* Receipt reason codes. 0 is acceptance; the rest are rejections. */
enum baton_reason {
	BATON_REASON_ACCEPTED = 0,
	BATON_REASON_MALFORMED = 1,     /* did not decode */
	BATON_REASON_BAD_SIGNATURE = 2, /* signature failed */
	BATON_REASON_WRONG_RECIPIENT = 3,
	BATON_REASON_UNKNOWN_SENDER = 4, /* sender key is not pinned */
	BATON_REASON_EXPIRED = 5,
	BATON_REASON_NOT_YET_VALID = 6,
	BATON_REASON_DECRYPT = 7,         /* body or attachment did not decrypt */
	BATON_REASON_CONSENT_INVALID = 8, /* consent missing, unsigned, expired, revoked */
	BATON_REASON_RECORD_INVALID = 9,  /* record failed schema validation */
	BATON_REASON_DENIED = 10,         /* a registrar refused a request */
	BATON_REASON_STORAGE = 11,        /* retryable: the receiver could not commit */
	BATON_REASON_MAX = 11
};

/* The reason's stable name ("accepted", "bad_signature"), static; NULL if unknown. Cannot fail. */
const char *baton_reason_name(int reason);

/* Predicate: 1 when the sender should retry later (BATON_REASON_STORAGE), else 0. */
int baton_reason_retryable(int reason);

/* Signed by the receiver: what happened to one packet. */
typedef struct baton_receipt {
	uint8_t packet_id[BATON_ID_BYTES];
	uint8_t packet_hash[BATON_HASH_BYTES];
	uint8_t receiver[BATON_PK_BYTES]; /* the receiver's identity key; signs */
	int reason;                       /* enum baton_reason */
	uint64_t time;
	char note[BATON_NOTE_MAX + 1]; /* optional; "" when absent */
	/* optional: the receiver's latest signed audit head (an encoded
	 * baton_audit_head signed by receiver); audit_len 0 when absent */
	uint8_t audit[BATON_AUDIT_HEAD_MAX];
	size_t audit_len;
	/* optional: BLAKE2b-256 of the redisclosure terms the receiver accepted
	 * with the record (an accepted transfer that carried terms) */
	uint8_t terms[BATON_HASH_BYTES];
	int has_terms;
} baton_receipt;

/* A school moving to a new identity key, signed by its old key. */
typedef struct baton_rotation {
	char code[BATON_CODE_MAX + 1];
	uint8_t old_pk[BATON_PK_BYTES]; /* signs the statement */
	uint8_t new_pk[BATON_PK_BYTES];
	uint64_t time;
} baton_rotation;

/*
 * A school's statement of what its audit log held: entries 1..count, the
 * last of which hashes to head. Signed by the school's identity key.
 */
typedef struct baton_audit_head {
	uint64_t count;
	uint8_t head[BATON_HASH_BYTES];
	uint8_t key[BATON_PK_BYTES]; /* the school's identity key; signs */
	uint64_t time;
} baton_audit_head;

/* Longest text of a statement of disagreement, in bytes. */
#define BATON_STATEMENT_TEXT_MAX 4000
/* Most statements of disagreement one transfer carries. */
#define BATON_MAX_STATEMENTS 64

/*
 * A family's statement that it disagrees with one section of a student's
 * record (34 CFR 99.21), signed by a guardian or the eligible student.
 * Kept with the record and sent with that section (PROTOCOL.md 3.11).
 */
typedef struct baton_statement {
	uint8_t id[BATON_ID_BYTES];
	baton_role role;
	uint8_t school[BATON_PK_BYTES]; /* identity key of the school holding the record */
	baton_section section;
	uint8_t signer[BATON_PK_BYTES]; /* signs the statement */
	char student[BATON_STUDENT_MAX + 1];
	char text[BATON_STATEMENT_TEXT_MAX + 1]; /* UTF-8; LF allowed, no other control */
	uint64_t time;
} baton_statement;

/*
 * Encoding and signing. sk is the signer's 64-byte Ed25519 secret key; the
 * object's own signer field (card.id_pk, consent.signer, revocation.signer,
 * receipt.receiver) must be its public half, else BATON_EINVAL. On success
 * *out is a buffer of *outlen bytes that the caller frees with free(); on
 * failure *out is NULL. BATON_ENOMEM when an allocation fails.
 * A field the parser would refuse is refused here with the parser's code
 * (BATON_EVALUE, BATON_EBADKEY, BATON_EUTF8, ...) and baton_diag() naming
 * it: Baton never signs what it would not accept.
 */
int baton_card_sign(const baton_card *c, const uint8_t sk[BATON_SK_BYTES], uint8_t **out,
                    size_t *outlen);
int baton_consent_sign(const baton_consent *c, const uint8_t sk[BATON_SK_BYTES], uint8_t **out,
                       size_t *outlen);
int baton_revocation_sign(const baton_revocation *r, const uint8_t sk[BATON_SK_BYTES],
                          uint8_t **out, size_t *outlen);
int baton_receipt_sign(const baton_receipt *r, const uint8_t sk[BATON_SK_BYTES], uint8_t **out,
                       size_t *outlen);
int baton_rotation_sign(const baton_rotation *r, const uint8_t sk[BATON_SK_BYTES], uint8_t **out,
                        size_t *outlen);
int baton_audit_head_sign(const baton_audit_head *h, const uint8_t sk[BATON_SK_BYTES],
                          uint8_t **out, size_t *outlen);
int baton_statement_sign(const baton_statement *s, const uint8_t sk[BATON_SK_BYTES], uint8_t **out,
                         size_t *outlen);

/*
 * Strict decoding and signature verification of len bytes at buf. On
 * success fills *out and returns 0; on failure returns a BATON_E* code and
 * leaves *out zeroed: an encoding error (BATON_ETRUNC ... BATON_EVALUE, over
 * BATON_OBJ_MAX BATON_ETOOBIG), BATON_EMAGIC (not this type of object),
 * BATON_EBADKEY, BATON_EBADSIG, or BATON_ENOMEM; baton_diag()
 * names the field. buf stays the caller's; *out holds no pointer into it.
 * Validity periods are not checked here: see baton_check_validity().
 */
int baton_card_parse(const uint8_t *buf, size_t len, baton_card *out);
int baton_consent_parse(const uint8_t *buf, size_t len, baton_consent *out);
int baton_revocation_parse(const uint8_t *buf, size_t len, baton_revocation *out);
int baton_receipt_parse(const uint8_t *buf, size_t len, baton_receipt *out);
int baton_rotation_parse(const uint8_t *buf, size_t len, baton_rotation *out);
int baton_audit_head_parse(const uint8_t *buf, size_t len, baton_audit_head *out);
int baton_statement_parse(const uint8_t *buf, size_t len, baton_statement *out);

/*
 * Reads only the envelope type of an encoded object into *type (0 on
 * error); verifies nothing. Returns 0, BATON_EMAGIC for anything that is
 * not an envelope of a known type, or BATON_ENOMEM.
 */
int baton_object_type(const uint8_t *buf, size_t len, int *type);

/*
 * An enrolment statement (PROTOCOL.md 3.12): signed by the school a student
 * is enrolling at (to), naming the student as the school asked to release
 * the record (from) knows them, and the identity the enrolling school has.
 * It lets from release without a consent under 34 CFR 99.31(a)(2).
 */
#define BATON_ENROL_KIND      "enrolling"
#define BATON_PERSON_NAME_MAX 128
typedef struct baton_enrolment {
	char birth_date[11];                         /* YYYY-MM-DD */
	uint64_t expires;                            /* > issued */
	char family_name[BATON_PERSON_NAME_MAX + 1]; /* as the enrolling school has it */
	uint8_t from_pk[BATON_PK_BYTES];             /* the school asked to release */
	char given_name[BATON_PERSON_NAME_MAX + 1];  /* as the enrolling school has it */
	uint64_t issued;
	char kind[16];                       /* BATON_ENROL_KIND */
	char student[BATON_STUDENT_MAX + 1]; /* the student's id at from */
	uint8_t to_pk[BATON_PK_BYTES];       /* the enrolling school; signs */
	uint8_t hash[BATON_HASH_BYTES];      /* parse: BLAKE2b-256 of the encoded object */
} baton_enrolment;
int baton_enrolment_sign(const baton_enrolment *s, const uint8_t sk[BATON_SK_BYTES], uint8_t **out,
                         size_t *outlen);
int baton_enrolment_parse(const uint8_t *buf, size_t len, baton_enrolment *out);

/*
 * A federation directory (PROTOCOL.md 3.14): an authority's signed list of
 * its member schools' cards and of the identity keys it has withdrawn,
 * under a version that only grows. Larger than other signed objects: it
 * has limits of its own.
 */
#define BATON_DIRECTORY_MAX         16777216u /* largest encoded directory */
#define BATON_DIRECTORY_MEMBERS_MAX 65536u    /* members, and withdrawn keys */

typedef struct baton_directory_member {
	const uint8_t *card; /* the card envelope's bytes (inside the parsed buffer) */
	size_t card_len;
	baton_card parsed; /* decoded and verified */
} baton_directory_member;

typedef struct baton_directory {
	uint8_t authority[BATON_PK_BYTES]; /* the authority's key; signs */
	char name[BATON_NAME_MAX + 1];     /* the authority's name */
	uint64_t version, issued, expires;
	size_t n_members;
	baton_directory_member *members; /* heap array of n_members, in code order; NULL when 0 */
	size_t n_withdrawn;
	/* n_withdrawn * BATON_PK_BYTES, ascending; a heap array (the keys are separate bins on
	 * the wire), NULL when 0 */
	const uint8_t *withdrawn;
	uint8_t hash[BATON_HASH_BYTES]; /* BLAKE2b-256 of the whole envelope */
} baton_directory;

/*
 * Decodes len bytes at buf strictly, verifies every member card and the
 * authority's signature (PROTOCOL.md 3.14, in its order). The buffer stays
 * the caller's and must outlive *out, whose members' card pointers point
 * into it; out->members and out->withdrawn are allocated (freed by
 * baton_directory_free). Returns 0, or the first error (a member card's own
 * error is the directory's) with baton_diag() naming it; on error *out
 * holds nothing to free. Validity
 * (issued, expires) is not checked here: see baton_check_validity().
 */
int baton_directory_parse(const uint8_t *buf, size_t len, baton_directory *out);
/*
 * The cheap checks a node makes before it parses a directory in full, so
 * that a directory from an authority it has not pinned, or forged, costs
 * one envelope decode and at most one signature, not a verify per member.
 * baton_directory_authority copies the key the body names first into
 * authority; BATON_ENOTFOUND when the body does not start as every valid
 * directory's does (baton_directory_parse then says why), or the envelope's
 * error. baton_directory_verify_signature checks the envelope's signature
 * against authority: 0 or BATON_EBADSIG (or the envelope's error). Neither
 * decodes or checks the body's fields: only baton_directory_parse does, in
 * PROTOCOL.md's order. Nothing is allocated that outlives the call.
 */
int baton_directory_authority(const uint8_t *buf, size_t len, uint8_t authority[BATON_PK_BYTES]);
int baton_directory_verify_signature(const uint8_t *buf, size_t len,
                                     const uint8_t authority[BATON_PK_BYTES]);
/* Frees what parsing allocated and zeroes *d; NULL is allowed. */
void baton_directory_free(baton_directory *d);

/*
 * Encodes and signs a directory with sk, the authority's 64-byte Ed25519
 * secret key (the authority field is its public half). cards[i]
 * (card_lens[i] bytes) are card envelopes in any order: they are sorted by
 * code; withdrawn holds n_withdrawn keys of BATON_PK_BYTES in any order:
 * they are sorted. Everything stays the caller's. What parse would refuse
 * is refused with parse's code and baton_diag() naming it (a code twice
 * BATON_EVALUE, a key withdrawn twice BATON_ENONCANON, a withdrawn member
 * BATON_EVALUE, too large BATON_ETOOBIG, ...). On success *out (freed with
 * free()) and *out_len; on failure *out is NULL. BATON_ENOMEM.
 */
int baton_directory_sign(const char *name, uint64_t version, uint64_t issued, uint64_t expires,
                         const uint8_t *const *cards, const size_t *card_lens, size_t n_cards,
                         const uint8_t *withdrawn, size_t n_withdrawn,
                         const uint8_t sk[BATON_SK_BYTES], uint8_t **out, size_t *out_len);

/*
 * Checks now against [not_before - skew, not_after]: BATON_ENOTYET when
 * too early, BATON_EEXPIRED when too late, else 0.
 */
int baton_check_validity(uint64_t not_before, uint64_t not_after, uint64_t now, uint64_t skew);

#ifdef __cplusplus
}
#endif
#endif
