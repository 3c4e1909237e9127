/*
 * The node's LMDB store. See store.h for the contract.
 *
 * Keys:
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
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "bti.h"
#include "store.h"

#define MAP_INITIAL  (64u << 20)
#define BLOB_SLICE   (1u << 20) /* large blobs are copied and let go of in slices */
#define MAP_MAX      ((size_t)1 << 40)
#define AUDIT_DOMAIN "BATON-AUDIT-v1"

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
	DB_N
};
static const char *const db_names[DB_N] = {
    "meta",    "students", "records",          "blobs",    "guardians",
    "peers",   "audit",    "audit_by_student", "consents", "revocations",
    "inbox",   "outbox",   "state_ids",        "requests", "due",
    "packets", "asked",    "origins",          "held"};

struct store {
	MDB_env *env;
	MDB_dbi dbi[DB_N];
	size_t map_size;
	int dead;                /* a resize failed half-way: the map may be gone */
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

static int reserve_disk(store *s);

static int lmdb_err(int rc, const char *what)
{
	if (rc == MDB_MAP_FULL)
		return bti_diag_err(BATON_EIO, "store: %s: the database map is full", what);
	return bti_diag_err(rc == ENOMEM ? BATON_ENOMEM : BATON_EIO, "store: %s: %s", what,
	                    mdb_strerror(rc));
}

int store_open(const char *dir, int create, store **out)
{
	char path[4096];
	store *s = NULL;
	MDB_txn *txn = NULL;
	struct stat st;
	int rc, r = BATON_EINTERNAL, dead = 0, upgrade = create == STORE_OPEN_UPGRADE;

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
	if (pthread_rwlock_init(&s->lock, NULL) != 0) {
		free(s);
		return BATON_ENOMEM;
	}
	s->locked = 1;
	if ((rc = mdb_env_create(&s->env)) != 0) {
		r = lmdb_err(rc, "create");
		goto out;
	}
	mdb_env_set_maxdbs(s->env, DB_N);
	/*
	 * The built-in map is 1 MiB; a new store starts larger and grows on
	 * MDB_MAP_FULL. An existing one keeps the size it grew to (setting a
	 * smaller one would shrink the file, and the next write would grow it again).
	 */
	if ((rc = create ? mdb_env_set_mapsize(s->env, MAP_INITIAL) : 0) != 0 ||
	    /*
	     * WRITEMAP: a large import is one transaction (all or nothing); its pages
	     * go straight into the file-backed map instead of a malloc'd dirty list,
	     * so process memory does not grow with the import. Full sync is kept.
	     */
	    (rc = mdb_env_open(s->env, path, MDB_NOTLS | MDB_WRITEMAP, 0600)) != 0) {
		r = lmdb_err(rc, path);
		goto out;
	}
	MDB_envinfo info;
	mdb_env_info(s->env, &info);
	s->map_size = info.me_mapsize;
	/* Reader slots left by processes that died. */
	mdb_reader_check(s->env, &dead);
	if ((r = reserve_disk(s)) != 0)
		goto out;
	if (!create && !upgrade && (r = store_schema_check(s->env, path)) != 0)
		goto out;

	if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0) {
		r = lmdb_err(rc, "begin");
		goto out;
	}
	for (int i = 0; i < DB_N; i++) {
		if ((rc = mdb_dbi_open(txn, db_names[i], MDB_CREATE, &s->dbi[i])) != 0) {
			r = rc == MDB_NOTFOUND
			        ? bti_diag_err(BATON_EIO, "store: %s: missing table %s", path,
			                       db_names[i])
			        : lmdb_err(rc, db_names[i]);
			goto out;
		}
	}
	static char schema_key[] = "schema";
	MDB_val k = {6, schema_key}, v;
	uint8_t ver[4] = {0, 0, 0, STORE_SCHEMA_VERSION};
	if (create) {
		v.mv_size = 4;
		v.mv_data = ver;
		if ((rc = mdb_put(txn, s->dbi[DB_META], &k, &v, MDB_NOOVERWRITE)) != 0) {
			r = lmdb_err(rc, "schema");
			goto out;
		}
	} else {
		if ((rc = mdb_get(txn, s->dbi[DB_META], &k, &v)) != 0 || v.mv_size != 4) {
			r = rc != 0 && rc != MDB_NOTFOUND
			        ? lmdb_err(rc, "schema")
			        : bti_diag_err(BATON_EIO, "store: %s: no schema version", path);
			goto out;
		}
		const uint8_t *have = v.mv_data;
		if (memcmp(have, "\0\0\0\2", 4) == 0 || memcmp(have, "\0\0\0\3", 4) == 0) {
			/* Schema 2 lacked the origins table, 3 the held one: both created above. */
			v.mv_data = ver;
			if ((rc = mdb_put(txn, s->dbi[DB_META], &k, &v, 0)) != 0) {
				r = lmdb_err(rc, "schema");
				goto out;
			}
		} else if (memcmp(have, ver, 4) != 0) {
			const uint8_t *p = v.mv_data;
			r = bti_diag_err(BATON_EIO, "store: schema version %u, this baton reads %u",
			                 (unsigned)p[3] | (unsigned)p[2] << 8,
			                 STORE_SCHEMA_VERSION);
			goto out;
		}
	}
	rc = mdb_txn_commit(txn);
	txn = NULL;
	if (rc != 0) {
		r = lmdb_err(rc, "commit");
		goto out;
	}
	*out = s;
	s = NULL;
	r = 0;
out:
	if (txn)
		mdb_txn_abort(txn);
	store_close(s);
	return r;
}

void store_close(store *s)
{
	if (s == NULL)
		return;
	if (s->env)
		mdb_env_close(s->env);
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
		return lmdb_err(rc, "set map size");
	MDB_envinfo info;
	mdb_env_info(s->env, &info);
	s->map_size = info.me_mapsize;
	return 0;
}

int store_set_map_size(store *s, size_t size)
{
	pthread_rwlock_wrlock(&s->lock);
	int r = set_map(s, size);
	pthread_rwlock_unlock(&s->lock);
	return r;
}

/* The end of a cursor loop: the callback's error, else a read error that cut the loop short. */
static int cursor_end(int r, int rc)
{
	if (r != 0 || rc == 0 || rc == MDB_NOTFOUND)
		return r;
	return lmdb_err(rc, "read");
}

/* LMDB errors inside a callback come back as this, so store_write can retry on a full map. */
#define STORE_EMAPFULL (-1000)

static int mdb_call(int rc, const char *what)
{
	if (rc == MDB_MAP_FULL)
		return STORE_EMAPFULL;
	return rc == 0 ? 0 : lmdb_err(rc, what);
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
	else if ((r = reserve_to(s, size)) == 0 && (r = set_map(s, size)) != 0)
		s->dead = 1; /* LMDB may have let go of the old map: no more transactions */
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
		rc = mdb_env_set_mapsize(s->env, 0);
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
	return lmdb_err(rc, "begin");
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
			r = rc == MDB_MAP_FULL ? STORE_EMAPFULL : lmdb_err(rc, "commit");
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

static MDB_dbi dbi(store_txn *t, int which)
{
	return t->s->dbi[which];
}

/* A key "a NUL b" where b is binary. */
static size_t join_key(uint8_t *out, size_t cap, const char *a, const void *b, size_t blen)
{
	size_t al = strlen(a);
	if (al + 1 + blen > cap)
		return 0;
	memcpy(out, a, al);
	out[al] = 0;
	memcpy(out + al + 1, b, blen);
	return al + 1 + blen;
}

static void be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8),
	p[3] = (uint8_t)v;
}

/* ---- meta ---- */

int store_meta_put(store_txn *t, const char *key, const void *val, size_t len)
{
	MDB_val k = {strlen(key), (void *)(uintptr_t)key}, v = {len, (void *)(uintptr_t)val};
	return mdb_call(mdb_put(t->txn, dbi(t, DB_META), &k, &v, 0), "meta");
}

int store_meta_get(store_txn *t, const char *key, uint8_t **val, size_t *len)
{
	MDB_val k = {strlen(key), (void *)(uintptr_t)key}, v;
	int rc = mdb_get(t->txn, dbi(t, DB_META), &k, &v);
	*val = NULL;
	*len = 0;
	if (rc == MDB_NOTFOUND)
		return 1;
	if (rc != 0)
		return lmdb_err(rc, "meta");
	if ((*val = malloc(v.mv_size + 1)) == NULL)
		return BATON_ENOMEM;
	memcpy(*val, v.mv_data, v.mv_size);
	(*val)[v.mv_size] = 0;
	*len = v.mv_size;
	return 0;
}

static int card_from(int r, uint8_t *b, size_t n, baton_card *c)
{
	if (r != 0)
		return r;
	r = baton_card_parse(b, n, c);
	free(b);
	return r ? bti_diag_err(BATON_EIO, "store: a stored card does not parse") : 0;
}

int store_own_card(store_txn *t, baton_card *c)
{
	uint8_t *b = NULL;
	size_t n = 0;
	int r = store_meta_get(t, "card", &b, &n);
	return card_from(r, b, n, c);
}

int store_peer_card(store_txn *t, const char *code, baton_card *c)
{
	uint8_t *b = NULL;
	size_t n = 0;
	int r = store_peer_get(t, code, &b, &n);
	return card_from(r, b, n, c);
}

/* ---- students ---- */

static const char *const student_keys[] = {"batch", "birth",   "family", "given",
                                           "state", "updated", "version"};
enum { SK_BATCH, SK_BIRTH, SK_FAMILY, SK_GIVEN, SK_STATE, SK_UPDATED, SK_VERSION, SK_N };

static void enc_student(struct enc *e, const void *obj)
{
	const store_student *s = obj;
	bti_enc_map(e, SK_N);
	bti_enc_str(e, "batch"), bti_enc_uint(e, s->batch);
	bti_enc_str(e, "birth"), bti_enc_str(e, s->birth_date);
	bti_enc_str(e, "family"), bti_enc_str(e, s->family_name);
	bti_enc_str(e, "given"), bti_enc_str(e, s->given_name);
	bti_enc_str(e, "state"), bti_enc_str(e, s->state_id);
	bti_enc_str(e, "updated"), bti_enc_uint(e, s->updated);
	bti_enc_str(e, "version"), bti_enc_uint(e, s->version);
}

static int dec_student(const uint8_t *p, size_t n, store_student *s)
{
	static const struct dec_limits lim = {4096, 2, 64};
	const msgpack_object *v[SK_N];
	msgpack_zone z;
	msgpack_object o;
	uint64_t ver;
	int r;

	if (!msgpack_zone_init(&z, 512))
		return BATON_ENOMEM;
	if ((r = bti_mp_decode(p, n, &lim, &z, &o)) != 0 ||
	    (r = bti_mp_fields(&o, "student", student_keys, SK_N, v)) != 0 ||
	    (r = bti_mp_uint(v[SK_BATCH], "student", "batch", &s->batch)) != 0 ||
	    (r = bti_mp_str(v[SK_BIRTH], "student", "birth", 0, s->birth_date,
	                    sizeof(s->birth_date))) != 0 ||
	    (r = bti_mp_str(v[SK_FAMILY], "student", "family", 0, s->family_name,
	                    sizeof(s->family_name))) != 0 ||
	    (r = bti_mp_str(v[SK_GIVEN], "student", "given", 0, s->given_name,
	                    sizeof(s->given_name))) != 0 ||
	    (r = bti_mp_str(v[SK_STATE], "student", "state", 0, s->state_id,
	                    sizeof(s->state_id))) != 0 ||
	    (r = bti_mp_uint(v[SK_UPDATED], "student", "updated", &s->updated)) != 0 ||
	    (r = bti_mp_uint(v[SK_VERSION], "student", "version", &ver)) != 0)
		goto out;
	s->version = (uint32_t)ver;
out:
	msgpack_zone_destroy(&z);
	if (r != 0) {
		char why[400];
		snprintf(why, sizeof(why), "%s", baton_diag());
		r = bti_diag_err(BATON_EIO, "store: damaged student index entry (%s)", why);
	}
	return r;
}

