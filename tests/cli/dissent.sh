#!/usr/bin/env bash
# Statements of disagreement (34 CFR 99.21) between two schools, by files:
# the registrar files a parent's statement with their key file; a statement
# by a key not linked to the student is refused and nothing is kept; the
# statement travels with its section, and the receiver keeps and shows it
# with the section; a packet whose sender dropped a statement it still
# declares, or changed one, is refused with a signed receipt and nothing
# kept.
. "$(dirname "$0")/lib.sh"

export BATON_PASSPHRASE="a long enough passphrase"
A=$TMP/lhs B=$TMP/ras
RESEAL=${BATON_RESEAL:-$BATON_SRC/build/tests/tools/reseal}
SID=S-1001

two_schools "$A" "$B"
check "A links the parent to $SID" "$BATON" guardian link "$SID" "$PK" --relation mother --dir "$A"
check "a stranger makes a key" "$BATON" guardian keygen --out "$TMP/stranger.key"

printf 'The transcript lists Algebra I as failed.\r\nShe passed the retake in June.\n' >"$TMP/why.txt"
printf 'Her attendance in March is wrong: she was ill, with a note.\n' >"$TMP/why2.txt"
printf 'The comment on her science project is not hers.\n' >"$TMP/why3.txt"

# Refusals at filing: each leaves the store and the audit log as they were.
run "$BATON" audit --student "$SID" --json --dir "$A"
cp "$OUT" "$TMP/audit.before"
check_err 2 'may not speak for S-1001.*not linked' "a statement by an unlinked key is refused" \
	"$BATON" student dissent "$SID" --section transcript --text-file "$TMP/why.txt" \
	--key "$TMP/stranger.key" --dir "$A"
check_err 2 'is not a section' "an unknown section is refused" \
	"$BATON" student dissent "$SID" --section grades --text-file "$TMP/why.txt" \
	--key "$TMP/parent.key" --dir "$A"
head -c 4001 /dev/zero | tr '\0' x >"$TMP/long.txt"
check_err 2 '4001 bytes' "a text over 4000 bytes is refused" \
	"$BATON" student dissent "$SID" --section transcript --text-file "$TMP/long.txt" \
	--key "$TMP/parent.key" --dir "$A"
printf 'a\tb\n' >"$TMP/tab.txt"
check_err 2 'statement.text: contains a control character' "a tab in the text is refused" \
	"$BATON" student dissent "$SID" --section transcript --text-file "$TMP/tab.txt" \
	--key "$TMP/parent.key" --dir "$A"
check_err 2 'no section health' "a section the record does not have is refused" \
	"$BATON" student dissent "$SID" --section health --text-file "$TMP/why.txt" \
	--key "$TMP/parent.key" --dir "$A"
run "$BATON" audit --student "$SID" --json --dir "$A"
same "$TMP/audit.before" "$OUT" "the refusals left no audit entry"
run "$BATON" student show "$SID" --json --dir "$A"
if [ "$(jq '.statements | length' "$OUT")" = 0 ]; then
	pass "the refusals kept no statement"
else
	fail_run "the refusals kept no statement"
fi

# Filed with the parent's key, by the registrar.
check_out '^Filed a statement of disagreement with transcript of S-1001' \
	"the registrar files the parent's statement on the transcript" \
	"$BATON" student dissent "$SID" --section transcript --text-file "$TMP/why.txt" \
	--key "$TMP/parent.key" --dir "$A"
check_out '"section": "attendance"' "and one on attendance, as JSON" \
	"$BATON" student dissent "$SID" --section attendance --text-file "$TMP/why2.txt" \
	--key "$TMP/parent.key" --json --dir "$A"
check "and a second one on the transcript" \
	"$BATON" student dissent "$SID" --section transcript --text-file "$TMP/why3.txt" \
	--key "$TMP/parent.key" --dir "$A"
check_out 'dissent.*statement of disagreement [0-9a-f]{32} with transcript' \
	"A's audit log records the filing" "$BATON" audit --student "$SID" --dir "$A"
