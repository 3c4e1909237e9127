/* Federation directories on the node (directory.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "bti.h"
#include "card.h"
#include "dirfetch.h"
#include "directory.h"
#include "log.h"
#include "view.h"
#include "view_peers.h"

#define DIRECTORY_SKEW 300 /* seconds a clock may be off, as for cards */

static int dir_audit(store_txn *t, const char *action, const char *detail)
{
	store_audit e;
	memset(&e, 0, sizeof(e));
	snprintf(e.action, sizeof(e.action), "%s", action);
	snprintf(e.detail, sizeof(e.detail), "%s", detail);
	return store_audit_append(t, &e);
}

/* The name an authority goes by: its label, else its directory's name, else "". */
static void name_of(store_txn *t, const store_authority *a, char out[BATON_NAME_MAX + 1])
{
	store_directory d;
	if (a->label[0])
		snprintf(out, BATON_NAME_MAX + 1, "%s", a->label);
	else if (store_directory_get(t, a->pk, &d) == 0)
		snprintf(out, BATON_NAME_MAX + 1, "%s", d.name);
	else
		out[0] = 0;
}

/* The outbox's note on an entry held for a withdrawn school (outbox.c). */
#define HELD_NOTE "held: withdrawn by "

struct held_ctx {
	store_outbox *e; /* grows */
	size_t n, cap;
};

static int held_one(const store_outbox *e, void *arg)
{
	struct held_ctx *h = arg;
	if (e->state != OUT_QUEUED || strncmp(e->last_error, HELD_NOTE, strlen(HELD_NOTE)) != 0)
		return 0;
	if (h->n == h->cap) {
		size_t cap = h->cap ? 2 * h->cap : 16;
		store_outbox *p = realloc(h->e, cap * sizeof(*p));
		if (p == NULL)
			return BATON_ENOMEM;
		h->e = p;
		h->cap = cap;
	}
	h->e[h->n++] = *e;
	return 0;
}

/*
 * Trust changed: the entries held for withdrawn schools are looked at again
 * now, so that one whose school came back goes at once (the outbox holds
 * again those still withdrawn).
 */
static int held_due_now(store_txn *t)
{
	struct held_ctx h = {NULL, 0, 0};
	int r = store_outbox_each(t, held_one, &h);
	for (size_t i = 0; r == 0 && i < h.n; i++) {
		h.e[i].next_try = t->now;
		r = store_outbox_put(t, &h.e[i]);
	}
	free(h.e);
	return r;
}

struct trust_ctx {
	const uint8_t *pk;
	const char *label;
	const char *url; /* NULL: the one held, if any */
	int again;
};

static int trust_fn(store_txn *t, void *arg)
{
	struct trust_ctx *x = arg;
	store_authority a;
	char fpr[BATON_FINGERPRINT_LEN + 1], detail[256], url[STORE_URL_MAX + 1] = "";
	int r = store_authority_get(t, x->pk, &a);

	if (r < 0 && r != BATON_ENOTFOUND)
		return r;
	x->again = r == 0;
	if (x->again)
		snprintf(url, sizeof(url), "%s", a.url);
	memset(&a, 0, sizeof(a));
	memcpy(a.pk, x->pk, BATON_PK_BYTES);
	snprintf(a.label, sizeof(a.label), "%s", x->label);
	snprintf(a.url, sizeof(a.url), "%s", x->url ? x->url : url);
	if ((r = store_authority_put(t, &a)) != 0)
		return r;
	baton_fingerprint(x->pk, fpr);
	snprintf(detail, sizeof(detail), "authority %s%s%.128s%s%s", fpr, a.label[0] ? " (" : "",
	         a.label, a.label[0] ? ")" : "", a.url[0] ? ", fetched from a URL" : "");
	return dir_audit(t, "directory-trust", detail);
}

