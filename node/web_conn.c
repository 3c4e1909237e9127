/*
 * Deadlines for the console's connections (web_impl.h). libmicrohttpd only
 * ends a connection that has been silent for its timeout, so a client
 * sending a byte a second keeps one forever, and a few addresses of such
 * clients would hold every connection the server takes. Here a connection
 * has WEB_HEAD_SECS to send a whole request's headers, from when it opens
 * or its last request ended; a thread ends the late ones by shutting their
 * socket down, after which the server closes them as any connection whose
 * client went away. A connection is in the list from libmicrohttpd's
 * STARTED notification to its CLOSED one, which comes before the socket is
 * closed, so the thread never touches a descriptor that was reused.
 */
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include <microhttpd.h>

#include "bti.h"
#include "web_impl.h"

struct web_conn {
	struct web_conn *prev, *next;
	int fd;
	int waiting;    /* for a request's headers */
	uint64_t since; /* monotonic ms: since when */
};

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void sweep(struct web_conns *wc)
{
	uint64_t now = mono_ms();
	for (struct web_conn *k = wc->head; k; k = k->next)
		if (k->waiting && k->fd >= 0 && now - k->since > (uint64_t)WEB_HEAD_SECS * 1000u) {
			shutdown(k->fd, SHUT_RDWR);
			k->fd = -1; /* once */
		}
}

static void *sweeper(void *arg)
{
	struct web_conns *wc = arg;
	struct timespec at;
	pthread_mutex_lock(&wc->lock);
	while (!wc->stop) {
		clock_gettime(CLOCK_MONOTONIC, &at);
		at.tv_sec += 1;
		pthread_cond_timedwait(&wc->wake, &wc->lock, &at);
		sweep(wc);
	}
	pthread_mutex_unlock(&wc->lock);
	return NULL;
}

int web_conns_start(struct web_conns *wc)
{
	pthread_condattr_t ca;
	int ok;
	wc->head = NULL;
	wc->stop = 0;
	if (pthread_mutex_init(&wc->lock, NULL) != 0)
		return BATON_ENOMEM;
	ok = pthread_condattr_init(&ca) == 0 &&
	     pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0 &&
	     pthread_cond_init(&wc->wake, &ca) == 0;
	pthread_condattr_destroy(&ca);
	if (!ok) {
		pthread_mutex_destroy(&wc->lock);
		return BATON_ENOMEM;
	}
	if (pthread_create(&wc->thread, NULL, sweeper, wc) != 0) {
		pthread_cond_destroy(&wc->wake);
		pthread_mutex_destroy(&wc->lock);
		return BATON_ENOMEM;
	}
	wc->running = 1;
	return 0;
}

void web_conns_stop(struct web_conns *wc)
{
	if (!wc->running)
		return;
	pthread_mutex_lock(&wc->lock);
	wc->stop = 1;
	pthread_cond_signal(&wc->wake);
	pthread_mutex_unlock(&wc->lock);
	pthread_join(wc->thread, NULL);
	pthread_cond_destroy(&wc->wake);
	pthread_mutex_destroy(&wc->lock);
	wc->running = 0;
}

void web_conn_notify(void *cls, struct MHD_Connection *c, void **ctx,
                     enum MHD_ConnectionNotificationCode code)
{
	struct web_conns *wc = cls;
	struct web_conn *k = *ctx;
	const union MHD_ConnectionInfo *ci;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
		if (!ci || (k = calloc(1, sizeof(*k))) == NULL)
			return; /* not tracked: the idle timeout alone ends it */
		k->fd = ci->connect_fd;
		k->waiting = 1;
		k->since = mono_ms();
		pthread_mutex_lock(&wc->lock);
		if ((k->next = wc->head) != NULL)
			k->next->prev = k;
		wc->head = k;
		pthread_mutex_unlock(&wc->lock);
		*ctx = k;
		return;
	}
	if (!k)
		return;
	pthread_mutex_lock(&wc->lock);
	if (k->prev)
		k->prev->next = k->next;
	else
		wc->head = k->next;
	if (k->next)
		k->next->prev = k->prev;
	pthread_mutex_unlock(&wc->lock);
	free(k);
	*ctx = NULL;
}

void web_conn_busy(struct web_conns *wc, struct MHD_Connection *c, int busy)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	struct web_conn *k = ci ? ci->socket_context : NULL;
	if (!k)
		return;
	pthread_mutex_lock(&wc->lock);
	k->waiting = !busy;
	k->since = mono_ms();
	pthread_mutex_unlock(&wc->lock);
}
