#!/usr/bin/env bash
# Crash consistency of import: school A seals one packet for each of 200
# students (some with their PDF attachments), and school B imports them one
# by one while about half of the imports are killed with SIGKILL after a
# random delay, so that kills land before, during and after the commit.
# After every kill, and at the end: a receipt file exists only for a packet
# that is in B's inbox as accepted, with its student; no student exists at B
# without its inbox entry and its "received" audit entry; the audit log
# verifies. At the end, B's node directory has gained no file, no partial
# file is left beside the receipts, and every packet is imported again (the
# ones that had no receipt yet once more): each one is imported exactly
# once, and a replay gets the very bytes of the first receipt.
#
# The delays come from $RANDOM seeded with CRASH_SEED (printed below), so
# a failing run can be repeated with the same sequence of delays (the
# moments they land at still depend on the machine). The TAP lines are the
# same whatever the kills do: each check sums up every round and names the
# first packet that failed it.
. "$(dirname "$0")/lib.sh"

A=$TMP/lhs B=$TMP/ras
DATA=$BATON_SRC/tests/data
NPKT=${CRASH_PACKETS:-200} # packets sealed and imported
NCAL=4                     # imports timed, not killed, to size the kill window
SEED=${CRASH_SEED:-20261123}
echo "# seed $SEED (set CRASH_SEED to repeat), $NPKT packets"

# A sleep of a number of microseconds without a fork: read with a timeout
# on a FIFO that never has data (this shell holds both of its ends).
mkfifo "$TMP/.never"
exec {NEVER}<>"$TMP/.never"
pause_us() {
	read -r -t "$(printf '%d.%06d' $(($1 / 1000000)) $(($1 % 1000000)))" -u "$NEVER" || :
}

skip() {
	T=$((T + 1))
	echo "ok $T # SKIP $1"
}

