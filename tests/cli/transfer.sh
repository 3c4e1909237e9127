#!/usr/bin/env bash
# A record carried between two schools as files: the sending registrar
# seals it under a parent's consent, the receiving registrar imports it and
# returns the signed receipt, and the sender records it. Then the hostile
# cases: replay, a tampered packet, a packet for another school, a sender
# that is not pinned, and consents the rules refuse.
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
check "A pins C" "$BATON" peer add "$TMP/OTH-9.card" --dir "$A"
check "B pins A" "$BATON" peer add "$TMP/LHS-001.card" --dir "$B"
check "A imports the sample school" "$BATON" student import "$DATA/school.json" --dir "$A"

# A student with a transcript PDF, and one with health data.
SID=$(head -n "$(grep -n '"section": "transcript"' "$DATA/school.json" | head -n1 | cut -d: -f1)" \
	"$DATA/school.json" | grep '"student_id"' | tail -n1 | sed 's/.*: "\(.*\)".*/\1/')
check "a student with a transcript attachment was found ($SID)" test -n "$SID"
check "the parent makes a key" "$BATON" guardian keygen --out "$TMP/parent.key"
run "$BATON" guardian pubkey "$TMP/parent.key"
PK=$(head -n1 "$OUT")
check "A links the parent to $SID" "$BATON" guardian link "$SID" "$PK" --relation mother --dir "$A"
check "the parent consents to all but the sensitive sections" "$BATON" consent grant \
	--key "$TMP/parent.key" --student "$SID" --from "$TMP/LHS-001.card" --to "$TMP/RAS-204.card" \
	--sections all --yes --out "$TMP/c.consent"

check_out '^Sealed' "A seals the record for B" "$BATON" send "$SID" --to RAS-204 \
	--consent "$TMP/c.consent" --out "$TMP/p.baton" --dir "$A"
check "no partial file is left" test ! -e "$TMP/p.baton.partial"
check_out 'disclosure.*RAS-204' "A's audit log records the disclosure" "$BATON" audit --student "$SID" --dir "$A"
check_out 'sent' "A's outbox has the packet as sent" "$BATON" outbox --dir "$A"
check_err 2 'ETO' "sending the same consent to another school is refused" "$BATON" send "$SID" \
	--to OTH-9 --consent "$TMP/c.consent" --out "$TMP/x.baton" --dir "$A"
check "a refused send leaves no file" test ! -e "$TMP/x.baton"
check_err 2 'ESECTIONS' "asking for health, not consented, is refused" "$BATON" send "$SID" \
	--to RAS-204 --consent "$TMP/c.consent" --sections health --out "$TMP/x.baton" --dir "$A"
check_err 2 'EEXPIRED' "a consent used after it expired is refused" env BATON_NOW=$(($(date +%s) + 40 * 86400)) \
	"$BATON" send "$SID" --to RAS-204 --consent "$TMP/c.consent" --out "$TMP/x.baton" --dir "$A"

check_out "^Imported .* as $SID, version 1" "B imports the packet" "$BATON" import "$TMP/p.baton" \
	--receipt-out "$TMP/r.receipt" --dir "$B"
check_out "\"student_id\": \"$SID\"" "B has the student" "$BATON" student show "$SID" --json --dir "$B"
check "B did not receive health (not consented)" sh -c "! '$BATON' student show '$SID' --json --dir '$B' | grep -q '\"health\"'"
mkdir -p "$TMP/exp"
check "B exports the record" "$BATON" student export "$SID" --out "$TMP/exp/$SID.json" --dir "$B"
same "$TMP/exp/$SID-files/transcript.pdf" "$DATA/files/$SID-transcript.pdf" \
	"the attachment arrived byte for byte"
check_out 'received.*LHS-001' "B's audit log records the arrival" "$BATON" audit --dir "$B"
check_out 'accepted' "B's inbox has it" "$BATON" inbox --dir "$B"

# Replay: the same packet again gets the same receipt and imports nothing.
run "$BATON" student list --json --dir "$B"
cp "$OUT" "$TMP/list.before"
check_out 'Already imported' "the same packet again is a replay" "$BATON" import "$TMP/p.baton" \
	--receipt-out "$TMP/r2.receipt" --dir "$B"
same "$TMP/r.receipt" "$TMP/r2.receipt" "the replay gets the same receipt"
run "$BATON" student list --json --dir "$B"
same "$TMP/list.before" "$OUT" "the replay imported nothing"

# The same record in a new packet (sent twice by the registrar): accepted,
# and the same student and version, not a second student or a new version.
check "A seals the same record again" "$BATON" send "$SID" --to RAS-204 \
	--consent "$TMP/c.consent" --out "$TMP/p2.baton" --again --dir "$A"
check_out "as $SID, version 1 .the same record as the one on file." \
	"B imports it as the record already on file" "$BATON" import "$TMP/p2.baton" \
	--receipt-out "$TMP/r3.receipt" --dir "$B"
run "$BATON" student list --json --dir "$B"
same "$TMP/list.before" "$OUT" "B has the same students, at the same versions"
check_out 'the same as the one on file' "B's audit log says it was the same record" \
	"$BATON" audit --student "$SID" --dir "$B"

