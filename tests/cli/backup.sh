#!/usr/bin/env bash
# baton backup, restore and upgrade. Backups taken while 'baton serve' runs
# and cohorts are imported in another process are each one committed state
# (a student count that existed, never one between), restore into new
# nodes that show students and verify their audit log; a changed or missing
# file is refused by name; nothing is written over an existing directory;
# modes are 0700 and 0600. A schema-3 store (tests/tools/store_schema) is
# not upgraded by a command without a terminal, byte for byte; with
# BATON_UPGRADE=yes it is backed up first, and that backup restores the
# schema-3 store.
. "$(dirname "$0")/lib.sh"

DATA=$BATON_SRC/tests/data
A=$TMP/a
free_ports 4 || done_testing
PA=$P0
COHORTS=4

check "init A" "$BATON" init --name "Lincoln High School" --code LHS-001 \
	--endpoint "tcp://127.0.0.1:$PA" --dir "$A" --no-passphrase
FPR=$(awk '$1 == "fingerprint" { print $2 }' "$OUT")
check_out '240 new students' "A imports the sample school" \
	"$BATON" student import "$DATA/school.json" --dir "$A"

# Cohorts of 240 new students each: the sample school under other ids.
mkdir -p "$TMP/c"
cp -r "$DATA/files" "$TMP/c/files"
for i in $(seq 1 $COHORTS); do
	perl -pe "s/\"student_id\": \"S-/\"student_id\": \"C$i-/; s/\"state_student_id\": \"ST-/\"state_student_id\": \"T$i-/" \
		"$DATA/school.json" >"$TMP/c/cohort$i.json"
done

# ---- (a) backups while serve runs and cohorts are imported ----
serve_start a "$A" serve-a.log || done_testing
(
	for i in $(seq 1 $COHORTS); do
		"$BATON" student import "$TMP/c/cohort$i.json" --dir "$A" >"$TMP/import$i.out" 2>&1 ||
			echo "cohort $i: exit $?" >>"$TMP/import.failed"
	done
	: >"$TMP/import.done"
) &
IMPORTER=$!
BG+=($IMPORTER)
nb=0
while [ ! -e "$TMP/import.done" ] || [ "$nb" -lt 2 ]; do
	nb=$((nb + 1))
	run "$BATON" backup "$TMP/bk$nb" --dir "$A"
	if [ "$RC" -ne 0 ]; then
		fail_run "backup $nb while serve runs and cohorts are imported"
		break
	fi
	[ "$nb" -lt 40 ] || break
done
wait "$IMPORTER"
if [ -e "$TMP/import.failed" ]; then
	fail "every cohort imported beside the backups" "$(cat "$TMP/import.failed")"
else
	pass "every cohort imported beside the $nb backups"
fi
check_out 'Backed up LHS-001' "a backup after the imports" "$BATON" backup "$TMP/bk-last" --dir "$A"
serve_stop a

# Each backup restores into a node whose student count existed at a commit.
bad=
counts=
restored=0
for b in $(seq 1 $nb) -last; do
	[ -d "$TMP/bk$b" ] || continue
	restored=$((restored + 1))
	run "$BATON" restore "$TMP/bk$b" --dir "$TMP/r$b"
	n=$(awk '$1 == "students" { print $2 }' "$OUT")
	counts="$counts $n"
	if [ "$RC" -ne 0 ] || [ -z "$n" ] || [ $((n % 240)) -ne 0 ] || [ "$n" -lt 240 ] ||
		[ "$n" -gt $((240 * (COHORTS + 1))) ]; then
		bad="$bad bk$b:${n:-none}(exit $RC)"
		fail_run "restore of backup $b"
	fi
done
if [ -z "$bad" ] && [ "$restored" -ge 3 ]; then
	pass "every backup is one committed state: student counts$counts"
else
	fail "every backup is one committed state" "$restored backups restored; not one state:${bad:- none}"
fi
check_out "students +$((240 * (COHORTS + 1)))\$" "the backup after the imports holds every student" \
	"$BATON" restore "$TMP/bk-last" --dir "$TMP/r-last2"
