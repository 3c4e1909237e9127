#!/usr/bin/env bash
# The console's Files page, with two running schools: a record downloaded
# as a packet file under the parent's consent at Lincoln, imported from
# that file at Riverside with its receipt downloaded, and the receipt
# recorded at Lincoln; each step audited by the registrar who did it. The
# API's answers to files that are not what they claim, with curl. A request
# for a record made as a file at Riverside, imported and held at Lincoln.
. "$(dirname "$0")/lib.sh"

export BATON_PASSPHRASE="a long enough passphrase" # the parent's key
console_schools || done_testing
L=$TMP/lhs R=$TMP/ras

check "LHS links the parent to S-1001" "$BATON" guardian link S-1001 "$PK" --relation mother --dir "$L"
mkdir -p "$TMP/c"
check "the parent signs a consent for Riverside" "$BATON" consent grant --key "$TMP/parent.key" \
	--student S-1001 --from "$TMP/LHS-001.card" --to "$TMP/RAS-204.card" --sections all \
	--yes --out "$TMP/c/S-1001.consent"

# ---- the page ----
node_tap "files" files.mjs "http://127.0.0.1:$WA" "http://127.0.0.1:$WB" "$TMP"
check "the packet file was downloaded" test -s "$TMP/S-1001.baton"
check "the receipt was downloaded" test -s "$TMP/S-1001.receipt"
check_out "S-1001 +receipted" "LHS's outbox: the packet is receipted" "$BATON" outbox --dir "$L"
check_out "LHS-001 +S-1001" "RAS's inbox has S-1001's record" "$BATON" inbox --dir "$R"
is() { # is DESC GOT WANT [NAME]
	if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "got $2, expected $3" "$(cat "$TMP/${4:-}.b" 2>/dev/null)"; fi
}
is "RAS's inbox holds it once" "$("$BATON" inbox --json --dir "$R" | jq '[.[] | select(.student == "S-1001")] | length')" 1
check_out "disclosure.*by maria|by maria.*disclosure" "LHS audits the disclosure by maria" \
	"$BATON" audit --student S-1001 --dir "$L"
check_out "receipt.*by maria|by maria.*receipt" "LHS audits the receipt by maria" \
	"$BATON" audit --student S-1001 --dir "$L"
check_out "received.*by maria" "RAS audits the record received, by maria" \
	"$BATON" audit --student S-1001 --dir "$R"
check_out "from RAS-204 +student S-1001 +held" "LHS holds RAS's request for release" "$BATON" requests --dir "$L"
check_out "request +to LHS-001 +S-1001 +sent" "RAS's outbox: the request was sent as a file" "$BATON" outbox --dir "$R"
check_out "S-1001" "RAS has the record" "$BATON" student show S-1001 --dir "$R"

# ---- the API, with curl ----
# api SCHOOL NAME METHOD PATH [CURL-ARGS...]: body into $TMP/NAME.b; prints the status.
# Every request carries the school's session token, but the one named nocsrf.
api() {
	local s=$1 n=$2 m=$3 p=$4 tok=()
	shift 4
	[ "$n" = nocsrf ] || tok=(-H "X-CSRF-Token: $([ "$s" = "$WA" ] && echo "$CA" || echo "$CB")")
	curl -s -o "$TMP/$n.b" -w '%{http_code}' --max-time 60 -b "$TMP/jar$s" -X "$m" "${tok[@]}" \
		"http://127.0.0.1:$s/api/v1/$p" "$@"
}
jq -n --arg u maria --arg p "$MARIA_PW" '{user: $u, password: $p}' >"$TMP/login.json"
for s in "$WA" "$WB"; do
	check "maria signs in with curl at $s" curl -s -f -c "$TMP/jar$s" -H 'Content-Type: application/json' \
		--data-binary @"$TMP/login.json" -o "$TMP/login$s.b" "http://127.0.0.1:$s/api/v1/session"
done
CA=$(jq -r .csrf "$TMP/login$WA.b") CB=$(jq -r .csrf "$TMP/login$WB.b")
UA=(-H "X-CSRF-Token: $CA" -H 'Content-Type: application/octet-stream')
UB=(-H "X-CSRF-Token: $CB" -H 'Content-Type: application/octet-stream')
P=$("$BATON" outbox --json --dir "$L" | jq -r '.[] | select(.student == "S-1001") | .packet')

