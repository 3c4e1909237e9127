#!/usr/bin/env bash
# What a registrar and an IT person expect of a command: 'baton help CMD',
# a suggestion for a mistyped command, --dir before the command, a guardian
# public key without the passphrase, full names aligned in 'student list'
# and a search term, the inbox and the outbox oldest first with dates,
# --json on import, send and audit verify, a progress line on a terminal
# only, and an import that reports every bad record.
. "$(dirname "$0")/lib.sh"

export BATON_PASSPHRASE="a long enough passphrase"
A=$TMP/lhs B=$TMP/ras
IN=$TMP/in
mkdir -p "$IN"

# rc_is CODE DESCRIPTION: the last run exited with CODE (its output shown if not).
rc_is() {
	if [ "$RC" -eq "$1" ]; then pass "$2"; else fail_run "$2" "expected exit code $1"; fi
}
# jq1 FILTER FILE: FILE holds exactly one JSON value, and FILTER is true of it.
jq1() {
	jq -e -s "length == 1 and (.[0] | $1)" "$2" >/dev/null
}

# ---- help and mistyped commands ----
run "$BATON" student --help
cp "$OUT" "$TMP/student.help"
check "baton help student exits 0" "$BATON" help student
same "$TMP/student.help" "$OUT" "baton help student prints what baton student --help does"
run "$BATON" send --help
cp "$OUT" "$TMP/send.help"
check "baton help send exits 0" "$BATON" help send
same "$TMP/send.help" "$OUT" "baton help send prints send's usage"
run "$BATON" student import --help
cp "$OUT" "$TMP/import.help"
check "baton help student import exits 0" "$BATON" help student import
same "$TMP/import.help" "$OUT" "baton help student import prints import's usage"
check_out '^  inbox  ' "baton help lists the commands" "$BATON" help
check_err 1 '^baton: unknown command "studnet"; did you mean "student"\?$' \
	"a mistyped command gets a suggestion (exit 1)" "$BATON" studnet
check_err 1 '^baton: unknown command "student lsit"; did you mean "student list"\?$' \
	"so does a mistyped subcommand" "$BATON" student lsit
check_err 1 '^baton: unknown command "help studnet"|^baton: unknown command "studnet"' \
	"help for a mistyped command is refused (exit 1)" "$BATON" help studnet

# ---- --dir before the command ----
check "init A" "$BATON" init --name "Lincoln High School" --code LHS-001 --dir "$A"
check "card of A" "$BATON" card --dir "$A" --out "$TMP/LHS-001.card"
check "init B" "$BATON" init --name "Riverside Academy" --code RAS-204 --dir "$B"
check "card of B" "$BATON" card --dir "$B" --out "$TMP/RAS-204.card"
check "A pins B" "$BATON" peer add "$TMP/RAS-204.card" --dir "$A"
check "B pins A" "$BATON" peer add "$TMP/LHS-001.card" --dir "$B"
check_out 'RAS-204' "--dir before peer list names the node" "$BATON" --dir "$A" peer list
check_out 'LHS-001' "so does --dir=DIR" "$BATON" --dir="$B" peer list
check_out 'No students yet' "--dir before student list names the node" "$BATON" --dir "$A" student list
check_out 'No students yet' "--dir after the command wins over one before" \
	"$BATON" --dir "$TMP/nowhere" student list --dir "$A"

# ---- student list: full names, aligned by width on screen, a search term ----
cat >"$IN/names.json" <<'JSON'
[
{"student_id": "S-1", "identity": {"given_name": "José", "family_name": "García", "birth_date": "2011-04-17"}},
{"student_id": "S-2", "identity": {"given_name": "小龙", "family_name": "李", "birth_date": "2012-01-01"}},
{"student_id": "S-3", "identity": {"given_name": "Ann", "family_name": "Lee", "birth_date": "2010-05-05"}}
]
JSON
check_out '^Imported 3 records' "import three students" "$BATON" student import "$IN/names.json" --dir "$A"
printf '%s\n' 'S-1  José García  2011-04-17  v1' 'S-2  小龙 李      2012-01-01  v1' \
	'S-3  Ann Lee      2010-05-05  v1' >"$TMP/list.expected"
check "student list" "$BATON" student list --dir "$A"
same "$TMP/list.expected" "$OUT" "student list shows given and family names, columns aligned on screen"
check "student list garc" "$BATON" student list garc --dir "$A"
grep '^S-1 ' "$TMP/list.expected" >"$TMP/garc.expected"
same "$TMP/garc.expected" "$OUT" "a search term matches a family name, upper or lower case"
check "student list s-3" "$BATON" student list s-3 --dir "$A"
echo 'S-3  Ann Lee  2010-05-05  v1' >"$TMP/s3.expected"
same "$TMP/s3.expected" "$OUT" "and an id; the columns are as wide as what is listed"
check_out '^No student matches' "a term nothing matches says so" "$BATON" student list zzz --dir "$A"