now_us() {
	local t=${EPOCHREALTIME/./}
	echo $((10#$t))
}

# ---- two schools, 240 students, the consents and the packets ----

check "init A" "$BATON" init --name "Lincoln High School" --code LHS-001 --dir "$A" --no-passphrase
check "init B" "$BATON" init --name "Riverside Academy" --code RAS-204 --dir "$B" --no-passphrase
check "cards" sh -c "'$BATON' card --dir '$A' --out '$TMP/a.card' >/dev/null &&
	'$BATON' card --dir '$B' --out '$TMP/b.card' >/dev/null"
check "A pins B and B pins A" sh -c "'$BATON' peer add '$TMP/b.card' --dir '$A' >/dev/null &&
	'$BATON' peer add '$TMP/a.card' --dir '$B' >/dev/null"
check_out '240 new students' "A imports the sample school" "$BATON" student import "$DATA/school.json" --dir "$A"
check "a parent's key, and an adult student's own key" sh -c "
	'$BATON' guardian keygen --out '$TMP/parent.key' --no-passphrase >/dev/null 2>&1 &&
	'$BATON' guardian keygen --out '$TMP/adult.key' --no-passphrase >/dev/null 2>&1"
PK_PARENT=$("$BATON" guardian pubkey "$TMP/parent.key" 2>/dev/null | head -n1)
PK_ADULT=$("$BATON" guardian pubkey "$TMP/adult.key" 2>/dev/null | head -n1)

# The students, those with attachments first: "ID BIRTH_DATE" per line.
awk -F'"' '$2 == "student_id" { id = $4 } $2 == "birth_date" && id != "" { print id, $4; id = "" }' \
	"$DATA/school.json" >"$TMP/students.all"
find "$DATA/files" -name 'S-*' -printf '%f\n' | sed -n 's/^\(S-[0-9]*\)-.*/\1/p' | sort -u >"$TMP/with.files"
{
	grep -wFf "$TMP/with.files" "$TMP/students.all"
	grep -vwFf "$TMP/with.files" "$TMP/students.all"
} >"$TMP/students.sorted"

# Who signs: the parent, or the student once 18 (the node's rule, on the
# UTC date). Students within two days of their 18th birthday are left out,
# so that the date turning during the run changes nothing.
NOW=$(date +%s)
EARLY=$(date -u -d "@$((NOW - 2 * 86400))" +%F)
LATE=$(date -u -d "@$((NOW + 2 * 86400))" +%F)
SID=() ROLE=() PID=()
while read -r id birth; do
	[ "${#SID[@]}" -lt "$NPKT" ] || break
	b18="$((10#${birth%%-*} + 18))-${birth#*-}"
	if [[ ! $b18 > $LATE ]] && [[ ! $b18 < $EARLY ]]; then
		continue
	fi
	SID+=("$id")
	if [[ $b18 < $EARLY ]]; then ROLE+=(student); else ROLE+=(guardian); fi
done <"$TMP/students.sorted"
check "$NPKT students were picked (${#SID[@]})" test "${#SID[@]}" -eq "$NPKT"
NPKT=${#SID[@]}

bad=""
for ((i = 0; i < NPKT; i++)); do
	if [ "${ROLE[$i]}" = student ]; then
		"$BATON" guardian link "${SID[$i]}" "$PK_ADULT" --relation self --dir "$A" >/dev/null 2>"$TMP/err"
	else
		"$BATON" guardian link "${SID[$i]}" "$PK_PARENT" --relation mother --dir "$A" >/dev/null 2>"$TMP/err"
	fi || { bad="${SID[$i]}: $(head -n1 "$TMP/err")"; break; }
done
if [ -z "$bad" ]; then pass "A links a key to each of the $NPKT students"; else fail "A links a key to each student" "first failure: $bad"; fi

bad=""
for ((i = 0; i < NPKT; i++)); do
	key=$TMP/parent.key
	[ "${ROLE[$i]}" = student ] && key=$TMP/adult.key
	"$BATON" consent grant --key "$key" --role "${ROLE[$i]}" --student "${SID[$i]}" \
		--from "$TMP/a.card" --to "$TMP/b.card" --sections all,special_education --yes \
		--out "$TMP/c$i.consent" >/dev/null 2>"$TMP/err" || { bad="${SID[$i]}: $(head -n1 "$TMP/err")"; break; }
done
if [ -z "$bad" ]; then pass "$NPKT consents are signed"; else fail "one consent per student is signed" "first failure: $bad"; fi

bad="" natt=0
for ((i = 0; i < NPKT; i++)); do
	if ! "$BATON" send "${SID[$i]}" --to RAS-204 --consent "$TMP/c$i.consent" --out "$TMP/p$i.baton" \
		--dir "$A" >"$TMP/out" 2>"$TMP/err"; then
		bad="${SID[$i]}: $(head -n1 "$TMP/err")"
		break
	fi
	PID+=("$(sed -n 's/^ *packet \([0-9a-f]*\),.*/\1/p' "$TMP/out")")
	grep -qx "${SID[$i]}" "$TMP/with.files" && natt=$((natt + 1))
done
if [ -z "$bad" ] && [ "$natt" -gt 0 ]; then
	pass "A seals $NPKT packets, $natt of them with a PDF attachment"
else
	fail "A seals one packet per student, some with attachments" "first failure: ${bad:-no attachments}"
fi
if [ -n "$bad" ]; then
	done_testing
fi
# The files of B's node before any import: an import adds none.
(cd "$B" && find . -type f | sort) >"$TMP/files.before"

# ---- B's state, read back ----

# snapshot: B's inbox, students and "received" audit entries, as
# $TMP/s.inbox ("packet student result"), $TMP/s.students ("id") and
# $TMP/s.received ("packet student"). Fails when a read fails.
snapshot() {
	"$BATON" inbox --json --dir "$B" >"$TMP/j.inbox" 2>"$TMP/j.err" &&
		"$BATON" student list --json --dir "$B" >"$TMP/j.students" 2>"$TMP/j.err" &&
		"$BATON" audit --json --dir "$B" >"$TMP/j.audit" 2>"$TMP/j.err" || return 1
	awk -F'"' '$2 == "packet" { p = $4 } $2 == "student" { s = $4 } $2 == "result" { r = $4 }
		/^  }/ { print p, s, r; p = s = r = "" }' "$TMP/j.inbox" >"$TMP/s.inbox"
	awk -F'"' '$2 == "student_id" { print $4 }' "$TMP/j.students" >"$TMP/s.students"
	awk -F'"' '$2 == "action" { a = $4 } $2 == "packet" { p = $4 } $2 == "student" { s = $4 }
		/^  }/ { if (a == "received") print p, s; a = p = s = "" }' "$TMP/j.audit" >"$TMP/s.received"
}

# receipts_on_file: "N PACKET" for each packet N whose receipt file exists.
receipts_on_file() {
	local i
	for ((i = 0; i < NPKT; i++)); do
		[ -e "$TMP/r$i" ] && echo "$i ${PID[$i]}"
	done
}

# consistent WHEN: checks B after an import; the first problem of each kind
# is kept in BAD_RECEIPT, BAD_STUDENT and BAD_VERIFY.
BAD_RECEIPT="" BAD_STUDENT="" BAD_VERIFY="" ROUNDS=0
consistent() {
	local when=$1 res
	ROUNDS=$((ROUNDS + 1))
	if ! snapshot; then
		[ -n "$BAD_STUDENT" ] || BAD_STUDENT="$when: reading B failed: $(head -n1 "$TMP/j.err")"
		return
	fi
	receipts_on_file >"$TMP/s.receipts"
	res=$(awk '
		FILENAME == ARGV[1] { if ($3 == "accepted") acc[$1] = $2; boxed[$2] = 1; next }
		FILENAME == ARGV[2] { stu[$1] = 1; next }
		FILENAME == ARGV[3] { rec[$2] = 1; recp[$1] = 1; next }
		{
			if (!($2 in acc)) { print "R packet p" $1 " has a receipt file but is not accepted in the inbox"; found = 1; exit }
			if (!(acc[$2] in stu)) { print "R packet p" $1 " has a receipt file but its student " acc[$2] " is missing"; found = 1; exit }
		}
		END {
			if (found)
				exit
			for (s in stu) {
				if (!(s in boxed)) { print "S student " s " has no inbox entry"; exit }
				if (!(s in rec)) { print "S student " s " has no received audit entry"; exit }
			}
			for (p in acc) {
				if (!(acc[p] in stu)) { print "S inbox entry " p " names student " acc[p] ", who is not on file"; exit }
				if (!(p in recp)) { print "S accepted packet " p " has no received audit entry"; exit }
			}
		}' "$TMP/s.inbox" "$TMP/s.students" "$TMP/s.received" "$TMP/s.receipts")
	case $res in
	R*) [ -n "$BAD_RECEIPT" ] || BAD_RECEIPT="$when: ${res#R }" ;;
	S*) [ -n "$BAD_STUDENT" ] || BAD_STUDENT="$when: ${res#S }" ;;
	esac
	local i
	for ((i = 0; i < NPKT; i++)); do
		if [ -e "$TMP/r$i" ] && [ ! -s "$TMP/r$i" ]; then
			[ -n "$BAD_RECEIPT" ] || BAD_RECEIPT="$when: the receipt file of packet p$i is empty"
			break
		fi
	done
	if ! "$BATON" audit verify --dir "$B" >/dev/null 2>"$TMP/j.err"; then
		[ -n "$BAD_VERIFY" ] || BAD_VERIFY="$when: $(head -n1 "$TMP/j.err")"
	fi
}

