#!/usr/bin/env bash
# The Ed-Fi test data itself: tests/tools/gen_edfi (the generated district
# of the benchmark) and the hand-written three-student district in
# tests/data/edfi-json and tests/data/edfi-xml/district3.
#
# gen_edfi: the same arguments give byte-identical files; each file is a
# JSON array of objects; the counts per student are the realistic ones it
# promises (about 20 course transcripts and 10 attendance events); every
# reference to a student names a student in students.json; files are not
# in student order; --ds4 writes Data Standard 4's names; every descriptor
# value is among the Ed-Fi defaults (and one that is not is named).
# The hand-written district: both standards parse and hold the same three
# students, and every interchange XML file is valid against its Ed-Fi XSD.
. "$(dirname "$0")/lib.sh"

tool GEN_EDFI gen_edfi || done_testing
# The Ed-Fi schemas and descriptors beside the source tree ($EDFI_SHARED names another place).
EDFI=${EDFI_SHARED:-$BATON_SRC/../shared/edfi}
DATA=$BATON_SRC/tests/data

check "gen_edfi writes 300 students" "$GEN_EDFI" -n 300 "$TMP/a"
check "and again, to another directory" "$GEN_EDFI" -n 300 "$TMP/b"
check "the two are byte-identical" diff -r "$TMP/a" "$TMP/b"
check "another seed gives another district" sh -c '"$1" -n 300 --seed 7 "$2" && ! diff -rq "$2" "$3" >/dev/null' sh "$GEN_EDFI" "$TMP/c" "$TMP/a"