int directory_trust(store *st, const uint8_t pk[BATON_PK_BYTES], const char *label, const char *url,
                    int *again)
{
	struct trust_ctx x = {pk, label ? label : "", url, 0};
	int r;
	if (strlen(x.label) > BATON_NAME_MAX)
		return bti_diag_err(BATON_EINVAL, "--name: longer than %d bytes", BATON_NAME_MAX);
	if (url && url[0] && (r = dirfetch_url_check(url)) != 0)
		return r;
	if ((r = store_write(st, trust_fn, &x)) == 0 && again)
		*again = x.again;
	return r;
}

/* Finds the pinned authority whose fingerprint is fpr (as typed, peers_fpr_match). */
struct fpr_find {
	const char *fpr;
	uint8_t pk[BATON_PK_BYTES];
	int found;
};

static int fpr_find_cb(const store_authority *a, void *arg)
{
	struct fpr_find *x = arg;
	char fpr[BATON_FINGERPRINT_LEN + 1];
	baton_fingerprint(a->pk, fpr);
	if (!peers_fpr_match(fpr, x->fpr))
		return 0;
	memcpy(x->pk, a->pk, BATON_PK_BYTES);
	x->found = 1;
	return 1;
}

/* Its key into pk, and *a; BATON_EVALUE naming fpr when no pinned authority has it. */
static int authority_by_fpr(store_txn *t, const char *fpr, uint8_t pk[BATON_PK_BYTES],
                            store_authority *a)
{
	struct fpr_find x = {.fpr = fpr};
	int r = store_authority_each(t, fpr_find_cb, &x);
	if (r < 0)
		return r;
	if (!x.found)
		return bti_diag_err(BATON_EVALUE, "no pinned authority has fingerprint %s", fpr);
	memcpy(pk, x.pk, BATON_PK_BYTES);
	return store_authority_get(t, pk, a);
}

struct url_ctx {
	const char *fpr, *url;
	uint8_t pk[BATON_PK_BYTES];
};

static int url_fn(store_txn *t, void *arg)
{
	struct url_ctx *x = arg;
	store_authority a;
	char fpr[BATON_FINGERPRINT_LEN + 1], detail[256];
	int r;

	if ((r = authority_by_fpr(t, x->fpr, x->pk, &a)) != 0)
		return r;
	snprintf(a.url, sizeof(a.url), "%s", x->url);
	if ((r = store_authority_put(t, &a)) != 0)
		return r;
	baton_fingerprint(x->pk, fpr);
	snprintf(detail, sizeof(detail), "authority %s: %s", fpr,
	         x->url[0] ? "its directory is fetched from a URL"
	                   : "its directory is not fetched");
	return dir_audit(t, "directory-url", detail);
}

int directory_set_url(store *st, const char *fpr, const char *url)
{
	struct url_ctx x = {.fpr = fpr, .url = url};
	int r;
	if (url[0] && (r = dirfetch_url_check(url)) != 0)
		return r;
	return store_write(st, url_fn, &x);
}

struct untrust_ctx {
	const char *fpr;
	uint8_t pk[BATON_PK_BYTES];
};

static int untrust_fn(store_txn *t, void *arg)
{
	struct untrust_ctx *x = arg;
	store_authority a;
	char fpr[BATON_FINGERPRINT_LEN + 1], name[BATON_NAME_MAX + 1], detail[256];
	int r;

	if ((r = authority_by_fpr(t, x->fpr, x->pk, &a)) != 0)
		return r;
	name_of(t, &a, name);
	if ((r = store_authority_del(t, x->pk)) != 0)
		return r;
	baton_fingerprint(x->pk, fpr);
	snprintf(detail, sizeof(detail), "authority %s%s%.128s%s", fpr, name[0] ? " (" : "", name,
	         name[0] ? ")" : "");
	if ((r = dir_audit(t, "directory-untrust", detail)) != 0)
		return r;
	return held_due_now(t);
}

