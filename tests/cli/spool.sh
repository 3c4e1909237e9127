#!/usr/bin/env bash
# Chunked transfers from parties that are not, or not only, honest senders.
# B receives; A and C are schools B pins. A peer (tests/tools/spoolpeer.c, libsodium
# and nng only) starts transfers and abandons them after the first chunk:
#
#   1. Unauthenticated, in the old frame (a header naming A, 35 GiB
#      announced, 20 packets): B keeps nothing and no slot is taken.
#   2. Unauthenticated, in the new frame with an admission signed by a key
#      that is not A's: the same. A broken header is named on one line.
#   3. A's real 3 MB record still arrives in chunks; its first chunk sent
#      again afterwards is answered with the receipt and takes no slot.
#   4. C, authenticated, starts 3 transfers: B keeps 2 (slots are per
#      sender), and A's second 3 MB record still arrives.
#   5. B restarted with its idle time shortened (BATON_SPOOL_IDLE) removes
#      C's abandoned spools; with its room shrunk (BATON_SPOOL_ROOM) it
#      admits a transfer only while the bytes still to come fit.
# Every wait is a bounded poll; every serve stops on SIGTERM with exit code 0.
. "$(dirname "$0")/lib.sh"

export BATON_PASSPHRASE="a long enough passphrase"
declare -A DIR CODE PORT
CODE=([A]=LHS-001 [B]=RAS-204 [C]=CMS-310)
free_ports 3 || done_testing
i=0
for n in A B C; do
	DIR[$n]=$TMP/node-$n
	PORT[$n]=$((P0 + i))
	i=$((i + 1))
done
URL_B=tcp://127.0.0.1:${PORT[B]}
GIB35=$((35 << 30))

bx() {
	local n=$1
	shift
	"$BATON" "$@" --dir "${DIR[$n]}"
}
outbox_has() { bx "$1" outbox | grep -Eq -- "$2"; }
packet_of() { sed -n 's/.*packet \([0-9a-f]\{32\}\).*/\1/p' "$1" | head -n1; }
# spool_files / spool_bytes: the spool files B holds, and their bytes.
spool_files() { find "${DIR[B]}/spool" -name '*.part' 2>/dev/null | wc -l; }
spool_bytes() { find "${DIR[B]}/spool" -name '*.part' -printf '%s\n' 2>/dev/null | awk '{ s += $1 } END { print s + 0 }'; }
spool_empty() { [ "$(spool_files)" -eq 0 ]; }
# peer MODE COUNT TOTAL SENDER [PACKET]: first chunks to B; "admitted N refused M" in $OUT.
peer() {
	run "$BATON_SPOOLPEER" "$URL_B" "$1" "$2" "$3" "${DIR[$4]}/school.key" "${DIR[B]}/school.key" \
		"${@:5}"
}
# said "admitted N refused M" DESCRIPTION: what the last peer printed, with its
# errors and the end of B's log when it printed something else.
said() {
	if grep -qx "$1" "$OUT"; then
		pass "$2"
	else
		fail "$2" "the peer: $(cat "$OUT" "$ERR")" "$(tail -n 5 "$TMP/$LOG_B")"
	fi
}

tool BATON_SPOOLPEER spoolpeer || done_testing

# ---- three schools, two 3 MB records at A ----
for n in A B C; do
	check "init ${CODE[$n]}" "$BATON" init --name "School $n" --code "${CODE[$n]}" \
		--endpoint "tcp://127.0.0.1:${PORT[$n]}" --dir "${DIR[$n]}"
	check "card of ${CODE[$n]}" bx "$n" card --out "$TMP/$n.card"
done
pins=0
for n in A B C; do
	for m in A B C; do
		[ "$n" = "$m" ] || { bx "$n" peer add "$TMP/$m.card" >/dev/null 2>&1 && pins=$((pins + 1)); }
	done
done
check "the three schools pin each other" test "$pins" -eq 6
head -c 3000000 /dev/urandom >"$TMP/one.bin"
head -c 3000000 /dev/urandom >"$TMP/two.bin"
{
	echo '['
	for s in S-9001:one.bin S-9002:two.bin; do
		IFS=: read -r sid file <<<"$s"
		[ "$sid" = S-9001 ] || echo ','
		cat <<EOF
{"student_id": "$sid", "identity": {"given_name": "Large", "family_name": "Record",
 "birth_date": "2012-03-04"},
 "transcript": [{"school_year": "2025-2026", "term": "FY", "course_code": "ART100",
  "course_title": "Portfolio", "grade": "A", "credits_attempted": 1, "credits_earned": 1}],
 "attachments": [{"name": "portfolio.bin", "media_type": "application/octet-stream",
  "section": "transcript", "path": "$file"}]}
EOF
	done
	echo ']'
} >"$TMP/big.json"
check "A imports two records with 3 MB attachments" bx A student import "$TMP/big.json"
check "a parent makes a key" "$BATON" guardian keygen --out "$TMP/parent.key"
run "$BATON" guardian pubkey "$TMP/parent.key"
PK=$(head -n1 "$OUT")
for s in S-9001 S-9002; do
	check "A links the parent to $s" bx A guardian link "$s" "$PK"
	check "the parent consents to $s going to B" "$BATON" consent grant --key "$TMP/parent.key" \
		--student "$s" --from "$TMP/A.card" --to "$TMP/B.card" --sections all \
		--purpose "Enrollment at RAS-204" --yes --out "$TMP/$s.consent"
done
LOG_B=b.log
serve_start B "${DIR[B]}" b.log || done_testing

