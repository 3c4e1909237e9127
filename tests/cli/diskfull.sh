#!/usr/bin/env bash
# A receiving node that runs out of space. The store (LMDB, DIR/db) reserves
# its whole map on disk when it opens and doubles the map when a transaction
# does not fit, reserving the new size first.
#
# (a) B's node directory on a 160 MiB tmpfs whose free space a filler file
#     takes: an import that fits in the map still commits; one that needs a
#     bigger map is refused (exit 3, a clear error, no receipt, nothing of it
#     stored, at most its rejection audited); reads keep working. A receipt
#     that cannot be written on the full disk leaves no empty file, and the
#     error says that the record was imported all the same. Then the map
#     itself is filled: imports keep being refused cleanly, never by a crash.
#     Once the filler is deleted the same imports succeed, small ones too.
# (b) A twin of B (the same school, on the ordinary disk) under `ulimit -f`,
#     so that the map cannot grow: with SIGXFSZ ignored (EFBIG) and at its
#     default, the import is refused with exit 3 and nothing is stored.
#
# (a) needs root to mount the tmpfs; elsewhere it is one "ok # SKIP" line.
. "$(dirname "$0")/lib.sh"

A=$TMP/lhs MNT=$TMP/mnt TWIN=$TMP/twin
B=$MNT/ras
MOUNTED=0
trap '[ "$MOUNTED" -eq 0 ] || umount "$MNT" 2>/dev/null || umount -l "$MNT" 2>/dev/null; rm -rf "$TMP"' EXIT

skip() {
	T=$((T + 1))
	echo "ok $T # SKIP $1"
}