int store_student_get(store_txn *t, const char *id, store_student *s)
{
	MDB_val k = {strlen(id), (void *)(uintptr_t)id}, v;
	int rc = mdb_get(t->txn, dbi(t, DB_STUDENTS), &k, &v);
	memset(s, 0, sizeof(*s));
	if (rc == MDB_NOTFOUND)
		return 1;
	if (rc != 0)
		return lmdb_err(rc, "students");
	snprintf(s->id, sizeof(s->id), "%s", id);
	return dec_student(v.mv_data, v.mv_size, s);
}

int store_student_put(store_txn *t, store_student *s, const char *json, size_t len)
{
	store_student old;
	uint8_t key[BATON_STUDENT_MAX + 8], *enc = NULL;
	size_t klen, elen;
	int r;

	if ((r = store_student_get(t, s->id, &old)) < 0)
		return r;
	if (r == 0 && old.batch == t->batch)
		return bti_diag_err(BATON_EEXIST, "student_id \"%s\" appears twice", s->id);
	s->version = r == 0 ? old.version + 1 : 1;
	s->updated = t->now;
	s->batch = t->batch;
	uint8_t ver[4];
	be32(ver, s->version);
	if ((klen = join_key(key, sizeof(key), s->id, ver, 4)) == 0)
		return BATON_EINVAL;
	MDB_val rk = {klen, key}, rv = {len, (void *)(uintptr_t)json};
	if ((r = mdb_call(mdb_put(t->txn, dbi(t, DB_RECORDS), &rk, &rv, MDB_NOOVERWRITE),
	                  "records")) != 0)
		return r;
	if ((r = bti_enc_alloc(enc_student, s, &enc, &elen)) != 0)
		return r;
	MDB_val sk = {strlen(s->id), s->id}, sv = {elen, enc};
	r = mdb_call(mdb_put(t->txn, dbi(t, DB_STUDENTS), &sk, &sv, 0), "students");
	free(enc);
	if (r != 0)
		return r;
	/* One statewide id, one student: a changed id moves its mapping along. */
	if (old.state_id[0] && strcmp(old.state_id, s->state_id) != 0) {
		MDB_val ok = {strlen(old.state_id), old.state_id};
		int rc = mdb_del(t->txn, dbi(t, DB_STATE_IDS), &ok, NULL);
		if (rc != 0 && rc != MDB_NOTFOUND)
			return mdb_call(rc, "state_ids");
	}
	if (s->state_id[0]) {
		char owner[BATON_STUDENT_MAX + 1];
		if ((r = store_student_by_state_id(t, s->state_id, owner, sizeof(owner))) < 0)
			return r;
		if (r == 0 && strcmp(owner, s->id) != 0)
			return bti_diag_err(BATON_EVALUE,
			                    "state_student_id \"%s\" already belongs to student %s",
			                    s->state_id, owner);
		MDB_val ik = {strlen(s->state_id), s->state_id}, iv = {strlen(s->id), s->id};
		r = mdb_call(mdb_put(t->txn, dbi(t, DB_STATE_IDS), &ik, &iv, 0), "state_ids");
	}
	return r;
}

int store_student_by_state_id(store_txn *t, const char *state_id, char *id, size_t cap)
{
	MDB_val k = {strlen(state_id), (void *)(uintptr_t)state_id}, v;
	int rc = mdb_get(t->txn, dbi(t, DB_STATE_IDS), &k, &v);
	if (rc == MDB_NOTFOUND)
		return 1;
	if (rc != 0)
		return lmdb_err(rc, "state_ids");
	if (v.mv_size >= cap)
		return bti_diag_err(BATON_EIO, "store: damaged state id index");
	memcpy(id, v.mv_data, v.mv_size);
	id[v.mv_size] = 0;
	return 0;
}

int store_record_get(store_txn *t, const char *id, uint32_t v, char **json, size_t *len)
{
	store_student s;
	uint8_t key[BATON_STUDENT_MAX + 8], ver[4];
	int r;

	*json = NULL;
	*len = 0;
	if (v == 0) {
		if ((r = store_student_get(t, id, &s)) != 0)
			return r;
		v = s.version;
	}
	be32(ver, v);
	size_t klen = join_key(key, sizeof(key), id, ver, 4);
	MDB_val k = {klen, key}, val;
	int rc = mdb_get(t->txn, dbi(t, DB_RECORDS), &k, &val);
	if (rc == MDB_NOTFOUND)
		return 1;
	if (rc != 0)
		return lmdb_err(rc, "records");
	if ((*json = malloc(val.mv_size + 1)) == NULL)
		return BATON_ENOMEM;
	memcpy(*json, val.mv_data, val.mv_size);
	(*json)[val.mv_size] = 0;
	*len = val.mv_size;
	return 0;
}

int store_student_each(store_txn *t, store_student_cb cb, void *ctx)
{
	MDB_cursor *c;
	MDB_val k, v;
	int rc, r = 0;

	if ((rc = mdb_cursor_open(t->txn, dbi(t, DB_STUDENTS), &c)) != 0)
		return lmdb_err(rc, "cursor");
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0 && r == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		store_student s;
		memset(&s, 0, sizeof(s));
		if (k.mv_size > BATON_STUDENT_MAX) {
			r = bti_diag_err(BATON_EIO, "store: damaged student key");
			break;
		}
		memcpy(s.id, k.mv_data, k.mv_size);
		if ((r = dec_student(v.mv_data, v.mv_size, &s)) == 0)
			r = cb(&s, ctx);
	}
	mdb_cursor_close(c);
	return cursor_end(r, rc);
}

int store_student_count(store_txn *t, size_t *n)
{
	MDB_stat st;
	int rc = mdb_stat(t->txn, dbi(t, DB_STUDENTS), &st);
	*n = rc == 0 ? st.ms_entries : 0;
	return rc == 0 ? 0 : lmdb_err(rc, "stat");
}

/* ---- blobs ---- */

int store_blob_put(store_txn *t, const uint8_t hash[32], const uint8_t *data, size_t len)
{
	MDB_val k = {32, (void *)(uintptr_t)hash}, v = {len, NULL};
	/* Content-addressed: the same bytes are stored once. */
	int rc = mdb_put(t->txn, dbi(t, DB_BLOBS), &k, &v, MDB_NOOVERWRITE | MDB_RESERVE);
	if (rc == MDB_KEYEXIST)
		return 0;
	if (rc != 0)
		return mdb_call(rc, "blobs");
	uint8_t *dst = v.mv_data;
	size_t done = 0, sdone = 0, ddone = 0;
	while (done < len) {
		size_t n = len - done < BLOB_SLICE ? len - done : BLOB_SLICE;
		memcpy(dst + done, data + done, n);
		done += n;
		sdone = store_pages_done(data, sdone, done);
		ddone = store_pages_done(dst, ddone, done);
	}
	return 0;
}

size_t store_pages_done(const uint8_t *base, size_t from, size_t to)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE); /* any thread may get here */
	uintptr_t start = ((uintptr_t)base + from + page - 1) & ~(uintptr_t)(page - 1);
	uintptr_t end = ((uintptr_t)base + to) & ~(uintptr_t)(page - 1);
	if (end <= start || end - start < BLOB_SLICE / 4)
		return from;
	madvise((void *)start, end - start, MADV_DONTNEED);
	return (size_t)(end - (uintptr_t)base);
}

int store_blob_reserve(store_txn *t, const uint8_t hash[32], size_t len, uint8_t **data)
{
	MDB_val k = {32, (void *)(uintptr_t)hash}, v = {len, NULL};
	int rc = mdb_put(t->txn, dbi(t, DB_BLOBS), &k, &v, MDB_NOOVERWRITE | MDB_RESERVE);
	*data = NULL;
	if (rc == MDB_KEYEXIST)
		return 1;
	if (rc != 0)
		return mdb_call(rc, "blobs");
	*data = v.mv_data;
	return 0;
}

int store_blob_get(store_txn *t, const uint8_t hash[32], const uint8_t **data, size_t *len)
{
	MDB_val k = {32, (void *)(uintptr_t)hash}, v;
	int rc = mdb_get(t->txn, dbi(t, DB_BLOBS), &k, &v);
	if (rc == MDB_NOTFOUND)
		return 1;
	if (rc != 0)
		return lmdb_err(rc, "blobs");
	*data = v.mv_data;
	*len = v.mv_size;
	return 0;
}

/* ---- guardians ---- */

static const char *const guardian_keys[] = {"linked", "relation", "restricted"};

static void enc_guardian(struct enc *e, const void *obj)
{
	const store_guardian *g = obj;
	bti_enc_map(e, 3);
	bti_enc_str(e, "linked"), bti_enc_uint(e, g->linked);
	bti_enc_str(e, "relation"), bti_enc_str(e, g->relation);
	bti_enc_str(e, "restricted"), bti_enc_bool(e, g->restricted);
}

int store_guardian_put(store_txn *t, const char *student, const store_guardian *g)
{
	uint8_t key[BATON_STUDENT_MAX + 40], *enc;
	size_t klen = join_key(key, sizeof(key), student, g->pk, 32), elen;
	int r;
	if (klen == 0)
		return BATON_EINVAL;
	if ((r = bti_enc_alloc(enc_guardian, g, &enc, &elen)) != 0)
		return r;
	MDB_val k = {klen, key}, v = {elen, enc};
	r = mdb_call(mdb_put(t->txn, dbi(t, DB_GUARDIANS), &k, &v, 0), "guardians");
	free(enc);
	return r;
}

int store_guardian_del(store_txn *t, const char *student, const uint8_t pk[BATON_PK_BYTES])
{
	uint8_t key[BATON_STUDENT_MAX + 40];
	size_t klen = join_key(key, sizeof(key), student, pk, 32);
	MDB_val k = {klen, key};
	int rc = mdb_del(t->txn, dbi(t, DB_GUARDIANS), &k, NULL);
	if (rc == MDB_NOTFOUND)
		return 1;
	return mdb_call(rc, "guardians");
}

int store_guardian_each(store_txn *t, const char *student, store_guardian_cb cb, void *ctx)
{
	MDB_cursor *c;
	uint8_t prefix[BATON_STUDENT_MAX + 2];
	size_t plen = strlen(student) + 1;
	int rc, r = 0;

	if (plen > sizeof(prefix))
		return BATON_EINVAL;
	memcpy(prefix, student, plen);
	if ((rc = mdb_cursor_open(t->txn, dbi(t, DB_GUARDIANS), &c)) != 0)
		return lmdb_err(rc, "cursor");
	MDB_val k = {plen, prefix}, v;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0 && r == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size != plen + 32 || memcmp(k.mv_data, prefix, plen) != 0)
			break;
		static const struct dec_limits lim = {256, 1, 16};
		const msgpack_object *f[3];
		msgpack_zone z;
		msgpack_object o;
		store_guardian g;
		memset(&g, 0, sizeof(g));
		memcpy(g.pk, (const uint8_t *)k.mv_data + plen, 32);
		if (!msgpack_zone_init(&z, 256))
			return BATON_ENOMEM;
		if ((r = bti_mp_decode(v.mv_data, v.mv_size, &lim, &z, &o)) == 0 &&
		    (r = bti_mp_fields(&o, "guardian", guardian_keys, 3, f)) == 0 &&
		    (r = bti_mp_uint(f[0], "guardian", "linked", &g.linked)) == 0 &&
		    (r = bti_mp_str(f[1], "guardian", "relation", 1, g.relation,
		                    sizeof(g.relation))) == 0)
			r = bti_mp_bool(f[2], "guardian", "restricted", &g.restricted);
		msgpack_zone_destroy(&z);
		if (r == 0)
			r = cb(&g, ctx);
	}
	mdb_cursor_close(c);
	return cursor_end(r, rc);
}

