/*
 * The audit log: the hash chain, its per-student index, the signed heads
 * kept beside it and the heads other schools sent. What changes here is how
 * the log proves it was not rewritten.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "store_impl.h"

#define AUDIT_DOMAIN "BATON-AUDIT-v1"

/* The person this thread acts for (store_set_actor); "" for none. */
static _Thread_local char store_actor_name[STORE_USER_MAX + 1];

void store_set_actor(const char *name)
{
	snprintf(store_actor_name, sizeof(store_actor_name), "%s", name ? name : "");
}

const char *store_actor(void)
{
	return store_actor_name;
}

const char *store_audit_basis(const store_audit *e)
{
	if (e->basis[0])
		return e->basis;
	return strcmp(e->action, "disclosure") == 0 && e->has_consent ? "consent" : "";
}

static const char *const audit_keys[] = {"action",   "basis",  "by",      "consent",
                                         "detail",   "packet", "peer",    "prev",
                                         "sections", "seq",    "student", "time"};
enum {
	AU_ACTION,
	AU_BASIS,
	AU_BY,
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
	uint32_t n = 4 + (a->basis[0] != 0) + (a->by[0] != 0) + (a->has_consent != 0) +
	             (a->detail[0] != 0) + (a->has_packet != 0) + (a->peer[0] != 0) +
	             (a->sections != 0) + (a->student[0] != 0);
	bti_enc_map(e, n);
	bti_enc_str(e, "action"), bti_enc_str(e, a->action);
	if (a->basis[0])
		bti_enc_str(e, "basis"), bti_enc_str(e, a->basis);
	if (a->by[0])
		bti_enc_str(e, "by"), bti_enc_str(e, a->by);
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
	    (v[AU_BASIS] &&
	     (r = bti_mp_str(v[AU_BASIS], "audit", "basis", 1, a->basis, sizeof(a->basis))) != 0) ||
	    (v[AU_BY] && (r = bti_mp_str(v[AU_BY], "audit", "by", 1, a->by, sizeof(a->by))) != 0) ||
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
	if ((rc = mdb_cursor_open(t->txn, t->s->dbi[DB_AUDIT], &c)) != 0)
		return store_lmdb_err(rc, "cursor");
	rc = mdb_cursor_get(c, &k, &v, MDB_LAST);
	if (rc == 0 && k.mv_size == 8 && v.mv_size >= 32) {
		*seq = get_be64(k.mv_data);
		memcpy(hash, (const uint8_t *)v.mv_data + v.mv_size - 32, 32);
	}
	mdb_cursor_close(c);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return store_lmdb_err(rc, "audit");
	return 0;
}

