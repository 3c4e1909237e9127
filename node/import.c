/*
 * Filing what was received, in the import's transaction: the rules a
 * receiver judges, a transfer's record and attachments, a request held for
 * the registrar, each with its inbox entry, receipt and audit entry.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include "bti.h"
#include "dissent.h"
#include "family_notify.h"
#include "record.h"
#include "enrolment.h"
#include "terms.h"
#include "transfer_impl.h"

/* The receipt's notes (PROTOCOL.md 3.7). */
static const char *const review_note = "held for review";
static const char *const held_note = "held for the registrar's decision";
static const char *const auto_note = "to be released at once";

/* Writes an attachment as it is decrypted straight into the space the store reserved. */
struct blob_writer {
	uint8_t *dst;
	size_t off, cap, gone;
};

static int blob_write(void *ctx, const uint8_t *buf, size_t len)
{
	struct blob_writer *w = ctx;
	if (w->dst == NULL)
		return 0; /* already stored: decrypting only to verify */
	if (len > w->cap - w->off)
		return BATON_EINTERNAL;
	memcpy(w->dst + w->off, buf, len);
	w->off += len;
	w->gone = store_pages_done(w->dst, w->gone, w->off);
	return 0;
}

static int inbox_sign(store_txn *t, struct recv_ctx *c);

/* The head a school sent with its packet: what its log said then. */
static int peer_head(store_txn *t, const char *from, const baton_body *b)
{
	return b->audit_len ? store_peer_head_put(t, from, b->audit, b->audit_len) : 0;
}

/*
 * The local id of a student arriving from school from: the student with the
 * same statewide id; else the one that school's id arrived as before; else
 * that id, when free here; else the id prefixed with the school's code.
 * *existing: the student is on file.
 */
static int local_id(store_txn *t, const baton_body *b, const char *from, char *id, size_t cap,
                    int *existing)
{
	store_student s;
	int r;
	*existing = 0;
	if (b->state_id[0] &&
	    (r = store_student_by_state_id(t, b->state_id, id, cap)) != BATON_ENOTFOUND) {
		*existing = r == 0;
		if (r < 0)
			return r;
		if (*existing)
			return 0;
	}
	if ((r = store_origin_get(t, from, b->student, id, cap)) < 0 && r != BATON_ENOTFOUND)
		return r;
	if (r == 0 && (r = store_student_get(t, id, &s)) != BATON_ENOTFOUND) {
		*existing = r == 0;
		return r < 0 ? r : 0;
	}
	if ((r = store_student_get(t, b->student, &s)) < 0 && r != BATON_ENOTFOUND)
		return r;
	if (r == BATON_ENOTFOUND) {
		snprintf(id, cap, "%s", b->student);
		return 0;
	}
	/*
	 * "LHS-001-S-1001". An id too long for that keeps its head and ends in a
	 * hash of the whole, so that two long ids cut alike stay two students.
	 */
	char full[BATON_CODE_MAX + BATON_STUDENT_MAX + 2];
	snprintf(full, sizeof(full), "%s-%s", from, b->student);
	size_t n = strlen(full);
	memcpy(id, full, n < cap ? n + 1 : cap - 1);
	id[cap - 1] = '\0';
	if (n >= cap && cap > 18) {
		uint8_t h[8];
		char hex[17];
		crypto_generichash(h, sizeof(h), (const uint8_t *)full, strlen(full), NULL, 0);
		sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
		snprintf(id + cap - 18, 18, "~%s", hex);
	}
	if ((r = store_student_get(t, id, &s)) < 0 && r != BATON_ENOTFOUND)
		return r;
	*existing = r == 0;
	return 0;
}

/*
 * The packet's sections, each valid JSON of its section of the record
 * format, into rec. One that is not sets c->content_err.
 */
