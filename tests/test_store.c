/*
 * The node's LMDB store: each function, transactions that fail leaving
 * nothing behind, map growth on MDB_MAP_FULL, and the audit chain refusing
 * an edited, deleted or reordered entry.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <lmdb.h>
#include <sodium.h>

#include "store.h"
#include "testutil.h"

struct fx {
	char dir[64];
	store *s;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/baton-store-XXXXXX");
	if (mkdtemp(f->dir) == NULL || store_open(f->dir, 1, &f->s) != 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];
	store_close(f->s);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	int r = system(cmd);
	free(f);
	return r == 0 ? 0 : -1;
}

/* ---- callbacks used as store_write / store_read bodies ---- */

struct put_ctx {
	const char *id, *json;
	uint32_t version;
	int twice;
};

static int put_student(store_txn *t, void *arg)
{
	struct put_ctx *c = arg;
	store_student s;
	int r;
	memset(&s, 0, sizeof(s));
	snprintf(s.id, sizeof(s.id), "%s", c->id);
	snprintf(s.family_name, sizeof(s.family_name), "Okafor");
	snprintf(s.birth_date, sizeof(s.birth_date), "2011-04-17");
	if ((r = store_student_put(t, &s, c->json, strlen(c->json))) != 0)
		return r;
	c->version = s.version;
	if (c->twice)
		return store_student_put(t, &s, c->json, strlen(c->json));
	store_audit e;
	memset(&e, 0, sizeof(e));
	snprintf(e.action, sizeof(e.action), "import");
	snprintf(e.student, sizeof(e.student), "%s", c->id);
	return store_audit_append(t, &e);
}

struct get_ctx {
	const char *id;
	uint32_t version;
	store_student s;
	char *json;
	size_t len;
	int r_student, r_record;
	char diag[256]; /* what the student lookup said */
};

static int get_student(store_txn *t, void *arg)
{
	struct get_ctx *c = arg;
	c->r_student = store_student_get(t, c->id, &c->s);
	snprintf(c->diag, sizeof(c->diag), "%s", c->r_student ? baton_diag() : "");
	c->r_record = store_record_get(t, c->id, c->version, &c->json, &c->len);
	return c->r_student < 0 && c->r_student != BATON_ENOTFOUND ? c->r_student : 0;
}

static void test_students_and_versions(void **state)
{
	struct fx *f = *state;
	struct put_ctx p = {"S-1", "{\"v\":1}", 0, 0};
	struct get_ctx g;

	assert_int_equal(store_write(f->s, put_student, &p), 0);
	assert_int_equal(p.version, 1);
	p.json = "{\"v\":2}";
	assert_int_equal(store_write(f->s, put_student, &p), 0);
	assert_int_equal(p.version, 2);

	memset(&g, 0, sizeof(g));
	g.id = "S-1";
	assert_int_equal(store_read(f->s, get_student, &g), 0);
	assert_int_equal(g.r_student, 0);
	assert_int_equal(g.s.version, 2);
	assert_string_equal(g.s.family_name, "Okafor");
	assert_string_equal(g.json, "{\"v\":2}");
	free(g.json);
	/* The old version is kept. */
	g.version = 1;
	assert_int_equal(store_read(f->s, get_student, &g), 0);
	assert_string_equal(g.json, "{\"v\":1}");
	free(g.json);
	g.version = 3;
	assert_int_equal(store_read(f->s, get_student, &g), 0);
	assert_int_equal(g.r_record, BATON_ENOTFOUND);
	/* An unknown student. */
	memset(&g, 0, sizeof(g));
	g.id = "S-404";
	assert_int_equal(store_read(f->s, get_student, &g), 0);
	assert_int_equal(g.r_student, BATON_ENOTFOUND);
	assert_int_equal(g.r_record, BATON_ENOTFOUND);
	/* Absence is a code that says what was looked for, never a bare 1. */
	assert_non_null(strstr(g.diag, "no student S-404"));
}

static void test_duplicate_in_one_transaction(void **state)
{
	struct fx *f = *state;
	struct put_ctx p = {"S-2", "{}", 0, 1};
	struct get_ctx g;
	assert_int_equal(store_write(f->s, put_student, &p), BATON_EEXIST);
	/* The failed transaction left nothing behind. */
	memset(&g, 0, sizeof(g));
	g.id = "S-2";
	assert_int_equal(store_read(f->s, get_student, &g), 0);
	assert_int_equal(g.r_student, BATON_ENOTFOUND);
}

static int count_cb(const store_student *s, void *arg)
{
	(void)s;
	(*(size_t *)arg)++;
	return 0;
}

static int each_and_count(store_txn *t, void *arg)
{
	size_t *n = arg, m;
	int r;
	n[0] = 0;
	if ((r = store_student_each(t, count_cb, &n[0])) != 0 ||
	    (r = store_student_count(t, &m)) != 0)
		return r;
	n[1] = m;
	return 0;
}

static void test_student_each(void **state)
{
	struct fx *f = *state;
	char id[16];
	size_t n[2];
	for (int i = 0; i < 50; i++) {
		snprintf(id, sizeof(id), "S-%03d", i);
		struct put_ctx p = {id, "{}", 0, 0};
		assert_int_equal(store_write(f->s, put_student, &p), 0);
	}
	assert_int_equal(store_read(f->s, each_and_count, n), 0);
	assert_int_equal(n[0], 50);
	assert_int_equal(n[1], 50);
}

/* ---- blobs and map growth ---- */

struct blob_ctx {
	size_t n, size;
	uint8_t *data;
};