int directory_untrust(store *st, const char *fpr, uint8_t pk[BATON_PK_BYTES])
{
	struct untrust_ctx x = {.fpr = fpr};
	int r = store_write(st, untrust_fn, &x);
	if (r == 0 && pk)
		memcpy(pk, x.pk, BATON_PK_BYTES);
	return r;
}

struct other_ctx {
	const baton_directory *d;
	const char *name;
	const char *fpr;
	int r;
	store_txn *t;
};

/*
 * A code of d that the current directory of another pinned authority gives
 * another key: refused, naming the code and both authorities.
 */
static int conflict_one(const store_authority *a, void *arg)
{
	struct other_ctx *x = arg;
	char other[BATON_NAME_MAX + 1], ofpr[BATON_FINGERPRINT_LEN + 1];
	store_directory od;
	int r;

	if (sodium_memcmp(a->pk, x->d->authority, BATON_PK_BYTES) == 0)
		return 0;
	if ((r = store_directory_get(x->t, a->pk, &od)) == BATON_ENOTFOUND)
		return 0;
	if (r != 0)
		return r;
	for (size_t i = 0; i < x->d->n_members; i++) {
		const baton_card *m = &x->d->members[i].parsed;
		uint8_t *b = NULL;
		size_t n = 0;
		baton_card c;
		if ((r = store_directory_member(x->t, a->pk, m->code, &b, &n)) == BATON_ENOTFOUND)
			continue;
		if (r != 0)
			return r;
		r = baton_card_parse(b, n, &c);
		free(b);
		if (r != 0)
			return bti_diag_err(
			    BATON_EIO, "a stored directory card of %s does not parse", m->code);
		if (sodium_memcmp(c.id_pk, m->id_pk, BATON_PK_BYTES) == 0)
			continue;
		name_of(x->t, a, other);
		baton_fingerprint(a->pk, ofpr);
		return bti_diag_err(BATON_EVALUE,
		                    "conflict: %s has another identity key in this directory of %s "
		                    "(%s) than in the directory of %s (%s); not taken",
		                    m->code, x->name, x->fpr, other[0] ? other : ofpr, ofpr);
	}
	return 0;
}

struct update_ctx {
	const baton_directory *d;
	const uint8_t *bytes;
	size_t len;
	uint64_t now;
	const char *from;
	struct directory_update *u;
};

static int update_fn(store_txn *t, void *arg)
{
	struct update_ctx *x = arg;
	const baton_directory *d = x->d;
	struct directory_update *u = x->u;
	store_authority a;
	store_directory held;
	char detail[256];
	int r;

	memset(&u->diff, 0, sizeof(u->diff));
	u->unchanged = 0;
	if ((r = store_authority_get(t, d->authority, &a)) == BATON_ENOTFOUND)
		return bti_diag_err(BATON_EBADKEY,
		                    "signed by %s (%s), an authority this node has not pinned "
		                    "'baton directory trust'); not taken",
		                    u->fingerprint, d->name);
	if (r != 0)
		return r;
	snprintf(u->authority, sizeof(u->authority), "%s", a.label[0] ? a.label : d->name);
	if ((r = store_directory_get(t, d->authority, &held)) < 0 && r != BATON_ENOTFOUND)
		return r;
	if (r == 0) {
		if (d->version < held.version)
			return bti_diag_err(BATON_EVALUE,
			                    "version %llu is older than version %llu held for %s; "
			                    "not taken",
			                    (unsigned long long)d->version,
			                    (unsigned long long)held.version, u->authority);
		if (d->version == held.version) {
			if (held.len == x->len && memcmp(held.bytes, x->bytes, x->len) == 0) {
				u->unchanged = 1;
				return 0;
			}
			return bti_diag_err(BATON_EVALUE,
			                    "version %llu of %s is held with other contents; "
			                    "not taken",
			                    (unsigned long long)d->version, u->authority);
		}
	}
	struct other_ctx oc = {d, u->authority, u->fingerprint, 0, t};
	if ((r = store_authority_each(t, conflict_one, &oc)) != 0)
		return r;
	if ((r = store_directory_put(t, d, x->bytes, x->len, &u->diff)) != 0)
		return r;
	snprintf(detail, sizeof(detail),
	         "authority %s (%.64s), version %llu: %zu added, %zu changed, %zu removed, "
	         "%zu withdrawn%s%s",
	         u->fingerprint, u->authority, (unsigned long long)d->version, u->diff.added,
	         u->diff.changed, u->diff.removed, u->diff.withdrawn,
	         x->from ? ", from school " : "", x->from ? x->from : "");
	if ((r = dir_audit(t, "directory-update", detail)) != 0)
		return r;
	return held_due_now(t);
}

