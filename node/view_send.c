/* Every release rule's verdict before a send (view_send.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bti.h"
#include "transfer.h"
#include "view_consent.h"
#include "view_send.h"

static int is_fault(int r)
{
	return r == BATON_EIO || r == BATON_ENOMEM || r == BATON_EINTERNAL || r < -900;
}

/* Sets verdict v: passed when err is 0 (ok says how), else failed (the diagnostic says why). */
static void set_verdict(struct consent_rule *v, const char *name, const char *title, int err,
                        const char *ok)
{
	v->name = name;
	v->title = title;
	v->err = err;
	v->state = err ? CONSENT_RULE_FAILED : CONSENT_RULE_PASSED;
	const char *d = err ? baton_diag_for(err) : "";
	snprintf(v->why, sizeof(v->why), "%s", !err ? ok : d[0] ? d : baton_strerror(err));
	bti_diag_clear();
}

/* The two rules of a send beyond the consent's: its student, and not sent before. */
static int send_rules_own(store_txn *t, struct send_check *x, struct consent_rule *v)
{
	static const char t_student[] = "The consent is for the student chosen";
	static const char t_sent[] = "Not already sent to this school under this consent";
	store_outbox ob;
	char ok[300], id[2 * BATON_ID_BYTES + 1];
	int r;

	if (!x->parsed) {
		set_verdict(&v[0], "student", t_student, 0, "");
		set_verdict(&v[1], "sent", t_sent, 0, "");
		v[0].state = v[1].state = CONSENT_RULE_UNCHECKED;
		snprintf(v[0].why, sizeof(v[0].why), "not checked: the consent could not be read");
		snprintf(v[1].why, sizeof(v[1].why), "not checked: the consent could not be read");
		return 0;
	}
	r = transfer_consent_for(&x->c, x->student);
	snprintf(ok, sizeof(ok), "it names student %s", x->student);
	set_verdict(&v[0], "student", t_student, r, ok);
	r = transfer_sent_before(t, x->student, x->to_code, x->c.id, &ob);
	if (r != 0 && r != BATON_ENOTFOUND)
		return r;
	if (r == 0) {
		bti_hex_encode(ob.packet, BATON_ID_BYTES, id);
		r = bti_diag_err(BATON_EEXIST,
		                 "already sent to %s under this consent (packet %s, %s)",
		                 x->to_code, id, transfer_sent_state(ob.state));
	}
	snprintf(ok, sizeof(ok), "not sent to %s under this consent before", x->to_code);
	set_verdict(&v[1], "sent", t_sent, r == BATON_ENOTFOUND ? 0 : r, ok);
	return 0;
}

/* As 'baton consent check': the rules in order, and the audit entry of the outcome. */
static int check_audited(store_txn *t, const struct send_check *x, const uint8_t *my_pk,
                         const uint8_t *to_pk)
{
	struct release_check q;
	int r;
	memset(&q, 0, sizeof(q));
	q.consent = x->consent;
	q.consent_len = x->consent_len;
	q.my_id_pk = my_pk;
	q.to_pk = to_pk;
	q.sections = x->sections;
	q.now = x->now;
	q.skew = x->skew;
	r = consent_check(t, &q);
	if (is_fault(r))
		return r;
	return consent_audit(t, &q, r, r ? "consent-refused" : "consent-checked", x->to_code);
}

static int check_fn(store_txn *t, void *arg)
{
	struct send_check *x = arg;
	struct release_check q;
	baton_card me, peer;
	int r;

	if ((r = store_own_card(t, &me)) != 0)
		return r == BATON_ENOTFOUND ? bti_diag_err(BATON_EIO, "this node has no card") : r;
	if ((r = store_peer_card(t, x->to_code, &peer)) != 0)
		return r == BATON_ENOTFOUND
		           ? bti_diag_err(BATON_EVALUE, "to: no pinned school has the code %s",
		                          x->to_code)
		           : r;
	snprintf(x->to_name, sizeof(x->to_name), "%s", peer.name);
	memset(&q, 0, sizeof(q));
	q.consent = x->consent;
	q.consent_len = x->consent_len;
	q.my_id_pk = me.id_pk;
	q.to_pk = peer.id_pk;
	q.sections = x->sections;
	q.now = x->now;
	q.skew = x->skew;
	if ((r = consent_rules(t, &q, x->rule, &x->n)) != 0)
		return r;
	x->parsed = q.parsed;
	x->c = q.c;
	x->release = q.release;
	if ((r = send_rules_own(t, x, &x->rule[x->n])) != 0)
		return r;
	x->n += 2;
	x->allowed = 1;
	for (size_t i = 0; i < x->n; i++)
		x->allowed &= x->rule[i].state == CONSENT_RULE_PASSED;
	return check_audited(t, x, me.id_pk, peer.id_pk);
}

int send_check(store *st, struct send_check *x)
{
	x->n = 0;
	x->allowed = 0;
	x->parsed = 0;
	x->release = 0;
	return store_write_at(st, x->now, check_fn, x);
}

static json_t *rule_json(const struct consent_rule *v)
{
	static const char *const state[] = {"passed", "failed", "not checked"};
	json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "rule", v->name, "title", v->title, "state",
	                      state[v->state], "why", v->why);
	if (o && v->state == CONSENT_RULE_FAILED &&
	    json_object_set_new(o, "error", json_string(baton_errname(v->err))) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *send_check_json(const struct send_check *x)
{
	char secs[200] = "";
	json_t *rules = json_array();
	for (size_t i = 0; rules && i < x->n; i++)
		if (json_array_append_new(rules, rule_json(&x->rule[i])) != 0) {
			json_decref(rules);
			return NULL;
		}
	if (x->allowed)
		baton_sections_format(x->release, secs, sizeof(secs));
	return json_pack("{s:s, s:s, s:s, s:b, s:s, s:o*, s:o}", "student", x->student, "to",
	                 x->to_code, "to_name", x->to_name, "allowed", x->allowed, "sections", secs,
	                 "consent", x->parsed ? consent_view_json(&x->c, x->now) : NULL, "rules",
	                 rules);
}

struct on_file {
	const uint8_t *id;
	uint8_t *bytes;
	size_t len;
};

static int on_file_fn(store_txn *t, void *arg)
{
	struct on_file *f = arg;
	store_consent sc;
	char hex[2 * BATON_ID_BYTES + 1];
	int r;
	free(f->bytes);
	f->bytes = NULL;
	if ((r = store_consent_get(t, f->id, &sc)) != 0) {
		bti_hex_encode(f->id, BATON_ID_BYTES, hex);
		return r == BATON_ENOTFOUND
		           ? bti_diag_err(BATON_ENOTFOUND, "consent: no consent %s on file", hex)
		           : r;
	}
	f->bytes = sc.bytes;
	f->len = sc.len;
	return 0;
}

int send_consent_on_file(store *st, const uint8_t id[BATON_ID_BYTES], uint8_t **bytes, size_t *len)
{
	struct on_file f = {id, NULL, 0};
	int r = store_read(st, on_file_fn, &f);
	if (r != 0) {
		free(f.bytes);
		return r;
	}
	*bytes = f.bytes;
	*len = f.len;
	return 0;
}
