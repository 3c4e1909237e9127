/*
 * Statements of disagreement (34 CFR 99.21): a parent, or the eligible
 * student, says they disagree with a section of the record, signed with
 * the key that signs their consents. The one place the family's pages, the
 * command line and the receiving of a record file them and read them back.
 */
#ifndef BATON_NODE_DISSENT_H
#define BATON_NODE_DISSENT_H

#include <stddef.h>
#include <stdint.h>

#include <baton/keys.h>
#include <baton/objects.h>
#include <jansson.h>

#include "store.h"

/*
 * Files bytes, a statement of disagreement (PROTOCOL.md 3.11), with the
 * record of its student here, in one write transaction, audited as
 * "dissent". The rules, in order: it is a statement whose signature
 * verifies (BATON_EVALUE naming the field otherwise); when pk is not NULL
 * (a family's session) its signer is pk (BATON_EPERM) and pk sees the
 * student with the rights (family_student_check: BATON_ENOTFOUND, as for
 * a student not on file, or BATON_EPERM); it names this school
 * (BATON_EVALUE); the student is on file (BATON_ENOTFOUND); the signer is
 * linked to the student, unrestricted (BATON_ENOTLINKED), and holds the
 * rights now, as for a consent (BATON_EELIGIBLE: a parent's key once they
 * passed to the student; BATON_ENOTELIGIBLE: the student's own before);
 * its role fits the link ("student" for the student's own key,
 * BATON_EVALUE); the record has that section
 * (BATON_EVALUE); it was not made in the future (BATON_EVALUE); the student has
 * fewer than BATON_MAX_STATEMENTS kept, the most a packet carries
 * (BATON_EVALUE); it is not on file already (BATON_EEXIST). baton_diag() says which. Nothing is
 * stored or audited on error. *out gets dissent_json of it (new).
 */
int dissent_file(store *st, const uint8_t *pk, const uint8_t *bytes, size_t len, uint64_t now,
                 json_t **out);

/*
 * Makes a statement about section of student's record with text, signed
 * with the guardian key k (the role from k's link: "self" signs as the
 * student), and files it with dissent_file. Returns as dissent_file, and
 * BATON_EVALUE for an unknown section or a text the format refuses.
 */
int dissent_make(store *st, const baton_key *k, const char *student, const char *section,
                 const char *text, uint64_t now, json_t **out);

/*
 * The statements kept with student in t, in section order then time:
 * [{id, section, role, text, signer (fingerprint), key (public key line),
 * time, kept, from ("" filed here, else the sending school's code)}] into
 * *out (new). Returns 0, BATON_ENOMEM, or the store's error (BATON_EIO for
 * a stored statement that no longer verifies).
 */
int dissent_list(store_txn *t, const char *student, json_t **out);

/*
 * dissent_list for a family's key pk, once family_student_check (with the
 * rights) lets it see student: its errors (BATON_ENOTFOUND, BATON_EPERM),
 * BATON_ENOMEM, or the store's.
 */
int dissent_family_list(store *st, const uint8_t pk[BATON_PK_BYTES], const char *student,
                        uint64_t now, json_t **out);

/*
 * Keeps the statements of a received transfer with the record filed as
 * student, from school code from (already checked when the packet opened,
 * PROTOCOL.md 5.1 step 8), in the import's transaction t. A statement
 * already kept is left as it is. Returns 0 or the store's error.
 */
int dissent_keep_received(store_txn *t, const char *student, const char *from,
                          const uint8_t *const *bytes, const size_t *lens, size_t n);

/*
 * The same for a record held for review as held (RECORD.md, "The same
 * child"): its statements are kept with the held record, apart from every
 * student, until the registrar decides. Returns as dissent_keep_received.
 */
int dissent_keep_held(store_txn *t, uint64_t held, const char *from, const uint8_t *const *bytes,
                      const size_t *lens, size_t n);
/*
 * The registrar decided on held record held: accepted as student (not
 * NULL), its statements are kept with that student from now on; rejected
 * (student NULL), they are deleted with it. Returns 0 or the store's error.
 */
int dissent_held_decided(store_txn *t, uint64_t held, const char *student);

/*
 * The statements kept with student in t that this school (identity key
 * own) holds for the sections in mask, for a transfer body: their ids,
 * ascending, into held and the encoded statements into bytes/lens (each
 * malloc'd: the caller frees them with dissent_free_held), *n of each.
 * Returns 0, BATON_ENOMEM, BATON_ETOOBIG (more than BATON_MAX_STATEMENTS:
 * baton_diag() says so), or the store's error.
 */
int dissent_for_sending(store_txn *t, const char *student, const uint8_t own[BATON_PK_BYTES],
                        uint32_t mask, uint8_t held[][BATON_ID_BYTES], uint8_t **bytes,
                        size_t *lens, size_t *n);
/* Frees what dissent_for_sending gave (n entries of bytes). */
void dissent_free_held(uint8_t **bytes, size_t n);

#endif
