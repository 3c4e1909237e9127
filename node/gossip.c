/*
 * Passing the newest directory from node to node: offers of the versions
 * held and updates carrying one directory (PROTOCOL.md section 10). A
 * directory passed on is taken only through directory_update_from, the
 * check 'baton directory update' makes; the frames themselves carry no
 * trust.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "bti.h"
#include "directory.h"
#include "gossip.h"
#include "log.h"

struct own_ctx {
	struct frame_offer *e;
	size_t k;
	store_txn *t;
};

static int own_one(const store_authority *a, void *arg)
{
	struct own_ctx *x = arg;
	store_directory d;
	int r;
	if (x->k == FRAME_OFFER_MAX)
		return 0;
	memcpy(x->e[x->k].authority, a->pk, BATON_PK_BYTES);
	if ((r = store_directory_get(x->t, a->pk, &d)) == 0)
		x->e[x->k].version = d.version;
	else if (r == BATON_ENOTFOUND)
		x->e[x->k].version = 0;
	else
		return r;
	x->k++;
	return 0;
}

static int own_fn(store_txn *t, void *arg)
{
	struct own_ctx *x = arg;
	x->t = t;
	x->k = 0;
	return store_authority_each(t, own_one, x);
}

int gossip_own(store *st, struct frame_offer e[FRAME_OFFER_MAX], size_t *k)
{
	struct own_ctx x = {e, 0, NULL};
	int r = store_read(st, own_fn, &x);
	*k = r ? 0 : x.k;
	return r;
}

/* The update frame of this node's directory of authority, when newer than version and it fits. */
struct newer_ctx {
	const struct frame_offer *e;
	size_t k;
	int all; /* every one (gossip_updates), else the first */
	gossip_update_cb cb;
	void *cb_ctx;
	uint8_t *out; /* the first, when !all */
	size_t len;
};

static int newer_fn(store_txn *t, void *arg)
{
	struct newer_ctx *x = arg;
	baton_card me;
	store_authority a;
	store_directory d;
	int r;

	if ((r = store_own_card(t, &me)) != 0)
		return r;
	for (size_t i = 0; i < x->k; i++) {
		if ((r = store_authority_get(t, x->e[i].authority, &a)) == BATON_ENOTFOUND)
			continue;
		if (r != 0)
			return r;
		if ((r = store_directory_get(t, x->e[i].authority, &d)) == BATON_ENOTFOUND)
			continue;
		if (r != 0)
			return r;
		if (d.version <= x->e[i].version || d.len == 0 ||
		    bti_frame_update_len(me.code, d.len) > FRAME_UPDATE_MAX)
			continue;
		size_t n = bti_frame_update_len(me.code, d.len);
		uint8_t *m = malloc(n);
		if (m == NULL)
			return BATON_ENOMEM;
		if ((r = bti_frame_update_put(m, me.code, d.bytes, d.len)) != 0) {
			free(m);
			return r;
		}
		if (!x->all) {
			x->out = m;
			x->len = n;
			return 0;
		}
		r = x->cb(m, n, x->cb_ctx);
		free(m);
		if (r != 0)
			return r;
	}
	return 0;
}

int gossip_answer(store *st, const struct frame_offer *e, size_t k, uint8_t **out, size_t *len)
{
	struct newer_ctx x = {e, k, 0, NULL, NULL, NULL, 0};
	struct frame_offer own[FRAME_OFFER_MAX];
	size_t n;
	int r;

	*out = NULL;
	*len = 0;
	if ((r = store_read(st, newer_fn, &x)) != 0)
		return r;
	if (x.out) {
		*out = x.out;
		*len = x.len;
		return 0;
	}
	if ((r = gossip_own(st, own, &n)) != 0)
		return r;
	if ((*out = malloc(bti_frame_offer_len(n))) == NULL)
		return BATON_ENOMEM;
	*len = bti_frame_offer_len(n);
	return bti_frame_offer_put(*out, own, n);
}

int gossip_updates(store *st, const struct frame_offer *e, size_t k, gossip_update_cb cb, void *ctx)
{
	struct newer_ctx x = {e, k, 1, cb, ctx, NULL, 0};
	return store_read(st, newer_fn, &x);
}

int gossip_take(store *st, const uint8_t *msg, size_t len, uint64_t now, const char *from)
{
	char code[BATON_CODE_MAX + 1];
	const uint8_t *dir;
	size_t dir_len;
	struct directory_update u;
	int r;

	if ((r = bti_frame_update_decode(msg, len, code, &dir, &dir_len)) != 0) {
		node_log_unverified("directory: an update of %zu bytes refused: %s: dropped", len,
		                    baton_diag());
		return r;
	}
	if (from == NULL)
		from = code;
	if ((r = directory_update_from(st, dir, dir_len, now, from, &u)) != 0) {
		node_log_unverified("directory: an update from %s refused: %s: dropped", from,
		                    baton_diag_for(r));
		return r;
	}
	if (!u.unchanged)
		node_log(NODE_LOG_INFO,
		         "directory: version %llu of %s (%s) from %s taken: %zu added, %zu "
		         "changed, %zu removed, %zu withdrawn",
		         (unsigned long long)u.version, u.authority, u.fingerprint, from,
		         u.diff.added, u.diff.changed, u.diff.removed, u.diff.withdrawn);
	return 0;
}