run "$BATON" student show "$SID" --dir "$A"
if grep -q 'The parent disagrees with this section: The transcript lists Algebra I as failed.' "$OUT" &&
	grep -q '^      She passed the retake in June.$' "$OUT"; then
	pass "A's student show prints the statement, each line under the first"
else
	fail_run "A's student show prints the statement, each line under the first"
fi

# Sent with the sections it is about, and only with them.
check "the parent consents to identity and transcript" "$BATON" consent grant \
	--key "$TMP/parent.key" --student "$SID" --from "$TMP/LHS-001.card" --to "$TMP/RAS-204.card" \
	--sections identity,transcript --yes --out "$TMP/c.consent"
check_out '^Sealed' "A seals the record for B" "$BATON" send "$SID" --to RAS-204 \
	--consent "$TMP/c.consent" --out "$TMP/p.baton" --dir "$A"

# A sender that drops the statement it declares, or changes its text: refused.
check "the sender drops the statement, re-signing the packet" \
	"$RESEAL" "$A/school.key" "$B/school.key" "$TMP/p.baton" "$TMP/dropped.baton" drop
check "the sender changes the statement's text, re-signing the packet" \
	"$RESEAL" "$A/school.key" "$B/school.key" "$TMP/p.baton" "$TMP/tampered.baton" tamper
check_err 2 'rejected \(malformed\): body.statements.held\[[01]\]: statement [0-9a-f]{32}, which the sender holds, is not in the packet; rejection receipt written' \
	"B refuses the packet missing a declared statement, with a signed receipt" \
	"$BATON" import "$TMP/dropped.baton" --receipt-out "$TMP/dropped.receipt" --dir "$B"
check "the receipt was written" test -s "$TMP/dropped.receipt"
check_err 2 'rejected \(malformed\): body.statements.objects\[0\]: statement.signature: does not verify' \
	"B refuses the packet with a changed statement, with a signed receipt" \
	"$BATON" import "$TMP/tampered.baton" --receipt-out "$TMP/tampered.receipt" --dir "$B"
check "that receipt was written" test -s "$TMP/tampered.receipt"
run "$BATON" inbox --json --dir "$B"
if [ "$(jq '[.[] | select(.result == "malformed")] | length' "$OUT")" = 2 ]; then
	pass "B's inbox holds the two refusals and their receipts"
else
	fail_run "B's inbox holds the two refusals and their receipts"
fi
check_exit 2 "B kept no record of the student" "$BATON" student show "$SID" --dir "$B"

# Held for review: a copy of B that has another child with S-1001's
# statewide id keeps the statements with the held record, and gives them to
# the student the registrar files it as.
cp -a "$B" "$TMP/b2"
cat >"$TMP/other.json" <<'JSON'
{"student_id": "S-1001", "state_student_id": "ST-4480-4371", "identity": {"given_name": "Ada", "family_name": "Other", "birth_date": "2011-01-02"}}
JSON
check "the copy of B has another child as S-1001" "$BATON" student import "$TMP/other.json" --dir "$TMP/b2"
check_out '^Held .* for review as 1' "the copy holds the packet for review" "$BATON" import "$TMP/p.baton" \
	--receipt-out "$TMP/held.receipt" --dir "$TMP/b2"
run "$BATON" student show "$SID" --json --dir "$TMP/b2"
if [ "$(jq '.statements | length' "$OUT")" = 0 ]; then
	pass "the other child on file gets none of the statements"
else
	fail_run "the other child on file gets none of the statements"
fi
run "$BATON" review list --json --dir "$TMP/b2"
HELD=$(jq -r '.[0].id' "$OUT")
check "the registrar files the held record as S-9001" "$BATON" review accept "$HELD" --as S-9001 --dir "$TMP/b2"
run "$BATON" student show S-9001 --json --dir "$TMP/b2"
if [ "$(jq -r '[.statements[].section] | join(",")' "$OUT")" = "transcript,transcript" ]; then
	pass "S-9001 has the two statements that came with the held record"
else
	fail_run "S-9001 has the two statements that came with the held record"
fi
if [ "$(jq -r '[.terms[] | .from + ":" + (.terms | test("99.33") | tostring)] | join(",")' "$OUT")" = "LHS-001:true" ]; then
	pass "S-9001 shows the redisclosure terms that came with the held record"
