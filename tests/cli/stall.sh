#!/usr/bin/env bash
# A school whose node takes a packet and never answers does not delay what
# arrives: node A delivers to such a peer (a tarpit: it does nng's SP
# handshake, reads the request and never replies) while school B delivers
# packets to A, and A receipts B's packets while its own delivery attempt is
# still outstanding. Then a client that sends many requests back to back on
# one connection, and reads, gets every reply.
#
# The peers are a small C program (libc only) written out below and built
# with cc into $TMP. Every wait is a bounded poll; the evidence is the order
# of events, not a wall-clock limit (the latencies are printed).
. "$(dirname "$0")/lib.sh"

A=$TMP/lhs B=$TMP/ras C=$TMP/tar
PA=$((20000 + RANDOM % 20000))
PB=$((PA + 1)) PT=$((PA + 2))
NPIPE=200

cat >"$TMP/peer.c" <<'EOF'
/*
 * peer: SP-over-TCP peers for tests/cli/stall.sh, speaking nng's TCP
 * framing by hand: an 8-byte header each way (0 'S' 'P' 0, the protocol as
 * u16 big-endian, two zero bytes), then messages as a u64 big-endian length
 * and the bytes; a REQ message starts with a 4-byte request id with its
 * high bit set, which the reply repeats. alarm() bounds every run.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define REQ 0x30
#define REP 0x31
#define CONNS 64

static int port;

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

static int put_all(int fd, const void *buf, size_t n)
{
	const uint8_t *p = buf;
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Reads all of buf within ms milliseconds; 0, or -1. */
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

static void header(uint8_t h[8], int proto)
{
	memcpy(h, "\0SP\0\0\0\0\0", 8);
	h[5] = (uint8_t)proto;
}

/*
 * tarpit: a REP peer that reads requests and never replies. Prints a line
 * for each connection and each whole request, until SIGTERM.
 */
