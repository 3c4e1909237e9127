/*
 * Transfers at the node: sealing a released record for another school, and
 * receiving a packet into the store; asking for a record, and answering
 * such a request; receipts at the sender. The same code serves packet files
 * and the network. Every function returns 0 or a negative BATON_E* code,
 * with baton_diag() naming what failed (error.h). st is an open store, the
 * caller's; nothing here keeps a pointer passed in past the call.
 */
#ifndef BATON_NODE_TRANSFER_H
#define BATON_NODE_TRANSFER_H

#include <baton/keys.h>
#include <baton/packet.h>

#include "consent.h"
#include "store.h"

struct send_state;

/*
 * One send. The caller zeroes it, sets the inputs and calls one of the
 * transfer_* send functions, then reads the results. What the send works
 * with meanwhile (temporary files, the release check, the cohort's sealed
 * packets) is its own: allocated and freed by the call, never seen here.
 */
struct send_req {
	/* in */
	const char *student; /* NULL in a cohort: the student the consent names */
	const char *to_code;
	const uint8_t *consent;
	size_t consent_len;
	uint32_t sections; /* 0: everything the consent allows */
	const baton_key *key;
	const char *out;      /* a packet file to carry by hand (state sent), or NULL */
	const char *node_dir; /* otherwise queued in DIR/outbox for 'baton serve' */
	const char *note;     /* a request's note to the other registrar, or NULL */
	/* a request on this school's enrolment statement (consent NULL): the student
	 * as the other school knows them, and as this school has them */
	const char *enrol_student, *enrol_given, *enrol_family, *enrol_birth;
	int force; /* out may replace an existing file */
	int again; /* send even when already sent to to_code under this consent */
	uint64_t now, skew;
	/* out */
	int refused;      /* a release rule's error, or 0 */
	int skipped;      /* refused is BATON_EEXIST: already sent, nothing sealed or audited */
	char why[300];    /* and why, in words */
	uint32_t release; /* the sections sealed (a request: the sections asked for) */
	baton_packet_info info;
	char path[4200]; /* the packet file written; "" when kept in the store */
	int in_store;    /* queued, and small enough to be kept in the store */
	/*
	 * Where student and to_code point once a release (or a cohort) has
	 * read them from the request (or the consent): they outlive the call.
	 */
	char student_buf[BATON_STUDENT_MAX + 1], to_buf[BATON_CODE_MAX + 1];
	/* the call's own working state; NULL outside a call */
	struct send_state *priv;
};

/*
 * In one write transaction: applies the release rules (a refusal is audited
 * and committed, with s->refused set, and nothing sealed); seals the
 * released sections, their attachments, the consent and the guardians' keys;
 * and records the disclosure in the audit log and the outbox. The packet is
 * written under a temporary name and takes its name (s->path) only after
 * the commit.
 *
 * s: inputs student, to_code, consent, key, node_dir and now set (out, note,
 * force, again, sections, skew as wanted); the results are written into it.
 * A refusal by a rule, or a record already sent (s->skipped), returns 0 with
 * s->refused and s->why set.
 * Returns 0; BATON_EEXIST when s->out exists and not s->force, or appeared
 * while the packet was sealed (recorded as sent: the packet stays as
 * OUT.partial, named in baton_diag()); BATON_EVALUE (to_code not pinned),
 * BATON_EIO, BATON_ENOMEM or the store's error, with nothing recorded.
 */
int transfer_send(store *st, struct send_req *s);

/*
 * Finds the packet of an earlier disclosure of student to to_code under the
 * consent consent_id that is still queued, sent or receipted (one refused,
 * expired or never written whole does not count): the send that would
 * repeat it is skipped unless asked again. *ob gets its outbox entry.
 * Returns 0, BATON_ENOTFOUND when there is none, or the store's error.
 */
int transfer_sent_before(store_txn *t, const char *student, const char *to_code,
                         const uint8_t consent_id[BATON_ID_BYTES], store_outbox *ob);

/*
 * Whether the consent c (decoded) is for student, the one a send names.
 * Returns 0, or BATON_ECONSENT with baton_diag() saying whom it is for.
 */
int transfer_consent_for(const baton_consent *c, const char *student);

/*
 * How an outbox state found by transfer_sent_before reads: "queued", "sent
 * as a file" or "receipted". Static; cannot fail.
 */
const char *transfer_sent_state(int state);

/*
 * Settles what sends killed midway left in DIR/outbox, for processes that
 * are gone: a queued packet's temporary file (never recorded) is removed; a
 * packet to carry (--out), named by its note while it had no name, is given
 * its name when it was recorded whole, and removed otherwise. say(ctx, line)
 * tells the registrar each thing done, and what to do next; line is valid
 * only during the call.
 * Returns 0 (also when node_dir has no outbox), BATON_EIO when the outbox
 * cannot be read, or the store's error.
 */
int transfer_recover(store *st, const char *node_dir, void (*say)(void *ctx, const char *line),
                     void *ctx);

