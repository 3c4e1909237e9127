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
 * Checks a parsed copy against this node's log: the log verifies; the
 * copy's head holds against it as any head this school signed, by its key
 * now or an earlier one (store_audit_check_head); and, up to that head, the
 * student's disclosures in the log are the copy's entries, each unchanged
 * (its hash, and the disclosure it names: time, school, sections, basis,
 * consent, packet, by), none left out. 0, or BATON_EBADSIG (another
 * school's copy) / BATON_EHASH (or the head's error) naming the first that
 * does not hold; the store's errors.
 */
int disclosure_copy_against(store *st, const baton_disclosures *d);

/*
 * A disclosure's receipt as the family is shown it and the copy names it
 * (PROTOCOL.md 3.13): "waiting", "received", "refused", "expired", or
 * "unknown" when its outbox entry (ob, when found) is not there.
 */
const char *disclosure_receipt_state(const store_outbox *ob, int found);

#endif
