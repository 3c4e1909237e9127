/*
 * Sending: the release rules applied to one student (or a cohort) in one
 * write transaction, the released record sealed for the other school, and
 * the disclosure recorded in the audit log and the outbox; and asking
 * another school for a record. Where the packet's bytes go is sendfile.c's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "bti.h"
#include "dissent.h"
#include "family_notify.h"
#include "par.h"
#include "record.h"
#include "enrolment.h"
#include "terms.h"
#include "transfer_impl.h"

#define IN_STORE_MAX (768u << 10) /* queued packets up to this size are kept in the store */
#define DEFER_MAX    (8u << 20)   /* a cohort's packets sealed together, at most */

static int mem_read(void *ctx, uint8_t *buf, size_t n)
{
	struct mem_reader *m = ctx;
	if (n > m->len - m->off)
		return BATON_ETRUNC;
	memcpy(buf, m->p + m->off, n);
	m->off += n;
	m->gone = store_pages_done(m->p, m->gone, m->off);
	return 0;
}

static int add_guardian(const store_guardian *g, void *arg)
{
	baton_body *b = arg;
	if (!g->restricted && b->n_guardians < BATON_MAX_GUARDIANS)
		memcpy(b->guardians[b->n_guardians++], g->pk, BATON_PK_BYTES);
	return 0;
}

static int refuse(store_txn *t, struct send_req *s, int err)
{
	s->refused = err;
	snprintf(s->why, sizeof(s->why), "%s", baton_diag_for(err));
	return consent_audit(t, &s->priv->q, err, "release-refused", s->to_code);
}

static void seal_state_free(struct seal_state *ss)
{
	for (int i = 0; i < BATON_SEC_COUNT; i++) {
		if (ss->text[i])
			sodium_memzero(ss->text[i], strlen(ss->text[i]));
		free(ss->text[i]);
	}
	dissent_free_held(ss->statements, ss->n_statements);
	json_decref(ss->rec);
}

static void send_work_free(struct send_work *w)
{
	seal_state_free(&w->ss);
	free(w->m.p);
	memset(w, 0, sizeof(*w));
}

/*
 * Gives each of n sends its working state, zeroed, in one sodium_malloc
 * region (*base, freed by send_state_free).
 */
static int send_state_new(struct send_req *s, size_t n, struct send_state **base)
{
	size_t k = n ? n : 1;
	struct send_state *pv = sodium_allocarray(k, sizeof(*pv));
	if ((*base = pv) == NULL)
		return bti_diag_err(BATON_ENOMEM, "out of memory for %zu sends", n);
	memset(pv, 0, k * sizeof(*pv));
	for (size_t i = 0; i < n; i++)
		s[i].priv = &pv[i];
	return 0;
}

/* Frees what send_state_new gave n sends, and what a packet left prepared holds. */
static void send_state_free(struct send_req *s, size_t n, struct send_state *base)
{
	for (size_t i = 0; i < n; i++) {
		send_work_free(&s[i].priv->work);
		s[i].priv = NULL;
	}
	sodium_free(base);
}

/* The outbox entry of a packet just sealed, and the name its file will take. */
static int outbox_add(store_txn *t, struct send_req *s, int kind, const char *student,
                      const baton_seal_params *p)
{
	store_outbox ob;
	memset(&ob, 0, sizeof(ob));
	memcpy(ob.packet, s->info.id, BATON_ID_BYTES);
	memcpy(ob.hash, s->info.hash, BATON_HASH_BYTES);
	snprintf(ob.to, sizeof(ob.to), "%s", s->to_code);
	snprintf(ob.student, sizeof(ob.student), "%s", student);
	ob.kind = kind;
	ob.created = p->created;
	ob.expires = p->expires;
	if (s->out) {
		snprintf(s->path, sizeof(s->path), "%s", s->out);
		ob.state = OUT_SENT;
	} else if (s->in_store) {
		s->path[0] = 0;
		ob.state = OUT_QUEUED;
		ob.next_try = p->created;
	} else {
		snprintf(s->path, sizeof(s->path), "%s/%s.baton", s->priv->outbox,
		         xfer_hex_id(s->info.id));
		ob.state = OUT_QUEUED;
		ob.next_try = p->created;
	}
	if (strlen(s->path) >= sizeof(ob.file))
		return bti_diag_err(BATON_EINVAL, "%s: path too long for the outbox", s->path);
	memcpy(ob.file, s->path, strlen(s->path) + 1); /* length checked above */
	return store_outbox_put(t, &ob);
}

