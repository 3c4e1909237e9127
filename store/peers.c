/*
 * Peers: the cards of the schools this node has pinned, and its own card.
 * What changes here is whom this node trusts.
 */
#include <stdlib.h>
#include <string.h>

#include "store_impl.h"

static const struct table peers = {
    .db = DB_PEERS,
    .what = "pinned school",
};

int store_peer_put(store_txn *t, const char *code, const uint8_t *card, size_t len)
{
	return tbl_put(t, &peers, code, strlen(code), card, len, 0);
}

int store_peer_get(store_txn *t, const char *code, uint8_t **card, size_t *len)
{
	return tbl_get_copy(t, &peers, code, strlen(code), card, len);
}

int store_peer_del(store_txn *t, const char *code)
{
	return tbl_del(t, &peers, code, strlen(code));
}

static int peer_row(const MDB_val *k, const MDB_val *v, void *arg)
{
	const struct tbl_cb *c = arg;
	char code[BATON_CODE_MAX + 1];
	if (k->mv_size > BATON_CODE_MAX)
		return 0;
	memcpy(code, k->mv_data, k->mv_size);
	code[k->mv_size] = 0;
	return c->fn.peer(code, v->mv_data, v->mv_size, c->ctx);
}

int store_peer_each(store_txn *t, store_peer_cb cb, void *ctx)
{
	struct tbl_cb c = {.fn.peer = cb, .ctx = ctx};
	return tbl_each(t, &peers, NULL, 0, peer_row, &c);
}

int store_card_from(int r, uint8_t *b, size_t n, baton_card *c)
{
	if (r != 0)
		return r;
	r = baton_card_parse(b, n, c);
	free(b);
	/* Memory running out is not a damaged store. */
	if (r == BATON_ENOMEM)
		return r;
	return r ? bti_diag_err(BATON_EIO, "store: a stored card does not parse") : 0;
}

int store_own_card(store_txn *t, baton_card *c)
{
	uint8_t *b = NULL;
	size_t n = 0;
	int r = store_meta_get(t, "card", &b, &n);
	if (r == BATON_ENOTFOUND)
		return bti_diag_err(r, "store: this node has no card");
	return store_card_from(r, b, n, c);
}

int store_peer_card(store_txn *t, const char *code, baton_card *c)
{
	return store_trusted_card(t, code, c, NULL);
}
