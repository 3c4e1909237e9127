/*
 * The outbox worker of a serving node (serve_impl.h): delivers what the
 * node's commands queued, and records the receipts that come back.
 */
#ifndef BATON_NODE_OUTBOX_H
#define BATON_NODE_OUTBOX_H

#include "serve_impl.h"

/*
 * The worker's working memory, kept from one round to the next.
 * Returns it (the caller frees it with outbox_work_free), or NULL when out
 * of memory.
 */
struct outbox_work *outbox_work_new(void);

/* Frees w; NULL is accepted. */
void outbox_work_free(struct outbox_work *w);

/*
 * The worker's thread: arg is the struct serve_node, whose work, st and
 * keys are set. Runs a round when the store changed (a command queued
 * something: it goes at once) and at least once a second for retries
 * falling due, until nd->stopping is set; an attempt in flight then gives
 * up at once and is made again later. Returns NULL. Every receipt it
 * recorded has committed.
 */
void *outbox_run(void *arg);

#endif