/* Grows the buffer to the packet, never past twice the largest kept in the store. */
static int membuf_write(void *ctx, const uint8_t *buf, size_t len)
{
	struct membuf *m = ctx;
	if (len > m->cap - m->len) {
		size_t cap = m->cap ? m->cap : 65536;
		while (cap - m->len < len && cap <= 2 * IN_STORE_MAX)
			cap *= 2;
		if (cap - m->len < len)
			return bti_diag_err(BATON_EINTERNAL, "packet larger than estimated");
		uint8_t *p = realloc(m->p, cap);
		if (p == NULL)
			return BATON_ENOMEM;
		m->p = p;
		m->cap = cap;
	}
	memcpy(m->p + m->len, buf, len);
	m->len += len;
	return 0;
}

/* The sections body carries, as a mask. */
static uint32_t present_sections(const baton_body *body)
{
	uint32_t m = 0;
	for (int i = 0; i < BATON_SEC_COUNT; i++)
		if (body->section[i])
			m |= BATON_SEC_BIT(i);
	return m;
}

/* A bound on the size of the packet that body makes. */
static uint64_t packet_estimate(const baton_body *body)
{
	uint64_t size = 4096 + body->consent_len + (uint64_t)body->n_guardians * 40;
	for (int i = 0; i < BATON_SEC_COUNT; i++)
		size += body->section_len[i];
	for (size_t i = 0; i < body->n_attachments; i++)
		size += body->attachments[i].size + body->attachments[i].size / 4096 + 64;
	for (size_t i = 0; i < body->n_statements; i++)
		size += body->statement_len[i] + 32;
	return size;
}

/* Whether a queued packet this large is kept in the store (set in s->in_store). */
static int fits_store(struct send_req *s, const baton_body *body)
{
	return s->in_store = !s->out && packet_estimate(body) <= IN_STORE_MAX;
}

/*
 * Seals a queued packet small enough into the store, in the transaction
 * that records it (no file, no sync of its own); anything else into its
 * file (sendfile.c).
 */
static int seal_to(store_txn *t, struct send_req *s, const baton_seal_params *p,
                   const baton_body *body, const baton_att_reader *readers)
{
	const baton_former_keys *former = former_of(&s->priv->q.former);
	struct membuf m = {NULL, 0, 0};
	int r;

	if (!fits_store(s, body))
		return (r = xfer_file_ready(s)) != 0
		           ? r
		           : baton_packet_seal_former(p, former, body, readers, baton_write_fd,
		                                      &s->priv->fd, &s->info);
	r = baton_packet_seal_former(p, former, body, readers, membuf_write, &m, &s->info);
	if (r == 0)
		r = store_packet_put(t, s->info.id, m.p, m.len);
	free(m.p);
	return r;
}

/* The packet of an earlier disclosure of the student to the school, under the consent. */
struct sent_before {
	store_txn *t;
	const char *to_code;
	const uint8_t *consent_id;
	store_outbox ob;
	int found;
};

static int sent_before_cb(const store_audit *e, void *arg)
{
	struct sent_before *b = arg;
	store_outbox ob;
	int r;
	if (strcmp(e->action, "disclosure") != 0 || !e->has_consent || !e->has_packet ||
	    strcmp(e->peer, b->to_code) != 0 ||
	    memcmp(e->consent, b->consent_id, BATON_ID_BYTES) != 0)
		return 0;
	if ((r = store_outbox_get(b->t, e->packet, &ob)) < 0 && r != BATON_ENOTFOUND)
		return r;
	/* One that was refused, expired or never written whole is no reason to hold back. */
	if (r == 0 &&
	    (ob.state == OUT_QUEUED || ob.state == OUT_SENT || ob.state == OUT_RECEIPTED)) {
		b->ob = ob;
		b->found = 1;
	}
	return 0;
}

int transfer_sent_before(store_txn *t, const char *student, const char *to_code,
                         const uint8_t consent_id[BATON_ID_BYTES], store_outbox *ob)
{
	struct sent_before b = {.t = t, .to_code = to_code, .consent_id = consent_id};
	int r;
	if ((r = store_audit_each(t, student, sent_before_cb, &b)) != 0)
		return r;
	if (!b.found)
		return BATON_ENOTFOUND;
	*ob = b.ob;
	return 0;
}

/*
 * A record already on its way, or received, under the same consent is not
 * disclosed again by running the same send twice: s->skipped (and
 * s->refused BATON_EEXIST, with why), unless s->again. 0 or an error.
 */
