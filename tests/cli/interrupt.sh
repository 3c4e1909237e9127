#!/usr/bin/env bash
# A send killed (kill -9) midway leaves nothing that lasts. The send stops
# itself (SIGSTOP, at the point BATON_TEST_PAUSE names) and is killed there:
#
#   sealed     the packet is written beside its name as NAME.partial, the
#              transaction not yet committed: at the next start the partial
#              file is removed, and the registrar told nothing was disclosed;
#   committed  the disclosure and the outbox entry are committed, the file
#              has no name yet: at the next start the packet, whole, takes
#              its name, and the registrar is told where it is.
#
# A queued packet's file left in the outbox by a send that is gone, named
# or still temporary, is removed too, and said.
. "$(dirname "$0")/lib.sh"

export BATON_PASSPHRASE="a long enough passphrase" # the parent's key
A=$TMP/lhs B=$TMP/ras

two_schools "$A" "$B" --no-passphrase
for s in S-1018 S-1019; do
	check "A links the parent to $s" "$BATON" guardian link "$s" "$PK" --dir "$A"
	check "consent for $s" "$BATON" consent grant --key "$TMP/parent.key" --student "$s" \
		--from "$TMP/LHS-001.card" --to "$TMP/RAS-204.card" --sections all --yes \
		--out "$TMP/$s.consent"
done

stopped() { [ "$(ps -o stat= -p "$1" 2>/dev/null | cut -c1)" = T ]; }

# killed_at POINT STUDENT FILE: 'send --out FILE' stopped at POINT, then kill -9.
killed_at() {
	BATON_TEST_PAUSE=$1 "$BATON" send "$2" --to RAS-204 --consent "$TMP/$2.consent" \
		--out "$3" --dir "$A" >/dev/null 2>&1 &
	local pid=$!
	BG+=($pid)
	if wait_for 120 stopped "$pid"; then
		pass "the send of $2 stopped at '$1'"
	else
		fail "the send of $2 stopped at '$1'" "$(ps -o stat=,args= -p "$pid")"
	fi
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}

# Killed before the commit.
killed_at sealed S-1018 "$TMP/s1018.baton"
check "the sealed packet is there as a partial file" test -s "$TMP/s1018.baton.partial"
check_err 0 "removed .*s1018.baton.partial, left by an interrupted send: it was not recorded and nothing was disclosed; send again" \
	"the next command removes it and says so" "$BATON" audit verify --dir "$A"
check "the partial file is gone" test ! -e "$TMP/s1018.baton.partial"
check "and no packet took its name" test ! -e "$TMP/s1018.baton"
check_out "No disclosures|^$" "no disclosure of S-1018 was recorded" sh -c \
	"'$BATON' audit --student S-1018 --dir '$A' | grep disclosure || echo 'No disclosures'"
run "$BATON" outbox --dir "$A"
if [ "$RC" -eq 0 ] && [ ! -s "$ERR" ] && ! ls "$A/outbox" | grep -q '[.]out$'; then
	pass "the note is gone too: the next command says nothing more"
else
	fail_run "the note is gone too: the next command says nothing more" "$(ls "$A/outbox")"
fi
check_out '^Sealed' "sending again works" "$BATON" send S-1018 --to RAS-204 \
	--consent "$TMP/S-1018.consent" --out "$TMP/s1018.baton" --dir "$A"
check_out "Imported .* as S-1018" "B imports that packet" "$BATON" import "$TMP/s1018.baton" \
	--receipt-out "$TMP/s1018.receipt" --dir "$B"

# Killed after the commit.
killed_at committed S-1019 "$TMP/s1019.baton"
check "the recorded packet is there as a partial file" test -s "$TMP/s1019.baton.partial"
check "without its name" test ! -e "$TMP/s1019.baton"
check_err 0 "a send of S-1019 to RAS-204 was interrupted after it was recorded; its packet [0-9a-f]{32} is now .*/s1019.baton, to carry" \
	"the next command names the packet and says so" "$BATON" audit verify --dir "$A"
