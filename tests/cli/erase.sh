#!/usr/bin/env bash
# Erasure and retention. A student with a unique name and an attachment of
# unique bytes is imported, gets versions, a guardian link, an invitation,
# a statement of disagreement naming the family, the parent's email address
# (which names it too, and a notice queued for it), and a disclosure; an upgrade-style backup sits in the node directory.
# Refusals (no reason, an unknown id, a running serve, no --yes) change
# nothing. Then the student is erased, and the raw files of the node
# directory (the store, its lock file, the backups, the outbox) hold
# neither the name nor the bytes; the audit log still verifies and holds
# the tombstone. A record held for review is erased by itself. The console
# shows an admin (never a registrar) the retention period and sets it. A
# record received from another school and never enrolled
# is erased the same way at the receiver, and by the retention run after
# its dry run. A backup made before an erasure, restored, has the erasure
# applied again from the list of erasures. The id of an erased child given
# to another child starts a new record of disclosures and a new origin; a
# question at a terminal keeps nobody off the store; an erasure whose
# compaction did not happen is said by every later command until it is.
. "$(dirname "$0")/lib.sh"

A=$TMP/lhs B=$TMP/ras IN=$TMP/in
NAME=Zebulonqx FAMILY=Vantrillium$RANDOM$RANDOM
BYTES="attachment-bytes-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
mkdir -p "$IN/files"
printf '%s\n' "$BYTES" >"$IN/files/iep.pdf"

export BATON_PASSPHRASE="a long enough passphrase"
two_schools "$A" "$B" --no-passphrase

# record GRADE: S-7001's record, the grade differing from version to version.
record() {
	cat >"$IN/s.json" <<JSON
{"student_id": "S-7001", "state_student_id": "ST-7001-$FAMILY",
 "identity": {"given_name": "$NAME", "family_name": "$FAMILY", "birth_date": "2011-04-17"},
 "transcript": [{"school_year": "2025-2026", "term": "S1", "course_code": "MATH101",
                 "course_title": "Algebra I", "grade": "$1",
                 "credits_attempted": 1.0, "credits_earned": 1.0}],
 "attachments": [{"name": "iep.pdf", "media_type": "application/pdf",
                  "section": "transcript", "path": "files/iep.pdf"},
                 {"name": "handbook.pdf", "media_type": "application/pdf",
                  "section": "transcript", "path": "files/shared.pdf"}]}
JSON
}
echo "the school handbook, attached to two records" >"$IN/files/shared.pdf"
cat >"$IN/s2.json" <<JSON
{"student_id": "S-7002",
 "identity": {"given_name": "Ada", "family_name": "Other", "birth_date": "2011-05-17"},
 "transcript": [{"school_year": "2025-2026", "term": "S1", "course_code": "ART101",
                 "course_title": "Art", "grade": "B",
                 "credits_attempted": 1.0, "credits_earned": 1.0}],
 "attachments": [{"name": "handbook.pdf", "media_type": "application/pdf",
                  "section": "transcript", "path": "files/shared.pdf"}]}
JSON
check "A imports S-7002, who shares an attachment with S-7001" "$BATON" student import "$IN/s2.json" --dir "$A"
record B
check "A imports S-7001" "$BATON" student import "$IN/s.json" --dir "$A"
record A-
check "A imports a second version" "$BATON" student import "$IN/s.json" --dir "$A"
record A
check "A imports a third version" "$BATON" student import "$IN/s.json" --dir "$A"
check_out 'version[^0-9]*3|"version": 3' "three versions on file" "$BATON" student show S-7001 --json --dir "$A"
check "A links the parent to S-7001" "$BATON" guardian link S-7001 "$PK" --relation mother --dir "$A"
check "the parent's email address is on file" "$BATON" guardian email S-7001 "$PK" \
	"parent.$FAMILY@example.org" --dir "$A"
printf 'The %s family disagrees with this record.\n' "$FAMILY" >"$TMP/why.txt"
check "the parent files a statement of disagreement" "$BATON" student dissent S-7001 \
	--section identity --text-file "$TMP/why.txt" --key "$TMP/parent.key" --dir "$A"