static int read_sections(struct recv_ctx *c, const baton_body *b, json_t *rec)
{
	int r = 0;
	for (int i = 0; i < BATON_SEC_COUNT && r == 0; i++) {
		const char *name = baton_section_name((baton_section)i);
		json_error_t err;
		json_t *v;
		if (b->section[i] == NULL)
			continue;
		v = json_loadb((const char *)b->section[i], b->section_len[i],
		               JSON_REJECT_DUPLICATES, &err);
		if (record_json_failed()) {
			json_decref(v);
			return bti_diag_err(BATON_ENOMEM, "out of memory reading section %s", name);
		}
		if (v == NULL) {
			r = bti_diag_err(BATON_EVALUE, "section %s: %s", name, err.text);
		} else if ((r = record_validate_section(name, v)) == 0) {
			json_object_set_new(rec, name, v);
			continue;
		}
		json_decref(v);
		c->content_err = BATON_REASON_RECORD_INVALID;
	}
	return r;
}

/*
 * The attachments, streamed straight into the store and listed in atts; a
 * bad one aborts everything (c->content_err set when it is the packet's).
 */
static int store_attachments(store_txn *t, struct recv_ctx *c, const baton_body *b, json_t *atts)
{
	char hex[65];
	int r = 0;
	for (size_t i = 0; i < b->n_attachments; i++) {
		const baton_attachment *a = &b->attachments[i];
		struct blob_writer w = {NULL, 0, (size_t)a->size, 0};
		if (a->size > SIZE_MAX ||
		    ((r = store_blob_reserve(t, a->hash, (size_t)a->size, &w.dst)) < 0 &&
		     r != BATON_EEXIST))
			return r;
		if ((r = baton_opened_attachment(c->o, i, blob_write, &w)) != 0) {
			if (r == BATON_EDECRYPT || r == BATON_EHASH)
				c->content_err = BATON_REASON_DECRYPT;
			return r;
		}
		sodium_bin2hex(hex, sizeof(hex), a->hash, 32);
		json_array_append_new(atts, json_pack("{s:s, s:s, s:s, s:s, s:I}", "hash", hex,
		                                      "media_type", a->media_type, "name", a->name,
		                                      "section", baton_section_name(a->section),
		                                      "size", (json_int_t)a->size));
	}
	return 0;
}

/*
 * The record rec filed under its local id (q->student, set here), as s: a
 * new version, the same one, or (another child under an id on file) held
 * for review as held->id, never made current.
 */
static int file_record(store_txn *t, struct recv_ctx *c, json_t *rec, store_student *s,
                       store_held *held)
{
	struct recv_req *q = c->q;
	const baton_body *b = baton_opened_body(c->o);
	char *canon = NULL;
	int r, existing, how;

	if ((r = local_id(t, b, q->from, q->student, sizeof(q->student), &existing)) != 0)
		return r;
	json_object_set_new(rec, "student_id", json_string(q->student));
	if (b->state_id[0])
		json_object_set_new(rec, "state_student_id", json_string(b->state_id));
	memset(s, 0, sizeof(*s));
	snprintf(s->id, sizeof(s->id), "%s", q->student);
	record_index(rec, s);
	/* Nothing is stored from JSON that lost a piece to a failed allocation. */
	if (record_json_failed() || (canon = record_canonical(rec)) == NULL)
		return bti_diag_err(BATON_ENOMEM, "out of memory building the record");
	memset(held, 0, sizeof(*held));
	snprintf(held->from, sizeof(held->from), "%s", q->from);
	snprintf(held->their_id, sizeof(held->their_id), "%s", b->student);
	memcpy(held->packet, q->packet, BATON_ID_BYTES);
	held->has_packet = 1;
	r = store_student_file(t, s, canon, strlen(canon), held, &how);
	sodium_memzero(canon, strlen(canon));
	free(canon);
	if (r != 0)
		return r;
	q->version = s->version;
	q->review = how == FILED_HELD;
	q->held = held->id;
	q->unchanged = how == FILED_UNCHANGED;
	if (!q->review)
		r = store_origin_put(t, q->from, b->student, q->student);
	return r;
}

/*
 * The receipt of an accepted packet (note may be NULL), signed over this
 * school's audit head, into the inbox entry, which is also the replay
 * guard. q->receipt (malloc'd) is the caller's. In a batch (c->defer_receipt)
 * only what the receipt names is kept here: xfer_receipts_due signs every
 * receipt of the batch over one head, once all of it is on the log.
 */
