/*
 * Students: the index of students, their record versions, the statewide id
 * index, records held for the registrar's review, and attachment blobs.
 * What changes here is what the store knows about a child.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <sodium.h>

#include "store_impl.h"

#define BLOB_SLICE (1u << 20) /* large blobs are copied and let go of in slices */

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

/* A row of the index: the id is its key. */
static int dec_student_row(const MDB_val *k, const MDB_val *v, void *obj)
{
	store_student *s = obj;
	if (k->mv_size > BATON_STUDENT_MAX)
		return bti_diag_err(BATON_EIO, "store: damaged student key");
	memcpy(s->id, k->mv_data, k->mv_size);
	s->id[k->mv_size] = 0;
	return dec_student(v->mv_data, v->mv_size, s);
}

static const struct table students = {
    .db = DB_STUDENTS,
    .what = "student",
    .size = sizeof(store_student),
    .enc = enc_student,
    .dec = dec_student_row,
};
static const struct table records = {
    .db = DB_RECORDS,
    .what = "record",
};
static const struct table state_ids = {
    .db = DB_STATE_IDS,
    .what = "student with statewide id",
};
static const struct table blobs = {
    .db = DB_BLOBS,
    .what = "attachment",
};

/*
 * Counts one more change to the students on file or their held records (a
 * row in the meta table): what the node's search index is built from, so
 * that it is built again only when they change (store_students_version).
 */
int store_students_touch(store_txn *t)
{
	uint8_t *old = NULL, b[8];
	size_t len = 0;
	int r = store_meta_get(t, "students-version", &old, &len);
	if (r != 0 && r != BATON_ENOTFOUND)
		return r;
	put_be64(b, (r == 0 && len == 8 ? get_be64(old) : 0) + 1);
	free(old);
	return store_meta_put(t, "students-version", b, 8);
}

int store_students_version(store_txn *t, uint64_t *v)
{
	uint8_t *b = NULL;
	size_t len = 0;
	int r = store_meta_get(t, "students-version", &b, &len);
	*v = r == 0 && len == 8 ? get_be64(b) : 0;
	free(b);
	return r == BATON_ENOTFOUND ? 0 : r;
}

int store_student_get(store_txn *t, const char *id, store_student *s)
{
	return tbl_get_obj(t, &students, id, strlen(id), s);
}

/* Keeps the statewide id index right for s, whose entry on file was old (or none). */
static int index_state_id(store_txn *t, const store_student *old, const store_student *s)
{
	char owner[BATON_STUDENT_MAX + 1];
	int r;

	/* One statewide id, one student: a changed id moves its mapping along. */
	if (old->state_id[0] && strcmp(old->state_id, s->state_id) != 0 &&
	    (r = tbl_drop(t, &state_ids, old->state_id, strlen(old->state_id))) != 0)
		return r;
	if (!s->state_id[0])
		return 0;
	r = store_student_by_state_id(t, s->state_id, owner, sizeof(owner));
	if (r != 0 && r != BATON_ENOTFOUND)
		return r;
	if (r == 0 && strcmp(owner, s->id) != 0)
		return bti_diag_err(BATON_EVALUE,
		                    "state_student_id \"%s\" already belongs to student %s",
		                    s->state_id, owner);
	return tbl_put(t, &state_ids, s->state_id, strlen(s->state_id), s->id, strlen(s->id), 0);
}

int store_student_put(store_txn *t, store_student *s, const char *json, size_t len)
{
	store_student old;
	uint8_t key[BATON_STUDENT_MAX + 8], ver[4];
	size_t klen;
	int r;

	r = store_student_get(t, s->id, &old);
	if (r != 0 && r != BATON_ENOTFOUND)
		return r;
	if (r == 0 && old.batch == t->batch)
		return bti_diag_err(BATON_EEXIST, "student_id \"%s\" appears twice", s->id);
	s->version = r == 0 ? old.version + 1 : 1;
	s->updated = t->now;
	s->batch = t->batch;
	store_be32(ver, s->version);
	if ((klen = store_join_key(key, sizeof(key), s->id, ver, 4)) == 0)
		return BATON_EINVAL;
	if ((r = tbl_put(t, &records, key, klen, json, len, MDB_NOOVERWRITE)) != 0 ||
	    (r = tbl_put_obj(t, &students, s->id, strlen(s->id), s, 0)) != 0 ||
	    (r = store_students_touch(t)) != 0)
		return r;
	return index_state_id(t, &old, s);
}

