#!/usr/bin/env bash
# The console under hostile HTTP: every API route (read from the route
# tables in node/web_*.c, so that a new route is covered as it is added)
# answers 401 without a session and 403 for a state change without the
# CSRF token; no path, plain or encoded, serves anything but an embedded
# asset; oversized and abandoned bodies leave no file; 1,000 idle
# connections, slow clients and header floods leave memory and descriptors
# bounded, a registrar on another address served, and the packet listener
# receipting; a session id is never taken from the client, and a cookie or
# token from elsewhere is refused.
. "$(dirname "$0")/lib.sh"

if ! command -v curl >/dev/null || ! command -v jq >/dev/null; then
	echo "ok 1 # SKIP curl or jq is not installed"
	done_testing
fi
tool BATON_WEBPEER webpeer || done_testing
export BATON_PASSPHRASE="a long enough passphrase" # the parent's key
A=$TMP/lhs B=$TMP/ras
free_ports 4 || done_testing
PA=$P0
PB=$((PA + 1)) WA=$((PA + 2)) WB=$((PA + 3))

# ---- two schools, each with its console; B receives ----
two_schools "$A" "$B" --no-passphrase
check "A listens on loopback" "$BATON" endpoint set "tcp://127.0.0.1:$PA" --dir "$A" --card-out "$TMP/LHS-001.card" --force
check "B listens on loopback" "$BATON" endpoint set "tcp://127.0.0.1:$PB" --dir "$B" --card-out "$TMP/RAS-204.card" --force
check "B takes A's card" "$BATON" peer update "$TMP/LHS-001.card" --dir "$B"
check "A takes B's card" "$BATON" peer update "$TMP/RAS-204.card" --dir "$A"
printf '%s\n' "maria's long password" >"$TMP/maria.pw"
printf '%s\n' "ian's long password" >"$TMP/ian.pw"
chmod 600 "$TMP/maria.pw" "$TMP/ian.pw"
for d in "$A:$WA" "$B:$WB"; do
	check "maria at ${d%:*}" "$BATON" user add maria --role registrar --password-file "$TMP/maria.pw" --dir "${d%:*}"
	check "ian at ${d%:*}" "$BATON" user add ian --role admin --password-file "$TMP/ian.pw" --dir "${d%:*}"
	check "console of ${d%:*}" "$BATON" web set --listen "127.0.0.1:${d##*:}" --dir "${d%:*}"
done
# Six minors, each with the parent's consent to go to B: one packet per attack.
jq -r '.[] | select(.identity.birth_date >= "2010") | .student_id' "$BATON_SRC/tests/data/school.json" |
	head -n 6 >"$TMP/minors"
mapfile -t KIDS <"$TMP/minors"
for s in "${KIDS[@]}"; do
	"$BATON" guardian link "$s" "$PK" --dir "$A" >/dev/null 2>&1 &&
		"$BATON" consent grant --key "$TMP/parent.key" --student "$s" --from "$TMP/LHS-001.card" \
			--to "$TMP/RAS-204.card" --sections all --yes --purpose Enrollment \
			--out "$TMP/$s.consent" >/dev/null 2>&1
done
check "six consents from the family" test "$(ls "$TMP"/*.consent 2>/dev/null | wc -l)" -eq 6
serve_start a "$A" serve-a.log || done_testing
serve_start b "$B" serve-b.log || done_testing
check "A serves its console" wait_for 120 grep -q 'web: serving' "$TMP/serve-a.log"
check "B serves its console" wait_for 120 grep -q 'web: serving' "$TMP/serve-b.log"
UA=http://127.0.0.1:$WA U=http://127.0.0.1:$WB
BPID=${SPID[b]}

