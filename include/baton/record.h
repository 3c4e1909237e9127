/*
 * Record sections and the limits shared by every Baton format.
 */
#ifndef BATON_RECORD_H
#define BATON_RECORD_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BATON_PK_BYTES   32 /* Ed25519 or X25519 public key */
#define BATON_SK_BYTES   64 /* Ed25519 secret key (seed || public key) */
#define BATON_XSK_BYTES  32 /* X25519 secret key */
#define BATON_SIG_BYTES  64 /* Ed25519 signature */
#define BATON_ID_BYTES   16 /* packet and consent ids */
#define BATON_HASH_BYTES 32 /* BLAKE2b-256 */

/* String limits, in bytes, not counting the terminating NUL. */
#define BATON_CODE_MAX        32  /* school code: [A-Za-z0-9._-] */
#define BATON_STUDENT_MAX     64  /* a school's local student id */
#define BATON_NAME_MAX        128 /* school name */
#define BATON_PURPOSE_MAX     512 /* consent purpose */
#define BATON_URL_MAX         256 /* one endpoint URL */
#define BATON_NOTE_MAX        512 /* free text on a receipt or request */
#define BATON_FILENAME_MAX    255
#define BATON_MEDIA_MAX       127
#define BATON_MAX_ENDPOINTS   4
#define BATON_MAX_GUARDIANS   16
#define BATON_MAX_ATTACHMENTS 64

/*
 * The sections of a student record (PROTOCOL.md section 2.9). The value is
 * the section's index: its bit in a mask. The nine sections of record
 * schema version 1 keep indexes 0..8; later ones are appended, so a stored
 * mask keeps its meaning. Index order is not the wire order: lists and maps
 * on the wire are in bytewise name order (baton_section_nth).
 */
typedef enum baton_section {
	BATON_SEC_ASSESSMENTS = 0,
	BATON_SEC_ATTENDANCE,
	BATON_SEC_DISCIPLINE, /* sensitive */
	BATON_SEC_ENROLLMENT,
	BATON_SEC_GUARDIANS,
	BATON_SEC_HEALTH, /* sensitive */
	BATON_SEC_IDENTITY,
	BATON_SEC_SPECIAL_EDUCATION, /* sensitive */
	BATON_SEC_TRANSCRIPT,
	BATON_SEC_CUSTODY,         /* 9, sensitive */
	BATON_SEC_ENGLISH_LEARNER, /* 10, sensitive */
	BATON_SEC_GRADUATION,      /* 11 */
	BATON_SEC_HOMELESS,        /* 12, sensitive */
	BATON_SEC_SECTION_504,     /* 13, sensitive */
	BATON_SEC_COUNT
} baton_section;

#define BATON_SEC_BIT(s)   (UINT32_C(1) << (s))
#define BATON_SEC_ALL_MASK ((UINT32_C(1) << BATON_SEC_COUNT) - 1)
#define BATON_SEC_SENSITIVE_MASK                                                                   \
	(BATON_SEC_BIT(BATON_SEC_DISCIPLINE) | BATON_SEC_BIT(BATON_SEC_HEALTH) |                   \
	 BATON_SEC_BIT(BATON_SEC_SPECIAL_EDUCATION) | BATON_SEC_BIT(BATON_SEC_CUSTODY) |           \
	 BATON_SEC_BIT(BATON_SEC_ENGLISH_LEARNER) | BATON_SEC_BIT(BATON_SEC_HOMELESS) |            \
	 BATON_SEC_BIT(BATON_SEC_SECTION_504))

/* Room for baton_sections_format of every section, NUL included. */
#define BATON_SECTIONS_TEXT_MAX 160

/* The section's wire name ("special_education"), static; NULL when s is out of range. */
const char *baton_section_name(baton_section s);

/*
 * Looks up a wire name of len bytes (the caller's; need not be
 * NUL-terminated) and sets *s to its section. Returns 0, or BATON_ENOTFOUND
 * when no section has that name (*s is then left alone).
 */
int baton_section_lookup(const char *name, size_t len, baton_section *s);

/*
 * The section at position i (0 .. BATON_SEC_COUNT-1) in ascending bytewise
 * order of the wire names, the order of every list and map on the wire;
 * BATON_SEC_COUNT when i is out of range.
 */
baton_section baton_section_nth(int i);

/*
 * Predicate: 1 when s is sensitive (custody, discipline, english_learner,
 * health, homeless, section_504, special_education), else 0.
 */
int baton_section_sensitive(baton_section s);

/*
 * Parses a comma-separated list such as "all,health" into a mask. "all" is
 * every section that is not sensitive; sensitive sections count only when
 * named. Returns 0, or BATON_EVALUE naming the bad entry in baton_diag()
 * (*mask is then 0). list stays the caller's.
 */
int baton_sections_parse(const char *list, uint32_t *mask);

/*
 * Writes mask as a comma-separated list of names, in bytewise name order,
 * into buf (always NUL-terminated; BATON_SECTIONS_TEXT_MAX always fits). Returns 0 or BATON_EINVAL
 * when buf is too small.
 */
int baton_sections_format(uint32_t mask, char *buf, size_t buflen);

#ifdef __cplusplus
}
#endif
#endif