check_out 'Jonah' "student show in a restored node" "$BATON" student show S-1001 --dir "$TMP/r-last"
check_out 'Jonah' "a cohort's student in a restored node" "$BATON" student show C$COHORTS-1001 --dir "$TMP/r-last"
check_out 'audit log verified' "audit verify in a restored node" "$BATON" audit verify --dir "$TMP/r-last"
check_out 'audit log verified' "audit verify in the first restored node" "$BATON" audit verify --dir "$TMP/r1"
check_out 'LHS-001' "the restored node's card" "$BATON" card --dir "$TMP/r-last"

# The manifest says what it holds.
M=$TMP/bk-last/MANIFEST
run "$BATON" --version
ver=$(awk '{ print $2 }' "$OUT")
if grep -qx "baton $ver" "$M" && grep -qx 'schema 4' "$M" && grep -qx 'school LHS-001' "$M" &&
	grep -Eq '^time [0-9]+$' "$M" && [ -n "$FPR" ] && grep -qx "fingerprint $FPR" "$M" &&
	grep -Eq '^file db/data.mdb [0-9]+ [0-9a-f]{64}$' "$M" &&
	grep -Eq '^file school.key 144 [0-9a-f]{64}$' "$M" && grep -Eq '^file school.card [0-9]+ [0-9a-f]{64}$' "$M"; then
	pass "MANIFEST: version, schema, school, fingerprint, time, each file's size and hash"
else
	fail "MANIFEST: version, schema, school, fingerprint, time, each file's size and hash" \
		"baton --version: $ver, fingerprint $FPR" "$(cat "$M")"
fi
sum=$(b2sum -l 256 "$TMP/bk-last/db/data.mdb" | cut -d' ' -f1)
if grep -q "^file db/data.mdb $(stat -c %s "$TMP/bk-last/db/data.mdb") $sum\$" "$M"; then
	pass "MANIFEST's hash of the store is its BLAKE2b-256"
else
	fail "MANIFEST's hash of the store is its BLAKE2b-256" "b2sum: $sum" "$(cat "$M")"
fi
check_err 3 'not a Baton node' "backup of a directory that is not a node" \
	"$BATON" backup "$TMP/bk-none" --dir "$TMP/c"
[ ! -e "$TMP/bk-none" ] && pass "nothing written for it" || fail "nothing written for it"

# ---- (b) a tampered backup ----
cp -a "$TMP/bk-last" "$TMP/bk-flip"
flip "$TMP/bk-flip/db/data.mdb" 5000
check_err 2 'bk-flip/db/data.mdb: does not match MANIFEST' "one byte of the store changed: refused, naming it" \
	"$BATON" restore "$TMP/bk-flip" --dir "$TMP/r-flip"
[ ! -e "$TMP/r-flip" ] && pass "nothing restored from it" || fail "nothing restored from it"
cp -a "$TMP/bk-last" "$TMP/bk-gone"
rm "$TMP/bk-gone/school.key"
check_err 2 'bk-gone/school.key: missing' "a file removed: refused, naming it" \
	"$BATON" restore "$TMP/bk-gone" --dir "$TMP/r-gone"
[ ! -e "$TMP/r-gone" ] && pass "nothing restored from it" || fail "nothing restored from it"
cp -a "$TMP/bk-last" "$TMP/bk-extra"
echo extra >"$TMP/bk-extra/school.key.old-1"
check_err 2 'bk-extra/school.key.old-1: not in MANIFEST' "a file added: refused, naming it" \
	"$BATON" restore "$TMP/bk-extra" --dir "$TMP/r-extra"
cp -a "$TMP/bk-last" "$TMP/bk-mf"
perl -pi -e 's/^schema 4$/schema 3/' "$TMP/bk-mf/MANIFEST"
check_err 2 'schema 4, MANIFEST says 3' "a manifest that lies about the schema: refused" \
	"$BATON" restore "$TMP/bk-mf" --dir "$TMP/r-mf"
