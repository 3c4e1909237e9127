#!/usr/bin/env bash
# A district's --descriptor-map that is not a small text file of lines is
# refused at once, named, and leaves nothing behind: a FIFO (no hang), a
# link to /dev/zero (no endless read), a directory, a file with a NUL byte
# (its line named), a file far larger than any map (bounded time and
# memory); for the import (nothing stored, no audit entry, no scratch
# store) and the export (no directory left). A good map still works.
. "$(dirname "$0")/lib.sh"

N=$TMP/node
D=$TMP/district
MEM_MAX_KB=$((200 * 1024))
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

check "init" "$BATON" init --name "Maple Ridge High School" --code MRHS-001 --dir "$N" --no-passphrase
"$BATON" audit --json --dir "$N" >"$TMP/audit.before" 2>&1

mkfifo "$TMP/fifo.map"
ln -s /dev/zero "$TMP/zero.map"
mkdir "$TMP/dir.map"
printf 'grade_level\t09\turi://ed-fi.org/GradeLevelDescriptor#Ninth grade\000junk\n' >"$TMP/nul.map"
# 64 MB of well-formed lines: no district's map is near that.
awk 'BEGIN { for (i = 0; i < 1000000; i++) printf "grade_level\t09\turi://example.org/GradeLevelDescriptor#G%07d-padding-padding\n", i }' >"$TMP/huge.map"

# refused DESCRIPTION MAP REGEX CMD...: CMD with --descriptor-map MAP fails within
# 30 s, in bounded memory, with stderr naming MAP and matching REGEX.
refused() {
	local desc=$1 map=$2 re=$3
	shift 3
	run /usr/bin/time -f '%M' -o "$TMP/rss" timeout 30 "$@" --descriptor-map "$map"
	if [ "$RC" -ne 0 ] && [ "$RC" -ne 124 ] && grep -qF -- "$map" "$ERR" && grep -Eq -- "$re" "$ERR" &&
		[ "$(tail -n 1 "$TMP/rss")" -lt "$MEM_MAX_KB" ]; then
		pass "$desc"
	else
		fail_run "$desc" "expected a prompt failure naming $map and matching: $re" \
			"peak RSS KB: $(tail -n 1 "$TMP/rss" 2>/dev/null)"
	fi
}

for m in fifo zero dir nul huge; do
	case $m in
	fifo | zero | dir) re='not a regular file' ;;
	nul) re='line 1' ;;
	huge) re='bytes|too (big|large)' ;;
	esac
	refused "import: a $m map is refused" "$TMP/$m.map" "$re" \
		"$BATON" student import --format edfi-json "$D" --dir "$N"
	check "import: after the $m map, no student is on file" test -z "$("$BATON" student list --json --dir "$N" 2>/dev/null | jq -r '.[]? | .student_id? // empty')"
	"$BATON" audit --json --dir "$N" >"$TMP/audit.now" 2>&1
	same "$TMP/audit.before" "$TMP/audit.now" "import: after the $m map, the audit log is as before"
	check "import: after the $m map, nothing is left in the scratch directory" test -z "$(ls -A "$TMPDIR")"
done

check "a good map imports" "$BATON" student import --format edfi-json "$D" --dir "$N" \
	--descriptor-map "$BATON_SRC/node/edfi_descriptors.map"
check "the student is on file" test "$("$BATON" student list --dir "$N" 2>/dev/null | wc -l)" -eq 1

for m in fifo zero dir nul huge; do
	refused "export: a $m map is refused" "$TMP/$m.map" '.' \
		"$BATON" student export 604000001 --format edfi-json --out "$TMP/out-$m" --dir "$N"
	check "export: after the $m map, no directory is left" test ! -e "$TMP/out-$m"
done
done_testing
