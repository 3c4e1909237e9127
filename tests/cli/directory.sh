#!/usr/bin/env bash
# Schools trusted through an authority's signed directory. Three schools,
# A (LHS-001), B (RAS-204) and C (OTH-9), none pinning another by hand:
#
#   1. A and B pin the authority and take its directory; A sends B a
#      consented record over loopback with 'baton serve': receipted, both
#      audit logs verify.
#   2. Refused, each with nothing stored and nothing audited: a directory
#      signed by an unpinned authority, a byte flipped, a rollback, the same
#      version with other contents, an expired one, one not yet valid, and a
#      code another pinned authority's directory gives another key. The same
#      bytes again are "no change".
#   3. C's key withdrawn: A's packet queued for C is held ("held: withdrawn
#      by ..."), not sent, and a packet C signed is refused as from an
#      unpinned key, without an audit entry.
#   4. A key changed in a newer directory is taken and audited.
#   5. The authority unpinned, C's own pin is trusted again: the held packet
#      goes at once.
#   6. 256 authorities pinned, a 257th is refused until one is unpinned.
#
# The State Board's directories are made with 'baton authority'; a second
# authority's, and an unpinned one's, by tests/tools/dirsign from a word's
# key, which also makes what 'baton authority' refuses to.
. "$(dirname "$0")/lib.sh"

export BATON_PASSPHRASE="a long enough passphrase"
A=$TMP/lhs B=$TMP/ras C=$TMP/oth D=$TMP/ras2
tool DIRSIGN dirsign || done_testing
free_ports 4 || done_testing
PA=$P0 PB=$((P0 + 1)) PC=$((P0 + 2)) PD=$((P0 + 3))
NOW=$(date +%s)
DAY=86400

declare -A FPS # each school's fingerprint, by its node directory
audit_len() { "$BATON" audit --json --dir "$1" | grep -c '"seq"'; }
# What a refusal must leave as it was: the directories held and the audit log.
state() { "$BATON" directory show --json --dir "$A" && audit_len "$A"; }

for n in "$A:Lincoln High School:LHS-001:$PA" "$B:Riverside Academy:RAS-204:$PB" \
	"$C:Other School:OTH-9:$PC" "$D:Riverside Academy:RAS-204:$PD"; do
	IFS=: read -r dir name code port <<<"$n"
	check "init $code at $dir" "$BATON" init --name "$name" --code "$code" \
		--endpoint "tcp://127.0.0.1:$port" --dir "$dir"
	check "card of $dir" "$BATON" card --dir "$dir" --out "$dir.card"
	FPS[$dir]=$(sed -n 's/^fingerprint //p' "$OUT")
done
check "an authority" "$BATON" authority init --name "State Board of Education" --out "$TMP/auth"
KL=$(sed -n 's/^ *key  *//p' "$OUT") FP=$(sed -n 's/^ *fingerprint  *//p' "$OUT")
run "$DIRSIGN" key consortium
KL2=$(sed -n 1p "$OUT") FP2=$(sed -n 2p "$OUT")
run "$DIRSIGN" key rogue
FPR=$(sed -n 2p "$OUT")

# ---- 1. trust, take, transfer ----
check_err 2 'does not match the expected' "trust refuses a key whose fingerprint is not --expect" \
	"$BATON" directory trust "$KL" --expect "$FP2" --dir "$A"
check_out 'No authorities pinned' "and pinned nothing" "$BATON" directory show --dir "$A"
check "nor audited it" sh -c "! '$BATON' audit --dir '$A' | grep -q directory-trust"
check_exit 1 "trust without --expect is a usage error" "$BATON" directory trust "$KL" --dir "$A"
check_out "Pinned authority $FP \\(State Board\\)" "A pins the authority" \
	"$BATON" directory trust "$KL" --expect "$FP" --name "State Board" --dir "$A"
check_out 'directory-trust' "the pin is audited" "$BATON" audit --dir "$A"
check "B pins it too" "$BATON" directory trust "$KL" --expect "$FP" --dir "$B"
check "C pins it too" "$BATON" directory trust "$KL" --expect "$FP" --dir "$C"

