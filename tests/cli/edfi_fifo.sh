#!/usr/bin/env bash
# Ed-Fi input that is not a regular file is refused at once as bad input (exit 2), named, with
# nothing stored, audited or left in the scratch directory: a FIFO (that
# nothing ever writes to) as the one JSON file, as students.json in a
# directory, as an interchange XML file; a link to /dev/zero as either.
. "$(dirname "$0")/lib.sh"

N=$TMP/node
D=$TMP/district
export TMPDIR=$TMP/scratch
mkdir -p "$TMPDIR" "$D" "$TMP/xml"

put() { # NAME JSON: writes $D/NAME.json
	printf '%s\n' "$2" | jq . >"$D/$1.json" || fail "the test's own $1.json is JSON"
}
put schools '[{"schoolId": 482001001, "nameOfInstitution": "Maple Ridge High School"}]'
put studentSchoolAssociations '[{"entryDate": "2026-08-17", "schoolReference": {"schoolId": 482001001},
  "studentReference": {"studentUniqueId": "604000001"},
  "entryGradeLevelDescriptor": "uri://ed-fi.org/GradeLevelDescriptor#Ninth grade", "schoolYearTypeReference": {"schoolYear": 2027}}]'
mkfifo "$D/students.json" "$TMP/one.json" "$TMP/xml/Interchange-Student.xml"
ln -s /dev/zero "$TMP/zero.json"

check "init" "$BATON" init --name "Maple Ridge High School" --code MRHS-001 --dir "$N" --no-passphrase
"$BATON" audit --json --dir "$N" >"$TMP/audit.before" 2>&1

# refused DESCRIPTION NAME FORMAT PATH: importing PATH fails within 20 s naming NAME.
refused() {
	run timeout 20 "$BATON" student import --format "$3" "$4" --dir "$N"
	if [ "$RC" -eq 2 ] && grep -q "$2: not a regular file" "$ERR"; then
		pass "$1"
	else
		fail_run "$1" "expected exit code 2 at once: $2: not a regular file"
	fi
	check "$1: no student is on file" test -z "$("$BATON" student list --json --dir "$N" 2>/dev/null | jq -r '.[]? | .student_id? // empty')"
	"$BATON" audit --json --dir "$N" >"$TMP/audit.now" 2>&1
	same "$TMP/audit.before" "$TMP/audit.now" "$1: the audit log is as before"
	check "$1: nothing is left in the scratch directory" test -z "$(ls -A "$TMPDIR")"
}
refused "a FIFO as the one JSON file is refused" one.json edfi-json "$TMP/one.json"
refused "a FIFO as students.json in a directory is refused" students.json edfi-json "$D"
refused "a link to /dev/zero as the one JSON file is refused" zero.json edfi-json "$TMP/zero.json"
refused "a FIFO as an interchange XML file is refused" Interchange-Student.xml edfi-xml "$TMP/xml"
done_testing