static int put_blobs(store_txn *t, void *arg)
{
	struct blob_ctx *c = arg;
	for (size_t i = 0; i < c->n; i++) {
		uint8_t h[32] = {0};
		memcpy(h, &i, sizeof(i));
		c->data[0] = (uint8_t)i;
		int r = store_blob_put(t, h, c->data, c->size);
		if (r != 0)
			return r;
	}
	return 0;
}

static int check_blobs(store_txn *t, void *arg)
{
	struct blob_ctx *c = arg;
	for (size_t i = 0; i < c->n; i++) {
		uint8_t h[32] = {0};
		const uint8_t *d;
		size_t len;
		memcpy(h, &i, sizeof(i));
		if (store_blob_get(t, h, &d, &len) != 0 || len != c->size || d[0] != (uint8_t)i)
			return BATON_EHASH;
	}
	uint8_t missing[32];
	memset(missing, 0xee, 32);
	const uint8_t *d;
	size_t len;
	return store_blob_get(t, missing, &d, &len) == BATON_ENOTFOUND ? 0 : BATON_EINTERNAL;
}

static void test_map_grows(void **state)
{
	struct fx *f = *state;
	/* A map far too small for one transaction's 8 MB: it must grow and retry. */
	assert_int_equal(store_set_map_size(f->s, 256 * 1024), 0);
	size_t before = store_map_size(f->s);
	struct blob_ctx c = {32, 256 * 1024, malloc(256 * 1024)};
	memset(c.data, 0x5a, c.size);
	assert_int_equal(store_write(f->s, put_blobs, &c), 0);
	assert_true(store_map_size(f->s) > before);
	assert_int_equal(store_read(f->s, check_blobs, &c), 0);
	/* Storing the same bytes again stores nothing new. */
	assert_int_equal(store_write(f->s, put_blobs, &c), 0);
	free(c.data);
}

/*
 * A reader on another thread keeps its transaction open until the writer is
 * done, or for 2 s at most, and notes whether the writer got done meanwhile.
 */
struct hold_ctx {
	store *s;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int holding, written, written_meanwhile, r;
};

static int hold_fn(store_txn *t, void *arg)
{
	struct hold_ctx *h = arg;
	struct timespec until;
	(void)t;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 2;
	pthread_mutex_lock(&h->mu);
	h->holding = 1;
	pthread_cond_broadcast(&h->cv);
	while (!h->written && pthread_cond_timedwait(&h->cv, &h->mu, &until) == 0)
		;
	h->written_meanwhile = h->written;
	pthread_mutex_unlock(&h->mu);
	return 0;
}

static void *hold_thread(void *arg)
{
	struct hold_ctx *h = arg;
	h->r = store_read(h->s, hold_fn, h);
	return NULL;
}

static void test_map_grows_with_no_reader(void **state)
{
	struct fx *f = *state;
	struct hold_ctx h = {f->s, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0,
	                     -1};
	struct blob_ctx c = {32, 256 * 1024, malloc(256 * 1024)};
	pthread_t th;
	memset(c.data, 0x5a, c.size);
	assert_int_equal(store_set_map_size(f->s, 256 * 1024), 0);
	size_t before = store_map_size(f->s);
	assert_int_equal(pthread_create(&th, NULL, hold_thread, &h), 0);
	pthread_mutex_lock(&h.mu);
	while (!h.holding)
		pthread_cond_wait(&h.cv, &h.mu);
	pthread_mutex_unlock(&h.mu);
	/* 8 MB in a 256 KiB map: the map must grow, which LMDB allows with no transaction open. */
	int r = store_write(f->s, put_blobs, &c);
	pthread_mutex_lock(&h.mu);
	h.written = 1;
	pthread_cond_broadcast(&h.cv);
	pthread_mutex_unlock(&h.mu);
	pthread_join(th, NULL);
	assert_int_equal(r, 0);
	assert_int_equal(h.r, 0);
	assert_int_equal(h.written_meanwhile, 0);
	assert_true(store_map_size(f->s) > before);
	assert_int_equal(store_read(f->s, check_blobs, &c), 0);
	free(c.data);
}

/* ---- guardians and peers ---- */

struct g_ctx {
	const char *student;
	store_guardian g;
	int n, del;
	int restricted_seen;
};

static int g_count(const store_guardian *g, void *arg)
{
	struct g_ctx *c = arg;
	c->n++;
	c->restricted_seen |= g->restricted;
	return 0;
}

static int g_write(store_txn *t, void *arg)
{
	struct g_ctx *c = arg;
	return c->del ? store_guardian_del(t, c->student, c->g.pk)
	              : store_guardian_put(t, c->student, &c->g);
}

static int g_read(store_txn *t, void *arg)
{
	struct g_ctx *c = arg;
	c->n = 0;
	return store_guardian_each(t, c->student, g_count, c);
}

static void test_guardians(void **state)
{
	struct fx *f = *state;
	struct g_ctx c;
	memset(&c, 0, sizeof(c));
	c.student = "S-1";
	snprintf(c.g.relation, sizeof(c.g.relation), "mother");
	memset(c.g.pk, 1, 32);
	assert_int_equal(store_write(f->s, g_write, &c), 0);
	memset(c.g.pk, 2, 32);
	c.g.restricted = 1;
	assert_int_equal(store_write(f->s, g_write, &c), 0);
	/* "S-10" shares a prefix with "S-1": its links must not show under S-1. */
	c.student = "S-10";
	memset(c.g.pk, 3, 32);
	assert_int_equal(store_write(f->s, g_write, &c), 0);
	c.student = "S-1";
	assert_int_equal(store_read(f->s, g_read, &c), 0);
	assert_int_equal(c.n, 2);
	assert_true(c.restricted_seen);
	c.del = 1;
	memset(c.g.pk, 2, 32);
	assert_int_equal(store_write(f->s, g_write, &c), 0);
	assert_int_equal(store_write(f->s, g_write, &c), BATON_ENOTFOUND); /* already gone */
	assert_int_equal(store_read(f->s, g_read, &c), 0);
	assert_int_equal(c.n, 1);
}