# record ID FAMILY [ATTACHMENT_FILE]: a student of A with a transcript and,
# given a file, that file attached to the transcript.
record() {
	local att=""
	[ $# -lt 3 ] || att=", \"attachments\": [{\"name\": \"scan.pdf\", \"media_type\": \"application/pdf\",
  \"section\": \"transcript\", \"path\": \"$3\"}]"
	cat <<EOF
{"student_id": "$1", "state_student_id": "ST-$1",
 "identity": {"given_name": "Sam", "family_name": "$2", "birth_date": "2012-03-04"},
 "enrollment": [{"school_name": "Lincoln High School", "school_code": "LHS-001",
                 "entry_date": "2025-08-20", "grade_level": "09"}],
 "transcript": [{"school_year": "2025-2026", "term": "S1", "course_code": "MATH101",
                 "course_title": "Algebra I", "grade": "A-", "credits_attempted": 1.0,
                 "credits_earned": 1.0}]$att}
EOF
}

# seal ID: A seals student ID's record for B as $TMP/ID.baton, its packet id in $TMP/ID.id.
seal() {
	"$BATON" guardian link "$1" "$PK" --relation mother --dir "$A" >/dev/null &&
		"$BATON" consent grant --key "$TMP/parent.key" --student "$1" --from "$TMP/a.card" \
			--to "$TMP/b.card" --sections all --yes --out "$TMP/$1.consent" >/dev/null &&
		"$BATON" send "$1" --to RAS-204 --consent "$TMP/$1.consent" --out "$TMP/$1.baton" \
			--dir "$A" >"$TMP/$1.sent" &&
		sed -n 's/^ *packet \([0-9a-f]*\),.*/\1/p' "$TMP/$1.sent" >"$TMP/$1.id" &&
		test -s "$TMP/$1.id"
}

# state DIR NAME: DIR's students, inbox and audit log into $TMP/NAME.{students,inbox,audit}.
state() {
	"$BATON" student list --json --dir "$1" >"$TMP/$2.students" 2>/dev/null
	"$BATON" inbox --json --dir "$1" >"$TMP/$2.inbox" 2>/dev/null
	"$BATON" audit --json --dir "$1" >"$TMP/$2.audit" 2>/dev/null
}

# audit_grew BEFORE AFTER STUDENT: passes when the audit log AFTER is BEFORE
# with at most one entry more, the rejection of STUDENT's packet for storage.
audit_grew() {
	local before=$1 after=$2 id n0 n1
	id=$(cat "$TMP/$3.id")
	n0=$(count '"seq":' "$TMP/$before.audit")
	n1=$(count '"seq":' "$TMP/$after.audit")
	# Each entry's hash covers the one before: equal hashes, equal entries.
	grep '"hash":' "$TMP/$before.audit" >"$TMP/hashes.before"
	grep '"hash":' "$TMP/$after.audit" | head -n "$n0" >"$TMP/hashes.after"
	# The new entries: everything after the first n0.
	awk -v n="$n0" '/"seq":/ { k++ } k > n' "$TMP/$after.audit" >"$TMP/new.entry"
	if [ "$n1" -eq "$n0" ] && cmp -s "$TMP/hashes.before" "$TMP/hashes.after"; then
		pass "the audit log is unchanged (no rejection entry was written)"
	elif [ "$n1" -eq $((n0 + 1)) ] && cmp -s "$TMP/hashes.before" "$TMP/hashes.after" &&
		grep -q '"action": "rejected"' "$TMP/new.entry" && grep -q "\"packet\": \"$id\"" "$TMP/new.entry" &&
		grep -q '"detail": "storage: ' "$TMP/new.entry"; then
		pass "the audit log gained one entry only: the packet rejected for storage"
		echo "#   $(sed -n 's/^ *"detail": "\(.*\)",*$/\1/p' "$TMP/new.entry")"
	else
		fail "the audit log gains at most one entry, the packet rejected for storage" \
			"$n0 entries before, $n1 after; new:" "$(head -n 12 "$TMP/new.entry")"
	fi
}

# ---- the schools, and the packets A seals for B ----

check "init A" "$BATON" init --name "Lincoln High School" --code LHS-001 --dir "$A" --no-passphrase
mkdir "$MNT"
if [ "$(id -u)" -eq 0 ] && mount -t tmpfs -o size=160m,mode=0700 tmpfs "$MNT" 2>"$TMP/mount.err"; then
	MOUNTED=1
else
	echo "# cannot mount a tmpfs: $(head -n1 "$TMP/mount.err" 2>/dev/null)"
	B=$TMP/ras
fi
check "init B" "$BATON" init --name "Riverside Academy" --code RAS-204 --dir "$B" --no-passphrase
check "cards" sh -c "'$BATON' card --dir '$A' --out '$TMP/a.card' >/dev/null &&
	'$BATON' card --dir '$B' --out '$TMP/b.card' >/dev/null"
check "A pins B and B pins A" sh -c "'$BATON' peer add '$TMP/b.card' --dir '$A' >/dev/null &&
	'$BATON' peer add '$TMP/a.card' --dir '$B' >/dev/null"
# The twin: B as it is now, on the ordinary disk.
check "a twin of B on the ordinary disk" cp -a "$B" "$TWIN"

check "a parent's key" "$BATON" guardian keygen --out "$TMP/parent.key" --no-passphrase
PK=$("$BATON" guardian pubkey "$TMP/parent.key" 2>/dev/null | head -n1)

# S-BIG1: 48 MiB, most of B's 64 MiB map; S-BIG2: 24 MiB, more than is then
# left; S-FILLn: 8 MiB down to 4 KiB, to fill what is left; S-SMALLn: none.
mkdir "$TMP/files"
FILLS="8192 4096 2048 1024 512 256 128 64 32 16 8 4"
NSMALL=24
{
	echo "["
	head -c 48M /dev/urandom >"$TMP/files/big1.pdf"
	record S-BIG1 Big files/big1.pdf
	echo ","
	head -c 24M /dev/urandom >"$TMP/files/big2.pdf"
	record S-BIG2 Bigger files/big2.pdf
	for k in $FILLS; do
		head -c "${k}K" /dev/urandom >"$TMP/files/fill$k.pdf"
		echo ","
		record "S-FILL$k" Filler "files/fill$k.pdf"
	done
	for ((j = 0; j <= NSMALL; j++)); do
		echo ","
		record "S-SMALL$j" Small
	done
	echo "]"
} >"$TMP/students.json"
check_out "$((15 + NSMALL)) new students" "A imports $((15 + NSMALL)) students, two with a large attachment" \
	"$BATON" student import "$TMP/students.json" --dir "$A"
bad=""
for s in S-BIG1 S-BIG2 $(for k in $FILLS; do echo "S-FILL$k"; done) $(seq -f 'S-SMALL%g' 0 "$NSMALL"); do
	seal "$s" 2>"$TMP/err" || { bad="$s: $(head -n1 "$TMP/err")"; break; }
done
if [ -z "$bad" ]; then pass "A seals a packet for B of each of them"; else fail "A seals a packet for B of each student" "first failure: $bad"; fi

# ---- (a) B on a full tmpfs ----

if [ "$MOUNTED" -eq 0 ]; then
	skip "(a) B on a full tmpfs: cannot mount one here (not root, or not permitted)"
else
	cat /dev/zero >"$MNT/filler" 2>/dev/null
	check_out '^0$' "a filler file takes all the space left on B's tmpfs" \
		sh -c "df -k --output=avail '$MNT' | tail -n1 | tr -d ' '"
	(cd "$B" && find . | sort) >"$TMP/b.files"