sign() { # sign WORD NAME VERSION ISSUED EXPIRES OUT CARDS...: a directory of dirsign
	"$DIRSIGN" sign "$@"
}
for d in "$A" "$B" "$C"; do
	check "the authority adds $d" "$BATON" authority add "$d.card" --expect "${FPS[$d]}" --dir "$TMP/auth"
done
check "it signs version 1" "$BATON" authority sign --expires 30d --out "$TMP/v1.dir" --dir "$TMP/auth"
check_out 'Took version 1 of State Board.*3 schools.*3 added' "A takes version 1" \
	"$BATON" directory update "$TMP/v1.dir" --dir "$A"
check_out 'directory-update.*version 1: 3 added, 0 changed, 0 removed, 0 withdrawn' \
	"one audit entry names the authority, version and counts" "$BATON" audit --dir "$A"
check "B and C take it" sh -c "'$BATON' directory update '$TMP/v1.dir' --dir '$B' >/dev/null &&
	'$BATON' directory update '$TMP/v1.dir' --dir '$C' >/dev/null"
check_out 'version 1, .*expires' "show lists the directory" "$BATON" directory show --dir "$A"
check_out '3 schools, 0 withdrawn keys' "with its counts" "$BATON" directory show --dir "$A"
check_out 'RAS-204 .*\(directory: State Board\)' "peer list marks B as trusted through it" \
	"$BATON" peer list --dir "$A"
check "peer list --json says how B is trusted" sh -c \
	"'$BATON' peer list --json --dir '$A' | grep -q '\"via\": *\"directory\"'"
check "A does not list itself, though the directory names it" sh -c \
	"! '$BATON' peer list --dir '$A' | grep -q LHS-001"

check_err 2 'RAS-204 is trusted through the directory of State Board' \
	"peer update leaves a directory's school to the authority" "$BATON" peer update "$B.card" --dir "$A"
check "and pins nothing" sh -c "'$BATON' peer list --json --dir '$A' >'$TMP/pl.json' &&
	grep -q '\"via\": *\"directory\"' '$TMP/pl.json' && ! grep -q '\"via\": *\"pin\"' '$TMP/pl.json'"
check "A imports the sample school" "$BATON" student import "$BATON_SRC/tests/data/school.json" --dir "$A"
check "a parent key" "$BATON" guardian keygen --out "$TMP/p.key"
run "$BATON" guardian pubkey "$TMP/p.key"
check "linked to S-1018" "$BATON" guardian link S-1018 "$(head -n1 "$OUT")" --dir "$A"
check "consent A -> B" "$BATON" consent grant --key "$TMP/p.key" --student S-1018 --from "$A.card" \
	--to "$B.card" --sections all --yes --out "$TMP/ab.consent"
check "consent A -> C" "$BATON" consent grant --key "$TMP/p.key" --student S-1018 --from "$A.card" \
	--to "$C.card" --sections all --yes --out "$TMP/ac.consent"
check_out 'queued' "A sends B a record, B never pinned by hand" "$BATON" send S-1018 --to RAS-204 \
	--consent "$TMP/ab.consent" --dir "$A"
serve_start B "$B" b.log || done_testing
serve_start A "$A" a.log || done_testing
check "B receipts it" wait_for 120 sh -c "'$BATON' outbox --dir '$A' | grep -q receipted"
check_out 'S-1018' "B imported the student" "$BATON" student list --dir "$B"
check_out 'received .*school LHS-001' "B's audit log records it from A" "$BATON" audit --dir "$B"
check "A stops" serve_stop A
check "B stops" serve_stop B
check "both audit logs verify" sh -c "'$BATON' audit verify --dir '$A' >/dev/null &&
	'$BATON' audit verify --dir '$B' >/dev/null"

