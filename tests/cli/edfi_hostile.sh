#!/usr/bin/env bash
# Hostile Ed-Fi JSON against 'baton student import --format edfi-json':
# a 2 GB sparse file, one 50 MB string, deep nesting, a wrong type for every
# kind of field (an identifier, a date, a descriptor, a reference, a
# collection, a number, a boolean), duplicate keys, invalid UTF-8 and a lone
# surrogate, truncated JSON, a file that is not JSON, a FIFO, an unknown
# resource file, in a directory of resource files and in the one-file form.
#
# Each case changes one thing in a small district that imports (checked on
# a copy of the node first). Each must be refused: exit code 2 within 120 s,
# standard error under 4 KB naming the file, and the field and value where
# there is one; peak memory (GNU time's maximum RSS) under 200 MB; and the
# student list and the audit log exactly as before.
. "$(dirname "$0")/lib.sh"

N=$TMP/node
D=$TMP/district
MEM_MAX_KB=$((200 * 1024))
ERR_MAX=4096

# The Ed-Fi import is part of this build when its reader is in the source;
# without it there is nothing to attack (counted as skipped, not passed).
if [ ! -f "$BATON_SRC/node/edfi_read.c" ] && ! "$BATON" student import --help 2>&1 | grep -q 'edfi-json'; then
	T=$((T + 1))
	echo "ok $T # SKIP this build has no Ed-Fi import ('baton student import --format edfi-json')"
	done_testing
fi

# ---- a small district in the API's shape (Data Standard 5) ----

# put NAME JSON: writes $D/NAME.json (jq checks and pretty-prints it).
put() {
	printf '%s\n' "$2" | jq . >"$D/$1.json" || fail "the test's own $1.json is JSON"
}

mkdir "$D"
put schools '[{"schoolId": 482001001, "nameOfInstitution": "Maple Ridge High School",
  "educationOrganizationCategories": [{"educationOrganizationCategoryDescriptor": "uri://ed-fi.org/EducationOrganizationCategoryDescriptor#School"}],
  "gradeLevels": [{"gradeLevelDescriptor": "uri://ed-fi.org/GradeLevelDescriptor#Ninth grade"},
                  {"gradeLevelDescriptor": "uri://ed-fi.org/GradeLevelDescriptor#Tenth grade"}]}]'
put students '[
 {"studentUniqueId": "604000001", "birthDate": "2011-04-17", "firstName": "Amara", "lastSurname": "Okafor"},
 {"studentUniqueId": "604000002", "birthDate": "2010-09-30", "firstName": "Mateo", "middleName": "Andrés", "lastSurname": "Hernández"}]'
put studentSchoolAssociations '[
 {"entryDate": "2026-08-17", "schoolReference": {"schoolId": 482001001}, "studentReference": {"studentUniqueId": "604000001"},
  "entryGradeLevelDescriptor": "uri://ed-fi.org/GradeLevelDescriptor#Ninth grade", "schoolYearTypeReference": {"schoolYear": 2027}},
 {"entryDate": "2026-08-17", "schoolReference": {"schoolId": 482001001}, "studentReference": {"studentUniqueId": "604000002"},
  "entryGradeLevelDescriptor": "uri://ed-fi.org/GradeLevelDescriptor#Tenth grade", "schoolYearTypeReference": {"schoolYear": 2027}}]'
put contacts '[{"contactUniqueId": "704000001", "firstName": "Ngozi", "lastSurname": "Okafor",
  "telephones": [{"telephoneNumber": "(512) 555-0101", "telephoneNumberTypeDescriptor": "uri://ed-fi.org/TelephoneNumberTypeDescriptor#Mobile"}]}]'
put studentContactAssociations '[{"contactReference": {"contactUniqueId": "704000001"}, "studentReference": {"studentUniqueId": "604000001"},
  "relationDescriptor": "uri://ed-fi.org/RelationDescriptor#Mother", "livesWith": true, "legalGuardian": true,
  "primaryContactStatus": true, "emergencyContactStatus": true, "contactPriority": 1}]'
put courseTranscripts '[{"courseAttemptResultDescriptor": "uri://ed-fi.org/CourseAttemptResultDescriptor#Pass",
  "courseReference": {"courseCode": "ALG1A", "educationOrganizationId": 482001},
  "studentAcademicRecordReference": {"educationOrganizationId": 482001001, "schoolYear": 2026, "studentUniqueId": "604000002",
    "termDescriptor": "uri://ed-fi.org/TermDescriptor#Fall Semester"},
  "courseTitle": "Algebra I A", "attemptedCredits": 0.5, "earnedCredits": 0.5, "finalLetterGradeEarned": "B",
  "whenTakenGradeLevelDescriptor": "uri://ed-fi.org/GradeLevelDescriptor#Ninth grade"}]'