# ---- student import: every error, numbered from 1; CSV; --json ----
{
	echo '['
	for i in $(seq 1 108); do
		[ "$i" = 1 ] || echo ','
		if [ "$i" = 1 ] || [ "$i" = 2 ]; then
			printf '{"student_id": "T-%d", "identity": {"given_name": "Ana", "family_name": "Ruiz", "birth_date": "2011-01-01"}}' "$i"
		else
			printf '{"student_id": "T-%d", "identity": {"given_name": "Ana", "family_name": "Ruiz", "birth_date": "2011-02-30"}}' "$i"
		fi
	done
	echo ']'
} >"$IN/many.json"
run "$BATON" student list --json --dir "$A"
cp "$OUT" "$TMP/before.json"
run "$BATON" student import "$IN/many.json" --dir "$A"
cp "$ERR" "$TMP/many.err"
rc_is 2 "an import with 106 bad records is refused (exit 2)"
check "the first bad record is named by its number from 1" \
	grep -q '^baton: .*many\.json: record 3 (T-3): identity\.birth_date: .*2011-02-30' "$TMP/many.err"
check "100 errors are listed" test "$(count 'record [0-9]+ \(T-[0-9]+\): identity\.birth_date' "$TMP/many.err")" -eq 100
check "the record after the hundredth bad one is not listed" sh -c "! grep -q 'record 103 ' '$TMP/many.err'"
check "and the rest are counted" grep -q '^baton: .*many\.json: and 6 more$' "$TMP/many.err"
check "the last line says nothing was imported" \
	sh -c "tail -n1 '$TMP/many.err' | grep -q '^baton: .*many\.json: 106 errors; nothing was imported$'"
run "$BATON" student list --json --dir "$A"
same "$TMP/before.json" "$OUT" "nothing was imported"
run "$BATON" student import "$IN/many.json" --json --dir "$A"
cp "$OUT" "$TMP/many.json.out"
rc_is 2 "--json: still exit 2"
check "--json: one JSON object on stdout" jq1 'type == "object"' "$TMP/many.json.out"
check "--json: the counts and the first error, by record number" jq1 \
	'.imported == false and .records == 108 and .bad_records == 106 and (.errors | length) == 100 and .errors[0].record == 3 and .errors[0].student_id == "T-3" and (.errors[0].error | test("birth_date"))' "$TMP/many.json.out"
printf '\xef\xbb\xbf[{"student_id": "S-5", "identity": {"given_name": "Eve", "family_name": "Kim", "birth_date": "2011-05-05"}}]\r\n' >"$IN/bom.json"
check_out '^Imported 1 records' "a file that starts with a UTF-8 byte order mark imports" \
	"$BATON" student import "$IN/bom.json" --dir "$A"
printf 'student_id,given_name,family_name\nS-9,Ana,Ruiz\n' >"$IN/students.csv"
check_err 2 'students\.csv: this looks like CSV; baton imports JSON records \(see RECORD\.md\)' \
	"a CSV file is named as such" "$BATON" student import "$IN/students.csv" --dir "$A"
printf '[{"student_id": "S-4", "identity": {"given_name": "Bo", "family_name": "Li", "birth_date": "2011-03-03"}}]\n' >"$IN/one.json"
run "$BATON" student import "$IN/one.json" --json --dir "$A"
cp "$OUT" "$TMP/one.out"
rc_is 0 "--json on a good import: exit 0"
check "--json: the counts, and each student's id and what became of it" jq1 \
	'.imported == true and .records == 1 and .new == 1 and .unchanged == 0 and .errors == [] and .students == [{"student_id": "S-4", "result": "new", "version": 1}]' "$TMP/one.out"

# ---- progress: on a terminal only ----
{
	echo '['
	for i in $(seq 1 400); do
		[ "$i" = 1 ] || echo ','
		printf '{"student_id": "P-%d", "identity": {"given_name": "Ana", "family_name": "Ruiz", "birth_date": "2011-01-01"}}' "$i"
	done
	echo ']'
} >"$IN/progress.json"
run env BATON_PROGRESS_AFTER=0 "$BATON" student import "$IN/progress.json" --dir "$A"
cp "$ERR" "$TMP/progress.err"
rc_is 0 "an import with stderr a file: exit 0"
check "and no progress bytes in it" sh -c "! grep -q \$(printf '\\r') '$TMP/progress.err' && ! grep -q importing '$TMP/progress.err'"
if command -v script >/dev/null; then
	run env BATON_PROGRESS_AFTER=0 script -qec "'$BATON' student import '$IN/progress.json' --dir '$A'" /dev/null
	cp "$OUT" "$TMP/tty.out"
	check "on a terminal, the import shows a progress line" grep -q 'baton: importing .*progress\.json: [0-9]* records' "$TMP/tty.out"
	check "rewritten in place and cleared at the end" grep -q "$(printf '\r\033\\[K')" "$TMP/tty.out"
