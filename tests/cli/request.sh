#!/usr/bin/env bash
# The receiving school asks for a record, carrying the parent's consent, as
# packet and receipt files: the sending school holds the request, and its
# registrar releases it or refuses it with a signed refusal; with the policy
# auto-release on, a valid request is answered at once. Then the requests a
# node must refuse, and the mistakes a registrar can make.
. "$(dirname "$0")/lib.sh"

export BATON_PASSPHRASE="a long enough passphrase"
A=$TMP/lhs B=$TMP/ras C=$TMP/oth
DATA=$BATON_SRC/tests/data

for n in "$A:Lincoln High School:LHS-001" "$B:Riverside Academy:RAS-204" "$C:Other School:OTH-9"; do
	IFS=: read -r dir name code <<<"$n"
	check "init $code" "$BATON" init --name "$name" --code "$code" --dir "$dir"
	check "card of $code" "$BATON" card --dir "$dir" --out "$TMP/$code.card"
done
check "A pins B" "$BATON" peer add "$TMP/RAS-204.card" --dir "$A"
check "B pins A" "$BATON" peer add "$TMP/LHS-001.card" --dir "$B"
check "B pins C" "$BATON" peer add "$TMP/OTH-9.card" --dir "$B"
check "C pins A" "$BATON" peer add "$TMP/LHS-001.card" --dir "$C"
check "A imports the sample school" "$BATON" student import "$DATA/school.json" --dir "$A"
check "the parent makes a key" "$BATON" guardian keygen --out "$TMP/parent.key"
run "$BATON" guardian pubkey "$TMP/parent.key"
PK=$(head -n1 "$OUT")
for s in S-1018 S-1019 S-1022 S-1023; do
	check "A links the parent to $s" "$BATON" guardian link "$s" "$PK" --dir "$A"
	check "consent for $s" "$BATON" consent grant --key "$TMP/parent.key" --student "$s" \
		--from "$TMP/LHS-001.card" --to "$TMP/RAS-204.card" --sections all --yes \
		--out "$TMP/$s.consent"
done

# Request, held, released.
check_out '^Asked LHS-001 for a record' "B asks A for S-1018" "$BATON" request --from LHS-001 \
	--consent "$TMP/S-1018.consent" --note "enrolling Monday" --out "$TMP/q1.baton" --dir "$B"
check_out 'request.*LHS-001.*S-1018.*sent' "B's outbox has the request as sent" "$BATON" outbox --dir "$B"
check_out 'request-sent.*LHS-001' "B's audit log records the request" "$BATON" audit --dir "$B"
check_out "held for 'baton release'" "A imports the request and holds it" "$BATON" import \
	"$TMP/q1.baton" --receipt-out "$TMP/q1.receipt" --dir "$A"
check_out 'from RAS-204 .*S-1018 .*held' "A's registrar sees it waiting" "$BATON" requests --dir "$A"
check_out 'enrolling Monday' "with the requester's note" "$BATON" requests --dir "$A"
run "$BATON" requests --json --dir "$A"
Q1=$(sed -n 's/.*"request": "\([0-9a-f]*\)".*/\1/p' "$OUT" | head -n1)
check "the request id is listed in JSON" test "${#Q1}" -eq 32
check_out 'request-received.*RAS-204' "A's audit log records the request against S-1018" \
	"$BATON" audit --student S-1018 --dir "$A"
check_out "held for the registrar" "B records A's receipt: held" "$BATON" receipt import \
	"$TMP/q1.receipt" --dir "$B"
check_out "request.*receipted.*held for the registrar's decision" "B's outbox shows it held" \
	"$BATON" outbox --dir "$B"
check_out '^Sealed S-1018' "A releases it by an 8-digit prefix" "$BATON" release "${Q1:0:8}" \
	--out "$TMP/t1.baton" --dir "$A"
check_out 'disclosure.*RAS-204.*on its request' "the disclosure names the request" "$BATON" audit \
	--student S-1018 --dir "$A"
check_out 'released as packet' "the request shows as released" "$BATON" requests --all --dir "$A"
check_out 'No requests are waiting' "nothing waits any more" "$BATON" requests --dir "$A"
check_err 2 'already released' "releasing it twice is refused" "$BATON" release "$Q1" \
	--out "$TMP/t1b.baton" --dir "$A"
check "the refused release wrote nothing" test ! -e "$TMP/t1b.baton"
check_out 'Imported .* as S-1018' "B imports the record" "$BATON" import "$TMP/t1.baton" --dir "$B"
check_out 'request .*S-1018 .*answered .*released: arrived as S-1018, version 1' \
	"B's outbox shows its request answered by the record" "$BATON" outbox --dir "$B"
check "B did not receive health (not consented)" sh -c "! '$BATON' student show S-1018 --json --dir '$B' | grep -q '\"health\"'"

# Request, denied.
check "B asks A for S-1019" "$BATON" request --from LHS-001 --consent "$TMP/S-1019.consent" \
	--out "$TMP/q2.baton" --dir "$B"
check "A holds it" "$BATON" import "$TMP/q2.baton" --receipt-out "$TMP/q2.receipt" --dir "$A"
run "$BATON" requests --json --dir "$A"
Q2=$(sed -n 's/.*"request": "\([0-9a-f]*\)".*/\1/p' "$OUT" | head -n1)
check_err 1 'reason' "deny needs a reason" "$BATON" deny "$Q2" --dir "$A"
check_err 2 'no request 0000' "deny of an unknown id names it" "$BATON" deny 00000000 --reason x --dir "$A"
check_err 2 'expected 8 to 32 hex' "a short id is refused" "$BATON" deny 12ab --reason x --dir "$A"
check_out '^Denied request' "A denies it, with a refusal file" "$BATON" deny "$Q2" \
	--reason "student withdrew before transfer" --out "$TMP/q2.refusal" --dir "$A"