check "A invites a second guardian" "$BATON" guardian invite S-7001 --relation father \
	--url http://127.0.0.1:9/ --dir "$A"
check "the parent consents" "$BATON" consent grant --key "$TMP/parent.key" --student S-7001 \
	--from "$TMP/LHS-001.card" --to "$TMP/RAS-204.card" --sections all --yes --out "$TMP/c.consent"
check_out '^Sealed' "A discloses S-7001 to RAS" "$BATON" send S-7001 --to RAS-204 \
	--consent "$TMP/c.consent" --out "$TMP/p.baton" --dir "$A"
check "an upgrade-style backup in the node directory" "$BATON" backup \
	"$A/backup-schema-3-20260101T000000Z" --dir "$A"
check "a backup elsewhere, before the erasure" "$BATON" backup "$TMP/nightly" --dir "$A"

# holds DIR: the name or the bytes are somewhere under DIR.
holds() {
	grep -rqa -e "$FAMILY" -e "$BYTES" "$1"
}
check "before: the node directory holds the name" grep -rqa "$FAMILY" "$A"
check "before: the store holds the attachment's bytes" grep -qa "$BYTES" "$A/db/data.mdb"
check "before: the upgrade backup holds them" holds "$A/backup-schema-3-20260101T000000Z"

# ---- refusals: each says why and changes nothing ----
snapshot() {
	{
		"$BATON" student list --json --dir "$A"
		"$BATON" audit --json --dir "$A"
		ls "$A" "$A/db" | grep -v '^spool$'
	} >"$TMP/$1.snap" 2>&1
}
snapshot before
unchanged() {
	snapshot after
	if cmp -s "$TMP/before.snap" "$TMP/after.snap"; then
		pass "$1"
	else
		fail "$1" "$(diff "$TMP/before.snap" "$TMP/after.snap" | head -n 20)"
	fi
}
check_err 1 'student erase: --reason TEXT is required' "no --reason: refused" \
	"$BATON" student erase S-7001 --yes --dir "$A"
check_err 2 '--reason: empty' "an empty reason: refused" \
	"$BATON" student erase S-7001 --reason "" --yes --dir "$A"
check_err 2 'no student S-NOPE on file' "an unknown id: refused" \
	"$BATON" student erase S-NOPE --reason "parent's request" --yes --dir "$A"
check_err 1 'give --yes to erase without asking; nothing was erased' "no terminal and no --yes: refused" \
	"$BATON" student erase S-7001 --reason "parent's request" --dir "$A"
check_err 2 'S-7001 was enrolled here .*without --received' "--received for an enrolled student: refused" \
	"$BATON" student erase S-7001 --received --reason "parent's request" --yes --dir "$A"
check_err 1 'give one of ID' "two modes at once: refused" \
	"$BATON" student erase S-7001 --expired --dir "$A"
# At a terminal the question waits for the registrar: the store is not held
# meanwhile, so commands and a restarting serve are not kept waiting.
mkfifo "$TMP/answer"
exec 7<>"$TMP/answer"
script -qfec "'$BATON' student erase S-7001 --reason \"parent's request\" --dir '$A'" \
	/dev/null <&7 >"$TMP/asking.out" 2>&1 &
ASKING=$!
BG+=($ASKING)
if wait_for 30 grep -q 'y/N' "$TMP/asking.out"; then
	pass "at a terminal, student erase asks before it erases"
else
	fail "at a terminal, student erase asks before it erases" "$(cat "$TMP/asking.out")"
fi
check "while it asks, another command reads the store at once" \
	timeout 10 "$BATON" student list --dir "$A"
printf 'n\n' >&7
wait "$ASKING"
exec 7>&-
check_out 'nothing was erased' "answered no, it erases nothing" cat "$TMP/asking.out"
free_ports 2 || done_testing
P=$P0
check "A listens on loopback" "$BATON" endpoint set "tcp://127.0.0.1:$P" --dir "$A" \
	--card-out "$TMP/LHS-001.card" --force
