/*
 * Federation directories: the authorities this node has pinned, the current
 * directory of each, and the trust that follows from them. The members and
 * withdrawn keys of a directory are kept beside its bytes, keyed by its
 * authority first, so that a lookup by code or key is one read per pinned
 * authority and a new directory replaces its rows with one prefix delete.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "store_impl.h"

static const struct table authorities = {
    .db = DB_AUTHORITIES,
    .what = "pinned authority",
    .each_key_len = BATON_PK_BYTES,
};
static const struct table directories = {
    .db = DB_DIRECTORIES,
    .what = "directory of authority",
};
static const struct table members = {
    .db = DB_DIR_MEMBERS,
    .what = "directory member",
};
static const struct table member_keys = {
    .db = DB_DIR_KEYS,
    .what = "directory member key",
};
static const struct table withdrawn = {
    .db = DB_DIR_WITHDRAWN,
    .what = "withdrawn key",
};

#define AUTH_HEAD 8
#define DIR_HEAD  (3 * 8 + BATON_HASH_BYTES + 4 + 4 + 1)

/* authority(32) || rest (rlen bytes) into key; returns its length. */
static size_t auth_key(uint8_t key[BATON_PK_BYTES + BATON_CODE_MAX], const uint8_t *authority,
                       const void *rest, size_t rlen)
{
	memcpy(key, authority, BATON_PK_BYTES);
	memcpy(key + BATON_PK_BYTES, rest, rlen);
	return BATON_PK_BYTES + rlen;
}

/* ---- authorities ---- */

/*
 * pinned(8) || label, and when the authority has a URL, NUL || url: a
 * label holds no NUL, so a row written before URLs reads as it did.
 */
static int authority_dec(const MDB_val *k, const MDB_val *v, store_authority *a)
{
	const uint8_t *p = (const uint8_t *)v->mv_data + AUTH_HEAD, *nul;
	size_t n = v->mv_size >= AUTH_HEAD ? v->mv_size - AUTH_HEAD : 0, ln = n, un = 0;
	memset(a, 0, sizeof(*a));
	if (n && (nul = memchr(p, 0, n)) != NULL) {
		ln = (size_t)(nul - p);
		un = n - ln - 1;
	}
	if (k->mv_size != BATON_PK_BYTES || v->mv_size < AUTH_HEAD || ln > BATON_NAME_MAX ||
	    un > STORE_URL_MAX || (un && memchr(p + ln + 1, 0, un) != NULL))
		return bti_diag_err(BATON_EIO, "store: a pinned authority's row is damaged");
	memcpy(a->pk, k->mv_data, BATON_PK_BYTES);
	a->pinned = get_be64(v->mv_data);
	memcpy(a->label, p, ln);
	if (un)
		memcpy(a->url, p + ln + 1, un);
	return 0;
}

int store_authority_put(store_txn *t, store_authority *a)
{
	uint8_t v[AUTH_HEAD + BATON_NAME_MAX + 1 + STORE_URL_MAX];
	size_t n = strnlen(a->label, sizeof(a->label)), un = strnlen(a->url, sizeof(a->url));
	MDB_val cur;
	if (n > BATON_NAME_MAX)
		return bti_diag_err(BATON_EINVAL, "authority label: longer than %d bytes",
		                    BATON_NAME_MAX);
	if (un > STORE_URL_MAX)
		return bti_diag_err(BATON_EINVAL, "authority URL: longer than %d bytes",
		                    STORE_URL_MAX);
	/* Trust reads at most this many: one more is refused, not silently ignored. */
	if (tbl_get(t, &authorities, a->pk, BATON_PK_BYTES, &cur) == BATON_ENOTFOUND) {
		MDB_stat st;
		int rc = mdb_stat(t->txn, t->s->dbi[DB_AUTHORITIES], &st);
		if (rc != 0)
			return store_lmdb_err(rc, "stat");
		if (st.ms_entries >= STORE_AUTHORITIES_MAX)
			return bti_diag_err(BATON_EVALUE,
			                    "%d authorities are pinned already, the most a node "
			                    "consults; untrust one first",
			                    STORE_AUTHORITIES_MAX);
	}
	if (a->pinned == 0)
		a->pinned = t->now;
	put_be64(v, a->pinned);
	memcpy(v + AUTH_HEAD, a->label, n);
	if (un) {
		v[AUTH_HEAD + n] = 0;
		memcpy(v + AUTH_HEAD + n + 1, a->url, un);
		n += 1 + un;
	}
	return tbl_put(t, &authorities, a->pk, BATON_PK_BYTES, v, AUTH_HEAD + n, 0);
}

