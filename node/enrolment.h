/*
 * The enrolment exception (34 CFR 99.31(a)(2)): a school may disclose a
 * student's record without consent to the school where the student seeks
 * to enrol, after its annual notice to families. Off unless the school's
 * policy turns it on; then a request carrying the enrolling school's signed
 * enrolment statement (PROTOCOL.md 3.12) is released at once when the
 * statement names a student on file here who is the child it describes,
 * with the non-sensitive sections only unless the policy names sensitive
 * ones. Every function returns 0 or a negative BATON_E* code, with
 * baton_diag() naming what failed.
 */
#ifndef BATON_NODE_ENROLMENT_H
#define BATON_NODE_ENROLMENT_H

#include <stddef.h>
#include <stdint.h>

#include <baton/objects.h>

#include "store.h"

#define ENROL_NOTICE_MAX 4096

struct enrol_policy {
	int on;
	uint32_t sensitive;                /* sensitive sections released on a statement too */
	char notice[ENROL_NOTICE_MAX + 1]; /* the school's annual notice, "" when none */
};

/* In a transaction: the policy into *p (off, nothing, no notice when never set). */
int xfer_enrol_policy_read(store_txn *t, struct enrol_policy *p);
/*
 * Sets the policy: on, and when sensitive is not NULL the sensitive sections
 * it releases (only sensitive ones), and when notice is not NULL the annual
 * notice (len bytes, the text rule with line breaks allowed); audited as a
 * policy change. Turning it on needs a notice, given now or before.
 */
int enrolment_policy_set(store *st, int on, const uint32_t *sensitive, const char *notice,
                         size_t len);
int enrolment_policy_get(store *st, struct enrol_policy *p);

/*
 * Whether the statement s names a student on file here who is the child it
 * describes: 0, or BATON_ENOTFOUND (no such student) or BATON_EVALUE (another
 * child) with why in baton_diag().
 */
int xfer_enrol_same_child(store_txn *t, const baton_enrolment *s);

/*
 * The sections released on a statement under policy p, of want: identity
 * always, the rest when not sensitive or named by the policy.
 */
uint32_t enrol_release_mask(const struct enrol_policy *p, uint32_t want);

#endif