	# The map was reserved when the node was made: 48 MiB still fit.
	check_out '^Imported .* as S-BIG1, version 1' "on the full disk, a 48 MiB record that fits in the map imports" \
		"$BATON" import "$TMP/S-BIG1.baton" --receipt-out "$TMP/big1.rcpt" --dir "$B"

	# 24 MiB more needs a bigger map, and the disk has no room for it.
	state "$B" before
	check_err 3 'No space left on device' "a 24 MiB record that needs a bigger map is refused (exit 3), naming the full disk" \
		"$BATON" import "$TMP/S-BIG2.baton" --receipt-out "$TMP/big2.rcpt" --dir "$B"
	check "no receipt is written" test ! -e "$TMP/big2.rcpt"
	check_out 'S-BIG1' "student list still works on the full disk" "$BATON" student list --dir "$B"
	check_out 'accepted' "inbox still works on the full disk" "$BATON" inbox --dir "$B"
	state "$B" after
	same "$TMP/before.students" "$TMP/after.students" "the refused record is not among B's students"
	same "$TMP/before.inbox" "$TMP/after.inbox" "nor in B's inbox"
	audit_grew before after S-BIG2
	check "B's audit log verifies" "$BATON" audit verify --dir "$B"
	(cd "$B" && find . | sort) >"$TMP/b.files.after"
	same "$TMP/b.files" "$TMP/b.files.after" "the refused import left no file in B's node directory"
	echo "#   B's data.mdb: $(stat -c %s "$B/db/data.mdb") bytes long, $(du -k "$B/db/data.mdb" | cut -f1) KiB allocated"

	# The store has room, the receipt's disk has none: the record is on file,
	# so the error must say so, and no empty receipt may stay behind.
	run "$BATON" import "$TMP/S-SMALL0.baton" --receipt-out "$MNT/small0.rcpt" --dir "$B"
	cp "$ERR" "$TMP/small0.err"
	if [ "$RC" -eq 3 ]; then pass "a receipt that cannot be written on the full disk: exit 3"; else fail_run "a receipt that cannot be written on the full disk: exit 3"; fi
	check "no empty or partial receipt file is left on the full disk" test ! -e "$MNT/small0.rcpt"
	check_out '"student_id": "S-SMALL0"' "the record was imported all the same (the receipt comes after the commit)" \
		"$BATON" student list --json --dir "$B"
	if grep -qi 'imported' "$TMP/small0.err"; then
		pass "the error says that the record was imported and only its receipt is missing"
	else
		fail "the error says that the record was imported and only its receipt is missing" \
			"stderr: $(cat "$TMP/small0.err")"
	fi

