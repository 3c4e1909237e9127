#!/usr/bin/env bash
# Five schools on loopback TCP, each running 'baton serve' on its own port.
# A, B, C and D pin each other; E pins them but none of them pins E, so E
# plays the unknown sender. Over the network: a pushed record; requests
# released (by id and by an 8-digit prefix), denied, and answered at once by
# policy; a receiver that is down; a receiver restarted and a packet
# replayed; a packet for another school, a tampered packet and refused
# consents; sections and attachments as consented; large packets in chunks
# with the receiver or the sender killed midway, and a receiver that died
# after the last chunk. Every wait is a bounded poll; every serve stops on
# SIGTERM with exit code 0.
. "$(dirname "$0")/lib.sh"

export BATON_PASSPHRASE="a long enough passphrase"
DATA=$BATON_SRC/tests/data
NODES="A B C D E"
declare -A DIR CODE NAME PORT
CODE=([A]=LHS-001 [B]=RAS-204 [C]=CMS-310 [D]=DHS-402 [E]=EVS-505)
NAME=([A]="Lincoln High School" [B]="Riverside Academy" [C]="Cedar Middle School"
	[D]="Dunmore High School" [E]="Evergreen School")
free_ports 5 || done_testing
i=0
for n in $NODES; do
	DIR[$n]=$TMP/node-$n
	PORT[$n]=$((P0 + i))
	i=$((i + 1))
done

# A failure also shows the serve logs at the end.
NFAIL=0
eval "$(declare -f fail | sed '1s/^fail/lib_fail/')"
fail() {
	NFAIL=$((NFAIL + 1))
	lib_fail "$@"
}


# start NODE LOG: runs the node's serve in the background, its log in $TMP/LOG,
# and waits until it listens.
start() { serve_start "$1" "${DIR[$1]}" "$2"; }

# stop NODE: SIGTERM, then the exit code of the node's serve (it must stop within 120 s).
stop() { serve_stop "$1"; }

# crash NODE: SIGKILL, at once.
crash() {
	kill -KILL "${SPID[$1]}" 2>/dev/null
	wait "${SPID[$1]}" 2>/dev/null
	unset "SPID[$1]"
}

# alive: every serve started is still running; one that died is named, and
# started again (log NODE-again.log) so that the scenarios after go on.
alive() {
	local n dead=""
	for n in "${!SPID[@]}"; do
		kill -0 "${SPID[$n]}" 2>/dev/null || dead="$dead $n"
	done
	if [ -z "$dead" ]; then
		pass "every serve is still running ($1)"
		return
	fi
	fail "every serve is still running ($1)" "died:$dead"
	for n in $dead; do
		wait "${SPID[$n]}" 2>/dev/null
		start "$n" "$n-again.log"
	done
}

# bx NODE ARGS...: baton with the node's directory.
bx() {
	local n=$1
	shift
	"$BATON" "$@" --dir "${DIR[$n]}"
}

# outbox_has NODE REGEX / inbox_count NODE STUDENT / has_student NODE STUDENT
outbox_has() { bx "$1" outbox | grep -Eq -- "$2"; }
inbox_count() { bx "$1" inbox --json | grep -c "\"student\": \"$2\""; }
has_student() { bx "$1" student list | grep -q -- "$2"; }

# A packet id from the output of send, request or release.
packet_of() { sed -n 's/.*\(packet\|request\) \([0-9a-f]\{32\}\).*/\2/p' "$1" | head -n1; }
# released_as REQUEST: the packet A released for it, from 'baton requests --all'.
released_as() {
	bx A requests --all | awk -v id="$1" '$1 == id { f = 1 } f && /released as packet/ { print $NF; exit }'
}

# ---- five schools ----
for n in $NODES; do
	check "init ${CODE[$n]}" "$BATON" init --name "${NAME[$n]}" --code "${CODE[$n]}" \
		--endpoint "tcp://127.0.0.1:${PORT[$n]}" --dir "${DIR[$n]}"
	check "card of ${CODE[$n]}" bx "$n" card --out "$TMP/$n.card"
