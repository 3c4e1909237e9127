#!/usr/bin/env bash
# The console's Home, Requests and Inbox & outbox, as a registrar uses them
# in a real browser with two running schools: Home says what needs her;
# a request from the other school is released with a button and another
# denied with a reason (the other school's CLI sees the record and the
# refusal; the audit log names her); a packet queued while the other school
# is down shows its attempts and next attempt, and "Retry now" delivers it
# once that school is back. Then the API's answers to each mistake, and the
# CLI's JSON and the API's agreeing.
. "$(dirname "$0")/lib.sh"

export BATON_PASSPHRASE="a long enough passphrase" # the parent's key
console_schools || done_testing
L=$TMP/lhs R=$TMP/ras

# What the family gives: consents to move S-1018, S-1019 and S-1022 from
# LHS to RAS (S-1018's expires within the fortnight Home looks ahead).
for s in S-1018:7d S-1019:30d S-1022:30d; do
	check "LHS links the parent to ${s%%:*}" "$BATON" guardian link "${s%%:*}" "$PK" --dir "$L"
	check "the parent's consent for ${s%%:*}" "$BATON" consent grant --key "$TMP/parent.key" \
		--student "${s%%:*}" --from "$TMP/LHS-001.card" --to "$TMP/RAS-204.card" --sections all \
		--purpose "enrolment at Riverside" --expires "${s#*:}" --yes --out "$TMP/${s%%:*}.consent"
done
held() { "$BATON" requests --json --dir "$L" | grep -q "\"student\": \"$1\""; }

node_tap "home, nothing to do" home.mjs "http://127.0.0.1:$WB" none

# A request, released in the page.
check "RAS asks LHS for S-1018" "$BATON" request --from LHS-001 --consent "$TMP/S-1018.consent" \
	--note "enrolling Monday" --dir "$R"
wait_for 120 held S-1018 && pass "LHS holds the request" || fail "LHS holds the request"
node_tap "home" home.mjs "http://127.0.0.1:$WA" busy
node_tap "requests" requests.mjs "http://127.0.0.1:$WA" release
has_record() { "$BATON" inbox --json --dir "$R" | grep -q '"student": "S-1018"'; }
wait_for 120 has_record && pass "RAS's inbox has the record released" ||
	fail "RAS's inbox has the record released" "$("$BATON" inbox --dir "$R" 2>&1)"
check_out '^Imported|"S-1018"|S-1018' "RAS has S-1018 on file" "$BATON" student show S-1018 --dir "$R"
check_out 'disclosure.* by maria' "LHS's audit names maria for the release" "$BATON" audit --student S-1018 --dir "$L"

# A request, denied in the page with a reason.
check "RAS asks LHS for S-1019" "$BATON" request --from LHS-001 --consent "$TMP/S-1019.consent" --dir "$R"
wait_for 120 held S-1019 && pass "LHS holds the second request" || fail "LHS holds the second request"
node_tap "requests" requests.mjs "http://127.0.0.1:$WA" deny
check_out 'request-denied.*student stays with us.* by maria' "LHS's audit names maria for the refusal" \
	"$BATON" audit --student S-1019 --dir "$L"
denied() { "$BATON" outbox --dir "$R" | grep -q 'S-1019 .*denied.*the student stays with us this year'; }
wait_for 120 denied && pass "RAS's outbox shows its request denied, with the reason" ||
	fail "RAS's outbox shows its request denied, with the reason" "$("$BATON" outbox --dir "$R" 2>&1)"

# A record queued while RAS is down; "Retry now" once it is back.
serve_stop ras
check_out 'queued' "LHS sends S-1022 while RAS is down" "$BATON" send S-1022 --to RAS-204 \
	--consent "$TMP/S-1022.consent" --dir "$L"
tried() { "$BATON" outbox --json --dir "$L" | jq -e '.[] | select(.student == "S-1022" and .state == "queued" and .attempts >= 3 and .last_error != "")' >/dev/null; }
wait_for 120 tried && pass "its attempts climb" || fail "its attempts climb" "$("$BATON" outbox --dir "$L" 2>&1)"
node_tap "transfers" transfers.mjs "http://127.0.0.1:$WA" queued
# LHS again with its clock held still (BATON_NOW), so that its backoff never
# comes due: only "Retry now" can send the packet once RAS is back.
serve_stop lhs
NOW=$(date +%s)
BATON_NOW=$NOW serve_start lhs "$L" lhs2.log
wait_for 120 grep -q 'web: serving' "$TMP/lhs2.log"
later() { "$BATON" outbox --json --dir "$L" | jq -e ".[] | select(.student == \"S-1022\" and .state == \"queued\" and .next_try > $NOW)" >/dev/null; }
wait_for 120 later && pass "its next attempt is after LHS's clock" || fail "its next attempt is after LHS's clock"
serve_start ras "$R" ras2.log
node_tap "transfers" transfers.mjs "http://127.0.0.1:$WA" retry
check_out 'S-1022 .*receipted' "LHS's outbox has the receipt" "$BATON" outbox --dir "$L"
check_out 'S-1022' "RAS's inbox has S-1022" "$BATON" inbox --dir "$R"

