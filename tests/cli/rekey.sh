#!/usr/bin/env bash
# A school rekeys while its node serves. serve takes the new key without a
# restart (by itself, or at once on SIGHUP), and still opens packets sealed
# to the key it replaced by a school that has not yet pinned the new card,
# also after a restart.
# A consent the family signed before either school rotated its key still
# releases the record once the rotation is pinned; one issued after the
# rotation, naming the old key, is refused, and the refusal says so.
. "$(dirname "$0")/lib.sh"

export BATON_PASSPHRASE="a long enough passphrase"
A=$TMP/lhs B=$TMP/ras
free_ports 2 || done_testing
PA=$P0
PB=$((PA + 1))
FPR_RE='[A-Z2-7]{5}(-[A-Z2-7]{5}){4}'

fpr_of() { # LOGFILE-OF-A-COMMAND: the "new fingerprint" rekey printed
	sed -n 's/^ *new fingerprint \([A-Z2-7-]*\).*/\1/p' "$1"
}

# receipted N: A's outbox holds N receipted packets.
receipted() {
	test "$("$BATON" outbox --dir "$A" | grep -c receipted)" -eq "$1"
}

check "init A" "$BATON" init --name "Lincoln High School" --code LHS-001 --endpoint "tcp://127.0.0.1:$PA" --dir "$A"
check "init B" "$BATON" init --name "Riverside Academy" --code RAS-204 --endpoint "tcp://127.0.0.1:$PB" --dir "$B"
check "cards" sh -c "'$BATON' card --dir '$A' --out '$TMP/a1.card' >/dev/null && '$BATON' card --dir '$B' --out '$TMP/b1.card' >/dev/null"
check "A pins B" "$BATON" peer add "$TMP/b1.card" --dir "$A"
check "B pins A" "$BATON" peer add "$TMP/a1.card" --dir "$B"
check "A imports the sample school" "$BATON" student import "$BATON_SRC/tests/data/school.json" --dir "$A"
check "a parent key" "$BATON" guardian keygen --out "$TMP/p.key"
run "$BATON" guardian pubkey "$TMP/p.key"
check "linked to S-1018" "$BATON" guardian link S-1018 "$(head -n1 "$OUT")" --dir "$A"
for n in 1 2 3 4 5; do
	check "consent $n, before either school rekeys" "$BATON" consent grant --key "$TMP/p.key" \
		--student S-1018 --from "$TMP/a1.card" --to "$TMP/b1.card" --sections all --yes \
		--out "$TMP/c$n.consent"
done

serve_start A "$A" a.log
serve_start B "$B" b.log

# ---- B rekeys while serving ----

check_out 'new fingerprint' "B rekeys" "$BATON" rekey --dir "$B" \
	--card-out "$TMP/b2.card" --rotation-out "$TMP/b2.rot"
B2=$(fpr_of "$OUT")
check "B's serve takes the new key by itself" \
	wait_for 120 grep -q "school.key changed (rekey): now using key $B2" "$TMP/b.log"
check "and says until when the old key still opens packets" \
	grep -Eq "packets sealed to the previous key $FPR_RE are opened until [0-9]{4}-" "$TMP/b.log"

# A has not pinned B's new card yet: its packet is sealed to B's old key.
check_out 'queued' "A sends S-1018 before it knows of B's rotation" \
	"$BATON" send S-1018 --to RAS-204 --consent "$TMP/c1.consent" --dir "$A"
check "B opens it with the key it replaced, and A gets the receipt" wait_for 120 receipted 1
check "B restarts" serve_stop B
serve_start B "$B" b2.log
check "B's restarted serve still takes packets sealed to the key it replaced" \
	grep -Eq "packets sealed to the previous key $FPR_RE are opened until [0-9]{4}-" "$TMP/b2.log"
check_out 'queued' "A sends again, still to B's old key" \
	"$BATON" send S-1018 --to RAS-204 --consent "$TMP/c5.consent" --dir "$A"
