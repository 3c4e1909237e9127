#!/usr/bin/env bash
# A class moving on together: 'baton send --to CODE --consents DIR' seals one
# packet per *.consent file and queues them for 'baton serve', 64 per store
# transaction. The usage errors; a clean cohort of 70 (two transactions); a
# directory mixing good consents with a tampered one, garbage, one for
# another school, one signed by a stranger and an expired one (each refused
# on its own line, the rest queued, exit 2); --sections; delivery of the whole
# cohort over loopback by two serves; the same directory sent again; and a
# file that cannot be read, which must stop the cohort before anything is
# queued.
. "$(dirname "$0")/lib.sh"

export BATON_PASSPHRASE="a long enough passphrase"
A=$TMP/lhs B=$TMP/ras C=$TMP/oth
DATA=$BATON_SRC/tests/data

free_ports 2 || done_testing

# outbox_json NODE: A's (or B's) outbox as JSON, in $TMP/outbox.json.
outbox_json() { "$BATON" outbox --json --dir "$1" >"$TMP/outbox.json"; }
# queued_in NODE: the number of queued entries in NODE's outbox.
queued_in() {
	outbox_json "$1"
	count '"state": "queued"' "$TMP/outbox.json"
}
no_queued() { [ "$(queued_in "$1")" -eq 0 ]; }
# in_outbox NODE STUDENT: the number of NODE's outbox entries for STUDENT.
in_outbox() {
	outbox_json "$1"
	count "\"student\": \"$2\"" "$TMP/outbox.json"
}
# disclosures NODE: the number of disclosure entries in NODE's audit log.
disclosures() {
	"$BATON" audit --dir "$1" >"$TMP/audit.txt"
	count '^ *[0-9]+ .* disclosure ' "$TMP/audit.txt"
}
# queued_students FILE: the students of the 'queued' lines of a cohort send's output.
queued_students() { sed -n 's/^\(S-[0-9]*\) *packet [0-9a-f]\{32\} queued, [0-9]* bytes$/\1/p' "$1"; }

# ---- three schools; A and B on loopback ----
check "init LHS-001" "$BATON" init --name "Lincoln High School" --code LHS-001 \
	--endpoint "tcp://127.0.0.1:$P0" --dir "$A"
check "init RAS-204" "$BATON" init --name "Riverside Academy" --code RAS-204 \
	--endpoint "tcp://127.0.0.1:$((P0 + 1))" --dir "$B"
check "init OTH-9" "$BATON" init --name "Other School" --code OTH-9 --dir "$C"
for n in "$A:LHS-001" "$B:RAS-204" "$C:OTH-9"; do
	check "card of ${n#*:}" "$BATON" card --dir "${n%:*}" --out "$TMP/${n#*:}.card"
done
check "A pins B" "$BATON" peer add "$TMP/RAS-204.card" --dir "$A"
check "A pins C" "$BATON" peer add "$TMP/OTH-9.card" --dir "$A"
check "B pins A" "$BATON" peer add "$TMP/LHS-001.card" --dir "$B"
check "A imports the sample school" "$BATON" student import "$DATA/school.json" --dir "$A"

# Minors: born at most 16 years before this year (so under 18 all year),
# and not in the postsecondary grade; a parent consents for them.
Y=$(date -u +%Y)
awk -v min=$((Y - 16)) -F'"' '
	function out() { if (sid != "" && young && !ps) print sid }
	/"student_id":/ { out(); sid = $4; young = 0; ps = 0 }
	/"birth_date":/ { young = (substr($4, 1, 4) + 0 >= min) }
	/"grade_level": "PS"/ { ps = 1 }
	END { out() }' "$DATA/school.json" >"$TMP/minors"
check "at least 81 minors in the sample school ($(wc -l <"$TMP/minors"))" test "$(wc -l <"$TMP/minors")" -ge 81
mapfile -t M <"$TMP/minors"
COHORT=("${M[@]:0:70}") # the clean cohort
MIX=("${M[@]:70:8}")    # the mixed directory
SEC=("${M[@]:78:3}")    # --sections

