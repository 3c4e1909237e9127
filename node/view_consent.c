/* Consents on file, for the command line and the console (view_consent.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bti.h"
#include "consent.h"
#include "view_consent.h"

json_t *consent_view_json(const baton_consent *c, uint64_t now)
{
	char secs[200], fpr[BATON_FINGERPRINT_LEN + 1], line[BATON_PUBKEY_TEXT_MAX];
	char id[2 * BATON_ID_BYTES + 1];
	baton_sections_format(c->sections, secs, sizeof(secs));
	baton_fingerprint(c->signer, fpr);
	baton_pubkey_format(BATON_PUBKEY_GUARDIAN, c->signer, line);
	bti_hex_encode(c->id, BATON_ID_BYTES, id);
	json_t *j =
	    json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:s, s:s, s:s}", "type", "consent",
	              "id", id, "student", c->student, "from", c->from_code, "to", c->to_code,
	              "purpose", c->purpose, "issued", (json_int_t)c->issued, "expires",
	              (json_int_t)c->expires, "signer", line, "signer_fingerprint", fpr, "role",
	              c->role == BATON_ROLE_STUDENT ? "student" : "guardian");
	if (j == NULL)
		return NULL;
	if (json_object_set_new(j, "sections", json_string(secs)) != 0 ||
	    json_object_set_new(j, "signature", json_string("valid")) != 0 ||
	    json_object_set_new(j, "status",
	                        json_string(now > c->expires        ? "expired"
	                                    : now + 300 < c->issued ? "not yet valid"
	                                                            : "valid")) != 0) {
		json_decref(j);
		return NULL;
	}
	return j;
}

struct list_ctx {
	store_txn *t;
	const char *student;
	json_t *arr;
	uint64_t now;
};

static int list_one(const store_consent *sc, void *arg)
{
	struct list_ctx *l = arg;
	char id[2 * BATON_ID_BYTES + 1];
	baton_consent c;
	int r, revoked = 0;
	if (l->student && strcmp(l->student, sc->student) != 0)
		return 0;
	if (baton_consent_parse(sc->bytes, sc->len, &c) != 0) {
		bti_hex_encode(sc->id, BATON_ID_BYTES, id);
		return bti_diag_err(BATON_EIO, "stored consent %s does not parse", id);
	}
	if ((r = consent_revoked(l->t, &c, l->now, &revoked, NULL)) != 0)
		return r;
	json_t *j = consent_view_json(&c, l->now);
	if (j == NULL || (revoked && json_object_set_new(j, "status", json_string("revoked"))) ||
	    json_array_append_new(l->arr, j) != 0)
		return BATON_ENOMEM;
	return 0;
}

static int list_fn(store_txn *t, void *arg)
{
	struct list_ctx *l = arg;
	l->t = t;
	json_array_clear(l->arr);
	return store_consent_each(t, list_one, l);
}

int consent_view_list(store *st, const char *student, uint64_t now, json_t **arr)
{
	struct list_ctx l = {NULL, student, json_array(), now};
	int r;
	*arr = NULL;
	if (l.arr == NULL)
		return BATON_ENOMEM;
	if ((r = store_read_at(st, now, list_fn, &l)) != 0) {
		json_decref(l.arr);
		return r;
	}
	*arr = l.arr;
	return 0;
}

/* A revocation brought by hand, and its audit entry. */
static int import_revocation(store_txn *t, struct consent_import_req *x, store_audit *e)
{
	store_consent known;
	int r, revoked;
	if ((r = consent_revoke(t, x->bytes, x->len, t->now, x->shown, &x->rv)) != 0)
		return r;
	snprintf(e->action, sizeof(e->action), "consent-revoke");
	memcpy(e->consent, x->rv.consent_id, BATON_ID_BYTES);
	e->has_consent = 1;
	x->effective = 0;
	if (store_consent_get(t, x->rv.consent_id, &known) == 0) {
		baton_consent kc;
		snprintf(e->student, sizeof(e->student), "%s", known.student);
		if (baton_consent_parse(known.bytes, known.len, &kc) == 0)
			x->effective =
			    consent_revoked(t, &kc, t->now, &revoked, NULL) == 0 && revoked;
		free(known.bytes);
	}
	snprintf(e->detail, sizeof(e->detail), "received by hand");
	return store_audit_append(t, e);
}

/*
 * A consent brought by hand passes the same rules as one used for a release
 * (for the receiving school it names); that also binds its id to its student.
 */
static int import_consent(store_txn *t, struct consent_import_req *x, store_audit *e)
{
	struct release_check q;
	baton_card me;
	int r;
	if ((r = store_own_card(t, &me)) != 0)
		return r == BATON_ENOTFOUND ? bti_diag_err(BATON_EIO, "this node has no card") : r;
	if ((r = baton_consent_parse(x->bytes, x->len, &x->c)) != 0)
		return r;
	memset(&q, 0, sizeof(q));
	q.consent = x->bytes;
	q.consent_len = x->len;
	q.my_id_pk = me.id_pk;
	q.to_pk = x->c.to_pk;
	q.now = t->now;
	q.skew = 300;
	if ((r = consent_check(t, &q)) != 0)
		return r;
	snprintf(e->action, sizeof(e->action), "consent-import");
	snprintf(e->student, sizeof(e->student), "%s", x->c.student);
	snprintf(e->peer, sizeof(e->peer), "%s", x->c.to_code);
	memcpy(e->consent, x->c.id, BATON_ID_BYTES);
	e->has_consent = 1;
	e->sections = x->c.sections;
	snprintf(e->detail, sizeof(e->detail), "received by hand");
	return store_audit_append(t, e);
}

static int import_fn(store_txn *t, void *arg)
{
	struct consent_import_req *x = arg;
	store_audit e;
	memset(&e, 0, sizeof(e));
	return x->type == BATON_OBJ_REVOCATION ? import_revocation(t, x, &e)
	                                       : import_consent(t, x, &e);
}

int consent_view_import(store *st, struct consent_import_req *x)
{
	x->type = 0;
	if (baton_object_type(x->bytes, x->len, &x->type) != 0 ||
	    (x->type != BATON_OBJ_CONSENT && x->type != BATON_OBJ_REVOCATION))
		return bti_diag_err(BATON_EVALUE, "not a consent or a revocation");
	if (x->shown && x->type != BATON_OBJ_REVOCATION)
		return bti_diag_err(BATON_EVALUE, "a consent shown goes with a revocation");
	return store_write(st, import_fn, x);
}
