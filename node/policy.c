/*
 * Answering requests: the node's policy (hold every request for the
 * registrar, or release at once what the rules allow), and a registrar's
 * refusal of a held request.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "bti.h"
#include "transfer_impl.h"

#define POLICY_KEY "policy.auto_release"

struct deny_ctx {
	const baton_key *key;
	const uint8_t *id;
	const char *reason;
	uint64_t now;
	uint8_t *receipt;
	size_t len;
};

/*
 * The refusal of request rq, signed into d->receipt (malloc'd, d's), which
 * replaces the request's receipt in the inbox: the request sent again gets
 * the refusal.
 */
static int deny_sign(store_txn *t, struct deny_ctx *d, const store_request *rq)
{
	baton_receipt rc;
	store_inbox in;
	int r;

	memset(&rc, 0, sizeof(rc));
	memcpy(rc.packet_id, rq->id, BATON_ID_BYTES);
	memcpy(rc.packet_hash, rq->hash, BATON_HASH_BYTES);
	memcpy(rc.receiver, baton_key_id_pk(d->key), BATON_PK_BYTES);
	rc.reason = BATON_REASON_DENIED;
	rc.time = d->now;
	snprintf(rc.note, sizeof(rc.note), "%s", d->reason);
	if ((r = xfer_own_head(t, d->key, rc.audit, &rc.audit_len)) != 0)
		return r;
	if ((r = baton_receipt_sign(&rc, baton_key_id_sk(d->key), &d->receipt, &d->len)) != 0)
		return r;
	if ((r = store_inbox_get(t, rq->id, &in)) != 0)
		return r == BATON_ENOTFOUND
		           ? bti_diag_err(BATON_EIO, "store: request %s has no inbox entry",
		                          xfer_hex_id(rq->id))
		           : r;
	free(in.receipt);
	in.receipt = d->receipt;
	in.receipt_len = d->len;
	in.reason = BATON_REASON_DENIED;
	return store_inbox_put(t, &in);
}

/* The refusal queued for delivery, and audited. */
static int deny_record(store_txn *t, const struct deny_ctx *d, const store_request *rq)
{
	store_outbox ob;
	store_audit e;
	int r;

	/* Delivered by 'baton serve' like a packet; the bytes are the inbox entry's. */
	memset(&ob, 0, sizeof(ob));
	memcpy(ob.packet, rq->id, BATON_ID_BYTES);
	memcpy(ob.hash, rq->hash, BATON_HASH_BYTES);
	snprintf(ob.to, sizeof(ob.to), "%s", rq->from);
	snprintf(ob.student, sizeof(ob.student), "%s", rq->student);
	ob.kind = OUT_REFUSAL;
	ob.state = OUT_QUEUED;
	ob.created = ob.next_try = d->now;
	ob.expires = d->now + PACKET_DAYS * UINT64_C(86400);
	if ((r = store_outbox_put(t, &ob)) != 0)
		return r;
	memset(&e, 0, sizeof(e));
	snprintf(e.action, sizeof(e.action), "request-denied");
	snprintf(e.student, sizeof(e.student), "%s", rq->student);
	snprintf(e.peer, sizeof(e.peer), "%s", rq->from);
	memcpy(e.packet, rq->id, BATON_ID_BYTES);
	e.has_packet = 1;
	e.sections = rq->want;
	snprintf(e.detail, sizeof(e.detail), "%.250s", d->reason);
	return store_audit_append(t, &e);
}

static int deny_fn(store_txn *t, void *arg)
{
	struct deny_ctx *d = arg;
	store_request *rq = malloc(sizeof(*rq));
	int r;

	free(d->receipt);
	d->receipt = NULL;
	if (rq == NULL)
		return BATON_ENOMEM;
	if ((r = store_request_get(t, d->id, rq)) != 0) {
		r = r == BATON_ENOTFOUND
		        ? bti_diag_err(BATON_ENOTFOUND, "no request %s", xfer_hex_id(d->id))
		        : r;
		goto out;
	}
	if (rq->state != REQ_HELD) {
		r = bti_diag_err(BATON_EVALUE, "request %s was already %s", xfer_hex_id(d->id),
		                 rq->state == REQ_RELEASED ? "released" : "denied");
		goto out;
	}
	if ((r = deny_sign(t, d, rq)) != 0)
		goto out;
	rq->state = REQ_DENIED;
	snprintf(rq->answer, sizeof(rq->answer), "%s", d->reason);
	if ((r = store_request_put(t, rq)) != 0)
		goto out;
	r = deny_record(t, d, rq);
out:
	free(rq);
	return r;
}

int transfer_deny(store *st, const baton_key *key, const uint8_t id[BATON_ID_BYTES],
                  const char *reason, uint64_t now, uint8_t **receipt, size_t *len)
{
	struct deny_ctx d = {key, id, reason, now, NULL, 0};
	int r;
	if (reason[0] == 0 || strlen(reason) > BATON_NOTE_MAX)
		return bti_diag_err(BATON_EVALUE, "the reason must be 1 to %d bytes",
		                    BATON_NOTE_MAX);
	if ((r = store_write(st, deny_fn, &d)) != 0) {
		free(d.receipt);
		return r;
	}
	*receipt = d.receipt;
	*len = d.len;
	return 0;
}

int xfer_policy_read(store_txn *t, int *auto_release)
{
	uint8_t *v = NULL;
	size_t n = 0;
	int r = store_meta_get(t, POLICY_KEY, &v, &n);
	if (r < 0 && r != BATON_ENOTFOUND)
		return r;
	*auto_release = r == 0 && n == 1 && v[0] == 1;
	free(v);
	return 0;
}

static int policy_get_fn(store_txn *t, void *arg)
{
	return xfer_policy_read(t, arg);
}

int transfer_policy_get(store *st, int *auto_release)
{
	return store_read(st, policy_get_fn, auto_release);
}
static int policy_audit(store_txn *t, const char *detail)
{
	store_audit e;
	memset(&e, 0, sizeof(e));
	snprintf(e.action, sizeof(e.action), "policy");
	snprintf(e.detail, sizeof(e.detail), "%s", detail);
	return store_audit_append(t, &e);
}

static int policy_set_fn(store_txn *t, void *arg)
{
	uint8_t v = (uint8_t)(*(int *)arg != 0);
	int r = store_meta_put(t, POLICY_KEY, &v, 1);
	return r ? r
	         : policy_audit(t, v ? "auto-release on: requests covered by a "
	                               "valid consent are released at once"
	                             : "auto-release off: requests wait for the "
	                               "registrar");
}

int transfer_policy_set(store *st, int auto_release)
{
	return store_write(st, policy_set_fn, &auto_release);
}
