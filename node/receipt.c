/*
 * Receipts: signing the receipt a receiving node gives for a packet, and
 * matching a receipt to the sender's outbox entry.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "bti.h"
#include "terms.h"
#include "transfer_impl.h"

/* Text cut at a size limit ends on a whole UTF-8 character: a receipt's note must be UTF-8. */
static void utf8_trim(char *s)
{
	size_t i = strlen(s), k = 0;
	while (i > 0 && k < 3 && ((unsigned char)s[i - 1] & 0xC0) == 0x80)
		i--, k++;
	if (i == 0)
		return;
	unsigned char lead = (unsigned char)s[i - 1];
	size_t need = lead >= 0xF0 ? 3 : lead >= 0xE0 ? 2 : lead >= 0xC0 ? 1 : 0;
	if (lead >= 0xC0 && k < need)
		s[i - 1] = 0;
}

int xfer_sign_receipt(const struct recv_req *q, int reason, uint64_t now, const char *note,
                      uint8_t **out, size_t *len)
{
	baton_receipt rc;
	memset(&rc, 0, sizeof(rc));
	snprintf(rc.note, sizeof(rc.note), "%s", note ? note : "");
	utf8_trim(rc.note);
	memcpy(rc.packet_id, q->packet, BATON_ID_BYTES);
	memcpy(rc.packet_hash, q->hash, BATON_HASH_BYTES);
	memcpy(rc.receiver, baton_key_id_pk(q->key), BATON_PK_BYTES);
	rc.reason = reason;
	rc.time = now;
	memcpy(rc.audit, q->head, q->head_len);
	rc.audit_len = q->head_len;
	/* Only an acceptance names the terms accepted with the record. */
	if (reason == BATON_REASON_ACCEPTED && q->has_terms) {
		memcpy(rc.terms, q->terms, BATON_HASH_BYTES);
		rc.has_terms = 1;
	}
	return baton_receipt_sign(&rc, baton_key_id_sk(q->key), out, len);
}

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
		return r == BATON_ENOTFOUND
		           ? bti_diag_err(BATON_EVALUE, "no packet %s was sent from here", hex)
		           : r;
	}
	if (x->ob->kind == OUT_REFUSAL)
		return bti_diag_err(BATON_EVALUE,
		                    "packet %s is a request from %s, not sent from here",
		                    xfer_hex_id(x->rc->packet_id), x->ob->to);
	if ((r = xfer_peer_card(t, x->ob->to, &peer)) != 0)
		return r;
	if (sodium_memcmp(peer.id_pk, x->rc->receiver, BATON_PK_BYTES) != 0)
		return bti_diag_err(BATON_EBADKEY,
		                    "the receipt is not signed by %s, where the packet "
		                    "went",
		                    x->ob->to);
	if (sodium_memcmp(x->rc->packet_hash, x->ob->hash, BATON_HASH_BYTES) != 0)
		return bti_diag_err(BATON_EHASH,
		                    "the receipt names another packet hash than the one "
		                    "sent");
	/* A request accepted and held may later be refused by the registrar there. */
	int denial = x->ob->kind == OUT_REQUEST && x->rc->reason == BATON_REASON_DENIED;
	if (x->ob->state == OUT_DENIED || x->ob->state == OUT_ANSWERED ||
	    (x->ob->state == OUT_RECEIPTED && !denial))
		return 0; /* the same answer again: nothing changes */
	/* An acceptance of a transfer must name the terms that were sent, if any. */
	if (x->ob->kind == OUT_TRANSFER && x->rc->reason == BATON_REASON_ACCEPTED &&
	    (r = xfer_terms_receipt(t, x->rc->packet_id, x->rc)) != 0)
		return r;
	x->ob->reason = x->rc->reason;
	x->ob->state = x->rc->reason == BATON_REASON_ACCEPTED  ? OUT_RECEIPTED
	               : denial                                ? OUT_DENIED
	               : baton_reason_retryable(x->rc->reason) ? OUT_QUEUED
	                                                       : OUT_REJECTED;
	if (x->rc->note[0])
		snprintf(x->ob->last_error, sizeof(x->ob->last_error), "%.20s%s%.512s",
		         x->rc->reason ? baton_reason_name(x->rc->reason) : "",
		         x->rc->reason ? ": " : "", x->rc->note);
	else
		snprintf(x->ob->last_error, sizeof(x->ob->last_error), "%s",
		         x->rc->reason ? baton_reason_name(x->rc->reason) : "");
	if ((r = store_outbox_put(t, x->ob)) != 0 ||
	    (x->rc->audit_len &&
	     (r = store_peer_head_put(t, x->ob->to, x->rc->audit, x->rc->audit_len)) != 0))
		return r;
	memset(&e, 0, sizeof(e));
	snprintf(e.action, sizeof(e.action), "%s",
	         x->ob->kind == OUT_REQUEST ? "request-answered" : "receipt");
	if (x->ob->kind != OUT_REQUEST) /* a request names the other school's student */
		snprintf(e.student, sizeof(e.student), "%s", x->ob->student);
	snprintf(e.peer, sizeof(e.peer), "%s", x->ob->to);
	memcpy(e.packet, x->rc->packet_id, BATON_ID_BYTES);
	e.has_packet = 1;
	if (x->ob->kind == OUT_REQUEST)
		snprintf(e.detail, sizeof(e.detail), "student %s: %.180s", x->ob->student,
		         x->ob->last_error);
	else
		snprintf(e.detail, sizeof(e.detail), "%.250s", x->ob->last_error);
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

struct receipts_ctx {
	struct receipt_ctx *x;
	int *errs;
	char (*why)[TRANSFER_WHY];
	size_t n;
};

static int receipts_fn(store_txn *t, void *arg)
{
	struct receipts_ctx *m = arg;
	for (size_t i = 0; i < m->n; i++) {
		if (m->x[i].rc == NULL)
			continue;
		int r = receipt_fn(t, &m->x[i]);
		/* A receipt that does not match is refused before anything is written. */
		if (r == BATON_EIO || r == BATON_ENOMEM || r == BATON_EINTERNAL || r < -900)
			return r;
		if ((m->errs[i] = r) != 0)
			snprintf(m->why[i], TRANSFER_WHY, "%s", baton_diag_for(r));
	}
	return 0;
}

int transfer_receipts(store *st, const uint8_t *const *bytes, const size_t *len, size_t n,
                      baton_receipt *rc, store_outbox *ob, int *errs, char (*why)[TRANSFER_WHY])
{
	struct receipt_ctx *x = calloc(n ? n : 1, sizeof(*x));
	int r;
	if (x == NULL)
		return BATON_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		why[i][0] = 0;
		errs[i] = bytes[i] ? baton_receipt_parse(bytes[i], len[i], &rc[i])
		                   : bti_diag_err(BATON_EVALUE, "no receipt");
		if (errs[i] == 0)
			x[i] = (struct receipt_ctx){bytes[i], len[i], &rc[i], &ob[i]};
		else
			snprintf(why[i], TRANSFER_WHY, "%s", baton_diag_for(errs[i]));
	}
	struct receipts_ctx m = {x, errs, why, n};
	if ((r = store_write(st, receipts_fn, &m)) != 0)
		for (size_t i = 0; i < n; i++) /* one by one, so that one fault names itself */
			if (x[i].rc && (errs[i] = store_write(st, receipt_fn, &x[i])) != 0)
				snprintf(why[i], TRANSFER_WHY, "%s", baton_diag_for(errs[i]));
	free(x);
	return 0;
}