W=$((P + 1))
printf '%s\n' "ian's long password" >"$TMP/ian.pw"
printf '%s\n' "maria's long password" >"$TMP/maria.pw"
chmod 600 "$TMP/ian.pw" "$TMP/maria.pw"
check "an admin for A's console" "$BATON" user add ian --role admin --password-file "$TMP/ian.pw" --dir "$A"
check "a registrar for A's console" "$BATON" user add maria --role registrar --password-file "$TMP/maria.pw" --dir "$A"
check "A's console on loopback" "$BATON" web set --listen "127.0.0.1:$W" --dir "$A"
# api USER METHOD PATH [BODY]: one call to A's console API; status in $CODE, answer in $OUT.
api() {
	local jar=$TMP/$1.jar data=()
	if [ ! -f "$jar.csrf" ]; then
		curl -s -c "$jar" -H 'Content-Type: application/json' \
			-d "$(jq -n --arg u "$1" --arg p "$(cat "$TMP/$1.pw")" '{user: $u, password: $p}')" \
			"http://127.0.0.1:$W/api/v1/session" | jq -r .csrf >"$jar.csrf"
	fi
	[ -z "${4:-}" ] || data=(-H 'Content-Type: application/json' --data "$4")
	OUT=$TMP/api.out
	CODE=$(curl -s -o "$OUT" -w '%{http_code}' -b "$jar" -X "$2" -H "X-CSRF-Token: $(cat "$jar.csrf")" \
		"${data[@]}" "http://127.0.0.1:$W/api/v1/$3")
}
api_is() {
	if [ "$CODE" = "$1" ] && grep -Eq -- "$2" "$OUT"; then
		pass "$3"
	else
		fail "$3" "status $CODE, want $1" "$(cat "$OUT")"
	fi
}
snapshot before
if serve_start lhs "$A" lhs.log && wait_for 120 grep -q 'web: serving' "$TMP/lhs.log"; then
	check_err 3 'the store is open in another process .*baton serve.*stop it' \
		"a running serve: refused, saying to stop it" \
		"$BATON" student erase S-7001 --reason "parent's request" --yes --dir "$A"
	check_out 'Dry run: nothing was erased' "the retention dry run reads beside serve" \
		"$BATON" student erase --expired --dry-run --dir "$A"
	check "serve stops cleanly" serve_stop lhs
fi
unchanged "the refusals changed nothing"
if serve_start lhs "$A" lhs.log && wait_for 120 grep -q 'web: serving' "$TMP/lhs.log"; then
	api ian GET policy/retention
	api_is 200 '"days": ?90.*"due": ?\[\]' "the console shows the admin the retention period and nothing due"
	api maria GET policy/retention
	api_is 403 'admin' "a registrar may not see it"
	api maria PUT policy/retention '{"days": 45}'
	api_is 403 'admin' "nor change it"
	api ian PUT policy/retention '{"days": 0}'
	api_is 400 'days: a whole number of days from 1 to 36500' "0 days is refused, naming the field"
	api ian PUT policy/retention '{"days": "x"}'
	api_is 400 'days: a whole number' "a string is refused"
	check_out 'retention 90 days' "the refused changes left 90 days" "$BATON" policy retention --dir "$A"
	api ian PUT policy/retention '{"days": 120}'
	api_is 200 '"days": ?120' "the admin sets 120 days in the console"
	check_out 'policy.*retention 120 days' "audited" "$BATON" audit --dir "$A"
	check_out 'retention 120 days' "the command line sees it" "$BATON" policy retention --dir "$A"
	check "serve stops cleanly" serve_stop lhs
fi
check "still there after the refusals" grep -qa "$BYTES" "$A/db/data.mdb"

# ---- the erasure ----
check_out 'queued for' "a second disclosure waits in A's outbox" "$BATON" send S-7001 --to RAS-204 --again \
	--consent "$TMP/c.consent" --dir "$A"
