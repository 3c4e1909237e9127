#!/usr/bin/env bash
# Tampering with the audit log: one byte of one entry changed inside the
# LMDB file, and baton audit verify must fail and name that entry.
#
# An audit entry is stored as canonical msgpack, its keys in order (action,
# detail, prev, seq, student, time), followed by its 32-byte hash. The
# entries of one import are written in one transaction, so each exists once
# in the file; every edit below first checks that its pattern matches
# exactly once, then changes one byte, and cmp confirms that only that byte
# differs.
. "$(dirname "$0")/lib.sh"

N=$TMP/node

# poke FILE REGEX NEW: finds the one match of REGEX (perl, on the raw bytes)
# and sets the byte its first group captured to NEW, or, when NEW is
# "flip", flips that byte's lowest bit. Prints the offset; fails unless
# there is exactly one match.
poke() {
	perl -e '
		my ($file, $re, $new) = @ARGV;
		open(my $fh, "+<:raw", $file) or die "$file: $!\n";
		my $d = do { local $/; <$fh> };
		my @at;
		push @at, $-[1] while $d =~ /$re/gs;
		die "the pattern matches " . scalar(@at) . " times, not once\n" if @at != 1;
		my $old = substr($d, $at[0], 1);
		my $b = $new eq "flip" ? chr(ord($old) ^ 1) : $new;
		die "the byte is already that\n" if $b eq $old;
		seek($fh, $at[0], 0) or die "seek: $!\n";
		print $fh $b or die "write: $!\n";
		close($fh) or die "close: $!\n";
		print "$at[0]\n";
	' "$@"
}
# differs A B: the number of bytes in which files A and B differ.
differs() {
	cmp -l "$1" "$2" | wc -l
}
# seq_of STUDENT DIR: the seq of the student's (only) audit entry.
seq_of() {
	"$BATON" audit --student "$1" --json --dir "$2" | sed -n 's/.*"seq": \([0-9]*\),.*/\1/p'
}

# ---- a node with five students, imported in one transaction ----

check "init" "$BATON" init --name "Lincoln High School" --code LHS-001 --dir "$N" --no-passphrase
{
	echo '['
	for i in 1 2 3 4 5; do
		[ "$i" = 1 ] || echo ','
		printf '{"student_id": "S-%s", "identity": {"given_name": "Name%s", "family_name": "Okafor", "birth_date": "2011-04-1%s"}}' \
			"$i" "$i" "$i"
	done
	printf '\n]\n'
} >"$TMP/five.json"
check_out '5 new students' "import five students" "$BATON" student import "$TMP/five.json" --dir "$N"
check "the school key signs the log" "$BATON" audit sign --dir "$N"
check_out '^audit log verified: 6 entries, chain intact$' "audit verify passes (6 entries)" \
	"$BATON" audit verify --dir "$N"
"$BATON" student list --json --dir "$N" >"$TMP/list.before" 2>&1
check "the log has five import entries saying \"version 1\"" \
	test "$("$BATON" audit --json --dir "$N" | grep -c '"detail": "version 1"')" -eq 5
MID=$(seq_of S-3 "$N")
LAST=$(seq_of S-5 "$N")
check "S-3's import is entry 4 and S-5's entry 6" test "$MID" = 4 -a "$LAST" = 6
check "the store file holds their five details once each" \
	test "$(grep -a -o 'version 1' "$N/db/data.mdb" | wc -l)" -eq 5

cp -R "$N" "$TMP/node2"
cp -R "$N" "$TMP/node3"
cp "$N/db/data.mdb" "$TMP/data.orig"

# ---- 1: the detail of a middle entry, "version 1" -> "version 7" ----

# "version 1" followed by the rest of one entry (no other "version") and
# S-3 as the student: the detail of S-3's import entry.
check "find S-3's import entry in the store file and change one byte of its detail" \
	poke "$N/db/data.mdb" 'version (1)(?:(?!version ).){1,80}?\xa7student\xa3S-3\xa4time' 7
check "exactly one byte of the file changed" test "$(differs "$TMP/data.orig" "$N/db/data.mdb")" -eq 1
run "$BATON" student list --json --dir "$N"
same "$OUT" "$TMP/list.before" "the records are untouched (the byte was in the audit log)"
check_out '"detail": "version 7"' "the audit log now shows \"version 7\" for S-3" \
	"$BATON" audit --student S-3 --json --dir "$N"
check_err 2 "FAILED at entry $MID: entry $MID was changed" "audit verify fails and names entry $MID" \
	"$BATON" audit verify --dir "$N"

# ---- 2: the last entry's stored hash ----

cp "$TMP/node2/db/data.mdb" "$TMP/data2.orig"
check "find the last entry's stored hash (after S-5's time) and flip one bit" \
	poke "$TMP/node2/db/data.mdb" '\xa7student\xa3S-5\xa4time(?:\xce.{4}|\xcf.{8})(.)' flip
check "exactly one byte of the file changed" \
	test "$(differs "$TMP/data2.orig" "$TMP/node2/db/data.mdb")" -eq 1
run "$BATON" student list --json --dir "$TMP/node2"
same "$OUT" "$TMP/list.before" "the records are untouched"
check_err 2 "FAILED at entry $LAST: entry $LAST was changed" \
	"audit verify fails and names the last entry ($LAST)" "$BATON" audit verify --dir "$TMP/node2"

# ---- 3: the last entry's link to the one before ----

cp "$TMP/node3/db/data.mdb" "$TMP/data3.orig"
check "find the last entry's prev hash and flip one bit of it" \
	poke "$TMP/node3/db/data.mdb" '\xa4prev\xc4\x20(.).{31}\xa3seq\x06\xa7student\xa3S-5\xa4' flip
check "exactly one byte of the file changed" \
	test "$(differs "$TMP/data3.orig" "$TMP/node3/db/data.mdb")" -eq 1
check_err 2 "FAILED at entry $LAST: entry $LAST does not follow entry $((LAST - 1))" \
	"audit verify fails and names the last entry ($LAST): the chain is broken" \
	"$BATON" audit verify --dir "$TMP/node3"

# ---- 4: S-3's entry moved out of S-3's index, into a student S-9's ----

cp -R "$TMP/node2" "$TMP/node5"
cp "$TMP/data2.orig" "$TMP/node5/db/data.mdb"
run "$BATON" audit --student S-3 --json --dir "$TMP/node5"
check "before: audit --student S-3 shows S-3's import (entry $MID)" grep -q "\"seq\": $MID," "$OUT"
check "find S-3's key in the per-student index and change its student to S-9" \
	poke "$TMP/node5/db/data.mdb" 'S-(3)\x00\x00\x00\x00\x00\x00\x00\x00\x04' 9
check "exactly one byte of the file changed" \
	test "$(differs "$TMP/data2.orig" "$TMP/node5/db/data.mdb")" -eq 1
run "$BATON" audit --student S-3 --json --dir "$TMP/node5"
check "audit --student S-3 no longer shows S-3's import (entry $MID)" \
	sh -c "! grep -q '\"seq\": $MID,' '$OUT'"
check_err 2 "FAILED at entry $MID: entry $MID is missing from the index of student S-3" \
	"audit verify fails and names the entry hidden from S-3's audit" \
	"$BATON" audit verify --dir "$TMP/node5"

# ---- an untouched copy still verifies ----

cp -R "$TMP/node2" "$TMP/node4"
cp "$TMP/data2.orig" "$TMP/node4/db/data.mdb"
check_out '^audit log verified: 6 entries, chain intact$' "the untouched file still verifies" \
	"$BATON" audit verify --dir "$TMP/node4"

done_testing
