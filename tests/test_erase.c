/*
 * Erasure in the store: what store_erase_student removes and what it
 * leaves (another student's rows, a blob another record names), the store
 * lock that keeps a second process off the store while it is rewritten,
 * and the compaction that leaves no byte of the erased child in the file.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "store.h"

#define NAME_X "Quillonxa-Erasable"
#define BYTES1 "blob-of-x-only-7f3a9c"
#define BYTES2 "blob-shared-by-x-and-y-21be"

struct fx {
	char dir[64];
	uint8_t h1[32], h2[32];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	store *s = NULL;
	snprintf(f->dir, sizeof(f->dir), "/tmp/baton-erase-XXXXXX");
	if (mkdtemp(f->dir) == NULL || store_open(f->dir, 1, &s) != 0)
		return -1;
	store_close(s);
	crypto_generichash(f->h1, 32, (const uint8_t *)BYTES1, strlen(BYTES1), NULL, 0);
	crypto_generichash(f->h2, 32, (const uint8_t *)BYTES2, strlen(BYTES2), NULL, 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	int r = system(cmd);
	free(f);
	return r == 0 ? 0 : -1;
}

static int put_blob(store_txn *t, const uint8_t h[32], const char *bytes)
{
	uint8_t *p = NULL;
	int r = store_blob_reserve(t, h, strlen(bytes), &p);
	if (r == BATON_EEXIST)
		return 0;
	if (r == 0)
		memcpy(p, bytes, strlen(bytes));
	return r;
}

/* A student with a record naming the attachments given (hex in the JSON). */
static int put_one(store_txn *t, const char *id, const char *family, const uint8_t *ha,
                   const uint8_t *hb)
{
	char json[600], a[65] = "", b[65] = "";
	store_student s;
	memset(&s, 0, sizeof(s));
	snprintf(s.id, sizeof(s.id), "%s", id);
	snprintf(s.state_id, sizeof(s.state_id), "ST-%s", id);
	snprintf(s.given_name, sizeof(s.given_name), "Given");
	snprintf(s.family_name, sizeof(s.family_name), "%s", family);
	snprintf(s.birth_date, sizeof(s.birth_date), "2011-04-17");
	if (ha)
		sodium_bin2hex(a, sizeof(a), ha, 32);
	if (hb)
		sodium_bin2hex(b, sizeof(b), hb, 32);
	snprintf(json, sizeof(json),
	         "{\"attachments\":[{\"hash\":\"%s\"},{\"hash\":\"%s\"}],\"identity\":{"
	         "\"family_name\":\"%s\"},\"student_id\":\"%s\"}",
	         a, b, family, id);
	return store_student_put(t, &s, json, strlen(json));
}