check "the parent makes a key" "$BATON" guardian keygen --out "$TMP/parent.key"
run "$BATON" guardian pubkey "$TMP/parent.key"
PK=$(head -n1 "$OUT")
check "a stranger makes a key" "$BATON" guardian keygen --out "$TMP/stranger.key"
linked=0
for s in "${M[@]:0:81}"; do
	"$BATON" guardian link "$s" "$PK" --relation mother --dir "$A" >/dev/null 2>&1 && linked=$((linked + 1))
done
check "A links the parent to 81 students" test "$linked" -eq 81

# grant KEY STUDENT TO FILE [ARGS...]: the parent (or KEY) consents.
grant() {
	local key=$1 s=$2 to=$3 file=$4
	shift 4
	"$BATON" consent grant --key "$TMP/$key.key" --student "$s" --from "$TMP/LHS-001.card" \
		--to "$TMP/$to.card" --purpose "Enrollment at $to" --yes --out "$file" "$@" \
		>/dev/null 2>"$TMP/grant.err"
}

# ---- 1. usage ----
mkdir -p "$TMP/c70"
granted=0
for s in "${COHORT[@]}"; do
	grant parent "$s" RAS-204 "$TMP/c70/$s.consent" --sections all && granted=$((granted + 1))
done
check "the parent signs 70 consents" test "$granted" -eq 70
check_err 1 'consents' "--consents with a student is a usage error" "$BATON" send "${COHORT[0]}" \
	--to RAS-204 --consents "$TMP/c70" --dir "$A"
check_err 1 'consents' "--consents with --consent is a usage error" "$BATON" send --to RAS-204 \
	--consents "$TMP/c70" --consent "$TMP/c70/${COHORT[0]}.consent" --dir "$A"
check_err 1 'consents' "--consents with --out is a usage error" "$BATON" send --to RAS-204 \
	--consents "$TMP/c70" --out "$TMP/x.baton" --dir "$A"
check "the usage error wrote no file" test ! -e "$TMP/x.baton"
check_err 1 'to' "--consents without --to is a usage error" "$BATON" send --consents "$TMP/c70" --dir "$A"
check_err 3 "$TMP/none: No such file or directory" "a missing directory is an error naming it" \
	"$BATON" send --to RAS-204 --consents "$TMP/none" --dir "$A"
mkdir -p "$TMP/empty"
echo "not a consent" >"$TMP/empty/readme.txt"
cp "$TMP/c70/${COHORT[0]}.consent" "$TMP/empty/${COHORT[0]}.consent.bak"
check_err 2 "$TMP/empty: no \\*\\.consent files" "a directory with no *.consent file is an error naming it" \
	"$BATON" send --to RAS-204 --consents "$TMP/empty" --dir "$A"
# Two good consents, then a directory named x.consent: nothing goes.
mkdir -p "$TMP/withdir/x.consent"
cp "$TMP/c70/${COHORT[0]}.consent" "$TMP/c70/${COHORT[1]}.consent" "$TMP/withdir/"
run "$BATON" send --to RAS-204 --consents "$TMP/withdir" --dir "$A"
if [ "$RC" -ne 0 ] && grep -q "$TMP/withdir/x.consent" "$ERR"; then
	pass "a directory named x.consent is an error naming it"
else
	fail_run "a directory named x.consent is an error naming it"
fi
# The single send says "baton: DIR/x.consent: not a regular file"; the path once is enough.
if grep -Eq "^baton: (send: )?$TMP/withdir/x\\.consent: not a regular file\$" "$ERR"; then
	pass "the error names that path once, as a single send does"
else
	fail "the error names that path once, as a single send does" "stderr: $(cat "$ERR")" \
		"a single send says: baton: $TMP/withdir/x.consent: not a regular file"
fi
check "nothing was queued (the outbox is empty)" test "$(queued_in "$A")" -eq 0
check "nothing was disclosed" test "$(disclosures "$A")" -eq 0

