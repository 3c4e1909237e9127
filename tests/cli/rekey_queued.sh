#!/usr/bin/env bash
# A large packet (delivered in chunks, each transfer admitted on the
# sealing key's signature) queued before the school rekeys is still
# delivered after its running serve took the new key: the admission is
# signed by the key that sealed the packet, which serve keeps.
. "$(dirname "$0")/lib.sh"

export BATON_PASSPHRASE="a long enough passphrase"
A=$TMP/lhs B=$TMP/ras
free_ports 2 || done_testing
PA=$P0
PB=$((PA + 1))
bx() {
	local d=$1
	shift
	"$BATON" "$@" --dir "$d"
}

check "A is set up" "$BATON" init --name "Lincoln High School" --code LHS-001 \
	--endpoint "tcp://127.0.0.1:$PA" --dir "$A"
check "B is set up" "$BATON" init --name "Riverside Academy" --code RAS-204 \
	--endpoint "tcp://127.0.0.1:$PB" --dir "$B"
bx "$A" card --out "$TMP/A.card" >/dev/null
bx "$B" card --out "$TMP/B.card" >/dev/null
check "A pins B" bx "$A" peer add "$TMP/B.card"
check "B pins A" bx "$B" peer add "$TMP/A.card"
head -c 3000000 /dev/urandom >"$TMP/portfolio.bin"
cat >"$TMP/big.json" <<J
[{"student_id": "S-9001",
  "identity": {"given_name": "Large", "family_name": "Record", "birth_date": "2012-03-04"},
  "transcript": [{"school_year": "2025-2026", "term": "FY", "course_code": "ART100",
    "course_title": "Portfolio", "grade": "A", "credits_attempted": 1, "credits_earned": 1}],
  "attachments": [{"name": "portfolio.bin", "media_type": "application/octet-stream",
    "section": "transcript", "path": "portfolio.bin"}]}]
J
check "A imports a record with a 3 MB attachment" bx "$A" student import "$TMP/big.json"
"$BATON" guardian keygen --out "$TMP/p.key" >/dev/null 2>&1
PK=$("$BATON" guardian pubkey "$TMP/p.key" | head -n1)
check "A links the parent" bx "$A" guardian link S-9001 "$PK"
check "the parent consents" "$BATON" consent grant --key "$TMP/p.key" --student S-9001 \
	--from "$TMP/A.card" --to "$TMP/B.card" --sections all --purpose "Enrollment" --yes \
	--out "$TMP/c.consent"

serve_start A "$A" a.log || done_testing
check_out queued "A queues S-9001 while B is down" bx "$A" send S-9001 --to RAS-204 \
	--consent "$TMP/c.consent"
check "A rekeys" bx "$A" rekey --card-out "$TMP/A2.card" --rotation-out "$TMP/A2.rot"
check "A's serve takes the new key" wait_for 120 grep -q "now using key" "$TMP/a.log"
serve_start B "$B" b.log || done_testing
check "the packet sealed before the rekey is receipted by B" wait_for 120 \
	sh -c "'$BATON' outbox --dir '$A' | grep -q receipted"
check "B received it in chunks" grep -q "receiving 3[0-9]* bytes in chunks" "$TMP/b.log"
check "B refused no admission" sh -c "! grep -q 'admission' '$TMP/b.log'"
serve_stop A
serve_stop B
check "both audit logs verify" sh -c "'$BATON' audit verify --dir '$A' && '$BATON' audit verify --dir '$B'"
done_testing
