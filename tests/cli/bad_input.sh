#!/usr/bin/env bash
# Bad input to baton student import, and bad command lines. Each bad file
# holds good records and one bad one, so every case also checks that an
# import is all or nothing: exit code 2, one line on stderr naming the
# record's index, its student_id and the field, and afterwards the student
# list and the audit log exactly as before.
. "$(dirname "$0")/lib.sh"

N=$TMP/node
IN=$TMP/in
mkdir "$IN" "$IN/files"
printf '%%PDF-1.4\n%% a test attachment\n' >"$IN/files/ok.pdf"

# rec ID GIVEN BIRTH [MORE]: one record on one line; MORE is text added after
# the identity object (", \"key\": value ...").
rec() {
	printf '{"student_id": "%s", "identity": {"given_name": "%s", "family_name": "Okafor", "birth_date": "%s"}%s}' \
		"$1" "$2" "$3" "${4:-}"
}
# course ATTEMPTED EARNED: a transcript with one course.
course() {
	printf ', "transcript": [{"school_year": "2025-2026", "term": "S1", "course_code": "MATH101", "course_title": "Algebra I", "grade": "A-", "credits_attempted": %s, "credits_earned": %s}]' \
		"$1" "$2"
}
# attach SECTION PATH: one attachment.
attach() {
	printf ', "attachments": [{"name": "report.pdf", "media_type": "application/pdf", "section": "%s", "path": "%s"}]' \
		"$1" "$2"
}
# array NAME RECORD...: a JSON array, one record a line ("[" on line 1).
array() {
	local f=$IN/$1 first=1
	shift
	{
		echo '['
		for r in "$@"; do
			[ $first = 1 ] || echo ','
			first=0
			printf '%s' "$r"
		done
		printf '\n]\n'
	} >"$f"
}
# Good records: a new version of S-1 (a changed course), and a new
# student with a course and an attachment. If an import were not all or
# nothing, either would show in the student list.
G0=$(rec S-1 Amy 2011-04-17 "$(course 1.0 0.5)")
G1=$(rec S-10 Chidi 2010-09-30 "$(course 1.0 0.5)$(attach transcript files/ok.pdf)")

snapshot() { # NAME: the student list and audit log now
	"$BATON" student list --json --dir "$N" >"$TMP/$1.list" 2>&1
	"$BATON" audit --json --dir "$N" >"$TMP/$1.audit" 2>&1
}
# unchanged DESCRIPTION: the student list and audit log are as before.
unchanged() {
	snapshot after
	if cmp -s "$TMP/before.list" "$TMP/after.list" && cmp -s "$TMP/before.audit" "$TMP/after.audit"; then
		pass "$1: the store is unchanged"
	else
		fail "$1: the store is unchanged" \
			"students before $(count '"student_id"' "$TMP/before.list"), after $(count '"student_id"' "$TMP/after.list")" \
			"audit entries before $(count '"seq"' "$TMP/before.audit"), after $(count '"seq"' "$TMP/after.audit")" \
			"$(diff "$TMP/before.list" "$TMP/after.list" | head -n 6)"
	fi
}
# bad FILE REGEX DESCRIPTION: importing FILE is refused (exit 2, one line
# matching REGEX) and changes nothing.
bad() {
	check_err 2 "$2" "$3" "$BATON" student import "$IN/$1" --dir "$N"
	unchanged "$3"
}

# ---- a node with three students ----

check "init" "$BATON" init --name "Lincoln High School" --code LHS-001 --dir "$N" --no-passphrase
array base.json "$(rec S-1 Amy 2011-04-17 "$(course 1.0 1.0)")" \
	"$(rec S-2 Bola 2012-01-05)" "$(rec S-3 Dayo 2010-12-31 "$(course 0.5 0.5)")"
check_out '3 new students' "import three good records" "$BATON" student import "$IN/base.json" --dir "$N"
array good.json "$G0" "$G1"
check "the good records alone would import (on a copy of the node)" \
	sh -c 'cp -R "$1" "$2" && "$3" student import "$4" --dir "$2"' sh "$N" "$TMP/copy" "$BATON" "$IN/good.json"
snapshot before
check "the node has 3 students" test "$(count '"student_id"' "$TMP/before.list")" -eq 3