# What a console upload of the record leaves when serve is killed midway.
printf '{"identity": {"family_name": "%s"}}\n' "$FAMILY" >"$A/.upload-K1lled"
check_out '^Erased S-7001' "A erases S-7001" "$BATON" student erase S-7001 \
	--reason "parent's request under district policy" --yes --dir "$A"
cp "$OUT" "$TMP/erase.out"
check_out 'record versions +3' "three versions went" cat "$TMP/erase.out"
check_out 'attachments +1$' "its own attachment went, the shared one stayed" cat "$TMP/erase.out"
mkdir -p "$TMP/exp"
check "S-7002 still exports" "$BATON" student export S-7002 --out "$TMP/exp/S-7002.json" --dir "$A"
same "$TMP/exp/S-7002-files/handbook.pdf" "$IN/files/shared.pdf" "S-7002's shared attachment is intact"
check_out 'guardian links +1' "the guardian link went" cat "$TMP/erase.out"
check_out 'invitations +1' "the invitation went" cat "$TMP/erase.out"
check_out 'consents +1' "the consent went" cat "$TMP/erase.out"
check_out 'statements +1$' "the statement of disagreement went" cat "$TMP/erase.out"
check_out 'notices to family +[1-9]' "the notices queued for the family went" cat "$TMP/erase.out"
check_out 'email addresses +1$' "the parent's address went (linked to no other student)" cat "$TMP/erase.out"
check_out '^removed .*backup-schema-3-20260101T000000Z' "the upgrade backup was removed" cat "$TMP/erase.out"
check_out 'compacted' "the store was compacted" cat "$TMP/erase.out"
check_out 'outbox packets +2' "both packets of the outbox went" cat "$TMP/erase.out"
check_out 'S-7001 +expired .*withdrawn: the student.s record was erased' "the queued one is withdrawn, saying why" \
	"$BATON" outbox --dir "$A"
check "the upgrade backup is gone" test ! -e "$A/backup-schema-3-20260101T000000Z"
check "no compaction file is left" test ! -e "$A/db/data.mdb.compact"
check "no file under the node directory holds the name or the bytes" sh -c "! grep -rqa -e '$FAMILY' -e '$BYTES' '$A'"
check "nor the store by itself" sh -c "! grep -qa -e '$NAME' -e '$BYTES' -e 'ST-7001' '$A/db/data.mdb'"
check "nor the lock file" sh -c "! grep -qa -e '$FAMILY' -e '$BYTES' '$A/db/lock.mdb'"
check_err 2 'no student "?S-7001' "the student is gone" "$BATON" student show S-7001 --dir "$A"
check_out 'entries, chain intact' "the audit log still verifies" "$BATON" audit verify --dir "$A"
N_ALL=$(sed -n 's/^audit log verified: \([0-9]*\) entries.*/\1/p' "$OUT")
check_out "^signed: entries 1\.\.$N_ALL " "the tombstone is covered by a head signed with the school key" cat "$OUT"
check_out 'erasure.*S-7001' "the audit log shows the tombstone" "$BATON" audit --student S-7001 --dir "$A"
check_out "parent's request under district policy" "with the registrar's reason" \
	"$BATON" audit --student S-7001 --dir "$A"
check_out 'disclosure.*RAS-204' "the disclosure entry stays (the 99.32 record)" \
	"$BATON" audit --student S-7001 --dir "$A"
check "the other students are still there" sh -c "'$BATON' student show S-1001 --dir '$A' >/dev/null"
check_err 2 'no student S-7001 on file' "erasing it twice: refused" \
	"$BATON" student erase S-7001 --reason "again" --yes --dir "$A"
check "the node still serves after the erasure" serve_start lhs2 "$A" lhs2.log
check "and stops" serve_stop lhs2

# ---- the id of an erased child given to another child ----
# The log keeps the erased child's entries under the id; the new child's
# record of disclosures starts at the tombstone.
cat >"$IN/reuse.json" <<JSON
{"student_id": "S-7001",
 "identity": {"given_name": "Newchild", "family_name": "Reused", "birth_date": "2013-02-03"}}
