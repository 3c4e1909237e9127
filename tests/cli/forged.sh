#!/usr/bin/env bash
# What a receiver does with packets no pinned school signed, and the release
# rules it applies itself. Two nodes, A (sender) and B (receiver), serving
# on loopback TCP.
#
#   1. By hand: a tampered packet that claims to come from A, and bytes that
#      are no packet, are refused with a clear error naming the claim, no
#      audit entry and no receipt. A packet A did sign, refused because it
#      expired, is still audited and answered with a signed receipt, once:
#      the same bytes again get the same receipt and no new entry.
#   2. Over the network: a flood of malformed and forged packets, one by one
#      and in batches of 64, for a few seconds: every reply empty, B's audit
#      log unchanged, at most one log line a second for them, which counts
#      them and names A only as claimed. A's packets still arrive.
#   3. The receiver's own rules: a packet whose consent B holds a
#      revocation for, and a guardian's consent for a student B's own
#      record shows to be 18, are refused (consent_invalid) with a signed
#      receipt that A's outbox records, and nothing imported.
#
# The flooding peer is a small C program (libc only) written out below.
. "$(dirname "$0")/lib.sh"

export BATON_PASSPHRASE="a long enough passphrase"
A=$TMP/lhs B=$TMP/ras
free_ports 2 || done_testing
PA=$P0
PB=$((PA + 1))
FLOOD_SECONDS=6

cat >"$TMP/flood.c" <<'EOF'
/*
 * flood PORT FILE SECONDS one|batch: sends FILE's bytes to a REP socket
 * over nng's TCP framing (8-byte SP header each way, then u64 big-endian
 * length and the message, which starts with a 4-byte request id with its
 * high bit set), one message after another for SECONDS, each alone or as a
 * "BTNB" batch of 64 copies. Counts the replies that carry a receipt.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static int port;

static int io_all(int fd, void *p, size_t n, int out)
{
	uint8_t *b = p;
	while (n > 0) {
		ssize_t k = out ? send(fd, b, n, MSG_NOSIGNAL) : recv(fd, b, n, 0);
		if (k <= 0)
			return -1;
		b += k;
		n -= (size_t)k;
	}
	return 0;
}

static int dial(void)
{
	struct sockaddr_in a = {0};
	struct timeval tv = {5, 0};
	uint8_t h[8] = {0, 'S', 'P', 0, 0, 0x30, 0, 0}, rh[8];
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    io_all(fd, h, 8, 1) != 0 || io_all(fd, rh, 8, 0) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

int main(int argc, char **argv)
{
	if (argc != 5)
		return 2;
	port = atoi(argv[1]);
	int secs = atoi(argv[3]), batch = strcmp(argv[4], "batch") == 0;
	FILE *f = fopen(argv[2], "rb");
	static uint8_t pkt[1 << 20];
	size_t plen = f ? fread(pkt, 1, sizeof(pkt), f) : 0;
	if (f)
		fclose(f);
	size_t n = batch ? 64 : 1;
	size_t mlen = 4 + (batch ? 8 + n * (4 + plen) : plen);
	uint8_t *m = malloc(8 + mlen), *r = malloc(1 << 16);
	if (plen == 0 || m == NULL || r == NULL)
		return 2;
	uint8_t *q = m + 12;
	if (batch) {
		memcpy(q, "BTNB\1\0\0\0", 8);
		q += 8;
		for (size_t i = 0; i < n; i++, q += 4 + plen) {
			q[0] = (uint8_t)(plen >> 24), q[1] = (uint8_t)(plen >> 16);
			q[2] = (uint8_t)(plen >> 8), q[3] = (uint8_t)plen;
			memcpy(q + 4, pkt, plen);
		}
	} else {
		memcpy(q, pkt, plen);
	}
	alarm((unsigned)secs + 60);
	long sent = 0, empty = 0, receipts = 0, none = 0;
	time_t end = time(NULL) + secs;
	int fd = dial();
	for (uint32_t id = 0; fd >= 0 && time(NULL) < end; id++) {
		uint32_t rid = 0x80000000u | id;
		uint8_t rh[12];
		put64(m, mlen);
		m[8] = (uint8_t)(rid >> 24), m[9] = (uint8_t)(rid >> 16);
		m[10] = (uint8_t)(rid >> 8), m[11] = (uint8_t)rid;
		if (io_all(fd, m, 8 + mlen, 1) != 0 || io_all(fd, rh, 12, 0) != 0) {
			none++;
			close(fd);
			fd = dial();
			continue;
		}
		sent++;
		uint64_t left = 0;
		for (int i = 0; i < 8; i++)
			left = left << 8 | rh[i];
		left -= 4;
		if (left > (1 << 16)) {
			none++;
			break;
		}
		if (io_all(fd, r, (size_t)left, 0) != 0) {
			none++;
			break;
		}
		/* A batch's reply: "BTNR" head, then a u32 length per item (0: no receipt). */
		int any = 0;
		if (batch && left >= 8 && memcmp(r, "BTNR", 4) == 0) {
			for (size_t off = 8; off + 4 <= left;) {
				uint32_t k = (uint32_t)r[off] << 24 | (uint32_t)r[off + 1] << 16 |
				             (uint32_t)r[off + 2] << 8 | r[off + 3];
				any |= k != 0;
				off += 4 + k;
			}
		} else {
			any = left != 0;
		}
		if (any)
			receipts++;
		else
			empty++;
	}
	if (fd >= 0)
		close(fd);
	printf("sent %ld messages (%ld packets); empty replies %ld; receipts %ld; no reply %ld\n",
	       sent, sent * (long)n, empty, receipts, none);
	return sent > 0 && receipts == 0 ? 0 : 1;
}
EOF
check "cc builds the flooding peer" cc -O2 -o "$TMP/flood" "$TMP/flood.c"
[ "$RC" -eq 0 ] || done_testing