	# Fill the map too: each packet fits or is refused, none crashes.
	bad="" fit=0
	for k in $FILLS; do
		run "$BATON" import "$TMP/S-FILL$k.baton" --receipt-out "$TMP/fill$k.rcpt" --dir "$B"
		case $RC in
		0) fit=$((fit + 1)) ;;
		3) [ ! -e "$TMP/fill$k.rcpt" ] || bad="${bad:-S-FILL$k: refused, yet a receipt was written}" ;;
		*) bad="${bad:-S-FILL$k: exit $RC: $(head -n1 "$ERR")}" ;;
		esac
	done
	if [ -z "$bad" ]; then
		pass "the map is filled with records of 8 MiB down to 4 KiB: $fit fit, the others are refused (exit 3)"
	else
		fail "records of 8 MiB down to 4 KiB each fit or are refused (exit 3)" "first failure: $bad"
	fi

	# Then small records, one after the other, until one no longer fits; that
	# one again and again, while each rejection's own audit entry also needs
	# room: every attempt must end cleanly, imported or refused.
	state "$B" before
	bad="" n=0 j=1 refused=0 imported=0
	while [ "$n" -lt 200 ] && [ "$j" -le "$NSMALL" ]; do
		n=$((n + 1))
		# (a crash's "Bus error" notice is not for the test's stderr)
		{ run "$BATON" import "$TMP/S-SMALL$j.baton" --receipt-out "$TMP/small$j.rcpt" --dir "$B"; } 2>/dev/null
		if [ "$RC" -eq 0 ]; then
			imported=$((imported + 1))
			j=$((j + 1))
		elif [ "$RC" -eq 3 ]; then
			refused=$((refused + 1))
			[ ! -e "$TMP/small$j.rcpt" ] || bad="attempt $n, S-SMALL$j: refused, yet a receipt was written"
		else
			bad="attempt $n, S-SMALL$j: exit $RC$([ "$RC" -gt 128 ] && echo " (killed by signal $((RC - 128)))"): $(head -n1 "$ERR")"
		fi
		[ -z "$bad" ] || break
	done
	if [ -z "$bad" ]; then
		pass "small records on the full disk: $imported imported, then $refused attempts refused (exit 3) and none crashed"
	else
		fail "small records on the full disk: each attempt is imported or refused (exit 3), none crashes" \
			"$bad" "after $imported imported and $refused refused"
	fi
	echo "#   last error: $(head -n1 "$ERR")"
	FULL=S-SMALL$j
	check "the map was full: at least one small record was refused" test "$refused" -gt 0
	check "no receipt for the refused record" test ! -e "$TMP/small$j.rcpt"
	state "$B" after
	check "the refused record is not among B's students" \
		sh -c "! grep -q '\"student_id\": \"$FULL\"' '$TMP/after.students'"
	check "nor in B's inbox" sh -c "! grep -q '\"student\": \"$FULL\"' '$TMP/after.inbox'"
	check "B's audit log verifies" "$BATON" audit verify --dir "$B"
	echo "#   the audit log went from $(count '"seq":' "$TMP/before.audit") to $(count '"seq":' "$TMP/after.audit") entries"
	check_out 'S-BIG1' "student list still works" "$BATON" student list --dir "$B"

	# Room again: the same imports succeed.
	check "the filler is deleted" rm "$MNT/filler"
	check_out '^Imported .* as S-BIG2, version 1' "the refused 24 MiB record now imports" \
		"$BATON" import "$TMP/S-BIG2.baton" --receipt-out "$TMP/big2.rcpt" --dir "$B"
	check "and its receipt is written" test -s "$TMP/big2.rcpt"
	check_out '^Already imported' "importing it again is a replay" \
		"$BATON" import "$TMP/S-BIG2.baton" --receipt-out "$TMP/big2.again.rcpt" --dir "$B"
	same "$TMP/big2.rcpt" "$TMP/big2.again.rcpt" "with the same receipt"
	check_out '^Already imported' "the record whose receipt could not be written: a replay, which writes it now" \
		"$BATON" import "$TMP/S-SMALL0.baton" --receipt-out "$MNT/small0.rcpt" --dir "$B"
	check "and the receipt is there" test -s "$MNT/small0.rcpt"
	# The map grew to 128 MiB for S-BIG2; the disk has room to spare.
	free=$(($(df -k --output=avail "$MNT" | tail -n1) / 1024))
	echo "#   B's data.mdb: $(stat -c %s "$B/db/data.mdb") bytes long; $free MiB free on the tmpfs"
	check_out "^Imported .* as $FULL, version 1" "with $free MiB free, the small record refused last imports" \
		"$BATON" import "$TMP/$FULL.baton" --receipt-out "$TMP/full.rcpt" --dir "$B"
	mkdir -p "$TMP/exp"
	check "B exports S-BIG2" "$BATON" student export S-BIG2 --out "$TMP/exp/S-BIG2.json" --dir "$B"
	same "$TMP/files/big2.pdf" "$TMP/exp/S-BIG2-files/scan.pdf" "its 24 MiB attachment arrived byte for byte"
	check "B's audit log verifies" "$BATON" audit verify --dir "$B"
