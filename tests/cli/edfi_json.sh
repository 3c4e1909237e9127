#!/usr/bin/env bash
# Ed-Fi API JSON in: a district's resource files (Data Standard 5 contacts and
# 4 parents, a directory of RESOURCE.json files or one file of them by name)
# become Baton records through the same all-or-nothing import as Baton's own
# JSON; descriptors map through the shipped map and a district's own lines;
# --filter, --dry-run; malformed files are refused with the file, index and
# byte named and nothing stored; an imported student travels to another node.
. "$(dirname "$0")/lib.sh"

DATA=$BATON_SRC/tests/data/edfi-json
export BATON_PASSPHRASE="a long enough passphrase"
# The import's scratch store goes here: the check that it is removed sees only this test's.
export TMPDIR=$TMP/scratch
mkdir -p "$TMPDIR"
N=$TMP/node
check "init" "$BATON" init --name "Grand Bend High School" --code GBHS --dir "$N" --no-passphrase

# show ID NODE: the student's record alone, keys sorted.
show() {
	"$BATON" student show "$1" --json --dir "$2" | jq -S .record
}
# nothing_stored NODE DESC: no student and no import in the audit log.
nothing_stored() {
	run "$BATON" student list --json --dir "$1"
	if [ "$RC" -eq 0 ] && [ "$(jq length "$OUT")" = 0 ]; then pass "$2: no student"; else fail_run "$2: no student"; fi
	run "$BATON" audit --json --dir "$1"
	if [ "$RC" -eq 0 ] && ! grep -q '"import"' "$OUT"; then pass "$2: no audit entry"; else fail_run "$2: no audit entry"; fi
}
# fresh NAME: a new node at $TMP/NAME.
fresh() {
	"$BATON" init --name "School $1" --code "$1" --dir "$TMP/$1" --no-passphrase >/dev/null 2>&1
}

# ---- Data Standard 5, a directory ----
check_out '^Imported 2 students .*2 new students' "DS5: the directory's two students are imported" \
	"$BATON" student import --format edfi-json "$DATA/ds5" --dir "$N"
check_out 'not carried over \(--dry-run lists them\)' "the import counts the fields not carried over" \
	cat "$OUT"
show 1001 "$N" >"$TMP/ds5.json"
jqis() { # jqis DESC FILE FILTER EXPECTED
	local got
	got=$(jq -c "$3" "$2" 2>&1)
	if [ "$got" = "$4" ]; then pass "$1"; else fail "$1" "jq $3: got $got, expected $4"; fi
}
R=$TMP/ds5.json
jqis "identity from students" "$R" '.identity' '{"birth_date":"2011-04-17","family_name":"Okafor","given_name":"Amara","middle_name":"Ngozi","preferred_name":"Amy","sex":"Female"}'
jqis "the statewide id from the State identification code" "$R" '.state_student_id' '"ST-4410-2291"'
jqis "a contact and its association are a guardian (Mother -> mother)" "$R" '.guardians' '[{"email":"ngozi@example.org","name":"Ngozi Okafor","phone":"555-0100","relation":"mother"}]'
jqis "the enrolment names the school and maps Ninth grade to 09" "$R" '.enrollment' '[{"entry_date":"2025-08-20","grade_level":"09","school_code":"255901","school_name":"Grand Bend High School"}]'
jqis "a course transcript row with its course's title and Fall Semester as S1" "$R" '.transcript' '[{"course_code":"ALG-1","course_title":"Algebra I","credits_attempted":1,"credits_earned":1,"grade":"A-","school_year":"2025-2026","term":"S1"}]'
jqis "days enrolled from the calendar's instructional days, absences from the events" "$R" '.attendance' '[{"days_absent_excused":1,"days_absent_unexcused":1,"days_enrolled":10,"days_present":8,"school_year":"2025-2026"}]'
jqis "a student assessment with its assessment's title and subject" "$R" '.assessments' '[{"date":"2026-05-04","name":"STAAR Algebra I","performance_level":"Meets Grade Level","score":4120,"subject":"Mathematics"}]'
jqis "special education from the program association" "$R" '.special_education' '{"disability_category":"Specific Learning Disability","iep":true,"plan_date":"2025-10-01","services":["Speech therapy"]}'
jqis "discipline: the incident, the behavior and the action taken" "$R" '.discipline' '[{"action":"In School Suspension","date":"2025-09-02","incident":"School Code of Conduct: Pushed a classmate in the hall"}]'
show 1002 "$N" >"$TMP/1002.json"
jqis "no calendar for the school: no attendance row is made up" "$TMP/1002.json" '.attendance' 'null'
jqis "Kindergarten is KG" "$TMP/1002.json" '.enrollment[0].grade_level' '"KG"'
check_out '2 unchanged' "importing the same files again changes nothing" \
	"$BATON" student import --format edfi-json "$DATA/ds5" --dir "$N"