static int sent_before(store_txn *t, struct send_req *s)
{
	store_outbox ob;
	int r;
	if (s->priv->rq || s->again)
		return 0;
	r = transfer_sent_before(t, s->student, s->to_code, s->priv->q.c.id, &ob);
	if (r != 0)
		return r == BATON_ENOTFOUND ? 0 : r;
	s->refused = BATON_EEXIST;
	s->skipped = 1;
	snprintf(s->why, sizeof(s->why),
	         "already sent to %s under this consent (packet %s, %s); not sent again "
	         "(--again sends it anyway)",
	         s->to_code, xfer_hex_id(ob.packet), transfer_sent_state(ob.state));
	return 0;
}

const char *transfer_sent_state(int state)
{
	return state == OUT_QUEUED ? "queued" : state == OUT_SENT ? "sent as a file" : "receipted";
}

/*
 * Releasing a request: student, school, consent and sections come from it,
 * read in this transaction. None is BATON_ENOTFOUND; one not held is BATON_EVALUE.
 */
static int take_request(store_txn *t, struct send_req *s)
{
	store_request *rq = s->priv->rq;
	uint8_t rid[BATON_ID_BYTES];
	int r;

	memcpy(rid, rq->id, BATON_ID_BYTES);
	if ((r = store_request_get(t, rid, rq)) != 0)
		return r == BATON_ENOTFOUND
		           ? bti_diag_err(BATON_ENOTFOUND, "no request %s", xfer_hex_id(rid))
		           : r;
	if (rq->state != REQ_HELD)
		return bti_diag_err(BATON_EVALUE, "request %s was already %s", xfer_hex_id(rid),
		                    rq->state == REQ_RELEASED ? "released" : "denied");
	/* Copies: the request is freed before the caller reports the release. */
	snprintf(s->student_buf, sizeof(s->student_buf), "%s", rq->student);
	snprintf(s->to_buf, sizeof(s->to_buf), "%s", rq->from);
	s->student = s->student_buf;
	s->to_code = s->to_buf;
	s->consent = rq->consent;
	s->consent_len = rq->consent_len;
	s->sections = rq->want;
	return 0;
}

int transfer_consent_for(const baton_consent *c, const char *student)
{
	if (strcmp(c->student, student) == 0)
		return 0;
	return bti_diag_err(BATON_ECONSENT, "the consent is for student %s, not %s", c->student,
	                    student);
}

/* Refuses a release on a statement with err, why in words. */
static int enrol_refuse(store_txn *t, struct send_req *s, int err, const char *why)
{
	return refuse(t, s, bti_diag_err(err, "%s", why));
}

/*
 * Releasing a request on the enrolling school's statement (enrolment.h):
 * the policy has the exception on; the statement names this school and is
 * the requesting school's; it is valid now; it names a student on file who
 * is the child it describes. The sections: the ones asked for that are not
 * sensitive, and the sensitive ones the policy names. A refusal is audited,
 * with s->refused set, and returns 0.
 */
static int enrol_rules(store_txn *t, struct send_req *s, const baton_card *me, struct send_work *w)
{
	struct send_state *pv = s->priv;
	struct enrol_policy pol;
	baton_enrolment st;
	int r;

	memset(&pv->q, 0, sizeof(pv->q));
	pv->q.sections = s->sections;
	pv->enrol = 1;
	if ((r = baton_enrolment_parse(s->consent, s->consent_len, &st)) != 0)
		return r == BATON_ENOMEM
		           ? r
		           : enrol_refuse(t, s, BATON_ECONSENT,
		                          "the request's enrolment statement does not "
		                          "verify");
	if ((r = xfer_enrol_policy_read(t, &pol)) != 0)
		return r;
	if (!pol.on)
		return enrol_refuse(t, s, BATON_ECONSENT,
		                    "the enrolment exception is off at this school: deny the "
		                    "request, or ask the family for its consent");
	if (sodium_memcmp(st.from_pk, me->id_pk, BATON_PK_BYTES) != 0)
		return enrol_refuse(t, s, BATON_EFROM,
		                    "the enrolment statement names another school than this one");
	if (sodium_memcmp(st.to_pk, w->peer.id_pk, BATON_PK_BYTES) != 0)
		return enrol_refuse(t, s, BATON_ETO,
		                    "the enrolment statement is not the requesting school's");
	if ((r = baton_check_validity(st.issued, st.expires, s->now, s->skew)) != 0)
		return enrol_refuse(t, s, r, "the enrolment statement is not valid now");
	if ((r = xfer_enrol_same_child(t, &st)) != 0)
		return r == BATON_ENOTFOUND || r == BATON_EVALUE ? refuse(t, s, r) : r;
	if ((r = student_record_load(t, st.student, &w->ss.rec)) != 0)
		return r;
	pv->q.release = enrol_release_mask(&pol, s->sections);
	return 0;
}