static int inbox_receipt(store_txn *t, struct recv_ctx *c, const baton_body *b, const char *note)
{
	struct recv_req *q = c->q;
	int r;
	free(q->receipt);
	q->receipt = NULL;
	if ((r = peer_head(t, q->from, b)) != 0)
		return r;
	/* The terms are kept with the record, and the receipt names what was kept. */
	q->has_terms = b->terms_len > 0;
	if (q->has_terms) {
		crypto_generichash(q->terms, BATON_HASH_BYTES, (const uint8_t *)b->terms,
		                   b->terms_len, NULL, 0);
		if ((r = xfer_terms_received(t, q->packet, b->terms, b->terms_len)) != 0)
			return r;
	}
	c->note = note;
	if (c->defer_receipt) {
		c->receipt_due = 1;
		return 0;
	}
	return inbox_sign(t, c);
}

/* The receipt inbox_receipt made ready, signed over the head of the log as it is now, and filed. */
static int inbox_sign(store_txn *t, struct recv_ctx *c)
{
	struct recv_req *q = c->q;
	int r;
	if ((r = xfer_own_head(t, q->key_retired ? NULL : q->key, q->head, &q->head_len)) != 0)
		return r;
	r = xfer_sign_receipt(q, BATON_REASON_ACCEPTED, t->now, c->note, &q->receipt,
	                      &q->receipt_len);
	q->has_terms = 0; /* a refusal signed later, if this transaction fails, names none */
	if (r != 0)
		return r;
	store_inbox in = {{0}, {0}, {0}, BATON_REASON_ACCEPTED, t->now, q->receipt, q->receipt_len};
	memcpy(in.packet, q->packet, BATON_ID_BYTES);
	snprintf(in.from, sizeof(in.from), "%s", q->from);
	snprintf(in.student, sizeof(in.student), "%s", q->student);
	return store_inbox_put(t, &in);
}

int xfer_receipts_due(store_txn *t, struct recv_ctx *c, size_t n)
{
	int r;
	for (size_t i = 0; i < n; i++) {
		if (!c[i].receipt_due)
			continue;
		c[i].receipt_due = 0;
		/* The first signs the head; the others find it signed already by the same key. */
		if ((r = inbox_sign(t, &c[i])) != 0)
			return r;
	}
	return 0;
}

/* The audit entry of a record filed as s (or held as held_id). */
static int import_audit(store_txn *t, struct recv_ctx *c, const store_student *s, uint64_t held_id)
{
	const struct recv_req *q = c->q;
	const baton_body *b = baton_opened_body(c->o);
	store_audit e;

	memset(&e, 0, sizeof(e));
	snprintf(e.action, sizeof(e.action), "received");
	snprintf(e.student, sizeof(e.student), "%s", q->student);
	snprintf(e.peer, sizeof(e.peer), "%s", q->from);
	if (baton_opened_enrolment(c->o) != NULL) {
		snprintf(e.basis, sizeof(e.basis), "enrolment"); /* 34 CFR 99.31(a)(2) */
	} else {
		memcpy(e.consent, baton_opened_consent(c->o)->id, BATON_ID_BYTES);
		e.has_consent = 1;
	}
	memcpy(e.packet, q->packet, BATON_ID_BYTES);
	e.has_packet = 1;
	for (int i = 0; i < BATON_SEC_COUNT; i++)
		if (b->section[i])
			e.sections |= BATON_SEC_BIT(i);
	if (q->review)
		snprintf(e.detail, sizeof(e.detail),
		         "held for review as %llu: not the child on file as %s",
		         (unsigned long long)held_id, q->student);
	else
		snprintf(e.detail, sizeof(e.detail), "version %u%s", s->version,
		         q->unchanged ? ", the same as the one on file" : "");
	return store_audit_append(t, &e);
}

/* The record this node asked for (their_id, from q->from): its request is answered. */
static int answer_asked(store_txn *t, const struct recv_req *q, const char *their_id,
                        uint64_t held_id)
{
	uint8_t asked[BATON_ID_BYTES];
	store_outbox ob;
	int r;
	if ((r = store_asked_take(t, q->from, their_id, asked)) == 0 &&
	    (r = store_outbox_get(t, asked, &ob)) == 0 && ob.kind == OUT_REQUEST &&
	    ob.state != OUT_DENIED) {
		ob.state = OUT_ANSWERED;
		if (q->review)
			snprintf(ob.last_error, sizeof(ob.last_error),
			         "released: held for review as %llu, not the child on file as %s",
			         (unsigned long long)held_id, q->student);
		else
			snprintf(ob.last_error, sizeof(ob.last_error),
			         "released: arrived as %s, version %u", q->student, q->version);
		r = store_outbox_put(t, &ob);
	}
	return r == BATON_ENOTFOUND ? 0 : r;
}

