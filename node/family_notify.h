/*
 * Telling the family: the email address on file for a guardian key, and
 * the notices queued for it when something happens to a student's record.
 * A notice says only what happened, when, and which school (the family's
 * page shows the rest); node/mail.c sends it.
 */
#ifndef BATON_NODE_FAMILY_NOTIFY_H
#define BATON_NODE_FAMILY_NOTIFY_H

#include <stdint.h>

#include <baton/keys.h>

#include "store.h"

/* What happened; stored in the queue, so the numbers never change. */
enum notify_kind {
	NOTIFY_DISCLOSURE = 1, /* a copy of the record was sent (peer: the school it went to) */
	NOTIFY_REQUEST = 2,    /* a school asked for the record (peer: that school) */
	NOTIFY_CONSENT_EXPIRING = 3, /* a consent on file ends within NOTIFY_EXPIRY_DAYS days */
	NOTIFY_RIGHTS = 4,           /* the student turned 18: the rights are now theirs */
};
#define NOTIFY_KIND_MAX    4
#define NOTIFY_EXPIRY_DAYS 7
#define NOTIFY_RIGHTS_DAYS 7 /* a student who turned 18 at most this long ago is told */

/*
 * Queues, inside the caller's write transaction t (so the notice commits
 * with what it reports, or not at all), one notice of kind k about student
 * to each address on file for a key linked to student that should hear of
 * it: the keys holding the rights (the parents', or the student's own once
 * eligible) for a disclosure, a request or an expiring consent; every key
 * for NOTIFY_RIGHTS. Restricted links are never told. An address shared by
 * two keys gets one notice. peer is the school code the notice names (""
 * or NULL for none). Nothing is queued, and 0 returned, when no key has an
 * address. BATON_EINVAL for an unknown kind; the store's errors.
 *
 * This is the one function the rest of the node calls when the family must
 * be told.
 */
int notify_family(store_txn *t, const char *student, enum notify_kind k, const char *peer);

/*
 * Checks an email address typed by a person: at most STORE_EMAIL_MAX bytes,
 * one '@' with a local part of 1 to 64 printable ASCII characters (none of
 * space, quotes, brackets, commas, semicolons, colons or backslashes) and a
 * domain of letters, digits, '-' and '.' with at least one dot and no
 * empty label. So no address can carry CR, LF or any control character
 * into a mail header. 0 or BATON_EVALUE with baton_diag() naming what
 * (the field) and why.
 */
int notify_email_check(const char *what, const char *addr);

/*
 * Sets (addr non-empty, checked with notify_email_check) or removes (addr
 * "" or NULL) the address on file for guardian key pk, which must be linked
 * to some student; audited as "guardian-email" with the key's fingerprint,
 * never the address. BATON_EVALUE (the address), BATON_ENOTFOUND (no
 * student has that key), the store's errors. Nothing is written when it
 * fails.
 */
int notify_email_set(store *st, const uint8_t pk[BATON_PK_BYTES], const char *addr);
/* pk's address into addr (STORE_EMAIL_MAX + 1 bytes), "" when none; the store's errors. */
int notify_email_get(store *st, const uint8_t pk[BATON_PK_BYTES], char *addr);

/*
 * The daily look at what time alone brings: each consent on file that ends
 * within NOTIFY_EXPIRY_DAYS days of now, and each student who turned 18 in
 * the last NOTIFY_RIGHTS_DAYS days, queues its notice once (a marker in the
 * store's meta table keeps it from being queued again). *queued (may be
 * NULL) gets the count of events found. The store's errors.
 */
int notify_scan(store *st, uint64_t now, unsigned *queued);

/* The kind's name for the audit log and the command line ("disclosure"), "?" when unknown. */
const char *notify_kind_name(uint32_t k);

#endif
