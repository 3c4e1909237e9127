#!/usr/bin/env bash
# Nodes pass the newest directory to each other when they talk
# (PROTOCOL.md section 10, offers and updates). Six schools serving, all on
# version 1 of one authority's directory; version 2 is given to ONE school
# with 'baton directory update', and ordinary transfers carry it on:
#
#   1. Pushed: school 2 delivers to 3, 3 to 4, 4 to 5; each receiver,
#      behind, is sent the newer directory and takes it, audited as
#      'directory update' audits, naming the school it came from.
#   2. Pulled: school 0 (behind) delivers to 2 and gets version 2 in the
#      reply to its offer; then 1 delivers to 0 and gets it from 0.
#      Every school shows version 2 without another 'directory update'.
#   3. A hostile peer (tests/tools/netpeer) pushes a rolled-back directory,
#      one with a byte flipped, one of an authority not pinned, garbage
#      updates and offers: each refused with an empty reply, nothing stored
#      and nothing audited; the node keeps answering, and its offer reply
#      carries the newer directory to a peer that offers an older version.
. "$(dirname "$0")/lib.sh"

export BATON_PASSPHRASE="the authority's long passphrase"
N=6
tool BATON_NETPEER netpeer || done_testing
tool DIRSIGN dirsign || done_testing
free_ports $N || done_testing
AUTH=$TMP/authority
node() { echo "$TMP/n$1"; }
code() { printf 'GSP-%d' "$1"; }
version_of() { "$BATON" directory show --json --dir "$(node "$1")" | sed -n 's/.*"version": *\([0-9]*\).*/\1/p' | head -n1; }
audit_len() { "$BATON" audit --json --dir "$1" | grep -c '"seq"'; }
hex() { xxd -p "$1" | tr -d '\n'; }

check_out 'fingerprint' "an authority" "$BATON" authority init --name "State Board" --out "$AUTH"
AK=$(sed -n 's/^  key  *//p' "$OUT") AFP=$(sed -n 's/^  fingerprint  *//p' "$OUT")
# The sample school's attachments, beside each school's copy of its records.
mkdir -p "$TMP/data" && cp -R "$BATON_SRC/tests/data/files" "$TMP/data/files"
bad=0
for ((i = 0; i < N; i++)); do
	d=$(node "$i")
	{ "$BATON" init --name "School $i" --code "$(code "$i")" --endpoint "tcp://127.0.0.1:$((P0 + i))" \
		--no-passphrase --dir "$d" >/dev/null 2>&1 &&
		fp=$("$BATON" card --dir "$d" --out "$d.card" 2>/dev/null | sed -n 's/^fingerprint //p') &&
		"$BATON" authority add "$d.card" --expect "$fp" --dir "$AUTH" >/dev/null &&
		sed "s/\"student_id\": \"S-/\"student_id\": \"N$i-/; s/\"ST-/\"ST$i-/" \
			"$BATON_SRC/tests/data/school.json" >"$TMP/data/n$i.json" &&
		"$BATON" student import "$TMP/data/n$i.json" --dir "$d" >/dev/null; } || bad=$((bad + 1))
done
check "$N schools, each admitted by the authority" test $bad -eq 0
check "the authority signs version 1" "$BATON" authority sign --expires 30d --out "$TMP/v1.dir" --dir "$AUTH"
bad=0
for ((i = 0; i < N; i++)); do
	"$BATON" directory trust "$AK" --expect "$AFP" --dir "$(node "$i")" >/dev/null &&
		"$BATON" directory update "$TMP/v1.dir" --dir "$(node "$i")" >/dev/null || bad=$((bad + 1))
