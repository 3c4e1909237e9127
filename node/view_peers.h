/*
 * The schools this node trusts, as 'baton peer' and the console's Peers
 * page both see and change them: a card checked before it is pinned, the
 * pinning itself (with the fingerprint confirmed and, for a changed key,
 * its rotation statement), the list, and unpinning. Every change is
 * audited in the transaction that makes it.
 */
#ifndef BATON_NODE_VIEW_PEERS_H
#define BATON_NODE_VIEW_PEERS_H

#include <stddef.h>
#include <stdint.h>

#include <baton/baton.h>
#include <jansson.h>

#include "store.h"

/*
 * 1 when fingerprints a and b are the same once both are upper-cased and
 * stripped of everything but letters and digits ("hf6v6 yfxcg-..." is
 * "HF6V6-YFXCG-..."); 0 otherwise. Both NUL-terminated, the caller's.
 * Cannot fail.
 */
int peers_fpr_match(const char *a, const char *b);

/*
 * Checks that card c is valid at now (with the node's clock skew allowed).
 * c is the caller's. Returns 0, BATON_EEXPIRED or BATON_ENOTYET with
 * baton_diag() naming the school and its window.
 */
int peers_card_valid(const baton_card *c, uint64_t now);

/*
 * What a card says, as JSON: code, name, fingerprint, endpoints,
 * valid_from, valid_until. c is the caller's; the result is new (free
 * with json_decref), NULL when memory ran out.
 */
json_t *peers_card_json(const baton_card *c);

/*
 * 1 when c carries this school's own identity key, else 0 (also when the
 * store cannot tell). st and c are the caller's.
 */
int peers_is_own(store *st, const baton_card *c);

/* Pinning one card: what peers_add is given and what it found. */
struct peers_add {
	const baton_card *card; /* parsed from bytes */
	const uint8_t *bytes;   /* the card as it came (len bytes), stored as is */
	size_t len;
	const baton_rotation *rot; /* parsed from rot_bytes, or NULL */
	const uint8_t *rot_bytes;
	size_t rot_len;
	int replaced; /* out: 0 pinned anew, 1 the same card again, 2 rotated */
	char old_fpr[BATON_FINGERPRINT_LEN + 1]; /* out: the key it replaced, when rotated */
};

/*
 * Pins a->card under its code, audited "peer-add" (or "peer-rotate"),
 * in one transaction. A code already pinned with the same key takes only
 * the very same card again; with another key only when a->rot moves the
 * code from the pinned key to the card's (its statement is kept so that
 * consents signed before the rotation still name the school). Everything
 * a points at is the caller's.
 * Returns 0; BATON_EVALUE (same key, another card), BATON_EBADKEY
 * (another key, no or a wrong rotation), BATON_EIO (the pinned card is
 * damaged), each with baton_diag() naming the school; the store's errors.
 */
int peers_add(store *st, struct peers_add *a);

/*
 * Unpins the school with code (the caller's), audited "peer-remove".
 * Returns 0; BATON_EVALUE with baton_diag() when it is not pinned; the
 * store's errors.
 */
int peers_remove(store *st, const char *code);

/*
 * The schools this node trusts: the pinned ones in code order, then those
 * trusted through a directory (by authority, then code), each as
 * peers_card_json says with "via" ("pin" or "directory") and, for a
 * directory, "authority" (its name); a pin whose key a directory
 * withdraws has "withdrawn_by" (the authority's name). Into
 * *out (new; free with json_decref; NULL on error). Returns 0;
 * BATON_EIO when a pinned card is damaged (baton_diag() names it);
 * BATON_ENOMEM; the store's errors.
 */
int peers_list(store *st, json_t **out);

#endif