[ ! -e "$TMP/r-mf" ] && pass "nothing left of that restore" || fail "nothing left of that restore" "$(ls -laR "$TMP/r-mf")"

# A disk that fills (a file-size limit here): refused, and nothing left.
run bash -c "ulimit -f 1024 && exec '$BATON' backup '$TMP/bk-limit' --dir '$A'"
if [ "$RC" -eq 3 ] && grep -q 'File too large' "$ERR" && [ ! -e "$TMP/bk-limit" ]; then
	pass "a backup that cannot be written whole fails and leaves nothing"
else
	fail_run "a backup that cannot be written whole fails and leaves nothing" "$(ls -laR "$TMP/bk-limit" 2>&1 | head)"
fi

# ---- (c) backup into a directory that is not empty ----
mkdir "$TMP/full"
echo keep >"$TMP/full/notes.txt"
check_err 3 'full: exists and is not empty' "backup into a non-empty directory refused" \
	"$BATON" backup "$TMP/full" --dir "$A"
[ "$(ls -A "$TMP/full")" = notes.txt ] && [ "$(cat "$TMP/full/notes.txt")" = keep ] &&
	pass "nothing written into it" || fail "nothing written into it" "$(ls -la "$TMP/full")"
echo x >"$TMP/afile"
check_err 3 'afile: exists and is not a directory' "backup onto a file refused" \
	"$BATON" backup "$TMP/afile" --dir "$A"
mkdir "$TMP/empty"
check_out 'Backed up' "backup into an empty directory" "$BATON" backup "$TMP/empty" --dir "$A"

# ---- (d) restore over an existing directory ----
check_err 3 'r1: exists and is not empty' "restore over an existing node refused" \
	"$BATON" restore "$TMP/bk-last" --dir "$TMP/r1"
check_out 'audit log verified' "that node untouched" "$BATON" audit verify --dir "$TMP/r1"
run "$BATON" restore "$TMP/bk-last"
[ "$RC" -eq 1 ] && grep -q 'give one BACKUP_DIR and --dir' "$ERR" && pass "restore without --dir refused" ||
	fail_run "restore without --dir refused"

# ---- (e) modes ----
modes() {
	find "$1" -mindepth 0 \( -type d -a ! -perm 700 \) -o \( -type f -a ! -perm 600 \) -print
}
for d in "$TMP/bk-last" "$TMP/empty" "$TMP/r-last"; do
	if [ -z "$(modes "$d")" ] && [ "$(stat -c %a "$d")" = 700 ]; then
		pass "$(basename "$d"): directories 0700, files 0600"
	else
		fail "$(basename "$d"): directories 0700, files 0600" "$(find "$d" -printf '%m %p\n')"
	fi
done
run bash -c "umask 0 && '$BATON' backup '$TMP/bk-umask' --dir '$A'"
if [ "$RC" -eq 0 ] && [ -z "$(modes "$TMP/bk-umask")" ] && [ "$(stat -c %a "$TMP/bk-umask")" = 700 ]; then
	pass "0700 and 0600 also under umask 0"
else
	fail_run "0700 and 0600 also under umask 0" "$(find "$TMP/bk-umask" -printf '%m %p\n')"
fi

# The keys a rekey replaced travel with the backup, as they were.
K=$TMP/k
check "init a node to rekey" "$BATON" init --name "Key School" --code KEY-001 \
	--endpoint "tcp://127.0.0.1:$((PA + 2))" --dir "$K" --no-passphrase
# A packet too large for the store waits in the outbox as a file.
check "init a school to send to" "$BATON" init --name "Riverside Academy" --code RAS-204 \
	--endpoint "tcp://127.0.0.1:$((PA + 3))" --dir "$TMP/ras" --no-passphrase