put studentAcademicRecords '[{"termDescriptor": "uri://ed-fi.org/TermDescriptor#Fall Semester",
  "educationOrganizationReference": {"educationOrganizationId": 482001001}, "schoolYearTypeReference": {"schoolYear": 2026},
  "studentReference": {"studentUniqueId": "604000002"}, "cumulativeEarnedCredits": 0.5, "cumulativeAttemptedCredits": 0.5}]'
put courses '[{"courseCode": "ALG1A", "educationOrganizationReference": {"educationOrganizationId": 482001}, "courseTitle": "Algebra I A",
  "numberOfParts": 1, "identificationCodes": [{"courseIdentificationSystemDescriptor": "uri://ed-fi.org/CourseIdentificationSystemDescriptor#LEA course code",
  "identificationCode": "ALG1A"}], "academicSubjects": [{"academicSubjectDescriptor": "uri://ed-fi.org/AcademicSubjectDescriptor#Mathematics"}]}]'
put reportCards '[{"studentReference": {"studentUniqueId": "604000001"}, "educationOrganizationReference": {"educationOrganizationId": 482001001},
  "gradingPeriodReference": {"gradingPeriodDescriptor": "uri://ed-fi.org/GradingPeriodDescriptor#First Semester",
  "gradingPeriodName": "First Semester", "schoolId": 482001001, "schoolYear": 2025},
  "numberOfDaysAbsent": 0, "numberOfDaysInAttendance": 84, "numberOfDaysTardy": 1}]'