static int peer_ops(store_txn *t, void *arg)
{
	uint8_t *card;
	size_t len;
	int r;
	(void)arg;
	if ((r = store_peer_put(t, "RAS-204", (const uint8_t *)"card-bytes", 10)) != 0 ||
	    (r = store_peer_get(t, "RAS-204", &card, &len)) != 0)
		return r;
	r = len == 10 && memcmp(card, "card-bytes", 10) == 0 ? 0 : BATON_EINTERNAL;
	free(card);
	if (r == 0 && store_peer_get(t, "NOPE", &card, &len) != BATON_ENOTFOUND)
		r = BATON_EINTERNAL;
	if (r == 0 && (r = store_peer_del(t, "RAS-204")) == 0 &&
	    store_peer_del(t, "RAS-204") != BATON_ENOTFOUND)
		r = BATON_EINTERNAL;
	return r;
}

static void test_peers(void **state)
{
	struct fx *f = *state;
	assert_int_equal(store_write(f->s, peer_ops, NULL), 0);
}

/* ---- meta and reopening ---- */

static int meta_ops(store_txn *t, void *arg)
{
	uint8_t *v;
	size_t len;
	int r;
	(void)arg;
	if ((r = store_meta_put(t, "code", "LHS-001", 7)) != 0 ||
	    (r = store_meta_get(t, "code", &v, &len)) != 0)
		return r;
	r = len == 7 && memcmp(v, "LHS-001", 7) == 0 ? 0 : BATON_EINTERNAL;
	free(v);
	return r == 0 && store_meta_get(t, "nope", &v, &len) == BATON_ENOTFOUND ? 0
	                                                                        : BATON_EINTERNAL;
}

static int set_schema(store_txn *t, void *arg)
{
	return store_meta_put(t, "schema", arg, 4);
}

static void test_meta_and_reopen(void **state)
{
	struct fx *f = *state;
	store *again;
	assert_int_equal(store_write(f->s, meta_ops, NULL), 0);
	/* Creating over an existing store is refused; opening a missing one too. */
	assert_int_equal(store_open(f->dir, 1, &again), BATON_EEXIST);
	assert_int_equal(store_open("/nonexistent-baton", 0, &again), BATON_EIO);
	/* A store written by a newer schema is refused, not misread. */
	static char newer[] = {0, 0, 0, STORE_SCHEMA_VERSION + 1};
	char want[64];
	assert_int_equal(store_write(f->s, set_schema, newer), 0);
	store_close(f->s);
	assert_int_equal(store_open(f->dir, 0, &f->s), BATON_EIO);
	snprintf(want, sizeof(want), "schema version %d", STORE_SCHEMA_VERSION + 1);
	assert_non_null(strstr(baton_diag(), want));
	assert_int_equal(store_open(f->dir, 1, &f->s), BATON_EEXIST);
	/* Put it back so teardown can close a real store. */
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	char path[128];
	snprintf(path, sizeof(path), "%s/db", f->dir);
	assert_int_equal(mdb_env_create(&env), 0);
	mdb_env_set_maxdbs(env, 16);
	assert_int_equal(mdb_env_open(env, path, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
	static char kname[] = "schema", v1[] = {0, 0, 0, STORE_SCHEMA_VERSION};
	MDB_val k = {6, kname}, v = {4, v1};
	assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
	assert_int_equal(store_open(f->dir, 0, &f->s), 0);
}

static int get_schema(store_txn *t, void *arg)
{
	uint8_t *v;
	size_t len;
	int r = store_meta_get(t, "schema", &v, &len);
	if (r == 0 && len == 4)
		memcpy(arg, v, 4);
	free(v);
	return r;
}

/*
 * A store of schema 2 is refused unless the upgrade is asked for, and the
 * schema is read without opening it; upgraded, it is the current schema
 * from then on (it gains the origins and held tables).
 */
static void test_schema_2_upgrades(void **state)
{
	struct fx *f = *state;
	static char two[] = {0, 0, 0, 2};
	uint8_t now[4] = {0};
	uint32_t v = 0;
	assert_int_equal(store_write(f->s, set_schema, two), 0);
	store_close(f->s);
	f->s = NULL;
	assert_int_equal(store_schema_of(f->dir, &v), 0);
	assert_int_equal(v, 2);
	assert_int_equal(store_open(f->dir, 0, &f->s), BATON_EVERSION);
	assert_null(f->s);
	assert_non_null(strstr(baton_diag(), "schema 2, this baton uses schema 4"));
	assert_int_equal(store_schema_of(f->dir, &v), 0);
	assert_int_equal(v, 2);
	assert_int_equal(store_open(f->dir, STORE_OPEN_UPGRADE, &f->s), 0);
	assert_int_equal(store_read(f->s, get_schema, now), 0);
	assert_int_equal(now[3], STORE_SCHEMA_VERSION);
	assert_int_equal(STORE_SCHEMA_VERSION, 4);
}

/* ---- records held for review ---- */

static void ident(store_student *s, const char *id, const char *given, const char *family,
                  const char *birth)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->id, sizeof(s->id), "%s", id);
	snprintf(s->given_name, sizeof(s->given_name), "%s", given);
	snprintf(s->family_name, sizeof(s->family_name), "%s", family);
	snprintf(s->birth_date, sizeof(s->birth_date), "%s", birth);
}

