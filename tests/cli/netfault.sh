#!/usr/bin/env bash
# Network faults on loopback TCP, against a receiving node B running
# 'baton serve', while a well-behaved node A keeps sending it packets: each
# scenario ends with a packet of A's that must be receipted while the
# misbehaving peers are still at it (a generous bound catches a hang only).
#
#   1. B down: A's outbox keeps the packet queued and counts attempts.
#   2. Connections cut mid-message (closed, and reset with SO_LINGER 0):
#      a 10 MB announcement (over B's limit) and a 1 MiB one half sent.
#   3. Slow peers, one byte at a time, for the length of the other checks:
#      a REQ message (whose empty reply must come), an SP header whose last
#      byte never comes (nng closes it 10 s after the last byte it got),
#      and connections that never send anything (closed after 10 s).
#   4. 1,000 idle connections that did the SP handshake: B's descriptors
#      and VmRSS, before, during and after.
#   5. Garbage: 2,000 well-framed REQ messages of random bytes, each
#      answered empty and logged on one line; raw garbage without an SP
#      header; frames nng itself refuses.
#   6. Messages announced at 2 GiB, 2^63 and 2^64-1 bytes: B drops the
#      connection without allocating, and keeps serving. Then many
#      connections each holding an unfinished message just under B's limit:
#      B's VmRSS must stay under the same bound as for idle connections.
#   7. A peer that pipelines requests and never reads the replies.
#   8. B's audit log verifies; every packet of A's arrived exactly once;
#      both nodes stop on SIGTERM with exit code 0.
#
# The misbehaving peers are a small C program (libc only), tests/tools/netpeer.c,
# which make builds ($BATON_NETPEER). Every wait is a bounded poll; each peer has
# its own time limit. Counts shrink when $BATON is an ASan build.
. "$(dirname "$0")/lib.sh"

A=$TMP/lhs B=$TMP/ras
free_ports 2 || done_testing
PA=$P0
PB=$((PA + 1))

# Sizes: the plain build, and an ASan build (about three times slower).
# BOUND is how long a wait may take before it counts as a hang: no check
# depends on the machine being idle.
NIDLE=1000 NGARB=2000 NRAW=300 NSILENT=100 NFILL=250 RSS_MAX_MB=200 BOUND=120
if { ldd "$BATON" 2>/dev/null | grep -q libasan; } || grep -q __asan_init "$BATON" 2>/dev/null; then
	NGARB=700 NRAW=100 NSILENT=50
	# ASan keeps freed blocks in a quarantine (256 MiB by default) before reuse,
	# so the closed connections' buffers still count: the bound is the plain
	# build's plus that.
	RSS_MAX_MB=$((RSS_MAX_MB + 256))
	echo "# $BATON is an ASan build: $NGARB garbage messages, $NRAW raw connections, $NSILENT silent ones"
fi
# Each idle connection is a descriptor here and one at B: stay under the hard limit.
HARD=$(ulimit -Hn)
if [ "$HARD" != unlimited ] && [ "$HARD" -lt $((NIDLE + NSILENT + 200)) ]; then
	NIDLE=$((HARD - NSILENT - 200))
	echo "# descriptor hard limit $HARD: $NIDLE idle connections"
fi

tool BATON_NETPEER netpeer || done_testing
NETPEER=$BATON_NETPEER


