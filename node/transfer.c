/* Sending and receiving transfers at the node; see transfer.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "proto_impl.h"
#include "record.h"
#include "transfer.h"

#define PACKET_DAYS 14

static int own_card(store_txn *t, baton_card *c)
{
	int r = store_own_card(t, c);
	return r == 1 ? diag_err(BATON_EIO, "this node has no card") : r;
}

static int peer_card(store_txn *t, const char *code, baton_card *c)
{
	int r = store_peer_card(t, code, c);
	return r == 1 ? diag_err(BATON_EVALUE, "%s is not a pinned school", code) : r;
}

/* ---- send ---- */

struct mem_reader {
	const uint8_t *p;
	size_t off, len;
};

static int mem_read(void *ctx, uint8_t *buf, size_t n)
{
	struct mem_reader *m = ctx;
	if (n > m->len - m->off)
		return BATON_ETRUNC;
	memcpy(buf, m->p + m->off, n);
	m->off += n;
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
	return consent_audit(t, &s->q, err, "release-refused", s->to_code);
}

struct seal_state {
	json_t *rec;
	char *text[BATON_SEC_COUNT];
	baton_attachment atts[BATON_MAX_ATTACHMENTS];
	struct mem_reader rd[BATON_MAX_ATTACHMENTS];
	baton_att_reader readers[BATON_MAX_ATTACHMENTS];
};

static void seal_state_free(struct seal_state *ss)
{
	for (int i = 0; i < BATON_SEC_COUNT; i++) {
		if (ss->text[i])
			sodium_memzero(ss->text[i], strlen(ss->text[i]));
		free(ss->text[i]);
	}
	json_decref(ss->rec);
}