"$BATON" card --dir "$K" --out "$TMP/K.card" >/dev/null
"$BATON" card --dir "$TMP/ras" --out "$TMP/RAS.card" >/dev/null
check "it is pinned" "$BATON" peer add "$TMP/RAS.card" --dir "$K"
head -c 1500000 /dev/urandom >"$TMP/portfolio.bin"
cat >"$TMP/big.json" <<J
[{"student_id": "S-9001",
  "identity": {"given_name": "Large", "family_name": "Record", "birth_date": "2012-03-04"},
  "transcript": [{"school_year": "2025-2026", "term": "FY", "course_code": "ART100",
    "course_title": "Portfolio", "grade": "A", "credits_attempted": 1, "credits_earned": 1}],
  "attachments": [{"name": "portfolio.bin", "media_type": "application/octet-stream",
    "section": "transcript", "path": "portfolio.bin"}]}]
J
check "a record with a 1.5 MB attachment" "$BATON" student import "$TMP/big.json" --dir "$K"
BATON_PASSPHRASE="a long enough passphrase" "$BATON" guardian keygen --out "$TMP/p.key" >/dev/null 2>&1
PKK=$(BATON_PASSPHRASE="a long enough passphrase" "$BATON" guardian pubkey "$TMP/p.key" | head -n1)
check "the parent is linked" "$BATON" guardian link S-9001 "$PKK" --dir "$K"
check "the parent consents" env BATON_PASSPHRASE="a long enough passphrase" "$BATON" consent grant \
	--key "$TMP/p.key" --student S-9001 --from "$TMP/K.card" --to "$TMP/RAS.card" \
	--sections all --purpose "Enrollment" --yes --out "$TMP/k.consent"
check_out queued "the packet is queued" "$BATON" send S-9001 --to RAS-204 --consent "$TMP/k.consent" --dir "$K"
check "rekey it" "$BATON" rekey --dir "$K" --card-out "$TMP/k.card" --rotation-out "$TMP/k.rot" --no-passphrase
old_key=$(cd "$K" && ls school.key.old-* 2>/dev/null | head -n1)
check "backup of the rekeyed node" "$BATON" backup "$TMP/bk-k" --dir "$K"
check "restore of the rekeyed node" "$BATON" restore "$TMP/bk-k" --dir "$TMP/r-k"
if [ -n "$old_key" ] && grep -Eq "^file $old_key 144 [0-9a-f]{64}\$" "$TMP/bk-k/MANIFEST" &&
	cmp -s "$K/$old_key" "$TMP/r-k/$old_key" && cmp -s "$K/school.key" "$TMP/r-k/school.key"; then
	pass "the replaced key is in MANIFEST and restored byte for byte"
else
	fail "the replaced key is in MANIFEST and restored byte for byte" "key: ${old_key:-none}" \
		"$(cat "$TMP/bk-k/MANIFEST" 2>&1)" "$(ls "$TMP/r-k" 2>&1)"
