#!/usr/bin/env bash
# The console's Peers, Users and Audit areas, in a real browser and through
# the API with curl. Peers: the admin pins a third school's card only once
# the fingerprint read over the phone is typed and matches (the server
# refuses a forged expect); a registrar may not. Users: an account added in
# the page signs in, is removed, and its session ends. Audit: entries by
# student and by person, Verify with its count; then the log is rewritten
# behind the node's back and Verify names the first bad entry.
. "$(dirname "$0")/lib.sh"

export BATON_PASSPHRASE="a long enough passphrase" # the parent's key
tool BATON_AUDIT_REWRITE audit_rewrite || done_testing
console_schools || done_testing
L=$TMP/lhs
U=http://127.0.0.1:$WA/api/v1

# What the admin is given: the third school's card, and its fingerprint read out.
check "a third school" "$BATON" init --name "Maple Middle School" --code MMS-310 \
	--dir "$TMP/mms" --no-passphrase
check "its card" "$BATON" card --dir "$TMP/mms" --out "$TMP/MMS-310.card"
run "$BATON" card --json --dir "$TMP/mms"
MMS_FPR=$(jq -r .fingerprint "$OUT")
export MMS_FPR MMS_CARD=$TMP/MMS-310.card JOE_PW="joe's long password"

# login NAME PASSWORD: a session in the cookie jar $TMP/NAME.jar; prints its CSRF token.
login() {
	curl -s --max-time 60 -c "$TMP/$1.jar" -H 'Content-Type: application/json' \
		-d "$(jq -n --arg u "$1" --arg p "$2" '{user: $u, password: $p}')" "$U/session" |
		jq -r .csrf
}
# call NAME METHOD PATH [CURL-ARGS...]: as NAME, with the CSRF token unless
# NOCSRF is set; the body into $TMP/api.b; prints the status.
call() {
	local n=$1 m=$2 p=$3 tok
	shift 3
	tok=${TOK[$n]}
	[ -z "${NOCSRF:-}" ] || tok=
	curl -s --max-time 60 -b "$TMP/$n.jar" -X "$m" -H "X-CSRF-Token: $tok" \
		-o "$TMP/api.b" -w '%{http_code}' "$@" "$U/$p"
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
TOK[ian]=$(login ian "$IAN_PW")
TOK[maria]=$(login maria "$MARIA_PW")
CARD64=$(base64 -w0 "$MMS_CARD")
# The same fingerprint with its first group changed: what a forger would send.
FORGED="AAAAA-${MMS_FPR#*-}"
[ "$FORGED" != "$MMS_FPR" ] || FORGED="BBBBB-${MMS_FPR#*-}"
pin_body() { jq -n --arg c "$CARD64" --arg e "$1" '{card: $c, expect: $e}'; }

answer "a registrar may read the pinned schools" 200 '"code":"RAS-204"' "$(call maria GET peers)"
answer "a registrar's POST /api/v1/peers is 403" 403 'only an admin' \
	"$(call maria POST peers -H 'Content-Type: application/json' -d "$(pin_body "$MMS_FPR")")"
answer "a registrar's card check is 403" 403 'only an admin' \
	"$(call maria POST peers/check --data-binary "@$MMS_CARD")"
answer "a card check without the CSRF token is 403" 403 'X-CSRF-Token' \
	"$(NOCSRF=1 call ian POST peers/check --data-binary "@$MMS_CARD")"
answer "the card check says what the card says, with its fingerprint" 200 \
	"\"code\":\"MMS-310\".*\"fingerprint\":\"$MMS_FPR\"" "$(call ian POST peers/check --data-binary "@$MMS_CARD")"
answer "a file that is no card is refused in words" 400 '"card: not a school.s card' \
	"$(call ian POST peers/check --data-binary "@$TMP/ian.pw")"
answer "a forged expect is refused: 400 naming expect" 400 '"expect: the fingerprint you typed does not match' \
	"$(call ian POST peers -H 'Content-Type: application/json' -d "$(pin_body "$FORGED")")"
answer "pinning without expect is refused" 400 '"expect: type the fingerprint' \
	"$(call ian POST peers -H 'Content-Type: application/json' -d "$(jq -n --arg c "$CARD64" '{card: $c}')")"
answer "pinning without a card names the field" 400 '"card: ' \
	"$(call ian POST peers -H 'Content-Type: application/json' -d '{"expect": "x"}')"
answer "unpinning a school not pinned is 404" 404 'NOPE-1 is not pinned' "$(call ian DELETE peers/NOPE-1)"
check "nothing refused was pinned" sh -c "! '$BATON' peer list --dir '$L' | grep -q MMS-310"

answer "a registrar may not list users: 403" 403 'only an admin' "$(call maria GET users)"
answer "an admin lists users" 200 '"name":"maria","role":"registrar"' "$(call ian GET users)"
answer "adding a user without a name names the field" 400 '"name: ' \
	"$(call ian POST users -H 'Content-Type: application/json' -d '{"role": "registrar", "password": "0123456789ab"}')"
answer "an unknown role is refused" 400 '"role: ' \
	"$(call ian POST users -H 'Content-Type: application/json' -d '{"name": "x", "role": "boss", "password": "0123456789ab"}')"
answer "removing a user who does not exist is 404" 404 'nobody: no such user' "$(call ian DELETE users/nobody)"
answer "an admin cannot remove themselves while signed in: 403" 403 'cannot remove yourself' \
	"$(call ian DELETE users/ian)"
answer "a password for a user who does not exist is 404" 404 'no such user' \
	"$(call ian POST users/nobody/password -H 'Content-Type: application/json' -d '{"password": "0123456789ab"}')"
answer "audit: a limit that is no number names the parameter" 400 '"limit: a whole number' \
	"$(call maria GET 'audit?limit=ten')"
answer "audit: from after to is refused" 400 '"from: after to' "$(call maria GET 'audit?from=20&to=10')"
answer "audit: a page of two, newest first, with the next page's start" 200 \
	'"more":true,"next_before":[0-9]+' "$(call maria GET 'audit?limit=2')"

node_tap "peers" peers.mjs "http://127.0.0.1:$WA"
check_out "MMS-310 +Maple Middle School +$MMS_FPR" "baton peer list shows the school pinned in the console" \
	"$BATON" peer list --dir "$L"
check_out "peer-add .*school MMS-310 .*fingerprint $MMS_FPR.* by ian$" "... audited as peer-add by ian" \
	"$BATON" audit --dir "$L"

# Maple changes its key: the new card is refused without the statement
# its old key signed, and taken with it.
check_out 'new fingerprint' "Maple rekeys" "$BATON" rekey --dir "$TMP/mms" --no-passphrase \
	--card-out "$TMP/mms2.card" --rotation-out "$TMP/mms2.rot"
run "$BATON" card --json --dir "$TMP/mms"
FPR2=$(jq -r .fingerprint "$OUT")
answer "the check says MMS-310 is pinned with another key" 200 '"same_key":false' \
	"$(call ian POST peers/check --data-binary "@$TMP/mms2.card")"
answer "a changed key without its rotation statement is refused" 400 'already pinned with a different key' \
	"$(call ian POST peers -H 'Content-Type: application/json' \
		-d "$(jq -n --arg c "$(base64 -w0 "$TMP/mms2.card")" --arg e "$FPR2" '{card: $c, expect: $e}')")"
answer "a rotation statement that is not one is refused" 400 '"rotation: not a rotation statement' \
	"$(call ian POST peers -H 'Content-Type: application/json' \
		-d "$(jq -n --arg c "$(base64 -w0 "$TMP/mms2.card")" --arg e "$FPR2" --arg r "$CARD64" '{card: $c, expect: $e, rotation: $r}')")"
node_tap "rotation" peers.mjs "http://127.0.0.1:$WA" rotate "$TMP/mms2.card" "$TMP/mms2.rot" "$FPR2"
check_out "peer-rotate .*school MMS-310 .*rotated from $MMS_FPR.* by ian$" "... audited as peer-rotate by ian" \
	"$BATON" audit --dir "$L"

node_tap "users" users.mjs "http://127.0.0.1:$WA"
check "baton user list no longer has joe" sh -c "! '$BATON' user list --dir '$L' | grep -q '^joe '"
"$BATON" audit --dir "$L" >"$TMP/audit.lhs"
check "joe's account was added by ian" grep -Eq 'user-add +joe registrar +by ian$' "$TMP/audit.lhs"
check "... and removed by ian" grep -Eq 'user-remove +joe +by ian$' "$TMP/audit.lhs"
check "joe's sign-in is his own" grep -Eq 'login +joe +by joe$' "$TMP/audit.lhs"

# A new password set by the admin works at once; the old one no longer does.
answer "the admin sets maria's password" 200 '"result":"password changed"' \
	"$(call ian POST users/maria/password -H 'Content-Type: application/json' -d '{"password": "maria'"'"'s new password"}')"
