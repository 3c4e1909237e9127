#!/usr/bin/env bash
# baton student show and baton review show with a record of schema version 2
# (tests/data/v2-student.json, every section): custody restrictions come
# first, in lines that stand out; the new sections are shown in words; and
# allergies and conditions "not recorded" are told apart from "none known".
. "$(dirname "$0")/lib.sh"

N=$TMP/node
DATA=$BATON_SRC/tests/data
check "init" "$BATON" init --name "Lincoln High School" --code LHS-001 --dir "$N" --no-passphrase
check_out '1 new students' "the student with every section imports" \
	"$BATON" student import "$DATA/v2-student.json" --dir "$N"
check "student show S-2001" "$BATON" student show S-2001 --dir "$N"
cp "$OUT" "$TMP/show.txt"
# has REGEX DESCRIPTION: the show output has a line matching REGEX.
has() {
	if grep -Eq -- "$1" "$TMP/show.txt"; then pass "$2"; else fail "$2" "no line matches: $1" "$(cat "$TMP/show.txt")"; fi
}
first=$(sed -n 1p "$TMP/show.txt")
case $first in
'!! CUSTODY RESTRICTIONS (2):'*) pass "the first line is the custody heading, with the count" ;;
*) fail "the first line is the custody heading, with the count" "first line: $first" ;;
esac
if [ "$(sed -n 2p "$TMP/show.txt")" = '!! CUSTODY: May not pick up the student: Carlos Ruiz (father; court order Sangamon County Circuit Court 2025-FL-0118; since 2025-06-30)' ] &&
	[ "$(sed -n 3p "$TMP/show.txt")" = '!! CUSTODY: No contact with the student at school: Dale Perkins' ]; then
	pass "each restriction follows on its own line: what, who, relation, court order, since"
else
	fail "each restriction follows on its own line: what, who, relation, court order, since" "$(head -n 4 "$TMP/show.txt")"
fi
if [ "$(sed -n 4p "$TMP/show.txt" | cut -c1-30)" = 'S-2001  Mateo Ruiz Jr. ("Teo")' ]; then
	pass "then the student, with the name suffix"
else
	fail "then the student, with the name suffix" "$(sed -n 4p "$TMP/show.txt")"
fi
has '^  health: allergies: Peanuts \(anaphylaxis: epinephrine auto-injector\); conditions: none known; 4 immunizations, 2 with an exemption$' \
	"health: the allergy, conditions none known, exemptions counted"
has '^  graduation: credits earned 2; credits attempted 1; GPA weighted 3\.85; GPA unweighted 3\.7; plan Recommended; expected to graduate 2029$' \
	"graduation progress in words"
has '^    diploma: Middle school certificate, 2025-06-06 \(level Standard; Completion of grade 8\)$' "the diploma"
has '^  section 504: eligible \(disability Attention deficit hyperactivity disorder; plan 2025-09-10; from 2025-09-10; to 2026-06-05; accommodations Preferential seating, Breaks during tests\)$' \
	"the Section 504 plan"
has '^  english learner: Limited \(home language Spanish\)$' "English learner status"
has '^    program: Content-based ESL, from 2025-08-20$' "a language program"
has '^  homeless \(McKinney-Vento\): since 2025-11-01 \(nighttime residence Doubled-up; unaccompanied youth no\)$' \
	"homeless status"

# Allergies and conditions left out: "not recorded", never "none". The
# files below name the fixture's attachment beside them.
mkdir -p "$TMP/files"
cp "$DATA/files/S-1006-iep.pdf" "$TMP/files/"
jq '.[0] | del(.health.allergies, .health.conditions) | .custody = []' "$DATA/v2-student.json" >"$TMP/v2.json"
check_out '1 new versions' "a version without allergies and conditions, and no custody restriction known" \
	"$BATON" student import "$TMP/v2.json" --dir "$N"
check "student show S-2001 again" "$BATON" student show S-2001 --dir "$N"
cp "$OUT" "$TMP/show.txt"
has '^  health: allergies: not recorded; conditions: not recorded; ' "absent lists read \"not recorded\""
has '^  custody: no restriction known$' "an empty custody list reads \"no restriction known\""
if ! grep -q 'CUSTODY' "$TMP/show.txt" && sed -n 1p "$TMP/show.txt" | grep -q '^S-2001 '; then
	pass "with no restriction, no alert: the student comes first"
else
	fail "with no restriction, no alert: the student comes first" "$(head -n 3 "$TMP/show.txt")"
fi
check_out '"custody": \[\]' "show --json has the record as it is" "$BATON" student show S-2001 --json --dir "$N"

# A record held for review shows its custody restrictions first too.
jq '.[0] | .identity.birth_date = "2010-03-15"' "$DATA/v2-student.json" >"$TMP/other.json"
check_out '1 held for review' "another child under S-2001 is held" \
	"$BATON" student import "$TMP/other.json" --dir "$N"
check "review show 1" "$BATON" review show 1 --dir "$N"
if sed -n 1p "$OUT" | grep -q '^!! CUSTODY RESTRICTIONS (2):' &&
	sed -n 2p "$OUT" | grep -q '^!! CUSTODY: May not pick up the student: Carlos Ruiz' &&
	sed -n 4p "$OUT" | grep -q '^Held record 1, naming student S-2001'; then
	pass "review show puts the held record's custody restrictions first"
else
	fail "review show puts the held record's custody restrictions first" "$(head -n 5 "$OUT")"
fi

done_testing