/* ---- peers ---- */

int store_peer_put(store_txn *t, const char *code, const uint8_t *card, size_t len)
{
	MDB_val k = {strlen(code), (void *)(uintptr_t)code}, v = {len, (void *)(uintptr_t)card};
	return mdb_call(mdb_put(t->txn, dbi(t, DB_PEERS), &k, &v, 0), "peers");
}

int store_peer_get(store_txn *t, const char *code, uint8_t **card, size_t *len)
{
	MDB_val k = {strlen(code), (void *)(uintptr_t)code}, v;
	int rc = mdb_get(t->txn, dbi(t, DB_PEERS), &k, &v);
	*card = NULL;
	*len = 0;
	if (rc == MDB_NOTFOUND)
		return 1;
	if (rc != 0)
		return lmdb_err(rc, "peers");
	if ((*card = malloc(v.mv_size)) == NULL)
		return BATON_ENOMEM;
	memcpy(*card, v.mv_data, v.mv_size);
	*len = v.mv_size;
	return 0;
}

int store_peer_del(store_txn *t, const char *code)
{
	MDB_val k = {strlen(code), (void *)(uintptr_t)code};
	int rc = mdb_del(t->txn, dbi(t, DB_PEERS), &k, NULL);
	if (rc == MDB_NOTFOUND)
		return 1;
	return mdb_call(rc, "peers");
}

int store_peer_each(store_txn *t, store_peer_cb cb, void *ctx)
{
	MDB_cursor *c;
	MDB_val k, v;
	char code[BATON_CODE_MAX + 1];
	int rc, r = 0;
	if ((rc = mdb_cursor_open(t->txn, dbi(t, DB_PEERS), &c)) != 0)
		return lmdb_err(rc, "cursor");
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0 && r == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size > BATON_CODE_MAX)
			continue;
		memcpy(code, k.mv_data, k.mv_size);
		code[k.mv_size] = 0;
		r = cb(code, v.mv_data, v.mv_size, ctx);
	}
	mdb_cursor_close(c);
	return cursor_end(r, rc);
}

/* ---- consents and revocations ---- */

static const char *const consent_keys[] = {"bytes", "seen", "student"};

static void enc_consent_rec(struct enc *e, const void *obj)
{
	const store_consent *c = obj;
	bti_enc_map(e, 3);
	bti_enc_str(e, "bytes"), bti_enc_bin(e, c->bytes, c->len);
	bti_enc_str(e, "seen"), bti_enc_uint(e, c->seen);
	bti_enc_str(e, "student"), bti_enc_str(e, c->student);
}

int store_consent_put(store_txn *t, const store_consent *c)
{
	uint8_t *enc;
	size_t elen;
	int r;
	if ((r = bti_enc_alloc(enc_consent_rec, c, &enc, &elen)) != 0)
		return r;
	MDB_val k = {BATON_ID_BYTES, (void *)(uintptr_t)c->id}, v = {elen, enc};
	r = mdb_call(mdb_put(t->txn, dbi(t, DB_CONSENTS), &k, &v, 0), "consents");
	free(enc);
	return r;
}

static int dec_consent_rec(const uint8_t *id, const uint8_t *p, size_t n, store_consent *c)
{
	static const struct dec_limits lim = {BATON_OBJ_MAX + 256, 1, 16};
	const msgpack_object *v[3];
	const uint8_t *b;
	msgpack_zone z;
	msgpack_object o;
	int r;

	memset(c, 0, sizeof(*c));
	memcpy(c->id, id, BATON_ID_BYTES);
	if (!msgpack_zone_init(&z, 256))
		return BATON_ENOMEM;
	if ((r = bti_mp_decode(p, n, &lim, &z, &o)) == 0 &&
	    (r = bti_mp_fields(&o, "consent", consent_keys, 3, v)) == 0 &&
	    (r = bti_mp_bin(v[0], "consent", "bytes", 1, BATON_OBJ_MAX, &b, &c->len)) == 0 &&
	    (r = bti_mp_uint(v[1], "consent", "seen", &c->seen)) == 0 &&
	    (r = bti_mp_str(v[2], "consent", "student", 1, c->student, sizeof(c->student))) == 0) {
		if ((c->bytes = malloc(c->len)) == NULL)
			r = BATON_ENOMEM;
		else
			memcpy(c->bytes, b, c->len);
	}
	msgpack_zone_destroy(&z);
	return r ? bti_diag_err(BATON_EIO, "store: damaged consent entry") : 0;
}

int store_consent_get(store_txn *t, const uint8_t id[BATON_ID_BYTES], store_consent *c)
{
	MDB_val k = {BATON_ID_BYTES, (void *)(uintptr_t)id}, v;
	int rc = mdb_get(t->txn, dbi(t, DB_CONSENTS), &k, &v);
	memset(c, 0, sizeof(*c));
	if (rc == MDB_NOTFOUND)
		return 1;
	if (rc != 0)
		return lmdb_err(rc, "consents");
	return dec_consent_rec(id, v.mv_data, v.mv_size, c);
}

int store_consent_each(store_txn *t, store_consent_cb cb, void *ctx)
{
	MDB_cursor *cur;
	MDB_val k, v;
	int rc, r = 0;
	if ((rc = mdb_cursor_open(t->txn, dbi(t, DB_CONSENTS), &cur)) != 0)
		return lmdb_err(rc, "cursor");
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && r == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		store_consent c;
		if (k.mv_size != BATON_ID_BYTES)
			continue;
		if ((r = dec_consent_rec(k.mv_data, v.mv_data, v.mv_size, &c)) == 0) {
			r = cb(&c, ctx);
			free(c.bytes);
		}
	}
	mdb_cursor_close(cur);
	return cursor_end(r, rc);
}

int store_revocation_put(store_txn *t, const uint8_t id[BATON_ID_BYTES],
                         const uint8_t signer[BATON_PK_BYTES], int standing, const uint8_t *bytes,
                         size_t len)
{
	uint8_t key[BATON_ID_BYTES + BATON_PK_BYTES], *val;
	int r;
	if ((val = malloc(len + 1)) == NULL)
		return BATON_ENOMEM;
	/* The standing is the value's first byte, the signed revocation the rest. */
	val[0] = (uint8_t)standing;
	memcpy(val + 1, bytes, len);
	memcpy(key, id, BATON_ID_BYTES);
	memcpy(key + BATON_ID_BYTES, signer, BATON_PK_BYTES);
	MDB_val k = {sizeof(key), key}, v = {len + 1, val};
	r = mdb_call(mdb_put(t->txn, dbi(t, DB_REVOCATIONS), &k, &v, 0), "revocations");
	free(val);
	return r;
}

int store_revocation_each(store_txn *t, const uint8_t id[BATON_ID_BYTES], store_revocation_cb cb,
                          void *ctx)
{
	MDB_cursor *cur;
	MDB_val k = {BATON_ID_BYTES, (void *)(uintptr_t)id}, v;
	int rc, r = 0;
	if ((rc = mdb_cursor_open(t->txn, dbi(t, DB_REVOCATIONS), &cur)) != 0)
		return lmdb_err(rc, "cursor");
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0 && r == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size != BATON_ID_BYTES + BATON_PK_BYTES ||
		    memcmp(k.mv_data, id, BATON_ID_BYTES) != 0)
			break;
		if (v.mv_size < 2) {
			r = bti_diag_err(BATON_EIO, "store: damaged revocation");
			break;
		}
		const uint8_t *val = v.mv_data;
		r = cb((const uint8_t *)k.mv_data + BATON_ID_BYTES, val[0], val + 1, v.mv_size - 1,
		       ctx);
	}
	/* An error part-way must not read as "no revocation": that would fail open. */
	if (r == 0 && rc != 0 && rc != MDB_NOTFOUND)
		r = lmdb_err(rc, "revocations");
	mdb_cursor_close(cur);
	return cursor_end(r, rc);
}

/* ---- inbox ---- */

static const char *const inbox_keys[] = {"from", "reason", "receipt", "student", "time"};

static void enc_inbox(struct enc *e, const void *obj)
{
	const store_inbox *x = obj;
	bti_enc_map(e, 5);
	bti_enc_str(e, "from"), bti_enc_str(e, x->from);
	bti_enc_str(e, "reason"), bti_enc_uint(e, (uint64_t)x->reason);
	bti_enc_str(e, "receipt"), bti_enc_bin(e, x->receipt, x->receipt_len);
	bti_enc_str(e, "student"), bti_enc_str(e, x->student);
	bti_enc_str(e, "time"), bti_enc_uint(e, x->time);
}

int store_inbox_put(store_txn *t, const store_inbox *x)
{
	uint8_t *enc;
	size_t elen;
	int r;
	if ((r = bti_enc_alloc(enc_inbox, x, &enc, &elen)) != 0)
		return r;
	MDB_val k = {BATON_ID_BYTES, (void *)(uintptr_t)x->packet}, v = {elen, enc};
	r = mdb_call(mdb_put(t->txn, dbi(t, DB_INBOX), &k, &v, 0), "inbox");
	free(enc);
	return r;
}

static int dec_inbox(const uint8_t *id, const uint8_t *p, size_t n, store_inbox *x)
{
	static const struct dec_limits lim = {BATON_OBJ_MAX + 512, 1, 16};
	const msgpack_object *v[5];
	const uint8_t *b;
	uint64_t reason;
	msgpack_zone z;
	msgpack_object o;
	int r;

	memset(x, 0, sizeof(*x));
	memcpy(x->packet, id, BATON_ID_BYTES);
	if (!msgpack_zone_init(&z, 256))
		return BATON_ENOMEM;
	if ((r = bti_mp_decode(p, n, &lim, &z, &o)) == 0 &&
	    (r = bti_mp_fields(&o, "inbox", inbox_keys, 5, v)) == 0 &&
	    (r = bti_mp_str(v[0], "inbox", "from", 0, x->from, sizeof(x->from))) == 0 &&
	    (r = bti_mp_uint(v[1], "inbox", "reason", &reason)) == 0 &&
	    (r = bti_mp_bin(v[2], "inbox", "receipt", 0, BATON_OBJ_MAX, &b, &x->receipt_len)) ==
	        0 &&
	    (r = bti_mp_str(v[3], "inbox", "student", 0, x->student, sizeof(x->student))) == 0 &&
	    (r = bti_mp_uint(v[4], "inbox", "time", &x->time)) == 0) {
		x->reason = (int)reason;
		if ((x->receipt = malloc(x->receipt_len ? x->receipt_len : 1)) == NULL)
			r = BATON_ENOMEM;
		else
			memcpy(x->receipt, b, x->receipt_len);
	}
	msgpack_zone_destroy(&z);
	return r ? bti_diag_err(BATON_EIO, "store: damaged inbox entry") : 0;
}

