/*
 * What the files behind transfer.h share, and nothing else in the node uses:
 * transfer.c (cards, audit heads), send.c (the release and the seal),
 * sendfile.c (packet files and what a killed send left), receive.c (opening
 * a packet), import.c (filing what was received), receipt.c (receipts) and
 * policy.c (answering requests). Every function follows error.h: 0 or a
 * negative BATON_E* code with baton_diag() saying why.
 */
#ifndef BATON_NODE_TRANSFER_IMPL_H
#define BATON_NODE_TRANSFER_IMPL_H

#include <jansson.h>

#include "transfer.h"

#define PACKET_DAYS 14 /* how long a packet, request or refusal stays valid */

/* ---- transfer.c ---- */

/*
 * This node's own card, into *c. A node without one is BATON_EIO; or the
 * store's error.
 */
int xfer_own_card(store_txn *t, baton_card *c);

/*
 * The card of the pinned school code, into *c. A school not pinned is
 * BATON_EVALUE; or the store's error.
 */
int xfer_peer_card(store_txn *t, const char *code, baton_card *c);

/*
 * This school's audit head, signed now by k if the log grew since the last
 * one, copied into buf: it goes out in every packet and receipt, so that
 * the other school holds what this log said (PROTOCOL.md 3.10). *len is 0
 * when the log is empty, or k is NULL (a replaced key, whose heads would
 * outlive it). Returns 0 or the store's error.
 */
int xfer_own_head(store_txn *t, const baton_key *k, uint8_t buf[BATON_AUDIT_HEAD_MAX], size_t *len);

/*
 * id in hex, for messages. The string is in a buffer of the calling
 * thread's, overwritten by the next call: one call per message.
 */
const char *xfer_hex_id(const uint8_t id[BATON_ID_BYTES]);

/* ---- a send's working state (send.c, sendfile.c) ---- */

/* Reads an attachment from the store's map, letting go of the pages read. */
struct mem_reader {
	const uint8_t *p;
	size_t off, len, gone;
};

/* What the packet of one student carries, as the release rules left it. */
struct seal_state {
	uint8_t head[BATON_AUDIT_HEAD_MAX]; /* this school's audit head, sent with the packet */
	json_t *rec;
	char *text[BATON_SEC_COUNT];
	baton_attachment atts[BATON_MAX_ATTACHMENTS];
	struct mem_reader rd[BATON_MAX_ATTACHMENTS];
	baton_att_reader readers[BATON_MAX_ATTACHMENTS];
	uint8_t *statements[BATON_MAX_STATEMENTS]; /* the statements of disagreement sent */
	size_t n_statements;
	char
	    terms[BATON_TERMS_MAX + 1]; /* this school's redisclosure terms, sent with the record */
};

/* A packet sealed into memory. */
struct membuf {
	uint8_t *p;
	size_t len, cap;
};

/* One student's transfer between the release rules and the commit. */
struct send_work {
	struct seal_state ss;
	baton_body body;
	baton_card peer;
	baton_seal_params p;
	struct membuf m; /* sealed with the rest of a cohort, on any thread */
	int err;         /* and how that went, with why */
	char why[300];
};

/*
 * Behind send_req.priv: one per send, in sodium_malloc memory (it holds the
 * consent and the record being sealed), from the first step of a transfer_*
 * send function to its last.
 */
struct send_state {
	char outbox[4096]; /* absolute */
	int fd, placed;
	size_t seq;
	char tmp[4300];
	char mark[4300];       /* the outbox's note naming tmp, while out has no file */
	int mark_fd;           /* held open and locked meanwhile: the send is alive */
	store_request *rq;     /* releasing a held request */
	int enrol;             /* and it carries an enrolment statement, not a consent */
	int cohort;            /* prepared in the transaction, sealed together */
	int deferred;          /* and this one waits for that */
	struct send_work work; /* the packet between the rules and the commit */
	baton_consent pre;     /* the consent, verified before the transaction */
	int verified;
	struct release_check q; /* the release rules' verdict */
};

/* ---- sendfile.c ---- */

/*
 * Readies n sends for their packet files: no file open yet, the outbox
 * directory DIR/outbox made, and its absolute name kept for a queued
 * packet. Returns 0, or BATON_EIO naming the directory.
 */
int xfer_files_prepare(struct send_req *s, size_t n);