check_out 'request-denied.*RAS-204.*student withdrew' "A's audit log records the refusal" \
	"$BATON" audit --student S-1019 --dir "$A"
check_out 'refusal.*RAS-204.*queued' "the refusal waits in A's outbox for serve" "$BATON" outbox --dir "$A"
check_err 2 'already denied' "releasing a denied request is refused" "$BATON" release "$Q2" \
	--out "$TMP/t2.baton" --dir "$A"
check_err 2 'already denied' "denying it again is refused" "$BATON" deny "$Q2" --reason again --dir "$A"
check_out 'denied' "B records the refusal" "$BATON" receipt import "$TMP/q2.refusal" --dir "$B"
check_out 'request.*denied.*student withdrew before transfer' "B's outbox shows the reason" \
	"$BATON" outbox --dir "$B"
check_out 'request-answered.*denied' "B's audit log records the answer" "$BATON" audit --dir "$B"
check_out 'denied' "the same refusal again changes nothing" "$BATON" receipt import \
	"$TMP/q2.refusal" --dir "$B"
check_err 2 'answered before: denied: student withdrew' "the request sent again is answered with the refusal" \
	"$BATON" import "$TMP/q2.baton" --receipt-out "$TMP/q2.again" --dir "$A"
same "$TMP/q2.again" "$TMP/q2.refusal" "the refusal, byte for byte"
check_err 2 'not sent from here' "A cannot record its own refusal as a receipt" "$BATON" receipt \
	import "$TMP/q2.refusal" --dir "$A"

# Policy: released at once.
check_out 'auto-release off' "the policy is off by default" "$BATON" policy --dir "$A"
check_err 1 'auto-release on' "a wrong policy word is a usage error" "$BATON" policy auto-release maybe --dir "$A"
check_out 'auto-release on' "A turns auto-release on" "$BATON" policy auto-release on --dir "$A"
check_out 'policy.*auto-release on' "the change is audited" "$BATON" audit --dir "$A"
check "B asks for S-1022" "$BATON" request --from LHS-001 --consent "$TMP/S-1022.consent" \
	--sections identity,enrollment --out "$TMP/q3.baton" --dir "$B"
check_out 'releasing it' "A answers at once" "$BATON" import "$TMP/q3.baton" --receipt-out \
	"$TMP/q3.receipt" --dir "$A"
check_out 'transfer.*RAS-204.*S-1022.*queued' "the record is queued for B" "$BATON" outbox --dir "$A"
check_out 'disclosure.*RAS-204.*sections enrollment,identity  packet' "only the sections asked for" "$BATON" audit --student S-1022 --dir "$A"
check_out 'to be released at once' "the receipt says so" "$BATON" receipt import "$TMP/q3.receipt" --dir "$B"
check "A turns auto-release off" "$BATON" policy auto-release off --dir "$A"

# Requests a node refuses.
check "the parent revokes the consent for S-1023" "$BATON" consent revoke --key "$TMP/parent.key" \
	"$TMP/S-1023.consent" --out "$TMP/S-1023.rev"
check "A has the revocation" "$BATON" consent import "$TMP/S-1023.rev" --dir "$A"
check "B asks for S-1023 anyway" "$BATON" request --from LHS-001 --consent "$TMP/S-1023.consent" \
	--out "$TMP/q4.baton" --dir "$B"
run "$BATON" requests --all --json --dir "$A"
before=$(grep -c '"request"' "$OUT")
check_err 2 'consent_invalid.*EREVOKED' "A refuses a request under a revoked consent" "$BATON" \
	import "$TMP/q4.baton" --receipt-out "$TMP/q4.receipt" --dir "$A"
run "$BATON" requests --all --json --dir "$A"
check "nothing is held for it" test "$(grep -c '"request"' "$OUT")" -eq "$before"
check_out 'consent_invalid: EREVOKED' "B learns why" "$BATON" receipt import "$TMP/q4.receipt" --dir "$B"
check_out 'consent_invalid: EREVOKED' "B's outbox shows the reason" "$BATON" outbox --dir "$B"
check_err 2 'does not release records to this school' "a consent for B cannot be sent by C" "$BATON" request \
	--from LHS-001 --consent "$TMP/S-1018.consent" --dir "$C" --no-passphrase
check_err 2 'does not release records from OTH-9' "a consent from A cannot be sent to another school" "$BATON" request \
	--from OTH-9 --consent "$TMP/S-1018.consent" --dir "$B"
check_err 2 'does not cover every section' "asking for more than the consent covers" "$BATON" request --from LHS-001 \
	--consent "$TMP/S-1018.consent" --sections health --dir "$B"
check_err 1 'required' "request needs --from and --consent" "$BATON" request --consent \
	"$TMP/S-1018.consent" --dir "$B"
check_err 2 'not a pinned school' "asking an unknown school is refused" "$BATON" request \
	--from NOPE-1 --consent "$TMP/S-1018.consent" --dir "$B"
cp "$TMP/q1.baton" "$TMP/q1.bad"
flip "$TMP/q1.bad" 300
check "one byte of the copy differs" sh -c "! cmp -s '$TMP/q1.baton' '$TMP/q1.bad'"
check_err 2 'bad_signature' "a tampered request is refused" "$BATON" import "$TMP/q1.bad" --dir "$A"
check "every audit log verifies" sh -c "'$BATON' audit verify --dir '$A' >/dev/null && '$BATON' audit verify --dir '$B' >/dev/null"
done_testing
