#!/usr/bin/env bash
# A registrar's day with the baton command: two schools set up, cards
# exchanged and pinned, the sample school's records imported, one record
# shown, exported with its attachment and imported again, a new version, a
# guardian key linked and unlinked, and the audit log read and verified.
. "$(dirname "$0")/lib.sh"

DATA=$BATON_SRC/tests/data
A=$TMP/lincoln   # no passphrase
B=$TMP/roosevelt # passphrase from BATON_PASSPHRASE
C=$TMP/jefferson # passphrase from --passphrase-file

# A fixed guardian public key (from the seed 32 x 0x41) and its fingerprint.
GK=baton-gk1-ivwvufz4yfjt6iuazwl52uetstzlgdqyekiyqevh37tset2dazbafpy
GK_FPR=IPJTR-SGXHS-BN3KZ-5S4GW-VZC6B
# The same key with one character mistyped.
GK_TYPO=baton-gk1-ivwwufz4yfjt6iuazwl52uetstzlgdqyekiyqevh37tset2dazbafpy

audit_entries() { # DIR: the number of entries in the audit log
	"$BATON" audit --json --dir "$1" 2>/dev/null | grep -c '"seq"'
}
fingerprint() { # FILE: the fingerprint that init printed
	sed -n 's/^ *fingerprint  *\([A-Z2-7]\{5\}\(-[A-Z2-7]\{5\}\)\{4\}\)$/\1/p' "$1"
}
json_value() { # KEY FILE: the first string value of "KEY" in FILE
	grep -m1 "\"$1\":" "$2" | sed "s/.*\"$1\": *\"\\([^\"]*\\)\".*/\\1/"
}

# ---- two schools ----

check_out '^ *fingerprint +[A-Z2-7]{5}(-[A-Z2-7]{5}){4}$' \
	"init a school with --no-passphrase prints its fingerprint" \
	"$BATON" init --name "Lincoln High School" --code LHS-001 --dir "$A" --no-passphrase
FPR_A=$(fingerprint "$OUT")
check "the node has a key file and a store" test -f "$A/school.key" -a -d "$A/db"
check "the key file is readable by its owner only (0600)" \
	test "$(stat -c %a "$A/school.key")" = 600

check_out '^ *fingerprint ' "init a school with the passphrase in BATON_PASSPHRASE" \
	env BATON_PASSPHRASE="correct horse battery staple" "$BATON" init \
	--name "Roosevelt Middle School" --code RMS-002 --endpoint tcp://192.0.2.7:7700 --dir "$B"
FPR_B=$(fingerprint "$OUT")
check "its key file is 0600 too" test "$(stat -c %a "$B/school.key")" = 600
check "the passphrase is not written into the key file" \
	sh -c '! grep -aq "correct horse" "$1"' sh "$B/school.key"
check "the two schools have different fingerprints" \
	test -n "$FPR_A" -a -n "$FPR_B" -a "$FPR_A" != "$FPR_B"

printf '\n' >"$TMP/empty-pass"
chmod 600 "$TMP/empty-pass"
check_err 1 'empty passphrase' "init with an empty passphrase file is refused" \
	"$BATON" init --name "Jefferson Elementary" --code JES-003 --dir "$C" \
	--passphrase-file "$TMP/empty-pass"
check "and leaves no half-made node behind" test ! -e "$C"
printf 'tr0ub4dor&3\n' >"$TMP/pass"
chmod 644 "$TMP/pass"
check_err 3 'chmod 600' "a passphrase file others can read is refused" \
	"$BATON" init --name "Jefferson Elementary" --code JES-003 --dir "$C" \
	--passphrase-file "$TMP/pass"
check "and no node is made" test ! -e "$C"
ln -s "$TMP/pass" "$TMP/pass-link"
chmod 600 "$TMP/pass"
check_err 3 'symbolic link' "a passphrase file that is a symbolic link is refused" \
	"$BATON" init --name "Jefferson Elementary" --code JES-003 --dir "$C" \
	--passphrase-file "$TMP/pass-link"
check_out '^ *fingerprint ' "init with --passphrase-file" \
	"$BATON" init --name "Jefferson Elementary" --code JES-003 --dir "$C" \
	--passphrase-file "$TMP/pass"