int store_student_by_state_id(store_txn *t, const char *state_id, char *id, size_t cap)
{
	MDB_val v;
	int r;
	if ((r = tbl_get(t, &state_ids, state_id, strlen(state_id), &v)) != 0)
		return r;
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
	store_be32(ver, v);
	size_t klen = store_join_key(key, sizeof(key), id, ver, 4);
	if (klen == 0)
		return bti_diag_err(BATON_EINVAL, "student id \"%.40s...\" too long", id);
	if ((r = tbl_get_copy(t, &records, key, klen, (uint8_t **)json, len)) == BATON_ENOTFOUND)
		return bti_diag_err(r, "store: no version %u of student %s", (unsigned)v, id);
	return r;
}

static int student_row(const void *obj, void *arg)
{
	const struct tbl_cb *c = arg;
	return c->fn.student(obj, c->ctx);
}

int store_student_each(store_txn *t, store_student_cb cb, void *ctx)
{
	struct tbl_cb c = {.fn.student = cb, .ctx = ctx};
	return tbl_each_obj(t, &students, NULL, 0, student_row, &c);
}

int store_student_count(store_txn *t, size_t *n)
{
	MDB_stat st;
	int rc = mdb_stat(t->txn, t->s->dbi[DB_STUDENTS], &st);
	*n = rc == 0 ? st.ms_entries : 0;
	return rc == 0 ? 0 : store_lmdb_err(rc, "stat");
}

int store_record_same(store_txn *t, const char *id, const char *json, store_student *s, int *same)
{
	char *prev;
	size_t len;
	int r;

	*same = 0;
	if ((r = store_student_get(t, id, s)) != 0 ||
	    (r = store_record_get(t, id, 0, &prev, &len)) != 0)
		return r == BATON_ENOTFOUND ? 0 : r;
	*same = len == strlen(json) && memcmp(prev, json, len) == 0;
	sodium_memzero(prev, len);
	free(prev);
	return 0;
}

/* ---- attachment blobs ---- */

int store_blob_put(store_txn *t, const uint8_t hash[32], const uint8_t *data, size_t len)
{
	uint8_t *dst;
	size_t done = 0, sdone = 0, ddone = 0;
	/* Content-addressed: the same bytes are stored once. */
	int r = store_blob_reserve(t, hash, len, &dst);
	if (r != 0)
		return r == BATON_EEXIST ? 0 : r;
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
	int rc = mdb_put(t->txn, t->s->dbi[DB_BLOBS], &k, &v, MDB_NOOVERWRITE | MDB_RESERVE);
	*data = NULL;
	if (rc == MDB_KEYEXIST)
		return bti_diag_err(BATON_EEXIST, "store: the attachment is stored already");
	if (rc != 0)
		return store_mdb_call(rc, "blobs");
	*data = v.mv_data;
	return 0;
}

