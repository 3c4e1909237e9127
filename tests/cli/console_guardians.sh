#!/usr/bin/env bash
# The console's Guardians page: a parent's key line pasted, or read from the
# QR code on the parent's screen with the computer's camera; its
# fingerprint read back before it is linked; a malformed line refused. The
# API's error paths with curl, and unlinking. Each link is checked through
# the command line: student show, and the audit log (by maria).
. "$(dirname "$0")/lib.sh"

export BATON_PASSPHRASE="a long enough passphrase" # the parents' keys
console_schools || done_testing

run "$BATON" guardian pubkey "$TMP/parent.key"
FPR=$(sed -n 's/^fingerprint //p' "$ERR")
check "the second parent makes a key and shows its QR code" "$BATON" guardian keygen --out "$TMP/p2.key" --qr
cp "$OUT" "$TMP/p2.qr"
PK2=$(sed -n 2p "$TMP/p2.qr")
FPR2=$(sed -n 's/^fingerprint //p' "$TMP/p2.qr")
check "the QR code is of the key line" grep -q "^$PK2\$" "$TMP/p2.key.pub"

# api USER METHOD PATH [BODY [NOCSRF]]: one API call as USER at LHS; the
# status in $CODE, the answer in $OUT.
api() {
	local jar=$TMP/$1.jar pw tok data=()
	[ "$1" = maria ] && pw=$MARIA_PW || pw=$IAN_PW
	if [ ! -f "$jar.csrf" ]; then
		curl -s -c "$jar" -H 'Content-Type: application/json' \
			-d "{\"user\": \"$1\", \"password\": \"$pw\"}" "http://127.0.0.1:$WA/api/v1/session" |
			jq -r .csrf >"$jar.csrf"
	fi
	tok=$(cat "$jar.csrf")
	[ -z "${5:-}" ] || tok=""
	[ -z "${4:-}" ] || data=(-H 'Content-Type: application/json' --data "$4")
	OUT=$TMP/api.out
	CODE=$(curl -s -o "$OUT" -w '%{http_code}' -b "$jar" -X "$2" -H "X-CSRF-Token: $tok" \
		"${data[@]}" "http://127.0.0.1:$WA/api/v1/$3")
}
# api_is WANT_CODE RE DESC: the last call answered WANT_CODE, its body matching RE.
api_is() {
	if [ "$CODE" = "$1" ] && grep -Eq -- "$2" "$OUT"; then
		pass "$3"
	else
		fail "$3" "status $CODE, want $1" "$(cat "$OUT")"
	fi
}

api maria POST guardians/check "{\"key\": \"$PK\"}"
api_is 200 "\"fingerprint\": ?\"$FPR\"" "checking a key answers its fingerprint"
check_out 'guardian keys: none linked' "and stores nothing" "$BATON" student show S-1003 --dir "$TMP/lhs"
api maria POST guardians/check '{"key": "baton-gk1-xyz"}'
api_is 400 '"error": ?"key: \\"baton-gk1-xyz\\" is not a guardian' "a malformed key: 400 naming the key"
api maria POST guardians/check '{}'
api_is 400 '"error": ?"key: a guardian' "no key: 400 naming the field"
api maria POST students/S-1003/guardians "{\"key\": \"$PK\", \"relation\": \"Aunt Mary\"}"
api_is 400 '"error": ?"relation: ' "a relation that is not a short word: 400 naming the field"
api maria POST students/S-NOPE/guardians "{\"key\": \"$PK\"}"
api_is 404 'no student \\"S-NOPE\\"' "linking to an unknown student: 404 in words"
api maria GET students/S-NOPE/guardians
api_is 404 'no student \\"S-NOPE\\"' "the guardians of an unknown student: 404 in words"
api maria POST students/S-1003/guardians "{\"key\": \"$PK\"}" nocsrf
api_is 403 'X-CSRF-Token' "linking without the CSRF token: 403"
check_out 'guardian keys: none linked' "none of these linked anything" "$BATON" student show S-1003 --dir "$TMP/lhs"
check "nor audited anything for S-1003" sh -c "! '$BATON' audit --student S-1003 --dir '$TMP/lhs' | grep -q guardian"

node_tap "guardians" guardians.mjs "http://127.0.0.1:$WA" "$PK" "$FPR" "$TMP/p2.qr" "$FPR2" "$TMP/p2.y4m"

check_out "guardian key: mother $FPR" "S-1001 has the pasted key, as mother" \
	"$BATON" student show S-1001 --dir "$TMP/lhs"
check_out "guardian key: father $FPR2" "S-1002 has the scanned key, as father" \
	"$BATON" student show S-1002 --dir "$TMP/lhs"
check_out "guardian-link .*mother key $FPR.* by maria" "the link is audited by maria" \
	"$BATON" audit --student S-1001 --dir "$TMP/lhs"
check_out "guardian-link .*father key $FPR2.* by maria" "and the scanned one" \
	"$BATON" audit --student S-1002 --dir "$TMP/lhs"
api maria GET students/S-1001/guardians
api_is 200 "\"fingerprint\": ?\"$FPR\"" "GET lists S-1001's linked key"
api maria DELETE "students/S-1002/guardians/NOT-A-KEY"
api_is 404 'key NOT-A-KEY is not linked to S-1002' "unlinking a key not linked: 404 naming it"
api maria DELETE "students/S-1002/guardians/$FPR2"
api_is 200 '"unlinked": ?true' "unlinking by fingerprint"
check_out 'guardian keys: none linked' "S-1002 has no key linked now" "$BATON" student show S-1002 --dir "$TMP/lhs"
check_out "guardian-unlink .*key $FPR2.* by maria" "the unlink is audited by maria" \
	"$BATON" audit --student S-1002 --dir "$TMP/lhs"
api maria POST students/S-1003/guardians "{\"key\": \"$PK\", \"restricted\": \"yes\"}"
api_is 400 '"error": ?"restricted: true or false' "restricted that is not true or false: 400 naming the field"
api maria POST students/S-1003/guardians "{\"key\": \"$PK\", \"relation\": \"father\", \"restricted\": true}"
api_is 201 '"restricted": ?true' "a restricted link (a court order): 201"
api maria POST students/S-1003/guardians "{\"key\": \"$PK\", \"relation\": \"father\"}"
api_is 400 "key $FPR is restricted for S-1003; to lift the restriction, unlink the key first" \
	"linking it again does not lift the restriction: 400 saying how"
check_out "guardian key: father $FPR RESTRICTED" "S-1003's link stays restricted" \
	"$BATON" student show S-1003 --dir "$TMP/lhs"
check "the node's log names no student" sh -c "! grep -E 'S-100[0-9]' '$TMP/lhs.log'"
done_testing
