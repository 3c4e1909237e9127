/*
 * Transfers as a registrar sees them (view_transfers.h): one JSON for the
 * command line and the console.
 */
#include <stdlib.h>
#include <string.h>

#include <baton/objects.h>
#include <baton/record.h>

#include "bti.h"
#include "consent.h"
#include "serve.h"
#include "terms.h"
#include "view.h"
#include "view_transfers.h"

static const char *const out_states[] = {"queued",  "sent",   "receipted", "rejected",
                                         "expired", "denied", "delivered", "answered"};
static const char *const out_kinds[] = {"?", "transfer", "request", "refusal"};
static const char *const req_states[] = {"held", "released", "denied"};

static const char *out_state(int s)
{
	return s >= 0 && s <= OUT_ANSWERED ? out_states[s] : "?";
}

const char *view_out_state(int state)
{
	return out_state(state);
}

/* Appends o (taken) to arr: 0 or BATON_ENOMEM. */
static int append(json_t *arr, json_t *o)
{
	return json_array_append_new(arr, o) ? BATON_ENOMEM : 0;
}

static json_t *outbox_json(const store_outbox *e)
{
	const char *kind =
	    e->kind >= OUT_TRANSFER && e->kind <= OUT_REFUSAL ? out_kinds[e->kind] : "?";
	char h[2 * BATON_ID_BYTES + 1];
	json_t *o =
	    json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:I, s:I, s:s}", "packet",
	              serve_hex(e->packet, BATON_ID_BYTES, h), "kind", kind, "to", e->to, "student",
	              e->student, "state", out_state(e->state), "attempts", (int)e->attempts,
	              "last_error", e->last_error, "created", (json_int_t)e->created, "expires",
	              (json_int_t)e->expires, "file", e->file);
	const char *why = baton_reason_name(e->reason);
	if (o && e->state == OUT_QUEUED &&
	    json_object_set_new(o, "next_try", json_integer((json_int_t)e->next_try)) != 0)
		o = (json_decref(o), NULL);
	if (o && e->state != OUT_QUEUED && e->state != OUT_SENT && e->state != OUT_EXPIRED && why &&
	    json_object_set_new(o, "reason", json_string(why)) != 0)
		o = (json_decref(o), NULL);
	return o;
}

struct box_ctx {
	store_txn *t;
	json_t *arr;
};

static int outbox_one(const store_outbox *e, void *arg)
{
	struct box_ctx *c = arg;
	json_t *o = outbox_json(e);
	int state, r;
	/* A transfer says what became of the redisclosure terms sent with it. */
	if (o && e->kind == OUT_TRANSFER) {
		if ((r = xfer_terms_out(c->t, e->packet, &state)) != 0) {
			json_decref(o);
			return r;
		}
		if (state != TERMS_NONE &&
		    json_object_set_new(o, "terms", json_string(terms_state_name(state))) != 0)
			o = (json_decref(o), NULL);
	}
	return append(c->arr, o);
}

static int outbox_fn(store_txn *t, void *arg)
{
	struct box_ctx c = {t, arg};
	return store_outbox_each(t, outbox_one, &c);
}

int view_outbox(store *st, json_t **arr)
{
	return view_read(st, outbox_fn, "created", arr);
}

static int inbox_one(const store_inbox *e, void *arg)
{
	struct box_ctx *c = arg;
	baton_receipt rc;
	char h[2 * BATON_ID_BYTES + 1], *terms = NULL;
	size_t tlen;
	int r;
	/* The receipt's note says what became of an accepted packet ("held for review"). */
	if (baton_receipt_parse(e->receipt, e->receipt_len, &rc) != 0)
		rc.note[0] = '\0';
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:I, s:s}", "packet",
	                      serve_hex(e->packet, BATON_ID_BYTES, h), "from", e->from, "student",
	                      e->student, "result", baton_reason_name(e->reason), "time",
	                      (json_int_t)e->time, "note", rc.note);
	/* The redisclosure terms that came with the record, when any did. */
	if ((r = xfer_terms_in(c->t, e->packet, &terms, &tlen)) != 0 && r != BATON_ENOTFOUND) {
		json_decref(o);
		return r;
	}
	if (o && terms && json_object_set_new(o, "terms", json_string(terms)) != 0)
		o = (json_decref(o), NULL);
	free(terms);
	return append(c->arr, o);
}

static int inbox_fn(store_txn *t, void *arg)
{
	struct box_ctx c = {t, arg};
	return store_inbox_each(t, inbox_one, &c);
}

int view_inbox(store *st, json_t **arr)
{
	return view_read(st, inbox_fn, "time", arr);
}

/* The pinned school's name for code, or "" when it is no longer pinned. */
static const char *school_name(store_txn *t, const char *code, baton_card *card)
{
	return store_peer_card(t, code, card) == 0 ? card->name : "";
}

