/* The schools this node trusts (view_peers.h). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "bti.h"
#include "card.h"
#include "consent.h"
#include "view.h"
#include "view_peers.h"

#define PEERS_SKEW 300 /* seconds a clock may be off, as everywhere else */

/* Upper-cases and drops separators, so that the way it was read aloud does not matter. */
static void fpr_normal(const char *in, char *out, size_t cap)
{
	size_t n = 0;
	for (; *in && n + 1 < cap; in++)
		if (isalnum((unsigned char)*in))
			out[n++] = (char)toupper((unsigned char)*in);
	out[n] = 0;
}

int peers_fpr_match(const char *a, const char *b)
{
	char x[64], y[64];
	fpr_normal(a, x, sizeof(x));
	fpr_normal(b, y, sizeof(y));
	return x[0] && strcmp(x, y) == 0;
}

int peers_card_valid(const baton_card *c, uint64_t now)
{
	char from[CARD_TIME_LEN], until[CARD_TIME_LEN];
	int r = baton_check_validity(c->valid_from, c->valid_until, now, PEERS_SKEW);
	if (r == 0)
		return 0;
	card_time(c->valid_from, from);
	card_time(c->valid_until, until);
	return bti_diag_err(r, "the card of %s is %s (valid %s to %s)", c->code,
	                    r == BATON_EEXPIRED ? "expired" : "not valid yet", from, until);
}

json_t *peers_card_json(const baton_card *c)
{
	char fpr[BATON_FINGERPRINT_LEN + 1];
	json_t *eps = json_array();
	for (size_t i = 0; eps && i < c->n_endpoints; i++)
		json_array_append_new(eps, json_string(c->endpoints[i]));
	baton_fingerprint(c->id_pk, fpr);
	return json_pack("{s:s, s:s, s:s, s:o, s:I, s:I}", "code", c->code, "name", c->name,
	                 "fingerprint", fpr, "endpoints", eps, "valid_from",
	                 (json_int_t)c->valid_from, "valid_until", (json_int_t)c->valid_until);
}

static int own_card_fn(store_txn *t, void *arg)
{
	return store_own_card(t, arg);
}

int peers_is_own(store *st, const baton_card *c)
{
	baton_card own;
	return store_read(st, own_card_fn, &own) == 0 &&
	       sodium_memcmp(own.id_pk, c->id_pk, BATON_PK_BYTES) == 0;
}

static int peer_audit(store_txn *t, const char *action, const char *code, const char *detail)
{
	store_audit e;
	memset(&e, 0, sizeof(e));
	snprintf(e.action, sizeof(e.action), "%s", action);
	snprintf(e.peer, sizeof(e.peer), "%s", code);
	if (detail)
		snprintf(e.detail, sizeof(e.detail), "%s", detail);
	return store_audit_append(t, &e);
}

/* A code pinned already: the same card again (1), or a rotation that holds (2). */
static int add_over(struct peers_add *c, const uint8_t *old, size_t olen, const char *fpr)
{
	baton_card oc;
	int same = olen == c->len && memcmp(old, c->bytes, olen) == 0;
	if (baton_card_parse(old, olen, &oc) != 0)
		return bti_diag_err(BATON_EIO, "the pinned card of %s is damaged", c->card->code);
	baton_fingerprint(oc.id_pk, c->old_fpr);
	if (sodium_memcmp(oc.id_pk, c->card->id_pk, BATON_PK_BYTES) == 0) {
		/* Only 'peer update' replaces a card of this key: never by an older one. */
		if (!same)
			return bti_diag_err(BATON_EVALUE,
			                    "%s is already pinned with this key, from another "
			                    "card; a newer card of the same key is taken with "
			                    "'baton peer update CARD'. Not pinned.",
			                    c->card->code);
		return 1;
	}
	if (c->rot == NULL)
		return bti_diag_err(BATON_EBADKEY,
		                    "%s is already pinned with a different key (fingerprint %s); "
		                    "this card has %s. A changed key needs a rotation statement "
		                    "signed by the old key (--rotation FILE). Not pinned.",
		                    c->card->code, c->old_fpr, fpr);
	if (sodium_memcmp(c->rot->old_pk, oc.id_pk, BATON_PK_BYTES) != 0 ||
	    sodium_memcmp(c->rot->new_pk, c->card->id_pk, BATON_PK_BYTES) != 0 ||
	    strcmp(c->rot->code, c->card->code) != 0)
		return bti_diag_err(BATON_EBADKEY,
		                    "the rotation statement does not move %s from the pinned key "
		                    "(%s) to this card's key (%s). Not pinned.",
		                    c->card->code, c->old_fpr, fpr);
	return 2;
}

static int add_fn(store_txn *t, void *arg)
{
	struct peers_add *c = arg;
	uint8_t *old = NULL;
	size_t olen;
	char detail[256], fpr[BATON_FINGERPRINT_LEN + 1];
	int r;

	c->replaced = 0;
	if ((r = store_peer_get(t, c->card->code, &old, &olen)) < 0 && r != BATON_ENOTFOUND)
		return r;
	baton_fingerprint(c->card->id_pk, fpr);
	if (r == 0) {
		r = add_over(c, old, olen, fpr);
		free(old);
		if (r < 0)
			return r;
		if ((c->replaced = r) == 1)
			return 0;
	}
	if ((r = store_peer_put(t, c->card->code, c->bytes, c->len)) != 0)
		return r;
	/* Consents the family signed before the rotation still name this school. */
	if (c->replaced == 2 && (r = consent_rotation_put(t, c->rot_bytes, c->rot_len)) != 0)
		return r;
	snprintf(detail, sizeof(detail), "%s, fingerprint %s%s%s", c->card->name, fpr,
	         c->replaced == 2 ? ", rotated from " : "", c->replaced == 2 ? c->old_fpr : "");
	return peer_audit(t, c->replaced == 2 ? "peer-rotate" : "peer-add", c->card->code, detail);
}

int peers_add(store *st, struct peers_add *a)
{
	a->old_fpr[0] = 0;
	return store_write(st, add_fn, a);
}

static int remove_fn(store_txn *t, void *arg)
{
	const char *code = arg;
	int r = store_peer_del(t, code);
	if (r == BATON_ENOTFOUND)
		return bti_diag_err(BATON_EVALUE, "%s is not pinned", code);
	return r ? r : peer_audit(t, "peer-remove", code, NULL);
}

int peers_remove(store *st, const char *code)
{
	return store_write(st, remove_fn, (void *)(uintptr_t)code);
}

static int list_one(const char *code, const baton_card *c, const store_trust *how, void *arg)
{
	json_t *o;
	(void)code;
	if ((o = peers_card_json(c)) == NULL)
		return BATON_ENOMEM;
	json_object_set_new(o, "via",
	                    json_string(how->via == STORE_TRUST_PIN ? "pin" : "directory"));
	if (how->via == STORE_TRUST_DIRECTORY)
		json_object_set_new(o, "authority", json_string(how->authority_name));
	if (how->withdrawn_by[0])
		json_object_set_new(o, "withdrawn_by", json_string(how->withdrawn_by));
	return json_array_append_new(arg, o) ? BATON_ENOMEM : 0;
}

static int list_fn(store_txn *t, void *arg)
{
	return store_trusted_each(t, list_one, arg);
}

int peers_list(store *st, json_t **out)
{
	*out = NULL;
	return view_read(st, list_fn, NULL, out);
}
