/*
 * The console's API: peers (web_api.h). The schools this node trusts, as
 * 'baton peer' keeps them (view_peers.h): a registrar may read the list;
 * only an admin checks a card, pins one (with the fingerprint read over
 * the phone, and a rotation statement for a changed key) or unpins one.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "bti.h"
#include "view_peers.h"
#include "web_api.h"

static int peers_get(struct web_call *call)
{
	json_t *arr;
	int r = peers_list(call->st, &arr);
	return r ? r : web_ok(call, json_pack("{s:o}", "peers", arr));
}

/* Parses a card of len bytes and checks it is valid now; what for names it in an error. */
static int card_take(const char *what, const uint8_t *p, size_t len, baton_card *card)
{
	int r;
	if ((r = baton_card_parse(p, len, card)) != 0)
		return bti_diag_err(BATON_EVALUE, "%s: not a school's card (%s)", what,
		                    baton_strerror(r));
	if ((r = peers_card_valid(card, serve_now())) != 0)
		return bti_diag_err(BATON_EVALUE, "%s: %s", what, baton_diag());
	return 0;
}

struct pinned_ctx {
	const char *code;
	baton_card card;
};

static int pinned_fn(store_txn *t, void *arg)
{
	struct pinned_ctx *c = arg;
	return store_peer_card(t, c->code, &c->card);
}

/* What is pinned under card's code now, for the page to say what pinning would do. */
static int card_answer(struct web_call *call, const baton_card *card)
{
	struct pinned_ctx pc;
	json_t *o = peers_card_json(card);
	int r;
	memset(&pc, 0, sizeof(pc));
	pc.code = card->code;
	if (o == NULL)
		return BATON_ENOMEM;
	json_object_set_new(o, "own", json_boolean(peers_is_own(call->st, card)));
	if ((r = store_read(call->st, pinned_fn, &pc)) == 0) {
		json_t *p = peers_card_json(&pc.card);
		json_object_set_new(
		    p, "same_key",
		    json_boolean(sodium_memcmp(pc.card.id_pk, card->id_pk, BATON_PK_BYTES) == 0));
		json_object_set_new(o, "pinned", p);
	} else if (r != BATON_ENOTFOUND) {
		json_decref(o);
		return r;
	}
	return web_ok(call, o);
}

static int peers_check(struct web_call *call)
{
	uint8_t *bytes = NULL;
	size_t len = 0;
	baton_card card;
	int r;
	if (call->upload_len == 0)
		return bti_diag_err(BATON_EVALUE, "card: choose the school's card file");
	if (call->upload_len > BATON_OBJ_MAX)
		return bti_diag_err(BATON_EVALUE, "card: over %d bytes: not a school's card",
		                    BATON_OBJ_MAX);
	if ((r = baton_file_read(call->upload, BATON_OBJ_MAX, &bytes, &len)) == 0 &&
	    (r = card_take("card", bytes, len, &card)) == 0)
		r = card_answer(call, &card);
	free(bytes);
	return r;
}

/* The body's member name, base64, decoded into *out (malloc'd); BATON_ENOTFOUND when absent. */
static int body_b64(const struct web_call *call, const char *name, uint8_t **out, size_t *len)
{
	const char *s = web_body_str(call, name);
	size_t n;
	*out = NULL;
	*len = 0;
	if (s == NULL)
		return json_object_get(call->body, name)
		           ? bti_diag_err(BATON_EVALUE, "%s: base64 text expected", name)
		           : BATON_ENOTFOUND;
	if ((n = strlen(s)) == 0 || (*out = malloc(n)) == NULL)
		return n ? BATON_ENOMEM : bti_diag_err(BATON_EVALUE, "%s: empty", name);
	if (sodium_base642bin(*out, n, s, n, " \r\n", len, NULL, sodium_base64_VARIANT_ORIGINAL) !=
	    0) {
		free(*out);
		*out = NULL;
		return bti_diag_err(BATON_EVALUE, "%s: not base64", name);
	}
	return 0;
}

struct pin {
	uint8_t *card, *rot;
	size_t len, rlen;
	baton_card c;
	baton_rotation rotation;
	const char *expect;
};

/* Reads and checks what the body brings, before anything is written. */
static int pin_read(struct web_call *call, struct pin *p)
{
	char fpr[BATON_FINGERPRINT_LEN + 1];
	int r = body_b64(call, "card", &p->card, &p->len);
	if (r == BATON_ENOTFOUND)
		return bti_diag_err(BATON_EVALUE, "card: the school's card file is required");
	if (r != 0 || (r = card_take("card", p->card, p->len, &p->c)) != 0)
		return r;
	if (!(p->expect = web_body_str(call, "expect")) && !(p->expect = web_query(call, "expect")))
		return bti_diag_err(BATON_EVALUE,
		                    "expect: type the fingerprint the other school read to you");
	baton_fingerprint(p->c.id_pk, fpr);
	if (!peers_fpr_match(p->expect, fpr))
		return bti_diag_err(BATON_EVALUE,
		                    "expect: the fingerprint you typed does not match the card's "
		                    "(%s); not pinned",
		                    fpr);
	if ((r = body_b64(call, "rotation", &p->rot, &p->rlen)) == BATON_ENOTFOUND)
		return 0;
	if (r == 0 && (r = baton_rotation_parse(p->rot, p->rlen, &p->rotation)) != 0)
		return bti_diag_err(BATON_EVALUE, "rotation: not a rotation statement (%s)",
		                    baton_strerror(r));
	return r;
}

static int peers_post(struct web_call *call)
{
	struct pin p;
	int r;
	memset(&p, 0, sizeof(p));
	if ((r = pin_read(call, &p)) != 0)
		goto out;
	if (peers_is_own(call->st, &p.c)) {
		r = bti_diag_err(BATON_EVALUE, "card: this is this school's own card; not pinned");
		goto out;
	}
	struct peers_add a = {&p.c,  p.card, p.len, p.rot ? &p.rotation : NULL,
	                      p.rot, p.rlen, 0,     ""};
	if ((r = peers_add(call->st, &a)) != 0)
		goto out;
	json_t *o = peers_card_json(&p.c);
	if (o)
		json_object_set_new(o, "result",
		                    json_string(a.replaced == 2   ? "rotated"
		                                : a.replaced == 1 ? "already pinned"
		                                                  : "pinned"));
	call->status = a.replaced == 1 ? 200 : 201;
	r = web_ok(call, o);
out:
	free(p.card);
	free(p.rot);
	return r;
}

static int peers_delete(struct web_call *call)
{
	int r = peers_remove(call->st, call->arg[0]);
	if (r == BATON_EVALUE)
		return BATON_ENOTFOUND; /* baton_diag() says it is not pinned */
	return r ? r
	         : web_ok(call, json_pack("{s:s, s:s}", "code", call->arg[0], "result", "removed"));
}

const struct web_route web_routes_peers[] = {
    {"GET", "peers", 0, peers_get},
    {"POST", "peers/check", WEB_ROUTE_ADMIN | WEB_ROUTE_UPLOAD, peers_check},
    {"POST", "peers", WEB_ROUTE_ADMIN, peers_post},
    {"DELETE", "peers/*", WEB_ROUTE_ADMIN, peers_delete},
    {NULL, NULL, 0, NULL},
};
