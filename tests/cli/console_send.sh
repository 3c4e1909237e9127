#!/usr/bin/env bash
# The console's Send page, with two running schools: a parent's consent
# uploaded, every release rule's verdict, the send, and the receipt from the
# other school; consents that fail a rule (another student, another school,
# revoked, expired) keep Send disabled; a class's consents sent one by one
# with a progress bar. The API's answers to bad requests, with curl.
. "$(dirname "$0")/lib.sh"

export BATON_PASSPHRASE="a long enough passphrase" # the parent's key
console_schools || done_testing
L=$TMP/lhs
U=http://127.0.0.1:$WA

for s in S-1001 S-1002 S-1003; do
	check "LHS links the parent to $s" "$BATON" guardian link "$s" "$PK" --relation mother --dir "$L"
done
check "a third school, for a consent naming it" "$BATON" init --name "Oak Ridge School" \
	--code OAK-900 --dir "$TMP/oak" --no-passphrase
check "its card" "$BATON" card --dir "$TMP/oak" --out "$TMP/OAK-900.card"

# grant STUDENT TO FILE [ARGS...]: the parent consents, as README says.
grant() {
	local s=$1 to=$2 file=$3
	shift 3
	check "the parent signs $(basename "$file")" "$BATON" consent grant --key "$TMP/parent.key" \
		--student "$s" --from "$TMP/LHS-001.card" --to "$TMP/$to.card" --sections all \
		--yes --out "$file" "$@"
}
mkdir -p "$TMP/c" "$TMP/class"
grant S-1001 RAS-204 "$TMP/c/S-1001.consent"
grant S-1001 OAK-900 "$TMP/c/other-school.consent"
grant S-1002 RAS-204 "$TMP/c/other-student.consent"
grant S-1002 RAS-204 "$TMP/c/revoked.consent"
check "the parent revokes it" "$BATON" consent revoke --key "$TMP/parent.key" \
	"$TMP/c/revoked.consent" --out "$TMP/c/revoked.revocation"
# Valid for one day: expired for LHS's node restarted two days on, at the end.
grant S-1003 RAS-204 "$TMP/c/expired.consent" --expires 1d
grant S-1002 RAS-204 "$TMP/class/S-1002.consent"
grant S-1003 RAS-204 "$TMP/class/S-1003.consent"
grant S-1004 RAS-204 "$TMP/class/S-1004.consent" # the parent is not linked to S-1004

# ---- the API, with curl ----
# api NAME METHOD PATH [CURL-ARGS...]: body into $TMP/NAME.b; prints the status.
# Every request carries the session's token, but the one named nocsrf.
api() {
	local n=$1 m=$2 p=$3 tok=()
	shift 3
	[ "$n" = nocsrf ] || tok=(-H "X-CSRF-Token: ${CSRF:-}")
	curl -s -o "$TMP/$n.b" -w '%{http_code}' --max-time 60 -b "$TMP/jar" -X "$m" "${tok[@]}" "$U/api/v1/$p" "$@"
}
is() { # is DESC GOT WANT
	if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "got $2, expected $3" "$(cat "$TMP/${4:-}.b" 2>/dev/null)"; fi
}
json() { jq -r "$2" "$TMP/$1.b"; }
jq -n --arg u maria --arg p "$MARIA_PW" '{user: $u, password: $p}' >"$TMP/login.json"
check "maria signs in with curl" curl -s -f -c "$TMP/jar" -H 'Content-Type: application/json' \
	--data-binary @"$TMP/login.json" -o "$TMP/login.b" "$U/api/v1/session"
CSRF=$(jq -r .csrf "$TMP/login.b")
J=(-H 'Content-Type: application/json' -H "X-CSRF-Token: $CSRF")
b64() { base64 -w0 "$1"; }
body() { # body STUDENT TO FILE: a send's body with the consent file in base64
	jq -n --arg s "$1" --arg t "$2" --arg f "$(b64 "$3")" '{student: $s, to: $t, consent_file: $f}'
}

is "no CSRF token: 403" "$(api nocsrf POST send/check -H 'Content-Type: application/json' \
	-d "$(body S-1001 RAS-204 "$TMP/c/S-1001.consent")")" 403 nocsrf
is "no student: 400" "$(api nostudent POST send/check "${J[@]}" -d '{"to": "RAS-204", "consent": "00"}')" 400 nostudent
check "it names the field" grep -q '"error": *"student: ' "$TMP/nostudent.b"
is "no consent: 400" "$(api noconsent POST send/check "${J[@]}" -d '{"student": "S-1001", "to": "RAS-204"}')" 400 noconsent
check "it names the field" grep -q '"error": *"consent: ' "$TMP/noconsent.b"
is "a school not pinned: 400" "$(api noschool POST send/check "${J[@]}" \
	-d "$(body S-1001 XYZ-1 "$TMP/c/S-1001.consent")")" 400 noschool
check "it names the field and the code" grep -q 'to: no pinned school has the code XYZ-1' "$TMP/noschool.b"
is "a consent id not on file: 404" "$(api noid POST send/check "${J[@]}" \
	-d '{"student": "S-1001", "to": "RAS-204", "consent": "00112233445566778899aabbccddeeff"}')" 404 noid