int store_inbox_get(store_txn *t, const uint8_t id[BATON_ID_BYTES], store_inbox *x)
{
	MDB_val k = {BATON_ID_BYTES, (void *)(uintptr_t)id}, v;
	int rc = mdb_get(t->txn, dbi(t, DB_INBOX), &k, &v);
	memset(x, 0, sizeof(*x));
	if (rc == MDB_NOTFOUND)
		return 1;
	if (rc != 0)
		return lmdb_err(rc, "inbox");
	return dec_inbox(id, v.mv_data, v.mv_size, x);
}

int store_inbox_each(store_txn *t, store_inbox_cb cb, void *ctx)
{
	MDB_cursor *cur;
	MDB_val k, v;
	int rc, r = 0;
	if ((rc = mdb_cursor_open(t->txn, dbi(t, DB_INBOX), &cur)) != 0)
		return lmdb_err(rc, "cursor");
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && r == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		store_inbox x;
		if (k.mv_size != BATON_ID_BYTES)
			continue;
		if ((r = dec_inbox(k.mv_data, v.mv_data, v.mv_size, &x)) == 0) {
			r = cb(&x, ctx);
			free(x.receipt);
		}
	}
	mdb_cursor_close(cur);
	return cursor_end(r, rc);
}

/* ---- outbox ---- */

static const char *const outbox_keys[] = {"attempts", "created", "error",   "expires",
                                          "file",     "hash",    "kind",    "next",
                                          "reason",   "state",   "student", "to"};

static void enc_outbox(struct enc *e, const void *obj)
{
	const store_outbox *x = obj;
	bti_enc_map(e, 12);
	bti_enc_str(e, "attempts"), bti_enc_uint(e, x->attempts);
	bti_enc_str(e, "created"), bti_enc_uint(e, x->created);
	bti_enc_str(e, "error"), bti_enc_str(e, x->last_error);
	bti_enc_str(e, "expires"), bti_enc_uint(e, x->expires);
	bti_enc_str(e, "file"), bti_enc_str(e, x->file);
	bti_enc_str(e, "hash"), bti_enc_bin(e, x->hash, BATON_HASH_BYTES);
	bti_enc_str(e, "kind"), bti_enc_uint(e, (uint64_t)x->kind);
	bti_enc_str(e, "next"), bti_enc_uint(e, x->next_try);
	bti_enc_str(e, "reason"), bti_enc_uint(e, (uint64_t)x->reason);
	bti_enc_str(e, "state"), bti_enc_uint(e, (uint64_t)x->state);
	bti_enc_str(e, "student"), bti_enc_str(e, x->student);
	bti_enc_str(e, "to"), bti_enc_str(e, x->to);
}

static size_t due_key(uint8_t *key, uint64_t when, const uint8_t id[BATON_ID_BYTES])
{
	put_be64(key, when);
	memcpy(key + 8, id, BATON_ID_BYTES);
	return 8 + BATON_ID_BYTES;
}

int store_outbox_put(store_txn *t, const store_outbox *x)
{
	uint8_t *enc, key[8 + BATON_ID_BYTES];
	size_t elen;
	store_outbox old;
	int r;
	/* The due index holds queued entries by their next try: move this one's key. */
	if ((r = store_outbox_get(t, x->packet, &old)) < 0)
		return r;
	if (r == 0 && old.state == OUT_QUEUED) {
		MDB_val dk = {due_key(key, old.next_try, old.packet), key};
		int rc = mdb_del(t->txn, dbi(t, DB_DUE), &dk, NULL);
		if (rc != 0 && rc != MDB_NOTFOUND)
			return mdb_call(rc, "outbox");
	}
	if (x->state == OUT_QUEUED) {
		MDB_val dk = {due_key(key, x->next_try, x->packet), key}, dv = {0, NULL};
		if ((r = mdb_call(mdb_put(t->txn, dbi(t, DB_DUE), &dk, &dv, 0), "outbox")) != 0)
			return r;
	}
	if ((r = bti_enc_alloc(enc_outbox, x, &enc, &elen)) != 0)
		return r;
	MDB_val k = {BATON_ID_BYTES, (void *)(uintptr_t)x->packet}, v = {elen, enc};
	r = mdb_call(mdb_put(t->txn, dbi(t, DB_OUTBOX), &k, &v, 0), "outbox");
	free(enc);
	return r;
}

int store_outbox_due(store_txn *t, uint64_t now, size_t max, store_outbox_cb cb, void *ctx)
{
	MDB_cursor *cur;
	MDB_val k, v;
	int rc, r = 0;
	size_t n = 0;
	if ((rc = mdb_cursor_open(t->txn, dbi(t, DB_DUE), &cur)) != 0)
		return lmdb_err(rc, "cursor");
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && r == 0 && n < max;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		store_outbox x;
		if (k.mv_size != 8 + BATON_ID_BYTES)
			continue;
		if (get_be64(k.mv_data) > now)
			break;
		if ((r = store_outbox_get(t, (const uint8_t *)k.mv_data + 8, &x)) == 1)
			r = bti_diag_err(BATON_EIO,
			                 "store: the due index names a missing outbox entry");
		if (r == 0 && (r = cb(&x, ctx)) == 0)
			n++;
	}
	mdb_cursor_close(cur);
	return cursor_end(r, rc);
}

static int dec_outbox(const uint8_t *id, const uint8_t *p, size_t n, store_outbox *x)
{
	static const struct dec_limits lim = {4096, 1, 32};
	const msgpack_object *v[12];
	uint64_t att, reason, state, kind;
	msgpack_zone z;
	msgpack_object o;
	int r;

	memset(x, 0, sizeof(*x));
	memcpy(x->packet, id, BATON_ID_BYTES);
	if (!msgpack_zone_init(&z, 512))
		return BATON_ENOMEM;
	if ((r = bti_mp_decode(p, n, &lim, &z, &o)) == 0 &&
	    (r = bti_mp_fields(&o, "outbox", outbox_keys, 12, v)) == 0 &&
	    (r = bti_mp_uint(v[0], "outbox", "attempts", &att)) == 0 &&
	    (r = bti_mp_uint(v[1], "outbox", "created", &x->created)) == 0 &&
	    (r = bti_mp_str(v[2], "outbox", "error", 0, x->last_error, sizeof(x->last_error))) ==
	        0 &&
	    (r = bti_mp_uint(v[3], "outbox", "expires", &x->expires)) == 0 &&
	    (r = bti_mp_str(v[4], "outbox", "file", 0, x->file, sizeof(x->file))) == 0 &&
	    (r = bti_mp_fixbin(v[5], "outbox", "hash", x->hash, BATON_HASH_BYTES)) == 0 &&
	    (r = bti_mp_uint(v[6], "outbox", "kind", &kind)) == 0 &&
	    (r = bti_mp_uint(v[7], "outbox", "next", &x->next_try)) == 0 &&
	    (r = bti_mp_uint(v[8], "outbox", "reason", &reason)) == 0 &&
	    (r = bti_mp_uint(v[9], "outbox", "state", &state)) == 0 &&
	    (r = bti_mp_str(v[10], "outbox", "student", 0, x->student, sizeof(x->student))) == 0 &&
	    (r = bti_mp_str(v[11], "outbox", "to", 0, x->to, sizeof(x->to))) == 0) {
		x->attempts = (uint32_t)att;
		x->kind = (int)kind;
		x->reason = (int)reason;
		x->state = (int)state;
	}
	msgpack_zone_destroy(&z);
	return r ? bti_diag_err(BATON_EIO, "store: damaged outbox entry") : 0;
}

int store_outbox_get(store_txn *t, const uint8_t id[BATON_ID_BYTES], store_outbox *x)
{
	MDB_val k = {BATON_ID_BYTES, (void *)(uintptr_t)id}, v;
	int rc = mdb_get(t->txn, dbi(t, DB_OUTBOX), &k, &v);
	memset(x, 0, sizeof(*x));
	if (rc == MDB_NOTFOUND)
		return 1;
	if (rc != 0)
		return lmdb_err(rc, "outbox");
	return dec_outbox(id, v.mv_data, v.mv_size, x);
}

int store_outbox_each(store_txn *t, store_outbox_cb cb, void *ctx)
{
	MDB_cursor *cur;
	MDB_val k, v;
	int rc, r = 0;
	if ((rc = mdb_cursor_open(t->txn, dbi(t, DB_OUTBOX), &cur)) != 0)
		return lmdb_err(rc, "cursor");
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && r == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		store_outbox x;
		if (k.mv_size != BATON_ID_BYTES)
			continue;
		if ((r = dec_outbox(k.mv_data, v.mv_data, v.mv_size, &x)) == 0)
			r = cb(&x, ctx);
	}
	mdb_cursor_close(cur);
	return cursor_end(r, rc);
}

/* ---- packets kept in the store ---- */

int store_packet_put(store_txn *t, const uint8_t id[BATON_ID_BYTES], const uint8_t *p, size_t n)
{
	MDB_val k = {BATON_ID_BYTES, (void *)(uintptr_t)id}, v = {n, (void *)(uintptr_t)p};
	return mdb_call(mdb_put(t->txn, dbi(t, DB_PACKETS), &k, &v, 0), "packets");
}

int store_packet_get(store_txn *t, const uint8_t id[BATON_ID_BYTES], uint8_t **p, size_t *n)
{
	MDB_val k = {BATON_ID_BYTES, (void *)(uintptr_t)id}, v;
	int rc = mdb_get(t->txn, dbi(t, DB_PACKETS), &k, &v);
	if (p)
		*p = NULL;
	*n = 0;
	if (rc == MDB_NOTFOUND)
		return 1;
	if (rc != 0)
		return lmdb_err(rc, "packets");
	*n = v.mv_size;
	if (p == NULL)
		return 0;
	if ((*p = malloc(v.mv_size ? v.mv_size : 1)) == NULL)
		return BATON_ENOMEM;
	memcpy(*p, v.mv_data, v.mv_size);
	return 0;
}

/* ---- requests this node has made ---- */

int store_asked(store_txn *t, const char *code, const char *student,
                const uint8_t id[BATON_ID_BYTES], uint8_t found[BATON_ID_BYTES])
{
	uint8_t key[BATON_CODE_MAX + BATON_STUDENT_MAX + 2];
	size_t n = join_key(key, sizeof(key), code, student, strlen(student));
	MDB_val k = {n, key}, v = {BATON_ID_BYTES, (void *)(uintptr_t)id};
	int rc;
	if (n == 0)
		return bti_diag_err(BATON_EINVAL, "store: key too long");
	if (id)
		return mdb_call(mdb_put(t->txn, dbi(t, DB_ASKED), &k, &v, 0), "asked");
	if ((rc = mdb_get(t->txn, dbi(t, DB_ASKED), &k, &v)) == MDB_NOTFOUND)
		return 1;
	if (rc != 0 || v.mv_size != BATON_ID_BYTES)
		return rc ? lmdb_err(rc, "asked")
		          : bti_diag_err(BATON_EIO, "store: damaged asked entry");
	memcpy(found, v.mv_data, BATON_ID_BYTES);
	return mdb_call(mdb_del(t->txn, dbi(t, DB_ASKED), &k, NULL), "asked");
}

