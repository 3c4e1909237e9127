/*
 * The node's store: one LMDB environment per node directory, with named
 * sub-databases for students, record versions, attachment blobs, guardian
 * links, pinned peers and the hash-chained audit log.
 *
 * Every change runs in store_write(): one write transaction, which the
 * caller's function fills (record and audit entry together) and which is
 * acknowledged only after mdb_txn_commit() returns. Values read through a
 * transaction live only until it ends: copy them out first.
 *
 * Threads of one process share one store: each transaction belongs to the
 * thread that runs it (LMDB serialises write transactions), and the map
 * grows only while no transaction of the process is open.
 *
 * Return codes, for every function below that returns int: 0, or a negative
 * BATON_E* code with baton_diag() naming what it was looking at. A lookup
 * (a _get, a _del, a by-id search) that finds nothing returns
 * BATON_ENOTFOUND; every other failure of the store is BATON_EIO (LMDB
 * failed, or a row is damaged) or BATON_ENOMEM unless said otherwise. A
 * store_txn argument is always a live transaction of store_write/store_read
 * (a read-only one will not do for a function that writes). Strings are
 * NUL-terminated; struct fields copied out are owned by the caller's struct
 * unless a field's comment says who frees it.
 */
#ifndef BATON_STORE_H
#define BATON_STORE_H

#include <stddef.h>
#include <stdint.h>

#include <lmdb.h>

#include <baton/baton.h>

#define STORE_SCHEMA_VERSION 4

typedef struct store store;

/* A transaction and the store it belongs to; passed to store_write/store_read callbacks. */
typedef struct store_txn {
	store *s;
	MDB_txn *txn;
	uint64_t now;   /* the clock, read once per transaction */
	uint64_t batch; /* a number unique to this write transaction */
} store_txn;

/*
 * Opens (create == 0) or creates (create == 1) the store under dir/db.
 * Checks the schema version and clears stale reader slots: an older schema
 * is upgraded only with create == STORE_OPEN_UPGRADE (see the backup section
 * below), otherwise refused with BATON_EVERSION and the store untouched; a
 * newer one is refused. *out is set to NULL first, to the store on success:
 * the caller closes it with store_close(). BATON_EEXIST when creating over
 * an existing store; BATON_EIO when there is no store at dir, its schema is
 * unknown, or the disk cannot hold its map.
 */
int store_open(const char *dir, int create, store **out);
/* Closes s and frees it; s may be NULL. No transaction of s may be open. */
void store_close(store *s);

typedef int (*store_fn)(store_txn *t, void *ctx);

/*
 * Runs fn in a write transaction and commits. If the map fills up, the
 * transaction is aborted, the map grown and fn run again from the start, so
 * fn must not keep state across attempts except through ctx it resets.
 * Returns fn's error (after aborting) or the commit's; BATON_EIO when the
 * map cannot grow (its maximum, or no room on disk). With a signer set
 * (store_set_audit_signer), the log's new head is signed before the commit.
 */
int store_write(store *s, store_fn fn, void *ctx);
/* Runs fn in a read-only transaction; returns fn's error. */
int store_read(store *s, store_fn fn, void *ctx);
/*
 * The same, with t->now set to now: an operation reads its clock once and
 * every rule and record in it sees that instant.
 */
int store_write_at(store *s, uint64_t now, store_fn fn, void *ctx);
int store_read_at(store *s, uint64_t now, store_fn fn, void *ctx);
/* The clock store_write and store_read read once per transaction (default: time()); NULL
 * restores the default. */
void store_set_clock(store *s, uint64_t (*clock)(void));
/*
 * The id of the last transaction committed by any process: a change means
 * the store changed. Reads the shared map only, no system call.
 */
uint64_t store_version(store *s);

/*
 * *v gets the count of changes made to the students on file and their held
 * records (0 for a store that has had none): equal counts, the same
 * students. 0 or the store's error.
 */
int store_students_version(store_txn *t, uint64_t *v);

/* Current map size in bytes (for tests). */
size_t store_map_size(store *s);
/* Sets the map size (tests use a small map to exercise growth); no transaction may be open. */
int store_set_map_size(store *s, size_t size);

/* ---- meta: named values (this node's card, counters) ---- */
/* Stores len bytes of val (copied) under key, replacing any value. */
int store_meta_put(store_txn *t, const char *key, const void *val, size_t len);
/*
 * Copies key's value into *val, malloc'd with a NUL after its len bytes; the
 * caller frees it with free(). *val is NULL and *len 0 unless it returns 0.
 * BATON_ENOTFOUND when there is no such key.
 */
int store_meta_get(store_txn *t, const char *key, uint8_t **val, size_t *len);

/*
 * This node's card, and the card this node trusts for school code (pinned,
 * or through a directory: store_trusted_card), parsed into *c (which owns
 * nothing). BATON_ENOTFOUND when this node has no card yet or code is not
 * trusted; BATON_EIO when the stored card does not parse.
 */
int store_own_card(store_txn *t, baton_card *c);
int store_peer_card(store_txn *t, const char *code, baton_card *c);

/* ---- students ---- */
typedef struct store_student {
	char id[BATON_STUDENT_MAX + 1];
	char state_id[BATON_STUDENT_MAX + 1];
	char given_name[201];
	char family_name[201];
	char birth_date[11];
	uint32_t version; /* latest */
	uint64_t updated;
	uint64_t batch; /* the write transaction that made the latest version */
} store_student;

/*
 * Stores json (a canonical record, len bytes, copied) as a new version of
 * student s->id and updates the index from s's fields. Sets s->version,
 * s->updated and s->batch. BATON_EEXIST when this transaction already wrote
 * the same student (a duplicate within one import); BATON_EVALUE when
 * s->state_id belongs to another student; BATON_EINVAL when s->id is too long.
 */
int store_student_put(store_txn *t, store_student *s, const char *json, size_t len);
/* Fills *s (cleared first) with student id's index entry. BATON_ENOTFOUND when there is none. */
int store_student_get(store_txn *t, const char *id, store_student *s);
/*
 * Copies the local id of the student with statewide id state_id into id (cap
 * bytes). BATON_ENOTFOUND when no student has it.
 */