JSON
check "A files another child under the erased id S-7001" "$BATON" student import "$IN/reuse.json" --dir "$A"
check "A copies the new child's record of disclosures" "$BATON" audit copy --student S-7001 \
	--out "$TMP/reuse.copy" --dir "$A"
check_out '^No disclosures\.' "the copy holds none of the erased child's disclosures" \
	"$BATON" audit check "$TMP/reuse.copy" --card "$TMP/LHS-001.card"
check_out '^Record of disclosures' "and it holds against A's log" \
	"$BATON" audit check "$TMP/reuse.copy" --card "$TMP/LHS-001.card" --against "$A"
check_out '^Erased S-7001' "A erases that child too: S-7001 is in the list of erasures twice" \
	"$BATON" student erase S-7001 --reason "left the district" --yes --dir "$A"

# ---- a record held for review, erased by itself ----
HELD=Heldqx$RANDOM$RANDOM
printf '{"student_id": "S-1001", "identity": {"given_name": "%s", "family_name": "Other", "birth_date": "2012-01-01"}}\n' \
	"$HELD" >"$IN/h.json"
check_out 'held for review' "a record of another child under S-1001 is held" \
	"$BATON" student import "$IN/h.json" --dir "$A"
N=$("$BATON" review --dir "$A" | awk -v h="$HELD" '$0 ~ h {print $1}')
check "it is in the review queue ($N)" test -n "$N"
check_err 2 'no held record 999' "an unknown held record: refused" \
	"$BATON" student erase --held 999 --reason "not this school's" --yes --dir "$A"
check_out "^Erased held record $N \(held against S-1001\)" "the held record is erased" \
	"$BATON" student erase --held "$N" --reason "not this school's" --yes --dir "$A"
check "its name is gone from the store" sh -c "! grep -qa '$HELD' '$A/db/data.mdb'"
check_out "erasure-held.*S-1001.*held record $N" "the tombstone names the held record" \
	"$BATON" audit --student S-1001 --dir "$A"
check "S-1001 itself stays" sh -c "'$BATON' student show S-1001 --dir '$A' >/dev/null"
check_out "^S-7001	[0-9]+	" "the erasure is listed" "$BATON" student erasures --dir "$A"
cp "$OUT" "$TMP/erasures.txt"
check "the held record's erasure is not a student's" sh -c "! grep -q '^S-1001' '$TMP/erasures.txt'"

# ---- a backup made before, restored: the erasure applied again ----
check "the nightly backup (made before) restores" "$BATON" restore "$TMP/nightly" --dir "$TMP/restored"
check "the restored node holds S-7001 again" grep -qa "$BYTES" "$TMP/restored/db/data.mdb"
check_out "^Erased S-7001" "--replay erases it again" "$BATON" student erase \
	--replay "$TMP/erasures.txt" --yes --dir "$TMP/restored"
check "the restored node keeps S-1001" sh -c "'$BATON' student show S-1001 --dir '$TMP/restored' >/dev/null"
check "the restored node holds neither name nor bytes" sh -c "! grep -rqa -e '$FAMILY' -e '$BYTES' '$TMP/restored'"
check_out 'restored backup: erased' "its audit log says why" "$BATON" audit --student S-7001 --dir "$TMP/restored"
check_out 'nothing to erase again' "a second replay has nothing to do" "$BATON" student erase \
	--replay "$TMP/erasures.txt" --yes --dir "$TMP/restored"
check_err 2 'line 2: not' "a list that is not one is refused" sh -c \
	"printf '# x\nnonsense\n' >'$TMP/bad.txt'; '$BATON' student erase --replay '$TMP/bad.txt' --yes --dir '$TMP/restored'"

# ---- a record received and never enrolled (over two nodes) ----
# B once enrolled a child of its own as S-7001 and erased it: the id is free
# again, and what the log says of that child is not the received one's.
cat >"$IN/b-own.json" <<JSON
{"student_id": "S-7001",
 "identity": {"given_name": "Ownchild", "family_name": "Atb", "birth_date": "2012-06-07"}}
