/*
 * Copies of the store taken beside a running node, the schema version read
 * without writing, and the refusal to upgrade an older schema unasked.
 * See the backup section of store.h for the contract.
 *
 * A copy opens the environment read-only (MDB_RDONLY: no write
 * transaction, no WRITEMAP, so the file is never resized or written) and
 * takes one read transaction: LMDB lets that reader stand beside the
 * writer of another process, which goes on committing while the copy sees
 * one snapshot.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store_impl.h"

/* Named tables an environment may hold: enough for every schema so far. */
#define COPY_MAXDBS 64
/* A writer of another process may grow the map while a copy starts: retries. */
#define COPY_TRIES 8

static int env_err(int rc, const char *path)
{
	return bti_diag_err(rc == ENOMEM ? BATON_ENOMEM : BATON_EIO, "store: %s: %s", path,
	                    mdb_strerror(rc));
}

/* Opens path read-only (flags: MDB_NOSUBDIR | MDB_NOLOCK for a lone copy). */
static int env_open_ro(const char *path, unsigned flags, MDB_env **out)
{
	MDB_env *env = NULL;
	int rc, dead = 0;

	*out = NULL;
	if ((rc = mdb_env_create(&env)) != 0)
		return env_err(rc, path);
	if ((rc = mdb_env_set_maxdbs(env, COPY_MAXDBS)) != 0 ||
	    (rc = mdb_env_open(env, path, MDB_RDONLY | flags, 0600)) != 0) {
		mdb_env_close(env);
		return env_err(rc, path);
	}
	/* Reader slots left by processes that died (a backup killed midway among them). */
	if (!(flags & MDB_NOLOCK))
		mdb_reader_check(env, &dead);
	*out = env;
	return 0;
}

/* A read transaction; adopts a map another process has grown meanwhile. */
static int begin_ro(MDB_env *env, const char *path, MDB_txn **txn)
{
	int rc = MDB_MAP_RESIZED;
	for (int i = 0; i < COPY_TRIES && rc == MDB_MAP_RESIZED; i++)
		if ((rc = mdb_txn_begin(env, NULL, MDB_RDONLY, txn)) == MDB_MAP_RESIZED)
			mdb_env_set_mapsize(env, 0);
	return rc ? env_err(rc, path) : 0;
}

/* The meta table's value for key, pointing into the txn's map; BATON_ENOTFOUND when absent. */
static int meta_get(MDB_txn *txn, const char *path, const char *key, MDB_val *v)
{
	MDB_dbi dbi;
	MDB_val k = {strlen(key), (void *)(uintptr_t)key};
	int rc;

	if ((rc = mdb_dbi_open(txn, "meta", 0, &dbi)) != 0 || (rc = mdb_get(txn, dbi, &k, v)) != 0)
		return rc == MDB_NOTFOUND ? BATON_ENOTFOUND : env_err(rc, path);
	return 0;
}

static int schema_in(MDB_txn *txn, const char *path, uint32_t *version)
{
	MDB_val v;
	int r = meta_get(txn, path, "schema", &v);
	if (r == BATON_ENOTFOUND || (r == 0 && v.mv_size != 4))
		return bti_diag_err(BATON_EIO, "store: %s: no schema version", path);
	if (r != 0)
		return r;
	const uint8_t *p = v.mv_data;
	*version = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
	return 0;
}

static int db_path(const char *dir, char *path, size_t cap)
{
	struct stat st;
	if (snprintf(path, cap, "%s/db", dir) >= (int)cap)
		return bti_diag_err(BATON_EINVAL, "%s: path too long", dir);
	if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
		return bti_diag_err(BATON_EIO, "%s: no Baton node here (no store in %s)", dir,
		                    path);
	return 0;
}

