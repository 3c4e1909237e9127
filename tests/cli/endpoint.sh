#!/usr/bin/env bash
# A school's endpoint changes after init. 'baton endpoint set' signs its card
# anew with the same keys, valid from later than the card it replaces; its
# running serve moves to the new endpoint; a school that pinned it takes the
# new card with 'baton peer update', and a packet queued for the old endpoint
# then arrives at the new one. An older or equal card, or one with another
# key, never replaces the pinned card. A card that names only this machine is
# said so on stderr, never on stdout.
. "$(dirname "$0")/lib.sh"

export BATON_PASSPHRASE="a long enough passphrase"
A=$TMP/lhs B=$TMP/ras
free_ports 3 || done_testing
PA=$P0
PB=$((PA + 1))
PA2=$((PA + 2))
LOOP='names only this machine .*other schools cannot reach it.*baton endpoint set tcp://HOST:PORT'

# valid_from DIR: the valid_from of the node's own card.
valid_from() {
	"$BATON" card --json --dir "$1" | sed -n 's/.*"valid_from": *\([0-9]*\).*/\1/p'
}

# ---- the card of a node made without --endpoint ----

check_err 1 '"tcp://127.0.0.1".*tcp://HOST:PORT' "init refuses a tcp endpoint without a port, naming it" \
	"$BATON" init --name "Lincoln High School" --code LHS-001 --endpoint tcp://127.0.0.1 --dir "$A"
check "and leaves nothing behind" test ! -e "$A"
check_err 0 "init: warning: no --endpoint: the card $LOOP" "init without --endpoint says on stderr that the card names only 127.0.0.1" \
	"$BATON" init --name "Lincoln High School" --code LHS-001 --dir "$A"
check "and not on stdout" sh -c '! grep -Eq "warning|cannot reach" "$1"' sh "$OUT"
check_err 0 "card: warning: the card $LOOP" "card --out of a loopback-only card warns on stderr" \
	"$BATON" card --out "$TMP/a0.card" --dir "$A"
check "and writes the card" test -s "$TMP/a0.card"
"$BATON" card --dir "$A" >"$TMP/a0.stdout" 2>/dev/null
same "$TMP/a0.card" "$TMP/a0.stdout" "card on standard output is the card alone"
check_out '^tcp://127\.0\.0\.1:7700$' "endpoint shows the card's endpoint" "$BATON" endpoint --dir "$A"
V0=$(valid_from "$A")
check_err 1 '^baton: serve: --listen: endpoint "tcp://127.0.0.1": .*tcp://HOST:PORT' \
	"serve --listen refuses a tcp URL without a port, naming it, as a bad command line (exit 1)" \
	timeout 30 "$BATON" serve --listen tcp://127.0.0.1 --dir "$A"
check_err 1 '^baton: serve: --listen: endpoint "bogus": not a URL' "and a value that is no URL" \
	timeout 30 "$BATON" serve --listen bogus --dir "$A"

check_err 1 '"tcp://localhost".*tcp://HOST:PORT' "endpoint set refuses a tcp endpoint without a port, naming it" \
	"$BATON" endpoint set tcp://localhost --dir "$A"
check_err 1 '"tcp://127.0.0.1:99999"' "and a port past 65535" \
	"$BATON" endpoint set tcp://127.0.0.1:99999 --dir "$A"
for url in "tcp://:7700" "tcp://[::1]" "tcp://host:0" "tcp://host:77a" "tcp://host:" "tcp://h/x:1"; do
	check_err 1 "\"$(printf '%s' "$url" | sed 's/[][]/\\&/g')\".*tcp://HOST:PORT" "endpoint set refuses $url" \
		"$BATON" endpoint set "$url" --dir "$A"
done
check_out '^tcp://127\.0\.0\.1:7700$' "the card is unchanged" "$BATON" endpoint --dir "$A"
run "$BATON" endpoint set "tcp://127.0.0.1:$PA" --card-out "$TMP/a1.card" --dir "$A"
if [ "$RC" -eq 0 ] && grep -q "tcp://127.0.0.1:$PA" "$OUT" && grep -q "peer update" "$OUT"; then
	pass "endpoint set signs a card naming the new endpoint"
