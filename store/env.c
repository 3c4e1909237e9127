/*
 * The store's environment: opening it, its schema version and upgrades,
 * growing the map, transactions and their clock. See store.h for the
 * contract; the tables live in students.c, consents.c, transfers.c, peers.c,
 * users.c, invites.c, mail.c and audit.c, all through table.c.
 *
 * Keys (the on-disk layout, schema 4):
 *   meta       name -> value ("schema" -> u32 BE)
 *   students   student id -> index entry (canonical msgpack)
 *   records    student id NUL version(u32 BE) -> canonical record JSON
 *   blobs      BLAKE2b-256 -> attachment bytes
 *   guardians  student id NUL public key(32) -> link (msgpack)
 *   peers      school code -> encoded card
 *   audit      seq(u64 BE) -> entry (canonical msgpack) || hash(32)
 *   audit_by_student  student id NUL seq(u64 BE) -> empty
 *   consents   consent id(16) -> {student, seen, bytes} (canonical msgpack)
 *   revocations consent id(16) signer(32) -> encoded revocation
 *   inbox      packet id(16) -> {from, student, reason, time, receipt}
 *   outbox     packet id(16) -> {hash, to, student, state, kind, ...}
 *   requests   request packet id(16) -> {from, student, consent, want, state, ...}
 *   due        next try(u64 BE) packet id(16) -> empty: the queued outbox entries
 *   packets    packet id(16) -> packet bytes, for outbox packets small enough
 *   asked      school code NUL student id -> request packet id(16), while unanswered
 *   state_ids  statewide student id -> local student id
 *   origins    school code NUL that school's student id -> local student id, for
 *              every student received (schema 3)
 *   held       held id(u64 BE) -> u32 BE n || {from, packet, student, their, time}
 *              (n bytes of canonical msgpack) || record JSON: records whose identity
 *              disagrees with the student on file, until the registrar decides (schema 4)
 *   users      account name -> role(u8) created(u64 BE) last login(u64 BE) Argon2id
 *              hash string: the console's accounts (created on open, as any table)
 *   invites    invitation id (4 characters) -> {by, created, expires, hash, key,
 *              relation, state, student, wrong} (canonical msgpack): a parent's
 *              one-time enrolment codes, by the hash of the code (created on open)
 *   statements student id NUL statement id(16) -> {bytes, from, time} (canonical
 *              msgpack): the statements of disagreement kept with a student's record,
 *              filed here or received with it (created on open)
 *   emails     guardian public key(32) -> the family's email address (text): who is
 *              told when something happens to the record (created on open)
 *   mailq      message id(16) -> {addr, created, kind, next, peer, student, tries}
 *              (canonical msgpack): notices to the family not yet delivered
 *              (created on open)
 *   authorities authority key(32) -> pinned(u64 BE) || label [|| NUL || URL]: the
 *              pinned authorities of federation directories, and where serve fetches
 *              each one's directory (created on open; a row without a URL is as before)
 *   directories authority key(32) -> version issued expires (u64 BE each) hash(32)
 *              members(u32 BE) withdrawn(u32 BE) name length(u8) name || the signed
 *              directory: each pinned authority's current directory (created on open)
 *   dir_members authority key(32) code -> card: the members of that directory
 *   dir_keys   authority key(32) identity key(32) -> code: the same, by key
 *   dir_withdrawn authority key(32) key(32) -> the code it had, or "": the keys that
 *              directory withdraws (the last three rewritten with the directory)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "store_impl.h"

#define MAP_INITIAL (64u << 20)
#define MAP_MAX     ((size_t)1 << 40)

/* The names are the on-disk layout: never renamed. */
static const char *const db_names[DB_N] = {
    "meta",        "students",    "records",          "blobs",        "guardians",
    "peers",       "audit",       "audit_by_student", "consents",     "revocations",
    "inbox",       "outbox",      "state_ids",        "requests",     "due",
    "packets",     "asked",       "origins",          "held",         "users",
    "invites",     "statements",  "emails",           "mailq",        "authorities",
    "directories", "dir_members", "dir_keys",         "dir_withdrawn"};

