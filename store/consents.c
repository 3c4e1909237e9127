/*
 * Consents: the consents this node has seen, their revocations, and the
 * guardians whose signature a consent may carry. What changes here is who
 * may release a child's record.
 */
#include <stdlib.h>
#include <string.h>

#include "store_impl.h"

/* ---- guardian links ---- */

static const char *const guardian_keys[] = {"linked", "relation", "restricted"};

static void enc_guardian(struct enc *e, const void *obj)
{
	const store_guardian *g = obj;
	bti_enc_map(e, 3);
	bti_enc_str(e, "linked"), bti_enc_uint(e, g->linked);
	bti_enc_str(e, "relation"), bti_enc_str(e, g->relation);
	bti_enc_str(e, "restricted"), bti_enc_bool(e, g->restricted);
}

/* A link: student id NUL public key -> {linked, relation, restricted}. */
static int dec_guardian(const MDB_val *k, const MDB_val *v, void *obj)
{
	static const struct dec_limits lim = {256, 1, 16};
	const msgpack_object *f[3];
	store_guardian *g = obj;
	msgpack_zone z;
	msgpack_object o;
	int r;

	memcpy(g->pk, (const uint8_t *)k->mv_data + k->mv_size - 32, 32);
	if (!msgpack_zone_init(&z, 256))
		return BATON_ENOMEM;
	if ((r = bti_mp_decode(v->mv_data, v->mv_size, &lim, &z, &o)) == 0 &&
	    (r = bti_mp_fields(&o, "guardian", guardian_keys, 3, f)) == 0 &&
	    (r = bti_mp_uint(f[0], "guardian", "linked", &g->linked)) == 0 &&
	    (r = bti_mp_str(f[1], "guardian", "relation", 1, g->relation, sizeof(g->relation))) ==
	        0)
		r = bti_mp_bool(f[2], "guardian", "restricted", &g->restricted);
	msgpack_zone_destroy(&z);
	return r;
}

static const struct table guardians = {
    .db = DB_GUARDIANS,
    .what = "guardian link",
    .each_key_len = 32,
    .size = sizeof(store_guardian),
    .enc = enc_guardian,
    .dec = dec_guardian,
};

int store_guardian_put(store_txn *t, const char *student, const store_guardian *g)
{
	uint8_t key[BATON_STUDENT_MAX + 40];
	size_t klen = store_join_key(key, sizeof(key), student, g->pk, 32);
	if (klen == 0)
		return BATON_EINVAL;
	return tbl_put_obj(t, &guardians, key, klen, g, 0);
}

int store_guardian_del(store_txn *t, const char *student, const uint8_t pk[BATON_PK_BYTES])
{
	uint8_t key[BATON_STUDENT_MAX + 40];
	char fp[BATON_FINGERPRINT_LEN + 1];
	size_t klen = store_join_key(key, sizeof(key), student, pk, 32);
	int r = tbl_del(t, &guardians, key, klen);
	if (r == BATON_ENOTFOUND) {
		baton_fingerprint(pk, fp);
		return bti_diag_err(r, "store: student %s has no guardian %s", student, fp);
	}
	return r;
}

static int guardian_row(const void *obj, void *arg)
{
	const struct tbl_cb *c = arg;
	return c->fn.guardian(obj, c->ctx);
}

int store_guardian_each(store_txn *t, const char *student, store_guardian_cb cb, void *ctx)
{
	struct tbl_cb c = {.fn.guardian = cb, .ctx = ctx};
	size_t plen = strlen(student) + 1;
	if (plen > BATON_STUDENT_MAX + 2)
		return BATON_EINVAL;
	/* The prefix is the id and its NUL. */
	return tbl_each_obj(t, &guardians, student, plen, guardian_row, &c);
}

/* ---- consents ---- */

static const char *const consent_keys[] = {"bytes", "seen", "student"};

