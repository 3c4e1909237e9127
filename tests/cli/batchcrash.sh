#!/usr/bin/env bash
# A receiver killed in the middle of a batch acknowledges nothing it did not
# commit. A cohort of 70 goes from A to B through both serves, which carry
# it as batches (PROTOCOL.md section 10): B imports a batch's packets and
# signs all their receipts in one transaction, over one audit head. B's
# serve stops itself (SIGSTOP, BATON_TEST_PAUSE=batch) with the whole batch
# imported and receipted but not committed, and is killed there (kill -9):
# A then holds no receipt, and B no student, inbox entry or audit entry of
# it. B's serve started again takes the packets A sends again: every
# student arrives once, every receipt A holds names a packet B has on file
# as accepted with its student, and both audit logs verify.
. "$(dirname "$0")/lib.sh"

export BATON_PASSPHRASE="a long enough passphrase" # the parent's key
A=$TMP/lhs B=$TMP/ras
DATA=$BATON_SRC/tests/data
N=70 # two batches: 64 and 6

free_ports 2 || done_testing

check "init LHS-001" "$BATON" init --name "Lincoln High School" --code LHS-001 \
	--endpoint "tcp://127.0.0.1:$P0" --no-passphrase --dir "$A"
check "init RAS-204" "$BATON" init --name "Riverside Academy" --code RAS-204 \
	--endpoint "tcp://127.0.0.1:$((P0 + 1))" --no-passphrase --dir "$B"
for n in "$A:LHS-001" "$B:RAS-204"; do
	check "card of ${n#*:}" "$BATON" card --dir "${n%:*}" --out "$TMP/${n#*:}.card"
done
check "A pins B" "$BATON" peer add "$TMP/RAS-204.card" --dir "$A"
check "B pins A" "$BATON" peer add "$TMP/LHS-001.card" --dir "$B"
check "A imports the sample school" "$BATON" student import "$DATA/school.json" --dir "$A"

# Minors (under 18 all year, not postsecondary): a parent consents for them.
Y=$(date -u +%Y)
awk -v min=$((Y - 16)) -F'"' '
	function out() { if (sid != "" && young && !ps) print sid }
	/"student_id":/ { out(); sid = $4; young = 0; ps = 0 }
	/"birth_date":/ { young = (substr($4, 1, 4) + 0 >= min) }
	/"grade_level": "PS"/ { ps = 1 }
	END { out() }' "$DATA/school.json" | head -n "$N" >"$TMP/minors"
check "$N minors in the sample school" test "$(wc -l <"$TMP/minors")" -eq "$N"
mapfile -t M <"$TMP/minors"
check "the parent makes a key" "$BATON" guardian keygen --out "$TMP/parent.key"
run "$BATON" guardian pubkey "$TMP/parent.key"
PK=$(head -n1 "$OUT")
mkdir -p "$TMP/c"
granted=0
for s in "${M[@]}"; do
	"$BATON" guardian link "$s" "$PK" --relation mother --dir "$A" >/dev/null 2>&1 &&
		"$BATON" consent grant --key "$TMP/parent.key" --student "$s" \
			--from "$TMP/LHS-001.card" --to "$TMP/RAS-204.card" --purpose "Enrollment" \
			--sections all --yes --out "$TMP/c/$s.consent" >/dev/null 2>&1 &&
		granted=$((granted + 1))
done
check "the parent links and consents for $N students" test "$granted" -eq "$N"
check_out "^$N of $N students sealed for RAS-204 and queued" "A queues the cohort" \
	"$BATON" send --to RAS-204 --consents "$TMP/c" --dir "$A"

# is LABEL GOT WANT
is() {
	if [ "$2" = "$3" ]; then
		pass "$1"
	else
		fail "$1" "got $2, want $3"
	fi
}
stopped() { [ "$(ps -o stat= -p "$1" 2>/dev/null | cut -c1)" = T ]; }
# receipted: A's outbox entries receipted, one packet id a line, sorted.
receipted() {
	"$BATON" outbox --json --dir "$A" | jq -r '.[] | select(.state == "receipted") | .packet' | sort
}
# accepted: B's inbox entries accepted, "PACKET STUDENT" a line, sorted.
accepted() {
	"$BATON" inbox --json --dir "$B" | jq -r '.[] | select(.result == "accepted") | "\(.packet) \(.student)"' | sort
}
students_at_b() { "$BATON" student list --json --dir "$B" | jq length; }
received_entries() { "$BATON" audit --dir "$B" | grep -c ' received ' || :; }

# ---- B stops with a whole batch imported and receipted, not committed; kill -9 ----
BATON_TEST_PAUSE=batch "$BATON" serve --dir "$B" >/dev/null 2>"$TMP/b1.log" &
BPID=$!
BG+=($BPID)
wait_for 120 grep -q 'serve: listening' "$TMP/b1.log" || fail "B's serve did not start" "$(cat "$TMP/b1.log")"
serve_start A "$A" a.log
if wait_for 120 stopped "$BPID"; then
	pass "B's serve stopped inside a batch's transaction"
else
	fail "B's serve stopped inside a batch's transaction" "$(ps -o stat=,args= -p "$BPID")" "$(tail -n 5 "$TMP/b1.log")"
fi
kill -KILL "$BPID" 2>/dev/null
wait "$BPID" 2>/dev/null
is "A holds no receipt of the batch that was not committed" "$(receipted | wc -l)" 0
is "B has no student from it" "$(students_at_b)" 0
is "B has no inbox entry from it" "$("$BATON" inbox --json --dir "$B" | jq length)" 0
is "B has no received audit entry from it" "$(received_entries)" 0
check "B's audit log verifies after the kill" "$BATON" audit verify --dir "$B"

# ---- B again, without the pause: A sends the packets again ----
serve_start B "$B" b2.log
delivered() { [ "$(receipted | wc -l)" -eq "$N" ]; }
if wait_for 300 delivered; then
	pass "A holds a receipt for each of the $N students"
else
	fail "A holds a receipt for each of the $N students" "$(receipted | wc -l) receipted" "$(tail -n 5 "$TMP/a.log")"
fi
serve_stop A
serve_stop B
receipted >"$TMP/receipted"
accepted >"$TMP/accepted"
cut -d' ' -f1 "$TMP/accepted" >"$TMP/accepted.ids"
same "$TMP/receipted" "$TMP/accepted.ids" "every receipt A holds names a packet B has on file as accepted, and B accepted nothing else"
is "B's accepted packets name $N different students" "$(cut -d' ' -f2 "$TMP/accepted" | sort -u | wc -l)" "$N"
is "B has the $N students" "$(students_at_b)" "$N"
is "each arrived once: $N received audit entries" "$(received_entries)" "$N"
is "each disclosure was audited once at A" "$("$BATON" audit --dir "$A" | grep -c ' disclosure ')" "$N"
check "B's audit log verifies" "$BATON" audit verify --dir "$B"
check "A's audit log verifies" "$BATON" audit verify --dir "$A"

done_testing