check "its key file is 0600" test "$(stat -c %a "$C/school.key")" = 600

cp "$A/school.key" "$TMP/lincoln.key"
check_err 3 'already exists' "init refuses to overwrite an existing node (--dir)" \
	"$BATON" init --name Other --code OTH-9 --dir "$A" --no-passphrase
check_exit 3 "init refuses to overwrite an existing node (BATON_DIR)" \
	env BATON_DIR="$A" "$BATON" init --name Other --code OTH-9 --no-passphrase
same "$A/school.key" "$TMP/lincoln.key" "the existing key file is untouched"

# ---- cards and pins ----

check_out "^Wrote the card of Roosevelt Middle School \\(RMS-002\\)" "card --out writes the card" \
	"$BATON" card --dir "$B" --out "$TMP/roosevelt.card"
check "the card file is not empty" test -s "$TMP/roosevelt.card"
run "$BATON" card --dir "$B"
cp "$OUT" "$TMP/roosevelt.card.stdout"
same "$TMP/roosevelt.card.stdout" "$TMP/roosevelt.card" "card without --out writes the same bytes to a pipe"
check_out "\"fingerprint\": \"$FPR_B\"" "card --json shows the fingerprint init printed" \
	"$BATON" card --dir "$B" --json
check_out '"tcp://192.0.2.7:7700"' "card --json shows the endpoint" "$BATON" card --dir "$B" --json

"$BATON" peer list --json --dir "$A" >"$TMP/peers.before" 2>/dev/null
n_before=$(audit_entries "$A")
check_err 2 'does not match.*not pinned' "peer add with the wrong --expect is refused" \
	"$BATON" peer add "$TMP/roosevelt.card" --expect "$FPR_A" --dir "$A"
"$BATON" peer list --json --dir "$A" >"$TMP/peers.after" 2>/dev/null
same "$TMP/peers.before" "$TMP/peers.after" "and nothing is pinned"
check "and nothing is logged" test "$(audit_entries "$A")" = "$n_before"

check_out 'Pinned Roosevelt Middle School \(RMS-002\).*matches --expect' \
	"peer add with the right --expect pins the card" \
	"$BATON" peer add "$TMP/roosevelt.card" --expect "$FPR_B" --dir "$A"
check_out '"code": "RMS-002"' "peer list --json has the school" "$BATON" peer list --json --dir "$A"
check "with its fingerprint" grep -q "\"fingerprint\": \"$FPR_B\"" "$OUT"
check_out "^RMS-002 .*Roosevelt Middle School.*$FPR_B" "peer list shows it" \
	"$BATON" peer list --dir "$A"
check_out '^Removed RMS-002' "peer remove" "$BATON" peer remove RMS-002 --dir "$A"
"$BATON" peer list --json --dir "$A" >"$TMP/peers.after" 2>/dev/null
same "$TMP/peers.before" "$TMP/peers.after" "peer list --json is empty again"
check_err 2 'RMS-002 is not pinned' "removing it again is refused" \
	"$BATON" peer remove RMS-002 --dir "$A"
check_out '"action": "peer-remove"' "the audit log has the pin and the removal" \
	"$BATON" audit --json --dir "$A"
check "(peer-add)" grep -q '"action": "peer-add"' "$OUT"

# ---- the sample school ----

check_out '^Imported 240 records .*: 240 new students, 0 new versions, 0 unchanged$' \
	"import the sample school (240 students)" \
	"$BATON" student import "$DATA/school.json" --dir "$A"
check_out '"student_id"' "student list --json" "$BATON" student list --json --dir "$A"
cp "$OUT" "$TMP/list.json"
check "it has 240 students" test "$(count '"student_id"' "$TMP/list.json")" -eq 240
run env BATON_DIR="$A" "$BATON" student list --json
same "$OUT" "$TMP/list.json" "BATON_DIR selects the node like --dir"

# The first student in the sample with an attachment.
SID=$(awk '/"student_id":/ { id = $0 } /"path":/ { print id; exit }' "$DATA/school.json" |
	sed 's/.*"student_id": *"\([^"]*\)".*/\1/')
