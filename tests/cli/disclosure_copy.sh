#!/usr/bin/env bash
# The family's signed copy of the record of disclosures (PROTOCOL.md 3.13):
# two schools, real disclosures of one student, 'baton audit copy' at the
# sender, then 'baton audit check' offline with the school's key line or
# card: it verifies and prints every disclosure; every byte changed and
# every truncation is refused (exit 2, naming what failed); another school's
# key is refused; --against checks it against the sender's own log, and
# fails once that log has been rewritten without the disclosure; a copy
# made before a rekey still checks against the log.
. "$(dirname "$0")/lib.sh"

export BATON_PASSPHRASE="a long enough passphrase"
A=$TMP/lhs B=$TMP/ras

for n in "$A:Lincoln High School:LHS-001" "$B:Riverside Academy:RAS-204"; do
	IFS=: read -r dir name code <<<"$n"
	check "init $code" "$BATON" init --name "$name" --code "$code" --dir "$dir"
	check "card of $code" "$BATON" card --dir "$dir" --out "$TMP/$code.card"
done
check "A pins B" "$BATON" peer add "$TMP/RAS-204.card" --dir "$A"
check "B pins A" "$BATON" peer add "$TMP/LHS-001.card" --dir "$B"
cat >"$TMP/two.json" <<'JSON'
[{"student_id": "S-1", "identity": {"given_name": "Ada", "family_name": "Okafor", "birth_date": "2011-04-11"}},
 {"student_id": "S-2", "identity": {"given_name": "Ben", "family_name": "Okafor", "birth_date": "2012-05-12"}}]
JSON
check "A imports two students" "$BATON" student import "$TMP/two.json" --dir "$A"
check "the parent makes a key" "$BATON" guardian keygen --out "$TMP/parent.key"
run "$BATON" guardian pubkey "$TMP/parent.key"
PK=$(head -n1 "$OUT")
check "A links the parent to S-1" "$BATON" guardian link S-1 "$PK" --relation mother --dir "$A"
check "A links the parent to S-2" "$BATON" guardian link S-2 "$PK" --relation mother --dir "$A"
check "the parent consents to S-1 going to B" "$BATON" consent grant --key "$TMP/parent.key" \
	--student S-1 --from "$TMP/LHS-001.card" --to "$TMP/RAS-204.card" --sections all --yes \
	--out "$TMP/c.consent"
check_out '^Sealed' "A sends S-1 to B" "$BATON" send S-1 --to RAS-204 --consent "$TMP/c.consent" \
	--out "$TMP/p1.baton" --dir "$A"
check "B imports it" "$BATON" import "$TMP/p1.baton" --receipt-out "$TMP/r1.receipt" --dir "$B"
check "A imports the receipt" "$BATON" receipt import "$TMP/r1.receipt" --dir "$A"
check_out '^Sealed' "A sends S-1 to B again" "$BATON" send S-1 --to RAS-204 --again \
	--consent "$TMP/c.consent" --out "$TMP/p2.baton" --dir "$A"

# ---- the copy ----

check_out '^Check it with: baton audit check .* --key baton-sid1-' \
	"A makes the signed copy of S-1's disclosures" \
	"$BATON" audit copy --student S-1 --out "$TMP/s1.copy" --dir "$A"
KEY=$(sed -n 's/^Check it with: .* --key //p' "$OUT")
check "the copy is a file" test -s "$TMP/s1.copy"
check_out '^OK: .* verifies: signed by Lincoln High School \(LHS-001\)$' \
	"it verifies offline with the school's key line, no node directory" \
	env -u BATON_DIR "$BATON" audit check "$TMP/s1.copy" --key "$KEY" --dir "$TMP/nowhere"
cp "$OUT" "$TMP/shown"
check "... and reads no node directory" test ! -e "$TMP/nowhere"
check "it lists two disclosures to Riverside Academy" \
	test "$(count '  to Riverside Academy \(RAS-204\), key ' "$TMP/shown")" = 2
check "... one received, one waiting for its receipt" \
	sh -c "grep -q '^  receipt: received' '$TMP/shown' && grep -q '^  receipt: waiting' '$TMP/shown'"
check "... with the basis and the consent" \
	test "$(count '^  basis: consent, consent [0-9a-f]{32}$' "$TMP/shown")" = 2
check "... the sections" grep -q '^  sections: ' "$TMP/shown"
check "... and each entry's place in the audit log" \
	test "$(count '^  audit log entry [0-9]+, hash [0-9a-f]{64}$' "$TMP/shown")" = 2
