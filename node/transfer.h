/*
 * Transfers at the node: sealing a released record for another school, and
 * receiving a packet into the store. The same code serves packet files and
 * (later) the network.
 */
#ifndef BATON_NODE_TRANSFER_H
#define BATON_NODE_TRANSFER_H

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
	int fd;                /* the packet is written here (rewound if the store retries) */
	const char *file;      /* --out: the packet file carried by hand (state sent) */
	const char *queue_dir; /* otherwise: queued here as <packet id>.baton for serve */
	char queued[4200];     /* out: the queued file's path */
	uint64_t now, skew;
	/* out */
	int refused; /* a release rule's error, or 0 */
	struct release_check q;
	baton_packet_info info;
};

/*
 * In one write transaction: applies the release rules (a refusal is audited
 * and committed, with s->refused set, and nothing sealed); seals the
 * released sections, their attachments, the consent and the guardians' keys
 * to s->fd; and records the disclosure in the audit log and the outbox.
 * The packet bytes are not acknowledged until store_write has returned 0.
 */
int transfer_send(store *st, struct send_req *s);

struct recv_req {
	/* in */
	const baton_source *src;
	const baton_key *key;
	uint64_t now, skew;
	/* out */
	int reason; /* receipt reason */
	int replay; /* the packet was seen before: same receipt, nothing imported */
	char from[BATON_CODE_MAX + 1];
	char student[BATON_STUDENT_MAX + 1];
	uint32_t version;
	int review; /* a new version of an existing student: the registrar should look */
	uint8_t packet[BATON_ID_BYTES];
	uint8_t hash[BATON_HASH_BYTES];
	uint8_t *receipt; /* signed receipt (malloc'd); NULL when none can be given */
	size_t receipt_len;
};

/*
 * Verifies and imports one packet. An accepted record, its inbox entry and
 * its audit entry commit together, and only then is the receipt returned. A
 * rejected packet stores only its audit entry and, when its signature
 * verified, an inbox entry with the rejection receipt. A packet from a
 * school that is not pinned gets no receipt.
 */
int transfer_receive(store *st, struct recv_req *q);

/* Records a receipt at the sender: matches it to the outbox entry. */
int transfer_receipt(store *st, const uint8_t *bytes, size_t len, baton_receipt *out,
                     store_outbox *entry);

#endif
