/*
 * The web console's accounts (users.h). The hash is computed outside any
 * transaction: Argon2id takes a tenth of a second on purpose, and the
 * store's writer must not wait for it.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "bti.h"
#include "users.h"
#include "view.h"

int users_role(const char *s)
{
	if (strcmp(s, "registrar") == 0)
		return STORE_ROLE_REGISTRAR;
	if (strcmp(s, "admin") == 0)
		return STORE_ROLE_ADMIN;
	return bti_diag_err(BATON_EINVAL, "role \"%s\": registrar or admin", s);
}

const char *users_role_name(int role)
{
	return role == STORE_ROLE_REGISTRAR ? "registrar"
	       : role == STORE_ROLE_ADMIN   ? "admin"
	                                    : "?";
}

static int name_ok(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > STORE_USER_MAX)
		return bti_diag_err(BATON_EVALUE, "user name: 1 to %d characters", STORE_USER_MAX);
	for (size_t i = 0; i < n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_@",
		            name[i]))
			return bti_diag_err(
			    BATON_EVALUE,
			    "user name \"%s\": only letters, digits, '.', '-', '_', '@'", name);
	return 0;
}

/* Hashes pass into hash (crypto_pwhash_STRBYTES). */
static int hash_pass(const char *pass, size_t plen, char *hash)
{
	if (plen < USERS_PASS_MIN || plen > USERS_PASS_MAX)
		return bti_diag_err(BATON_EVALUE, "password: %d to %d characters", USERS_PASS_MIN,
		                    USERS_PASS_MAX);
	if (crypto_pwhash_str(hash, pass, plen, crypto_pwhash_OPSLIMIT_INTERACTIVE,
	                      crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
		return bti_diag_err(BATON_ENOMEM, "password: out of memory hashing it");
	return 0;
}

struct user_op {
	store_user u;
	int add; /* 1: add, 0: set the password, -1: remove */
};

static int user_audit(store_txn *t, const char *action, const char *name, const char *detail)
{
	store_audit e;
	memset(&e, 0, sizeof(e));
	snprintf(e.action, sizeof(e.action), "%s", action);
	snprintf(e.detail, sizeof(e.detail), "%s%s%s", name, detail[0] ? " " : "", detail);
	return store_audit_append(t, &e);
}

static int user_op_fn(store_txn *t, void *arg)
{
	struct user_op *op = arg;
	store_user old;
	int r = store_user_get(t, op->u.name, &old);
	sodium_memzero(&old, sizeof(old));
	if (r == BATON_ENOTFOUND && op->add != 1)
		return bti_diag_err(r, "no user \"%s\"", op->u.name);
	if (r != 0 && r != BATON_ENOTFOUND)
		return r;
	if (r == 0 && op->add == 1)
		return bti_diag_err(BATON_EVALUE, "user \"%s\" exists already", op->u.name);
	if (op->add < 0)
		return (r = store_user_del(t, op->u.name))
		           ? r
		           : user_audit(t, "user-remove", op->u.name, "");
	if (op->add == 1) {
		op->u.created = t->now;
		if ((r = store_user_put(t, &op->u)) != 0)
			return r;
		return user_audit(t, "user-add", op->u.name, users_role_name(op->u.role));
	}
	char hash[sizeof(op->u.hash)];
	memcpy(hash, op->u.hash, sizeof(hash));
	if ((r = store_user_get(t, op->u.name, &op->u)) == 0) {
		memcpy(op->u.hash, hash, sizeof(hash));
		r = store_user_put(t, &op->u);
	}
	return r ? r : user_audit(t, "user-passwd", op->u.name, "");
}

static int user_run(store *st, struct user_op *op)
{
	int r = store_write(st, user_op_fn, op);
	sodium_memzero(op, sizeof(*op));
	return r;
}

int users_add(store *st, const char *name, int role, const char *pass, size_t plen)
{
	struct user_op op = {.add = 1};
	int r;
	if ((r = name_ok(name)) != 0 || (r = users_role(users_role_name(role))) < 0)
		return r;
	if ((r = hash_pass(pass, plen, op.u.hash)) != 0)
		return r;
	snprintf(op.u.name, sizeof(op.u.name), "%s", name);
	op.u.role = role;
	return user_run(st, &op);
}

int users_passwd(store *st, const char *name, const char *pass, size_t plen)
{
	struct user_op op = {.add = 0};
	int r;
	if ((r = name_ok(name)) != 0)
		return r == BATON_EVALUE ? bti_diag_err(BATON_ENOTFOUND, "no user \"%s\"", name)
		                         : r;
	if ((r = hash_pass(pass, plen, op.u.hash)) != 0)
		return r;
	snprintf(op.u.name, sizeof(op.u.name), "%s", name);
	return user_run(st, &op);
}

int users_remove(store *st, const char *name)
{
	struct user_op op = {.add = -1};
	if (name_ok(name) != 0)
		return bti_diag_err(BATON_ENOTFOUND, "no user \"%s\"", name);
	snprintf(op.u.name, sizeof(op.u.name), "%s", name);
	return user_run(st, &op);
}

static int user_get_fn(store_txn *t, void *arg)
{
	store_user *u = arg;
	return store_user_get(t, u->name, u);
}

struct login_op {
	const char *name;
	const char *action;
};

static int login_fn(store_txn *t, void *arg)
{
	struct login_op *op = arg;
	store_user u;
	int r = 0;
	if (strcmp(op->action, "login") == 0 && (r = store_user_get(t, op->name, &u)) == 0) {
		u.last_login = t->now;
		r = store_user_put(t, &u);
	}
	sodium_memzero(&u, sizeof(u));
	if (r != 0)
		return r;
	/* A sign-in or out is the person's own act, whoever else is named as acting. */
	store_audit e;
	memset(&e, 0, sizeof(e));
	snprintf(e.action, sizeof(e.action), "%s", op->action);
	snprintf(e.detail, sizeof(e.detail), "%s", op->name);
	snprintf(e.by, sizeof(e.by), "%s", op->name);
	return store_audit_append(t, &e);
}

/*
 * A hash of a password no one has, checked when the user does not exist
 * so that an unknown name takes as long as a wrong password. Made once.
 */
static pthread_mutex_t dummy_lock = PTHREAD_MUTEX_INITIALIZER;
static char dummy[crypto_pwhash_STRBYTES];

static int dummy_hash(char *out)
{
	int r = 0;
	pthread_mutex_lock(&dummy_lock);
	if (dummy[0] == 0) {
		char pw[32];
		randombytes_buf(pw, sizeof(pw));
		if (crypto_pwhash_str(dummy, pw, sizeof(pw), crypto_pwhash_OPSLIMIT_INTERACTIVE,
		                      crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
			r = BATON_ENOMEM;
		sodium_memzero(pw, sizeof(pw));
	}
	memcpy(out, dummy, sizeof(dummy));
	pthread_mutex_unlock(&dummy_lock);
	return r;
}

int users_prepare(void)
{
	char h[crypto_pwhash_STRBYTES];
	int r = dummy_hash(h);
	sodium_memzero(h, sizeof(h));
	return r;
}

int users_login(store *st, const char *name, const char *pass, size_t plen, int *role)
{
	store_user u;
	struct login_op op = {name, "login"};
	int r, known;

	*role = 0;
	memset(&u, 0, sizeof(u));
	snprintf(u.name, sizeof(u.name), "%s", name);
	r = strlen(name) <= STORE_USER_MAX ? store_read(st, user_get_fn, &u) : BATON_ENOTFOUND;
	if (r != 0 && r != BATON_ENOTFOUND)
		goto out;
	known = r == 0;
	if (!known && (r = dummy_hash(u.hash)) != 0)
		goto out;
	r = crypto_pwhash_str_verify(u.hash, pass, plen) == 0 && known ? 0 : BATON_EBADKEY;
	if (r == 0) {
		*role = u.role;
		r = store_write(st, login_fn, &op);
	}
out:
	sodium_memzero(&u, sizeof(u));
	return r == BATON_EBADKEY ? bti_diag_err(r, "wrong user or password") : r;
}

int users_logout(store *st, const char *name)
{
	struct login_op op = {name, "logout"};
	return store_write(st, login_fn, &op);
}

static int list_row(const store_user *u, void *arg)
{
	json_t *o =
	    json_pack("{s:s, s:s, s:I, s:I}", "name", u->name, "role", users_role_name(u->role),
	              "created", (json_int_t)u->created, "last_login", (json_int_t)u->last_login);
	return o && json_array_append_new(arg, o) == 0 ? 0 : BATON_ENOMEM;
}

static int list_fn(store_txn *t, void *arg)
{
	return store_user_each(t, list_row, arg);
}

int users_list(store *st, json_t **out)
{
	*out = NULL;
	return view_read(st, list_fn, NULL, out);
}

struct is_ctx {
	const char *name;
	store_user u;
};

static int is_fn(store_txn *t, void *arg)
{
	struct is_ctx *c = arg;
	return store_user_get(t, c->name, &c->u);
}

int users_stamp(store *st, const char *name, uint8_t stamp[USERS_STAMP])
{
	struct is_ctx c;
	crypto_generichash_state h;
	uint8_t head[16];
	int r;
	c.name = name;
	if ((r = store_read(st, is_fn, &c)) != 0)
		return r;
	memset(head, 0, sizeof(head));
	for (int i = 0; i < 8; i++) {
		head[i] = (uint8_t)((uint64_t)c.u.role >> (8 * i));
		head[8 + i] = (uint8_t)(c.u.created >> (8 * i));
	}
	crypto_generichash_init(&h, NULL, 0, USERS_STAMP);
	crypto_generichash_update(&h, head, sizeof(head));
	crypto_generichash_update(&h, (const uint8_t *)c.u.hash, strlen(c.u.hash));
	crypto_generichash_final(&h, stamp, USERS_STAMP);
	sodium_memzero(&c.u, sizeof(c.u));
	return 0;
}
