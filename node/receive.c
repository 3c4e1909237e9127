/*
 * Receiving a packet: its header checked against the store (addressed
 * here, from a pinned school, not a replay), opened, and either filed
 * (import.c) or refused, in one transaction per packet or one for many.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "bti.h"
#include "par.h"
#include "transfer_impl.h"

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

struct lookup_ctx {
	struct find_peer fp;
	const uint8_t *packet;
	store_inbox seen;
	int have;
	const uint8_t *from, *to; /* the releasing and receiving schools' keys */
	struct former_set *former;
};

static int lookup_fn(store_txn *t, void *arg)
{
	struct lookup_ctx *l = arg;
	int r;
	/* The sender is whom this node trusts with that key, pinned or through a directory. */
	if ((r = store_trusted_code(t, l->fp.pk, l->fp.code)) < 0 && r != BATON_ENOTFOUND)
		return r;
	if ((r = store_inbox_get(t, l->packet, &l->seen)) < 0 && r != BATON_ENOTFOUND)
		return r;
	l->have = r == 0;
	/* A consent may name either school by a key it has rotated from since. */
	if (l->former && (r = consent_former_read(t, l->from, l->to, l->former)) != 0) {
		if (l->have)
			free(l->seen.receipt);
		l->have = 0;
		return r;
	}
	return 0;
}

struct reject_ctx {
	struct recv_req *q;
	const char *why;
};

/*
 * A refusal of a pinned school's packet that no later moment can change is
 * kept in the inbox with its receipt, so that the same bytes sent again (by
 * anyone who saw them on the way) get that receipt and no second audit
 * entry. Never over an entry already there: that id belongs to it.
 */
static int reject_keep(store_txn *t, const struct recv_req *q)
{
	store_inbox in;
	int r;
	if (q->receipt == NULL || q->reason == BATON_REASON_STORAGE ||
	    q->reason == BATON_REASON_NOT_YET_VALID)
		return 0;
	if ((r = store_inbox_get(t, q->packet, &in)) != BATON_ENOTFOUND) {
		if (r == 0)
			free(in.receipt);
		return r;
	}
	memset(&in, 0, sizeof(in));
	memcpy(in.packet, q->packet, BATON_ID_BYTES);
	snprintf(in.from, sizeof(in.from), "%s", q->from);
	in.reason = q->reason;
	in.time = t->now;
	in.receipt = q->receipt;
	in.receipt_len = q->receipt_len;
	return store_inbox_put(t, &in);
}

static int reject_fn(store_txn *t, void *arg)
{
	struct reject_ctx *x = arg;
	store_audit e;
	int r;
	memset(&e, 0, sizeof(e));
	snprintf(e.action, sizeof(e.action), "rejected");
	snprintf(e.peer, sizeof(e.peer), "%s", x->q->from);
	memcpy(e.packet, x->q->packet, BATON_ID_BYTES);
	e.has_packet = 1;
	snprintf(e.detail, sizeof(e.detail), "%s: %.200s", baton_reason_name(x->q->reason), x->why);
	if ((r = store_audit_append(t, &e)) != 0 ||
	    (r = xfer_own_head(t, x->q->key_retired ? NULL : x->q->key, x->q->head,
	                       &x->q->head_len)) != 0)
		return r;
	/* Signed inside the transaction, over the head that covers this refusal, and kept. */
	free(x->q->receipt);
	x->q->receipt = NULL;
	if (x->q->from[0] && (r = xfer_sign_receipt(x->q, x->q->reason, x->q->now, x->why,
	                                            &x->q->receipt, &x->q->receipt_len)) != 0)
		return r;
	return reject_keep(t, x->q);
}

