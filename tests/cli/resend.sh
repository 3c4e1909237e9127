#!/usr/bin/env bash
# Running the same send twice discloses nothing twice. A record queued, sent
# as a file or receipted for a school under a consent is not sealed again
# for that school under that consent: 'send S' says so and exits 2, 'send
# --consents DIR' lists it as skipped and sends the others (exit 0). With
# --again it is sent anyway. A new consent is a new disclosure.
. "$(dirname "$0")/lib.sh"

export BATON_PASSPHRASE="a long enough passphrase" # the parent's key
A=$TMP/lhs B=$TMP/ras

two_schools "$A" "$B" --no-passphrase
mkdir -p "$TMP/cs"
for s in S-1018 S-1019 S-1022; do
	check "A links the parent to $s" "$BATON" guardian link "$s" "$PK" --dir "$A"
	check "consent for $s" "$BATON" consent grant --key "$TMP/parent.key" --student "$s" \
		--from "$TMP/LHS-001.card" --to "$TMP/RAS-204.card" --sections all --yes \
		--purpose "Enrollment" --out "$TMP/cs/$s.consent"
done

disclosures() { "$BATON" audit --json --dir "$A" | grep -c '"action": "disclosure"'; }
entries() { "$BATON" outbox --json --dir "$A" | grep -c '"packet"'; }

# Queued, not yet delivered.
check_out 'queued' "A queues S-1018 for B" "$BATON" send S-1018 --to RAS-204 \
	--consent "$TMP/cs/S-1018.consent" --dir "$A"
D=$(disclosures) E=$(entries)
check_err 2 "S-1018: already sent to RAS-204 under this consent \(packet [0-9a-f]{32}, queued\); not sent again \(--again sends it anyway\)" \
	"the same send again is refused while the first is queued" "$BATON" send S-1018 --to RAS-204 \
	--consent "$TMP/cs/S-1018.consent" --dir "$A"
check "no new disclosure" test "$(disclosures)" -eq "$D"
check "no new outbox entry" test "$(entries)" -eq "$E"
check_out 'queued' "with --again it is sent" "$BATON" send S-1018 --to RAS-204 \
	--consent "$TMP/cs/S-1018.consent" --again --dir "$A"
check "a disclosure of its own" test "$(disclosures)" -eq $((D + 1))

# Carried as a file, imported, receipted.
check_out 'written to' "A seals S-1019 as a file" "$BATON" send S-1019 --to RAS-204 \
	--consent "$TMP/cs/S-1019.consent" --out "$TMP/s1019.baton" --dir "$A"
check_out "Imported .* as S-1019" "B imports it" "$BATON" import "$TMP/s1019.baton" \
	--receipt-out "$TMP/s1019.receipt" --dir "$B"
check_out 'accepted' "A records the receipt" "$BATON" receipt import "$TMP/s1019.receipt" --dir "$A"
D=$(disclosures)
check_err 2 "S-1019: already sent to RAS-204 under this consent \(packet [0-9a-f]{32}, receipted\)" \
	"sending the receipted record again is refused" "$BATON" send S-1019 --to RAS-204 \
	--consent "$TMP/cs/S-1019.consent" --out "$TMP/again.baton" --dir "$A"
check "no packet file was written" sh -c "! ls '$TMP' | grep -q '^again'"
check "no new disclosure" test "$(disclosures)" -eq "$D"

# The cohort: the two already sent are skipped and named; the third goes.
check_exit 0 "the cohort of three is sent (exit 0)" "$BATON" send --to RAS-204 --consents "$TMP/cs" --dir "$A"
cp "$OUT" "$TMP/cohort.out"
check "S-1018 is listed as skipped" grep -Eq '^S-1018 +skipped: already sent to RAS-204 under this consent' "$TMP/cohort.out"
check "S-1019 is listed as skipped" grep -Eq '^S-1019 +skipped: already sent to RAS-204 under this consent .*receipted' "$TMP/cohort.out"
check "S-1022 is queued" grep -Eq '^S-1022 +packet [0-9a-f]{32} queued' "$TMP/cohort.out"
check "the summary counts them" grep -qx "1 of 3 students sealed for RAS-204 and queued for 'baton serve'; 0 refused" "$TMP/cohort.out"
check "and says how to send them anyway" grep -qx "2 already sent under the same consent and not sent again (--again sends them anyway)" "$TMP/cohort.out"
check "one new disclosure" test "$(disclosures)" -eq $((D + 1))
check_exit 0 "the cohort again sends nobody (exit 0)" "$BATON" send --to RAS-204 --consents "$TMP/cs" --dir "$A"
check "three skipped" test "$(grep -c 'skipped' "$OUT")" -eq 3
check "no new disclosure" test "$(disclosures)" -eq $((D + 1))
check_out "^3 of 3 students sealed" "with --again all three go" "$BATON" send --to RAS-204 \
	--consents "$TMP/cs" --again --dir "$A"
check "three new disclosures" test "$(disclosures)" -eq $((D + 4))

# A new consent from the family is a new decision: sent.
check "the parent consents again" "$BATON" consent grant --key "$TMP/parent.key" --student S-1019 \
	--from "$TMP/LHS-001.card" --to "$TMP/RAS-204.card" --sections all --yes \
	--purpose "Second enrollment" --out "$TMP/S-1019-2.consent"
check_out 'written to' "S-1019 under the new consent is sent" "$BATON" send S-1019 --to RAS-204 \
	--consent "$TMP/S-1019-2.consent" --out "$TMP/s1019-2.baton" --dir "$A"
check "A's audit log verifies" "$BATON" audit verify --dir "$A"
done_testing
