#!/usr/bin/env bash
# baton student import --merge (proto/RECORD.md, "Importing with --merge"):
# for the same child, each top-level section in the file replaces that
# section and the sections the file lacks are kept, attachments following
# their sections; another child is held for review as the file has it; a
# dry run says the same and stores nothing; no other student changes.
. "$(dirname "$0")/lib.sh"

N=$TMP/node
DATA=$BATON_SRC/tests/data
check "init" "$BATON" init --name "Lincoln High School" --code LHS-001 --dir "$N" --no-passphrase
check_out '1 new students' "the student with every section imports" \
	"$BATON" student import "$DATA/v2-student.json" --dir "$N"
jq '[.[] | select(has("attachments") | not)][:20]' "$DATA/school.json" >"$TMP/others.json"
check_out '20 new students' "twenty students of the sample school import beside it" \
	"$BATON" student import "$TMP/others.json" --dir "$N"

# snapshot NAME: the store as the CLI shows it: every student's current record, and the audit log.
snapshot() {
	"$BATON" student list --json --dir "$N" >"$TMP/$1.list"
	jq -r '.[].student_id' "$TMP/$1.list" | while read -r id; do
		"$BATON" student show "$id" --json --dir "$N" | jq -c '{id: .record.student_id, version, record}'
	done >"$TMP/$1.records"
	"$BATON" audit --json --dir "$N" >"$TMP/$1.audit"
	"$BATON" review list --json --dir "$N" >"$TMP/$1.review"
}
record() { # record ID: the current record of ID, as JSON
	"$BATON" student show "$1" --json --dir "$N" | jq -S '.record'
}
# is JQ DESCRIPTION FILE: passes when the jq expression JQ is true of FILE.
is() {
	if jq -e "$1" "$3" >/dev/null 2>&1; then pass "$2"; else fail "$2" "jq: $1" "$(head -c 600 "$3")"; fi
}

record S-2001 >"$TMP/v1.json"
is '.custody | length == 2' "version 1 has its custody rows" "$TMP/v1.json"

# A file with only this term's transcript and health for S-2001 (same child),
# its health without allergies (not recorded).
jq '.[0] | {student_id, identity, transcript: [.transcript[2] | .grade = "A-" | .as_of = "2026-02-01"],
	health: (.health | del(.allergies))}' "$DATA/v2-student.json" >"$TMP/part.json"

snapshot before
check_out 'Would import 1 records .*0 new students, 1 new versions, 0 unchanged' \
	"a dry run of the merge says it gives a new version" \
	"$BATON" student import --merge --dry-run "$TMP/part.json" --dir "$N"
if grep -q '^1 merged by section' "$OUT" && grep -q 'Nothing was imported' "$OUT"; then
	pass "the dry run says the record would be merged, and that nothing was imported"
else
	fail_run "the dry run says the record would be merged, and that nothing was imported"
fi
check "the dry run as JSON" "$BATON" student import --merge --dry-run --json "$TMP/part.json" --dir "$N"
is '.dry_run == true and .imported == false and .merged == 1 and .students[0].result == "new_version"
	and .students[0].version == 2 and .students[0].merged == true' \
	"the dry run's JSON: version 2, merged, not imported" "$OUT"
snapshot dry
same "$TMP/before.records" "$TMP/dry.records" "the dry run changed no record"
same "$TMP/before.audit" "$TMP/dry.audit" "the dry run wrote no audit entry"

check "the merge" "$BATON" student import --merge --json "$TMP/part.json" --dir "$N"
is '.imported == true and .new_versions == 1 and .merged == 1 and .students[0].merged == true
	and .students[0].version == 2' "the merge's JSON: version 2, merged" "$OUT"
record S-2001 >"$TMP/v2.json"
is '.transcript | length == 1 and .[0].grade == "A-" and .[0].as_of == "2026-02-01"' \
	"the file's transcript replaced the transcript on file" "$TMP/v2.json"
is '(.health | has("allergies") | not) and .health.conditions == []' \
	"the file's health replaced health: allergies now not recorded" "$TMP/v2.json"
jq -S 'del(.transcript, .health)' "$TMP/v1.json" >"$TMP/v1.kept"
jq -S 'del(.transcript, .health)' "$TMP/v2.json" >"$TMP/v2.kept"
same "$TMP/v1.kept" "$TMP/v2.kept" \
	"every section the file lacks is kept as it was (custody, graduation, 504, attachments, ...)"
is '.attachments | length == 1 and .[0].section == "special_education"' \
	"the attachment of a kept section is kept" "$TMP/v2.json"
snapshot after
diff <(grep -v '"S-2001"' "$TMP/before.records") <(grep -v '"S-2001"' "$TMP/after.records") >"$TMP/others.diff"
if [ -s "$TMP/before.records" ] && [ ! -s "$TMP/others.diff" ] &&
	[ "$(grep -c . "$TMP/after.records")" -eq 21 ]; then
	pass "no other student changed"