static int send_fn(store_txn *t, void *arg)
{
	struct send_req *s = arg;
	struct seal_state ss;
	baton_card me, peer;
	baton_body body;
	char *js = NULL;
	size_t jlen;
	json_error_t jerr;
	int r;

	memset(&ss, 0, sizeof(ss));
	memset(&body, 0, sizeof(body));
	s->refused = 0;
	/* store_write may run this again after growing the map: start the file over. */
	if (ftruncate(s->fd, 0) != 0 || lseek(s->fd, 0, SEEK_SET) != 0)
		return diag_err(BATON_EIO, "cannot rewind the packet file");
	if ((r = own_card(t, &me)) != 0 || (r = peer_card(t, s->to_code, &peer)) != 0)
		return r;

	memset(&s->q, 0, sizeof(s->q));
	s->q.consent = s->consent;
	s->q.consent_len = s->consent_len;
	s->q.my_id_pk = me.id_pk;
	s->q.to_pk = peer.id_pk;
	s->q.sections = s->sections;
	s->q.now = s->now;
	s->q.skew = s->skew;
	r = consent_check(t, &s->q);
	if (r == BATON_EIO || r == BATON_ENOMEM || r == BATON_EINTERNAL || r < -900)
		return r;
	if (r != 0)
		return refuse(t, s, r);
	if (strcmp(s->q.c.student, s->student) != 0)
		return refuse(t, s,
		              diag_err(BATON_ECONSENT, "the consent is for student %s, not %s",
		                       s->q.c.student, s->student));

	if ((r = store_record_get(t, s->student, 0, &js, &jlen)) != 0)
		return r == 1 ? diag_err(BATON_ENOSTUDENT, "no student \"%s\"", s->student) : r;
	ss.rec = json_loadb(js, jlen, 0, &jerr);
	sodium_memzero(js, jlen);
	free(js);
	if (ss.rec == NULL)
		return diag_err(BATON_EIO, "stored record of %s does not parse", s->student);

	snprintf(body.student, sizeof(body.student), "%s", s->student);
	const char *state = json_string_value(json_object_get(ss.rec, "state_student_id"));
	if (state)
		snprintf(body.state_id, sizeof(body.state_id), "%s", state);
	for (int i = 0; i < BATON_SEC_COUNT; i++) {
		json_t *v = json_object_get(ss.rec, baton_section_name((baton_section)i));
		if (v == NULL || !(s->q.release & BATON_SEC_BIT(i)))
			continue;
		if ((ss.text[i] = record_canonical(v)) == NULL) {
			r = BATON_ENOMEM;
			goto out;
		}
		body.section[i] = (const uint8_t *)ss.text[i];
		body.section_len[i] = strlen(ss.text[i]);
	}
	/* Attachments travel only with their section. */
	size_t i;
	json_t *a;
	json_array_foreach(json_object_get(ss.rec, "attachments"), i, a)
	{
		int sec = baton_section_lookup(json_string_value(json_object_get(a, "section")),
		                               json_string_length(json_object_get(a, "section")));
		if (sec < 0 || body.section[sec] == NULL)
			continue;
		if (body.n_attachments == BATON_MAX_ATTACHMENTS) {
			r = diag_err(BATON_EVALUE, "more than %d attachments",
			             BATON_MAX_ATTACHMENTS);
			goto out;
		}
		baton_attachment *at = &ss.atts[body.n_attachments];
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
		    (r = store_blob_get(t, at->hash, &data, &dlen)) != 0) {
			r = diag_err(BATON_EIO, "attachment %s: bytes missing from the store",
			             at->name);
			goto out;
		}
		at->size = dlen;
		ss.rd[body.n_attachments] = (struct mem_reader){data, 0, dlen};
		ss.readers[body.n_attachments] =
		    (baton_att_reader){mem_read, &ss.rd[body.n_attachments]};
		body.n_attachments++;
	}
	body.attachments = ss.atts;
	body.consent = s->consent;
	body.consent_len = s->consent_len;
	if ((r = store_guardian_each(t, s->student, add_guardian, &body)) != 0)
		goto out;

	baton_seal_params p = {
	    BATON_KIND_TRANSFER,     s->now,     s->now + PACKET_DAYS * UINT64_C(86400),
	    baton_key_id_sk(s->key), peer.id_pk, peer.enc_pk};
	if ((r = baton_packet_seal(&p, &body, ss.readers, baton_write_fd, &s->fd, &s->info)) != 0)
		goto out;

	/* The disclosure is recorded in the same transaction: no record leaves unaudited. */
	store_audit e;
	memset(&e, 0, sizeof(e));
	snprintf(e.action, sizeof(e.action), "disclosure");
	snprintf(e.student, sizeof(e.student), "%s", s->student);
	snprintf(e.peer, sizeof(e.peer), "%s", s->to_code);
	memcpy(e.consent, s->q.c.id, BATON_ID_BYTES);
	e.has_consent = 1;
	memcpy(e.packet, s->info.id, BATON_ID_BYTES);
	e.has_packet = 1;
	e.sections = s->q.release;
	snprintf(e.detail, sizeof(e.detail), "to %.100s: %.140s", peer.name, s->q.c.purpose);
	if ((r = store_audit_append(t, &e)) != 0)
		goto out;
	store_outbox ob;
	memset(&ob, 0, sizeof(ob));
	memcpy(ob.packet, s->info.id, BATON_ID_BYTES);
	memcpy(ob.hash, s->info.hash, BATON_HASH_BYTES);
	snprintf(ob.to, sizeof(ob.to), "%s", s->to_code);
	snprintf(ob.student, sizeof(ob.student), "%s", s->student);
	ob.created = p.created;
	ob.expires = p.expires;
	if (s->queue_dir) {
		char hex[2 * BATON_ID_BYTES + 1];
		sodium_bin2hex(hex, sizeof(hex), s->info.id, BATON_ID_BYTES);
		snprintf(s->queued, sizeof(s->queued), "%s/%s.baton", s->queue_dir, hex);
		if (strlen(s->queued) >= sizeof(ob.file)) {
			r = diag_err(BATON_EINVAL, "%s: path too long for the outbox", s->queued);
			goto out;
		}
		memcpy(ob.file, s->queued, strlen(s->queued) + 1); /* length checked above */
		ob.state = OUT_QUEUED;
		ob.next_try = p.created;
	} else {
		snprintf(ob.file, sizeof(ob.file), "%s", s->file ? s->file : "");
		ob.state = OUT_SENT;
	}
	r = store_outbox_put(t, &ob);
