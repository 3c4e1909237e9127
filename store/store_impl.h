/*
 * What the files of the store share, and nothing outside store/ sees: the
 * environment's shape, LMDB error mapping, and the one table abstraction
 * every sub-database is read and written through.
 *
 * The on-disk layout (which sub-databases, their keys and values) is listed
 * at the top of env.c; it is a promise to every store already written.
 */
#ifndef BATON_STORE_IMPL_H
#define BATON_STORE_IMPL_H

#include <pthread.h>
#include <stdatomic.h>

#include "bti.h"
#include "store.h"

enum {
	DB_META,
	DB_STUDENTS,
	DB_RECORDS,
	DB_BLOBS,
	DB_GUARDIANS,
	DB_PEERS,
	DB_AUDIT,
	DB_AUDIT_BY_STUDENT,
	DB_CONSENTS,
	DB_REVOCATIONS,
	DB_INBOX,
	DB_OUTBOX,
	DB_STATE_IDS,
	DB_REQUESTS,
	DB_DUE,
	DB_PACKETS,
	DB_ASKED,
	DB_ORIGINS,
	DB_HELD,
	DB_USERS,
	DB_INVITES,
	DB_STATEMENTS,
	DB_EMAILS,
	DB_MAILQ,
	DB_AUTHORITIES,
	DB_DIRECTORIES,
	DB_DIR_MEMBERS,
	DB_DIR_KEYS,
	DB_DIR_WITHDRAWN,
	DB_N
};

struct store {
	MDB_env *env;
	MDB_dbi dbi[DB_N];
	size_t map_size;
	int dead;                /* a resize failed half-way: the map may be gone */
	int mapfd;               /* the data file, for the map lock (env.c); -1 when not open */
	int lockfd;              /* dir/db, flock'd shared for the store's life (erase.c); -1 */
	int alone;               /* opened STORE_OPEN_ALONE: the lock is exclusive */
	uint64_t (*clock)(void); /* what store_write and store_read take as now */
	/*
	 * Threads share the env: each holds this shared for a transaction, and a
	 * map size changes only under it held alone, as LMDB requires that no
	 * transaction of the process be open then.
	 */
	pthread_rwlock_t lock;
	int locked; /* lock was initialised */
	/* Signs the audit head at every commit; not owned; replaced by serve after a rekey. */
	_Atomic(const baton_key *) signer;
};

/* LMDB errors inside a store_write callback come back as this, so that it can grow the map. */
#define STORE_EMAPFULL (-1000)

/* The sub-database's name as stored in the environment ("students"): static. Cannot fail. */
const char *store_db_name(int db);
/*
 * rc (a non-zero LMDB error) as a BATON_E* code, with a diagnostic naming
 * what: BATON_ENOMEM for ENOMEM, BATON_EIO for anything else.
 */
int store_lmdb_err(int rc, const char *what);
/* The same, but MDB_MAP_FULL becomes STORE_EMAPFULL; 0 stays 0. */
int store_mdb_call(int rc, const char *what);

/*
 * Parses a card read from the store (r: the read's result; b, n bytes, is
 * freed). BATON_EIO for one that does not parse; BATON_ENOMEM passes.
 */
int store_card_from(int r, uint8_t *b, size_t n, baton_card *c);
/* Big-endian integers, the order keys sort in. Cannot fail. */
void store_be32(uint8_t p[4], uint32_t v);
/*
 * Writes into out (cap bytes, the caller's) the key "a NUL b" where b is
 * binary, and returns its length; 0 when it does not fit in cap (no key is
 * empty, so 0 is never a length).
 */
size_t store_join_key(uint8_t *out, size_t cap, const char *a, const void *b, size_t blen);

/*
 * A table: one sub-database and, for tables of records, the codec of one
 * record. The key is whatever the table's functions build; dec gets the key
 * too, since several records keep a field (an id) only in their key.
 */
struct table {
	int db;              /* DB_* */
	const char *what;    /* what one row is, for diagnostics ("student") */
	size_t each_key_len; /* rows of another key length (after a prefix) are not rows */
	size_t size;         /* sizeof the record struct */
	enc_fn enc;          /* record -> canonical msgpack; NULL for raw tables */
	/* Row -> record; on failure nothing is left allocated in obj. */
	int (*dec)(const MDB_val *k, const MDB_val *v, void *obj);
	void (*clear)(void *obj); /* frees what dec allocated in obj; NULL: nothing */
};