# ---- bad files ----

# Malformed JSON: a missing comma in record 2, on line 3.
array malformed.json "$G0" '{"student_id": "S-11" "identity": {"given_name": "Ife", "family_name": "Okafor", "birth_date": "2011-01-01"}}' "$G1"
bad malformed.json 'malformed\.json: record 2 \(S-11\): line 3' "malformed JSON (a missing comma)"

array unknown-top.json "$G0" "$G1" "$(rec S-11 Ife 2011-01-01 ', "nickname": "Ifey"')"
bad unknown-top.json 'record 3 \(S-11\): nickname: unknown field' "an unknown field at the top level"

array unknown-nested.json "$G0" \
	'{"student_id": "S-11", "identity": {"given_name": "Ife", "family_name": "Okafor", "birth_date": "2011-01-01", "eye_color": "brown"}}' "$G1"
bad unknown-nested.json 'record 2 \(S-11\): identity\.eye_color: unknown field' "an unknown field in identity"

array unknown-deep.json "$G0" "$G1" \
	"$(rec S-11 Ife 2011-01-01 ', "transcript": [{"school_year": "2025-2026", "term": "S1", "course_code": "ART1", "course_title": "Art", "grade": "B", "credits_attempted": 1, "credits_earned": 1, "teacher": "Mr Obi"}]')"
bad unknown-deep.json 'record 3 \(S-11\): transcript\[0\]\.teacher: unknown field' "an unknown field in a transcript course"

array wrong-type.json "$G0" "$G1" "$(rec S-11 Ife 2011-01-01 "$(course 1.0 '"1.0"')")"
bad wrong-type.json 'record 3 \(S-11\): transcript\[0\]\.credits_earned: .*number' "a string where a number belongs"

array wrong-type-obj.json "$G0" '{"student_id": "S-11", "identity": ["Ife", "Okafor"]}' "$G1"
bad wrong-type-obj.json 'record 2 \(S-11\): identity: .*object' "an array where an object belongs"

array null.json "$G0" "$G1" \
	'{"student_id": "S-11", "identity": {"given_name": "Ife", "middle_name": null, "family_name": "Okafor", "birth_date": "2011-01-01"}}'
bad null.json 'record 3 \(S-11\): identity\.middle_name' "null for an optional field"

array missing.json "$G0" '{"student_id": "S-11", "identity": {"given_name": "Ife", "family_name": "Okafor"}}' "$G1"
bad missing.json 'record 2 \(S-11\): identity\.birth_date: .*missing' "a missing required field (identity.birth_date)"

rec S-11 Ife 2011-01-01 ', "guardians": [{"name": "Ngozi Okafor"}]' >"$IN/single.json"
bad single.json 'record 1 \(S-11\): guardians\[0\]\.relation: .*missing' "a single object missing a field"

array duplicate.json "$G0" "$G1" "$(rec S-10 Chidi 2010-09-30)"
bad duplicate.json 'record 3 \(S-10\): student_id' "a student_id twice in one file"

array no-file.json "$G0" "$G1" "$(rec S-11 Ife 2011-01-01 "$(course 1 1)$(attach transcript files/nope.pdf)")"
bad no-file.json 'record 3 \(S-11\): attachments\[0\]\.path: .*nope\.pdf' "a missing attachment file"

array abs-path.json "$G0" "$G1" "$(rec S-11 Ife 2011-01-01 "$(course 1 1)$(attach transcript "$IN/files/ok.pdf")")"
bad abs-path.json 'record 3 \(S-11\): attachments\[0\]\.path: .*relative' "an absolute attachment path"

array no-section.json "$G0" "$G1" "$(rec S-11 Ife 2011-01-01 "$(course 1 1)$(attach health files/ok.pdf)")"
bad no-section.json 'record 3 \(S-11\): attachments\[0\]\.section: .*health' "an attachment for a section the record does not have"

array bad-date.json "$G0" "$(rec S-11 Ife 2023-02-30)" "$G1"
bad bad-date.json 'record 2 \(S-11\): identity\.birth_date: .*2023-02-30' "an invalid date (2023-02-30)"

