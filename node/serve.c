/*
 * The node's serve loop: start, reload the school key, stop. The listener
 * (listener.c) and the outbox worker (outbox.c) each have a thread, so a
 * school slow to answer never delays what arrives.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "bti.h"
#include "dirfetch.h"
#include "directory.h"
#include "keyring.h"
#include "listener.h"
#include "log.h"
#include "mail.h"
#include "notify.h"
#include "outbox.h"
#include "serve.h"
#include "spool.h"

uint64_t serve_now(void)
{
	const char *s = getenv("BATON_NOW");
	char *end;
	if (s && *s) {
		unsigned long long v = strtoull(s, &end, 10);
		if (*end == 0)
			return (uint64_t)v;
	}
	return (uint64_t)time(NULL);
}

void serve_nap_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

void serve_wait_ms(struct serve_node *nd, long ms, unsigned *seen)
{
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (ms % 1000) * 1000000L;
	until.tv_sec += until.tv_nsec / 1000000000L;
	until.tv_nsec %= 1000000000L;
	pthread_mutex_lock(&nd->wake_mu);
	while (nd->wakes == *seen && !atomic_load(&nd->stopping) &&
	       pthread_cond_timedwait(&nd->wake_cv, &nd->wake_mu, &until) == 0)
		;
	*seen = nd->wakes;
	pthread_mutex_unlock(&nd->wake_mu);
}

void serve_wake(struct serve_node *nd)
{
	pthread_mutex_lock(&nd->wake_mu);
	nd->wakes++;
	pthread_cond_broadcast(&nd->wake_cv);
	pthread_mutex_unlock(&nd->wake_mu);
}

/* The wake's lock and condition, the condition on the monotonic clock. */
static int serve_wake_init(struct serve_node *nd)
{
	pthread_condattr_t ca;
	int ok;
	if (pthread_condattr_init(&ca) != 0)
		return 0;
	ok = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0 &&
	     pthread_cond_init(&nd->wake_cv, &ca) == 0;
	pthread_condattr_destroy(&ca);
	if (!ok)
		return 0;
	if (pthread_mutex_init(&nd->wake_mu, NULL) != 0) {
		pthread_cond_destroy(&nd->wake_cv);
		return 0;
	}
	nd->wake_ready = 1;
	return 1;
}

const char *serve_hex(const uint8_t *p, size_t n, char *buf)
{
	return sodium_bin2hex(buf, 2 * n + 1, p, n);
}

/* A positive number from the environment when under max (or max is 0), else max. */
static uint64_t env_below(const char *name, uint64_t max)
{
	const char *s = getenv(name);
	char *end;
	unsigned long long v;
	if (s == NULL || *s < '0' || *s > '9')
		return max;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v == 0 || (max && v >= max))
		return max;
	return v;
}

static int own_card_fn(store_txn *t, void *arg)
{
	int r = store_own_card(t, arg);
	return r == BATON_ENOTFOUND ? bti_diag_err(BATON_EIO, "this node has no card") : r;
}

/* The spool directory and its bounds; tests shorten the idle time and shrink the room. */
static int serve_spool(struct serve_node *nd)
{
	snprintf(nd->spool, sizeof(nd->spool), "%s/spool", nd->dir);
	nd->spool_idle = (unsigned)env_below("BATON_SPOOL_IDLE", SPOOL_IDLE);
	nd->spool_room = env_below("BATON_SPOOL_ROOM", 0);
	if (mkdir(nd->spool, 0700) != 0 && errno != EEXIST)
		return bti_diag_err(BATON_EIO, "%s: %s", nd->spool, strerror(errno));
	return 0;
}

int serve_open(store *st, const struct serve_opts *o, struct serve_node **out)
{
	struct serve_node *nd = NULL;
	baton_card me;
	int r = BATON_ENOMEM;

	*out = NULL;
	if ((nd = calloc(1, sizeof(*nd))) == NULL || !serve_wake_init(nd) ||
	    (nd->work = outbox_work_new()) == NULL)
		goto out;
	nd->st = st;
	snprintf(nd->dir, sizeof(nd->dir), "%s", o->dir);
	if ((r = keyring_open(&nd->keys, o->dir, o->pass, o->plen)) != 0)
		goto out;
	nd->key = nd->keys.k[0];
	if ((r = serve_spool(nd)) != 0 || (r = store_read(st, own_card_fn, &me)) != 0)
		goto out;
	snprintf(nd->url, sizeof(nd->url), "%s", o->listen ? o->listen : me.endpoints[0]);
	nd->follow_card = o->listen == NULL;
	/* Entries appended meanwhile are signed with the key; it lives as long as nd. */
	store_set_audit_signer(st, nd->keys.k[0]);
	*out = nd;
	nd = NULL;
out:
	serve_free(nd);
	return r;
}

const char *serve_url(const struct serve_node *nd)
{
	return nd->url;
}

const char *serve_dir(const struct serve_node *nd)
{
	return nd->dir;
}

store *serve_store(const struct serve_node *nd)
{
	return nd->st;
}

const baton_key *serve_key(struct serve_node *nd)
{
	return atomic_load(&nd->key);
}

