#!/usr/bin/env bash
# Revocations brought to the sending school by hand before it has seen the
# consent they withdraw: one from a key linked to no student here is refused
# and nothing of it is kept; every other one is judged when the consent
# arrives, however many there are and however their keys sort; and each is
# judged at the same instant as the other rules (BATON_NOW), not by the
# wall clock.
. "$(dirname "$0")/lib.sh"

DAY=86400
T0=$(date +%s)
export BATON_NOW=$T0

A=$TMP/lincoln   # the sending school: the node under test
B=$TMP/riverside # the receiving school

# keygen NAME: an unencrypted guardian key $TMP/NAME.key; prints its public key line.
keygen() {
	"$BATON" guardian keygen --out "$TMP/$1.key" --no-passphrase 2>/dev/null | grep -m1 '^baton-gk1-'
}

# A key line's base32 digits, mapped to characters that sort in the order of
# the key's bytes (the 'a'..'z','2'..'7' alphabet does not).
sort_form() {
	printf '%s\n' "${1#baton-gk1-}" | tr 'abcdefghijklmnopqrstuvwxyz234567' '0123456789ABCDEFGHIJKLMNOPQRSTUV'
}

grant() { # KEY STUDENT OUT [OPTION...]
	local key=$1 student=$2 out=$3
	shift 3
	"$BATON" consent grant --key "$key" --student "$student" --from "$TMP/lincoln.card" \
		--to "$TMP/riverside.card" --sections transcript --out "$out" --yes "$@"
}

revoke() { # NAME CONSENT OUT: NAME's revocation of CONSENT
	"$BATON" consent revoke --key "$TMP/$1.key" "$2" --out "$3"
}

audit_len() {
	"$BATON" audit --dir "$A" 2>/dev/null | wc -l
}

check "init the sending school" \
	"$BATON" init --name "Lincoln High School" --code LHS-001 --dir "$A" --no-passphrase
check "init the receiving school" \
	"$BATON" init --name "Riverside Academy" --code RAS-204 --dir "$B" --no-passphrase
check "card: Lincoln" "$BATON" card --dir "$A" --out "$TMP/lincoln.card"
check "card: Riverside" "$BATON" card --dir "$B" --out "$TMP/riverside.card"
check "Lincoln pins Riverside" "$BATON" peer add "$TMP/riverside.card" --dir "$A"

# S-1 is 10; S-2 is her cousin; S-3 turns 18 half a year from now.
Y=$(date -u -d "@$T0" +%Y)
D=$(date -u -d "@$((T0 + 182 * DAY))" +%Y-%m-%d)
S3_BD="$((${D%%-*} - 18))-${D#*-}"
cat >"$TMP/students.json" <<EOF
[
{"student_id": "S-1",
 "identity": {"given_name": "Mia", "family_name": "Okafor", "birth_date": "$((Y - 10))-06-15"},
 "enrollment": [{"school_name": "Lincoln High School", "school_code": "LHS-001",
                 "entry_date": "$((Y - 1))-08-20", "grade_level": "05"}]},
{"student_id": "S-2",
 "identity": {"given_name": "Ben", "family_name": "Okafor", "birth_date": "$((Y - 9))-02-11"},
 "enrollment": [{"school_name": "Lincoln High School", "school_code": "LHS-001",
                 "entry_date": "$((Y - 1))-08-20", "grade_level": "04"}]},
{"student_id": "S-3",
 "identity": {"given_name": "Leo", "family_name": "Brandt", "birth_date": "$S3_BD"},
 "enrollment": [{"school_name": "Lincoln High School", "school_code": "LHS-001",
                 "entry_date": "$((Y - 1))-08-20", "grade_level": "12"}]}
]
EOF
check_out '3 new students' "Lincoln imports three students" \
	"$BATON" student import "$TMP/students.json" --dir "$A"

# Twenty keys, ordered by their bytes: the mother holds the one that sorts
# last, so that every other key's revocation is walked before hers.
: >"$TMP/keys"
for i in $(seq 1 20); do
	line=$(keygen "k$i")
	printf '%s %s %s\n' "$(sort_form "$line")" "k$i" "$line" >>"$TMP/keys"
done
check "twenty guardian keys" test "$(wc -l <"$TMP/keys")" -eq 20
LC_ALL=C sort "$TMP/keys" >"$TMP/keys.sorted"
mapfile -t NAMES < <(cut -d' ' -f2 "$TMP/keys.sorted")
mapfile -t LINES < <(cut -d' ' -f3 "$TMP/keys.sorted")
MOTHER=${NAMES[19]}
check "link the mother to S-1" "$BATON" guardian link S-1 "${LINES[19]}" --relation mother --dir "$A"

# ---- 1. throwaway keys, linked to no student: refused, nothing kept ----

check_out '^Signed' "the mother consents for S-1" grant "$TMP/$MOTHER.key" S-1 "$TMP/c1.bcs"
LEN0=$(audit_len)
bad=""
for i in $(seq 0 8); do
	revoke "${NAMES[$i]}" "$TMP/c1.bcs" "$TMP/junk$i.brv" >/dev/null 2>&1 || bad="$bad sign:$i"
	run "$BATON" consent import "$TMP/junk$i.brv" --dir "$A"
	{ [ "$RC" -eq 2 ] && [ "$(wc -l <"$ERR")" -eq 1 ] &&
		grep -q 'not linked to any student at this school' "$ERR"; } || bad="$bad import:$i:exit$RC"
done
if [ -z "$bad" ]; then
	pass "nine revocations from keys linked to no student, sorting before the mother's, are refused (exit 2, one line)"