const char *store_db_name(int db)
{
	return db >= 0 && db < DB_N ? db_names[db] : "?";
}

static int reserve_disk(store *s);

int store_lmdb_err(int rc, const char *what)
{
	if (rc == MDB_MAP_FULL)
		return bti_diag_err(BATON_EIO, "store: %s: the database map is full", what);
	return bti_diag_err(rc == ENOMEM ? BATON_ENOMEM : BATON_EIO, "store: %s: %s", what,
	                    mdb_strerror(rc));
}

/*
 * With MDB_WRITEMAP, LMDB sets the data file's length to the map's size each
 * time it maps the file (mdb_env_map). A process mapping the store smaller
 * than the file another process has grown (and not yet committed at that
 * size) would cut the file under the other's map: its next write there is a
 * SIGBUS and a lost page. So every process maps at least the file's length,
 * and holds the map lock, an flock on its own descriptor of the data file
 * (across processes, and across stores of one process), while it reads that
 * length and maps, or grows, or sets the map.
 */
static int map_lock(store *s)
{
	while (flock(s->mapfd, LOCK_EX) != 0)
		if (errno != EINTR)
			return bti_diag_err(BATON_EIO, "store: lock the data file: %s",
			                    strerror(errno));
	return 0;
}

static void map_unlock(store *s)
{
	flock(s->mapfd, LOCK_UN);
}

/* The data file's length now (0 when it cannot be read: LMDB's own size then). */
static size_t file_len(store *s)
{
	struct stat st;
	return fstat(s->mapfd, &st) == 0 ? (size_t)st.st_size : 0;
}

/* Creates s->env on path and maps it, map lock held; a new store starts with a larger map. */
static int map_env(store *s, const char *path, int create)
{
	int rc;
	/*
	 * The built-in map is 1 MiB; a new store starts larger and grows on
	 * MDB_MAP_FULL. An existing one is mapped at its file's length (what it
	 * grew to, or what another process is growing it to), and at least as
	 * large as a new one (a compacted copy's file holds only its pages).
	 */
	size_t size = create ? 0 : file_len(s);
	if ((rc = mdb_env_set_mapsize(s->env, size > MAP_INITIAL ? size : MAP_INITIAL)) != 0 ||
	    /*
	     * WRITEMAP: a large import is one transaction (all or nothing); its pages
	     * go straight into the file-backed map instead of a malloc'd dirty list,
	     * so process memory does not grow with the import. Full sync is kept.
	     */
	    (rc = mdb_env_open(s->env, path, MDB_NOTLS | MDB_WRITEMAP, 0600)) != 0)
		return store_lmdb_err(rc, path);
	MDB_envinfo info;
	mdb_env_info(s->env, &info);
	s->map_size = info.me_mapsize;
	return reserve_disk(s);
}