is "the packet downloads again: 200" "$(api "$WA" again GET "outbox/$P/packet")" 200 again
check "the same bytes as the file the page gave" cmp "$TMP/again.b" "$TMP/S-1001.baton"
check "baton outbox export gives the same packet" "$BATON" outbox export "$P" --out "$TMP/export.baton" --dir "$L"
check "byte for byte" cmp "$TMP/export.baton" "$TMP/S-1001.baton"
is "a packet not in the outbox: 404" "$(api "$WA" nopk GET "outbox/$(printf '0%.0s' {1..32})/packet")" 404 nopk
check "in words" grep -q 'no packet 0* in the outbox' "$TMP/nopk.b"
is "not a packet id: 400" "$(api "$WA" badid GET outbox/xyz/packet)" 400 badid
check "naming the field" grep -q '"error": *"packet' "$TMP/badid.b"
is "the receipt again from RAS's inbox: 200" "$(api "$WB" rcpt GET "inbox/$P/receipt")" 200 rcpt
check "the same receipt the page gave" cmp "$TMP/rcpt.b" "$TMP/S-1001.receipt"

is "no CSRF token: 403" "$(api "$WB" nocsrf POST files/import -H 'Content-Type: application/octet-stream' \
	--data-binary @"$TMP/S-1001.baton")" 403 nocsrf
is "the same packet again: 200" "$(api "$WB" replay POST files/import "${UB[@]}" --data-binary @"$TMP/S-1001.baton")" 200 replay
is "seen before" "$(jq -r .result "$TMP/replay.b")" "seen before" replay
check "with the same receipt" cmp <(jq -r .receipt "$TMP/replay.b" | base64 -d) "$TMP/S-1001.receipt"
is "nothing imported twice" "$("$BATON" inbox --json --dir "$R" | jq '[.[] | select(.student == "S-1001")] | length')" 1
is "received once at RAS" "$("$BATON" audit --student S-1001 --dir "$R" | grep -c ' received ')" 1

printf 'not a packet at all' >"$TMP/junk.baton"
is "a file that is not a packet: 400" "$(api "$WB" junk POST files/import "${UB[@]}" --data-binary @"$TMP/junk.baton")" 400 junk
check "naming the file" grep -q '"error": *"file: refused (' "$TMP/junk.b"
is "an empty file: 400" "$(api "$WB" empty POST files/import "${UB[@]}" --data-binary '')" 400 empty
check "naming the file" grep -q '"error": *"file: empty' "$TMP/empty.b"
before=$("$BATON" inbox --json --dir "$L" | jq length)
is "a packet for another school (LHS's own, for RAS) at LHS: 400" \
	"$(api "$WA" other POST files/import "${UA[@]}" --data-binary @"$TMP/S-1001.baton")" 400 other
check "in words" grep -q '"error": *"file: refused (' "$TMP/other.b"
is "nothing recorded at LHS" "$("$BATON" inbox --json --dir "$L" | jq length)" "$before"

is "a receipt for nothing sent from here (at RAS): 400" \
	"$(api "$WB" norc POST files/receipt "${UB[@]}" --data-binary @"$TMP/S-1001.receipt")" 400 norc
check "naming the file" grep -q '"error": *"file: ' "$TMP/norc.b"
is "RAS's outbox holds only the request" "$("$BATON" outbox --json --dir "$R" | jq length)" 1
is "a receipt that is not one: 400" \
	"$(api "$WA" junkrc POST files/receipt "${UA[@]}" --data-binary @"$TMP/junk.baton")" 400 junkrc
check "naming the file" grep -q '"error": *"file: ' "$TMP/junkrc.b"
is "the same receipt again at LHS: 200" \
	"$(api "$WA" rcagain POST files/receipt "${UA[@]}" --data-binary @"$TMP/S-1001.receipt")" 200 rcagain
is "still receipted" "$(jq -r .state "$TMP/rcagain.b")" receipted rcagain

printf '{"student": "S-1001", "to": "RAS-204", "consent_file": "%s", "as_file": "yes"}' \
	"$(base64 -w0 "$TMP/c/S-1001.consent")" >"$TMP/asfile.json"
is "as_file not a boolean: 400" "$(api "$WA" asfile POST send -H "X-CSRF-Token: $CA" \
	-H 'Content-Type: application/json' --data-binary @"$TMP/asfile.json")" 400 asfile
check "naming the field" grep -q '"error": *"as_file: ' "$TMP/asfile.b"
is "a request with no school: 400" "$(api "$WB" noreq POST requests -H "X-CSRF-Token: $CB" \
	-H 'Content-Type: application/json' -d '{"consent_file": "AAAA"}')" 400 noreq
check "naming the field" grep -q '"error": *"from: ' "$TMP/noreq.b"
is "a request with no consent: 400" "$(api "$WB" noc POST requests -H "X-CSRF-Token: $CB" \
	-H 'Content-Type: application/json' -d '{"from": "LHS-001"}')" 400 noc
check "naming the field" grep -q '"error": *"consent_file: ' "$TMP/noc.b"

# Under the sanitizers, a fault in a handler shows at the serve's end.
check "LHS's node stops cleanly" serve_stop lhs
check "RAS's node stops cleanly" serve_stop ras
check "neither node's log has a sanitizer report" sh -c \
	"! grep -E 'Sanitizer|runtime error' '$TMP/lhs.log' '$TMP/ras.log'"
done_testing