int store_audit_append(store_txn *t, store_audit *e)
{
	uint8_t *enc = NULL, key[8], ikey[BATON_STUDENT_MAX + 10];
	size_t elen;
	int r;

	if ((r = audit_last(t, &e->seq, e->prev)) != 0)
		return r;
	if (!e->by[0] && store_actor_name[0])
		snprintf(e->by, sizeof(e->by), "%s", store_actor_name);
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
	r = store_mdb_call(mdb_put(t->txn, t->s->dbi[DB_AUDIT], &k, &v, MDB_APPEND), "audit");
	/* The head (last sequence and hash), so that verify notices entries cut off the end. */
	if (r == 0) {
		uint8_t head[40];
		memcpy(head, key, 8);
		memcpy(head + 8, e->hash, 32);
		r = store_meta_put(t, "audit_head", head, sizeof(head));
	}
	if (r == 0 && e->student[0]) {
		size_t klen = store_join_key(ikey, sizeof(ikey), e->student, key, 8);
		MDB_val ik = {klen, ikey}, iv = {0, NULL};
		r = store_mdb_call(mdb_put(t->txn, t->s->dbi[DB_AUDIT_BY_STUDENT], &ik, &iv, 0),
		                   "audit");
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
	int rc = mdb_get(t->txn, t->s->dbi[DB_AUDIT], &k, &v);
	if (rc != 0)
		return store_lmdb_err(rc, "audit");
	return dec_audit(v.mv_data, v.mv_size, a);
}

static int dec_audit_row(const MDB_val *k, const MDB_val *v, void *obj)
{
	(void)k;
	return dec_audit(v->mv_data, v->mv_size, obj);
}

static const struct table audit = {
    .db = DB_AUDIT,
    .what = "audit entry",
    .size = sizeof(store_audit),
    .dec = dec_audit_row,
};
/* student id NUL seq(u64 BE) -> empty: the entries about one student. */
static const struct table audit_by_student = {
    .db = DB_AUDIT_BY_STUDENT,
    .what = "audit index entry",
    .each_key_len = 8,
};

static int audit_row(const void *obj, void *arg)
{
	const struct tbl_cb *c = arg;
	return c->fn.audit(obj, c->ctx);
}

struct student_walk {
	store_txn *t;
	size_t plen;
	struct tbl_cb cb;
};

static int audit_index_row(const MDB_val *k, const MDB_val *v, void *arg)
{
	struct student_walk *w = arg;
	store_audit a;
	int r;
	(void)v;
	if ((r = audit_get(w->t, get_be64((const uint8_t *)k->mv_data + w->plen), &a)) != 0)
		return r;
	return w->cb.fn.audit(&a, w->cb.ctx);
}

int store_audit_each(store_txn *t, const char *student, store_audit_cb cb, void *ctx)
{
	struct student_walk w = {t, 0, {.fn.audit = cb, .ctx = ctx}};
	if (student == NULL)
		return tbl_each_obj(t, &audit, NULL, 0, audit_row, &w.cb);
	/* The prefix is the id and its NUL. */
	if ((w.plen = strlen(student) + 1) > BATON_STUDENT_MAX + 2)
		return BATON_EINVAL;
	return tbl_each(t, &audit_by_student, student, w.plen, audit_index_row, &w);
}

/* 0 when entry a is in its student's index, BATON_ENOTFOUND when not. */
static int audit_indexed(store_txn *t, const store_audit *a)
{
	uint8_t key[BATON_STUDENT_MAX + 10], seq[8];
	MDB_val k, v;
	int rc;
	put_be64(seq, a->seq);
	if ((k.mv_size = store_join_key(key, sizeof(key), a->student, seq, 8)) == 0)
		return bti_diag_err(BATON_EHASH, "entry %llu names a student id too long",
		                    (unsigned long long)a->seq);
	k.mv_data = key;
	if ((rc = mdb_get(t->txn, t->s->dbi[DB_AUDIT_BY_STUDENT], &k, &v)) == MDB_NOTFOUND)
		return BATON_ENOTFOUND;
	return rc ? store_lmdb_err(rc, "audit index") : 0;
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

	if ((rc = mdb_cursor_open(t->txn, t->s->dbi[DB_AUDIT_BY_STUDENT], &c)) != 0)
		return store_lmdb_err(rc, "cursor");
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
		r = store_lmdb_err(rc, "audit index");
	if (r == 0 && n != students)
		r = bti_diag_err(BATON_EHASH, "the per-student index has %llu entries for %llu",
		                 (unsigned long long)n, (unsigned long long)students);
	return r;
}

/* Checks the entry at row (k, v), expected as entry expect after one whose hash is prev. */
static int entry_holds(store_txn *t, const MDB_val *k, const MDB_val *v, uint64_t expect,
                       const uint8_t prev[32], store_audit *a)
{
	uint64_t key = k->mv_size == 8 ? get_be64(k->mv_data) : 0;
	uint8_t h[32];
	int r;

	if (key != expect)
		return bti_diag_err(BATON_EHASH, "entry %llu is missing (found %llu next)",
		                    (unsigned long long)expect, (unsigned long long)key);
	if (dec_audit(v->mv_data, v->mv_size, a) != 0)
		return bti_diag_err(BATON_EHASH, "entry %llu does not decode",
		                    (unsigned long long)key);
	audit_hash(h, v->mv_data, v->mv_size - 32);
	if (a->seq != key)
		return bti_diag_err(BATON_EHASH, "entry %llu says it is entry %llu",
		                    (unsigned long long)key, (unsigned long long)a->seq);
	if (sodium_memcmp(a->prev, prev, 32) != 0)
		return bti_diag_err(BATON_EHASH,
		                    "entry %llu does not follow entry %llu (chain broken)",
		                    (unsigned long long)key, (unsigned long long)key - 1);
	if (sodium_memcmp(h, a->hash, 32) != 0)
		return bti_diag_err(BATON_EHASH, "entry %llu was changed (hash mismatch)",
		                    (unsigned long long)key);
	/* Each entry about a student is in that student's index (what audit --student reads). */
	if (a->student[0] && (r = audit_indexed(t, a)) != 0)
		return r != BATON_ENOTFOUND
		           ? r
		           : bti_diag_err(BATON_EHASH,
		                          "entry %llu is missing from the index of student %s",
		                          (unsigned long long)key, a->student);
	return 0;
}

/* The log of count entries ending in hash last ends where it was last written. */
static int end_holds(store_txn *t, uint64_t count, const uint8_t last_hash[32], uint64_t *bad)
{
	uint8_t *head;
	size_t hlen;
	int r = store_meta_get(t, "audit_head", &head, &hlen);
	if (r != 0 && r != BATON_ENOTFOUND)
		return r;
	uint64_t last = r == 0 && hlen == 40 ? get_be64(head) : 0;
	int match =
	    r == 0 && hlen == 40 && last == count && sodium_memcmp(head + 8, last_hash, 32) == 0;
	free(head);
	if (match || (count == 0 && last == 0))
		return 0;
	*bad = count + 1;
	return bti_diag_err(BATON_EHASH,
	                    "the log ends at entry %llu but was last written at entry %llu: "
	                    "entries were removed from the end",
	                    (unsigned long long)count, (unsigned long long)last);
}

int store_audit_verify(store_txn *t, uint64_t *bad, uint64_t *count)
{
	MDB_cursor *c;
	MDB_val k, v;
	uint8_t prev[32] = {0};
	uint64_t expect = 1, students = 0;
	int rc, r = 0;
	store_audit a;

	*bad = 0;
	*count = 0;
	if ((rc = mdb_cursor_open(t->txn, t->s->dbi[DB_AUDIT], &c)) != 0)
		return store_lmdb_err(rc, "cursor");
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT), expect++) {
		if ((r = entry_holds(t, &k, &v, expect, prev, &a)) != 0)
			break;
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
		return store_lmdb_err(rc, "audit");
	if ((r = end_holds(t, *count, prev, bad)) != 0)
		return r;
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
	rc = mdb_get(t->txn, t->s->dbi[DB_META], &mk, &mv);
	/* Signed already by this key (after a rekey the new key signs again). */
	if (rc == 0 && signed_by(&mv, h.key))
		return 0;
	if (rc != 0 && rc != MDB_NOTFOUND)
		return store_lmdb_err(rc, "audit head");
	h.time = t->now;
	if ((r = baton_audit_head_sign(&h, baton_key_id_sk(k), &obj, &olen)) != 0)
		return r;
	mv.mv_size = olen;
	mv.mv_data = obj;
	r = store_mdb_call(mdb_put(t->txn, t->s->dbi[DB_META], &mk, &mv, 0), "audit head");
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
	if ((rc = mdb_get(t->txn, t->s->dbi[DB_META], &mk, &mv)) == MDB_NOTFOUND)
		*yes = 0;
	return rc == 0 || rc == MDB_NOTFOUND ? 0 : store_lmdb_err(rc, "audit head");
}

