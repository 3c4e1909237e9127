/*
 * What node/web.c and node/web_session.c share: the sessions of logged-in
 * users and the count of failed logins, kept in memory only (a restart
 * logs everyone out, and forgets the failures).
 */
#ifndef BATON_NODE_WEB_IMPL_H
#define BATON_NODE_WEB_IMPL_H

#include <pthread.h>
#include <stdint.h>

#include "store.h"

#define WEB_SESSIONS  256 /* live sessions at most: the oldest idle one goes first */
#define WEB_FAILS     512 /* users and addresses whose failures are counted */
#define WEB_TOKEN_HEX 65  /* 256 bits in hex, NUL-terminated */

struct web_session {
	char id[WEB_TOKEN_HEX];   /* the cookie's value; "" when the slot is free */
	char csrf[WEB_TOKEN_HEX]; /* what X-CSRF-Token must say */
	char user[STORE_USER_MAX + 1];
	int role;
	uint64_t used; /* monotonic seconds */
};

struct web_fail {
	char key[80]; /* "u:NAME" or "a:ADDRESS"; "" when free */
	unsigned n;
	uint64_t last;
};

struct web_state {
	pthread_mutex_t lock;
	uint64_t idle; /* seconds */
	struct web_session s[WEB_SESSIONS];
	struct web_fail f[WEB_FAILS];
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
void web_session_new(struct web_state *ws, const char *user, int role, struct web_session *out);
/*
 * Finds the live session whose id is id (may be NULL), copies it into *out
 * and marks it used. BATON_ENOTFOUND when there is none or it has been idle
 * too long (it ends then).
 */
int web_session_get(struct web_state *ws, const char *id, struct web_session *out);
/*
 * 1 when the account of session s (a copy web_session_get made) no longer
 * exists with the role it signed in with: removed, from the console or
 * with 'baton user remove' while serve runs. The session ends then.
 * 0 when it may go on. Cannot fail.
 */
int web_session_gone(struct web_state *ws, store *st, const struct web_session *s);
/* Ends session id; nothing when there is none. */
void web_session_end(struct web_state *ws, const char *id);

/* The failures counted against key (0 when forgotten). */
unsigned web_fails(struct web_state *ws, const char *key);
/* Counts one more failure against key. */
void web_fail(struct web_state *ws, const char *key);
/* Forgets key's failures (after a good login). */
void web_fail_clear(struct web_state *ws, const char *key);

#endif
