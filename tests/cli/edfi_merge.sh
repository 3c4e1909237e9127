#!/usr/bin/env bash
# An Ed-Fi import with --merge: a district's later extract that has only some
# resources of a student on file keeps the sections it lacks; without
# --merge the record is replaced whole; a different child is still held.
. "$(dirname "$0")/lib.sh"

DIST=$BATON_SRC/tests/data/edfi-json/district3-ds5.json
export TMPDIR=$TMP/scratch
mkdir -p "$TMPDIR"
N=$TMP/node
"$BATON" init --name "Merge School" --code MRG --dir "$N" --no-passphrase >/dev/null 2>&1
check_out '^Imported 3 students' "the district is imported" \
	"$BATON" student import --format edfi-json "$DIST" --dir "$N"
sections() { "$BATON" student show 604100001 --json --dir "$N" | jq -c '.record | keys'; }
before=$(sections)

# A later extract: only the students resource of 604100001.
jq '{students: [.students[] | select(.studentUniqueId == "604100001")]}' "$DIST" >"$TMP/only.json"
check_out '^1 merged by section with the record on file$' "a merge says it merged" \
	"$BATON" student import --format edfi-json "$TMP/only.json" --merge --dir "$N"
after=$(sections)
if [ "$after" = "$before" ] && [ "$("$BATON" student show 604100001 --json --dir "$N" | jq .version)" = 2 ]; then
	pass "a new version that keeps every section the extract lacks"
else
	fail "a new version that keeps every section the extract lacks" "before $before" "after $after"
fi
check_out '"detail": "version 2, merged by section' "the audit entry says it was merged" \
	"$BATON" audit --json --student 604100001 --dir "$N"

# Without --merge the extract is the whole record.
check "without --merge, the extract is imported" \
	"$BATON" student import --format edfi-json "$TMP/only.json" --dir "$N"
check_out '^\["identity","student_id"\]$' "and the record is what the extract holds" sections

# Another child under that id (another birth date) is held, merge or not.
jq '.students[0].birthDate = "2001-01-01"' "$TMP/only.json" >"$TMP/other.json"
check_out 'held for review' "another child is held for review under --merge" \
	"$BATON" student import --format edfi-json "$TMP/other.json" --merge --dir "$N"
check_out '^\["identity","student_id"\]$' "and the record on file is unchanged" sections

done_testing
