#!/usr/bin/env bash
# A studentUniqueId that is not a safe student id is refused where it is
# read, named by file and index, shown without its control characters (no
# terminal escape from a file reaches the terminal), and nothing is stored
# or audited: an escape sequence, a DEL, a newline, a '/', a leading dot, a
# trailing space, 65 bytes.
. "$(dirname "$0")/lib.sh"

N=$TMP/node
D=$TMP/district
export TMPDIR=$TMP/scratch
mkdir -p "$TMPDIR" "$D"
printf '[{"schoolId": 482001001, "nameOfInstitution": "Maple Ridge High School"}]\n' >"$D/schools.json"

check "init" "$BATON" init --name "Maple Ridge High School" --code MRHS-001 --dir "$N" --no-passphrase
"$BATON" audit --json --dir "$N" >"$TMP/audit.before" 2>&1

long=$(printf 'A%.0s' $(seq 1 65))
i=0
for id in '60400\u001b[2J' '6040\u007f1' '6040\n1' '604/001' '.604001' '604001 ' "$long"; do
	i=$((i + 1))
	printf '[{"studentUniqueId": "%s", "birthDate": "2011-04-17", "firstName": "Amara", "lastSurname": "Okafor"}]\n' \
		"$id" >"$D/students.json"
	run "$BATON" student import --format edfi-json "$D" --dir "$N"
	if [ "$RC" -eq 2 ] && grep -q 'students.json\[0\]: studentUniqueId ".*" is not a student id' "$ERR"; then
		pass "id $i ($id) is refused, named"
	else
		fail_run "id $i ($id) is refused, named"
	fi
	check "id $i: no control character reaches standard error" \
		test "$(tr -d '\n' <"$ERR" | LC_ALL=C tr -d '[:print:]' | wc -c)" -eq 0
	check "id $i: nothing is on file" test -z "$("$BATON" student list --json --dir "$N" 2>/dev/null | jq -r '.[]? | .student_id? // empty')"
	"$BATON" audit --json --dir "$N" >"$TMP/audit.now" 2>&1
	same "$TMP/audit.before" "$TMP/audit.now" "id $i: the audit log is as before"
	check "id $i: nothing is left in the scratch directory" test -z "$(ls -A "$TMPDIR")"
done
done_testing