int store_authority_get(store_txn *t, const uint8_t pk[BATON_PK_BYTES], store_authority *a)
{
	MDB_val k = {BATON_PK_BYTES, (void *)(uintptr_t)pk}, v;
	int r;
	memset(a, 0, sizeof(*a));
	if ((r = tbl_get(t, &authorities, pk, BATON_PK_BYTES, &v)) != 0)
		return r;
	return authority_dec(&k, &v, a);
}

/*
 * Only the pin goes: the directory held, its members and its withdrawn keys
 * stay, read only for a pinned authority (auth_list). Pinned again, the
 * authority's version does not start over, so no older directory of it can
 * be taken and undo a withdrawal.
 */
int store_authority_del(store_txn *t, const uint8_t pk[BATON_PK_BYTES])
{
	return tbl_del(t, &authorities, pk, BATON_PK_BYTES);
}

static int authority_row(const MDB_val *k, const MDB_val *v, void *arg)
{
	const struct tbl_cb *c = arg;
	store_authority a;
	int r = authority_dec(k, v, &a);
	return r ? r : c->fn.authority(&a, c->ctx);
}

int store_authority_each(store_txn *t, store_authority_cb cb, void *ctx)
{
	struct tbl_cb c = {.fn.authority = cb, .ctx = ctx};
	return tbl_each(t, &authorities, NULL, 0, authority_row, &c);
}

/* ---- directories ---- */

static int directory_dec(const uint8_t authority[BATON_PK_BYTES], const MDB_val *v,
                         store_directory *d)
{
	const uint8_t *p = v->mv_data;
	memset(d, 0, sizeof(*d));
	if (v->mv_size < DIR_HEAD || v->mv_size < (size_t)DIR_HEAD + p[DIR_HEAD - 1] ||
	    p[DIR_HEAD - 1] > BATON_NAME_MAX)
		return bti_diag_err(BATON_EIO, "store: a directory's row is damaged");
	memcpy(d->authority, authority, BATON_PK_BYTES);
	d->version = get_be64(p);
	d->issued = get_be64(p + 8);
	d->expires = get_be64(p + 16);
	memcpy(d->hash, p + 24, BATON_HASH_BYTES);
	d->n_members = get_be32(p + 24 + BATON_HASH_BYTES);
	d->n_withdrawn = get_be32(p + 28 + BATON_HASH_BYTES);
	memcpy(d->name, p + DIR_HEAD, p[DIR_HEAD - 1]);
	d->bytes = p + DIR_HEAD + p[DIR_HEAD - 1];
	d->len = v->mv_size - DIR_HEAD - p[DIR_HEAD - 1];
	return 0;
}

int store_directory_get(store_txn *t, const uint8_t authority[BATON_PK_BYTES], store_directory *d)
{
	MDB_val v;
	int r;
	memset(d, 0, sizeof(*d));
	if ((r = tbl_get(t, &directories, authority, BATON_PK_BYTES, &v)) != 0)
		return r;
	return directory_dec(authority, &v, d);
}

int store_directory_member(store_txn *t, const uint8_t authority[BATON_PK_BYTES], const char *code,
                           uint8_t **card, size_t *len)
{
	uint8_t key[BATON_PK_BYTES + BATON_CODE_MAX];
	size_t n = strlen(code);
	*card = NULL;
	*len = 0;
	if (n == 0 || n > BATON_CODE_MAX)
		return bti_diag_err(BATON_ENOTFOUND, "store: no directory member %s", code);
	return tbl_get_copy(t, &members, key, auth_key(key, authority, code, n), card, len);
}

