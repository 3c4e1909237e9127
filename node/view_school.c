/*
 * This school's card, its endpoints, pinned schools' newer cards and the
 * heads other schools sent (view_school.h): what 'baton card', 'baton
 * endpoint set', 'baton peer update', 'baton audit held' and the console
 * share.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "bti.h"
#include "card.h"
#include "view_school.h"

static int get_card(store_txn *t, void *arg)
{
	struct school_card *c = arg;
	int r = store_meta_get(t, "card", &c->card, &c->len);
	if (r != 0)
		return r == BATON_ENOTFOUND ? bti_diag_err(BATON_EIO, "this node has no card") : r;
	r = store_meta_get(t, "rotation", &c->rot, &c->rot_len);
	return r < 0 && r != BATON_ENOTFOUND ? r : 0;
}

int school_card_read(store *st, struct school_card *c)
{
	int r = store_read(st, get_card, c);
	if (r != 0)
		return r;
	return baton_card_parse(c->card, c->len, &c->parsed);
}

void school_card_free(struct school_card *c)
{
	free(c->card);
	free(c->rot);
	c->card = c->rot = NULL;
}

int school_endpoint_add(struct school_endpoint *e, const char *url)
{
	if (e->n == BATON_MAX_ENDPOINTS)
		return bti_diag_err(BATON_EVALUE, "at most %d URLs", BATON_MAX_ENDPOINTS);
	if (card_endpoint_check(url) != 0)
		return BATON_EVALUE;
	snprintf(e->eps[e->n++], BATON_URL_MAX + 1, "%s", url);
	return 0;
}

static int school_audit(store_txn *t, const char *action, const char *peer, const char *detail)
{
	store_audit a;
	memset(&a, 0, sizeof(a));
	snprintf(a.action, sizeof(a.action), "%s", action);
	if (peer)
		snprintf(a.peer, sizeof(a.peer), "%s", peer);
	snprintf(a.detail, sizeof(a.detail), "%s", detail);
	return store_audit_append(t, &a);
}

/* Cuts s to at most cap - 1 bytes, at a whole UTF-8 character. */
static void cut_utf8(char *s, size_t cap)
{
	size_t n = strlen(s);
	if (n < cap)
		return;
	n = cap - 1;
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	s[n] = 0;
}

struct ep_ctx {
	const uint8_t *old; /* the card the new one was made from */
	size_t old_len;
	const uint8_t *card; /* the new card */
	size_t len;
	char detail[257];
};

static int endpoint_store(store_txn *t, void *arg)
{
	struct ep_ctx *c = arg;
	uint8_t *now = NULL;
	size_t n = 0;
	int r = store_meta_get(t, "card", &now, &n);

	if (r == 0 && (n != c->old_len || memcmp(now, c->old, n) != 0))
		r = bti_diag_err(BATON_EIO, "the card changed meanwhile (a rekey?); run it again");
	free(now);
	if (r != 0)
		return r < 0 ? r : bti_diag_err(BATON_EIO, "this node has no card");
	if ((r = store_meta_put(t, "card", c->card, c->len)) != 0)
		return r;
	return school_audit(t, "endpoint", NULL, c->detail);
}

/* "tcp://a:1, tcp://b:2 (was tcp://c:3)", cut to whole UTF-8 characters. */
static void endpoint_detail(const baton_card *was, const baton_card *now, char *out, size_t cap)
{
	char buf[2 * BATON_MAX_ENDPOINTS * (BATON_URL_MAX + 2) + 16];
	size_t n = 0;
	for (size_t i = 0; i < now->n_endpoints; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s", i ? ", " : "",
		                      now->endpoints[i]);
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, " (was");
	for (size_t i = 0; i < was->n_endpoints; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s %s", i ? "," : "",
		                      was->endpoints[i]);
	snprintf(buf + n, sizeof(buf) - n, ")");
	cut_utf8(buf, cap);
	size_t len = strnlen(buf, cap - 1);
	memcpy(out, buf, len);
	out[len] = '\0';
}

/* The school's card with new endpoints, signed anew, valid from later than the card it replaces. */
static int endpoint_resign(const baton_card *was, struct school_endpoint *e, const baton_key *key,
                           uint64_t now)
{
	baton_card *card = &e->card;
	*card = *was;
	memset(card->endpoints, 0, sizeof(card->endpoints));
	for (size_t i = 0; i < e->n; i++)
		memcpy(card->endpoints[i], e->eps[i], BATON_URL_MAX + 1);
	card->n_endpoints = e->n;
	/* Peers take a card of a pinned key only when it is newer (PROTOCOL.md 3.4). */
	card->valid_from = now > was->valid_from ? now : was->valid_from + 1;
	card->valid_until = card->valid_from + SCHOOL_CARD_YEARS * 365 * UINT64_C(86400);
	return baton_card_sign(card, baton_key_id_sk(key), &e->bytes, &e->len);
}

int school_endpoint_set(store *st, const baton_key *key, uint64_t now, struct school_endpoint *e)
{
	struct school_card cc = {0};
	struct ep_ctx ec = {0};
	int r;

	if ((r = school_card_read(st, &cc)) != 0)
		goto out;
	if (sodium_memcmp(cc.parsed.id_pk, baton_key_id_pk(key), BATON_PK_BYTES) != 0) {
		r = bti_diag_err(BATON_EIO, "school.key does not match this node's card");
		goto out;
	}
	if ((r = endpoint_resign(&cc.parsed, e, key, now)) != 0)
		goto out;
	ec = (struct ep_ctx){cc.card, cc.len, e->bytes, e->len, ""};
	endpoint_detail(&cc.parsed, &e->card, ec.detail, sizeof(ec.detail));
	r = store_write(st, endpoint_store, &ec);
out:
	if (r != 0) {
		free(e->bytes);
		e->bytes = NULL;
	}
	school_card_free(&cc);
	return r;
}

