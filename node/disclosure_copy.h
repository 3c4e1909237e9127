/*
 * The family's signed copy of the record of disclosures of one student
 * (PROTOCOL.md 3.13): made here for the registrar (baton audit copy) and
 * for the family's pages alike, and checked against this school's own log
 * (baton audit check --against).
 */
#ifndef BATON_NODE_DISCLOSURE_COPY_H
#define BATON_NODE_DISCLOSURE_COPY_H

#include <stddef.h>
#include <stdint.h>

#include <baton/disclosures.h>
#include <baton/keys.h>

#include "store.h"

/*
 * Makes the copy for student, signed with key (this school's; the caller's):
 * in one write transaction, signs the log's head if the latest entry is not
 * signed yet, then reads the student's "disclosure" entries (with each
 * receiving school's pinned card and the outbox's receipt state) and the
 * head. With family (may be NULL: the registrar) the key must see the
 * student and hold the rights (family_student_check). *out (the caller
 * frees it with free()) and *len on success. BATON_ENOTFOUND ("student: not
 * found"), BATON_EPERM (the rights), BATON_EVALUE (more disclosures than a
 * copy holds), BATON_ENOMEM, the store's errors; nothing but a head is
 * written.
 */
int disclosure_copy_make(store *st, const baton_key *key, const char *student,
                         const uint8_t *family, uint64_t now, uint8_t **out, size_t *len);

/*
 * Checks a parsed copy against this node's log: the copy is this school's
 * (signed by its identity key now), its head holds against the log
 * (store_audit_check_head), and each entry is the log's entry at its seq,
 * unchanged (its hash, and the disclosure it names: student, time, school,
 * sections, consent, packet, by). 0, or BATON_EHASH / BATON_EBADSIG naming
 * the first that does not hold (*bad: the entry's number in the copy, 0 for
 * the copy or its head); the store's errors.
 */
int disclosure_copy_against(store *st, const baton_disclosures *d, size_t *bad);

#endif
