/*
 * The node's LMDB store: each function, transactions that fail leaving
 * nothing behind, map growth on MDB_MAP_FULL, and the audit chain refusing
 * an edited, deleted or reordered entry.
 */
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
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

/* ---- users ---- */

static int count_user(const store_user *u, void *arg)
{
	(void)u;
	++*(int *)arg;
	return 0;
}

static int user_ops(store_txn *t, void *arg)
{
	store_user u, got;
	int n = 0;
	(void)arg;
	memset(&u, 0, sizeof(u));
	snprintf(u.name, sizeof(u.name), "maria");
	snprintf(u.hash, sizeof(u.hash), "$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaA");
	u.role = STORE_ROLE_REGISTRAR;
	u.created = 1800000000;
	assert_int_equal(store_user_get(t, "maria", &got), BATON_ENOTFOUND);
	assert_int_equal(store_user_put(t, &u), 0);
	assert_int_equal(store_user_get(t, "maria", &got), 0);
	assert_string_equal(got.name, "maria");
	assert_string_equal(got.hash, u.hash);
	assert_int_equal(got.role, STORE_ROLE_REGISTRAR);
	assert_int_equal(got.created, 1800000000);
	assert_int_equal(got.last_login, 0);
	/* The name may be read from the record being filled. */
	assert_int_equal(store_user_get(t, got.name, &got), 0);
	assert_string_equal(got.name, "maria");
	u.role = 7;
	assert_int_equal(store_user_put(t, &u), BATON_EINVAL);
	u.role = STORE_ROLE_ADMIN;
	u.hash[0] = 0;
	assert_int_equal(store_user_put(t, &u), BATON_EINVAL);
	assert_int_equal(store_user_each(t, count_user, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(store_user_del(t, "maria"), 0);
	assert_int_equal(store_user_del(t, "maria"), BATON_ENOTFOUND);
	assert_int_equal(store_user_get(t, "", &got), BATON_ENOTFOUND);
	return 0;
}

static void test_users(void **state)
{
	struct fx *f = *state;
	assert_int_equal(store_write(f->s, user_ops, NULL), 0);
}

/* ---- invitations ---- */

static int count_invite(const store_invite *v, void *arg)
{
	(void)v;
	++*(int *)arg;
	return 0;
}

static int invite_ops(store_txn *t, void *arg)
{
	store_invite v, got;
	int n = 0;
	(void)arg;
	/* Every field at its full size: the longest student id, relation and actor. */
	memset(&v, 0, sizeof(v));
	memcpy(v.id, "K7MQ", 4);
	memset(v.hash, 0xa5, sizeof(v.hash));
	memset(v.student, 'S', BATON_STUDENT_MAX);
	memset(v.relation, 'r', sizeof(v.relation) - 1);
	memset(v.by, 'b', STORE_USER_MAX);
	memset(v.pk, 0x5a, sizeof(v.pk));
	v.has_pk = 1;
	v.created = UINT64_MAX - 1;
	v.expires = UINT64_MAX;
	v.state = INVITE_CLAIMED;
	v.wrong = UINT32_MAX;
	assert_int_equal(store_invite_get(t, "K7MQ", &got), BATON_ENOTFOUND);
	assert_non_null(strstr(baton_diag(), "invitation K7MQ"));
	assert_int_equal(store_invite_put(t, &v), 0);
	assert_int_equal(store_invite_get(t, "K7MQ", &got), 0);
	assert_memory_equal(&got, &v, sizeof(v));
	/* Unclaimed: no key comes back. */
	v.has_pk = 0;
	memset(v.pk, 0, sizeof(v.pk));
	memcpy(v.id, "ABCD", 4);
	memset(v.student, 0, sizeof(v.student));
	memset(v.relation, 0, sizeof(v.relation));
	memset(v.by, 0, sizeof(v.by));
	memcpy(v.student, "S-1", 3);
	memcpy(v.relation, "mother", 6);
	v.state = INVITE_OPEN;
	v.wrong = 0;
	assert_int_equal(store_invite_put(t, &v), 0);
	assert_int_equal(store_invite_get(t, "ABCD", &got), 0);
	assert_memory_equal(&got, &v, sizeof(v));
	assert_string_equal(store_invite_state_name(got.state), "open");
	assert_string_equal(store_invite_state_name(INVITE_BURNED), "burned");
	/* What is not a row is refused, naming it. */
	v.state = 9;
	assert_int_equal(store_invite_put(t, &v), BATON_EINVAL);
	v.state = INVITE_OPEN;
	memcpy(v.id, "AB", 3);
	assert_int_equal(store_invite_put(t, &v), BATON_EINVAL);
	memcpy(v.id, "ABCD", 5);
	v.student[0] = 0;
	assert_int_equal(store_invite_put(t, &v), BATON_EINVAL);
	assert_int_equal(store_invite_get(t, "ABCDE", &got), BATON_ENOTFOUND);
	assert_non_null(strstr(baton_diag(), "invitation ABCDE"));
	assert_int_equal(store_invite_each(t, count_invite, &n), 0);
	assert_int_equal(n, 2);
	return 0;
}

static void test_invites(void **state)
{
	struct fx *f = *state;
	assert_int_equal(store_write(f->s, invite_ops, NULL), 0);
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

static int sort_one(store_txn *t, void *arg)
{
	struct file_ctx *c = arg;
	store_student s, old;
	ident(&s, "S-1", c->given, "Okafor", "2011-04-17");
	int r = store_student_sort(t, &s, c->json, &old, &c->how);
	c->version = old.version;
	return r != 0 ? r : store_held_last(t, &c->held);
}

/* A dry run's answer from a read transaction: what store_student_file would do, nothing written. */
static void test_student_sort(void **state)
{
	struct fx *f = *state;
	struct file_ctx c = {"Amara", "{\"v\":1}", -1, 0, 0};
	uint64_t v;
	assert_int_equal(store_read(f->s, sort_one, &c), 0);
	assert_int_equal(c.how, FILED_NEW);
	assert_int_equal(c.held, 0);
	assert_int_equal(store_write(f->s, file_one, &c), 0);
	v = store_version(f->s);
	assert_int_equal(store_read(f->s, sort_one, &c), 0);
	assert_int_equal(c.how, FILED_UNCHANGED);
	assert_int_equal(c.version, 1);
	c.json = "{\"v\":2}";
	c.given = "AMARA";
	assert_int_equal(store_read(f->s, sort_one, &c), 0);
	assert_int_equal(c.how, FILED_VERSION);
	assert_int_equal(c.version, 1); /* the student on file; filing would make version 2 */
	c.given = "Zed";
	assert_int_equal(store_read(f->s, sort_one, &c), 0);
	assert_int_equal(c.how, FILED_HELD);
	assert_true(store_version(f->s) == v); /* reading changed nothing */
	assert_int_equal(store_write(f->s, file_one, &c), 0);
	assert_int_equal(c.how, FILED_HELD);
	assert_int_equal(store_read(f->s, sort_one, &c), 0);
	assert_int_equal(c.held, 1); /* the last number given */
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

static int audit_by_write(store_txn *t, void *arg)
{
	(void)arg;
	const char *who[3] = {"maria", NULL, "ian"};
	for (int i = 0; i < 3; i++) {
		store_audit e;
		memset(&e, 0, sizeof(e));
		snprintf(e.action, sizeof(e.action), "release");
		snprintf(e.student, sizeof(e.student), "S-1");
		store_set_actor(who[i]);
		int r = store_audit_append(t, &e);
		store_set_actor(NULL);
		if (r != 0)
			return r;
	}
	return 0;
}

struct by_ctx {
	char by[3][STORE_USER_MAX + 1];
	int n;
};

static int audit_by_cb(const store_audit *e, void *arg)
{
	struct by_ctx *c = arg;
	if (c->n < 3)
		snprintf(c->by[c->n], sizeof(c->by[0]), "%s", e->by);
	c->n++;
	return 0;
}

static int audit_by_read(store_txn *t, void *arg)
{
	return store_audit_each(t, NULL, audit_by_cb, arg);
}

static void edit_maria(MDB_txn *txn, MDB_dbi dbi)
{
	uint8_t k[8];
	MDB_val key = {8, k}, v;
	key8(k, 1);
	assert_int_equal(mdb_get(txn, dbi, &key, &v), 0);
	uint8_t copy[512];
	memcpy(copy, v.mv_data, v.mv_size);
	uint8_t *at = memmem(copy, v.mv_size, "maria", 5);
	assert_non_null(at);
	at[4] = 'o'; /* maria becomes mario */
	MDB_val nv = {v.mv_size, copy};
	assert_int_equal(mdb_put(txn, dbi, &key, &nv, 0), 0);
}

/* The person named by store_set_actor is in each entry, and covered by its hash. */
static void test_audit_by(void **state)
{
	struct fx *f = *state;
	struct by_ctx c;
	struct audit_ctx v;

	assert_int_equal(store_write(f->s, audit_by_write, NULL), 0);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_read(f->s, audit_by_read, &c), 0);
	assert_int_equal(c.n, 3);
	assert_string_equal(c.by[0], "maria");
	assert_string_equal(c.by[1], ""); /* the actor was cleared: no one */
	assert_string_equal(c.by[2], "ian");
	memset(&v, 0, sizeof(v));
	assert_int_equal(store_read(f->s, audit_read, &v), 0);
	assert_int_equal(v.r, 0);
	raw_audit(f, edit_maria);
	assert_int_equal(store_read(f->s, audit_read, &v), 0);
	assert_int_equal(v.r, BATON_EHASH);
	assert_int_equal(v.bad, 1);
}

/* An audit entry at its longest, naming all fourteen sections, reads back whole. */
static int audit_all_write(store_txn *t, void *arg)
{
	store_audit e;
	(void)arg;
	memset(&e, 0, sizeof(e));
	memset(e.action, 'a', sizeof(e.action) - 1);
	memset(e.student, 's', sizeof(e.student) - 1);
	memset(e.peer, 'P', sizeof(e.peer) - 1);
	memset(e.detail, 'd', sizeof(e.detail) - 1);
	snprintf(e.basis, sizeof(e.basis), "enrolment");
	e.has_consent = e.has_packet = 1;
	memset(e.consent, 0xc0, 16);
	memset(e.packet, 0xd0, 16);
	e.sections = BATON_SEC_ALL_MASK;
	return store_audit_append(t, &e);
}

static int audit_all_cb(const store_audit *e, void *arg)
{
	*(uint32_t *)arg = e->sections;
	return 0;
}

static int audit_all_read(store_txn *t, void *arg)
{
	return store_audit_each(t, NULL, audit_all_cb, arg);
}

static void test_audit_all_sections(void **state)
{
	struct fx *f = *state;
	struct audit_ctx v;
	uint32_t got = 0;

	assert_int_equal(store_write(f->s, audit_all_write, NULL), 0);
	assert_int_equal(store_read(f->s, audit_all_read, &got), 0);
	assert_int_equal(got, BATON_SEC_ALL_MASK);
	memset(&v, 0, sizeof(v));
	assert_int_equal(store_read(f->s, audit_read, &v), 0);
	assert_int_equal(v.r, 0);
	assert_int_equal(v.count, 1);
}

/* Disclosures: one on a consent, one on the enrolment exception, one written before bases were. */
static int audit_basis_write(store_txn *t, void *arg)
{
	(void)arg;
	const char *basis[3] = {"consent", "enrolment", ""};
	for (int i = 0; i < 3; i++) {
		store_audit e;
		memset(&e, 0, sizeof(e));
		snprintf(e.action, sizeof(e.action), "disclosure");
		snprintf(e.student, sizeof(e.student), "S-1");
		snprintf(e.basis, sizeof(e.basis), "%s", basis[i]);
		e.has_consent = i != 1;
		memset(e.consent, 0x33, sizeof(e.consent));
		int r = store_audit_append(t, &e);
		if (r != 0)
			return r;
	}
	store_audit other;
	memset(&other, 0, sizeof(other));
	snprintf(other.action, sizeof(other.action), "received");
	other.has_consent = 1;
	return store_audit_append(t, &other);
}

struct basis_ctx {
	char raw[4][16];
	char shown[4][16];
	int n;
};

static int audit_basis_cb(const store_audit *e, void *arg)
{
	struct basis_ctx *c = arg;
	if (c->n < 4) {
		snprintf(c->raw[c->n], sizeof(c->raw[0]), "%s", e->basis);
		snprintf(c->shown[c->n], sizeof(c->shown[0]), "%s", store_audit_basis(e));
	}
	c->n++;
	return 0;
}

static int audit_basis_read(store_txn *t, void *arg)
{
	return store_audit_each(t, NULL, audit_basis_cb, arg);
}

static void edit_enrolment(MDB_txn *txn, MDB_dbi dbi)
{
	uint8_t k[8];
	MDB_val key = {8, k}, v;
	key8(k, 2);
	assert_int_equal(mdb_get(txn, dbi, &key, &v), 0);
	uint8_t copy[512];
	memcpy(copy, v.mv_data, v.mv_size);
	uint8_t *at = memmem(copy, v.mv_size, "enrolment", 9);
	assert_non_null(at);
	memcpy(at, "consent\0\0", 9); /* the basis claimed afterwards is not the one recorded */
	at[-1] = 0xa7;                /* a str of 7 ... */
	memmove(at + 7, at + 9, v.mv_size - (size_t)(at + 9 - copy));
	MDB_val nv = {v.mv_size - 2, copy};
	assert_int_equal(mdb_put(txn, dbi, &key, &nv, 0), 0);
}

/* A disclosure's basis is in its entry, covered by its hash; older entries read as consent. */
static void test_audit_basis(void **state)
{
	struct fx *f = *state;
	struct basis_ctx c;
	struct audit_ctx v;

	assert_int_equal(store_write(f->s, audit_basis_write, NULL), 0);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_read(f->s, audit_basis_read, &c), 0);
	assert_int_equal(c.n, 4);
	assert_string_equal(c.raw[0], "consent");
	assert_string_equal(c.raw[1], "enrolment");
	assert_string_equal(c.raw[2], "");
	assert_string_equal(c.shown[0], "consent");
	assert_string_equal(c.shown[1], "enrolment");
	assert_string_equal(c.shown[2], "consent"); /* written before bases: on a consent */
	assert_string_equal(c.shown[3], "");        /* not a disclosure */
	memset(&v, 0, sizeof(v));
	assert_int_equal(store_read(f->s, audit_read, &v), 0);
	assert_int_equal(v.r, 0);
	raw_audit(f, edit_enrolment);
	assert_int_equal(store_read(f->s, audit_read, &v), 0);
	assert_int_equal(v.r, BATON_EHASH);
	assert_int_equal(v.bad, 2);
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

/* What serve's outbox worker asks, idle or not, while the listener grows the map. */
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

/*
 * Another process opens the store while this one has grown its map and not
 * yet committed at that size: the opener must not cut the file to the size
 * the store last committed (LMDB's WRITEMAP sets the file's length to the
 * map's), or this process's next write past it is a SIGBUS.
 */
static void test_map_kept_by_opener(void **state)
{
	struct fx *f = *state;
	char data[300];
	struct stat st;
	struct blob_ctx c = {24, 4u << 20, malloc(4u << 20)};
	size_t grown = store_map_size(f->s) * 4;
	memset(c.data, 3, c.size);
	assert_int_equal(store_set_map_size(f->s, grown), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		store *other;
		int ok = store_open(f->dir, 0, &other) == 0 && store_map_size(other) >= grown;
		store_close(other);
		_exit(ok ? 0 : 1);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	snprintf(data, sizeof(data), "%s/db/data.mdb", f->dir);
	assert_int_equal(stat(data, &st), 0);
	assert_true((size_t)st.st_size >= grown);
	/* 96 MiB: past what the store had committed as its size, inside the grown map. */
	assert_int_equal(store_write(f->s, put_blobs, &c), 0);
	assert_int_equal(store_read(f->s, check_blobs, &c), 0);
	free(c.data);
}

/* ---- tables the node fills while it serves: each written, read back, listed,
 * updated and aborted ---- */

static void fill_bytes(uint8_t *p, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + i * 7);
}

/* A string of n copies of c, for fields filled to their capacity. */
static void fill_str(char *dst, size_t n, char c)
{
	memset(dst, c, n);
	dst[n] = 0;
}

struct abort_ctx {
	store_fn fn;
	void *ctx;
};

static int then_fail(store_txn *t, void *arg)
{
	struct abort_ctx *a = arg;
	int r = a->fn(t, a->ctx);
	return r ? r : BATON_EVALUE;
}

/* Runs fn in a write transaction that then fails: nothing fn wrote may stay. */
static void write_then_abort(store *s, store_fn fn, void *ctx)
{
	struct abort_ctx a = {fn, ctx};
	assert_int_equal(store_write(s, then_fail, &a), BATON_EVALUE);
}

/* ---- outbox ---- */

struct out_ctx {
	store_outbox put[4];
	size_t n_put;
	store_outbox got[8];
	size_t n_got, max;
	uint64_t now;
	uint8_t want[BATON_ID_BYTES];
	int r_get;
};

static void outbox_fill(store_outbox *e, uint8_t seed, int state, uint64_t next)
{
	memset(e, 0, sizeof(*e));
	fill_bytes(e->packet, sizeof(e->packet), seed);
	fill_bytes(e->hash, sizeof(e->hash), (uint8_t)(seed + 0x40));
	snprintf(e->to, sizeof(e->to), "SCH-%u", seed);
	snprintf(e->student, sizeof(e->student), "S-%u", seed);
	e->kind = OUT_REQUEST;
	e->state = state;
	e->reason = 9;
	e->attempts = 3u + seed;
	e->created = TU_NOW + seed;
	e->expires = TU_NOW + 30 * TU_DAY + seed;
	e->next_try = next;
	snprintf(e->file, sizeof(e->file), "out/%u.pkt", seed);
	snprintf(e->last_error, sizeof(e->last_error), "connection refused (%u)", seed);
}

static int outbox_put_all(store_txn *t, void *arg)
{
	struct out_ctx *c = arg;
	int r = 0;
	for (size_t i = 0; i < c->n_put && r == 0; i++)
		r = store_outbox_put(t, &c->put[i]);
	return r;
}

static int outbox_collect(const store_outbox *e, void *arg)
{
	struct out_ctx *c = arg;
	if (c->n_got == sizeof(c->got) / sizeof(c->got[0]))
		return BATON_EINTERNAL;
	c->got[c->n_got++] = *e;
	return 0;
}

static int outbox_read(store_txn *t, void *arg)
{
	struct out_ctx *c = arg;
	c->n_got = 0;
	return store_outbox_each(t, outbox_collect, c);
}

static int outbox_due_read(store_txn *t, void *arg)
{
	struct out_ctx *c = arg;
	c->n_got = 0;
	return store_outbox_due(t, c->now, c->max, outbox_collect, c);
}

static int outbox_get_one(store_txn *t, void *arg)
{
	struct out_ctx *c = arg;
	c->r_get = store_outbox_get(t, c->want, &c->got[0]);
	return c->r_get < 0 && c->r_get != BATON_ENOTFOUND ? c->r_get : 0;
}

/* The packet ids of what the last listing returned, in order, as seeds. */
static void assert_listed(const struct out_ctx *c, size_t n, const uint8_t *seeds)
{
	assert_int_equal(c->n_got, n);
	for (size_t i = 0; i < n; i++) {
		uint8_t id[BATON_ID_BYTES];
		fill_bytes(id, sizeof(id), seeds[i]);
		assert_memory_equal(c->got[i].packet, id, sizeof(id));
	}
}

static void due_at(struct fx *f, struct out_ctx *c, uint64_t now, size_t max)
{
	c->now = now;
	c->max = max;
	assert_int_equal(store_read(f->s, outbox_due_read, c), 0);
}

static void test_outbox(void **state)
{
	struct fx *f = *state;
	struct out_ctx *c = calloc(1, sizeof(*c));
	assert_non_null(c);

	outbox_fill(&c->put[0], 1, OUT_QUEUED, TU_NOW + 10);
	outbox_fill(&c->put[1], 2, OUT_QUEUED, TU_NOW + 5);
	outbox_fill(&c->put[2], 3, OUT_SENT, TU_NOW + 1);
	/* Every string field filled to its capacity comes back whole. */
	outbox_fill(&c->put[3], 4, OUT_QUEUED, TU_NOW + 100);
	fill_str(c->put[3].to, BATON_CODE_MAX, 'T');
	fill_str(c->put[3].student, BATON_STUDENT_MAX, 's');
	fill_str(c->put[3].file, sizeof(c->put[3].file) - 1, 'f');
	fill_str(c->put[3].last_error, sizeof(c->put[3].last_error) - 1, 'e');
	c->put[3].kind = OUT_REFUSAL;
	c->put[3].reason = 0;
	c->put[3].attempts = UINT32_MAX;
	c->put[3].expires = UINT64_MAX;
	c->n_put = 4;
	assert_int_equal(store_write(f->s, outbox_put_all, c), 0);

	for (size_t i = 0; i < 4; i++) {
		memcpy(c->want, c->put[i].packet, BATON_ID_BYTES);
		assert_int_equal(store_read(f->s, outbox_get_one, c), 0);
		assert_int_equal(c->r_get, 0);
		assert_memory_equal(&c->got[0], &c->put[i], sizeof(store_outbox));
	}
	assert_int_equal(store_read(f->s, outbox_read, c), 0);
	assert_listed(c, 4, (const uint8_t[]){1, 2, 3, 4});
	assert_memory_equal(&c->got[2], &c->put[2], sizeof(store_outbox));

	/* Due: queued entries only, earliest first, none later than now, at most max. */
	due_at(f, c, TU_NOW + 50, 10);
	assert_listed(c, 2, (const uint8_t[]){2, 1});
	assert_memory_equal(&c->got[0], &c->put[1], sizeof(store_outbox));
	due_at(f, c, TU_NOW + 50, 1);
	assert_listed(c, 1, (const uint8_t[]){2});
	due_at(f, c, TU_NOW + 4, 10);
	assert_listed(c, 0, NULL);
	due_at(f, c, TU_NOW + 100, 10);
	assert_listed(c, 3, (const uint8_t[]){2, 1, 4});

	/* An update moves the entry in the due index: sent leaves it, a later try moves it. */
	c->put[1].state = OUT_SENT;
	c->put[1].attempts++;
	c->put[0].next_try = TU_NOW + 200;
	c->n_put = 2;
	assert_int_equal(store_write(f->s, outbox_put_all, c), 0);
	due_at(f, c, TU_NOW + 50, 10);
	assert_listed(c, 0, NULL);
	due_at(f, c, TU_NOW + 200, 10);
	assert_listed(c, 2, (const uint8_t[]){4, 1});
	memcpy(c->want, c->put[1].packet, BATON_ID_BYTES);
	assert_int_equal(store_read(f->s, outbox_get_one, c), 0);
	assert_memory_equal(&c->got[0], &c->put[1], sizeof(store_outbox));

	/* An unknown packet. */
	fill_bytes(c->want, BATON_ID_BYTES, 0x77);
	assert_int_equal(store_read(f->s, outbox_get_one, c), 0);
	assert_int_equal(c->r_get, BATON_ENOTFOUND);

	/* An aborted put leaves neither the entry nor its due key, nor moves another's. */
	outbox_fill(&c->put[0], 5, OUT_QUEUED, TU_NOW);
	c->put[1].state = OUT_QUEUED;
	c->put[1].next_try = TU_NOW;
	write_then_abort(f->s, outbox_put_all, c);
	fill_bytes(c->want, BATON_ID_BYTES, 5);
	assert_int_equal(store_read(f->s, outbox_get_one, c), 0);
	assert_int_equal(c->r_get, BATON_ENOTFOUND);
	due_at(f, c, TU_NOW + 200, 10);
	assert_listed(c, 2, (const uint8_t[]){4, 1});
	assert_int_equal(store_read(f->s, outbox_read, c), 0);
	assert_int_equal(c->n_got, 4);
	assert_int_equal(c->got[1].state, OUT_SENT);
	free(c);
}

static int outbox_due_now_one(store_txn *t, void *arg)
{
	struct out_ctx *c = arg;
	c->r_get = store_outbox_due_now(t, c->want, c->now, &c->got[0]);
	return c->r_get;
}

/* Retry now: a queued entry comes due at now; no other entry, nor anything else in it, moves. */
static void test_outbox_due_now(void **state)
{
	struct fx *f = *state;
	struct out_ctx *c = calloc(1, sizeof(*c));
	assert_non_null(c);

	outbox_fill(&c->put[0], 1, OUT_QUEUED, TU_NOW + 3600);
	outbox_fill(&c->put[1], 2, OUT_RECEIPTED, TU_NOW + 3600);
	outbox_fill(&c->put[2], 3, OUT_QUEUED, TU_NOW + 10);
	c->n_put = 3;
	assert_int_equal(store_write(f->s, outbox_put_all, c), 0);
	due_at(f, c, TU_NOW + 20, 10);
	assert_listed(c, 1, (const uint8_t[]){3});

	memcpy(c->want, c->put[0].packet, BATON_ID_BYTES);
	c->now = TU_NOW + 20;
	assert_int_equal(store_write(f->s, outbox_due_now_one, c), 0);
	assert_int_equal(c->got[0].next_try, TU_NOW + 20);
	assert_int_equal(c->got[0].attempts, c->put[0].attempts);
	due_at(f, c, TU_NOW + 20, 10);
	assert_listed(c, 2, (const uint8_t[]){3, 1});

	/* Already due earlier: kept, not put off. */
	memcpy(c->want, c->put[2].packet, BATON_ID_BYTES);
	c->now = TU_NOW + 20;
	assert_int_equal(store_write(f->s, outbox_due_now_one, c), 0);
	assert_int_equal(c->got[0].next_try, TU_NOW + 10);

	/* Answered: 409's error; unknown: not found; neither changes anything. */
	memcpy(c->want, c->put[1].packet, BATON_ID_BYTES);
	assert_int_equal(store_write(f->s, outbox_due_now_one, c), BATON_EEXIST);
	fill_bytes(c->want, BATON_ID_BYTES, 0x77);
	assert_int_equal(store_write(f->s, outbox_due_now_one, c), BATON_ENOTFOUND);
	memcpy(c->want, c->put[1].packet, BATON_ID_BYTES);
	assert_int_equal(store_read(f->s, outbox_get_one, c), 0);
	assert_memory_equal(&c->got[0], &c->put[1], sizeof(store_outbox));
	due_at(f, c, TU_NOW + 20, 10);
	assert_listed(c, 2, (const uint8_t[]){3, 1});
	free(c);
}

/* ---- inbox ---- */

struct in_ctx {
	store_inbox put[2];
	size_t n_put;
	uint8_t want[BATON_ID_BYTES];
	store_inbox got[4];
	size_t n_got;
	int r_get;
};

static int inbox_put_all(store_txn *t, void *arg)
{
	struct in_ctx *c = arg;
	int r = 0;
	for (size_t i = 0; i < c->n_put && r == 0; i++)
		r = store_inbox_put(t, &c->put[i]);
	return r;
}

static int inbox_collect(const store_inbox *e, void *arg)
{
	struct in_ctx *c = arg;
	if (c->n_got == 4)
		return BATON_EINTERNAL;
	c->got[c->n_got] = *e;
	/* e->receipt is freed when the callback returns. */
	c->got[c->n_got].receipt = malloc(e->receipt_len + 1);
	memcpy(c->got[c->n_got].receipt, e->receipt, e->receipt_len);
	c->n_got++;
	return 0;
}

static int inbox_read(store_txn *t, void *arg)
{
	struct in_ctx *c = arg;
	c->n_got = 0;
	int r = store_inbox_each(t, inbox_collect, c);
	if (r == 0)
		c->r_get = store_inbox_get(t, c->want, &c->got[3]);
	return r ? r : c->r_get < 0 && c->r_get != BATON_ENOTFOUND ? c->r_get : 0;
}

static void inbox_equal(const store_inbox *a, const store_inbox *b)
{
	assert_memory_equal(a->packet, b->packet, BATON_ID_BYTES);
	assert_string_equal(a->from, b->from);
	assert_string_equal(a->student, b->student);
	assert_int_equal(a->reason, b->reason);
	assert_int_equal(a->time, b->time);
	assert_int_equal(a->receipt_len, b->receipt_len);
	if (a->receipt_len)
		assert_memory_equal(a->receipt, b->receipt, a->receipt_len);
}

static void inbox_free_got(struct in_ctx *c)
{
	for (size_t i = 0; i < 4; i++) {
		free(c->got[i].receipt);
		c->got[i].receipt = NULL;
	}
}

static void test_inbox(void **state)
{
	struct fx *f = *state;
	struct in_ctx *c = calloc(1, sizeof(*c));
	uint8_t *big = malloc(BATON_OBJ_MAX), small[1] = {0};
	assert_true(c != NULL && big != NULL);

	fill_bytes(big, BATON_OBJ_MAX, 0x21);
	fill_bytes(c->put[0].packet, BATON_ID_BYTES, 0x10);
	fill_str(c->put[0].from, BATON_CODE_MAX, 'F');
	fill_str(c->put[0].student, BATON_STUDENT_MAX, 's');
	c->put[0].reason = 0;
	c->put[0].time = TU_NOW + 1;
	c->put[0].receipt = big;
	c->put[0].receipt_len = BATON_OBJ_MAX;
	/* A refused packet: no student, a reason, an empty receipt. */
	fill_bytes(c->put[1].packet, BATON_ID_BYTES, 0x20);
	snprintf(c->put[1].from, sizeof(c->put[1].from), "RHS-002");
	c->put[1].reason = 6;
	c->put[1].time = TU_NOW + 2;
	c->put[1].receipt = small;
	c->n_put = 2;
	assert_int_equal(store_write(f->s, inbox_put_all, c), 0);

	memcpy(c->want, c->put[1].packet, BATON_ID_BYTES);
	assert_int_equal(store_read(f->s, inbox_read, c), 0);
	assert_int_equal(c->r_get, 0);
	assert_int_equal(c->n_got, 2);
	inbox_equal(&c->got[0], &c->put[0]);
	inbox_equal(&c->got[1], &c->put[1]);
	inbox_equal(&c->got[3], &c->put[1]);
	inbox_free_got(c);

	/* A later put of the same packet replaces its entry. */
	c->put[1].reason = 3;
	snprintf(c->put[1].student, sizeof(c->put[1].student), "S-7");
	c->put[1].receipt = big + 100;
	c->put[1].receipt_len = 200;
	c->n_put = 2;
	assert_int_equal(store_write(f->s, inbox_put_all, c), 0);
	assert_int_equal(store_read(f->s, inbox_read, c), 0);
	assert_int_equal(c->n_got, 2);
	inbox_equal(&c->got[3], &c->put[1]);
	inbox_free_got(c);

	/* A packet never seen, and one whose put was aborted, are new. */
	fill_bytes(c->put[0].packet, BATON_ID_BYTES, 0x30);
	c->n_put = 1;
	write_then_abort(f->s, inbox_put_all, c);
	memcpy(c->want, c->put[0].packet, BATON_ID_BYTES);
	assert_int_equal(store_read(f->s, inbox_read, c), 0);
	assert_int_equal(c->r_get, BATON_ENOTFOUND);
	assert_int_equal(c->n_got, 2);
	inbox_free_got(c);
	free(big);
	free(c);
}

/* ---- requests held for the registrar ---- */

struct req_ctx {
	store_request put, got;
	uint8_t want[BATON_ID_BYTES];
	size_t n_got;
	uint8_t listed[4][BATON_ID_BYTES];
	int r_get;
};

static int request_put_one(store_txn *t, void *arg)
{
	return store_request_put(t, &((struct req_ctx *)arg)->put);
}

static int request_collect(const store_request *e, void *arg)
{
	struct req_ctx *c = arg;
	if (c->n_got == 4)
		return BATON_EINTERNAL;
	memcpy(c->listed[c->n_got++], e->id, BATON_ID_BYTES);
	if (memcmp(e->id, c->want, BATON_ID_BYTES) == 0 && memcmp(e, &c->got, sizeof(*e)) != 0)
		return BATON_EINTERNAL; /* each must give what get gives */
	return 0;
}

static int request_read(store_txn *t, void *arg)
{
	struct req_ctx *c = arg;
	c->n_got = 0;
	c->r_get = store_request_get(t, c->want, &c->got);
	if (c->r_get < 0 && c->r_get != BATON_ENOTFOUND)
		return c->r_get;
	return store_request_each(t, request_collect, c);
}

static void request_fill(store_request *e, uint8_t seed)
{
	memset(e, 0, sizeof(*e));
	fill_bytes(e->id, sizeof(e->id), seed);
	fill_bytes(e->hash, sizeof(e->hash), (uint8_t)(seed + 1));
	snprintf(e->from, sizeof(e->from), "LHS-%03u", seed);
	snprintf(e->student, sizeof(e->student), "S-%u", seed);
	e->want = 0x5;
	e->consent_len = 300;
	fill_bytes(e->consent, e->consent_len, (uint8_t)(seed + 2));
	snprintf(e->note, sizeof(e->note), "moving in March");
	e->state = REQ_HELD;
	e->time = TU_NOW + seed;
}

static void test_requests(void **state)
{
	struct fx *f = *state;
	struct req_ctx *c = calloc(1, sizeof(*c));
	assert_non_null(c);

	request_fill(&c->put, 2);
	assert_int_equal(store_write(f->s, request_put_one, c), 0);
	/* The largest a request may carry: a full consent, note and answer. */
	request_fill(&c->put, 1);
	c->put.consent_len = BATON_OBJ_MAX;
	fill_bytes(c->put.consent, BATON_OBJ_MAX, 0x33);
	fill_str(c->put.from, BATON_CODE_MAX, 'F');
	fill_str(c->put.student, BATON_STUDENT_MAX, 's');
	fill_str(c->put.note, BATON_NOTE_MAX, 'n');
	assert_int_equal(store_write(f->s, request_put_one, c), 0);
	memcpy(c->want, c->put.id, BATON_ID_BYTES);
	assert_int_equal(store_read(f->s, request_read, c), 0);
	assert_int_equal(c->r_get, 0);
	assert_memory_equal(&c->got, &c->put, sizeof(store_request));
	assert_int_equal(c->n_got, 2);
	assert_memory_equal(c->listed[0], c->put.id, BATON_ID_BYTES);

	/* Denied: the state and the registrar's answer are kept. */
	c->put.state = REQ_DENIED;
	fill_str(c->put.answer, BATON_NOTE_MAX, 'a');
	assert_int_equal(store_write(f->s, request_put_one, c), 0);
	assert_int_equal(store_read(f->s, request_read, c), 0);
	assert_memory_equal(&c->got, &c->put, sizeof(store_request));

	/* Released: the transfer's id is kept; an aborted update leaves the last one. */
	request_fill(&c->put, 2);
	c->put.state = REQ_RELEASED;
	fill_bytes(c->put.release, BATON_ID_BYTES, 0x44);
	assert_int_equal(store_write(f->s, request_put_one, c), 0);
	store_request released = c->put;
	c->put.state = REQ_DENIED;
	snprintf(c->put.answer, sizeof(c->put.answer), "no");
	write_then_abort(f->s, request_put_one, c);
	memcpy(c->want, released.id, BATON_ID_BYTES);
	assert_int_equal(store_read(f->s, request_read, c), 0);
	assert_memory_equal(&c->got, &released, sizeof(store_request));
	assert_int_equal(c->n_got, 2);

	/* An unknown request, and one whose put was aborted. */
	request_fill(&c->put, 3);
	write_then_abort(f->s, request_put_one, c);
	memcpy(c->want, c->put.id, BATON_ID_BYTES);
	assert_int_equal(store_read(f->s, request_read, c), 0);
	assert_int_equal(c->r_get, BATON_ENOTFOUND);
	assert_int_equal(c->n_got, 2);
	free(c);
}

/* ---- consents and revocations ---- */

struct cons_ctx {
	store_consent put;
	uint8_t want[BATON_ID_BYTES];
	store_consent got;
	int r_get;
	size_t n_each;
	char each_students[4][BATON_STUDENT_MAX + 1];
	/* revocations */
	uint8_t signer[BATON_PK_BYTES];
	int standing;
	uint8_t rev[64];
	size_t n_rev;
	uint8_t rev_signers[4][BATON_PK_BYTES];
	int rev_standing[4];
	size_t rev_len[4];
	int rev_bytes_ok;
};

static int consent_put_one(store_txn *t, void *arg)
{
	return store_consent_put(t, &((struct cons_ctx *)arg)->put);
}

static int consent_collect(const store_consent *e, void *arg)
{
	struct cons_ctx *c = arg;
	if (c->n_each == 4)
		return BATON_EINTERNAL;
	snprintf(c->each_students[c->n_each++], sizeof(c->each_students[0]), "%s", e->student);
	return 0;
}

static int consent_read(store_txn *t, void *arg)
{
	struct cons_ctx *c = arg;
	c->n_each = 0;
	free(c->got.bytes);
	c->got.bytes = NULL;
	if ((c->r_get = store_consent_get(t, c->want, &c->got)) < 0 && c->r_get != BATON_ENOTFOUND)
		return c->r_get;
	return store_consent_each(t, consent_collect, c);
}

static int revocation_put_one(store_txn *t, void *arg)
{
	struct cons_ctx *c = arg;
	return store_revocation_put(t, c->want, c->signer, c->standing, c->rev, sizeof(c->rev));
}

static int revocation_collect(const uint8_t signer[BATON_PK_BYTES], int standing,
                              const uint8_t *bytes, size_t len, void *arg)
{
	struct cons_ctx *c = arg;
	uint8_t expect[sizeof(c->rev)];
	if (c->n_rev == 4)
		return BATON_EINTERNAL;
	memcpy(c->rev_signers[c->n_rev], signer, BATON_PK_BYTES);
	c->rev_standing[c->n_rev] = standing;
	c->rev_len[c->n_rev] = len;
	/* Each revocation's bytes were made from its signer's first byte. */
	fill_bytes(expect, sizeof(expect), signer[0]);
	if (len != sizeof(expect) || memcmp(bytes, expect, len) != 0)
		c->rev_bytes_ok = 0;
	c->n_rev++;
	return 0;
}

static int revocation_read(store_txn *t, void *arg)
{
	struct cons_ctx *c = arg;
	c->n_rev = 0;
	c->rev_bytes_ok = 1;
	return store_revocation_each(t, c->want, revocation_collect, c);
}

static void revoke_as(struct fx *f, struct cons_ctx *c, uint8_t consent, uint8_t signer,
                      int standing)
{
	fill_bytes(c->want, BATON_ID_BYTES, consent);
	fill_bytes(c->signer, BATON_PK_BYTES, signer);
	fill_bytes(c->rev, sizeof(c->rev), signer);
	c->standing = standing;
	assert_int_equal(store_write(f->s, revocation_put_one, c), 0);
}

static void test_consents(void **state)
{
	struct fx *f = *state;
	struct cons_ctx *c = calloc(1, sizeof(*c));
	uint8_t *bytes = malloc(BATON_OBJ_MAX);
	assert_true(c != NULL && bytes != NULL);
	fill_bytes(bytes, BATON_OBJ_MAX, 0x55);

	fill_bytes(c->put.id, BATON_ID_BYTES, 0x02);
	snprintf(c->put.student, sizeof(c->put.student), "S-2");
	c->put.seen = TU_NOW + 2;
	c->put.bytes = bytes;
	c->put.len = 10;
	assert_int_equal(store_write(f->s, consent_put_one, c), 0);
	fill_bytes(c->put.id, BATON_ID_BYTES, 0x01);
	fill_str(c->put.student, BATON_STUDENT_MAX, 's');
	c->put.seen = TU_NOW + 1;
	c->put.len = BATON_OBJ_MAX;
	assert_int_equal(store_write(f->s, consent_put_one, c), 0);

	memcpy(c->want, c->put.id, BATON_ID_BYTES);
	assert_int_equal(store_read(f->s, consent_read, c), 0);
	assert_int_equal(c->r_get, 0);
	assert_memory_equal(c->got.id, c->put.id, BATON_ID_BYTES);
	assert_string_equal(c->got.student, c->put.student);
	assert_int_equal(c->got.seen, c->put.seen);
	assert_int_equal(c->got.len, BATON_OBJ_MAX);
	assert_memory_equal(c->got.bytes, bytes, BATON_OBJ_MAX);
	assert_int_equal(c->n_each, 2);
	assert_string_equal(c->each_students[0], c->put.student);
	assert_string_equal(c->each_students[1], "S-2");

	/* Unknown, and aborted: not seen. */
	fill_bytes(c->put.id, BATON_ID_BYTES, 0x03);
	write_then_abort(f->s, consent_put_one, c);
	memcpy(c->want, c->put.id, BATON_ID_BYTES);
	assert_int_equal(store_read(f->s, consent_read, c), 0);
	assert_int_equal(c->r_get, BATON_ENOTFOUND);
	assert_int_equal(c->n_each, 2);

	/* Revocations: one per signer of one consent, in signer order, with their standing. */
	revoke_as(f, c, 0x01, 0xb0, REV_IN_FORCE);
	revoke_as(f, c, 0x01, 0xa0, REV_PENDING);
	revoke_as(f, c, 0x02, 0xc0, REV_NO_RIGHT);
	revoke_as(f, c, 0x00, 0xd0, REV_IN_FORCE);
	fill_bytes(c->want, BATON_ID_BYTES, 0x01);
	assert_int_equal(store_read(f->s, revocation_read, c), 0);
	assert_int_equal(c->n_rev, 2);
	assert_true(c->rev_bytes_ok);
	assert_int_equal(c->rev_signers[0][0], 0xa0);
	assert_int_equal(c->rev_standing[0], REV_PENDING);
	assert_int_equal(c->rev_signers[1][0], 0xb0);
	assert_int_equal(c->rev_standing[1], REV_IN_FORCE);
	/* The same signer again replaces its standing (a pending one decided). */
	revoke_as(f, c, 0x01, 0xa0, REV_NO_RIGHT);
	assert_int_equal(store_read(f->s, revocation_read, c), 0);
	assert_int_equal(c->n_rev, 2);
	assert_int_equal(c->rev_standing[0], REV_NO_RIGHT);
	/* An aborted revocation is not in force. */
	fill_bytes(c->want, BATON_ID_BYTES, 0x03);
	fill_bytes(c->signer, BATON_PK_BYTES, 0xe0);
	c->standing = REV_IN_FORCE;
	write_then_abort(f->s, revocation_put_one, c);
	assert_int_equal(store_read(f->s, revocation_read, c), 0);
	assert_int_equal(c->n_rev, 0);
	free(c->got.bytes);
	free(bytes);
	free(c);
}

/* ---- packets, requests asked and origins ---- */

struct small_ctx {
	uint8_t id[BATON_ID_BYTES], found[BATON_ID_BYTES];
	uint8_t *p;
	size_t n;
	const uint8_t *data;
	size_t data_len;
	const char *code, *student, *local;
	char where[BATON_STUDENT_MAX + 1];
	size_t cap;
	int r;
};

static int packet_put_one(store_txn *t, void *arg)
{
	struct small_ctx *c = arg;
	return store_packet_put(t, c->id, c->data, c->data_len);
}

static int packet_read(store_txn *t, void *arg)
{
	struct small_ctx *c = arg;
	size_t n = 0;
	/* Asking for the size only gives the size the full read gives. */
	int r1 = store_packet_get(t, c->id, NULL, &n);
	c->r = store_packet_get(t, c->id, &c->p, &c->n);
	if (r1 != c->r || n != c->n)
		return BATON_EINTERNAL;
	return c->r < 0 && c->r != BATON_ENOTFOUND ? c->r : 0;
}

static void test_packets(void **state)
{
	struct fx *f = *state;
	struct small_ctx c;
	size_t big = 256 * 1024;
	uint8_t *data = malloc(big);
	assert_non_null(data);
	fill_bytes(data, big, 0x66);

	memset(&c, 0, sizeof(c));
	fill_bytes(c.id, BATON_ID_BYTES, 1);
	c.data = data;
	c.data_len = big;
	assert_int_equal(store_write(f->s, packet_put_one, &c), 0);
	fill_bytes(c.id, BATON_ID_BYTES, 2);
	c.data_len = 1;
	assert_int_equal(store_write(f->s, packet_put_one, &c), 0);

	fill_bytes(c.id, BATON_ID_BYTES, 1);
	assert_int_equal(store_read(f->s, packet_read, &c), 0);
	assert_int_equal(c.r, 0);
	assert_int_equal(c.n, big);
	assert_memory_equal(c.p, data, big);
	free(c.p);
	fill_bytes(c.id, BATON_ID_BYTES, 2);
	assert_int_equal(store_read(f->s, packet_read, &c), 0);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.p[0], data[0]);
	free(c.p);

	fill_bytes(c.id, BATON_ID_BYTES, 3);
	write_then_abort(f->s, packet_put_one, &c);
	assert_int_equal(store_read(f->s, packet_read, &c), 0);
	assert_int_equal(c.r, BATON_ENOTFOUND);
	assert_null(c.p);
	assert_int_equal(c.n, 0);
	free(data);
}

static int asked_op(store_txn *t, void *arg)
{
	struct small_ctx *c = arg;
	c->r = c->data ? store_asked_put(t, c->code, c->student, c->data)
	               : store_asked_take(t, c->code, c->student, c->found);
	return c->r < 0 && c->r != BATON_ENOTFOUND ? c->r : 0;
}

static void test_asked(void **state)
{
	struct fx *f = *state;
	struct small_ctx c;
	uint8_t id1[BATON_ID_BYTES], id2[BATON_ID_BYTES];
	char longest[BATON_STUDENT_MAX + 3];

	fill_bytes(id1, sizeof(id1), 0x11);
	fill_bytes(id2, sizeof(id2), 0x22);
	memset(&c, 0, sizeof(c));
	c.code = "RHS-002";
	c.student = "S-1";
	c.data = id1;
	assert_int_equal(store_write(f->s, asked_op, &c), 0);
	/* The same student at another school is another request. */
	c.code = "OHS-003";
	c.data = id2;
	assert_int_equal(store_write(f->s, asked_op, &c), 0);

	/* Taken once: the second take finds none. */
	c.code = "RHS-002";
	c.data = NULL;
	assert_int_equal(store_write(f->s, asked_op, &c), 0);
	assert_int_equal(c.r, 0);
	assert_memory_equal(c.found, id1, BATON_ID_BYTES);
	assert_int_equal(store_write(f->s, asked_op, &c), 0);
	assert_int_equal(c.r, BATON_ENOTFOUND);
	/* A take in a transaction that failed forgets nothing. */
	c.code = "OHS-003";
	write_then_abort(f->s, asked_op, &c);
	memset(c.found, 0, sizeof(c.found));
	assert_int_equal(store_write(f->s, asked_op, &c), 0);
	assert_int_equal(c.r, 0);
	assert_memory_equal(c.found, id2, BATON_ID_BYTES);
	/* A recorded request in a failed transaction is not recorded. */
	c.data = id1;
	write_then_abort(f->s, asked_op, &c);
	c.data = NULL;
	assert_int_equal(store_write(f->s, asked_op, &c), 0);
	assert_int_equal(c.r, BATON_ENOTFOUND);

	/* The longest code and student id fit; a key longer than both is refused. */
	char code[BATON_CODE_MAX + 1];
	fill_str(code, BATON_CODE_MAX, 'C');
	fill_str(longest, BATON_STUDENT_MAX, 's');
	c.code = code;
	c.student = longest;
	c.data = id1;
	assert_int_equal(store_write(f->s, asked_op, &c), 0);
	c.data = NULL;
	assert_int_equal(store_write(f->s, asked_op, &c), 0);
	assert_int_equal(c.r, 0);
	assert_memory_equal(c.found, id1, BATON_ID_BYTES);
	fill_str(longest, BATON_STUDENT_MAX + 2, 's');
	c.data = id1;
	assert_int_equal(store_write(f->s, asked_op, &c), BATON_EINVAL);
	assert_non_null(strstr(baton_diag(), "key too long"));
}

static int origin_op(store_txn *t, void *arg)
{
	struct small_ctx *c = arg;
	c->r = c->local ? store_origin_put(t, c->code, c->student, c->local)
	                : store_origin_get(t, c->code, c->student, c->where, c->cap);
	return c->r < 0 && c->r != BATON_ENOTFOUND ? c->r : 0;
}

static void test_origins(void **state)
{
	struct fx *f = *state;
	struct small_ctx c;
	char longest[BATON_STUDENT_MAX + 1];

	memset(&c, 0, sizeof(c));
	c.cap = sizeof(c.where);
	c.code = "RHS-002";
	c.student = "R-9";
	c.local = "S-1";
	assert_int_equal(store_write(f->s, origin_op, &c), 0);
	c.code = "OHS-003";
	c.local = "S-2";
	assert_int_equal(store_write(f->s, origin_op, &c), 0);

	/* Looking up does not forget: the same answer twice, per school. */
	c.local = NULL;
	for (int i = 0; i < 2; i++) {
		c.code = "RHS-002";
		assert_int_equal(store_read(f->s, origin_op, &c), 0);
		assert_int_equal(c.r, 0);
		assert_string_equal(c.where, "S-1");
		c.code = "OHS-003";
		assert_int_equal(store_read(f->s, origin_op, &c), 0);
		assert_string_equal(c.where, "S-2");
	}
	/* A later arrival of that child moves the mapping; an aborted one does not. */
	c.local = "S-3";
	assert_int_equal(store_write(f->s, origin_op, &c), 0);
	c.local = "S-4";
	write_then_abort(f->s, origin_op, &c);
	c.local = NULL;
	assert_int_equal(store_read(f->s, origin_op, &c), 0);
	assert_string_equal(c.where, "S-3");
	c.student = "R-404";
	assert_int_equal(store_read(f->s, origin_op, &c), 0);
	assert_int_equal(c.r, BATON_ENOTFOUND);

	/* A local id longer than the caller's buffer is an error, not a cut id. */
	fill_str(longest, BATON_STUDENT_MAX, 'l');
	c.student = "R-10";
	c.local = longest;
	assert_int_equal(store_write(f->s, origin_op, &c), 0);
	c.local = NULL;
	assert_int_equal(store_read(f->s, origin_op, &c), 0);
	assert_string_equal(c.where, longest);
	c.cap = 8;
	assert_int_equal(store_read(f->s, origin_op, &c), BATON_EIO);
}

/* ---- blobs reserved and filled in place ---- */

struct reserve_ctx {
	uint8_t hash[32];
	size_t len;
	uint8_t seed;
	int r;
	int same;
};

static int blob_reserve_fill(store_txn *t, void *arg)
{
	struct reserve_ctx *c = arg;
	uint8_t *p;
	c->r = store_blob_reserve(t, c->hash, c->len, &p);
	if (c->r == 0)
		fill_bytes(p, c->len, c->seed);
	else if (p != NULL)
		return BATON_EINTERNAL;
	return c->r < 0 && c->r != BATON_EEXIST ? c->r : 0;
}

static int blob_check(store_txn *t, void *arg)
{
	struct reserve_ctx *c = arg;
	const uint8_t *p;
	size_t n;
	c->same = 0;
	if ((c->r = store_blob_get(t, c->hash, &p, &n)) != 0)
		return c->r < 0 && c->r != BATON_ENOTFOUND ? c->r : 0;
	c->same = n == c->len;
	for (size_t i = 0; c->same && i < n; i++)
		c->same = p[i] == (uint8_t)(c->seed + i * 7);
	return 0;
}

static void test_blob_reserve(void **state)
{
	struct fx *f = *state;
	struct reserve_ctx c = {{0}, 3 << 20, 0x70, 0, 0};
	fill_bytes(c.hash, 32, 0x01);
	assert_int_equal(store_write(f->s, blob_reserve_fill, &c), 0);
	assert_int_equal(c.r, 0);
	assert_int_equal(store_read(f->s, blob_check, &c), 0);
	assert_true(c.same);
	/* Content-addressed: a second reserve of the same hash says it is stored, and
	 * the bytes stay the first ones. */
	c.seed = 0x71;
	assert_int_equal(store_write(f->s, blob_reserve_fill, &c), 0);
	assert_int_equal(c.r, BATON_EEXIST);
	c.seed = 0x70;
	assert_int_equal(store_read(f->s, blob_check, &c), 0);
	assert_true(c.same);
	/* Reserved in a transaction that failed: not stored. */
	fill_bytes(c.hash, 32, 0x02);
	write_then_abort(f->s, blob_reserve_fill, &c);
	assert_int_equal(store_read(f->s, blob_check, &c), 0);
	assert_int_equal(c.r, BATON_ENOTFOUND);
}

/* Pages let go of in a mapped file read back from the file. */
static void test_pages_done(void **state)
{
	struct fx *f = *state;
	char path[128];
	size_t len = (4u << 20) + 123, page = (size_t)sysconf(_SC_PAGESIZE);
	uint8_t *data = malloc(len);
	assert_non_null(data);
	fill_bytes(data, len, 0x5a);
	snprintf(path, sizeof(path), "%s/mapped", f->dir);
	FILE *fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(data, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
	int fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	const uint8_t *m = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	assert_true(m != MAP_FAILED);

	/* Less than a quarter slice is not worth a system call: the watermark stays. */
	assert_int_equal(store_pages_done(m, 0, 4 * page), 0);
	/* Otherwise the watermark moves to the last whole page done, never past to. */
	size_t w = store_pages_done(m, 0, 2u << 20);
	assert_int_equal(w, 2u << 20);
	w = store_pages_done(m, w, len);
	assert_true(w <= len && w > len - page);
	assert_int_equal(w % page, 0);
	assert_int_equal(store_pages_done(m, w, len), w);
	assert_memory_equal(m, data, len);
	munmap((void *)(uintptr_t)m, len);
	free(data);
}

/* ---- students by statewide id, and a record on file ---- */

struct sid_ctx {
	const char *id, *state_id, *json;
	char owner[BATON_STUDENT_MAX + 1];
	size_t cap;
	int r;
	store_student s;
};

static int sid_put(store_txn *t, void *arg)
{
	struct sid_ctx *c = arg;
	store_student s;
	memset(&s, 0, sizeof(s));
	snprintf(s.id, sizeof(s.id), "%s", c->id);
	snprintf(s.state_id, sizeof(s.state_id), "%s", c->state_id);
	snprintf(s.family_name, sizeof(s.family_name), "Okafor");
	snprintf(s.birth_date, sizeof(s.birth_date), "2011-04-17");
	return store_student_put(t, &s, c->json, strlen(c->json));
}

static int sid_get(store_txn *t, void *arg)
{
	struct sid_ctx *c = arg;
	memset(c->owner, 0, sizeof(c->owner));
	c->r = store_student_by_state_id(t, c->state_id, c->owner, c->cap);
	return c->r < 0 && c->r != BATON_ENOTFOUND ? c->r : 0;
}

static int record_same(store_txn *t, void *arg)
{
	struct sid_ctx *c = arg;
	int same = 0, r = store_record_same(t, c->id, c->json, &c->s, &same);
	c->r = r != 0 ? r : same;
	return r;
}

static void owner_is(struct fx *f, struct sid_ctx *c, const char *state_id, int r, const char *id)
{
	c->state_id = state_id;
	c->cap = sizeof(c->owner);
	assert_int_equal(store_read(f->s, sid_get, c), 0);
	assert_int_equal(c->r, r);
	if (id)
		assert_string_equal(c->owner, id);
}

static void test_state_ids(void **state)
{
	struct fx *f = *state;
	struct sid_ctx c;
	memset(&c, 0, sizeof(c));
	c.id = "S-1";
	c.state_id = "ST-100";
	c.json = "{\"v\":1}";
	assert_int_equal(store_write(f->s, sid_put, &c), 0);
	c.id = "S-2";
	c.state_id = "ST-200";
	assert_int_equal(store_write(f->s, sid_put, &c), 0);
	owner_is(f, &c, "ST-100", 0, "S-1");
	owner_is(f, &c, "ST-200", 0, "S-2");
	owner_is(f, &c, "ST-300", BATON_ENOTFOUND, NULL);

	/* One statewide id, one student. */
	c.id = "S-2";
	c.state_id = "ST-100";
	assert_int_equal(store_write(f->s, sid_put, &c), BATON_EVALUE);
	assert_non_null(strstr(baton_diag(), "\"ST-100\" already belongs to student S-1"));
	owner_is(f, &c, "ST-100", 0, "S-1");
	owner_is(f, &c, "ST-200", 0, "S-2");
	/* A corrected id moves the mapping; the old one names no one. */
	c.id = "S-1";
	c.state_id = "ST-101";
	c.json = "{\"v\":2}";
	assert_int_equal(store_write(f->s, sid_put, &c), 0);
	owner_is(f, &c, "ST-101", 0, "S-1");
	owner_is(f, &c, "ST-100", BATON_ENOTFOUND, NULL);
	/* ... unless the correction was aborted. */
	c.state_id = "ST-102";
	c.json = "{\"v\":3}";
	write_then_abort(f->s, sid_put, &c);
	owner_is(f, &c, "ST-101", 0, "S-1");
	owner_is(f, &c, "ST-102", BATON_ENOTFOUND, NULL);
	/* An owner longer than the caller's buffer is an error, not a cut id. */
	c.state_id = "ST-101";
	c.cap = 3;
	assert_int_equal(store_read(f->s, sid_get, &c), BATON_EIO);

	/* The same record is the latest version on file, byte for byte. */
	c.id = "S-1";
	c.json = "{\"v\":2}";
	assert_int_equal(store_read(f->s, record_same, &c), 0);
	assert_int_equal(c.r, 1);
	assert_int_equal(c.s.version, 2);
	assert_string_equal(c.s.state_id, "ST-101");
	c.json = "{\"v\":1}"; /* an older version */
	assert_int_equal(store_read(f->s, record_same, &c), 0);
	assert_int_equal(c.r, 0);
	c.json = "{\"v\":2} "; /* one byte more */
	assert_int_equal(store_read(f->s, record_same, &c), 0);
	assert_int_equal(c.r, 0);
	c.json = "{\"v\":";
	assert_int_equal(store_read(f->s, record_same, &c), 0);
	assert_int_equal(c.r, 0);
	c.id = "S-404";
	assert_int_equal(store_read(f->s, record_same, &c), 0);
	assert_int_equal(c.r, 0);
}

/* ---- held items put directly and listed ---- */

struct held_list {
	store_held in[3];
	const char *json[3];
	size_t n;
	uint64_t ids[4];
	char json_seen[4][32];
};

static int held_put_all(store_txn *t, void *arg)
{
	struct held_list *c = arg;
	int r = 0;
	for (size_t i = 0; i < c->n && r == 0; i++)
		r = store_held_put(t, &c->in[i], c->json[i], strlen(c->json[i]));
	return r;
}

static int held_collect(const store_held *h, void *arg)
{
	struct held_list *c = arg;
	if (c->n == 4)
		return BATON_EINTERNAL;
	for (size_t i = 0; i < 3; i++) {
		const store_held *w = &c->in[i];
		if (w->id != h->id)
			continue;
		if (strcmp(w->student, h->student) != 0 || strcmp(w->from, h->from) != 0 ||
		    strcmp(w->their_id, h->their_id) != 0 || w->has_packet != h->has_packet ||
		    memcmp(w->packet, h->packet, BATON_ID_BYTES) != 0 || w->time != h->time ||
		    h->len != strlen(c->json[i]) || memcmp(h->json, c->json[i], h->len) != 0)
			return BATON_EINTERNAL;
	}
	c->ids[c->n++] = h->id;
	return 0;
}

static int held_list_all(store_txn *t, void *arg)
{
	struct held_list *c = arg;
	c->n = 0;
	return store_held_each(t, held_collect, c);
}

static void test_held_each(void **state)
{
	struct fx *f = *state;
	struct held_list c;
	memset(&c, 0, sizeof(c));
	snprintf(c.in[0].student, sizeof(c.in[0].student), "S-1");
	fill_str(c.in[1].student, BATON_STUDENT_MAX, 's');
	fill_str(c.in[1].from, BATON_CODE_MAX, 'F');
	fill_str(c.in[1].their_id, BATON_STUDENT_MAX, 't');
	fill_bytes(c.in[1].packet, BATON_ID_BYTES, 0x42);
	c.in[1].has_packet = 1;
	snprintf(c.in[2].student, sizeof(c.in[2].student), "S-3");
	c.json[0] = "{\"a\":1}";
	c.json[1] = "{\"b\":2}";
	c.json[2] = "{\"c\":3}";
	c.n = 3;
	assert_int_equal(store_write_at(f->s, TU_NOW, held_put_all, &c), 0);
	assert_int_equal(c.in[0].id, 1);
	assert_int_equal(c.in[1].id, 2);
	assert_int_equal(c.in[2].id, 3);
	assert_int_equal(c.in[1].time, TU_NOW);
	assert_int_equal(store_read(f->s, held_list_all, &c), 0);
	assert_int_equal(c.n, 3);
	assert_int_equal(c.ids[0], 1);
	assert_int_equal(c.ids[2], 3);

	/* Numbers taken by a failed transaction are free again: none was shown to anyone. */
	c.n = 1;
	write_then_abort(f->s, held_put_all, &c);
	assert_int_equal(store_read(f->s, held_list_all, &c), 0);
	assert_int_equal(c.n, 3);
	c.n = 1;
	assert_int_equal(store_write_at(f->s, TU_NOW + 1, held_put_all, &c), 0);
	assert_int_equal(c.in[0].id, 4);
	assert_int_equal(store_read(f->s, held_list_all, &c), 0);
	assert_int_equal(c.n, 4);
	assert_int_equal(c.ids[3], 4);
}

static int students_version_fn(store_txn *t, void *arg)
{
	return store_students_version(t, arg);
}

static int audit_only(store_txn *t, void *arg)
{
	(void)arg;
	store_audit e;
	memset(&e, 0, sizeof(e));
	snprintf(e.action, sizeof(e.action), "login");
	return store_audit_append(t, &e);
}

/* The count the search index keys on moves with students and held records, and only them. */
static void test_students_version(void **state)
{
	struct fx *f = *state;
	struct put_ctx p = {"S-1", "{\"a\":1}", 0, 0};
	struct held_list c;
	uint64_t v0 = 1, v;
	assert_int_equal(store_read(f->s, students_version_fn, &v0), 0);
	assert_int_equal(v0, 0);
	assert_int_equal(store_write(f->s, put_student, &p), 0);
	assert_int_equal(store_read(f->s, students_version_fn, &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(store_write(f->s, audit_only, NULL), 0);
	assert_int_equal(store_read(f->s, students_version_fn, &v), 0);
	assert_int_equal(v, 1);
	/* A failed transaction counts nothing. */
	write_then_abort(f->s, put_student, &p);
	assert_int_equal(store_read(f->s, students_version_fn, &v), 0);
	assert_int_equal(v, 1);
	memset(&c, 0, sizeof(c));
	snprintf(c.in[0].student, sizeof(c.in[0].student), "S-1");
	c.json[0] = "{\"b\":2}";
	c.n = 1;
	assert_int_equal(store_write_at(f->s, TU_NOW, held_put_all, &c), 0);
	assert_int_equal(store_read(f->s, students_version_fn, &v), 0);
	assert_int_equal(v, 2);
	struct file_ctx d;
	memset(&d, 0, sizeof(d));
	d.held = c.in[0].id;
	assert_int_equal(store_write(f->s, held_del, &d), 0);
	assert_int_equal(store_read(f->s, students_version_fn, &v), 0);
	assert_int_equal(v, 3);
}

/* ---- cards, peers, heads kept from peers ---- */

struct card_read {
	const char *code;
	baton_card c;
	int r;
	size_t n_peers;
	char peers[4][BATON_CODE_MAX + 1];
	size_t peer_len[4];
	const uint8_t *head;
	size_t head_len;
	size_t n_heads;
	char head_codes[4][BATON_CODE_MAX + 1];
	uint64_t head_counts[4];
	int yes;
};

static int own_card_read(store_txn *t, void *arg)
{
	struct card_read *c = arg;
	c->r = store_own_card(t, &c->c);
	return c->r < 0 && c->r != BATON_ENOTFOUND ? c->r : 0;
}

static int peer_card_read(store_txn *t, void *arg)
{
	struct card_read *c = arg;
	c->r = store_peer_card(t, c->code, &c->c);
	return c->r < 0 && c->r != BATON_ENOTFOUND ? c->r : 0;
}

static int peer_collect(const char *code, const uint8_t *card, size_t len, void *arg)
{
	struct card_read *c = arg;
	baton_card parsed;
	if (c->n_peers == 4 || baton_card_parse(card, len, &parsed) != 0 ||
	    strcmp(parsed.code, code) != 0)
		return BATON_EINTERNAL;
	snprintf(c->peers[c->n_peers], sizeof(c->peers[0]), "%s", code);
	c->peer_len[c->n_peers++] = len;
	return 0;
}

static int peers_list(store_txn *t, void *arg)
{
	struct card_read *c = arg;
	c->n_peers = 0;
	return store_peer_each(t, peer_collect, c);
}

struct card_put {
	const char *code;
	const uint8_t *card;
	size_t len;
};

static int card_put_peer(store_txn *t, void *arg)
{
	struct card_put *p = arg;
	return p->code ? store_peer_put(t, p->code, p->card, p->len)
	               : store_meta_put(t, "card", p->card, p->len);
}

static void test_cards_and_peers(void **state)
{
	struct fx *f = *state;
	baton_key *a = tu_key(BATON_KEY_SCHOOL, 0x51), *b = tu_key(BATON_KEY_SCHOOL, 0x52);
	uint8_t *ca, *cb;
	size_t la, lb;
	struct card_read r;
	struct card_put p;

	tu_card(a, "Lincoln High School", "LHS-001", &ca, &la);
	tu_card(b, "Roosevelt High School", "RHS-002", &cb, &lb);
	memset(&r, 0, sizeof(r));
	assert_int_equal(store_read(f->s, own_card_read, &r), 0);
	assert_int_equal(r.r, BATON_ENOTFOUND);
	r.code = "RHS-002";
	assert_int_equal(store_read(f->s, peer_card_read, &r), 0);
	assert_int_equal(r.r, BATON_ENOTFOUND);

	p = (struct card_put){NULL, ca, la};
	assert_int_equal(store_write(f->s, card_put_peer, &p), 0);
	p = (struct card_put){"RHS-002", cb, lb};
	assert_int_equal(store_write(f->s, card_put_peer, &p), 0);
	p = (struct card_put){"OHS-003", cb, lb};
	write_then_abort(f->s, card_put_peer, &p);

	assert_int_equal(store_read(f->s, own_card_read, &r), 0);
	assert_int_equal(r.r, 0);
	assert_string_equal(r.c.code, "LHS-001");
	assert_memory_equal(r.c.id_pk, baton_key_id_pk(a), 32);
	assert_int_equal(store_read(f->s, peer_card_read, &r), 0);
	assert_int_equal(r.r, 0);
	assert_string_equal(r.c.code, "RHS-002");
	assert_memory_equal(r.c.id_pk, baton_key_id_pk(b), 32);
	r.code = "OHS-003";
	assert_int_equal(store_read(f->s, peer_card_read, &r), 0);
	assert_int_equal(r.r, BATON_ENOTFOUND);
	assert_int_equal(store_read(f->s, peers_list, &r), 0);
	assert_int_equal(r.n_peers, 1);
	assert_string_equal(r.peers[0], "RHS-002");
	assert_int_equal(r.peer_len[0], lb);

	/* A stored card that does not parse is an error, never a card. */
	p = (struct card_put){"BAD-1", cb, lb - 1};
	assert_int_equal(store_write(f->s, card_put_peer, &p), 0);
	r.code = "BAD-1";
	assert_int_equal(store_read(f->s, peer_card_read, &r), BATON_EIO);
	assert_non_null(strstr(baton_diag(), "a stored card does not parse"));
	free(ca);
	free(cb);
	baton_key_free(a);
	baton_key_free(b);
}

static int peer_head_put_one(store_txn *t, void *arg)
{
	struct card_read *c = arg;
	return store_peer_head_put(t, c->code, c->head, c->head_len);
}

static int head_collect(const char *code, const uint8_t *head, size_t len, void *arg)
{
	struct card_read *c = arg;
	baton_audit_head h;
	if (c->n_heads == 4 || baton_audit_head_parse(head, len, &h) != 0)
		return BATON_EINTERNAL;
	snprintf(c->head_codes[c->n_heads], sizeof(c->head_codes[0]), "%s", code);
	c->head_counts[c->n_heads++] = h.count;
	return 0;
}

static int heads_list(store_txn *t, void *arg)
{
	struct card_read *c = arg;
	c->n_heads = 0;
	return store_peer_head_each(t, head_collect, c);
}

static void put_head(struct fx *f, struct card_read *c, const baton_key *k, const char *code,
                     uint64_t count, int abort)
{
	baton_audit_head h;
	uint8_t *b;
	memset(&h, 0, sizeof(h));
	h.count = count;
	fill_bytes(h.head, sizeof(h.head), (uint8_t)count);
	memcpy(h.key, baton_key_id_pk(k), 32);
	h.time = TU_NOW;
	assert_int_equal(baton_audit_head_sign(&h, baton_key_id_sk(k), &b, &c->head_len), 0);
	c->head = b;
	c->code = code;
	if (abort)
		write_then_abort(f->s, peer_head_put_one, c);
	else
		assert_int_equal(store_write(f->s, peer_head_put_one, c), 0);
	free(b);
}

/* ---- federation directories ---- */

#define DIR_MANY 600 /* members of the largest directory below: many pages of rows */

struct dir_fx {
	uint8_t apk[32], ask[64]; /* the authority */
	baton_key *k[3];          /* LHS-001, RHS-002, OHS-003 */
	uint8_t *card[3];
	size_t len[3];
	uint8_t *bytes; /* the directory to put */
	size_t n;
	baton_directory d;
	store_directory_diff diff;
	int r;
	/* what the checks read */
	store_directory got;
	size_t n_members, n_auth;
	store_authority auth;
	uint8_t got_bytes_hash[32];
	char label[BATON_NAME_MAX + 1];
};

static void dir_sign(struct dir_fx *x, const char *name, uint64_t version, uint64_t expires,
                     const uint8_t *const *cards, const size_t *lens, size_t n,
                     const uint8_t *withdrawn, size_t n_withdrawn)
{
	baton_directory_free(&x->d);
	free(x->bytes);
	x->bytes = NULL;
	assert_int_equal(baton_directory_sign(name, version, TU_NOW - 60, expires, cards, lens, n,
	                                      withdrawn, n_withdrawn, x->ask, &x->bytes, &x->n),
	                 0);
	assert_int_equal(baton_directory_parse(x->bytes, x->n, &x->d), 0);
}

static int dir_pin(store_txn *t, void *arg)
{
	struct dir_fx *x = arg;
	store_authority a;
	memset(&a, 0, sizeof(a));
	memcpy(a.pk, x->apk, 32);
	snprintf(a.label, sizeof(a.label), "%s", x->label);
	return store_authority_put(t, &a);
}

static int dir_put(store_txn *t, void *arg)
{
	struct dir_fx *x = arg;
	return store_directory_put(t, &x->d, x->bytes, x->n, &x->diff);
}

static int count_member(const char *code, const uint8_t *card, size_t len, void *arg)
{
	struct dir_fx *x = arg;
	baton_card c;
	assert_int_equal(baton_card_parse(card, len, &c), 0);
	assert_string_equal(c.code, code);
	x->n_members++;
	return 0;
}

static int count_auth(const store_authority *a, void *arg)
{
	struct dir_fx *x = arg;
	x->auth = *a;
	x->n_auth++;
	return 0;
}

static int dir_read(store_txn *t, void *arg)
{
	struct dir_fx *x = arg;
	x->n_members = x->n_auth = 0;
	assert_int_equal(store_authority_each(t, count_auth, x), 0);
	if ((x->r = store_directory_get(t, x->apk, &x->got)) != 0)
		return x->r == BATON_ENOTFOUND ? 0 : x->r;
	crypto_generichash(x->got_bytes_hash, 32, x->got.bytes, x->got.len, NULL, 0);
	return store_directory_member_each(t, x->apk, count_member, x);
}

/* Who is trusted for each school, and by which key, as the node asks. */
struct trust_read {
	const char *code;
	const uint8_t *pk;
	int r_card, r_code, r_withdrawn, r_withdrawn_code;
	baton_card c;
	store_trust how;
	char found[BATON_CODE_MAX + 1], by[BATON_NAME_MAX + 1], by_code[BATON_NAME_MAX + 1];
};

static int trust_read(store_txn *t, void *arg)
{
	struct trust_read *x = arg;
	x->r_card = store_trusted_card(t, x->code, &x->c, &x->how);
	x->r_code = store_trusted_code(t, x->pk, x->found);
	x->r_withdrawn = store_withdrawn(t, x->pk, x->by);
	x->r_withdrawn_code = store_withdrawn_code(t, x->code, x->by_code);
	return 0;
}

static struct trust_read trust_at(store *s, uint64_t now, const char *code, const baton_key *k)
{
	struct trust_read x;
	memset(&x, 0, sizeof(x));
	x.code = code;
	x.pk = baton_key_id_pk(k);
	assert_int_equal(store_read_at(s, now, trust_read, &x), 0);
	return x;
}

static int dir_unpin(store_txn *t, void *arg)
{
	return store_authority_del(t, ((struct dir_fx *)arg)->apk);
}

static int dir_unpin_first(store_txn *t, void *arg)
{
	unsigned i = 0;
	uint8_t pk[BATON_PK_BYTES] = {0};
	(void)arg;
	memcpy(pk, &i, sizeof(i));
	pk[31] = 0x5a;
	return store_authority_del(t, pk);
}

static int pin_card(store_txn *t, void *arg)
{
	struct card_put *p = arg;
	return store_peer_put(t, p->code, p->card, p->len);
}

static int pin_many(store_txn *t, void *arg)
{
	struct dir_fx *x = arg;
	store_authority a;
	int r = 0;
	memset(&a, 0, sizeof(a));
	for (unsigned i = 0; i < STORE_AUTHORITIES_MAX && r == 0; i++) {
		memset(a.pk, 0, sizeof(a.pk));
		memcpy(a.pk, &i, sizeof(i));
		a.pk[31] = 0x5a;
		r = store_authority_put(t, &a);
	}
	(void)x;
	return r;
}

/* Every pin is consulted: the one past the most a node reads is refused, a re-pin is not. */
static void test_authorities_max(void **state)
{
	struct fx *f = *state;
	struct dir_fx x;
	uint8_t seed[32];

	memset(&x, 0, sizeof(x));
	memset(seed, 0xa8, sizeof(seed));
	crypto_sign_seed_keypair(x.apk, x.ask, seed);
	assert_int_equal(store_write(f->s, pin_many, &x), 0);
	assert_int_equal(store_write(f->s, dir_pin, &x), BATON_EVALUE);
	assert_non_null(strstr(baton_diag(), "256 authorities are pinned already"));
	assert_int_equal(store_read(f->s, dir_read, &x), 0);
	assert_int_equal(x.n_auth, STORE_AUTHORITIES_MAX);
	/* A label changed on one pinned already is no new pin. */
	assert_int_equal(store_write(f->s, pin_many, &x), 0);
	assert_int_equal(store_write(f->s, dir_unpin_first, &x), 0);
	assert_int_equal(store_write(f->s, dir_pin, &x), 0);
}

/* An authority's label and URL, each at its longest, each without the other, and cleared. */
struct auth_url {
	store_authority a, got;
};

static int auth_url_put(store_txn *t, void *arg)
{
	return store_authority_put(t, &((struct auth_url *)arg)->a);
}

static int auth_url_get(store_txn *t, void *arg)
{
	struct auth_url *x = arg;
	return store_authority_get(t, x->a.pk, &x->got);
}

static void test_authority_url(void **state)
{
	struct fx *f = *state;
	struct auth_url x;

	memset(&x, 0, sizeof(x));
	memset(x.a.pk, 0x42, 32);
	memset(x.a.label, 'L', BATON_NAME_MAX);
	/* Without a URL: the row as written before URLs (pinned || label). */
	assert_int_equal(store_write(f->s, auth_url_put, &x), 0);
	assert_int_equal(store_read(f->s, auth_url_get, &x), 0);
	assert_string_equal(x.got.label, x.a.label);
	assert_string_equal(x.got.url, "");
	assert_true(x.got.pinned != 0 && x.got.pinned == x.a.pinned);
	/* The longest URL, after the longest label. */
	memset(x.a.url, 'u', STORE_URL_MAX);
	assert_int_equal(store_write(f->s, auth_url_put, &x), 0);
	assert_int_equal(store_read(f->s, auth_url_get, &x), 0);
	assert_string_equal(x.got.label, x.a.label);
	assert_string_equal(x.got.url, x.a.url);
	/* A URL and no label; then the URL cleared. */
	x.a.label[0] = 0;
	snprintf(x.a.url, sizeof(x.a.url), "https://board.example/state.dir");
	assert_int_equal(store_write(f->s, auth_url_put, &x), 0);
	assert_int_equal(store_read(f->s, auth_url_get, &x), 0);
	assert_string_equal(x.got.label, "");
	assert_string_equal(x.got.url, "https://board.example/state.dir");
	x.a.url[0] = 0;
	assert_int_equal(store_write(f->s, auth_url_put, &x), 0);
	assert_int_equal(store_read(f->s, auth_url_get, &x), 0);
	assert_string_equal(x.got.url, "");
}

static void test_directories(void **state)
{
	struct fx *f = *state;
	struct dir_fx x;
	struct trust_read tr;
	const char *codes[3] = {"LHS-001", "RHS-002", "OHS-003"};
	char name[BATON_NAME_MAX + 1];
	uint8_t seed[32], h[32];

	memset(&x, 0, sizeof(x));
	memset(seed, 0xa7, sizeof(seed));
	crypto_sign_seed_keypair(x.apk, x.ask, seed);
	for (int i = 0; i < 3; i++) {
		x.k[i] = tu_key(BATON_KEY_SCHOOL, (uint8_t)(0x61 + i));
		tu_card(x.k[i], "School", codes[i], &x.card[i], &x.len[i]);
	}
	/* Every field at its full size: a name and a label of BATON_NAME_MAX bytes. */
	memset(name, 'N', BATON_NAME_MAX);
	name[BATON_NAME_MAX] = 0;
	memset(x.label, 'L', BATON_NAME_MAX);
	x.label[BATON_NAME_MAX] = 0;
	dir_sign(&x, name, 1, TU_NOW + TU_DAY, (const uint8_t *const *)x.card, x.len, 2,
	         baton_key_id_pk(x.k[2]), 1);

	/* Only the directory of a pinned authority is stored. */
	assert_int_equal(store_write(f->s, dir_put, &x), BATON_EINVAL);
	assert_int_equal(store_read(f->s, dir_read, &x), 0);
	assert_int_equal(x.r, BATON_ENOTFOUND);
	assert_int_equal(x.n_auth, 0);
	assert_int_equal(store_write(f->s, dir_pin, &x), 0);
	assert_int_equal(store_write(f->s, dir_put, &x), 0);
	assert_int_equal(x.diff.added, 2);
	assert_int_equal(x.diff.changed, 0);
	assert_int_equal(x.diff.withdrawn, 1);
	assert_int_equal(store_read(f->s, dir_read, &x), 0);
	assert_int_equal(x.r, 0);
	assert_int_equal(x.n_auth, 1);
	assert_string_equal(x.auth.label, x.label);
	assert_true(x.auth.pinned > 0);
	assert_string_equal(x.got.name, name);
	assert_int_equal(x.got.version, 1);
	assert_int_equal(x.got.expires, TU_NOW + TU_DAY);
	assert_int_equal(x.got.n_members, 2);
	assert_int_equal(x.got.n_withdrawn, 1);
	assert_memory_equal(x.got.hash, x.d.hash, 32);
	crypto_generichash(h, 32, x.bytes, x.n, NULL, 0);
	assert_memory_equal(x.got_bytes_hash, h, 32);
	assert_int_equal(x.n_members, 2);

	/* A member is trusted by code and by key, through the directory. */
	tr = trust_at(f->s, TU_NOW, "RHS-002", x.k[1]);
	assert_int_equal(tr.r_card, 0);
	assert_int_equal(tr.how.via, STORE_TRUST_DIRECTORY);
	assert_memory_equal(tr.how.authority, x.apk, 32);
	assert_string_equal(tr.how.authority_name, x.label);
	assert_memory_equal(tr.c.id_pk, baton_key_id_pk(x.k[1]), 32);
	assert_int_equal(tr.r_code, 0);
	assert_string_equal(tr.found, "RHS-002");
	assert_int_equal(tr.r_withdrawn, BATON_ENOTFOUND);
	assert_int_equal(tr.r_withdrawn_code, BATON_ENOTFOUND);
	/* Not once the directory has expired. */
	tr = trust_at(f->s, TU_NOW + TU_DAY + 1, "RHS-002", x.k[1]);
	assert_int_equal(tr.r_card, BATON_ENOTFOUND);
	assert_int_equal(tr.r_code, BATON_ENOTFOUND);

	/* A withdrawn key is not trusted, pinned by hand or not. */
	tr = trust_at(f->s, TU_NOW, "OHS-003", x.k[2]);
	assert_int_equal(tr.r_card, BATON_ENOTFOUND);
	assert_int_equal(tr.r_withdrawn, 0);
	assert_string_equal(tr.by, x.label);
	struct card_put p = {"OHS-003", x.card[2], x.len[2]};
	assert_int_equal(store_write(f->s, pin_card, &p), 0);
	tr = trust_at(f->s, TU_NOW, "OHS-003", x.k[2]);
	assert_int_equal(tr.r_card, BATON_ENOTFOUND);
	assert_int_equal(tr.r_code, BATON_ENOTFOUND);
	assert_int_equal(tr.r_withdrawn_code, 0);
	assert_string_equal(tr.by_code, x.label);

	/* A code pinned by hand wins over the directory: another key for RHS-002. */
	uint8_t *other;
	size_t olen;
	baton_key *ok = tu_key(BATON_KEY_SCHOOL, 0x70);
	tu_card(ok, "Other", "RHS-002", &other, &olen);
	p = (struct card_put){"RHS-002", other, olen};
	assert_int_equal(store_write(f->s, pin_card, &p), 0);
	tr = trust_at(f->s, TU_NOW, "RHS-002", x.k[1]);
	assert_int_equal(tr.r_card, 0);
	assert_int_equal(tr.how.via, STORE_TRUST_PIN);
	assert_memory_equal(tr.c.id_pk, baton_key_id_pk(ok), 32);
	assert_int_equal(tr.r_code, BATON_ENOTFOUND);

	/* A failed write transaction leaves the directory held as it was. */
	uint8_t *many[DIR_MANY];
	size_t many_len[DIR_MANY];
	for (int i = 0; i < DIR_MANY; i++) {
		char code[16];
		snprintf(code, sizeof(code), "M-%04d", i);
		tu_card(x.k[0], "Member", code, &many[i], &many_len[i]);
	}
	dir_sign(&x, "Board", 2, TU_NOW + TU_DAY, (const uint8_t *const *)many, many_len, DIR_MANY,
	         NULL, 0);
	write_then_abort(f->s, dir_put, &x);
	assert_int_equal(store_read(f->s, dir_read, &x), 0);
	assert_int_equal(x.got.version, 1);
	assert_int_equal(x.n_members, 2);
	/* Taken: every row of the old one replaced. */
	assert_int_equal(store_write(f->s, dir_put, &x), 0);
	assert_int_equal(x.diff.added, DIR_MANY);
	assert_int_equal(x.diff.removed, 2);
	assert_int_equal(x.diff.withdrawn, 0);
	assert_int_equal(store_read(f->s, dir_read, &x), 0);
	assert_int_equal(x.got.version, 2);
	assert_int_equal(x.n_members, DIR_MANY);
	tr = trust_at(f->s, TU_NOW, "OHS-003", x.k[2]);
	assert_int_equal(tr.r_card, 0); /* pinned, and withdrawn no more */
	assert_int_equal(tr.how.via, STORE_TRUST_PIN);

	/* Unpinned: none of its members is trusted, but its directory is kept ... */
	assert_int_equal(store_write(f->s, dir_unpin, &x), 0);
	assert_int_equal(store_write(f->s, dir_unpin, &x), BATON_ENOTFOUND);
	assert_int_equal(store_read(f->s, dir_read, &x), 0);
	assert_int_equal(x.r, 0);
	assert_int_equal(x.n_auth, 0);
	assert_int_equal(x.got.version, 2);
	tr = trust_at(f->s, TU_NOW, "M-0001", x.k[0]);
	assert_int_equal(tr.r_card, BATON_ENOTFOUND);
	/* ... so pinned again it holds version 2, not a fresh start. */
	assert_int_equal(store_write(f->s, dir_pin, &x), 0);
	assert_int_equal(store_read(f->s, dir_read, &x), 0);
	assert_int_equal(x.n_auth, 1);
	assert_int_equal(x.got.version, 2);
	assert_int_equal(store_write(f->s, dir_unpin, &x), 0);

	for (int i = 0; i < DIR_MANY; i++)
		free(many[i]);
	for (int i = 0; i < 3; i++) {
		free(x.card[i]);
		baton_key_free(x.k[i]);
	}
	free(other);
	baton_key_free(ok);
	baton_directory_free(&x.d);
	free(x.bytes);
}

static void test_peer_heads(void **state)
{
	struct fx *f = *state;
	baton_key *a = tu_key(BATON_KEY_SCHOOL, 0x61), *b = tu_key(BATON_KEY_SCHOOL, 0x62);
	struct card_read c;
	memset(&c, 0, sizeof(c));

	put_head(f, &c, a, "LHS-001", 5, 0);
	put_head(f, &c, b, "RHS-002", 7, 0);
	/* Only a head covering more entries replaces the one kept; an aborted one never. */
	put_head(f, &c, a, "LHS-001", 3, 0);
	put_head(f, &c, b, "RHS-002", 9, 0);
	put_head(f, &c, a, "LHS-001", 50, 1);
	assert_int_equal(store_read(f->s, heads_list, &c), 0);
	assert_int_equal(c.n_heads, 2);
	assert_string_equal(c.head_codes[0], "LHS-001");
	assert_int_equal(c.head_counts[0], 5);
	assert_string_equal(c.head_codes[1], "RHS-002");
	assert_int_equal(c.head_counts[1], 9);
	/* Bytes that are not a head are refused and keep nothing. */
	c.code = "OHS-003";
	c.head = (const uint8_t *)"not a head";
	c.head_len = 10;
	assert_true(store_write(f->s, peer_head_put_one, &c) < 0);
	assert_int_equal(store_read(f->s, heads_list, &c), 0);
	assert_int_equal(c.n_heads, 2);
	baton_key_free(a);
	baton_key_free(b);
}

static int audit_signed_read(store_txn *t, void *arg)
{
	struct card_read *c = arg;
	c->yes = -1;
	return store_audit_signed(t, &c->yes);
}

static void test_audit_signed(void **state)
{
	struct fx *f = *state;
	baton_key *a = tu_key(BATON_KEY_SCHOOL, 0x71);
	struct card_read c;
	memset(&c, 0, sizeof(c));
	/* An empty log has nothing unsigned. */
	assert_int_equal(store_read(f->s, audit_signed_read, &c), 0);
	assert_int_equal(c.yes, 1);
	assert_int_equal(store_write(f->s, audit_one, NULL), 0);
	assert_int_equal(store_read(f->s, audit_signed_read, &c), 0);
	assert_int_equal(c.yes, 0);
	assert_int_equal(store_write(f->s, sign_with, a), 0);
	assert_int_equal(store_read(f->s, audit_signed_read, &c), 0);
	assert_int_equal(c.yes, 1);
	/* A head signed over an entry, then the entry is not the last: unsigned again. */
	assert_int_equal(store_write(f->s, audit_one, NULL), 0);
	assert_int_equal(store_read(f->s, audit_signed_read, &c), 0);
	assert_int_equal(c.yes, 0);
	/* A signed head in a failed transaction does not count. */
	write_then_abort(f->s, sign_with, a);
	assert_int_equal(store_read(f->s, audit_signed_read, &c), 0);
	assert_int_equal(c.yes, 0);
	baton_key_free(a);
}

/* ---- the clock a transaction sees, and the store's version ---- */

static uint64_t fixed_clock(void)
{
	return TU_NOW + 12345;
}

struct now_ctx {
	uint64_t seen;
};

static int see_now(store_txn *t, void *arg)
{
	((struct now_ctx *)arg)->seen = t->now;
	return 0;
}

static void test_clock_and_version(void **state)
{
	struct fx *f = *state;
	struct now_ctx n = {0};
	struct put_ctx p = {"S-1", "{}", 0, 0};
	struct get_ctx g;

	store_set_clock(f->s, fixed_clock);
	assert_int_equal(store_read(f->s, see_now, &n), 0);
	assert_int_equal(n.seen, TU_NOW + 12345);
	assert_int_equal(store_write(f->s, see_now, &n), 0);
	assert_int_equal(n.seen, TU_NOW + 12345);
	assert_int_equal(store_read_at(f->s, TU_NOW + 7, see_now, &n), 0);
	assert_int_equal(n.seen, TU_NOW + 7);
	/* What a transaction writes carries its instant. */
	uint64_t v0 = store_version(f->s);
	assert_int_equal(store_write_at(f->s, TU_NOW + 9, put_student, &p), 0);
	uint64_t v1 = store_version(f->s);
	assert_true(v1 > v0);
	memset(&g, 0, sizeof(g));
	g.id = "S-1";
	assert_int_equal(store_read(f->s, get_student, &g), 0);
	assert_int_equal(g.s.updated, TU_NOW + 9);
	free(g.json);
	assert_int_equal(store_write(f->s, put_student, &p), 0);
	memset(&g, 0, sizeof(g));
	g.id = "S-1";
	assert_int_equal(store_read(f->s, get_student, &g), 0);
	assert_int_equal(g.s.updated, TU_NOW + 12345);
	free(g.json);
	/* Reads and failed writes leave the version alone; a commit moves it. */
	uint64_t v2 = store_version(f->s);
	assert_true(v2 > v1);
	write_then_abort(f->s, put_student, &p);
	assert_int_equal(store_read(f->s, see_now, &n), 0);
	assert_int_equal(store_version(f->s), v2);
	/* Without a clock set, the system's, read within the transaction. */
	store_set_clock(f->s, NULL);
	uint64_t before = (uint64_t)time(NULL);
	assert_int_equal(store_read(f->s, see_now, &n), 0);
	assert_true(n.seen >= before && n.seen <= (uint64_t)time(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_students_and_versions, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_audit_all_sections, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_duplicate_in_one_transaction, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_student_each, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_map_grows, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_map_grows_with_no_reader, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_version_while_resizing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_guardians, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_peers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_users, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_invites, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_meta_and_reopen, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_schema_2_upgrades, setup, teardown),
	    cmocka_unit_test(test_same_child),
	    cmocka_unit_test_setup_teardown(test_held_for_review, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_schema_3_upgrades, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_audit_chain, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_audit_by, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_audit_basis, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_audit_heads, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_failed_write_leaves_nothing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_map_grown_elsewhere, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_map_kept_by_opener, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_outbox, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_outbox_due_now, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_inbox, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_requests, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_consents, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_packets, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_asked, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_origins, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_blob_reserve, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pages_done, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_state_ids, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_student_sort, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_held_each, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_students_version, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cards_and_peers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_peer_heads, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_directories, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_authorities_max, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_authority_url, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_audit_signed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_clock_and_version, setup, teardown),
	};
	if (baton_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