/* The reply to a packet seen before: its receipt, and nothing imported twice. */
static void set_replay(struct recv_req *q, store_inbox *seen)
{
	q->replay = 1;
	q->reason = seen->reason;
	snprintf(q->student, sizeof(q->student), "%s", seen->student);
	free(q->receipt);
	q->receipt = seen->receipt;
	q->receipt_len = seen->receipt_len;
	seen->receipt = NULL;
	if (q->reason != BATON_REASON_ACCEPTED) {
		baton_receipt prior;
		if (baton_receipt_parse(q->receipt, q->receipt_len, &prior) == 0)
			bti_diag_set("answered before: %s%s%s", baton_reason_name(q->reason),
			             prior.note[0] ? ": " : "", prior.note);
	}
}

/* Whether an inbox entry is this very packet (the same bytes), not just the same id. */
static int same_packet(const store_inbox *seen, const uint8_t hash[BATON_HASH_BYTES])
{
	baton_receipt prior;
	return baton_receipt_parse(seen->receipt, seen->receipt_len, &prior) == 0 &&
	       sodium_memcmp(prior.packet_hash, hash, BATON_HASH_BYTES) == 0;
}

/*
 * The refusal of a packet its pinned sender signed: audited, and answered
 * with a signed receipt. Only such a packet reaches here, so what reject_keep
 * puts in the inbox cannot claim the id of another school's packet.
 */
static int reject(store *st, struct recv_req *q, int err)
{
	char why[400];
	int r;
	free(q->receipt);
	q->receipt = NULL;
	snprintf(why, sizeof(why), "%s",
	         baton_diag_for(err)[0] ? baton_diag_for(err) : baton_strerror(err));
	/* The receipt is returned only once the refusal committed. */
	struct reject_ctx x = {q, why};
	if ((r = store_write(st, reject_fn, &x)) != 0) {
		free(q->receipt);
		q->receipt = NULL;
		q->receipt_len = 0;
		return r;
	}
	/* Signing cleared the diagnostic: the caller reports why the packet was refused. */
	bti_diag_set("%s", why);
	return q->reason == BATON_REASON_STORAGE ? err : 0;
}

/*
 * Input that no pinned school is known to have made is refused with nothing
 * written: anyone who can reach the node could otherwise fill the audit log,
 * the record of disclosures, and name a pinned school in it; nor does such
 * input get a signed answer. The caller counts it and logs at a bounded rate.
 */
static int refuse_unverified(struct recv_req *q, int err)
{
	char why[400];
	q->unverified = 1;
	q->from[0] = 0;
	free(q->receipt);
	q->receipt = NULL;
	q->receipt_len = 0;
	snprintf(why, sizeof(why), "%s",
	         baton_diag_for(err)[0] ? baton_diag_for(err) : baton_strerror(err));
	bti_diag_set("%s", why);
	return q->reason == BATON_REASON_STORAGE ? err : 0;
}

/*
 * What a packet's header says, against the store: addressed here, from a
 * pinned school, not a replay. Sets c->to_open when the packet should be
 * opened.
 */
static int recv_check(store *st, struct recv_ctx *c)
{
	struct recv_req *q = c->q;
	baton_header h;
	struct lookup_ctx l;
	int r, err;

	c->o = NULL;
	c->content_err = 0;
	c->dup = 0;
	c->to_open = 0;
	c->open_err = 0;
	q->receipt = NULL;
	q->receipt_len = 0;
	q->replay = 0;
	q->unverified = 0;
	q->from[0] = q->claims[0] = q->student[0] = 0;
	memset(q->packet, 0, sizeof(q->packet));
	if ((err = baton_packet_peek(q->src, &h)) != 0) {
		q->reason = err == BATON_ENOMEM || err == BATON_EIO ? BATON_REASON_STORAGE
		                                                    : BATON_REASON_MALFORMED;
		return refuse_unverified(q, err);
	}
	memcpy(q->packet, h.id, BATON_ID_BYTES);
	q->kind = h.kind;
	if ((r = baton_packet_hash(q->src, q->hash)) != 0)
		return r;
	memset(&l, 0, sizeof(l));
	l.fp.pk = h.sender;
	l.packet = h.id;
	l.from = h.kind == BATON_KIND_TRANSFER ? h.sender : h.recipient;
	l.to = h.kind == BATON_KIND_TRANSFER ? h.recipient : h.sender;
	l.former = &c->former;
	if ((r = store_read(st, lookup_fn, &l)) != 0)
		return r;
	if (l.fp.code[0] == 0) {
		q->reason = BATON_REASON_UNKNOWN_SENDER;
		return refuse_unverified(
		    q, bti_diag_err(BATON_EBADKEY, "the sender's key is not a pinned school's"));
	}
	/* Only a claim until the signature verifies. */
	snprintf(q->claims, sizeof(q->claims), "%s", l.fp.code);
	if (l.have && same_packet(&l.seen, q->hash)) {
		/* The very bytes of a packet verified before. */
		snprintf(q->from, sizeof(q->from), "%s", l.fp.code);
		set_replay(q, &l.seen);
		return 0;
	}
	/* The same id with other bytes is not a replay: it is verified like any packet. */
	if (l.have)
		free(l.seen.receipt);
	c->to_open = 1;
	return 0;
}

