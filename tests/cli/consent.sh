#!/usr/bin/env bash
# Parents' consent, end to end: guardian keys made on the parent's side, a
# consent granted, shown and revoked there, and the sending school's node
# applying each release rule to it, both ways, with every refusal named in
# the student's audit record. BATON_NOW moves the clock; nothing sleeps.
. "$(dirname "$0")/lib.sh"

export BATON_PASSPHRASE="mother's long passphrase"
DAY=86400
T0=$(date +%s)       # "now" for every command that is not given another time
export BATON_NOW=$T0 # the schools' cards are made with the real clock, just after this

A=$TMP/lincoln    # the sending school: the node under test
B=$TMP/riverside  # the receiving school
C=$TMP/oaktree    # a third school
FPR_RE='[A-Z2-7]{5}(-[A-Z2-7]{5}){4}'

# flip FILE POS MASK OUT: OUT is a copy of FILE with the byte at POS xor MASK.
flip() {
	local b
	cp -- "$1" "$4" || return 1
	b=$(od -An -tu1 -j "$2" -N1 -- "$1" | tr -d ' ')
	# shellcheck disable=SC2059 # the format is the one byte, as an octal escape
	printf "\\$(printf %03o $((b ^ $3)))" | dd of="$4" bs=1 seek="$2" conv=notrunc 2>/dev/null
}