int xfer_import(store_txn *t, struct recv_ctx *c)
{
	struct recv_req *q = c->q;
	const baton_body *b = baton_opened_body(c->o);
	json_t *rec = json_object(), *atts = json_array();
	store_student s;
	store_held held;
	int r;

	c->content_err = 0;
	q->review = 0;
	q->unchanged = 0;
	record_json_failed();
	if (rec == NULL || atts == NULL) {
		r = bti_diag_err(BATON_ENOMEM, "out of memory");
		goto out;
	}
	if ((r = read_sections(c, b, rec)) != 0 || (r = store_attachments(t, c, b, atts)) != 0)
		goto out;
	if (b->n_attachments)
		json_object_set(rec, "attachments", atts);
	if (!record_id_safe(b->student) || (b->state_id[0] && !record_id_safe(b->state_id))) {
		c->content_err = BATON_REASON_RECORD_INVALID;
		r = bti_diag_err(
		    BATON_EVALUE,
		    "student id \"%s\" (statewide \"%s\"): a '/' or '\\', a leading '.' "
		    "or a space at either end",
		    b->student, b->state_id);
		goto out;
	}
	if ((r = file_record(t, c, rec, &s, &held)) != 0 ||
	    (r = q->review ? dissent_keep_held(t, held.id, q->from, b->statement, b->statement_len,
	                                       b->n_statements)
	                   : dissent_keep_received(t, q->student, q->from, b->statement,
	                                           b->statement_len, b->n_statements)) != 0 ||
	    (r = inbox_receipt(t, c, b, q->review ? review_note : NULL)) != 0 ||
	    (r = import_audit(t, c, &s, held.id)) != 0)
		goto out;
	r = answer_asked(t, q, b->student, held.id);
out:
	json_decref(rec);
	json_decref(atts);
	return r;
}

/*
 * This node's own release rules, applied to a request now (rc, filled
 * here), so that a request it could never answer is refused at once. A
 * refusal sets c->content_err and returns the rule's code.
 */
static int request_rules(store_txn *t, struct recv_ctx *c, struct release_check *rc)
{
	const struct recv_req *q = c->q;
	const baton_body *b = baton_opened_body(c->o);
	char why[300];
	int r;

	memset(rc, 0, sizeof(*rc));
	rc->consent = b->consent;
	rc->consent_len = b->consent_len;
	rc->my_id_pk = baton_key_id_pk(q->key);
	rc->to_pk = baton_opened_header(c->o)->sender;
	rc->sections = b->requested_mask;
	rc->now = q->now;
	rc->skew = q->skew;
	r = consent_check(t, rc);
	if (r == 0 || r == BATON_EIO || r == BATON_ENOMEM || r == BATON_EINTERNAL || r < -900)
		return r;
	snprintf(why, sizeof(why), "%s", baton_diag_for(r)); /* bti_diag_err writes that buffer */
	c->content_err = BATON_REASON_CONSENT_INVALID;
	return bti_diag_err(r, "%s: %s", baton_errname(r), why);
}

/* The request, held for the registrar, under the student rc names. */
static int request_keep(store_txn *t, const struct recv_req *q, const baton_body *b,
                        const struct release_check *rc)
{
	store_request *rq = calloc(1, sizeof(*rq));
	int r;
	if (rq == NULL)
		return BATON_ENOMEM;
	memcpy(rq->id, q->packet, BATON_ID_BYTES);
	memcpy(rq->hash, q->hash, BATON_HASH_BYTES);
	snprintf(rq->from, sizeof(rq->from), "%s", q->from);
	snprintf(rq->student, sizeof(rq->student), "%s", rc->c.student);
	rq->want = b->requested_mask;
	memcpy(rq->consent, b->consent, b->consent_len);
	rq->consent_len = b->consent_len;
	snprintf(rq->note, sizeof(rq->note), "%s", b->note);
	rq->state = REQ_HELD;
	rq->time = t->now;
	r = store_request_put(t, rq);
	free(rq);
	return r;
}