/*
 * Raw rows. tbl_get points v into the map (valid until the transaction
 * ends); BATON_ENOTFOUND, with a diagnostic naming the table and key, when
 * there is no such row. tbl_put writes a row (flags: mdb_put's); 0,
 * STORE_EMAPFULL, or store_lmdb_err's code (MDB_KEYEXIST with
 * MDB_NOOVERWRITE is BATON_EIO). tbl_del: 0, BATON_ENOTFOUND when there was
 * no such row, or the same errors. All copy what they are given.
 */
int tbl_get(store_txn *t, const struct table *tb, const void *key, size_t klen, MDB_val *v);
int tbl_put(store_txn *t, const struct table *tb, const void *key, size_t klen, const void *val,
            size_t vlen, unsigned flags);
int tbl_del(store_txn *t, const struct table *tb, const void *key, size_t klen);
/* Like tbl_del, but a missing row is not an error (0). */
int tbl_drop(store_txn *t, const struct table *tb, const void *key, size_t klen);
/*
 * Copies the row's value into *val, NUL-terminated past *len: the caller
 * frees it with free() (NULL on error). Returns 0, tbl_get's errors, or
 * BATON_ENOMEM.
 */
int tbl_get_copy(store_txn *t, const struct table *tb, const void *key, size_t klen, uint8_t **val,
                 size_t *len);

/*
 * Calls row for each row whose key starts with prefix (plen 0: every row),
 * in key order, until row returns non-zero. A row whose key is not plen +
 * each_key_len bytes long (when that is set) is passed over in a full scan
 * and ends a prefix scan. Returns row's error, or a read error that cut the
 * loop short.
 */
typedef int (*tbl_row_fn)(const MDB_val *k, const MDB_val *v, void *arg);
int tbl_each(store_txn *t, const struct table *tb, const void *prefix, size_t plen, tbl_row_fn row,
             void *arg);

/* Deletes every row whose key starts with prefix (plen > 0). 0 or tbl_del's errors. */
int tbl_drop_prefix(store_txn *t, const struct table *tb, const void *prefix, size_t plen);

/*
 * Records: the same through the table's codec. tbl_get_obj clears obj
 * first and decodes the row into it; on success the caller frees what it
 * holds with tb->clear (when set); on failure nothing is left allocated.
 * Returns 0, tbl_get's errors, or the decoder's (BATON_EIO, BATON_ENOMEM).
 * tbl_put_obj encodes obj (not kept) and returns tbl_put's codes, the
 * encoder's, or BATON_ENOMEM.
 */
int tbl_get_obj(store_txn *t, const struct table *tb, const void *key, size_t klen, void *obj);
int tbl_put_obj(store_txn *t, const struct table *tb, const void *key, size_t klen, const void *obj,
                unsigned flags);
/*
 * Decodes each row into one record and calls cb(record, arg) until cb
 * returns non-zero; what dec allocated is freed when cb returns. Returns
 * cb's non-zero value, a decoding or read error, BATON_ENOMEM, or 0.
 */
typedef int (*tbl_obj_fn)(const void *obj, void *arg);
int tbl_each_obj(store_txn *t, const struct table *tb, const void *prefix, size_t plen,
                 tbl_obj_fn cb, void *arg);

/*
 * A caller's typed callback and its context, for tbl_each_obj: each table
 * passes its own through a two-line trampoline.
 */
struct tbl_cb {
	union {
		store_student_cb student;
		store_held_cb held;
		store_guardian_cb guardian;
		store_peer_cb peer;
		store_consent_cb consent;
		store_revocation_cb revocation;
		store_inbox_cb inbox;
		store_outbox_cb outbox;
		store_request_cb request;
		store_audit_cb audit;
		store_peer_head_cb peer_head;
		store_invite_cb invite;
		store_mail_cb mail;
		store_authority_cb authority;
	} fn;
	void *ctx;
};

/*
 * The end of a cursor loop: r when non-zero, else 0 when the loop ran out
 * of rows (rc 0 or MDB_NOTFOUND), else the read error rc as a BATON_E* code.
 */
int store_cursor_end(int r, int rc);

/*
 * The store lock (erase.c): an flock on the directory path (dir/db), shared
 * by every process that has the store open, exclusive while an erasure
 * rewrites the data file. A shared lock waits out an erasure (up to 30 s);
 * an exclusive one is refused at once when anyone else holds the store.
 * *fd (-1 on error) keeps the lock until closed. 0 or BATON_EIO.
 */
int store_lock_dir(const char *path, int exclusive, int *fd);
/* Counts one more change to the students on file (students.c). */
int store_students_touch(store_txn *t);

/* Meta rows under a prefix, for the audit's heads and rotations. */
extern const struct table store_meta_table;

#endif