int store_student_by_state_id(store_txn *t, const char *state_id, char *id, size_t cap);
/*
 * Copies version v (0: the latest) of student id's record into *json,
 * malloc'd and NUL-terminated; the caller frees it with free() (wiping it
 * first: it is student data). *json is NULL unless it returns 0.
 * BATON_ENOTFOUND when there is no such student or version.
 */
int store_record_get(store_txn *t, const char *id, uint32_t v, char **json, size_t *len);
/*
 * *same is 1 when json (a canonical record) is the latest version of student
 * id on file, 0 when not or when there is no such student; *s gets the
 * student's index entry when there is one. Returns 0 or an error, never
 * BATON_ENOTFOUND.
 */
int store_record_same(store_txn *t, const char *id, const char *json, store_student *s, int *same);
/*
 * Calls cb for each student in id order until cb returns non-zero, and
 * returns that; s lives until cb returns.
 */
typedef int (*store_student_cb)(const store_student *s, void *ctx);
int store_student_each(store_txn *t, store_student_cb cb, void *ctx);
/* Sets *n to the number of students. */
int store_student_count(store_txn *t, size_t *n);

/* ---- records held for the registrar's review ---- */
/*
 * The same child: given and family name equal once outer space is dropped,
 * inner space runs are one space and ASCII letters are folded to one case,
 * and the same birth date. A missing name or birth date is never the same
 * child. A changed statewide id alone is a correction, not another child.
 * A predicate: 1 or 0, and it cannot fail.
 */
int store_same_child(const store_student *on_file, const store_student *s);

typedef struct store_held {
	uint64_t id;                          /* numbered from 1, never reused */
	char student[BATON_STUDENT_MAX + 1];  /* the student on file it would replace */
	char from[BATON_CODE_MAX + 1];        /* the sending school, or "" for a file import */
	char their_id[BATON_STUDENT_MAX + 1]; /* that school's id for the child, or "" */
	uint8_t packet[BATON_ID_BYTES];       /* the packet it came in, when has_packet */
	int has_packet;
	uint64_t time;
	char *json; /* the canonical record; malloc'd by get and each, freed by store_held_clear */
	size_t len;
} store_held;

/*
 * Stores json (len bytes, copied) held for review, with h's origin (from,
 * their_id, packet, student); sets h->id (a number never given before) and
 * h->time. h->json is not read.
 */
int store_held_put(store_txn *t, store_held *h, const char *json, size_t len);
/*
 * Fills *h (cleared first) with held item id; h->json is malloc'd: the
 * caller frees it with store_held_clear(). BATON_ENOTFOUND when there is no
 * such item (nothing is then allocated).
 */
int store_held_get(store_txn *t, uint64_t id, store_held *h);
/* Deletes held item id. BATON_ENOTFOUND when there was no such item. */
int store_held_del(store_txn *t, uint64_t id);
/* Wipes and frees h->json and sets it to NULL; h may be NULL. */
void store_held_clear(store_held *h);
/*
 * Calls cb for each held item in number order until cb returns non-zero,
 * and returns that. h and h->json are the store's: they live until cb
 * returns, and the store frees them.
 */
typedef int (*store_held_cb)(const store_held *h, void *ctx);
int store_held_each(store_txn *t, store_held_cb cb, void *ctx);

/*
 * Sets *id to the number the last held item was given (0: none yet), without
 * writing: a read-only transaction will do.
 */
int store_held_last(store_txn *t, uint64_t *id);

enum { FILED_NEW = 0, FILED_VERSION = 1, FILED_UNCHANGED = 2, FILED_HELD = 3 };
/*
 * What store_student_file would do with json (a canonical record of student
 * s->id, index fields filled in), without writing anything: a read-only
 * transaction will do. *how is FILED_NEW, FILED_VERSION, FILED_UNCHANGED or
 * FILED_HELD; *old (the caller's) is the student on file, cleared when
 * there is none. s and json are only read. The check of s->state_id that
 * store_student_put makes is not made here.
 */
int store_student_sort(store_txn *t, const store_student *s, const char *json, store_student *old,
                       int *how);
/*
 * Files json, a canonical record of student s->id whose index fields are
 * filled in: a new student, a new version when the student on file is the
 * same child (store_same_child), nothing when it is the same record again;
 * otherwise it is held for review (h says where it came from; h->id is set)
 * and the student's current record stays as it is. *how says which
 * (FILED_*); *s is the student as now on file. The one rule for student
 * import and for records received. Errors as store_student_put and
 * store_held_put.
 */
int store_student_file(store_txn *t, store_student *s, const char *json, size_t len, store_held *h,
                       int *how);

/* ---- attachment blobs, content-addressed by BLAKE2b-256 ---- */
/*
 * Stores len bytes of data (copied) under hash, which the caller computed;
 * a blob already stored under hash is kept as it is (0). As it copies, it
 * releases the pages of data it has read (MADV_DONTNEED) so that a large
 * attachment never stays resident twice: data must be a read-only file
 * mapping, whose pages come back from the file; anonymous memory would read
 * back as zeros.
 */
int store_blob_put(store_txn *t, const uint8_t hash[32], const uint8_t *data, size_t len);
/*
 * Reserves len bytes for a new blob and points *data at them (in the map),
 * for the caller to fill before the transaction ends. BATON_EEXIST, with
 * *data NULL, when a blob is already stored under hash.
 */
int store_blob_reserve(store_txn *t, const uint8_t hash[32], size_t len, uint8_t **data);
/*
 * Points *data at the blob's len bytes in the map: valid, read-only, until
 * the transaction ends; nothing to free. BATON_ENOTFOUND when there is none.
 */
int store_blob_get(store_txn *t, const uint8_t hash[32], const uint8_t **data, size_t *len);
/*
 * Done with bytes [from, to) of a large buffer in the map (or in a mapped
 * file): the whole pages among them leave the process's resident set.
 * Written pages stay in the page cache and reach the disk at commit, so a
 * 200 MB attachment does not make a 200 MB process. Returns the new
 * watermark, to pass as from next time.
 */
size_t store_pages_done(const uint8_t *base, size_t from, size_t to);