static int open_env(store *s, const char *path, int create)
{
	char data[4200];
	int rc, r, dead = 0;
	if ((rc = mdb_env_create(&s->env)) != 0)
		return store_lmdb_err(rc, "create");
	mdb_env_set_maxdbs(s->env, DB_N);
	snprintf(data, sizeof(data), "%s/data.mdb", path);
	if ((s->mapfd = open(data, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0)
		return bti_diag_err(BATON_EIO, "%s: %s", data, strerror(errno));
	if ((r = map_lock(s)) != 0)
		return r;
	r = map_env(s, path, create);
	map_unlock(s);
	if (r != 0)
		return r;
	/* Reader slots left by processes that died. */
	mdb_reader_check(s->env, &dead);
	return 0;
}

/*
 * Writes the schema version of a new store, or checks an existing one's and
 * brings an older one up to this version.
 */
static int schema(store *s, MDB_txn *txn, const char *path, int create)
{
	static char schema_key[] = "schema";
	MDB_val k = {6, schema_key}, v;
	uint8_t ver[4] = {0, 0, 0, STORE_SCHEMA_VERSION};
	int rc;

	if (create) {
		v.mv_size = 4;
		v.mv_data = ver;
		rc = mdb_put(txn, s->dbi[DB_META], &k, &v, MDB_NOOVERWRITE);
		return rc ? store_lmdb_err(rc, "schema") : 0;
	}
	if ((rc = mdb_get(txn, s->dbi[DB_META], &k, &v)) != 0 || v.mv_size != 4)
		return rc != 0 && rc != MDB_NOTFOUND
		           ? store_lmdb_err(rc, "schema")
		           : bti_diag_err(BATON_EIO, "store: %s: no schema version", path);
	const uint8_t *have = v.mv_data;
	if (memcmp(have, "\0\0\0\2", 4) == 0 || memcmp(have, "\0\0\0\3", 4) == 0) {
		/* Schema 2 lacked the origins table, 3 the held one: both created by open_tables.
		 */
		v.mv_data = ver;
		rc = mdb_put(txn, s->dbi[DB_META], &k, &v, 0);
		return rc ? store_lmdb_err(rc, "schema") : 0;
	}
	if (memcmp(have, ver, 4) != 0)
		return bti_diag_err(BATON_EIO, "store: schema version %u, this baton reads %u",
		                    (unsigned)have[3] | (unsigned)have[2] << 8,
		                    STORE_SCHEMA_VERSION);
	return 0;
}

/* Opens (creating what is missing) every table, and checks the schema, in one transaction. */
static int open_tables(store *s, const char *path, int create)
{
	MDB_txn *txn = NULL;
	int rc, r;

	if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0)
		return store_lmdb_err(rc, "begin");
	for (int i = 0; i < DB_N; i++) {
		if ((rc = mdb_dbi_open(txn, db_names[i], MDB_CREATE, &s->dbi[i])) != 0) {
			r = rc == MDB_NOTFOUND
			        ? bti_diag_err(BATON_EIO, "store: %s: missing table %s", path,
			                       db_names[i])
			        : store_lmdb_err(rc, db_names[i]);
			mdb_txn_abort(txn);
			return r;
		}
	}
	if ((r = schema(s, txn, path, create)) != 0) {
		mdb_txn_abort(txn);
		return r;
	}
	rc = mdb_txn_commit(txn);
	return rc ? store_lmdb_err(rc, "commit") : 0;
}

int store_open(const char *dir, int create, store **out)
{
	char path[4096];
	store *s = NULL;
	struct stat st;
	int r, upgrade = create == STORE_OPEN_UPGRADE, alone = create == STORE_OPEN_ALONE;

	*out = NULL;
	create = create == 1;
	if (snprintf(path, sizeof(path), "%s/db", dir) >= (int)sizeof(path))
		return bti_diag_err(BATON_EINVAL, "%s: path too long", dir);
	if (create) {
		if (mkdir(path, 0700) != 0)
			return bti_diag_err(errno == EEXIST ? BATON_EEXIST : BATON_EIO, "%s: %s",
			                    path, strerror(errno));
	} else if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
		return bti_diag_err(BATON_EIO, "%s: no Baton node here (run 'baton init' first)",
		                    dir);
	}
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return BATON_ENOMEM;
	s->mapfd = -1;
	s->lockfd = -1;
	s->alone = alone;
	if (pthread_rwlock_init(&s->lock, NULL) != 0) {
		free(s);
		return BATON_ENOMEM;
	}
	s->locked = 1;
	/* An older schema is upgraded only when the caller asked for it (store_schema_check). */
	if ((r = store_lock_dir(path, alone, &s->lockfd)) != 0 ||
	    (r = open_env(s, path, create)) != 0 ||
	    (!create && !upgrade && (r = store_schema_check(s->env, path)) != 0) ||
	    (r = open_tables(s, path, create)) != 0) {
		store_close(s);
		return r;
	}
	*out = s;
	return 0;
}

void store_close(store *s)
{
	if (s == NULL)
		return;
	if (s->env)
		mdb_env_close(s->env);
	if (s->mapfd >= 0)
		close(s->mapfd);
	if (s->lockfd >= 0)
		close(s->lockfd);
	if (s->locked)
		pthread_rwlock_destroy(&s->lock);
	free(s);
}

size_t store_map_size(store *s)
{
	pthread_rwlock_rdlock(&s->lock);
	size_t n = s->map_size;
	pthread_rwlock_unlock(&s->lock);
	return n;
}

