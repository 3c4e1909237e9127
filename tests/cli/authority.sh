#!/usr/bin/env bash
# An authority's commands (PROTOCOL.md 3.14): 'baton authority init' makes a
# 0700 directory with an encrypted kind-3 key file (0600) and the member
# list; 'add' takes a school's card only when it verifies, is valid and has
# the fingerprint expected, replaces a member's card by a newer one of the
# same key, and another key for a member's code only with --replace (the old
# key withdrawn); 'remove' withdraws the key; 'sign' writes the next
# version, valid from now for --expires (at most 400 days), under the
# project's --out rules, and records the version only once the file is
# written. Every refusal leaves the member list as it was; each signed file
# is read back by the library (tests/tools/dirdump).
. "$(dirname "$0")/lib.sh"

export BATON_NOW=1800000000
export BATON_PASSPHRASE="the authority's passphrase"
AUTH=$TMP/auth

tool DIRDUMP dirdump || { done_testing; }

# Three schools, and a fourth that claims Lincoln's code with its own key.
for n in "lhs:Lincoln High School:LHS-001" "ras:Riverside Academy:RAS-204" \
	"mcs:Mill Creek School:MCS-310" "imp:Lincoln High Annex:LHS-001"; do
	IFS=: read -r dir name code <<<"$n"
	check "init $dir" "$BATON" init --name "$name" --code "$code" --dir "$TMP/$dir" --no-passphrase
	check "card of $dir" "$BATON" card --dir "$TMP/$dir" --out "$TMP/$dir.card"
	run "$BATON" card --json --dir "$TMP/$dir"
	printf -v "FP_$dir" '%s' "$(sed -n 's/.*"fingerprint": "\([A-Z0-9-]*\)".*/\1/p' "$OUT")"
done

# ---- init ----
check_err 1 'no-passphrase: an authority key is always encrypted' \
	"init refuses --no-passphrase" "$BATON" authority init --name "State Board" --out "$AUTH" --no-passphrase
check_exit 1 "init without --out is a usage error" "$BATON" authority init --name "State Board"
check_err 2 'name' "init refuses a name with a control character" \
	"$BATON" authority init --name $'State\tBoard' --out "$AUTH"
run env -u BATON_PASSPHRASE "$BATON" authority init --name "State Board" --out "$AUTH"
if [ "$RC" -ne 0 ] && grep -q 'no passphrase' "$ERR"; then pass "init without a passphrase is refused"; else fail_run "init without a passphrase is refused"; fi
if [ ! -e "$AUTH" ]; then pass "... and no refusal left a directory"; else fail "a refused init left $AUTH"; fi
check_out '^  key          baton-ak1-[a-z2-7]{55}$' "init prints the key line" \
	"$BATON" authority init --name "State Board" --out "$AUTH"
KEYLINE=$(sed -n 's/^  key          //p' "$OUT")
AFP=$(sed -n 's/^  fingerprint  //p' "$OUT")
if [[ $AFP =~ ^[A-Z2-7]{5}(-[A-Z2-7]{5}){4}$ ]]; then pass "... and its fingerprint"; else fail "no fingerprint" "$(cat "$OUT")"; fi
if [ "$(stat -c %a "$AUTH")" = 700 ]; then pass "the directory is 0700"; else fail "the directory is $(stat -c %a "$AUTH")"; fi
if [ "$(stat -c %a "$AUTH/authority.key")" = 600 ]; then pass "the key file is 0600"; else fail "the key file is $(stat -c %a "$AUTH/authority.key")"; fi
if [ "$(stat -c %a "$AUTH/members")" = 600 ]; then pass "the member list is 0600"; else fail "the member list is $(stat -c %a "$AUTH/members")"; fi
if [ "$(stat -c %s "$AUTH/authority.key")" = 112 ] &&
	[ "$(od -An -tu1 -j5 -N2 "$AUTH/authority.key" | tr -s ' ')" = " 3 1" ]; then
	pass "the key file is 112 bytes, kind 3, encrypted"
else
	fail "the key file is not kind 3 protection 1" "$(od -An -tx1 -N8 "$AUTH/authority.key")"