int store_record_same(store_txn *t, const char *id, const char *json, store_student *s)
{
	char *prev;
	size_t len;
	int r = store_student_get(t, id, s);
	if (r != 0)
		return r == 1 ? 0 : r;
	if ((r = store_record_get(t, id, 0, &prev, &len)) != 0)
		return r == 1 ? 0 : r;
	int same = len == strlen(json) && memcmp(prev, json, len) == 0;
	sodium_memzero(prev, len);
	free(prev);
	return same;
}

int store_origin(store_txn *t, const char *code, const char *their_id, const char *id, char *found,
                 size_t cap)
{
	uint8_t key[BATON_CODE_MAX + BATON_STUDENT_MAX + 2];
	size_t n = join_key(key, sizeof(key), code, their_id, strlen(their_id));
	MDB_val k = {n, key}, v = {id ? strlen(id) : 0, (void *)(uintptr_t)id};
	int rc;
	if (n == 0)
		return bti_diag_err(BATON_EINVAL, "store: key too long");
	if (id)
		return mdb_call(mdb_put(t->txn, dbi(t, DB_ORIGINS), &k, &v, 0), "origins");
	if ((rc = mdb_get(t->txn, dbi(t, DB_ORIGINS), &k, &v)) == MDB_NOTFOUND)
		return 1;
	if (rc != 0 || v.mv_size == 0 || v.mv_size >= cap || v.mv_size > BATON_STUDENT_MAX)
		return rc ? lmdb_err(rc, "origins")
		          : bti_diag_err(BATON_EIO, "store: damaged origins entry");
	memcpy(found, v.mv_data, v.mv_size);
	found[v.mv_size] = 0;
	return 0;
}

/* ---- records held for review ---- */

/* A name as a registrar would read it: no outer space, one space between words, any case. */
static void ident_norm(const char *in, char *out, size_t cap)
{
	size_t n = 0;
	int space = 0;
	for (; *in && n + 2 < cap; in++) {
		unsigned char ch = (unsigned char)*in;
		if (ch == ' ' || ch == '\t') {
			space = n > 0;
			continue;
		}
		if (space)
			out[n++] = ' ';
		space = 0;
		out[n++] = (char)(ch >= 'A' && ch <= 'Z' ? ch + ('a' - 'A') : ch);
	}
	out[n] = 0;
}

static int ident_eq(const char *a, const char *b)
{
	char na[256], nb[256];
	ident_norm(a, na, sizeof(na));
	ident_norm(b, nb, sizeof(nb));
	return na[0] != '\0' && strcmp(na, nb) == 0;
}

int store_same_child(const store_student *on_file, const store_student *s)
{
	return ident_eq(on_file->given_name, s->given_name) &&
	       ident_eq(on_file->family_name, s->family_name) &&
	       strcmp(on_file->birth_date, s->birth_date) == 0 && s->birth_date[0] != '\0';
}

static const char *const held_keys[] = {"from", "packet", "student", "their", "time"};
enum { HK_FROM, HK_PACKET, HK_STUDENT, HK_THEIR, HK_TIME, HK_N };

static void enc_held(struct enc *e, const void *obj)
{
	const store_held *h = obj;
	bti_enc_map(e, HK_N);
	bti_enc_str(e, "from"), bti_enc_str(e, h->from);
	bti_enc_str(e, "packet"), bti_enc_bin(e, h->packet, h->has_packet ? BATON_ID_BYTES : 0);
	bti_enc_str(e, "student"), bti_enc_str(e, h->student);
	bti_enc_str(e, "their"), bti_enc_str(e, h->their_id);
	bti_enc_str(e, "time"), bti_enc_uint(e, h->time);
}

static int dec_held(const uint8_t *key, const uint8_t *p, size_t n, store_held *h)
{
	static const struct dec_limits lim = {1024, 1, 16};
	const msgpack_object *v[HK_N];
	const uint8_t *pk = NULL;
	size_t hn, pn = 0;
	msgpack_zone z;
	msgpack_object o;
	int r = BATON_EIO;

	memset(h, 0, sizeof(*h));
	for (int i = 0; i < 8; i++)
		h->id = h->id << 8 | key[i];
	if (n < 4 ||
	    (hn = (size_t)p[0] << 24 | (size_t)p[1] << 16 | (size_t)p[2] << 8 | p[3]) > n - 4)
		return bti_diag_err(BATON_EIO, "store: damaged held entry %llu",
		                    (unsigned long long)h->id);
	if (!msgpack_zone_init(&z, 512))
		return BATON_ENOMEM;
	if ((r = bti_mp_decode(p + 4, hn, &lim, &z, &o)) == 0 &&
	    (r = bti_mp_fields(&o, "held", held_keys, HK_N, v)) == 0 &&
	    (r = bti_mp_str(v[HK_FROM], "held", "from", 0, h->from, sizeof(h->from))) == 0 &&
	    (r = bti_mp_bin(v[HK_PACKET], "held", "packet", 0, BATON_ID_BYTES, &pk, &pn)) == 0 &&
	    (r = bti_mp_str(v[HK_STUDENT], "held", "student", 1, h->student, sizeof(h->student))) ==
	        0 &&
	    (r = bti_mp_str(v[HK_THEIR], "held", "their", 0, h->their_id, sizeof(h->their_id))) ==
	        0 &&
	    (r = bti_mp_uint(v[HK_TIME], "held", "time", &h->time)) == 0 && pn != 0 &&
	    pn != BATON_ID_BYTES)
		r = BATON_EVALUE;
	if (r == 0 && pn == BATON_ID_BYTES) {
		memcpy(h->packet, pk, BATON_ID_BYTES);
		h->has_packet = 1;
	}
	msgpack_zone_destroy(&z);
	if (r != 0)
		return r == BATON_ENOMEM ? r
		                         : bti_diag_err(BATON_EIO, "store: damaged held entry %llu",
		                                        (unsigned long long)h->id);
	h->len = n - 4 - hn;
	if ((h->json = malloc(h->len + 1)) == NULL)
		return BATON_ENOMEM;
	memcpy(h->json, p + 4 + hn, h->len);
	h->json[h->len] = 0;
	return 0;
}

void store_held_clear(store_held *h)
{
	if (h == NULL || h->json == NULL)
		return;
	sodium_memzero(h->json, h->len);
	free(h->json);
	h->json = NULL;
}

static void held_key(uint8_t key[8], uint64_t id)
{
	for (int i = 0; i < 8; i++)
		key[i] = (uint8_t)(id >> (56 - 8 * i));
}

int store_held_put(store_txn *t, store_held *h, const char *json, size_t len)
{
	uint8_t *enc = NULL, *val = NULL, key[8], *seq = NULL;
	size_t elen, slen;
	int r;

	/* Numbers are never reused: "review accept 3" always means the same record. */
	if ((r = store_meta_get(t, "held_seq", &seq, &slen)) < 0)
		return r;
	uint64_t last = 0;
	if (r == 0 && slen == 8)
		for (int i = 0; i < 8; i++)
			last = last << 8 | seq[i];
	free(seq);
	h->id = last + 1;
	h->time = t->now;
	held_key(key, h->id);
	if ((r = store_meta_put(t, "held_seq", key, 8)) != 0 ||
	    (r = bti_enc_alloc(enc_held, h, &enc, &elen)) != 0)
		return r;
	if ((val = malloc(4 + elen + len)) == NULL) {
		free(enc);
		return BATON_ENOMEM;
	}
	be32(val, (uint32_t)elen);
	memcpy(val + 4, enc, elen);
	memcpy(val + 4 + elen, json, len);
	MDB_val k = {8, key}, v = {4 + elen + len, val};
	r = mdb_call(mdb_put(t->txn, dbi(t, DB_HELD), &k, &v, MDB_NOOVERWRITE), "held");
	sodium_memzero(val, 4 + elen + len);
	free(val);
	free(enc);
	return r;
}

int store_held_get(store_txn *t, uint64_t id, store_held *h)
{
	uint8_t key[8];
	held_key(key, id);
	MDB_val k = {8, key}, v;
	int rc = mdb_get(t->txn, dbi(t, DB_HELD), &k, &v);
	memset(h, 0, sizeof(*h));
	if (rc == MDB_NOTFOUND)
		return 1;
	if (rc != 0)
		return lmdb_err(rc, "held");
	return dec_held(key, v.mv_data, v.mv_size, h);
}

int store_held_del(store_txn *t, uint64_t id)
{
	uint8_t key[8];
	held_key(key, id);
	MDB_val k = {8, key};
	int rc = mdb_del(t->txn, dbi(t, DB_HELD), &k, NULL);
	if (rc == MDB_NOTFOUND)
		return 1;
	return mdb_call(rc, "held");
}

int store_held_each(store_txn *t, store_held_cb cb, void *ctx)
{
	MDB_cursor *cur;
	MDB_val k, v;
	store_held h;
	int rc, r = 0;
	if ((rc = mdb_cursor_open(t->txn, dbi(t, DB_HELD), &cur)) != 0)
		return lmdb_err(rc, "cursor");
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && r == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size != 8)
			continue;
		if ((r = dec_held(k.mv_data, v.mv_data, v.mv_size, &h)) == 0)
			r = cb(&h, ctx);
		store_held_clear(&h);
	}
	mdb_cursor_close(cur);
	return cursor_end(r, rc);
}

int store_student_file(store_txn *t, store_student *s, const char *json, size_t len, store_held *h,
                       int *how)
{
	store_student old;
	int r;

	*how = FILED_NEW;
	if ((r = store_student_get(t, s->id, &old)) < 0)
		return r;
	if (r == 0 && !store_same_child(&old, s)) {
		*how = FILED_HELD;
		snprintf(h->student, sizeof(h->student), "%s", s->id);
		*s = old;
		return store_held_put(t, h, json, len);
	}
	if (r == 0) {
		*how = FILED_VERSION;
		if ((r = store_record_same(t, s->id, json, &old)) < 0)
			return r;
		if (r == 1) {
			*how = FILED_UNCHANGED;
			*s = old;
			return 0;
		}
	}
	return store_student_put(t, s, json, len);
}

/* ---- requests ---- */

static const char *const request_keys[] = {"answer",  "consent", "from",    "hash", "note",
                                           "release", "state",   "student", "time", "want"};
enum {
	RQ_ANSWER,
	RQ_CONSENT,
	RQ_FROM,
	RQ_HASH,
	RQ_NOTE,
	RQ_RELEASE,
	RQ_STATE,
	RQ_STUDENT,
	RQ_TIME,
	RQ_WANT,
	RQ_N
};

static void enc_request(struct enc *e, const void *obj)
{
	const store_request *x = obj;
	bti_enc_map(e, RQ_N);
	bti_enc_str(e, "answer"), bti_enc_str(e, x->answer);
	bti_enc_str(e, "consent"), bti_enc_bin(e, x->consent, x->consent_len);
	bti_enc_str(e, "from"), bti_enc_str(e, x->from);
	bti_enc_str(e, "hash"), bti_enc_bin(e, x->hash, BATON_HASH_BYTES);
	bti_enc_str(e, "note"), bti_enc_str(e, x->note);
	bti_enc_str(e, "release"), bti_enc_bin(e, x->release, BATON_ID_BYTES);
	bti_enc_str(e, "state"), bti_enc_uint(e, (uint64_t)x->state);
	bti_enc_str(e, "student"), bti_enc_str(e, x->student);
	bti_enc_str(e, "time"), bti_enc_uint(e, x->time);
	bti_enc_str(e, "want"), bti_enc_uint(e, x->want);
}