static void test_same_child(void **state)
{
	store_student a, b;
	(void)state;
	ident(&a, "S-1", "Mary Ann", "Okafor", "2011-04-17");
	ident(&b, "S-1", "  mary   ANN ", "OKAFOR", "2011-04-17");
	assert_true(store_same_child(&a, &b));
	snprintf(b.state_id, sizeof(b.state_id), "ST-9"); /* a correction, not another child */
	assert_true(store_same_child(&a, &b));
	ident(&b, "S-1", "Mary", "Okafor", "2011-04-17");
	assert_false(store_same_child(&a, &b));
	ident(&b, "S-1", "MaryAnn", "Okafor", "2011-04-17");
	assert_false(store_same_child(&a, &b));
	ident(&b, "S-1", "Mary Ann", "Okafor", "2011-04-18");
	assert_false(store_same_child(&a, &b));
	ident(&a, "S-1", "", "", "");
	ident(&b, "S-1", "", "", "");
	assert_false(store_same_child(&a, &b));
}

struct file_ctx {
	const char *given, *json;
	int how;
	uint64_t held;
	uint32_t version;
};

static int file_one(store_txn *t, void *arg)
{
	struct file_ctx *c = arg;
	store_student s;
	store_held h;
	memset(&h, 0, sizeof(h));
	snprintf(h.from, sizeof(h.from), "LHS-001");
	snprintf(h.their_id, sizeof(h.their_id), "X-9");
	ident(&s, "S-1", c->given, "Okafor", "2011-04-17");
	int r = store_student_file(t, &s, c->json, strlen(c->json), &h, &c->how);
	c->held = h.id;
	c->version = s.version;
	return r;
}

static int held_check(store_txn *t, void *arg)
{
	struct file_ctx *c = arg;
	store_held h;
	store_student s;
	int r = store_held_get(t, c->held, &h);
	if (r != 0)
		return r;
	r = strcmp(h.json, c->json) == 0 && strcmp(h.student, "S-1") == 0 &&
	            strcmp(h.from, "LHS-001") == 0 && strcmp(h.their_id, "X-9") == 0 &&
	            !h.has_packet
	        ? 0
	        : BATON_EINTERNAL;
	store_held_clear(&h);
	if (r == 0 && (r = store_student_get(t, "S-1", &s)) == 0)
		r = strcmp(s.given_name, "Zed") != 0 ? 0 : BATON_EINTERNAL;
	return r;
}

static int held_del(store_txn *t, void *arg)
{
	struct file_ctx *c = arg;
	return store_held_del(t, c->held);
}

/* One rule: the same child gets a new version, another child is held and never current. */
static void test_held_for_review(void **state)
{
	struct fx *f = *state;
	struct file_ctx c = {"Amara", "{\"v\":1}", -1, 0, 0};
	assert_int_equal(store_write(f->s, file_one, &c), 0);
	assert_int_equal(c.how, FILED_NEW);
	c.json = "{\"v\":2}";
	c.given = "AMARA";
	assert_int_equal(store_write(f->s, file_one, &c), 0);
	assert_int_equal(c.how, FILED_VERSION);
	assert_int_equal(c.version, 2);
	assert_int_equal(store_write(f->s, file_one, &c), 0);
	assert_int_equal(c.how, FILED_UNCHANGED);
	c.json = "{\"v\":3}";
	c.given = "Zed";
	assert_int_equal(store_write(f->s, file_one, &c), 0);
	assert_int_equal(c.how, FILED_HELD);
	assert_int_equal(c.held, 1);
	assert_int_equal(c.version, 2); /* the student as on file */
	assert_int_equal(store_read(f->s, held_check, &c), 0);
	/* A number once given is not given again, also after the item is gone. */
	assert_int_equal(store_write(f->s, held_del, &c), 0);
	assert_int_equal(store_write(f->s, held_del, &c), BATON_ENOTFOUND);
	assert_int_equal(store_write(f->s, file_one, &c), 0);
	assert_int_equal(c.held, 2);
}

/* A store of schema 3 has no held table: it gains one on open. */
static void test_schema_3_upgrades(void **state)
{
	struct fx *f = *state;
	static char three[] = {0, 0, 0, 3};
	uint8_t now[4] = {0};
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	char path[128];
	assert_int_equal(store_write(f->s, set_schema, three), 0);
	store_close(f->s);
	f->s = NULL;
	snprintf(path, sizeof(path), "%s/db", f->dir);
	assert_int_equal(mdb_env_create(&env), 0);
	mdb_env_set_maxdbs(env, 32);
	assert_int_equal(mdb_env_open(env, path, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "held", 0, &dbi), 0);
	assert_int_equal(mdb_drop(txn, dbi, 1), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "held", 0, &dbi), MDB_NOTFOUND);
	mdb_txn_abort(txn);
	mdb_env_close(env);
	assert_int_equal(store_open(f->dir, 0, &f->s), BATON_EVERSION);
	assert_int_equal(store_open(f->dir, STORE_OPEN_UPGRADE, &f->s), 0);
	assert_int_equal(store_read(f->s, get_schema, now), 0);
	assert_int_equal(now[3], 4);
	struct file_ctx c = {"Amara", "{\"v\":1}", -1, 0, 0};
	assert_int_equal(store_write(f->s, file_one, &c), 0);
	c.given = "Zed";
	c.json = "{\"v\":2}";
	assert_int_equal(store_write(f->s, file_one, &c), 0);
	assert_int_equal(c.how, FILED_HELD);
	assert_int_equal(store_read(f->s, held_check, &c), 0);
}