static int member_row(const MDB_val *k, const MDB_val *v, void *arg)
{
	const struct tbl_cb *c = arg;
	char code[BATON_CODE_MAX + 1];
	size_t n = k->mv_size - BATON_PK_BYTES;
	if (k->mv_size <= BATON_PK_BYTES || n > BATON_CODE_MAX)
		return 0;
	memcpy(code, (const uint8_t *)k->mv_data + BATON_PK_BYTES, n);
	code[n] = 0;
	return c->fn.peer(code, v->mv_data, v->mv_size, c->ctx);
}

int store_directory_member_each(store_txn *t, const uint8_t authority[BATON_PK_BYTES],
                                store_peer_cb cb, void *ctx)
{
	struct tbl_cb c = {.fn.peer = cb, .ctx = ctx};
	return tbl_each(t, &members, authority, BATON_PK_BYTES, member_row, &c);
}

/* The code a key had in the directory being replaced, or a code it was withdrawn under. */
static void old_code(store_txn *t, const uint8_t *authority, const uint8_t *pk,
                     char code[BATON_CODE_MAX + 1])
{
	uint8_t key[2 * BATON_PK_BYTES];
	MDB_val v;
	code[0] = 0;
	auth_key(key, authority, pk, BATON_PK_BYTES);
	if ((tbl_get(t, &member_keys, key, sizeof(key), &v) == 0 ||
	     tbl_get(t, &withdrawn, key, sizeof(key), &v) == 0) &&
	    v.mv_size <= BATON_CODE_MAX) {
		memcpy(code, v.mv_data, v.mv_size);
		code[v.mv_size] = 0;
	}
}

/* Counts what d changes against the rows held for its authority. */
static int diff_of(store_txn *t, const baton_directory *d, store_directory_diff *diff)
{
	uint8_t key[BATON_PK_BYTES + BATON_CODE_MAX];
	MDB_val v;
	size_t kept = 0, old_members = 0;
	store_directory old;
	int r;

	memset(diff, 0, sizeof(*diff));
	if ((r = store_directory_get(t, d->authority, &old)) == 0)
		old_members = old.n_members;
	else if (r != BATON_ENOTFOUND)
		return r;
	for (size_t i = 0; i < d->n_members; i++) {
		const baton_directory_member *m = &d->members[i];
		size_t klen = auth_key(key, d->authority, m->parsed.code, strlen(m->parsed.code));
		if ((r = tbl_get(t, &members, key, klen, &v)) == BATON_ENOTFOUND) {
			diff->added++;
			continue;
		}
		if (r != 0)
			return r;
		kept++;
		if (v.mv_size != m->card_len || memcmp(v.mv_data, m->card, m->card_len) != 0)
			diff->changed++;
	}
	diff->removed = old_members > kept ? old_members - kept : 0;
	for (size_t i = 0; i < d->n_withdrawn; i++) {
		auth_key(key, d->authority, d->withdrawn + i * BATON_PK_BYTES, BATON_PK_BYTES);
		if ((r = tbl_get(t, &withdrawn, key, 2 * BATON_PK_BYTES, &v)) == BATON_ENOTFOUND)
			diff->withdrawn++;
		else if (r != 0)
			return r;
	}
	return 0;
}

