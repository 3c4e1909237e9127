#!/usr/bin/env bash
# The console's Students area: the search (by name, id, state id; paged),
# a record by sections with its versions, attachments and a held record's
# notice, and the import of a file with its preview (errors against their
# record and field, nothing stored) and then for real (audited by the
# registrar). Through the API with curl for each error a user can reach,
# and in a real browser (tests/web/students.mjs) for the page.
. "$(dirname "$0")/lib.sh"

export BATON_PASSPHRASE="a long enough passphrase" # the parent's key
console_schools || done_testing
A=$TMP/lhs
U=http://127.0.0.1:$WA/api/v1

# A second version of S-1018 (the same child, a preferred name added), and a
# record of another child under her id, held for review: as a registrar's
# files would bring them.
check "S-1018 exported" "$BATON" student export S-1018 --out "$TMP/s1018.json" --dir "$A"
jq '.identity.preferred_name = "Kai"' "$TMP/s1018.json" >"$TMP/s1018b.json"
check "S-1018's version 2 imported" "$BATON" student import "$TMP/s1018b.json" --dir "$A"
cat >"$TMP/other.json" <<'EOF'
{"student_id": "S-1018", "identity": {"given_name": "Zed", "family_name": "Mallory", "birth_date": "2011-09-09"}}
EOF
check_out 'held for review' "another child under S-1018 is held for review" \
	"$BATON" student import "$TMP/other.json" --dir "$A"

cat >"$TMP/bad.json" <<'EOF'
[
 {"student_id": "N-8001", "identity": {"given_name": "Ada", "family_name": "Quill", "birth_date": "2012-01-02"}},
 {"student_id": "N-8002", "identity": {"given_name": "Bo", "family_name": "Quill", "birth_date": "2012-13-02"}},
 {"student_id": "N-8003", "identity": {"given_name": "Cy", "birth_date": "2012-01-02"}}
]
EOF
cat >"$TMP/good.json" <<'EOF'
[
 {"student_id": "N-9001", "state_student_id": "ST-9001", "identity": {"given_name": "Ada", "family_name": "Quill", "birth_date": "2012-01-02"}},
 {"student_id": "N-9002", "identity": {"given_name": "Bo", "family_name": "Quill", "birth_date": "2012-03-02"},
  "enrollment": [{"school_name": "Lincoln High School", "school_code": "LHS-001", "entry_date": "2026-08-19", "grade_level": "09"}]}
]
EOF

# ---- the API, with curl ----
# req NAME CURL-ARGS...: headers into $TMP/NAME.h, body into $TMP/NAME.b; prints the status.
# Once signed in, every request carries the session's token, but the one named nocsrf.
req() {
	local n=$1 tok=()
	shift
	[ -z "${CSRF:-}" ] || [ "$n" = nocsrf ] || tok=(-H "X-CSRF-Token: $CSRF")
	curl -s -o "$TMP/$n.b" -D "$TMP/$n.h" -w '%{http_code}' --max-time 60 "${tok[@]}" "$@"
}
is() { # is DESC GOT WANT
	if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "got $2, expected $3"; fi
}
# says NAME JQ-FILTER DESC: the JSON answer in $TMP/NAME.b satisfies the filter.
says() {
	if jq -e "$2" "$TMP/$1.b" >/dev/null 2>&1; then pass "$3"; else fail "$3" "$(head -c 600 "$TMP/$1.b")"; fi
}

is "GET students without a session is 401" "$(req s0 "$U/students")" 401
is "maria signs in" "$(req login -c "$TMP/jar" -H 'Content-Type: application/json' -X POST \
	--data-binary "{\"user\": \"maria\", \"password\": \"$MARIA_PW\"}" "$U/session")" 200
CSRF=$(jq -r .csrf "$TMP/login.b")
G=(-b "$TMP/jar")
P=(-b "$TMP/jar" -H "X-CSRF-Token: $CSRF" -H 'Content-Type: application/octet-stream' -X POST)

is "GET students" "$(req all "${G[@]}" "$U/students")" 200
says all '.total == 240 and (.students | length) == 100 and .more == true and .offset == 0' \
	"no term: the first 100 of 240, and more"