/*
 * transfer_send for n students in one transaction (a cohort): a student
 * refused by a release rule is audited and skipped (s[i].refused); any
 * other error aborts all of them. Queued only (s[i].out NULL). s[i].student
 * may be NULL: it is then set to the student the consent names (in
 * s[i].student_buf) once the consent verifies.
 * Returns 0 or the first error, as transfer_send; then nothing is recorded.
 */
int transfer_send_many(store *st, struct send_req *s, size_t n);

/*
 * Releases a held request (id): the record goes to the school that asked,
 * with the consent it carried, by the same rules and steps as
 * transfer_send. s->student and s->to_code are set from the request (into
 * s->student_buf and s->to_buf); s->consent is NULL on return.
 * Returns as transfer_send; BATON_ENOTFOUND when there is no such request;
 * BATON_EVALUE when it was already released or denied.
 */
int transfer_release(store *st, const uint8_t id[BATON_ID_BYTES], struct send_req *s);

/*
 * Asks the school s->to_code for a record: seals a request carrying the
 * consent (s->consent) for s->sections (0: all it allows) and s->note (may
 * be NULL), and queues it like a transfer (or writes s->out). s->release is
 * the sections asked for.
 * Returns 0; the consent's decoding error; BATON_EFROM or BATON_ETO when it
 * does not name to_code as the sender and this school as the receiver;
 * BATON_ESECTIONS when s->sections goes beyond it; or as transfer_send.
 */
int transfer_request(store *st, struct send_req *s);

/*
 * Refuses a held request: signs with key a refusal receipt (reason denied,
 * the reason text as its note), which replaces the request's receipt in the
 * inbox and is queued for delivery to the requesting school. *receipt and
 * *len are the refusal, to carry by hand where there is no network: the
 * caller frees it with free(); they are not set on error.
 * Returns 0; BATON_ENOTFOUND when there is no such request; BATON_EVALUE
 * when reason is empty or longer than BATON_NOTE_MAX, or the request was
 * already answered; or the signer's or the store's error.
 */
int transfer_deny(store *st, const baton_key *key, const uint8_t id[BATON_ID_BYTES],
                  const char *reason, uint64_t now, uint8_t **receipt, size_t *len);

/*
 * The node's release policy for requests: *auto_release is 1 when requests
 * covered by a valid consent are released at once, 0 when they are held
 * for the registrar (the default). Returns 0 or the store's error.
 */
int transfer_policy_get(store *st, int *auto_release);

/*
 * Sets the policy (auto_release nonzero: release at once) and audits the
 * change, in one transaction. Returns 0 or the store's error.
 */
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
	/* the hash of the redisclosure terms an accepted transfer carried, for its receipt */
	uint8_t terms[BATON_HASH_BYTES];
	int has_terms;
};

/*
 * Verifies and imports one packet. An accepted record, its inbox entry and
 * its audit entry commit together, and only then is the receipt returned. A
 * packet signed by a pinned school and rejected stores only its audit entry
 * and gets a signed rejection receipt. Anything else refused
 * (q->unverified) stores nothing, is not audited and gets no receipt:
 * returns 0 with the reason in q->reason and the cause in baton_diag().
 *
 * q: src, key, now and skew set; the rest is written. q->src is read, not
 * kept. q->receipt is set anew (any earlier value is not freed: the caller
 * frees each receipt with free() before the next call).
 * Returns 0 for every packet answered (accepted, replayed or refused);
 * BATON_EIO, BATON_ENOMEM or the store's error when it could not be
 * answered (q->reason BATON_REASON_STORAGE).
 */
int transfer_receive(store *st, struct recv_req *q);

/*
 * transfer_receive for n packets, with one transaction for all those that
 * verify (a group commit: one sync for the lot). When one of them fails
 * inside the transaction, each is imported again on its own. errs (n
 * entries, the caller's): errs[i] is what transfer_receive would have
 * returned for q[i]. Returns 0, or BATON_ENOMEM with errs not set.
 */
int transfer_receive_many(store *st, struct recv_req *q, size_t n, int *errs);

#define TRANSFER_WHY 300

/*
 * transfer_receipt for n receipts in one transaction; errs[i] is each one's
 * result (bytes[i] NULL: none was given, BATON_EVALUE) and why[i] its error
 * in words; rc[i] and ob[i] as transfer_receipt's. When the transaction
 * fails, each is recorded again on its own. Every array has n entries and
 * stays the caller's. Returns 0, or BATON_ENOMEM with nothing set.
 */
int transfer_receipts(store *st, const uint8_t *const *bytes, const size_t *len, size_t n,
                      baton_receipt *rc, store_outbox *ob, int *errs, char (*why)[TRANSFER_WHY]);

/*
 * Records a receipt (bytes, len) at the sender: matches it to the outbox
 * entry of the packet it names, which takes the receipt's answer, and
 * audits it. *out is the receipt decoded, *entry the outbox entry after.
 * The same answer again changes nothing and returns 0.
 * Returns 0; the receipt's decoding or signature error; BATON_EVALUE when
 * no such packet was sent from here; BATON_EBADKEY when it is not signed by
 * the school the packet went to; BATON_EHASH when it names another packet
 * hash; or the store's error.
 */
int transfer_receipt(store *st, const uint8_t *bytes, size_t len, baton_receipt *out,
                     store_outbox *entry);

#endif
