/*
 * The audit log as 'baton audit' and the console's Audit page both read
 * it: entries as JSON, a filtered page of them newest first, and the
 * check of the hash chain and the signed heads with its result.
 */
#ifndef BATON_NODE_VIEW_AUDIT_H
#define BATON_NODE_VIEW_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "store.h"

#define AUDIT_PAGE_MAX 500 /* entries one page holds at most */

/*
 * Entry e as JSON: seq, time, action, hash, and those of student, peer,
 * consent, packet, sections, detail, by that it has. e is the caller's;
 * the result is new (json_decref), NULL when memory ran out.
 */
json_t *audit_entry_json(const store_audit *e);

/* Which entries audit_page returns: each field 0 or NULL matches all. */
struct audit_filter {
	const char *student; /* this student's entries only (through the index) */
	const char *action;  /* this action */
	const char *by;      /* entries written on this person's behalf */
	uint64_t from, to;   /* time from..to, seconds, both included (0: open) */
	uint64_t before;     /* only entries with seq below this */
	size_t limit;        /* at most this many (1..AUDIT_PAGE_MAX; 0: AUDIT_PAGE_MAX) */
};

/*
 * The newest entries matching f, newest first, into *out (new; free with
 * json_decref): {"entries": [audit_entry_json...], "more": true|false,
 * and "next_before": SEQ when more}. f is the caller's.
 * Returns 0; BATON_EVALUE when f->limit is over AUDIT_PAGE_MAX (baton_diag()
 * says so); BATON_ENOMEM; the store's errors.
 */
int audit_page(store *st, const struct audit_filter *f, json_t **out);

/* What audit_verify found. */
struct audit_verified {
	uint64_t count;          /* entries in the log */
	uint64_t bad;            /* the first entry or head that does not hold, 0 when none */
	uint64_t held_at;        /* with against: the entry the peer's head names */
	int against_failed;      /* with against: 1 when that head does not match */
	store_audit_heads heads; /* the signed heads checked */
};

/*
 * Recomputes the hash chain and the per-student index, checks every signed
 * head, and, with against (len bytes, a head a peer kept; NULL for none),
 * that head too. against is the caller's; *v is filled.
 * Returns 0 when all holds; BATON_EHASH or BATON_EBADSIG with v->bad and
 * baton_diag() naming the first entry or head that does not; with
 * v->against_failed the errors of checking against; the store's errors.
 */
int audit_verify(store *st, const uint8_t *against, size_t len, struct audit_verified *v);

/*
 * 1 when r (from audit_verify) says the log failed the check, as opposed
 * to the store failing to be read; 0 otherwise. Cannot fail.
 */
int audit_verify_failed(const struct audit_verified *v, int r);

/*
 * The result of audit_verify (v, its return r, and the name of the head
 * file checked against or NULL) as JSON: verified, entries,
 * signed_through, heads, and as they apply signer, unsigned_from, against,
 * against_entry, failed_at, error (baton_diag() at the time of the call).
 * The result is new (json_decref), NULL when memory ran out.
 */
json_t *audit_verify_json(const struct audit_verified *v, const char *against, int r);

/*
 * The same in one paragraph a registrar reads ("The log is intact: 12
 * entries, all signed by ..." or "The log is BROKEN at entry 5: ..."),
 * into buf (cap bytes, always NUL-terminated). Cannot fail.
 */
void audit_verify_words(const struct audit_verified *v, int r, char *buf, size_t cap);

#endif