/* The cryptography of one packet, which touches no store: safe on any thread. */
static void recv_decrypt(struct recv_ctx *c)
{
	const struct recv_req *q = c->q;
	baton_open_params op = {baton_key_id_pk(q->key), baton_key_enc_sk(q->key),
	                        baton_key_enc_pk(q->key), q->now, q->skew};
	if ((c->open_err = baton_packet_open_former(q->src, &op, former_of(&c->former), &c->o)) !=
	    0)
		snprintf(c->why, sizeof(c->why), "%s", baton_diag_for(c->open_err));
}

/*
 * Whether a packet that did not open is signed by the pinned school it
 * names. A packet for another school counts as not: the recipient is
 * checked before the signature, and anyone holding such a packet can send
 * it here.
 */
static int signed_by_sender(const struct recv_ctx *c)
{
	baton_header h;
	if (c->open_err == BATON_EBADSIG || c->open_err == BATON_EWRONGRCPT)
		return 0;
	return baton_packet_verify(c->q->src, &h) == 0;
}

/*
 * Back on the store's thread: a packet that did not open is rejected, with
 * an audit entry and a signed receipt only when its sender signed it.
 */
static int recv_opened(store *st, struct recv_ctx *c)
{
	struct recv_req *q = c->q;
	if (!c->to_open)
		return 0;
	if (c->open_err == 0 || signed_by_sender(c))
		snprintf(q->from, sizeof(q->from), "%s", q->claims);
	if (c->open_err == 0)
		return 0;
	q->reason = reason_of(c->open_err);
	bti_diag_set("%s", c->why);
	return q->from[0] ? reject(st, q, c->open_err) : refuse_unverified(q, c->open_err);
}

/* recv_check, recv_decrypt and recv_opened on this thread: one packet. */
static int recv_open(store *st, struct recv_ctx *c)
{
	int r = recv_check(st, c);
	if (r == 0 && c->to_open)
		recv_decrypt(c);
	return r ? r : recv_opened(st, c);
}

/* In the write transaction: the replay guard again (another process may have imported it), then the
 * import. */
static int accept_fn(store_txn *t, void *arg)
{
	struct recv_ctx *c = arg;
	store_inbox seen;
	int r = store_inbox_get(t, c->q->packet, &seen);
	c->dup = 0;
	c->content_err = 0;
	if (r < 0 && r != BATON_ENOTFOUND)
		return r;
	if (r == 0) {
		int same = same_packet(&seen, c->q->hash);
		free(seen.receipt);
		if (same) {
			c->dup = 1;
			return 0;
		}
		/* A valid packet reusing an accepted packet's id: only its sender could make it. */
		c->content_err = BATON_REASON_MALFORMED;
		return bti_diag_err(BATON_EVALUE,
		                    "packet id already used by another packet from %s", c->q->from);
	}
	if (c->q->kind == BATON_KIND_REQUEST)
		return xfer_hold_request(t, c);
	return (r = xfer_recv_rules(t, c)) != 0 ? r : xfer_import(t, c);
}