check_out '^OK: ' "it verifies with the school's card" \
	"$BATON" audit check "$TMP/s1.copy" --card "$TMP/LHS-001.card"
check_out '^OK: .*every entry is in this node.s audit log, unchanged$' \
	"--against: every entry is in A's own log" \
	"$BATON" audit check "$TMP/s1.copy" --against "$A"
check_err 2 'REFUSED \(EBADSIG\): signed by the key .* \(LHS-001\), not the school.s key given with --card' \
	"another school's card is refused" \
	"$BATON" audit check "$TMP/s1.copy" --card "$TMP/RAS-204.card"
check_err 2 'REFUSED \(EBADSIG\)' "--against at another school is refused" \
	"$BATON" audit check "$TMP/s1.copy" --against "$B"
check_out '^No disclosures\.$' "S-2's copy says it has none" \
	sh -c "'$BATON' audit copy --student S-2 --out '$TMP/s2.copy' --dir '$A' >/dev/null &&
		'$BATON' audit check '$TMP/s2.copy' --key '$KEY'"
check_err 2 'student S-9: not found' "no copy of a student not on file" \
	"$BATON" audit copy --student S-9 --out "$TMP/s9.copy" --dir "$A"
check "... and no file is left" test ! -e "$TMP/s9.copy"
check_exit 1 "check needs a key, a card or --against" "$BATON" audit check "$TMP/s1.copy"

# ---- every byte changed, every truncation ----

SIZE=$(stat -c %s "$TMP/s1.copy")
bad="" i=0
while [ "$i" -lt "$SIZE" ]; do
	cp "$TMP/s1.copy" "$TMP/m.copy"
	flip "$TMP/m.copy" "$i"
	"$BATON" audit check "$TMP/m.copy" --key "$KEY" >/dev/null 2>"$TMP/m.err"
	rc=$?
	if [ "$rc" != 2 ] || ! grep -q 'REFUSED (E[A-Z0-9]*): ' "$TMP/m.err"; then
		bad="$bad $i:$rc"
	fi
	i=$((i + 1))
done
if [ -z "$bad" ]; then pass "each of the $SIZE bytes changed: refused, exit 2, naming why"; else fail "a changed byte was not refused" "$bad"; fi
bad="" i=0
while [ "$i" -lt "$SIZE" ]; do
	head -c "$i" "$TMP/s1.copy" >"$TMP/t.copy"
	"$BATON" audit check "$TMP/t.copy" --key "$KEY" >/dev/null 2>"$TMP/t.err"
	rc=$?
	if [ "$rc" != 2 ] || ! grep -q 'REFUSED (E[A-Z0-9]*): ' "$TMP/t.err"; then
		bad="$bad $i:$rc"
	fi
	i=$((i + 1))
done
if [ -z "$bad" ]; then pass "each truncation (0..$((SIZE - 1)) bytes): refused, exit 2"; else fail "a truncation was not refused" "$bad"; fi
{ cat "$TMP/s1.copy"; printf 'x'; } >"$TMP/x.copy"
check_err 2 'REFUSED \(EHASH\): disclosures.entries: not the entries the school signed' \
	"a byte added at the end is refused" "$BATON" audit check "$TMP/x.copy" --key "$KEY"

# ---- a copy made before the school replaced its key ----

cp -a "$A" "$TMP/rk"
check "A's copy replaces its key" "$BATON" rekey --card-out "$TMP/new.card" \
	--rotation-out "$TMP/new.rot" --dir "$TMP/rk"
check_out '^OK: .*every entry is in this node.s audit log, unchanged$' \
	"the copy signed with the old key still checks against the log" \
	"$BATON" audit check "$TMP/s1.copy" --against "$TMP/rk"
check_err 2 'REFUSED \(EBADSIG\): signed by the key .*not the school.s key given with --card' \
	"... but not with the new card: the family checks with the key it was given" \
	"$BATON" audit check "$TMP/s1.copy" --card "$TMP/new.card"

# ---- a log rewritten after the family holds a copy ----

tool BATON_AUDIT_REWRITE audit_rewrite || done_testing
cp -a "$A" "$TMP/rw"
check_out 'deleted entry' "a tool deletes the first disclosure from A's log and recomputes it" \
	"$BATON_AUDIT_REWRITE" "$TMP/rw" disclosure
check_exit 2 "--against the rewritten log: refused" \
	"$BATON" audit check "$TMP/s1.copy" --against "$TMP/rw"
check "... naming the copy's head or entry that no longer holds" \
	grep -Eq 'REFUSED \(E(HASH|BADSIG)\): ' "$ERR"

done_testing
