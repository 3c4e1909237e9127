#!/usr/bin/env bash
# Invitations: the registrar makes one (code, expiry, URL, QR), the parent
# enrols a key with the code over HTTP, the registrar confirms and the key
# is linked. The code is single use, 5 wrong secrets burn it, it expires
# after 7 days, a cancelled one enrols nothing; every failed code gets the
# same 404. The audit log names the invitation, never its code; bad input
# is named and leaves nothing behind.
. "$(dirname "$0")/lib.sh"

N=$TMP/lhs
free_ports 2 || done_testing
P=$P0
W=$((P + 1))
check "init" "$BATON" init --name "Lincoln High School" --code LHS-001 --dir "$N" --no-passphrase
check "import" "$BATON" student import "$BATON_SRC/tests/data/school.json" --dir "$N"
check "endpoint on loopback" "$BATON" endpoint set "tcp://127.0.0.1:$P" --dir "$N" --force
check "console on loopback" "$BATON" web set --listen "127.0.0.1:$W" --dir "$N"
check "the parent makes a key" "$BATON" guardian keygen --out "$TMP/mother.key" --no-passphrase
PK=$(head -n1 "$TMP/mother.key.pub")
run "$BATON" guardian pubkey "$TMP/mother.key.pub"
FPR=$(sed -n 's/^fingerprint //p' "$ERR")
check "a second key" "$BATON" guardian keygen --out "$TMP/other.key" --no-passphrase
PK2=$(head -n1 "$TMP/other.key.pub")

# ---- bad input is named and leaves nothing behind ----
check_err 2 'guardian invite: no URL for the invitation: give --url BASE' \
	"without --url or a public URL, invite says to give --url" \
	"$BATON" guardian invite S-1001 --relation mother --dir "$N"
check_err 1 '^baton: --relation: "aunt": use mother, father, guardian or self$' \
	"a bad relation is named" \
	"$BATON" guardian invite S-1001 --relation aunt --url http://127.0.0.1:$W --dir "$N"
check_err 1 'relation mother\|father\|guardian\|self is required' "no relation: refused" \
	"$BATON" guardian invite S-1001 --url http://127.0.0.1:$W --dir "$N"
check_err 2 'no student "S-NOPE"' "an unknown student is named" \
	"$BATON" guardian invite S-NOPE --relation mother --url http://127.0.0.1:$W --dir "$N"
check_err 2 'url: "ftp://x": give http:// or https://' "a URL that is not http(s) is named" \
	"$BATON" guardian invite S-1001 --relation mother --url ftp://x --dir "$N"
check_out '^No invitations\.$' "none of these made an invitation" "$BATON" guardian invites --dir "$N"
check "nor audited one" sh -c "! '$BATON' audit --dir '$N' | grep -q guardian-invite"

# ---- make ----
check "invite the mother of S-1001" "$BATON" guardian invite S-1001 --relation mother \
	--url "http://127.0.0.1:$W/" --dir "$N"
cp "$OUT" "$TMP/invite.out"
CODE=$(sed -n 's/^code  //p' "$TMP/invite.out")
ID=${CODE:0:4}
check "the code is XXXX-XXXX-XXXX from the alphabet" \
	grep -Eq '^code  [ABCDEFGHJKMNPQRSTVWXYZ2-9]{4}-[ABCDEFGHJKMNPQRSTVWXYZ2-9]{4}-[ABCDEFGHJKMNPQRSTVWXYZ2-9]{4}$' "$TMP/invite.out"