fi
cp -p "$AUTH/members" "$TMP/members.0"
check_err 3 'already exists; not overwriting it' "init into an existing directory is refused" \
	"$BATON" authority init --name "Other Board" --out "$AUTH"
same "$AUTH/members" "$TMP/members.0" "... and the authority is untouched"
check_out '^  last signed  never$' "list: never signed" "$BATON" authority list --dir "$AUTH"
check_out "^  key          $KEYLINE\$" "list gives the same key line" "$BATON" authority list --dir "$AUTH"
check_exit 1 "a command without --dir is a usage error" "$BATON" authority list
check_err 3 'no authority here' "a directory without an authority is named" \
	"$BATON" authority list --dir "$TMP/lhs"

# ---- add: refusals leave the list as it was ----
check_exit 1 "add without --expect is a usage error" "$BATON" authority add "$TMP/lhs.card" --dir "$AUTH"
check_err 2 "fingerprint $FP_lhs does not match the expected $FP_ras; not added" \
	"add refuses the wrong fingerprint" "$BATON" authority add "$TMP/lhs.card" --expect "$FP_ras" --dir "$AUTH"
printf 'not a card\n' >"$TMP/bad.card"
check_err 2 "bad.card" "add refuses a file that is not a card, naming it" \
	"$BATON" authority add "$TMP/bad.card" --expect "$FP_lhs" --dir "$AUTH"
check_err 3 "missing.card" "add names a missing file" \
	"$BATON" authority add "$TMP/missing.card" --expect "$FP_lhs" --dir "$AUTH"
cp "$TMP/lhs.card" "$TMP/forged.card"
flip "$TMP/forged.card" $(($(stat -c %s "$TMP/forged.card") - 1))
check_err 2 'card.signature: does not verify' "add refuses a forged card" \
	"$BATON" authority add "$TMP/forged.card" --expect "$FP_lhs" --dir "$AUTH"
check_err 2 'expired' "add refuses a card that is no longer valid" \
	env BATON_NOW=1900000000 "$BATON" authority add "$TMP/lhs.card" --expect "$FP_lhs" --dir "$AUTH"
same "$AUTH/members" "$TMP/members.0" "no refusal changed the member list"

# ---- add, replace, remove ----
for s in lhs ras mcs; do
	fp=FP_$s
	check_out "^Added .*, fingerprint ${!fp}\$" "add $s" \
		"$BATON" authority add "$TMP/$s.card" --expect "${!fp}" --dir "$AUTH"
done
check_out '^Already a member: Lincoln High School' "the same card again changes nothing" \
	"$BATON" authority add "$TMP/lhs.card" --expect "$FP_lhs" --dir "$AUTH"
cp -p "$AUTH/members" "$TMP/members.3"
check_err 2 "LHS-001 is a member with another key \\($FP_lhs\\); give --replace" \
	"another key for a member's code is refused without --replace" \
	"$BATON" authority add "$TMP/imp.card" --expect "$FP_imp" --dir "$AUTH"
same "$AUTH/members" "$TMP/members.3" "... and the list is as it was"
check_out "^Withdrew the old key, fingerprint $FP_lhs\$" "with --replace the new key is taken and the old withdrawn" \
	"$BATON" authority add "$TMP/imp.card" --expect "$FP_imp" --replace --dir "$AUTH"
check_err 2 'is withdrawn' "a withdrawn key is not taken back" \
	"$BATON" authority add "$TMP/lhs.card" --expect "$FP_lhs" --replace --dir "$AUTH"
# Riverside moves: a newer card with the same key replaces its card; the older one is then refused.
check "Riverside signs a newer card" env BATON_NOW=1800000100 \
	"$BATON" endpoint set tcp://10.0.0.9:7700 --card-out "$TMP/ras2.card" --dir "$TMP/ras"
check_out '^Replaced the card of Riverside Academy \(RAS-204\)' "a newer card of a member replaces its card" \
	env BATON_NOW=1800000100 "$BATON" authority add "$TMP/ras2.card" --expect "$FP_ras" --dir "$AUTH"