done
check "every school pins the authority and takes version 1" test $bad -eq 0
check "a parent's key" "$BATON" guardian keygen --no-passphrase --out "$TMP/parent.key"
PK=$(cat "$TMP/parent.key.pub")
# consent A B: a consent for a minor of school A to school B, in $TMP/c-A-B.
SID=1018
consent() {
	mkdir -p "$TMP/c-$1-$2" &&
		"$BATON" guardian link "N$1-$SID" "$PK" --dir "$(node "$1")" >/dev/null 2>&1
	"$BATON" consent grant --key "$TMP/parent.key" --student "N$1-$SID" --from "$(node "$1").card" \
		--to "$(node "$2").card" --sections all --yes --out "$TMP/c-$1-$2/c.consent" >/dev/null
}
for p in "2 3" "3 4" "4 5" "0 2" "1 0"; do
	check "a consent for school ${p% *} to school ${p#* }" consent $p
done
for ((i = 0; i < N; i++)); do
	serve_start "n$i" "$(node "$i")" "n$i.log" >/dev/null || { fail "serve of school $i"; done_testing; }
done

receipted() { "$BATON" outbox --json --dir "$(node "$1")" | grep -c '"state": *"receipted"'; }
# send A B: school A sends its minor to B and waits for the receipt.
send() {
	local before
	before=$(receipted "$1")
	"$BATON" send --to "$(code "$2")" --consents "$TMP/c-$1-$2" --dir "$(node "$1")" >/dev/null &&
		wait_for 120 sh -c "test \"\$('$BATON' outbox --json --dir '$(node "$1")' | grep -c '\"state\": *\"receipted\"')\" -gt $before"
}