# in_inbox PACKET_ID: whether the last snapshot has the packet as accepted.
in_inbox() {
	grep -q "^$1 .* accepted\$" "$TMP/s.inbox"
}

# ---- the imports, about half of them killed ----

# The last packet is kept for the kill at a known moment, below.
KEEP=$((NPKT - 1))
RANDOM=$SEED
BAD_RUN="" SPENT=0 WINDOW=0
KILLED_BEFORE=0 KILLED_AFTER=0 KILLED_AFTER_RECEIPT=0 SURVIVED=0 KILLS=0
for ((i = 0; i < KEEP; i++)); do
	if ((i < NCAL || i % 2 == 0)); then
		t0=$(now_us)
		"$BATON" import "$TMP/p$i.baton" --receipt-out "$TMP/r$i" --dir "$B" >"$TMP/imp.out" 2>"$TMP/imp.err" </dev/null
		st=$?
		t1=$(now_us)
		if [ "$st" -ne 0 ] || ! grep -q "^Imported .* as ${SID[$i]}, version 1" "$TMP/imp.out"; then
			[ -n "$BAD_RUN" ] || BAD_RUN="p$i (${SID[$i]}): exit $st: $(head -n1 "$TMP/imp.err")"
		fi
		if ((i < NCAL)); then
			SPENT=$((SPENT + t1 - t0))
			if ((i == NCAL - 1)); then
				# Kills land anywhere from before exec to just after exit.
				WINDOW=$((5 * SPENT / NCAL / 4))
				((WINDOW >= 2000)) || WINDOW=2000
				echo "# an import takes about $((SPENT / NCAL)) us: kill delays are uniform in [0, $WINDOW) us"
			fi
		fi
		continue
	fi
	delay=$((((RANDOM << 15) | RANDOM) % WINDOW))
	"$BATON" import "$TMP/p$i.baton" --receipt-out "$TMP/r$i" --dir "$B" >"$TMP/imp.out" 2>"$TMP/imp.err" </dev/null &
	pid=$!
	pause_us "$delay"
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null # (no "Killed" notice on stderr)
	st=$?
	KILLS=$((KILLS + 1))
	consistent "after killing the import of p$i (${SID[$i]}) at $delay us"
	if [ "$st" -eq 137 ]; then
		if in_inbox "${PID[$i]}"; then
			KILLED_AFTER=$((KILLED_AFTER + 1))
			[ -e "$TMP/r$i" ] && KILLED_AFTER_RECEIPT=$((KILLED_AFTER_RECEIPT + 1))
		else
			KILLED_BEFORE=$((KILLED_BEFORE + 1))
		fi
	elif [ "$st" -eq 0 ] && grep -q "^Imported .* as ${SID[$i]}, version 1" "$TMP/imp.out"; then
		SURVIVED=$((SURVIVED + 1))
	else
		[ -n "$BAD_RUN" ] || BAD_RUN="p$i (${SID[$i]}), killed at $delay us: exit $st: $(head -n1 "$TMP/imp.err")"
	fi