audit_len() { "$BATON" audit --json --dir "$1" | grep -c '"seq"'; }

check "init A" "$BATON" init --name "Lincoln High School" --code LHS-001 --endpoint "tcp://127.0.0.1:$PA" --dir "$A"
check "init B" "$BATON" init --name "Riverside Academy" --code RAS-204 --endpoint "tcp://127.0.0.1:$PB" --dir "$B"
check "cards" sh -c "'$BATON' card --dir '$A' --out '$TMP/a.card' >/dev/null && '$BATON' card --dir '$B' --out '$TMP/b.card' >/dev/null"
check "A pins B" "$BATON" peer add "$TMP/b.card" --dir "$A"
check "B pins A" "$BATON" peer add "$TMP/a.card" --dir "$B"
check "A imports the sample school" "$BATON" student import "$BATON_SRC/tests/data/school.json" --dir "$A"
check "a parent key" "$BATON" guardian keygen --out "$TMP/p.key"
run "$BATON" guardian pubkey "$TMP/p.key"
PK=$(head -n1 "$OUT")
for s in S-1018 S-1001 S-1003; do
	check "the parent is linked to $s at A" "$BATON" guardian link "$s" "$PK" --dir "$A"
	check "the parent consents to $s going to B" "$BATON" consent grant --key "$TMP/p.key" \
		--student "$s" --from "$TMP/a.card" --to "$TMP/b.card" --sections all --yes \
		--out "$TMP/$s.consent"
done

# ---- 1. by hand ----
check_out '^Sealed' "A seals S-1018 for B, as a file" "$BATON" send S-1018 --to RAS-204 \
	--consent "$TMP/S-1018.consent" --out "$TMP/p.baton" --dir "$A"
cp "$TMP/p.baton" "$TMP/forged.baton"
flip "$TMP/forged.baton" $(($(wc -c <"$TMP/forged.baton") / 2))
N0=$(audit_len "$B")
check_err 2 'refused \(bad_signature\): .*claims to be from LHS-001 \(not verified\).*nothing recorded, no receipt' \
	"a tampered packet is refused, named as only claiming to be from A" \
	"$BATON" import "$TMP/forged.baton" --receipt-out "$TMP/forged.receipt" --dir "$B"
check "no receipt answers a packet whose signature failed" test ! -e "$TMP/forged.receipt"
check "B's audit log has no entry for it" test "$(audit_len "$B")" -eq "$N0"
printf 'BTNP\001\001\000\020this is no packet at all' >"$TMP/junk.baton"
check_err 2 'refused \(malformed\).*nothing recorded' "bytes that are no packet are refused" \
	"$BATON" import "$TMP/junk.baton" --receipt-out "$TMP/junk.receipt" --dir "$B"