/* ---- audit ---- */

struct audit_ctx {
	const char *student;
	int n;
	uint64_t bad, count;
	int r;
};

static int audit_cb(const store_audit *e, void *arg)
{
	struct audit_ctx *c = arg;
	c->n++;
	if (c->student && strcmp(e->student, c->student) != 0)
		return BATON_EINTERNAL;
	return 0;
}

static int audit_read(store_txn *t, void *arg)
{
	struct audit_ctx *c = arg;
	c->n = 0;
	int r = store_audit_each(t, c->student, audit_cb, c);
	c->r = store_audit_verify(t, &c->bad, &c->count);
	return r;
}

static int audit_many(store_txn *t, void *arg)
{
	(void)arg;
	for (int i = 0; i < 10; i++) {
		store_audit e;
		memset(&e, 0, sizeof(e));
		snprintf(e.action, sizeof(e.action), "release");
		snprintf(e.student, sizeof(e.student), "S-%d", i % 3);
		snprintf(e.peer, sizeof(e.peer), "RAS-204");
		e.sections = BATON_SEC_BIT(BATON_SEC_TRANSCRIPT);
		e.has_packet = 1;
		memset(e.packet, i, 16);
		snprintf(e.detail, sizeof(e.detail), "entry %d", i);
		int r = store_audit_append(t, &e);
		if (r != 0)
			return r;
		if (e.seq != (uint64_t)i + 1)
			return BATON_EINTERNAL;
	}
	return 0;
}

/* Opens the raw LMDB environment to do what an attacker with the file could. */
/* Edits table name of f's store behind the store's back, as an attacker with the file could. */
static void raw_table(struct fx *f, const char *name, void (*edit)(MDB_txn *, MDB_dbi))
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	char path[128];
	store_close(f->s);
	snprintf(path, sizeof(path), "%s/db", f->dir);
	assert_int_equal(mdb_env_create(&env), 0);
	mdb_env_set_maxdbs(env, 32);
	assert_int_equal(mdb_env_open(env, path, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, name, 0, &dbi), 0);
	edit(txn, dbi);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
	assert_int_equal(store_open(f->dir, 0, &f->s), 0);
}

static void raw_audit(struct fx *f, void (*edit)(MDB_txn *, MDB_dbi))
{
	raw_table(f, "audit", edit);
}

/* Index keys: student id NUL seq (u64 BE). Entry 4 is about S-0 (entries cycle S-0, S-1, S-2). */
static MDB_val index_key(uint8_t *buf, const char *student, uint64_t seq)
{
	size_t n = strlen(student) + 1;
	memcpy(buf, student, n);
	for (int i = 7; i >= 0; i--, seq >>= 8)
		buf[n + (size_t)i] = (uint8_t)seq;
	return (MDB_val){n + 8, buf};
}

/* Puts (put) or deletes the index key of student and seq. */
static void index_edit(MDB_txn *txn, MDB_dbi dbi, const char *student, uint64_t seq, int put)
{
	uint8_t b[32];
	MDB_val k = index_key(b, student, seq), v = {0, b};
	assert_int_equal(put ? mdb_put(txn, dbi, &k, &v, 0) : mdb_del(txn, dbi, &k, NULL), 0);
}

static void unindex_entry4(MDB_txn *txn, MDB_dbi dbi)
{
	index_edit(txn, dbi, "S-0", 4, 0);
}

static void reindex_entry4(MDB_txn *txn, MDB_dbi dbi)
{
	index_edit(txn, dbi, "S-0", 4, 1);
}

static void misindex_entry4(MDB_txn *txn, MDB_dbi dbi)
{
	index_edit(txn, dbi, "S-1", 4, 1);
}

static void unmisindex_entry4(MDB_txn *txn, MDB_dbi dbi)
{
	index_edit(txn, dbi, "S-1", 4, 0);
}

static uint8_t saved[4][512];
static size_t saved_len[4];

static void key8(uint8_t *k, uint64_t seq)
{
	for (int i = 7; i >= 0; i--, seq >>= 8)
		k[i] = (uint8_t)seq;
}

static void edit_entry4(MDB_txn *txn, MDB_dbi dbi)
{
	uint8_t k[8];
	MDB_val key = {8, k}, v;
	key8(k, 4);
	assert_int_equal(mdb_get(txn, dbi, &key, &v), 0);
	memcpy(saved[0], v.mv_data, v.mv_size);
	saved_len[0] = v.mv_size;
	uint8_t copy[512];
	memcpy(copy, v.mv_data, v.mv_size);
	uint8_t *at = memmem(copy, v.mv_size, "entry 3", 7);
	assert_non_null(at);
	at[6] = '9'; /* "entry 3" becomes "entry 9" */
	MDB_val nv = {v.mv_size, copy};
	assert_int_equal(mdb_put(txn, dbi, &key, &nv, 0), 0);
}

static void restore_entry4(MDB_txn *txn, MDB_dbi dbi)
{
	uint8_t k[8];
	MDB_val key = {8, k}, v = {saved_len[0], saved[0]};
	key8(k, 4);
	assert_int_equal(mdb_put(txn, dbi, &key, &v, 0), 0);
}

