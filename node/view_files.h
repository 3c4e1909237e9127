/*
 * Packets and receipts carried by hand, as the command line ('baton outbox
 * export', 'baton import') and the console's files API both see them, so
 * that the two cannot disagree. Each function returns 0 or a negative
 * BATON_E* code with baton_diag() saying what failed (error.h).
 */
#ifndef BATON_NODE_VIEW_FILES_H
#define BATON_NODE_VIEW_FILES_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"
#include "transfer.h"

/*
 * Finds the one packet in the outbox (not a refusal) whose id in hex starts
 * with hex (the caller has checked it is hex), in one read transaction.
 * e: the caller's, gets the outbox entry. *bytes and *len: the packet when
 * the store keeps it (malloc'd, the caller frees it with free()), else
 * *bytes is NULL and the packet is the file e->file.
 * Returns 0; BATON_ENOTFOUND when no packet has that id; BATON_EVALUE when
 * more than one does; BATON_EIO when the store lost the packet's bytes; or
 * the store's error. Nothing is set to free on error.
 */
int files_outbox_find(store *st, const char *hex, store_outbox *e, uint8_t **bytes, size_t *len);

/*
 * The outcome of an import (q, as transfer_receive left it) in a word or
 * three: "imported", "unchanged", "held for review", "seen before", "held
 * for release", "releasing", "rejected" or "refused". Static; cannot fail.
 */
const char *files_import_result(const struct recv_req *q);

/*
 * A new name for a packet file to carry by hand, kept in the node's
 * outbox (node_dir/outbox, made 0700 when missing) so that its outbox
 * entry can give it again: node_dir/outbox/file-RANDOM.baton, into buf (n
 * bytes, the caller's). Nothing is created but the directory.
 * Returns 0; BATON_EINVAL when it does not fit in n bytes or in an outbox
 * entry; BATON_EIO when the directory cannot be made.
 */
int files_packet_path(const char *node_dir, char *buf, size_t n);

#endif