static void enc_consent_rec(struct enc *e, const void *obj)
{
	const store_consent *c = obj;
	bti_enc_map(e, 3);
	bti_enc_str(e, "bytes"), bti_enc_bin(e, c->bytes, c->len);
	bti_enc_str(e, "seen"), bti_enc_uint(e, c->seen);
	bti_enc_str(e, "student"), bti_enc_str(e, c->student);
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

static int dec_consent_row(const MDB_val *k, const MDB_val *v, void *obj)
{
	return dec_consent_rec(k->mv_data, v->mv_data, v->mv_size, obj);
}

static void clear_consent(void *obj)
{
	store_consent *c = obj;
	free(c->bytes);
	c->bytes = NULL;
}

static const struct table consents = {
    .db = DB_CONSENTS,
    .what = "consent",
    .each_key_len = BATON_ID_BYTES,
    .size = sizeof(store_consent),
    .enc = enc_consent_rec,
    .dec = dec_consent_row,
    .clear = clear_consent,
};

int store_consent_put(store_txn *t, const store_consent *c)
{
	return tbl_put_obj(t, &consents, c->id, BATON_ID_BYTES, c, 0);
}

int store_consent_get(store_txn *t, const uint8_t id[BATON_ID_BYTES], store_consent *c)
{
	return tbl_get_obj(t, &consents, id, BATON_ID_BYTES, c);
}

static int consent_row(const void *obj, void *arg)
{
	const struct tbl_cb *c = arg;
	return c->fn.consent(obj, c->ctx);
}

int store_consent_each(store_txn *t, store_consent_cb cb, void *ctx)
{
	struct tbl_cb c = {.fn.consent = cb, .ctx = ctx};
	return tbl_each_obj(t, &consents, NULL, 0, consent_row, &c);
}

/* ---- revocations: consent id(16) signer(32) -> standing(1) || signed revocation ---- */

static const struct table revocations = {
    .db = DB_REVOCATIONS,
    .what = "revocation",
    .each_key_len = BATON_PK_BYTES,
};

int store_revocation_put(store_txn *t, const uint8_t id[BATON_ID_BYTES],
                         const uint8_t signer[BATON_PK_BYTES], int standing, const uint8_t *bytes,
                         size_t len)
{
	uint8_t key[BATON_ID_BYTES + BATON_PK_BYTES], *val;
	int r;
	if ((val = malloc(len + 1)) == NULL)
		return BATON_ENOMEM;
	val[0] = (uint8_t)standing;
	memcpy(val + 1, bytes, len);
	memcpy(key, id, BATON_ID_BYTES);
	memcpy(key + BATON_ID_BYTES, signer, BATON_PK_BYTES);
	r = tbl_put(t, &revocations, key, sizeof(key), val, len + 1, 0);
	free(val);
	return r;
}

static int revocation_row(const MDB_val *k, const MDB_val *v, void *arg)
{
	const struct tbl_cb *c = arg;
	const uint8_t *val = v->mv_data;
	if (v->mv_size < 2)
		return bti_diag_err(BATON_EIO, "store: damaged revocation");
	return c->fn.revocation((const uint8_t *)k->mv_data + BATON_ID_BYTES, val[0], val + 1,
	                        v->mv_size - 1, c->ctx);
}

int store_revocation_each(store_txn *t, const uint8_t id[BATON_ID_BYTES], store_revocation_cb cb,
                          void *ctx)
{
	/* A read error part-way comes back as an error, never as "no revocation": that would fail
	 * open. */
	struct tbl_cb c = {.fn.revocation = cb, .ctx = ctx};
	return tbl_each(t, &revocations, id, BATON_ID_BYTES, revocation_row, &c);
}

/* ---- the links of one key, over every student ---- */

/* The same rows, read in full: a key is the student id, a NUL and 32 bytes. */
static const struct table guardians_all = {
    .db = DB_GUARDIANS,
    .what = "guardian link",
    .size = sizeof(store_guardian),
    .enc = enc_guardian,
    .dec = dec_guardian,
};

struct key_walk {
	const uint8_t *pk;
	store_guardian_key_cb cb;
	void *ctx;
};

static int key_row(const MDB_val *k, const MDB_val *v, void *arg)
{
	struct key_walk *w = arg;
	const uint8_t *kb = k->mv_data;
	char student[BATON_STUDENT_MAX + 1];
	store_guardian g;
	int r;
	if (k->mv_size < 34 || k->mv_size - 33 > BATON_STUDENT_MAX || kb[k->mv_size - 33] != 0 ||
	    memcmp(kb + k->mv_size - 32, w->pk, 32) != 0)
		return 0;
	memcpy(student, kb, k->mv_size - 33);
	student[k->mv_size - 33] = 0;
	memset(&g, 0, sizeof(g));
	if ((r = dec_guardian(k, v, &g)) != 0)
		return r;
	return w->cb(student, &g, w->ctx);
}

int store_guardian_each_student(store_txn *t, const uint8_t pk[BATON_PK_BYTES],
                                store_guardian_key_cb cb, void *ctx)
{
	struct key_walk w = {pk, cb, ctx};
	return tbl_each(t, &guardians_all, NULL, 0, key_row, &w);
}