check "the URL carries the code after #" grep -qx "url   http://127.0.0.1:$W/family/#invite=$CODE" "$TMP/invite.out"
check "the expiry is 7 days on, in UTC" grep -Eq "^Invitation $ID for S-1001 \(mother\), single use, expires $(date -u -d @$(($(date +%s) + 7 * 86400)) '+%Y-%m-%d') [0-9:]{5} UTC$" "$TMP/invite.out"
check "the QR code is drawn" grep -q "$(printf '\342\226\200')" "$TMP/invite.out"
check "invite --json" "$BATON" guardian invite S-1002 --relation father --url "https://school.example:8443" --json --dir "$N"
cp "$OUT" "$TMP/invite2.json"
CODE2=$(jq -r .code "$TMP/invite2.json")
check "its url and QR rows" jq -e --arg c "$CODE2" '.url == "https://school.example:8443/family/#invite=" + $c and (.qr | length) >= 21 and (.qr | length) == (.qr[0] | length) and all(.qr[]; test("^[01]+$"))' "$TMP/invite2.json"
check_out "^$ID  open .*S-1001 .*mother" "invites lists it, open" "$BATON" guardian invites --dir "$N"
check_out "^${CODE2:0:4}  open" "invites --student S-1002 lists that one" "$BATON" guardian invites --student S-1002 --dir "$N"
check "and only that one" sh -c "! grep -q '^$ID' '$OUT'"
check_err 2 'no student "S-NOPE"' "invites --student of an unknown student is named" \
	"$BATON" guardian invites --student S-NOPE --dir "$N"
check "invites --json" "$BATON" guardian invites --json --dir "$N"
check "holds state and no code" jq -e --arg id "$ID" 'map(select(.id == $id))[0] | .state == "open" and .relation == "mother" and (has("code") | not)' "$OUT"
check_err 2 "invitation $ID is open: only a claimed invitation is confirmed" \
	"confirming an open invitation is refused, naming its state" "$BATON" guardian confirm "$ID" --dir "$N"