/* ---- guardian links ---- */
typedef struct store_guardian {
	uint8_t pk[BATON_PK_BYTES];
	char relation[33];
	int restricted;
	uint64_t linked;
} store_guardian;
/* Links g->pk to student, replacing the link it had. BATON_EINVAL when student is too long. */
int store_guardian_put(store_txn *t, const char *student, const store_guardian *g);
/* Unlinks pk from student. BATON_ENOTFOUND when they were not linked. */
int store_guardian_del(store_txn *t, const char *student, const uint8_t pk[BATON_PK_BYTES]);
/* Calls cb for each of student's links, in key order, until cb returns non-zero; returns that. */
typedef int (*store_guardian_cb)(const store_guardian *g, void *ctx);
int store_guardian_each(store_txn *t, const char *student, store_guardian_cb cb, void *ctx);
/*
 * Calls cb for each student pk is linked to (student: the id, valid until cb
 * returns), in student order, until cb returns non-zero; returns that. A
 * scan of every link.
 */
typedef int (*store_guardian_key_cb)(const char *student, const store_guardian *g, void *ctx);
int store_guardian_each_student(store_txn *t, const uint8_t pk[BATON_PK_BYTES],
                                store_guardian_key_cb cb, void *ctx);

/* ---- peers ---- */
/* Stores a pinned card (its encoded bytes, copied) under its school code, replacing any. */
int store_peer_put(store_txn *t, const char *code, const uint8_t *card, size_t len);
/*
 * Copies the card pinned for code into *card, malloc'd; the caller frees it
 * with free(). BATON_ENOTFOUND (*card NULL) when code is not pinned.
 */
int store_peer_get(store_txn *t, const char *code, uint8_t **card, size_t *len);
/* Unpins code. BATON_ENOTFOUND when it was not pinned. */
int store_peer_del(store_txn *t, const char *code);
/*
 * Calls cb for each pinned school in code order until cb returns non-zero,
 * and returns that; code and card are the store's, valid until cb returns.
 */
typedef int (*store_peer_cb)(const char *code, const uint8_t *card, size_t len, void *ctx);
int store_peer_each(store_txn *t, store_peer_cb cb, void *ctx);

/* ---- federation directories: pinned authorities and the directories they sign ---- */
/*
 * A school trusted through a directory is a member of the current directory
 * of a pinned authority, that directory not yet expired (now <= expires). A
 * code pinned by hand (store_peer_put) wins over every directory. A key
 * withdrawn by the current directory of any pinned authority is trusted
 * neither way.
 */
#define STORE_URL_MAX 2048 /* the longest URL an authority's directory is fetched from */
typedef struct store_authority {
	uint8_t pk[BATON_PK_BYTES];
	char label[BATON_NAME_MAX + 1]; /* the name given when pinned; "" when none */
	uint64_t pinned;                /* when */
	char url[STORE_URL_MAX + 1];    /* where serve fetches its directory; "" when nowhere */
} store_authority;
/* The most authorities a node pins: each trust lookup reads every one. */
#define STORE_AUTHORITIES_MAX 256
/*
 * Pins a->pk with its label and URL (a->pinned, when 0, is set to now),
 * replacing those of one pinned. BATON_EINVAL for a label or URL too long;
 * BATON_EVALUE when STORE_AUTHORITIES_MAX others are pinned.
 */
int store_authority_put(store_txn *t, store_authority *a);
/* Fills *a (cleared first). BATON_ENOTFOUND when pk is not pinned. */
int store_authority_get(store_txn *t, const uint8_t pk[BATON_PK_BYTES], store_authority *a);
/*
 * Unpins pk: its schools are trusted no more through it, nor do its
 * withdrawn keys count. Its directory is kept (read only while pinned), so
 * pinned again it has the version it had: an older one is never taken.
 * BATON_ENOTFOUND when pk was not pinned.
 */
int store_authority_del(store_txn *t, const uint8_t pk[BATON_PK_BYTES]);
/* Calls cb for each pinned authority in key order until cb returns non-zero; returns that. */
typedef int (*store_authority_cb)(const store_authority *a, void *ctx);
int store_authority_each(store_txn *t, store_authority_cb cb, void *ctx);

/* An authority's current directory as stored. */
typedef struct store_directory {
	uint8_t authority[BATON_PK_BYTES];
	char name[BATON_NAME_MAX + 1]; /* the authority's name, as the directory gives it */
	uint64_t version, issued, expires;
	uint8_t hash[BATON_HASH_BYTES];
	uint32_t n_members, n_withdrawn;
	const uint8_t
	    *bytes; /* the signed directory, in the map: valid until the transaction ends */
	size_t len;
} store_directory;
/*
 * Fills *d (cleared first) with authority's current directory.
 * BATON_ENOTFOUND when it has none.
 */
int store_directory_get(store_txn *t, const uint8_t authority[BATON_PK_BYTES], store_directory *d);
/* What a new directory changed, against the one it replaced. */
typedef struct store_directory_diff {
	size_t added;     /* codes that were not members */
	size_t changed;   /* codes whose card (key or anything else) is not the same bytes */
	size_t removed;   /* codes that are members no more */
	size_t withdrawn; /* keys withdrawn that were not */
} store_directory_diff;
/*
 * Stores d (parsed from bytes, len bytes, both copied) as the current
 * directory of its authority, replacing the one held and its members and
 * withdrawn keys, and fills *diff (may be NULL). The caller has checked it
 * (signer pinned, version, validity, conflicts). BATON_EINVAL when the
 * authority is not pinned.
 */
int store_directory_put(store_txn *t, const baton_directory *d, const uint8_t *bytes, size_t len,
                        store_directory_diff *diff);
/*
 * The card authority's current directory lists for code, copied into
 * *card (malloc'd, freed by the caller with free()). BATON_ENOTFOUND when
 * it has no such member. Whether that directory is valid is not checked.
 */
int store_directory_member(store_txn *t, const uint8_t authority[BATON_PK_BYTES], const char *code,
                           uint8_t **card, size_t *len);

/*
 * Calls cb for each member of authority's current directory, in code
 * order, until cb returns non-zero; returns that. code and card are the
 * store's, valid until cb returns.
 */
int store_directory_member_each(store_txn *t, const uint8_t authority[BATON_PK_BYTES],
                                store_peer_cb cb, void *ctx);