done
echo "# $KILLS kills: $KILLED_BEFORE before the commit, $KILLED_AFTER after it" \
	"($KILLED_AFTER_RECEIPT of them with the receipt written), $SURVIVED too late (the import had ended)"

if [ -z "$BAD_RUN" ]; then
	pass "$KEEP imports, $KILLS of them under a SIGKILL: each one not killed imported its student"
else
	fail "each import not killed imports its student" "first failure: $BAD_RUN"
fi
if [ "$KILLED_BEFORE" -gt 0 ] || [ "$KILLED_AFTER" -gt 0 ]; then
	pass "some of the $KILLS kills stopped an import ($KILLED_BEFORE before the commit, $KILLED_AFTER after)"
else
	fail "some kills stop an import" "none did: every import ended before its kill; the window was $WINDOW us"
fi
if [ -z "$BAD_RECEIPT" ]; then
	pass "after each of $ROUNDS kills, every receipt file is whole and its packet is accepted, with its student"
else
	fail "after each kill, every receipt file is whole and its packet is accepted, with its student" \
		"first failure: $BAD_RECEIPT" "seed $SEED"
fi
if [ -z "$BAD_STUDENT" ]; then
	pass "after each of $ROUNDS kills, every student at B has its inbox entry and its received audit entry"
else
	fail "after each kill, every student at B has its inbox entry and its received audit entry" \
		"first failure: $BAD_STUDENT" "seed $SEED"
fi
if [ -z "$BAD_VERIFY" ]; then
	pass "after each of $ROUNDS kills, B's audit log verifies"
else
	fail "after each kill, B's audit log verifies" "first failure: $BAD_VERIFY" "seed $SEED"
fi

# ---- a kill at a known moment: as the receipt is being written ----