/* 1 when the card pinned for code is byte for byte bytes, else 0 (a failed read included). */
static int pinned_already(store_txn *t, const char *code, const uint8_t *bytes, size_t len)
{
	uint8_t *pinned = NULL;
	size_t n = 0;
	int same = store_peer_get(t, code, &pinned, &n) == 0 && n == len &&
	           memcmp(pinned, bytes, len) == 0;
	free(pinned);
	return same;
}

struct due_ctx {
	const char *code;
	store_outbox *e; /* grows */
	size_t n, cap;
};

static int due_one(const store_outbox *e, void *arg)
{
	struct due_ctx *d = arg;
	if (e->state != OUT_QUEUED || strcmp(e->to, d->code) != 0)
		return 0;
	if (d->n == d->cap) {
		size_t cap = d->cap ? 2 * d->cap : 16;
		store_outbox *p = realloc(d->e, cap * sizeof(*p));
		if (p == NULL)
			return BATON_ENOMEM;
		d->e = p;
		d->cap = cap;
	}
	d->e[d->n++] = *e;
	return 0;
}

/* Packets waiting for the school's old endpoint go to the new one now, not after their backoff. */
static int requeue_now(store_txn *t, const char *code, uint64_t now, size_t *n)
{
	struct due_ctx d = {code, NULL, 0, 0};
	int r = store_outbox_each(t, due_one, &d);
	for (size_t i = 0; r == 0 && i < d.n; i++) {
		d.e[i].next_try = now;
		r = store_outbox_put(t, &d.e[i]);
	}
	*n = d.n;
	free(d.e);
	return r;
}

struct update_ctx {
	struct school_update *u;
	uint64_t now;
};

static int update_peer(store_txn *t, void *arg)
{
	struct school_update *c = ((struct update_ctx *)arg)->u;
	char detail[BATON_URL_MAX + 128], from[CARD_TIME_LEN], to[CARD_TIME_LEN];
	uint8_t *pinned = NULL;
	size_t n = 0;
	store_trust how;
	/* Only a pin is updated by hand: a directory's school gets its card from the authority. */
	int r = store_peer_get(t, c->card->code, &pinned, &n);

	if (r == BATON_ENOTFOUND && store_trusted_card(t, c->card->code, &c->was, &how) == 0)
		return bti_diag_err(BATON_EVALUE,
		                    "%s is trusted through the directory of %s: its newer card "
		                    "comes with that authority's next directory. Not updated.",
		                    c->card->code, how.authority_name);
	if (r == BATON_ENOTFOUND)
		return bti_diag_err(BATON_EVALUE,
		                    "%s is not pinned; pin it first with 'baton peer add CARD'",
		                    c->card->code);
	if (r != 0)
		return r;
	r = baton_card_parse(pinned, n, &c->was);
	free(pinned);
	if (r != 0)
		return bti_diag_err(BATON_EIO, "the pinned card of %s is damaged", c->card->code);
	/* Taking the card already pinned again is done, as a repeated command expects. */
	if ((c->same = pinned_already(t, c->card->code, c->bytes, c->len)) == 1)
		return 0;
	if ((r = card_replaces(&c->was, c->card)) == BATON_EBADKEY)
		return bti_diag_err(r,
		                    "%s is pinned with another key; a changed key needs its "
		                    "rotation statement: 'baton peer add CARD --rotation FILE'. "
		                    "Not updated.",
		                    c->card->code);
	if (r != 0 || (r = store_peer_put(t, c->card->code, c->bytes, c->len)) != 0 ||
	    (r = requeue_now(t, c->card->code, ((struct update_ctx *)arg)->now, &c->requeued)) != 0)
		return r;
	card_time(c->was.valid_from, from);
	card_time(c->card->valid_from, to);
	snprintf(detail, sizeof(detail), "card valid from %s (was %s), endpoint %s", to, from,
	         c->card->endpoints[0]);
	/* An audit detail holds 256 bytes. */
	cut_utf8(detail, 257);
	return school_audit(t, "peer-update", c->card->code, detail);
}

int school_peer_update(store *st, struct school_update *u, uint64_t now)
{
	struct update_ctx uc = {u, now};
	u->same = 0;
	u->requeued = 0;
	return store_write(st, update_peer, &uc);
}

struct held_ctx {
	const char *school;
	json_t *arr;
};

static int held_one(const char *code, const uint8_t *p, size_t len, void *arg)
{
	struct held_ctx *c = arg;
	baton_audit_head h;
	char fp[BATON_FINGERPRINT_LEN + 1], hex[65];
	if (c->school && strcmp(code, c->school) != 0)
		return 0;
	if (baton_audit_head_parse(p, len, &h) != 0)
		return bti_diag_err(BATON_EIO, "the head kept from %s does not parse", code);
	baton_fingerprint(h.key, fp);
	sodium_bin2hex(hex, sizeof(hex), h.head, 32);
	return json_array_append_new(c->arr, json_pack("{s:s, s:I, s:s, s:I, s:s}", "school", code,
	                                               "entries", (json_int_t)h.count, "head", hex,
	                                               "time", (json_int_t)h.time, "key", fp))
	           ? BATON_ENOMEM
	           : 0;
}

static int held_each(store_txn *t, void *arg)
{
	return store_peer_head_each(t, held_one, arg);
}

int school_held_json(store *st, const char *school, json_t **out)
{
	struct held_ctx c = {school, json_array()};
	int r = c.arr ? store_read(st, held_each, &c) : BATON_ENOMEM;
	if (r != 0) {
		json_decref(c.arr);
		c.arr = NULL;
	}
	*out = c.arr;
	return r;
}