static json_t *request_json(store_txn *t, const store_request *e)
{
	baton_card card;
	const char *state = e->state >= 0 && e->state <= REQ_DENIED ? req_states[e->state] : "?";
	char h[2 * BATON_ID_BYTES + 1], secs[200];
	baton_consent cs;
	json_t *o;

	memset(&cs, 0, sizeof(cs));
	int type = 0;
	/* A request on the requester's enrolment statement carries no consent. */
	int enrol = baton_object_type(e->consent, e->consent_len, &type) == 0 &&
	            type == BATON_OBJ_ENROLMENT;
	if (enrol)
		snprintf(cs.purpose, sizeof(cs.purpose),
		         "the student is enrolling there (34 CFR 99.31(a)(2))");
	else
		(void)baton_consent_parse(e->consent, e->consent_len,
		                          &cs); /* verified on arrival */
	baton_sections_format(e->want, secs, sizeof(secs));
	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:s}", "request",
	              serve_hex(e->id, BATON_ID_BYTES, h), "from", e->from, "student", e->student,
	              "state", state, "sections", secs, "purpose", cs.purpose, "time",
	              (json_int_t)e->time, "note", e->note);
	if (o && json_object_set_new(o, "school", json_string(school_name(t, e->from, &card))) != 0)
		o = (json_decref(o), NULL);
	if (o && json_object_set_new(o, "basis", json_string(enrol ? "enrolment" : "consent")) != 0)
		o = (json_decref(o), NULL);
	if (o && e->state == REQ_RELEASED &&
	    json_object_set_new(o, "packet",
	                        json_string(serve_hex(e->release, BATON_ID_BYTES, h))) != 0)
		o = (json_decref(o), NULL);
	if (o && e->state == REQ_DENIED && json_object_set_new(o, "reason", json_string(e->answer)))
		o = (json_decref(o), NULL);
	return o;
}

struct req_list {
	store_txn *t;
	json_t *arr;
	int all;
};

static int request_one(const store_request *e, void *arg)
{
	struct req_list *l = arg;
	if (!l->all && e->state != REQ_HELD)
		return 0;
	return append(l->arr, request_json(l->t, e));
}

static int requests_fn(store_txn *t, void *arg)
{
	((struct req_list *)arg)->t = t;
	return store_request_each(t, request_one, arg);
}

int view_requests(store *st, int all, json_t **arr)
{
	struct req_list l = {NULL, json_array(), all};
	int r = l.arr ? store_read(st, requests_fn, &l) : BATON_ENOMEM;
	if (r != 0) {
		json_decref(l.arr);
		return r;
	}
	*arr = l.arr;
	return 0;
}

/* ---- home: what needs attention ---- */

/* One kind of thing to do: how many, and the first few. */
struct home_kind {
	json_int_t count;
	json_t *first;
};

struct home {
	store_txn *t;
	uint64_t now;
	struct home_kind req, held, out, cons;
};

/* Counts one more of k, listing o (taken; NULL: not listed) among the first. */
static int home_add(struct home_kind *k, json_t *o)
{
	k->count++;
	if (json_array_size(k->first) >= VIEW_HOME_FIRST) {
		json_decref(o);
		return 0;
	}
	return append(k->first, o);
}

static int home_request(const store_request *e, void *arg)
{
	struct home *h = arg;
	return e->state == REQ_HELD ? home_add(&h->req, request_json(h->t, e)) : 0;
}

static int home_held(const store_held *e, void *arg)
{
	struct home *h = arg;
	return home_add(&h->held,
	                json_pack("{s:I, s:s, s:s, s:I}", "id", (json_int_t)e->id, "student",
	                          e->student, "from", e->from, "time", (json_int_t)e->time));
}

/* Answered badly, never answered, or tried again and again. */
static int out_stuck(const store_outbox *e)
{
	return e->state == OUT_REJECTED || e->state == OUT_EXPIRED ||
	       (e->state == OUT_QUEUED && e->attempts >= VIEW_HOME_ATTEMPTS);
}

static int home_out(const store_outbox *e, void *arg)
{
	struct home *h = arg;
	return out_stuck(e) ? home_add(&h->out, outbox_json(e)) : 0;
}

static int home_consent(const store_consent *sc, void *arg)
{
	struct home *h = arg;
	char id[2 * BATON_ID_BYTES + 1];
	baton_consent c;
	int r, revoked = 0;

	serve_hex(sc->id, BATON_ID_BYTES, id);
	if (baton_consent_parse(sc->bytes, sc->len, &c) != 0)
		return bti_diag_err(BATON_EIO, "stored consent %s does not parse", id);
	if (c.expires < h->now || c.expires - h->now > (uint64_t)VIEW_HOME_DAYS * 86400)
		return 0;
	if ((r = consent_revoked(h->t, &c, h->now, &revoked, NULL)) != 0 || revoked)
		return r;
	return home_add(&h->cons, json_pack("{s:s, s:s, s:s, s:s, s:I}", "consent", id, "student",
	                                    c.student, "from", c.from_code, "to", c.to_code,
	                                    "expires", (json_int_t)c.expires));
}

static int home_fn(store_txn *t, void *arg)
{
	struct home *h = arg;
	int r;
	h->t = t;
	if ((r = store_request_each(t, home_request, h)) == 0 &&
	    (r = store_held_each(t, home_held, h)) == 0 &&
	    (r = store_outbox_each(t, home_out, h)) == 0)
		r = store_consent_each(t, home_consent, h);
	return r;
}

static json_t *kind_json(const struct home_kind *k)
{
	return json_pack("{s:I, s:O}", "count", k->count, "first", k->first);
}

int view_home(store *st, uint64_t now, json_t **out)
{
	struct home h = {.now = now};
	struct home_kind *k[] = {&h.req, &h.held, &h.out, &h.cons};
	json_t *o = NULL;
	int r = 0;

	for (size_t i = 0; i < 4; i++)
		if ((k[i]->first = json_array()) == NULL)
			r = BATON_ENOMEM;
	if (r == 0)
		r = store_read_at(st, now, home_fn, &h);
	if (r == 0 &&
	    (o = json_pack("{s:o, s:o, s:o, s:o, s:I}", "requests", kind_json(&h.req), "review",
	                   kind_json(&h.held), "outbox", kind_json(&h.out), "consents",
	                   kind_json(&h.cons), "total",
	                   h.req.count + h.held.count + h.out.count + h.cons.count)) == NULL)
		r = BATON_ENOMEM;
	for (size_t i = 0; i < 4; i++)
		json_decref(k[i]->first);
	if (r == 0)
		*out = o;
	return r;
}
