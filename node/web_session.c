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

/*
 * The slot for a new session of user: a free one, else one idle too long,
 * the user's own least recently used when it has WEB_SESSIONS_USER, else
 * the least recently used of all. Lock held.
 */
static struct web_session *slot_for(struct web_state *ws, const char *user, uint64_t now)
{
	struct web_session *pick = NULL, *mine = NULL;
	size_t n = 0;
	for (size_t i = 0; i < WEB_SESSIONS; i++) {
		struct web_session *s = &ws->s[i];
		if (s->id[0] && now - s->used > ws->idle)
			sodium_memzero(s, sizeof(*s));
		if (s->id[0] && strcmp(s->user, user) == 0) {
			n++;
			if (!mine || s->tick < mine->tick)
				mine = s;
		}
		if (!pick || !s->id[0] || (pick->id[0] && s->tick < pick->tick))
			pick = s;
	}
	return n >= WEB_SESSIONS_USER ? mine : pick;
}

void web_session_new(struct web_state *ws, const char *user, int role,
                     const uint8_t stamp[USERS_STAMP], struct web_session *out)
{
	uint64_t now = web_mono();
	pthread_mutex_lock(&ws->lock);
	struct web_session *pick = slot_for(ws, user, now);
	sodium_memzero(pick, sizeof(*pick));
	token(pick->id);
	token(pick->csrf);
	snprintf(pick->user, sizeof(pick->user), "%s", user);
	pick->role = role;
	memcpy(pick->stamp, stamp, USERS_STAMP);
	pick->used = now;
	pick->tick = ++ws->tick;
	*out = *pick;
	pthread_mutex_unlock(&ws->lock);
}

/* The slot holding id, or NULL. Called with the lock held. */
static struct web_session *find(struct web_state *ws, const char *id)
{
	if (!id || strlen(id) != WEB_TOKEN_HEX - 1)
		return NULL;
	for (size_t i = 0; i < WEB_SESSIONS; i++)
		if (ws->s[i].id[0] && sodium_memcmp(ws->s[i].id, id, WEB_TOKEN_HEX - 1) == 0)
			return &ws->s[i];
	return NULL;
}

int web_session_get(struct web_state *ws, const char *id, struct web_session *out)
{
	uint64_t now = web_mono();
	int r = BATON_ENOTFOUND;
	pthread_mutex_lock(&ws->lock);
	struct web_session *s = find(ws, id);
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
	pthread_mutex_lock(&ws->lock);
	struct web_session *s = find(ws, id);
	if (s)
		sodium_memzero(s, sizeof(*s));
	pthread_mutex_unlock(&ws->lock);
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

/* As slot_for, for a family session of pk. Lock held. */
static struct web_family *family_slot(struct web_state *ws, const uint8_t pk[32], uint64_t now)
{
	struct web_family *pick = NULL, *mine = NULL;
	size_t n = 0;
	for (size_t i = 0; i < WEB_FAMILY_SESSIONS; i++) {
		struct web_family *s = &ws->fam[i];
		if (s->id[0] && now - s->used > ws->idle)
			sodium_memzero(s, sizeof(*s));
		if (s->id[0] && sodium_memcmp(s->pk, pk, 32) == 0) {
			n++;
			if (!mine || s->tick < mine->tick)
				mine = s;
		}
		if (!pick || !s->id[0] || (pick->id[0] && s->tick < pick->tick))
			pick = s;
	}
	return n >= WEB_FAMILY_KEY ? mine : pick;
}

void web_family_new(struct web_state *ws, const uint8_t pk[32], struct web_family *out)
{
	uint64_t now = web_mono();
	pthread_mutex_lock(&ws->lock);
	struct web_family *pick = family_slot(ws, pk, now);
	sodium_memzero(pick, sizeof(*pick));
	token(pick->id);
	token(pick->csrf);
	memcpy(pick->pk, pk, 32);
	pick->used = now;
	pick->tick = ++ws->tick;
	*out = *pick;
	pthread_mutex_unlock(&ws->lock);
}

static struct web_family *family_find(struct web_state *ws, const char *id)
{
	if (!id || strlen(id) != WEB_TOKEN_HEX - 1)
		return NULL;
	for (size_t i = 0; i < WEB_FAMILY_SESSIONS; i++)
		if (ws->fam[i].id[0] && sodium_memcmp(ws->fam[i].id, id, WEB_TOKEN_HEX - 1) == 0)
			return &ws->fam[i];
	return NULL;
}

int web_family_get(struct web_state *ws, const char *id, struct web_family *out)
{
	uint64_t now = web_mono();
	int r = BATON_ENOTFOUND;
	pthread_mutex_lock(&ws->lock);
	struct web_family *s = family_find(ws, id);
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

void web_family_end(struct web_state *ws, const char *id)
{
	pthread_mutex_lock(&ws->lock);
	struct web_family *s = family_find(ws, id);
	if (s)
		sodium_memzero(s, sizeof(*s));
	pthread_mutex_unlock(&ws->lock);
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

void web_nonce_new(struct web_state *ws, uint8_t n[32])
{
	uint64_t now = web_mono();
	struct web_nonce *pick = NULL;
	randombytes_buf(n, 32);
	pthread_mutex_lock(&ws->lock);
	for (size_t i = 0; i < WEB_NONCES; i++) {
		struct web_nonce *x = &ws->nonce[i];
		if (x->live && now - x->made > WEB_NONCE_LIFE)
			memset(x, 0, sizeof(*x));
		if (!pick || !x->live || (pick->live && x->made < pick->made))
			pick = x;
	}
	memcpy(pick->n, n, 32);
	pick->made = now;
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