int store_request_put(store_txn *t, const store_request *x)
{
	uint8_t *enc;
	size_t elen;
	int r;
	if ((r = bti_enc_alloc(enc_request, x, &enc, &elen)) != 0)
		return r;
	MDB_val k = {BATON_ID_BYTES, (void *)(uintptr_t)x->id}, v = {elen, enc};
	r = mdb_call(mdb_put(t->txn, dbi(t, DB_REQUESTS), &k, &v, 0), "requests");
	free(enc);
	return r;
}

static int dec_request(const uint8_t *id, const uint8_t *p, size_t n, store_request *x)
{
	static const struct dec_limits lim = {BATON_OBJ_MAX + 2048, 1, 32};
	const msgpack_object *v[RQ_N];
	const uint8_t *b;
	uint64_t state, want;
	msgpack_zone z;
	msgpack_object o;
	int r;

	memset(x, 0, sizeof(*x));
	memcpy(x->id, id, BATON_ID_BYTES);
	if (!msgpack_zone_init(&z, 512))
		return BATON_ENOMEM;
	if ((r = bti_mp_decode(p, n, &lim, &z, &o)) == 0 &&
	    (r = bti_mp_fields(&o, "request", request_keys, RQ_N, v)) == 0 &&
	    (r = bti_mp_str(v[RQ_ANSWER], "request", "answer", 0, x->answer, sizeof(x->answer))) ==
	        0 &&
	    (r = bti_mp_bin(v[RQ_CONSENT], "request", "consent", 1, BATON_OBJ_MAX, &b,
	                    &x->consent_len)) == 0 &&
	    (r = bti_mp_str(v[RQ_FROM], "request", "from", 1, x->from, sizeof(x->from))) == 0 &&
	    (r = bti_mp_fixbin(v[RQ_HASH], "request", "hash", x->hash, BATON_HASH_BYTES)) == 0 &&
	    (r = bti_mp_str(v[RQ_NOTE], "request", "note", 0, x->note, sizeof(x->note))) == 0 &&
	    (r = bti_mp_fixbin(v[RQ_RELEASE], "request", "release", x->release, BATON_ID_BYTES)) ==
	        0 &&
	    (r = bti_mp_uint(v[RQ_STATE], "request", "state", &state)) == 0 &&
	    (r = bti_mp_str(v[RQ_STUDENT], "request", "student", 1, x->student,
	                    sizeof(x->student))) == 0 &&
	    (r = bti_mp_uint(v[RQ_TIME], "request", "time", &x->time)) == 0 &&
	    (r = bti_mp_uint(v[RQ_WANT], "request", "want", &want)) == 0) {
		x->state = (int)state;
		x->want = (uint32_t)want;
		memcpy(x->consent, b, x->consent_len);
	}
	msgpack_zone_destroy(&z);
	return r ? bti_diag_err(BATON_EIO, "store: damaged request entry") : 0;
}

int store_request_get(store_txn *t, const uint8_t id[BATON_ID_BYTES], store_request *x)
{
	MDB_val k = {BATON_ID_BYTES, (void *)(uintptr_t)id}, v;
	int rc = mdb_get(t->txn, dbi(t, DB_REQUESTS), &k, &v);
	memset(x, 0, sizeof(*x));
	if (rc == MDB_NOTFOUND)
		return 1;
	if (rc != 0)
		return lmdb_err(rc, "requests");
	return dec_request(id, v.mv_data, v.mv_size, x);
}

int store_request_each(store_txn *t, store_request_cb cb, void *ctx)
{
	MDB_cursor *cur;
	MDB_val k, v;
	int rc, r = 0;
	store_request *x = malloc(sizeof(*x));
	if (x == NULL)
		return BATON_ENOMEM;
	if ((rc = mdb_cursor_open(t->txn, dbi(t, DB_REQUESTS), &cur)) != 0) {
		free(x);
		return lmdb_err(rc, "cursor");
	}
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && r == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size != BATON_ID_BYTES)
			continue;
		if ((r = dec_request(k.mv_data, v.mv_data, v.mv_size, x)) == 0)
			r = cb(x, ctx);
	}
	mdb_cursor_close(cur);
	free(x);
	return cursor_end(r, rc);
}

/* ---- audit ---- */

static const char *const audit_keys[] = {"action", "consent",  "detail", "packet",  "peer",
                                         "prev",   "sections", "seq",    "student", "time"};
enum {
	AU_ACTION,
	AU_CONSENT,
	AU_DETAIL,
	AU_PACKET,
	AU_PEER,
	AU_PREV,
	AU_SECTIONS,
	AU_SEQ,
	AU_STUDENT,
	AU_TIME,
	AU_N
};

static void enc_audit(struct enc *e, const void *obj)
{
	const store_audit *a = obj;
	/* action, prev, seq and time always; the rest when present. */
	uint32_t n = 4 + (a->has_consent != 0) + (a->detail[0] != 0) + (a->has_packet != 0) +
	             (a->peer[0] != 0) + (a->sections != 0) + (a->student[0] != 0);
	bti_enc_map(e, n);
	bti_enc_str(e, "action"), bti_enc_str(e, a->action);
	if (a->has_consent)
		bti_enc_str(e, "consent"), bti_enc_bin(e, a->consent, BATON_ID_BYTES);
	if (a->detail[0])
		bti_enc_str(e, "detail"), bti_enc_str(e, a->detail);
	if (a->has_packet)
		bti_enc_str(e, "packet"), bti_enc_bin(e, a->packet, BATON_ID_BYTES);
	if (a->peer[0])
		bti_enc_str(e, "peer"), bti_enc_str(e, a->peer);
	bti_enc_str(e, "prev"), bti_enc_bin(e, a->prev, 32);
	if (a->sections)
		bti_enc_str(e, "sections"), bti_enc_sections(e, a->sections);
	bti_enc_str(e, "seq"), bti_enc_uint(e, a->seq);
	if (a->student[0])
		bti_enc_str(e, "student"), bti_enc_str(e, a->student);
	bti_enc_str(e, "time"), bti_enc_uint(e, a->time);
}

static void audit_hash(uint8_t out[32], const uint8_t *entry, size_t len)
{
	crypto_generichash_state st;
	crypto_generichash_init(&st, NULL, 0, 32);
	crypto_generichash_update(&st, (const uint8_t *)AUDIT_DOMAIN, sizeof(AUDIT_DOMAIN));
	crypto_generichash_update(&st, entry, len);
	crypto_generichash_final(&st, out, 32);
}

static int dec_audit(const uint8_t *p, size_t n, store_audit *a)
{
	static const struct dec_limits lim = {4096, 2, 64};
	const msgpack_object *v[AU_N];
	msgpack_zone z;
	msgpack_object o;
	int r;

	memset(a, 0, sizeof(*a));
	if (n < 32)
		return bti_diag_err(BATON_EHASH, "audit entry too short");
	memcpy(a->hash, p + n - 32, 32);
	if (!msgpack_zone_init(&z, 512))
		return BATON_ENOMEM;
	if ((r = bti_mp_decode(p, n - 32, &lim, &z, &o)) != 0 ||
	    (r = bti_mp_fields(&o, "audit", audit_keys, AU_N, v)) != 0 ||
	    (r = bti_mp_str(v[AU_ACTION], "audit", "action", 1, a->action, sizeof(a->action))) !=
	        0 ||
	    (v[AU_CONSENT] && (r = bti_mp_fixbin(v[AU_CONSENT], "audit", "consent", a->consent,
	                                         BATON_ID_BYTES)) != 0) ||
	    (v[AU_DETAIL] && (r = bti_mp_str(v[AU_DETAIL], "audit", "detail", 1, a->detail,
	                                     sizeof(a->detail))) != 0) ||
	    (v[AU_PACKET] && (r = bti_mp_fixbin(v[AU_PACKET], "audit", "packet", a->packet,
	                                        BATON_ID_BYTES)) != 0) ||
	    (v[AU_PEER] &&
	     (r = bti_mp_str(v[AU_PEER], "audit", "peer", 1, a->peer, sizeof(a->peer))) != 0) ||
	    (r = bti_mp_fixbin(v[AU_PREV], "audit", "prev", a->prev, 32)) != 0 ||
	    (v[AU_SECTIONS] &&
	     (r = bti_mp_sections(v[AU_SECTIONS], "audit", "sections", &a->sections)) != 0) ||
	    (r = bti_mp_uint(v[AU_SEQ], "audit", "seq", &a->seq)) != 0 ||
	    (v[AU_STUDENT] && (r = bti_mp_str(v[AU_STUDENT], "audit", "student", 1, a->student,
	                                      sizeof(a->student))) != 0) ||
	    (r = bti_mp_uint(v[AU_TIME], "audit", "time", &a->time)) != 0)
		goto out;
	a->has_consent = v[AU_CONSENT] != NULL;
	a->has_packet = v[AU_PACKET] != NULL;
out:
	msgpack_zone_destroy(&z);
	return r;
}

static int audit_last(store_txn *t, uint64_t *seq, uint8_t hash[32])
{
	MDB_cursor *c;
	MDB_val k, v;
	int rc;
	*seq = 0;
	memset(hash, 0, 32);
	if ((rc = mdb_cursor_open(t->txn, dbi(t, DB_AUDIT), &c)) != 0)
		return lmdb_err(rc, "cursor");
	rc = mdb_cursor_get(c, &k, &v, MDB_LAST);
	if (rc == 0 && k.mv_size == 8 && v.mv_size >= 32) {
		*seq = get_be64(k.mv_data);
		memcpy(hash, (const uint8_t *)v.mv_data + v.mv_size - 32, 32);
	}
	mdb_cursor_close(c);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return lmdb_err(rc, "audit");
	return 0;
}

int store_audit_append(store_txn *t, store_audit *e)
{
	uint8_t *enc = NULL, key[8], ikey[BATON_STUDENT_MAX + 10];
	size_t elen;
	int r;

	if ((r = audit_last(t, &e->seq, e->prev)) != 0)
		return r;
	e->seq++;
	e->time = t->now;
	if ((r = bti_enc_alloc(enc_audit, e, &enc, &elen)) != 0)
		return r;
	uint8_t *val = malloc(elen + 32);
	/* Never append what audit verify could not read back. */
	if (val != NULL) {
		store_audit back;
		memcpy(val, enc, elen);
		memset(val + elen, 0, 32);
		if ((r = dec_audit(val, elen + 32, &back)) != 0) {
			free(enc);
			free(val);
			return r == BATON_ENOMEM
			           ? r
			           : bti_diag_err(BATON_EINTERNAL, "audit entry does not decode");
		}
	}
	if (val == NULL) {
		free(enc);
		return BATON_ENOMEM;
	}
	audit_hash(e->hash, enc, elen);
	memcpy(val, enc, elen);
	memcpy(val + elen, e->hash, 32);
	put_be64(key, e->seq);
	MDB_val k = {8, key}, v = {elen + 32, val};
	r = mdb_call(mdb_put(t->txn, dbi(t, DB_AUDIT), &k, &v, MDB_APPEND), "audit");
	/* The head (last sequence and hash), so that verify notices entries cut off the end. */
	if (r == 0) {
		uint8_t head[40];
		memcpy(head, key, 8);
		memcpy(head + 8, e->hash, 32);
		r = store_meta_put(t, "audit_head", head, sizeof(head));
	}
	if (r == 0 && e->student[0]) {
		size_t klen = join_key(ikey, sizeof(ikey), e->student, key, 8);
		MDB_val ik = {klen, ikey}, iv = {0, NULL};
		r = mdb_call(mdb_put(t->txn, dbi(t, DB_AUDIT_BY_STUDENT), &ik, &iv, 0), "audit");
	}
	free(enc);
	free(val);
	return r;
}

