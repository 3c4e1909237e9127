/*
 * What the parts of a serving node share, private to node/: the node's
 * state (struct serve_node) and the limits the listener, the outbox worker
 * and the spool keep. The interface to the rest of the tree is serve.h.
 */
#ifndef BATON_NODE_SERVE_IMPL_H
#define BATON_NODE_SERVE_IMPL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/stat.h>

#include <baton/keys.h>

#include "frame.h"
#include "serve.h"
#include "store.h"

#define CHUNK         FRAME_CHUNK /* packet bytes per message; larger packets are chunked */
#define RECEIPT_MAX   BATON_OBJ_MAX
#define BATCH_MAX     FRAME_BATCH_MAX /* small packets per message */
#define POLL_MS       20              /* how often a delivery in flight looks at the stop flag */
#define STORE_LOOK_MS 250 /* how often the idle outbox looks whether a command changed the store   \
	                   */
#define IDLE_MS         1000  /* the longest an idle thread sleeps between its chores */
#define PEER_TIMEOUT_MS 30000 /* one delivery attempt, send and receipt; one reply's wait */
#define SKEW            300

/*
 * The school key, and the keys a rekey replaced while serve ran. Packets
 * sealed to a replaced key (by a school that has not yet pinned the new
 * card) are still opened with it for KEY_GRACE seconds after the change,
 * the longest a packet made before it stays valid; none is freed before
 * serve stops, so no caller's pointer goes stale.
 */
#define KEYS_MAX  16
#define KEY_GRACE (14 * 86400)
struct keyring {
	char path[4200];
	struct stat st; /* of the file the current key was read from */
	char *pass;     /* the passphrase serve started with, in sodium_malloc memory */
	size_t plen;
	baton_key *k[KEYS_MAX];
	/* When each stopped being current, 0 for the current; read by the outbox worker too. */
	_Atomic uint64_t retired[KEYS_MAX];
	_Atomic size_t n; /* k[n] is set before n grows */
};

struct outbox_work;
struct listener;

/* The serving node. */
struct serve_node {
	store *st; /* the caller's */
	/*
	 * The school key: replaced by the listener after a rekey, read by the
	 * outbox worker too; a replaced key is freed only when serve ends.
	 */
	_Atomic(const baton_key *) key;
	char dir[4096];
	char url[4096];      /* where the listener listens first */
	int follow_card;     /* no --listen: the listener follows the card's endpoint */
	char spool[4200];    /* DIR/spool: packets arriving in chunks */
	unsigned spool_idle; /* seconds before a stalled spool is removed */
	uint64_t spool_room; /* bytes all spools may claim, 0 for the disk's share */
	struct keyring keys;
	struct outbox_work *work;
	struct listener *lis;
	atomic_int stopping;      /* set by serve_stop, read by every thread */
	atomic_uint reload_asked; /* reloads asked for (serve_reload) */
	atomic_uint reload_done;  /* and done, by the listener */
	pthread_t listen_th, outbox_th;
	int listening, working; /* the threads run */
	pthread_t mail_th;      /* the family's notices (mail.c), with the outbox worker */
	int mailing;
	pthread_t fetch_th; /* the directories fetched from URLs (dirfetch.c), with the worker */
	int fetching;
	/* Wakes the outbox worker and the mail sender before their time (serve_wake). */
	pthread_mutex_t wake_mu;
	pthread_cond_t wake_cv; /* on CLOCK_MONOTONIC */
	unsigned wakes;         /* serve_wake calls */
	int wake_ready;         /* wake_mu and wake_cv are made */
};

/* Sleeps ms milliseconds (the whole time, signals or not). Cannot fail. */
void serve_nap_ms(long ms);

/*
 * Sleeps at most ms milliseconds, less when the node is stopping or
 * serve_wake was called since the caller's *seen (then updated): the idle
 * threads of a serving node sleep here, so that a node with nothing to do
 * costs next to no CPU.
 */
void serve_wait_ms(struct serve_node *nd, long ms, unsigned *seen);

/* Wakes every thread waiting in serve_wait_ms (the outbox has work, or stop). */
void serve_wake(struct serve_node *nd);

#endif