out:
	seal_state_free(&ss);
	return r;
}

int transfer_send(store *st, struct send_req *s)
{
	int r = store_write(st, send_fn, s);
	if (r == 0 && fsync(s->fd) != 0)
		r = diag_err(BATON_EIO, "cannot sync the packet file");
	return r;
}

/* ---- receive ---- */

static int reason_of(int err)
{
	switch (err) {
	case BATON_EWRONGRCPT:
		return BATON_REASON_WRONG_RECIPIENT;
	case BATON_EBADSIG:
		return BATON_REASON_BAD_SIGNATURE;
	case BATON_EEXPIRED:
		return BATON_REASON_EXPIRED;
	case BATON_ENOTYET:
		return BATON_REASON_NOT_YET_VALID;
	case BATON_EDECRYPT:
	case BATON_EBADKEY:
	case BATON_EHASH:
		return BATON_REASON_DECRYPT;
	case BATON_ECONSENT:
		return BATON_REASON_CONSENT_INVALID;
	case BATON_EIO:
	case BATON_ENOMEM:
	case BATON_EINTERNAL:
		return BATON_REASON_STORAGE;
	default:
		return BATON_REASON_MALFORMED;
	}
}

struct find_peer {
	const uint8_t *pk;
	char code[BATON_CODE_MAX + 1];
};

static int find_peer_cb(const char *code, const uint8_t *card, size_t len, void *arg)
{
	struct find_peer *f = arg;
	baton_card c;
	if (baton_card_parse(card, len, &c) == 0 &&
	    sodium_memcmp(c.id_pk, f->pk, BATON_PK_BYTES) == 0)
		snprintf(f->code, sizeof(f->code), "%s", code);
	return 0;
}

struct lookup_ctx {
	struct find_peer fp;
	const uint8_t *packet;
	store_inbox seen;
	int have;
};

static int lookup_fn(store_txn *t, void *arg)
{
	struct lookup_ctx *l = arg;
	int r;
	if ((r = store_peer_each(t, find_peer_cb, &l->fp)) != 0)
		return r;
	if ((r = store_inbox_get(t, l->packet, &l->seen)) < 0)
		return r;
	l->have = r == 0;
	return 0;
}

struct recv_ctx {
	struct recv_req *q;
	baton_opened *o;
	int content_err; /* a fault of the packet, not of the store */
};

struct blob_writer {
	uint8_t *dst;
	size_t off, cap;
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
	return 0;
}

static int sign_receipt(const struct recv_req *q, int reason, uint64_t now, uint8_t **out,
                        size_t *len)
{
	baton_receipt rc;
	memset(&rc, 0, sizeof(rc));
	memcpy(rc.packet_id, q->packet, BATON_ID_BYTES);
	memcpy(rc.packet_hash, q->hash, BATON_HASH_BYTES);
	memcpy(rc.receiver, baton_key_id_pk(q->key), BATON_PK_BYTES);
	rc.reason = reason;
	rc.time = now;
	return baton_receipt_sign(&rc, baton_key_id_sk(q->key), out, len);
}

/* Picks the local id: the same statewide id, else the sender's id, else code-prefixed. */
static int local_id(store_txn *t, const baton_body *b, const char *from, char *id, size_t cap,
                    int *existing)
{
	store_student s;
	int r;
	*existing = 0;
	if (b->state_id[0] && (r = store_student_by_state_id(t, b->state_id, id, cap)) <= 0) {
		*existing = r == 0;
		if (r < 0)
			return r;
		if (*existing)
			return 0;
	}
	if ((r = store_student_get(t, b->student, &s)) < 0)
		return r;
	if (r == 1) {
		snprintf(id, cap, "%s", b->student);
		return 0;
	}
	/* "LHS-001-S-1001"; a long id is cut, and a clash is then flagged for review below. */
	int keep = (int)cap - 2 - (int)strlen(from);
	snprintf(id, cap, "%s-%.*s", from, keep > 0 ? keep : 0, b->student);
	if ((r = store_student_get(t, id, &s)) < 0)
		return r;
	*existing = r == 0;
	return 0;
}