static int audit_get(store_txn *t, uint64_t seq, store_audit *a)
{
	uint8_t key[8];
	put_be64(key, seq);
	MDB_val k = {8, key}, v;
	int rc = mdb_get(t->txn, dbi(t, DB_AUDIT), &k, &v);
	if (rc != 0)
		return lmdb_err(rc, "audit");
	return dec_audit(v.mv_data, v.mv_size, a);
}

int store_audit_each(store_txn *t, const char *student, store_audit_cb cb, void *ctx)
{
	MDB_cursor *c;
	MDB_val k, v;
	int rc, r = 0;
	store_audit a;

	if (student == NULL) {
		if ((rc = mdb_cursor_open(t->txn, dbi(t, DB_AUDIT), &c)) != 0)
			return lmdb_err(rc, "cursor");
		for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0 && r == 0;
		     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT))
			if ((r = dec_audit(v.mv_data, v.mv_size, &a)) == 0)
				r = cb(&a, ctx);
		mdb_cursor_close(c);
		return r;
	}
	uint8_t prefix[BATON_STUDENT_MAX + 2];
	size_t plen = strlen(student) + 1;
	if (plen > sizeof(prefix))
		return BATON_EINVAL;
	memcpy(prefix, student, plen);
	if ((rc = mdb_cursor_open(t->txn, dbi(t, DB_AUDIT_BY_STUDENT), &c)) != 0)
		return lmdb_err(rc, "cursor");
	k.mv_size = plen;
	k.mv_data = prefix;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0 && r == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size != plen + 8 || memcmp(k.mv_data, prefix, plen) != 0)
			break;
		if ((r = audit_get(t, get_be64((const uint8_t *)k.mv_data + plen), &a)) == 0)
			r = cb(&a, ctx);
	}
	mdb_cursor_close(c);
	return cursor_end(r, rc);
}

/* 0 when entry a is in its student's index, 1 when not. */
static int audit_indexed(store_txn *t, const store_audit *a)
{
	uint8_t key[BATON_STUDENT_MAX + 10], seq[8];
	MDB_val k, v;
	int rc;
	put_be64(seq, a->seq);
	if ((k.mv_size = join_key(key, sizeof(key), a->student, seq, 8)) == 0)
		return bti_diag_err(BATON_EHASH, "entry %llu names a student id too long",
		                    (unsigned long long)a->seq);
	k.mv_data = key;
	if ((rc = mdb_get(t->txn, dbi(t, DB_AUDIT_BY_STUDENT), &k, &v)) == MDB_NOTFOUND)
		return 1;
	return rc ? lmdb_err(rc, "audit index") : 0;
}

/*
 * The per-student index holds nothing but the log's entries: as many keys as
 * entries about a student (each of which was found in it), each naming an
 * entry about that student.
 */
static int index_only_log(store_txn *t, uint64_t students, uint64_t *bad)
{
	MDB_cursor *c;
	MDB_val k, v;
	uint64_t n = 0;
	int rc, r = 0;
	store_audit a;

	if ((rc = mdb_cursor_open(t->txn, dbi(t, DB_AUDIT_BY_STUDENT), &c)) != 0)
		return lmdb_err(rc, "cursor");
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0 && r == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT), n++) {
		const uint8_t *p = k.mv_data;
		size_t sl = k.mv_size >= 9 ? k.mv_size - 9 : 0;
		if (k.mv_size < 10 || p[sl] != 0 || memchr(p, 0, sl) != NULL) {
			r = bti_diag_err(BATON_EHASH, "the per-student index has a damaged key");
			break;
		}
		uint64_t seq = get_be64(p + sl + 1);
		if ((r = audit_get(t, seq, &a)) != 0 || strlen(a.student) != sl ||
		    memcmp(a.student, p, sl) != 0) {
			*bad = seq;
			r = bti_diag_err(
			    BATON_EHASH,
			    "the index of student %.*s names entry %llu, which is not about "
			    "that student",
			    (int)sl, (const char *)p, (unsigned long long)seq);
		}
	}
	mdb_cursor_close(c);
	if (r == 0 && rc != MDB_NOTFOUND)
		r = lmdb_err(rc, "audit index");
	if (r == 0 && n != students)
		r = bti_diag_err(BATON_EHASH, "the per-student index has %llu entries for %llu",
		                 (unsigned long long)n, (unsigned long long)students);
	return r;
}

int store_audit_verify(store_txn *t, uint64_t *bad, uint64_t *count)
{
	MDB_cursor *c;
	MDB_val k, v;
	uint8_t prev[32] = {0}, h[32];
	uint64_t expect = 1, students = 0;
	int rc, r = 0;
	store_audit a;

	*bad = 0;
	*count = 0;
	if ((rc = mdb_cursor_open(t->txn, dbi(t, DB_AUDIT), &c)) != 0)
		return lmdb_err(rc, "cursor");
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT), expect++) {
		uint64_t key = k.mv_size == 8 ? get_be64(k.mv_data) : 0;
		if (key != expect) {
			r = bti_diag_err(BATON_EHASH, "entry %llu is missing (found %llu next)",
			                 (unsigned long long)expect, (unsigned long long)key);
			break;
		}
		if (dec_audit(v.mv_data, v.mv_size, &a) != 0) {
			r = bti_diag_err(BATON_EHASH, "entry %llu does not decode",
			                 (unsigned long long)key);
			break;
		}
		audit_hash(h, v.mv_data, v.mv_size - 32);
		if (a.seq != key) {
			r = bti_diag_err(BATON_EHASH, "entry %llu says it is entry %llu",
			                 (unsigned long long)key, (unsigned long long)a.seq);
			break;
		}
		if (sodium_memcmp(a.prev, prev, 32) != 0) {
			r = bti_diag_err(BATON_EHASH,
			                 "entry %llu does not follow entry %llu (chain broken)",
			                 (unsigned long long)key, (unsigned long long)key - 1);
			break;
		}
		if (sodium_memcmp(h, a.hash, 32) != 0) {
			r = bti_diag_err(BATON_EHASH, "entry %llu was changed (hash mismatch)",
			                 (unsigned long long)key);
			break;
		}
		/* Each entry about a student is in that student's index (what audit --student
		 * reads). */
		if (a.student[0] && (r = audit_indexed(t, &a)) != 0) {
			if (r == 1)
				r = bti_diag_err(
				    BATON_EHASH,
				    "entry %llu is missing from the index of student %s",
				    (unsigned long long)key, a.student);
			break;
		}
		memcpy(prev, a.hash, 32);
		(*count)++;
		students += a.student[0] != 0;
	}
	mdb_cursor_close(c);
	if (r != 0) {
		*bad = expect;
		return r;
	}
	if (rc != MDB_NOTFOUND)
		return lmdb_err(rc, "audit");
	uint8_t *head;
	size_t hlen;
	if ((r = store_meta_get(t, "audit_head", &head, &hlen)) < 0)
		return r;
	uint64_t last = r == 0 && hlen == 40 ? get_be64(head) : 0;
	int match =
	    r == 0 && hlen == 40 && last == *count && sodium_memcmp(head + 8, prev, 32) == 0;
	free(head);
	if (!match && (*count > 0 || last > 0)) {
		*bad = *count + 1;
		return bti_diag_err(
		    BATON_EHASH,
		    "the log ends at entry %llu but was last written at entry %llu: "
		    "entries were removed from the end",
		    (unsigned long long)*count, (unsigned long long)last);
	}
	return index_only_log(t, students, bad);
}

/* ---- signed audit heads ---- */

#define HEAD_PREFIX "audit_sig" /* meta: HEAD_PREFIX count(u64 BE) -> signed head */
/* meta: ROT_PREFIX time(u64 BE) -> the log's length then (u64 BE) and the rotation statement */
#define ROT_PREFIX  "audit_rot"
#define PEER_PREFIX "peer_head/" /* meta: PEER_PREFIX school code -> signed head */
#define PREFIX_LEN  (sizeof(HEAD_PREFIX) - 1)
#define MAX_KEYS    64

void store_set_audit_signer(store *s, const baton_key *k)
{
	s->signer = k;
}

static void seq_key(uint8_t out[PREFIX_LEN + 8], const char *prefix, uint64_t n)
{
	memcpy(out, prefix, PREFIX_LEN);
	put_be64(out + PREFIX_LEN, n);
}

/* Whether a stored head names pk as its signer: its canonical "key" field. */
static int signed_by(const MDB_val *v, const uint8_t pk[32])
{
	uint8_t field[6 + 32] = {0xa3, 'k', 'e', 'y', 0xc4, 0x20};
	memcpy(field + 6, pk, 32);
	return memmem(v->mv_data, v->mv_size, field, sizeof(field)) != NULL;
}

int store_audit_sign(store_txn *t, const baton_key *k, int *signed_now)
{
	baton_audit_head h;
	uint8_t key[PREFIX_LEN + 8], *obj = NULL;
	size_t olen = 0;
	MDB_val mk = {sizeof(key), key}, mv;
	int rc, r;

	if (signed_now)
		*signed_now = 0;
	memset(&h, 0, sizeof(h));
	if ((r = audit_last(t, &h.count, h.head)) != 0 || h.count == 0)
		return r;
	seq_key(key, HEAD_PREFIX, h.count);
	memcpy(h.key, baton_key_id_pk(k), BATON_PK_BYTES);
	rc = mdb_get(t->txn, dbi(t, DB_META), &mk, &mv);
	/* Signed already by this key (after a rekey the new key signs again). */
	if (rc == 0 && signed_by(&mv, h.key))
		return 0;
	if (rc != 0 && rc != MDB_NOTFOUND)
		return lmdb_err(rc, "audit head");
	h.time = t->now;
	if ((r = baton_audit_head_sign(&h, baton_key_id_sk(k), &obj, &olen)) != 0)
		return r;
	mv.mv_size = olen;
	mv.mv_data = obj;
	r = mdb_call(mdb_put(t->txn, dbi(t, DB_META), &mk, &mv, 0), "audit head");
	free(obj);
	if (r == 0 && signed_now)
		*signed_now = 1;
	return r;
}

int store_audit_signed(store_txn *t, int *yes)
{
	uint8_t key[PREFIX_LEN + 8], hash[32];
	uint64_t count;
	MDB_val mk = {sizeof(key), key}, mv;
	int rc, r;

	*yes = 1;
	if ((r = audit_last(t, &count, hash)) != 0 || count == 0)
		return r;
	seq_key(key, HEAD_PREFIX, count);
	if ((rc = mdb_get(t->txn, dbi(t, DB_META), &mk, &mv)) == MDB_NOTFOUND)
		*yes = 0;
	return rc == 0 || rc == MDB_NOTFOUND ? 0 : lmdb_err(rc, "audit head");
}