bad=0
for f in "$TMP"/a/*.json; do
	jq -e 'type == "array" and all(.[]; type == "object")' "$f" >/dev/null || { bad=1 && echo "# $f"; }
done
check "every file is a JSON array of objects ($(find "$TMP/a" -name '*.json' | wc -l) files)" test "$bad" = 0
check "27 resource files" test "$(find "$TMP/a" -name '*.json' | wc -l)" -eq 27
check "students.json holds 300 students, each id once" \
	test "$(jq '[.[].studentUniqueId] | unique | length' "$TMP/a/students.json")" -eq 300

per() { # FILE: records per student, as a number with one decimal
	jq 'length / 300 * 10 | floor / 10' "$TMP/a/$1.json"
}
t=$(per courseTranscripts) e=$(per studentSchoolAttendanceEvents)
check "about 20 course transcripts a student ($t)" awk -v v="$t" 'BEGIN { exit !(v >= 15 && v <= 25) }'
check "about 10 attendance events a student ($e)" awk -v v="$e" 'BEGIN { exit !(v >= 7 && v <= 13) }'
for r in studentSchoolAssociations studentEducationOrganizationAssociations contacts studentAcademicRecords grades \
	studentAssessments studentSpecialEducationProgramAssociations studentSection504ProgramAssociations \
	studentLanguageInstructionProgramAssociations studentHomelessProgramAssociations studentHealths \
	disciplineIncidents studentDisciplineIncidentBehaviorAssociations disciplineActions calendarDates sessions \
	gradingPeriods sections assessments graduationPlans schools courses calendars; do
	[ "$(jq length "$TMP/a/$r.json")" -gt 0 ] || empty="${empty:-}$r "
done
check "no resource file is empty${empty:+ (empty: $empty)}" test -z "${empty:-}"
check "some contact associations carry a custody restriction" \
	test "$(jq '[.[] | select(.contactRestrictions)] | length' "$TMP/a/studentContactAssociations.json")" -gt 0
check "some grades are in progress" \
	test "$(jq '[.[] | select(.currentGradeIndicator == true)] | length' "$TMP/a/grades.json")" -gt 0

# Every studentReference (and studentAcademicRecordReference's student) names a student on file.
jq -r '.[].studentUniqueId' "$TMP/a/students.json" | sort >"$TMP/ids"
for f in "$TMP"/a/*.json; do
	jq -r '.[] | (.studentReference.studentUniqueId // .studentAcademicRecordReference.studentUniqueId //
		.studentSectionAssociationReference.studentUniqueId // empty)' "$f"
done | sort -u >"$TMP/refs"
check "every reference to a student names one in students.json ($(wc -l <"$TMP/refs") students referred to)" \
	sh -c '[ -s "$1" ] && [ -z "$(comm -13 "$2" "$1")" ]' sh "$TMP/refs" "$TMP/ids"
check "students.json is not in student order" \
	sh -c '! jq -r ".[].studentUniqueId" "$1" | sort -c 2>/dev/null' sh "$TMP/a/students.json"
check "nor are the course transcripts grouped by student" \
	test "$(jq '[.[].studentAcademicRecordReference.studentUniqueId] as $s | [range(1; $s | length) | select($s[.] != $s[. - 1])] | length' \
		"$TMP/a/courseTranscripts.json")" -gt "$(jq 'length / 2' "$TMP/a/courseTranscripts.json" | cut -d. -f1)"
check "references carry the API's links" \
	test "$(jq '[.[] | select(.studentReference.link.href | startswith("/ed-fi/students/"))] | length' "$TMP/a/studentSchoolAssociations.json")" -gt 0
check "--post leaves out ids, links and etags" sh -c '"$1" -n 20 --post "$2" && ! grep -qE "\"(id|link|_etag|_lastModifiedDate)\":" "$2"/*.json' \
	sh "$GEN_EDFI" "$TMP/post"

check "--ds4 writes Data Standard 4's names" "$GEN_EDFI" -n 50 --ds4 "$TMP/ds4"
check "parents.json and studentParentAssociations.json, no contacts" \
	sh -c '[ -s "$1/parents.json" ] && [ -s "$1/studentParentAssociations.json" ] && [ ! -e "$1/contacts.json" ]' sh "$TMP/ds4"
check "parentReference and parentUniqueId" \
	test "$(jq '[.[] | select(.parentReference.parentUniqueId)] | length' "$TMP/ds4/studentParentAssociations.json")" -gt 0
check "grading periods by descriptor and sequence" \
	test "$(jq '[.[] | select(.gradingPeriodReference.periodSequence and (.gradingPeriodReference.gradingPeriodName | not))] | length' \
		"$TMP/ds4/grades.json")" -gt 0

if [ -d "$EDFI/descriptors" ]; then
	check_out 'each among the defaults' "every descriptor value gen_edfi writes is an Ed-Fi default" \
		sh -c '"$1" -n 2000 --descriptors "$2" "$3" 2>&1' sh "$GEN_EDFI" "$EDFI/descriptors" "$TMP/d"
	mkdir "$TMP/desc"
	cp "$EDFI"/descriptors/*.xml "$TMP/desc/"
	sed -i 's|<CodeValue>Ninth grade</CodeValue>|<CodeValue>Grade Nine</CodeValue>|' "$TMP/desc/GradeLevelDescriptor.xml"
	check_exit 1 "a value that is not among them fails" "$GEN_EDFI" -n 300 --descriptors "$TMP/desc" "$TMP/e"
	check "and is named" grep -q 'GradeLevelDescriptor#Ninth grade is not in' "$ERR"
else
	T=$((T + 1))
	echo "ok $T # SKIP no Ed-Fi descriptors at $EDFI/descriptors"
fi
check_exit 1 "a bad count is refused" "$GEN_EDFI" -n 0 "$TMP/z"

# ---- the hand-written district ----

J5=$DATA/edfi-json/district3-ds5.json J4=$DATA/edfi-json/district3-ds4.json
check "district3-ds5.json is one object of resource arrays" jq -e 'type == "object" and all(.[]; type == "array")' "$J5"
check "district3-ds4.json too" jq -e 'type == "object" and all(.[]; type == "array")' "$J4"
check "the same three students in both" \
	sh -c '[ "$(jq -c "[.students[].studentUniqueId]" "$1")" = "$(jq -c "[.students[].studentUniqueId]" "$2")" ] &&
		[ "$(jq ".students | length" "$1")" -eq 3 ]' sh "$J5" "$J4"
check "DS5 has contacts, DS4 parents" \
	sh -c 'jq -e "has(\"contacts\") and has(\"studentContactAssociations\") and (has(\"parents\") | not)" "$1" >/dev/null &&
		jq -e "has(\"parents\") and has(\"studentParentAssociations\") and (has(\"contacts\") | not)" "$2" >/dev/null' sh "$J5" "$J4"
check "two custody restrictions" test "$(jq '[.studentContactAssociations[] | select(.contactRestrictions)] | length' "$J5")" -eq 2
check "every resource of the contract is in the DS5 district" jq -e '. as $in | all(
	"students", "schools", "studentSchoolAssociations", "studentEducationOrganizationAssociations", "contacts",
	"studentContactAssociations", "studentAcademicRecords", "courseTranscripts", "courses", "grades", "sections",
	"gradingPeriods", "studentSchoolAttendanceEvents", "calendarDates", "calendars", "sessions", "studentAssessments",
	"assessments", "studentSpecialEducationProgramAssociations", "studentSection504ProgramAssociations",
	"studentLanguageInstructionProgramAssociations", "studentHomelessProgramAssociations", "studentHealths",
	"disciplineIncidents", "studentDisciplineIncidentBehaviorAssociations", "disciplineActions", "graduationPlans";
	. as $k | ($in[$k] // []) | length > 0)' "$J5"

X=$DATA/edfi-xml/district3
if command -v xmllint >/dev/null && [ -d "$EDFI/xsd" ]; then
	for f in "$X"/Interchange-*.xml; do
		name=$(basename "$f" .xml)
		check "$name.xml is valid against $name.xsd" xmllint --noout --schema "$EDFI/xsd/$name.xsd" "$f"
	done
	check "the XML holds the same three students" \
		test "$(grep -c '<StudentUniqueId>60410000[123]</StudentUniqueId>' "$X/Interchange-Student.xml")" -eq 3
else
	T=$((T + 1))
	echo "ok $T # SKIP no xmllint or no Ed-Fi XSDs at $EDFI/xsd: the interchange XML is not checked"
fi

done_testing
