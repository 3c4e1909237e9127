/*
 * Users: the accounts of the node's web console, each a name, a role and
 * an Argon2id hash of its password. What changes here is who may act for
 * the school in the console.
 */
#include <string.h>

#include <sodium.h>

#include "store_impl.h"

#define USER_HDR 17 /* role(1) created(8) last login(8) */

static const struct table users = {
    .db = DB_USERS,
    .what = "user",
};

static void put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint64_t get_u64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static int user_name_ok(const char *name)
{
	size_t n = strlen(name);
	return n > 0 && n <= STORE_USER_MAX;
}

/* Reads a row into *u; BATON_EIO when it is not one this baton wrote. */
static int user_dec(const MDB_val *k, const MDB_val *v, store_user *u)
{
	const uint8_t *p = v->mv_data;
	size_t hl = v->mv_size - USER_HDR;
	memset(u, 0, sizeof(*u));
	if (k->mv_size == 0 || k->mv_size > STORE_USER_MAX || v->mv_size <= USER_HDR ||
	    hl >= sizeof(u->hash) || p[0] < STORE_ROLE_REGISTRAR || p[0] > STORE_ROLE_ADMIN)
		return bti_diag_err(BATON_EIO, "store: a stored user does not read");
	memcpy(u->name, k->mv_data, k->mv_size);
	u->role = p[0];
	u->created = get_u64(p + 1);
	u->last_login = get_u64(p + 9);
	memcpy(u->hash, p + USER_HDR, hl);
	return 0;
}

int store_user_put(store_txn *t, const store_user *u)
{
	uint8_t row[USER_HDR + sizeof(u->hash)];
	size_t hl = strnlen(u->hash, sizeof(u->hash));
	if (!user_name_ok(u->name) || hl == 0 || hl == sizeof(u->hash) ||
	    (u->role != STORE_ROLE_REGISTRAR && u->role != STORE_ROLE_ADMIN))
		return bti_diag_err(BATON_EINVAL, "store: user \"%s\": no valid name, role or hash",
		                    u->name);
	row[0] = (uint8_t)u->role;
	put_u64(row + 1, u->created);
	put_u64(row + 9, u->last_login);
	memcpy(row + USER_HDR, u->hash, hl);
	return tbl_put(t, &users, u->name, strlen(u->name), row, USER_HDR + hl, 0);
}

int store_user_get(store_txn *t, const char *name, store_user *u)
{
	char key[STORE_USER_MAX + 1];
	MDB_val k = {strlen(name), key}, v;
	int r;
	if (!user_name_ok(name)) {
		memset(u, 0, sizeof(*u));
		return bti_diag_err(BATON_ENOTFOUND, "store: no user \"%.*s\"", STORE_USER_MAX,
		                    name);
	}
	/* name may point into *u. */
	memcpy(key, name, k.mv_size + 1);
	memset(u, 0, sizeof(*u));
	if ((r = tbl_get(t, &users, key, k.mv_size, &v)) != 0)
		return r;
	return user_dec(&k, &v, u);
}

int store_user_del(store_txn *t, const char *name)
{
	if (!user_name_ok(name))
		return bti_diag_err(BATON_ENOTFOUND, "store: no user \"%.*s\"", STORE_USER_MAX,
		                    name);
	return tbl_del(t, &users, name, strlen(name));
}

struct user_each {
	store_user_cb cb;
	void *ctx;
};

static int user_row(const MDB_val *k, const MDB_val *v, void *arg)
{
	struct user_each *e = arg;
	store_user u;
	int r = user_dec(k, v, &u);
	if (r == 0)
		r = e->cb(&u, e->ctx);
	sodium_memzero(&u, sizeof(u));
	return r;
}

int store_user_each(store_txn *t, store_user_cb cb, void *ctx)
{
	struct user_each e = {cb, ctx};
	return tbl_each(t, &users, NULL, 0, user_row, &e);
}