# The same district as one file: {"students": [...], ...}.
one_file() { # OUT: writes the district in $D as one object to OUT
	local f first=1
	{
		printf '{'
		for f in "$D"/*.json; do
			[ $first = 1 ] || printf ','
			first=0
			printf '"%s": ' "$(basename "$f" .json)"
			cat "$f"
		done
		printf '}\n'
	} >"$1"
}
one_file "$TMP/district.json"

check "init" "$BATON" init --name "Maple Ridge High School" --code MRHS-001 --dir "$N" --no-passphrase
check "the district as a directory imports (on a copy of the node)" \
	sh -c 'cp -R "$1" "$2" && "$3" student import --format edfi-json "$4" --dir "$2"' sh "$N" "$TMP/copy1" "$BATON" "$D"
check "both students are on the copy" test "$("$BATON" student list --dir "$TMP/copy1" 2>/dev/null | wc -l)" -eq 2
check "the district as one file imports (on another copy)" \
	sh -c 'cp -R "$1" "$2" && "$3" student import --format edfi-json "$4" --dir "$2"' sh "$N" "$TMP/copy2" "$BATON" "$TMP/district.json"

snapshot() { # NAME: the student list and audit log now
	"$BATON" student list --json --dir "$N" >"$TMP/$1.list" 2>&1
	"$BATON" audit --json --dir "$N" >"$TMP/$1.audit" 2>&1
}
snapshot before

# ---- the cases ----

CASE=0
# variant: a fresh copy of the district in $V; edit its files, then call hostile on it.
variant() {
	CASE=$((CASE + 1))
	V=$TMP/case$CASE
	cp -R "$D" "$V"
}

# edit FILE JQ: applies a jq filter to $V/FILE in place.
edit() {
	jq "$2" "$V/$1" >"$V/$1.new" && mv "$V/$1.new" "$V/$1" || fail "the test's jq edit of $1: $2"
}

# hostile DESCRIPTION PATH REGEX...: importing PATH is refused (exit 2, in
# time, a short stderr matching every REGEX, bounded memory) and the store is
# unchanged.
hostile() {
	local desc=$1 path=$2 re kb bytes why=()
	shift 2
	run timeout 120 /usr/bin/time -o "$TMP/mem" -f %M \
		"$BATON" student import --format edfi-json "$path" --dir "$N"
	kb=$(tail -n 1 "$TMP/mem" 2>/dev/null)
	bytes=$(wc -c <"$ERR")
	[ "$RC" -eq 2 ] || why+=("exit code $RC, not 2 (124: it ran past 120 s; 128 and over: a signal)")
	for re in "$@"; do
		grep -Eiq -- "$re" "$ERR" || why+=("stderr does not match: $re")
	done
	[ "$bytes" -le "$ERR_MAX" ] || why+=("stderr is $bytes bytes, over $ERR_MAX")
	[[ $kb =~ ^[0-9]+$ ]] && [ "$kb" -le "$MEM_MAX_KB" ] ||
		why+=("peak memory ${kb:-unknown} KB, over $MEM_MAX_KB KB")
	if [ ${#why[@]} -eq 0 ]; then
		pass "$desc: refused, naming it ($(head -c 160 "$ERR" | tr '\n' ' '))"
	else
		fail_run "$desc: refused, naming it, in bounded memory" "${why[@]}"
	fi
	snapshot after
	if cmp -s "$TMP/before.list" "$TMP/after.list" && cmp -s "$TMP/before.audit" "$TMP/after.audit"; then
		pass "$desc: the store is unchanged"
	else
		fail "$desc: the store is unchanged" "$(diff "$TMP/before.list" "$TMP/after.list" | head -n 6)" \
			"$(diff "$TMP/before.audit" "$TMP/after.audit" | head -n 6)"
	fi
}

# -- size --

variant
truncate -s 2G "$V/students.json"
hostile "a 2 GB sparse students.json (NUL bytes)" "$V" 'students\.json'

variant
jq -c '.[0]' "$D/students.json" | { printf '[\n'; cat; printf ',\n'; } >"$V/students.json"
truncate -s 2G "$V/students.json"
hostile "a 2 GB students.json: one good student, then NUL bytes" "$V" 'students\.json'

variant
{
	printf '[{"studentUniqueId": "604000003", "birthDate": "2011-01-01", "lastSurname": "Long", "firstName": "'
	head -c $((50 * 1024 * 1024)) /dev/zero | tr '\0' 'a'
	printf '"}]\n'
} >"$V/students.json"
hostile "one 50 MB string (a first name) in students.json" "$V" 'students\.json'
check "the error does not echo the 50 MB value" test "$(grep -c 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' "$ERR")" -eq 0

variant
{
	printf '{"students": [{"studentUniqueId": "604000003", "birthDate": "2011-01-01", "lastSurname": "Long", "firstName": "'
	head -c $((50 * 1024 * 1024)) /dev/zero | tr '\0' 'b'
	printf '"}]}\n'
} >"$TMP/long-one.json"
hostile "one 50 MB string in the one-file form" "$TMP/long-one.json" 'long-one\.json'

# -- structure --

variant
perl -e 'print "[{\"studentUniqueId\": \"604000003\", \"x\": ", "{\"a\": " x 100000, "1", "}" x 100000, "}]\n"' >"$V/students.json"
hostile "objects nested 100,000 deep" "$V" 'students\.json'

variant
perl -e 'print "[", "[" x 200000, "]" x 200000, "]\n"' >"$V/studentSchoolAssociations.json"
hostile "arrays nested 200,000 deep" "$V" 'studentSchoolAssociations\.json'

variant
head -c $(($(wc -c <"$D/students.json") - 40)) "$D/students.json" >"$V/students.json.cut" &&
	mv "$V/students.json.cut" "$V/students.json"
hostile "a truncated students.json" "$V" 'students\.json'

variant
jq -c . "$D/studentSchoolAssociations.json" | head -c 200 >"$V/studentSchoolAssociations.json"
hostile "a truncated studentSchoolAssociations.json (one line)" "$V" 'studentSchoolAssociations\.json'

variant
printf '%%PDF-1.4\n%% not JSON at all\n' >"$V/contacts.json"
hostile "a contacts.json that is not JSON" "$V" 'contacts\.json'

variant
: >"$V/students.json"
hostile "an empty students.json" "$V" 'students\.json'

variant
jq '.[0]' "$D/students.json" >"$V/students.json"
hostile "students.json holding an object, not an array" "$V" 'students\.json'

variant
rm "$V/contacts.json"
mkfifo "$V/contacts.json"
hostile "a FIFO named contacts.json (nothing is ever written to it)" "$V" 'contacts\.json'

variant
printf '[{"favoriteColor": "blue", "studentReference": {"studentUniqueId": "604000001"}}]\n' >"$V/studentFavoriteColors.json"
hostile "an unknown resource file" "$V" 'studentFavoriteColors'

jq '. + {"studentFavoriteColors": [{"favoriteColor": "blue"}]}' "$TMP/district.json" >"$TMP/unknown-one.json"
hostile "an unknown resource in the one-file form" "$TMP/unknown-one.json" 'studentFavoriteColors'

# -- wrong types, one of each kind of field --

variant
edit students.json '.[0].studentUniqueId = 604000001'
hostile "studentUniqueId a number" "$V" 'students\.json' 'studentUniqueId' '604000001'

variant
edit students.json '.[1].birthDate = "2010-02-30"'
hostile "birthDate not a date (2010-02-30)" "$V" 'students\.json' 'birthDate' '2010-02-30'

variant
edit students.json '.[1].birthDate = "last spring"'
hostile "birthDate not a date (last spring)" "$V" 'students\.json' 'birthDate' 'last spring'

variant
edit students.json '.[0].birthDate = 20110417'
hostile "birthDate a number" "$V" 'students\.json' 'birthDate' '20110417'

variant
edit students.json '.[0].firstName = ["Amara"]'
hostile "firstName an array" "$V" 'students\.json' 'firstName'

variant
edit studentSchoolAssociations.json '.[1].entryGradeLevelDescriptor = 10'
hostile "a descriptor a number (entryGradeLevelDescriptor)" "$V" 'studentSchoolAssociations\.json' 'entryGradeLevelDescriptor' '10'

variant
edit studentContactAssociations.json '.[0].relationDescriptor = {"codeValue": "Mother"}'
hostile "a descriptor an object (relationDescriptor)" "$V" 'studentContactAssociations\.json' 'relationDescriptor'

variant
edit studentSchoolAssociations.json '.[0].studentReference = "604000001"'
hostile "a reference a string (studentReference)" "$V" 'studentSchoolAssociations\.json' 'studentReference'

variant
edit studentSchoolAssociations.json '.[0].schoolReference.schoolId = "MRHS"'
hostile "a reference's identity of the wrong type (schoolId a string)" "$V" 'studentSchoolAssociations\.json' 'schoolId' 'MRHS'

variant
edit contacts.json '.[0].telephones = {"telephoneNumber": "(512) 555-0101"}'
hostile "a collection an object (contacts' telephones)" "$V" 'contacts\.json' 'telephones'

variant
edit courseTranscripts.json '.[0].earnedCredits = "half"'
hostile "a number a string (earnedCredits)" "$V" 'courseTranscripts\.json' 'earnedCredits' 'half'

variant
edit reportCards.json '.[0].numberOfDaysAbsent = "none"'
hostile "a report card's days a string (numberOfDaysAbsent)" "$V" 'reportCards\.json' 'numberOfDaysAbsent' 'none'

variant
edit reportCards.json 'del(.[0].gradingPeriodReference.schoolYear)'
hostile "a report card of no school year" "$V" 'reportCards\.json' 'gradingPeriodReference\.schoolYear'

variant
edit studentContactAssociations.json '.[0].livesWith = "yes"'
hostile "a boolean a string (livesWith)" "$V" 'studentContactAssociations\.json' 'livesWith' 'yes'

variant
edit studentSchoolAssociations.json '.[0].entryDate = null'
hostile "a required date null (entryDate)" "$V" 'studentSchoolAssociations\.json' 'entryDate'

variant
jq -c . "$D/courseTranscripts.json" | sed 's/"attemptedCredits":0.5/"attemptedCredits":1e400/' >"$V/courseTranscripts.json"
check "the test's huge number is in the file" grep -q '1e400' "$V/courseTranscripts.json"
hostile "a number too large for a double (1e400)" "$V" 'courseTranscripts\.json' 'attemptedCredits|1e400'

# -- bytes --

variant
jq -c . "$D/students.json" | sed 's/"firstName":"Amara"/"firstName":"Amara","firstName":"Zoe"/' >"$V/students.json"
check "the test's duplicate key is in the file" grep -q '"firstName":"Zoe"' "$V/students.json"
hostile "a duplicate key (firstName twice)" "$V" 'students\.json' 'firstName'

variant
jq -c . "$D/students.json" | sed "s/\"Amara\"/\"Am$(printf '\377')ra\"/" >"$V/students.json"
check "the test's invalid UTF-8 byte is in the file" grep -q "$(printf '\377')" "$V/students.json"
hostile "invalid UTF-8 in a name" "$V" 'students\.json'

variant
jq -c . "$D/students.json" | sed 's/"Amara"/"Am\\ud800ra"/' >"$V/students.json"
hostile "a lone surrogate escape (\\ud800) in a name" "$V" 'students\.json'

variant
jq -c . "$D/students.json" | sed 's/"Amara"/"Am\\u0000ra"/' >"$V/students.json"
hostile "a NUL character (\\u0000) in a name" "$V" 'students\.json' 'firstName|\\u0000'

# Cut in the middle (the whole district is only a few KB).
head -c "$(($(wc -c <"$TMP/district.json") / 2))" "$TMP/district.json" >"$TMP/cut-one.json"
hostile "a truncated one-file district" "$TMP/cut-one.json" 'cut-one\.json'

check "after all that, the district imports" "$BATON" student import --format edfi-json "$D" --dir "$N"
check "and both students are on file" test "$("$BATON" student list --dir "$N" 2>/dev/null | wc -l)" -eq 2
check_out 'chain (unbroken|intact)' "and the audit log verifies" "$BATON" audit verify --dir "$N"

done_testing