/* How a school is trusted (store_trusted_card). */
enum { STORE_TRUST_PIN = 1, STORE_TRUST_DIRECTORY = 2 };
typedef struct store_trust {
	int via;                           /* STORE_TRUST_* */
	uint8_t authority[BATON_PK_BYTES]; /* via a directory: whose */
	char authority_name[BATON_NAME_MAX + 1];
	char
	    withdrawn_by[BATON_NAME_MAX + 1]; /* store_trusted_each: a pin whose key is withdrawn */
} store_trust;
/*
 * The card this node trusts for code, parsed into *c (which owns nothing),
 * and how (*how may be NULL): the card pinned by hand, else a member of a
 * pinned authority's valid directory. BATON_ENOTFOUND when there is none or
 * its key is withdrawn (the diagnostic says by whom); BATON_EIO when a
 * stored card does not parse. store_peer_card is this without how.
 */
int store_trusted_card(store_txn *t, const char *code, baton_card *c, store_trust *how);
/*
 * Calls cb for each school this node trusts until cb returns non-zero, and
 * returns that: the pinned ones in code order, then those trusted through a
 * directory (by authority, then code), each once, where store_trusted_card
 * finds it. A pin whose key is withdrawn is passed too, with
 * how->withdrawn_by set: not trusted, but still pinned. code, c and how
 * live until cb returns. BATON_EIO when a stored card does not parse.
 */
typedef int (*store_trusted_cb)(const char *code, const baton_card *c, const store_trust *how,
                                void *ctx);
int store_trusted_each(store_txn *t, store_trusted_cb cb, void *ctx);
/*
 * The code of the school this node trusts with identity key pk (copied into
 * code, BATON_CODE_MAX + 1 bytes), by the rule of store_trusted_card.
 * BATON_ENOTFOUND when no school is trusted with it.
 */
int store_trusted_code(store_txn *t, const uint8_t pk[BATON_PK_BYTES],
                       char code[BATON_CODE_MAX + 1]);
/*
 * 0 when pk is withdrawn by the current directory of a pinned authority,
 * whose name (its label, else the directory's name) goes into by;
 * BATON_ENOTFOUND when it is not.
 */
int store_withdrawn(store_txn *t, const uint8_t pk[BATON_PK_BYTES], char by[BATON_NAME_MAX + 1]);
/*
 * The same for the school code: its key (pinned, or a directory member's,
 * or the one it had when a directory withdrew it) is withdrawn.
 */
int store_withdrawn_code(store_txn *t, const char *code, char by[BATON_NAME_MAX + 1]);
/*
 * 0 when code is not pinned and is a member of the current directory of a
 * pinned authority that has expired at now (a school trusted through it no
 * more): that authority's name (store_withdrawn's) goes into by and the
 * expiry into *expires. BATON_ENOTFOUND when not.
 */
int store_expired_member(store_txn *t, const char *code, char by[BATON_NAME_MAX + 1],
                         uint64_t *expires);

/* ---- consents and revocations ---- */
/*
 * A consent this node has seen (checked or imported): its id is bound to
 * its student for good. bytes is the encoded consent, copied out.
 */
typedef struct store_consent {
	uint8_t id[BATON_ID_BYTES];
	char student[BATON_STUDENT_MAX + 1];
	uint64_t seen;
	uint8_t *bytes; /* from store_consent_get: malloc'd, the caller frees it with free() */
	size_t len;
} store_consent;
/* Binds c->id to c->student, with c's len bytes (copied), replacing any entry. */
int store_consent_put(store_txn *t, const store_consent *c);
/*
 * Fills *c (cleared first) with consent id; c->bytes is malloc'd and the
 * caller frees it with free(). BATON_ENOTFOUND (nothing allocated) when this
 * node has not seen the consent.
 */
int store_consent_get(store_txn *t, const uint8_t id[BATON_ID_BYTES], store_consent *c);
/*
 * Calls cb for each consent in id order until cb returns non-zero, and
 * returns that. c and c->bytes are the store's: valid until cb returns, then
 * freed by the store (cb must not free them).
 */
typedef int (*store_consent_cb)(const store_consent *c, void *ctx);
int store_consent_each(store_txn *t, store_consent_cb cb, void *ctx);
/*
 * Revocations of consent id, one per signer, each with its standing, decided
 * once and then kept: REV_PENDING until this node knows the consent,
 * REV_IN_FORCE when its signer had the right to withdraw it, REV_NO_RIGHT
 * when not (kept for the record, never counted).
 */
enum { REV_PENDING = 0, REV_IN_FORCE = 1, REV_NO_RIGHT = 2 };
/* Stores signer's revocation of consent id (len bytes, copied) with its standing, replacing any. */
int store_revocation_put(store_txn *t, const uint8_t id[BATON_ID_BYTES],
                         const uint8_t signer[BATON_PK_BYTES], int standing, const uint8_t *bytes,
                         size_t len);
/*
 * Calls cb for each revocation of consent id, by signer, until cb returns
 * non-zero, and returns that; signer and bytes are valid until cb returns. A
 * read error part-way is an error, never a shorter list.
 */
typedef int (*store_revocation_cb)(const uint8_t signer[BATON_PK_BYTES], int standing,
                                   const uint8_t *bytes, size_t len, void *ctx);
int store_revocation_each(store_txn *t, const uint8_t id[BATON_ID_BYTES], store_revocation_cb cb,
                          void *ctx);

/* ---- inbox and outbox ---- */
/*
 * The inbox is keyed by packet id and is also the replay guard: a packet
 * seen before gets the same receipt and imports nothing.
 */
typedef struct store_inbox {
	uint8_t packet[BATON_ID_BYTES];
	char from[BATON_CODE_MAX + 1];       /* sender's school code */
	char student[BATON_STUDENT_MAX + 1]; /* local id of the imported record, or "" */
	int reason;                          /* receipt reason */
	uint64_t time;
	uint8_t *receipt; /* encoded signed receipt; from store_inbox_get: malloc'd, caller frees */
	size_t receipt_len;
} store_inbox;
/* Stores e under e->packet (e->receipt copied), replacing any entry. */
int store_inbox_put(store_txn *t, const store_inbox *e);
/*
 * Fills *e (cleared first) with packet id's entry; e->receipt is malloc'd and
 * the caller frees it with free(). BATON_ENOTFOUND (nothing allocated) when
 * the packet is new here.
 */