SRC=$(json_value path "$DATA/school.json")
check "the sample has a student with an attachment ($SID, $SRC)" \
	test -n "$SID" -a -f "$DATA/$SRC"
SIZE=$(($(wc -c <"$DATA/$SRC")))

check_out "^$SID " "student show $SID" "$BATON" student show "$SID" --dir "$A"
cp "$OUT" "$TMP/show.v1.txt"
check "shows version 1 of 1" grep -q 'version 1 of 1' "$TMP/show.v1.txt"
check "shows the attachment with its size" \
	grep -Eq "attachment: .*\\(application/pdf, $SIZE bytes" "$TMP/show.v1.txt"
check "shows no guardian keys" grep -q 'guardian keys: none linked' "$TMP/show.v1.txt"
check_out "\"student_id\": \"$SID\"" "student show --json" "$BATON" student show "$SID" --json --dir "$A"
cp "$OUT" "$TMP/show.v1.json"
check "has the attachment's size" grep -q "\"size\": $SIZE" "$TMP/show.v1.json"
check "and its hash" grep -Eq '"hash": "[0-9a-f]{64}"' "$TMP/show.v1.json"
check "has \"version\": 1" grep -q '"version": 1,' "$TMP/show.v1.json"

mkdir "$TMP/export"
check "student export --out" \
	"$BATON" student export "$SID" --dir "$A" --out "$TMP/export/$SID.json"
EXP=$(json_value path "$TMP/export/$SID.json")
check "the export names the attachment beside it ($EXP)" \
	test -n "$EXP" -a -f "$TMP/export/$EXP"
same "$TMP/export/$EXP" "$DATA/$SRC" "the exported attachment is byte-identical to the original"
check "the export holds no store hashes" sh -c '! grep -q "\"hash\"" "$1"' sh "$TMP/export/$SID.json"

mkdir "$TMP/export2"
(cd "$TMP/export2" && "$BATON" student export "$SID" --dir "$A" >"$SID.json" 2>/dev/null)
same "$TMP/export2/$SID.json" "$TMP/export/$SID.json" "export to standard output writes the same JSON"
same "$TMP/export2/$EXP" "$DATA/$SRC" "and the attachment beside it"

check_out '^Imported 1 records .*: 0 new students, 0 new versions, 1 unchanged$' \
	"re-importing the export reports it unchanged" \
	"$BATON" student import "$TMP/export/$SID.json" --dir "$A"
run "$BATON" student show "$SID" --json --dir "$A"
same "$OUT" "$TMP/show.v1.json" "student show --json is identical after the re-import"
run "$BATON" student list --json --dir "$A"
same "$OUT" "$TMP/list.json" "student list --json too"

# A changed grade makes version 2.
OLD=$(json_value grade "$TMP/export/$SID.json")
NEW=D-
[ "$OLD" = D- ] && NEW=C
awk -v g="$NEW" '!done && /"grade":/ { sub(/"grade": *"[^"]*"/, "\"grade\": \"" g "\""); done = 1 } { print }' \
	"$TMP/export/$SID.json" >"$TMP/export/changed.json"
check "the changed file differs in one line" \
	test "$(diff "$TMP/export/$SID.json" "$TMP/export/changed.json" | grep -c '^>')" = 1
check_out '^Imported 1 records .*: 0 new students, 1 new versions, 0 unchanged$' \
	"importing a changed record makes a new version" \
	"$BATON" student import "$TMP/export/changed.json" --dir "$A"
check_out 'version 2 of 2' "student show says version 2 of 2" "$BATON" student show "$SID" --dir "$A"
check_out '"version": 2,' "student show --json says version 2" \
	"$BATON" student show "$SID" --json --dir "$A"
cp "$OUT" "$TMP/show.v2.json"
check "and has the new grade ($OLD -> $NEW)" test \
	"$(count "\"grade\": \"$NEW\"" "$TMP/show.v2.json")" -eq \
	"$(($(count "\"grade\": \"$NEW\"" "$TMP/show.v1.json") + 1))"
check_out 'version 1 of 2' "student show --version 1 shows the old version" \
	"$BATON" student show "$SID" --version 1 --dir "$A"
check_out '"version": 1,' "student show --version 1 --json" \
	"$BATON" student show "$SID" --version 1 --json --dir "$A"
