/*
 * A node's store as text, and back: every row of every named table, one per
 * line, "table key value" with key and value in hex, in LMDB's order.
 *
 *   store_rows dump DIR        prints the rows of DIR/db
 *   store_rows load DIR <ROWS  makes DIR/db holding exactly ROWS
 *
 * It uses LMDB alone, nothing of Baton: a store written by one build of
 * baton is kept as rows (the layout is the promise, not LMDB's pages) and
 * loaded for another build to open.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <lmdb.h>

#define MAX_TABLES 64
#define LINE_MAX_  (1u << 26)

__attribute__((noreturn)) static void die(const char *what, int rc)
{
	fprintf(stderr, "store_rows: %s: %s\n", what, rc ? mdb_strerror(rc) : "failed");
	exit(1);
}

static void hex(const MDB_val *v)
{
	const unsigned char *p = v->mv_data;
	if (v->mv_size == 0)
		putchar('-');
	for (size_t i = 0; i < v->mv_size; i++)
		printf("%02x", p[i]);
}

static MDB_env *env_at(const char *dir, unsigned flags)
{
	char path[4096];
	MDB_env *env;
	int rc;
	snprintf(path, sizeof(path), "%s/db", dir);
	if ((rc = mdb_env_create(&env)) != 0 || (rc = mdb_env_set_maxdbs(env, MAX_TABLES)) != 0 ||
	    (rc = mdb_env_set_mapsize(env, (size_t)64 << 20)) != 0 ||
	    (rc = mdb_env_open(env, path, flags, 0600)) != 0)
		die(path, rc);
	return env;
}

static void dump_table(MDB_txn *txn, const char *name)
{
	MDB_dbi dbi;
	MDB_cursor *c;
	MDB_val k, v;
	int rc;
	if ((rc = mdb_dbi_open(txn, name, 0, &dbi)) != 0 ||
	    (rc = mdb_cursor_open(txn, dbi, &c)) != 0)
		die(name, rc);
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		printf("%s ", name);
		hex(&k);
		putchar(' ');
		hex(&v);
		putchar('\n');
	}
	if (rc != MDB_NOTFOUND)
		die(name, rc);
	mdb_cursor_close(c);
}

/* The tables are the keys of the unnamed database. */
static int dump(const char *dir)
{
	MDB_env *env = env_at(dir, MDB_RDONLY);
	MDB_txn *txn;
	MDB_dbi main;
	MDB_cursor *c;
	MDB_val k, v;
	char names[MAX_TABLES][64];
	size_t n = 0;
	int rc;
	if ((rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn)) != 0 ||
	    (rc = mdb_dbi_open(txn, NULL, 0, &main)) != 0 ||
	    (rc = mdb_cursor_open(txn, main, &c)) != 0)
		die("open", rc);
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0 && n < MAX_TABLES;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size >= sizeof(names[0]))
			die("a table name too long", 0);
		memcpy(names[n], k.mv_data, k.mv_size);
		names[n++][k.mv_size] = 0;
	}
	mdb_cursor_close(c);
	for (size_t i = 0; i < n; i++)
		dump_table(txn, names[i]);
	mdb_txn_abort(txn);
	mdb_env_close(env);
	return 0;
}

static size_t unhex(char *s, unsigned char *out)
{
	size_t n = 0;
	if (strcmp(s, "-") == 0)
		return 0;
	for (; s[0] && s[1]; s += 2) {
		unsigned b;
		if (sscanf(s, "%2x", &b) != 1)
			die("not hex", 0);
		out[n++] = (unsigned char)b;
	}
	return n;
}

static int load(const char *dir)
{
	char path[4096], *line = malloc(LINE_MAX_), name[64], *ks, *vs;
	unsigned char *kb = malloc(LINE_MAX_ / 2), *vb = malloc(LINE_MAX_ / 2);
	MDB_txn *txn;
	MDB_dbi dbi;
	int rc;
	snprintf(path, sizeof(path), "%s/db", dir);
	if (line == NULL || kb == NULL || vb == NULL)
		die("out of memory", 0);
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		die(dir, 0);
	if (mkdir(path, 0700) != 0)
		die(path, 0);
	MDB_env *env = env_at(dir, 0);
	if ((rc = mdb_txn_begin(env, NULL, 0, &txn)) != 0)
		die("begin", rc);
	while (fgets(line, LINE_MAX_, stdin)) {
		line[strcspn(line, "\n")] = 0;
		if ((ks = strchr(line, ' ')) == NULL || (vs = strchr(ks + 1, ' ')) == NULL ||
		    (size_t)(ks - line) >= sizeof(name))
			die("a line is not 'table key value'", 0);
		memcpy(name, line, (size_t)(ks - line));
		name[ks - line] = 0;
		*vs++ = 0;
		MDB_val k = {unhex(ks + 1, kb), kb}, v = {unhex(vs, vb), vb};
		if ((rc = mdb_dbi_open(txn, name, MDB_CREATE, &dbi)) != 0 ||
		    (rc = mdb_put(txn, dbi, &k, &v, MDB_NOOVERWRITE)) != 0)
			die(name, rc);
	}
	if ((rc = mdb_txn_commit(txn)) != 0)
		die("commit", rc);
	mdb_env_close(env);
	free(line);
	free(kb);
	free(vb);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "dump") == 0)
		return dump(argv[2]);
	if (argc == 3 && strcmp(argv[1], "load") == 0)
		return load(argv[2]);
	fprintf(stderr, "usage: store_rows dump DIR | store_rows load DIR <ROWS\n");
	return 2;
}
