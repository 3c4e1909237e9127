#!/usr/bin/env bash
# A record of schema version 2 in the console (tests/web/custody.mjs): the
# custody restrictions as a red alert at the top of the student's page and
# of a held record's review, on a phone and a desktop; the new sections
# shown; "not recorded" told apart from "none known". The API gives custody
# first among the sections.
. "$(dirname "$0")/lib.sh"

export BATON_PASSPHRASE="a long enough passphrase" # the parent's key
console_schools || done_testing
A=$TMP/lhs
DATA=$BATON_SRC/tests/data
U=http://127.0.0.1:$WA/api/v1

check_out '1 new students' "the student with every section imports" \
	"$BATON" student import "$DATA/v2-student.json" --dir "$A"
mkdir -p "$TMP/files"
cp "$DATA/files/S-1006-iep.pdf" "$TMP/files/"
jq '.[0] | .student_id = "S-2002" | .state_student_id = "ST-9020-0002" | .identity.given_name = "Ana"
	| del(.health.allergies, .health.conditions) | .custody = []' "$DATA/v2-student.json" >"$TMP/s2002.json"
check_out '1 new students' "a student with allergies not recorded and no custody restriction" \
	"$BATON" student import "$TMP/s2002.json" --dir "$A"
jq '.[0] | .identity.birth_date = "2010-03-15"' "$DATA/v2-student.json" >"$TMP/other.json"
check_out '1 held for review' "another child under S-2001, with its custody rows, is held" \
	"$BATON" student import "$TMP/other.json" --dir "$A"

# The API: custody is the first section.
code=$(curl -s -o "$TMP/login.b" -w '%{http_code}' -c "$TMP/jar" -H 'Content-Type: application/json' \
	-X POST --data "{\"user\": \"maria\", \"password\": \"$MARIA_PW\"}" "$U/session")
if [ "$code" = 200 ]; then pass "maria signs in"; else fail "maria signs in" "status $code"; fi
CSRF=$(jq -r .csrf "$TMP/login.b")
code=$(curl -s -o "$TMP/s.b" -w '%{http_code}' -b "$TMP/jar" -H "X-CSRF-Token: $CSRF" "$U/students/S-2001")
if [ "$code" = 200 ] && jq -e '.sections[0].name == "custody" and .sections[0].sensitive == true
	and (.sections[0].value | length) == 2 and ([.sections[].name] | index("identity")) == 1
	and ([.sections[] | select(.name == "section_504" or .name == "english_learner" or .name == "homeless")
	| .sensitive] == [true, true, true])
	and ([.sections[] | select(.name == "graduation")] | length) == 1' "$TMP/s.b" >/dev/null; then
	pass "GET students/S-2001: custody is the first section, then identity"
else
	fail "GET students/S-2001: custody is the first section, then identity" "status $code" "$(head -c 400 "$TMP/s.b")"
fi

# The console's import takes merge=1 as the command line takes --merge: a
# file with only S-2002's attendance keeps its other sections.
jq '{student_id, identity, attendance: [{school_year: "2025-2026", days_present: 90,
	days_absent_excused: 0, days_absent_unexcused: 0}]}' "$TMP/s2002.json" >"$TMP/s2002-att.json"
P=(-b "$TMP/jar" -H "X-CSRF-Token: $CSRF" -H 'Content-Type: application/octet-stream' -X POST)
"$BATON" audit --json --dir "$A" >"$TMP/audit.before"
code=$(curl -s -o "$TMP/m0.b" -w '%{http_code}' "${P[@]}" --data-binary @"$TMP/s2002-att.json" \
	"$U/students/import?dry_run=1&merge=1")
if [ "$code" = 200 ] && jq -e '.dry_run and (.imported | not) and .new_versions == 1
	and .students[0].merged == true and .students[0].version == 2' "$TMP/m0.b" >/dev/null; then
	pass "a merge previewed in the console: version 2, merged, nothing imported"
else
	fail "a merge previewed in the console: version 2, merged, nothing imported" "status $code" "$(head -c 400 "$TMP/m0.b")"
fi
"$BATON" audit --json --dir "$A" >"$TMP/audit.after"
same "$TMP/audit.before" "$TMP/audit.after" "the preview wrote nothing"
code=$(curl -s -o "$TMP/m1.b" -w '%{http_code}' "${P[@]}" --data-binary @"$TMP/s2002-att.json" \
	"$U/students/import?merge=1")
if [ "$code" = 200 ] && jq -e '.imported and .students[0].merged == true' "$TMP/m1.b" >/dev/null; then
	pass "the merge imported in the console"
else
	fail "the merge imported in the console" "status $code" "$(head -c 400 "$TMP/m1.b")"
fi
"$BATON" student show S-2002 --json --dir "$A" >"$TMP/s2002.now"
if jq -e '.version == 2 and (.record.attendance | length) == 1 and .record.attendance[0].days_present == 90
	and (.record.graduation.expected_year == 2029) and (.record.section_504.eligible == true)
	and .record.custody == [] and (.record.attachments | length) == 1' "$TMP/s2002.now" >/dev/null; then
	pass "its attendance replaced, every other section kept"
else
	fail "its attendance replaced, every other section kept" "$(head -c 400 "$TMP/s2002.now")"
fi

# A record received at RAS: its inbox row opens the student's page.
check "LHS links the parent to S-2001" "$BATON" guardian link S-2001 "$PK" --dir "$A"
check "the parent's consent for S-2001" "$BATON" consent grant --key "$TMP/parent.key" \
	--student S-2001 --from "$TMP/LHS-001.card" --to "$TMP/RAS-204.card" --sections all,custody \
	--purpose "enrolment at Riverside" --expires 30d --yes --out "$TMP/S-2001.consent"
check "LHS sends S-2001 to RAS" "$BATON" send S-2001 --to RAS-204 --consent "$TMP/S-2001.consent" --dir "$A"
arrived() { "$BATON" inbox --json --dir "$TMP/ras" | jq -e '.[] | select(.student == "S-2001" and .result == "accepted")' >/dev/null; }
wait_for 120 arrived && pass "RAS accepted S-2001" || fail "RAS accepted S-2001" "$("$BATON" inbox --dir "$TMP/ras" 2>&1)"

node_tap "custody" custody.mjs "http://127.0.0.1:$WA" "http://127.0.0.1:$WB"

done_testing
