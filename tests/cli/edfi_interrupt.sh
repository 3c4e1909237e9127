#!/usr/bin/env bash
# An Ed-Fi import ended by SIGTERM, SIGINT or SIGHUP while it reads (its
# scratch store, a copy of students' data, exists under TMPDIR) leaves no
# scratch store behind, and nothing on file.
. "$(dirname "$0")/lib.sh"

N=$TMP/node
D=$TMP/district
export TMPDIR=$TMP/scratch
mkdir -p "$TMPDIR" "$D"

printf '[{"schoolId": 482001001, "nameOfInstitution": "Maple Ridge High School"}]\n' >"$D/schools.json"
# 3,000 students with 15 attendance events each: a few seconds of reading.
jq -nc '[range(3000) | {"studentUniqueId": "6040\(10000 + .)", "birthDate": "2011-04-17", "firstName": "Amara", "lastSurname": "Okafor\(.)"}]' >"$D/students.json"
jq -nc '[range(3000) | {"entryDate": "2026-08-17", "schoolReference": {"schoolId": 482001001},
  "studentReference": {"studentUniqueId": "6040\(10000 + .)"},
  "entryGradeLevelDescriptor": "uri://ed-fi.org/GradeLevelDescriptor#Ninth grade", "schoolYearTypeReference": {"schoolYear": 2027}}]' >"$D/studentSchoolAssociations.json"
jq -nc '[range(45000) | {"studentReference": {"studentUniqueId": "6040\(10000 + (. % 3000))"},
  "schoolReference": {"schoolId": 482001001},
  "sessionReference": {"schoolId": 482001001, "schoolYear": 2027, "sessionName": "Fall"},
  "eventDate": ("2026-09-" + ((. / 3000 | floor) + 101 | tostring | .[1:])),
  "attendanceEventCategoryDescriptor": "uri://ed-fi.org/AttendanceEventCategoryDescriptor#Excused Absence"}]' \
	>"$D/studentSchoolAttendanceEvents.json"

check "init" "$BATON" init --name "Maple Ridge High School" --code MRHS-001 --dir "$N" --no-passphrase

for sig in TERM INT HUP; do
	# (A background job starts with SIGINT ignored; env gives it back its default.)
	env --default-signal=INT "$BATON" student import --format edfi-json "$D" --dir "$N" >/dev/null 2>&1 </dev/null &
	pid=$!
	# Wait for its scratch store to be there, then signal it.
	for _ in $(seq 1 200); do
		[ -n "$(ls -A "$TMPDIR")" ] && break
		sleep 0.05
	done
	seen=$(ls -A "$TMPDIR")
	kill -s "$sig" "$pid" 2>/dev/null
	wait "$pid"
	rc=$?
	if [ -n "$seen" ] && [ "$rc" -ge 128 ]; then
		pass "SIG$sig ends the import while its scratch store is there ($seen)"
	else
		fail "SIG$sig ends the import while its scratch store is there" "scratch: '$seen', exit code $rc"
	fi
	check "after SIG$sig, nothing is left in the scratch directory" test -z "$(ls -A "$TMPDIR")"
	check "after SIG$sig, nothing is on file" test -z "$("$BATON" student list --json --dir "$N" 2>/dev/null | jq -r '.[]? | .student_id? // empty')"
	rm -rf "${TMPDIR:?}"/*
done
done_testing
