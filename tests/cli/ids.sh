#!/usr/bin/env bash
# Student ids and statewide ids: an id that could name a path is refused, a
# statewide id belongs to one student, and export never writes into a
# directory (or link) that was already there.
. "$(dirname "$0")/lib.sh"

N=$TMP/node
check "init" "$BATON" init --name "Lincoln High School" --code LHS-001 --dir "$N" --no-passphrase
rec() { # rec ID STATEID
	printf '{"student_id": "%s", "state_student_id": "%s", "identity": {"given_name": "Ife", "family_name": "Okafor", "birth_date": "2011-01-01"}}' "$1" "$2"
}
rec ../x ST-1 >"$TMP/dots.json"
check_err 2 'student_id: "\.\./x" may not contain' "an id with a path in it is refused" \
	"$BATON" student import "$TMP/dots.json" --dir "$N"
rec S-1 ST-1 >"$TMP/s1.json"
check "S-1 with statewide id ST-1" "$BATON" student import "$TMP/s1.json" --dir "$N"
rec S-2 ST-1 >"$TMP/s2.json"
check_err 2 'ST-1.*already belongs to student S-1' "a second student cannot take ST-1" \
	"$BATON" student import "$TMP/s2.json" --dir "$N"
rec S-1 ST-9 >"$TMP/s1b.json"
check "S-1's statewide id is corrected to ST-9" "$BATON" student import "$TMP/s1b.json" --dir "$N"
rec S-2 ST-1 >"$TMP/s2.json"
check "ST-1 is free again for another student" "$BATON" student import "$TMP/s2.json" --dir "$N"

printf '{"student_id": "S-7", "identity": {"given_name": "A", "family_name": "B", "birth_date": "2011-01-01"}, "enrollment": [{"school_name": "X", "school_code": "X", "entry_date": "2020-01-01", "grade_level": "14"}]}' >"$TMP/g.json"
check_err 2 'grade_level: "14" is not a grade level' "a grade level outside the list is refused" \
	"$BATON" student import "$TMP/g.json" --dir "$N"
printf '%%PDF-1.4 t\n' >"$TMP/t.pdf"
printf '{"student_id": "S-3", "identity": {"given_name": "A", "family_name": "B", "birth_date": "2011-01-01"}, "transcript": [], "attachments": [{"name": "t.pdf", "media_type": "application/pdf", "section": "transcript", "path": "t.pdf"}]}' >"$TMP/s3.json"
check "S-3 with an attachment" "$BATON" student import "$TMP/s3.json" --dir "$N"
printf '{"student_id": "S-8", "identity": {"given_name": "A", "family_name": "B", "birth_date": "2011-01-01"}, "transcript": [], "attachments": [{"name": "k.pdf", "media_type": "application/pdf", "section": "transcript", "path": "node/school.key"}]}' >"$TMP/steal.json"
check_err 2 'inside the node directory' "the node's own key cannot be imported as an attachment" \
	"$BATON" student import "$TMP/steal.json" --dir "$N"
mkdir -p "$TMP/out" "$TMP/elsewhere"
ln -s "$TMP/elsewhere" "$TMP/out/S-3-files"
check_err 3 'S-3-files: already exists' "export refuses a files directory that is already there (a link)" \
	"$BATON" student export S-3 --out "$TMP/out/S-3.json" --dir "$N"
check "nothing was written through the link" test -z "$(ls -A "$TMP/elsewhere")"
done_testing