else
	T=$((T + 2))
	echo "ok $((T - 1)) # SKIP no script(1) to give the import a terminal"
	echo "ok $T # SKIP no script(1)"
fi

# ---- guardian pubkey without the passphrase ----
check "the parent makes a key" "$BATON" guardian keygen --out "$TMP/parent.key"
sed -n 2p "$OUT" >"$TMP/pk.expected"
PK=$(cat "$TMP/pk.expected")
run env -u BATON_PASSPHRASE setsid -w "$BATON" guardian pubkey "$TMP/parent.key"
cp "$OUT" "$TMP/pk.out"
cp "$ERR" "$TMP/pk.err"
rc_is 0 "guardian pubkey needs no passphrase (no terminal, none set)"
same "$TMP/pk.expected" "$TMP/pk.out" "and prints only the key line on stdout"
check "its fingerprint goes to stderr" grep -q '^fingerprint [A-Z2-7-]*$' "$TMP/pk.err"

# ---- the outbox and the inbox, oldest first, with dates ----
T0=$(date +%s)
check "A links the parent to S-1" "$BATON" guardian link S-1 "$PK" --relation mother --dir "$A"
check "the parent consents" env BATON_NOW="$T0" "$BATON" consent grant --key "$TMP/parent.key" \
	--student S-1 --from "$TMP/LHS-001.card" --to "$TMP/RAS-204.card" --sections all --yes \
	--out "$TMP/c.consent"
for h in 4 1 3 5 2; do
	env BATON_NOW=$((T0 + h * 3600)) "$BATON" send S-1 --to RAS-204 --consent "$TMP/c.consent" \
		--again --out "$TMP/p$h.baton" --dir "$A" >/dev/null 2>&1
done
dates() { # FROM TO: the dates T0+FROM..TO hours, one a line, as the command prints them
	for h in $(seq "$1" "$2"); do date -u -d "@$((T0 + h * 3600))" '+%Y-%m-%d %H:%M UTC'; done
}
dates 1 5 >"$TMP/out.dates"
check "outbox" "$BATON" outbox --dir "$A"
sed -n 's/^[0-9a-f]\{32\}  \([0-9-]* [0-9:]* UTC\)  .*/\1/p' "$OUT" >"$TMP/out.got"
same "$TMP/out.dates" "$TMP/out.got" "the outbox lists five packets oldest first, each with its date"
for h in 3 1 5 2 4; do
	env BATON_NOW=$((T0 + (h + 10) * 3600)) "$BATON" import "$TMP/p$h.baton" --dir "$B" >/dev/null 2>&1
done
dates 11 15 >"$TMP/in.dates"
check "inbox" "$BATON" inbox --dir "$B"
sed -n 's/^[0-9a-f]\{32\}  \([0-9-]* [0-9:]* UTC\)  .*/\1/p' "$OUT" >"$TMP/in.got"
same "$TMP/in.dates" "$TMP/in.got" "the inbox lists five packets oldest first, each with its date"
"$BATON" inbox --json --dir "$B" >"$TMP/inbox.json"
check "inbox --json oldest first" jq1 '[.[].time] == ([.[].time] | sort) and length == 5' "$TMP/inbox.json"

# ---- --json on send and audit verify ----
run env BATON_NOW=$((T0 + 7200)) "$BATON" send S-1 --to RAS-204 --consent "$TMP/c.consent" --again \
	--out "$TMP/p9.baton" --json --dir "$A"
cp "$OUT" "$TMP/send.out"
rc_is 0 "send --json: exit 0"
check "send --json: one object with the packet" jq1 \
	'.sent == true and .student == "S-1" and .to == "RAS-204" and (.packet | test("^[0-9a-f]{32}$")) and .bytes > 0' "$TMP/send.out"
run env BATON_NOW=$((T0 + 40 * 86400)) "$BATON" send S-1 --to RAS-204 --consent "$TMP/c.consent" \
	--again --out "$TMP/p10.baton" --json --dir "$A"
cp "$OUT" "$TMP/refused.out"
rc_is 2 "send --json of an expired consent: still exit 2"
check "and the object says it was refused, and why" jq1 \
	'.sent == false and .state == "refused" and (.error | test("expire"))' "$TMP/refused.out"
check_err 2 '^baton: release refused \(ECONSENT\): the consent is for student S-1, not S-2$' \
	"a consent for another student: refused, saying whose it is (exit 2)" \
	env BATON_NOW=$((T0 + 7200)) "$BATON" send S-2 --to RAS-204 --consent "$TMP/c.consent" --dir "$A"