int store_directory_put(store_txn *t, const baton_directory *d, const uint8_t *bytes, size_t len,
                        store_directory_diff *diff)
{
	uint8_t key[BATON_PK_BYTES + BATON_CODE_MAX], *row = NULL;
	char(*codes)[BATON_CODE_MAX + 1] = NULL;
	store_directory_diff dd;
	store_authority a;
	size_t name_len = strnlen(d->name, sizeof(d->name)), head;
	int r;

	if ((r = store_authority_get(t, d->authority, &a)) != 0)
		return r == BATON_ENOTFOUND
		           ? bti_diag_err(BATON_EINVAL,
		                          "store: directory of an authority not pinned")
		           : r;
	if (d->n_members > UINT32_MAX || d->n_withdrawn > UINT32_MAX || name_len > BATON_NAME_MAX)
		return bti_diag_err(BATON_EINVAL, "store: directory too large");
	if ((r = diff_of(t, d, &dd)) != 0)
		return r;
	/* The codes of the keys withdrawn, read before the rows they are read from go. */
	if (d->n_withdrawn && (codes = calloc(d->n_withdrawn, sizeof(*codes))) == NULL)
		return BATON_ENOMEM;
	for (size_t i = 0; i < d->n_withdrawn; i++)
		old_code(t, d->authority, d->withdrawn + i * BATON_PK_BYTES, codes[i]);
	head = DIR_HEAD + name_len;
	if ((row = malloc(head + len)) == NULL) {
		r = BATON_ENOMEM;
		goto out;
	}
	put_be64(row, d->version);
	put_be64(row + 8, d->issued);
	put_be64(row + 16, d->expires);
	memcpy(row + 24, d->hash, BATON_HASH_BYTES);
	put_be32(row + 24 + BATON_HASH_BYTES, (uint32_t)d->n_members);
	put_be32(row + 28 + BATON_HASH_BYTES, (uint32_t)d->n_withdrawn);
	row[DIR_HEAD - 1] = (uint8_t)name_len;
	memcpy(row + DIR_HEAD, d->name, name_len);
	memcpy(row + head, bytes, len);
	if ((r = tbl_put(t, &directories, d->authority, BATON_PK_BYTES, row, head + len, 0)) != 0 ||
	    (r = tbl_drop_prefix(t, &members, d->authority, BATON_PK_BYTES)) != 0 ||
	    (r = tbl_drop_prefix(t, &member_keys, d->authority, BATON_PK_BYTES)) != 0 ||
	    (r = tbl_drop_prefix(t, &withdrawn, d->authority, BATON_PK_BYTES)) != 0)
		goto out;
	for (size_t i = 0; i < d->n_members; i++) {
		const baton_directory_member *m = &d->members[i];
		size_t n = strlen(m->parsed.code);
		if ((r = tbl_put(t, &members, key, auth_key(key, d->authority, m->parsed.code, n),
		                 m->card, m->card_len, 0)) != 0 ||
		    (r = tbl_put(t, &member_keys, key,
		                 auth_key(key, d->authority, m->parsed.id_pk, BATON_PK_BYTES),
		                 m->parsed.code, n, 0)) != 0)
			goto out;
	}
	for (size_t i = 0; i < d->n_withdrawn; i++)
		if ((r = tbl_put(t, &withdrawn, key,
		                 auth_key(key, d->authority, d->withdrawn + i * BATON_PK_BYTES,
		                          BATON_PK_BYTES),
		                 codes[i], strlen(codes[i]), 0)) != 0)
			goto out;
	if (diff)
		*diff = dd;
	r = 0;
out:
	free(row);
	free(codes);
	return r;
}

/* ---- trust ---- */

/* The name an authority goes by: its label, else its directory's name, else its fingerprint. */
static void authority_name(store_txn *t, const uint8_t pk[BATON_PK_BYTES],
                           char out[BATON_NAME_MAX + 1])
{
	store_authority a;
	store_directory d;
	if (store_authority_get(t, pk, &a) == 0 && a.label[0]) {
		snprintf(out, BATON_NAME_MAX + 1, "%s", a.label);
	} else if (store_directory_get(t, pk, &d) == 0 && d.name[0]) {
		snprintf(out, BATON_NAME_MAX + 1, "%s", d.name);
	} else {
		char fp[BATON_FINGERPRINT_LEN + 1];
		baton_fingerprint(pk, fp);
		snprintf(out, BATON_NAME_MAX + 1, "%s", fp);
	}
}

/* The pinned authorities, for the lookups below (store_authority_put keeps them to this many). */
#define AUTH_MAX STORE_AUTHORITIES_MAX