JSON
check "B enrols a child of its own as S-7001" "$BATON" student import "$IN/b-own.json" --dir "$B"
check_out '^Erased S-7001' "and erases it" "$BATON" student erase S-7001 --reason "left the district" \
	--yes --dir "$B"
check_out "^Imported .* as S-7001" "B imported the packet (sent before the erasure)" \
	"$BATON" import "$TMP/p.baton" --receipt-out "$TMP/r.receipt" --dir "$B"
check "B holds the name" grep -qa "$FAMILY" "$B/db/data.mdb"
check "B imports its own students" "$BATON" student import "$BATON_SRC/tests/data/school.json" --dir "$B"
check_err 2 'S-1001 was enrolled here' "--received for a student B enrolled: refused" \
	"$BATON" student erase S-1001 --received --reason "x" --yes --dir "$B"
check_out 'retention 90 days' "the retention period is 90 days by default" "$BATON" policy retention --dir "$B"
check_out 'past it\.' "nothing is past 90 days yet" "$BATON" student erase --expired --dry-run --dir "$B"
check_err 2 'DAYS: "0" is not a number of days' "a retention of 0 days: refused" \
	"$BATON" policy retention 0 --dir "$B"
check_out 'retention 30 days' "B keeps them 30 days" "$BATON" policy retention 30 --dir "$B"
check_out 'policy.*retention 30 days' "the change is audited" "$BATON" audit --dir "$B"
LATER=$(($(date +%s) + 31 * 86400))
check_out '^S-7001 +student +received .* from LHS-001' "31 days on, the dry run lists it" \
	env BATON_NOW=$LATER "$BATON" student erase --expired --dry-run --dir "$B"
check_out 'Dry run: nothing was erased' "and says it changed nothing" cat "$OUT"
check "the dry run left the record" grep -qa "$FAMILY" "$B/db/data.mdb"
check_out '^Erased S-7001 \(received from another school, never enrolled\)' \
	"31 days on, the retention run erases it" \
	env BATON_NOW=$LATER "$BATON" student erase --expired --yes --dir "$B"
check "B holds neither the name nor the bytes" sh -c "! grep -rqa -e '$FAMILY' -e '$BYTES' '$B'"
check_out 'erasure.*S-7001.*retention: received' "B's tombstone says retention" "$BATON" audit --student S-7001 --dir "$B"
check_out 'entries' "B's audit log verifies" "$BATON" audit verify --dir "$B"
check_out 'received.*LHS-001' "B's record of the arrival stays" "$BATON" audit --student S-7001 --dir "$B"
check "B still has its other data" sh -c "'$BATON' peer list --dir '$B' | grep -q LHS-001"
check_out 'past it\.' "a second run finds nothing" env BATON_NOW=$LATER "$BATON" student erase --expired --dry-run --dir "$B"
check_out '^Already imported from LHS-001 as S-7001' "a replayed packet imports nothing new" \
	"$BATON" import "$TMP/p.baton" --receipt-out "$TMP/r2.receipt" --dir "$B"
check "the replay guard kept it out" sh -c "! grep -qa '$FAMILY' '$B/db/data.mdb'"

# ---- an erasure whose compaction did not happen ----
# (as when the command is killed after the erasure commits): every later
# command says the compaction is owed until it is done.
mkdir "$B/db/data.mdb.compact"
check_err 3 'compacting the store failed' "an erasure whose compaction fails says so" \
	"$BATON" student erase S-1002 --reason "left the district" --yes --dir "$B"
check_err 0 'an erasure was not followed by the compaction.*--compact' \
	"a later command says the compaction is owed" "$BATON" student list --dir "$B"
rmdir "$B/db/data.mdb.compact"
check_out 'compacted' "the compaction, run again, is done" "$BATON" student erase --compact --dir "$B"
check "then no command says it is owed" sh -c "! '$BATON' student list --dir '$B' 2>&1 | grep -q compaction"
done_testing