int store_audit_head(store_txn *t, uint8_t **out, size_t *len)
{
	MDB_cursor *c;
	MDB_val k, v;
	uint8_t key[PREFIX_LEN + 8];
	int rc, r = 1;

	*out = NULL;
	*len = 0;
	seq_key(key, HEAD_PREFIX, UINT64_MAX);
	k.mv_size = sizeof(key);
	k.mv_data = key;
	if ((rc = mdb_cursor_open(t->txn, dbi(t, DB_META), &c)) != 0)
		return lmdb_err(rc, "cursor");
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	rc = rc == 0 && k.mv_size == sizeof(key) && memcmp(k.mv_data, key, sizeof(key)) == 0
	         ? 0
	         : mdb_cursor_get(c, &k, &v, rc == MDB_NOTFOUND ? MDB_LAST : MDB_PREV);
	if (rc == 0 && k.mv_size == sizeof(key) &&
	    memcmp(k.mv_data, HEAD_PREFIX, PREFIX_LEN) == 0) {
		if ((*out = malloc(v.mv_size)) == NULL) {
			r = BATON_ENOMEM;
		} else {
			memcpy(*out, v.mv_data, v.mv_size);
			*len = v.mv_size;
			r = 0;
		}
	} else if (rc != 0 && rc != MDB_NOTFOUND) {
		r = lmdb_err(rc, "audit head");
	}
	mdb_cursor_close(c);
	return r;
}

int store_audit_keep_rotation(store_txn *t, const uint8_t *rot, size_t len)
{
	baton_rotation rt;
	uint8_t key[PREFIX_LEN + 8], *val, hash[32];
	uint64_t count;
	int r;
	if ((r = baton_rotation_parse(rot, len, &rt)) != 0 ||
	    (r = audit_last(t, &count, hash)) != 0)
		return r;
	if ((val = malloc(8 + len)) == NULL)
		return BATON_ENOMEM;
	/* The replaced key's heads count only up to here (and the rekey's own entry). */
	put_be64(val, count + 1);
	memcpy(val + 8, rot, len);
	seq_key(key, ROT_PREFIX, rt.time);
	MDB_val k = {sizeof(key), key}, v = {8 + len, val};
	r = mdb_call(mdb_put(t->txn, dbi(t, DB_META), &k, &v, 0), "rotation");
	free(val);
	return r;
}

/* This school's keys, each with the last entry a head it signs may cover. */
struct keyset {
	uint8_t k[MAX_KEYS][32];
	uint64_t until[MAX_KEYS];
	size_t n;
};

/* The index of pk in ks, or -1. */
static int keyset_find(const struct keyset *ks, const uint8_t pk[32])
{
	for (size_t i = 0; i < ks->n; i++)
		if (memcmp(ks->k[i], pk, 32) == 0)
			return (int)i;
	return -1;
}

/* Adds rt's old key, good for heads up to entry until, when its new key is trusted; 1 when the set
 * grew. */
static int keyset_follow(struct keyset *ks, const uint8_t *p, size_t n, uint64_t until)
{
	baton_rotation rt;
	if (baton_rotation_parse(p, n, &rt) != 0 || keyset_find(ks, rt.new_pk) < 0 ||
	    keyset_find(ks, rt.old_pk) >= 0 || ks->n == MAX_KEYS)
		return 0;
	ks->until[ks->n] = until;
	memcpy(ks->k[ks->n++], rt.old_pk, 32);
	return 1;
}

/*
 * This school's keys: the one on its card, and every earlier key from which
 * a rotation statement (signed by that earlier key) leads to a trusted one.
 * An earlier key signs heads only up to the entry of the rekey that replaced
 * it: whoever still holds it cannot sign a rewritten log past that point.
 * A key replaced before rotations were kept with the log's length signs none.
 */
static int school_keys(store_txn *t, struct keyset *ks)
{
	baton_card card;
	MDB_cursor *c;
	MDB_val k, v;
	uint8_t *rot = NULL;
	size_t rlen = 0;
	int rc, r, grew = 1;

	ks->n = 0;
	if ((r = store_own_card(t, &card)) != 0)
		return r == 1 ? bti_diag_err(BATON_EIO, "this node has no card") : r;
	ks->until[ks->n] = UINT64_MAX;
	memcpy(ks->k[ks->n++], card.id_pk, 32);
	if ((r = store_meta_get(t, "rotation", &rot, &rlen)) < 0)
		return r;
	if ((rc = mdb_cursor_open(t->txn, dbi(t, DB_META), &c)) != 0) {
		free(rot);
		return lmdb_err(rc, "cursor");
	}
	while (grew) {
		grew = 0;
		k.mv_size = PREFIX_LEN;
		k.mv_data = (void *)(uintptr_t)ROT_PREFIX;
		for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
		     rc == 0 && k.mv_size == PREFIX_LEN + 8 &&
		     memcmp(k.mv_data, ROT_PREFIX, PREFIX_LEN) == 0;
		     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT))
			if (v.mv_size > 8)
				grew |= keyset_follow(ks, (const uint8_t *)v.mv_data + 8,
				                      v.mv_size - 8, get_be64(v.mv_data));
		if (!grew && rot)
			grew = keyset_follow(ks, rot, rlen, 0);
	}
	mdb_cursor_close(c);
	free(rot);
	return 0;
}

/* Checks one stored head against the log; on failure *bad is its position. */
static int head_holds(store_txn *t, const struct keyset *ks, uint64_t at, const MDB_val *v,
                      uint64_t count, baton_audit_head *h)
{
	char fp[BATON_FINGERPRINT_LEN + 1];
	store_audit a;
	int r;

	if ((r = baton_audit_head_parse(v->mv_data, v->mv_size, h)) != 0)
		return bti_diag_err(r == BATON_EBADSIG ? BATON_EBADSIG : BATON_EHASH,
		                    "the head signed at entry %llu does not verify: %s",
		                    (unsigned long long)at, baton_diag());
	if (h->count != at)
		return bti_diag_err(BATON_EHASH, "the head kept at entry %llu names entry %llu",
		                    (unsigned long long)at, (unsigned long long)h->count);
	int i = keyset_find(ks, h->key);
	baton_fingerprint(h->key, fp);
	if (i < 0)
		return bti_diag_err(
		    BATON_EBADSIG,
		    "the head signed at entry %llu is signed by %s, which is neither "
		    "this school's key nor one it rotated from",
		    (unsigned long long)at, fp);
	if (at > ks->until[i])
		return bti_diag_err(
		    BATON_EBADSIG,
		    "the head signed at entry %llu is signed by %s, which this school "
		    "replaced at entry %llu: a later head must be signed by the key "
		    "that replaced it",
		    (unsigned long long)at, fp, (unsigned long long)ks->until[i]);
	if (at > count)
		return bti_diag_err(BATON_EHASH,
		                    "the head signed at entry %llu names entries the log no longer "
		                    "has (it ends at entry %llu)",
		                    (unsigned long long)at, (unsigned long long)count);
	if ((r = audit_get(t, at, &a)) != 0)
		return r;
	if (sodium_memcmp(a.hash, h->head, 32) != 0)
		return bti_diag_err(
		    BATON_EHASH,
		    "the head signed at entry %llu does not match the log: entries up "
		    "to %llu were rewritten after they were signed",
		    (unsigned long long)at, (unsigned long long)at);
	return 0;
}

int store_audit_verify_heads(store_txn *t, uint64_t count, store_audit_heads *hs, uint64_t *bad)
{
	struct keyset *ks;
	baton_audit_head h;
	MDB_cursor *c;
	MDB_val k, v;
	int rc, r;

	memset(hs, 0, sizeof(*hs));
	*bad = 0;
	if ((ks = malloc(sizeof(*ks))) == NULL)
		return BATON_ENOMEM;
	if ((r = school_keys(t, ks)) != 0)
		goto out;
	if ((rc = mdb_cursor_open(t->txn, dbi(t, DB_META), &c)) != 0) {
		r = lmdb_err(rc, "cursor");
		goto out;
	}
	k.mv_size = PREFIX_LEN;
	k.mv_data = (void *)(uintptr_t)HEAD_PREFIX;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	     rc == 0 && k.mv_size == PREFIX_LEN + 8 &&
	     memcmp(k.mv_data, HEAD_PREFIX, PREFIX_LEN) == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		uint64_t at = get_be64((const uint8_t *)k.mv_data + PREFIX_LEN);
		if ((r = head_holds(t, ks, at, &v, count, &h)) != 0) {
			*bad = at;
			break;
		}
		hs->heads++;
		hs->signed_through = at;
		memcpy(hs->key, h.key, 32);
	}
	mdb_cursor_close(c);
	if (r == 0 && rc != 0 && rc != MDB_NOTFOUND)
		r = lmdb_err(rc, "audit heads");
	/* Whoever still holds a replaced key must not be able to sign the log's end. */
	if (r == 0 && hs->heads > 0 && memcmp(hs->key, ks->k[0], 32) != 0) {
		char fp[BATON_FINGERPRINT_LEN + 1];
		baton_fingerprint(hs->key, fp);
		*bad = hs->signed_through;
		r = bti_diag_err(BATON_EBADSIG,
		                 "the latest head (entry %llu) is signed by %s, a key this school "
		                 "replaced: its current key signs the log's end",
		                 (unsigned long long)hs->signed_through, fp);
	}
out:
	free(ks);
	return r;
}

int store_audit_check_head(store_txn *t, const uint8_t *head, size_t len, uint64_t count,
                           uint64_t *at)
{
	struct keyset *ks;
	baton_audit_head h;
	MDB_val v = {len, (void *)(uintptr_t)head};
	int r;

	*at = 0;
	if ((r = baton_audit_head_parse(head, len, &h)) != 0)
		return r;
	*at = h.count;
	if ((ks = malloc(sizeof(*ks))) == NULL)
		return BATON_ENOMEM;
	if ((r = school_keys(t, ks)) == 0)
		r = head_holds(t, ks, h.count, &v, count, &h);
	free(ks);
	return r;
}

int store_peer_head_put(store_txn *t, const char *code, const uint8_t *head, size_t len)
{
	baton_audit_head neu, old;
	char key[sizeof(PEER_PREFIX) + BATON_CODE_MAX];
	uint8_t *p = NULL;
	size_t n = 0;
	int r;

	if ((r = baton_audit_head_parse(head, len, &neu)) != 0)
		return r;
	snprintf(key, sizeof(key), "%s%s", PEER_PREFIX, code);
	if ((r = store_meta_get(t, key, &p, &n)) < 0)
		return r;
	int newer = r == 1 || baton_audit_head_parse(p, n, &old) != 0 || old.count < neu.count;
	free(p);
	return newer ? store_meta_put(t, key, head, len) : 0;
}

int store_peer_head_each(store_txn *t, store_peer_head_cb cb, void *ctx)
{
	char code[BATON_CODE_MAX + 1];
	size_t pl = sizeof(PEER_PREFIX) - 1;
	MDB_cursor *c;
	MDB_val k, v;
	int rc, r = 0;

	if ((rc = mdb_cursor_open(t->txn, dbi(t, DB_META), &c)) != 0)
		return lmdb_err(rc, "cursor");
	k.mv_size = pl;
	k.mv_data = (void *)(uintptr_t)PEER_PREFIX;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	     rc == 0 && r == 0 && k.mv_size > pl && memcmp(k.mv_data, PEER_PREFIX, pl) == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size - pl > BATON_CODE_MAX)
			continue;
		memcpy(code, (const uint8_t *)k.mv_data + pl, k.mv_size - pl);
		code[k.mv_size - pl] = 0;
		r = cb(code, v.mv_data, v.mv_size, ctx);
	}
	mdb_cursor_close(c);
	return cursor_end(r, rc);
}

int store_audit_count(store_txn *t, uint64_t *n)
{
	MDB_stat st;
	int rc = mdb_stat(t->txn, dbi(t, DB_AUDIT), &st);
	*n = rc == 0 ? st.ms_entries : 0;
	return rc == 0 ? 0 : lmdb_err(rc, "stat");
}