int serve_start(struct serve_node *nd, int parts)
{
	int r, e;
	if ((parts & SERVE_LISTEN) && (r = listener_open(nd, nd->url, &nd->lis)) != 0)
		return r;
	if ((parts & SERVE_OUTBOX) &&
	    (e = pthread_create(&nd->outbox_th, NULL, outbox_run, nd)) != 0)
		return bti_diag_err(BATON_EIO, "the outbox worker: %s", strerror(e));
	nd->working = (parts & SERVE_OUTBOX) != 0;
	if ((parts & SERVE_OUTBOX) && (e = pthread_create(&nd->mail_th, NULL, mail_run, nd)) != 0)
		return bti_diag_err(BATON_EIO, "the mail sender: %s", strerror(e));
	nd->mailing = (parts & SERVE_OUTBOX) != 0;
	if ((parts & SERVE_OUTBOX) &&
	    (e = pthread_create(&nd->fetch_th, NULL, dirfetch_run, nd)) != 0)
		return bti_diag_err(BATON_EIO, "the directory fetcher: %s", strerror(e));
	nd->fetching = (parts & SERVE_OUTBOX) != 0;
	if ((parts & SERVE_LISTEN) &&
	    (e = pthread_create(&nd->listen_th, NULL, listener_run, nd->lis)) != 0)
		return bti_diag_err(BATON_EIO, "the listener: %s", strerror(e));
	nd->listening = (parts & SERVE_LISTEN) != 0;
	if (nd->listening)
		node_log(NODE_LOG_INFO, "serve: listening at %s", nd->url);
	return 0;
}

void serve_reload(struct serve_node *nd)
{
	unsigned want = atomic_fetch_add(&nd->reload_asked, 1) + 1;
	while (nd->listening && !atomic_load(&nd->stopping) &&
	       (int)(atomic_load(&nd->reload_done) - want) < 0) {
		listener_wake(nd->lis);
		serve_nap_ms(POLL_MS / 4);
	}
}

/*
 * Waits for the outbox worker (or the mail sender), at most a few seconds:
 * a dial that hangs must not keep the node from stopping. Every receipt it
 * recorded has committed; an attempt cut short is counted and is made
 * again (a notice cut short stays queued).
 */
static void join_bounded(pthread_t th, const char *what)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 5;
	if (pthread_timedjoin_np(th, NULL, &until) != 0) {
		node_log(NODE_LOG_ERR, "serve: %s did not stop within 5 s; stopping anyway", what);
		fflush(stderr);
		_exit(0);
	}
}

void serve_stop(struct serve_node *nd)
{
	atomic_store(&nd->stopping, 1);
	serve_wake(nd);
	/* Woken until it has seen the flag: a wake just before it waits again is not lost. */
	while (nd->listening && pthread_tryjoin_np(nd->listen_th, NULL) != 0) {
		listener_wake(nd->lis);
		serve_nap_ms(POLL_MS / 4);
	}
	nd->listening = 0;
	if (nd->working)
		join_bounded(nd->outbox_th, "the outbox worker");
	nd->working = 0;
	if (nd->mailing)
		join_bounded(nd->mail_th, "the mail sender");
	nd->mailing = 0;
	if (nd->fetching)
		join_bounded(nd->fetch_th, "the directory fetcher");
	nd->fetching = 0;
}

void serve_free(struct serve_node *nd)
{
	if (nd == NULL)
		return;
	if (nd->wake_ready)
		serve_stop(nd);
	listener_close(nd->lis);
	keyring_free(&nd->keys);
	outbox_work_free(nd->work);
	if (nd->wake_ready) {
		pthread_cond_destroy(&nd->wake_cv);
		pthread_mutex_destroy(&nd->wake_mu);
	}
	free(nd);
}

/* Set by the signal handlers, read by serve_run's loop. */
static volatile sig_atomic_t got_stop, got_hup;

static void on_stop(int sig)
{
	(void)sig;
	got_stop = 1;
}

static void on_hup(int sig)
{
	(void)sig;
	got_hup = 1;
}

/* The signals serve takes, and all the descriptors the system allows: each peer is one. */
static void serve_process(void)
{
	struct sigaction sa;
	struct rlimit nofile;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = on_hup;
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
		nofile.rlim_cur = nofile.rlim_max;
		setrlimit(RLIMIT_NOFILE, &nofile);
	}
}

/* Tells the service manager state; a manager that cannot be told is logged, not fatal. */
static void serve_notify(const char *state)
{
	if (notify_send(state) != 0)
		node_log(NODE_LOG_WARN, "serve: %s", baton_diag());
}

/* A reload, with the service manager told it began (and when) and that it ended. */
static void serve_reload_notify(struct serve_node *nd)
{
	char state[64];
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(state, sizeof(state), "RELOADING=1\nMONOTONIC_USEC=%llu",
	         (unsigned long long)ts.tv_sec * 1000000ULL +
	             (unsigned long long)ts.tv_nsec / 1000);
	serve_notify(state);
	serve_reload(nd);
	serve_notify("READY=1");
}

int serve_run(struct serve_node *nd)
{
	int r;
	serve_process();
	if ((r = serve_start(nd, SERVE_LISTEN | SERVE_OUTBOX)) != 0) {
		serve_stop(nd);
		return r;
	}
	serve_notify("READY=1");
	for (uint64_t next_warn = 0; !got_stop;) {
		/* A signal to the process is taken by this thread and ends the sleep at once. */
		struct timespec idle = {IDLE_MS / 1000, (IDLE_MS % 1000) * 1000000L};
		if (serve_now() >= next_warn) {
			directory_warn_log(nd->st, serve_now());
			next_warn = serve_now() + 86400;
		}
		if (got_hup) {
			got_hup = 0;
			serve_reload_notify(nd);
		}
		if (!got_stop && !got_hup)
			nanosleep(&idle, NULL);
	}
	serve_notify("STOPPING=1");
	node_log(NODE_LOG_INFO, "serve: stopping");
	serve_stop(nd);
	return 0;
}