/*
 * Opens, before the transaction, each packet file to carry (s[i].out) under
 * its temporary name, with the note that names it until it has its own.
 * *opened is how many sends were looked at, to pass to xfer_files_close
 * whatever the result. Returns 0 or the first error (the file named).
 */
int xfer_files_open(struct send_req *s, size_t n, size_t *opened);

/*
 * s's packet file, open at offset 0 and empty: a queued packet too large
 * for the store gets its temporary file here, the first time. Returns 0,
 * BATON_EINVAL (path too long) or BATON_EIO.
 */
int xfer_file_ready(struct send_req *s);

/*
 * In the transaction, a queued packet sealed into its file: synced, and
 * given its outbox name before the commit that records it. Returns 0 or
 * BATON_EIO.
 */
int xfer_file_place(struct send_req *s);

/* Undoes xfer_file_place: a run that the store repeats or aborted. Cannot fail. */
void xfer_file_unplace(struct send_req *s);

/*
 * After the transaction (r its result): a packet to carry takes its name
 * (s[i].path), and every temporary file and note of the first opened sends
 * is closed and removed. Returns r, or the first error placing a file.
 */
int xfer_files_close(struct send_req *s, size_t n, size_t opened, int r);

/*
 * A test stops the process here (SIGSTOP) to kill it at that point of a
 * send or of a batch received, when BATON_TEST_PAUSE names where; otherwise
 * nothing. Cannot fail.
 */
void xfer_test_pause(const char *where);

/* ---- receive.c and import.c ---- */

/* One packet on its way in. */
struct recv_ctx {
	struct recv_req *q;
	baton_opened *o;
	int content_err; /* a fault of the packet, not of the store */
	int dup;         /* found in the inbox inside the transaction: a replay */
	int to_open;     /* recv_check passed it on to recv_decrypt */
	int open_err;    /* and what that said, in words in why */
	char why[400];
	struct former_set former; /* the two schools' former keys, read by recv_check */
	int defer_receipt;        /* in a batch: the receipt is signed by xfer_receipts_due */
	int receipt_due;          /* and one waits for it */
	const char *note;         /* static: the note of that receipt, or NULL */
};

/*
 * Signs and files, in the batch's transaction t once every packet of the
 * batch is imported, each receipt that waits (c[i].receipt_due): one audit
 * head, the latest, covers them all. c has n entries. The store's errors.
 */
int xfer_receipts_due(store_txn *t, struct recv_ctx *c, size_t n);

/*
 * The release rules a receiver can judge from what it holds (PROTOCOL.md
 * section 5.4): a consent withdrawn by a revocation in force here, and a
 * guardian's consent for a student whose record here shows the rights had
 * passed to the student when the packet was made. Either is a fault of the
 * packet: c->content_err is set, and the rule's BATON_E* code returned
 * (BATON_EREVOKED, BATON_EELIGIBLE). Returns 0 when both pass, or the
 * store's error (c->content_err not set).
 */
int xfer_recv_rules(store_txn *t, struct recv_ctx *c);

/*
 * Files an opened transfer (c->o): the record, its attachments, the inbox
 * entry with its signed receipt (c->q->receipt, malloc'd, the caller's),
 * the audit entry, and the answer to this node's request if it asked. A
 * fault of the packet sets c->content_err. Returns 0 or the error.
 */
int xfer_import(store_txn *t, struct recv_ctx *c);

/*
 * Holds an opened request (c->o) for the registrar, once this node's own
 * release rules pass: the request, the inbox entry with its receipt
 * (c->q->receipt, malloc'd, the caller's) and the audit entry. A consent
 * the rules refuse sets c->content_err and returns the rule's code.
 * Returns 0, that code, or the store's or the signer's error.
 */
int xfer_hold_request(store_txn *t, struct recv_ctx *c);

/* ---- receipt.c ---- */

/*
 * Signs q's receipt with q->key: the packet's id and hash, reason, now,
 * note (may be NULL; cut to whole UTF-8 characters) and q's audit head.
 * *out (malloc'd) is the caller's, to free with free(). Returns 0 or the
 * signer's error.
 */
int xfer_sign_receipt(const struct recv_req *q, int reason, uint64_t now, const char *note,
                      uint8_t **out, size_t *len);

/* ---- policy.c ---- */

/*
 * The node's release policy for requests, in t: *auto_release is 1 when
 * requests are released at once, 0 when they are held. Returns 0 or the
 * store's error.
 */
int xfer_policy_read(store_txn *t, int *auto_release);

#endif