else
	fail_run "S-9001 shows the redisclosure terms that came with the held record" "$(jq -c .terms "$OUT")"
fi

check_out "^Imported .* as $SID, version 1" "B imports the true packet" "$BATON" import "$TMP/p.baton" \
	--receipt-out "$TMP/r.receipt" --dir "$B"
run "$BATON" student show "$SID" --dir "$B"
if grep -q '^  transcript:$' "$OUT" &&
	grep -q 'The parent disagrees with this section: The transcript lists Algebra I as failed.' "$OUT" &&
	grep -q 'received from LHS-001' "$OUT"; then
	pass "B's student show prints the statement under the transcript"
else
	fail_run "B's student show prints the statement under the transcript"
fi
if ! grep -q 'attendance in March' "$OUT"; then
	pass "the statement on attendance, not sent, did not travel"
else
	fail_run "the statement on attendance, not sent, did not travel"
fi
run "$BATON" student show "$SID" --json --dir "$B"
FP=$(jq -r '.statements[0].signer' "$OUT")
run "$BATON" guardian pubkey "$TMP/parent.key"
if grep -qF "$FP" "$ERR" && [ -n "$FP" ]; then
	pass "the statement names the parent's key by its fingerprint"
else
	fail_run "the statement names the parent's key by its fingerprint" "fingerprint: $FP"
fi
run "$BATON" student show "$SID" --json --dir "$B"
if [ "$(jq -r '[.statements[] | .section + ":" + .from + ":" + .role] | join(",")' "$OUT")" = "transcript:LHS-001:guardian,transcript:LHS-001:guardian" ]; then
	pass "--json has the two statements on the transcript, their sender and role"
else
	fail_run "--json has the two statements on the transcript, their sender and role"
fi
check_out 'accepted' "A records B's receipt" "$BATON" receipt import "$TMP/r.receipt" --dir "$A"

# A record carries at most 64 statements: the 65th is refused at filing, so
# that statements can never stop a record from being sent.
check "a parent of S-1002 makes a key without a passphrase" "$BATON" guardian keygen \
	--out "$TMP/p2.key" --no-passphrase
run "$BATON" guardian pubkey "$TMP/p2.key"
check "A links it to S-1002" "$BATON" guardian link S-1002 "$(head -n1 "$OUT")" --relation father --dir "$A"
n=0
for i in $(seq 1 64); do
	printf 'Statement number %d.\n' "$i" >"$TMP/n.txt"
	"$BATON" student dissent S-1002 --section transcript --text-file "$TMP/n.txt" \
		--key "$TMP/p2.key" --dir "$A" >/dev/null 2>&1 && n=$((n + 1))
done
if [ "$n" = 64 ]; then pass "64 statements are filed for S-1002"; else fail "64 statements are filed for S-1002" "filed: $n"; fi
check_err 2 'already has 64 statements of disagreement, the most a record carries' \
	"the 65th is refused" "$BATON" student dissent S-1002 --section attendance \
	--text-file "$TMP/why2.txt" --key "$TMP/p2.key" --dir "$A"
check "the parent consents to S-1002's identity and transcript" "$BATON" consent grant \
	--key "$TMP/p2.key" --student S-1002 --from "$TMP/LHS-001.card" --to "$TMP/RAS-204.card" \
	--sections identity,transcript --yes --out "$TMP/c2.consent"
check_out '^Sealed' "A seals S-1002's record with its 64 statements" "$BATON" send S-1002 --to RAS-204 \
	--consent "$TMP/c2.consent" --out "$TMP/p2.baton" --dir "$A"
check_out "^Imported .* as S-1002" "B imports it" "$BATON" import "$TMP/p2.baton" \
	--receipt-out "$TMP/r2.receipt" --dir "$B"
run "$BATON" student show S-1002 --json --dir "$B"
if [ "$(jq '.statements | length' "$OUT")" = 64 ]; then
	pass "B keeps the 64 statements"
else
	fail_run "B keeps the 64 statements"
fi

done_testing
