#!/usr/bin/env bash
# Redisclosure terms (34 CFR 99.33) over two nodes: the sending school's
# terms travel with every record, the receiving school keeps them with it
# and shows them, and its signed receipt names their hash, which the sender
# checks and keeps ("terms accepted"). Bad terms are refused and change
# nothing.
. "$(dirname "$0")/lib.sh"

export BATON_PASSPHRASE="a long enough passphrase"
A=$TMP/lhs B=$TMP/ras
two_schools "$A" "$B"

check_out '^redisclosure terms \(the default\):' "A shows its default terms" \
	"$BATON" policy terms --dir "$A"
check_out '34 CFR 99\.33' "... which name the duty of 99.33" "$BATON" policy terms --dir "$A"

# Bad terms: refused, nothing kept or audited.
run "$BATON" audit --dir "$A"
BEFORE=$(wc -l <"$OUT")
printf 'bad\001terms\n' >"$TMP/ctl.txt"
check_err 2 'control character' "terms with a control character are refused" \
	"$BATON" policy terms --file "$TMP/ctl.txt" --dir "$A"
head -c 5000 /dev/zero | tr '\0' 'x' >"$TMP/long.txt"
check_err 2 'longer than 4096 bytes' "terms over 4096 bytes are refused" \
	"$BATON" policy terms --file "$TMP/long.txt" --dir "$A"
: >"$TMP/empty.txt"
check_err 2 '0 bytes' "empty terms are refused" \
	"$BATON" policy terms --file "$TMP/empty.txt" --dir "$A"
check_out '\(the default\)' "... and the default stays" "$BATON" policy terms --dir "$A"
run "$BATON" audit --dir "$A"
check "... with no audit entry" test "$(wc -l <"$OUT")" = "$BEFORE"

printf 'Lincoln High School discloses these records under FERPA.\nDo not redisclose them without written consent (34 CFR 99.33). Terms-7f3a.\n' >"$TMP/terms.txt"
check_out '^redisclosure terms:$' "A sets its own terms" \
	"$BATON" policy terms --file "$TMP/terms.txt" --dir "$A"
check_out 'Terms-7f3a' "... and shows them" "$BATON" policy terms --dir "$A"
check_out 'redisclosure terms set: [0-9]+ bytes, hash [0-9a-f]{64}' "the change is audited" \
	"$BATON" audit --dir "$A"

check "the parent is linked to S-1001" "$BATON" guardian link S-1001 "$PK" --relation mother --dir "$A"
check "the parent consents" "$BATON" consent grant --key "$TMP/parent.key" --student S-1001 \
	--from "$TMP/LHS-001.card" --to "$TMP/RAS-204.card" --sections transcript --yes --out "$TMP/c.consent"
check_out '^Sealed' "A sends S-1001 to B" "$BATON" send S-1001 --to RAS-204 \
	--consent "$TMP/c.consent" --out "$TMP/p.baton" --dir "$A"
check_out 'disclosure +basis consent +student S-1001 +school RAS-204' \
	"A's audit log records the disclosure's legal basis" "$BATON" audit --dir "$A"
check_out '"basis": "consent"' "... also in --json" "$BATON" audit --json --student S-1001 --dir "$A"
check_out 'redisclosure terms sent' "A's outbox: terms sent, not yet accepted" \
	"$BATON" outbox --dir "$A"
check "B imports it" "$BATON" import "$TMP/p.baton" --receipt-out "$TMP/r.receipt" --dir "$B"

# The receipt names BLAKE2b-256 of the exact terms bytes.
WANT=$(python3 -c 'import hashlib,sys; print(hashlib.blake2b(open(sys.argv[1],"rb").read().rstrip(b"\n"), digest_size=32).hexdigest())' "$TMP/terms.txt")
check "the receipt carries the terms hash" python3 -c '
import sys
r = open(sys.argv[1], "rb").read()
key = b"\xa5terms\xc4\x20"
i = r.find(key)
sys.exit(0 if i >= 0 and r[i + len(key):i + len(key) + 32].hex() == sys.argv[2] else 1)' \
	"$TMP/r.receipt" "$WANT"

check_out 'redisclosure terms: Lincoln High School discloses' "B's inbox shows the terms" \
	"$BATON" inbox --dir "$B"
check_out 'Terms-7f3a' "... in full" "$BATON" inbox --dir "$B"
check_out '"terms": "Lincoln High School discloses these records under FERPA.\\nDo not' \
	"B's inbox --json carries the exact text" "$BATON" inbox --json --dir "$B"
check_out '^  redisclosure terms from LHS-001 ' "B's student show shows where the terms came from" \
	"$BATON" student show S-1001 --dir "$B"
check_out 'Terms-7f3a' "... and the terms" "$BATON" student show S-1001 --dir "$B"
check_out '"terms": \[' "student show --json lists them" "$BATON" student show S-1001 --json --dir "$B"

# A receipt, signed by B, that names other terms than the ones sent: refused.
if tool RECEIPT_TERMS receipt_terms; then
	check "B signs a receipt naming other terms" "$RECEIPT_TERMS" "$B/school.key" "$TMP/r.receipt" "$TMP/other.receipt"
	run "$BATON" audit --json --dir "$A"
	cp "$OUT" "$TMP/audit.before"
	check_err 2 'the receipt names other redisclosure terms than the ones sent' \
		"A refuses a receipt that names other terms" "$BATON" receipt import "$TMP/other.receipt" --dir "$A"
	check_out 'redisclosure terms sent' "... its outbox still says the terms were sent, not accepted" \
		"$BATON" outbox --dir "$A"
	check "... and it is not receipted" sh -c "! '$BATON' outbox --json --dir '$A' | grep -q '\"state\": \"receipted\"'"
	run "$BATON" audit --json --dir "$A"
	same "$TMP/audit.before" "$OUT" "... and nothing is audited"
fi
check "A imports the receipt" "$BATON" receipt import "$TMP/r.receipt" --dir "$A"
check_out 'redisclosure terms accepted' "A's outbox: terms accepted" "$BATON" outbox --dir "$A"
check_out '"terms": "accepted"' "... also in --json" "$BATON" outbox --json --dir "$A"

# A second receiving school gets the same terms, and accepts them too.
C=$TMP/third
check "init a third school" "$BATON" init --name "Cedar School" --code CED-1 --dir "$C"
check "card of CED-1" "$BATON" card --dir "$C" --out "$TMP/CED-1.card"
check "A pins C" "$BATON" peer add "$TMP/CED-1.card" --dir "$A"
check "C pins A" "$BATON" peer add "$TMP/LHS-001.card" --dir "$C"
check "the parent consents to C" "$BATON" consent grant --key "$TMP/parent.key" --student S-1001 \
	--from "$TMP/LHS-001.card" --to "$TMP/CED-1.card" --sections transcript --yes --out "$TMP/c2.consent"
check_out '^Sealed' "A sends S-1001 to C" "$BATON" send S-1001 --to CED-1 \
	--consent "$TMP/c2.consent" --out "$TMP/p2.baton" --dir "$A"
check "C imports it" "$BATON" import "$TMP/p2.baton" --receipt-out "$TMP/r2.receipt" --dir "$C"
check_out 'Terms-7f3a' "C's inbox shows A's terms" "$BATON" inbox --dir "$C"
check "A imports C's receipt" "$BATON" receipt import "$TMP/r2.receipt" --dir "$A"
check_out 'to CED-1 .*' "A's outbox lists the packet to C" "$BATON" outbox --dir "$A"
check "both transfers show terms accepted" test "$(grep -c 'redisclosure terms accepted' "$OUT")" = 2

done_testing