# ---- 2. a clean cohort of 70: two transactions ----
check_exit 0 "A sends 70 students at once (exit 0)" "$BATON" send --to RAS-204 --consents "$TMP/c70" --dir "$A"
cp "$OUT" "$TMP/send70.out"
check "70 'queued' lines" test "$(queued_students "$TMP/send70.out" | wc -l)" -eq 70
check "one per student of the cohort, in alphabetical order of the files" sh -c \
	"ls '$TMP/c70' | sed 's/\\.consent\$//' >'$TMP/c70.list' &&
	 sed -n 's/^\\(S-[0-9]*\\) .*/\\1/p' '$TMP/send70.out' | cmp -s - '$TMP/c70.list'"
check "the summary line" grep -qx "70 of 70 students sealed for RAS-204 and queued for 'baton serve'; 0 refused" \
	"$TMP/send70.out"
check "nothing else on stdout" test "$(wc -l <"$TMP/send70.out")" -eq 71
check "nothing on stderr" test ! -s "$ERR"
check "A's outbox has 70 queued entries" test "$(queued_in "$A")" -eq 70
check "each to RAS-204, as a transfer" test "$(count '"to": "RAS-204"' "$TMP/outbox.json")$(count '"kind": "transfer"' "$TMP/outbox.json")" = 7070
check "70 different packets" test "$(sed -n 's/.*"packet": "\([0-9a-f]*\)".*/\1/p' "$TMP/outbox.json" | sort -u | wc -l)" -eq 70
check "A's audit log has 70 disclosures" test "$(disclosures "$A")" -eq 70
check "one for each student, to RAS-204" sh -c \
	"grep -E ' disclosure +basis consent +student S-[0-9]+ +school RAS-204 ' '$TMP/audit.txt' | sed 's/.*student \\(S-[0-9]*\\) .*/\\1/' | sort | cmp -s - '$TMP/c70.list'"
check_out 'chain intact' "A's audit log verifies" "$BATON" audit verify --dir "$A"

# ---- 4. --sections (before delivery, so that B receives these too) ----
mkdir -p "$TMP/sec"
grant parent "${SEC[0]}" RAS-204 "$TMP/sec/${SEC[0]}.consent" --sections all
grant parent "${SEC[1]}" RAS-204 "$TMP/sec/${SEC[1]}.consent" --sections all
grant parent "${SEC[2]}" RAS-204 "$TMP/sec/${SEC[2]}.consent" --sections transcript
check "three consents for --sections (${SEC[*]})" test -s "$TMP/sec/${SEC[2]}.consent"
# As for a single send: exit 2, naming the section, and nothing sealed.
check_err 2 '"nonsense" is not a section' "an unknown section is refused before anything is sealed" \
	"$BATON" send --to RAS-204 --consents "$TMP/sec" --sections identity,nonsense --dir "$A"
check "nothing on stdout, nothing queued" test "$(wc -c <"$OUT")/$(queued_in "$A")" = 0/70
check_exit 2 "--sections identity,enrollment: one consent does not cover it (exit 2)" \
	"$BATON" send --to RAS-204 --consents "$TMP/sec" --sections identity,enrollment --dir "$A"
cp "$OUT" "$TMP/sec.out"
check "the two covered students are queued" test "$(queued_students "$TMP/sec.out" | tr '\n' ' ')" = "${SEC[0]} ${SEC[1]} "
check "the student whose consent lacks enrollment is refused, ESECTIONS" grep -Eq \
	"^${SEC[2]} +refused \\(ESECTIONS\\): .*enrollment" "$TMP/sec.out"
check "the summary counts it" grep -qx "2 of 3 students sealed for RAS-204 and queued for 'baton serve'; 1 refused" "$TMP/sec.out"
check "no outbox entry for ${SEC[2]}" test "$(in_outbox "$A" "${SEC[2]}")" -eq 0
check "the disclosures name only identity and enrollment" test "$("$BATON" audit --dir "$A" |
	grep -cE " disclosure +basis consent +student (${SEC[0]}|${SEC[1]}) +school RAS-204 +sections enrollment,identity ")" -eq 2