static int request_audit(store_txn *t, const struct recv_req *q, const struct release_check *rc)
{
	store_audit e;
	memset(&e, 0, sizeof(e));
	snprintf(e.action, sizeof(e.action), "request-received");
	snprintf(e.student, sizeof(e.student), "%s", q->student);
	snprintf(e.peer, sizeof(e.peer), "%s", q->from);
	memcpy(e.consent, rc->c.id, BATON_ID_BYTES);
	e.has_consent = 1;
	memcpy(e.packet, q->packet, BATON_ID_BYTES);
	e.has_packet = 1;
	e.sections = rc->release;
	snprintf(e.detail, sizeof(e.detail), "%s: %.160s",
	         q->auto_release ? "released at once by policy" : "held for the registrar",
	         rc->c.purpose);
	return store_audit_append(t, &e);
}

/*
 * A request on the enrolling school's statement (enrolment.h): released at
 * once when the policy has the exception on and the statement names the
 * child on file here; otherwise held for the registrar, the reason in the
 * audit entry. The statement is kept in the request in place of a consent.
 */
static int enrol_hold(store_txn *t, struct recv_ctx *c, const baton_enrolment *s)
{
	struct recv_req *q = c->q;
	const baton_body *b = baton_opened_body(c->o);
	struct enrol_policy pol;
	char why[300] = "";
	store_audit e;
	int r, same;

	if ((r = xfer_enrol_policy_read(t, &pol)) != 0)
		return r;
	if ((r = xfer_enrol_same_child(t, s)) != 0 && r != BATON_ENOTFOUND && r != BATON_EVALUE)
		return r;
	same = r == 0;
	if (!pol.on)
		snprintf(why, sizeof(why), "the enrolment exception is off here");
	else if (!same)
		snprintf(why, sizeof(why), "%s", baton_diag());
	q->auto_release = why[0] == '\0';
	q->kind = BATON_KIND_REQUEST;
	snprintf(q->student, sizeof(q->student), "%s", s->student);
	store_request *rq = calloc(1, sizeof(*rq));
	if (rq == NULL)
		return BATON_ENOMEM;
	memcpy(rq->id, q->packet, BATON_ID_BYTES);
	memcpy(rq->hash, q->hash, BATON_HASH_BYTES);
	snprintf(rq->from, sizeof(rq->from), "%s", q->from);
	snprintf(rq->student, sizeof(rq->student), "%s", s->student);
	rq->want = b->requested_mask;
	memcpy(rq->consent, b->enrolment, b->enrolment_len);
	rq->consent_len = b->enrolment_len;
	snprintf(rq->note, sizeof(rq->note), "%s", b->note);
	rq->state = REQ_HELD;
	rq->time = t->now;
	r = store_request_put(t, rq);
	free(rq);
	if (r != 0 || (r = inbox_receipt(t, c, b, q->auto_release ? auto_note : held_note)) != 0)
		return r;
	memset(&e, 0, sizeof(e));
	snprintf(e.action, sizeof(e.action), "request-received");
	snprintf(e.basis, sizeof(e.basis), "enrolment");
	snprintf(e.student, sizeof(e.student), "%s", s->student);
	snprintf(e.peer, sizeof(e.peer), "%s", q->from);
	memcpy(e.packet, q->packet, BATON_ID_BYTES);
	e.has_packet = 1;
	e.sections = enrol_release_mask(&pol, b->requested_mask);
	snprintf(e.detail, sizeof(e.detail), "enrolling at %.32s (34 CFR 99.31(a)(2)): %s%.150s",
	         q->from, q->auto_release ? "released at once by policy" : "held: ", why);
	if ((r = store_audit_append(t, &e)) != 0)
		return r;
	/* The family is told of a request for their child; one describing another is not theirs. */
	return same ? notify_family(t, s->student, NOTIFY_REQUEST, q->from) : 0;
}