int store_inbox_get(store_txn *t, const uint8_t id[BATON_ID_BYTES], store_inbox *e);
/*
 * Calls cb for each entry in packet id order until cb returns non-zero, and
 * returns that; e and e->receipt are the store's, freed when cb returns.
 */
typedef int (*store_inbox_cb)(const store_inbox *e, void *ctx);
int store_inbox_each(store_txn *t, store_inbox_cb cb, void *ctx);

typedef enum store_out_state {
	OUT_QUEUED = 0,
	OUT_SENT = 1,
	OUT_RECEIPTED = 2,
	OUT_REJECTED = 3,
	OUT_EXPIRED = 4,
	OUT_DENIED = 5,    /* a request the other school's registrar refused */
	OUT_DELIVERED = 6, /* a refusal the requesting school has recorded */
	OUT_ANSWERED = 7,  /* a request whose record has arrived */
} store_out_state;

/* What an outbox entry carries. */
typedef enum store_out_kind {
	OUT_TRANSFER = 1, /* a record, sealed in the packet file */
	OUT_REQUEST = 2,  /* a request for a record, sealed in the packet file */
	OUT_REFUSAL = 3,  /* the signed refusal of a request: the inbox entry's receipt */
} store_out_kind;

typedef struct store_outbox {
	uint8_t packet[BATON_ID_BYTES];
	uint8_t hash[BATON_HASH_BYTES];
	char to[BATON_CODE_MAX + 1];
	char student[BATON_STUDENT_MAX + 1];
	int kind;   /* store_out_kind */
	int state;  /* store_out_state */
	int reason; /* receipt reason once receipted or rejected */
	uint32_t attempts;
	uint64_t created, expires;
	uint64_t next_try; /* when the outbox worker may try again */
	char file[256];    /* packet file (--out, large packets), or "": in the store */
	char last_error[BATON_NOTE_MAX + 64]; /* "", the last error, or the answer's note */
} store_outbox;
/* Stores e under e->packet, replacing any entry, and keeps the due index (queued entries) right. */
int store_outbox_put(store_txn *t, const store_outbox *e);
/* Fills *e (cleared first) with packet id's entry. BATON_ENOTFOUND when there is none. */
int store_outbox_get(store_txn *t, const uint8_t id[BATON_ID_BYTES], store_outbox *e);
/* Calls cb for each entry in packet id order until cb returns non-zero; returns that. */
typedef int (*store_outbox_cb)(const store_outbox *e, void *ctx);
int store_outbox_each(store_txn *t, store_outbox_cb cb, void *ctx);
/*
 * Calls cb for the queued entries whose next try is at or before now,
 * earliest first, at most max of them, until cb returns non-zero; returns
 * that. BATON_EIO when the due index names an entry that is gone.
 */
int store_outbox_due(store_txn *t, uint64_t now, size_t max, store_outbox_cb cb, void *ctx);
/*
 * Makes packet id's queued outbox entry due at now (its next try moved
 * forward, never back), so that the outbox worker tries it at its next
 * look; *e (may be NULL: not wanted) gets the entry after. Its attempts
 * stay as they are. Returns 0; BATON_ENOTFOUND when the outbox has no such
 * packet; BATON_EEXIST when the entry is no longer queued (it has its
 * answer, or expired), with baton_diag() naming its state; or the store's
 * error.
 */
int store_outbox_due_now(store_txn *t, const uint8_t id[BATON_ID_BYTES], uint64_t now,
                         store_outbox *e);

/*
 * Packets small enough are kept in the store, not in a file: the outbox
 * entry's file is then "". They commit with their outbox entry, with no
 * file of their own to sync.
 */
/* Stores packet id's n bytes (copied), replacing any. */
int store_packet_put(store_txn *t, const uint8_t id[BATON_ID_BYTES], const uint8_t *p, size_t n);
/*
 * Sets *n to packet id's size and copies its bytes into *p, malloc'd; the
 * caller frees it with free(). p may be NULL: the size only. BATON_ENOTFOUND
 * (*p NULL, *n 0) when the store holds no such packet.
 */
int store_packet_get(store_txn *t, const uint8_t id[BATON_ID_BYTES], uint8_t **p, size_t *n);

/*
 * The requests this node has made and that no record has answered yet, by
 * school and student. store_asked_put records request id (copied) as asked
 * of school code for student, replacing any. store_asked_take copies the
 * one for (code, student) into found and forgets it; BATON_ENOTFOUND when
 * there is none, BATON_EIO when the stored entry is damaged. Both: 0,
 * BATON_EINVAL when code and student are too long for a key, or the
 * store's error.
 */
int store_asked_put(store_txn *t, const char *code, const char *student,
                    const uint8_t id[BATON_ID_BYTES]);
int store_asked_take(store_txn *t, const char *code, const char *student,
                     uint8_t found[BATON_ID_BYTES]);

/*
 * Where the students received came from. store_origin_put records that
 * school code's student their_id is local student id (copied), replacing
 * any. store_origin_get copies that local id into found (cap bytes, the
 * caller's, NUL-terminated); BATON_ENOTFOUND when that school's student
 * never arrived here, BATON_EIO when the stored id is damaged or does not
 * fit in cap. Both: 0, BATON_EINVAL when code and their_id are too long for
 * a key, or the store's error.
 */
int store_origin_put(store_txn *t, const char *code, const char *their_id, const char *id);
int store_origin_get(store_txn *t, const char *code, const char *their_id, char *found, size_t cap);

/* ---- requests held for the registrar ---- */
typedef enum store_req_state {
	REQ_HELD = 0,
	REQ_RELEASED = 1,
	REQ_DENIED = 2,
} store_req_state;