/* Sets the map size (0: the one another process grew it to), with s->lock held alone. */
static int set_map(store *s, size_t size)
{
	int rc = mdb_env_set_mapsize(s->env, size);
	if (rc != 0)
		return store_lmdb_err(rc, "set map size");
	MDB_envinfo info;
	mdb_env_info(s->env, &info);
	s->map_size = info.me_mapsize;
	return 0;
}

int store_set_map_size(store *s, size_t size)
{
	pthread_rwlock_wrlock(&s->lock);
	int r = map_lock(s);
	if (r == 0) {
		r = set_map(s, size);
		map_unlock(s);
	}
	pthread_rwlock_unlock(&s->lock);
	return r;
}

/* The end of a cursor loop: the callback's error, else a read error that cut the loop short. */

int store_mdb_call(int rc, const char *what)
{
	if (rc == MDB_MAP_FULL)
		return STORE_EMAPFULL;
	return rc == 0 ? 0 : store_lmdb_err(rc, what);
}

/*
 * With MDB_WRITEMAP, pages are written through the map: on a full disk a
 * write to a hole in the sparse file would kill the process with SIGBUS.
 * Allocating the map's blocks up front turns that into ENOSPC here, an
 * error the caller can refuse and retry on.
 */
/* Allocates the file's blocks up to size: a full disk is an error here, never a SIGBUS later. */
static int reserve_to(store *s, size_t size)
{
	mdb_filehandle_t fd;
	struct stat st;
	int e;
	if (mdb_env_get_fd(s->env, &fd) != 0 || fstat(fd, &st) != 0)
		return bti_diag_err(BATON_EIO, "store: no file descriptor");
	if ((e = posix_fallocate(fd, 0, (off_t)size)) != 0) {
		/* Leave the file as it was: its size is what the map may touch. */
		if (ftruncate(fd, st.st_size) != 0)
			e = errno;
		return bti_diag_err(BATON_EIO, "store: cannot reserve %zu MiB on disk: %s",
		                    size >> 20, strerror(e));
	}
	return 0;
}

static int reserve_disk(store *s)
{
	return reserve_to(s, s->map_size);
}

/*
 * Grows the map: the disk first, so that a full disk or a file-size limit
 * leaves the store as it was, still readable and writable at its old size.
 */
static int grow(store *s, size_t size)
{
	int r;
	pthread_rwlock_wrlock(&s->lock);
	if (s->dead)
		r = bti_diag_err(BATON_EIO,
		                 "store: unusable after a failed resize; run the command again");
	else if ((r = map_lock(s)) == 0) {
		/* Never below the file: another process may have grown it further. */
		if (size < file_len(s))
			size = file_len(s);
		if ((r = reserve_to(s, size)) == 0 && (r = set_map(s, size)) != 0)
			s->dead = 1; /* LMDB may have let go of the old map: no more transactions */
		map_unlock(s);
	}
	pthread_rwlock_unlock(&s->lock);
	return r;
}

/*
 * Begins a transaction, adopting a map another process has grown meanwhile.
 * On success s->lock is held shared until txn_end.
 */
static int txn_begin(store *s, unsigned flags, MDB_txn **txn)
{
	int rc;
	pthread_rwlock_rdlock(&s->lock);
	if (s->dead) {
		pthread_rwlock_unlock(&s->lock);
		return bti_diag_err(BATON_EIO,
		                    "store: unusable after a failed resize; run the command again");
	}
	rc = mdb_txn_begin(s->env, NULL, flags, txn);
	if (rc == MDB_MAP_RESIZED) {
		pthread_rwlock_unlock(&s->lock);
		pthread_rwlock_wrlock(&s->lock);
		/* Adopt the file's length, not the committed size: it may be growing still. */
		rc = EIO;
		if (map_lock(s) == 0) {
			rc = mdb_env_set_mapsize(s->env, file_len(s));
			map_unlock(s);
		}
		if (rc == 0) {
			MDB_envinfo info;
			mdb_env_info(s->env, &info);
			s->map_size = info.me_mapsize;
		}
		pthread_rwlock_unlock(&s->lock);
		pthread_rwlock_rdlock(&s->lock);
		if (rc == 0)
			rc = mdb_txn_begin(s->env, NULL, flags, txn);
	}
	if (rc == 0)
		return 0;
	pthread_rwlock_unlock(&s->lock);
	return store_lmdb_err(rc, "begin");
}