/*
 * The release rules, against this node (me) and the school the record goes
 * to (w->peer): a refusal is audited, with s->refused set, and returns 0.
 * The rules read the record into w, which is sealed from that copy.
 * Returns 0, or an error of the store's.
 */
static int send_rules(store_txn *t, struct send_req *s, const baton_card *me, struct send_work *w)
{
	struct send_state *pv = s->priv;
	struct release_check *q = &pv->q;
	int r, type = 0;

	pv->enrol = 0;
	if (pv->rq && baton_object_type(s->consent, s->consent_len, &type) == 0 &&
	    type == BATON_OBJ_ENROLMENT)
		return enrol_rules(t, s, me, w);
	memset(q, 0, sizeof(*q));
	q->consent = s->consent;
	q->consent_len = s->consent_len;
	/* Verified before the transaction: a cohort's own bytes, never a request's. */
	q->verified = pv->verified && !pv->rq ? &pv->pre : NULL;
	q->my_id_pk = me->id_pk;
	q->to_pk = w->peer.id_pk;
	q->sections = s->sections;
	q->now = s->now;
	q->skew = s->skew;
	q->record = &w->ss.rec;
	r = consent_check(t, q);
	if (q->parsed && s->student == NULL) {
		/* A cohort: the student the consent names. */
		snprintf(s->student_buf, sizeof(s->student_buf), "%s", q->c.student);
		s->student = s->student_buf;
	}
	if (r == 0)
		r = transfer_consent_for(&q->c, s->student);
	if (r == BATON_EIO || r == BATON_ENOMEM || r == BATON_EINTERNAL || r < -900)
		return r;
	return r != 0 ? refuse(t, s, r) : 0;
}

/* The sections the rules release, from the record they read, into w's body. */
static int add_sections(const struct send_req *s, struct send_work *w)
{
	struct seal_state *ss = &w->ss;
	baton_body *body = &w->body;

	snprintf(body->student, sizeof(body->student), "%s", s->student);
	const char *state = json_string_value(json_object_get(ss->rec, "state_student_id"));
	if (state)
		snprintf(body->state_id, sizeof(body->state_id), "%s", state);
	for (int i = 0; i < BATON_SEC_COUNT; i++) {
		json_t *v = json_object_get(ss->rec, baton_section_name((baton_section)i));
		if (v == NULL || !(s->priv->q.release & BATON_SEC_BIT(i)))
			continue;
		if ((ss->text[i] = record_canonical(v)) == NULL)
			return BATON_ENOMEM;
		body->section[i] = (const uint8_t *)ss->text[i];
		body->section_len[i] = strlen(ss->text[i]);
	}
	return 0;
}

/*
 * The attachments of the released sections, read from the store's map as
 * they are sealed. One whose bytes are not in the store is BATON_EIO.
 */
static int add_attachments(store_txn *t, struct send_work *w)
{
	struct seal_state *ss = &w->ss;
	baton_body *body = &w->body;
	size_t i;
	json_t *a;

	/* Attachments travel only with their section. */
	json_array_foreach(json_object_get(ss->rec, "attachments"), i, a)
	{
		baton_section sec;
		const json_t *named = json_object_get(a, "section");
		if (baton_section_lookup(json_string_value(named), json_string_length(named),
		                         &sec) != 0 ||
		    body->section[sec] == NULL)
			continue;
		if (body->n_attachments == BATON_MAX_ATTACHMENTS)
			return bti_diag_err(BATON_EVALUE, "more than %d attachments",
			                    BATON_MAX_ATTACHMENTS);
		baton_attachment *at = &ss->atts[body->n_attachments];
		const char *hex = json_string_value(json_object_get(a, "hash"));
		const uint8_t *data;
		size_t dlen;
		snprintf(at->name, sizeof(at->name), "%s",
		         json_string_value(json_object_get(a, "name")));
		snprintf(at->media_type, sizeof(at->media_type), "%s",
		         json_string_value(json_object_get(a, "media_type")));
		at->section = (baton_section)sec;
		if (hex == NULL ||
		    sodium_hex2bin(at->hash, 32, hex, strlen(hex), NULL, NULL, NULL) != 0 ||
		    store_blob_get(t, at->hash, &data, &dlen) != 0)
			return bti_diag_err(
			    BATON_EIO, "attachment %s: bytes missing from the store", at->name);
		at->size = dlen;
		ss->rd[body->n_attachments] = (struct mem_reader){data, 0, dlen, 0};
		ss->readers[body->n_attachments] =
		    (baton_att_reader){mem_read, &ss->rd[body->n_attachments]};
		body->n_attachments++;
	}
	body->attachments = ss->atts;
	return 0;
}