else
	fail "nine revocations from unlinked keys are refused (exit 2, one line)" "wrong:$bad" "$(cat "$ERR")"
fi
check "and none of them reached the audit log" test "$(audit_len)" -eq "$LEN0"
check "the mother revokes it" revoke "$MOTHER" "$TMP/c1.bcs" "$TMP/mother1.brv"
check_out '^Recorded the revocation' "her revocation is kept until the school sees the consent" \
	"$BATON" consent import "$TMP/mother1.brv" --dir "$A"
check_err 2 'release refused \(EREVOKED\)' "the consent is refused: the family's revocation counts" \
	"$BATON" consent check "$TMP/c1.bcs" --to RAS-204 --dir "$A"

# ---- 2. keys with standing here (S-2's aunts), none for S-1: every one judged ----

bad=""
for i in $(seq 9 18); do
	"$BATON" guardian link S-2 "${LINES[$i]}" --relation aunt --dir "$A" >/dev/null 2>&1 ||
		bad="$bad link:$i"
done
check "ten keys sorting before the mother's are linked to S-2" test -z "$bad"
check_out '^Signed' "the mother consents for S-1 again" grant "$TMP/$MOTHER.key" S-1 "$TMP/c2.bcs"
bad=""
for i in $(seq 9 18); do
	revoke "${NAMES[$i]}" "$TMP/c2.bcs" "$TMP/aunt$i.brv" >/dev/null 2>&1 || bad="$bad sign:$i"
	"$BATON" consent import "$TMP/aunt$i.brv" --dir "$A" >/dev/null 2>&1 || bad="$bad import:$i"
done
check "their ten revocations of it are kept until the consent is known" test -z "$bad"
check "the mother revokes it too" revoke "$MOTHER" "$TMP/c2.bcs" "$TMP/mother2.brv"
check_out '^Recorded the revocation' "her revocation is kept, eleventh in order" \
	"$BATON" consent import "$TMP/mother2.brv" --dir "$A"
check_err 2 'release refused \(EREVOKED\)' "the consent is refused: all eleven were judged" \
	"$BATON" consent check "$TMP/c2.bcs" --to RAS-204 --dir "$A"
check_err 2 'release refused \(EREVOKED\)' "and stays refused" \
	"$BATON" consent check "$TMP/c2.bcs" --to RAS-204 --dir "$A"
check_out '^Signed' "a consent none of the family revokes" grant "$TMP/$MOTHER.key" S-1 "$TMP/c3.bcs"
bad=""
for i in $(seq 9 18); do
	revoke "${NAMES[$i]}" "$TMP/c3.bcs" "$TMP/aunt3-$i.brv" >/dev/null 2>&1 || bad="$bad sign:$i"
	"$BATON" consent import "$TMP/aunt3-$i.brv" --dir "$A" >/dev/null 2>&1 || bad="$bad import:$i"
done
check "S-2's aunts revoke it before it is known" test -z "$bad"
check_out '^Release allowed' "it is released: none of them holds the rights for S-1" \
	"$BATON" consent check "$TMP/c3.bcs" --to RAS-204 --dir "$A"

# ---- 3. one clock: a year from now S-3 is an adult, his mother no longer decides ----

TN=$((T0 + 365 * DAY))
KS=$(keygen s3)
check "link S-3's own key" "$BATON" guardian link S-3 "$KS" --relation self --dir "$A"
check "link S-3's mother" "$BATON" guardian link S-3 "${LINES[0]}" --relation mother --dir "$A"
check_out '^Signed' "a year from now, S-3 consents himself" \
	env BATON_NOW="$TN" "$BATON" consent grant --key "$TMP/s3.key" --student S-3 \
	--from "$TMP/lincoln.card" --to "$TMP/riverside.card" --sections transcript \
	--out "$TMP/c4.bcs" --yes --role student
check "his mother signs a revocation of it" \
	env BATON_NOW="$TN" "$BATON" consent revoke --key "$TMP/${NAMES[0]}.key" "$TMP/c4.bcs" --out "$TMP/m4.brv"
check "the school receives it before the consent" \
	env BATON_NOW="$TN" "$BATON" consent import "$TMP/m4.brv" --dir "$A"
check_out '^Release allowed' "checked at that moment, the consent stands: the mother's revocation is judged when S-3 is 18" \
	env BATON_NOW="$TN" "$BATON" consent check "$TMP/c4.bcs" --to RAS-204 --dir "$A"
check_out '^Signed' "S-3 consents again" \
	env BATON_NOW="$TN" "$BATON" consent grant --key "$TMP/s3.key" --student S-3 \
	--from "$TMP/lincoln.card" --to "$TMP/riverside.card" --sections transcript \
	--out "$TMP/c5.bcs" --yes --role student
check_out '^Release allowed' "the school checks it at that moment" \
	env BATON_NOW="$TN" "$BATON" consent check "$TMP/c5.bcs" --to RAS-204 --dir "$A"
check "his mother signs a revocation of it" \
	env BATON_NOW="$TN" "$BATON" consent revoke --key "$TMP/${NAMES[0]}.key" "$TMP/c5.bcs" --out "$TMP/m5.brv"
check_err 2 'rights for student S-3' "it is refused at that moment: she no longer holds the rights" \
	env BATON_NOW="$TN" "$BATON" consent import "$TMP/m5.brv" --dir "$A"
check_out '^Release allowed' "and the consent stands" \
	env BATON_NOW="$TN" "$BATON" consent check "$TMP/c5.bcs" --to RAS-204 --dir "$A"

check "audit verify" "$BATON" audit verify --dir "$A"
done_testing