# strace delivers SIGKILL as the import gives the receipt its name (the
# receipt is written unnamed, then linked): the record has committed, the
# receipt is not there yet.
if command -v strace >/dev/null && strace -o /dev/null true 2>/dev/null; then
	{ strace -f -o /dev/null -e trace=linkat,link -e inject=linkat,link:signal=SIGKILL \
		"$BATON" import "$TMP/p$KEEP.baton" --receipt-out "$TMP/k.rcpt" --dir "$B" >/dev/null </dev/null; } 2>/dev/null
	st=$?
	echo "#   the import killed by strace as the receipt was named ended with status $st"
	check "the import was killed (status 137)" test "$st" -eq 137
	if [ -e "$TMP/k.rcpt" ] && [ ! -s "$TMP/k.rcpt" ]; then
		fail "a kill as the receipt is written leaves no empty receipt file" \
			"$TMP/k.rcpt exists and is empty, though p$KEEP (${SID[$KEEP]}) was imported"
	else
		pass "a kill as the receipt is written leaves no empty receipt file"
	fi
	if [ -s "$TMP/k.rcpt" ]; then
		# A receipt there must be for an import that committed.
		check_out "^${PID[$KEEP]} .* accepted\$" \
			"the receipt there is for an import that committed: B's inbox holds the packet, accepted" \
			"$BATON" inbox --dir "$B"
	else
		check_out "^Already imported from LHS-001 as ${SID[$KEEP]} " \
			"importing it again with the same --receipt-out is a replay that writes the receipt" \
			"$BATON" import "$TMP/p$KEEP.baton" --receipt-out "$TMP/k.rcpt" --dir "$B"
	fi
	run "$BATON" import "$TMP/p$KEEP.baton" --receipt-out "$TMP/k2.rcpt" --dir "$B"
	same "$TMP/k2.rcpt" "$TMP/k.rcpt" "and the receipt file holds the packet's receipt"
else
	skip "a kill as the receipt is written (strace is missing or may not trace here)"
	skip "importing it again with the same --receipt-out (strace)"
	skip "and the receipt file holds the packet's receipt (strace)"
fi

# ---- every packet again: the rest imported, the others replayed ----

BAD_RECEIPT="" BAD_STUDENT="" BAD_VERIFY=""
consistent "after the last import"
cp "$TMP/s.inbox" "$TMP/inbox.killed"
bad="" bytes="" fresh=0 replays=0
for ((i = 0; i < NPKT; i++)); do
	"$BATON" import "$TMP/p$i.baton" --receipt-out "$TMP/f$i" --dir "$B" >"$TMP/imp.out" 2>"$TMP/imp.err" </dev/null
	st=$?
	if grep -q "^${PID[$i]} .* accepted\$" "$TMP/inbox.killed"; then
		want="^Already imported from LHS-001 as ${SID[$i]} "
		replays=$((replays + 1))
	else
		want="^Imported .* as ${SID[$i]}, version 1"
		fresh=$((fresh + 1))
	fi
	if [ "$st" -ne 0 ] || ! grep -q "$want" "$TMP/imp.out"; then
		[ -n "$bad" ] || bad="p$i (${SID[$i]}): exit $st, expected \"$want\": $(head -n1 "$TMP/imp.out") $(head -n1 "$TMP/imp.err")"
	fi
	if [ -e "$TMP/r$i" ] && ! cmp -s "$TMP/r$i" "$TMP/f$i"; then
		[ -n "$bytes" ] || bytes="p$i (${SID[$i]}): $TMP/r$i ($(wc -c <"$TMP/r$i") bytes) and the replay's receipt differ"
	fi
done
if [ -z "$bad" ]; then
	pass "every packet imported again: $replays replays of a committed import, $fresh imported now"
else
	fail "every packet imported again: a replay if its import committed, else imported now" "first failure: $bad"
fi