/*
 * Every statement of disagreement this school holds for a section sent,
 * and the declaration that names them (PROTOCOL.md 4.4 statements).
 */
static int add_statements(store_txn *t, const struct send_req *s, const baton_card *me,
                          struct send_work *w)
{
	baton_body *body = &w->body;
	size_t n = 0;
	int r = dissent_for_sending(t, s->student, me->id_pk, present_sections(body), body->held,
	                            w->ss.statements, body->statement_len, &n);
	if (r != 0)
		return r;
	w->ss.n_statements = n;
	for (size_t i = 0; i < n; i++)
		body->statement[i] = w->ss.statements[i];
	body->n_held = body->n_statements = n;
	return 0;
}

/*
 * In the transaction: the release rules (a refusal is audited, with
 * s->refused set), then everything the packet will carry, into w.
 */
static int send_prepare(store_txn *t, struct send_req *s, struct send_work *w)
{
	baton_body *body = &w->body;
	baton_card me;
	int r;

	s->refused = 0;
	s->skipped = 0;
	s->release = 0;
	if (s->priv->rq && (r = take_request(t, s)) != 0)
		return r;
	if ((r = xfer_own_card(t, &me)) != 0 || (r = xfer_peer_card(t, s->to_code, &w->peer)) != 0)
		return r;
	if ((r = send_rules(t, s, &me, w)) != 0 || s->refused)
		return r;
	if ((r = sent_before(t, s)) != 0 || s->skipped)
		return r;
	if ((r = add_sections(s, w)) != 0 || (r = add_attachments(t, w)) != 0 ||
	    (r = add_statements(t, s, &me, w)) != 0)
		return r;
	if (s->priv->enrol) { /* the statement travels back in place of a consent */
		body->basis_enrolment = 1;
		body->enrolment = s->consent;
		body->enrolment_len = s->consent_len;
	} else {
		body->consent = s->consent;
		body->consent_len = s->consent_len;
	}
	if ((r = xfer_own_head(t, s->key, w->ss.head, &body->audit_len)) != 0)
		return r;
	body->audit = w->ss.head;
	if ((r = xfer_terms_read(t, w->ss.terms, sizeof(w->ss.terms), &body->terms_len)) != 0)
		return r;
	body->terms = w->ss.terms;
	if ((r = store_guardian_each(t, s->student, add_guardian, body)) != 0)
		return r;
	if (record_json_failed())
		return bti_diag_err(BATON_ENOMEM, "out of memory preparing the record of %s",
		                    s->student);
	w->p = (baton_seal_params){BATON_KIND_TRANSFER,
	                           s->now,
	                           s->now + PACKET_DAYS * UINT64_C(86400),
	                           baton_key_id_sk(s->key),
	                           w->peer.id_pk,
	                           w->peer.enc_pk,
	                           s->priv->q.parsed ? &s->priv->q.c : NULL};
	return 0;
}

/* In the transaction, the packet sealed: the disclosure is recorded, and the outbox entry. */
static int send_finish(store_txn *t, struct send_req *s, const struct send_work *w)
{
	struct send_state *pv = s->priv;
	store_audit e;
	int r;

	memset(&e, 0, sizeof(e));
	snprintf(e.action, sizeof(e.action), "disclosure");
	snprintf(e.basis, sizeof(e.basis), "%s", pv->enrol ? "enrolment" : "consent");
	snprintf(e.student, sizeof(e.student), "%s", s->student);
	snprintf(e.peer, sizeof(e.peer), "%s", s->to_code);
	memcpy(e.consent, pv->q.c.id, BATON_ID_BYTES);
	e.has_consent = !pv->enrol;
	memcpy(e.packet, s->info.id, BATON_ID_BYTES);
	e.has_packet = 1;
	e.sections = pv->q.release;
	if (pv->enrol)
		/* The family is told of it below (notify_family), as of every disclosure. */
		snprintf(e.detail, sizeof(e.detail),
		         "to %.100s on its request %s: the student is enrolling there (34 CFR "
		         "99.31(a)(2))",
		         w->peer.name, xfer_hex_id(pv->rq->id));
	else if (pv->rq)
		snprintf(e.detail, sizeof(e.detail), "to %.100s on its request %s: %.100s",
		         w->peer.name, xfer_hex_id(pv->rq->id), pv->q.c.purpose);
	else
		snprintf(e.detail, sizeof(e.detail), "to %.100s: %.140s", w->peer.name,
		         pv->q.c.purpose);
	if ((r = store_audit_append(t, &e)) != 0 ||
	    (r = outbox_add(t, s, OUT_TRANSFER, s->student, &w->p)) != 0 ||
	    (r = notify_family(t, s->student, NOTIFY_DISCLOSURE, s->to_code)) != 0 ||
	    (r = xfer_terms_sent(t, s->info.id, w->body.terms, w->body.terms_len)) != 0)
		return r;
	s->release = pv->q.release;
	if (pv->rq) {
		pv->rq->state = REQ_RELEASED;
		memcpy(pv->rq->release, s->info.id, BATON_ID_BYTES);
		r = store_request_put(t, pv->rq);
	}
	return r;
}

