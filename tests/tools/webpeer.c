/*
 * webpeer: hostile and heavy HTTP clients for the console's web server
 * (tests/cli/web_hostile.sh, tests/bench/run.sh). Libc and pthreads only;
 * alarm() bounds every run. Results go to standard output, one line.
 *
 *   webpeer hold ADDR PORT N SECONDS GAP_MS [FROM...]
 *       N connections, spread over the local addresses FROM (default any),
 *       held SECONDS; with GAP_MS > 0 each sends one byte of a request's
 *       headers every GAP_MS (a slow client). Prints "ready opened=K" once
 *       all are tried, then "opened=K closed=C open=O" at the end, where
 *       closed counts connections the server ended.
 *   webpeer body ADDR PORT SECONDS COOKIE TOKEN
 *       a POST whose headers (with the session's cookie, NAME=ID, and token)
 *       come at once and whose 60000-byte body comes a byte a second;
 *       prints "closed after S s" when the server ends it within SECONDS,
 *       else "open after S s".
 *   webpeer headers ADDR PORT COUNT SIZE
 *       one GET with COUNT headers of SIZE bytes each; prints the status
 *       code of the answer, or "closed" when the server ended the
 *       connection without one.
 *   webpeer load ADDR PORT CONNS SECONDS FROMS COOKIES PATH...
 *       CONNS keep-alive connections, from the local addresses FROMS (a
 *       comma-separated list, taken in turn: the server takes 32 a
 *       address), each with the next of COOKIES (comma-separated, each
 *       NAME=ID/TOKEN: the session's cookie and its token), sending GET
 *       PATH (in turn) as fast as answers come, for
 *       SECONDS; prints each
 *       request's time in microseconds, one a line, and on standard error
 *       the count of requests and of answers other than 200.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CONNS_MAX 4096
#define WAIT_MS   60000

static struct sockaddr_in target;

static long long now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

static void usage(void)
{
	fprintf(stderr, "usage: webpeer hold ADDR PORT N SECONDS GAP_MS [FROM...]\n"
	                "       webpeer body ADDR PORT SECONDS COOKIE TOKEN\n"
	                "       webpeer headers ADDR PORT COUNT SIZE\n"
	                "       webpeer load ADDR PORT CONNS SECONDS FROMS COOKIES PATH...\n");
	exit(2);
}

static long num(const char *s, long lo, long hi)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (*s == 0 || *end != 0 || v < lo || v > hi) {
		fprintf(stderr, "webpeer: \"%s\": a number %ld to %ld is required\n", s, lo, hi);
		exit(2);
	}
	return v;
}

/* A connected socket to target, bound first to from (may be NULL); -1 on failure. */
static int dial(const char *from)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	struct sockaddr_in sa = {.sin_family = AF_INET};
	if (fd < 0)
		return -1;
	if (from && (inet_pton(AF_INET, from, &sa.sin_addr) != 1 ||
	             bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)) {
		close(fd);
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&target, sizeof(target)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* 1 when the server has ended fd (EOF or an error), reading what it sent. */
static int ended(int fd)
{
	char buf[4096];
	struct pollfd p = {.fd = fd, .events = POLLIN};
	while (poll(&p, 1, 0) > 0) {
		ssize_t k = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (k == 0 || (k < 0 && errno != EAGAIN && errno != EINTR))
			return 1;
		if (k < 0)
			return 0;
	}
	return (p.revents & (POLLHUP | POLLERR)) != 0;
}

static int hold(int argc, char **argv)
{
	static int fd[CONNS_MAX];
	static size_t sent[CONNS_MAX];
	static const char req[] = "GET /api/v1/me HTTP/1.1\r\nHost: localhost\r\nX-Slow: ";
	long n = num(argv[0], 1, CONNS_MAX), secs = num(argv[1], 1, 3600);
	long gap = num(argv[2], 0, 60000);
	int opened = 0, closed = 0, open_ = 0;
	long long end, next;

	alarm((unsigned)secs + 120);
	for (long i = 0; i < n; i++) {
		fd[i] = dial(argc > 3 ? argv[3 + i % (argc - 3)] : NULL);
		opened += fd[i] >= 0;
	}
	printf("ready opened=%d\n", opened);
	fflush(stdout);
	end = now_us() + secs * 1000000LL;
	next = now_us();
	while (now_us() < end) {
		if (gap > 0 && now_us() >= next) {
			for (long i = 0; i < n; i++) {
				char b = sent[i] < sizeof(req) - 1 ? req[sent[i]] : 'a';
				if (fd[i] >= 0 &&
				    send(fd[i], &b, 1, MSG_NOSIGNAL | MSG_DONTWAIT) == 1)
					sent[i]++;
			}
			next += gap * 1000LL;
		}
		usleep(50000);
		for (long i = 0; i < n; i++)
			if (fd[i] >= 0 && ended(fd[i])) {
				close(fd[i]);
				fd[i] = -1;
				closed++;
			}
	}
	for (long i = 0; i < n; i++)
		if (fd[i] >= 0) {
			open_++;
			close(fd[i]);
		}
	printf("opened=%d closed=%d open=%d\n", opened, closed, open_);
	return 0;
}

/* Sends all of p, or stops when the server ends the connection. 0 or -1. */
static int send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/* The status code of the answer on fd, or 0 when there is none within WAIT_MS. */
static int status_of(int fd)
{
	char buf[64] = {0};
	size_t got = 0;
	struct pollfd p = {.fd = fd, .events = POLLIN};
	while (got < 12 && poll(&p, 1, WAIT_MS) > 0) {
		ssize_t k = recv(fd, buf + got, sizeof(buf) - 1 - got, 0);
		if (k <= 0)
			break;
		got += (size_t)k;
	}
	return got >= 12 && strncmp(buf, "HTTP/1.", 7) == 0 ? atoi(buf + 9) : 0;
}

static int body(char **argv)
{
	long secs = num(argv[0], 1, 3600);
	long long t0 = now_us(), end = t0 + secs * 1000000LL;
	char head[640];
	int fd, n = snprintf(head, sizeof(head),
	                     "POST /api/v1/me HTTP/1.1\r\nHost: localhost\r\n"
	                     "Cookie: %.200s\r\nX-CSRF-Token: %.100s\r\n"
	                     "Content-Type: application/json\r\nContent-Length: 60000\r\n\r\n",
	                     argv[1], argv[2]);
	alarm((unsigned)secs + 120);
	if ((fd = dial(NULL)) < 0 || send_all(fd, head, (size_t)n) != 0) {
		printf("refused\n");
		return 0;
	}
	while (now_us() < end) {
		if (send(fd, " ", 1, MSG_NOSIGNAL | MSG_DONTWAIT) != 1 || ended(fd)) {
			printf("closed after %.0f s\n", (double)(now_us() - t0) / 1e6);
			return 0;
		}
		sleep(1);
	}
	printf("open after %.0f s\n", (double)(now_us() - t0) / 1e6);
	return 0;
}

static int headers(char **argv)
{
	long count = num(argv[0], 0, 1000000), size = num(argv[1], 1, 16 << 20);
	char *line = malloc((size_t)size + 32);
	int fd, st, failed = 0;
	if (!line)
		return 1;
	alarm(600);
	if ((fd = dial(NULL)) < 0) {
		printf("refused\n");
		return 0;
	}
	failed |= send_all(fd, "GET /api/v1/me HTTP/1.1\r\nHost: localhost\r\n", 42);
	memset(line, 'a', (size_t)size + 32);
	for (long i = 0; i < count && !failed; i++) {
		int k = snprintf(line, 32, "X-H%ld: ", i);
		line[k] = 'a';
		memcpy(line + size + 16, "\r\n", 2);
		failed |= send_all(fd, line, (size_t)size + 18);
	}
	if (!failed)
		failed |= send_all(fd, "\r\n", 2);
	st = status_of(fd);
	if (st)
		printf("%d\n", st);
	else
		printf("closed\n");
	close(fd);
	free(line);
	return 0;
}

struct loader {
	pthread_t t;
	long long end;
	const char *from;
	char cookie[256]; /* NAME=ID/TOKEN */
	char **paths;
	int npaths, first;
	long long *us;
	size_t n, cap;
	long bad, errors;
};

/* Reads one answer: its status, and its body by Content-Length. 0 on failure. */
static int read_answer(int fd, char *buf, size_t cap)
{
	size_t got = 0, need = 0;
	char *eoh = NULL;
	while (!eoh || got < need) {
		ssize_t k = recv(fd, buf + got, cap - 1 - got, 0);
		if (k <= 0)
			return 0;
		got += (size_t)k;
		buf[got] = 0;
		if (!eoh && (eoh = strstr(buf, "\r\n\r\n")) != NULL) {
			char *cl = strcasestr(buf, "\r\nContent-Length:");
			need = (size_t)(eoh + 4 - buf) +
			       (cl && cl < eoh ? strtoul(cl + 17, NULL, 10) : 0);
			if (need >= cap)
				return 0;
		}
	}
	return strncmp(buf, "HTTP/1.1 ", 9) == 0 ? atoi(buf + 9) : 0;
}

static void *load_one(void *arg)
{
	struct loader *l = arg;
	static __thread char buf[1 << 20];
	char req[2048];
	const char *slash = strchr(l->cookie, '/');
	int fd = -1, clen = slash ? (int)(slash - l->cookie) : (int)strlen(l->cookie);
	for (long i = l->first; now_us() < l->end; i++) {
		int n = snprintf(req, sizeof(req),
		                 "GET %s HTTP/1.1\r\nHost: localhost\r\nCookie: %.*s\r\n"
		                 "X-CSRF-Token: %s\r\n\r\n",
		                 l->paths[i % l->npaths], clen, l->cookie, slash ? slash + 1 : "");
		long long t0;
		int st;
		if (fd < 0 && (fd = dial(l->from)) < 0) {
			l->errors++;
			usleep(100000);
			continue;
		}
		t0 = now_us();
		if (send_all(fd, req, (size_t)n) != 0 ||
		    (st = read_answer(fd, buf, sizeof(buf))) == 0) {
			l->errors++;
			close(fd);
			fd = -1;
			continue;
		}
		if (l->n == l->cap) {
			l->cap = l->cap ? 2 * l->cap : 4096;
			if ((l->us = realloc(l->us, l->cap * sizeof(*l->us))) == NULL)
				exit(1);
		}
		l->us[l->n++] = now_us() - t0;
		l->bad += st != 200;
	}
	if (fd >= 0)
		close(fd);
	return NULL;
}

/* The i-th item of the comma-separated list, into buf (cap bytes). */
static const char *item(const char *list, long i, char *buf, size_t cap)
{
	long n = 1;
	for (const char *p = list; *p; p++)
		n += *p == ',';
	for (i %= n; i > 0; i--)
		list = strchr(list, ',') + 1;
	snprintf(buf, cap, "%.*s", (int)strcspn(list, ","), list);
	return buf;
}

static int load(int argc, char **argv)
{
	long conns = num(argv[0], 1, 1000), secs = num(argv[1], 1, 3600);
	struct loader *l = calloc((size_t)conns, sizeof(*l));
	char(*from)[64] = calloc((size_t)conns, 64);
	size_t total = 0;
	long bad = 0, errors = 0;
	if (!l || !from || argc < 5)
		usage();
	alarm((unsigned)secs + 120);
	for (long i = 0; i < conns; i++) {
		l[i].end = now_us() + secs * 1000000LL;
		l[i].from = item(argv[2], i, from[i], sizeof(from[i]));
		item(argv[3], i, l[i].cookie, sizeof(l[i].cookie));
		l[i].paths = argv + 4;
		l[i].npaths = argc - 4;
		l[i].first = (int)i;
		if (pthread_create(&l[i].t, NULL, load_one, &l[i]) != 0)
			return 1;
	}
	for (long i = 0; i < conns; i++) {
		pthread_join(l[i].t, NULL);
		for (size_t k = 0; k < l[i].n; k++)
			printf("%lld\n", l[i].us[k]);
		total += l[i].n;
		bad += l[i].bad;
		errors += l[i].errors;
		free(l[i].us);
	}
	fprintf(stderr, "webpeer: %zu requests, %ld not 200, %ld connection errors\n", total, bad,
	        errors);
	free(l);
	free(from);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 4)
		usage();
	signal(SIGPIPE, SIG_IGN);
	target.sin_family = AF_INET;
	target.sin_port = htons((unsigned short)num(argv[3], 1, 65535));
	if (inet_pton(AF_INET, argv[2], &target.sin_addr) != 1)
		usage();
	if (strcmp(argv[1], "hold") == 0 && argc >= 7)
		return hold(argc - 4, argv + 4);
	if (strcmp(argv[1], "body") == 0 && argc == 7)
		return body(argv + 4);
	if (strcmp(argv[1], "headers") == 0 && argc == 6)
		return headers(argv + 4);
	if (strcmp(argv[1], "load") == 0 && argc >= 9)
		return load(argc - 4, argv + 4);
	usage();
}