struct auth_list {
	uint8_t pk[AUTH_MAX][BATON_PK_BYTES];
	size_t n;
};

static int auth_collect(const store_authority *a, void *arg)
{
	struct auth_list *l = arg;
	if (l->n < AUTH_MAX)
		memcpy(l->pk[l->n++], a->pk, BATON_PK_BYTES);
	return 0;
}

static int auth_list(store_txn *t, struct auth_list **out)
{
	int r;
	if ((*out = calloc(1, sizeof(**out))) == NULL)
		return BATON_ENOMEM;
	if ((r = store_authority_each(t, auth_collect, *out)) != 0) {
		free(*out);
		*out = NULL;
	}
	return r;
}

int store_withdrawn(store_txn *t, const uint8_t pk[BATON_PK_BYTES], char by[BATON_NAME_MAX + 1])
{
	struct auth_list *l = NULL;
	uint8_t key[2 * BATON_PK_BYTES];
	MDB_val v;
	int r;

	by[0] = 0;
	if ((r = auth_list(t, &l)) != 0)
		return r;
	r = BATON_ENOTFOUND;
	for (size_t i = 0; i < l->n && r == BATON_ENOTFOUND; i++) {
		auth_key(key, l->pk[i], pk, BATON_PK_BYTES);
		if ((r = tbl_get(t, &withdrawn, key, sizeof(key), &v)) == 0)
			authority_name(t, l->pk[i], by);
	}
	free(l);
	return r;
}

/* Seconds a clock may be off when a member's card window is checked, as for every card. */
#define MEMBER_SKEW 300

/* 0 unless code is this node's own (BATON_ENOTFOUND) or its card cannot be read. */
static int not_own_code(store_txn *t, const char *code)
{
	baton_card own;
	int r = store_own_card(t, &own);
	if (r == BATON_ENOTFOUND)
		return 0; /* no card yet */
	if (r != 0)
		return r;
	return strcmp(own.code, code) == 0
	           ? bti_diag_err(BATON_ENOTFOUND, "store: %s is this school", code)
	           : 0;
}

/*
 * The card code has, withdrawn or not: pinned, else a member of the first
 * pinned authority (in key order) whose directory is valid now and whose
 * card is valid now.
 */
static int card_any(store_txn *t, const char *code, baton_card *c, store_trust *how)
{
	struct auth_list *l = NULL;
	store_directory d;
	uint8_t *b = NULL;
	size_t n = 0;
	int r = store_peer_get(t, code, &b, &n);

	memset(how, 0, sizeof(*how));
	if (r != BATON_ENOTFOUND) {
		how->via = STORE_TRUST_PIN;
		return store_card_from(r, b, n, c);
	}
	/* A directory lists this school too: its own code is no peer through one. */
	if ((r = not_own_code(t, code)) != 0 || (r = auth_list(t, &l)) != 0)
		return r;
	r = BATON_ENOTFOUND;
	for (size_t i = 0; i < l->n && r == BATON_ENOTFOUND; i++) {
		if ((r = store_directory_get(t, l->pk[i], &d)) != 0 ||
		    (r = t->now > d.expires ? BATON_ENOTFOUND : 0) != 0)
			continue;
		if ((r = store_directory_member(t, l->pk[i], code, &b, &n)) != 0)
			continue;
		if ((r = store_card_from(0, b, n, c)) != 0)
			break;
		/* A member's card out of its own window is not trusted, as a pinned one is not
		 * used. */
		if (baton_check_validity(c->valid_from, c->valid_until, t->now, MEMBER_SKEW) != 0) {
			memset(c, 0, sizeof(*c));
			r = BATON_ENOTFOUND;
			continue;
		}
		how->via = STORE_TRUST_DIRECTORY;
		memcpy(how->authority, l->pk[i], BATON_PK_BYTES);
		authority_name(t, l->pk[i], how->authority_name);
	}
	free(l);
	if (r == BATON_ENOTFOUND)
		bti_diag_set("store: %s is not a trusted school", code);
	return r;
}