done
pins=0
for n in A B C D E; do
	for m in A B C D; do
		[ "$n" = "$m" ] && continue
		bx "$n" peer add "$TMP/$m.card" >/dev/null 2>&1 && pins=$((pins + 1))
	done
done
check "A, B, C and D pin each other, E pins all four" test "$pins" -eq 16
run bx B peer list
check "B has not pinned E" sh -c "! grep -q EVS-505 '$OUT' && grep -q LHS-001 '$OUT'"
check "A imports the sample school" bx A student import "$DATA/school.json"
check "E imports the sample school" bx E student import "$DATA/school.json"

# Two large records (the same 40 MB of random bytes as a transcript
# attachment) and a 3 MB one: all of them travel in chunks.
head -c 40000000 /dev/urandom >"$TMP/big.bin"
head -c 3000000 /dev/urandom >"$TMP/mid.bin"
{
	echo '['
	for s in S-9001:big.bin S-9002:big.bin S-9003:mid.bin; do
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
check "A imports three records with large attachments" bx A student import "$TMP/big.json"

check "a parent makes a key" "$BATON" guardian keygen --out "$TMP/parent.key"
run "$BATON" guardian pubkey "$TMP/parent.key"
PK=$(head -n1 "$OUT")
linked=0
for s in S-1018 S-1019 S-1028 S-1030 S-1035 S-1041 S-1042 S-1044 S-1046 S-1022 S-9001 S-9002 S-9003; do
	bx A guardian link "$s" "$PK" >/dev/null 2>&1 && linked=$((linked + 1))
done
check "A links the parent to 13 students" test "$linked" -eq 13
check "E links the parent to S-1066" bx E guardian link S-1066 "$PK"

# consent STUDENT FROM TO SECTIONS [ARGS...]: $TMP/STUDENT-TO.consent
consent() {
	local s=$1 f=$2 t=$3 secs=$4
	shift 4
	"$BATON" consent grant --key "$TMP/parent.key" --student "$s" --from "$TMP/$f.card" \
		--to "$TMP/$t.card" --sections "$secs" --purpose "Enrollment at ${CODE[$t]}" --yes \
		--out "$TMP/$s-$t.consent" "$@" >/dev/null 2>"$TMP/consent.err"
}
granted=0
for c in S-1018:B:all S-1030:D:all,health S-1019:C:all S-1042:C:all S-1035:D:all \
	S-1041:B:all S-1044:C:transcript S-1028:B:all S-1022:B:all \
	S-9001:B:all S-9002:C:all S-9003:D:all; do
	IFS=: read -r s t secs <<<"$c"
	consent "$s" A "$t" "$secs" && granted=$((granted + 1))
done
consent S-1046 A B all --expires 1d && granted=$((granted + 1))
check "the parent signs 13 consents" test "$granted" -eq 13
check "and one for E to send S-1066 to B" consent S-1066 E B all

# ---- 12. a receiver that is down: D ----
start A a.log
start B b.log
start C c.log
start E e.log
check_out 'queued' "A queues S-1030 for D, which is down" bx A send S-1030 --to DHS-402 \
	--consent "$TMP/S-1030-D.consent"
P1030=$(packet_of "$OUT")
check "A's worker tries D and fails" wait_for 120 grep -q "packet $P1030 to DHS-402: attempt 1 failed" "$TMP/a.log"
check_out "$P1030 .*queued +attempts [1-9].*127\.0\.0\.1:${PORT[D]}" \
	"the packet waits in A's outbox, attempts counted, with the error" bx A outbox
start D d.log

# ---- 1. push: A sends S-1018 to B ----
check_out 'queued' "A queues S-1018 for B" bx A send S-1018 --to RAS-204 --consent "$TMP/S-1018-B.consent"
P1018=$(packet_of "$OUT")
check "the packet id is printed" test "${#P1018}" -eq 32
# 7. E, which B has not pinned, sends to B (checked later, after some attempts).
check_out 'queued' "E queues S-1066 for B" bx E send S-1066 --to RAS-204 --consent "$TMP/S-1066-B.consent"
P1066=$(packet_of "$OUT")

check "A's outbox: S-1018 receipted by B" wait_for 120 outbox_has A "$P1018 .*receipted"
check "B has S-1018" has_student B S-1018
check "B's inbox has exactly one entry for S-1018" test "$(inbox_count B S-1018)" -eq 1
check "B logged the import" grep -q "inbox: packet $P1018 from LHS-001: imported as S-1018" "$TMP/b.log"
check "A logged the receipt" grep -q "packet $P1018 to RAS-204: receipt accepted" "$TMP/a.log"
check_out "received.*S-1018.*LHS-001|received.*LHS-001.*S-1018" "B's audit log records the arrival" bx B audit

# 12, continued: D came up and the waiting packet arrived once.
check "A's outbox: S-1030 receipted by D once D is up" wait_for 120 outbox_has A "$P1030 .*receipted"
check_out "$P1030 .*receipted +attempts ([2-9]|[1-9][0-9])" "it took more than one attempt" bx A outbox
check "D has S-1030, exactly once" test "$(inbox_count D S-1030)" -eq 1

# ---- 10 and 11: sections and attachments as consented ----
run bx A student show S-1018 --json
check "A holds health for S-1018 (so its absence at B means something)" grep -q '"health"' "$OUT"
run bx B student show S-1018 --json
check "B has S-1018's transcript" grep -q '"transcript"' "$OUT"
check "B did not receive health (not consented)" sh -c "! grep -q '\"health\"' '$OUT'"
run bx D student show S-1030 --json
check "D received health for S-1030 (named in its consent)" grep -q '"health"' "$OUT"
mkdir -p "$TMP/expB" "$TMP/expD"
check "B exports S-1018" bx B student export S-1018 --out "$TMP/expB/S-1018.json"
same "$TMP/expB/S-1018-files/transcript.pdf" "$DATA/files/S-1018-transcript.pdf" \
	"S-1018's transcript PDF arrived at B byte for byte"
check "D exports S-1030" bx D student export S-1030 --out "$TMP/expD/S-1030.json"
same "$TMP/expD/S-1030-files/transcript.pdf" "$DATA/files/S-1030-transcript.pdf" \
	"S-1030's transcript PDF arrived at D byte for byte"

# ---- 2. C requests, A holds and releases ----
check_out '^Asked LHS-001' "C asks A for S-1019" bx C request --from LHS-001 \
	--consent "$TMP/S-1019-C.consent" --note "starts Monday"
Q1019=$(packet_of "$OUT")
check_out '^Asked LHS-001' "C asks A for S-1042" bx C request --from LHS-001 \
	--consent "$TMP/S-1042-C.consent"
Q1042=$(packet_of "$OUT")
# ---- 3. D requests, A will deny ----
check_out '^Asked LHS-001' "D asks A for S-1035" bx D request --from LHS-001 \
	--consent "$TMP/S-1035-D.consent"
Q1035=$(packet_of "$OUT")
check "the three requests reach A and are held" wait_for 120 sh -c \
	"'$BATON' requests --dir '${DIR[A]}' | grep -E '^($Q1019|$Q1042|$Q1035) .*held' | wc -l | grep -qx 3"
check_out "^$Q1019  from CMS-310 +student S-1019 +held" "A's requests lists C's request for S-1019" bx A requests
check_out 'starts Monday' "with C's note" bx A requests
check "C's outbox: the request receipted, held" wait_for 120 outbox_has C \
	"$Q1019 +[0-9-]+ [0-9:]+ UTC +request +to LHS-001 .*receipted.*held for the registrar"
check "D's outbox: its request receipted, held" wait_for 120 outbox_has D "$Q1035 .*receipted.*held"
check "S-1019 has not reached C yet" sh -c "! '$BATON' student list --dir '${DIR[C]}' | grep -q S-1019"
check_out "request-received.*CMS-310" "A's audit log records the request" bx A audit --student S-1019

check_out '^Sealed S-1019' "A releases S-1019 by an 8-digit prefix of the id" bx A release "${Q1019:0:8}"
check_out '^Sealed S-1042' "A releases S-1042 by the full id" bx A release "$Q1042"
R1019=$(released_as "$Q1019")
R1042=$(released_as "$Q1042")
check "A's requests name the packets released" test "${#R1019}${#R1042}" = 3232
check "S-1019 arrives at C" wait_for 120 has_student C S-1019
check "S-1042 arrives at C" wait_for 120 has_student C S-1042
check "A's outbox: both receipted by C" wait_for 120 sh -c "'$BATON' outbox --dir '${DIR[A]}' |
	grep -E '^($R1019|$R1042) .*receipted' | wc -l | grep -qx 2"
check "C's inbox has each exactly once" test "$(inbox_count C S-1019)$(inbox_count C S-1042)" = 11
check_out "$Q1019 +[0-9-]+ [0-9:]+ UTC +request +to LHS-001 +S-1019 +answered +attempts [0-9]+ +released: arrived as S-1019" "C's outbox shows its request answered by the record" bx C outbox
check_out 'request-answered.*LHS-001' "C's audit log records the answer" bx C audit
check_out "disclosure.*CMS-310.*on its request" "A's audit log records the disclosure on request" \
	bx A audit --student S-1019
run bx C student show S-1042 --json
check "C has S-1042 without special_education or health (not consented)" sh -c \
	"grep -q '\"identity\"' '$OUT' && ! grep -Eq '\"(special_education|health)\"' '$OUT'"
check "nor the IEP attachment of special_education" sh -c "! grep -q 'iep.pdf' '$OUT'"
check_err 2 'already released' "releasing S-1019 again is refused" bx A release "$Q1019"

# ---- 3, continued: A denies D's request ----
check_out '^Denied request' "A denies D's request with a reason" bx A deny "${Q1035:0:8}" \
	--reason "no such student enrolled here"
check "D's outbox shows the request denied, with the reason" wait_for 120 outbox_has D \
	"$Q1035 +[0-9-]+ [0-9:]+ UTC +request .*denied.*no such student enrolled here"
check_out "outbox: request $Q1035 to LHS-001: denied" "D's serve logged the refusal" cat "$TMP/d.log"
check "A's outbox: the refusal delivered" wait_for 120 outbox_has A "$Q1035 +[0-9-]+ [0-9:]+ UTC +refusal .*delivered"
check_err 2 'already denied' "A cannot release the denied request" bx A release "$Q1035"
check "S-1035 never reached D" sh -c "! '$BATON' student list --dir '${DIR[D]}' | grep -q S-1035"

# ---- 4. policy auto-release: B's request answered without the registrar ----
check_out 'auto-release on' "A turns auto-release on" bx A policy auto-release on
check_out '^Asked LHS-001' "B asks A for S-1041" bx B request --from LHS-001 --consent "$TMP/S-1041-B.consent"
Q1041=$(packet_of "$OUT")
check "S-1041 arrives at B with nobody releasing it" wait_for 120 has_student B S-1041
check "A's serve logged the automatic release" grep -q "requests: released S-1041 to RAS-204" "$TMP/a.log"
check_out "$Q1041 .*released" "A's requests shows it released" bx A requests --all
check "nothing waits at A" sh -c "! '$BATON' requests --dir '${DIR[A]}' | grep -q held"
check_out 'auto-release off' "A turns auto-release off" bx A policy auto-release off

alive "after the requests"

# ---- 5. replay, before and after B restarts ----
PF=$TMP/p1018.baton
check_out "^Wrote packet $P1018" "A exports the packet it sent, by an 8-digit prefix" \
	bx A outbox export "${P1018:0:8}" --out "$PF"
check "the exported packet is there" test -s "$PF"
check_err 2 'no packet 00000000' "exporting an unknown id names it" bx A outbox export 00000000 \
	--out "$TMP/none.baton"
run bx B student show S-1018 --json
cp "$OUT" "$TMP/showB.1"
check_out 'Already imported' "the packet imported again at B is a replay" bx B import "$PF" \
	--receipt-out "$TMP/replay1.receipt"
check_out '^Receipt from RAS-204 .*accepted' "A accepts the replay's receipt for the packet it sent" \
	bx A receipt import "$TMP/replay1.receipt"
stop B
check "B stops on SIGTERM with exit code 0" test $? -eq 0
start B b2.log
check_out 'Already imported' "after the restart, still a replay" bx B import "$PF" \
	--receipt-out "$TMP/replay2.receipt"
same "$TMP/replay1.receipt" "$TMP/replay2.receipt" "the same receipt, byte for byte, after the restart"
run bx B student show S-1018 --json
same "$TMP/showB.1" "$OUT" "the replays changed nothing of S-1018 at B"
check "B's inbox still has S-1018 once" test "$(inbox_count B S-1018)" -eq 1
check "S-1018 is still version 1 at B" grep -q '"version": 1,' "$TMP/showB.1"

# ---- 6. a packet addressed to another school ----
check_out '^Sealed' "A seals S-1044 for C, as a file" bx A send S-1044 --to CMS-310 \
	--consent "$TMP/S-1044-C.consent" --out "$TMP/for-c.baton"
run bx B student list --json
cp "$OUT" "$TMP/listB.2"
check_err 2 'wrong_recipient' "B refuses a packet addressed to C" bx B import "$TMP/for-c.baton"
check "B stored no S-1044" sh -c "! '$BATON' student list --dir '${DIR[B]}' | grep -q S-1044"
run bx B student list --json
same "$TMP/listB.2" "$OUT" "B's students are unchanged"
check "B's audit log has no entry for a packet addressed elsewhere" sh -c "! '$BATON' audit --dir '${DIR[B]}' | grep -q wrong_recipient"
check_out 'Imported' "C, to which it is addressed, imports it" bx C import "$TMP/for-c.baton"

# ---- 8. a tampered packet ----
check_out '^Sealed' "A seals S-1022 for B, as a file" bx A send S-1022 --to RAS-204 \
	--consent "$TMP/S-1022-B.consent" --out "$TMP/p1022.baton"
cp "$TMP/p1022.baton" "$TMP/t1022.baton"
size=$(wc -c <"$TMP/t1022.baton")
byte=$(od -An -tu1 -j $((size / 2)) -N1 "$TMP/t1022.baton" | tr -d ' ')
printf "\\$(printf %o $((byte ^ 1)))" | dd of="$TMP/t1022.baton" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
check "exactly one byte differs" test "$(cmp -l "$TMP/p1022.baton" "$TMP/t1022.baton" | wc -l)" -eq 1
run bx B inbox --json
cp "$OUT" "$TMP/inboxB.1"
check_err 2 'bad_signature' "B rejects the tampered packet" bx B import "$TMP/t1022.baton"
check "B stored no S-1022" sh -c "! '$BATON' student list --dir '${DIR[B]}' | grep -q S-1022"
run bx B inbox --json
same "$TMP/inboxB.1" "$OUT" "B's inbox is unchanged"
check_out 'Imported .* as S-1022' "the untampered packet imports" bx B import "$TMP/p1022.baton"

# ---- 9. consents refused at send ----
run bx A outbox --json
cp "$OUT" "$TMP/outboxA.1"
check_err 2 'EEXPIRED' "a consent used after its expiry is refused" env \
	BATON_NOW=$(($(date +%s) + 3 * 86400)) "$BATON" send S-1046 --to RAS-204 \
	--consent "$TMP/S-1046-B.consent" --dir "${DIR[A]}"
check "the parent revokes the consent for S-1028" "$BATON" consent revoke --key "$TMP/parent.key" \
	"$TMP/S-1028-B.consent" --out "$TMP/S-1028.rev"
check "A imports the revocation" bx A consent import "$TMP/S-1028.rev"
check_err 2 'EREVOKED' "a revoked consent is refused" bx A send S-1028 --to RAS-204 \
	--consent "$TMP/S-1028-B.consent"
run bx A outbox --json
same "$TMP/outboxA.1" "$OUT" "the refused sends queued nothing"
check_out '^Sealed' "the expired consent was good before its expiry" bx A send S-1046 --to RAS-204 \
	--consent "$TMP/S-1046-B.consent" --out "$TMP/p1046.baton"

# ---- 7. the sender B has not pinned ----
check "E's outbox: attempts failed, B does not know E" wait_for 120 outbox_has E \
	"$P1066 .*queued +attempts [1-9].*does not know this school"
check "E got no receipt" sh -c "! '$BATON' outbox --dir '${DIR[E]}' | grep -q receipted"
check "B logged the unknown sender" grep -q "inbox: packet $P1066 from an unknown sender: rejected (unknown_sender)" "$TMP/b.log"
check "B imported nothing from E" sh -c "! '$BATON' inbox --dir '${DIR[B]}' | grep -q EVS-505"
check "B's inbox has no S-1066" test "$(inbox_count B S-1066)" -eq 0

alive "before the large packets"

# ---- 13. large packets in chunks, cut midway ----
# part_has_bytes NODE: a spool file of NODE holds some bytes (builtins only: fast).
part_has_bytes() {
	local f
	for f in "${DIR[$1]}"/spool/*.part; do
		[ -s "$f" ] && return 0
	done
	return 1
}
# kill_when_spooling NODE VICTIM SECONDS: SIGKILLs VICTIM's serve as soon as NODE's
# spool holds bytes; the size it held is in $PART_SIZE.
kill_when_spooling() {
	local n=$(($3 * 200)) f
	PART_SIZE=0
	while [ "$n" -gt 0 ]; do
		if part_has_bytes "$1"; then
			crash "$2"
			for f in "${DIR[$1]}"/spool/*.part; do PART_SIZE=$(wc -c <"$f"); done
			return 0
		fi
		sleep 0.005
		n=$((n - 1))
	done
	return 1
}
spool_empty() { ! ls "${DIR[$1]}"/spool/*.part >/dev/null 2>&1; }

# a. The receiver, B, is killed midway.
check_out 'queued' "A queues S-9001 (40 MB) for B" bx A send S-9001 --to RAS-204 \
	--consent "$TMP/S-9001-B.consent"
P9001=$(packet_of "$OUT")
check "B's serve is killed while the chunks arrive" kill_when_spooling B B 120
[ -z "${SPID[B]:-}" ] || crash B
TOTAL=$(wc -c <"${DIR[A]}/outbox/$P9001.baton")
check "it held part of the packet ($PART_SIZE of $TOTAL bytes)" test "$PART_SIZE" -gt 0 -a "$PART_SIZE" -lt "$TOTAL"
check "B's spool kept the partial file" sh -c "test -s '${DIR[B]}/spool/$P9001'.*.part"
start B b3.log
check "the delivery completes after B restarts" wait_for 120 outbox_has A "$P9001 .*receipted"
check "B imported S-9001 exactly once" test "$(inbox_count B S-9001)" -eq 1
check "B logged the import once" test "$(grep -c "packet $P9001 from LHS-001: imported" "$TMP/b3.log")" -eq 1
# The sender's REQ socket resends the chunk in flight once B listens again,
# within the same attempt: B answers with the bytes it holds and the chunks
# go on from there. (No probe, so no "resuming at byte" line here; the
# sender-killed case below starts a new attempt with a probe.) A transfer
# started over would have opened a new spool file ("receiving ... in chunks").
check "B went on with the spool it had, not from byte 0" sh -c \
	"! grep -q 'packet $P9001: receiving' '$TMP/b3.log' && ! grep -q 'packet $P9001: resuming at byte 0 ' '$TMP/b3.log'"
check "B's spool is empty" spool_empty B
mkdir -p "$TMP/expB9"
check "B exports S-9001" bx B student export S-9001 --out "$TMP/expB9/S-9001.json"
same "$TMP/expB9/S-9001-files/portfolio.bin" "$TMP/big.bin" "the 40 MB attachment is identical at B"

# b. The sender, A, is killed midway.
check_out 'queued' "A queues S-9002 (40 MB) for C" bx A send S-9002 --to CMS-310 \
	--consent "$TMP/S-9002-C.consent"
P9002=$(packet_of "$OUT")
check "A's serve is killed while its chunks arrive at C" kill_when_spooling C A 120
[ -z "${SPID[A]:-}" ] || crash A
TOTAL=$(wc -c <"${DIR[A]}/outbox/$P9002.baton")
check "C held part of the packet ($PART_SIZE of $TOTAL bytes)" test "$PART_SIZE" -gt 0 -a "$PART_SIZE" -lt "$TOTAL"
check_out "$P9002 .*queued" "the packet is still queued at A" bx A outbox
start A a2.log
check "the delivery completes after A restarts" wait_for 120 outbox_has A "$P9002 .*receipted"
check "C logged 'resuming at byte N' with N > 0" grep -Eq "packet $P9002: resuming at byte [1-9][0-9]* of $TOTAL" "$TMP/c.log"
check "C received the chunks into one spool file" test "$(grep -c "packet $P9002: receiving" "$TMP/c.log")" -eq 1
check "C imported S-9002 exactly once" test "$(inbox_count C S-9002)" -eq 1
check "C's spool is empty" spool_empty C
mkdir -p "$TMP/expC9"
check "C exports S-9002" bx C student export S-9002 --out "$TMP/expC9/S-9002.json"
same "$TMP/expC9/S-9002-files/portfolio.bin" "$TMP/big.bin" "the 40 MB attachment is identical at C"

# c. The receiver, D, died after the last chunk was spooled but before the
# import committed (the spool file is complete, nothing imported): the state
# a SIGKILL during the import of the last chunk leaves, made here exactly.
stop D
check "D stops on SIGTERM with exit code 0" test $? -eq 0
check_out 'queued' "A queues S-9003 (3 MB) for D" bx A send S-9003 --to DHS-402 \
	--consent "$TMP/S-9003-D.consent"
P9003=$(packet_of "$OUT")
check "A exports the 3 MB packet, kept as a file" bx A outbox export "$P9003" --out "$TMP/p9003.baton"
same "$TMP/p9003.baton" "${DIR[A]}/outbox/$P9003.baton" "the export is the queued packet, byte for byte"
check_err 3 'already exists; not overwriting it' "export does not overwrite a file (exit 3)" bx A outbox export "$P9003" \
	--out "$TMP/p9003.baton"
mkdir -p "${DIR[D]}/spool"
# A spool's name is the packet id, the sender's key (the header's sndr) and the length.
SNDR=$(perl -0777 -ne 'print unpack("H*", $1) if /sndr\xc4\x20(.{32})/s' "${DIR[A]}/outbox/$P9003.baton")
cp "${DIR[A]}/outbox/$P9003.baton" "${DIR[D]}/spool/$P9003.$SNDR.$(wc -c <"${DIR[A]}/outbox/$P9003.baton").part"
start D d2.log
check "the delivery completes with the whole packet already spooled" wait_for 120 outbox_has A "$P9003 .*receipted"
check "D imported S-9003 exactly once" test "$(inbox_count D S-9003)" -eq 1
check "D's spool is empty" spool_empty D

# ---- 14. every audit log verifies; every serve stops cleanly ----
for n in $NODES; do
	check "the audit log of ${CODE[$n]} verifies" bx "$n" audit verify
done
for n in $NODES; do
	stop "$n"
	check "the serve of ${CODE[$n]} stops on SIGTERM with exit code 0" test $? -eq 0
done
if [ "$NFAIL" -gt 0 ]; then
	for f in "$TMP"/*.log; do
		if grep -q 'ERROR: AddressSanitizer\|runtime error' "$f"; then
			echo "# $(basename "$f") (the sanitizer's report):"
			grep -m1 -B2 -A14 'ERROR: AddressSanitizer\|runtime error' "$f" | diag
		else
			echo "# the last lines of $(basename "$f"):"
			tail -n 25 "$f" | diag
		fi
	done
fi
done_testing