check_err 2 'not newer than the member' "the older card is refused" \
	env BATON_NOW=1800000100 "$BATON" authority add "$TMP/ras.card" --expect "$FP_ras" --dir "$AUTH"
check_err 2 'no member has the code "XYZ-1"' "remove of an unknown code is refused" \
	"$BATON" authority remove XYZ-1 --dir "$AUTH"
check_out "^Removed Mill Creek School \\(MCS-310\\) and withdrew its key, fingerprint $FP_mcs\$" \
	"remove drops the member and withdraws its key" "$BATON" authority remove MCS-310 --dir "$AUTH"
check_out '^2 members$' "list: two members" "$BATON" authority list --dir "$AUTH"
check_out "^  LHS-001 +$FP_imp  Lincoln High Annex\$" "... LHS-001 with its new key" "$BATON" authority list --dir "$AUTH"
check_out "^  RAS-204 +$FP_ras  Riverside Academy\$" "... RAS-204" "$BATON" authority list --dir "$AUTH"
check_out '^2 keys withdrawn$' "... two keys withdrawn" "$BATON" authority list --dir "$AUTH"
check_out "^  $FP_mcs\$" "... Mill Creek's among them" "$BATON" authority list --dir "$AUTH"
check_out "\"fingerprint\": \"$FP_imp\"" "list --json names the members" "$BATON" authority list --json --dir "$AUTH"

# ---- sign ----
cp -p "$AUTH/members" "$TMP/members.before-sign"
for bad in 30x 0d d 401d 9601h -1d 30d5 30D; do
	check_err 2 '--expires' "sign refuses --expires $bad" \
		"$BATON" authority sign --expires "$bad" --out "$TMP/d.dir" --dir "$AUTH"
done
check_exit 1 "sign without --out is a usage error" "$BATON" authority sign --expires 30d --dir "$AUTH"
check_err 2 'wrong passphrase' "sign with the wrong passphrase is refused" \
	env BATON_PASSPHRASE=wrong "$BATON" authority sign --expires 30d --out "$TMP/d.dir" --dir "$AUTH"
check_exit 1 "sign refuses --no-passphrase" \
	"$BATON" authority sign --expires 30d --out "$TMP/d.dir" --dir "$AUTH" --no-passphrase
if [ ! -e "$TMP/d.dir" ]; then pass "no refused sign wrote a file"; else fail "a refused sign wrote $TMP/d.dir"; fi
same "$AUTH/members" "$TMP/members.before-sign" "... nor used up a version"

check_out '^Signed version 1 of the directory of State Board: 2 schools, 2 keys withdrawn$' \
	"sign writes version 1" "$BATON" authority sign --expires 30d --out "$TMP/d1.dir" --dir "$AUTH"