/*
 * The rules, the seal and the records of one student, in one transaction: no
 * record leaves unaudited. In a cohort a packet kept in the store is only
 * prepared here (deferred), and sealed with the others.
 */
static int send_fn(store_txn *t, void *arg)
{
	struct send_req *s = arg;
	struct send_work *w = &s->priv->work;
	int r;

	memset(w, 0, sizeof(*w));
	s->priv->deferred = 0;
	r = send_prepare(t, s, w);
	if (r == 0 && !s->refused) {
		if (s->priv->cohort && fits_store(s, &w->body)) {
			s->priv->deferred = 1;
			return 0;
		}
		r = seal_to(t, s, &w->p, &w->body, w->ss.readers);
		if (r == 0)
			r = send_finish(t, s, w);
	}
	send_work_free(w);
	return r;
}

/*
 * Seals a prepared packet of a cohort: cryptography only, safe on any thread.
 * Attachments are read through pointers into the store's map, which stay
 * valid because the transaction writes no blob and deletes nothing before
 * the packets are sealed.
 */
static void seal_deferred(size_t i, void *arg)
{
	struct send_req *s = (struct send_req *)arg + i;
	struct send_work *w = &s->priv->work;
	if (!s->priv->deferred)
		return;
	w->err = baton_packet_seal_former(&w->p, former_of(&s->priv->q.former), &w->body,
	                                  w->ss.readers, membuf_write, &w->m, &s->info);
	if (w->err)
		snprintf(w->why, sizeof(w->why), "%s", baton_diag_for(w->err));
}

/* The prepared packets of a cohort, sealed on every core, then recorded in order. */
static int finish_deferred(store_txn *t, struct send_req *s, size_t n)
{
	int r = 0;
	par_for(n, seal_deferred, s);
	for (size_t i = 0; i < n; i++) {
		struct send_work *w = &s[i].priv->work;
		if (!s[i].priv->deferred)
			continue;
		s[i].priv->deferred = 0;
		if (r == 0 && w->err)
			r = bti_diag_err(w->err, "%s", w->why);
		if (r == 0)
			r = store_packet_put(t, s[i].info.id, w->m.p, w->m.len);
		if (r == 0)
			r = send_finish(t, &s[i], w);
		send_work_free(w);
	}
	return r;
}

/* n sends run by fn in one transaction, then their packet files placed. */
struct batch {
	struct send_req *s;
	size_t n;
	store_fn fn;
};

static int batch_fn(store_txn *t, void *arg)
{
	struct batch *b = arg;
	uint64_t pending = 0;
	int r, deferred = 0;
	for (size_t i = 0; i < b->n; i++) {
		xfer_file_unplace(&b->s[i]);
		if (b->s[i].priv->deferred) /* a run the store repeats after growing its map */
			send_work_free(&b->s[i].priv->work);
		b->s[i].priv->deferred = 0;
	}
	for (size_t i = 0; i < b->n; i++) {
		struct send_req *s = &b->s[i];
		if ((r = b->fn(t, s)) != 0)
			return r;
		/* Sealed packets wait in memory: a lot at a time. */
		if (s->priv->deferred &&
		    (pending += packet_estimate(&s->priv->work.body)) >= DEFER_MAX) {
			if ((r = finish_deferred(t, b->s, i + 1)) != 0)
				return r;
			pending = 0;
		}
		deferred |= s->priv->deferred;
		if (s->refused || s->out || s->in_store)
			continue;
		if ((r = xfer_file_place(s)) != 0)
			return r;
	}
	if (deferred && (r = finish_deferred(t, b->s, b->n)) != 0)
		return r;
	xfer_test_pause("sealed");
	return 0;
}

static int seal_files(store *st, struct send_req *s, size_t n, store_fn fn)
{
	struct batch b = {s, n, fn};
	size_t opened = 0;
	int r;

	if ((r = xfer_files_prepare(s, n)) != 0)
		return r;
	if ((r = xfer_files_open(s, n, &opened)) == 0)
		r = store_write(st, batch_fn, &b);
	xfer_test_pause("committed");
	return xfer_files_close(s, n, opened, r);
}