else
	fail_run "endpoint set signs a card naming the new endpoint"
fi
check "and warns on stderr that it is loopback-only" grep -Eq "endpoint set: warning: the card $LOOP" "$ERR"
check_out "^tcp://127\.0\.0\.1:$PA\$" "baton endpoint shows it" "$BATON" endpoint --dir "$A"
"$BATON" card --dir "$A" >"$TMP/a1.stdout" 2>/dev/null
same "$TMP/a1.card" "$TMP/a1.stdout" "'baton card' gives the new card"
V1=$(valid_from "$A")
check "the new card is valid from later than the old one ($V1 > $V0)" test "$V1" -gt "$V0"
check_exit 3 "endpoint set never overwrites --card-out" \
	"$BATON" endpoint set "tcp://127.0.0.1:$PA" --card-out "$TMP/a1.card" --dir "$A"
check "and then changes nothing" test "$(valid_from "$A")" -eq "$V1"
check_err 2 "passphrase" "endpoint set needs the school key's passphrase" \
	env BATON_PASSPHRASE="not the passphrase" "$BATON" endpoint set "tcp://127.0.0.1:$PA2" --dir "$A"
check "and without it changes nothing" test "$(valid_from "$A")" -eq "$V1"

# ---- B pins A; B sends to A ----

check "init B" "$BATON" init --name "Riverside Academy" --code RAS-204 --endpoint "tcp://127.0.0.1:$PB" --dir "$B"
check "card of B" "$BATON" card --dir "$B" --out "$TMP/b.card"
check "A pins B" "$BATON" peer add "$TMP/b.card" --dir "$A"
check "B pins A's card" "$BATON" peer add "$TMP/a1.card" --dir "$B"
check "B imports the sample school" "$BATON" student import "$BATON_SRC/tests/data/school.json" --dir "$B"
check "a parent key" "$BATON" guardian keygen --out "$TMP/p.key"
run "$BATON" guardian pubkey "$TMP/p.key"
check "linked to S-1018" "$BATON" guardian link S-1018 "$(head -n1 "$OUT")" --dir "$B"
check "consent" "$BATON" consent grant --key "$TMP/p.key" --student S-1018 --from "$TMP/b.card" \
	--to "$TMP/a1.card" --sections all --yes --out "$TMP/c.consent"
serve_start A "$A" a.log
check "A listens at its card's endpoint" grep -q "listening at tcp://127.0.0.1:$PA\$" "$TMP/a.log"
serve_start B "$B" b.log

# ---- A moves while serving ----

check "A moves to another port" "$BATON" endpoint set "tcp://127.0.0.1:$PA2" --card-out "$TMP/a2.card" --dir "$A"
check "A's serve listens at the new endpoint by itself" \
	wait_for 30 grep -q "listening at tcp://127.0.0.1:$PA2 (was tcp://127.0.0.1:$PA)" "$TMP/a.log"
check "and no longer at the old one" sh -c "! (exec 3<>/dev/tcp/127.0.0.1/$PA) 2>/dev/null"
V2=$(valid_from "$A")
check "the card is valid from later again ($V2 > $V1)" test "$V2" -gt "$V1"
check_out 'queued' "B sends S-1018 to A before it has A's new card" \
	"$BATON" send S-1018 --to LHS-001 --consent "$TMP/c.consent" --dir "$B"
check "B's delivery fails at A's old endpoint" \
	wait_for 60 grep -q "to LHS-001: attempt 1 failed: tcp://127.0.0.1:$PA: " "$TMP/b.log"

# ---- B takes the new card; no older card, no other key ----

check_out "^Lincoln High School \(LHS-001\): this card is the one pinned already; nothing to do$" \
	"peer update of the card already pinned is no change (exit 0)" \
	"$BATON" peer update "$TMP/a1.card" --dir "$B"
