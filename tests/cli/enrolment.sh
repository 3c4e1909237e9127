#!/usr/bin/env bash
# The enrolment exception (34 CFR 99.31(a)(2)) over two nodes. Riverside
# (B), where a student is enrolling, asks Lincoln (A) for the record on its
# own signed enrolment statement, with no consent. With A's policy off the
# request waits and a registrar cannot release it; with it on (and the
# annual notice stored) it is released at once, without sensitive sections
# unless the policy names them, and the disclosure is audited with basis
# enrolment on both sides and in the family's view. A statement for another
# child waits for a person; a tampered request is refused and nothing kept.
. "$(dirname "$0")/lib.sh"

export BATON_PASSPHRASE="a long enough passphrase"
A=$TMP/lhs B=$TMP/ras
two_schools "$A" "$B"

# ---- the policy ----
check_out '^enrolment exception off ' "off by default" "$BATON" policy enrolment-exception --dir "$A"
check_err 2 'annual notice' "on without an annual notice is refused" \
	"$BATON" policy enrolment-exception on --dir "$A"
check_err 2 'transcript is not a sensitive section' "--sensitive names only sensitive sections" \
	"$BATON" policy enrolment-exception off --sensitive transcript --dir "$A"
check_out '^enrolment exception off ' "... and the policy is unchanged" \
	"$BATON" policy enrolment-exception --dir "$A"
check "... with no policy entry in the audit log" sh -c "! '$BATON' audit --dir '$A' | grep -q 'enrolment exception'"
printf 'Lincoln High School sends education records, without consent, to a school where a student seeks or intends to enrol (34 CFR 99.31(a)(2)). Notice-2026-Q.\n' >"$TMP/notice.txt"

# ---- policy off: the request waits, and cannot be released ----
req() { # req NAME BIRTH [SECTIONS]: B asks A for S-1001 on its statement, into $TMP/$1.req
	local out=$1 name=$2 birth=$3
	shift 3
	check_out '^Asked LHS-001 for a record' "B asks A for S-1001 enrolling ($out)" \
		"$BATON" request --from LHS-001 --student S-1001 --enrolling --name "$name" \
		--birth-date "$birth" --out "$TMP/$out.req" --dir "$B" "$@"
}
req r1 "Jonah Fitzgerald" 2012-08-06
check_out 'request-sent +basis enrolment' "B's audit: the request, on its statement" "$BATON" audit --dir "$B"
check_out 'held for ' "A, policy off: the request is held" \
	"$BATON" import "$TMP/r1.req" --receipt-out "$TMP/r1.receipt" --dir "$A"
ID1=$(grep -o 'Request [0-9a-f]*' "$OUT" | cut -d' ' -f2)
check_out 'request-received +basis enrolment .*held: the enrolment exception is off here' \
	"A's audit says why it waits" "$BATON" audit --dir "$A"
check_out "$ID1" "A's registrar sees it held" "$BATON" requests --dir "$A"
check_err 2 'the enrolment exception is off at this school' "A's registrar cannot release it without the exception" \
	"$BATON" release "$ID1" --out "$TMP/no.baton" --dir "$A"
check "... and nothing was disclosed" sh -c "! '$BATON' audit --dir '$A' | grep -q '  disclosure '"
check "... and no packet written" test ! -e "$TMP/no.baton"

# ---- policy on ----
check_out '^enrolment exception on ' "A turns the exception on, with its notice" \
	"$BATON" policy enrolment-exception on --notice-file "$TMP/notice.txt" --dir "$A"
check_out 'Notice-2026-Q' "A's policy shows the annual notice" \
	"$BATON" policy enrolment-exception --dir "$A"
check_out 'policy .*enrolment exception on .*annual notice of [0-9]+ bytes set' \
	"the change is audited" "$BATON" audit --dir "$A"

req r2 "Jonah Fitzgerald" 2012-08-06 --sections transcript,health,enrollment
check_out 'releasing it' "A, policy on: released at once" \
	"$BATON" import "$TMP/r2.req" --receipt-out "$TMP/r2.receipt" --dir "$A"
check_out '  disclosure +basis enrolment +student S-1001 +school RAS-204 +sections enrollment,identity,transcript ' \
	"A's audit: a disclosure with basis enrolment, health withheld" "$BATON" audit --dir "$A"
check_out '"basis": "enrolment"' "... and in --json" "$BATON" audit --json --student S-1001 --dir "$A"
run "$BATON" outbox --json --dir "$A"
PKT=$(python3 -c 'import json,sys; print([e["packet"] for e in json.load(open(sys.argv[1])) if e["kind"] == "transfer"][-1])' "$OUT")
check "A writes the transfer to carry" "$BATON" outbox export "$PKT" --out "$TMP/t2.baton" --dir "$A"
check_out '^Imported ' "B imports the record" "$BATON" import "$TMP/t2.baton" --receipt-out "$TMP/t2.receipt" --dir "$B"
check_out '  received +basis enrolment +student S-1001 +school LHS-001' \
	"B's audit: received on basis enrolment" "$BATON" audit --dir "$B"