check_out "release-refused.*${SEC[2]}.*ESECTIONS" "the refusal is in the audit log" "$BATON" audit --dir "$A"

# ---- 5. delivery: both serves ----
serve_start A "$A" a.log
serve_start B "$B" b.log
# delivered DESCRIPTION: passes when A's outbox has nothing queued within
# 600 s (a bound only a hang reaches); otherwise the last lines of both
# serve logs follow.
delivered() {
	local f
	if wait_for 600 no_queued "$A"; then
		pass "$1"
		return
	fi
	fail "$1" "$(queued_in "$A") still queued"
	for f in "$TMP"/a.log "$TMP"/b.log; do
		echo "# the last lines of $(basename "$f"):"
		tail -n 15 "$f" | diag
	done
}
delivered "A's outbox empties: nothing left queued"
outbox_json "$A"
check "A's outbox: all 72 entries receipted" test "$(count '"state": "receipted"' "$TMP/outbox.json")/$(count '"packet"' "$TMP/outbox.json")" = 72/72
"$BATON" student list --json --dir "$B" >"$TMP/listB.1"
missing=""
for s in $(queued_students "$TMP/send70.out") $(queued_students "$TMP/sec.out"); do
	grep -q "\"student_id\": \"$s\"" "$TMP/listB.1" || missing="$missing $s"
done
check "B has every queued student${missing:+ (missing:$missing)}" test -z "$missing"
check "B has exactly those 72 students" test "$(count '"student_id"' "$TMP/listB.1")" -eq 72
check "B has no refused student" sh -c "! grep -q '\"student_id\": \"${SEC[2]}\"' '$TMP/listB.1'"
run "$BATON" student show "${SEC[0]}" --json --dir "$B"
check "${SEC[0]} arrived at B with identity and enrollment" sh -c \
	"grep -q '^    \"identity\"' '$OUT' && grep -q '^    \"enrollment\"' '$OUT'"
check "and nothing else of the record: no transcript, attendance or guardians" sh -c \
	"! grep -Eq '^    \"(transcript|attendance|guardians|assessments)\"' '$OUT'"
run "$BATON" student show "${COHORT[0]}" --json --dir "$B"
check "${COHORT[0]} arrived with its transcript (all was consented)" grep -q '^    "transcript"' "$OUT"

# ---- 6. the same directory again: skipped, and resent only with --again ----
check_exit 0 "sending the same directory again sends nobody twice (exit 0)" "$BATON" send \
	--to RAS-204 --consents "$TMP/c70" --dir "$A"
cp "$OUT" "$TMP/skipped.out"
check "70 'skipped' lines" test "$(grep -c '^S-[0-9]* *skipped: already sent to RAS-204 under this consent' "$TMP/skipped.out")" -eq 70
check "the summary says so" grep -qx "70 already sent under the same consent and not sent again (--again sends them anyway)" "$TMP/skipped.out"
check "no new disclosure" test "$(disclosures "$A")" -eq 72
check_exit 0 "with --again the same directory is sent again (exit 0)" "$BATON" send --to RAS-204 \
	--consents "$TMP/c70" --again --dir "$A"
cp "$OUT" "$TMP/resend.out"
check "70 new 'queued' lines" test "$(queued_students "$TMP/resend.out" | wc -l)" -eq 70
check "the summary line" grep -qx "70 of 70 students sealed for RAS-204 and queued for 'baton serve'; 0 refused" \
	"$TMP/resend.out"
check "new packets, not the ones already delivered" test "$(cat "$TMP/send70.out" "$TMP/resend.out" |
	sed -n 's/.* packet \([0-9a-f]\{32\}\) queued.*/\1/p' | sort -u | wc -l)" -eq 140