typedef struct store_request {
	uint8_t id[BATON_ID_BYTES];          /* the request packet's id */
	uint8_t hash[BATON_HASH_BYTES];      /* and its hash, named by a refusal */
	char from[BATON_CODE_MAX + 1];       /* the requesting school */
	char student[BATON_STUDENT_MAX + 1]; /* the student, as the consent names them */
	uint32_t want;                       /* sections asked for */
	uint8_t consent[BATON_OBJ_MAX];      /* the encoded consent it carried */
	size_t consent_len;
	char note[BATON_NOTE_MAX + 1];   /* the requester's note, or "" */
	int state;                       /* store_req_state */
	uint64_t time;                   /* when it arrived */
	uint8_t release[BATON_ID_BYTES]; /* released: the transfer packet's id */
	char answer[BATON_NOTE_MAX + 1]; /* denied: the registrar's reason */
} store_request;
/* Stores e under e->id, replacing any. */
int store_request_put(store_txn *t, const store_request *e);
/* Fills *e (cleared first) with request id. BATON_ENOTFOUND when there is no such request. */
int store_request_get(store_txn *t, const uint8_t id[BATON_ID_BYTES], store_request *e);
/* Calls cb for each request in id order until cb returns non-zero; returns that. */
typedef int (*store_request_cb)(const store_request *e, void *ctx);
int store_request_each(store_txn *t, store_request_cb cb, void *ctx);

/* ---- audit log ---- */
#define STORE_USER_MAX 64 /* bytes of an account name */
typedef struct store_audit {
	uint64_t seq;
	uint64_t time;
	char action[33];
	char student[BATON_STUDENT_MAX + 1]; /* "" when none */
	char peer[BATON_CODE_MAX + 1];       /* "" when none */
	uint8_t consent[BATON_ID_BYTES];
	int has_consent;
	uint8_t packet[BATON_ID_BYTES];
	int has_packet;
	uint32_t sections;           /* 0 when none */
	char detail[257];            /* "" when none */
	char by[STORE_USER_MAX + 1]; /* the person who acted (store_set_actor), "" when none */
	char basis[16]; /* a disclosure's legal basis: "consent" or "enrolment"; "" when none */
	uint8_t prev[32];
	uint8_t hash[32];
} store_audit;

/*
 * The legal basis of a disclosure entry: its basis, or for an entry written
 * before bases were recorded, "consent" when it names a consent (every
 * disclosure then was made on one); "" for any other entry. Cannot fail.
 */
const char *store_audit_basis(const store_audit *e);

/*
 * Names the person on whose behalf this thread writes from now on (a
 * registrar signed in to the console, the user at a terminal): every audit
 * entry it appends with e->by empty takes that name, until the next call.
 * name NULL or "" names no one. The name is copied (cut at
 * STORE_USER_MAX bytes). Cannot fail.
 */
void store_set_actor(const char *name);
/* The name store_set_actor gave this thread, "" for none: valid until its next call. */
const char *store_actor(void);
/*
 * Appends e, filling in its seq, time, prev and hash (and e->by, see
 * store_set_actor). BATON_EINTERNAL when e
 * would not read back (audit verify must be able to read every entry).
 */
int store_audit_append(store_txn *t, store_audit *e);
typedef int (*store_audit_cb)(const store_audit *e, void *ctx);
/*
 * Calls cb for each entry in order until cb returns non-zero, and returns
 * that; with student != NULL (may be NULL: every entry) only that student's,
 * through the index. e lives until cb returns.
 */
int store_audit_each(store_txn *t, const char *student, store_audit_cb cb, void *ctx);
/*
 * Recomputes the chain and checks the per-student index. Returns 0 with
 * *count the number of entries, or BATON_EHASH with *bad set to the first
 * entry that does not match and baton_diag() saying how.
 */
int store_audit_verify(store_txn *t, uint64_t *bad, uint64_t *count);
/*
 * Signed heads. A head (an audit head object, PROTOCOL.md 3.10) states that
 * the log held entries 1..count ending in a given hash, signed by the school's
 * identity key. Heads are kept beside the log; with a signer set, every write
 * transaction that added entries signs the new head before it commits, so the
 * entries of a command holding the key are never unsigned. Entries added
 * without the key are covered by the next head signed.
 */
/* k signs from now on (owned by the caller, kept until the store is closed or
 * the signer replaced); NULL stops signing. */
void store_set_audit_signer(store *s, const baton_key *k);
/* Signs the head of the log with k (the caller's) unless k signed it already
 * (or the log is empty). *signed_now (may be NULL: not wanted) is 1 when a
 * head was written. */
int store_audit_sign(store_txn *t, const baton_key *k, int *signed_now);
/* Sets *yes to 1 when the last entry is covered by a signed head (or the log is empty), else 0. */
int store_audit_signed(store_txn *t, int *yes);
/* Copies the latest signed head into *out, malloc'd; the caller frees it with
 * free(). BATON_ENOTFOUND (*out NULL) when no head has been signed. */
int store_audit_head(store_txn *t, uint8_t **out, size_t *len);
/* Keeps a rotation statement of this school (len bytes, copied), so that
 * heads signed by an earlier key still verify after a rekey. Errors of
 * baton_rotation_parse when rot does not parse. */
int store_audit_keep_rotation(store_txn *t, const uint8_t *rot, size_t len);

typedef struct store_audit_heads {
	uint64_t heads;          /* signed heads checked */
	uint64_t signed_through; /* entries 1..signed_through are covered by a head */
	uint8_t key[32];         /* the key of the latest head */
} store_audit_heads;
/*
 * Checks every signed head against the log of count entries (as verified by
 * store_audit_verify): its signature, that its key is this school's key or
 * an earlier one the school's rotation statements lead from, and that it
 * names the entry at its position. BATON_EHASH (or BATON_EBADSIG) with *bad
 * set to the head's count names the first head that does not hold.
 */
int store_audit_verify_heads(store_txn *t, uint64_t count, store_audit_heads *h, uint64_t *bad);

/* Checks a head that left this node (a peer kept it) against the log of count
 * entries, like a head kept here; *at is the entry it names. Errors of
 * baton_audit_head_parse when it does not parse. */
int store_audit_check_head(store_txn *t, const uint8_t *head, size_t len, uint64_t count,
                           uint64_t *at);

/* The latest head received from a school (in a packet or a receipt) is kept
 * with that school's code (copied), when it covers more entries than the one
 * kept. Errors of baton_audit_head_parse when head does not parse. */
int store_peer_head_put(store_txn *t, const char *code, const uint8_t *head, size_t len);
/* Calls cb for each school's kept head, in code order, until cb returns non-zero; returns that.
 * code and head are valid until cb returns. */