int store_blob_get(store_txn *t, const uint8_t hash[32], const uint8_t **data, size_t *len)
{
	MDB_val v;
	int r = tbl_get(t, &blobs, hash, 32, &v);
	if (r != 0)
		return r;
	*data = v.mv_data;
	*len = v.mv_size;
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

static int dec_held_row(const MDB_val *k, const MDB_val *v, void *obj)
{
	return dec_held(k->mv_data, v->mv_data, v->mv_size, obj);
}

static void clear_held(void *obj)
{
	store_held_clear(obj);
}

static const struct table held = {
    .db = DB_HELD,
    .what = "held record",
    .each_key_len = 8,
    .size = sizeof(store_held),
    .dec = dec_held_row,
    .clear = clear_held,
};

int store_held_last(store_txn *t, uint64_t *id)
{
	uint8_t *seq = NULL;
	size_t slen;
	int r = store_meta_get(t, "held_seq", &seq, &slen);
	*id = 0;
	if (r != 0 && r != BATON_ENOTFOUND)
		return r;
	if (r == 0 && slen == 8)
		for (int i = 0; i < 8; i++)
			*id = *id << 8 | seq[i];
	free(seq);
	return 0;
}

/* The next held number: numbers are never reused, so "review accept 3" always means one record. */
static int held_next(store_txn *t, uint64_t *id)
{
	uint8_t key[8];
	int r = store_held_last(t, id);
	if (r != 0)
		return r;
	*id += 1;
	held_key(key, *id);
	return store_meta_put(t, "held_seq", key, 8);
}

int store_held_put(store_txn *t, store_held *h, const char *json, size_t len)
{
	uint8_t *enc = NULL, *val = NULL, key[8];
	size_t elen;
	int r;

	if ((r = held_next(t, &h->id)) != 0)
		return r;
	h->time = t->now;
	held_key(key, h->id);
	if ((r = bti_enc_alloc(enc_held, h, &enc, &elen)) != 0)
		return r;
	if ((val = malloc(4 + elen + len)) == NULL) {
		free(enc);
		return BATON_ENOMEM;
	}
	/* The value: the origin's length, the origin, then the record. */
	store_be32(val, (uint32_t)elen);
	memcpy(val + 4, enc, elen);
	memcpy(val + 4 + elen, json, len);
	if ((r = tbl_put(t, &held, key, 8, val, 4 + elen + len, MDB_NOOVERWRITE)) == 0)
		r = store_students_touch(t);
	sodium_memzero(val, 4 + elen + len);
	free(val);
	free(enc);
	return r;
}

int store_held_get(store_txn *t, uint64_t id, store_held *h)
{
	uint8_t key[8];
	held_key(key, id);
	int r = tbl_get_obj(t, &held, key, 8, h);
	if (r == BATON_ENOTFOUND)
		return bti_diag_err(r, "store: no held record %llu", (unsigned long long)id);
	return r;
}

int store_held_del(store_txn *t, uint64_t id)
{
	uint8_t key[8];
	held_key(key, id);
	int r = tbl_del(t, &held, key, 8);
	if (r == BATON_ENOTFOUND)
		return bti_diag_err(r, "store: no held record %llu", (unsigned long long)id);
	return r ? r : store_students_touch(t);
}

static int held_row(const void *obj, void *arg)
{
	const struct tbl_cb *c = arg;
	return c->fn.held(obj, c->ctx);
}

int store_held_each(store_txn *t, store_held_cb cb, void *ctx)
{
	struct tbl_cb c = {.fn.held = cb, .ctx = ctx};
	return tbl_each_obj(t, &held, NULL, 0, held_row, &c);
}

int store_student_sort(store_txn *t, const store_student *s, const char *json, store_student *old,
                       int *how)
{
	int r, same;

	*how = FILED_NEW;
	r = store_student_get(t, s->id, old);
	if (r == BATON_ENOTFOUND)
		return 0;
	if (r != 0)
		return r;
	if (!store_same_child(old, s)) {
		*how = FILED_HELD;
		return 0;
	}
	*how = FILED_VERSION;
	if ((r = store_record_same(t, s->id, json, old, &same)) != 0)
		return r;
	if (same)
		*how = FILED_UNCHANGED;
	return 0;
}

int store_student_file(store_txn *t, store_student *s, const char *json, size_t len, store_held *h,
                       int *how)
{
	store_student old;
	int r;

	if ((r = store_student_sort(t, s, json, &old, how)) != 0)
		return r;
	if (*how == FILED_HELD) {
		snprintf(h->student, sizeof(h->student), "%s", s->id);
		*s = old;
		return store_held_put(t, h, json, len);
	}
	if (*how == FILED_UNCHANGED) {
		*s = old;
		return 0;
	}
	return store_student_put(t, s, json, len);
}