static void delete_entry6(MDB_txn *txn, MDB_dbi dbi)
{
	uint8_t k[8];
	MDB_val key = {8, k}, v;
	key8(k, 6);
	assert_int_equal(mdb_get(txn, dbi, &key, &v), 0);
	memcpy(saved[1], v.mv_data, v.mv_size);
	saved_len[1] = v.mv_size;
	assert_int_equal(mdb_del(txn, dbi, &key, NULL), 0);
}

static void restore_entry6(MDB_txn *txn, MDB_dbi dbi)
{
	uint8_t k[8];
	MDB_val key = {8, k}, v = {saved_len[1], saved[1]};
	key8(k, 6);
	assert_int_equal(mdb_put(txn, dbi, &key, &v, 0), 0);
}

static uint8_t saved10[512];
static size_t saved10_len;

static void delete_entry10(MDB_txn *txn, MDB_dbi dbi)
{
	uint8_t k[8];
	MDB_val key = {8, k}, v;
	key8(k, 10);
	assert_int_equal(mdb_get(txn, dbi, &key, &v), 0);
	memcpy(saved10, v.mv_data, v.mv_size);
	saved10_len = v.mv_size;
	assert_int_equal(mdb_del(txn, dbi, &key, NULL), 0);
}

static void restore_entry10(MDB_txn *txn, MDB_dbi dbi)
{
	uint8_t k[8];
	MDB_val key = {8, k}, v = {saved10_len, saved10};
	key8(k, 10);
	assert_int_equal(mdb_put(txn, dbi, &key, &v, 0), 0);
}

static void swap_entries_2_3(MDB_txn *txn, MDB_dbi dbi)
{
	uint8_t k2[8], k3[8];
	MDB_val a = {8, k2}, b = {8, k3}, va, vb;
	key8(k2, 2);
	key8(k3, 3);
	assert_int_equal(mdb_get(txn, dbi, &a, &va), 0);
	memcpy(saved[2], va.mv_data, va.mv_size);
	saved_len[2] = va.mv_size;
	assert_int_equal(mdb_get(txn, dbi, &b, &vb), 0);
	memcpy(saved[3], vb.mv_data, vb.mv_size);
	saved_len[3] = vb.mv_size;
	MDB_val na = {saved_len[3], saved[3]}, nb = {saved_len[2], saved[2]};
	assert_int_equal(mdb_put(txn, dbi, &a, &na, 0), 0);
	assert_int_equal(mdb_put(txn, dbi, &b, &nb, 0), 0);
}

static void test_audit_chain(void **state)
{
	struct fx *f = *state;
	struct audit_ctx c;

	assert_int_equal(store_write(f->s, audit_many, NULL), 0);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_read(f->s, audit_read, &c), 0);
	assert_int_equal(c.n, 10);
	assert_int_equal(c.r, 0);
	assert_int_equal(c.count, 10);
	/* The per-student index returns exactly that student's entries. */
	c.student = "S-1";
	assert_int_equal(store_read(f->s, audit_read, &c), 0);
	assert_int_equal(c.n, 3);
	c.student = NULL;

	/* Edited: one character of entry 4's detail. */
	raw_audit(f, edit_entry4);
	assert_int_equal(store_read(f->s, audit_read, &c), 0);
	assert_int_equal(c.r, BATON_EHASH);
	assert_int_equal(c.bad, 4);
	assert_non_null(strstr(baton_diag(), "entry 4"));
	raw_audit(f, restore_entry4);
	assert_int_equal(store_read(f->s, audit_read, &c), 0);
	assert_int_equal(c.r, 0);

	/* Deleted: entry 6. */
	raw_audit(f, delete_entry6);
	assert_int_equal(store_read(f->s, audit_read, &c), 0);
	assert_int_equal(c.r, BATON_EHASH);
	assert_int_equal(c.bad, 6);
	assert_non_null(strstr(baton_diag(), "entry 6 is missing"));
	raw_audit(f, restore_entry6);

	/* The last entry cut off the end: the head record says the log went further. */
	raw_audit(f, delete_entry10);
	assert_int_equal(store_read(f->s, audit_read, &c), 0);
	assert_int_equal(c.r, BATON_EHASH);
	assert_int_equal(c.bad, 10);
	assert_non_null(strstr(baton_diag(), "removed from the end"));
	raw_audit(f, restore_entry10);
	assert_int_equal(store_read(f->s, audit_read, &c), 0);
	assert_int_equal(c.r, 0);

	/* An entry taken out of its student's index: hidden from audit --student. */
	raw_table(f, "audit_by_student", unindex_entry4);
	assert_int_equal(store_read(f->s, audit_read, &c), 0);
	assert_int_equal(c.r, BATON_EHASH);
	assert_int_equal(c.bad, 4);
	assert_non_null(strstr(baton_diag(), "entry 4 is missing from the index of student S-0"));
	raw_table(f, "audit_by_student", reindex_entry4);
	assert_int_equal(store_read(f->s, audit_read, &c), 0);
	assert_int_equal(c.r, 0);

	/* An entry put into another student's index: shown as that student's. */
	raw_table(f, "audit_by_student", misindex_entry4);
	assert_int_equal(store_read(f->s, audit_read, &c), 0);
	assert_int_equal(c.r, BATON_EHASH);
	assert_int_equal(c.bad, 4);
	assert_non_null(strstr(baton_diag(), "index of student S-1 names entry 4"));
	raw_table(f, "audit_by_student", unmisindex_entry4);
	assert_int_equal(store_read(f->s, audit_read, &c), 0);
	assert_int_equal(c.r, 0);

	/* Reordered: entries 2 and 3 swapped. */
	raw_audit(f, swap_entries_2_3);
	assert_int_equal(store_read(f->s, audit_read, &c), 0);
	assert_int_equal(c.r, BATON_EHASH);
	assert_int_equal(c.bad, 2);
}

