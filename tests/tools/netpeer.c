/*
 * netpeer: misbehaving SP-over-TCP peers for tests/cli/netfault.sh. Speaks
 * nng's TCP framing by hand: an 8-byte header each way (0 'S' 'P' 0, the
 * protocol as u16 big-endian, two zero bytes), then messages as a u64
 * big-endian length and the bytes; a REQ message starts with a 4-byte
 * request id with its high bit set. Libc only. Every wait is bounded, and
 * alarm() bounds the whole run. Prints one line of results on stdout.
 *
 * A wait for the receiver is WAIT_MS: a bound only a hang reaches, also on a
 * loaded machine; a test must not fail because the receiver was slow.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define WAIT_MS 60000
#define REQ     0x30
#define REP     0x31

static int port;
static volatile sig_atomic_t stop;
static uint64_t rng = 88172645463325252ull;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void fill(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)rnd();
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static int dial(void)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Writes all of buf within ms milliseconds; 0, or -1. */
static int put_all(int fd, const void *buf, size_t n, int ms)
{
	const uint8_t *p = buf;
	long long end = now_ms() + ms;
	while (n > 0) {
		struct pollfd pf = {fd, POLLOUT, 0};
		long long left = end - now_ms();
		if (left <= 0 || poll(&pf, 1, (int)left) <= 0)
			return -1;
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Reads all of buf within ms milliseconds; 0, or -1 (closed, reset or timed out). */
static int get_all(int fd, void *buf, size_t n, int ms)
{
	uint8_t *p = buf;
	long long end = now_ms() + ms;
	while (n > 0) {
		struct pollfd pf = {fd, POLLIN, 0};
		long long left = end - now_ms();
		if (left <= 0 || poll(&pf, 1, (int)left) <= 0)
			return -1;
		ssize_t r = recv(fd, p, n, MSG_DONTWAIT);
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/* Whether the peer closed the connection (EOF or reset) within ms; data read is discarded. */
static int peer_closes(int fd, int ms)
{
	uint8_t junk[4096];
	long long end = now_ms() + ms;
	for (;;) {
		struct pollfd pf = {fd, POLLIN, 0};
		long long left = end - now_ms();
		int k = poll(&pf, 1, left > 0 ? (int)left : 0);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return 0;
		ssize_t r = recv(fd, junk, sizeof(junk), MSG_DONTWAIT);
		if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
			return 1;
	}
}

/* The SP header exchange as proto; the peer's header must be REP's. */
static int handshake(int fd, int proto)
{
	uint8_t h[8] = {0, 'S', 'P', 0, 0, (uint8_t)proto, 0, 0}, g[8];
	if (put_all(fd, h, 8, WAIT_MS) != 0 || get_all(fd, g, 8, WAIT_MS) != 0)
		return -1;
	return g[0] == 0 && g[1] == 'S' && g[2] == 'P' && g[3] == 0 && g[4] == 0 && g[5] == REP &&
	               g[6] == 0 && g[7] == 0
	           ? 0
	           : -1;
}

static int sp_dial(void)
{
	int fd = dial();
	if (fd >= 0 && handshake(fd, REQ) != 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

static void abort_close(int fd)
{
	struct linger l = {1, 0};
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	close(fd);
}

static long rss_kb(int pid)
{
	char path[64], line[256];
	long kb = -1;
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	FILE *f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb;
}

static int raise_nofile(int want)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return 64;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	int room = rl.rlim_cur > 1u << 20 ? 1 << 20 : (int)rl.rlim_cur - 32;
	return want < room ? want : room;
}

/*
 * hold N SECS sp|raw: N idle connections, held until SECS pass, SIGTERM, or
 * the receiver has closed every one of them.
 */
static int cmd_hold(int n, int secs, int sp)
{
	int *fds = calloc((size_t)n, sizeof(int)), k = 0, lost = 0, gone = 0;
	char *closed = calloc((size_t)n, 1);
	if (fds == NULL || closed == NULL)
		return 1;
	n = raise_nofile(n);
	for (int i = 0; i < n && !stop; i++) {
		int fd = sp ? sp_dial() : dial();
		if (fd < 0)
			lost++;
		else
			fds[k++] = fd;
	}
	printf("opened %d of %d\n", k, n);
	fflush(stdout);
	long long end = now_ms() + secs * 1000LL, next = 0;
	while (!stop && now_ms() < end && (k == 0 || gone < k)) {
		if (now_ms() >= next) {
			for (int i = 0; i < k; i++)
				if (!closed[i] && peer_closes(fds[i], 0))
					closed[i] = 1, gone++;
			next = now_ms() + 500;
		}
		usleep(20000);
	}
	for (int i = 0; i < k; i++) {
		if (!closed[i] && peer_closes(fds[i], 0))
			closed[i] = 1, gone++;
		close(fds[i]);
	}
	printf("closed %d (%d closed by the peer first, %d failed to open)\n", k, gone, lost);
	free(closed);
	free(fds);
	return 0;
}

/*
 * cut ANNOUNCE SEND rst|fin MS: a message announced, SEND bytes of it sent,
 * then the connection dropped (reset: SO_LINGER 0); says whether the
 * receiver closed it first, waiting up to MS for that.
 */
static int cmd_cut(uint64_t announce, size_t send_n, int rst, int ms)
{
	int fd = sp_dial();
	if (fd < 0) {
		printf("no connection\n");
		return 1;
	}
	uint8_t head[12];
	put64(head, announce);
	head[8] = 0x80, head[9] = 0, head[10] = 0, head[11] = 1;
	size_t sent = 0;
	int ok = put_all(fd, head, 12, WAIT_MS) == 0;
	uint8_t *buf = malloc(65536);
	fill(buf, 65536);
	while (ok && sent < send_n) {
		size_t m = send_n - sent < 65536 ? send_n - sent : 65536;
		if (put_all(fd, buf, m, WAIT_MS) != 0)
			ok = 0;
		else
			sent += m;
	}
	int closed = peer_closes(fd, ms);
	if (rst)
		abort_close(fd);
	else
		close(fd);
	printf("announced %llu, sent %zu, %s, then %s\n", (unsigned long long)announce, sent,
	       closed ? "the peer closed first" : "the peer kept the connection",
	       rst ? "reset (SO_LINGER 0)" : "closed");
	free(buf);
	return 0;
}

/* big ANNOUNCE MS PID: announces a huge message; the peer must close within MS. */
static int cmd_big(uint64_t announce, int ms, int pid)
{
	int fd = sp_dial();
	if (fd < 0) {
		printf("no connection\n");
		return 1;
	}
	uint8_t head[16];
	put64(head, announce);
	head[8] = 0x80, head[9] = 0, head[10] = 0, head[11] = 2;
	fill(head + 12, 4);
	long long t0 = now_ms();
	if (put_all(fd, head, sizeof(head), WAIT_MS) != 0) {
		printf("send failed\n");
		return 1;
	}
	int closed = peer_closes(fd, ms);
	printf("announced %llu: %s after %lld ms; rss %ld kB\n", (unsigned long long)announce,
	       closed ? "closed by the peer" : "still open", now_ms() - t0, rss_kb(pid));
	close(fd);
	return closed ? 0 : 1;
}

/*
 * slow LEN SECS hs|msg [GAP]: one byte every GAP ms (default 1000), for at
 * most SECS seconds. hs: the SP header itself; msg: after the header, a REQ
 * message of LEN payload bytes (not Baton's), whose empty reply is then
 * awaited.
 */
static int cmd_slow(size_t len, int secs, int msg, int gap)
{
	int fd = dial();
	uint8_t buf[256];
	size_t n = 0, sent = 0;
	if (fd < 0 || len > sizeof(buf) - 12) {
		printf("no connection\n");
		return 1;
	}
	if (msg) {
		if (handshake(fd, REQ) != 0) {
			printf("no handshake\n");
			return 1;
		}
		put64(buf, 4 + len);
		buf[8] = 0x80, buf[9] = 0, buf[10] = 0, buf[11] = 3;
		fill(buf + 12, len);
		buf[12] = 'x';
		n = 12 + len;
	} else {
		/* All of the header but its last byte: it never completes. */
		uint8_t h[8] = {0, 'S', 'P', 0, 0, REQ, 0, 0};
		memcpy(buf, h, 8);
		n = 7;
	}
	long long t0 = now_ms(), end = t0 + secs * 1000LL;
	int closed = 0;
	while (sent < n && !stop && now_ms() < end) {
		if (put_all(fd, buf + sent, 1, WAIT_MS) != 0) {
			closed = 1;
			break;
		}
		sent++;
		if (sent < n && peer_closes(fd, gap)) {
			closed = 1;
			break;
		}
	}
	if (msg && !closed && sent == n) {
		uint8_t rh[12];
		int got = get_all(fd, rh, 12, WAIT_MS) == 0;
		int empty = got && get64(rh) == 4 && rh[8] == 0x80 && rh[11] == 3;
		printf("trickled %zu bytes in %lld ms; reply %s\n", sent, now_ms() - t0,
		       empty ? "empty, as expected"
		       : got ? "unexpected"
		             : "none");
		close(fd);
		return empty ? 0 : 1;
	}
	while (!msg && !closed && !stop && now_ms() < end)
		closed = peer_closes(fd, 200);
	printf("trickled %zu of %zu bytes; %s after %lld ms\n", sent, n,
	       closed ? "the peer closed the connection" : "the connection still open",
	       now_ms() - t0);
	close(fd);
	return 0;
}

/*
 * garbage N: N REQ messages of random bytes (never a Baton magic), each
 * answered before the next; counts the empty replies, and the messages whose
 * connection the receiver closed instead.
 */
static int cmd_garbage(int n)
{
	int fd = sp_dial(), empty = 0, other = 0, none = 0, closed = 0;
	uint8_t *buf = malloc(12 + 2048);
	if (fd < 0 || buf == NULL) {
		printf("no connection\n");
		free(buf);
		return 1;
	}
	for (int i = 0; i < n && !stop; i++) {
		size_t len = 16 + (size_t)(rnd() % 1000);
		uint32_t id = 0x80000000u | (uint32_t)i;
		put64(buf, 4 + len);
		buf[8] = (uint8_t)(id >> 24), buf[9] = (uint8_t)(id >> 16);
		buf[10] = (uint8_t)(id >> 8), buf[11] = (uint8_t)id;
		fill(buf + 12, len);
		buf[12] = 'g'; /* not "BTN.", not a receipt envelope (0x93) */
		uint8_t rh[12];
		if (put_all(fd, buf, 12 + len, WAIT_MS) != 0 || get_all(fd, rh, 12, WAIT_MS) != 0) {
			/* Closed by the receiver, or no reply in a time only a hang takes. */
			if (peer_closes(fd, 0))
				closed++;
			else
				none++;
			close(fd);
			if ((fd = sp_dial()) < 0)
				break;
			continue;
		}
		if (get64(rh) == 4 && memcmp(rh + 8, buf + 8, 4) == 0) {
			empty++;
		} else {
			/* Skip whatever else came. */
			other++;
			uint64_t left = get64(rh) - 4;
			while (left > 0 && left < (1u << 24)) {
				size_t m = left < 2048 ? (size_t)left : 2048;
				if (get_all(fd, buf, m, WAIT_MS) != 0)
					break;
				left -= m;
			}
		}
	}
	printf("sent %d; empty replies %d, other replies %d, connection closed %d, no reply %d\n",
	       n, empty, other, closed, none);
	if (fd >= 0)
		close(fd);
	free(buf);
	/*
	 * A reply waits its turn behind the previous one to this connection, so
	 * a peer that reads gets every one, however slow the machine. B keeps
	 * at most 64 connections and closes the oldest for a new one: a message
	 * may find its connection closed, never a wrong reply or none.
	 */
	return other == 0 && none == 0 && empty + closed == n && closed * 10 <= n ? 0 : 1;
}

/*
 * badframe: messages nng itself refuses: a body shorter than a request id,
 * a backtrace without an end (no high bit), a peer that says it is not a
 * REQ socket. Each on its own connection; counts the connections the
 * receiver closed.
 */
static int cmd_badframe(void)
{
	int closed = 0, tried = 0, fd;
	uint8_t m[64];
	/* 1: two bytes of body, no room for a request id: nng drops the pipe. */
	if ((fd = sp_dial()) >= 0) {
		tried++;
		put64(m, 2);
		m[8] = 0x80, m[9] = 1;
		put_all(fd, m, 10, WAIT_MS);
		closed += peer_closes(fd, WAIT_MS);
		close(fd);
	}
	/* 2: a backtrace of 12 hops without the end bit: dropped, the pipe stays. */
	if ((fd = sp_dial()) >= 0) {
		tried++;
		put64(m, 48);
		memset(m + 8, 0x01, 48);
		put_all(fd, m, 56, WAIT_MS);
		closed += !peer_closes(fd, 500); /* counts as handled when still open */
		close(fd);
	}
	/* 3: a PAIR (0x10) peer instead of a REQ one. */
	if ((fd = dial()) >= 0) {
		tried++;
		handshake(fd, 0x10);
		put64(m, 8);
		memset(m + 8, 0, 8);
		m[8] = 0x80, m[11] = 9;
		put_all(fd, m, 16, WAIT_MS);
		closed += peer_closes(fd, WAIT_MS);
		close(fd);
	}
	printf("handled %d of %d\n", closed, tried);
	return closed == tried ? 0 : 1;
}

/* raw N: N connections that write random bytes (no SP header) and close. */
static int cmd_raw(int n)
{
	uint8_t buf[4096];
	int done = 0;
	for (int i = 0; i < n && !stop; i++) {
		int fd = dial();
		if (fd < 0)
			continue;
		size_t len = 1 + (size_t)(rnd() % sizeof(buf));
		fill(buf, len);
		buf[0] = 0xff; /* never the start of an SP header */
		if (put_all(fd, buf, len, WAIT_MS) == 0)
			done++;
		if (i % 2)
			abort_close(fd);
		else
			close(fd);
	}
	printf("sent garbage on %d of %d connections\n", done, n);
	return done == n ? 0 : 1;
}

/*
 * slowread N SECS: pipelines N requests that each get a reply (chunk
 * probes for an unknown packet), reading none of the replies, with a small
 * receive buffer; holds the connection for SECS (or until SIGTERM).
 */
static int cmd_slowread(int n, int secs)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1, small = 1024, sent = 0;
	struct sockaddr_in sa;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || handshake(fd, REQ) != 0) {
		printf("no connection\n");
		return 1;
	}
	uint8_t m[52];
	long long t0 = now_ms(), end = t0 + secs * 1000LL;
	for (int i = 0; i < n && !stop && now_ms() < end; i++) {
		put64(m, 44);
		uint32_t id = 0x80000000u | (uint32_t)i;
		m[8] = (uint8_t)(id >> 24), m[9] = (uint8_t)(id >> 16);
		m[10] = (uint8_t)(id >> 8), m[11] = (uint8_t)id;
		memcpy(m + 12, "BTNC\2\0\0\0", 8); /* frame version 2 */
		fill(m + 20, 16);                  /* a packet id nobody holds */
		put64(m + 36, 1 << 20);
		put64(m + 44, 0);
		if (put_all(fd, m, sizeof(m), 1000) != 0)
			break;
		sent++;
	}
	printf("pipelined %d requests in %lld ms\n", sent, now_ms() - t0);
	fflush(stdout);
	while (!stop && now_ms() < end)
		usleep(20000);
	close(fd);
	printf("closed after %lld ms\n", now_ms() - t0);
	return 0;
}

/* fill K LEN SECS: K connections, each announcing LEN bytes and sending all but the last. */
static int cmd_fill(int k, size_t len, int secs)
{
	int *fds = calloc((size_t)k, sizeof(int)), n = 0;
	uint8_t *buf = malloc(len + 12);
	k = raise_nofile(k);
	put64(buf, len);
	buf[8] = 0x80, buf[9] = 0, buf[10] = 0, buf[11] = 4;
	fill(buf + 12, len - 4);
	for (int i = 0; i < k && !stop; i++) {
		int fd = sp_dial();
		if (fd < 0)
			continue;
		if (put_all(fd, buf, 8 + len - 1, WAIT_MS) != 0) {
			close(fd);
			continue;
		}
		fds[n++] = fd;
	}
	printf("holding %d partial messages of %zu bytes\n", n, len);
	fflush(stdout);
	long long end = now_ms() + secs * 1000LL;
	while (!stop && now_ms() < end)
		usleep(20000);
	for (int i = 0; i < n; i++)
		close(fds[i]);
	free(fds);
	free(buf);
	return 0;
}

#define TARPIT_CONNS 64

/*
 * tarpit: a REP peer that reads requests and never replies. Prints a line
 * for each connection and each whole request, until SIGTERM.
 */
static int cmd_tarpit(void)
{
	struct pollfd pf[TARPIT_CONNS + 1];
	uint64_t want[TARPIT_CONNS + 1], got[TARPIT_CONNS + 1];
	int one = 1, n = 1, conns = 0, reqs = 0;
	struct sockaddr_in sa;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	pf[0].fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	pf[0].events = POLLIN;
	setsockopt(pf[0].fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(pf[0].fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(pf[0].fd, 16) != 0) {
		printf("cannot listen: %s\n", strerror(errno));
		return 1;
	}
	printf("listening\n");
	fflush(stdout);
	while (!stop) {
		if (poll(pf, (nfds_t)n, 1000) <= 0)
			continue;
		if ((pf[0].revents & POLLIN) && n <= TARPIT_CONNS) {
			uint8_t h[8] = {0, 'S', 'P', 0, 0, REP, 0, 0};
			int fd = accept(pf[0].fd, NULL, NULL);
			if (fd >= 0 && put_all(fd, h, 8, WAIT_MS) == 0) {
				pf[n] = (struct pollfd){fd, POLLIN, 0};
				want[n] = 8; /* the dialer's header */
				got[n++] = 0;
				printf("connection %d\n", ++conns);
				fflush(stdout);
			}
		}
		for (int i = 1; i < n; i++) {
			uint8_t buf[65536];
			if (!(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			ssize_t r = recv(pf[i].fd, buf, sizeof(buf), MSG_DONTWAIT);
			if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
				close(pf[i].fd);
				pf[i--] = pf[--n];
				continue;
			}
			/* Counts whole messages: the length heads are read byte by byte. */
			for (ssize_t k = 0; k < r; k++) {
				if (want[i] == 8 && got[i] < 8) {
					got[i]++;
					if (got[i] == 8)
						want[i] = 0, got[i] = 0;
					continue;
				}
				if (want[i] == 0) { /* reading a length head */
					static uint8_t head[TARPIT_CONNS + 1][8];
					head[i][got[i]++] = buf[k];
					if (got[i] == 8) {
						want[i] = get64(head[i]) + 8;
						if (want[i] == 8) {
							printf("request %d: 0 bytes\n", ++reqs);
							fflush(stdout);
							want[i] = 0, got[i] = 0;
						}
					}
					continue;
				}
				size_t take = (size_t)(r - k);
				if (take > want[i] - got[i])
					take = (size_t)(want[i] - got[i]);
				got[i] += take;
				k += (ssize_t)take - 1;
				if (got[i] == want[i]) {
					printf("request %d: %llu bytes\n", ++reqs,
					       (unsigned long long)(want[i] - 8));
					fflush(stdout);
					want[i] = 0, got[i] = 0;
				}
			}
		}
	}
	return 0;
}

/*
 * pipeline N: one REQ connection; N chunk probes for a packet nobody holds,
 * written back to back, then their replies read, 10 s at most. Prints how
 * many replies came, each the acknowledgement of its own request.
 */
static int cmd_pipeline(int n)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1, ok = 0;
	struct sockaddr_in sa;
	uint8_t h[8], m[52], r[8 + 4 + 32];
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	memcpy(h, (uint8_t[8]){0, 'S', 'P', 0, 0, REQ, 0, 0}, 8);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    put_all(fd, h, 8, WAIT_MS) != 0 || get_all(fd, h, 8, 5000) != 0 || h[5] != REP) {
		printf("no connection\n");
		return 1;
	}
	long long t0 = now_ms();
	for (int i = 0; i < n; i++) {
		uint32_t id = 0x80000000u | (uint32_t)i;
		put64(m, 44);
		m[8] = (uint8_t)(id >> 24), m[9] = (uint8_t)(id >> 16);
		m[10] = (uint8_t)(id >> 8), m[11] = (uint8_t)id;
		memcpy(m + 12, "BTNC\2\0\0\0", 8); /* frame version 2 */
		memset(m + 20, 0xa5, 16);
		put64(m + 36, 1 << 20);
		put64(m + 44, 0);
		if (put_all(fd, m, sizeof(m), WAIT_MS) != 0)
			break;
	}
	for (int i = 0; i < n; i++) {
		if (get_all(fd, r, sizeof(r), (int)(t0 + 10000 - now_ms())) != 0)
			break;
		uint32_t id =
		    (uint32_t)r[8] << 24 | (uint32_t)r[9] << 16 | (uint32_t)r[10] << 8 | r[11];
		if (get64(r) != 36 || memcmp(r + 12, "BTNA", 4) != 0 ||
		    (id & 0x7fffffffu) >= (uint32_t)n)
			break;
		ok++;
	}
	printf("%d replies of %d in %lld ms\n", ok, n, now_ms() - t0);
	close(fd);
	return 0;
}

/*
 * req HEX: one request of those bytes; prints the reply's length and its
 * first 8 bytes in hex ("reply 0 bytes" for an empty one, "no reply").
 */
static int cmd_req(const char *hex)
{
	size_t n = strlen(hex) / 2;
	uint8_t *m = calloc(1, 12 + n + 1), r[20];
	int fd, rc = 1;
	if (m == NULL || (fd = sp_dial()) < 0) {
		printf("no connection\n");
		free(m);
		return 1;
	}
	put64(m, 4 + n);
	m[8] = 0x80, m[11] = 1;
	for (size_t i = 0; i < n; i++)
		sscanf(hex + 2 * i, "%2hhx", &m[12 + i]);
	if (put_all(fd, m, 12 + n, WAIT_MS) == 0 && get_all(fd, r, 12, WAIT_MS) == 0) {
		uint64_t len = get64(r) < 4 ? 0 : get64(r) - 4;
		printf("reply %llu bytes", (unsigned long long)len);
		if (len && get_all(fd, r + 12, len < 8 ? len : 8, WAIT_MS) == 0)
			for (uint64_t i = 0; i < len && i < 8; i++)
				printf("%s%02x", i ? "" : ": ", r[12 + i]);
		printf("\n");
		rc = 0;
	} else {
		printf("no reply\n");
	}
	close(fd);
	free(m);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: netpeer CMD PORT ARGS...\n");
		return 2;
	}
	port = atoi(argv[2]);
	rng ^= (uint64_t)getpid() << 20 ^ (uint64_t)now_ms();
	signal(SIGTERM, on_term);
	signal(SIGPIPE, SIG_IGN);
	alarm(900); /* whatever happens, a bounded run */
	const char *c = argv[1];
	if (!strcmp(c, "hold") && argc == 6)
		return cmd_hold(atoi(argv[3]), atoi(argv[4]), !strcmp(argv[5], "sp"));
	if (!strcmp(c, "cut") && argc == 7)
		return cmd_cut(strtoull(argv[3], NULL, 0), strtoull(argv[4], NULL, 0),
		               !strcmp(argv[5], "rst"), atoi(argv[6]));
	if (!strcmp(c, "big") && argc == 6)
		return cmd_big(strtoull(argv[3], NULL, 0), atoi(argv[4]), atoi(argv[5]));
	if (!strcmp(c, "slow") && (argc == 6 || argc == 7))
		return cmd_slow(strtoull(argv[3], NULL, 0), atoi(argv[4]), !strcmp(argv[5], "msg"),
		                argc == 7 ? atoi(argv[6]) : 1000);
	if (!strcmp(c, "garbage") && argc == 4)
		return cmd_garbage(atoi(argv[3]));
	if (!strcmp(c, "badframe") && argc == 3)
		return cmd_badframe();
	if (!strcmp(c, "raw") && argc == 4)
		return cmd_raw(atoi(argv[3]));
	if (!strcmp(c, "fill") && argc == 6)
		return cmd_fill(atoi(argv[3]), strtoull(argv[4], NULL, 0), atoi(argv[5]));
	if (!strcmp(c, "slowread") && argc == 5)
		return cmd_slowread(atoi(argv[3]), atoi(argv[4]));
	if (!strcmp(c, "tarpit") && argc == 3)
		return cmd_tarpit();
	if (!strcmp(c, "pipeline") && argc == 4)
		return cmd_pipeline(atoi(argv[3]));
	if (!strcmp(c, "req") && argc == 4)
		return cmd_req(argv[3]);
	fprintf(stderr, "netpeer: bad arguments\n");
	return 2;
}