says all '.students[0] | .student_id == "S-1001" and .given_name == "Jonah" and .family_name == "Fitzgerald" and .birth_date == "2012-08-06" and .version == 1 and .held == 0' \
	"each with its id, names, birth date, version and held count"
is "the last page" "$(req last "${G[@]}" "$U/students?offset=200")" 200
says last '.total == 240 and (.students | length) == 40 and .more == false' "offset=200: the last 40, no more"
is "search by part of a name" "$(req q1 "${G[@]}" "$U/students?q=kai%20lev")" 200
says q1 '.total == 1 and .students[0].student_id == "S-1018" and .students[0].held == 1 and .students[0].version == 2' \
	"finds S-1018, version 2, with a record held for her"
is "search by state id" "$(req q2 "${G[@]}" "$U/students?q=st-1831")" 200
says q2 '.total == 1 and .students[0].student_id == "S-1018"' "finds her by part of her state id"
run "$BATON" student list an --json --dir "$A"
jq -c '[.[] | .student_id]' "$OUT" >"$TMP/cli.ids"
req q3 "${G[@]}" "$U/students?q=an&limit=100" >/dev/null
jq -c '[.students[] | .student_id]' "$TMP/q3.b" >"$TMP/api.ids"
same "$TMP/cli.ids" "$TMP/api.ids" "the API finds what 'baton student list an' finds, in the same order"
is "a bad offset is 400" "$(req off "${G[@]}" "$U/students?offset=x")" 400
says off '.error | test("^offset: \"x\" is not a whole number")' "naming offset and the value"
is "a limit past 100 is 400" "$(req lim "${G[@]}" "$U/students?limit=1000")" 400
says lim '.error | test("^limit: ")' "naming limit"

is "GET students/S-1018" "$(req rec "${G[@]}" "$U/students/S-1018")" 200
says rec '[.sections[].name] == ["identity","guardians","enrollment","transcript","attendance","assessments","health"]' \
	"the record by sections, in reading order, the sensitive last"
says rec '[.sections[] | select(.sensitive) | .name] == ["health"]' "health is marked sensitive"
says rec '.version == 2 and .latest == 2 and .held_for_review == 1 and .state_student_id == "ST-1831-5510"' \
	"version 2 of 2, one held for review, her state id"
says rec '(.versions | length) == 2 and .versions[0].source == "import" and .versions[0].time > 0' \
	"its versions, each with when and where from"
says rec '.attachments[0] | .name == "transcript.pdf" and .media_type == "application/pdf" and .size > 0 and (.hash | length) == 64' \
	"its attachment: name, type, size, hash"
HASH=$(jq -r '.attachments[0].hash' "$TMP/rec.b")
is "GET students/S-1018/versions/1" "$(req v1 "${G[@]}" "$U/students/S-1018/versions/1")" 200
says v1 '.version == 1 and .latest == 2 and ([.sections[0].value | has("preferred_name")] == [false])' \
	"version 1, without the preferred name added in 2"
is "an unknown student is 404" "$(req nf "${G[@]}" "$U/students/S-0000")" 404
says nf '.error == "no student \"S-0000\""' "in words"
is "a version that does not exist is 404" "$(req nv "${G[@]}" "$U/students/S-1018/versions/9")" 404
says nv '.error == "student \"S-1018\" has no version 9"' "in words"
is "a version that is not a number is 400" "$(req bv "${G[@]}" "$U/students/S-1018/versions/x")" 400
says bv '.error | test("^version: ")' "naming version"

is "the attachment downloads" "$(req att "${G[@]}" "$U/students/S-1018/attachments/$HASH")" 200
same "$TMP/att.b" "$BATON_SRC/tests/data/files/S-1018-transcript.pdf" "byte for byte"
check "as an attachment, named, typed" sh -c "grep -qi '^Content-Disposition: attachment; filename=\"transcript.pdf\"' '$TMP/att.h' &&
	grep -qi '^Content-Type: application/pdf' '$TMP/att.h'"
is "another student's attachment is 404 under S-1006" "$(req att2 "${G[@]}" "$U/students/S-1006/attachments/$HASH")" 404
says att2 '.error | test("S-1006\" has no attachment")' "in words"
is "a hash that is not one is 400" "$(req att3 "${G[@]}" "$U/students/S-1018/attachments/xyz")" 400
says att3 '.error | test("^hash: ")' "naming the hash"