/* ---- signed heads ---- */

struct card_ctx {
	const uint8_t *card, *rot;
	size_t card_len, rot_len;
};

static int put_card(store_txn *t, void *arg)
{
	struct card_ctx *c = arg;
	int r = store_meta_put(t, "card", c->card, c->card_len);
	if (r == 0 && c->rot)
		r = store_audit_keep_rotation(t, c->rot, c->rot_len);
	return r;
}

static int audit_one(store_txn *t, void *arg)
{
	store_audit e;
	(void)arg;
	memset(&e, 0, sizeof(e));
	snprintf(e.action, sizeof(e.action), "link");
	return store_audit_append(t, &e);
}

static int sign_with(store_txn *t, void *arg)
{
	return store_audit_sign(t, arg, NULL);
}

struct heads_ctx {
	uint64_t bad, count;
	store_audit_heads h;
	int r;
	const uint8_t *held;
	size_t held_len;
	uint64_t held_at;
};

static int heads_read(store_txn *t, void *arg)
{
	struct heads_ctx *c = arg;
	int r = store_audit_verify(t, &c->bad, &c->count);
	if (r == 0)
		r = store_audit_verify_heads(t, c->count, &c->h, &c->bad);
	if (r == 0 && c->held)
		r = store_audit_check_head(t, c->held, c->held_len, c->count, &c->held_at);
	c->r = r;
	return 0;
}

/* Only the head another school kept, against the log as it is. */
static int held_read(store_txn *t, void *arg)
{
	struct heads_ctx *c = arg;
	int r = store_audit_count(t, &c->count);
	c->r = r ? r : store_audit_check_head(t, c->held, c->held_len, c->count, &c->held_at);
	return 0;
}

static int latest_head(store_txn *t, void *arg)
{
	tu_buf *b = arg;
	return store_audit_head(t, &b->p, &b->len);
}

/* What someone with the file but not the key can do: change entry 4, then
 * recompute the hash of every entry from there and the recorded end. */
static void rewrite_from_4(MDB_txn *txn, MDB_dbi dbi)
{
	static const char domain[] = "BATON-AUDIT-v1";
	uint8_t k[8], buf[512], prev[32];
	MDB_val key = {8, k}, v;
	uint64_t seq;
	for (seq = 4;; seq++) {
		key8(k, seq);
		if (mdb_get(txn, dbi, &key, &v) != 0)
			break;
		memcpy(buf, v.mv_data, v.mv_size);
		size_t n = v.mv_size - 32;
		if (seq == 4) {
			uint8_t *at = memmem(buf, n, "entry 3", 7);
			assert_non_null(at);
			at[6] = '9';
		} else {
			uint8_t *at = memmem(buf, n, "\xa4prev\xc4\x20", 7);
			assert_non_null(at);
			memcpy(at + 7, prev, 32);
		}
		crypto_generichash_state st;
		crypto_generichash_init(&st, NULL, 0, 32);
		crypto_generichash_update(&st, (const uint8_t *)domain, sizeof(domain));
		crypto_generichash_update(&st, buf, n);
		crypto_generichash_final(&st, prev, 32);
		memcpy(buf + n, prev, 32);
		MDB_val nv = {v.mv_size, buf};
		assert_int_equal(mdb_put(txn, dbi, &key, &nv, 0), 0);
	}
	MDB_dbi meta;
	uint8_t head[40];
	key8(head, seq - 1);
	memcpy(head + 8, prev, 32);
	MDB_val hk = {10, (void *)"audit_head"}, hv = {40, head};
	assert_int_equal(mdb_dbi_open(txn, "meta", 0, &meta), 0);
	assert_int_equal(mdb_put(txn, meta, &hk, &hv, 0), 0);
}

