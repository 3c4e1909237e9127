#!/usr/bin/env bash
# A packet sealed to a key the authority withdrew never leaves, even when the
# school's code now has another key: a key is replaced because it leaked,
# and the school's address often stays the same, so the node still holding
# the withdrawn key would be the one that answers.
#
#   A (LHS-001) queues a record for C (OTH-9); the authority replaces OTH-9's
#   key (--replace withdraws the old one) and A takes that directory; then
#   the node with the old key serves at OTH-9's address. A's outbox holds
#   the packet ("held: withdrawn by ...: sealed to the withdrawn key") and
#   the old node receives nothing. A record sealed afterwards, to the new
#   key, is not held.
. "$(dirname "$0")/lib.sh"

export BATON_PASSPHRASE="the authority's long passphrase"
A=$TMP/lhs C=$TMP/oth C2=$TMP/oth2
free_ports 2 || done_testing
PA=$P0 PC=$((P0 + 1))

check_out 'fingerprint' "the authority is made" "$BATON" authority init --name "State Board" --out "$TMP/auth"
AK=$(sed -n 's/^  key  *//p' "$OUT") AFP=$(sed -n 's/^  fingerprint  *//p' "$OUT")
declare -A FP
for n in "$A:Lincoln High School:LHS-001:$PA" "$C:Other School:OTH-9:$PC" "$C2:Other School:OTH-9:$PC"; do
	IFS=: read -r dir name code port <<<"$n"
	check "init $code at $dir" "$BATON" init --name "$name" --code "$code" \
		--endpoint "tcp://127.0.0.1:$port" --no-passphrase --dir "$dir"
	check "card of $dir" "$BATON" card --dir "$dir" --out "$dir.card"
	FP[$dir]=$(sed -n 's/^fingerprint //p' "$OUT")
done
check "the authority admits A" "$BATON" authority add "$A.card" --expect "${FP[$A]}" --dir "$TMP/auth"
check "and C" "$BATON" authority add "$C.card" --expect "${FP[$C]}" --dir "$TMP/auth"
check "version 1" "$BATON" authority sign --expires 30d --out "$TMP/v1.dir" --dir "$TMP/auth"
for d in "$A" "$C"; do
	check "$d pins the authority and takes version 1" sh -c \
		"'$BATON' directory trust '$AK' --expect '$AFP' --dir '$d' >/dev/null &&
		'$BATON' directory update '$TMP/v1.dir' --dir '$d' >/dev/null"
done

check "A imports the sample school" "$BATON" student import "$BATON_SRC/tests/data/school.json" --dir "$A"
check "a parent key" "$BATON" guardian keygen --no-passphrase --out "$TMP/p.key"
check "linked to S-1018" "$BATON" guardian link S-1018 "$(cat "$TMP/p.key.pub")" --dir "$A"
check "consent A -> C" "$BATON" consent grant --key "$TMP/p.key" --student S-1018 --from "$A.card" \
	--to "$C.card" --sections all --yes --out "$TMP/ac.consent"
check_out 'queued' "A queues a record for OTH-9, sealed to C's key" "$BATON" send S-1018 --to OTH-9 \
	--consent "$TMP/ac.consent" --dir "$A"

check_out 'Withdrew the old key' "the authority replaces OTH-9's key" \
	"$BATON" authority add "$C2.card" --expect "${FP[$C2]}" --replace --dir "$TMP/auth"
check "version 2" "$BATON" authority sign --expires 30d --out "$TMP/v2.dir" --dir "$TMP/auth"
check_out '1 changed.*1 newly withdrawn' "A takes version 2" \
	"$BATON" directory update "$TMP/v2.dir" --dir "$A"
check_out "OTH-9 .*${FP[$C2]}" "A trusts OTH-9 with the new key" "$BATON" peer list --dir "$A"

# The node with the withdrawn key answers at OTH-9's address.
serve_start C "$C" c.log || done_testing
serve_start A "$A" a.log || done_testing
check "A's outbox holds the packet sealed to the withdrawn key" wait_for 120 \
	grep -q 'to OTH-9 held: withdrawn by State Board: sealed to the withdrawn key' "$TMP/a.log"
check_out 'OTH-9 .*attempts 0 +held: withdrawn by State Board: sealed to the withdrawn key; send the record again' \
	"outbox says so, and that the record must be sent again" "$BATON" outbox --dir "$A"
check "A stops" serve_stop A
check "C stops" serve_stop C
check "the node with the withdrawn key received nothing" sh -c "! '$BATON' inbox --dir '$C' | grep -q LHS-001"
check "and audited nothing from A" sh -c "! '$BATON' audit --dir '$C' | grep -q 'received'"

# Sealed to the new key: not held (it waits for OTH-9's new node like any packet).
check "consent A -> OTH-9 under its new key" "$BATON" consent grant --key "$TMP/p.key" --student S-1018 \
	--from "$A.card" --to "$C2.card" --sections all --yes --out "$TMP/ac2.consent"
check_out 'queued' "a record sealed to the new key is queued" "$BATON" send S-1018 --again --to OTH-9 \
	--consent "$TMP/ac2.consent" --dir "$A"
serve_start A "$A" a2.log || done_testing
check "A tries to deliver it" wait_for 120 grep -q 'to OTH-9: attempt 1 failed' "$TMP/a2.log"
check "A stops again" serve_stop A
check_out 'attempts [1-9]' "the new packet is tried, not held" "$BATON" outbox --dir "$A"
check "both audit logs verify" sh -c "'$BATON' audit verify --dir '$A' >/dev/null &&
	'$BATON' audit verify --dir '$C' >/dev/null"
done_testing