is "the record exports as JSON" "$(req exp "${G[@]}" "$U/students/S-1018/export")" 200
check "as S-1018.json, an attachment" grep -qi '^Content-Disposition: attachment; filename="S-1018.json"' "$TMP/exp.h"
mkdir -p "$TMP/cliexp"
check "baton student export writes it too" "$BATON" student export S-1018 --out "$TMP/cliexp/S-1018.json" --dir "$A"
check "the same record as baton student export, attachments at S-1018-files/" sh -c \
	"jq -S . '$TMP/exp.b' >'$TMP/exp.n' && jq -S . '$TMP/cliexp/S-1018.json' >'$TMP/cli.n' && cmp -s '$TMP/exp.n' '$TMP/cli.n' &&
	jq -e '.attachments[0].path == \"S-1018-files/transcript.pdf\"' '$TMP/exp.b' >/dev/null"
is "an unknown student's export is 404" "$(req exp2 "${G[@]}" "$U/students/S-9999/export")" 404

run "$BATON" student list --dir "$A"
cp "$OUT" "$TMP/list.before"
run "$BATON" audit --dir "$A"
cp "$OUT" "$TMP/audit.before"
is "an import without the CSRF token is 403" "$(req nocsrf -b "$TMP/jar" -X POST --data-binary @"$TMP/good.json" "$U/students/import")" 403
is "the preview of a file with two bad records" "$(req pv "${P[@]}" --data-binary @"$TMP/bad.json" "$U/students/import?dry_run=1")" 200
says pv '.dry_run == true and .imported == false and .records == 3 and .bad_records == 2' "3 records, 2 bad"
says pv '.errors[0] | .record == 2 and .student_id == "N-8002" and .field == "identity.birth_date" and (.message | test("not a date"))' \
	"record 2's error names its field"
says pv '.errors[1] | .record == 3 and .field == "identity.family_name" and (.message | test("required field missing"))' \
	"record 3's error names its field"
says pv '.students[0] | .record == 1 and .student_id == "N-8001" and .result == "new" and .given_name == "Ada"' \
	"the good record says what it would become"
is "the import of that file is 400" "$(req bad "${P[@]}" --data-binary @"$TMP/bad.json" "$U/students/import")" 400
says bad '.error == "2 of the records have errors; nothing was imported" and (.errors | length) == 2' \
	"saying so, with the errors"
is "the preview of the good file" "$(req pg "${P[@]}" --data-binary @"$TMP/good.json" "$U/students/import?dry_run=1")" 200
says pg '.records == 2 and .new == 2 and .bad_records == 0 and .imported == false' "two new, nothing imported"
is "a file that is not records is 400" "$(req junk "${P[@]}" --data-binary 'id,name' "$U/students/import?dry_run=1")" 400
says junk '.error | test("looks like CSV")' "in words"
is "a file naming attachments is refused in the preview" \
	"$(req withatt "${P[@]}" --data-binary @"$TMP/s1018b.json" "$U/students/import?dry_run=1")" 200
says withatt '.bad_records == 1 and .errors[0].field == "attachments[0].path"' "naming attachments[0].path"
run "$BATON" student list --dir "$A"
same "$TMP/list.before" "$OUT" "after previews and refusals, 'baton student list' is unchanged"
run "$BATON" audit --dir "$A"
same "$TMP/audit.before" "$OUT" "and nothing was audited"
check "the upload's temporary files are gone" sh -c "! ls -A '$A' | grep -q '^\.upload-'"

# A preview takes no write transaction: a guardian link at the same node,
# started once the upload of 20,000 records is in (the handler has begun),
# finishes before the preview does (serve logs the preview's end).
many() { # many N FILE: N small good records
	seq 1 "$1" | awk 'BEGIN { printf "[" } NR > 1 { printf "," }
		{ printf "{\"student_id\": \"G-%06d\", \"identity\": {\"given_name\": \"Gil%d\", \"family_name\": \"Many\", \"birth_date\": \"2012-01-02\"}}\n", $1, $1 }
		END { print "]" }' >"$2"
}
many 20000 "$TMP/many.json"
SIZE=$(stat -c %s "$TMP/many.json")
req many "${P[@]}" --data-binary @"$TMP/many.json" "$U/students/import?dry_run=1" >"$TMP/many.code" &
MANY=$!
BG+=("$MANY")
n=0
until [ "$(stat -c %s "$A"/.upload-* 2>/dev/null)" = "$SIZE" ] || ! kill -0 "$MANY" 2>/dev/null ||
	[ "$n" -ge 6000 ]; do
	sleep 0.01
	n=$((n + 1))