run "$BATON" student show S-1001 --json --dir "$B"
check "B has no health section" python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["record"]; sys.exit(0 if "health" not in r and "transcript" in r else 1)' "$OUT"
check "A imports B's receipt" "$BATON" receipt import "$TMP/t2.receipt" --dir "$A"

# The sensitive sections the policy names go too.
check_out 'sensitive sections released on a statement: health' "A's policy names health" \
	"$BATON" policy enrolment-exception on --sensitive health --dir "$A"
req r3 "Fitzgerald, Jonah" 2012-08-06 --sections transcript,health
check_out 'releasing it' "released at once" "$BATON" import "$TMP/r3.req" --dir "$A"
check_out '  disclosure +basis enrolment +student S-1001 +school RAS-204 +sections health,identity,transcript ' \
	"health goes when the policy names it" "$BATON" audit --dir "$A"

# ---- another child: waits for a person ----
req r4 "Jonas Fitzgerald" 2012-08-06
check_out 'held for ' "a statement for another child is held" "$BATON" import "$TMP/r4.req" --dir "$A"
ID4=$(grep -o 'Request [0-9a-f]*' "$OUT" | cut -d' ' -f2)
check_out 'held: the statement describes another child' "A's audit says so" "$BATON" audit --dir "$A"
check_err 2 'another child than student S-1001' "a registrar's release of it is refused too" "$BATON" release "$ID4" --out "$TMP/no4.baton" --dir "$A"
check_out 'release-refused .*another child' "... and audited" "$BATON" audit --dir "$A"
req r5 "Jonah Fitzgerald" 2012-08-07
check_out 'held for ' "another birth date is held" "$BATON" import "$TMP/r5.req" --dir "$A"
req r5b "Jonah Cian Fitzgerald" 2012-08-06
check_out 'held for ' "a middle name the record keeps apart is held for a person" "$BATON" import "$TMP/r5b.req" --dir "$A"
req r5d "  JONAH   fitzgerald" 2012-08-06 --sections transcript
check_out 'releasing it' "case and spaces are not a difference: released at once" \
	"$BATON" import "$TMP/r5d.req" --dir "$A"

# ---- a tampered request: refused, nothing kept ----
req r6 "Jonah Fitzgerald" 2012-08-06
run "$BATON" audit --json --dir "$A"
N=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$OUT")
python3 -c 'import sys; p=bytearray(open(sys.argv[1],"rb").read()); p[len(p)//2]^=1; open(sys.argv[2],"wb").write(p)' "$TMP/r6.req" "$TMP/bad.req"
check_err 2 'refused \(bad_signature\).*nothing recorded' "a tampered request is refused" "$BATON" import "$TMP/bad.req" --dir "$A"
run "$BATON" audit --json --dir "$A"
check "... and nothing is audited" test "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$OUT")" = "$N"
check_err 1 'birth-date YYYY-MM-DD are required' "--enrolling without --birth-date is a usage error" \
	"$BATON" request --from LHS-001 --student S-1001 --enrolling --name "Jonah Fitzgerald" --dir "$B"
check_err 1 'needs a given and a family name' "--enrolling with a one-word name is a usage error" \
	"$BATON" request --from LHS-001 --student S-1001 --enrolling --name Jonah --birth-date 2012-08-06 --dir "$B"

# ---- off again: the next request waits ----
check_out '^enrolment exception off ' "A turns it off" "$BATON" policy enrolment-exception off --dir "$A"
req r7 "Jonah Fitzgerald" 2012-08-06
check_out 'held for ' "held again" "$BATON" import "$TMP/r7.req" --dir "$A"

# ---- the family is told of a request for their child, not of one for another ----
check "the parent is linked to S-1001" "$BATON" guardian link S-1001 "$PK" --relation mother --dir "$A"
check "... with an email address on file" "$BATON" guardian email S-1001 "$PK" parent@family.example --dir "$A"
check_out '^0 notices queued' "no notice is queued yet" "$BATON" mail show --dir "$A"
req r8 "Jonas Fitzgerald" 2012-08-06
check_out 'held for ' "a request describing another child is held" "$BATON" import "$TMP/r8.req" --dir "$A"
check_out '^0 notices queued' "... and this child's family is not told of it" "$BATON" mail show --dir "$A"
req r9 "Jonah Fitzgerald" 2012-08-06
check_out 'held for ' "a request for the child is held" "$BATON" import "$TMP/r9.req" --dir "$A"
check_out '^1 notices queued' "... and the family is told a request arrived" "$BATON" mail show --dir "$A"

done_testing
