/*
 * What a family sees and does from its own device, signed in with a
 * guardian's key (or an eligible student's own key): the students that key
 * is linked to, their records, every disclosure of them, the requests and
 * consents that concern them. The rules of who may see what live here; the
 * web API's family routes (web_family.c) only call these.
 *
 * A key sees a student when it is linked to that student and the link is
 * not restricted. Anything else reads as "not found", the same as a student
 * that does not exist: a parent is never told that another child exists.
 */
#ifndef BATON_NODE_FAMILY_H
#define BATON_NODE_FAMILY_H

#include <stddef.h>
#include <stdint.h>

#include <baton/keys.h>
#include <jansson.h>

#include "store.h"

/*
 * *active gets 1 when pk is linked, unrestricted, to at least one student,
 * else 0. Returns 0 or the store's error.
 */
int family_key_active(store *st, const uint8_t pk[BATON_PK_BYTES], int *active);

/*
 * Whether pk may see student in t: 0 with *g its link; BATON_ENOTFOUND
 * ("student: not found") when there is no such student, no link, or a
 * restricted one. With rights, also BATON_EPERM when the key does not hold
 * the rights now (consent_holds_rights at now: a guardian's key once the
 * student is eligible, the student's own key before). baton_diag() says
 * which; the store's errors.
 */
int family_student_check(store_txn *t, const uint8_t pk[BATON_PK_BYTES], const char *student,
                         uint64_t now, int rights, store_guardian *g);

/*
 * The students pk sees, in id order: [{id, given_name, family_name,
 * relation, rights: "holds" | "student" | "parents"}] into *out (new, the
 * caller's). Returns 0, BATON_ENOMEM or the store's error.
 */
int family_students(store *st, const uint8_t pk[BATON_PK_BYTES], uint64_t now, json_t **out);

/*
 * The record of student as the school holds it: {id, sections: {NAME:
 * VALUE...} (every member of the stored record but its attachments),
 * attachments: [{hash, name, type, size, section}], updated, version}.
 * Returns 0 with *out new, family_student_check's errors (with rights),
 * BATON_EIO, BATON_ENOMEM or the store's error.
 */
int family_record(store *st, const uint8_t pk[BATON_PK_BYTES], const char *student, uint64_t now,
                  json_t **out);

/*
 * An attachment of student's record (view_student_attachment), after
 * family_student_check with rights. Arguments and returns as
 * view_student_attachment, and family_student_check's errors.
 */
int family_attachment(store *st, const uint8_t pk[BATON_PK_BYTES], const char *student,
                      const char *hex, uint64_t now, uint8_t **data, size_t *len, char *name,
                      char *type, size_t cap);

/*
 * The record of disclosures of student (34 CFR 99.32), newest first, from
 * the audit log's "disclosure" entries joined with the outbox's receipt
 * state: [{time, to: {code, name, fingerprint}, sections: [...], basis,
 * consent, by, receipt, transfer}]. by is the entry's person, else
 * "command line". Returns as family_record.
 */
int family_disclosures(store *st, const uint8_t pk[BATON_PK_BYTES], const char *student,
                       uint64_t now, json_t **out);

/*
 * Other schools' requests for student's record held for an answer, in id
 * order: [{id, from: {code, name, fingerprint, id}, sections, purpose,
 * time}]. Returns as family_record.
 */
int family_requests(store *st, const uint8_t pk[BATON_PK_BYTES], const char *student, uint64_t now,
                    json_t **out);

/*
 * The consents on file for student, in id order: [{id, to: {code, name,
 * fingerprint}, sections, purpose, issued, expires, status, signer (a
 * fingerprint), mine}]. Returns as family_record.
 */
int family_consents(store *st, const uint8_t pk[BATON_PK_BYTES], const char *student, uint64_t now,
                    json_t **out);

/*
 * Takes a consent signed in the family's browser: bytes must be a consent
 * (PROTOCOL.md 3.5) signed by pk, naming this school as its sender, for a
 * student pk sees and holds the rights for; then consent_view_import.
 * *out gets {id, status}. Returns 0; BATON_EVALUE naming what (not a
 * consent, another school); BATON_EPERM (another signer, or the rights);
 * BATON_ENOTFOUND; consent_view_import's errors. Nothing is stored on
 * error.
 */
int family_consent_add(store *st, const uint8_t pk[BATON_PK_BYTES], const uint8_t *bytes,
                       size_t len, uint64_t now, json_t **out);

/*
 * Takes a revocation signed in the family's browser: signed by pk, of a
 * consent on file for a student pk sees; then consent_view_import. *out
 * gets {consent, effective}. Returns as family_consent_add (BATON_ENOTFOUND
 * for a consent not on file or of a student pk does not see).
 */
int family_revocation_add(store *st, const uint8_t pk[BATON_PK_BYTES], const uint8_t *bytes,
                          size_t len, uint64_t now, json_t **out);

/*
 * The schools a consent may name as its receiver (those this node trusts,
 * pinned or through a directory, withdrawn keys left out; the pinned ones
 * first, in code order): [{code, name, fingerprint, id}]. Returns 0, BATON_ENOMEM or
 * the store's error.
 */
int family_schools(store *st, json_t **out);

/* This school: {name, code, fingerprint, id}, new, or NULL (no card, or memory). */
json_t *family_school(store *st);

#endif
