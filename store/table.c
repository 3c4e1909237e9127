/*
 * The one way a row is read, written, deleted or walked: every table of the
 * store goes through here, so the cursor loop, the copy-out before the
 * transaction ends and the "not found" diagnostic are written once.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_impl.h"

static MDB_dbi dbi(store_txn *t, const struct table *tb)
{
	return t->s->dbi[tb->db];
}

/* The key as a person would look for it: the text when it is text, else hex. */
static void key_text(const void *key, size_t klen, char *out, size_t cap)
{
	const uint8_t *p = key;
	size_t i, n = 0;
	for (i = 0; i < klen && (isprint(p[i]) || (p[i] == 0 && i > 0 && i + 1 < klen)); i++)
		;
	if (i == klen && klen > 0) {
		/* A composite "a NUL b" key reads as "a/b". */
		for (i = 0; i < klen && n + 2 < cap; i++)
			out[n++] = p[i] ? (char)p[i] : '/';
		out[n] = 0;
		return;
	}
	for (i = 0; i < klen && n + 3 < cap; i++)
		n += (size_t)snprintf(out + n, cap - n, "%02x", p[i]);
	out[n] = 0;
}

static int not_found(const struct table *tb, const void *key, size_t klen)
{
	char k[2 * 48 + 1];
	key_text(key, klen < 48 ? klen : 48, k, sizeof(k));
	return bti_diag_err(BATON_ENOTFOUND, "store: no %s %s", tb->what, k);
}

int tbl_get(store_txn *t, const struct table *tb, const void *key, size_t klen, MDB_val *v)
{
	MDB_val k = {klen, (void *)(uintptr_t)key};
	int rc = mdb_get(t->txn, dbi(t, tb), &k, v);
	if (rc == MDB_NOTFOUND)
		return not_found(tb, key, klen);
	return rc == 0 ? 0 : store_lmdb_err(rc, store_db_name(tb->db));
}

int tbl_put(store_txn *t, const struct table *tb, const void *key, size_t klen, const void *val,
            size_t vlen, unsigned flags)
{
	MDB_val k = {klen, (void *)(uintptr_t)key}, v = {vlen, (void *)(uintptr_t)val};
	return store_mdb_call(mdb_put(t->txn, dbi(t, tb), &k, &v, flags), store_db_name(tb->db));
}

int tbl_del(store_txn *t, const struct table *tb, const void *key, size_t klen)
{
	MDB_val k = {klen, (void *)(uintptr_t)key};
	int rc = mdb_del(t->txn, dbi(t, tb), &k, NULL);
	if (rc == MDB_NOTFOUND)
		return not_found(tb, key, klen);
	return store_mdb_call(rc, store_db_name(tb->db));
}

int tbl_drop(store_txn *t, const struct table *tb, const void *key, size_t klen)
{
	int r = tbl_del(t, tb, key, klen);
	return r == BATON_ENOTFOUND ? 0 : r;
}

int tbl_drop_prefix(store_txn *t, const struct table *tb, const void *prefix, size_t plen)
{
	MDB_cursor *c;
	MDB_val k = {plen, (void *)(uintptr_t)prefix}, v;
	int rc, r = 0;

	if ((rc = mdb_cursor_open(t->txn, dbi(t, tb), &c)) != 0)
		return store_lmdb_err(rc, "cursor");
	/* After a delete the cursor stands on the next row, which MDB_NEXT then returns. */
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size < plen || memcmp(k.mv_data, prefix, plen) != 0)
			break;
		if ((rc = mdb_cursor_del(c, 0)) != 0) {
			r = store_mdb_call(rc, store_db_name(tb->db));
			break;
		}
	}
	mdb_cursor_close(c);
	return store_cursor_end(r, rc);
}

int tbl_get_copy(store_txn *t, const struct table *tb, const void *key, size_t klen, uint8_t **val,
                 size_t *len)
{
	MDB_val v;
	int r;
	*val = NULL;
	*len = 0;
	if ((r = tbl_get(t, tb, key, klen, &v)) != 0)
		return r;
	if ((*val = malloc(v.mv_size + 1)) == NULL)
		return BATON_ENOMEM;
	memcpy(*val, v.mv_data, v.mv_size);
	(*val)[v.mv_size] = 0;
	*len = v.mv_size;
	return 0;
}

int store_cursor_end(int r, int rc)
{
	if (r != 0 || rc == 0 || rc == MDB_NOTFOUND)
		return r;
	return store_lmdb_err(rc, "read");
}

int tbl_each(store_txn *t, const struct table *tb, const void *prefix, size_t plen, tbl_row_fn row,
             void *arg)
{
	MDB_cursor *c;
	MDB_val k = {plen, (void *)(uintptr_t)prefix}, v;
	int rc, r = 0;

	if ((rc = mdb_cursor_open(t->txn, dbi(t, tb), &c)) != 0)
		return store_lmdb_err(rc, "cursor");
	for (rc = mdb_cursor_get(c, &k, &v, plen ? MDB_SET_RANGE : MDB_FIRST); rc == 0 && r == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (plen && (k.mv_size < plen || memcmp(k.mv_data, prefix, plen) != 0))
			break;
		if (tb->each_key_len && k.mv_size != plen + tb->each_key_len) {
			if (plen)
				break;
			continue;
		}
		r = row(&k, &v, arg);
	}
	mdb_cursor_close(c);
	return store_cursor_end(r, rc);
}

int tbl_get_obj(store_txn *t, const struct table *tb, const void *key, size_t klen, void *obj)
{
	MDB_val k = {klen, (void *)(uintptr_t)key}, v;
	int r;
	memset(obj, 0, tb->size);
	if ((r = tbl_get(t, tb, key, klen, &v)) != 0)
		return r;
	return tb->dec(&k, &v, obj);
}

int tbl_put_obj(store_txn *t, const struct table *tb, const void *key, size_t klen, const void *obj,
                unsigned flags)
{
	uint8_t *enc = NULL;
	size_t elen;
	int r;
	if ((r = bti_enc_alloc(tb->enc, obj, &enc, &elen)) != 0)
		return r;
	r = tbl_put(t, tb, key, klen, enc, elen, flags);
	free(enc);
	return r;
}

struct obj_walk {
	const struct table *tb;
	void *obj; /* one record, reused for every row */
	tbl_obj_fn cb;
	void *arg;
};

static int obj_row(const MDB_val *k, const MDB_val *v, void *arg)
{
	struct obj_walk *w = arg;
	int r;
	memset(w->obj, 0, w->tb->size);
	if ((r = w->tb->dec(k, v, w->obj)) != 0)
		return r;
	r = w->cb(w->obj, w->arg);
	if (w->tb->clear)
		w->tb->clear(w->obj);
	return r;
}

int tbl_each_obj(store_txn *t, const struct table *tb, const void *prefix, size_t plen,
                 tbl_obj_fn cb, void *arg)
{
	/* Some records (a request carries a whole consent) are too large for the stack. */
	struct obj_walk w = {tb, malloc(tb->size), cb, arg};
	int r;
	if (w.obj == NULL)
		return BATON_ENOMEM;
	r = tbl_each(t, tb, prefix, plen, obj_row, &w);
	free(w.obj);
	return r;
}