array credits.json "$G0" "$G1" "$(rec S-11 Ife 2011-01-01 "$(course 1.0 1001)")"
bad credits.json 'record 3 \(S-11\): transcript\[0\]\.credits_earned: .*out of range' "credits_earned out of range"

array as-of.json "$G0" "$G1" "$(rec S-11 Ife 2011-01-01 ', "transcript": [{"school_year": "2025-2026", "term": "S1", "course_code": "M1", "course_title": "Algebra I", "grade": "A", "as_of": "2026-01-15", "credits_attempted": 1, "credits_earned": 0}]')"
bad as-of.json 'record 3 \(S-11\): transcript\[0\]\.as_of: only with status "in_progress"' "a final grade with an as_of date"

array utf8.json "$G0" "$(rec S-11 "$(printf 'If\377e')" 2011-01-01)" "$G1"
check "the non-UTF-8 file has the raw byte" grep -q "$(printf '\377')" "$IN/utf8.json"
bad utf8.json 'record 2 \(S-11\).*"given_name".*decode byte 0xff' "non-UTF-8 text in a name"

: >"$IN/empty.json"
bad empty.json 'empty\.json: .*empty' "an empty file"

printf ' \n\t\n  \n' >"$IN/blank.json"
bad blank.json 'blank\.json: .*empty' "a file of only whitespace"

printf '[]\n' >"$IN/none.json"
bad none.json 'none\.json: .*no student records' "an empty array"

printf '"S-11"\n' >"$IN/string.json"
bad string.json 'string\.json: .*student object' "a JSON string, not a record"

array trailing.json "$G0" "$G1"
printf 'x\n' >>"$IN/trailing.json"
bad trailing.json 'trailing\.json: line 5: text after' "text after the closing ]"

printf '[\n%s,\n%s\n' "$G0" "$G1" >"$IN/unclosed.json"
bad unclosed.json 'unclosed\.json: .*not closed' "an array that is not closed"

check_err 3 'nowhere\.json' "a file that does not exist (exit 3)" \
	"$BATON" student import "$IN/nowhere.json" --dir "$N"
unchanged "a file that does not exist"

check_out '1 new students, 1 new versions' "after all that, the good records import" \
	"$BATON" student import "$IN/good.json" --dir "$N"
check_out 'chain unbroken' "and the audit log verifies" "$BATON" audit verify --dir "$N"

# ---- bad command lines ----

check_err 2 'no student "NOPE"' "student show NOPE (exit 2)" "$BATON" student show NOPE --dir "$N"
check_exit 1 "an unknown command (exit 1)" "$BATON" enroll --dir "$N"
check "names it" grep -q 'unknown command "enroll"' "$ERR"
check_exit 1 "an unknown subcommand (exit 1)" "$BATON" student enroll --dir "$N"
check "names it" grep -q 'unknown command "student enroll"' "$ERR"
check_exit 1 "an unknown option (exit 1)" "$BATON" student list --verbose --dir "$N"
check_exit 1 "no command at all (exit 1)" "$BATON"
check_err 1 'one student ID expected' "student show without an ID (exit 1)" \
	"$BATON" student show --dir "$N"
check_err 1 'one FILE.json expected' "student import without a file (exit 1)" \
	"$BATON" student import --dir "$N"
check_err 1 'STUDENT_ID and PUBKEY expected' "guardian link without a key (exit 1)" \
	"$BATON" guardian link S-1 --dir "$N"
check_err 1 'one school CODE expected' "peer remove without a code (exit 1)" \
	"$BATON" peer remove --dir "$N"
check_exit 1 "init without --code (exit 1)" "$BATON" init --name X --dir "$TMP/x" --no-passphrase
check "and makes no node" test ! -e "$TMP/x"
check_err 1 '"extra"' "audit verify with an extra argument names it (exit 1)" \
	"$BATON" audit verify extra --dir "$N"
check_err 3 "run 'baton init'" "--dir pointing nowhere (exit 3)" \
	"$BATON" student list --dir "$TMP/nowhere"
check_err 3 "run 'baton init'" "BATON_DIR pointing nowhere (exit 3)" \
	env BATON_DIR="$TMP/nowhere" "$BATON" audit verify
check "and creates nothing there" test ! -e "$TMP/nowhere"

done_testing
