#!/usr/bin/env bash
# A school whose node takes a packet and never answers does not delay what
# arrives: node A delivers to such a peer (a tarpit: it does nng's SP
# handshake, reads the request and never replies) while school B delivers
# packets to A, and A receipts B's packets while its own delivery attempt is
# still outstanding. Then a client that sends many requests back to back on
# one connection, and reads, gets every reply.
#
# The peers are netpeer's tarpit and pipeline (tests/tools/netpeer.c, built
# by make). Every wait is a bounded poll; the evidence is the order
# of events, not a wall-clock limit (the latencies are printed).
. "$(dirname "$0")/lib.sh"

A=$TMP/lhs B=$TMP/ras C=$TMP/tar
free_ports 3 || done_testing
PA=$P0
PB=$((PA + 1)) PT=$((PA + 2))
NPIPE=64 # PROTOCOL.md section 10: a receiver keeps at most 64 replies on their way

tool BATON_NETPEER netpeer || done_testing
PEER=$BATON_NETPEER

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
check "a tarpit listens at T's endpoint" wait_for 120 grep -q '^listening' "$TMP/tarpit.out"
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
	wait_for 120 grep -q '^request 1: [1-9]' "$TMP/tarpit.out"
check "A's attempt for T is still outstanding" \
	test "$(count 'to TAR-7: attempt 1 failed' "$TMP/a.log")" -eq 0
T0=$(now_ms)
serve_start B "$B" b.log || done_testing
received() {
	"$BATON" outbox --dir "$B" 2>/dev/null | grep -q 'LHS-001 .*receipted'
}
# How long that takes is the machine's business: the order below is the evidence.
if wait_for 120 received; then
	pass "B's packet is receipted"
	echo "#   B's receipt $(($(now_ms) - T0)) ms after B started"
else
	fail "B's packet is receipted" "A's log:" "$(tail -n 6 "$TMP/a.log")"
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