check "and writes no audit entry" sh -c "! '$BATON' audit --dir '$B' | grep -q peer-update"
check_err 2 "valid from .*not after the pinned card \(valid from .*\)" \
	"and A's older card from init" "$BATON" peer update "$TMP/a0.card" --dir "$B"
check_err 2 "already pinned with this key.*peer update" "peer add of another card of the pinned key points to peer update" \
	"$BATON" peer add "$TMP/a2.card" --dir "$B"
check_out "^Updated Lincoln High School \(LHS-001\)" "B takes A's new card with peer update" \
	"$BATON" peer update "$TMP/a2.card" --dir "$B"
check "it says the endpoint moved" grep -q "endpoint tcp://127.0.0.1:$PA2" "$OUT"
check "the packet queued for the old endpoint arrives at the new one" \
	wait_for 60 sh -c "'$BATON' outbox --dir '$B' | grep -q receipted"
check_out 'S-1018' "A imported the student" "$BATON" student list --dir "$A"
check "A's serve took it" grep -q 'inbox: packet .* imported as S-1018' "$TMP/a.log"

check_err 2 "LHS-001 is valid from .*not after the pinned card \(valid from .*\)" \
	"an older card of A is refused after the update" "$BATON" peer update "$TMP/a1.card" --dir "$B"
check_err 2 "already pinned with this key" "and through peer add" "$BATON" peer add "$TMP/a1.card" --dir "$B"
check_out "^Already pinned" "peer add of the card pinned is no change" "$BATON" peer add "$TMP/a2.card" --dir "$B"
run "$BATON" peer update "$TMP/a2.card" --json --dir "$B"
check "so is peer update of it, in --json too" jq -e '.result == "unchanged" and .code == "LHS-001"' "$OUT"
check_out "LHS-001 .*tcp://127.0.0.1:$PA2\$" "B's pin is A's newest card" "$BATON" peer list --dir "$B"

check "another school claims LHS-001 with another key" "$BATON" init --name "Lincoln High School" \
	--code LHS-001 --endpoint "tcp://127.0.0.1:$PA" --dir "$TMP/fake"
check "its card" "$BATON" card --dir "$TMP/fake" --out "$TMP/fake.card"
check_err 2 "pinned with another key.*rotation" "peer update refuses a card with another key" \
	"$BATON" peer update "$TMP/fake.card" --dir "$B"
check_err 2 "already pinned with a different key" "and so does peer add, without a rotation statement" \
	"$BATON" peer add "$TMP/fake.card" --dir "$B"
check_err 2 "RAS-204 is not pinned" "peer update of a school not pinned points to peer add" \
	"$BATON" peer update "$TMP/b.card" --dir "$TMP/fake"
check_out "LHS-001 .*tcp://127.0.0.1:$PA2\$" "B's pin is unchanged" "$BATON" peer list --dir "$B"

# ---- a move serve cannot make at once: tried again on SIGHUP ----

check "A's card now names B's port" "$BATON" endpoint set "tcp://127.0.0.1:$PB" --dir "$A"
check "A's serve says it cannot listen there, and listens where it did" wait_for 30 \
	grep -q "the card now names tcp://127.0.0.1:$PB, but serve cannot listen there .*listening at tcp://127.0.0.1:$PA2 still" "$TMP/a.log"
check "B stops" serve_stop B
kill -HUP "${SPID[A]}"
check "on SIGHUP A's serve tries again, and listens there" wait_for 30 \
	grep -q "listening at tcp://127.0.0.1:$PB (was tcp://127.0.0.1:$PA2)" "$TMP/a.log"

# ---- audit ----

run "$BATON" audit --dir "$A"
check "A's audit log records the three moves" test "$(count ' endpoint .*tcp://127.0.0.1:' "$OUT")" -eq 3
run "$BATON" audit --dir "$B"
check "B's audit log records one update, none of the refusals" test "$(count 'peer-update' "$OUT")" -eq 1
check "A's audit log verifies" "$BATON" audit verify --dir "$A"
check "B's audit log verifies" "$BATON" audit verify --dir "$B"
check "A stops" serve_stop A
done_testing
