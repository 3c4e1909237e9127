#!/usr/bin/env bash
# Rewriting the audit log without the school key. A tool that writes the
# store directly (tests/tools/audit_rewrite.c: LMDB, libsodium and msgpack, nothing
# of Baton) deletes the record of a disclosure and recomputes every hash, the
# per-student index and the recorded end of the log. audit verify must fail
# and name the first signed head that no longer matches. When the tool also
# deletes the signed heads, verify must not call the log intact, and the head
# the other school kept from a packet must expose the rewrite.
. "$(dirname "$0")/lib.sh"

export BATON_PASSPHRASE="a long enough passphrase"
A=$TMP/lhs B=$TMP/ras
DATA=$BATON_SRC/tests/data
tool BATON_AUDIT_REWRITE audit_rewrite || done_testing
TOOL=$BATON_AUDIT_REWRITE

for n in "$A:Lincoln High School:LHS-001" "$B:Riverside Academy:RAS-204"; do
	IFS=: read -r dir name code <<<"$n"
	check "init $code" "$BATON" init --name "$name" --code "$code" --dir "$dir"
	check "card of $code" "$BATON" card --dir "$dir" --out "$TMP/$code.card"
done
check "A pins B" "$BATON" peer add "$TMP/RAS-204.card" --dir "$A"
check "B pins A" "$BATON" peer add "$TMP/LHS-001.card" --dir "$B"
{
	echo '['
	for i in 1 2 3; do
		[ "$i" = 1 ] || echo ','
		printf '{"student_id": "S-%s", "identity": {"given_name": "Name%s", "family_name": "Okafor", "birth_date": "2011-04-1%s"}}' \
			"$i" "$i" "$i"
	done
	printf '\n]\n'
} >"$TMP/three.json"
check "A imports three students" "$BATON" student import "$TMP/three.json" --dir "$A"
check "the parent makes a key" "$BATON" guardian keygen --out "$TMP/parent.key"
run "$BATON" guardian pubkey "$TMP/parent.key"
PK=$(head -n1 "$OUT")
check "A links the parent to S-2" "$BATON" guardian link S-2 "$PK" --relation mother --dir "$A"

# Entries of commands without the key (import, link) are not yet signed:
# verify says so and does not call the log intact.
check_out 'entries 2\.\.6 are not signed yet' "verify names the entries not signed yet" \
	"$BATON" audit verify --dir "$A"
check "... and does not call them intact" sh -c "! grep -q 'chain intact' '$OUT'"
check_out 'signed to its last entry' "audit sign signs them" "$BATON" audit sign --dir "$A"
check_out '^audit log verified: 6 entries, chain intact$' "then the whole log is signed" \
	"$BATON" audit verify --dir "$A"
check_out '^signed: entries 1\.\.6 ' "... and verify says through which entry" \
	"$BATON" audit verify --dir "$A"

check "the parent consents" "$BATON" consent grant --key "$TMP/parent.key" --student S-2 \
	--from "$TMP/LHS-001.card" --to "$TMP/RAS-204.card" --sections all --yes --out "$TMP/c.consent"
check_out '^Sealed' "A sends S-2 to B" "$BATON" send S-2 --to RAS-204 --consent "$TMP/c.consent" \
	--out "$TMP/p.baton" --dir "$A"
check "B imports it" "$BATON" import "$TMP/p.baton" --receipt-out "$TMP/r.receipt" --dir "$B"
check "A imports the receipt" "$BATON" receipt import "$TMP/r.receipt" --dir "$A"
# A packet carries the log as it was before the packet's own disclosure entry:
# the next packet to B carries a head that covers the first disclosure.
check "A sends S-2 to B again (--again: the registrar means it)" "$BATON" send S-2 --to RAS-204 --again --consent "$TMP/c.consent" \
	--out "$TMP/p2.baton" --dir "$A"
check "B imports that packet" "$BATON" import "$TMP/p2.baton" --receipt-out "$TMP/r2.receipt" --dir "$B"
check "A imports its receipt" "$BATON" receipt import "$TMP/r2.receipt" --dir "$A"
check "A signs the receipt's entry" "$BATON" audit sign --dir "$A"
check_out '^audit log verified: [0-9]+ entries, chain intact$' "A's log verifies" \
	"$BATON" audit verify --dir "$A"
check_out 'disclosure.*RAS-204' "A's log records the disclosure of S-2" \
	"$BATON" audit --student S-2 --dir "$A"
SENT=$(sed -n 's/^ *\([0-9]*\) .*disclosure.*/\1/p' "$OUT" | head -n1)
check "the disclosure is entry $SENT" test -n "$SENT"

# ---- the rewrite, keeping the signed heads ----

cp -a "$A" "$TMP/rw1"
check_out "deleted entry $SENT" "the tool deletes the disclosure and recomputes the chain" \
	"$TOOL" "$TMP/rw1" disclosure