# The API: one node function for the CLI and the console.
api_login() { # api_login BASE USER PASSWORD JAR: the CSRF token
	curl -s -c "$4" -H 'Content-Type: application/json' \
		-d "$(jq -n --arg u "$2" --arg p "$3" '{user: $u, password: $p}')" "$1/api/v1/session" | jq -r .csrf
}
A="http://127.0.0.1:$WA/api/v1"
TOK=$(api_login "http://127.0.0.1:$WA" maria "$MARIA_PW" "$TMP/maria.jar")
ITOK=$(api_login "http://127.0.0.1:$WA" ian "$IAN_PW" "$TMP/ian.jar")
# api METHOD PATH [BODY] [JAR TOKEN]: the status in $CODE, the body in $OUT.
api() {
	local jar=${4:-$TMP/maria.jar} tok=${5-$TOK}
	OUT=$TMP/api.out
	CODE=$(curl -s -o "$OUT" -w '%{http_code}' -X "$1" -b "$jar" -H "X-CSRF-Token: $tok" \
		-H 'Content-Type: application/json' ${3:+-d "$3"} "$A/$2")
}
# api_is CODE REGEX DESC METHOD PATH [BODY] [JAR TOKEN]
api_is() {
	local code=$1 re=$2 desc=$3
	shift 3
	api "$@"
	if [ "$CODE" = "$code" ] && grep -Eq -- "$re" "$OUT"; then pass "$desc"; else
		fail "$desc" "expected $code and $re, got $CODE: $(cat "$OUT")"; fi
}
same() { # same CLI-ARGS... -- API-PATH: the CLI's --json and the API's answer are one
	local args=() p
	while [ "$1" != -- ]; do args+=("$1"); shift; done
	p=$2
	api GET "$p"
	if "$BATON" "${args[@]}" --json --dir "$L" | jq -S . >"$TMP/cli.json" &&
		jq -S . "$OUT" >"$TMP/api.json" && cmp -s "$TMP/cli.json" "$TMP/api.json" &&
		[ "$(jq length "$TMP/api.json")" -gt 0 ]; then
		pass "GET $p is 'baton ${args[*]} --json'"
	else fail "GET $p is 'baton ${args[*]} --json'" "$(diff "$TMP/cli.json" "$TMP/api.json" | head -20)"; fi
}
same outbox -- outbox
same inbox -- inbox
same requests --all -- requests
OB=$("$BATON" outbox --json --dir "$L" | jq -r '.[] | select(.student == "S-1022") | .packet')
Q1=$("$BATON" requests --all --json --dir "$L" | jq -r '.[] | select(.student == "S-1018") | .request')
api_is 200 '"student":"S-1022","state":"receipted",[^}]*"reason":"accepted"' "the outbox's JSON has the receipt's answer" GET outbox
api_is 401 'not logged in' "without a session: 401" GET requests "" /dev/null ""
api_is 403 'X-CSRF-Token' "a release without the CSRF token: 403" POST "requests/$Q1/release" "" "$TMP/maria.jar" ""
api_is 404 'no request' "a release of an unknown request: 404 in words" POST "requests/00000000000000000000000000000000/release"
api_is 400 '^\{"error":"request: 32 hexadecimal' "a malformed request id: 400 naming it" POST "requests/xyz/deny" '{"reason":"x"}'
api_is 400 'already released' "releasing a released request again: refused in words" POST "requests/$Q1/release"
check "and no second packet went to RAS" test "$("$BATON" outbox --json --dir "$L" | jq '[.[] | select(.student == "S-1018" and .kind == "transfer")] | length')" = 1
api_is 400 '"error":"reason: ' "a deny without a reason: 400 naming the field" POST "requests/$Q1/deny" '{}'
api_is 404 'no packet' "a retry of an unknown packet: 404" POST "outbox/00000000000000000000000000000000/retry"
api_is 409 'no longer queued' "a retry of a receipted packet: 409" POST "outbox/$OB/retry"
api_is 403 'only an admin' "the release policy is an admin's: 403 for a registrar" GET policy/auto-release
api_is 200 '"auto_release":false' "an admin reads the release policy" GET policy/auto-release "" "$TMP/ian.jar" "$ITOK"
api_is 400 'auto_release: true or false' "a policy without a boolean: 400 naming it" PUT policy/auto-release '{"auto_release":"yes"}' "$TMP/ian.jar" "$ITOK"
api_is 200 '"auto_release":true' "an admin turns auto-release on" PUT policy/auto-release '{"auto_release":true}' "$TMP/ian.jar" "$ITOK"
check_out 'auto-release on' "the CLI reads the policy the admin set" "$BATON" policy --dir "$L"
check_out 'policy.* by ian' "the audit names ian for it" "$BATON" audit --dir "$L"
api_is 200 '"requests":\{"count":0' "Home's API: no request is held any more" GET home
node_tap "requests" requests.mjs "http://127.0.0.1:$WA" policy
check_out 'auto-release off' "the CLI reads the policy the admin set in the page" "$BATON" policy --dir "$L"
for n in lhs ras; do
	serve_stop $n && pass "$n's serve stops cleanly" || fail "$n's serve stops cleanly" "exit code $?"
done
check "no sanitizer report in the serving nodes' logs" sh -c "! grep -E 'Sanitizer|runtime error' '$TMP'/lhs*.log '$TMP'/ras*.log"
done_testing