/* One send by fn, releasing rq (or NULL), with working state of its own. */
static int send_one(store *st, struct send_req *s, store_request *rq, store_fn fn)
{
	struct send_state *base;
	int r;
	if ((r = send_state_new(s, 1, &base)) != 0)
		return r;
	base->rq = rq;
	r = seal_files(st, s, 1, fn);
	send_state_free(s, 1, base);
	return r;
}

int transfer_send(store *st, struct send_req *s)
{
	return send_one(st, s, NULL, send_fn);
}

/* A cohort's consents, verified before the transaction, on every core. */
static void verify_consent(size_t i, void *arg)
{
	struct send_req *s = (struct send_req *)arg + i;
	s->priv->verified = baton_consent_parse(s->consent, s->consent_len, &s->priv->pre) == 0;
}

int transfer_send_many(store *st, struct send_req *s, size_t n)
{
	struct send_state *base;
	int r;
	if ((r = send_state_new(s, n, &base)) != 0)
		return r;
	for (size_t i = 0; i < n; i++)
		s[i].priv->cohort = 1;
	/* A consent that does not verify is left to the rules, which say why. */
	par_for(n, verify_consent, s);
	r = seal_files(st, s, n, send_fn);
	send_state_free(s, n, base);
	return r;
}

int transfer_release(store *st, const uint8_t id[BATON_ID_BYTES], struct send_req *s)
{
	store_request *rq = sodium_malloc(sizeof(*rq));
	int r;
	if (rq == NULL)
		return BATON_ENOMEM;
	memcpy(rq->id, id, BATON_ID_BYTES);
	r = send_one(st, s, rq, send_fn);
	sodium_free(rq);
	s->consent = NULL;
	return r;
}

/*
 * The checks the other school (peer) would make first of a request's
 * consent c, in a registrar's words: it names that school as the sender
 * and this one (me) as the receiver. Returns 0 or BATON_EFROM, BATON_ETO or
 * the check's other error.
 */
static int request_schools(store_txn *t, struct send_req *s, const baton_consent *c,
                           const baton_card *me, const baton_card *peer)
{
	struct former_set *former = &s->priv->q.former;
	int r = consent_names_schools(t, c, peer->id_pk, s->to_code, me->id_pk, "this school",
	                              s->skew, former);
	if (r == 0)
		return 0;
	/* Neither school's key nor a former one: another school altogether. */
	if (r == BATON_EFROM && !consent_former_has(former, 0, c->from_pk))
		return bti_diag_err(BATON_EFROM, "the consent does not release records from %s",
		                    s->to_code);
	if (r == BATON_ETO && !consent_former_has(former, 1, c->to_pk))
		return bti_diag_err(BATON_ETO,
		                    "the consent does not release records to this school (it "
		                    "names %s)",
		                    c->to_code);
	return r;
}

/* The audit entry and outbox entry of a request just sealed (p), under consent c. */
static int request_record(store_txn *t, struct send_req *s, const baton_consent *c,
                          const baton_card *peer, const baton_seal_params *p)
{
	store_audit e;
	int r;

	memset(&e, 0, sizeof(e));
	snprintf(e.action, sizeof(e.action), "request-sent");
	snprintf(e.peer, sizeof(e.peer), "%s", s->to_code);
	memcpy(e.consent, c->id, BATON_ID_BYTES);
	e.has_consent = 1;
	memcpy(e.packet, s->info.id, BATON_ID_BYTES);
	e.has_packet = 1;
	e.sections = s->release;
	/* The student is named as the other school knows them, not indexed here. */
	snprintf(e.detail, sizeof(e.detail), "student %s at %.60s: %.100s", c->student, peer->name,
	         c->purpose);
	if ((r = store_audit_append(t, &e)) != 0 ||
	    (r = store_asked_put(t, s->to_code, c->student, s->info.id)) != 0)
		return r;
	return outbox_add(t, s, OUT_REQUEST, c->student, p);
}

/*
 * A request on this school's enrolment statement (PROTOCOL.md 3.12): signed
 * with this school's key, naming the other school, the student as it knows
 * them and as this school has them; the sections asked for (all but the
 * sensitive ones when none are named). Audited with basis enrolment.
 */
/*
 * Seals a request body (its sections and consent or statement already set)
 * to peer: the note, this school's latest audit head, the packet's
 * validity; the sections asked for become s->release.
 */