struct pinned_ctx {
	const uint8_t *pk;
};

static int pinned_fn(store_txn *t, void *arg)
{
	const struct pinned_ctx *x = arg;
	store_authority a;
	return store_authority_get(t, x->pk, &a);
}

/*
 * Before the members are decoded and each card verified: the authority the
 * body names must be pinned and its signature must verify, so a directory
 * from anyone else costs one signature check. The full parse that follows
 * gives the codec's own errors in the codec's order (its second verify of
 * the same signature is kept by this thread, not made again).
 */
static int directory_authenticate(store *st, const uint8_t *bytes, size_t len, uint64_t now)
{
	uint8_t pk[BATON_PK_BYTES];
	char fpr[BATON_FINGERPRINT_LEN + 1];
	struct pinned_ctx x = {pk};
	int r = baton_directory_authority(bytes, len, pk);

	if (r == BATON_ENOTFOUND)
		return 0;
	if (r != 0)
		return r;
	if ((r = store_read_at(st, now, pinned_fn, &x)) == BATON_ENOTFOUND) {
		baton_fingerprint(pk, fpr);
		return bti_diag_err(BATON_EBADKEY,
		                    "signed by %s (an authority not pinned on this node: "
		                    "'baton directory trust'); not taken",
		                    fpr);
	}
	if (r != 0)
		return r;
	return baton_directory_verify_signature(bytes, len, pk);
}

int directory_update(store *st, const uint8_t *bytes, size_t len, uint64_t now,
                     struct directory_update *u)
{
	return directory_update_from(st, bytes, len, now, NULL, u);
}

int directory_update_from(store *st, const uint8_t *bytes, size_t len, uint64_t now,
                          const char *from, struct directory_update *u)
{
	baton_directory d;
	int r;

	memset(u, 0, sizeof(*u));
	if ((r = directory_authenticate(st, bytes, len, now)) != 0)
		return r;
	if ((r = baton_directory_parse(bytes, len, &d)) != 0)
		return r;
	baton_fingerprint(d.authority, u->fingerprint);
	snprintf(u->authority, sizeof(u->authority), "%s", d.name);
	u->version = d.version;
	u->expires = d.expires;
	u->members = d.n_members;
	u->withdrawn_keys = d.n_withdrawn;
	/* A directory out of its window freezes what is held: nothing older or newer is taken. */
	if ((r = baton_check_validity(d.issued, d.expires, now, DIRECTORY_SKEW)) != 0) {
		char since[CARD_TIME_LEN], until[CARD_TIME_LEN];
		card_time(d.issued, since);
		card_time(d.expires, until);
		r = bti_diag_err(r, "version %llu of %s is %s (valid %s to %s); not taken",
		                 (unsigned long long)d.version, d.name,
		                 r == BATON_EEXPIRED ? "expired" : "not valid yet", since, until);
		goto out;
	}
	struct update_ctx x = {&d, bytes, len, now, from, u};
	r = store_write_at(st, now, update_fn, &x);
out:
	baton_directory_free(&d);
	return r;
}

struct list_ctx {
	json_t *arr;
	uint64_t now;
	store_txn *t;
};

