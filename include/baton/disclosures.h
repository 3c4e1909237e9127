/*
 * A disclosure copy (PROTOCOL.md 3.13): a school's signed copy of the
 * record of disclosures of one student, tied to its audit log. A file: a
 * prefix, a signed object of envelope type 9 naming the hash of the
 * entries, then the entries.
 */
#ifndef BATON_DISCLOSURES_H
#define BATON_DISCLOSURES_H

#include <stddef.h>
#include <stdint.h>

#include <baton/keys.h>
#include <baton/objects.h>
#include <baton/record.h>

#define BATON_OBJ_DISCLOSURES         9
#define BATON_DISCLOSURES_PREFIX      12      /* magic, version, reserved, envelope length */
#define BATON_DISCLOSURES_MAX_ENTRIES 4096    /* entries in one copy */
#define BATON_DISCLOSURES_LIST_MAX    4194304 /* bytes of the entries list */
#define BATON_DISCLOSURES_FILE_MAX                                                                 \
	(BATON_DISCLOSURES_PREFIX + BATON_OBJ_MAX + BATON_DISCLOSURES_LIST_MAX)
#define BATON_BASIS_MAX   16 /* "consent", "enrolment", "other" */
#define BATON_RECEIPT_MAX 16 /* "waiting", "received", "refused", "expired", "unknown" */
#define BATON_BY_MAX      64 /* the person who disclosed */

/* One disclosure as the school's audit log holds it. */
typedef struct baton_disclosure {
	uint64_t seq;                    /* the entry's position in the log, from 1 */
	uint8_t hash[BATON_HASH_BYTES];  /* the entry's hash in the log's chain */
	uint64_t time;                   /* when it was disclosed */
	char basis[BATON_BASIS_MAX + 1]; /* "consent", "enrolment" or "other" */
	char by[BATON_BY_MAX + 1];       /* who disclosed it; "" when absent */
	int has_consent;
	uint8_t consent[BATON_ID_BYTES];
	int has_packet;
	uint8_t packet[BATON_ID_BYTES];
	int has_packet_hash; /* only with a packet */
	uint8_t packet_hash[BATON_HASH_BYTES];
	char receipt[BATON_RECEIPT_MAX + 1]; /* the receipt's state when the copy was made */
	uint32_t sections;                   /* mask, at least one */
	int has_to;
	uint8_t to[BATON_PK_BYTES]; /* the receiving school's identity key */
	char to_code[BATON_CODE_MAX + 1];
	char to_name[BATON_NAME_MAX + 1]; /* "" when absent */
} baton_disclosure;

/* The whole copy. */
typedef struct baton_disclosures {
	uint8_t audit[BATON_AUDIT_HEAD_MAX]; /* the school's audit head, encoded */
	size_t audit_len;
	baton_audit_head head; /* parse: audit, decoded */
	char code[BATON_CODE_MAX + 1];
	char name[BATON_NAME_MAX + 1];
	uint8_t entries_hash[BATON_HASH_BYTES]; /* parse: the signed hash of the entries */
	uint8_t school[BATON_PK_BYTES];         /* the school's identity key; signs */
	char student[BATON_STUDENT_MAX + 1];
	uint64_t time;
	size_t count;            /* entries */
	baton_disclosure *entry; /* count of them, oldest first */
} baton_disclosures;

/*
 * Makes the file of d (its count entries, in log order; entries_hash and
 * head are computed, not read) signed with sk, whose public half must be
 * d->school (BATON_EINVAL). *out (the caller frees it with free()) and *len
 * on success. A field the reader would refuse is refused here with the
 * reader's error and baton_diag() naming it. BATON_ENOMEM.
 */
int baton_disclosures_make(const baton_disclosures *d, const uint8_t sk[BATON_SK_BYTES],
                           uint8_t **out, size_t *len);

/*
 * Reads and verifies a file of len bytes (PROTOCOL.md 3.13, in its order):
 * 0 with *out filled (out->entry malloc'd: baton_disclosures_free), else the
 * first error and baton_diag() naming it; *out is then empty. Whether
 * out->school is the school the reader trusts is the reader's check.
 */
int baton_disclosures_parse(const uint8_t *buf, size_t len, baton_disclosures *out);

/* Frees d->entry and empties *d. NULL is allowed. */
void baton_disclosures_free(baton_disclosures *d);

#endif