check "the library reads it" "$DIRDUMP" "$TMP/d1.dir"
cp "$OUT" "$TMP/d1.txt"
check_out '^version 1$' "... version 1" cat "$TMP/d1.txt"
check_out "^authority $AFP\$" "... signed by the authority" cat "$TMP/d1.txt"
check_out '^name State Board$' "... its name" cat "$TMP/d1.txt"
check_out '^issued 1800000000$' "... issued now" cat "$TMP/d1.txt"
check_out '^expires 1802592000$' "... expires 30 days later" cat "$TMP/d1.txt"
if [ "$(grep '^member ' "$TMP/d1.txt")" = "member LHS-001 $FP_imp
member RAS-204 $FP_ras" ]; then
	pass "... its members are what was added, in code order"
else
	fail "members differ" "$(cat "$TMP/d1.txt")"
fi
if [ "$(count "^withdrawn ($FP_lhs|$FP_mcs)\$" "$TMP/d1.txt")" = 2 ] &&
	[ "$(count '^withdrawn ' "$TMP/d1.txt")" = 2 ]; then
	pass "... and the withdrawn keys are Lincoln's old key and Mill Creek's"
else
	fail "withdrawn keys differ" "$(cat "$TMP/d1.txt")"
fi
check_out '^  last signed  version 1$' "list: version 1 recorded" "$BATON" authority list --dir "$AUTH"

cp "$TMP/d1.dir" "$TMP/d1.copy"
check_err 3 'already exists; not overwriting it' "sign refuses an existing --out" \
	"$BATON" authority sign --expires 30d --out "$TMP/d1.dir" --dir "$AUTH"
same "$TMP/d1.dir" "$TMP/d1.copy" "... and leaves it as it was"
ln -s "$TMP/elsewhere" "$TMP/link.dir"
check_err 3 'already exists' "sign refuses a symbolic link as --out" \
	"$BATON" authority sign --expires 30d --out "$TMP/link.dir" --dir "$AUTH"
if [ ! -e "$TMP/elsewhere" ]; then pass "... and writes nothing where it points"; else fail "wrote through the link"; fi
check_out '^  last signed  version 1$' "the refusals used up no version" "$BATON" authority list --dir "$AUTH"
check_out '^Signed version 2 ' "--force replaces the file with version 2" \
	env BATON_NOW=1800003600 "$BATON" authority sign --expires 12h --out "$TMP/d1.dir" --force --dir "$AUTH"
check_out '^version 2$' "... which the library reads as version 2" "$DIRDUMP" "$TMP/d1.dir"
check_out '^expires 1800046800$' "... valid 12 hours" "$DIRDUMP" "$TMP/d1.dir"
check_out '^Signed version 3 ' "the next sign is version 3, valid the longest allowed" \
	"$BATON" authority sign --expires 400d --out "$TMP/d3.dir" --dir "$AUTH"
check_out '^expires 1834560000$' "... 400 days" "$DIRDUMP" "$TMP/d3.dir"

# A member whose card expired is signed with a warning (nodes do not trust it).
run env BATON_NOW=1900000000 "$BATON" authority sign --expires 1d --out "$TMP/d4.dir" --dir "$AUTH"
if [ "$RC" -eq 0 ] && grep -q 'warning: the card of LHS-001 expired' "$ERR"; then
	pass "an expired member card is signed with a warning"
else
	fail_run "an expired member card is signed with a warning"
fi
check_out '^version 4$' "... as version 4" "$DIRDUMP" "$TMP/d4.dir"
# A node trusts a member only while its card is valid, as the warning says.
check "a node to take them" "$BATON" init --name "Observer School" --code OBS-1 --dir "$TMP/obs" --no-passphrase
check "it pins the authority" "$BATON" directory trust "$KEYLINE" --expect "$AFP" --dir "$TMP/obs"
check "it takes version 3 while the cards are valid" \
	env BATON_NOW=1800003600 "$BATON" directory update "$TMP/d3.dir" --dir "$TMP/obs"
check_out 'LHS-001 .*directory: ' "... and trusts Lincoln through it" \
	env BATON_NOW=1800003600 "$BATON" peer list --dir "$TMP/obs"
check "it takes version 4, valid, whose cards have expired" \
	env BATON_NOW=1900000000 "$BATON" directory update "$TMP/d4.dir" --dir "$TMP/obs"
check "... and no longer trusts Lincoln, whose card expired" \
	sh -c "! env BATON_NOW=1900000000 '$BATON' peer list --dir '$TMP/obs' | grep -q LHS-001"

# Another authority's key file in its place is refused before anything is signed.
check "a second authority" "$BATON" authority init --name "Other Board" --out "$TMP/other"
cp -p "$AUTH/authority.key" "$TMP/auth.key.good"
cp -p "$TMP/other/authority.key" "$AUTH/authority.key"
check_err 2 'not the key of the authority' "sign refuses another authority's key file" \
	"$BATON" authority sign --expires 1d --out "$TMP/d5.dir" --dir "$AUTH"
cp -p "$TMP/auth.key.good" "$AUTH/authority.key"
run env -u BATON_PASSPHRASE "$BATON" authority sign --expires 1d --out "$TMP/d5.dir" --dir "$AUTH"
if [ "$RC" -ne 0 ] && grep -q 'no passphrase' "$ERR"; then pass "sign without a passphrase is refused"; else fail_run "sign without a passphrase is refused"; fi
if [ ! -e "$TMP/d5.dir" ]; then pass "... and neither refusal wrote a file"; else fail "a refused sign wrote $TMP/d5.dir"; fi
cp -p "$AUTH/members" "$TMP/members.v4"
check_out '"result": "removed and withdrawn"' "remove --json says what it did" \
	"$BATON" authority remove RAS-204 --json --dir "$AUTH"
check_out '^Signed version 5 ' "the next sign is version 5" \
	"$BATON" authority sign --expires 1d --out "$TMP/d5.dir" --dir "$AUTH"
if [ "$("$DIRDUMP" "$TMP/d5.dir" | grep -c '^member ')" = 1 ] &&
	[ "$("$DIRDUMP" "$TMP/d5.dir" | grep -c '^withdrawn ')" = 3 ]; then
	pass "... with one member and three keys withdrawn"
else
	fail "version 5 holds other members" "$("$DIRDUMP" "$TMP/d5.dir" 2>&1)"
fi

# The last directory signed is kept, and is the floor of the next one.
if grep -q '^  removed      RAS-204$' "$OUT" && grep -q '^  withdrawn    [A-Z2-7-]*$' "$OUT" &&
	grep -q '^Since version 4: 2 changes$' "$OUT"; then
	pass "version 5's sign said, per code, what changed since version 4"
else
	fail_run "version 5's sign said, per code, what changed since version 4"
fi
check_out '^Since version 5: 0 changes$' "the next sign says nothing changed" \
	env BATON_NOW=1800003600 "$BATON" authority sign --expires 1d --out "$TMP/d5b.dir" --dir "$AUTH"
same "$AUTH/last.dir" "$TMP/d5b.dir" "... and keeps the directory it signed"
if [ "$(stat -c %a "$AUTH/last.dir")" = 600 ]; then pass "... mode 0600"; else fail "last.dir mode $(stat -c %a "$AUTH/last.dir")"; fi
cp -p "$AUTH/members" "$TMP/members.v6"
cp -p "$TMP/members.v4" "$AUTH/members"
perl -0pi -e 's/\xa7version\x04/\xa7version\x06/' "$AUTH/members"
check_err 2 'members: key [A-Z2-7-]+, withdrawn in version 6, is not withdrawn; not signed' \
	"a members file whose withdrawn keys were emptied is refused, naming the key" \
	"$BATON" authority sign --expires 1d --out "$TMP/d7.dir" --dir "$AUTH"
if [ ! -e "$TMP/d7.dir" ]; then pass "... and writes nothing"; else fail "a refused sign wrote d7.dir"; fi
cp -p "$TMP/members.v6" "$AUTH/members"
perl -0pi -e 's/\xa7version\x06/\xa7version\x09/' "$AUTH/members"
check_err 2 'says version 9 was signed last, but .*last.dir is version 6; not signed' \
	"a members file whose version was raised is refused" \
	"$BATON" authority sign --expires 1d --out "$TMP/d7.dir" --dir "$AUTH"
cp -p "$TMP/members.v6" "$AUTH/members"
mv "$AUTH/last.dir" "$TMP/last.keep"
check_err 2 'last.dir: missing, but .* says version 6 was signed' "sign without the last directory is refused" \
	"$BATON" authority sign --expires 1d --out "$TMP/d7.dir" --dir "$AUTH"
mv "$TMP/last.keep" "$AUTH/last.dir"
check_out '^Signed version 7 ' "put back, the next version is 7" \
	"$BATON" authority sign --expires 1d --out "$TMP/d7.dir" --dir "$AUTH"

# The state file is the authority's own: damage is named, not guessed at.
cp "$AUTH/members" "$TMP/members.good"
printf 'x' >>"$AUTH/members"
check_err 2 'members' "a damaged member list is refused, naming it" "$BATON" authority list --dir "$AUTH"
cp "$TMP/members.good" "$AUTH/members"
check_out '^  last signed  version 7$' "restored, it reads again" "$BATON" authority list --dir "$AUTH"

done_testing