/* Commits (or with commit 0 aborts) a transaction txn_begin began; returns LMDB's code. */
static int txn_end(store *s, MDB_txn *txn, int commit)
{
	int rc = 0;
	if (commit)
		rc = mdb_txn_commit(txn);
	else
		mdb_txn_abort(txn);
	pthread_rwlock_unlock(&s->lock);
	return rc;
}

void store_set_clock(store *s, uint64_t (*clock)(void))
{
	s->clock = clock;
}

static uint64_t store_clock(store *s)
{
	return s->clock ? s->clock() : (uint64_t)time(NULL);
}

int store_write(store *s, store_fn fn, void *ctx)
{
	return store_write_at(s, store_clock(s), fn, ctx);
}

int store_write_at(store *s, uint64_t now, store_fn fn, void *ctx)
{
	for (;;) {
		/* Random, so that no two write transactions, in any process, share a batch. */
		store_txn t = {s, NULL, now, 0};
		while (t.batch == 0)
			randombytes_buf(&t.batch, sizeof(t.batch));
		int rc, r;
		if ((r = txn_begin(s, 0, &t.txn)) != 0)
			return r;
		r = fn(&t, ctx);
		/* What a command holding the school key appended is never left unsigned. */
		if (r == 0 && s->signer)
			r = store_audit_sign(&t, s->signer, NULL);
		if (r == 0) {
			rc = txn_end(s, t.txn, 1);
			if (rc == 0)
				return 0;
			r = rc == MDB_MAP_FULL ? STORE_EMAPFULL : store_lmdb_err(rc, "commit");
		} else {
			txn_end(s, t.txn, 0);
		}
		if (r != STORE_EMAPFULL)
			return r;
		/* The transaction is dead: grow the map with no transaction open and run again. */
		if (s->map_size >= MAP_MAX)
			return bti_diag_err(BATON_EIO, "store: database reached its maximum size");
		if ((r = grow(s, s->map_size * 2)) != 0)
			return r;
	}
}

uint64_t store_version(store *s)
{
	MDB_envinfo info;
	/* It reads the map's meta pages: never while another thread remaps it. */
	pthread_rwlock_rdlock(&s->lock);
	int rc = mdb_env_info(s->env, &info);
	pthread_rwlock_unlock(&s->lock);
	return rc == 0 ? (uint64_t)info.me_last_txnid : 0;
}

int store_read(store *s, store_fn fn, void *ctx)
{
	return store_read_at(s, store_clock(s), fn, ctx);
}

int store_read_at(store *s, uint64_t now, store_fn fn, void *ctx)
{
	store_txn t = {s, NULL, now, 0};
	int r;
	if ((r = txn_begin(s, MDB_RDONLY, &t.txn)) != 0)
		return r;
	r = fn(&t, ctx);
	txn_end(s, t.txn, 0);
	return r;
}

size_t store_join_key(uint8_t *out, size_t cap, const char *a, const void *b, size_t blen)
{
	size_t al = strlen(a);
	if (al + 1 + blen > cap)
		return 0;
	memcpy(out, a, al);
	out[al] = 0;
	memcpy(out + al + 1, b, blen);
	return al + 1 + blen;
}

void store_be32(uint8_t p[4], uint32_t v)
{
	p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8),
	p[3] = (uint8_t)v;
}

/* ---- meta: the schema, this node's card, counters, the audit's heads ---- */

const struct table store_meta_table = {.db = DB_META, .what = "meta entry"};

int store_meta_put(store_txn *t, const char *key, const void *val, size_t len)
{
	return tbl_put(t, &store_meta_table, key, strlen(key), val, len, 0);
}

int store_meta_get(store_txn *t, const char *key, uint8_t **val, size_t *len)
{
	return tbl_get_copy(t, &store_meta_table, key, strlen(key), val, len);
}