static int import_fn(store_txn *t, void *arg)
{
	struct recv_ctx *c = arg;
	struct recv_req *q = c->q;
	const baton_body *b = baton_opened_body(c->o);
	json_t *rec = json_object(), *atts = json_array();
	char *canon = NULL, hex[65];
	int r = 0, existing;

	c->content_err = 0;
	q->review = 0;
	/* Every section must be a valid section of the record format. */
	for (int i = 0; i < BATON_SEC_COUNT && r == 0; i++) {
		json_error_t err;
		json_t *v;
		if (b->section[i] == NULL)
			continue;
		v = json_loadb((const char *)b->section[i], b->section_len[i],
		               JSON_REJECT_DUPLICATES, &err);
		if (v == NULL) {
			r = diag_err(BATON_EVALUE, "section %s: %s",
			             baton_section_name((baton_section)i), err.text);
		} else if ((r = record_validate_section(baton_section_name((baton_section)i), v)) ==
		           0) {
			json_object_set_new(rec, baton_section_name((baton_section)i), v);
			continue;
		}
		json_decref(v);
		c->content_err = BATON_REASON_RECORD_INVALID;
	}
	if (r != 0)
		goto out;
	/* Attachments stream straight into the store; a bad one aborts everything. */
	for (size_t i = 0; i < b->n_attachments; i++) {
		const baton_attachment *a = &b->attachments[i];
		struct blob_writer w = {NULL, 0, (size_t)a->size};
		if (a->size > SIZE_MAX ||
		    (r = store_blob_reserve(t, a->hash, (size_t)a->size, &w.dst)) < 0)
			goto out;
		if ((r = baton_opened_attachment(c->o, i, blob_write, &w)) != 0) {
			c->content_err = BATON_REASON_DECRYPT;
			goto out;
		}
		sodium_bin2hex(hex, sizeof(hex), a->hash, 32);
		json_array_append_new(atts, json_pack("{s:s, s:s, s:s, s:s, s:I}", "hash", hex,
		                                      "media_type", a->media_type, "name", a->name,
		                                      "section", baton_section_name(a->section),
		                                      "size", (json_int_t)a->size));
	}
	if (b->n_attachments)
		json_object_set(rec, "attachments", atts);
	if (!record_id_safe(b->student)) {
		c->content_err = BATON_REASON_RECORD_INVALID;
		r = diag_err(BATON_EVALUE, "student id \"%s\" cannot name a file here", b->student);
		goto out;
	}
	if ((r = local_id(t, b, q->from, q->student, sizeof(q->student), &existing)) != 0)
		goto out;
	json_object_set_new(rec, "student_id", json_string(q->student));
	if (b->state_id[0])
		json_object_set_new(rec, "state_student_id", json_string(b->state_id));
	store_student s;
	memset(&s, 0, sizeof(s));
	snprintf(s.id, sizeof(s.id), "%s", q->student);
	record_index(rec, &s);
	if ((canon = record_canonical(rec)) == NULL) {
		r = BATON_ENOMEM;
		goto out;
	}
	if ((r = store_student_put(t, &s, canon, strlen(canon))) != 0)
		goto out;
	q->version = s.version;
	q->review = existing;

	/* The receipt goes into the inbox entry, which is also the replay guard. */
	free(q->receipt);
	q->receipt = NULL;
	if ((r = sign_receipt(q, BATON_REASON_ACCEPTED, t->now, &q->receipt, &q->receipt_len)) != 0)
		goto out;
	store_inbox in = {{0}, {0}, {0}, BATON_REASON_ACCEPTED, t->now, q->receipt, q->receipt_len};
	memcpy(in.packet, q->packet, BATON_ID_BYTES);
	snprintf(in.from, sizeof(in.from), "%s", q->from);
	snprintf(in.student, sizeof(in.student), "%s", q->student);
	if ((r = store_inbox_put(t, &in)) != 0)
		goto out;
	store_audit e;
	memset(&e, 0, sizeof(e));
	snprintf(e.action, sizeof(e.action), "received");
	snprintf(e.student, sizeof(e.student), "%s", q->student);
	snprintf(e.peer, sizeof(e.peer), "%s", q->from);
	memcpy(e.consent, baton_opened_consent(c->o)->id, BATON_ID_BYTES);
	e.has_consent = 1;
	memcpy(e.packet, q->packet, BATON_ID_BYTES);
	e.has_packet = 1;
	for (int i = 0; i < BATON_SEC_COUNT; i++)
		if (b->section[i])
			e.sections |= BATON_SEC_BIT(i);
	snprintf(e.detail, sizeof(e.detail), "version %u%s", s.version,
	         existing ? ", a new version of an existing student: review it" : "");
	r = store_audit_append(t, &e);
out:
	json_decref(rec);
	json_decref(atts);
	if (canon) {
		sodium_memzero(canon, strlen(canon));
		free(canon);
	}
	return r;
}