else
	fail "no other student changed" "$(head -n 8 "$TMP/others.diff")"
fi
is '[.[] | select(.action == "import")] | last | .student == "S-2001"
	and .detail == "version 2, merged by section with the record on file"' \
	"the audit entry says the version was merged" "$TMP/after.audit"
if [ "$(jq length "$TMP/after.audit")" -eq $(($(jq length "$TMP/before.audit") + 1)) ]; then
	pass "the merge wrote exactly one audit entry"
else
	fail "the merge wrote exactly one audit entry"
fi

check_out '0 new versions, 1 unchanged' "the same merge again changes nothing" \
	"$BATON" student import --merge "$TMP/part.json" --dir "$N"
snapshot again
same "$TMP/after.audit" "$TMP/again.audit" "an unchanged merge writes no audit entry"

# Attachments follow their sections: a file replacing special_education
# drops the attachment on file for it, and brings its own.
mkdir -p "$TMP/in/files"
printf '%%PDF-1.4 new plan\n' >"$TMP/in/files/plan.pdf"
jq '.[0] | {student_id, identity, special_education: {iep: true, services: []},
	attachments: [{name: "new-plan.pdf", media_type: "application/pdf",
	section: "special_education", path: "files/plan.pdf"}]}' "$DATA/v2-student.json" >"$TMP/in/sped.json"
check_out '1 new versions' "a merge that replaces special_education" \
	"$BATON" student import --merge "$TMP/in/sped.json" --dir "$N"
record S-2001 >"$TMP/v3.json"
is '[.attachments[].name] == ["new-plan.pdf"] and .special_education.services == []
	and (.custody | length == 2) and .transcript[0].grade == "A-"' \
	"the replaced section's attachment went with it; the file's came; the rest stayed" "$TMP/v3.json"

# A new attachment may not take the name of one a kept section holds.
jq '.[0] | {student_id, identity, transcript: .transcript,
	attachments: [{name: "new-plan.pdf", media_type: "application/pdf",
	section: "transcript", path: "files/plan.pdf"}]}' "$DATA/v2-student.json" >"$TMP/in/clash.json"
snapshot pre_clash
check_err 2 'record 1 \(S-2001\): attachments\[0\]\.name: "new-plan.pdf" is on file for the special_education section' \
	"a file attachment named like a kept one is refused" \
	"$BATON" student import --merge "$TMP/in/clash.json" --dir "$N"
snapshot post_clash
same "$TMP/pre_clash.records" "$TMP/post_clash.records" "the refused merge changed no record"
same "$TMP/pre_clash.audit" "$TMP/post_clash.audit" "the refused merge wrote no audit entry"

# An identity change goes to review, as the file has it: never merged.
jq '.identity.birth_date = "2010-03-15"' "$TMP/part.json" >"$TMP/other.json"
check_out 'would be held for review' "a dry run says another child would be held" \
	"$BATON" student import --merge --dry-run "$TMP/other.json" --dir "$N"
snapshot pre_other
same "$TMP/pre_clash.audit" "$TMP/pre_other.audit" "the dry run of another child stored nothing"
same "$TMP/pre_clash.review" "$TMP/pre_other.review" "the dry run held nothing"
check_out '1 held for review' "another child under S-2001 is held for review" \
	"$BATON" student import --merge "$TMP/other.json" --dir "$N"
record S-2001 >"$TMP/v3b.json"
same "$TMP/v3.json" "$TMP/v3b.json" "the record on file is unchanged by the held record"
check "review show of the held record" "$BATON" review show 1 --json --dir "$N"
is 'tostring | test("2010-03-15")' "the held record carries the changed birth date" "$OUT"

# A student not on file is added as the file has it, merge or not.
jq '.student_id = "S-2999" | .identity.given_name = "Rosa"' "$TMP/part.json" >"$TMP/new.json"
check_out '1 new students' "--merge adds a student not on file" \
	"$BATON" student import --merge "$TMP/new.json" --dir "$N"
record S-2999 >"$TMP/new-on-file.json"
is 'keys == ["health", "identity", "student_id", "transcript"]' \
	"the new student has the file's sections only" "$TMP/new-on-file.json"

# Without --merge, the file is the whole new version (as before).
check_out '1 new versions' "the same file without --merge" \
	"$BATON" student import "$TMP/part.json" --dir "$N"
record S-2001 >"$TMP/v4.json"
is '(has("custody") | not) and (has("graduation") | not) and (has("attachments") | not)' \
	"without --merge the sections the file lacks are gone from the new version" "$TMP/v4.json"

check_exit 1 "an unknown option is a usage error" "$BATON" student import --merj "$TMP/part.json" --dir "$N"

done_testing