int store_trusted_card(store_txn *t, const char *code, baton_card *c, store_trust *how)
{
	char by[BATON_NAME_MAX + 1];
	store_trust tmp;
	int r = card_any(t, code, c, how ? how : &tmp);
	if (r != 0)
		return r;
	if ((r = store_withdrawn(t, c->id_pk, by)) == 0) {
		memset(c, 0, sizeof(*c));
		return bti_diag_err(BATON_ENOTFOUND, "store: %s: its key is withdrawn by %s", code,
		                    by);
	}
	return r == BATON_ENOTFOUND ? 0 : r;
}

int store_withdrawn_code(store_txn *t, const char *code, char by[BATON_NAME_MAX + 1])
{
	struct auth_list *l = NULL;
	store_trust how;
	baton_card c;
	int r = card_any(t, code, &c, &how);
	if (r == 0)
		return store_withdrawn(t, c.id_pk, by);
	if (r != BATON_ENOTFOUND)
		return r;
	/* Not a member any more: a key withdrawn under this code. */
	by[0] = 0;
	if ((r = auth_list(t, &l)) != 0)
		return r;
	r = BATON_ENOTFOUND;
	for (size_t i = 0; i < l->n && r == BATON_ENOTFOUND; i++) {
		MDB_cursor *cur;
		MDB_val k = {BATON_PK_BYTES, l->pk[i]}, v;
		int rc;
		if ((rc = mdb_cursor_open(t->txn, t->s->dbi[DB_DIR_WITHDRAWN], &cur)) != 0) {
			r = store_lmdb_err(rc, "cursor");
			break;
		}
		for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
		     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
			if (k.mv_size != 2 * BATON_PK_BYTES ||
			    memcmp(k.mv_data, l->pk[i], BATON_PK_BYTES) != 0)
				break;
			if (v.mv_size == strlen(code) && memcmp(v.mv_data, code, v.mv_size) == 0) {
				authority_name(t, l->pk[i], by);
				r = 0;
				break;
			}
		}
		mdb_cursor_close(cur);
		if (r == BATON_ENOTFOUND && (r = store_cursor_end(0, rc)) == 0)
			r = BATON_ENOTFOUND;
	}
	free(l);
	return r;
}

int store_expired_member(store_txn *t, const char *code, char by[BATON_NAME_MAX + 1],
                         uint64_t *expires)
{
	struct auth_list *l = NULL;
	store_directory d;
	uint8_t *b = NULL;
	size_t n = 0;
	int r = store_peer_get(t, code, &b, &n);

	by[0] = 0;
	*expires = 0;
	free(b);
	if (r != BATON_ENOTFOUND)
		return r == 0 ? BATON_ENOTFOUND : r;
	if ((r = auth_list(t, &l)) != 0)
		return r;
	r = BATON_ENOTFOUND;
	for (size_t i = 0; i < l->n && r == BATON_ENOTFOUND; i++) {
		int e;
		if ((e = store_directory_get(t, l->pk[i], &d)) != 0 || t->now <= d.expires) {
			r = e == 0 || e == BATON_ENOTFOUND ? BATON_ENOTFOUND : e;
			continue;
		}
		*expires = d.expires;
		if ((e = store_directory_member(t, l->pk[i], code, &b, &n)) != 0) {
			r = e == BATON_ENOTFOUND ? BATON_ENOTFOUND : e;
			continue;
		}
		free(b);
		authority_name(t, l->pk[i], by);
		r = 0;
	}
	free(l);
	if (r != 0)
		*expires = 0;
	return r;
}

struct key_find {
	const uint8_t *pk;
	char code[BATON_CODE_MAX + 1];
	int err;
};

static int pin_by_key(const char *code, const uint8_t *card, size_t len, void *arg)
{
	struct key_find *f = arg;
	baton_card c;
	int r = baton_card_parse(card, len, &c);
	if (r == BATON_ENOMEM)
		return r;
	if (r == 0 && sodium_memcmp(c.id_pk, f->pk, BATON_PK_BYTES) == 0) {
		snprintf(f->code, sizeof(f->code), "%s", code);
		return 1;
	}
	return 0;
}