static void test_audit_heads(void **state)
{
	struct fx *f = *state;
	baton_key *a = tu_key(BATON_KEY_SCHOOL, 0x31), *b = tu_key(BATON_KEY_SCHOOL, 0x32);
	struct card_ctx cc = {NULL, NULL, 0, 0};
	struct heads_ctx c;
	tu_buf held = {0};

	tu_card(a, "Lincoln High School", "LHS-001", (uint8_t **)&cc.card, &cc.card_len);
	assert_int_equal(store_write(f->s, put_card, &cc), 0);
	/* With a signer, every write that appends signs the head it leaves. */
	store_set_audit_signer(f->s, a);
	assert_int_equal(store_write(f->s, audit_many, NULL), 0);
	assert_int_equal(store_write(f->s, audit_one, NULL), 0);
	assert_int_equal(store_write(f->s, audit_one, NULL), 0);
	store_set_audit_signer(f->s, NULL);
	assert_int_equal(store_write(f->s, audit_one, NULL), 0);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_read(f->s, heads_read, &c), 0);
	assert_int_equal(c.r, 0);
	assert_int_equal(c.count, 13);
	assert_int_equal(c.h.heads, 3);
	assert_int_equal(c.h.signed_through, 12); /* entry 13 is not signed yet */

	/* A head signed by a key that is not this school's does not count. */
	assert_int_equal(store_write(f->s, sign_with, b), 0);
	assert_int_equal(store_read(f->s, heads_read, &c), 0);
	assert_int_equal(c.r, BATON_EBADSIG);
	assert_int_equal(c.bad, 13);
	assert_non_null(strstr(baton_diag(), "neither this school's key nor one it rotated from"));

	/* After a rekey to b, heads by a (which the rotation leads from) and b verify. */
	baton_rotation rot;
	uint8_t *card_b, *rot_b;
	memset(&rot, 0, sizeof(rot));
	snprintf(rot.code, sizeof(rot.code), "LHS-001");
	memcpy(rot.old_pk, baton_key_id_pk(a), 32);
	memcpy(rot.new_pk, baton_key_id_pk(b), 32);
	rot.time = TU_NOW;
	assert_int_equal(baton_rotation_sign(&rot, baton_key_id_sk(a), &rot_b, &cc.rot_len), 0);
	free((void *)cc.card);
	tu_card(b, "Lincoln High School", "LHS-001", &card_b, &cc.card_len);
	cc.card = card_b;
	cc.rot = rot_b;
	assert_int_equal(store_write(f->s, put_card, &cc), 0);
	assert_int_equal(store_read(f->s, heads_read, &c), 0);
	assert_int_equal(c.r, 0);
	assert_int_equal(c.h.heads, 4);
	assert_int_equal(c.h.signed_through, 13);
	assert_memory_equal(c.h.key, baton_key_id_pk(b), 32);
	assert_int_equal(store_read(f->s, latest_head, &held), 0);

	/* Entry 4 changed and every hash after it recomputed: the chain holds, but
	 * the first head after the change no longer matches, and neither does the
	 * head another school kept. */
	raw_audit(f, rewrite_from_4);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_read(f->s, heads_read, &c), 0);
	assert_int_equal(c.r, BATON_EHASH);
	assert_int_equal(c.bad, 10);
	assert_non_null(strstr(baton_diag(), "the head signed at entry 10 does not match the log"));
	c.held = held.p;
	c.held_len = held.len;
	assert_int_equal(store_read(f->s, held_read, &c), 0);
	assert_int_equal(c.r, BATON_EHASH);
	assert_int_equal(c.held_at, 13);
	assert_non_null(strstr(baton_diag(), "the head signed at entry 13 does not match the log"));
	tu_buf_free(&held);
	free(card_b);
	free(rot_b);
	baton_key_free(a);
	baton_key_free(b);
}

static int fail_after_writing(store_txn *t, void *arg)
{
	struct put_ctx p = {"S-9", "{}", 0, 0};
	(void)arg;
	int r = put_student(t, &p);
	return r ? r : BATON_EVALUE;
}

static void test_failed_write_leaves_nothing(void **state)
{
	struct fx *f = *state;
	struct audit_ctx c;
	struct get_ctx g;
	assert_int_equal(store_write(f->s, fail_after_writing, NULL), BATON_EVALUE);
	memset(&g, 0, sizeof(g));
	g.id = "S-9";
	assert_int_equal(store_read(f->s, get_student, &g), 0);
	assert_int_equal(g.r_student, BATON_ENOTFOUND);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_read(f->s, audit_read, &c), 0);
	assert_int_equal(c.n, 0);
}

/* What serve's outbox worker asks every 20 ms while the listener grows the map. */
struct version_poll {
	store *s;
	_Atomic int stop;
	unsigned long calls;
};

static void *poll_version(void *arg)
{
	struct version_poll *v = arg;
	while (!v->stop) {
		(void)store_version(v->s);
		(void)store_map_size(v->s);
		v->calls++;
	}
	return NULL;
}

/* Another thread reads the store's version and map size while the map is resized. */
static void test_version_while_resizing(void **state)
{
	struct fx *f = *state;
	struct version_poll v = {f->s, 0, 0};
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, poll_version, &v), 0);
	for (int i = 0; i < 3000; i++)
		assert_int_equal(store_set_map_size(f->s, (size_t)(64 + (i & 1)) << 20), 0);
	v.stop = 1;
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_true(v.calls > 0);
}

/* Another process grows the map while this one holds the store open. */
static void test_map_grown_elsewhere(void **state)
{
	struct fx *f = *state;
	/* 96 MiB: past the 64 MiB map this process opened with. */
	struct blob_ctx c = {24, 4u << 20, malloc(4u << 20)};
	memset(c.data, 1, c.size);
	size_t before = store_map_size(f->s);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* The child opens its own environment; it never touches the parent's. */
		store *other;
		int ok = store_open(f->dir, 0, &other) == 0 &&
		         store_set_map_size(other, store_map_size(other) * 4) == 0 &&
		         store_write(other, put_blobs, &c) == 0;
		store_close(other);
		_exit(ok ? 0 : 1);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* Reads and writes in this process adopt the larger map instead of failing. */
	assert_int_equal(store_read(f->s, check_blobs, &c), 0);
	assert_true(store_map_size(f->s) > before);
	c.data[1] = 2;
	assert_int_equal(store_write(f->s, put_blobs, &c), 0);
	free(c.data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_students_and_versions, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_duplicate_in_one_transaction, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_student_each, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_map_grows, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_map_grows_with_no_reader, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_version_while_resizing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_guardians, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_peers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_meta_and_reopen, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_schema_2_upgrades, setup, teardown),
	    cmocka_unit_test(test_same_child),
	    cmocka_unit_test_setup_teardown(test_held_for_review, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_schema_3_upgrades, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_audit_chain, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_audit_heads, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_failed_write_leaves_nothing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_map_grown_elsewhere, setup, teardown),
	};
	if (baton_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