# ---- 1. version 2 to one school; pushed on by deliveries ----
check "the authority signs version 2" "$BATON" authority sign --expires 30d --out "$TMP/v2.dir" --dir "$AUTH"
check_out 'Took version 2' "school 2 alone takes version 2" "$BATON" directory update "$TMP/v2.dir" --dir "$(node 2)"
for p in "2 3" "3 4" "4 5"; do
	a=${p% *} b=${p#* }
	check "school $a delivers to school $b" send "$a" "$b"
	check "school $b now holds version 2" wait_for 60 sh -c "'$BATON' directory show --json --dir '$(node "$b")' | grep -q '\"version\": *2'"
done
check_out "directory-update.*version 2: 0 added, 0 changed, 0 removed, 0 withdrawn, from school $(code 2)" \
	"school 3's audit names the school it came from" "$BATON" audit --dir "$(node 3)"
check_out "directory-update.*version 2: .*from school $(code 4)" \
	"school 5's names school 4" "$BATON" audit --dir "$(node 5)"
check "school 3's audit log verifies" "$BATON" audit verify --dir "$(node 3)"

# ---- 2. pulled in the reply to an offer ----
check "school 0 (version 1) delivers to school 2" send 0 2
check "school 0 now holds version 2" wait_for 60 sh -c "'$BATON' directory show --json --dir '$(node 0)' | grep -q '\"version\": *2'"
check_out "directory-update.*version 2: .*from school $(code 2)" \
	"school 0's audit names school 2" "$BATON" audit --dir "$(node 0)"
check "school 1 (version 1) delivers to school 0" send 1 0
check "school 1 now holds version 2" wait_for 60 sh -c "'$BATON' directory show --json --dir '$(node 1)' | grep -q '\"version\": *2'"
bad=0
for ((i = 0; i < N; i++)); do
	[ "$(version_of "$i")" = 2 ] || { bad=$((bad + 1)); diag "school $i holds version $(version_of "$i")"; }
done
check "every school holds version 2, given to one school only" test $bad -eq 0
check "exactly one directory-update of version 2 at each" sh -c "for i in \$(seq 0 $((N - 1))); do
	test \"\$('$BATON' audit --dir '$TMP/n'\$i | grep -c 'directory-update.*version 2')\" -eq 1 || exit 1; done"

# ---- 3. a hostile peer ----
H=3 TP=$((P0 + 3))
S0=$("$BATON" directory show --json --dir "$(node $H)")
L0=$(audit_len "$(node $H)")
unchanged() { test "$("$BATON" directory show --json --dir "$(node $H)")" = "$S0" -a "$(audit_len "$(node $H)")" = "$L0"; }
# update HEXCODE FILE: an update frame from code HEXCODE carrying FILE.
update() { printf '42544e5501%02x0000%s%s' $((${#1} / 2)) "$1" "$(hex "$2")"; }
EVIL=$(printf 'EVIL-1' | xxd -p)
pushed() { # pushed DESCRIPTION HEX
	check_out '^reply 0 bytes$' "$1: an empty reply" "$BATON_NETPEER" req "$TP" "$2"
	check "$1: nothing stored, nothing audited" unchanged
}
pushed "a rolled-back directory (version 1)" "$(update "$EVIL" "$TMP/v1.dir")"
cp "$TMP/v2.dir" "$TMP/flip.dir"
printf '\x00' | dd of="$TMP/flip.dir" bs=1 seek=$(($(stat -c %s "$TMP/v2.dir") - 70)) conv=notrunc 2>/dev/null
pushed "version 2 with a byte flipped" "$(update "$EVIL" "$TMP/flip.dir")"
run "$DIRSIGN" sign rogue "State Board" 9 "$(($(date +%s) - 60))" "$(($(date +%s) + 86400))" "$TMP/rogue.dir" \
	-c "$(node 0).card"
pushed "version 9 of an authority not pinned" "$(update "$EVIL" "$TMP/rogue.dir")"
pushed "an update with no directory" "$(update "$EVIL" /dev/null)"
pushed "an update of garbage" "42544e5501060000${EVIL}c2d3130ffeeddccbbaa0"
pushed "an update whose code is 200 bytes long" "42544e5501c80000$(hex "$TMP/v2.dir")"
pushed "an update of version 2" "42544e5502060000${EVIL}$(hex "$TMP/v2.dir")"
pushed "an offer out of key order" "42544e4f01000000$(printf 'ff%.0s' $(seq 40))$(printf '00%.0s' $(seq 40))"
pushed "an offer cut inside an entry" "42544e4f01000000$(printf '00%.0s' $(seq 39))"
check_out '^reply 0 bytes$' "an update of the same version 2 bytes: an empty reply" \
	"$BATON_NETPEER" req "$TP" "$(update "$EVIL" "$TMP/v2.dir")"
check "and no change: nothing audited" unchanged
check "school 3 still serves" kill -0 "${SPID[n3]}"
check_out '^reply 48 bytes: 42544e4f01000000$' "an empty offer gets school 3's own offer" \
	"$BATON_NETPEER" req "$TP" 42544e4f01000000
AKHEX=$(hex "$TMP/v1.dir" | sed -n 's/.*a9617574686f72697479c420\([0-9a-f]\{64\}\).*/\1/p')
check "the authority's key, read from the directory" test ${#AKHEX} -eq 64
DLEN=$(stat -c %s "$TMP/v2.dir")
check_out "^reply $((8 + 5 + DLEN)) bytes: 42544e5501050000\$" \
	"an offer of version 1 gets version 2 in the reply" \
	"$BATON_NETPEER" req "$TP" "42544e4f01000000${AKHEX}0000000000000001"
check_out '^reply 48 bytes: 42544e4f01000000$' "an offer of version 2 gets the offer back" \
	"$BATON_NETPEER" req "$TP" "42544e4f01000000${AKHEX}0000000000000002"
check_out 'update.* refused' "school 3's log says why updates were refused" cat "$TMP/n3.log"

for ((i = 0; i < N; i++)); do
	serve_stop "n$i" >/dev/null
done
bad=0
for ((i = 0; i < N; i++)); do
	"$BATON" audit verify --dir "$(node "$i")" >/dev/null || bad=$((bad + 1))
done
check "every audit log verifies" test $bad -eq 0
done_testing