typedef int (*store_peer_head_cb)(const char *code, const uint8_t *head, size_t len, void *ctx);
int store_peer_head_each(store_txn *t, store_peer_head_cb cb, void *ctx);
/* Sets *n to the number of audit entries. */
int store_audit_count(store_txn *t, uint64_t *n);

/* ---- backup, and upgrading an older schema ---- */

/* The oldest schema store_open can upgrade (it gains tables, nothing is rewritten). */
#define STORE_SCHEMA_UPGRADABLE 2
/* store_open's create argument: open an existing store and upgrade an older schema. */
#define STORE_OPEN_UPGRADE 2

/*
 * Reads the schema version of the store under dir/db into *version without
 * writing to it (a read-only environment, one read transaction). Must not
 * be called while this process has that store open (LMDB: one environment
 * per file and process). Returns 0, or BATON_EIO when dir holds no store
 * or it has no schema version.
 */
int store_schema_of(const char *dir, uint32_t *version);

/*
 * Called by store_open before anything is written: BATON_EVERSION (naming
 * path and both versions) when the store in env is of a schema it would
 * upgrade, 0 otherwise (the current schema, or one store_open refuses
 * itself). env and path stay the caller's.
 */
int store_schema_check(MDB_env *env, const char *path);

/*
 * Writes a consistent, compacted copy of the store under dir/db to fd (an
 * empty file the caller opened for writing, and closes) and fsyncs it. Takes
 * one read transaction in a read-only environment: a node writing to the
 * store in another process goes on, and the copy is one committed state.
 * While the copy runs, pages the writer frees are not reused (the copy's
 * snapshot may still need them): the store grows by what is written
 * meanwhile. Must not be called while this process has that store open.
 * Returns 0, BATON_EIO (no store, a read or write error, a full disk) or
 * BATON_ENOMEM.
 */
int store_copy(const char *dir, int fd);

/*
 * Reads a copy made by store_copy (a lone file no process uses; nothing is
 * written beside it): its schema version, and this node's card (*card
 * malloc'd, the caller frees it with free()). Returns 0, BATON_EIO when the
 * file is not such a store, BATON_ENOTFOUND when it holds no card.
 */
int store_file_info(const char *file, uint32_t *schema, uint8_t **card, size_t *card_len);

/* ---- users: the web console's accounts ---- */
enum { STORE_ROLE_REGISTRAR = 1, STORE_ROLE_ADMIN = 2 };
typedef struct store_user {
	char name[STORE_USER_MAX + 1];
	int role;            /* STORE_ROLE_* */
	uint64_t created;    /* seconds since 1970 */
	uint64_t last_login; /* 0: never */
	char hash[128];      /* crypto_pwhash_str's Argon2id string, NUL-terminated */
} store_user;
/*
 * Stores u under u->name, replacing any. BATON_EINVAL when the name is empty
 * or longer than STORE_USER_MAX, the role unknown or the hash empty.
 */
int store_user_put(store_txn *t, const store_user *u);
/* Fills *u (cleared first). BATON_ENOTFOUND when there is no such user; BATON_EIO: a bad row. */
int store_user_get(store_txn *t, const char *name, store_user *u);
/* Removes user name; BATON_ENOTFOUND when there was none. */
int store_user_del(store_txn *t, const char *name);
/*
 * Calls cb for each user in name order until cb returns non-zero; returns
 * that. u lives until cb returns (and is wiped then).
 */
typedef int (*store_user_cb)(const store_user *u, void *ctx);
int store_user_each(store_txn *t, store_user_cb cb, void *ctx);

/* ---- invitations: one-time codes a parent enrols a key with ---- */
#define STORE_INVITE_ID 4 /* characters of an invitation's public id */
enum {
	INVITE_OPEN = 0,      /* made, not yet used */
	INVITE_CLAIMED = 1,   /* a key came with the right code; waits for the registrar */
	INVITE_LINKED = 2,    /* the registrar confirmed: the key is linked */
	INVITE_CANCELLED = 3, /* the registrar withdrew it or refused the key */
	INVITE_BURNED = 4,    /* too many wrong codes for its id */
};
typedef struct store_invite {
	char id[STORE_INVITE_ID + 1];
	uint8_t hash[32]; /* BLAKE2b-256 of the whole normalised code; never the code */
	char student[BATON_STUDENT_MAX + 1];
	char relation[33];
	uint64_t created, expires;  /* seconds since 1970; expired is computed from these */
	int state;                  /* INVITE_* */
	uint32_t wrong;             /* wrong secrets given for this id */
	uint8_t pk[BATON_PK_BYTES]; /* the key that claimed it, when has_pk */
	int has_pk;
	char by[STORE_USER_MAX + 1]; /* who made it (the audit actor), "" when no one was named */
} store_invite;
/*
 * Stores v under v->id, replacing any. BATON_EINVAL when the id is not
 * STORE_INVITE_ID characters, the student or relation empty, or the state
 * unknown.
 */
int store_invite_put(store_txn *t, const store_invite *v);
/* Fills *v (cleared first). BATON_ENOTFOUND naming the invitation; BATON_EIO: a bad row. */
int store_invite_get(store_txn *t, const char *id, store_invite *v);
/*
 * Calls cb for each invitation in id order until cb returns non-zero;
 * returns that. v lives until cb returns.
 */
typedef int (*store_invite_cb)(const store_invite *v, void *ctx);
int store_invite_each(store_txn *t, store_invite_cb cb, void *ctx);
/* The name a person reads for state (INVITE_*): "open", "claimed", ...; "?" when unknown. */
const char *store_invite_state_name(int state);

/* ---- statements of disagreement kept with a record (34 CFR 99.21) ---- */
typedef struct store_statement {
	char student[BATON_STUDENT_MAX + 1]; /* the local student it is kept with */
	uint8_t id[BATON_ID_BYTES];          /* the statement's id */
	uint8_t *bytes; /* the encoded signed statement; malloc'd by the reader (freed after
	                   store_statement_each's callback), borrowed when writing */
	size_t len;
	char from[BATON_CODE_MAX + 1]; /* the school it came from with the record; "" filed here */
	uint64_t time;                 /* when it was filed or received */
} store_statement;
/*
 * Stores v under (v->student, v->id). BATON_EEXIST when that statement is
 * already kept with the student (nothing changes); BATON_EINVAL when the
 * student is empty or there are no bytes.
 */