run env BATON_NOW=$((T0 + 7200)) "$BATON" send S-2 --to RAS-204 --consent "$TMP/c.consent" --json --dir "$A"
cp "$OUT" "$TMP/other.out"
check "and --json says the same" jq1 \
	'.sent == false and .state == "refused" and .error == "the consent is for student S-1, not S-2"' "$TMP/other.out"
run env BATON_NOW=$((T0 + 7200)) "$BATON" import "$TMP/p9.baton" --receipt-out "$TMP/p9.receipt" \
	--json --dir "$B"
cp "$OUT" "$TMP/import.out"
rc_is 0 "import --json of a packet: exit 0"
check "import --json: one object, the record on file, the receipt" jq1 \
	'.result == "unchanged" and .student == "S-1" and .version == 1 and .from == "LHS-001" and .receipt == "'"$TMP/p9.receipt"'"' \
	"$TMP/import.out"
run env BATON_NOW=$((T0 + 7200)) "$BATON" import "$TMP/p9.baton" --json --dir "$B"
cp "$OUT" "$TMP/import.out"
check "import --json of it again: seen before" jq1 '.result == "seen before" and .student == "S-1"' "$TMP/import.out"
run env BATON_NOW=$((T0 + 7200)) "$BATON" import "$TMP/p9.baton" --json --dir "$A"
cp "$OUT" "$TMP/import.out"
rc_is 2 "import --json at a school that did not pin the sender: exit 2"
check "and the object says refused, and why" jq1 \
	'.result == "refused" and .reason == "unknown_sender" and .from == null and (.error | length > 0)' \
	"$TMP/import.out"
check_err 3 "^baton: $TMP/LHS-001.card: already exists; not overwriting it \\(--force replaces it\\)\$" \
	"an existing --out file is named once (exit 3)" "$BATON" card --dir "$A" --out "$TMP/LHS-001.card"
run "$BATON" audit verify --json --dir "$A"
cp "$OUT" "$TMP/verify.out"
rc_is 0 "audit verify --json: exit 0"
check "audit verify --json: verified, with the count" jq1 '.verified == true and .entries > 5' "$TMP/verify.out"

# ---- progress on a single send and a packet import: on a terminal only ----
run env BATON_PROGRESS_AFTER=0 "$BATON" send S-1 --to RAS-204 --consent "$TMP/c.consent" --again \
	--out "$TMP/p11.baton" --dir "$A"
cp "$ERR" "$TMP/send.err"
rc_is 0 "a send with stderr a file: exit 0"
check "and no progress bytes in it" sh -c "! grep -q \$(printf '\\r') '$TMP/send.err' && ! grep -q sealing '$TMP/send.err'"
if command -v script >/dev/null; then
	run env BATON_PROGRESS_AFTER=0 script -qec "'$BATON' send S-1 --to RAS-204 --consent '$TMP/c.consent' --again --out '$TMP/p12.baton' --dir '$A'" /dev/null
	cp "$OUT" "$TMP/send.tty"
	check "on a terminal, a send shows a progress line" grep -q 'baton: sealing S-1 for RAS-204: [0-9]* s' "$TMP/send.tty"
	run env BATON_PROGRESS_AFTER=0 script -qec "'$BATON' import '$TMP/p12.baton' --dir '$B'" /dev/null
	cp "$OUT" "$TMP/import.tty"
	check "and so does a packet import" grep -q 'baton: importing .*p12\.baton: [0-9]* s' "$TMP/import.tty"
else
	T=$((T + 2))
	echo "ok $((T - 1)) # SKIP no script(1) to give the send a terminal"
	echo "ok $T # SKIP no script(1)"
fi

# ---- progress on a cohort send: on a terminal only ----
mkdir -p "$TMP/cohort"
cp "$TMP/c.consent" "$TMP/cohort/S-1.consent"
run env BATON_PROGRESS_AFTER=0 "$BATON" send --to RAS-204 --consents "$TMP/cohort" --again --dir "$A"
cp "$ERR" "$TMP/cohort.err"
rc_is 0 "a cohort send with stderr a file: exit 0"
check "and no progress bytes in it" sh -c "! grep -q \$(printf '\\r') '$TMP/cohort.err' && ! grep -q 'sending to' '$TMP/cohort.err'"
if command -v script >/dev/null; then
	run env BATON_PROGRESS_AFTER=0 script -qec "'$BATON' send --to RAS-204 --consents '$TMP/cohort' --again --dir '$A'" /dev/null
	cp "$OUT" "$TMP/cohort.tty"
	check "on a terminal, a cohort send shows a progress line" grep -q 'baton: sending to RAS-204: 1 of 1 students' "$TMP/cohort.tty"
else
	T=$((T + 1))
	echo "ok $T # SKIP no script(1) to give the send a terminal"
fi

done_testing