# A packet for C waits in A's outbox (nothing serves) and one from C waits in a file.
check_out 'queued' "A queues a record for C" "$BATON" send S-1018 --to OTH-9 \
	--consent "$TMP/ac.consent" --dir "$A"
check "C imports the sample school" "$BATON" student import "$BATON_SRC/tests/data/school.json" --dir "$C"
check "C's parent key" sh -c "'$BATON' guardian keygen --out '$TMP/pc.key' >/dev/null &&
	'$BATON' guardian link S-1001 \"\$('$BATON' guardian pubkey '$TMP/pc.key' | head -n1)\" --dir '$C'"
check "consent C -> A" "$BATON" consent grant --key "$TMP/pc.key" --student S-1001 --from "$C.card" \
	--to "$A.card" --sections all --yes --out "$TMP/ca.consent"
check "C seals a packet for A" "$BATON" send S-1001 --to LHS-001 --consent "$TMP/ca.consent" \
	--out "$TMP/c.baton" --dir "$C"

# ---- 2. refusals: nothing stored, nothing audited ----
check "it signs version 2" "$BATON" authority sign --expires 30d --out "$TMP/v2.dir" --dir "$TMP/auth"
check_out 'Took version 2' "A takes version 2" "$BATON" directory update "$TMP/v2.dir" --dir "$A"
S0=$(state)
refused() { # refused DESCRIPTION REGEX FILE
	check_err 2 "$2" "$1" "$BATON" directory update "$3" --dir "$A"
	check "$1: nothing stored, nothing audited" test "$(state)" = "$S0"
}
refused "a rollback" 'version 1 is older than version 2 held' "$TMP/v1.dir"
check_out 'no change' "the same bytes again: no change" "$BATON" directory update "$TMP/v2.dir" --dir "$A"
check "and nothing audited" test "$(state)" = "$S0"
check "a directory of an unpinned authority" sign rogue Rogue 9 $((NOW - 30)) $((NOW + DAY)) \
	"$TMP/rogue.dir" -c "$A.card" -c "$D.card"
refused "an unpinned authority" "signed by $FPR .*not pinned" "$TMP/rogue.dir"
cp "$TMP/v2.dir" "$TMP/forged.dir"
flip "$TMP/forged.dir" $(($(stat -c %s "$TMP/forged.dir") / 2))
refused "a byte flipped" 'forged.dir: ' "$TMP/forged.dir"
# Large and damaged inside a member card: the authority and its signature are
# refused before any member is decoded, so the error is never a member's.
check "a directory of 5,000 members from the unpinned authority" "$DIRSIGN" many rogue Rogue 9 \
	$((NOW - 30)) $((NOW + DAY)) "$TMP/big.dir" 5000 "$A.card"
flip "$TMP/big.dir" $(($(stat -c %s "$TMP/big.dir") / 2))
refused "5,000 members, unpinned: refused for its authority, not a member" \
	"big.dir: signed by $FPR \\(an authority not pinned" "$TMP/big.dir"
check "the State Board's version 2 with a byte of a member flipped" cp "$TMP/v2.dir" "$TMP/mflip.dir"
flip "$TMP/mflip.dir" 400
refused "a pinned authority's directory forged inside a member: its signature is refused first" \
	'mflip.dir: directory.signature: does not verify' "$TMP/mflip.dir"

# A second authority, whose directories are made here as its own tools would not.
check "a second authority pinned" "$BATON" directory trust "$KL2" --expect "$FP2" --name Consortium --dir "$A"
check "its version 3" sign consortium Consortium 3 $((NOW - 30)) $((NOW + 30 * DAY)) \
	"$TMP/c3.dir" -c "$A.card"
check_out 'Took version 3 of Consortium' "A takes it" "$BATON" directory update "$TMP/c3.dir" --dir "$A"
S0=$(state)
check "version 3 with other contents" sign consortium Consortium 3 $((NOW - 20)) $((NOW + 30 * DAY)) \
	"$TMP/c3b.dir" -c "$A.card" -c "$C.card"