static int list_one(const store_authority *a, void *arg)
{
	struct list_ctx *x = arg;
	char fpr[BATON_FINGERPRINT_LEN + 1], line[BATON_PUBKEY_TEXT_MAX];
	store_directory d;
	json_t *o;
	int r;

	baton_fingerprint(a->pk, fpr);
	if (baton_pubkey_format(BATON_PUBKEY_AUTHORITY, a->pk, line) != 0)
		line[0] = 0;
	if ((o = json_pack("{s:s, s:s, s:s, s:I, s:s}", "fingerprint", fpr, "key", line, "label",
	                   a->label, "pinned", (json_int_t)a->pinned, "url", a->url)) == NULL)
		return BATON_ENOMEM;
	if ((r = store_directory_get(x->t, a->pk, &d)) == 0) {
		json_object_set_new(o, "name", json_string(d.name));
		json_object_set_new(o, "version", json_integer((json_int_t)d.version));
		json_object_set_new(o, "issued", json_integer((json_int_t)d.issued));
		json_object_set_new(o, "expires", json_integer((json_int_t)d.expires));
		json_object_set_new(o, "expired", json_boolean(x->now > d.expires));
		json_object_set_new(
		    o, "expires_soon",
		    json_boolean(x->now <= d.expires && d.expires - x->now < DIRECTORY_WARN_SECS));
		json_object_set_new(o, "members", json_integer((json_int_t)d.n_members));
		json_object_set_new(o, "withdrawn", json_integer((json_int_t)d.n_withdrawn));
	} else if (r != BATON_ENOTFOUND) {
		json_decref(o);
		return r;
	}
	return json_array_append_new(x->arr, o) ? BATON_ENOMEM : 0;
}

static int list_fn(store_txn *t, void *arg)
{
	struct list_ctx *x = arg;
	x->t = t;
	return store_authority_each(t, list_one, x);
}

int directory_list(store *st, uint64_t now, json_t **out)
{
	struct list_ctx x = {json_array(), now, NULL};
	int r;
	*out = NULL;
	if (x.arr == NULL)
		return BATON_ENOMEM;
	if ((r = store_read_at(st, now, list_fn, &x)) != 0) {
		json_decref(x.arr);
		return r;
	}
	*out = x.arr;
	return 0;
}

int directory_warn_log(store *st, uint64_t now)
{
	json_t *arr = NULL, *o;
	size_t i;
	int r, n = 0;
	char until[CARD_TIME_LEN];

	if ((r = directory_list(st, now, &arr)) != 0) {
		node_log(NODE_LOG_ERR, "directory: the look at directories' expiry failed: %s",
		         baton_diag_for(r));
		return r;
	}
	json_array_foreach(arr, i, o)
	{
		const char *label = json_string_value(json_object_get(o, "label"));
		const char *name = json_string_value(json_object_get(o, "name"));
		int expired = json_is_true(json_object_get(o, "expired"));
		if (!expired && !json_is_true(json_object_get(o, "expires_soon")))
			continue;
		card_time((uint64_t)json_integer_value(json_object_get(o, "expires")), until);
		node_log(NODE_LOG_WARN,
		         "directory: the directory of %.128s (%s) %s %s; take a newer one with "
		         "'baton directory update'",
		         label && label[0] ? label
		         : name            ? name
		                           : "",
		         json_string_value(json_object_get(o, "fingerprint")),
		         expired ? "expired" : "expires", until);
		n++;
	}
	json_decref(arr);
	return n;
}

int directory_expired_why(store_txn *t, const char *code)
{
	char by[BATON_NAME_MAX + 1], when[CARD_TIME_LEN];
	uint64_t expires;
	int r = store_expired_member(t, code, by, &expires);
	if (r != 0)
		return r;
	card_time(expires, when);
	when[10] = 0; /* the day is enough */
	return bti_diag_err(BATON_EVALUE,
	                    "%s was trusted through %s's directory, which expired %s; take a "
	                    "newer one with 'baton directory update'",
	                    code, by, when);
}
