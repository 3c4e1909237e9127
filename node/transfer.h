/*
 * Transfers at the node: sealing a released record for another school, and
 * receiving a packet into the store. The same code serves packet files and
 * (later) the network.
 */
#ifndef BATON_NODE_TRANSFER_H
#define BATON_NODE_TRANSFER_H

#include <baton/keys.h>
#include <baton/packet.h>

#include "consent.h"
#include "store.h"

struct send_req {
	/* in */
	const char *student;
	const char *to_code;
	const uint8_t *consent;
	size_t consent_len;
	uint32_t sections; /* 0: everything the consent allows */
	const baton_key *key;
	const char *out;      /* a packet file to carry by hand (state sent), or NULL */
	const char *node_dir; /* otherwise queued in DIR/outbox for 'baton serve' */
	const char *note;     /* a request's note to the other registrar, or NULL */
	int force;            /* out may replace an existing file */
	int again;            /* send even when already sent to to_code under this consent */
	uint64_t now, skew;
	/* out */
	int refused;   /* a release rule's error, or 0 */
	int skipped;   /* refused is BATON_EEXIST: already sent, nothing sealed or audited */
	char why[300]; /* and why, in words */
	struct release_check q;
	baton_packet_info info;
	char path[4200]; /* the packet file written; "" when kept in the store */
	int in_store;    /* queued, and small enough to be kept in the store */
	/* private */
	char student_buf[BATON_STUDENT_MAX + 1], to_buf[BATON_CODE_MAX + 1]; /* a release's */
	char outbox[4096];                                                   /* absolute */
	int fd, placed;
	size_t seq;
	char tmp[4300];
	char mark[4300];        /* the outbox's note naming tmp, while out has no file */
	int mark_fd;            /* held open and locked meanwhile: the send is alive */
	store_request *rq;      /* releasing a held request */
	struct send_work *work; /* a cohort's: prepared in the transaction, sealed together */
	int deferred;
	baton_consent pre; /* the consent, verified before the transaction */
	int verified;
};

/*
 * In one write transaction: applies the release rules (a refusal is audited
 * and committed, with s->refused set, and nothing sealed); seals the
 * released sections, their attachments, the consent and the guardians' keys;
 * and records the disclosure in the audit log and the outbox. The packet is
 * written under a temporary name and takes its name (s->path) only after
 * the commit.
 */
int transfer_send(store *st, struct send_req *s);

/*
 * Settles what sends killed midway left in DIR/outbox, for processes that
 * are gone: a queued packet's temporary file (never recorded) is removed; a
 * packet to carry (--out), named by its note while it had no name, is given
 * its name when it was recorded whole, and removed otherwise. say(ctx, line)
 * tells the registrar each thing done, and what to do next.
 */
int transfer_recover(store *st, const char *node_dir, void (*say)(void *ctx, const char *line),
                     void *ctx);

/*
 * transfer_send for n students in one transaction (a cohort): a student
 * refused by a release rule is audited and skipped (s[i].refused); any
 * other error aborts all of them. Queued only (s[i].out NULL).
 */
int transfer_send_many(store *st, struct send_req *s, size_t n);

/*
 * Releases a held request (id): the record goes to the school that asked,
 * with the consent it carried, by the same rules and steps as
 * transfer_send (s->student, to_code, consent and sections come from the
 * request). A request already answered is BATON_EVALUE.
 */
int transfer_release(store *st, const uint8_t id[BATON_ID_BYTES], struct send_req *s);

/*
 * Asks the school s->to_code for a record: seals a request carrying the
 * consent (s->consent) for s->sections (0: all it allows) and s->note, and
 * queues it like a transfer (or writes s->out).
 */
int transfer_request(store *st, struct send_req *s);

/*
 * Refuses a held request: signs a refusal receipt (reason denied, the
 * reason text as its note), which replaces the request's receipt in the
 * inbox and is queued for delivery to the requesting school. *receipt
 * (malloc'd) is the refusal, to carry by hand where there is no network.
 */
int transfer_deny(store *st, const baton_key *key, const uint8_t id[BATON_ID_BYTES],
                  const char *reason, uint64_t now, uint8_t **receipt, size_t *len);

/* The node's release policy for requests: 1 releases at once, 0 holds them. */
int transfer_policy_get(store *st, int *auto_release);
int transfer_policy_set(store *st, int auto_release);

struct recv_req {
	/* in */
	const baton_source *src;
	const baton_key *key; /* opens the packet and signs its receipt */
	int key_retired;      /* key is one a rekey replaced: its receipts carry no audit head */
	uint64_t now, skew;
	/* out */
	int reason; /* receipt reason */
	int replay; /* the packet was seen before: same receipt, nothing imported */
	char from[BATON_CODE_MAX + 1];
	char student[BATON_STUDENT_MAX + 1];
	uint32_t version;
	int review;    /* not the child on file under that id: held for review, not current */
	uint64_t held; /* and its number in the review queue */
	int unchanged; /* the same record as the one on file: no new version */
	uint8_t packet[BATON_ID_BYTES];
	uint8_t hash[BATON_HASH_BYTES];
	uint8_t *receipt; /* signed receipt (malloc'd); NULL when none can be given */
	size_t receipt_len;
	int kind;         /* BATON_KIND_TRANSFER, or a request now held (or to release) */
	int auto_release; /* a request the node's policy says to release at once */
	/*
	 * Refused before any pinned school's signature verified (it did not
	 * decode, its sender is not pinned, or it is not signed by the school
	 * it names): nothing was stored or audited and there is no receipt;
	 * from is empty and claims names the pinned school it claims to be
	 * from, if any.
	 */
	int unverified;
	char claims[BATON_CODE_MAX + 1];
	uint8_t head[BATON_AUDIT_HEAD_MAX]; /* this school's audit head, for the receipt */
	size_t head_len;
};

/*
 * Verifies and imports one packet. An accepted record, its inbox entry and
 * its audit entry commit together, and only then is the receipt returned. A
 * packet signed by a pinned school and rejected stores only its audit entry
 * and gets a signed rejection receipt. Anything else refused
 * (q->unverified) stores nothing, is not audited and gets no receipt:
 * returns 0 with the reason in q->reason and the cause in baton_diag().
 */
int transfer_receive(store *st, struct recv_req *q);

/*
 * transfer_receive for n packets, with one transaction for all those that
 * verify (a group commit: one sync for the lot). When one of them fails
 * inside the transaction, each is imported again on its own. errs[i] is
 * what transfer_receive would have returned for q[i].
 */
int transfer_receive_many(store *st, struct recv_req *q, size_t n, int *errs);

#define TRANSFER_WHY 300

/*
 * transfer_receipt for n receipts in one transaction; errs[i] is each one's
 * result (bytes[i] NULL: none was given) and why[i] its error in words.
 * Returns 0, or an error when none could be looked at (errs is not set).
 */
int transfer_receipts(store *st, const uint8_t *const *bytes, const size_t *len, size_t n,
                      baton_receipt *rc, store_outbox *ob, int *errs, char (*why)[TRANSFER_WHY]);

/* Records a receipt at the sender: matches it to the outbox entry. */
int transfer_receipt(store *st, const uint8_t *bytes, size_t len, baton_receipt *out,
                     store_outbox *entry);

#endif