now_ms() {
	local t=${EPOCHREALTIME/./}
	echo $((10#$t / 1000))
}

# B's VmRSS in kB, and its open descriptors.
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$BPID/status" 2>/dev/null || echo 0; }
nfd() { ls "/proc/$BPID/fd" 2>/dev/null | wc -l; }
fds_at_least() { [ "$(nfd)" -ge "$1" ]; }
fds_at_most() { [ "$(nfd)" -le "$1" ]; }

# A's packets: queued with 'baton send', delivered by A's serve. Their ids, in order.
# The same record each time: --again, for it was sent under this consent before.
SENT=()
queue() {
	run "$BATON" send S-1018 --to RAS-204 --consent "$TMP/c.consent" --again --dir "$A"
	QID=$(sed -n 's/^ *packet \([0-9a-f]\{32\}\),.*/\1/p' "$OUT")
	[ "$RC" -eq 0 ] && [ -n "$QID" ] && SENT+=("$QID")
}

receipted() {
	"$BATON" outbox --dir "$A" 2>/dev/null | grep -q "^$1 .*receipted"
}

# a_packet DESC [PID...]: A queues a packet for B; passes when A holds its
# receipt while each process PID (a misbehaving peer) still runs, and says
# how long it took. $BOUND s without the receipt is a hang.
a_packet() {
	local desc="$1, B serves A: a packet receipted" t0 t p
	shift
	[ "$#" -eq 0 ] || desc="$desc while the peer is still at it"
	if ! queue; then
		fail_run "$desc" "baton send did not queue a packet"
		return 1
	fi
	t0=$(now_ms)
	while ! receipted "$QID"; do
		t=$(($(now_ms) - t0))
		if [ "$t" -ge $((BOUND * 1000)) ]; then
			fail "$desc" "packet $QID still not receipted after $t ms" \
				"A's outbox: $("$BATON" outbox --dir "$A" 2>&1 | grep "^$QID")" \
				"B's log, last lines:" "$(tail -n 4 "$TMP/b.log")"
			return 1
		fi
		sleep 0.1
	done
	for p in "$@"; do
		if ! kill -0 "$p" 2>/dev/null; then
			fail "$desc" "receipted after $(($(now_ms) - t0)) ms, but the peer (pid $p) had ended by then"
			return 1
		fi
	done
	pass "$desc"
	echo "#   receipt after $(($(now_ms) - t0)) ms"
}

alive() {
	if kill -0 "$BPID" 2>/dev/null; then
		pass "$1: B is still running"
	else
		fail "$1: B is still running" "B's log, last lines:" "$(tail -n 8 "$TMP/b.log")"
	fi
}

T_START=$(now_ms)

# ---- two schools, a consent ----

check "init A" "$BATON" init --name "Lincoln High School" --code LHS-001 \
	--endpoint "tcp://127.0.0.1:$PA" --dir "$A" --no-passphrase
check "init B" "$BATON" init --name "Riverside Academy" --code RAS-204 \
	--endpoint "tcp://127.0.0.1:$PB" --dir "$B" --no-passphrase
check "cards, pinned both ways" sh -c "
	'$BATON' card --dir '$A' --out '$TMP/a.card' >/dev/null &&
	'$BATON' card --dir '$B' --out '$TMP/b.card' >/dev/null &&
	'$BATON' peer add '$TMP/b.card' --dir '$A' >/dev/null &&
	'$BATON' peer add '$TMP/a.card' --dir '$B' >/dev/null"
check "A imports the sample school" "$BATON" student import "$BATON_SRC/tests/data/school.json" --dir "$A"
check "a parent's key, linked to S-1018" sh -c "
	'$BATON' guardian keygen --out '$TMP/p.key' --no-passphrase >/dev/null 2>&1 &&
	'$BATON' guardian link S-1018 \"\$('$BATON' guardian pubkey '$TMP/p.key' | head -n1)\" --dir '$A' >/dev/null"
check "a consent for B" "$BATON" consent grant --key "$TMP/p.key" --student S-1018 \
	--from "$TMP/a.card" --to "$TMP/b.card" --sections all --yes --out "$TMP/c.consent"

# ---- 1. B down: the packet waits in A's outbox, attempts counted ----

serve_start A "$A" a.log
queue
check "with B down, A's outbox keeps the packet queued and counts its attempts" \
	wait_for "$BOUND" sh -c "'$BATON' outbox --dir '$A' | grep -q '^$QID .*queued.*attempts [1-9]'"
P1=$QID
serve_start B "$B" b.log || done_testing
BPID=${SPID[B]}
check "B comes up and the queued packet arrives" wait_for "$BOUND" receipted "$P1"
FD_BASE=$(nfd) RSS_BASE=$(rss)
echo "# B at rest: $FD_BASE descriptors, VmRSS $RSS_BASE kB"

# ---- 3. slow peers, in the background for the length of scenarios 4 to 6 ----

# The REQ message (12 + SLOW_LEN bytes, one every 3 s) trickles for about a
# minute: A's packet must arrive while it does. Its length is below any
# garbage message's, so that B's log line for it is its own. The silent
# connections are held until B has closed them all.
SLOW_LEN=7
FD_SLOW=$(nfd)
"$NETPEER" slow "$PB" "$SLOW_LEN" 300 msg 3000 >"$TMP/slow-msg.out" 2>&1 &
SLOW_MSG=$!
"$NETPEER" slow "$PB" 0 20 hs >"$TMP/slow-hs.out" 2>&1 &
SLOW_HS=$!
"$NETPEER" hold "$PB" "$NSILENT" 300 raw >"$TMP/silent.out" 2>&1 &
SILENT=$!
BG+=("$SLOW_MSG" "$SLOW_HS" "$SILENT")
wait_for "$BOUND" fds_at_least $((FD_SLOW + 2))
a_packet "while slow peers trickle their bytes" "$SLOW_MSG"

# ---- 4. 1,000 idle connections ----

# The silent connections first go (nng closes them after 10 s): the peer
# says so once B has closed every one.
wait_for "$BOUND" grep -q '^closed' "$TMP/silent.out"
FD0=$(nfd) RSS0=$(rss)
"$NETPEER" hold "$PB" "$NIDLE" 600 sp >"$TMP/idle.out" 2>&1 &
IDLE=$!
BG+=("$IDLE")
check "$NIDLE connections to B, each through the SP handshake" \
	wait_for $((BOUND * 3)) grep -q "^opened $NIDLE of $NIDLE" "$TMP/idle.out"
FD1=$(nfd) RSS1=$(rss)
a_packet "with $NIDLE idle connections open" "$IDLE"
FD1b=$(nfd) RSS1b=$(rss)
[ "$FD1b" -gt "$FD1" ] && FD1=$FD1b
[ "$RSS1b" -gt "$RSS1" ] && RSS1=$RSS1b
check "B's descriptors with $NIDLE idle connections: one for each, and a few" \
	test "$FD1" -le $((FD0 + NIDLE + 8))
check "B's VmRSS with $NIDLE idle connections stays under $RSS_MAX_MB MB" \
	test "$RSS1" -lt $((RSS_MAX_MB * 1024))
kill -TERM "$IDLE"
wait "$IDLE"
check "B's descriptors return to where they were once the idle connections close" \
	wait_for "$BOUND" fds_at_most $((FD0 + 4))
FD2=$(nfd) RSS2=$(rss)
echo "# B's descriptors: $FD0 before, $FD1 with $NIDLE idle connections, $FD2 after"
echo "# B's VmRSS: $RSS0 kB before, $RSS1 kB with $NIDLE idle connections, $RSS2 kB after"

# ---- 2. connections cut mid-message ----

cut() {
	run "$NETPEER" cut "$PB" "$@"
	sed 's/^/#   /' "$OUT"
}
cut 10000000 1000000 fin $((BOUND * 1000))
check "a 10 MB message announced and cut (closed): B drops the connection at the length" \
	grep -q 'the peer closed first' "$OUT"
cut 10000000 1000000 rst $((BOUND * 1000))
check "a 10 MB message announced and cut (reset): B drops the connection at the length" \
	grep -q 'the peer closed first' "$OUT"
cut 1048576 524288 fin 100
check "a 1 MiB message, half sent, then closed" grep -q 'sent 524288,' "$OUT"
cut 1048576 524288 rst 100
check "a 1 MiB message, half sent, then reset (SO_LINGER 0)" grep -q 'sent 524288,' "$OUT"
alive "after connections cut mid-message"
a_packet "after connections cut mid-message"

# ---- 5. garbage ----

G0=$(count "a message of [0-9]{2,} bytes that is not Baton's: dropped" "$TMP/b.log")
GT0=$(date +%s)
check "$NGARB REQ messages of random bytes: each answered empty (or its connection closed to make room), none left unanswered" \
	"$NETPEER" garbage "$PB" "$NGARB"
sed 's/^/#   /' "$OUT"
check "$NRAW connections of raw garbage, without an SP header" "$NETPEER" raw "$PB" "$NRAW"
check "frames nng refuses: a body shorter than a request id, an endless backtrace, a PAIR peer" \
	"$NETPEER" badframe "$PB"
G1=$(count "a message of [0-9]{2,} bytes that is not Baton's: dropped" "$TMP/b.log")
GOT=$(sed -n 's/.*empty replies \([0-9]*\),.*/\1/p' "$OUT" | tail -n1)
GT1=$(date +%s)
check "B logged what it dropped, at most one line a second" test $((G1 - G0)) -ge 1 -a $((G1 - G0)) -le $((GT1 - GT0 + 2))
check "and counted it" grep -Eq "not Baton's: dropped \[unverified, not audited: [0-9]+ refused so far" "$TMP/b.log"
echo "#   $((G1 - G0)) lines for $NGARB messages in $((GT1 - GT0)) s"
alive "after the garbage"
a_packet "after the garbage"

# ---- 6. oversized messages ----

R0=$(rss)
for len in 2147483648 9223372036854775808 18446744073709551615; do
	check "a message announced at $len bytes: B drops the connection at once" \
		"$NETPEER" big "$PB" "$len" $((BOUND * 1000)) "$BPID"
	sed 's/^/#   /' "$OUT"
done
R1=$(rss)
check "B allocated none of them: its VmRSS grew by less than 16 MB" test "$R1" -lt $((R0 + 16384))
echo "#   VmRSS $R0 kB before, $R1 kB after"
alive "after oversized messages"
a_packet "after oversized messages"

# Unfinished messages just under B's limit: nng allocates each in full.
RF0=$(rss)
"$NETPEER" fill "$PB" "$NFILL" 1048576 600 >"$TMP/fill.out" 2>&1 &
FILL=$!
BG+=("$FILL")
wait_for $((BOUND * 3)) grep -q '^holding' "$TMP/fill.out"
sed 's/^/#   /' "$TMP/fill.out"
# Until B has read what was sent: its VmRSS no longer grows.
RF1=$(rss)
for _ in 1 2 3 4 5 6 7 8 9 10; do
	sleep 0.3
	r=$(rss)
	[ "$r" -gt "$RF1" ] || break
	RF1=$r
done
a_packet "with $NFILL unfinished 1 MiB messages held" "$FILL"
check "B's VmRSS with $NFILL unfinished 1 MiB messages held stays under $RSS_MAX_MB MB" \
	test "$RF1" -lt $((RSS_MAX_MB * 1024))
kill -TERM "$FILL"
wait "$FILL"
wait_for "$BOUND" fds_at_most $((FD0 + 4))
RF2=$(rss)
echo "# B's VmRSS: $RF0 kB before, $RF1 kB holding $NFILL unfinished 1 MiB messages, $RF2 kB after"

# ---- 3, continued: the slow peers' outcomes ----

n=$((BOUND * 5))
while kill -0 "$SLOW_MSG" 2>/dev/null && [ "$n" -gt 0 ]; do
	sleep 0.2
	n=$((n - 1))
done
wait "$SLOW_MSG"
RC=$?
if [ "$RC" -eq 0 ]; then
	pass "a REQ message sent one byte at a time gets its empty reply (or B closed it to make room)"
else
	fail "a REQ message sent one byte at a time gets its empty reply (or B closed it to make room)" \
		"$(cat "$TMP/slow-msg.out")"
fi
sed 's/^/#   /' "$TMP/slow-msg.out"
# B keeps 64 connections and closes the oldest for a new one: the slow peer,
# the oldest while the idle connections arrive, may be closed before its
# message is whole. Either way, at most one line.
if grep -q 'closed the connection' "$TMP/slow-msg.out"; then
	check "B closed the slow peer to make room, and logged nothing for its message" \
		test "$(count "a message of $SLOW_LEN bytes that is not Baton's" "$TMP/b.log")" -eq 0
else
	# Such lines are rate-limited: it may be one of those only counted.
	check "B logged that message at most once" \
		test "$(count "a message of $SLOW_LEN bytes that is not Baton's" "$TMP/b.log")" -le 1
fi
wait "$SLOW_HS"
echo "#   an SP header sent one byte a second, its last byte never: $(cat "$TMP/slow-hs.out")"
wait "$SILENT"
check "B closed the $NSILENT connections that never sent an SP header (nng: 10 s)" \
	grep -q "($NSILENT closed by the peer first" "$TMP/silent.out"
sed 's/^/#   /' "$TMP/silent.out"

# ---- 7. a peer that never reads its replies ----

# Chunk probes for a packet B does not hold, many to a write, replies unread:
# once the TCP buffers are full, B's reply to that peer cannot leave.
"$NETPEER" slowread "$PB" 1000000 600 >"$TMP/slowread.out" 2>&1 &
SLOWREAD=$!
BG+=("$SLOWREAD")
wait_for "$BOUND" grep -q '^pipelined' "$TMP/slowread.out"
sed 's/^/#   /' "$TMP/slowread.out"
if ! a_packet "while a peer does not read its replies" "$SLOWREAD"; then
	STUCK=$QID
	echo "#   B's descriptors $(nfd), VmRSS $(rss) kB; the peer goes away now"
fi
kill -TERM "$SLOWREAD"
wait "$SLOWREAD"
if [ -n "${STUCK:-}" ]; then
	check "once that peer is gone, A's packet arrives" wait_for "$BOUND" receipted "$STUCK"
fi
alive "after a peer that does not read its replies"
a_packet "after a peer that does not read its replies"

# ---- 8. the end ----

FD_END=$(nfd) RSS_END=$(rss)
echo "# B at the end: $FD_END descriptors (at rest $FD_BASE), VmRSS $RSS_END kB (at rest $RSS_BASE kB)"
check "B's descriptors are back near where they were at rest" wait_for "$BOUND" fds_at_most $((FD_BASE + 4))
missing=()
for id in "${SENT[@]}"; do
	receipted "$id" || missing+=("$id")
done
check "every one of A's ${#SENT[@]} packets was receipted" test "${#missing[@]}" -eq 0
run "$BATON" inbox --dir "$B"
dup=()
for id in "${SENT[@]}"; do
	[ "$(grep -c "^$id .*accepted" "$OUT")" -eq 1 ] || dup+=("$id")
done
if [ "${#dup[@]}" -eq 0 ]; then
	pass "B's inbox holds each of A's packets exactly once, accepted"
else
	fail "B's inbox holds each of A's packets exactly once, accepted" "not so for: ${dup[*]}"
fi
check "B's audit log verifies" "$BATON" audit verify --dir "$B"
check "A's audit log verifies" "$BATON" audit verify --dir "$A"
serve_stop A
check "A stops on SIGTERM with exit code 0" test $? -eq 0
serve_stop B
RC=$?
if [ "$RC" -eq 0 ]; then
	pass "B stops on SIGTERM with exit code 0"
else
	fail "B stops on SIGTERM with exit code 0" "exit code $RC" "$(tail -n 12 "$TMP/b.log")"
fi
BG=()
check "no crash and no sanitizer report in B's log" \
	sh -c "! grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error|Segmentation|Aborted' '$TMP/b.log'"
echo "# $(count 'not Baton.s: dropped' "$TMP/b.log") lines 'not Baton's: dropped' in B's log; $(wc -l <"$TMP/b.log") lines in all"
echo "# $(($(now_ms) - T_START)) ms"
done_testing