check "the partial file is gone" test ! -e "$TMP/s1019.baton.partial"
check_out 'S-1019.*sent' "the outbox has it as sent" "$BATON" outbox --dir "$A"
check_out "Imported .* as S-1019" "B imports the packet" "$BATON" import "$TMP/s1019.baton" \
	--receipt-out "$TMP/s1019.receipt" --dir "$B"
check_out 'accepted' "A records the receipt" "$BATON" receipt import "$TMP/s1019.receipt" --dir "$A"

# A queued packet too large for the store takes its file name in the outbox
# just before the commit: killed there, the file is named by no entry.
mkdir -p "$TMP/big/files"
head -c 1500000 /dev/urandom >"$TMP/big/files/scan.pdf"
cat >"$TMP/big/s.json" <<JSON
{"student_id": "S-2001",
 "identity": {"given_name": "Ana", "family_name": "Big", "birth_date": "2011-04-17"},
 "transcript": [{"school_year": "2025-2026", "term": "S1", "course_code": "MATH101",
                 "course_title": "Algebra I", "grade": "A-",
                 "credits_attempted": 1.0, "credits_earned": 1.0}],
 "attachments": [{"name": "scan.pdf", "media_type": "application/pdf",
                  "section": "transcript", "path": "files/scan.pdf"}]}
JSON
check "A imports a student with a 1.5 MB attachment" "$BATON" student import "$TMP/big/s.json" --dir "$A"
check "A links the parent to S-2001" "$BATON" guardian link S-2001 "$PK" --dir "$A"
check "consent for S-2001" "$BATON" consent grant --key "$TMP/parent.key" --student S-2001 \
	--from "$TMP/LHS-001.card" --to "$TMP/RAS-204.card" --sections all --yes --out "$TMP/S-2001.consent"
BATON_TEST_PAUSE=sealed "$BATON" send S-2001 --to RAS-204 --consent "$TMP/S-2001.consent" \
	--dir "$A" >/dev/null 2>&1 &
PID=$!
BG+=($PID)
check "the queued send stopped at 'sealed'" wait_for 120 stopped "$PID"
kill -KILL "$PID" 2>/dev/null
wait "$PID" 2>/dev/null
ORPHAN=$(ls "$A/outbox" | grep -E '^[0-9a-f]{32}[.]baton$')
check "its packet file is in the outbox directory ($ORPHAN)" test -n "$ORPHAN"
check_err 0 "removed .*outbox/$ORPHAN, left by an interrupted send before it was recorded: nothing was disclosed; send again" \
	"the next command removes it and says so" "$BATON" audit verify --dir "$A"
check "it is gone" test ! -e "$A/outbox/$ORPHAN"
check_out "queued for 'baton serve' as .*[.]baton" "sending again queues it as a file" "$BATON" send S-2001 \
	--to RAS-204 --consent "$TMP/S-2001.consent" --dir "$A"
QUEUED=$(ls "$A/outbox" | grep -E '^[0-9a-f]{32}[.]baton$')
run "$BATON" outbox --dir "$A"
if [ -n "$QUEUED" ] && [ -e "$A/outbox/$QUEUED" ] && [ ! -s "$ERR" ]; then
	pass "a recorded packet file is left alone"
else
	fail_run "a recorded packet file is left alone" "$(ls "$A/outbox")"
fi

# A queued packet's temporary file, of a process that is gone.
sh -c 'exit 0' &
DEAD=$!
wait "$DEAD"
mkdir -p "$A/outbox"
echo junk >"$A/outbox/$DEAD-0.partial"
echo junk >"$A/outbox/$$-0.partial"
check_err 0 "removed .*outbox/$DEAD-0.partial, left by an interrupted send before it was recorded" \
	"a queued packet's temporary file is removed, and said" "$BATON" outbox --dir "$A"
check "it is gone" test ! -e "$A/outbox/$DEAD-0.partial"
check "one of a process still running is left alone" test -e "$A/outbox/$$-0.partial"
check "A's audit log verifies" "$BATON" audit verify --dir "$A"
done_testing