static int seal_request(store_txn *t, struct send_req *s, const baton_card *peer, baton_body *body,
                        uint8_t head[BATON_AUDIT_HEAD_MAX], baton_seal_params *p)
{
	int r;
	snprintf(body->note, sizeof(body->note), "%s", s->note ? s->note : "");
	if ((r = xfer_own_head(t, s->key, head, &body->audit_len)) != 0)
		return r;
	body->audit = head;
	*p = (baton_seal_params){BATON_KIND_REQUEST,
	                         s->now,
	                         s->now + PACKET_DAYS * UINT64_C(86400),
	                         baton_key_id_sk(s->key),
	                         peer->id_pk,
	                         peer->enc_pk,
	                         NULL};
	if ((r = seal_to(t, s, p, body, NULL)) != 0)
		return r;
	s->release = body->requested_mask;
	return 0;
}

static int enrol_request_fn(store_txn *t, struct send_req *s)
{
	uint8_t head[BATON_AUDIT_HEAD_MAX], *st = NULL;
	size_t slen = 0;
	baton_card me, peer;
	baton_enrolment en;
	baton_body body;
	baton_seal_params p;
	store_audit e;
	int r;

	if ((r = xfer_own_card(t, &me)) != 0 || (r = xfer_peer_card(t, s->to_code, &peer)) != 0)
		return r;
	memset(&en, 0, sizeof(en));
	snprintf(en.birth_date, sizeof(en.birth_date), "%s", s->enrol_birth);
	snprintf(en.family_name, sizeof(en.family_name), "%s", s->enrol_family);
	snprintf(en.given_name, sizeof(en.given_name), "%s", s->enrol_given);
	snprintf(en.kind, sizeof(en.kind), BATON_ENROL_KIND);
	snprintf(en.student, sizeof(en.student), "%s", s->enrol_student);
	memcpy(en.from_pk, peer.id_pk, BATON_PK_BYTES);
	memcpy(en.to_pk, me.id_pk, BATON_PK_BYTES);
	en.issued = s->now;
	en.expires = s->now + PACKET_DAYS * UINT64_C(86400);
	if ((r = baton_enrolment_sign(&en, baton_key_id_sk(s->key), &st, &slen)) != 0)
		return r;
	memset(&body, 0, sizeof(body));
	body.enrolment = st;
	body.enrolment_len = slen;
	body.requested_mask = s->sections;
	for (int i = 0; i < BATON_SEC_COUNT && !s->sections; i++)
		if (!baton_section_sensitive((baton_section)i))
			body.requested_mask |= BATON_SEC_BIT(i);
	if ((r = seal_request(t, s, &peer, &body, head, &p)) != 0)
		goto out;
	memset(&e, 0, sizeof(e));
	snprintf(e.action, sizeof(e.action), "request-sent");
	snprintf(e.basis, sizeof(e.basis), "enrolment");
	snprintf(e.peer, sizeof(e.peer), "%s", s->to_code);
	memcpy(e.packet, s->info.id, BATON_ID_BYTES);
	e.has_packet = 1;
	e.sections = s->release;
	snprintf(e.detail, sizeof(e.detail),
	         "student %s at %.60s: enrolling here (34 CFR 99.31(a)(2))", en.student, peer.name);
	if ((r = store_audit_append(t, &e)) != 0 ||
	    (r = store_asked_put(t, s->to_code, en.student, s->info.id)) != 0)
		goto out;
	r = outbox_add(t, s, OUT_REQUEST, en.student, &p);
out:
	free(st);
	return r;
}

static int request_send_fn(store_txn *t, void *arg)
{
	struct send_req *s = arg;
	uint8_t head[BATON_AUDIT_HEAD_MAX];
	baton_card me, peer;
	baton_consent c;
	baton_body body;
	baton_seal_params p;
	int r;

	if (s->enrol_student)
		return enrol_request_fn(t, s);
	if ((r = xfer_own_card(t, &me)) != 0 || (r = xfer_peer_card(t, s->to_code, &peer)) != 0)
		return r;
	if ((r = baton_consent_parse(s->consent, s->consent_len, &c)) != 0 ||
	    (r = request_schools(t, s, &c, &me, &peer)) != 0)
		return r;
	memset(&body, 0, sizeof(body));
	body.consent = s->consent;
	body.consent_len = s->consent_len;
	body.requested_mask = s->sections ? s->sections : c.sections;
	if (s->sections & ~(c.sections | BATON_SEC_BIT(BATON_SEC_IDENTITY)))
		return bti_diag_err(BATON_ESECTIONS,
		                    "the consent does not cover every section asked for");
	if ((r = seal_request(t, s, &peer, &body, head, &p)) != 0)
		return r;
	return request_record(t, s, &c, &peer, &p);
}

int transfer_request(store *st, struct send_req *s)
{
	return send_one(st, s, NULL, request_send_fn);
}