struct reject_ctx {
	struct recv_req *q;
};

static int reject_fn(store_txn *t, void *arg)
{
	struct reject_ctx *x = arg;
	store_audit e;
	char why[200];
	memset(&e, 0, sizeof(e));
	snprintf(why, sizeof(why), "%s", baton_diag());
	snprintf(e.action, sizeof(e.action), "rejected");
	snprintf(e.peer, sizeof(e.peer), "%s", x->q->from);
	memcpy(e.packet, x->q->packet, BATON_ID_BYTES);
	e.has_packet = 1;
	snprintf(e.detail, sizeof(e.detail), "%s: %s", baton_reason_name(x->q->reason), why);
	return store_audit_append(t, &e);
}

int transfer_receive(store *st, struct recv_req *q)
{
	baton_header h;
	struct lookup_ctx l;
	struct recv_ctx c = {q, NULL, 0};
	int r, err;

	q->receipt = NULL;
	q->receipt_len = 0;
	q->replay = 0;
	q->from[0] = q->student[0] = 0;
	memset(q->packet, 0, sizeof(q->packet));
	if ((err = baton_packet_peek(q->src, &h)) != 0) {
		q->reason = BATON_REASON_MALFORMED;
		goto reject;
	}
	memcpy(q->packet, h.id, BATON_ID_BYTES);
	if ((r = baton_packet_hash(q->src, q->hash)) != 0)
		return r;
	memset(&l, 0, sizeof(l));
	l.fp.pk = h.sender;
	l.packet = h.id;
	if ((r = store_read(st, lookup_fn, &l)) != 0)
		return r;
	if (l.fp.code[0] == 0) {
		q->reason = BATON_REASON_UNKNOWN_SENDER;
		err = diag_err(BATON_EBADKEY, "the sender's key is not a pinned school's");
		goto reject;
	}
	snprintf(q->from, sizeof(q->from), "%s", l.fp.code);
	if (l.have) {
		baton_receipt prior;
		/* The same id with other bytes is not a replay: verify it like any packet. */
		if (baton_receipt_parse(l.seen.receipt, l.seen.receipt_len, &prior) != 0 ||
		    sodium_memcmp(prior.packet_hash, q->hash, BATON_HASH_BYTES) != 0) {
			free(l.seen.receipt);
			l.have = 0;
		}
	}
	if (l.have) {
		/* Seen before: the same receipt, and nothing imported twice. */
		q->replay = 1;
		q->reason = l.seen.reason;
		snprintf(q->student, sizeof(q->student), "%s", l.seen.student);
		q->receipt = l.seen.receipt;
		q->receipt_len = l.seen.receipt_len;
		return 0;
	}
	baton_open_params op = {baton_key_id_pk(q->key), baton_key_enc_sk(q->key),
	                        baton_key_enc_pk(q->key), q->now, q->skew};
	if ((err = baton_packet_open(q->src, &op, &c.o)) != 0) {
		q->reason = reason_of(err);
		goto reject;
	}
	if (l.fp.code[0] && store_read(st, lookup_fn, &l) == 0 && l.have) {
		/* A valid packet reusing an accepted packet's id: only its sender could make it. */
		free(l.seen.receipt);
		baton_opened_free(c.o);
		q->reason = BATON_REASON_MALFORMED;
		err = diag_err(BATON_EVALUE, "packet id already used by another packet from %s",
		               q->from);
		goto reject;
	}
	r = store_write(st, import_fn, &c);
	baton_opened_free(c.o);
	if (r == 0) {
		q->reason = BATON_REASON_ACCEPTED;
		return 0;
	}
	free(q->receipt);
	q->receipt = NULL;
	err = r;
	q->reason = c.content_err ? c.content_err : BATON_REASON_STORAGE;
reject:
	/*
	 * Rejections are audited but not put in the inbox: a forged packet must not
	 * be able to claim a packet id and spoil the genuine one.
	 */
	char why[400];
	snprintf(why, sizeof(why), "%s", baton_diag());
	struct reject_ctx x = {q};
	if ((r = store_write(st, reject_fn, &x)) != 0)
		return r;
	if (q->from[0] &&
	    (r = sign_receipt(q, q->reason, q->now, &q->receipt, &q->receipt_len)) != 0)
		return r;
	/* Signing cleared the diagnostic: the caller reports why the packet was refused. */
	diag_set("%s", why);
	return q->reason == BATON_REASON_STORAGE ? err : 0;
}

