/*
 * What node/web.c and node/web_session.c share: the sessions of logged-in
 * users and the count of failed logins, kept in memory only (a restart
 * logs everyone out, and forgets the failures).
 */
#ifndef BATON_NODE_WEB_IMPL_H
#define BATON_NODE_WEB_IMPL_H

#include <pthread.h>
#include <stdint.h>

#include <microhttpd.h>

#include "store.h"
#include "users.h"

#define WEB_SESSIONS      256 /* live sessions at most: the oldest idle one goes first */
#define WEB_SESSIONS_USER 8   /* of one user: a ninth login ends that user's oldest */
#define WEB_FAILS         512 /* users and addresses whose failures are counted */
#define WEB_TOKEN_HEX     65  /* 256 bits in hex, NUL-terminated */

struct web_session {
	char id[WEB_TOKEN_HEX];        /* the cookie's value; "" when the slot is free */
	char csrf[WEB_TOKEN_HEX];      /* what X-CSRF-Token must say */
	char user[STORE_USER_MAX + 1]; /* a console session's user; "" for a family's */
	int role;
	uint8_t stamp[USERS_STAMP]; /* the account's stamp at login (users_stamp) */
	uint8_t pk[32];             /* a family session's key (all zero for a console's) */
	uint64_t used;              /* monotonic seconds */
	uint64_t
	    tick; /* the state's count of logins and uses at its last: orders within a second */
};

struct web_fail {
	char key[160]; /* "u:NAME@ADDRESS" or "a:ADDRESS"; "" when free */
	unsigned n;
	uint64_t last;
};

/*
 * A family's session (a guardian's or student's key signed in to
 * /api/v1/family) is a web_session with pk set and no user, in its own
 * table with its own cookie: never a console session.
 */
#define WEB_FAMILY_SESSIONS 1024 /* live family sessions at most: the oldest idle goes first */
#define WEB_FAMILY_KEY      8    /* of one key: a ninth sign-in ends that key's oldest */
#define WEB_NONCES          1024 /* sign-in nonces live at once: the oldest is dropped */
#define WEB_NONCE_LIFE      120  /* seconds a nonce may be used in, once */
#define WEB_NONCES_FROM     32   /* of one client network at once: its next drops its oldest */
#define WEB_NONCE_WHO       48   /* bytes of a client network's name, with its NUL */

struct web_nonce {
	uint8_t n[32];
	uint64_t made;           /* monotonic seconds */
	char who[WEB_NONCE_WHO]; /* the client network it was given to */
	int live;
};

struct web_state {
	pthread_mutex_t lock;
	uint64_t tick; /* counts session logins and uses: least recently used is the lowest */
	uint64_t idle; /* seconds */
	struct web_session s[WEB_SESSIONS];
	struct web_fail f[WEB_FAILS];
	struct web_session fam[WEB_FAMILY_SESSIONS];
	struct web_nonce nonce[WEB_NONCES];
};

/* Monotonic seconds. Cannot fail. */
uint64_t web_mono(void);
/* Sets up ws (idle from BATON_WEB_IDLE, else WEB_IDLE). 0 or BATON_ENOMEM. */
int web_state_init(struct web_state *ws);
/* Wipes and frees what web_state_init made. */
void web_state_free(struct web_state *ws);

/*
 * Makes a session for user with role; copies it into *out (its id and
 * token). Cannot fail: when every slot is taken, the least recently used
 * session ends.
 */
void web_session_new(struct web_state *ws, const char *user, int role,
                     const uint8_t stamp[USERS_STAMP], struct web_session *out);
/*
 * Finds the live session whose id is id (may be NULL), copies it into *out
 * and marks it used. BATON_ENOTFOUND when there is none or it has been idle
 * too long (it ends then).
 */
int web_session_get(struct web_state *ws, const char *id, struct web_session *out);
/*
 * 1 when the account of session s (a copy web_session_get made) is no
 * longer as it was at login (users_stamp): removed, given a new password
 * or made again, from the console or with 'baton user' while serve runs.
 * The session ends then.
 * 0 when it may go on. Cannot fail.
 */
int web_session_gone(struct web_state *ws, store *st, const struct web_session *s);
/* Ends session id; nothing when there is none. */
void web_session_end(struct web_state *ws, const char *id);

/*
 * Family sessions, as the console's: web_family_new makes one for pk
 * (cannot fail: the least recently used goes when full, or that key's
 * oldest when it has WEB_FAMILY_KEY); web_family_get finds a live one and
 * marks it used (BATON_ENOTFOUND when none, or idle too long: it ends);
 * web_family_end ends one; web_family_end_key ends every session of pk.
 */
void web_family_new(struct web_state *ws, const uint8_t pk[32], struct web_session *out);
int web_family_get(struct web_state *ws, const char *id, struct web_session *out);
void web_family_end(struct web_state *ws, const char *id);
void web_family_end_key(struct web_state *ws, const uint8_t pk[32]);

/*
 * Sign-in nonces: web_nonce_new draws 32 random bytes into n for the client
 * network who and keeps them for WEB_NONCE_LIFE seconds (the oldest is
 * dropped when the table is full; who's own oldest once who holds
 * WEB_NONCES_FROM, so that one client asking for challenges in a loop
 * cannot push out the nonce another is signing). web_nonce_take forgets n
 * and returns 0 when it was live, else BATON_ENOTFOUND (unknown, used, or
 * expired).
 */
void web_nonce_new(struct web_state *ws, const char *who, uint8_t n[32]);
int web_nonce_take(struct web_state *ws, const uint8_t n[32]);

/* The failures counted against key (0 when forgotten). */
unsigned web_fails(struct web_state *ws, const char *key);
/* Counts one more failure against key. */
void web_fail(struct web_state *ws, const char *key);
/* Forgets key's failures (after a good login). */
void web_fail_clear(struct web_state *ws, const char *key);

/*
 * Seconds a connection has to send a request's headers, from when it
 * opens or its last request ended; and the bytes a second a body must
 * average once that long has passed. A slow client cannot keep a
 * connection by sending a byte at a time.
 */
#define WEB_HEAD_SECS 10
#define WEB_BODY_RATE 1024

struct web_conn;

/* The connections the server holds, and the thread that ends the late ones. */
struct web_conns {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t thread;
	int running, stop;
	struct web_conn *head;
};

/*
 * Sets up wc and starts its thread, which every second ends each
 * connection waiting longer than WEB_HEAD_SECS for a request's headers.
 * 0, or BATON_ENOMEM (nothing to stop then).
 */
int web_conns_start(struct web_conns *wc);
/* Stops the thread and frees what web_conns_start made; after the daemon stopped. */
void web_conns_stop(struct web_conns *wc);
/*
 * libmicrohttpd's MHD_OPTION_NOTIFY_CONNECTION callback (cls: the
 * web_conns): a connection enters the list, waiting for headers, when it
 * starts, and leaves it (freed) when it closes. Cannot fail: a connection
 * not tracked for want of memory is ended by the idle timeout alone.
 */
void web_conn_notify(void *cls, struct MHD_Connection *c, void **ctx,
                     enum MHD_ConnectionNotificationCode code);
/*
 * Marks c as in a request (busy: its headers came) or, when the request
 * ended, as waiting for the next one's headers from now. Cannot fail.
 */
void web_conn_busy(struct web_conns *wc, struct MHD_Connection *c, int busy);

#endif
