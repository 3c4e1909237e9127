/*
 * Turns a node's store back into one an older baton wrote: schema 3 (no
 * held table) or schema 2 (no origins table either).
 *
 *   store_schema DIR 3|2
 *
 * It uses LMDB directly, nothing of Baton: it stands for the older baton.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

static void die(const char *what, int rc)
{
	fprintf(stderr, "store_schema: %s: %s\n", what, mdb_strerror(rc));
	exit(1);
}

static void drop(MDB_txn *txn, const char *name)
{
	MDB_dbi dbi;
	int rc;
	if ((rc = mdb_dbi_open(txn, name, 0, &dbi)) != 0)
		die(name, rc);
	if ((rc = mdb_drop(txn, dbi, 1)) != 0)
		die(name, rc);
}

int main(int argc, char **argv)
{
	static char key[] = "schema";
	char path[4096], ver[4] = {0, 0, 0, 0};
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi meta;
	int rc;

	if (argc != 3 || (strcmp(argv[2], "3") != 0 && strcmp(argv[2], "2") != 0)) {
		fprintf(stderr, "usage: store_schema DIR 3|2\n");
		return 2;
	}
	ver[3] = (char)atoi(argv[2]);
	snprintf(path, sizeof(path), "%s/db", argv[1]);
	if ((rc = mdb_env_create(&env)) != 0 || (rc = mdb_env_set_maxdbs(env, 64)) != 0 ||
	    (rc = mdb_env_open(env, path, 0, 0600)) != 0)
		die(path, rc);
	if ((rc = mdb_txn_begin(env, NULL, 0, &txn)) != 0)
		die("begin", rc);
	drop(txn, "held");
	if (ver[3] == 2)
		drop(txn, "origins");
	MDB_val k = {6, key}, v = {4, ver};
	if ((rc = mdb_dbi_open(txn, "meta", 0, &meta)) != 0 ||
	    (rc = mdb_put(txn, meta, &k, &v, 0)) != 0)
		die("meta", rc);
	if ((rc = mdb_txn_commit(txn)) != 0)
		die("commit", rc);
	mdb_env_close(env);
	return 0;
}
