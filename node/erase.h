/*
 * Erasure and retention: a student's record taken off this node for good
 * (every version, attachments, links, invitations, consents, requests,
 * held copies, queued packets), with a tombstone in the audit log that
 * holds no personal data; received records never enrolled, erased after
 * the school's retention period; the node's own upgrade backups, which
 * would keep what was erased, removed; and the erasures listed, so that a
 * backup restored later can have them applied again.
 *
 * The store must be opened STORE_OPEN_ALONE for anything that erases: the
 * caller then compacts it (store_compact), so that the pages freed hold
 * nothing.
 */
#ifndef BATON_NODE_ERASE_H
#define BATON_NODE_ERASE_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

#define ERASE_REASON_MAX    160 /* bytes of the registrar's reason */
#define ERASE_DAYS_DEFAULT  90  /* the retention period when the school set none */
#define ERASE_DAYS_MAX      36500
#define ERASE_ACTION        "erasure"
#define ERASE_HELD_ACTION   "erasure-held" /* a held record alone: not the student */
#define ERASE_BACKUP_PREFIX "backup-schema-"

/*
 * Checks a reason as given: 1 to ERASE_REASON_MAX bytes, printable (no
 * control characters). 0, or BATON_EVALUE naming what is wrong.
 */
int erase_reason_check(const char *reason);

/* What an erasure would remove (dry) or removed. */
struct erase_plan {
	char student[BATON_STUDENT_MAX + 1]; /* the student, or the one a held record names */
	uint64_t held;                       /* a held record alone, or 0 */
	int received_only;                   /* received, never enrolled (erase_received) */
	store_erased e;                      /* counts; files to remove after commit */
};

/*
 * Erases student id (held 0) or held record held (id NULL) in one write
 * transaction: store_erase_student / store_erase_held with the attachments
 * its records name, and the tombstone: an audit entry "erasure" (a held
 * record alone: "erasure-held") naming the school's own student id, detail "WHY: REASON" and what
 * was removed (counts only). why is "registrar", "retention" or "restored backup". With dry set the
 * transaction is rolled back: *p says what would go. With received set, a student that was enrolled
 * here is refused (BATON_EVALUE). BATON_ENOTFOUND when there is no such student (nor any record
 * held against it) or held record. *p is zeroed first; the caller frees it with
 * store_erased_clear(&p->e).
 */
int erase_run(store *st, const char *id, uint64_t held, const char *why, const char *reason,
              int received, int dry, struct erase_plan *p);

/*
 * Removes the outbox packet files of p (inside dir/outbox only, overwritten
 * first), and the console uploads a killed serve left in dir (.upload-*).
 * 0, or BATON_EIO naming the file that could not go.
 */
int erase_files(const char *dir, const struct erase_plan *p);

/*
 * The node's own backups (dir/backup-schema-N-TIME, made by upgrade): cb
 * gets each one's path. With remove set, each is overwritten and removed
 * first (cb then names what went). 0, cb's non-zero, or BATON_EIO.
 */
int erase_backups(const char *dir, int remove, int (*cb)(const char *path, void *ctx), void *ctx);

/* The retention period in days (ERASE_DAYS_DEFAULT when none was set). */
int erase_retention_get(store *st, uint32_t *days);
/* Sets it (1..ERASE_DAYS_MAX, else BATON_EVALUE), audited as a policy entry. */
int erase_retention_set(store *st, uint32_t days);

/* A received record not enrolled, past the retention period. */
struct erase_due {
	char student[BATON_STUDENT_MAX + 1];
	uint64_t held;     /* a held record (0: the student on file) */
	uint64_t received; /* when it arrived */
	char from[BATON_CODE_MAX + 1];
};
/*
 * Calls cb for each received record not enrolled that arrived more than
 * days days before now: students on file whose every version came from
 * another school (no "import" in their audit entries) and records held for
 * review that came from another school. Returns 0, cb's non-zero, or the
 * store's error.
 */
int erase_due_each(store *st, uint64_t now, uint32_t days,
                   int (*cb)(const struct erase_due *d, void *ctx), void *ctx);

/* Calls cb for each tombstone of a student ("erasure") in the audit log, oldest first. */
int erase_tombstones(store *st, int (*cb)(const store_audit *e, void *ctx), void *ctx);

#endif
