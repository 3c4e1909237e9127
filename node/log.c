/*
 * The node's log lines: the one place their format is made.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "log.h"

static pthread_once_t journal_once = PTHREAD_ONCE_INIT;
static int to_journal;

/* JOURNAL_STREAM is "DEVICE:INODE" of the stream systemd connected; stderr may since be another. */
static void journal_look(void)
{
	const char *s = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat sb;
	int end = 0;
	if (s == NULL || sscanf(s, "%llu:%llu%n", &dev, &ino, &end) != 2 || s[end] != '\0' ||
	    fstat(2, &sb) != 0)
		return;
	to_journal = (unsigned long long)sb.st_dev == dev && (unsigned long long)sb.st_ino == ino;
}

void node_log_init(void)
{
	pthread_once(&journal_once, journal_look);
}

static void vlog(int prio, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
static void vlog(int prio, const char *fmt, va_list ap)
{
	char line[1024], *big = NULL, *p = line;
	struct timespec ts;
	struct tm tm;
	size_t at = 0;
	va_list again;
	int n;

	node_log_init();
	if (to_journal) {
		at = (size_t)snprintf(line, sizeof(line), "<%d>", prio);
	} else {
		clock_gettime(CLOCK_REALTIME, &ts);
		at = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", gmtime_r(&ts.tv_sec, &tm));
		at += (size_t)snprintf(line + at, sizeof(line) - at, ".%03ldZ ",
		                       ts.tv_nsec / 1000000);
	}
	/* One write per line (stderr is unbuffered), so that a line costs one system call. */
	va_copy(again, ap);
	n = vsnprintf(line + at, sizeof(line) - at, fmt, ap);
	if (n >= 0 && (size_t)n + 1 >= sizeof(line) - at && (big = malloc(at + (size_t)n + 2))) {
		memcpy(big, line, at);
		vsnprintf(big + at, (size_t)n + 1, fmt, again);
		p = big;
	}
	va_end(again);
	if (n < 0)
		n = 0;
	if (p == line && (size_t)n >= sizeof(line) - at)
		n = (int)(sizeof(line) - at - 2); /* no memory for the rest: the line, cut */
	p[at + (size_t)n] = '\n';
	fwrite(p, 1, at + (size_t)n + 1, stderr);
	free(big);
}

void node_log(int prio, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(prio, fmt, ap);
	va_end(ap);
}

static pthread_mutex_t unverified_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long unverified_total, unverified_quiet;
static time_t unverified_last;

void node_log_unverified(const char *fmt, ...)
{
	time_t now = time(NULL);
	unsigned long total, quiet;
	char line[700];
	va_list ap;

	pthread_mutex_lock(&unverified_lock);
	unverified_total++;
	if (now == unverified_last) {
		unverified_quiet++;
		pthread_mutex_unlock(&unverified_lock);
		return;
	}
	unverified_last = now;
	total = unverified_total;
	quiet = unverified_quiet;
	unverified_quiet = 0;
	pthread_mutex_unlock(&unverified_lock);
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	node_log(NODE_LOG_WARN,
	         "%s [unverified, not audited: %lu refused so far, %lu of them not logged since "
	         "the last such line]",
	         line, total, quiet);
}

const char *node_log_time(uint64_t t, char buf[static 32])
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (t > (uint64_t)INT64_MAX || gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, 32, "%Y-%m-%d %H:%M UTC", &tm) == 0)
		snprintf(buf, 32, "%llu", (unsigned long long)t);
	return buf;
}
