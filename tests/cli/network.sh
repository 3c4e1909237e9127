#!/usr/bin/env bash
# Two nodes on loopback TCP: a packet queued while the receiver is down
# waits in the outbox and arrives, exactly once, when it comes up; garbage
# and an oversized message do not stop the listener; SIGTERM stops both.
# Every wait is a bounded poll.
. "$(dirname "$0")/lib.sh"

export BATON_PASSPHRASE="a long enough passphrase"
A=$TMP/lhs B=$TMP/ras
free_ports 3 || done_testing
PA=$P0
PB=$((PA + 1))


check "init A" "$BATON" init --name "Lincoln High School" --code LHS-001 --endpoint "tcp://127.0.0.1:$PA" --dir "$A"
check "init B" "$BATON" init --name "Riverside Academy" --code RAS-204 --endpoint "tcp://127.0.0.1:$PB" --dir "$B"
check "cards" sh -c "'$BATON' card --dir '$A' --out '$TMP/a.card' >/dev/null && '$BATON' card --dir '$B' --out '$TMP/b.card' >/dev/null"
check "A pins B" "$BATON" peer add "$TMP/b.card" --dir "$A"
check "B pins A" "$BATON" peer add "$TMP/a.card" --dir "$B"
check "A imports the sample school" "$BATON" student import "$BATON_SRC/tests/data/school.json" --dir "$A"
check "a parent key" "$BATON" guardian keygen --out "$TMP/p.key"
run "$BATON" guardian pubkey "$TMP/p.key"
check "linked to S-1018" "$BATON" guardian link S-1018 "$(head -n1 "$OUT")" --dir "$A"
check "consent" "$BATON" consent grant --key "$TMP/p.key" --student S-1018 --from "$TMP/a.card" \
	--to "$TMP/b.card" --sections all --yes --out "$TMP/c.consent"

check_out 'queued' "send without --out queues the packet" "$BATON" send S-1018 --to RAS-204 \
	--consent "$TMP/c.consent" --dir "$A"
# A third school whose node never answers: each failure names its own school's endpoint.
PC=$((PA + 2))
check "init C, at a port where nothing listens" "$BATON" init --name "Other School" --code OTH-9 \
	--endpoint "tcp://127.0.0.1:$PC" --dir "$TMP/oth"
check "A pins C" sh -c "'$BATON' card --dir '$TMP/oth' --out '$TMP/c.card' >/dev/null &&
	'$BATON' peer add '$TMP/c.card' --dir '$A' >/dev/null"
check "consent for C" "$BATON" consent grant --key "$TMP/p.key" --student S-1018 --from "$TMP/a.card" \
	--to "$TMP/c.card" --sections all --yes --out "$TMP/c2.consent"
check_out 'queued' "a packet for C is queued too" "$BATON" send S-1018 --to OTH-9 \
	--consent "$TMP/c2.consent" --dir "$A"
"$BATON" serve --dir "$A" 2>"$TMP/a.log" &
BG+=($!)
check "A's outbox worker tries while B is down" wait_for 120 grep -q 'to RAS-204: attempt 1 failed' "$TMP/a.log"
check "and C" wait_for 120 grep -q 'to OTH-9: attempt 1 failed' "$TMP/a.log"
check "the failure for B names B's endpoint" grep -q "to RAS-204: attempt 1 failed: tcp://127.0.0.1:$PB: " "$TMP/a.log"
check "the failure for C names C's endpoint" grep -q "to OTH-9: attempt 1 failed: tcp://127.0.0.1:$PC: " "$TMP/a.log"
check_out 'queued.*attempts [1-9]' "the packet waits in the outbox" "$BATON" outbox --dir "$A"

"$BATON" serve --dir "$B" 2>"$TMP/b.log" &
BG+=($!)
check "B comes up and the packet arrives" wait_for 120 sh -c "'$BATON' outbox --dir '$A' | grep -q receipted"
check_out 'S-1018' "B imported the student" "$BATON" student list --dir "$B"
check_out 'received' "B's audit log records it" "$BATON" audit --dir "$B"
run "$BATON" inbox --json --dir "$B"
check "exactly one import" test "$(grep -c '"packet"' "$OUT")" -eq 1
check "B logged one line for the import" grep -q 'inbox: packet .* imported as S-1018' "$TMP/b.log"

# Hostile input on B's port: raw garbage.
check "raw garbage on the port" bash -c "head -c 4096 /dev/urandom > /dev/tcp/127.0.0.1/$PB"
# B has read the garbage by the time a packet sent after it is receipted.
check_out 'queued' "A queues a second packet for B, after the garbage" "$BATON" send S-1018 --again --to RAS-204 \
	--consent "$TMP/c.consent" --dir "$A"
check "B is still serving: the second packet arrives" \
	wait_for 120 sh -c "test \"\$('$BATON' outbox --dir '$A' | grep -c receipted)\" -eq 2"
check "B is still running" kill -0 "${BG[1]}"

# Clean shutdown.
kill -TERM "${BG[0]}" "${BG[1]}"
wait "${BG[0]}"
check_exit 0 "A stops cleanly on SIGTERM" test $? -eq 0
wait "${BG[1]}"
check_exit 0 "B stops cleanly on SIGTERM" test $? -eq 0
BG=()
check "both audit logs verify" sh -c "'$BATON' audit verify --dir '$A' >/dev/null && '$BATON' audit verify --dir '$B' >/dev/null"
done_testing
