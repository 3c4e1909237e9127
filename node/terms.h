/*
 * Redisclosure terms (34 CFR 99.33): the text a school sends with every
 * record it discloses, telling the receiving school that it may not pass
 * the record on without consent. The school sets its own text or uses the
 * default; each transfer carries it (PROTOCOL.md 4.4, body.terms), the
 * receiver keeps it with the record, and the receiver's signed receipt
 * names its hash (3.7, receipt.terms), which the sender checks and keeps.
 * Every function returns 0 or a negative BATON_E* code, with baton_diag()
 * naming what failed.
 */
#ifndef BATON_NODE_TERMS_H
#define BATON_NODE_TERMS_H

#include <stddef.h>
#include <stdint.h>

#include <baton/objects.h>
#include <baton/packet.h>

#include "store.h"

/* What became of the terms sent with a transfer. */
enum terms_state {
	TERMS_NONE = 0,     /* nothing kept: sent before terms were carried */
	TERMS_SENT = 1,     /* sent; no receipt naming them yet */
	TERMS_ACCEPTED = 2, /* the receiver's signed receipt names their hash */
	TERMS_UNACKED = 3,  /* receipted by a node that names no terms (an older node) */
};

/* The terms a school uses when it has set none. */
extern const char terms_default[];

/*
 * Checks text as redisclosure terms: 1..BATON_TERMS_MAX bytes of UTF-8
 * without NUL or control characters other than LF. BATON_EVALUE naming the
 * problem otherwise.
 */
int terms_check(const char *text, size_t len);

/* Sets this school's terms (audited as a policy change); text is copied. */
int terms_set(store *st, const char *text, size_t len);
/*
 * This school's terms into *text (malloc'd, NUL-terminated, the caller's),
 * *is_default 1 when the school has set none.
 */
int terms_get(store *st, char **text, size_t *len, int *is_default);

/* In a transaction: this school's terms into buf (cap > BATON_TERMS_MAX), *len set. */
int xfer_terms_read(store_txn *t, char *buf, size_t cap, size_t *len);
/* In a transaction: the terms sealed into packet id are kept as sent. */
int xfer_terms_sent(store_txn *t, const uint8_t id[BATON_ID_BYTES], const char *text, size_t len);
/*
 * In a transaction: an accepted receipt for packet id. When terms were sent
 * with it: a receipt naming their hash marks them accepted, one naming none
 * marks them unacknowledged, and one naming another hash is BATON_EHASH.
 */
int xfer_terms_receipt(store_txn *t, const uint8_t id[BATON_ID_BYTES], const baton_receipt *rc);
/* In a transaction: the state of the terms sent with packet id (TERMS_NONE when none kept). */
int xfer_terms_out(store_txn *t, const uint8_t id[BATON_ID_BYTES], int *state);
/* In a transaction: the terms that came with received packet id are kept. */
int xfer_terms_received(store_txn *t, const uint8_t id[BATON_ID_BYTES], const char *text,
                        size_t len);
/*
 * In a transaction: the terms that came with received packet id into *text
 * (malloc'd, NUL-terminated, the caller's); BATON_ENOTFOUND when none came.
 */
int xfer_terms_in(store_txn *t, const uint8_t id[BATON_ID_BYTES], char **text, size_t *len);

/* The state's name: "none", "sent", "accepted", "not acknowledged". */
const char *terms_state_name(int state);

#endif
