/*
 * Passing the newest directory from node to node (PROTOCOL.md section 10,
 * offers and updates): what a node offers, how it answers an offer, and
 * taking a directory another school passed on through the one check of
 * 'baton directory update' (directory_update_from).
 */
#ifndef BATON_NODE_GOSSIP_H
#define BATON_NODE_GOSSIP_H

#include <stddef.h>
#include <stdint.h>

#include "frame.h"
#include "store.h"

/* Seconds between two offers to one school while the versions held stay the same. */
#define GOSSIP_EVERY 600

/*
 * The authorities this node pins and the version of each one's directory
 * held (0: none), in key order, at most FRAME_OFFER_MAX (the first ones).
 * Returns 0 or the store's errors.
 */
int gossip_own(store *st, struct frame_offer e[FRAME_OFFER_MAX], size_t *k);

/*
 * The answer to an offer (k entries): an update carrying the first
 * directory this node holds at a version above the one offered for an
 * authority it pins, when it fits in one message, else this node's own
 * offer. Into *out (malloc'd) and *len. Returns 0, BATON_ENOMEM or the
 * store's errors.
 */
int gossip_answer(store *st, const struct frame_offer *e, size_t k, uint8_t **out, size_t *len);

/*
 * The updates for what a peer's offer (k entries) shows it lacks: each
 * directory this node holds at a version above the peer's that fits in one
 * message, as an update frame. Calls cb for each until it returns
 * non-zero. Returns 0, BATON_ENOMEM, cb's value or the store's errors.
 */
typedef int (*gossip_update_cb)(const uint8_t *msg, size_t len, void *ctx);
int gossip_updates(store *st, const struct frame_offer *e, size_t k, gossip_update_cb cb,
                   void *ctx);

/*
 * Takes the update frame msg (len bytes) from a peer at now, with from the
 * code of the school it came from when the caller knows it (else the
 * frame's own). Logs what was taken, or why not (at a bounded rate: the
 * frame is not authenticated). Returns 0 when taken or unchanged, else the
 * error.
 */
int gossip_take(store *st, const uint8_t *msg, size_t len, uint64_t now, const char *from);

#endif
