/*
 * A school's node on the network: a listener that answers packets from
 * pinned schools with their signed receipts, and an outbox worker that
 * delivers what the node queued, each on a thread of its own
 * (proto/PROTOCOL.md section 10). What 'baton serve' runs, and what a test
 * program runs two of in one process.
 */
#ifndef BATON_NODE_SERVE_H
#define BATON_NODE_SERVE_H

#include <stddef.h>
#include <stdint.h>

#include <baton/keys.h>

#include "store.h"

struct serve_node;

struct serve_opts {
	const char *dir;    /* the node's directory: school.key, spool/ */
	const char *listen; /* an nng URL to listen at; NULL: the card's first endpoint */
	const char *pass;   /* the school key's passphrase (plen bytes); NULL when not encrypted */
	size_t plen;
};

/* What serve_start starts. */
#define SERVE_LISTEN 1 /* the listener */
#define SERVE_OUTBOX 2 /* the outbox worker */

/*
 * The node's one clock: BATON_NOW (seconds since 1970) when set, as the
 * tests set it to reach expiry without waiting, else the system clock.
 * Every command and the serving node read the time here. Cannot fail.
 */
uint64_t serve_now(void);

/*
 * Makes a node serving store st (the caller's: it stays open until
 * serve_stop, and the caller closes it before serve_free, since st signs
 * its audit entries with the node's key from now on) from o, whose
 * strings are copied: reads the school key and the keys a rekey replaced
 * lately, and makes DIR/spool. The environment may shorten the spools'
 * idle time (BATON_SPOOL_IDLE, seconds) and room (BATON_SPOOL_ROOM, bytes).
 * Nothing runs yet. Returns 0, or the key's error (baton_diag() says
 * more), BATON_EIO (the spool directory; no card), BATON_ENOMEM. *out is
 * set only on success; the caller frees it with serve_free.
 */
int serve_open(store *st, const struct serve_opts *o, struct serve_node **out);

/* The URL the node listens at, or will: owned by nd. */
const char *serve_url(const struct serve_node *nd);
/*
 * The first n bytes of p in lowercase hex, into buf (2n+1 bytes, the
 * caller's), which it returns: ids and hashes as the node shows them. Cannot fail.
 */
const char *serve_hex(const uint8_t *p, size_t n, char *buf);
/* The node's directory: owned by nd. */
const char *serve_dir(const struct serve_node *nd);
/* The store nd serves (the caller's of serve_open). */
store *serve_store(const struct serve_node *nd);
/*
 * The school key nd holds now (after a rekey, the new one): owned by nd,
 * valid until serve_free.
 */
const baton_key *serve_key(struct serve_node *nd);

/*
 * Starts what parts says (SERVE_LISTEN, SERVE_OUTBOX, or both), each on a
 * thread. Returns 0 once the listener listens and the worker runs; or
 * BATON_EIO (the URL cannot be listened at, or no thread: baton_diag()
 * says which), BATON_ENOMEM; what it started then runs until serve_stop.
 */
int serve_start(struct serve_node *nd, int parts);

/*
 * Takes the school key again (after 'baton rekey'; serve also notices a
 * changed key by itself within a second), and returns once the listener
 * has, or the node is stopping. Without a listener it does nothing.
 * Cannot fail: what it did is logged.
 */
void serve_reload(struct serve_node *nd);

/*
 * Stops the threads and waits for them: the listener finishes the request
 * it is handling, an outbox attempt in flight gives up and counts. Ends the
 * process (exit status 0) when the worker does not stop within 5 s: a dial
 * that hangs must not keep the node from stopping. Every receipt sent or
 * recorded has committed. May be called more than once.
 */
void serve_stop(struct serve_node *nd);

/*
 * Runs nd as 'baton serve' does: takes SIGINT and SIGTERM (stop) and
 * SIGHUP (serve_reload) first, starts the listener and the worker, and
 * serves until a stop signal. Tells the service manager (notify.h) READY=1
 * once both run, RELOADING=1 and READY=1 around each reload, and
 * STOPPING=1 at the end; stops the node (serve_stop) before it returns.
 * Returns 0, or serve_start's error.
 */
int serve_run(struct serve_node *nd);

/* Closes the listener and frees nd, after serve_stop; NULL is accepted. */
void serve_free(struct serve_node *nd);

#endif
