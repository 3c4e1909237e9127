/*
 * What someone who can write a node's store, but does not hold the school
 * key, can do to its audit log: delete the first entry with a given action,
 * renumber the entries after it, recompute every hash, the per-student
 * index and the recorded end of the log. With --drop-heads the signed heads
 * kept beside the log are deleted too.
 *
 *   audit_rewrite DIR ACTION [--drop-heads]
 *
 * It uses LMDB, libsodium and msgpack directly, nothing of Baton: it is the
 * outsider's tool. Entries are edited in place (seq a positive fixint, prev a
 * bin 32), which holds for logs under 128 entries.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>
#include <msgpack.h>
#include <sodium.h>

#define DOMAIN "BATON-AUDIT-v1"

struct entry {
	unsigned char *p;
	size_t n;
	char student[80];
	char action[40];
};

static void die(const char *what, int rc)
{
	fprintf(stderr, "audit_rewrite: %s: %s\n", what, rc ? mdb_strerror(rc) : "failed");
	exit(1);
}

static unsigned char *find(unsigned char *p, size_t n, const char *pat, size_t plen)
{
	for (size_t i = 0; i + plen <= n; i++)
		if (memcmp(p + i, pat, plen) == 0)
			return p + i + plen;
	return NULL;
}

static void str_field(const msgpack_object *m, const char *key, char *out, size_t max)
{
	out[0] = 0;
	for (uint32_t i = 0; i < m->via.map.size; i++) {
		const msgpack_object *k = &m->via.map.ptr[i].key, *v = &m->via.map.ptr[i].val;
		if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == strlen(key) &&
		    memcmp(k->via.str.ptr, key, k->via.str.size) == 0 &&
		    v->type == MSGPACK_OBJECT_STR && v->via.str.size < max) {
			memcpy(out, v->via.str.ptr, v->via.str.size);
			out[v->via.str.size] = 0;
		}
	}
}

static void decode(struct entry *e)
{
	msgpack_unpacked u;
	msgpack_unpacked_init(&u);
	if (msgpack_unpack_next(&u, (const char *)e->p, e->n - 32, NULL) !=
	        MSGPACK_UNPACK_SUCCESS ||
	    u.data.type != MSGPACK_OBJECT_MAP)
		die("an entry does not decode", 0);
	str_field(&u.data, "student", e->student, sizeof(e->student));
	str_field(&u.data, "action", e->action, sizeof(e->action));
	msgpack_unpacked_destroy(&u);
}

static void be64(unsigned char out[8], uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		out[i] = (unsigned char)v;
}

int main(int argc, char **argv)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi audit, index, meta;
	MDB_cursor *c = NULL;
	MDB_val k, v;
	static char head_key[] = "audit_head";
	struct entry *es = NULL;
	size_t n = 0, cut = (size_t)-1;
	unsigned char prev[32] = {0}, key[8], ikey[96];
	char path[4096];
	int rc;

	if (argc < 3 || sodium_init() < 0)
		die("usage: audit_rewrite DIR ACTION [--drop-heads]", 0);
	snprintf(path, sizeof(path), "%s/db", argv[1]);
	if ((rc = mdb_env_create(&env)) || (rc = mdb_env_set_maxdbs(env, 64)) ||
	    (rc = mdb_env_open(env, path, 0, 0600)) || (rc = mdb_txn_begin(env, NULL, 0, &txn)) ||
	    (rc = mdb_dbi_open(txn, "audit", 0, &audit)) ||
	    (rc = mdb_dbi_open(txn, "audit_by_student", 0, &index)) ||
	    (rc = mdb_dbi_open(txn, "meta", 0, &meta)) || (rc = mdb_cursor_open(txn, audit, &c)))
		die(path, rc);
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT), n++) {
		if ((es = realloc(es, (n + 1) * sizeof(*es))) == NULL ||
		    (es[n].p = malloc(v.mv_size)) == NULL)
			die("out of memory", 0);
		memcpy(es[n].p, v.mv_data, v.mv_size);
		es[n].n = v.mv_size;
		decode(&es[n]);
		if (cut == (size_t)-1 && strcmp(es[n].action, argv[2]) == 0)
			cut = n;
	}
	mdb_cursor_close(c);
	if (cut == (size_t)-1)
		die("no entry with that action", 0);
	if ((rc = mdb_drop(txn, audit, 0)) || (rc = mdb_drop(txn, index, 0)))
		die("drop", rc);
	uint64_t seq = 0;
	for (size_t i = 0; i < n; i++) {
		if (i == cut)
			continue;
		struct entry *e = &es[i];
		unsigned char *s = find(e->p, e->n - 32, "\xa3seq", 4);
		unsigned char *pv = find(e->p, e->n - 32, "\xa4prev\xc4\x20", 7);
		if (!s || !pv || *s > 0x7f || ++seq > 0x7f)
			die("an entry is not laid out as expected", 0);
		*s = (unsigned char)seq;
		memcpy(pv, prev, 32);
		crypto_generichash_state st;
		crypto_generichash_init(&st, NULL, 0, 32);
		crypto_generichash_update(&st, (const unsigned char *)DOMAIN, sizeof(DOMAIN));
		crypto_generichash_update(&st, e->p, e->n - 32);
		crypto_generichash_final(&st, prev, 32);
		memcpy(e->p + e->n - 32, prev, 32);
		be64(key, seq);
		k.mv_size = 8, k.mv_data = key, v.mv_size = e->n, v.mv_data = e->p;
		if ((rc = mdb_put(txn, audit, &k, &v, 0)))
			die("put", rc);
		if (e->student[0]) {
			size_t sl = strlen(e->student) + 1;
			memcpy(ikey, e->student, sl);
			memcpy(ikey + sl, key, 8);
			k.mv_size = sl + 8, k.mv_data = ikey, v.mv_size = 0, v.mv_data = NULL;
			if ((rc = mdb_put(txn, index, &k, &v, 0)))
				die("index", rc);
		}
	}
	unsigned char head[40];
	be64(head, seq);
	memcpy(head + 8, prev, 32);
	k.mv_size = 10, k.mv_data = head_key, v.mv_size = 40, v.mv_data = head;
	if ((rc = mdb_put(txn, meta, &k, &v, 0)))
		die("audit_head", rc);
	if (argc > 3 && strcmp(argv[3], "--drop-heads") == 0) {
		if ((rc = mdb_cursor_open(txn, meta, &c)))
			die("cursor", rc);
		for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
		     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT))
			if (k.mv_size > 9 && memcmp(k.mv_data, "audit_sig", 9) == 0 &&
			    (rc = mdb_cursor_del(c, 0)))
				die("delete a head", rc);
		mdb_cursor_close(c);
	}
	if ((rc = mdb_txn_commit(txn)))
		die("commit", rc);
	mdb_env_close(env);
	printf("deleted entry %zu (%s); %llu entries rewritten\n", cut + 1, argv[2],
	       (unsigned long long)seq);
	for (size_t i = 0; i < n; i++)
		free(es[i].p);
	free(es);
	return 0;
}