fi

# ---- (b) the twin under a file size limit ----

TWIN_DB=$TWIN/db/data.mdb
check_out '^Imported .* as S-BIG1, version 1' "the twin imports the 48 MiB record" \
	"$BATON" import "$TMP/S-BIG1.baton" --receipt-out "$TMP/t.big1.rcpt" --dir "$TWIN"
LIMIT=$(($(stat -c %s "$TWIN_DB") / 1024)) # KiB, as bash's ulimit -f counts
echo "#   ulimit -f $LIMIT: the twin's data.mdb may not grow past its $(stat -c %s "$TWIN_DB") bytes"

# limited XFSZ_ACTION CMD...: CMD under ulimit -f $LIMIT, SIGXFSZ set to
# XFSZ_ACTION ("ignore" or "default").
limited() {
	local act=$1
	shift
	bash -c 'if [ "$1" = ignore ]; then trap "" XFSZ; fi; ulimit -f "$2" && shift 2 && exec "$@"' \
		limited "$act" "$LIMIT" "$@"
}

state "$TWIN" before
check_err 3 'File too large|size limit|EFBIG' \
	"SIGXFSZ ignored: a record that needs a bigger map is refused (exit 3), naming the file size limit" \
	limited ignore "$BATON" import "$TMP/S-BIG2.baton" --receipt-out "$TMP/t.big2.rcpt" --dir "$TWIN"
check "no receipt is written" test ! -e "$TMP/t.big2.rcpt"
state "$TWIN" after
same "$TMP/before.students" "$TMP/after.students" "the refused record is not among the twin's students"
same "$TMP/before.inbox" "$TMP/after.inbox" "nor in its inbox"
audit_grew before after S-BIG2
check "the twin's audit log verifies" "$BATON" audit verify --dir "$TWIN"

state "$TWIN" before
run limited default "$BATON" import "$TMP/S-BIG2.baton" --receipt-out "$TMP/t.big2.rcpt" --dir "$TWIN"
if [ "$RC" -eq 3 ]; then
	pass "SIGXFSZ at its default: the import is refused (exit 3), not killed by the signal"
else
	fail_run "SIGXFSZ at its default: the import is refused (exit 3), not killed by the signal" \
		"$([ "$RC" -gt 128 ] && echo "killed by signal $((RC - 128))")"
fi
check "no receipt is written" test ! -e "$TMP/t.big2.rcpt"
state "$TWIN" after
same "$TMP/before.students" "$TMP/after.students" "the record is not among the twin's students"
same "$TMP/before.inbox" "$TMP/after.inbox" "nor in its inbox"
check "the twin's audit log verifies" "$BATON" audit verify --dir "$TWIN"
check_out 'S-BIG1' "student list works on the twin" "$BATON" student list --dir "$TWIN"

check_out '^Imported .* as S-BIG2, version 1' "without the limit the same import succeeds" \
	"$BATON" import "$TMP/S-BIG2.baton" --receipt-out "$TMP/t.big2.rcpt" --dir "$TWIN"
check "and its receipt is written" test -s "$TMP/t.big2.rcpt"
check "the twin's audit log verifies" "$BATON" audit verify --dir "$TWIN"
done_testing
