/*
 * The console's sessions and failed-login counts (web_impl.h), in fixed
 * tables under one lock: memory stays bounded whatever clients send.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "bti.h"
#include "users.h"
#include "web.h"
#include "web_impl.h"

uint64_t web_mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec;
}

int web_state_init(struct web_state *ws)
{
	const char *e = getenv("BATON_WEB_IDLE");
	char *end;
	unsigned long v = e ? strtoul(e, &end, 10) : 0;
	memset(ws, 0, sizeof(*ws));
	ws->idle = e && *e && *end == 0 && v > 0 && v <= 86400 ? v : WEB_IDLE;
	return pthread_mutex_init(&ws->lock, NULL) == 0 ? 0 : BATON_ENOMEM;
}

void web_state_free(struct web_state *ws)
{
	pthread_mutex_destroy(&ws->lock);
	sodium_memzero(ws->s, sizeof(ws->s));
	sodium_memzero(ws->fam, sizeof(ws->fam));
}

static void token(char *hex)
{
	uint8_t b[32];
	randombytes_buf(b, sizeof(b));
	sodium_bin2hex(hex, WEB_TOKEN_HEX, b, sizeof(b));
	sodium_memzero(b, sizeof(b));
}

/* One table of sessions: the console's, or the family's. */
struct table {
	struct web_session *s;
	size_t n;
	size_t per; /* sessions of one owner at most */
};

static struct table console_table(struct web_state *ws)
{
	return (struct table){ws->s, WEB_SESSIONS, WEB_SESSIONS_USER};
}

static struct table family_table(struct web_state *ws)
{
	return (struct table){ws->fam, WEB_FAMILY_SESSIONS, WEB_FAMILY_KEY};
}

/* 1 when s belongs to who's owner: the same user, or for a family session the same key. */
static int same_owner(const struct web_session *s, const struct web_session *who)
{
	return who->user[0] ? strcmp(s->user, who->user) == 0
	                    : sodium_memcmp(s->pk, who->pk, sizeof(s->pk)) == 0;
}

/*
 * The slot for a new session of who's owner: a free one, else one idle too
 * long, the owner's own least recently used when it has t.per, else the
 * least recently used of all. Lock held.
 */
static struct web_session *slot_for(struct web_state *ws, struct table t,
                                    const struct web_session *who, uint64_t now)
{
	struct web_session *pick = NULL, *mine = NULL;
	size_t n = 0;
	for (size_t i = 0; i < t.n; i++) {
		struct web_session *s = &t.s[i];
		if (s->id[0] && now - s->used > ws->idle)
			sodium_memzero(s, sizeof(*s));
		if (s->id[0] && same_owner(s, who)) {
			n++;
			if (!mine || s->tick < mine->tick)
				mine = s;
		}
		if (!pick || !s->id[0] || (pick->id[0] && s->tick < pick->tick))
			pick = s;
	}
	return n >= t.per ? mine : pick;
}

/* A new session in t of who (its owner and rights), copied into *out with its id and token. */
static void session_new(struct web_state *ws, struct table t, const struct web_session *who,
                        struct web_session *out)
{
	uint64_t now = web_mono();
	pthread_mutex_lock(&ws->lock);
	struct web_session *pick = slot_for(ws, t, who, now);
	*pick = *who;
	token(pick->id);
	token(pick->csrf);
	pick->used = now;
	pick->tick = ++ws->tick;
	*out = *pick;
	pthread_mutex_unlock(&ws->lock);
}

/* The slot of t holding id, or NULL. Called with the lock held. */
static struct web_session *find(struct table t, const char *id)
{
	if (!id || strlen(id) != WEB_TOKEN_HEX - 1)
		return NULL;
	for (size_t i = 0; i < t.n; i++)
		if (t.s[i].id[0] && sodium_memcmp(t.s[i].id, id, WEB_TOKEN_HEX - 1) == 0)
			return &t.s[i];
	return NULL;
}

static int session_get(struct web_state *ws, struct table t, const char *id,
                       struct web_session *out)
{
	uint64_t now = web_mono();
	int r = BATON_ENOTFOUND;
	pthread_mutex_lock(&ws->lock);
	struct web_session *s = find(t, id);
	if (s && now - s->used > ws->idle)
		sodium_memzero(s, sizeof(*s));
	else if (s) {
		s->used = now;
		s->tick = ++ws->tick;
		*out = *s;
		r = 0;
	}
	pthread_mutex_unlock(&ws->lock);
	return r;
}

static void session_end(struct web_state *ws, struct table t, const char *id)
{
	pthread_mutex_lock(&ws->lock);
	struct web_session *s = find(t, id);
	if (s)
		sodium_memzero(s, sizeof(*s));
	pthread_mutex_unlock(&ws->lock);
}

void web_session_new(struct web_state *ws, const char *user, int role,
                     const uint8_t stamp[USERS_STAMP], struct web_session *out)
{
	struct web_session who;
	memset(&who, 0, sizeof(who));
	snprintf(who.user, sizeof(who.user), "%s", user);
	who.role = role;
	memcpy(who.stamp, stamp, USERS_STAMP);
	session_new(ws, console_table(ws), &who, out);
	sodium_memzero(&who, sizeof(who));
}