int xfer_hold_request(store_txn *t, struct recv_ctx *c)
{
	struct recv_req *q = c->q;
	const baton_body *b = baton_opened_body(c->o);
	struct release_check rc;
	int r;

	c->content_err = 0;
	if (baton_opened_enrolment(c->o) != NULL)
		return enrol_hold(t, c, baton_opened_enrolment(c->o));
	if ((r = request_rules(t, c, &rc)) != 0 || (r = xfer_policy_read(t, &q->auto_release)) != 0)
		return r;
	q->kind = BATON_KIND_REQUEST;
	snprintf(q->student, sizeof(q->student), "%s", rc.c.student);
	if ((r = request_keep(t, q, b, &rc)) != 0 ||
	    (r = inbox_receipt(t, c, b, q->auto_release ? auto_note : held_note)) != 0)
		return r;
	if ((r = request_audit(t, q, &rc)) != 0)
		return r;
	return notify_family(t, q->student, NOTIFY_REQUEST, q->from);
}

/*
 * *same is 1 when the packet's identity is the child on file here as id
 * (store_same_child), 0 when not, or when it cannot tell: then the import
 * holds the record for review rather than judge it by another child.
 * Returns 0 or the store's error.
 */
static int same_child_here(store_txn *t, const baton_body *b, const char *id, int *same)
{
	store_student on_file, s;
	json_error_t err;
	json_t *rec, *v;
	int r;

	*same = 0;
	if ((r = store_student_get(t, id, &on_file)) != 0)
		return r == BATON_ENOTFOUND ? 0 : r;
	if (b->section[BATON_SEC_IDENTITY] == NULL)
		return 0;
	v = json_loadb((const char *)b->section[BATON_SEC_IDENTITY],
	               b->section_len[BATON_SEC_IDENTITY], JSON_REJECT_DUPLICATES, &err);
	if (v == NULL || (rec = json_object()) == NULL) {
		json_decref(v);
		return 0;
	}
	json_object_set_new(rec, "identity", v);
	memset(&s, 0, sizeof(s));
	record_index(rec, &s);
	json_decref(rec);
	*same = store_same_child(&on_file, &s);
	return 0;
}

/* A consent withdrawn by a revocation on file here (at when) is refused. */
static int revoked_here(store_txn *t, struct recv_ctx *c, const baton_consent *k)
{
	uint64_t when = 0;
	char at[32] = "";
	struct tm tm;
	time_t tt;
	int r, revoked;

	if ((r = consent_revoked(t, k, c->q->now, &revoked, &when)) != 0 || !revoked)
		return r;
	c->content_err = BATON_REASON_CONSENT_INVALID;
	tt = (time_t)when;
	if (gmtime_r(&tt, &tm) == NULL || strftime(at, sizeof(at), "%Y-%m-%d %H:%M UTC", &tm) == 0)
		snprintf(at, sizeof(at), "%llu", (unsigned long long)when);
	return bti_diag_err(BATON_EREVOKED,
	                    "the consent for student %s was revoked on %s (the revocation is "
	                    "on file here)",
	                    k->student, at);
}

int xfer_recv_rules(store_txn *t, struct recv_ctx *c)
{
	const baton_consent *k = baton_opened_consent(c->o);
	const baton_body *b = baton_opened_body(c->o);
	char id[BATON_STUDENT_MAX + 1];
	int r, existing, same, eligible;

	/* On this school's own enrolment statement (checked at opening): no consent to judge. */
	if (baton_opened_enrolment(c->o) != NULL)
		return 0;
	if ((r = revoked_here(t, c, k)) != 0)
		return r;
	/* A record here can show that rights passed, never that they did not. */
	if (k->role == BATON_ROLE_STUDENT)
		return 0;
	if ((r = local_id(t, b, c->q->from, id, sizeof(id), &existing)) != 0)
		return r;
	if (!existing || (r = same_child_here(t, b, id, &same)) != 0 || !same)
		return r;
	if ((r = consent_student_eligible(t, id, baton_opened_header(c->o)->created, &eligible)) !=
	    0)
		return r;
	if (eligible) {
		c->content_err = BATON_REASON_CONSENT_INVALID;
		return bti_diag_err(
		    BATON_EELIGIBLE,
		    "student %s was 18 or in postsecondary education by this school's "
		    "record when the packet was made: a guardian's consent no longer "
		    "releases the record",
		    k->student);
	}
	return 0;
}
