#!/usr/bin/env bash
# The console's invitations (tests/web/invites.mjs): a registrar invites a
# parent, the QR code on screen decodes to the URL, a claim made over HTTP
# shows up with its fingerprint, Confirm link links the key and Refuse
# cancels; at desktop and phone size. Then the command line sees the same.
. "$(dirname "$0")/lib.sh"

export BATON_PASSPHRASE="a long enough passphrase" # the parents' keys
console_schools || done_testing

run "$BATON" guardian pubkey "$TMP/parent.key"
FPR=$(sed -n 's/^fingerprint //p' "$ERR")
check "a second parent makes a key" "$BATON" guardian keygen --out "$TMP/p2.key"
PK2=$(head -n1 "$TMP/p2.key.pub")
run "$BATON" guardian pubkey "$TMP/p2.key.pub"
FPR2=$(sed -n 's/^fingerprint //p' "$ERR")

node_tap "invites" invites.mjs "http://127.0.0.1:$WA" "$PK" "$FPR" "$PK2" "$FPR2"

check_out "guardian key: mother $FPR" "S-1001 has the confirmed key, as mother" \
	"$BATON" student show S-1001 --dir "$TMP/lhs"
check "and not the refused one" sh -c "! grep -q '$FPR2' '$OUT'"
check_out "guardian-invite .* by maria" "the invitation is audited by maria" \
	"$BATON" audit --student S-1001 --dir "$TMP/lhs"
check_out "guardian-enrol .*mother key $FPR.* by family" "the enrolment by family" \
	"$BATON" audit --student S-1001 --dir "$TMP/lhs"
check_out "guardian-link .*mother key $FPR.* by maria" "the link by maria" \
	"$BATON" audit --student S-1001 --dir "$TMP/lhs"
check_out "guardian-invite-cancel .* by maria" "the refusal by maria" \
	"$BATON" audit --student S-1001 --dir "$TMP/lhs"
check_out "^[A-Z2-9]{4}  open .*S-1002 .*guardian" "the phone's invitation is listed by the command line" \
	"$BATON" guardian invites --student S-1002 --dir "$TMP/lhs"
check "the node's log names no code" sh -c "! grep -E '[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}' '$TMP/lhs.log'"
done_testing
