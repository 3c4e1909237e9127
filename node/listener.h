/*
 * The listener of a serving node (serve_impl.h): accepts frames from other
 * schools, imports what they carry and answers with receipts, within
 * bounds on connections, message sizes and spools.
 */
#ifndef BATON_NODE_LISTENER_H
#define BATON_NODE_LISTENER_H

#include "serve_impl.h"

struct listener;

/*
 * Opens a REP socket for nd, bounded, listening at url (an nng URL:
 * tcp://HOST:PORT, or inproc://NAME within one process), into *out.
 * nd stays the caller's and must outlive the listener.
 * Returns 0, or BATON_EIO (baton_diag() names url and nng's error),
 * BATON_ENOMEM. The caller closes *out with listener_close.
 */
int listener_open(struct serve_node *nd, const char *url, struct listener **out);

/*
 * The listener's thread: arg is the struct listener. Handles one request
 * at a time until nd->stopping is set (it looks at least every IDLE_MS,
 * and at once when listener_wake is called); between
 * requests it takes a rekey (at once when nd->reload_asked grew, setting
 * nd->reload_done) and sweeps stalled spools. Returns NULL.
 */
void *listener_run(void *arg);

/*
 * Ends the listener's wait for a request, so that it looks at once at the
 * stop flag and at a reload asked for; a request arriving meanwhile is
 * received on the next turn. Safe from any thread; l may be NULL.
 */
void listener_wake(struct listener *l);

/*
 * Closes the socket and frees l, once listener_run has returned; NULL is
 * accepted. Ends the process (exit status 0) when connections do not close
 * within 5 s: a stuck peer must not keep the node from stopping.
 */
void listener_close(struct listener *l);

#endif