check "the first disclosure is gone from S-2's record of disclosures" \
	sh -c "[ \$('$BATON' audit --student S-2 --dir '$TMP/rw1' | grep -c disclosure) = 1 ]"
check_err 2 "FAILED at entry $SENT: the head signed at entry $SENT does not match the log" \
	"audit verify fails and names the first head that no longer matches ($SENT)" \
	"$BATON" audit verify --dir "$TMP/rw1"

# ---- the rewrite, deleting the signed heads too ----

cp -a "$A" "$TMP/rw2"
check "the tool deletes the disclosure and every signed head" \
	"$TOOL" "$TMP/rw2" disclosure --drop-heads
check_out 'entries 1\.\.[0-9]+ are not signed yet' \
	"audit verify says that no entry is signed" "$BATON" audit verify --dir "$TMP/rw2"
check "... and does not call the log intact" sh -c "! grep -q 'chain intact' '$OUT'"
check_out 'school LHS-001: its log said [0-9]+ entries' "B holds the head that came with A's packet" \
	"$BATON" audit held --dir "$B"
check "B writes it out for an auditor" "$BATON" audit held --school LHS-001 --out "$TMP/a.head" \
	--dir "$B"
check_out 'the head a peer holds \(entry [0-9]+\) matches this log' \
	"the head B holds matches A's real log" "$BATON" audit verify --against "$TMP/a.head" --dir "$A"
check_err 2 'FAILED against .*a.head' "and exposes the rewritten one" \
	"$BATON" audit verify --against "$TMP/a.head" --dir "$TMP/rw2"

# ---- the receipt carries the receiver's head ----

check_out 'school RAS-204: its log said [0-9]+ entries' "A holds the head that came with B's receipt" \
	"$BATON" audit held --dir "$A"
check "A writes it out" "$BATON" audit held --school RAS-204 --out "$TMP/b.head" --dir "$A"
check_out 'matches this log' "it matches B's log" "$BATON" audit verify --against "$TMP/b.head" --dir "$B"
check_err 2 'is signed by .*, which is neither this school.s key' \
	"a head of another school is not this school's" \
	"$BATON" audit verify --against "$TMP/b.head" --dir "$A"

# ---- after a rekey, heads signed by the old key still verify ----

check "A rekeys" "$BATON" rekey --card-out "$TMP/new.card" --rotation-out "$TMP/new.rot" --dir "$A"
printf '{"student_id": "S-4", "identity": {"given_name": "Name4", "family_name": "Okafor", "birth_date": "2011-04-14"}}\n' >"$TMP/four.json"
check "A imports another student (unsigned)" "$BATON" student import "$TMP/four.json" --dir "$A"
check "A signs with the new key" "$BATON" audit sign --dir "$A"
run "$BATON" card --json --dir "$A"
NEWFP=$(sed -n 's/.*"fingerprint": "\(.*\)".*/\1/p' "$OUT")
check_out "^signed: .* the latest by $NEWFP" "the log verifies across the rekey, the latest head by the new key" \
	"$BATON" audit verify --dir "$A"
check_out 'matches this log' "the head B holds from before the rekey still verifies" \
	"$BATON" audit verify --against "$TMP/a.head" --dir "$A"

# ---- the replaced key cannot sign a rewritten log ----
# Someone with the disk and the old key file (school.key.old-*) deletes the
# disclosure, drops every head and signs the result with the old key.
cp -r "$A" "$TMP/rw3"
OLD=$(ls "$TMP/rw3"/school.key.old-* | head -n1)
check "the tool deletes the disclosure and every head" "$TOOL" "$TMP/rw3" disclosure --drop-heads
mv "$TMP/rw3/school.key" "$TMP/new.key.saved"
cp "$OLD" "$TMP/rw3/school.key"
check "the old key signs the rewritten log" "$BATON" audit sign --dir "$TMP/rw3"
mv "$TMP/new.key.saved" "$TMP/rw3/school.key"
check_err 2 'signed by .*, a key this school replaced' \
	"audit verify refuses a log whose latest head is the replaced key's" \
	"$BATON" audit verify --dir "$TMP/rw3"

# ---- serve signs what a command without the key appended ----

C=$TMP/oth
free_ports 1 || done_testing
PC=$P0
check "init a third school with an endpoint" "$BATON" init --name "Other School" --code OTH-9 \
	--endpoint "tcp://127.0.0.1:$PC" --dir "$C"
check "it imports a student (unsigned)" "$BATON" student import "$TMP/four.json" --dir "$C"
check_out 'are not signed yet' "its log has an unsigned tail" "$BATON" audit verify --dir "$C"
# chain_intact DIR: audit verify calls the whole log signed.
chain_intact() {
	"$BATON" audit verify --dir "$1" | grep -q 'chain intact$'
}
if serve_start oth "$C" serve.oth.log; then
	check "serve signs the tail" wait_for 120 chain_intact "$C"
	check "serve stops" serve_stop oth
fi

done_testing
