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
api_is() {
	if [ "$CODE" = "$1" ] && grep -Eq -- "$2" "$OUT"; then
		pass "$3"
	else
		fail "$3" "status $CODE, want $1" "$(cat "$OUT")"
	fi
}

# ---- the API's refusals: named, and nothing left behind ----
api maria POST students/S-1003/invites '{"relation": "aunt"}'
api_is 400 '"error": ?"relation: \\"aunt\\": use mother, father, guardian or self' "a bad relation: 400 naming it"
api maria POST students/S-1003/invites '{}'
api_is 400 '"error": ?"relation: text is required' "no relation: 400 naming the field"
api maria POST students/S-NOPE/invites '{"relation": "mother"}'
api_is 404 'no student \\"S-NOPE\\"' "an unknown student: 404 in words"
api maria POST students/S-1003/invites '{"relation": "mother"}' nocsrf
api_is 403 'X-CSRF-Token' "without the CSRF token: 403"
api maria GET 'invites?student=S-NOPE'
api_is 404 'no student \\"S-NOPE\\"' "the invitations of an unknown student: 404"
api maria POST invites/ZZZZ/confirm '{}'
api_is 404 'no invitation ZZZZ' "confirming an unknown invitation: 404 naming it"
api maria DELETE invites/Q
api_is 404 'no invitation \\"Q\\"' "cancelling a malformed id: 404 naming it"
api maria GET invites
api_is 200 '^\[\]$' "none of these made an invitation"
check "nor audited one" sh -c "! '$BATON' audit --dir '$TMP/lhs' | grep -q guardian-invite"
api maria POST students/S-1003/invites '{"relation": "father"}'
api_is 201 '"code": ?"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}"' "an invitation made over the API: 201 with its code"
cp "$OUT" "$TMP/made.json"
check "its URL is the console's origin, and its QR rows are square" jq -e --arg b "http://127.0.0.1:$WA/family/#invite=" \
	'.url == $b + .code and (.qr | length) == (.qr[0] | length) and .student == "S-1003" and .relation == "father"' "$TMP/made.json"
ID3=$(jq -r .id "$TMP/made.json")
api maria POST "invites/$ID3/confirm" '{}'
api_is 400 "invitation $ID3 is open: only a claimed invitation is confirmed" "confirming an open one: 400 naming its state"
api ian GET "invites?student=S-1003"
api_is 200 "\"id\": ?\"$ID3\".*\"state\": ?\"open\"" "an admin lists it, open, without its code"
check "the list holds no code" sh -c "! grep -q '\"code\"' '$OUT'"
api maria DELETE "invites/$ID3"
api_is 200 '"state": ?"cancelled"' "cancelled over the API"

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
check "the node's log names no student" sh -c "! grep -E 'S-100[0-9]' '$TMP/lhs.log'"
check "the node's log names no code" sh -c "! grep -E '[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}' '$TMP/lhs.log'"
done_testing