# ---- enrol over HTTP ----
serve_start lhs "$N" lhs.log || done_testing
wait_for 60 grep -q 'web: serving' "$TMP/lhs.log"
# enrol BODY [CONTENT-TYPE [ORIGIN]]: POST /api/v1/family/enrol from the family
# page's origin (ORIGIN "-": none); status in $CODE_, answer in $OUT.
enrol() {
	local origin=${3:-http://127.0.0.1:$W}
	OUT=$TMP/enrol.out
	[ "$origin" = - ] && origin=""
	CODE_=$(curl -s -o "$OUT" -w '%{http_code}' -H "Content-Type: ${2:-application/json}" \
		${origin:+-H "Origin: $origin"} --data "$1" "http://127.0.0.1:$W/api/v1/family/enrol")
}
is() {
	if [ "$CODE_" = "$1" ] && grep -Eq -- "$2" "$OUT"; then pass "$3"; else fail "$3" "status $CODE_, want $1" "$(cat "$OUT")"; fi
}
NOCODE='"error": ?"invitation code: not known, used or expired"'
enrol "{\"code\": \"$CODE\", \"key\": \"$PK\"}" text/plain
is 415 'Content-Type: application/json' "a body that is not JSON's type: 415"
enrol "{\"code\": \"$CODE\", \"key\": \"$PK\"}" application/json https://elsewhere.example
is 403 '"error": ?"Origin: not this server' "an enrolment from another origin: 403"
enrol "{\"code\": \"$CODE\", \"key\": \"$PK\"}" application/json -
is 403 '"error": ?"Origin: missing' "an enrolment without Origin: 403"
enrol "{\"code\": \"$CODE\", \"key\": \"baton-gk1-nope\"}"
is 400 '"error": ?"key: ' "a malformed key: 400 naming the key"
enrol "{\"code\": \"${CODE:0:10}O1\", \"key\": \"$PK\"}"
is 400 "\"error\": ?\"code: 'O' is not a character of an invitation code" "a character outside the alphabet: 400 naming it"
enrol "{\"code\": \"${CODE:0:9}\", \"key\": \"$PK\"}"
is 400 '"error": ?"code: 8 characters, an invitation code has 12' "a short code: 400 naming the field"
enrol "{\"key\": \"$PK\"}"
is 400 '"error": ?"code: ' "no code: 400"
enrol "{\"code\": \"ZZZZ-ZZZZ-ZZZZ\", \"key\": \"$PK\"}"
is 404 "$NOCODE" "an unknown id: 404, the one message"
WRONG=${CODE:0:12}$([ "${CODE:12:2}" = 22 ] && echo 33 || echo 22)
enrol "{\"code\": \"$WRONG\", \"key\": \"$PK\"}"
is 404 "$NOCODE" "a wrong secret: the same 404"
check_out "^$ID  open" "a wrong secret leaves it open" "$BATON" guardian invites --dir "$N"
check "and counts one attempt" sh -c "'$BATON' guardian invites --json --dir '$N' | jq -e --arg id $ID 'map(select(.id == \$id))[0].wrong == 1'"
LOWER=$(printf '%s' "$CODE" | tr 'A-Z-' 'a-z ')
enrol "{\"code\": \"$LOWER\", \"key\": \"$PK\"}"
is 200 "\"state\": ?\"claimed\"" "the right code, typed in lower case with spaces: 200 claimed"
check "the answer names the key, relation, child and school" jq -e --arg f "$FPR" '.fingerprint == $f and .relation == "mother" and .student.given_name == "Jonah" and .school.code == "LHS-001" and (.school.fingerprint | length) > 0 and (.student | has("family_name") | not)' "$OUT"
enrol "{\"code\": \"$CODE\", \"key\": \"$PK2\"}"
is 404 "$NOCODE" "the code again (single use): the same 404"
check_out "^$ID  claimed .*$FPR" "invites shows it claimed, with the key's fingerprint" "$BATON" guardian invites --dir "$N"
check_out 'guardian keys: none linked' "a claim links nothing" "$BATON" student show S-1001 --dir "$N"
check_out "guardian-enrol .*invitation $ID, mother key $FPR.* by family" "the enrolment is audited, by family" \
	"$BATON" audit --student S-1001 --dir "$N"

# ---- burn: 5 wrong secrets ----
for i in 1 2 3 4 5; do
	enrol "{\"code\": \"${CODE2:0:12}$([ "${CODE2:12:2}" = 22 ] && echo 33 || echo 22)\", \"key\": \"$PK2\"}"
	[ "$CODE_" = 404 ] || break
done
is 404 "$NOCODE" "five wrong secrets: each the same 404"
check_out "^${CODE2:0:4}  burned" "the invitation is burned" "$BATON" guardian invites --dir "$N"
enrol "{\"code\": \"$CODE2\", \"key\": \"$PK2\"}"
is 404 "$NOCODE" "the right code after the burn: the same 404"
check "a burned invitation audits no enrolment" sh -c "! '$BATON' audit --student S-1002 --dir '$N' | grep -q guardian-enrol"

# ---- cancel ----
check "a third invitation" "$BATON" guardian invite S-1003 --relation guardian --url "http://127.0.0.1:$W" --dir "$N"
CODE3=$(sed -n 's/^code  //p' "$OUT")
check_out "^Cancelled invitation ${CODE3:0:4} for S-1003\$" "cancel it" "$BATON" guardian cancel "${CODE3:0:4}" --dir "$N"
enrol "{\"code\": \"$CODE3\", \"key\": \"$PK2\"}"
is 404 "$NOCODE" "a cancelled code: the same 404"
check_err 2 "invitation ${CODE3:0:4} is cancelled already" "cancelling again is refused, naming the state" \
	"$BATON" guardian cancel "${CODE3:0:4}" --dir "$N"
check_err 2 'no invitation "QQ"' "an id that is not one is named" "$BATON" guardian cancel QQ --dir "$N"

# ---- expiry ----
check "a fourth invitation" "$BATON" guardian invite S-1004 --relation self --url "http://127.0.0.1:$W" --dir "$N"
CODE4=$(sed -n 's/^code  //p' "$OUT")
LATER=$(($(date +%s) + 7 * 86400 + 60))
check_out "^${CODE4:0:4}  expired" "7 days on, it lists as expired" env BATON_NOW=$LATER "$BATON" guardian invites --dir "$N"

# ---- confirm ----
check_out "^Invitation $ID: mother key $FPR for S-1001 \(Jonah Fitzgerald\)\$" \
	"confirm shows the key's fingerprint and the student first" "$BATON" guardian confirm "${ID,,}" --dir "$N"
check_out "^Linked mother key $FPR to S-1001\$" "then links it" cat "$OUT"
check_out "guardian key: mother $FPR" "student show lists the link" "$BATON" student show S-1001 --dir "$N"
check_out "^$ID  linked" "invites shows it linked" "$BATON" guardian invites --dir "$N"
check_err 2 "invitation $ID is linked: only a claimed invitation is confirmed" "a second confirm is refused, naming the state" \
	"$BATON" guardian confirm "$ID" --dir "$N"
check_out "guardian-link .*mother key $FPR" "the link is audited" "$BATON" audit --student S-1001 --dir "$N"

# ---- the code is nowhere but in the registrar's answer ----
for c in "$CODE" "$CODE2" "$CODE3" "$CODE4"; do
	for form in "$c" "${c//-/}"; do
		grep -rqF -- "$form" "$N" "$TMP/lhs.log" && fail "code $c found in the node's files or log" && continue 2
		"$BATON" audit --json --dir "$N" | grep -qF -- "$form" && fail "code $c found in the audit log" && continue 2
	done
	pass "code ${c:0:4}: not in the audit log, the store or the log"
done
check "the audit log verifies" "$BATON" audit verify --dir "$N"

# ---- expired over HTTP: the node's clock 7 days on ----
serve_stop lhs
BATON_NOW=$LATER serve_start lhs "$N" lhs2.log || done_testing
wait_for 60 grep -q 'web: serving' "$TMP/lhs2.log"
enrol "{\"code\": \"$CODE4\", \"key\": \"$PK2\"}"
is 404 "$NOCODE" "an expired code: the same 404"
check_out "^${CODE4:0:4}  expired" "and it stays unclaimed" env BATON_NOW=$LATER "$BATON" guardian invites --dir "$N"

# ---- what never counts as a failure never waits ----
# Once an address has failed 3 times its failures wait a second; a request
# that is not counted (a malformed code, the open about) must not wait, or
# a client could keep every web thread asleep without ever reaching 429.
SRC=127.0.0.$((2 + RANDOM % 200))
for i in 1 2 3; do
	curl -s -o /dev/null --interface "$SRC" -H 'Content-Type: application/json' -H "Origin: http://127.0.0.1:$W" \
		--data "{\"code\": \"ZZZZ-ZZZZ-ZZZ$((i + 1))\", \"key\": \"$PK2\"}" "http://127.0.0.1:$W/api/v1/family/enrol"
done
T0=$(date +%s%N)
for i in 1 2 3 4; do
	curl -s -o /dev/null --interface "$SRC" -H 'Content-Type: application/json' -H "Origin: http://127.0.0.1:$W" \
		--data '{"code": "x", "key": "y"}' "http://127.0.0.1:$W/api/v1/family/enrol"
done
curl -s -o /dev/null --interface "$SRC" "http://127.0.0.1:$W/api/v1/family/about"
MS=$((($(date +%s%N) - T0) / 1000000))
check "after 3 failures, 4 malformed enrolments and the about page from that address do not wait (${MS} ms)" test "$MS" -lt 2000

# ---- guessing from one address is throttled ----
for i in $(seq 1 20); do
	enrol "{\"code\": \"ZZZZ-ZZZZ-ZZZZ\", \"key\": \"$PK2\"}"
done
enrol "{\"code\": \"ZZZZ-ZZZZ-ZZZZ\", \"key\": \"$PK2\"}"
is 429 'too many failed attempts' "guesses from one address: 429 after 20 failures"
curl -s -o /dev/null -H 'Content-Type: application/json' -H "Origin: http://127.0.0.1:$W" \
	--data "{\"code\": \"ZZZZ-ZZZZ-ZZZZ\", \"key\": \"$PK2\"}" "http://127.0.0.1:$W/api/v1/family/enrol?n=[1-200]"
check "200 more refused guesses: the log says once that the address is refused, not once a guess ($(grep -c 'from 127\.0\.0\.1' "$TMP/lhs2.log") lines)" \
	test "$(grep -c 'from 127\.0\.0\.1' "$TMP/lhs2.log")" -eq 1
check "the log names no code" sh -c "! grep -E '[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}' '$TMP/lhs.log' '$TMP/lhs2.log'"
serve_stop lhs
done_testing