check "B's audit log is still unchanged, and no receipt was written" \
	sh -c "test $(audit_len "$B") -eq $N0 && test ! -e '$TMP/junk.receipt'"
check_err 2 'rejected \(expired\)' "a packet A signed, opened after it expired, is rejected" \
	env BATON_NOW=$(($(date +%s) + 20 * 86400)) "$BATON" import "$TMP/p.baton" \
	--receipt-out "$TMP/expired.receipt" --dir "$B"
check "that rejection, caused by A, is answered with a signed receipt" test -s "$TMP/expired.receipt"
check_out 'rejected +school LHS-001.*expired' "and is in B's audit log, from A" "$BATON" audit --dir "$B"
N1=$(audit_len "$B")
check_err 2 'answered before: expired' "the same bytes again get the answer already given" \
	env BATON_NOW=$(($(date +%s) + 20 * 86400)) "$BATON" import "$TMP/p.baton" \
	--receipt-out "$TMP/expired2.receipt" --dir "$B"
same "$TMP/expired.receipt" "$TMP/expired2.receipt" "the same signed receipt"
check "and no second audit entry" test "$(audit_len "$B")" -eq "$N1"
check "B imported nothing by hand" sh -c "! '$BATON' student list --dir '$B' | grep -q S-1018"

# ---- 2. a flood over the network ----
serve_start B "$B" b.log || done_testing
BPID=${SPID[B]}
N0=$(audit_len "$B")
L0=$(wc -l <"$TMP/b.log")
t0=$(date +%s)
"$TMP/flood" "$PB" "$TMP/junk.baton" "$FLOOD_SECONDS" one >"$TMP/f1.out" 2>&1 &
F1=$!
"$TMP/flood" "$PB" "$TMP/forged.baton" "$FLOOD_SECONDS" batch >"$TMP/f2.out" 2>&1 &
F2=$!
BG+=("$F1" "$F2")
wait "$F1"
check_exit 0 "malformed packets one by one: every reply empty" test $? -eq 0
sed 's/^/#   /' "$TMP/f1.out"
wait "$F2"
check_exit 0 "forged packets claiming to be from A, 64 to a batch: no receipt in any reply" test $? -eq 0
sed 's/^/#   /' "$TMP/f2.out"
t1=$(date +%s)
SENT=$(($(sed -n 's/.*(\([0-9]*\) packets).*/\1/p' "$TMP/f1.out") + $(sed -n 's/.*(\([0-9]*\) packets).*/\1/p' "$TMP/f2.out")))
check "the flood was more than one packet a second" test "$SENT" -gt $((2 * (t1 - t0 + 1)))
check "B is still serving" kill -0 "$BPID"
check "B's audit log is unchanged by $SENT unverified packets" test "$(audit_len "$B")" -eq "$N0"
tail -n +$((L0 + 1)) "$TMP/b.log" >"$TMP/flood.log"
LINES=$(wc -l <"$TMP/flood.log")
echo "#   $SENT packets in $((t1 - t0)) s: $(audit_len "$B") audit entries (before: $N0), $LINES log lines"
check "at most one log line a second for them" test "$LINES" -ge 1 -a "$LINES" -le $((t1 - t0 + 2))
check "the log counts the refusals" grep -Eq 'unverified, not audited: [0-9]+ refused so far' "$TMP/flood.log"
check "the log names A only as claimed" grep -q 'from a sender claiming to be LHS-001: rejected (bad_signature)' "$TMP/flood.log"
check "the log never names A as the sender of a forgery" sh -c "! grep -q 'from LHS-001: rejected' '$TMP/b.log'"

# A's own packets still arrive.
serve_start A "$A" a.log || done_testing
check_out 'queued' "A queues S-1018 for B (again: the file was tampered with)" "$BATON" send S-1018 --again --to RAS-204 \
	--consent "$TMP/S-1018.consent" --dir "$A"
check "A's packet is receipted after the flood" wait_for 120 sh -c "'$BATON' outbox --dir '$A' | grep -q receipted"
check_out 'S-1018' "B imported S-1018" "$BATON" student list --dir "$B"