# ---- 1. unauthenticated, the old frame: a header naming A, 35 GiB, 20 packets ----
peer v1 20 "$GIB35" A
echo "# old frame, 20 first chunks of 35 GiB naming A: $(cat "$OUT"); B's spool: $(spool_files) files, $(spool_bytes) bytes" 
said 'admitted 0 refused 20' "B admits none of 20 unauthenticated 35 GiB transfers in the old frame"
check "B keeps no spool file for them" spool_empty
check "B says why: the old frame version" grep -q 'chunk frame: version 1 (this node reads 2)' "$TMP/b.log"

# ---- 2. unauthenticated, the new frame, signed by another key ----
# Refusals of unverified input are logged once a second: each probe starts in a new one.
sleep 1.1
peer forged 20 "$GIB35" A
echo "# forged admission, 20 first chunks of 35 GiB naming A: $(cat "$OUT"); B's spool: $(spool_files) files, $(spool_bytes) bytes"
said 'admitted 0 refused 20' "B admits none of 20 transfers whose admission A did not sign"
check "B keeps no spool file for them" spool_empty
check "B says why: the admission does not verify" \
	grep -q "admission's signature does not verify" "$TMP/b.log"

# ---- 2b. a first chunk whose header is broken: one line that says so ----
sleep 1.1
peer broken 1 3000000 A
said 'admitted 0 refused 1' "B refuses a first chunk with a header length over 512"
grep ' refused: ' "$TMP/b.log" | tail -n1 | diag
check "B's log names the header's fault once, on a line of its own" \
	grep -Eq '^[-0-9T:.]+Z inbox: packet [0-9a-f]{32} \(3000000 bytes\) refused: packet: header length [0-9]+ \(1\.\.512\) \[unverified, not audited: [0-9]+ refused so far, [0-9]+ of them not logged since the last such line\]$' "$TMP/b.log"

# ---- 3. A's real record still arrives in chunks ----
check_out queued "A queues S-9001 (3 MB) for B" bx A send S-9001 --to RAS-204 \
	--consent "$TMP/S-9001.consent"
P1=$(packet_of "$OUT")
check "A exports the queued packet" bx A outbox export "$P1" --out "$TMP/p1.baton"
serve_start A "${DIR[A]}" a.log || done_testing
check "A's 3 MB record is receipted by B" wait_for 120 outbox_has A "$P1 .*receipted"
check "B received it in chunks" grep -q "packet $P1: receiving" "$TMP/b.log"

# The first chunk of that packet, signed by A, sent again three times (as
# a sender whose receipt was lost would, or anyone who recorded it): the
# receipt comes back at once, and no slot is taken.
peer signed 3 "$(wc -c <"$TMP/p1.baton")" A "$TMP/p1.baton"
said 'receipts 3' "A's first chunk sent again after the import gets the receipt, 3 times of 3"
check "and B keeps no spool for it" spool_empty
check "B says why" grep -q "packet $P1: imported before; its receipt again" "$TMP/b.log"

# ---- 4. C, authenticated: two slots, not three ----
peer signed 3 3000000 C
echo "# C, signed, 3 first chunks of 3 MB: $(cat "$OUT"); B's spool: $(spool_files) files, $(spool_bytes) bytes"
said 'admitted 2 refused 1' "B admits 2 of 3 transfers C signed"
check "B's spool holds C's 2" test "$(spool_files)" -eq 2
check "B says why the third is refused" \
	grep -q "2 packets of this sender's are arriving already" "$TMP/b.log"
check_out queued "A queues S-9002 (3 MB) for B" bx A send S-9002 --to RAS-204 \
	--consent "$TMP/S-9002.consent"
P2=$(packet_of "$OUT")
check "A's second record is receipted while C holds its slots" \
	wait_for 120 outbox_has A "$P2 .*receipted"
check "A's spool at B is gone after the import; C's 2 stay" test "$(spool_files)" -eq 2
check "B imported both of A's records" sh -c "[ \$('$BATON' inbox --json --dir '${DIR[B]}' | grep -c '\"student\": \"S-900[12]\"') -eq 2 ]"

# ---- 5. idle spools go; the room bounds the bytes still to come ----
serve_stop B
check "B stops on SIGTERM with exit code 0" test $? -eq 0
LOG_B=b2.log
BATON_SPOOL_IDLE=3 serve_start B "${DIR[B]}" b2.log || done_testing
check "B removes C's abandoned spools once idle for 3 s" wait_for 120 spool_empty
check "B logs their removal" grep -q 'idle for over 3 s: removed' "$TMP/b2.log"
# The room, with spools kept the usual time: the first transfer's spool must
# still be there, however long the machine takes between the two.
serve_stop B
check "B stops on SIGTERM with exit code 0" test $? -eq 0
LOG_B=b3.log
BATON_SPOOL_ROOM=8000000 serve_start B "${DIR[B]}" b3.log || done_testing
peer signed 1 6000000 C
said 'admitted 1 refused 0' "B admits a 6 MB transfer within a room of 8 MB"
peer signed 1 6000000 C
said 'admitted 0 refused 1' "B refuses a second one: 5 MB are still to come for the first"
check "B says why: no room" grep -q 'no room: [0-9]* bytes are still to come' "$TMP/b3.log"
run bx B audit verify
check "B's audit log verifies" test "$RC" -eq 0

serve_stop A
check "A stops on SIGTERM with exit code 0" test $? -eq 0
serve_stop B
check "B stops on SIGTERM with exit code 0" test $? -eq 0
done_testing