refused "the same version, other contents" 'version 3 of Consortium is held with other contents' \
	"$TMP/c3b.dir"
check "an expired version 4" sign consortium Consortium 4 $((NOW - 40 * DAY)) $((NOW - DAY)) \
	"$TMP/c4old.dir" -c "$A.card"
refused "an expired directory" 'version 4 of Consortium is expired' "$TMP/c4old.dir"
check "a version 4 not valid yet" sign consortium Consortium 4 $((NOW + DAY)) $((NOW + 30 * DAY)) \
	"$TMP/c4new.dir" -c "$A.card"
refused "a directory not valid yet" 'version 4 of Consortium is not valid yet' "$TMP/c4new.dir"
check "a version 5 that lists RAS-204 with another key" sign consortium Consortium 5 \
	$((NOW - 30)) $((NOW + DAY)) "$TMP/c5.dir" -c "$D.card"
refused "a code another authority gives another key" \
	'conflict: RAS-204 has another identity key .* Consortium .* State Board' "$TMP/c5.dir"
check "the second authority unpinned" "$BATON" directory untrust "$FP2" --dir "$A"
check_out 'directory-untrust' "and that is audited" "$BATON" audit --dir "$A"
check_err 2 'no pinned authority has fingerprint' "untrust of one not pinned is refused" \
	"$BATON" directory untrust "$FP2" --dir "$A"
# Pinned again, it does not go back: the version held and its withdrawn keys stay.
check "the second authority pinned again" "$BATON" directory trust "$KL2" --expect "$FP2" --dir "$A"
check "its version 6 withdraws RAS-204's second key" sign consortium Consortium 6 \
	$((NOW - 30)) $((NOW + DAY)) "$TMP/c6.dir" -c "$A.card" -w "$D.card"
check_out 'Took version 6 of Consortium' "A takes it" "$BATON" directory update "$TMP/c6.dir" --dir "$A"
check "unpinned once more" "$BATON" directory untrust "$FP2" --dir "$A"
check "and pinned again" "$BATON" directory trust "$KL2" --expect "$FP2" --dir "$A"
check_out 'directory Consortium, version 6,' "re-pinned, version 6 is still held" \
	"$BATON" directory show --dir "$A"
check_out '1 schools, 1 withdrawn keys' "with its withdrawn key" "$BATON" directory show --dir "$A"
S0=$(state)
refused "after untrust and trust, an older version is a rollback" \
	'version 3 is older than version 6 held' "$TMP/c3.dir"
check "the second authority unpinned at last" "$BATON" directory untrust "$FP2" --dir "$A"

# ---- 3. C withdrawn ----
check "the authority removes C" "$BATON" authority remove OTH-9 --dir "$TMP/auth"
check "and signs version 3" "$BATON" authority sign --expires 30d --out "$TMP/v3.dir" --dir "$TMP/auth"
check_out 'Took version 3.*0 added, 0 changed, 1 removed, 1 newly withdrawn' "A takes version 3" \
	"$BATON" directory update "$TMP/v3.dir" --dir "$A"
check_out 'directory-update.*version 3: 0 added, 0 changed, 1 removed, 1 withdrawn' \
	"and audits it" "$BATON" audit --dir "$A"
check "C no longer in peer list" sh -c "! '$BATON' peer list --dir '$A' | grep -q OTH-9"
check_err 2 'OTH-9: its key is withdrawn by State Board' "A sends nothing new to C" \
	"$BATON" send S-1018 --again --to OTH-9 --consent "$TMP/ac.consent" --dir "$A"
serve_start C "$C" c.log || done_testing
serve_start A "$A" a2.log || done_testing
check "A's outbox holds the packet for C" wait_for 120 grep -q 'to OTH-9 held: withdrawn by State Board' "$TMP/a2.log"
check_out 'OTH-9 .*attempts 0 +held: withdrawn by State Board' "outbox says it is held" \
	"$BATON" outbox --dir "$A"
