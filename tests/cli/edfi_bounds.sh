#!/usr/bin/env bash
# One student named by 100,000 Ed-Fi objects (attendance events, course
# transcripts) is refused with a clear error naming the student, in bounded
# memory, storing and auditing nothing and leaving no scratch store; a
# student with 5,000 attendance events imports.
. "$(dirname "$0")/lib.sh"

N=$TMP/node
MEM_MAX_KB=$((150 * 1024))
# Under AddressSanitizer freed memory is held in quarantine and shadowed:
# peak RSS says nothing of the import's bound there, so that check is skipped.
ASAN=0
if { ldd "$BATON" 2>/dev/null | grep -q libasan; } || grep -aq __asan_init "$(readlink -f "$BATON")" 2>/dev/null; then
	ASAN=1
fi
export TMPDIR=$TMP/scratch
mkdir -p "$TMPDIR"

# district DIR COUNT RESOURCE: a one-student district with COUNT objects of RESOURCE.
district() {
	mkdir -p "$1"
	printf '[{"schoolId": 482001001, "nameOfInstitution": "Maple Ridge High School"}]\n' >"$1/schools.json"
	printf '[{"studentUniqueId": "604000001", "birthDate": "2011-04-17", "firstName": "Amara", "lastSurname": "Okafor"}]\n' >"$1/students.json"
	printf '[{"entryDate": "2026-08-17", "schoolReference": {"schoolId": 482001001}, "studentReference": {"studentUniqueId": "604000001"}, "entryGradeLevelDescriptor": "uri://ed-fi.org/GradeLevelDescriptor#Ninth grade", "schoolYearTypeReference": {"schoolYear": 2027}}]\n' >"$1/studentSchoolAssociations.json"
	case $3 in
	studentSchoolAttendanceEvents)
		jq -nc --argjson n "$2" '[range($n) | {"studentReference": {"studentUniqueId": "604000001"},
		  "schoolReference": {"schoolId": 482001001},
		  "sessionReference": {"schoolId": 482001001, "schoolYear": 2027, "sessionName": "Fall"},
		  "eventDate": ("2026-" + ((. / 28 | floor) % 12 + 101 | tostring | .[1:]) + "-" + (. % 28 + 101 | tostring | .[1:])),
		  "attendanceEventCategoryDescriptor": "uri://ed-fi.org/AttendanceEventCategoryDescriptor#Excused Absence"}]' ;;
	courseTranscripts)
		jq -nc --argjson n "$2" '[range($n) | {"courseAttemptResultDescriptor": "uri://ed-fi.org/CourseAttemptResultDescriptor#Pass",
		  "courseReference": {"courseCode": "C\(.)", "educationOrganizationId": 482001001},
		  "studentAcademicRecordReference": {"educationOrganizationId": 482001001, "schoolYear": 2026,
		    "studentUniqueId": "604000001", "termDescriptor": "uri://ed-fi.org/TermDescriptor#Fall Semester"},
		  "courseTitle": "Course \(.)", "attemptedCredits": 0.5, "earnedCredits": 0.5, "finalLetterGradeEarned": "B"}]' ;;
	esac >"$1/$3.json"
}

check "init" "$BATON" init --name "Maple Ridge High School" --code MRHS-001 --dir "$N" --no-passphrase
"$BATON" audit --json --dir "$N" >"$TMP/audit.before" 2>&1

for res in studentSchoolAttendanceEvents courseTranscripts; do
	district "$TMP/big-$res" 100000 $res
	run /usr/bin/time -f '%M' -o "$TMP/rss" "$BATON" student import --format edfi-json "$TMP/big-$res" --dir "$N"
	if [ "$RC" -eq 2 ] && grep -q "studentUniqueId \"604000001\": more than [0-9]* objects" "$ERR"; then
		pass "100,000 $res of one student are refused, the student named"
	else
		fail_run "100,000 $res of one student are refused, the student named"
	fi
	rss=$(tail -n 1 "$TMP/rss")
	if [ "$ASAN" = 1 ]; then
		T=$((T + 1))
		echo "ok $T # SKIP in bounded memory: not measured under AddressSanitizer ($rss KB)"
	elif [ "$rss" -lt "$MEM_MAX_KB" ]; then
		pass "in bounded memory ($rss KB)"
	else
		fail "in bounded memory" "peak RSS $rss KB"
	fi
	check "nothing is on file" test -z "$("$BATON" student list --json --dir "$N" 2>/dev/null | jq -r '.[]? | .student_id? // empty')"
	"$BATON" audit --json --dir "$N" >"$TMP/audit.now" 2>&1
	same "$TMP/audit.before" "$TMP/audit.now" "the audit log is as before"
	check "nothing is left in the scratch directory" test -z "$(ls -A "$TMPDIR")"
done

district "$TMP/ok" 5000 studentSchoolAttendanceEvents
check "a student with 5,000 attendance events imports" "$BATON" student import --format edfi-json "$TMP/ok" --dir "$N"
check "and is on file" test "$("$BATON" student list --dir "$N" 2>/dev/null | wc -l)" -eq 1
done_testing