check "each resend is a disclosure of its own (70 + 2 + 70)" test "$(disclosures "$A")" -eq 142
delivered "the resent packets are delivered"
outbox_json "$A"
check "A's outbox: all 142 entries receipted" test "$(count '"state": "receipted"' "$TMP/outbox.json")/$(count '"packet"' "$TMP/outbox.json")" = 142/142
"$BATON" student list --json --dir "$B" >"$TMP/listB.2"
# A student resent by the school it came from is the same student: at most
# a new version of it at B, never a second student.
ids() { sed -n 's/.*"student_id": "\(.*\)".*/\1/p' "$1" | sort; }
ids "$TMP/listB.1" >"$TMP/idsB.1"
ids "$TMP/listB.2" >"$TMP/idsB.2"
same "$TMP/idsB.1" "$TMP/idsB.2" "after the resend B still has the same 72 students, each once"
# The same record again is no new version: nothing for B's registrar to review.
check "B logged each of the 70 resent records as the same as the one on file" \
	test "$(grep -c 'imported as .*, version 1, the same record as the one on file$' "$TMP/b.log")" -eq 70
check "and flagged none of them for review" sh -c "! grep -q 'held for review' '$TMP/b.log'"
run "$BATON" audit --dir "$B"
check "B's audit log says so for each" test "$(grep -c 'the same as the one on file' "$OUT")" -eq 70
serve_stop A
check "A's serve stops on SIGTERM with exit code 0" test $? -eq 0
serve_stop B
check "B's serve stops on SIGTERM with exit code 0" test $? -eq 0

# ---- 3. a mixed directory (serves stopped: these packets stay queued) ----
# Sent two hours from now (BATON_NOW) so that a consent valid for one hour
# has expired; the others are valid for 30 days.
mkdir -p "$TMP/mix"
ok=0
for i in 0 1 2 3; do
	grant parent "${MIX[$i]}" RAS-204 "$TMP/mix/a$i-${MIX[$i]}.consent" --sections all && ok=$((ok + 1))
done
grant parent "${MIX[4]}" RAS-204 "$TMP/mix/t-${MIX[4]}.consent" --sections all && ok=$((ok + 1))
grant parent "${MIX[5]}" OTH-9 "$TMP/mix/o-${MIX[5]}.consent" --sections all && ok=$((ok + 1))
grant stranger "${MIX[6]}" RAS-204 "$TMP/mix/n-${MIX[6]}.consent" --sections all && ok=$((ok + 1))
grant parent "${MIX[7]}" RAS-204 "$TMP/mix/e-${MIX[7]}.consent" --sections all --expires 1h && ok=$((ok + 1))
check "eight consents for the mixed directory" test "$ok" -eq 8
# The signature is the last 64 bytes of the consent.
size=$(wc -c <"$TMP/mix/t-${MIX[4]}.consent")
flip "$TMP/mix/t-${MIX[4]}.consent" $((size - 10))
check_err 2 'DOES NOT VERIFY' "the tampered consent no longer verifies" "$BATON" consent show \
	"$TMP/mix/t-${MIX[4]}.consent"
head -c 300 /dev/urandom >"$TMP/mix/z.consent"
"$BATON" audit --dir "$A" >"$TMP/audit.txt"
REFUSED0=$(count ' release-refused ' "$TMP/audit.txt")
check_exit 2 "the mixed directory: some refused (exit 2)" env BATON_NOW=$(($(date +%s) + 7200)) \
	"$BATON" send --to RAS-204 --consents "$TMP/mix" --dir "$A"
cp "$OUT" "$TMP/mix.out"
check "the four good consents are queued" test "$(queued_students "$TMP/mix.out" | sort | tr '\n' ' ')" = \
	"$(printf '%s\n' "${MIX[@]:0:4}" | sort | tr '\n' ' ')"
check "the tampered consent is refused, naming the file" grep -Eq \
	"^t-${MIX[4]}\\.consent +refused \\(EBADSIG\\): " "$TMP/mix.out"