check "C received nothing" sh -c "! '$BATON' inbox --dir '$C' | grep -q LHS-001"
check "A stops" serve_stop A
check "C stops" serve_stop C
N0=$(audit_len "$A")
check_err 2 'refused \(unknown_sender\)' "a packet C signed is refused as from an unpinned key" \
	"$BATON" import "$TMP/c.baton" --receipt-out "$TMP/c.receipt" --dir "$A"
check "without an audit entry or receipt" sh -c "test $(audit_len "$A") -eq $N0 && test ! -e '$TMP/c.receipt'"
check "A imported nothing from C" sh -c "! '$BATON' inbox --dir '$A' | grep -q OTH-9"
check "C pinned by hand is still withdrawn" "$BATON" peer add "$C.card" --dir "$A"
check_out 'OTH-9 .*\(withdrawn by State Board: not trusted\)' "peer list says so" \
	"$BATON" peer list --dir "$A"
check_err 2 'OTH-9: its key is withdrawn by State Board' "and A still sends it nothing" \
	"$BATON" send S-1018 --again --to OTH-9 --consent "$TMP/ac.consent" --dir "$A"

# ---- 4. a key changed ----
check "the authority gives RAS-204 another key" "$BATON" authority add "$D.card" \
	--expect "${FPS[$D]}" --replace --dir "$TMP/auth"
check "and signs version 4" "$BATON" authority sign --expires 30d --out "$TMP/v4.dir" --dir "$TMP/auth"
check_out 'Took version 4.*0 added, 1 changed, 0 removed, 1 newly withdrawn' "A takes it" \
	"$BATON" directory update "$TMP/v4.dir" --dir "$A"
check_out 'directory-update.*version 4: 0 added, 1 changed, 0 removed, 1 withdrawn' \
	"the change is audited" \
	"$BATON" audit --dir "$A"
check_out "RAS-204 .*${FPS[$D]}.*directory: State Board" "A now trusts RAS-204 with the new key" \
	"$BATON" peer list --dir "$A"

# ---- 5. C back: the authority unpinned, C's pin is trusted again ----
check "A unpins the State Board" "$BATON" directory untrust "$FP" --dir "$A"
serve_start C "$C" c2.log || done_testing
serve_start A "$A" a3.log || done_testing
check "the packet held for C goes at once and is receipted" \
	wait_for 120 sh -c "'$BATON' outbox --dir '$A' | grep 'OTH-9' | grep -q receipted"
check_out 'LHS-001' "C's inbox has A's packet" "$BATON" inbox --dir "$C"
check "A stops" serve_stop A
check "C stops" serve_stop C
check "A's audit log verifies" "$BATON" audit verify --dir "$A"
check "C's audit log verifies" "$BATON" audit verify --dir "$C"

# ---- 6. every pinned authority is consulted: a 257th is refused ----
E=$TMP/many
check "a node for many authorities" "$BATON" init --name "Many Boards School" --code MBS-1 --dir "$E"
pinned=0
for i in $(seq 1 256); do
	"$DIRSIGN" key "board $i" >"$TMP/k" || break
	"$BATON" directory trust "$(sed -n 1p "$TMP/k")" --expect "$(sed -n 2p "$TMP/k")" \
		--dir "$E" >/dev/null || break
	pinned=$i
done
check "256 authorities pinned" test "$pinned" = 256
run "$DIRSIGN" key "board 257"
KL257=$(sed -n 1p "$OUT") FP257=$(sed -n 2p "$OUT")
check_err 2 '256 authorities are pinned already, the most a node consults; untrust one first' \
	"a 257th is refused" "$BATON" directory trust "$KL257" --expect "$FP257" --dir "$E"
check "... and not pinned" sh -c "! '$BATON' directory show --dir '$E' | grep -q '$FP257'"
run "$DIRSIGN" key "board 1"
check "one untrusted" "$BATON" directory untrust "$(sed -n 2p "$OUT")" --dir "$E"
check "the 257th then pinned" "$BATON" directory trust "$KL257" --expect "$FP257" --dir "$E"
done_testing
