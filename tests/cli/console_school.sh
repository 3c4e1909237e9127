#!/usr/bin/env bash
# The console's "This school" area, in a real browser and through the API
# with curl. A registrar downloads the school's card (the very bytes 'baton
# card' writes); the admin moves the school to a new endpoint in the page,
# the running serve listens there, and the other school's admin takes the
# newer card in its console; a packet then goes to the new endpoint and is
# receipted, and the head it brought is listed. Each error a user can reach
# is answered in words.
. "$(dirname "$0")/lib.sh"

export BATON_PASSPHRASE="a long enough passphrase" # the parent's key
console_schools || done_testing
L=$TMP/lhs R=$TMP/ras
U=http://127.0.0.1:$WA/api/v1
UB=http://127.0.0.1:$WB/api/v1

# port BASE: the port of an API base URL, to tell the sessions at either school apart.
port() {
	local p=${1#http://127.0.0.1:}
	echo "${p%%/*}"
}
# login BASE NAME PASSWORD: a session in the cookie jar $TMP/NAME-PORT.jar; prints its CSRF token.
login() {
	curl -s --max-time 60 -c "$TMP/$2-$(port "$1").jar" -H 'Content-Type: application/json' \
		-d "$(jq -n --arg u "$2" --arg p "$3" '{user: $u, password: $p}')" "$1/session" |
		jq -r .csrf
}
# call BASE NAME METHOD PATH [CURL-ARGS...]: as NAME, with the CSRF token
# unless NOCSRF is set; the body into $TMP/api.b; prints the status.
call() {
	local b=$1 n=$2 m=$3 p=$4 tok
	shift 4
	tok=${TOK[$n-$(port "$b")]}
	[ -z "${NOCSRF:-}" ] || tok=
	curl -s --max-time 60 -b "$TMP/$n-$(port "$b").jar" -X "$m" -H "X-CSRF-Token: $tok" \
		-o "$TMP/api.b" -w '%{http_code}' "$@" "$b/$p"
}
# answer DESC STATUS REGEX GOT: the status is STATUS and the body matches REGEX.
answer() {
	if [ "$4" = "$2" ] && grep -Eq -- "$3" "$TMP/api.b"; then
		pass "$1"
	else
		fail "$1" "status $4 (expected $2)" "$(head -c 400 "$TMP/api.b")"
	fi
}
declare -A TOK
TOK[ian-$WA]=$(login "$U" ian "$IAN_PW")
TOK[maria-$WA]=$(login "$U" maria "$MARIA_PW")
TOK[ian-$WB]=$(login "$UB" ian "$IAN_PW")

run "$BATON" card --json --dir "$L"
FPR=$(jq -r .fingerprint "$OUT")
answer "a registrar reads the school's card details" 200 \
	"\"code\":\"LHS-001\".*\"fingerprint\":\"$FPR\".*\"endpoints\":\\[\"tcp://127.0.0.1:$PA\"\\]" \
	"$(call "$U" maria GET school)"
answer "a registrar downloads the card" 200 '' "$(call "$U" maria GET school/card)"
"$BATON" card --dir "$L" >"$TMP/cli.card"
check "... the very bytes 'baton card' writes" cmp "$TMP/api.b" "$TMP/cli.card"
answer "a school that never rekeyed has no rotation statement: 404" 404 'never rekeyed' \
	"$(call "$U" maria GET school/rotation)"
answer "a registrar may not set the endpoint: 403" 403 'only an admin' \
	"$(call "$U" maria PUT school/endpoint -H 'Content-Type: application/json' -d '{"endpoints": ["tcp://127.0.0.1:1"]}')"
answer "a registrar may not take a peer's card: 403" 403 'only an admin' \
	"$(call "$U" maria POST peers/update --data-binary "@$TMP/RAS-204.card")"
answer "a registrar may not sign the log: 403" 403 'only an admin' "$(call "$U" maria POST audit/sign)"
answer "setting the endpoint without the CSRF token is 403" 403 'X-CSRF-Token' \
	"$(NOCSRF=1 call "$U" ian PUT school/endpoint -H 'Content-Type: application/json' -d '{"endpoints": ["tcp://127.0.0.1:1"]}')"
answer "an endpoint without a port is refused, naming the field" 400 '"endpoints: endpoint .{1,2}tcp://10.0.0.9.{1,2}: a tcp endpoint is tcp://HOST:PORT' \
	"$(call "$U" ian PUT school/endpoint -H 'Content-Type: application/json' -d '{"endpoints": ["tcp://10.0.0.9"]}')"
answer "an endpoint that is no URL is refused" 400 '"endpoints: endpoint .{1,2}lincoln high.{1,2}: not a URL' \
	"$(call "$U" ian PUT school/endpoint -H 'Content-Type: application/json' -d '{"endpoints": ["lincoln high"]}')"
answer "no endpoints at all names the field" 400 '"endpoints: at least one' \
	"$(call "$U" ian PUT school/endpoint -H 'Content-Type: application/json' -d '{}')"
check_out "^tcp://127.0.0.1:$PA\$" "... and the card is as it was" "$BATON" endpoint --dir "$L"
answer "a card of a school not pinned is refused for update" 400 '"card: MMS-310 is not pinned' \
	"$(call "$U" ian POST peers/update --data-binary "@$(
		"$BATON" init --name "Maple Middle School" --code MMS-310 --dir "$TMP/mms" --no-passphrase >/dev/null
		"$BATON" card --dir "$TMP/mms" --out "$TMP/MMS-310.card" >/dev/null
		echo "$TMP/MMS-310.card"
	)")"
answer "this school's own card is refused for update" 400 '"card: LHS-001 is not pinned' \
	"$(call "$U" ian POST peers/update --data-binary "@$TMP/cli.card")"
answer "a file that is no card is refused in words" 400 '"card: not a school.s card' \
	"$(call "$U" ian POST peers/update --data-binary "@$TMP/ian.pw")"
answer "a registrar reads the heads held" 200 '"held":\[' "$(call "$U" maria GET audit/held)"

# The admin moves LHS to a new port in the page; the registrar's download first.
NEW=$((PB + 4))
mkdir -p "$TMP/dl"
node_tap "school" school.mjs "http://127.0.0.1:$WA" main "tcp://127.0.0.1:$NEW" "$TMP/dl"
check "the card maria downloaded is the card 'baton card' writes" cmp "$TMP/dl/maria.card" "$TMP/cli.card"
check_out "^tcp://127.0.0.1:$NEW\$" "baton endpoint shows the new endpoint" "$BATON" endpoint --dir "$L"
"$BATON" card --dir "$L" >"$TMP/cli2.card"
check "the new card ian downloaded is the node's card" cmp "$TMP/dl/new.card" "$TMP/cli2.card"
check_out "endpoint +tcp://127.0.0.1:$NEW \(was tcp://127.0.0.1:$PA\) +by ian\$" "... audited as endpoint by ian" \
	"$BATON" audit --dir "$L"
wait_for 60 grep -q "listening at tcp://127.0.0.1:$NEW" "$TMP/lhs.log"
check "the running serve of LHS listens at the new endpoint" grep -q "listening at tcp://127.0.0.1:$NEW" "$TMP/lhs.log"

node_tap "update" school.mjs "http://127.0.0.1:$WB" update "$TMP/dl/new.card"
check_out "LHS-001 .*tcp://127.0.0.1:$NEW" "RAS's peer list names LHS's new endpoint" "$BATON" peer list --dir "$R"
check_out "peer-update .*LHS-001 .*endpoint tcp://127.0.0.1:$NEW.* by ian\$" "... audited as peer-update by ian" \
	"$BATON" audit --dir "$R"
answer "the same card again is unchanged" 200 '"result":"unchanged"' \
	"$(call "$UB" ian POST peers/update --data-binary "@$TMP/dl/new.card")"

# A record from RAS now reaches LHS at the new port and is receipted.
printf '{"student_id": "S-500", "identity": {"given_name": "Mina", "family_name": "Rossi", "birth_date": "2011-03-03"}}\n' >"$TMP/r500.json"
check "RAS has S-500" "$BATON" student import "$TMP/r500.json" --dir "$R"
check "RAS links the parent to S-500" "$BATON" guardian link S-500 "$PK" --relation mother --dir "$R"
check "the parent consents to S-500 going to LHS" "$BATON" consent grant --key "$TMP/parent.key" \
	--student S-500 --from "$TMP/RAS-204.card" --to "$TMP/dl/new.card" --sections all --yes \
	--out "$TMP/r500.consent"
check "RAS queues S-500 for LHS" "$BATON" send S-500 --to LHS-001 --consent "$TMP/r500.consent" \
	--sections all --dir "$R"
receipted() { "$BATON" outbox --json --dir "$R" | jq -e '.[] | select(.student == "S-500" and .state == "receipted")' >/dev/null; }
wait_for 120 receipted
check "the packet is receipted by LHS at its new endpoint" receipted
answer "LHS holds RAS's head after that" 200 '"school":"RAS-204","entries":[0-9]+' \
	"$(call "$U" maria GET audit/held)"
node_tap "held" school.mjs "http://127.0.0.1:$WA" held RAS-204
check_out '^audit log verified: ' "the log of LHS verifies" "$BATON" audit verify --dir "$L"

# The admin rekeys LHS in the page; RAS takes the new card with its statement.
answer "a registrar may not rekey: 403" 403 'only an admin' \
	"$(call "$U" maria POST school/rekey -H 'Content-Type: application/json' -d '{"confirm": "LHS-001"}')"
answer "a rekey without the code typed is refused, naming the field" 400 '"confirm: type the school code LHS-001' \
	"$(call "$U" ian POST school/rekey -H 'Content-Type: application/json' -d '{}')"
node_tap "rekey" school.mjs "http://127.0.0.1:$WA" rekey - "$TMP/dl"
run "$BATON" card --json --dir "$L"
FPR2=$(jq -r .fingerprint "$OUT")
check "the node's card has a new fingerprint" test "$FPR2" != "$FPR"
"$BATON" card --dir "$L" >"$TMP/cli3.card"
check "the card downloaded after the rekey is the node's card" cmp "$TMP/dl/rekey.card" "$TMP/cli3.card"
check_out "rekey +from $FPR to $FPR2 +by ian\$" "baton audit at LHS has the rekey by ian" "$BATON" audit --dir "$L"
wait_for 60 grep -q "now using key $FPR2" "$TMP/lhs.log"
check "the running serve of LHS takes the new key by itself" grep -q "now using key $FPR2" "$TMP/lhs.log"
check_out '^Rotated' "RAS takes the new card with the rotation statement" \
	"$BATON" peer add "$TMP/dl/rekey.card" --rotation "$TMP/dl/rekey.rot" --dir "$R"
printf '{"student_id": "S-501", "identity": {"given_name": "Luca", "family_name": "Rossi", "birth_date": "2012-04-04"}}\n' >"$TMP/r501.json"
check "RAS has S-501" "$BATON" student import "$TMP/r501.json" --dir "$R"
check "RAS links the parent to S-501" "$BATON" guardian link S-501 "$PK" --relation mother --dir "$R"
check "the parent consents to S-501 going to LHS's new card" "$BATON" consent grant --key "$TMP/parent.key" \
	--student S-501 --from "$TMP/RAS-204.card" --to "$TMP/dl/rekey.card" --sections all --yes \
	--out "$TMP/r501.consent"
check "RAS queues S-501 for LHS" "$BATON" send S-501 --to LHS-001 --consent "$TMP/r501.consent" \
	--sections all --dir "$R"
receipted2() { "$BATON" outbox --json --dir "$R" | jq -e '.[] | select(.student == "S-501" and .state == "receipted")' >/dev/null; }
wait_for 120 receipted2
check "a packet still goes through after the rekey" receipted2
check_out '^audit log verified: ' "the log of LHS still verifies" "$BATON" audit verify --dir "$L"

check "serve of LHS stops" serve_stop lhs
check "serve of Riverside stops" serve_stop ras
check "no sanitizer report from either serve" sh -c \
	"! grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error' '$TMP/lhs.log' '$TMP/ras.log'"
done_testing