check "B opens it, and A gets the receipt" wait_for 120 receipted 2

check_out '^Rotated' "A pins B's new card with the rotation statement" \
	"$BATON" peer add "$TMP/b2.card" --rotation "$TMP/b2.rot" --dir "$A"
check_out 'queued' "A sends S-1018 to B's new key, under a consent naming B's old key" \
	"$BATON" send S-1018 --to RAS-204 --consent "$TMP/c2.consent" --dir "$A"
check "B accepts it at once, and A gets the receipt" wait_for 120 receipted 3
check "B's log has no refusal" sh -c '! grep -Eq "wrong_recipient|refused|rejected" "$1" "$2"' sh "$TMP/b.log" "$TMP/b2.log"
run "$BATON" inbox --json --dir "$B"
check "B's inbox holds the three packets" test "$(grep -c '"packet"' "$OUT")" -eq 3

# A consent signed after B's rotation must name B's new key.
LATER=$(($(date +%s) + 3600))
check "a consent signed an hour after the rotation, naming B's old key" \
	env BATON_NOW="$LATER" "$BATON" consent grant --key "$TMP/p.key" --student S-1018 \
	--from "$TMP/a1.card" --to "$TMP/b1.card" --sections all --yes --out "$TMP/late.consent"
check_err 2 "ETO.*RAS-204's key from before its rotation on .*issued after it" \
	"it is refused, naming the rotation" \
	env BATON_NOW="$LATER" "$BATON" consent check "$TMP/late.consent" --to RAS-204 --dir "$A"

# ---- SIGHUP ----

kill -HUP "${SPID[B]}"
check "on SIGHUP with the same key, B's serve says so" \
	wait_for 120 grep -q "serve: reload: school.key is still key $B2" "$TMP/b2.log"
check "and goes on serving" kill -0 "${SPID[B]}"

# ---- A rekeys: its own consents still name it ----

check_out 'new fingerprint' "A rekeys" "$BATON" rekey --dir "$A" \
	--card-out "$TMP/a2.card" --rotation-out "$TMP/a2.rot"
A2=$(fpr_of "$OUT")
kill -HUP "${SPID[A]}"
check "A's serve takes its new key" \
	wait_for 120 grep -q "school.key changed (rekey): now using key $A2" "$TMP/a.log"
check_out '^Rotated' "B pins A's new card with the rotation statement" \
	"$BATON" peer add "$TMP/a2.card" --rotation "$TMP/a2.rot" --dir "$B"
check_out '^Release allowed' "a consent naming A's key before its rotation passes A's rules" \
	"$BATON" consent check "$TMP/c3.consent" --to RAS-204 --dir "$A"
check_out 'queued' "A sends under it" \
	"$BATON" send S-1018 --to RAS-204 --consent "$TMP/c3.consent" --dir "$A"
check "B accepts it, and A gets the receipt" wait_for 120 receipted 4

# ---- B asks A, under a consent that names both schools' keys before their rotations ----

check_out '^Asked LHS-001' "B asks A for S-1018" \
	"$BATON" request --from LHS-001 --consent "$TMP/c4.consent" --dir "$B"
Q=$(sed -n 's/.*\(packet\|request\) \([0-9a-f]\{32\}\).*/\2/p' "$OUT" | head -n1)
check "A holds the request" wait_for 120 sh -c "'$BATON' requests --dir '$A' | grep -q '^$Q .*held'"
check_out '^Sealed S-1018' "A releases it" "$BATON" release "$Q" --dir "$A"
check "B accepts the record, and A gets the receipt" wait_for 120 receipted 5

check "A stops cleanly" serve_stop A
check "B stops cleanly" serve_stop B
check "both audit logs verify" sh -c "'$BATON' audit verify --dir '$A' >/dev/null && '$BATON' audit verify --dir '$B' >/dev/null"
done_testing