# Those that had no receipt yet, once more: a replay with the same receipt.
bad=""
for ((i = 0; i < NPKT; i++)); do
	[ -e "$TMP/r$i" ] && continue
	"$BATON" import "$TMP/p$i.baton" --receipt-out "$TMP/g$i" --dir "$B" >"$TMP/imp.out" 2>"$TMP/imp.err" </dev/null
	st=$?
	if [ "$st" -ne 0 ] || ! grep -q "^Already imported from LHS-001 as ${SID[$i]} " "$TMP/imp.out"; then
		[ -n "$bad" ] || bad="p$i (${SID[$i]}): exit $st: $(head -n1 "$TMP/imp.out") $(head -n1 "$TMP/imp.err")"
	elif ! cmp -s "$TMP/f$i" "$TMP/g$i"; then
		[ -n "$bytes" ] || bytes="p$i (${SID[$i]}): two replays gave different receipts"
	fi
done
if [ -z "$bad" ]; then
	pass "the packets that had no receipt before, once more: each one is a replay"
else
	fail "the packets that had no receipt before, once more: each one is a replay" "first failure: $bad"
fi
if [ -z "$bytes" ]; then
	pass "each replay gives the bytes of the first receipt"
else
	fail "each replay gives the bytes of the first receipt" "first failure: $bytes" "seed $SEED"
fi

# ---- B at the end ----

BAD_RECEIPT="" BAD_STUDENT="" BAD_VERIFY=""
consistent "at the end"
if [ -z "$BAD_RECEIPT$BAD_STUDENT" ]; then
	pass "at the end, the receipts, the inbox, the students and the audit log agree"
else
	fail "at the end, the receipts, the inbox, the students and the audit log agree" "$BAD_RECEIPT" "$BAD_STUDENT"
fi
if [ -z "$BAD_VERIFY" ]; then
	pass "at the end, B's audit log verifies"
else
	fail "at the end, B's audit log verifies" "$BAD_VERIFY"
fi
nstu=$(sort -u "$TMP/s.students" | wc -l)
nacc=$(awk '$3 == "accepted" { print $1 }' "$TMP/s.inbox" | sort -u | wc -l)
nrec=$(wc -l <"$TMP/s.received")
nrecp=$(awk '{ print $1 }' "$TMP/s.received" | sort -u | wc -l)
if [ "$nstu" -eq "$NPKT" ] && [ "$nacc" -eq "$NPKT" ]; then
	pass "B has $nstu students for $nacc distinct packets accepted"
else
	fail "B has one student per packet accepted" "$nstu students, $nacc distinct packets accepted, $NPKT sent"
fi
if [ "$nrec" -eq "$NPKT" ] && [ "$nrecp" -eq "$NPKT" ]; then
	pass "B's audit log has one received entry per packet ($nrec)"
else
	fail "B's audit log has one received entry per packet" "$nrec received entries for $nrecp distinct packets, $NPKT sent"
fi
missing=""
for ((i = 0; i < NPKT; i++)); do
	if ! grep -q "^${PID[$i]} ${SID[$i]} accepted\$" "$TMP/s.inbox"; then
		missing="p$i (${SID[$i]}, packet ${PID[$i]})"
		break
	fi
done
if [ -z "$missing" ]; then
	pass "each packet is in B's inbox as accepted, under its own student"
else
	fail "each packet is in B's inbox as accepted, under its own student" "first missing: $missing"
fi
(cd "$B" && find . -type f | sort) >"$TMP/files.after"
same "$TMP/files.before" "$TMP/files.after" "the killed imports left no file in B's node directory"
find "$TMP" -mindepth 1 -maxdepth 1 -printf '%f\n' | grep -vE '^(\.never|\.out\.[0-9]+|\.err\.[0-9]+|lhs|ras|[a-z]\.card|parent\.key(\.pub)?|adult\.key(\.pub)?|c[0-9]+\.consent|p[0-9]+\.baton|[rfg][0-9]+|students\.(all|sorted)|with\.files|files\.(before|after)|inbox\.killed|leftovers|k2?\.rcpt|out|err|imp\.(out|err)|[js]\.[a-z]+)$' \
	>"$TMP/leftovers"
check "the killed imports left no partial file beside the receipts" test ! -s "$TMP/leftovers"
if [ -s "$TMP/leftovers" ]; then
	head -n 5 "$TMP/leftovers" | diag
fi
done_testing
