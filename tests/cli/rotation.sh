#!/usr/bin/env bash
# A school replaces its keys: its pinned peers refuse the new card on its
# own, accept it with the rotation statement signed by the old key, and
# refuse a rotation statement that does not chain from the pinned key.
. "$(dirname "$0")/lib.sh"

A=$TMP/a B=$TMP/b C=$TMP/c
check "init school A" "$BATON" init --name "Lincoln High School" --code LHS-001 --dir "$A" --no-passphrase
check "init school B" "$BATON" init --name "Riverside Academy" --code RAS-204 --dir "$B" --no-passphrase
check "init school C" "$BATON" init --name "Other School" --code OTH-1 --dir "$C" --no-passphrase
check "A exports its card" "$BATON" card --dir "$A" --out "$TMP/a1.card"
check "B pins A" "$BATON" peer add "$TMP/a1.card" --dir "$B"

check_exit 1 "rekey needs both output files" "$BATON" rekey --dir "$A" --no-passphrase
check_out 'new fingerprint' "A rekeys" "$BATON" rekey --dir "$A" --no-passphrase \
	--card-out "$TMP/a2.card" --rotation-out "$TMP/a2.rot"
check "the old key file is kept" sh -c "ls '$A' | grep -q '^school.key.old-'"
check "the rotation statement can be written again from the store" \
	"$BATON" card --dir "$A" --rotation-out "$TMP/a2-again.rot"
same "$TMP/a2.rot" "$TMP/a2-again.rot" "the same statement, byte for byte"
check_err 2 'never rekeyed' "a school that never rekeyed has no rotation statement" \
	"$BATON" card --dir "$B" --rotation-out "$TMP/none.rot"
touch "$A/school.key.new"
check_err 3 'interrupted rekey' "rekey refuses to run over an interrupted one" \
	"$BATON" rekey --dir "$A" --no-passphrase --card-out "$TMP/x.card" --rotation-out "$TMP/x.rot"
rm -f "$A/school.key.new"
check "nothing was written" test ! -e "$TMP/x.card" -a ! -e "$TMP/x.rot"
check_out '"code"' "A's card is the new one" "$BATON" card --dir "$A" --json
check "the exported card is A's current card" sh -c \
	"'$BATON' card --dir '$A' --out '$TMP/a2b.card' >/dev/null && cmp -s '$TMP/a2.card' '$TMP/a2b.card'"

run "$BATON" peer list --dir "$B" --json
cp "$OUT" "$TMP/peers.before"
check_err 2 'already pinned with a different key.*rotation' \
	"B refuses A's new card without the rotation statement" "$BATON" peer add "$TMP/a2.card" --dir "$B"
run "$BATON" peer list --dir "$B" --json
same "$TMP/peers.before" "$OUT" "B's pinned card is unchanged after the refusal"

# A rotation statement made by another school does not move A's pin.
check "C rekeys" "$BATON" rekey --dir "$C" --no-passphrase --card-out "$TMP/c2.card" --rotation-out "$TMP/c2.rot"
check_err 2 'rotation statement does not move' "a rotation from another school is refused" \
	"$BATON" peer add "$TMP/a2.card" --rotation "$TMP/c2.rot" --dir "$B"
check_err 2 'a school card, not a rotation statement' "a card offered as a rotation statement is refused" \
	"$BATON" peer add "$TMP/a2.card" --rotation "$TMP/a1.card" --dir "$B"

check_out '^Rotated' "B accepts A's new card with the rotation statement" \
	"$BATON" peer add "$TMP/a2.card" --rotation "$TMP/a2.rot" --dir "$B"
check_out 'peer-rotate.*rotated from' "B's audit log records the rotation" "$BATON" audit --dir "$B"
check_out 'rekey' "A's audit log records the rekey" "$BATON" audit --dir "$A"
check_err 2 'already pinned with a different key' "the old card is now refused" \
	"$BATON" peer add "$TMP/a1.card" --dir "$B"
check "both audit logs verify" sh -c "'$BATON' audit verify --dir '$A' >/dev/null && '$BATON' audit verify --dir '$B' >/dev/null"
done_testing