# refuses_flips FILE WHAT: consent show refuses (exit 2) FILE with one byte
# changed, at every 7th position of the whole file (a fresh copy each time,
# the bit pattern varying from one position to the next).
refuses_flips() {
	local file=$1 what=$2 size i n=0 rc mask bad=""
	local masks=(1 128 255 32 64 2 16)
	size=$(wc -c <"$file")
	for ((i = 0; i < size; i += 7)); do
		mask=${masks[$(((i / 7) % ${#masks[@]}))]}
		flip "$file" "$i" "$mask" "$TMP/mutant" || bad="$bad cannot-flip:$i"
		if cmp -s "$file" "$TMP/mutant"; then
			bad="$bad unchanged:$i"
			continue
		fi
		"$BATON" consent show "$TMP/mutant" >/dev/null 2>&1
		rc=$?
		[ "$rc" -eq 2 ] || bad="$bad byte$i^$mask:exit$rc"
		n=$((n + 1))
	done
	if [ -z "$bad" ] && [ "$n" -gt 10 ]; then
		pass "$what: each of $n one-byte changes is refused (exit 2)"
	else
		fail "$what: each one-byte change is refused (exit 2)" "$n tried; wrong:$bad"
	fi
}

# refuses_truncations FILE WHAT: consent show refuses every proper prefix of FILE.
refuses_truncations() {
	local file=$1 what=$2 size i rc bad=""
	size=$(wc -c <"$file")
	for ((i = 0; i < size; i++)); do
		head -c "$i" "$file" >"$TMP/prefix"
		"$BATON" consent show "$TMP/prefix" >/dev/null 2>&1
		rc=$?
		[ "$rc" -eq 2 ] || bad="$bad $i:exit$rc"
	done
	if [ -z "$bad" ] && [ "$size" -gt 0 ]; then
		pass "$what: each of its $size truncations is refused (exit 2)"
	else
		fail "$what: each truncation is refused (exit 2)" "wrong (length:exit):$bad"
	fi
}

# grant_at TIME KEY STUDENT SECTIONS OUT [OPTION...]: a consent for Lincoln
# to send to Riverside, signed at TIME with --yes (later options win).
grant_at() {
	local now=$1 key=$2 student=$3 sections=$4 out=$5
	shift 5
	BATON_NOW=$now "$BATON" consent grant --key "$key" --student "$student" \
		--from "$TMP/lincoln.card" --to "$TMP/riverside.card" --sections "$sections" \
		--out "$out" --yes "$@"
}

# check_at TIME CONSENT [OPTION...]: consent check on Lincoln's node at TIME,
# for a record going to Riverside (a later --to wins).
check_at() {
	local now=$1 file=$2
	shift 2
	BATON_NOW=$now "$BATON" consent check "$file" --to RAS-204 --dir "$A" "$@"
}

json_value() { # KEY FILE: the first string value of "KEY" in FILE
	grep -m1 "\"$1\":" "$2" | sed "s/.*\"$1\": *\"\\([^\"]*\\)\".*/\\1/"
}

consent_id() { # FILE: the id of a consent
	"$BATON" consent show --json "$1" 2>/dev/null | grep -m1 '"id"' | sed 's/.*"id": *"\([0-9a-f]*\)".*/\1/'
}

# ---- 1. guardian keys, on the parent's side (no node) ----

check_out '^baton-gk1-[a-z2-7]+$' "guardian keygen --qr prints the public key line" \
	"$BATON" guardian keygen --out "$TMP/mother.key" --qr
cp "$OUT" "$TMP/mother.keygen"
check "keygen prints the key's fingerprint" grep -Eq "^fingerprint $FPR_RE\$" "$TMP/mother.keygen"
check "--qr draws a QR code in block characters" \
	sh -c 'test "$(grep -c "█\|▀\|▄" "$1")" -ge 10' sh "$TMP/mother.keygen"
check "the guardian key file is readable by its owner only (0600)" \
	test "$(stat -c %a "$TMP/mother.key")" = 600
check "the passphrase is not written into the key file" \
	sh -c '! grep -aqF "$BATON_PASSPHRASE" "$1"' sh "$TMP/mother.key"
G1=$(grep -m1 '^baton-gk1-' "$TMP/mother.keygen")
G1_FPR=$(sed -n 's/^fingerprint //p' "$TMP/mother.keygen")

check_out '^baton-gk1-' "keygen without --qr" "$BATON" guardian keygen --out "$TMP/father.key"
cp "$OUT" "$TMP/father.keygen"
check "without --qr there is no QR code" sh -c '! grep -q "█\|▀\|▄" "$1"' sh "$TMP/father.keygen"
G2=$(grep -m1 '^baton-gk1-' "$TMP/father.keygen")
check "two keys are two different public keys" test -n "$G1" -a -n "$G2" -a "$G1" != "$G2"

cp "$TMP/mother.key" "$TMP/mother.key.orig"
check_err 3 'already exists' "keygen refuses to overwrite a key file (exit 3)" \
	"$BATON" guardian keygen --out "$TMP/mother.key"
same "$TMP/mother.key.orig" "$TMP/mother.key" "the existing key file is untouched"
if command -v setsid >/dev/null; then
	check_exit 1 "keygen without a passphrase and without a terminal is refused (exit 1)" \
		env -u BATON_PASSPHRASE setsid -w "$BATON" guardian keygen --out "$TMP/nopass.key"
	check "and writes no key file" test ! -e "$TMP/nopass.key"
fi

check_out '^baton-gk1-' "guardian pubkey with the passphrase" "$BATON" guardian pubkey "$TMP/mother.key"
sed -n '2p' "$TMP/mother.keygen" >"$TMP/mother.pub.expected"
same "$TMP/mother.pub.expected" "$OUT" "pubkey prints the same key line as keygen, and only it"
# A key file without its .pub (copied alone) needs the passphrase.
cp -p "$TMP/mother.key" "$TMP/alone.key"
check_err 2 'passphrase' "pubkey of a key without .pub, with a wrong BATON_PASSPHRASE, is refused (exit 2)" \
	env BATON_PASSPHRASE="not the passphrase" "$BATON" guardian pubkey "$TMP/alone.key"
check_out '^baton-gk1-' "and with the right one, prints its key line" "$BATON" guardian pubkey "$TMP/alone.key"
same "$TMP/mother.pub.expected" "$OUT" "the same line"

# The other keys: a guardian the school does not know, the adult student's
# own key, and the own key of a student who turns 18 soon.
check "keygen: an unknown guardian" "$BATON" guardian keygen --out "$TMP/stranger.key"
check "keygen: the adult student's own key" "$BATON" guardian keygen --out "$TMP/adult.key"
KA=$(grep -m1 '^baton-gk1-' "$OUT")
check "keygen: the own key of a student who turns 18 soon" "$BATON" guardian keygen --out "$TMP/soon.key"
KS=$(grep -m1 '^baton-gk1-' "$OUT")

# ---- the schools and the students ----

check_out "^ *fingerprint +$FPR_RE\$" "init the sending school" \
	"$BATON" init --name "Lincoln High School" --code LHS-001 --dir "$A" --no-passphrase
check_out "^ *fingerprint +$FPR_RE\$" "init the receiving school" \
	"$BATON" init --name "Riverside Academy" --code RAS-204 --dir "$B" --no-passphrase
check_out "^ *fingerprint +$FPR_RE\$" "init a third school" \
	"$BATON" init --name "Oak Tree Hall" --code OTH-1 --dir "$C" --no-passphrase
check_out '^fingerprint ' "cards: Lincoln" "$BATON" card --dir "$A" --out "$TMP/lincoln.card"
FPR_A=$(sed -n 's/^fingerprint //p' "$OUT")
check_out '^fingerprint ' "cards: Riverside" "$BATON" card --dir "$B" --out "$TMP/riverside.card"
FPR_B=$(sed -n 's/^fingerprint //p' "$OUT")
check_out '^fingerprint ' "cards: Oak Tree" "$BATON" card --dir "$C" --out "$TMP/oaktree.card"
check "Lincoln pins Riverside" "$BATON" peer add "$TMP/riverside.card" --dir "$A"
check "Lincoln pins Oak Tree" "$BATON" peer add "$TMP/oaktree.card" --dir "$A"

# Birth dates relative to now: a child of 10, an adult of 20, a 16-17 year
# old in postsecondary education, and one whose 18th birthday is in 10 days
# (11 when that day is 29 February).
Y=$(date -u -d "@$T0" +%Y)
off=10
[ "$(date -u -d "@$((T0 + off * DAY))" +%m-%d)" = 02-29 ] && off=11
BIRTHDAY=$((T0 + off * DAY)) # the moment S-300 is 18
D=$(date -u -d "@$BIRTHDAY" +%Y-%m-%d)
SOON_BD="$((${D%%-*} - 18))-${D#*-}"
cat >"$TMP/students.json" <<EOF
[
{"student_id": "S-100",
 "identity": {"given_name": "Mia", "family_name": "Okafor", "birth_date": "$((Y - 10))-06-15"},
 "enrollment": [{"school_name": "Lincoln High School", "school_code": "LHS-001",
                 "entry_date": "$((Y - 1))-08-20", "grade_level": "05"}],
 "health": {"immunizations": [{"vaccine": "MMR", "date": "$((Y - 9))-05-01"}],
            "allergies": ["peanuts"], "conditions": []},
 "discipline": [{"date": "$((Y - 1))-10-02", "incident": "late", "action": "note home"}]},
{"student_id": "S-200",
 "identity": {"given_name": "Ana", "family_name": "Reyes", "birth_date": "$((Y - 20))-03-10"},
 "enrollment": [{"school_name": "Lincoln High School", "school_code": "LHS-001",
                 "entry_date": "$((Y - 1))-08-20", "grade_level": "12"}]},
{"student_id": "S-300",
 "identity": {"given_name": "Leo", "family_name": "Brandt", "birth_date": "$SOON_BD"},
 "enrollment": [{"school_name": "Lincoln High School", "school_code": "LHS-001",
                 "entry_date": "$((Y - 1))-08-20", "grade_level": "12"}]},
{"student_id": "S-400",
 "identity": {"given_name": "Ivy", "family_name": "Chen", "birth_date": "$((Y - 17))-12-30"},
 "enrollment": [{"school_name": "Lincoln High School", "school_code": "LHS-001",
                 "entry_date": "$((Y - 1))-08-20", "grade_level": "PS"}]}
]
EOF
check_out '4 new students' "Lincoln imports four students" \
	"$BATON" student import "$TMP/students.json" --dir "$A"
check "link the mother to S-100" "$BATON" guardian link S-100 "$G1" --relation mother --dir "$A"
check_out 'restricted' "link the father to S-100, restricted" \
	"$BATON" guardian link S-100 "$G2" --relation father --restricted --dir "$A"
check "link the mother to S-200 (now an adult)" \
	"$BATON" guardian link S-200 "$G1" --relation mother --dir "$A"
check "link S-200's own key" "$BATON" guardian link S-200 "$KA" --relation self --dir "$A"
check "link the mother to S-300" "$BATON" guardian link S-300 "$G1" --relation mother --dir "$A"
check "link S-300's own key" "$BATON" guardian link S-300 "$KS" --relation self --dir "$A"
check "link the mother to S-400 (postsecondary)" \
	"$BATON" guardian link S-400 "$G1" --relation mother --dir "$A"

# ---- 2. consent grant, on the parent's side ----

check_out '^Signed' "grant a consent for all sections with --yes" \
	grant_at "$T0" "$TMP/mother.key" S-100 all "$TMP/all.bcs" --purpose "Enrollment in grade 6"
cp "$OUT" "$TMP/grant.out"
check "the file is written" test -s "$TMP/all.bcs"
check "the summary names the sending school and its code" \
	grep -q 'Lincoln High School (LHS-001)' "$TMP/grant.out"
check "the summary names the receiving school and its code" \
	grep -q 'Riverside Academy (RAS-204)' "$TMP/grant.out"
check "the summary gives the sending school's fingerprint" \
	grep -Eq "^ *from +LHS-001, fingerprint $FPR_A\$" "$TMP/grant.out"
check "the summary gives the receiving school's fingerprint" \
	grep -Eq "^ *to +RAS-204, fingerprint $FPR_B\$" "$TMP/grant.out"
check "the summary names the student" grep -Eq '^ *student +S-100\b' "$TMP/grant.out"
check "the summary lists the sections, identity included" \
	grep -Eq '^ *sections +assessments,attendance,enrollment,graduation,guardians,identity,transcript$' "$TMP/grant.out"
check "the summary says which sensitive sections are not included" \
	grep -Eq 'not included: custody,discipline,english_learner,health,homeless,section_504,special_education \(' "$TMP/grant.out"
check "the summary gives the purpose" grep -Eq '^ *purpose +Enrollment in grade 6$' "$TMP/grant.out"
check "the summary gives the validity (30 days by default)" \
	grep -Eq "^ *valid +from $(date -u -d "@$T0" '+%Y-%m-%d %H:%M') UTC until $(date -u -d "@$((T0 + 30 * DAY))" '+%Y-%m-%d %H:%M') UTC\$" \
	"$TMP/grant.out"
check "the summary gives the signer's fingerprint" grep -q "$G1_FPR" "$TMP/grant.out"

if command -v setsid >/dev/null; then
	check_err 1 'no terminal.*--yes' "without --yes and without a terminal, grant refuses (exit 1)" \
		setsid -w "$BATON" consent grant --key "$TMP/mother.key" --student S-100 \
		--from "$TMP/lincoln.card" --to "$TMP/riverside.card" --sections all --out "$TMP/unsigned.bcs"
	check "it still printed the summary" grep -q 'Riverside Academy (RAS-204)' "$OUT"
	check "and wrote no file" test ! -e "$TMP/unsigned.bcs"
else
	echo "# setsid is missing: the no-terminal case is not tested"
fi

check_out '^ *sections +assessments,attendance,enrollment,graduation,guardians,health,identity,transcript$' \
	"all,health includes health" grant_at "$T0" "$TMP/mother.key" S-100 all,health "$TMP/health.bcs"
check "and says the other sensitive sections are not included" \
	grep -Eq 'not included: custody,discipline,english_learner,homeless,section_504,special_education \(' "$OUT"
check_out '^ *sections +health,identity$' "identity is always included (health alone)" \
	grant_at "$T0" "$TMP/mother.key" S-100 health "$TMP/healthonly.bcs"
check_out '^ *sections +.*discipline' "all,discipline includes discipline" \
	grant_at "$T0" "$TMP/mother.key" S-100 all,discipline "$TMP/discipline.bcs"
check_out '^ *sections +assessments,attendance,custody,discipline,english_learner,enrollment,graduation,guardians,health,homeless,identity,section_504,special_education,transcript$' \
	"every sensitive section named: everything goes" \
	grant_at "$T0" "$TMP/mother.key" S-100 all,health,discipline,special_education,custody,english_learner,homeless,section_504 "$TMP/everything.bcs"
check "and nothing is listed as not included" sh -c '! grep -q "not included" "$1"' sh "$OUT"
check_out '^ *sections +custody,graduation,identity,section_504$' \
	"record schema version 2's sections, in name order (identity always)" \
	grant_at "$T0" "$TMP/mother.key" S-100 section_504,graduation,custody "$TMP/v2.bcs"
check "and says the sensitive ones it does not name are not included" \
	grep -Eq 'not included: discipline,english_learner,health,homeless,special_education \(' "$OUT"
check_err 2 '"section504".*custody, discipline, english_learner, enrollment, graduation, guardians, health, homeless, identity, section_504, special_education' \
	"a misspelt section is refused (exit 2), and the error lists every section" \
	grant_at "$T0" "$TMP/mother.key" S-100 all,section504 "$TMP/bad.bcs"
check "and writes no file" test ! -e "$TMP/bad.bcs"

check_err 2 '"lunch"' "a bad --sections value is refused (exit 2), naming it" \
	grant_at "$T0" "$TMP/mother.key" S-100 all,lunch "$TMP/bad.bcs"
check_err 2 'sections' "an empty --sections is refused (exit 2)" \
	grant_at "$T0" "$TMP/mother.key" S-100 "" "$TMP/bad.bcs"
check_err 2 '"tomorrow"' "--expires tomorrow is refused (exit 2)" \
	grant_at "$T0" "$TMP/mother.key" S-100 all "$TMP/bad.bcs" --expires tomorrow
check_err 2 '"400d"' "--expires 400d is refused (exit 2)" \
	grant_at "$T0" "$TMP/mother.key" S-100 all "$TMP/bad.bcs" --expires 400d
check_err 2 '"0d"' "--expires 0d is refused (exit 2)" \
	grant_at "$T0" "$TMP/mother.key" S-100 all "$TMP/bad.bcs" --expires 0d
check_err 2 'past' "--expires in the past is refused (exit 2)" \
	grant_at "$T0" "$TMP/mother.key" S-100 all "$TMP/bad.bcs" --expires "$((Y - 1))-01-01"
# Month 13 and up of one year is not the same as the next year (a date 40
# days from now written that way).
D40=$(date -u -d "@$((T0 + 40 * DAY))" +%Y-%m-%d)
MONTH=$((10#$(echo "$D40" | cut -d- -f2) + 12))
BADDATE="$((${D40%%-*} - 1))-$MONTH-$(echo "$D40" | cut -d- -f3)"
check_err 2 "\"$BADDATE\"" "--expires $BADDATE (month $MONTH) is not a date (exit 2)" \
	grant_at "$T0" "$TMP/mother.key" S-100 all "$TMP/month.bcs" --expires "$BADDATE"
check_err 2 '"'"$Y"'-02-30"' "--expires $Y-02-30 is not a date (exit 2)" \
	grant_at "$T0" "$TMP/mother.key" S-100 all "$TMP/bad.bcs" --expires "$Y-02-30"
check "no file was written by the refused grants" test ! -e "$TMP/bad.bcs"
D10=$(date -u -d "@$((T0 + 10 * DAY))" +%Y-%m-%d)
check_out "until $D10 23:59 UTC" "--expires DATE lasts until the end of that day (UTC)" \
	grant_at "$T0" "$TMP/mother.key" S-100 all "$TMP/dated.bcs" --expires "$D10"

check_err 1 'same school' "grant refuses --from and --to naming the same school (exit 1)" \
	grant_at "$T0" "$TMP/mother.key" S-100 all "$TMP/bad.bcs" --to "$TMP/lincoln.card"
cp "$TMP/all.bcs" "$TMP/all.bcs.orig"
check_exit 3 "grant refuses to overwrite --out (exit 3)" \
	grant_at "$T0" "$TMP/mother.key" S-100 all,health "$TMP/all.bcs"
same "$TMP/all.bcs.orig" "$TMP/all.bcs" "the existing consent file is untouched"

# ---- 3. consent show, and damaged files ----

check_out '^Consent, signature verifies' "consent show says the signature verifies" \
	"$BATON" consent show "$TMP/all.bcs"
cp "$OUT" "$TMP/show.out"
check "show names the student, both schools and the purpose" sh -c \
	'grep -Eq "^ *student +S-100" "$1" && grep -q "LHS-001, fingerprint $2" "$1" &&
	 grep -q "RAS-204, fingerprint $3" "$1" && grep -q "Enrollment in grade 6" "$1"' \
	sh "$TMP/show.out" "$FPR_A" "$FPR_B"
check "show gives who signed" grep -Eq "signed by a guardian's key $G1_FPR" "$TMP/show.out"
check_out '"type": "consent"' "consent show --json" "$BATON" consent show --json "$TMP/all.bcs"
cp "$OUT" "$TMP/show.json"
for kv in "student:S-100" "from:LHS-001" "to:RAS-204" "purpose:Enrollment in grade 6" \
	"sections:assessments,attendance,enrollment,graduation,guardians,identity,transcript" \
	"signer:$G1" "signer_fingerprint:$G1_FPR" "role:guardian" "signature:valid" "status:valid"; do
	check "--json: \"${kv%%:*}\" is \"${kv#*:}\"" test "$(json_value "${kv%%:*}" "$TMP/show.json")" = "${kv#*:}"
done
check "--json: issued now" grep -q "\"issued\": $T0," "$TMP/show.json"
check "--json: expires 30 days later" grep -q "\"expires\": $((T0 + 30 * DAY))," "$TMP/show.json"
check "--json: the id is 32 hex digits" grep -Eq '"id": "[0-9a-f]{32}"' "$TMP/show.json"
check_out '"status": "expired"' "--json at T+31 days says expired" \
	env BATON_NOW=$((T0 + 31 * DAY)) "$BATON" consent show --json "$TMP/all.bcs"

# One letter of the purpose changed: the file still parses, the signature does not verify.
POS=$(grep -abo 'Enrollment in grade 6' "$TMP/all.bcs" | head -n 1 | cut -d: -f1)
flip "$TMP/all.bcs" "$((POS + 1))" 32 "$TMP/forged.bcs" # "ENrollment"
check "the forged copy differs from the original" sh -c '! cmp -s "$1" "$2"' sh "$TMP/all.bcs" "$TMP/forged.bcs"
check_err 2 'DOES NOT VERIFY' "a consent with one byte changed in the middle is refused (exit 2)" \
	"$BATON" consent show "$TMP/forged.bcs"
refuses_flips "$TMP/all.bcs" "consent show"
refuses_truncations "$TMP/all.bcs" "consent show"

# ---- 4. the release rules on the sending node ----

check_out '^Release allowed: student S-100 to RAS-204, sections assessments,attendance,enrollment,graduation,guardians,identity,transcript$' \
	"the mother's consent is accepted (exit 0)" check_at "$T0" "$TMP/all.bcs"
check_out '^Release allowed: .*, sections identity,transcript$' \
	"a release of fewer sections than the consent names is accepted" \
	check_at "$T0" "$TMP/all.bcs" --sections transcript

# Rule 1: the signature.
check_err 2 'release refused \(EBADSIG\)' "EBADSIG: a consent with a byte changed is refused" \
	check_at "$T0" "$TMP/forged.bcs"

# Rule 2: who signed.
check_out '^Signed' "an unknown guardian signs a consent for S-100" \
	grant_at "$T0" "$TMP/stranger.key" S-100 all "$TMP/stranger.bcs"
check_err 2 'release refused \(ENOTLINKED\)' "ENOTLINKED: a key not linked to the student" \
	check_at "$T0" "$TMP/stranger.bcs"
check_out '^Signed' "the restricted father signs a consent for S-100" \
	grant_at "$T0" "$TMP/father.key" S-100 all "$TMP/father.bcs"
check_err 2 'release refused \(ERESTRICTED\)' "ERESTRICTED: the restricted guardian's consent" \
	check_at "$T0" "$TMP/father.bcs"
check_out '^Release allowed: student S-100' "the other guardian's consent for the same student still passes" \
	check_at "$T0" "$TMP/all.bcs"

check_out '^Signed' "the mother signs for S-200, who is 20" \
	grant_at "$T0" "$TMP/mother.key" S-200 all "$TMP/adult-by-mother.bcs"
check_err 2 'release refused \(EELIGIBLE\)' "EELIGIBLE: a guardian's consent for an adult student" \
	check_at "$T0" "$TMP/adult-by-mother.bcs"
check_out '^Signed' "S-200 signs their own consent (--role student)" \
	grant_at "$T0" "$TMP/adult.key" S-200 all "$TMP/adult-own.bcs" --role student
check "the summary says the student's own key signs" grep -q "signed by the student's own key" "$OUT"
check_out '^Release allowed: student S-200' "the adult student's own consent is accepted" \
	check_at "$T0" "$TMP/adult-own.bcs"
check_out '^Signed' "S-200's own key signs as a guardian (--role guardian)" \
	grant_at "$T0" "$TMP/adult.key" S-200 all "$TMP/adult-as-guardian.bcs"
check_err 2 'release refused \(E[A-Z]+\)' "the student's own key signing as a guardian is refused" \
	check_at "$T0" "$TMP/adult-as-guardian.bcs"
check_out '^Signed' "the mother signs for S-400, in postsecondary education" \
	grant_at "$T0" "$TMP/mother.key" S-400 all "$TMP/ps-by-mother.bcs"
check_err 2 'release refused \(EELIGIBLE\)' "EELIGIBLE: grade level PS makes the student eligible before 18" \
	check_at "$T0" "$TMP/ps-by-mother.bcs"

# S-300 turns 18 at $BIRTHDAY: the day before, the mother consents and the
# student cannot; from that day on, the other way round.
check_out '^Signed' "the mother signs for S-300 (17)" \
	grant_at "$T0" "$TMP/mother.key" S-300 all "$TMP/soon-by-mother.bcs"
check_out '^Signed' "S-300 signs their own consent (--role student)" \
	grant_at "$T0" "$TMP/soon.key" S-300 all "$TMP/soon-own.bcs" --role student
check_err 2 'release refused \(ENOTELIGIBLE\)' "ENOTELIGIBLE: a minor's own key" \
	check_at "$T0" "$TMP/soon-own.bcs"
check_err 2 'release refused \(ENOTELIGIBLE\)' "ENOTELIGIBLE still on the day before the 18th birthday" \
	check_at "$((BIRTHDAY - DAY))" "$TMP/soon-own.bcs"
check_out '^Release allowed: student S-300' "the mother's consent passes the day before the 18th birthday" \
	check_at "$((BIRTHDAY - DAY))" "$TMP/soon-by-mother.bcs"
check_err 2 'release refused \(EELIGIBLE\)' "EELIGIBLE: the same consent on the 18th birthday" \
	check_at "$BIRTHDAY" "$TMP/soon-by-mother.bcs"
check_out '^Release allowed: student S-300' "the student's own consent passes on the 18th birthday" \
	check_at "$BIRTHDAY" "$TMP/soon-own.bcs"

# Rule 3: the sending school.
check_out '^Signed' "the mother signs a consent for Oak Tree to send to Riverside" \
	grant_at "$T0" "$TMP/mother.key" S-100 all "$TMP/from-oaktree.bcs" --from "$TMP/oaktree.card"
check_err 2 'release refused \(EFROM\)' "EFROM: a consent naming another sending school" \
	check_at "$T0" "$TMP/from-oaktree.bcs"

# Rule 4: the receiving school.
check_err 2 'release refused \(ETO\).*RAS-204' "ETO: the record would go to another pinned school" \
	check_at "$T0" "$TMP/all.bcs" --to OTH-1
check_out '^Signed' "the mother signs a consent for Lincoln to send to Oak Tree" \
	grant_at "$T0" "$TMP/mother.key" S-100 all "$TMP/to-oaktree.bcs" --to "$TMP/oaktree.card"
check_out '^Release allowed: student S-100 to OTH-1' "it is accepted for Oak Tree" \
	check_at "$T0" "$TMP/to-oaktree.bcs" --to OTH-1
check_err 2 'release refused \(ETO\)' "ETO: and refused for Riverside" \
	check_at "$T0" "$TMP/to-oaktree.bcs"

# Rule 5: the sections.
check_err 2 'release refused \(ESECTIONS\).*discipline' "ESECTIONS: discipline under a consent for all" \
	check_at "$T0" "$TMP/all.bcs" --sections discipline
check_err 2 'release refused \(ESECTIONS\).*health' "ESECTIONS: health under a consent for all" \
	check_at "$T0" "$TMP/all.bcs" --sections transcript,health
check_out '^Release allowed: .*discipline' "discipline is accepted when the consent names it" \
	check_at "$T0" "$TMP/discipline.bcs" --sections discipline
check_out '^Release allowed: .*sections .*health' "health is accepted when the consent names it" \
	check_at "$T0" "$TMP/health.bcs" --sections transcript,health
check_err 2 'release refused \(ESECTIONS\)' "ESECTIONS: discipline under a consent for all,health" \
	check_at "$T0" "$TMP/health.bcs" --sections discipline
check_err 2 'release refused \(ESECTIONS\).*transcript' "ESECTIONS: transcript under a consent for health only" \
	check_at "$T0" "$TMP/healthonly.bcs" --sections transcript
check_out '^Release allowed: .*sections health,identity$' "the health-only consent releases health and identity" \
	check_at "$T0" "$TMP/healthonly.bcs"
check_err 2 'release refused \(ESECTIONS\).*custody' "ESECTIONS: custody under a consent for all" \
	check_at "$T0" "$TMP/all.bcs" --sections custody
check_out '^Release allowed: .*sections graduation,identity$' "graduation is released under a consent for all" \
	check_at "$T0" "$TMP/all.bcs" --sections graduation
check_out '^Release allowed: .*sections custody,identity,section_504$' \
	"custody and section_504 are released when the consent names them" \
	check_at "$T0" "$TMP/v2.bcs" --sections section_504,custody
check_err 2 'release refused \(ESECTIONS\).*homeless' \
	"ESECTIONS: homeless under a consent for custody, graduation and section_504" \
	check_at "$T0" "$TMP/v2.bcs" --sections homeless

# Rule 6: the validity window.
check_err 2 'release refused \(EEXPIRED\)' "EEXPIRED: a 30-day consent checked 31 days later" \
	check_at "$((T0 + 31 * DAY))" "$TMP/all.bcs"
check_out '^Signed' "the mother signs a consent valid for one day" \
	grant_at "$T0" "$TMP/mother.key" S-100 all "$TMP/oneday.bcs" --expires 1d
check_out '^Recorded consent' "consent import records it (the parent brought it by hand)" \
	"$BATON" consent import "$TMP/oneday.bcs" --dir "$A"
check_out '^Release allowed' "it is accepted at its last second" \
	check_at "$((T0 + DAY))" "$TMP/oneday.bcs"
check_err 2 'release refused \(EEXPIRED\)' "EEXPIRED: one second after it ends" \
	check_at "$((T0 + DAY + 1))" "$TMP/oneday.bcs"
check_out '^Signed' "a consent signed on a clock one day ahead" \
	grant_at "$((T0 + DAY))" "$TMP/mother.key" S-100 all "$TMP/ahead.bcs"
check_out 'NOT YET VALID' "consent show says it is not yet valid" "$BATON" consent show "$TMP/ahead.bcs"
check_err 2 'release refused \(ENOTYET\)' "ENOTYET: checked a day before it was issued" \
	check_at "$T0" "$TMP/ahead.bcs"
check_err 2 'release refused \(ENOTYET\)' "ENOTYET: 301 s before it was issued" \
	check_at "$((T0 + DAY - 301))" "$TMP/ahead.bcs"
check_out '^Release allowed' "accepted 300 s before it was issued (clock skew)" \
	check_at "$((T0 + DAY - 300))" "$TMP/ahead.bcs"

# Rule 7: revocation.
check_out '^Signed' "the mother signs a consent she will revoke" \
	grant_at "$T0" "$TMP/mother.key" S-100 all "$TMP/revoked.bcs"
check_out '^Release allowed' "it is accepted before the revocation" check_at "$T0" "$TMP/revoked.bcs"
check "a stranger signs a revocation of it" \
	"$BATON" consent revoke --key "$TMP/stranger.key" "$TMP/revoked.bcs" --out "$TMP/stranger.brv"
check "revoke warns that this key did not sign the consent" grep -q 'did not sign' "$ERR"
check_err 2 'ENOTLINKED|rights for student S-100' "import refuses the revocation signed by an unrelated key (exit 2)" \
	"$BATON" consent import "$TMP/stranger.brv" --dir "$A"
check_out '^Release allowed' "the consent stays usable" check_at "$T0" "$TMP/revoked.bcs"
check_out '^Revocation of consent' "the mother revokes it" \
	"$BATON" consent revoke --key "$TMP/mother.key" "$TMP/revoked.bcs" --out "$TMP/mother.brv"
check_out 'signature verifies' "consent show on the revocation says the signature verifies" \
	"$BATON" consent show "$TMP/mother.brv"
cp "$OUT" "$TMP/revocation.show"
check "it names the consent" grep -q "$(consent_id "$TMP/revoked.bcs")" "$TMP/revocation.show"
check "it names the signer" grep -q "$G1_FPR" "$TMP/revocation.show"
check_out '"type": "revocation"' "consent show --json on the revocation" \
	"$BATON" consent show --json "$TMP/mother.brv"
check_out '^Recorded the revocation' "consent import records the revocation" \
	"$BATON" consent import "$TMP/mother.brv" --dir "$A"
check_err 2 'release refused \(EREVOKED\)' "EREVOKED: the revoked consent is refused" \
	check_at "$T0" "$TMP/revoked.bcs"
refuses_flips "$TMP/mother.brv" "revocation show"
refuses_truncations "$TMP/mother.brv" "revocation show"

# A stranger's revocation that arrives before the school has seen the consent.
check_out '^Signed' "the mother signs another consent" \
	grant_at "$T0" "$TMP/mother.key" S-100 all "$TMP/early.bcs"
check "a stranger signs a revocation of it" \
	"$BATON" consent revoke --key "$TMP/stranger.key" "$TMP/early.bcs" --out "$TMP/early-stranger.brv"
run "$BATON" consent import "$TMP/early-stranger.brv" --dir "$A"
check_out '^Release allowed' "a stranger's revocation imported before the consent does not revoke it" \
	check_at "$T0" "$TMP/early.bcs"

# Rule 8 (EREUSED: one consent id, two students) cannot be reached from the
# command line: the student and the id are both under the signature, and
# grant draws a fresh random id each time.

# A consent for a student this school does not have.
check_out '^Signed' "the mother signs for a student Lincoln does not have" \
	grant_at "$T0" "$TMP/mother.key" S-999 all "$TMP/nostudent.bcs"
check_err 2 'release refused \(ENOSTUDENT\)' "ENOSTUDENT: the student is not at this school" \
	check_at "$T0" "$TMP/nostudent.bcs"
check_err 2 'S-999' "consent import refuses it too" "$BATON" consent import "$TMP/nostudent.bcs" --dir "$A"

# ---- 5. the audit log and the list of consents ----

run "$BATON" audit --student S-100 --dir "$A"
cp "$OUT" "$TMP/audit.s100"
for e in ENOTLINKED ERESTRICTED EFROM ETO ESECTIONS EEXPIRED ENOTYET EREVOKED; do
	check "S-100's audit record shows the $e refusal" grep -Eq "consent-refused .*$e" "$TMP/audit.s100"
done
check "S-100's audit record shows the accepted checks" grep -Eq 'consent-checked .*accepted' "$TMP/audit.s100"
check "S-100's audit record shows the revocation" grep -q 'consent-revoke' "$TMP/audit.s100"
check "S-100's audit record holds nothing of the other students" \
	sh -c '! grep -Eq "S-[234]00|EELIGIBLE|ENOTELIGIBLE" "$1"' sh "$TMP/audit.s100"
check_out 'consent-refused .*EELIGIBLE' "S-200's audit record shows EELIGIBLE" \
	"$BATON" audit --student S-200 --dir "$A"
check_out 'consent-refused .*ENOTELIGIBLE' "S-300's audit record shows ENOTELIGIBLE" \
	"$BATON" audit --student S-300 --dir "$A"
check "and EELIGIBLE" grep -Eq 'consent-refused .*EELIGIBLE' "$OUT"
check_out 'consent-refused .*EELIGIBLE' "S-400's audit record shows EELIGIBLE" \
	"$BATON" audit --student S-400 --dir "$A"
check_out 'consent-refused .*EBADSIG' "the audit log shows the EBADSIG refusal" "$BATON" audit --dir "$A"

ID_ALL=$(consent_id "$TMP/all.bcs")
ID_ONEDAY=$(consent_id "$TMP/oneday.bcs")
ID_REVOKED=$(consent_id "$TMP/revoked.bcs")
ID_STRANGER=$(consent_id "$TMP/stranger.bcs")
ID_EARLY=$(consent_id "$TMP/early.bcs")
check_out "^$ID_ALL +S-100 +valid +to RAS-204" "consent list: the consent in use is valid" \
	"$BATON" consent list --student S-100 --dir "$A"
cp "$OUT" "$TMP/list.now"
check "consent list: the revoked one is revoked" grep -Eq "^$ID_REVOKED +S-100 +revoked " "$TMP/list.now"
check "consent list: the one-day consent is valid on its day" grep -Eq "^$ID_ONEDAY +S-100 +valid " "$TMP/list.now"
check "consent list: one revoked only by a stranger (rule 7 ignores it) is valid" \
	grep -Eq "^$ID_EARLY +S-100 +valid " "$TMP/list.now"
check "consent list: refused consents are not on file" sh -c '! grep -q "^$1" "$2"' sh "$ID_STRANGER" "$TMP/list.now"
check "consent list --student lists only that student" sh -c '! grep -Eq " S-[234]00 " "$1"' sh "$TMP/list.now"
check_out "^$ID_ONEDAY +S-100 +expired " "consent list two days later: the one-day consent is expired" \
	env BATON_NOW=$((T0 + 2 * DAY)) "$BATON" consent list --student S-100 --dir "$A"
cp "$OUT" "$TMP/list.later"
check "and the revoked one is still revoked" grep -Eq "^$ID_REVOKED +S-100 +revoked " "$TMP/list.later"
check "and the 30-day one still valid" grep -Eq "^$ID_ALL +S-100 +valid " "$TMP/list.later"
check_out '"status": "revoked"' "consent list --json gives the statuses" \
	"$BATON" consent list --student S-100 --json --dir "$A"
check_out 'audit log verified' "audit verify passes at the end" "$BATON" audit verify --dir "$A"
done_testing