fi
queued=$(cd "$K" && ls outbox/*.baton 2>/dev/null | head -n1)
if [ -n "$queued" ] && grep -Eq "^file $queued [0-9]+ [0-9a-f]{64}\$" "$TMP/bk-k/MANIFEST" &&
	cmp -s "$K/$queued" "$TMP/r-k/$queued"; then
	pass "the queued packet's file is in MANIFEST and restored byte for byte"
else
	fail "the queued packet's file is in MANIFEST and restored byte for byte" "file: ${queued:-none}" \
		"$(cat "$TMP/bk-k/MANIFEST" 2>&1)" "$(ls -R "$TMP/r-k" 2>&1)"
fi
run "$BATON" outbox --dir "$TMP/r-k"
id=$(grep -Eo '[0-9a-f]{8,32}' "$OUT" | head -n1)
check "the restored node exports the queued packet" "$BATON" outbox export "${id:-none}" \
	--out "$TMP/exported.baton" --dir "$TMP/r-k"
same "$K/$queued" "$TMP/exported.baton" "the packet exported is the one queued"

# ---- (f) a schema-3 store is upgraded only when asked, after a backup ----
tool BATON_STORE_SCHEMA store_schema || done_testing
O=$TMP/old
check "init a node to turn into schema 3" "$BATON" init --name "Old School" --code OLD-001 \
	--endpoint "tcp://127.0.0.1:$((PA + 1))" --dir "$O" --no-passphrase
check "it imports the sample school" "$BATON" student import "$DATA/school.json" --dir "$O"
check "made schema 3 as an older baton left it" "$BATON_STORE_SCHEMA" "$O" 3
cp "$O/db/data.mdb" "$TMP/old.mdb"
check_err 3 "schema 3; this baton uses schema 4: run 'baton upgrade --dir" \
	"a command without a terminal refuses to upgrade" "$BATON" student list --dir "$O"
same "$TMP/old.mdb" "$O/db/data.mdb" "the store is byte for byte as it was"
check_err 3 "BATON_UPGRADE=yes" "serve without a terminal refuses too, naming BATON_UPGRADE=yes" \
	timeout 120 "$BATON" serve --dir "$O"
same "$TMP/old.mdb" "$O/db/data.mdb" "still byte for byte as it was"
if command -v script >/dev/null; then
	run bash -c "printf 'n\\n' | script -qec '$BATON student list --dir $O' /dev/null"
	if [ "$RC" -eq 3 ] && grep -q "this node's store is schema 3; this baton uses schema 4. A backup goes to $O/backup-schema-3-[0-9TZ]* first. Upgrade? \[y/N\]" "$OUT" &&
		grep -q 'not upgraded; the store is as it was' "$OUT"; then
		pass "at a terminal it asks; answered n, it does not upgrade"
	else
		fail_run "at a terminal it asks; answered n, it does not upgrade"
	fi
	same "$TMP/old.mdb" "$O/db/data.mdb" "the store is still byte for byte as it was"
else
	T=$((T + 1))
	echo "ok $T # SKIP script(1) is not installed: the prompt on a terminal"
fi
run env BATON_UPGRADE=no "$BATON" student list --dir "$O"
[ "$RC" -eq 3 ] && pass "BATON_UPGRADE=no is not yes" || fail_run "BATON_UPGRADE=no is not yes"
[ -z "$(ls -d "$O"/backup-schema-* 2>/dev/null)" ] && pass "no backup made while refusing" ||
	fail "no backup made while refusing"
run env BATON_UPGRADE=yes "$BATON" student list --dir "$O"
bdir=$(ls -d "$O"/backup-schema-3-* 2>/dev/null | head -n1)
if [ "$RC" -eq 0 ] && grep -q 'S-1001' "$OUT" && [ -n "$bdir" ] &&
	grep -q "upgraded from schema 3 to 4" "$ERR" && grep -q "baton restore $bdir --dir" "$ERR"; then
	pass "BATON_UPGRADE=yes: backed up into the node, upgraded, and told how to go back"
else
	fail_run "BATON_UPGRADE=yes: backed up into the node, upgraded, and told how to go back" \
		"backup: ${bdir:-none}"
fi
check_out 'schema 4 already' "the store is schema 4 now" "$BATON" upgrade --dir "$O"
check_out 'Restored OLD-001' "the backup made before the upgrade restores" \
	"$BATON" restore "$bdir" --dir "$TMP/back3"
grep -q 'schema       3' "$OUT" && pass "as schema 3" || fail_run "as schema 3"
check_err 3 "schema 3; this baton uses schema 4" "the restored store is schema 3 again" \
	"$BATON" student list --dir "$TMP/back3"
grep -qx 'schema 3' "$bdir/MANIFEST" && pass "its MANIFEST says schema 3" || fail "its MANIFEST says schema 3"
check_out 'upgraded to schema 4' "baton upgrade upgrades it" "$BATON" upgrade --dir "$TMP/back3"
check_out 'S-1001' "and it reads" "$BATON" student list --dir "$TMP/back3"
check_out 'audit log verified' "and its audit log verifies" "$BATON" audit verify --dir "$TMP/back3"
check "a schema-2 store" "$BATON_STORE_SCHEMA" "$TMP/back3" 2
check_out 'S-1001' "--yes upgrades it" "$BATON" student list --yes --dir "$TMP/back3"

done_testing
