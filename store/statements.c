/*
 * Statements of disagreement (34 CFR 99.21) kept with a student's record:
 * the signed statement, as the family signed it, and where it came from.
 * A statement is never changed or replaced; a family files another one.
 */
#include <stdlib.h>
#include <string.h>

#include "store_impl.h"

static const char *const statement_keys[] = {"bytes", "from", "time"};
#define STATEMENT_FIELDS (sizeof(statement_keys) / sizeof(statement_keys[0]))

static void enc_statement(struct enc *e, const void *obj)
{
	const store_statement *v = obj;
	bti_enc_map(e, STATEMENT_FIELDS);
	bti_enc_str(e, "bytes"), bti_enc_bin(e, v->bytes, v->len);
	bti_enc_str(e, "from"), bti_enc_str(e, v->from);
	bti_enc_str(e, "time"), bti_enc_uint(e, v->time);
}

static int dec_statement(const MDB_val *k, const MDB_val *val, void *obj)
{
	static const struct dec_limits lim = {BATON_OBJ_MAX + 256, 1, 1 + 2 * STATEMENT_FIELDS};
	const msgpack_object *f[STATEMENT_FIELDS];
	store_statement *v = obj;
	const uint8_t *key = k->mv_data, *b;
	size_t blen, slen;
	msgpack_zone z;
	msgpack_object o;
	int r;

	/* student NUL id */
	if (k->mv_size < 2 + BATON_ID_BYTES ||
	    k->mv_size - 1 - BATON_ID_BYTES > BATON_STUDENT_MAX ||
	    key[k->mv_size - 1 - BATON_ID_BYTES] != 0)
		return bti_diag_err(BATON_EIO, "store: damaged statement (its key)");
	slen = k->mv_size - 1 - BATON_ID_BYTES;
	memcpy(v->student, key, slen);
	v->student[slen] = 0;
	memcpy(v->id, key + slen + 1, BATON_ID_BYTES);
	if (!msgpack_zone_init(&z, 512))
		return BATON_ENOMEM;
	if ((r = bti_mp_decode(val->mv_data, val->mv_size, &lim, &z, &o)) == 0 &&
	    (r = bti_mp_fields(&o, "statement", statement_keys, STATEMENT_FIELDS, f)) == 0 &&
	    (r = bti_mp_bin(f[0], "statement", "bytes", 1, BATON_OBJ_MAX, &b, &blen)) == 0 &&
	    (r = bti_mp_str(f[1], "statement", "from", 0, v->from, sizeof(v->from))) == 0 &&
	    (r = bti_mp_uint(f[2], "statement", "time", &v->time)) == 0) {
		if ((v->bytes = malloc(blen)) == NULL) {
			r = BATON_ENOMEM;
		} else {
			memcpy(v->bytes, b, blen);
			v->len = blen;
		}
	}
	msgpack_zone_destroy(&z);
	if (r == BATON_ENOMEM)
		return r;
	return r ? bti_diag_err(BATON_EIO, "store: damaged statement of %s", v->student) : 0;
}

static void clear_statement(void *obj)
{
	store_statement *v = obj;
	free(v->bytes);
	v->bytes = NULL;
}

static const struct table statements = {
    .db = DB_STATEMENTS,
    .what = "statement",
    .each_key_len = BATON_ID_BYTES,
    .size = sizeof(store_statement),
    .enc = enc_statement,
    .dec = dec_statement,
    .clear = clear_statement,
};

/* student NUL id into key; its length, or 0 when the student is empty or too long. */
static size_t statement_key(const char *student, const uint8_t *id,
                            uint8_t key[BATON_STUDENT_MAX + 1 + BATON_ID_BYTES])
{
	size_t n = strlen(student);
	if (n == 0 || n > BATON_STUDENT_MAX)
		return 0;
	memcpy(key, student, n + 1);
	if (id)
		memcpy(key + n + 1, id, BATON_ID_BYTES);
	return n + 1 + (id ? BATON_ID_BYTES : 0);
}

int store_statement_put(store_txn *t, const store_statement *v)
{
	uint8_t key[BATON_STUDENT_MAX + 1 + BATON_ID_BYTES];
	size_t klen = statement_key(v->student, v->id, key);
	MDB_val old;
	int r;
	if (klen == 0 || v->bytes == NULL || v->len == 0)
		return bti_diag_err(BATON_EINVAL,
		                    "store: a statement needs a student and its bytes");
	if ((r = tbl_get(t, &statements, key, klen, &old)) == 0)
		return bti_diag_err(BATON_EEXIST, "store: that statement is already kept with %s",
		                    v->student);
	if (r != BATON_ENOTFOUND)
		return r;
	bti_diag_clear();
	return tbl_put_obj(t, &statements, key, klen, v, 0);
}

struct each {
	store_statement_cb cb;
	void *ctx;
};

static int statement_row(const void *obj, void *arg)
{
	const struct each *c = arg;
	return c->cb(obj, c->ctx);
}

int store_statement_each(store_txn *t, const char *student, store_statement_cb cb, void *ctx)
{
	uint8_t key[BATON_STUDENT_MAX + 1 + BATON_ID_BYTES];
	size_t plen = statement_key(student, NULL, key);
	struct each c = {cb, ctx};
	if (plen == 0)
		return 0;
	return tbl_each_obj(t, &statements, key, plen, statement_row, &c);
}

int store_statement_del(store_txn *t, const char *student, const uint8_t id[BATON_ID_BYTES])
{
	uint8_t key[BATON_STUDENT_MAX + 1 + BATON_ID_BYTES];
	size_t klen = statement_key(student, id, key);
	if (klen == 0)
		return bti_diag_err(BATON_EINVAL, "store: a statement needs a student");
	return tbl_del(t, &statements, key, klen);
}

void store_statement_held_key(uint64_t held, char out[32])
{
	snprintf(out, 32, "\001held-%llu", (unsigned long long)held);
}