int store_statement_put(store_txn *t, const store_statement *v);
/*
 * Calls cb for each statement kept with student, in id order, until cb
 * returns non-zero; returns that. v lives until cb returns.
 */
typedef int (*store_statement_cb)(const store_statement *v, void *ctx);
int store_statement_each(store_txn *t, const char *student, store_statement_cb cb, void *ctx);
/* Deletes one statement of student. BATON_ENOTFOUND when there is none. */
int store_statement_del(store_txn *t, const char *student, const uint8_t id[BATON_ID_BYTES]);
/* The student key a held record's statements wait under until the registrar
 * decides it (no student id holds a control byte). */
void store_statement_held_key(uint64_t held, char out[32]);
/* ---- erasure: what the store holds of one child, removed, and the pages wiped ---- */

/* store_open's create argument: open an existing store with no other process on it. */
#define STORE_OPEN_ALONE 3

/*
 * Every store_open holds a shared lock on the store for the store's life
 * (as do store_copy and store_schema_of while they read); STORE_OPEN_ALONE
 * holds it exclusively, and is refused at once (BATON_EIO, the diagnostic
 * saying to stop 'baton serve' and run the command again) when any other
 * process has the store open. An open waiting on an exclusive holder waits
 * up to 30 s, then fails with BATON_EIO. No running serve can therefore
 * have the data file mapped while store_compact replaces it.
 */

/* What store_erase_student and store_erase_held removed. */
typedef struct store_erased {
	int student;     /* 1: the index entry was there */
	size_t versions; /* record versions */
	size_t guardians, held, invites, consents, revocations, requests, origins, statements;
	size_t notices;          /* notices to the family not yet delivered */
	size_t emails;           /* addresses of keys no student links to any more */
	size_t outbox;           /* outbox entries whose packets went (queued ones withdrawn) */
	size_t blobs;            /* attachments no record left in the store names */
	char (*files)[256];      /* outbox packet files of those entries: the caller removes */
	size_t nfiles, capfiles; /* them once the transaction commits */
} store_erased;
/*
 * Removes student id from the store: its index entry and statewide id,
 * every record version, guardian links, records held for review against
 * it, invitations, the consents bound to it and their revocations,
 * requests from other schools for it, where it was received from, and the
 * packets of the outbox that carry it (a queued one is withdrawn: expired,
 * saying why). hashes (n of them) are the attachments its records and held
 * records name (the caller reads them first): each blob goes unless a
 * record or held record left in the store names it. The audit log, the
 * inbox (the replay guard: it holds the local id and this school's
 * receipts) and the outbox entries themselves stay. Adds to *out (zeroed by
 * the caller; freed with store_erased_clear). Finding nothing is not an
 * error here: the caller says what must exist.
 */
int store_erase_student(store_txn *t, const char *id, const uint8_t (*hashes)[32], size_t n,
                        store_erased *out);
/* Removes held record held_id and the attachments only it names. BATON_ENOTFOUND: none. */
int store_erase_held(store_txn *t, uint64_t held_id, const uint8_t (*hashes)[32], size_t n,
                     store_erased *out);
/* Frees what *e holds and clears it; e may be NULL. */
void store_erased_clear(store_erased *e);
/*
 * Replaces dir/db/data.mdb by a compacting copy of s (s must be opened
 * STORE_OPEN_ALONE), so that no free page keeps what was deleted, then
 * overwrites the old file's bytes with zeros before letting it go. s is
 * closed (and freed) in every case; the lock is held until the new file
 * is in place. 0, or BATON_EIO / BATON_ENOMEM: the store is then either
 * the old file or the new one, whole.
 */
int store_compact(store *s, const char *dir);
/* Overwrites the regular file open at fd with zeros over its length and syncs it. */
int store_wipe_fd(int fd, const char *path);
/*
 * An erasure's compaction owed: store_compact_owe leaves the marker
 * dir/db/compact-owed on disk (synced) before the erasure commits, and a
 * store_compact that succeeds removes it, so that a process killed between
 * the two leaves a trace. store_compact_owed: 1 when the marker is there.
 */
#define STORE_COMPACT_OWED "compact-owed"
int store_compact_owe(const char *dir);
int store_compact_owed(const char *dir);
/* ---- the family's email addresses, and the notices waiting to go to them ---- */
#define STORE_EMAIL_MAX 254 /* an address's longest form (RFC 5321's path limit) */
/*
 * Stores addr (already checked by the caller) as the email address on file
 * for guardian key pk, replacing any; addr "" removes it (no address on file
 * is not an error). BATON_EINVAL when addr is longer than STORE_EMAIL_MAX.
 */
int store_email_put(store_txn *t, const uint8_t pk[BATON_PK_BYTES], const char *addr);
/* Copies pk's address into addr (STORE_EMAIL_MAX + 1 bytes); BATON_ENOTFOUND when none. */
int store_email_get(store_txn *t, const uint8_t pk[BATON_PK_BYTES], char *addr);

#define STORE_MAILQ_ID 16
typedef struct store_mail {
	uint8_t id[STORE_MAILQ_ID];
	char addr[STORE_EMAIL_MAX + 1];      /* where it goes */
	char student[BATON_STUDENT_MAX + 1]; /* whose record it is about (never sent) */
	char peer[BATON_CODE_MAX + 1];       /* the school it names, "" when none */
	uint32_t kind;                       /* what happened: node/family_notify.h's NOTIFY_* */
	uint64_t created;                    /* when it happened */
	uint64_t next;                       /* the next try, seconds since 1970 */
	uint32_t tries;                      /* tries that failed */
} store_mail;
/* Stores m under m->id, replacing any. BATON_EINVAL when m->addr is empty or too long. */
int store_mail_put(store_txn *t, const store_mail *m);
/* Removes the notice id. BATON_ENOTFOUND when there is none. */
int store_mail_del(store_txn *t, const uint8_t id[STORE_MAILQ_ID]);
/* Calls cb for each queued notice, in id order, until cb returns non-zero; returns that. */
typedef int (*store_mail_cb)(const store_mail *m, void *ctx);
int store_mail_each(store_txn *t, store_mail_cb cb, void *ctx);

#endif