static int cmd_tarpit(void)
{
	struct pollfd pf[CONNS + 1];
	uint64_t want[CONNS + 1], got[CONNS + 1];
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
	for (;;) {
		if (poll(pf, (nfds_t)n, -1) < 0)
			continue;
		if ((pf[0].revents & POLLIN) && n <= CONNS) {
			uint8_t h[8];
			int fd = accept(pf[0].fd, NULL, NULL);
			header(h, REP);
			if (fd >= 0 && put_all(fd, h, 8) == 0) {
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
					static uint8_t head[CONNS + 1][8];
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
	header(h, REQ);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || put_all(fd, h, 8) != 0 ||
	    get_all(fd, h, 8, 5000) != 0 || h[5] != REP) {
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
		if (put_all(fd, m, sizeof(m)) != 0)
			break;
	}
	for (int i = 0; i < n; i++) {
		if (get_all(fd, r, sizeof(r), (int)(t0 + 10000 - now_ms())) != 0)
			break;
		uint32_t id = (uint32_t)r[8] << 24 | (uint32_t)r[9] << 16 | (uint32_t)r[10] << 8 | r[11];
		if (get64(r) != 36 || memcmp(r + 12, "BTNA", 4) != 0 || (id & 0x7fffffffu) >= (uint32_t)n)
			break;
		ok++;
	}
	printf("%d replies of %d in %lld ms\n", ok, n, now_ms() - t0);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: peer CMD PORT ARGS...\n");
		return 2;
	}
	port = atoi(argv[2]);
	signal(SIGPIPE, SIG_IGN);
	alarm(120);
	if (!strcmp(argv[1], "tarpit") && argc == 3)
		return cmd_tarpit();
	if (!strcmp(argv[1], "pipeline") && argc == 4)
		return cmd_pipeline(atoi(argv[3]));
	fprintf(stderr, "peer: bad arguments\n");
	return 2;
}
EOF

check "cc builds the test peers" cc -O2 -o "$TMP/peer" "$TMP/peer.c"
[ "$RC" -eq 0 ] || done_testing
PEER=$TMP/peer

now_ms() {
	local t=${EPOCHREALTIME/./}
	echo $((10#$t / 1000))
}

# The milliseconds since midnight UTC of a log line's time stamp.
stamp_ms() {
	sed -n 's/^[0-9-]*T\([0-9]*\):\([0-9]*\):\([0-9]*\)\.\([0-9]*\)Z.*/\1 \2 \3 \4/p' |
		head -n1 | { read -r h m s f && echo $(((10#$h * 3600 + 10#$m * 60 + 10#$s) * 1000 + 10#$f)); }
}

# The number of the first line of FILE matching REGEX, or 999999.
first_line() {
	local n
	n=$(grep -En -- "$1" "$2" | head -n1 | cut -d: -f1)
	echo "${n:-999999}"
}

# ---- three schools: A delivers to T's endpoint, where a tarpit listens; B delivers to A ----

for n in "$A:Lincoln High School:LHS-001:$PA" "$B:Riverside Academy:RAS-204:$PB" \
	"$C:Tarpit School:TAR-7:$PT"; do
	IFS=: read -r dir name code port <<<"$n"
	check "init $code" "$BATON" init --name "$name" --code "$code" \
		--endpoint "tcp://127.0.0.1:$port" --dir "$dir" --no-passphrase
	check "card of $code" "$BATON" card --dir "$dir" --out "$TMP/$code.card"
done
check "A pins B and T; B pins A" sh -c "
	'$BATON' peer add '$TMP/RAS-204.card' --dir '$A' >/dev/null &&
	'$BATON' peer add '$TMP/TAR-7.card' --dir '$A' >/dev/null &&
	'$BATON' peer add '$TMP/LHS-001.card' --dir '$B' >/dev/null"
check "a parent's key" "$BATON" guardian keygen --out "$TMP/p.key" --no-passphrase
run "$BATON" guardian pubkey "$TMP/p.key"
PK=$(head -n1 "$OUT")
for n in "$A:LHS-001:TAR-7" "$B:RAS-204:LHS-001"; do
	IFS=: read -r dir from to <<<"$n"
	check "$from imports the sample school" "$BATON" student import \
		"$BATON_SRC/tests/data/school.json" --dir "$dir"
	check "$from links the parent to S-1018" "$BATON" guardian link S-1018 "$PK" --dir "$dir"
	check "a consent from $from to $to" "$BATON" consent grant --key "$TMP/p.key" \
		--student S-1018 --from "$TMP/$from.card" --to "$TMP/$to.card" --sections all --yes \
		--out "$TMP/$from-$to.consent"
done
check_out 'queued' "B queues a packet for A" "$BATON" send S-1018 --to LHS-001 \
	--consent "$TMP/RAS-204-LHS-001.consent" --dir "$B"
"$PEER" tarpit "$PT" >"$TMP/tarpit.out" 2>&1 &
BG+=($!)
TARPIT=$!
check "a tarpit listens at T's endpoint" wait_for 10 grep -q '^listening' "$TMP/tarpit.out"
serve_start A "$A" a.log || done_testing

# ---- back-to-back requests on one connection: each gets its reply ----

run "$PEER" pipeline "$PA" "$NPIPE"
if [ "$RC" -eq 0 ] && grep -q "^$NPIPE replies of $NPIPE " "$OUT"; then
	pass "$NPIPE requests back to back on one connection: $NPIPE replies"
	sed 's/^/#   /' "$OUT"
else
	fail_run "$NPIPE requests back to back on one connection: $NPIPE replies"
fi
check "A logged no reply as not sent" test "$(count 'not sent' "$TMP/a.log")" -eq 0

# ---- A's delivery to T is outstanding while B's packet arrives ----

check_out 'queued' "A queues a packet for T" "$BATON" send S-1018 --to TAR-7 \
	--consent "$TMP/LHS-001-TAR-7.consent" --dir "$A"
check "A's packet for T reached the tarpit, which does not answer" \
	wait_for 20 grep -q '^request 1: [1-9]' "$TMP/tarpit.out"
check "A's attempt for T is still outstanding" \
	test "$(count 'to TAR-7: attempt 1 failed' "$TMP/a.log")" -eq 0
T0=$(now_ms)
serve_start B "$B" b.log || done_testing
received() {
	"$BATON" outbox --dir "$B" 2>/dev/null | grep -q 'LHS-001 .*receipted'
}
if wait_for 25 received; then
	pass "B's packet is receipted while A waits for T"
	echo "#   B's receipt $(($(now_ms) - T0)) ms after B started"
else
	fail "B's packet is receipted while A waits for T" "A's log:" "$(tail -n 6 "$TMP/a.log")"
fi
# The order of A's log is the evidence: the import of B's packet, then (if at
# all yet) the end of the attempt for T, which takes its full 30 s.
IMPORT=$(first_line 'inbox: packet .* from RAS-204' "$TMP/a.log")
TFAIL=$(first_line 'to TAR-7: attempt 1 failed' "$TMP/a.log")
if [ "$IMPORT" -lt 999999 ] && [ "$IMPORT" -lt "$TFAIL" ]; then
	pass "A answered B before its attempt for T ended"
else
	fail "A answered B before its attempt for T ended" \
		"line of B's import: $IMPORT, of the failed attempt for T: $TFAIL" "$(cat "$TMP/a.log")"
fi
SENT_T=$(grep 'outbox: .* to TAR-7' "$TMP/a.log" | stamp_ms)
GOT_B=$(grep 'inbox: packet .* from RAS-204' "$TMP/a.log" | stamp_ms)
ASKED=$(grep 'listening' "$TMP/b.log" | stamp_ms)
RCPT=$(grep 'to LHS-001: receipt' "$TMP/b.log" | stamp_ms)
[ -n "$ASKED" ] && [ -n "$RCPT" ] &&
	echo "#   B's log: receipt $((RCPT - ASKED)) ms after B listened"
[ -n "$GOT_B" ] && [ -z "$SENT_T" ] && echo "#   A's attempt for T still had no outcome"

# ---- the end: A stops while its attempt for T may still be outstanding ----

check "A is still running" kill -0 "${SPID[A]}"
serve_stop A
check "A stops on SIGTERM with exit code 0" test $? -eq 0
serve_stop B
check "B stops on SIGTERM with exit code 0" test $? -eq 0
kill -TERM "$TARPIT" 2>/dev/null
check_out 'queued' "A's packet for T is still queued, to be tried again" "$BATON" outbox --dir "$A"
check "A's audit log verifies" "$BATON" audit verify --dir "$A"
check "no crash and no sanitizer report in A's log" \
	sh -c "! grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error|Segmentation|Aborted' '$TMP/a.log'"
done_testing