/* After the import's transaction: the reply, or the rejection. */
static int recv_done(store *st, struct recv_ctx *c, int r)
{
	struct recv_req *q = c->q;
	baton_opened_free(c->o);
	c->o = NULL;
	if (r == 0 && c->dup) {
		static const uint8_t nobody[BATON_PK_BYTES];
		struct lookup_ctx l;
		memset(&l, 0, sizeof(l));
		l.fp.pk = nobody;
		l.packet = q->packet;
		if ((r = store_read(st, lookup_fn, &l)) != 0)
			return r;
		if (!l.have)
			return bti_diag_err(BATON_EINTERNAL, "the inbox entry went away");
		set_replay(q, &l.seen);
		return 0;
	}
	if (r == 0) {
		q->reason = BATON_REASON_ACCEPTED;
		return 0;
	}
	q->reason = c->content_err ? c->content_err : BATON_REASON_STORAGE;
	return reject(st, q, r);
}

int transfer_receive(store *st, struct recv_req *q)
{
	struct recv_ctx c;
	memset(&c, 0, sizeof(c));
	c.q = q;
	int r = recv_open(st, &c);
	if (r != 0 || c.o == NULL)
		return r;
	return recv_done(st, &c, store_write(st, accept_fn, &c));
}

struct many_ctx {
	struct recv_ctx *c;
	size_t n;
};

static int many_fn(store_txn *t, void *arg)
{
	struct many_ctx *m = arg;
	int r;
	for (size_t i = 0; i < m->n; i++)
		m->c[i].receipt_due = 0;
	for (size_t i = 0; i < m->n; i++)
		if (m->c[i].o && (r = accept_fn(t, &m->c[i])) != 0)
			return r;
	/* Every receipt over one head, which covers the whole batch, before the commit. */
	if ((r = xfer_receipts_due(t, m->c, m->n)) != 0)
		return r;
	xfer_test_pause("batch"); /* all of it imported and receipted, nothing committed */
	return 0;
}

/*
 * Whether the ready packets' ids differ: only then are their receipts signed
 * at the end of the batch, since until then a packet's inbox entry, the
 * replay guard, is not written.
 */
static int ids_differ(const struct recv_ctx *c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n && c[i].o; j++)
			if (c[j].o && memcmp(c[i].q->packet, c[j].q->packet, BATON_ID_BYTES) == 0)
				return 0;
	return 1;
}

static void decrypt_one(size_t i, void *arg)
{
	struct recv_ctx *c = (struct recv_ctx *)arg + i;
	if (c->to_open)
		recv_decrypt(c);
}

int transfer_receive_many(store *st, struct recv_req *q, size_t n, int *errs)
{
	struct recv_ctx *c = calloc(n ? n : 1, sizeof(*c));
	size_t ready = 0;
	int r;

	if (c == NULL)
		return BATON_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		c[i].q = &q[i];
		errs[i] = recv_check(st, &c[i]);
	}
	/* Opening is most of the work, and each packet's own: on every core. */
	par_for(n, decrypt_one, c);
	for (size_t i = 0; i < n; i++) {
		if (errs[i] == 0)
			errs[i] = recv_opened(st, &c[i]);
		ready += c[i].o != NULL;
	}
	/* One transaction, one sync, for every packet ready: a group commit. */
	struct many_ctx m = {c, n};
	int defer = ids_differ(c, n);
	for (size_t i = 0; i < n; i++)
		c[i].defer_receipt = defer;
	r = ready ? store_write(st, many_fn, &m) : 0;
	for (size_t i = 0; i < n; i++) {
		if (c[i].o == NULL)
			continue;
		if (r == 0) {
			errs[i] = recv_done(st, &c[i], 0);
			continue;
		}
		/* One bad packet spoils the batch: each goes again in its own transaction. */
		c[i].defer_receipt = 0;
		c[i].receipt_due = 0;
		errs[i] = recv_done(st, &c[i], store_write(st, accept_fn, &c[i]));
	}
	free(c);
	return 0;
}