int store_audit_head(store_txn *t, uint8_t **out, size_t *len)
{
	MDB_cursor *c;
	MDB_val k, v;
	uint8_t key[PREFIX_LEN + 8];
	int rc, r;

	*out = NULL;
	*len = 0;
	seq_key(key, HEAD_PREFIX, UINT64_MAX);
	k.mv_size = sizeof(key);
	k.mv_data = key;
	if ((rc = mdb_cursor_open(t->txn, t->s->dbi[DB_META], &c)) != 0)
		return store_lmdb_err(rc, "cursor");
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
		r = store_lmdb_err(rc, "audit head");
	} else {
		r = bti_diag_err(BATON_ENOTFOUND, "store: no signed audit head");
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
	r = store_mdb_call(mdb_put(t->txn, t->s->dbi[DB_META], &k, &v, 0), "rotation");
	free(val);
	return r;
}

/* This school's keys, each with the last entry a head it signs may cover. */
struct keyset {
	uint8_t k[MAX_KEYS][32];
	uint64_t until[MAX_KEYS];
	size_t n;
};

/* Sets *at to the index of pk in ks: 0, or BATON_ENOTFOUND when ks does not hold pk. */
static int keyset_find(const struct keyset *ks, const uint8_t pk[32], size_t *at)
{
	for (size_t i = 0; i < ks->n; i++)
		if (memcmp(ks->k[i], pk, 32) == 0) {
			*at = i;
			return 0;
		}
	return BATON_ENOTFOUND;
}

