/*
 * This school as 'baton card', 'baton endpoint set', 'baton peer update'
 * and 'baton audit held' and the console's "This school" page see and
 * change it: its own card (and last rotation statement), a card re-signed
 * for new endpoints, a pinned school's newer card, and the heads other
 * schools' logs sent. Every change is audited in the transaction that
 * makes it.
 */
#ifndef BATON_NODE_VIEW_SCHOOL_H
#define BATON_NODE_VIEW_SCHOOL_H

#include <stddef.h>
#include <stdint.h>

#include <baton/baton.h>
#include <jansson.h>

#include "store.h"

#define SCHOOL_CARD_YEARS 2 /* how long a card signed anew is valid */

/* This school's card as stored, and its last rotation statement. */
struct school_card {
	uint8_t *card; /* malloc'd */
	size_t len;
	uint8_t *rot; /* malloc'd; NULL when the school never rekeyed */
	size_t rot_len;
	baton_card parsed; /* card, parsed */
};

/*
 * Reads this school's card and rotation statement into c (zeroed by the
 * caller). Returns 0; BATON_EIO with baton_diag() when the node has no
 * card; the errors of baton_card_parse; the store's errors. Free c with
 * school_card_free in every case.
 */
int school_card_read(store *st, struct school_card *c);

/* Frees what c holds; c may be zeroed. Cannot fail. */
void school_card_free(struct school_card *c);

/* What a new card says (school_endpoint_set). */
struct school_endpoint {
	char eps[BATON_MAX_ENDPOINTS][BATON_URL_MAX + 1]; /* in: the URLs, each checked */
	size_t n;
	baton_card card; /* out: the new card */
	uint8_t *bytes;  /* out: it signed, malloc'd (free with free()) */
	size_t len;
};

/*
 * Checks url as one endpoint of e (card_endpoint_check) and appends it.
 * Returns 0; BATON_EVALUE with baton_diag() naming url or the limit.
 */
int school_endpoint_add(struct school_endpoint *e, const char *url);

/*
 * Signs this school's card anew with key (the caller's; the key of the
 * card), naming e's endpoints, valid from now (later than the card it
 * replaces), and stores it, audited "endpoint", in one transaction.
 * Returns 0 (e->card, e->bytes set); BATON_EIO when key is not the card's
 * or the card changed meanwhile; the store's and signing's errors; each
 * with baton_diag().
 */
int school_endpoint_set(store *st, const baton_key *key, uint64_t now, struct school_endpoint *e);

/* Taking a pinned school's newer card (school_peer_update). */
struct school_update {
	const baton_card *card; /* in: parsed from bytes */
	const uint8_t *bytes;   /* in: the card as it came, stored as is */
	size_t len;
	baton_card was;  /* out: the card it replaced */
	size_t requeued; /* out: queued packets to the school, now due at once */
	int same;        /* out: 1 when this very card is pinned already; nothing written */
};

/*
 * Pins u->card in place of the pinned card of its code (same identity key,
 * valid from later), audited "peer-update", and makes packets queued to
 * the school due now. Everything u points at is the caller's.
 * Returns 0; BATON_EVALUE (not pinned, or not newer), BATON_EBADKEY
 * (another key), each with baton_diag() naming the school; the store's
 * errors.
 */
int school_peer_update(store *st, struct school_update *u, uint64_t now);

/*
 * The heads other schools' logs sent, kept here (of code school only,
 * when it is not NULL), as a JSON array of {school, entries, head, time,
 * key}; *out is new (free with json_decref).
 * Returns 0; BATON_EIO when a kept head does not parse; BATON_ENOMEM; the
 * store's errors.
 */
int school_held_json(store *st, const char *school, json_t **out);

#endif
