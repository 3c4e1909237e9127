/* A parallel for over the machine's cores; see par.h. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <unistd.h>

#include "par.h"

#define HELPERS_MAX 3 /* a node does little else: beyond four cores the store is the limit */

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t job_cv = PTHREAD_COND_INITIALIZER, done_cv = PTHREAD_COND_INITIALIZER;
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* The job: written under mu, and only while no helper runs one. */
static void (*job_fn)(size_t, void *);
static void *job_arg;
static size_t job_n;
static atomic_size_t job_next;
static unsigned long job_gen; /* bumped for every job */
static int busy;              /* helpers inside a job */

static void run(void)
{
	size_t i;
	while ((i = atomic_fetch_add(&job_next, 1)) < job_n)
		job_fn(i, job_arg);
}

static void *helper(void *unused)
{
	unsigned long seen = 0;
	(void)unused;
	pthread_mutex_lock(&mu);
	for (;;) {
		while (job_gen == seen)
			pthread_cond_wait(&job_cv, &mu);
		seen = job_gen;
		busy++;
		pthread_mutex_unlock(&mu);
		run();
		pthread_mutex_lock(&mu);
		if (--busy == 0)
			pthread_cond_signal(&done_cv);
	}
	return NULL;
}

static void start_helpers(void)
{
	/* The cores this process may run on (an affinity mask or a container's). */
	cpu_set_t set;
	long cores = sched_getaffinity(0, sizeof(set), &set) == 0 ? CPU_COUNT(&set)
	                                                          : sysconf(_SC_NPROCESSORS_ONLN);
	int want = cores > 1 ? (int)(cores - 1) : 0;
	sigset_t all, old;
	pthread_attr_t at;

	if (want > HELPERS_MAX)
		want = HELPERS_MAX;
	if (want == 0 || pthread_attr_init(&at) != 0)
		return;
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	/* Signals stay with the threads that wait for them. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (int i = 0; i < want; i++) {
		pthread_t th;
		if (pthread_create(&th, &at, helper, NULL) != 0)
			break; /* fewer helpers, or none: the caller does the rest */
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&at);
}

void par_for(size_t n, void (*fn)(size_t i, void *arg), void *arg)
{
	if (n == 0)
		return;
	if (n > 1)
		pthread_once(&once, start_helpers);
	pthread_mutex_lock(&mu);
	while (busy)
		pthread_cond_wait(&done_cv, &mu); /* a helper late for the last job */
	job_fn = fn;
	job_arg = arg;
	job_n = n;
	atomic_store(&job_next, 0);
	job_gen++;
	pthread_cond_broadcast(&job_cv);
	pthread_mutex_unlock(&mu);

	run();

	pthread_mutex_lock(&mu);
	while (busy)
		pthread_cond_wait(&done_cv, &mu);
	pthread_mutex_unlock(&mu);
}