done
LOGGED=unseen
if kill -0 "$MANY" 2>/dev/null && ! grep -q 'previewed 20000' "$TMP/lhs.log"; then
	run "$BATON" guardian link S-1001 "$PK" --relation mother --dir "$A"
	LOGGED=$(grep -c 'web: maria previewed 20000 student records' "$TMP/lhs.log")
fi
wait "$MANY"
if [ "$LOGGED" = unseen ]; then
	fail "a guardian link while the preview runs" "the preview was not seen running"
elif [ "$RC" != 0 ]; then
	fail "a guardian link while the preview runs" "exit $RC: $(cat "$ERR")"
elif ! grep -q 'web: maria previewed 20000 student records' "$TMP/lhs.log"; then
	fail "a guardian link while the preview runs finishes first" "serve did not log the preview's end"
elif [ "$LOGGED" != 0 ]; then
	fail "a guardian link while the preview runs finishes first" "it waited for the preview"
else
	pass "a guardian link while the preview runs finishes first"
fi
is "the preview of 20,000 records" "$(cat "$TMP/many.code")" 200
says many '.records == 20000 and .new == 20000 and .bad_records == 0 and (.students | length) == 1000 and .more == 19000' \
	"lists the first 1,000 records and counts 19,000 more"
says many '.students[999] | .record == 1000 and .student_id == "G-001000" and .result == "new"' \
	"the listed ones in file order"
check_out 'web: maria previewed 20000 student records' "serve logs the preview, by whom" cat "$TMP/lhs.log"
run "$BATON" student list g-0 --dir "$A"
is "and stores none of them" "$(cat "$OUT")" "No student matches."
# The preview reads the store only, yet sees what earlier records of the file would take.
cat >"$TMP/stid.json" <<'EOF2'
[
 {"student_id": "N-7001", "state_student_id": "ST-7777", "identity": {"given_name": "Ada", "family_name": "Stid", "birth_date": "2012-01-02"}},
 {"student_id": "N-7002", "state_student_id": "ST-7777", "identity": {"given_name": "Bo", "family_name": "Stid", "birth_date": "2012-01-03"}},
 {"student_id": "N-7003", "state_student_id": "ST-1831-5510", "identity": {"given_name": "Cy", "family_name": "Stid", "birth_date": "2012-01-04"}}
]
EOF2
is "the preview of a file whose records share a state id" "$(req stid "${P[@]}" --data-binary @"$TMP/stid.json" "$U/students/import?dry_run=1")" 200
says stid '.bad_records == 2 and .errors[0].record == 2 and (.errors[0].message | test("already belongs to student N-7001"))' \
	"names the record that took it earlier in the file"
says stid '.errors[1].record == 3 and (.errors[1].message | test("already belongs to student S-1018"))' \
	"and the student on file that has it"
many 150000 "$TMP/huge.json"
is "a file over 16 MiB is 400" "$(req huge "${P[@]}" --data-binary @"$TMP/huge.json" "$U/students/import?dry_run=1")" 400
says huge '.error == "file: over 16 MiB; use baton student import for larger files"' \
	"sending larger files to the command line"

# ---- the page, in a browser ----
node_tap "students" students.mjs "http://127.0.0.1:$WA" "$TMP/bad.json" "$TMP/good.json" \
	"$BATON_SRC/tests/data/files/S-1018-transcript.pdf" "$TMP/many.json"

check_out '^N-9001 +Ada Quill' "the students imported in the browser are on file" "$BATON" student list quill --dir "$A"
check_out 'import +student N-9001 .*by maria' "their import is audited by maria" \
	"$BATON" audit --student N-9001 --dir "$A"
check_out '"by": "maria"' "the audit entry says by maria" "$BATON" audit --student N-9002 --json --dir "$A"
run "$BATON" student list n-80 --dir "$A"
is "nothing of the bad file was stored" "$(cat "$OUT")" "No student matches."
done_testing