int web_session_get(struct web_state *ws, const char *id, struct web_session *out)
{
	return session_get(ws, console_table(ws), id, out);
}

int web_session_gone(struct web_state *ws, store *st, const struct web_session *s)
{
	uint8_t now[USERS_STAMP];
	if (users_stamp(st, s->user, now) == 0 && sodium_memcmp(now, s->stamp, USERS_STAMP) == 0)
		return 0;
	web_session_end(ws, s->id);
	return 1;
}

void web_session_end(struct web_state *ws, const char *id)
{
	session_end(ws, console_table(ws), id);
}

/* key's slot; with make, a new one (the stalest taken over when full). Lock held. */
static struct web_fail *fail_slot(struct web_state *ws, const char *key, int make)
{
	struct web_fail *pick = NULL;
	uint64_t now = web_mono();
	for (size_t i = 0; i < WEB_FAILS; i++) {
		struct web_fail *f = &ws->f[i];
		if (f->key[0] && now - f->last > WEB_FAIL_FORGET)
			memset(f, 0, sizeof(*f));
		if (f->key[0] && strcmp(f->key, key) == 0)
			return f;
		if (!pick || !f->key[0] || (pick->key[0] && f->last < pick->last))
			pick = f;
	}
	if (!make)
		return NULL;
	memset(pick, 0, sizeof(*pick));
	snprintf(pick->key, sizeof(pick->key), "%s", key);
	return pick;
}

unsigned web_fails(struct web_state *ws, const char *key)
{
	pthread_mutex_lock(&ws->lock);
	struct web_fail *f = fail_slot(ws, key, 0);
	unsigned n = f ? f->n : 0;
	pthread_mutex_unlock(&ws->lock);
	return n;
}

void web_fail(struct web_state *ws, const char *key)
{
	pthread_mutex_lock(&ws->lock);
	struct web_fail *f = fail_slot(ws, key, 1);
	f->n++;
	f->last = web_mono();
	pthread_mutex_unlock(&ws->lock);
}

void web_fail_clear(struct web_state *ws, const char *key)
{
	pthread_mutex_lock(&ws->lock);
	struct web_fail *f = fail_slot(ws, key, 0);
	if (f)
		memset(f, 0, sizeof(*f));
	pthread_mutex_unlock(&ws->lock);
}

/* ---- family sessions ---- */

void web_family_new(struct web_state *ws, const uint8_t pk[32], struct web_session *out)
{
	struct web_session who;
	memset(&who, 0, sizeof(who));
	memcpy(who.pk, pk, sizeof(who.pk));
	session_new(ws, family_table(ws), &who, out);
}

int web_family_get(struct web_state *ws, const char *id, struct web_session *out)
{
	return session_get(ws, family_table(ws), id, out);
}

void web_family_end(struct web_state *ws, const char *id)
{
	session_end(ws, family_table(ws), id);
}

void web_family_end_key(struct web_state *ws, const uint8_t pk[32])
{
	pthread_mutex_lock(&ws->lock);
	for (size_t i = 0; i < WEB_FAMILY_SESSIONS; i++)
		if (ws->fam[i].id[0] && sodium_memcmp(ws->fam[i].pk, pk, 32) == 0)
			sodium_memzero(&ws->fam[i], sizeof(ws->fam[i]));
	pthread_mutex_unlock(&ws->lock);
}

/* ---- sign-in nonces ---- */

void web_nonce_new(struct web_state *ws, const char *who, uint8_t n[32])
{
	uint64_t now = web_mono();
	struct web_nonce *pick = NULL, *mine = NULL;
	size_t k = 0;
	randombytes_buf(n, 32);
	pthread_mutex_lock(&ws->lock);
	for (size_t i = 0; i < WEB_NONCES; i++) {
		struct web_nonce *x = &ws->nonce[i];
		if (x->live && now - x->made > WEB_NONCE_LIFE)
			memset(x, 0, sizeof(*x));
		if (x->live && strcmp(x->who, who) == 0) {
			k++;
			if (!mine || x->made < mine->made)
				mine = x;
		}
		if (!pick || !x->live || (pick->live && x->made < pick->made))
			pick = x;
	}
	if (k >= WEB_NONCES_FROM)
		pick = mine;
	memcpy(pick->n, n, 32);
	pick->made = now;
	snprintf(pick->who, sizeof(pick->who), "%s", who);
	pick->live = 1;
	pthread_mutex_unlock(&ws->lock);
}

int web_nonce_take(struct web_state *ws, const uint8_t n[32])
{
	uint64_t now = web_mono();
	int r = BATON_ENOTFOUND;
	pthread_mutex_lock(&ws->lock);
	for (size_t i = 0; i < WEB_NONCES; i++) {
		struct web_nonce *x = &ws->nonce[i];
		if (!x->live || sodium_memcmp(x->n, n, 32) != 0)
			continue;
		if (now - x->made <= WEB_NONCE_LIFE)
			r = 0;
		memset(x, 0, sizeof(*x));
		break;
	}
	pthread_mutex_unlock(&ws->lock);
	return r;
}
