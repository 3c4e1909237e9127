/*
 * Spools: packets too large for one message, arriving in chunks into files
 * DIR/spool/ID.SENDER.TOTAL.part (proto/PROTOCOL.md section 10), and the
 * bounds on them: slots in all and per sending school, disk room, and how
 * long a stalled one is kept.
 */
#ifndef BATON_NODE_SPOOL_H
#define BATON_NODE_SPOOL_H

#include <stdint.h>

#include <baton/keys.h>

#include "serve_impl.h"

#define SPOOL_MAX      16  /* packets arriving in chunks at once */
#define SPOOL_PER_PEER 2   /* of them from one sending school */
#define SPOOL_IDLE     300 /* seconds before a stalled spool is removed */

/* The spools on disk, as their names say; nothing but the directory is read. */
struct spool_scan {
	char path[4500]; /* the spool of the packet looked for, when found */
	uint64_t total;  /* its declared length */
	int found;
	unsigned all, mine; /* spools, and those of the sender looked for */
	uint64_t owed;      /* bytes all spools still expect */
};

/*
 * Counts nd's spools into *s, and finds the one of packet id
 * (BATON_ID_BYTES; NULL: none looked for); mine counts those of sender
 * (BATON_PK_BYTES; NULL: none). Cannot fail: an unreadable directory
 * counts none.
 */
void spool_scan(const struct serve_node *nd, const uint8_t *id, const uint8_t *sender,
                struct spool_scan *s);

/*
 * Whether a new spool of total bytes from sender (BATON_PK_BYTES) for
 * packet id fits the bounds, and its path into path (cap bytes).
 * Returns 0, or BATON_EIO (busy, or no room: baton_diag() says which,
 * for the log; the sender tries later).
 */
int spool_claim(const struct serve_node *nd, const uint8_t *id, const uint8_t *sender,
                uint64_t total, char *path, size_t cap);

/* Removes spool files idle for over nd->spool_idle seconds, logging each. Cannot fail. */
void spool_sweep(const struct serve_node *nd);

#endif