int store_schema_of(const char *dir, uint32_t *version)
{
	char path[4096];
	MDB_env *env = NULL;
	MDB_txn *txn = NULL;
	int r;

	int lockfd = -1;

	*version = 0;
	if ((r = db_path(dir, path, sizeof(path))) != 0 ||
	    (r = store_lock_dir(path, 0, &lockfd)) != 0 || (r = env_open_ro(path, 0, &env)) != 0 ||
	    (r = begin_ro(env, path, &txn)) != 0)
		goto out;
	r = schema_in(txn, path, version);
out:
	if (txn)
		mdb_txn_abort(txn);
	if (env)
		mdb_env_close(env);
	if (lockfd >= 0)
		close(lockfd);
	return r;
}

int store_schema_check(MDB_env *env, const char *path)
{
	MDB_txn *txn = NULL;
	uint32_t v = 0;
	int r;

	if ((r = begin_ro(env, path, &txn)) != 0)
		return r;
	r = schema_in(txn, path, &v);
	mdb_txn_abort(txn);
	/* A store without a version, or of another one, is store_open's to judge. */
	if (r != 0 || v < STORE_SCHEMA_UPGRADABLE || v >= STORE_SCHEMA_VERSION)
		return 0;
	return bti_diag_err(BATON_EVERSION,
	                    "store: %s: schema %u, this baton uses schema %u: upgrade it first",
	                    path, (unsigned)v, STORE_SCHEMA_VERSION);
}

int store_copy(const char *dir, int fd)
{
	char path[4096];
	MDB_env *env = NULL;
	int r, rc = MDB_MAP_RESIZED, lockfd = -1;

	/* Shared, as a store open: an erasure never replaces the file under the copy. */
	if ((r = db_path(dir, path, sizeof(path))) != 0 ||
	    (r = store_lock_dir(path, 0, &lockfd)) != 0)
		return r;
	if ((r = env_open_ro(path, 0, &env)) != 0) {
		close(lockfd);
		return r;
	}
	/* The copy's own read transaction is the snapshot; nothing here writes. */
	for (int i = 0; i < COPY_TRIES && rc == MDB_MAP_RESIZED; i++) {
		if (ftruncate(fd, 0) != 0 || lseek(fd, 0, SEEK_SET) != 0) {
			r = bti_diag_err(BATON_EIO, "store copy: %s", strerror(errno));
			goto out;
		}
		if ((rc = mdb_env_copyfd2(env, fd, MDB_CP_COMPACT)) == MDB_MAP_RESIZED)
			mdb_env_set_mapsize(env, 0);
	}
	if (rc != 0) {
		r = bti_diag_err(rc == ENOMEM ? BATON_ENOMEM : BATON_EIO, "store: copying %s: %s",
		                 path, mdb_strerror(rc));
		goto out;
	}
	if (fsync(fd) != 0) {
		r = bti_diag_err(BATON_EIO, "store copy: fsync: %s", strerror(errno));
		goto out;
	}
	r = 0;
out:
	mdb_env_close(env);
	close(lockfd);
	return r;
}

int store_file_info(const char *file, uint32_t *schema, uint8_t **card, size_t *card_len)
{
	MDB_env *env = NULL;
	MDB_txn *txn = NULL;
	MDB_val v;
	int r;

	*schema = 0;
	*card = NULL;
	*card_len = 0;
	/* A copy no process uses: no lock file beside it, nothing written. */
	if ((r = env_open_ro(file, MDB_NOSUBDIR | MDB_NOLOCK, &env)) != 0 ||
	    (r = begin_ro(env, file, &txn)) != 0 || (r = schema_in(txn, file, schema)) != 0)
		goto out;
	if ((r = meta_get(txn, file, "card", &v)) != 0) {
		if (r == BATON_ENOTFOUND)
			r = bti_diag_err(BATON_ENOTFOUND, "store: %s: holds no card", file);
		goto out;
	}
	if ((*card = malloc(v.mv_size ? v.mv_size : 1)) == NULL) {
		r = BATON_ENOMEM;
		goto out;
	}
	memcpy(*card, v.mv_data, v.mv_size);
	*card_len = v.mv_size;
	r = 0;
out:
	if (txn)
		mdb_txn_abort(txn);
	if (env)
		mdb_env_close(env);
	return r;
}