check "it says so in words" grep -q 'consent: no consent 00112233445566778899aabbccddeeff on file' "$TMP/noid.b"
is "not base64: 400" "$(api nob64 POST send/check "${J[@]}" \
	-d '{"student": "S-1001", "to": "RAS-204", "consent_file": "%%%"}')" 400 nob64
check "it names the field" grep -q 'consent_file: not a file in base64' "$TMP/nob64.b"

is "the revocation is imported: 201" "$(api rev POST consents -H "X-CSRF-Token: $CSRF" \
	-H 'Content-Type: application/octet-stream' --data-binary @"$TMP/c/revoked.revocation")" 201 rev
check "as a revocation" grep -q '"type": *"revocation"' "$TMP/rev.b"
is "an empty upload: 400" "$(api empty POST consents -H "X-CSRF-Token: $CSRF" \
	-H 'Content-Type: application/octet-stream' --data-binary '')" 400 empty
printf 'not a consent' >"$TMP/junk"
is "a file that is no consent: 400" "$(api junk POST consents -H "X-CSRF-Token: $CSRF" \
	-H 'Content-Type: application/octet-stream' --data-binary @"$TMP/junk")" 400 junk
check "in words" grep -q 'not a consent or a revocation' "$TMP/junk.b"

is "another student's consent: 400" "$(api otherst POST send "${J[@]}" \
	-d "$(body S-1001 RAS-204 "$TMP/c/other-student.consent")")" 400 otherst
check "in words" grep -q 'the consent is for student S-1002, not S-1001' "$TMP/otherst.b"

# ---- the page ----
node_tap "send" send.mjs "$U" "$TMP"
P=$(cat "$TMP/packet" 2>/dev/null)
check "the page named the packet" test -n "$P"
check "LHS's outbox: the packet is receipted" wait_for 120 sh -c \
	"'$BATON' outbox --dir '$L' | grep '$P' | grep -q receipted"
check "RAS's inbox has S-1001's record" wait_for 60 sh -c "'$BATON' inbox --dir '$TMP/ras' | grep -q S-1001"
check_out "disclosure.*by maria|by maria.*disclosure" "the disclosure of S-1001 is audited by maria" \
	"$BATON" audit --student S-1001 --dir "$L"
check_out "consent-refused.*by maria|by maria.*consent-refused" "the page's refused checks are audited by maria" \
	"$BATON" audit --student S-1002 --dir "$L"
check_out "disclosure" "the class: S-1003 was disclosed" "$BATON" audit --student S-1003 --dir "$L"
check "the class: S-1004 was not" sh -c "! '$BATON' audit --student S-1004 --dir '$L' | grep -q disclosure"
check_out "S-1001 +valid" "baton consent list shows S-1001's consent" "$BATON" consent list --student S-1001 --dir "$L"
is "GET consents?student=S-1001 lists the same one" "$(api list GET 'consents?student=S-1001')" 200 list
same <("$BATON" consent list --student S-1001 --json --dir "$L" | jq -c .) <(jq -c . "$TMP/list.b") \
	"GET consents and 'baton consent list --json' agree"
C=$(json list '.[0].id')
is "the same consent again: 409" "$(api again POST send "${J[@]}" \
	-d "{\"student\": \"S-1001\", \"to\": \"RAS-204\", \"consent\": \"$C\"}")" 409 again
check "naming the packet and its state" grep -q "already sent to RAS-204 under this consent (packet $P, receipted)" "$TMP/again.b"

# ---- expiry: LHS's node two days on ----
serve_stop lhs
BATON_NOW=$(($(date +%s) + 2 * 86400)) serve_start lhs "$L" lhs2.log || done_testing
wait_for 120 grep -q 'web: serving' "$TMP/lhs2.log"
check "maria signs in again" curl -s -f -c "$TMP/jar" -H 'Content-Type: application/json' \
	--data-binary @"$TMP/login.json" -o "$TMP/login.b" "$U/api/v1/session"
CSRF=$(jq -r .csrf "$TMP/login.b")
J=(-H 'Content-Type: application/json' -H "X-CSRF-Token: $CSRF")
is "the expired consent is checked: 200" "$(api exp POST send/check "${J[@]}" \
	-d "$(body S-1003 RAS-204 "$TMP/c/expired.consent")")" 200 exp
is "not allowed" "$(json exp .allowed)" false
is "the validity rule fails, in words" "$(json exp '.rules[] | select(.rule == "validity") | .state + ": " + .why' | sed 's/valid from .* until .*: /…: /')" "failed: the consent is …: it has expired"
is "the other rules pass" "$(json exp '[.rules[] | select(.state != "passed")] | length')" 1
is "a send under it: 400" "$(api expsend POST send "${J[@]}" -d "$(body S-1003 RAS-204 "$TMP/c/expired.consent")")" 400 expsend
check "with the reason" grep -q 'it has expired' "$TMP/expsend.b"
done_testing