check "the garbage file is refused, naming the file" grep -Eq '^z\.consent +refused \([A-Z0-9_]+\): ' "$TMP/mix.out"
check "the consent to OTH-9 is refused for ${MIX[5]}, ETO" grep -Eq "^${MIX[5]} +refused \\(ETO\\): " "$TMP/mix.out"
check "the stranger's consent is refused for ${MIX[6]}, ENOTLINKED" grep -Eq \
	"^${MIX[6]} +refused \\(ENOTLINKED\\): " "$TMP/mix.out"
check "the expired consent is refused for ${MIX[7]}, EEXPIRED" grep -Eq \
	"^${MIX[7]} +refused \\(EEXPIRED\\): " "$TMP/mix.out"
check "one line per file, in alphabetical order, then the summary" sh -c \
	"test \"\$(sed -n 's/^\\([^ ]*\\) .*/\\1/p' '$TMP/mix.out' | head -n 9 | tr '\\n' ' ')\" = \
	'${MIX[0]} ${MIX[1]} ${MIX[2]} ${MIX[3]} ${MIX[7]} ${MIX[6]} ${MIX[5]} t-${MIX[4]}.consent z.consent '"
check "the summary counts 4 sealed, 5 refused" grep -qx \
	"4 of 9 students sealed for RAS-204 and queued for 'baton serve'; 5 refused" "$TMP/mix.out"
check "the last line is the summary" test "$(wc -l <"$TMP/mix.out")" -eq 10
outbox_json "$A"
check "A's outbox has 4 new entries, queued" test \
	"$(count '"packet"' "$TMP/outbox.json")/$(count '"state": "queued"' "$TMP/outbox.json")" = 146/4
nope=""
for s in "${MIX[@]:4:4}"; do
	grep -q "\"student\": \"$s\"" "$TMP/outbox.json" && nope="$nope $s"
done
check "no outbox entry for a refused student${nope:+ (found:$nope)}" test -z "$nope"
check "4 more disclosures, for the four sealed" test "$(disclosures "$A")" -eq 146
check "5 more release-refused entries in the audit log" test "$(count ' release-refused ' "$TMP/audit.txt")" -eq $((REFUSED0 + 5))
for e in "${MIX[5]}.*ETO" "${MIX[6]}.*ENOTLINKED" "${MIX[7]}.*EEXPIRED" "EBADSIG"; do
	check "release-refused: $e" grep -Eq " release-refused .*$e" "$TMP/audit.txt"
done
check_out 'chain intact' "A's audit log verifies" "$BATON" audit verify --dir "$A"

# ---- 1, continued: a file that cannot be read after the first 64 ----
# Nothing may go when the cohort cannot even be read: the registrar fixes
# the directory and sends it again, and must not send 64 students twice.
mkdir -p "$TMP/big/zz.consent"
cp "$TMP/c70/"*.consent "$TMP/big/"
outbox_json "$A"
cp "$TMP/outbox.json" "$TMP/outbox.before-big"
run "$BATON" send --to RAS-204 --consents "$TMP/big" --dir "$A"
if [ "$RC" -ne 0 ] && [ "$RC" -ne 2 ] && grep -q "$TMP/big/zz.consent" "$ERR"; then
	pass "a directory named zz.consent after 70 consents is an error naming it"
else
	fail_run "a directory named zz.consent after 70 consents is an error naming it"
fi
cp "$OUT" "$TMP/big.out"
outbox_json "$A"
if cmp -s "$TMP/outbox.before-big" "$TMP/outbox.json"; then
	pass "nothing of that cohort was queued"
else
	fail "nothing of that cohort was queued" "send printed: $(tail -n1 "$TMP/big.out")" \
		"A's outbox went from $(count '"packet"' "$TMP/outbox.before-big") to $(count '"packet"' "$TMP/outbox.json") entries"
fi
check "nor disclosed" test "$(disclosures "$A")" -eq 146