/*
 * Adds rt's old key, good for heads up to entry until, when its new key is
 * trusted, and then sets *grew to 1 (leaving it alone otherwise).
 */
static void keyset_follow(struct keyset *ks, const uint8_t *p, size_t n, uint64_t until, int *grew)
{
	baton_rotation rt;
	size_t at;
	if (baton_rotation_parse(p, n, &rt) != 0 || keyset_find(ks, rt.new_pk, &at) != 0 ||
	    keyset_find(ks, rt.old_pk, &at) == 0 || ks->n == MAX_KEYS)
		return;
	ks->until[ks->n] = until;
	memcpy(ks->k[ks->n++], rt.old_pk, 32);
	*grew = 1;
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
		return r == BATON_ENOTFOUND ? bti_diag_err(BATON_EIO, "this node has no card") : r;
	ks->until[ks->n] = UINT64_MAX;
	memcpy(ks->k[ks->n++], card.id_pk, 32);
	r = store_meta_get(t, "rotation", &rot, &rlen);
	if (r != 0 && r != BATON_ENOTFOUND)
		return r;
	if ((rc = mdb_cursor_open(t->txn, t->s->dbi[DB_META], &c)) != 0) {
		free(rot);
		return store_lmdb_err(rc, "cursor");
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
				keyset_follow(ks, (const uint8_t *)v.mv_data + 8, v.mv_size - 8,
				              get_be64(v.mv_data), &grew);
		if (!grew && rot)
			keyset_follow(ks, rot, rlen, 0, &grew);
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
	size_t i;
	baton_fingerprint(h->key, fp);
	if (keyset_find(ks, h->key, &i) != 0)
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
	if ((rc = mdb_cursor_open(t->txn, t->s->dbi[DB_META], &c)) != 0) {
		r = store_lmdb_err(rc, "cursor");
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
		r = store_lmdb_err(rc, "audit heads");
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
	r = store_meta_get(t, key, &p, &n);
	if (r != 0 && r != BATON_ENOTFOUND)
		return r;
	int newer = r == BATON_ENOTFOUND || baton_audit_head_parse(p, n, &old) != 0 ||
	            old.count < neu.count;
	free(p);
	return newer ? store_meta_put(t, key, head, len) : 0;
}

static int peer_head_row(const MDB_val *k, const MDB_val *v, void *arg)
{
	const struct tbl_cb *c = arg;
	char code[BATON_CODE_MAX + 1];
	size_t pl = sizeof(PEER_PREFIX) - 1;
	if (k->mv_size == pl || k->mv_size - pl > BATON_CODE_MAX)
		return 0;
	memcpy(code, (const uint8_t *)k->mv_data + pl, k->mv_size - pl);
	code[k->mv_size - pl] = 0;
	return c->fn.peer_head(code, v->mv_data, v->mv_size, c->ctx);
}

int store_peer_head_each(store_txn *t, store_peer_head_cb cb, void *ctx)
{
	struct tbl_cb c = {.fn.peer_head = cb, .ctx = ctx};
	return tbl_each(t, &store_meta_table, PEER_PREFIX, sizeof(PEER_PREFIX) - 1, peer_head_row,
	                &c);
}

int store_audit_count(store_txn *t, uint64_t *n)
{
	MDB_stat st;
	int rc = mdb_stat(t->txn, t->s->dbi[DB_AUDIT], &st);
	*n = rc == 0 ? st.ms_entries : 0;
	return rc == 0 ? 0 : store_lmdb_err(rc, "stat");
}