check_out 'accepted' "A records the receipt" "$BATON" receipt import "$TMP/r.receipt" --dir "$A"
check_out 'receipted' "A's outbox shows it receipted" "$BATON" outbox --dir "$A"
check_out 'receipted' "the outbox also reads as JSON" "$BATON" outbox --json --dir "$A"

# A tampered copy: one byte changed in the middle.
cp "$TMP/p.baton" "$TMP/t.baton"
size=$(wc -c <"$TMP/t.baton")
flip "$TMP/t.baton" $((size / 2))
check_err 2 'bad_signature' "a tampered packet is rejected" "$BATON" import "$TMP/t.baton" \
	--receipt-out "$TMP/t.receipt" --dir "$B"
check "no signed receipt answers a packet that is not signed" test ! -e "$TMP/t.receipt"
run "$BATON" student list --json --dir "$B"
same "$TMP/list.before" "$OUT" "the tampered packet imported nothing"
check "B's audit log has no entry for what nobody signed" sh -c "! '$BATON' audit --dir '$B' | grep -q bad_signature"

# A packet for another school, and a sender that is not pinned.
check "the parent consents to C" "$BATON" consent grant --key "$TMP/parent.key" --student "$SID" \
	--from "$TMP/LHS-001.card" --to "$TMP/OTH-9.card" --sections transcript --yes --out "$TMP/c2.consent"
check "A seals for C" "$BATON" send "$SID" --to OTH-9 --consent "$TMP/c2.consent" --out "$TMP/c.baton" --dir "$A"
check_err 2 'wrong_recipient' "B refuses a packet addressed to C" "$BATON" import "$TMP/c.baton" --dir "$B"
check_err 2 'unknown_sender' "C refuses a packet from a school it has not pinned" "$BATON" import "$TMP/c.baton" \
	--receipt-out "$TMP/c.receipt" --dir "$C"
check "no receipt goes to a school that is not pinned" test ! -e "$TMP/c.receipt"

# A consent brought by hand passes the release rules before it is put on file.
check "a stranger makes a key" "$BATON" guardian keygen --out "$TMP/stranger.key"
check "the stranger signs a consent for $SID" "$BATON" consent grant --key "$TMP/stranger.key" \
	--student "$SID" --from "$TMP/LHS-001.card" --to "$TMP/RAS-204.card" --sections all --yes \
	--out "$TMP/s.consent"
run "$BATON" consent list --json --dir "$A"
cp "$OUT" "$TMP/consents.before"
check_err 2 'not linked to student' "A refuses to file it" "$BATON" consent import "$TMP/s.consent" --dir "$A"
run "$BATON" consent list --json --dir "$A"
same "$TMP/consents.before" "$OUT" "nothing was put on file"

# The same id for two different students: B files A's S-1003 under its own
# S-1001 (the same statewide id), and A's own S-1001 is somebody else. Each
# arrives at its own record, the first time and again.
check "A exports S-1003" "$BATON" student export S-1003 --out "$TMP/s1003.json" --dir "$A"
sed 's/"student_id": "S-1003"/"student_id": "S-1001"/' "$TMP/s1003.json" >"$TMP/b1001.json"
check "B has that student on file as its own S-1001" "$BATON" student import "$TMP/b1001.json" --dir "$B"
family() { sed -n 's/^ *"family_name": "\(.*\)",*$/\1/p' "$OUT" | head -n1; }
run "$BATON" student show S-1001 --json --dir "$B"
FAM_B=$(family)
run "$BATON" student show S-1001 --json --dir "$A"
FAM_A=$(family)
check "A's S-1001 ($FAM_A) is not B's S-1001 ($FAM_B)" test -n "$FAM_B" -a "$FAM_B" != "$FAM_A"
for s in S-1003 S-1001; do
	check "A links the parent to $s" "$BATON" guardian link "$s" "$PK" --relation mother --dir "$A"
	check "the parent consents for $s" "$BATON" consent grant --key "$TMP/parent.key" --student "$s" \
		--from "$TMP/LHS-001.card" --to "$TMP/RAS-204.card" --sections all --yes --out "$TMP/$s.consent"
	for n in 1 2; do
		check "A seals $s for B ($n)" "$BATON" send "$s" --to RAS-204 --consent "$TMP/$s.consent" \
			--out "$TMP/$s-$n.baton" --again --dir "$A"
	done
done
for n in 1 2; do
	check_out 'as S-1001, version' "B files A's S-1003 under its S-1001, by the statewide id ($n)" \
		"$BATON" import "$TMP/S-1003-$n.baton" --dir "$B"
	check_out 'as LHS-001-S-1001, version 1' "and A's S-1001 apart, as LHS-001-S-1001 ($n)" \
		"$BATON" import "$TMP/S-1001-$n.baton" --dir "$B"
done
run "$BATON" student show S-1001 --json --dir "$B"
check "B's S-1001 is still $FAM_B" test "$(family)" = "$FAM_B"
run "$BATON" student show LHS-001-S-1001 --json --dir "$B"
check "and LHS-001-S-1001 is $FAM_A" test "$(family)" = "$FAM_A"
run "$BATON" student list --json --dir "$B"
check "B has each of them once" test "$(grep -c '"student_id": "\(S-1001\|LHS-001-S-1001\|S-1003\)"' "$OUT")" -eq 2

check "both audit logs verify" sh -c "'$BATON' audit verify --dir '$A' >/dev/null && '$BATON' audit verify --dir '$B' >/dev/null"
done_testing