# ---- 7. large packets: sealed a lot at a time, kept in the store, intact ----
# The sample school with every attachment 700,000 random bytes: each packet
# is kept in the store (under 768 KiB), and a cohort's sealed packets wait in
# memory 8 MiB at a time, so the students below are sealed in several lots.
L=$TMP/lhs2
mkdir -p "$TMP/bigdata/files"
cp "$DATA/school.json" "$TMP/bigdata/"
for f in "$DATA"/files/*; do
	head -c 700000 /dev/urandom >"$TMP/bigdata/files/${f##*/}"
done
check "init LHS-002" "$BATON" init --name "Lincoln High Annex" --code LHS-002 --dir "$L"
check "card of LHS-002" "$BATON" card --dir "$L" --out "$TMP/LHS-002.card"
check "LHS-002 pins B" "$BATON" peer add "$TMP/RAS-204.card" --dir "$L"
check "B pins LHS-002" "$BATON" peer add "$TMP/LHS-002.card" --dir "$B"
check "LHS-002 imports the school with large attachments" "$BATON" student import \
	"$TMP/bigdata/school.json" --dir "$L"
BIG=()
for f in "$DATA"/files/*; do
	s=$(basename "$f" | cut -d- -f1-2)
	grep -qx "$s" "$TMP/minors" && BIG+=("$s")
done
mapfile -t BIG < <(printf '%s\n' "${BIG[@]}" | sort -u)
check "at least 12 minors with an attachment (${#BIG[@]})" test "${#BIG[@]}" -ge 12
mkdir -p "$TMP/cbig"
made=0
for s in "${BIG[@]}"; do
	"$BATON" guardian link "$s" "$PK" --relation mother --dir "$L" >/dev/null 2>&1 &&
		"$BATON" consent grant --key "$TMP/parent.key" --student "$s" --from "$TMP/LHS-002.card" \
			--to "$TMP/RAS-204.card" --sections all,special_education --yes \
			--out "$TMP/cbig/$s.consent" >/dev/null 2>&1 && made=$((made + 1))
done
check "the parent consents for each, special education included" test "$made" -eq "${#BIG[@]}"
check_exit 0 "LHS-002 seals all of them" "$BATON" send --to RAS-204 --consents "$TMP/cbig" --dir "$L"
cp "$OUT" "$TMP/cbig.out"
check "each packet is larger than its attachment" test "$(awk '/ queued, / && $(NF - 1) > 700000' \
	"$TMP/cbig.out" | wc -l)" -eq "${#BIG[@]}"
outbox_json "$L"
check "every packet is kept in the store (no packet file)" test "$(count '"file": ""' "$TMP/outbox.json")" -eq "${#BIG[@]}"
check_out 'chain intact' "LHS-002's audit log verifies" "$BATON" audit verify --dir "$L"
# Each packet carried by hand to B: it opens, and the attachment is the same bytes.
intact=0
for s in "${BIG[@]}"; do
	id=$(sed -n "s/^$s  *packet \([0-9a-f]\{32\}\) queued.*/\1/p" "$TMP/cbig.out")
	rm -rf "$TMP/exp2" && mkdir -p "$TMP/exp2"
	"$BATON" outbox export "$id" --out "$TMP/exp2/p.baton" --dir "$L" >/dev/null 2>&1 &&
		"$BATON" import "$TMP/exp2/p.baton" --dir "$B" >"$TMP/exp2/import.out" 2>&1 &&
		local_id=$(sed -n 's/.* as \([^,]*\), version.*/\1/p' "$TMP/exp2/import.out") &&
		"$BATON" student export "$local_id" --out "$TMP/exp2/r.json" --dir "$B" >/dev/null 2>&1 &&
		cmp -s "$TMP/exp2/$local_id-files/"* "$TMP/bigdata/files/$s-"* && intact=$((intact + 1))
done
check "B opens every one, and every attachment arrives byte for byte (${intact}/${#BIG[@]})" \
	test "$intact" -eq "${#BIG[@]}"

done_testing