int store_trusted_code(store_txn *t, const uint8_t pk[BATON_PK_BYTES],
                       char code[BATON_CODE_MAX + 1])
{
	struct key_find f = {pk, "", 0};
	struct auth_list *l = NULL;
	uint8_t key[2 * BATON_PK_BYTES];
	store_directory d;
	baton_card c;
	MDB_val v;
	int r;

	code[0] = 0;
	if ((r = store_peer_each(t, pin_by_key, &f)) < 0)
		return r;
	if (f.code[0] == 0) {
		if ((r = auth_list(t, &l)) != 0)
			return r;
		for (size_t i = 0; i < l->n && f.code[0] == 0; i++) {
			auth_key(key, l->pk[i], pk, BATON_PK_BYTES);
			if (store_directory_get(t, l->pk[i], &d) != 0 || t->now > d.expires ||
			    tbl_get(t, &member_keys, key, sizeof(key), &v) != 0 || v.mv_size == 0 ||
			    v.mv_size > BATON_CODE_MAX)
				continue;
			memcpy(f.code, v.mv_data, v.mv_size);
			f.code[v.mv_size] = 0;
		}
		free(l);
	}
	if (f.code[0] == 0)
		return bti_diag_err(BATON_ENOTFOUND, "store: no trusted school has this key");
	/* The one rule: the card trusted for that code must carry this very key. */
	if ((r = store_trusted_card(t, f.code, &c, NULL)) != 0)
		return r;
	if (sodium_memcmp(c.id_pk, pk, BATON_PK_BYTES) != 0)
		return bti_diag_err(BATON_ENOTFOUND, "store: no trusted school has this key");
	snprintf(code, BATON_CODE_MAX + 1, "%s", f.code);
	return 0;
}

struct each_ctx {
	store_txn *t;
	store_trusted_cb cb;
	void *ctx;
	const uint8_t *authority; /* the directory being walked, or NULL for the pins */
};

static int each_pin(const char *code, const uint8_t *card, size_t len, void *arg)
{
	struct each_ctx *x = arg;
	store_trust how;
	baton_card c;
	int r;
	memset(&how, 0, sizeof(how));
	how.via = STORE_TRUST_PIN;
	if ((r = baton_card_parse(card, len, &c)) != 0)
		return r == BATON_ENOMEM
		           ? r
		           : bti_diag_err(BATON_EIO, "store: the pinned card of %s does not parse",
		                          code);
	if ((r = store_withdrawn(x->t, c.id_pk, how.withdrawn_by)) < 0 && r != BATON_ENOTFOUND)
		return r;
	return x->cb(code, &c, &how, x->ctx);
}

static int each_member(const char *code, const uint8_t *card, size_t len, void *arg)
{
	struct each_ctx *x = arg;
	store_trust how;
	baton_card c;
	int r;
	(void)card;
	(void)len;
	/* Once, where the one rule of trust finds it: not pinned, not withdrawn. */
	if ((r = store_trusted_card(x->t, code, &c, &how)) == BATON_ENOTFOUND)
		return 0;
	if (r != 0)
		return r;
	if (how.via != STORE_TRUST_DIRECTORY ||
	    memcmp(how.authority, x->authority, BATON_PK_BYTES) != 0)
		return 0;
	return x->cb(code, &c, &how, x->ctx);
}

int store_trusted_each(store_txn *t, store_trusted_cb cb, void *ctx)
{
	struct each_ctx x = {t, cb, ctx, NULL};
	struct auth_list *l = NULL;
	int r;
	if ((r = store_peer_each(t, each_pin, &x)) != 0 || (r = auth_list(t, &l)) != 0)
		return r;
	for (size_t i = 0; i < l->n && r == 0; i++) {
		x.authority = l->pk[i];
		r = store_directory_member_each(t, l->pk[i], each_member, &x);
	}
	free(l);
	return r;
}