/* ---- receipts at the sender ---- */

struct receipt_ctx {
	const uint8_t *bytes;
	size_t len;
	baton_receipt *rc;
	store_outbox *ob;
};

static int receipt_fn(store_txn *t, void *arg)
{
	struct receipt_ctx *x = arg;
	baton_card peer;
	store_audit e;
	int r;

	if ((r = store_outbox_get(t, x->rc->packet_id, x->ob)) != 0) {
		char hex[2 * BATON_ID_BYTES + 1];
		sodium_bin2hex(hex, sizeof(hex), x->rc->packet_id, BATON_ID_BYTES);
		return r == 1 ? diag_err(BATON_EVALUE, "no packet %s was sent from here", hex) : r;
	}
	if ((r = peer_card(t, x->ob->to, &peer)) != 0)
		return r;
	if (sodium_memcmp(peer.id_pk, x->rc->receiver, BATON_PK_BYTES) != 0)
		return diag_err(BATON_EBADKEY,
		                "the receipt is not signed by %s, where the packet "
		                "went",
		                x->ob->to);
	if (sodium_memcmp(x->rc->packet_hash, x->ob->hash, BATON_HASH_BYTES) != 0)
		return diag_err(BATON_EHASH, "the receipt names another packet hash than the one "
		                             "sent");
	if (x->ob->state == OUT_RECEIPTED)
		return 0; /* the same acceptance again: nothing changes */
	x->ob->reason = x->rc->reason;
	x->ob->state = x->rc->reason == BATON_REASON_ACCEPTED  ? OUT_RECEIPTED
	               : baton_reason_retryable(x->rc->reason) ? OUT_QUEUED
	                                                       : OUT_REJECTED;
	snprintf(x->ob->last_error, sizeof(x->ob->last_error), "%s",
	         x->rc->reason ? baton_reason_name(x->rc->reason) : "");
	if ((r = store_outbox_put(t, x->ob)) != 0)
		return r;
	memset(&e, 0, sizeof(e));
	snprintf(e.action, sizeof(e.action), "receipt");
	snprintf(e.student, sizeof(e.student), "%s", x->ob->student);
	snprintf(e.peer, sizeof(e.peer), "%s", x->ob->to);
	memcpy(e.packet, x->rc->packet_id, BATON_ID_BYTES);
	e.has_packet = 1;
	snprintf(e.detail, sizeof(e.detail), "%s", baton_reason_name(x->rc->reason));
	return store_audit_append(t, &e);
}

int transfer_receipt(store *st, const uint8_t *bytes, size_t len, baton_receipt *rc,
                     store_outbox *ob)
{
	int r;
	if ((r = baton_receipt_parse(bytes, len, rc)) != 0)
		return r;
	struct receipt_ctx x = {bytes, len, rc, ob};
	return store_write(st, receipt_fn, &x);
}
