/*
 * Invitations: the one-time code a registrar gives a parent (or an adult
 * student) to enrol a key made on their own device. The one place the
 * command line, the console and the family's enrol route make, list,
 * claim, confirm and cancel them, and draw an invitation's URL as a QR code.
 *
 * A code is 12 characters of INVITE_ALPHABET, written XXXX-XXXX-XXXX: the
 * first 4 are the invitation's public id, the other 8 its secret. The store
 * keeps BLAKE2b-256 of the whole normalised code, never the code, which
 * only the registrar who made it is shown. A claim with the right code
 * moves it to "claimed" holding the key; the registrar's confirm links the
 * key (guardian_link) and moves it to "linked". Open invitations expire
 * INVITE_TTL seconds after they are made; INVITE_TRIES wrong secrets for an
 * id burn it.
 */
#ifndef BATON_NODE_INVITE_H
#define BATON_NODE_INVITE_H

#include <stdint.h>

#include <baton/keys.h>
#include <jansson.h>

#include "store.h"

#define INVITE_ALPHABET  "ABCDEFGHJKMNPQRSTVWXYZ23456789"
#define INVITE_CODE_LEN  12               /* characters of a normalised code */
#define INVITE_CODE_TEXT 15               /* XXXX-XXXX-XXXX and its NUL */
#define INVITE_TTL       (7u * 24 * 3600) /* seconds an open invitation lives */
#define INVITE_TRIES     5                /* wrong secrets that burn an invitation */
#define INVITE_URL_MAX   512              /* bytes of an invitation's URL and its NUL */
/* The one answer to every code that does not enrol: never say which part was wrong. */
#define INVITE_NO_CODE "invitation code: not known, used or expired"

/* 1 when rel is a relation an invitation may carry (mother, father, guardian, self), else 0. */
int invite_relation_valid(const char *rel);

/*
 * Reads text, a code as a person types it, into code (INVITE_CODE_LEN
 * characters and a NUL): dashes and spaces are dropped and letters
 * upper-cased. BATON_EVALUE, with baton_diag() naming the field what and the
 * character, for any other character outside INVITE_ALPHABET or a length
 * other than INVITE_CODE_LEN.
 */
int invite_code_parse(const char *what, const char *text, char code[INVITE_CODE_LEN + 1]);

/*
 * The URL of an invitation: BASE/family/#invite=XXXX-XXXX-XXXX into url
 * (INVITE_URL_MAX bytes). base is http:// or https:// and a host, with no
 * query or fragment; a trailing slash is dropped. BATON_EVALUE naming base
 * when it is not such a URL.
 */
int invite_url(const char *base, const char *code_text, char url[INVITE_URL_MAX]);

/*
 * Makes an invitation for student with relation: a random code whose id no
 * invitation had, expiring INVITE_TTL seconds from now; audited as
 * "guardian-invite" with the student and the id (never the code), by the
 * thread's actor (store_set_actor), who is kept as its maker. code_text
 * (INVITE_CODE_TEXT bytes, the caller's, to be wiped with sodium_memzero
 * after use) gets the code as XXXX-XXXX-XXXX; *v the row. BATON_EVALUE: a
 * relation invite_relation_valid refuses; BATON_ENOTFOUND: no such student;
 * the store's errors. Nothing is written on an error.
 */
int invite_make(store *st, const char *student, const char *relation,
                char code_text[INVITE_CODE_TEXT], store_invite *v);

/*
 * The JSON of v at time now: id, student, relation, state (its name, or
 * "expired" for an open invitation past its expiry), created, expires,
 * wrong, by, and for a claimed or linked one the key's line and
 * fingerprint. NULL when memory ran out.
 */
json_t *invite_json(const store_invite *v, uint64_t now);

/*
 * The invitations (of student, when not NULL) as an array of invite_json,
 * newest first: *out is new, the caller frees it with json_decref.
 * BATON_ENOTFOUND when student is given and there is no such student.
 */
int invite_list(store *st, const char *student, json_t **out);

/* What a claim answers the family with. */
struct invite_claimed {
	char id[STORE_INVITE_ID + 1];
	char student[BATON_STUDENT_MAX + 1];
	char given_name[201];
	char relation[33];
	char fingerprint[BATON_FINGERPRINT_LEN + 1];
};

/*
 * The enrolment: code_text (as typed) and key_line, a guardian's public key
 * line. With the right code of an open, unexpired invitation, it becomes
 * "claimed" holding the key, audited as "guardian-enrol" by "family"; *out
 * says for whom. A wrong secret for a known open id counts an attempt (the
 * one write made for an unauthenticated party) and the INVITE_TRIES-th
 * burns the invitation. BATON_EVALUE naming "code" or "key" when one does
 * not read; BATON_ENOTFOUND with INVITE_NO_CODE for every other failure
 * (unknown, wrong, used, expired, burned or cancelled); the store's errors.
 */
int invite_claim(store *st, const char *code_text, const char *key_line,
                 struct invite_claimed *out);

/*
 * Reads invitation id into *v, and its student into *s (cleared when the
 * student is gone), for a confirm to show first. BATON_ENOTFOUND naming the
 * invitation; the store's errors.
 */
int invite_get(store *st, const char *id, store_invite *v, store_student *s);

/*
 * The registrar's confirm of a claimed invitation: links its key to its
 * student (guardian_link's rules and audit entry, "guardian-link") and
 * moves it to "linked", in one transaction; *v is the row after.
 * BATON_ENOTFOUND: no such invitation; BATON_EVALUE naming the state when
 * it is not "claimed"; guardian_link's errors.
 */
int invite_confirm(store *st, const char *id, store_invite *v);

/*
 * Withdraws an open invitation or refuses a claimed one: state
 * "cancelled", audited as "guardian-invite-cancel". BATON_ENOTFOUND: no
 * such invitation; BATON_EVALUE naming the state when it is linked,
 * cancelled or burned already.
 */
int invite_cancel(store *st, const char *id, store_invite *v);

/*
 * text as a QR code (error correction M): an array of strings, one per row
 * of modules, "1" dark and "0" light, without the quiet zone. *out is new,
 * the caller frees it with json_decref. BATON_ENOMEM, or BATON_EVALUE when
 * text is too long for a QR code.
 */
int invite_qr(const char *text, json_t **out);

#endif
