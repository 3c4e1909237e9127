#!/usr/bin/env bash
# 'baton student export --format edfi-json --out DIR' leaves nothing behind
# when it fails: a descriptor map it refuses leaves no directory, and a
# write that fails part way (a file size limit) removes the files it wrote
# and the directory it made; a file, a non-empty directory, a dangling
# link or a link to an empty directory as DIR is refused and left as it
# was; what it writes is 0600 in a 0700 directory.
. "$(dirname "$0")/lib.sh"

N=$TMP/node
D=$TMP/district
export TMPDIR=$TMP/scratch
mkdir -p "$TMPDIR" "$D"

put() { # NAME JSON: writes $D/NAME.json
	printf '%s\n' "$2" | jq . >"$D/$1.json" || fail "the test's own $1.json is JSON"
}
put schools '[{"schoolId": 482001001, "nameOfInstitution": "Maple Ridge High School"}]'
put students '[{"studentUniqueId": "604000001", "birthDate": "2011-04-17", "firstName": "Amara", "lastSurname": "Okafor"}]'
put studentSchoolAssociations '[{"entryDate": "2026-08-17", "schoolReference": {"schoolId": 482001001},
  "studentReference": {"studentUniqueId": "604000001"},
  "entryGradeLevelDescriptor": "uri://ed-fi.org/GradeLevelDescriptor#Ninth grade", "schoolYearTypeReference": {"schoolYear": 2027}}]'
# Enough transcript rows that courseTranscripts.json is far larger than students.json.
jq -n '[range(60) | {"courseAttemptResultDescriptor": "uri://ed-fi.org/CourseAttemptResultDescriptor#Pass",
  "courseReference": {"courseCode": "C\(.)", "educationOrganizationId": 482001001},
  "studentAcademicRecordReference": {"educationOrganizationId": 482001001, "schoolYear": 2026, "studentUniqueId": "604000001",
    "termDescriptor": "uri://ed-fi.org/TermDescriptor#Fall Semester"},
  "courseTitle": "Course number \(.)", "attemptedCredits": 0.5, "earnedCredits": 0.5, "finalLetterGradeEarned": "B"}]' \
	>"$D/courseTranscripts.json"

check "init" "$BATON" init --name "Maple Ridge High School" --code MRHS-001 --dir "$N" --no-passphrase
check "the student imports" "$BATON" student import --format edfi-json "$D" --dir "$N"

# -- a descriptor map it refuses --
printf 'not a map line\000\n' >"$TMP/bad.map"
check_exit 2 "a malformed descriptor map is refused" \
	"$BATON" student export 604000001 --format edfi-json --out "$TMP/x1" --descriptor-map "$TMP/bad.map" --dir "$N"
check "the error names the map file" grep -q 'bad.map' "$ERR"
check "and no export directory is left behind" test ! -e "$TMP/x1"
check_exit 3 "a missing descriptor map is refused" \
	"$BATON" student export 604000001 --format edfi-json --out "$TMP/x2" --descriptor-map "$TMP/no.map" --dir "$N"
check "and no export directory is left behind" test ! -e "$TMP/x2"

# -- a write that fails part way: a 1 KB file size limit (SIGXFSZ ignored, so EFBIG) --
run bash -c 'trap "" XFSZ; ulimit -f 1; exec "$@"' sh \
	"$BATON" student export 604000001 --format edfi-json --out "$TMP/x3" --dir "$N"
if [ "$RC" -eq 2 ] || [ "$RC" -eq 3 ]; then pass "an export that cannot write a file fails"; else fail_run "an export that cannot write a file fails"; fi
check "the error names the file" grep -q 'x3/.*\.json' "$ERR"
check "and nothing half-written is left: no directory" test ! -e "$TMP/x3"
mkdir "$TMP/x4"
run bash -c 'trap "" XFSZ; ulimit -f 1; exec "$@"' sh \
	"$BATON" student export 604000001 --format edfi-json --out "$TMP/x4" --dir "$N"
if [ "$RC" -ne 0 ]; then pass "into an empty directory it did not make, too, it fails"; else fail_run "into an empty directory it did not make, too, it fails"; fi
check "the directory it did not make stays, and is empty again" test -d "$TMP/x4" -a -z "$(ls -A "$TMP/x4")"

# -- what is there already is not touched --
printf 'mine\n' >"$TMP/afile"
check_exit 3 "a file as --out is refused" \
	"$BATON" student export 604000001 --format edfi-json --out "$TMP/afile" --dir "$N"
check "the error names it" grep -q 'afile' "$ERR"
check "and it is unchanged" test "$(cat "$TMP/afile")" = mine
mkdir "$TMP/full"
printf 'keep\n' >"$TMP/full/students.json"
check_exit 3 "a non-empty directory is refused" \
	"$BATON" student export 604000001 --format edfi-json --out "$TMP/full" --dir "$N"
check "and what is in it is unchanged" test "$(ls -A "$TMP/full")" = students.json -a "$(cat "$TMP/full/students.json")" = keep
ln -s "$TMP/nowhere" "$TMP/dangling"
run "$BATON" student export 604000001 --format edfi-json --out "$TMP/dangling" --dir "$N"
if [ "$RC" -ne 0 ]; then pass "a dangling link as --out is refused"; else fail_run "a dangling link as --out is refused"; fi
check "and nothing is made where it points" test ! -e "$TMP/nowhere"
mkdir "$TMP/elsewhere"
ln -s "$TMP/elsewhere" "$TMP/link"
check_exit 3 "a link to an empty directory as --out is refused" \
	"$BATON" student export 604000001 --format edfi-json --out "$TMP/link" --dir "$N"
check "the error says it is a link" grep -q 'link.*symbolic link' "$ERR"
check "and nothing is written where it points" test -z "$(ls -A "$TMP/elsewhere")"

# -- a good export --
check "the export writes" "$BATON" student export 604000001 --format edfi-json --out "$TMP/good" --dir "$N"
check "its directory is 0700" test "$(stat -c %a "$TMP/good")" = 700
check "it wrote students.json and courseTranscripts.json" test -s "$TMP/good/students.json" -a -s "$TMP/good/courseTranscripts.json"
check "every file it wrote is 0600" test -z "$(find "$TMP/good" -type f ! -perm 600)"
check "nothing is left in the scratch directory" test -z "$(ls -A "$TMPDIR")"
done_testing