static int fill(store_txn *t, void *arg)
{
	struct fx *f = arg;
	store_guardian g = {{1}, "mother", 0, 1};
	store_invite v;
	store_consent c;
	store_held h;
	store_audit e;
	uint8_t cb[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	int r;
	if ((r = put_blob(t, f->h1, BYTES1)) != 0 || (r = put_blob(t, f->h2, BYTES2)) != 0 ||
	    (r = put_one(t, "S-X", NAME_X, f->h1, f->h2)) != 0 ||
	    (r = put_one(t, "S-Y", "Keeper", f->h2, NULL)) != 0 ||
	    (r = store_guardian_put(t, "S-X", &g)) != 0 ||
	    (r = store_guardian_put(t, "S-Y", &g)) != 0)
		return r;
	memset(&v, 0, sizeof(v));
	snprintf(v.id, sizeof(v.id), "ABCD");
	snprintf(v.student, sizeof(v.student), "S-X");
	snprintf(v.relation, sizeof(v.relation), "father");
	v.expires = 1;
	if ((r = store_invite_put(t, &v)) != 0)
		return r;
	memset(&c, 0, sizeof(c));
	memset(c.id, 7, sizeof(c.id));
	snprintf(c.student, sizeof(c.student), "S-X");
	c.bytes = cb;
	c.len = sizeof(cb);
	if ((r = store_consent_put(t, &c)) != 0)
		return r;
	memset(&h, 0, sizeof(h));
	snprintf(h.student, sizeof(h.student), "S-X");
	snprintf(h.from, sizeof(h.from), "RAS-204");
	const char *held = "{\"identity\":{\"family_name\":\"" NAME_X "-held\"}}";
	if ((r = store_held_put(t, &h, held, strlen(held))) != 0 ||
	    (r = store_origin_put(t, "RAS-204", "their-x", "S-X")) != 0)
		return r;
	memset(&e, 0, sizeof(e));
	snprintf(e.action, sizeof(e.action), "disclosure");
	snprintf(e.student, sizeof(e.student), "S-X");
	return store_audit_append(t, &e);
}

struct erase_ctx {
	struct fx *f;
	store_erased out;
};

static int erase_x(store_txn *t, void *arg)
{
	struct erase_ctx *c = arg;
	const uint8_t(*hs)[32];
	uint8_t both[2][32];
	memcpy(both[0], c->f->h1, 32);
	memcpy(both[1], c->f->h2, 32);
	hs = (const uint8_t(*)[32])both;
	return store_erase_student(t, "S-X", hs, 2, &c->out);
}

struct left {
	struct fx *f;
	int x, y, h1, h2, gx, gy, held;
	uint64_t audit;
	store_invite v;
	store_consent c;
	char origin[32];
	uint64_t bad;
};

static int count_g(const store_guardian *g, void *arg)
{
	(void)g;
	(*(int *)arg)++;
	return 0;
}

static int count_held(const store_held *h, void *arg)
{
	(void)h;
	(*(int *)arg)++;
	return 0;
}

static int look(store_txn *t, void *arg)
{
	struct left *l = arg;
	store_student s;
	const uint8_t *p;
	size_t n;
	uint8_t id[16];
	memset(id, 7, sizeof(id));
	l->x = store_student_get(t, "S-X", &s) == 0;
	l->y = store_student_get(t, "S-Y", &s) == 0;
	l->h1 = store_blob_get(t, l->f->h1, &p, &n) == 0;
	l->h2 = store_blob_get(t, l->f->h2, &p, &n) == 0 && n == strlen(BYTES2) &&
	        memcmp(p, BYTES2, n) == 0;
	store_guardian_each(t, "S-X", count_g, &l->gx);
	store_guardian_each(t, "S-Y", count_g, &l->gy);
	store_held_each(t, count_held, &l->held);
	assert_int_equal(store_invite_get(t, "ABCD", &l->v), BATON_ENOTFOUND);
	assert_int_equal(store_consent_get(t, id, &l->c), BATON_ENOTFOUND);
	assert_int_equal(store_origin_get(t, "RAS-204", "their-x", l->origin, sizeof(l->origin)),
	                 BATON_ENOTFOUND);
	char sid[32];
	assert_int_equal(store_student_by_state_id(t, "ST-S-X", sid, sizeof(sid)), BATON_ENOTFOUND);
	assert_int_equal(store_student_by_state_id(t, "ST-S-Y", sid, sizeof(sid)), 0);
	return store_audit_verify(t, &l->bad, &l->audit);
}

/* The file holds s (a raw search of its bytes)? */
static int file_holds(const char *path, const char *s)
{
	FILE *fp = fopen(path, "rb");
	size_t cap = 1 << 20, n = 0, got;
	char *buf = malloc(cap);
	int found = 0;
	assert_non_null(fp);
	while ((got = fread(buf + n, 1, cap - n, fp)) > 0) {
		n += got;
		if (n == cap)
			buf = realloc(buf, cap *= 2);
	}
	fclose(fp);
	found = memmem(buf, n, s, strlen(s)) != NULL;
	free(buf);
	return found;
}

static void test_erase_and_compact(void **state)
{
	struct fx *f = *state;
	struct erase_ctx c = {f, {0}};
	struct left l = {.f = f};
	char data[128];
	store *s = NULL, *other = NULL;

	snprintf(data, sizeof(data), "%s/db/data.mdb", f->dir);
	assert_int_equal(store_open(f->dir, 0, &s), 0);
	assert_int_equal(store_write(s, fill, f), 0);
	store_close(s);
	assert_true(file_holds(data, NAME_X));
	assert_true(file_holds(data, BYTES1));

	/* Another holder of the store: erasure's open is refused, at once. */
	assert_int_equal(store_open(f->dir, 0, &other), 0);
	assert_int_equal(store_open(f->dir, STORE_OPEN_ALONE, &s), BATON_EIO);
	assert_non_null(strstr(baton_diag(), "open in another process"));
	assert_null(s);
	store_close(other);

	assert_int_equal(store_open(f->dir, STORE_OPEN_ALONE, &s), 0);
	assert_int_equal(store_write(s, erase_x, &c), 0);
	assert_int_equal(c.out.student, 1);
	assert_int_equal(c.out.versions, 1);
	assert_int_equal(c.out.guardians, 1);
	assert_int_equal(c.out.held, 1);
	assert_int_equal(c.out.invites, 1);
	assert_int_equal(c.out.consents, 1);
	assert_int_equal(c.out.origins, 1);
	assert_int_equal(c.out.blobs, 1); /* h2 stays: S-Y names it */
	store_erased_clear(&c.out);
	assert_int_equal(store_compact(s, f->dir), 0);

	assert_false(file_holds(data, NAME_X));
	assert_false(file_holds(data, BYTES1));
	assert_true(file_holds(data, BYTES2));
	snprintf(data, sizeof(data), "%s/db/data.mdb.compact", f->dir);
	assert_int_not_equal(access(data, F_OK), 0);

	assert_int_equal(store_open(f->dir, 0, &s), 0);
	assert_int_equal(store_read(s, look, &l), 0);
	store_close(s);
	assert_false(l.x);
	assert_true(l.y);
	assert_false(l.h1);
	assert_true(l.h2);
	assert_int_equal(l.gx, 0);
	assert_int_equal(l.gy, 1);
	assert_int_equal(l.held, 0);
	assert_int_equal(l.audit, 1); /* the disclosure entry stays, and the chain verifies */
}

static void test_compact_needs_alone(void **state)
{
	struct fx *f = *state;
	store *s = NULL;
	assert_int_equal(store_open(f->dir, 0, &s), 0);
	assert_int_equal(store_compact(s, f->dir), BATON_EINTERNAL); /* s is closed by it */
	/* The store is as it was: it opens alone now that no one holds it. */
	assert_int_equal(store_open(f->dir, STORE_OPEN_ALONE, &s), 0);
	store_close(s);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_erase_and_compact, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_compact_needs_alone, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