check "maria signs in with it" test "$(login maria "maria's new password")" != null
check "... not with the old one" test "$(login maria "$MARIA_PW")" = null
# An account removed at the command line while serve runs ends its sessions too.
TOK[maria]=$(login maria "maria's new password")
answer "maria's session works" 200 '"peers"' "$(call maria GET peers)"
check "maria is removed at the command line" "$BATON" user remove maria --dir "$L"
answer "... and her next call is 401" 401 'not logged in' "$(call maria GET peers)"

# Riverside's log is short enough for the rewriting tool (under 128
# entries). A few things done at the command line, then the registrar
# signs in and reads the log.
R=$TMP/ras
printf '[{"student_id": "S-%s", "identity": {"given_name": "Ada", "family_name": "Okafor", "birth_date": "2011-04-1%s"}},
{"student_id": "S-%s", "identity": {"given_name": "Ben", "family_name": "Okafor", "birth_date": "2012-05-1%s"}}]\n' \
	2 2 3 3 >"$TMP/two.json"
check "Riverside imports two students" "$BATON" student import "$TMP/two.json" --dir "$R"
check "the registrar links a parent to S-2" "$BATON" guardian link S-2 "$PK" --relation mother --dir "$R"
check "... and to S-3" "$BATON" guardian link S-3 "$PK" --relation mother --dir "$R"
node_tap "audit" audit.mjs "http://127.0.0.1:$WB"
check_out '^audit log verified' "the command line verifies the same log" "$BATON" audit verify --dir "$R"

# Someone who can write the store but holds no key deletes the record of a
# link and recomputes the chain, while serve is stopped.
serve_stop ras
check "the log is rewritten behind the node's back" "$BATON_AUDIT_REWRITE" "$R" guardian-link
check_exit 2 "the command line finds the rewrite" "$BATON" audit verify --dir "$R"
BAD=$(grep -Eo 'FAILED at entry [0-9]+' "$ERR" | grep -Eo '[0-9]+$')
check "... and names an entry" test -n "$BAD"
serve_start ras "$R" ras2.log || done_testing
wait_for 120 grep -q 'web: serving' "$TMP/ras2.log"
node_tap "audit after the rewrite" audit.mjs "http://127.0.0.1:$WB" broken "${BAD:-?}"

# Stopped in order, so that a sanitizer build reports leaks too.
check "serve of LHS stops" serve_stop lhs
check "serve of Riverside stops" serve_stop ras
check "no sanitizer report from either serve" sh -c \
	"! grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error' '$TMP/lhs.log' '$TMP/ras.log' '$TMP/ras2.log'"
done_testing