check "still has the old grade" test \
	"$(count "\"grade\": \"$OLD\"" "$OUT")" -eq "$(count "\"grade\": \"$OLD\"" "$TMP/show.v1.json")"
check_out "^$SID .* v2\$" "student list shows v2" "$BATON" student list --dir "$A"
check_err 2 "no version 3" "student show --version 3 is refused" \
	"$BATON" student show "$SID" --version 3 --dir "$A"

# ---- guardian keys ----

check_out "^Linked mother key $GK_FPR to $SID\$" "guardian link" \
	"$BATON" guardian link "$SID" "$GK" --relation mother --dir "$A"
check_out "guardian key: mother $GK_FPR\$" "student show lists the key" \
	"$BATON" student show "$SID" --dir "$A"
check "with the key line" grep -q "^ *$GK\$" "$OUT"
check_out "\"key\": \"$GK\"" "student show --json has it in guardian_keys" \
	"$BATON" student show "$SID" --json --dir "$A"
check "not restricted" grep -q '"restricted": false' "$OUT"
check_out "restricted" "guardian link --restricted" \
	"$BATON" guardian link "$SID" "$GK" --relation mother --restricted --dir "$A"
check_out "guardian key: mother $GK_FPR RESTRICTED\$" "student show marks it RESTRICTED" \
	"$BATON" student show "$SID" --dir "$A"
check_out '"restricted": true' "student show --json says restricted" \
	"$BATON" student show "$SID" --json --dir "$A"
check "one link, not two" test "$(count '"key":' "$OUT")" -eq 1
check_out "^Unlinked key $GK_FPR from $SID\$" "guardian unlink" \
	"$BATON" guardian unlink "$SID" "$GK" --dir "$A"
check_out 'guardian keys: none linked' "student show has no key again" \
	"$BATON" student show "$SID" --dir "$A"
check_out '"guardian_keys": \[\]' "student show --json has no key again" \
	"$BATON" student show "$SID" --json --dir "$A"
check_err 2 'not linked' "unlinking it again is refused" \
	"$BATON" guardian unlink "$SID" "$GK" --dir "$A"
check_err 2 'checksum' "a mistyped key is refused (checksum)" \
	"$BATON" guardian link "$SID" "$GK_TYPO" --dir "$A"
check_err 2 'no student "S-NOPE"' "linking to an unknown student is refused" \
	"$BATON" guardian link S-NOPE "$GK" --dir "$A"
check_err 1 'relation' "a --relation that is not a lower-case word is a usage error" \
	"$BATON" guardian link "$SID" "$GK" --relation "Step Mother" --dir "$A"
check_out 'guardian keys: none linked' "none of the refusals linked anything" \
	"$BATON" student show "$SID" --dir "$A"

# ---- the audit log ----

check_out '"action"' "audit --student --json" "$BATON" audit --student "$SID" --json --dir "$A"
cp "$OUT" "$TMP/audit.student.json"
actions=$(sed -n 's/.*"action": "\([^"]*\)".*/\1/p' "$TMP/audit.student.json" | tr '\n' ' ')
check "lists the student's changes in order ($actions)" \
	test "$actions" = "import import guardian-link guardian-link guardian-unlink "
check "and only that student's entries" test \
	"$(count "\"student\": \"$SID\"" "$TMP/audit.student.json")" -eq \
	"$(count '"seq"' "$TMP/audit.student.json")"
run "$BATON" audit --json --dir "$A"
check "and all of them" test "$(count "\"student\": \"$SID\"" "$OUT")" -eq 5
check_out "student $SID +guardian-unlink|guardian-unlink +student $SID" "audit --student (text)" \
	"$BATON" audit --student "$SID" --dir "$A"
check "has five lines" test "$(wc -l <"$OUT")" -eq 5
N=$(audit_entries "$A")
check_out 'signed to its last entry' "audit sign covers the entries of commands run without the key" \
	"$BATON" audit sign --dir "$A"
check_out "^audit log verified: $N entries, chain intact\$" "audit verify ($N entries)" \
	"$BATON" audit verify --dir "$A"
check_out "chain intact" "audit verify on the second school (no passphrase needed)" \
	"$BATON" audit verify --dir "$B"

done_testing