# ---- 3. the receiver's own rules ----
# A revocation brought to B by hand; A does not have it.
check "the parent revokes the consent for S-1001" "$BATON" consent revoke --key "$TMP/p.key" \
	"$TMP/S-1001.consent" --out "$TMP/S-1001.rev"
check_err 2 'not linked to any student at this school: not recorded .*--consent' \
	"B, which has not seen the consent, does not take the revocation alone" \
	"$BATON" consent import "$TMP/S-1001.rev" --dir "$B"
check_err 2 'not the one the revocation withdraws' "nor with another consent" \
	"$BATON" consent import "$TMP/S-1001.rev" --consent "$TMP/S-1018.consent" --dir "$B"
check_out 'Recorded the revocation' "B records the revocation, shown with the consent it withdraws" \
	"$BATON" consent import "$TMP/S-1001.rev" --consent "$TMP/S-1001.consent" --dir "$B"
run "$BATON" send S-1001 --to RAS-204 --consent "$TMP/S-1001.consent" --dir "$A"
P1001=$(sed -n 's/^ *packet \([0-9a-f]\{32\}\),.*/\1/p' "$OUT")
check "A, which has no revocation, queues S-1001" test -n "$P1001"
check "B refuses it, and A records B's signed refusal" wait_for 120 \
	sh -c "'$BATON' outbox --dir '$A' | grep -Eq '$P1001.*rejected'"
check_out "$P1001.*consent_invalid: .*revoked" "A's outbox gives B's reason" "$BATON" outbox --dir "$A"
check "B has no S-1001" sh -c "! '$BATON' student list --dir '$B' | grep -q S-1001"
check_out 'rejected +school LHS-001.*consent_invalid.*revoked' "B's audit log records the refusal, from A" \
	"$BATON" audit --dir "$B"

# B's record of S-1003 shows postsecondary education; A's does not, so A lets a guardian's consent release it.
run "$BATON" send S-1003 --to RAS-204 --consent "$TMP/S-1003.consent" --dir "$A"
P1003=$(sed -n 's/^ *packet \([0-9a-f]\{32\}\),.*/\1/p' "$OUT")
check "the first packet of S-1003 is receipted" wait_for 120 \
	sh -c "'$BATON' outbox --dir '$A' | grep -Eq '$P1003.*receipted'"
mkdir -p "$TMP/exp"
check "B exports its record of S-1003" "$BATON" student export S-1003 --out "$TMP/exp/S-1003.json" --dir "$B"
# The same child (same names and birth date), now enrolled in postsecondary education.
sed -E -e 's/("grade_level": *")[^"]*"/\1PS"/' -e '/"exit_date": *"[^"]*",/d' \
	"$TMP/exp/S-1003.json" >"$TMP/exp/S-1003b.json"
check_out '1 new versions' "B's registrar records S-1003's postsecondary enrollment" \
	"$BATON" student import "$TMP/exp/S-1003b.json" --dir "$B"
check_out '"grade_level": *"PS"' "B's record of S-1003 now shows postsecondary" \
	"$BATON" student show S-1003 --json --dir "$B"
run "$BATON" student show S-1003 --json --dir "$B"
cp "$OUT" "$TMP/show1003.before"
run "$BATON" send S-1003 --again --to RAS-204 --consent "$TMP/S-1003.consent" --dir "$A"
P1003b=$(sed -n 's/^ *packet \([0-9a-f]\{32\}\),.*/\1/p' "$OUT")
check "A queues S-1003 again, under the guardian's consent" test -n "$P1003b"
check "B refuses it, and A records B's signed refusal" wait_for 120 \
	sh -c "'$BATON' outbox --dir '$A' | grep -Eq '$P1003b.*rejected'"
check_out "$P1003b.*consent_invalid: .*postsecondary" "A's outbox gives B's reason" "$BATON" outbox --dir "$A"
run "$BATON" student show S-1003 --json --dir "$B"
same "$TMP/show1003.before" "$OUT" "B's record of S-1003 is unchanged"

check_exit 0 "B stops cleanly" serve_stop B
check_exit 0 "A stops cleanly" serve_stop A
check "both audit logs verify" sh -c "'$BATON' audit verify --dir '$A' >/dev/null && '$BATON' audit verify --dir '$B' >/dev/null"
done_testing