check_out '"action":"import".*"student":"1001"' \
	"the import is in the audit log" sh -c "'$BATON' audit --json --dir '$N' | jq -c '.[]'"

# ---- Data Standard 4: parents and studentParentAssociations ----
fresh DS4
check_out '^Imported 2 students' "DS4: parents and studentParentAssociations are read" \
	"$BATON" student import --format edfi-json "$DATA/ds4" --dir "$TMP/DS4"
show 1001 "$TMP/DS4" >"$TMP/ds4.json"
same "$TMP/ds4.json" "$TMP/ds5.json" "DS4 and DS5 files give the same record"

# ---- one file: {"students": [...], ...} ----
fresh ONE
(
	printf '{'
	sep=
	for f in "$DATA"/ds5/*.json; do
		printf '%s"%s": ' "$sep" "$(basename "$f" .json)"
		cat "$f"
		sep=,
	done
	printf '}\n'
) >"$TMP/district.json"
check_out '^Imported 2 students' "one file of resources by name is read" \
	"$BATON" student import --format edfi-json "$TMP/district.json" --dir "$TMP/ONE"
show 1001 "$TMP/ONE" >"$TMP/one.json"
same "$TMP/one.json" "$TMP/ds5.json" "one file and a directory give the same record"

# ---- --dry-run and --filter ----
fresh DRY
check_out 'students\.birthCity' "--dry-run lists the fields not carried over" \
	"$BATON" student import --format edfi-json "$DATA/ds5" --dry-run --dir "$TMP/DRY"
check_out '^1001: 9 Ed-Fi fields not carried over' "... per student" cat "$OUT"
check_out 'contacts\.addresses' "... addresses among them (left out on purpose)" cat "$OUT"
check_out 'Nothing was stored' "... and says nothing was stored" cat "$OUT"
nothing_stored "$TMP/DRY" "after --dry-run"
check_out '^Imported 1 students' "--filter 1002 takes one student" \
	"$BATON" student import --format edfi-json "$DATA/ds5" --filter 1002 --dir "$TMP/DRY"
check_exit 2 "... and not the other" "$BATON" student show 1001 --dir "$TMP/DRY"
fresh FIL
check_out '^Imported 2 students' "--filter takes a comma list" \
	"$BATON" student import --format edfi-json "$DATA/ds5" --filter 1001,1002 --dir "$TMP/FIL"
fresh FIL2
run "$BATON" student import --format edfi-json "$DATA/ds5" --filter 1001 --filter 9999 --dir "$TMP/FIL2"
if [ "$RC" -eq 0 ] && grep -q -- '--filter 9999: no such student' "$ERR"; then
	pass "a filtered id not in the files is told"
else fail_run "a filtered id not in the files is told"; fi
check_exit 1 "--filter without --format edfi-json is a usage error" \
	"$BATON" student import "$BATON_SRC/tests/data/school.json" --filter 1 --dir "$TMP/FIL2"
check_err 1 'not a format Baton reads' "an unknown --format is a usage error" \
	"$BATON" student import --format edfi-csv "$DATA/ds5" --dir "$TMP/FIL2"

# ---- descriptors ----
cp -r "$DATA/ds5" "$TMP/district"
jq '.[0].entryGradeLevelDescriptor = "uri://gbisd.org/GradeLevelDescriptor#Grade Nine"' \
	"$DATA/ds5/studentSchoolAssociations.json" >"$TMP/district/studentSchoolAssociations.json"
fresh DESC
run "$BATON" student import --format edfi-json "$TMP/district" --dir "$TMP/DESC"
if [ "$RC" -eq 2 ] && grep -q 'record 1 (1001): studentSchoolAssociations.json\[0\]: studentSchoolAssociations.entryGradeLevelDescriptor: descriptor "uri://gbisd.org/GradeLevelDescriptor#Grade Nine" has no Baton grade_level' "$ERR"; then
	pass "an unmapped grade level names the student, the file, the descriptor and the field"
else fail_run "an unmapped grade level names the student, the file, the descriptor and the field"; fi
nothing_stored "$TMP/DESC" "after the unmapped descriptor"
run "$BATON" student import --format edfi-json "$TMP/district" --dry-run --dir "$TMP/DESC"
if [ "$RC" -eq 2 ] && grep -q 'Grade Nine' "$ERR" && grep -q 'students.birthCity' "$OUT"; then
	pass "--dry-run lists the error and the fields not carried over"
else fail_run "--dry-run lists the error and the fields not carried over"; fi
printf '# the district'"'"'s own codes\ngrade_level\t09\turi://gbisd.org/GradeLevelDescriptor#Grade Nine\n' >"$TMP/gbisd.map"
check_out '^Imported 2 students' "--descriptor-map adds the district's line" \
	"$BATON" student import --format edfi-json "$TMP/district" --descriptor-map "$TMP/gbisd.map" --dir "$TMP/DESC"
show 1001 "$TMP/DESC" >"$TMP/desc.json"
same "$TMP/desc.json" "$TMP/ds5.json" "... and the district's code gives 09"
printf 'grade_level 09 uri://gbisd.org/GradeLevelDescriptor#Grade Nine\n' >"$TMP/bad.map"
check_err 2 'bad.map: line 1: expected baton-field<TAB>baton-value<TAB>descriptor URI' \
	"a map line that is not three tab-separated fields is refused by its line" \
	"$BATON" student import --format edfi-json "$TMP/district" --descriptor-map "$TMP/bad.map" --dir "$TMP/DESC"
printf 'relation\tstepmother\turi://ed-fi.org/RelationDescriptor#Mother\n' >"$TMP/rel.map"
fresh REL
check "a district's line for a shipped URI replaces the shipped value" \
	"$BATON" student import --format edfi-json "$DATA/ds5" --descriptor-map "$TMP/rel.map" --dir "$TMP/REL"
show 1001 "$TMP/REL" >"$TMP/rel.json"
jqis "... (Mother is stepmother for this district)" "$TMP/rel.json" '.guardians[0].relation' '"stepmother"'

# ---- malformed and wrong-type files: clear errors, nothing stored ----
BAD=$TMP/bad
fresh BADN
bad_case() { # bad_case DESC REGEX FILE CONTENT...: FILE in a copy of ds5 replaced by CONTENT
	local desc=$1 re=$2 file=$3
	shift 3
	rm -rf "$BAD"
	cp -r "$DATA/ds5" "$BAD"
	printf '%s' "$@" >"$BAD/$file"
	run "$BATON" student import --format edfi-json "$BAD" --dir "$TMP/BADN"
	if [ "$RC" -eq 2 ] && grep -Eq -- "$re" "$ERR" && tail -n1 "$ERR" | grep -q 'nothing was imported$'; then
		pass "$desc"
	else
		fail_run "$desc" "expected exit code 2, stderr matching: $re, and nothing imported"
	fi
}
bad_case "a truncated array names the file and index" \
	'students.json: students\[1\] at byte [0-9]+: the object is not closed' students.json \
	'[{"studentUniqueId": "1001", "firstName": "A", "lastSurname": "B", "birthDate": "2011-01-01"}, {"studentUniqueId": "1002", '
bad_case "an object instead of an array is named" \
	'students.json: byte 0: expected an array of students' students.json '{"studentUniqueId": "1001"}'
bad_case "an element that is not an object is named by its index" \
	'students.json: byte 1: expected students\[0\]: a students object' students.json '[1]'
bad_case "bad JSON inside an object names the byte" \
	'students.json: students\[0\] at byte [0-9]+: ' students.json '[{"studentUniqueId": "1001", "firstName": tru}]'
bad_case "a repeated key is refused" \
	'students.json: students\[0\] at byte [0-9]+: duplicate object key' students.json \
	'[{"studentUniqueId": "1001", "studentUniqueId": "1002"}]'
bad_case "text after the array is refused" \
	'schools.json: byte [0-9]+: text after the array' schools.json '[] []'
bad_case "an empty file is named" 'sessions.json: the file is empty' sessions.json ''
bad_case "a missing school is named by its id" \
	'studentSchoolAssociations.json\[0\]: studentSchoolAssociations.schoolReference.schoolId 255901 is not in the schools file' \
	schools.json '[]'
bad_case "a student without a birth date is refused by the field" \
	'record 1 \(1001\): students.json\[0\]: students.birthDate is missing' students.json \
	'[{"studentUniqueId": "1001", "firstName": "A", "lastSurname": "B"}]'
bad_case "a student id that could name a path is refused" \
	'students.json\[0\]: studentUniqueId "\.\./x" is not a student id' students.json \
	'[{"studentUniqueId": "../x", "firstName": "A", "lastSurname": "B", "birthDate": "2011-01-01"}]'
bad_case "two students objects for one id are refused" 'studentUniqueId "1002" repeats' students.json \
	'[{"studentUniqueId": "1002", "firstName": "A", "lastSurname": "B", "birthDate": "2011-01-01"}, {"studentUniqueId": "1002", "firstName": "A", "lastSurname": "B", "birthDate": "2011-01-01"}]'
rm -rf "$BAD" && cp -r "$DATA/ds5" "$BAD"
perl -e 'print "[{\"schoolId\": 1, \"nameOfInstitution\": \"" . ("x" x (1100 * 1024)) . "\"}]"' >"$BAD/schools.json"
check_err 2 'schools.json: schools\[0\] at byte 1: an object over 1048576 bytes' \
	"an object over 1 MiB is refused by its index" \
	"$BATON" student import --format edfi-json "$BAD" --dir "$TMP/BADN"
rm -rf "$BAD" && cp -r "$DATA/ds5" "$BAD"
echo '[]' >"$BAD/teachers.json"
check_err 2 'teachers.json: file name "teachers" is not an Ed-Fi resource Baton reads' \
	"a file named after no resource is refused by its name" \
	"$BATON" student import --format edfi-json "$BAD" --dir "$TMP/BADN"
check_out 'note: teachers.json: file name "teachers" is not an Ed-Fi resource Baton reads; skipped' \
	"... and in a dry run it is a note" \
	"$BATON" student import --format edfi-json "$BAD" --dry-run --dir "$TMP/BADN"
rm -f "$BAD/teachers.json"
jq '. + [{"studentReference": {"studentUniqueId": "7777"}, "schoolReference": {"schoolId": 255901}, "entryDate": "2025-08-20", "entryGradeLevelDescriptor": "uri://ed-fi.org/GradeLevelDescriptor#Ninth grade"}]' \
	"$DATA/ds5/studentSchoolAssociations.json" >"$BAD/studentSchoolAssociations.json"
run "$BATON" student import --format edfi-json "$BAD" --dry-run --dir "$TMP/BADN"
if [ "$RC" -eq 0 ] && grep -q 'studentUniqueId "7777" is not in the students file; its 1 studentSchoolAssociations not imported' "$OUT"; then
	pass "a resource of a student the files do not have is a note"
else fail_run "a resource of a student the files do not have is a note"; fi
check_err 3 'nope: No such file' "a path that is not there is named" \
	"$BATON" student import --format edfi-json "$TMP/nope" --dir "$TMP/BADN"
nothing_stored "$TMP/BADN" "after every refused file"
check "no scratch store is left behind" test -z "$(ls -A "$TMPDIR")"

# ---- many students: the scratch store is remapped as it goes, nothing is lost ----
BIG=$TMP/big
mkdir -p "$BIG"
cp "$DATA/ds5/schools.json" "$DATA/ds5/calendarDates.json" "$BIG/"
seq 1 450 | awk '{printf "%s{\"studentUniqueId\": \"S%04d\", \"firstName\": \"F%d\", \"lastSurname\": \"L%d\", \"birthDate\": \"2011-01-01\"}", (NR > 1 ? "," : "["), $1, $1, $1} END {print "]"}' >"$BIG/students.json"
seq 1 450 | awk '{printf "%s{\"studentReference\": {\"studentUniqueId\": \"S%04d\"}, \"schoolReference\": {\"schoolId\": 255901}, \"entryDate\": \"2025-08-20\", \"entryGradeLevelDescriptor\": \"uri://ed-fi.org/GradeLevelDescriptor#Ninth grade\"}", (NR > 1 ? "," : "["), $1} END {print "]"}' >"$BIG/studentSchoolAssociations.json"
seq 0 4499 | awk '{printf "%s{\"studentReference\": {\"studentUniqueId\": \"S%04d\"}, \"schoolReference\": {\"schoolId\": 255901}, \"eventDate\": \"2025-08-%02d\", \"attendanceEventCategoryDescriptor\": \"uri://ed-fi.org/AttendanceEventCategoryDescriptor#%s\"}", (NR > 1 ? "," : "["), 450 - int($1 / 10), 20 + $1 % 10, ($1 % 10 < 2 ? "Excused Absence" : "Unexcused Absence")} END {print "]"}' >"$BIG/studentSchoolAttendanceEvents.json"
fresh BIGN
check_out '^Imported 450 students .*450 new students' "450 students and 4,500 events in one import" \
	"$BATON" student import --format edfi-json "$BIG" --dir "$TMP/BIGN"
show S0001 "$TMP/BIGN" >"$TMP/s1.json"
show S0450 "$TMP/BIGN" >"$TMP/s450.json"
jqis "the first student's attendance" "$TMP/s1.json" '.attendance[0] | [.days_enrolled, .days_absent_excused, .days_absent_unexcused, .days_present]' '[10,2,8,0]'
jqis "the last student's attendance" "$TMP/s450.json" '.attendance[0] | [.days_enrolled, .days_absent_excused, .days_absent_unexcused, .days_present]' '[10,2,8,0]'
check "no scratch store is left behind after a large import" test -z "$(ls -A "$TMPDIR")"

# ---- export: the same mapping backwards, and the round trip ----
check "1001 is exported as Ed-Fi resources" "$BATON" student export 1001 --format edfi-json --out "$TMP/exp" --dir "$N"
for f in students studentSchoolAssociations schools contacts studentContactAssociations courseTranscripts \
	courses studentAcademicRecords studentAssessments assessments studentSpecialEducationProgramAssociations \
	disciplineIncidents studentDisciplineIncidentBehaviorAssociations disciplineActions \
	studentEducationOrganizationAssociations; do
	check "... $f.json is an array" jq -e 'type == "array" and length > 0' "$TMP/exp/$f.json"
done
jqis "the grade level goes back as its descriptor URI" "$TMP/exp/studentSchoolAssociations.json" \
	'.[0].entryGradeLevelDescriptor' '"uri://ed-fi.org/GradeLevelDescriptor#Ninth grade"'
jqis "the term goes back as its descriptor URI" "$TMP/exp/courseTranscripts.json" \
	'.[0].studentAcademicRecordReference.termDescriptor' '"uri://ed-fi.org/TermDescriptor#Fall Semester"'
check_err 3 'exp: not empty' "export refuses a directory that is not empty" \
	"$BATON" student export 1001 --format edfi-json --out "$TMP/exp" --dir "$N"
check_err 1 'needs --out DIR' "export to Ed-Fi needs --out" \
	"$BATON" student export 1001 --format edfi-json --dir "$N"
fresh RT
check "the export is imported at a fresh node" "$BATON" student import --format edfi-json "$TMP/exp" --dir "$TMP/RT"
show 1001 "$TMP/RT" | jq -S 'del(.attendance)' >"$TMP/rt.json"
jq -S 'del(.attendance)' "$TMP/ds5.json" >"$TMP/ds5-noatt.json"
same "$TMP/rt.json" "$TMP/ds5-noatt.json" "the round trip keeps every field Baton carries (but attendance counts)"
check "attendance counts have no Ed-Fi resource to go back as, and no events are made up" \
	test ! -e "$TMP/exp/studentSchoolAttendanceEvents.json" -a ! -e "$TMP/exp/calendarDates.json"

# ---- an Ed-Fi student travels to another school ----
A=$TMP/lhs B=$TMP/ras
two_schools "$A" "$B" --no-passphrase
check "A imports the Ed-Fi district" "$BATON" student import --format edfi-json "$DATA/ds5" --dir "$A"
check "A links the parent to 1001" "$BATON" guardian link 1001 "$PK" --relation mother --dir "$A"
check "the parent consents to every section" "$BATON" consent grant --key "$TMP/parent.key" \
	--student 1001 --from "$TMP/LHS-001.card" --to "$TMP/RAS-204.card" \
	--sections all,special_education,discipline --yes --out "$TMP/c.consent"
check_out '^Sealed' "A seals 1001 for B" "$BATON" send 1001 --to RAS-204 --consent "$TMP/c.consent" \
	--out "$TMP/p.baton" --dir "$A"
check_out '^Imported .* as 1001, version 1' "B imports the packet" "$BATON" import "$TMP/p.baton" --dir "$B"
show 1001 "$A" >"$TMP/a.json"
show 1001 "$B" >"$TMP/b.json"
same "$TMP/b.json" "$TMP/a.json" "B has the Ed-Fi student's record as A imported it"
done_testing