# req NAME CURL-ARGS...: headers into $TMP/NAME.h, body into $TMP/NAME.b; prints the status.
req() {
	local n=$1
	shift
	curl -s -o "$TMP/$n.b" -D "$TMP/$n.h" -w '%{http_code}' --max-time 60 "$@"
}
is() { # is DESC GOT WANT
	if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "got $2, expected $3"; fi
}
J=(-H 'Content-Type: application/json')
# login NAME URL USER PASSWORD [CURL-ARGS...]: logs in; sets COOKIE and CSRF (empty on failure).
login() {
	local n=$1 url=$2 user=$3 pw=$4
	shift 4
	COOKIE='' CSRF=''
	[ "$(req "$n" "${J[@]}" -X POST --data-binary "{\"user\":\"$user\",\"password\":\"$pw\"}" \
		"$@" "$url/api/v1/session")" = 200 ] || return 1
	COOKIE=$(grep -oiE 'baton_session_[0-9]+=[0-9a-f]{64}' "$TMP/$n.h" | cut -d= -f2)
	CSRF=$(jq -r .csrf "$TMP/$n.b")
	[ -n "$COOKIE" ] && [ -n "$CSRF" ]
}
# Each user logs in from an address of their own: the attacks below come
# from 127.0.0.1 and others, and the failed-login throttle counts by address.
check "maria logs in at B" login mb "$U" maria "maria's long password" --interface 127.0.0.2
MC=$COOKIE MT=$CSRF
CA=baton_session_$WA CB=baton_session_$WB # each console's cookie is named by its port
check "ian logs in at B" login ib "$U" ian "ian's long password" --interface 127.0.0.2
IC=$COOKIE IT=$CSRF
check "maria logs in at A" login ma "$UA" maria "maria's long password" --interface 127.0.0.2
AC=$COOKIE AT=$CSRF

# ---- 1. every API route: no session, 401; no CSRF token (reads too), 403 ----
# The routes are read from the tables' source, '*' standing for one segment;
# the session's own routes are not in a table. The family's area
# (family/...) has a gate of its own, checked by family_api.sh and invite.sh.
{
	printf 'GET me\nDELETE me\nPOST me\nGET session\nDELETE session\n'
	sed -nE 's/^[[:space:]]*\{"(GET|POST|PUT|PATCH|DELETE)", *"([^"]+)".*/\1 \2/p' "$BATON_SRC"/node/web_*.c
} | grep -v ' family/' | sed 's/\*/x1/g' | sort -u >"$TMP/routes" # family/: its own gate, family_api.sh
check "the route list has the session's routes ($(wc -l <"$TMP/routes") in all)" test "$(wc -l <"$TMP/routes")" -ge 5
while read -r m p; do
	st=$(req r401 -X "$m" "${J[@]}" --data-binary '{}' "$U/api/v1/$p")
	is "$m /api/v1/$p without a session is 401" "$st" 401
	st=$(req r401c -X "$m" "${J[@]}" --data-binary '{}' -H "X-CSRF-Token: $MT" "$U/api/v1/$p")
	is "$m /api/v1/$p with a token but no cookie is 401" "$st" 401
	# Reads too: the cookie alone opens nothing (a browser sends it to every port).
	st=$(req r403 -X "$m" "${J[@]}" --data-binary '{}' -b "$CB=$MC" "$U/api/v1/$p")
	is "$m /api/v1/$p without X-CSRF-Token is 403" "$st" 403
	st=$(req r403i -X "$m" "${J[@]}" --data-binary '{}' -b "$CB=$IC" -H "X-CSRF-Token: $MT" "$U/api/v1/$p")
	is "$m /api/v1/$p with another session's token is 403" "$st" 403
done <"$TMP/routes"
is "an unknown API path without a session is 401, not 404" "$(req unk "$U/api/v1/no/such/thing")" 401
is "maria is still signed in" "$(req me0 -b "$CB=$MC" -H "X-CSRF-Token: $MT" "$U/api/v1/me")" 200
is "her cookie without her token opens nothing" "$(req me00 -b "$CB=$MC" "$U/api/v1/me")" 403
is "ian is still signed in" "$(req me1 -b "$CB=$IC" -H "X-CSRF-Token: $IT" "$U/api/v1/me")" 200

# ---- 2. paths: only the embedded assets, or an error ----
printf 'MARKER-IN-THE-NODE\n' >"$B/marker.txt"
printf 'MARKER-IN-TMP\n' >"$TMP/marker.txt"
long=$(head -c 5000 /dev/zero | tr '\0' 'a')
huge=$(head -c 100000 /dev/zero | tr '\0' 'a')
paths=(/../marker.txt /../../marker.txt /../../../../../../etc/passwd /%2e%2e/marker.txt
	/%2e%2e/%2e%2e/etc/passwd /..%2fmarker.txt /%2e%2e%2f%2e%2e%2fetc%2fpasswd /.%2e/marker.txt
	/%252e%252e/marker.txt /marker.txt /marker.txt%00 /marker.txt%00.js /app.js%00/../marker.txt
	/app.js%00 //etc/passwd //marker.txt /app.js/.. /app.js/../marker.txt /./app.js /ras/marker.txt
	"/$(basename "$B")/marker.txt" /api/v1/../../marker.txt /api/../marker.txt /index.html
	"/..\\marker.txt" "/%5c..%5cmarker.txt" "/$long" "/$long/../marker.txt" "/$huge")
assets_ok=1
for p in "${paths[@]}"; do
	st=$(req trav --path-as-is -b "$CB=$MC" "$U$p")
	what="GET ${p:0:40}$([ ${#p} -gt 40 ] && echo "... (${#p} bytes)")"
	if grep -Eq 'MARKER-IN|root:x:0:0' "$TMP/trav.b"; then
		fail "$what serves a file outside the assets" "status $st"
		assets_ok=0
		continue
	fi
	case $st in
	200)
		hit=''
		for f in "$BATON_SRC"/web/*; do cmp -s "$f" "$TMP/trav.b" && hit=$f; done
		if [ -n "$hit" ]; then pass "$what is $st, an embedded asset ($(basename "$hit"))"; else
			fail "$what is 200 with a body that is no asset"
			assets_ok=0
		fi
		;;
	404 | 400 | 403 | 405 | 414 | 431) pass "$what is $st" ;;
	000) pass "$what: the server closed the connection" ;;
	*) fail "$what is $st" "$(head -c 200 "$TMP/trav.b")" ;;
	esac
done
is "B still answers" "$(req me2 -b "$CB=$MC" -H "X-CSRF-Token: $MT" "$U/api/v1/me")" 200

# ---- 3. bodies: too big, without a session, abandoned ----
uploads() { find "$B" -maxdepth 1 -name '.upload-*' | wc -l; }
no_uploads() { test "$(uploads)" -eq 0; }
an_upload() { test "$(uploads)" -ge 1; }
head -c 100000000 /dev/zero >"$TMP/100mb"
is "a 100 MB body with a session is 413" \
	"$(req big -b "$CB=$MC" -H "X-CSRF-Token: $MT" -X POST --data-binary @"$TMP/100mb" "$U/api/v1/me")" 413
is "a 100 MB body without a session is 401" \
	"$(req big0 -X POST --data-binary @"$TMP/100mb" "$U/api/v1/me")" 401
is "a 100 MB chunked body with a session is 413" \
	"$(req bigc -b "$CB=$MC" -H "X-CSRF-Token: $MT" -H 'Transfer-Encoding: chunked' -X POST --data-binary @"$TMP/100mb" "$U/api/v1/me")" 413
sed -nE 's/^[[:space:]]*\{"(POST|PUT|PATCH)", *"([^"]+)", *[^,]*WEB_ROUTE_UPLOAD.*/\1 \2/p' "$BATON_SRC"/node/web_*.c |
	sed 's/\*/x1/g' | sort -u >"$TMP/upload-routes"
if [ ! -s "$TMP/upload-routes" ]; then
	echo "ok $((T + 1)) # SKIP no route of this build takes an upload (WEB_ROUTE_UPLOAD)"
	T=$((T + 1))
fi
while read -r m p; do
	is "$m /api/v1/$p: 100 MB with a session is 413" \
		"$(req up -b "$CB=$IC" -H "X-CSRF-Token: $IT" -X "$m" --data-binary @"$TMP/100mb" "$U/api/v1/$p")" 413
	check "and leaves no upload file" wait_for 60 no_uploads
	is "$m /api/v1/$p: 100 MB chunked with a session is 413" \
		"$(req upc -b "$CB=$IC" -H "X-CSRF-Token: $IT" -H 'Transfer-Encoding: chunked' -X "$m" --data-binary @"$TMP/100mb" "$U/api/v1/$p")" 413
	check "and leaves no upload file" wait_for 60 no_uploads
	head -c 4000000 /dev/zero >"$TMP/4mb"
	curl -s -o /dev/null --max-time 600 -X "$m" --data-binary @"$TMP/4mb" --limit-rate 200k "$U/api/v1/$p" &
	slow=$!
	sleep 2
	check "$m /api/v1/$p: an upload without a session writes no file" test "$(uploads)" -eq 0
	kill "$slow" 2>/dev/null
	wait "$slow" 2>/dev/null
	curl -s -o /dev/null --max-time 600 -b "$CB=$IC" -H "X-CSRF-Token: $IT" -X "$m" \
		--data-binary @"$TMP/4mb" --limit-rate 200k "$U/api/v1/$p" &
	slow=$!
	check "$m /api/v1/$p: an upload under way has its file" wait_for 60 an_upload
	kill "$slow" 2>/dev/null
	wait "$slow" 2>/dev/null
	check "$m /api/v1/$p: a client that leaves midway leaves no file" wait_for 120 no_uploads
done <"$TMP/upload-routes"
check "no upload file is left" test "$(uploads)" -eq 0
rm -f "$TMP/100mb"

# ---- 4. connections: idle, slow, floods ----
fds() { find "/proc/$BPID/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
rss() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$BPID/status"; }
FD0=$(fds) RSS0=$(rss)
N=0 # packets sent
receipted() { test "$("$BATON" outbox --json --dir "$A" | grep -c '"state": "receipted"')" -ge "$N"; }
# send_one: A sends the next of the six to B; it must be receipted.
send_one() {
	local s=${KIDS[N]}
	N=$((N + 1))
	"$BATON" send "$s" --to RAS-204 --consent "$TMP/$s.consent" --dir "$A" >/dev/null 2>&1
}
# attack NAME WEBPEER-ARGS...: webpeer against B in the background, its
# output in $TMP/NAME.out; waits until its connections are made.
attack() {
	local n=$1
	shift
	"$BATON_WEBPEER" "$@" >"$TMP/$n.out" 2>&1 &
	ATTACK=$!
	BG+=($ATTACK)
	wait_for 120 grep -q '^ready' "$TMP/$n.out"
}
# signed_in NAME FROM: maria's session answers /api/v1/me from address FROM.
signed_in() {
	[ "$(req "$1" --max-time 10 --interface "$2" -b "$CB=$MC" -H "X-CSRF-Token: $MT" "$U/api/v1/me")" = 200 ]
}
# served_during NAME FROM: maria is served from FROM before the attack ends
# (it lasts long enough that only a server that ends its connections passes).
served_during() {
	local t0=$EPOCHREALTIME
	while kill -0 "$ATTACK" 2>/dev/null; do
		if signed_in "$@" && kill -0 "$ATTACK" 2>/dev/null; then
			awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "(after %.1f s)", b - a }'
			return 0
		fi
		sleep 0.5
	done
	return 1
}

check "1,000 idle connections from 127.0.0.1" attack idle hold 127.0.0.1 "$WB" 1000 20 0 127.0.0.1
check "maria on another address is served meanwhile" signed_in me3 127.0.0.2
check "A sends a packet meanwhile" send_one
check "B receipts it meanwhile" wait_for 120 receipted
wait "$ATTACK"
check_out 'opened=1000 closed=(9[6-9][0-9]|1000) ' "the server kept at most 32 of them: $(tail -n 1 "$TMP/idle.out")" \
	tail -n 1 "$TMP/idle.out"

# Nine addresses, 32 each: more than the 256 connections the server takes in all.
FROM=(127.0.0.11 127.0.0.12 127.0.0.13 127.0.0.14 127.0.0.15 127.0.0.16 127.0.0.17 127.0.0.18 127.0.0.19)
check "288 idle connections from nine addresses" attack idle9 hold 127.0.0.1 "$WB" 288 60 0 "${FROM[@]}"
served_during me4 127.0.0.2 >"$TMP/waited"
rc=$?
check "maria on a tenth address is served again while they are held $(cat "$TMP/waited")" test "$rc" -eq 0
check "A sends a packet meanwhile" send_one
check "B receipts it meanwhile" wait_for 120 receipted
wait "$ATTACK"

check "32 slow clients (a byte a second) from 127.0.0.21" attack slow hold 127.0.0.1 "$WB" 32 45 1000 127.0.0.21
check "maria on another address is served meanwhile" signed_in me5 127.0.0.2
check "A sends a packet meanwhile" send_one
check "B receipts it meanwhile" wait_for 120 receipted
wait "$ATTACK"

# Slow clients from nine addresses: each is ended once it has been too long
# without a whole request, so they cannot hold every connection for good.
check "288 slow clients from nine addresses" attack slow9 hold 127.0.0.1 "$WB" 288 60 1000 "${FROM[@]}"
served_during me6 127.0.0.2 >"$TMP/waited"
rc=$?
check "maria on a tenth address is served again while they send $(cat "$TMP/waited")" test "$rc" -eq 0
check "A sends a packet meanwhile" send_one
check "B receipts it meanwhile" wait_for 120 receipted
wait "$ATTACK"
check_out 'opened=288 closed=288 open=0' "the server ended every slow client: $(tail -n 1 "$TMP/slow9.out")" \
	tail -n 1 "$TMP/slow9.out"

check_out '^closed after' "a body sent a byte a second is ended before it is whole" \
	"$BATON_WEBPEER" body 127.0.0.1 "$WB" 60 "$CB=$MC" "$MT"
diag <"$OUT"
check_out '^(431|413|400|closed)$' "10,000 headers are refused" "$BATON_WEBPEER" headers 127.0.0.1 "$WB" 10000 8
check_out '^(431|413|400|closed)$' "one header of 1 MB is refused" "$BATON_WEBPEER" headers 127.0.0.1 "$WB" 1 1000000
check_out '^(431|413|400|closed)$' "100 headers of 100 kB are refused" "$BATON_WEBPEER" headers 127.0.0.1 "$WB" 100 100000
check "A sends a packet after the floods" send_one
check "B receipts it" wait_for 120 receipted
check "maria is still signed in" signed_in me7 127.0.0.2

RSS1=$(rss)
check "B's memory is bounded: VmRSS $((RSS0 / 1024)) MiB before, $((RSS1 / 1024)) MiB after (at most 32 MiB more)" \
	test "$RSS1" -le $((RSS0 + 32768))
fds_back() { test "$(fds)" -le "$FD0"; }
check "B's descriptors return to the $FD0 it had before" wait_for 120 fds_back
check "B's serve still runs" kill -0 "$BPID"
check "the web server's own messages in B's log are bounded ($(count '^[^ ]+ web: ' "$TMP/serve-b.log") lines of web: in all)" \
	test "$(count 'connection limit|web: [0-9]+ more messages' "$TMP/serve-b.log")" -le 40

# ---- 5. sessions ----
FIX=$(printf 'f%.0s' $(seq 1 64))
check "a login with a cookie the client chose" login fix "$U" maria "maria's long password" \
	--interface 127.0.0.2 -b "$CB=$FIX"
check "gets a new session id, not the one it offered" test -n "$COOKIE" -a "$COOKIE" != "$FIX"
is "the chosen id is not a session" "$(req fix1 -b "$CB=$FIX" "$U/api/v1/me")" 401
is "the new one is" "$(req fix2 -b "$CB=$COOKIE" -H "X-CSRF-Token: $CSRF" "$U/api/v1/me")" 200
NC=$COOKIE NT=$CSRF
is "A's cookie at B is 401" "$(req cross -b "$CB=$AC" -H "X-CSRF-Token: $AT" "$U/api/v1/me")" 401
is "B's cookie at A is 401" "$(req cross2 -b "$CA=$MC" -H "X-CSRF-Token: $MT" "$UA/api/v1/me")" 401
is "A's cookie and token at B cannot log out" \
	"$(req cross3 -b "$CB=$AC" -H "X-CSRF-Token: $AT" -X DELETE "$U/api/v1/session")" 401
is "maria's first token with her second cookie is 403" \
	"$(req tok -b "$CB=$NC" -H "X-CSRF-Token: $MT" -X DELETE "$U/api/v1/session")" 403
is "maria's first session logs out" \
	"$(req out -b "$CB=$MC" -H "X-CSRF-Token: $MT" -X DELETE "$U/api/v1/session")" 200
is "its cookie is 401 afterwards" "$(req out1 -b "$CB=$MC" "$U/api/v1/me")" 401
is "its cookie and token cannot log out again" \
	"$(req out2 -b "$CB=$MC" -H "X-CSRF-Token: $MT" -X DELETE "$U/api/v1/session")" 401
is "her second session still works" "$(req out3 -b "$CB=$NC" -H "X-CSRF-Token: $NT" "$U/api/v1/me")" 200
is "a cookie of 63 digits is 401" "$(req short -b "$CB=${NC%?}" "$U/api/v1/me")" 401
is "a cookie of 65 digits is 401" "$(req long -b "$CB=${NC}0" "$U/api/v1/me")" 401

# A user holds at most 8 sessions: a ninth login ends that user's oldest, never another's.
# Sixteen logins leave the last eight (whatever she held before).
for i in $(seq 1 16); do
	login "s$i" "$U" maria "maria's long password" --interface 127.0.0.4 || fail "maria's login $i"
	SC[$i]=$COOKIE ST[$i]=$CSRF
done
is "the eighth of maria's sixteen sessions has ended" \
	"$(req cap8 -b "$CB=${SC[8]}" -H "X-CSRF-Token: ${ST[8]}" "$U/api/v1/me")" 401
is "the ninth works" "$(req cap9 -b "$CB=${SC[9]}" -H "X-CSRF-Token: ${ST[9]}" "$U/api/v1/me")" 200
is "ian's session is untouched by her logins" "$(req capi -b "$CB=$IC" -H "X-CSRF-Token: $IT" "$U/api/v1/me")" 200

# A user's failures count per address: failing from one address locks no one out elsewhere.
for i in 1 2 3 4 5; do
	req "lf$i" "${J[@]}" --interface 127.0.0.5 -X POST --data-binary "{\"user\":\"ian\",\"password\":\"guess $i\"}" \
		"$U/api/v1/session" >/dev/null
done
is "ian, failed five times from 127.0.0.5, is refused there" \
	"$(req lf6 "${J[@]}" --interface 127.0.0.5 -X POST --data-binary "{\"user\":\"ian\",\"password\":\"ian's long password\"}" "$U/api/v1/session")" 429
check "but logs in from 127.0.0.6" login lf7 "$U" ian "ian's long password" --interface 127.0.0.6

# A new password, set while serve runs, ends the account's sessions.
printf '%s\n' "maria's newer password" >"$TMP/maria2.pw"
chmod 600 "$TMP/maria2.pw"
is "maria's session works before" "$(req pw0 -b "$CB=${SC[9]}" -H "X-CSRF-Token: ${ST[9]}" "$U/api/v1/me")" 200
check "baton user passwd maria, while serve runs" "$BATON" user passwd maria --password-file "$TMP/maria2.pw" --dir "$B"
is "her session ends with the new password" \
	"$(req pw1 -b "$CB=${SC[9]}" -H "X-CSRF-Token: ${ST[9]}" "$U/api/v1/me")" 401
check "and she signs in with it" login pw2 "$U" maria "maria's newer password" --interface 127.0.0.4

check "B's serve stops" serve_stop b
# What an upload leaves when serve is killed midway goes at the next start.
printf 'a record\n' >"$B/.upload-Ab12Cd"
chmod 600 "$B/.upload-Ab12Cd"
serve_start b2 "$B" serve-b2.log || done_testing
check "an upload a killed serve left is removed at start" test ! -e "$B/.upload-Ab12Cd"
check "B's serve stops again" serve_stop b2
check "A's serve stops" serve_stop a
check "the log holds no cookie or token" sh -c "! grep -Eq \"$NC|$MC|$MT|$NT|${SC[9]}|${ST[9]}\" '$TMP/serve-b.log'"
"$BATON" audit --dir "$B" >"$TMP/audit"
check "the audit log names no refused request" sh -c "! grep -Eq 'x1|marker' '$TMP/audit'"
done_testing
