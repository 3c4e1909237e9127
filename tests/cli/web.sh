#!/usr/bin/env bash
# The registrar's console: 'baton user' keeps its accounts (Argon2id
# passwords from a 0600 file or the terminal, each change audited), and
# 'baton serve --web' serves its page and its session API over loopback
# HTTP or over TLS: cookie flags, CSRF tokens, 401/403/413/429, idle expiry,
# the security headers on every answer; a non-loopback address without a
# certificate is refused at start; packets are still receipted while the
# web port is hammered.
. "$(dirname "$0")/lib.sh"

if ! command -v curl >/dev/null; then
	echo "ok 1 # SKIP curl is not installed"
	done_testing
fi
export BATON_PASSPHRASE="a long enough passphrase" # the parent's key
A=$TMP/lhs B=$TMP/ras
free_ports 4 || done_testing
PA=$P0
PB=$((PA + 1)) WB=$((PA + 2)) WT=$((PA + 3))

# ---- two schools that can send to each other, B with the console ----
for n in "$A:Lincoln High School:LHS-001:$PA" "$B:Riverside Academy:RAS-204:$PB"; do
	IFS=: read -r dir name code port <<<"$n"
	check "init $code" "$BATON" init --name "$name" --code "$code" \
		--endpoint "tcp://127.0.0.1:$port" --dir "$dir" --no-passphrase
	check "card of $code" "$BATON" card --dir "$dir" --out "$TMP/$code.card"
done
check "A pins B" "$BATON" peer add "$TMP/RAS-204.card" --dir "$A"
check "B pins A" "$BATON" peer add "$TMP/LHS-001.card" --dir "$B"
check "A imports the sample school" "$BATON" student import "$BATON_SRC/tests/data/school.json" --dir "$A"
check "the parent makes a key" "$BATON" guardian keygen --out "$TMP/parent.key"
run "$BATON" guardian pubkey "$TMP/parent.key"
PK=$(head -n1 "$OUT")
check "A links the parent" "$BATON" guardian link S-1018 "$PK" --dir "$A"
check "the parent consents" "$BATON" consent grant --key "$TMP/parent.key" --student S-1018 \
	--from "$TMP/LHS-001.card" --to "$TMP/RAS-204.card" --sections all --yes \
	--purpose "Enrollment" --out "$TMP/s.consent"

# ---- accounts ----
pwfile() { printf '%s\n' "$2" >"$TMP/$1"; chmod 600 "$TMP/$1"; }
pwfile alice.pw "alice's long password"
pwfile bob.pw "bob's long password"
pwfile short.pw "short"
pwfile empty.pw ""
pwfile new.pw "a brand new password"
printf 'readable password\n' >"$TMP/open.pw"
chmod 644 "$TMP/open.pw"

check_out '^Added alice \(registrar\)$' "user add alice as registrar" \
	"$BATON" user add alice --role registrar --password-file "$TMP/alice.pw" --dir "$B"
check_out '^Added bob \(admin\)$' "user add bob as admin" \
	"$BATON" user add bob --role admin --password-file "$TMP/bob.pw" --dir "$B"
check_err 1 'role "clerk": registrar or admin' "a bad role is refused" \
	"$BATON" user add carol --role clerk --password-file "$TMP/alice.pw" --dir "$B"
check_err 1 'user add: --role registrar\|admin is required' "a missing role is refused" \
	"$BATON" user add carol --password-file "$TMP/alice.pw" --dir "$B"
check_err 2 'user "alice" exists already' "a duplicate is refused" \
	"$BATON" user add alice --role admin --password-file "$TMP/bob.pw" --dir "$B"
check_err 2 'password: 10 to 256 characters' "a weak password is refused" \
	"$BATON" user add carol --role registrar --password-file "$TMP/short.pw" --dir "$B"
check_err 2 'password: 10 to 256 characters' "an empty password is refused" \
	"$BATON" user add carol --role registrar --password-file "$TMP/empty.pw" --dir "$B"
check_err 3 'open.pw' "a password file others can read is refused" \
	"$BATON" user add carol --role registrar --password-file "$TMP/open.pw" --dir "$B"
check_err 2 'user name "a b"' "a bad name is refused" \
	"$BATON" user add "a b" --role registrar --password-file "$TMP/alice.pw" --dir "$B"
check_err 1 'no password: give --password-file FILE' "without a file or a terminal there is no password" \
	"$BATON" user add carol --role registrar --dir "$B"
check_err 2 'no user "nobody"' "removing a missing user is refused" \
	"$BATON" user remove nobody --dir "$B"
check_err 2 'no user "nobody"' "changing a missing user's password is refused" \
	"$BATON" user passwd nobody --password-file "$TMP/new.pw" --dir "$B"
check "carol was never added" sh -c "! '$BATON' user list --dir '$B' | grep -q carol"
check_out '^bob +admin +[0-9-]+ [0-9:]+ UTC +never$' "user list shows bob, admin, never logged in" \
	"$BATON" user list --dir "$B"
check_out '"role": "registrar"' "user list --json" "$BATON" user list --json --dir "$B"
check "the list holds no hash" sh -c "! grep -q argon2 '$OUT'"
check_out '^Changed the password of bob$' "user passwd bob" \
	"$BATON" user passwd bob --password-file "$TMP/new.pw" --dir "$B"
check "user add carol" "$BATON" user add carol --role registrar --password-file "$TMP/alice.pw" --dir "$B"
check_out '^Removed carol$' "user remove carol" "$BATON" user remove carol --dir "$B"
check "carol is gone" sh -c "! '$BATON' user list --dir '$B' | grep -q carol"
check "no password is in the store in clear" sh -c "! grep -rqa \"alice's long password\" '$B'"
"$BATON" audit --dir "$B" >"$TMP/audit1"
check "the audit log has user-add" grep -Eq 'user-add +alice registrar' "$TMP/audit1"
check "the audit log has user-passwd" grep -Eq 'user-passwd +bob' "$TMP/audit1"
check "the audit log has user-remove" grep -Eq 'user-remove +carol' "$TMP/audit1"

# ---- refused settings ----
check_err 2 '0\.0\.0\.0:8443 is not a loopback address: plain HTTP is refused there' \
	"serve refuses a non-loopback --web without a certificate" \
	"$BATON" serve --web 0.0.0.0:8443 --dir "$B"
check_err 2 'is not a loopback address' "so does 'web set'" \
	"$BATON" web set --listen 10.1.2.3:8443 --dir "$B"
check_err 2 'port 1 to 65535' "a bad port is refused" "$BATON" serve --web 127.0.0.1:99999 --dir "$B"
check "nothing was written" test ! -e "$B/web.conf"

# ---- the console over loopback HTTP ----
# web_start NAME LOG ARGS...: serve for B with ARGS; waits until it listens.
web_start() {
	local name=$1 log=$2
	shift 2
	BATON_WEB_IDLE=3 "$BATON" serve --dir "$B" "$@" >/dev/null 2>"$TMP/$log" &
	SPID[$name]=$!
	BG+=($!)
	wait_for 120 grep -q 'serve: listening' "$TMP/$log" && return 0
	fail "serve of $name did not start" "$(cat "$TMP/$log")"
	return 1
}
U=http://127.0.0.1:$WB
# req NAME CURL-ARGS...: headers into $TMP/NAME.h, body into $TMP/NAME.b; prints the status.
req() {
	local n=$1
	shift
	curl -s -o "$TMP/$n.b" -D "$TMP/$n.h" -w '%{http_code}' --max-time 60 "$@"
}
# headers NAME: the security headers are all in $TMP/NAME.h.
headers() {
	grep -qi "^Content-Security-Policy: default-src 'none'; script-src 'self';.*frame-ancestors 'none'" "$TMP/$1.h" &&
		grep -qi '^X-Content-Type-Options: nosniff' "$TMP/$1.h" &&
		grep -qi '^Referrer-Policy: no-referrer' "$TMP/$1.h" &&
		grep -qi '^Cache-Control: no-store' "$TMP/$1.h"
}
is() { # is DESC GOT WANT
	if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "got $2, expected $3"; fi
}
login_json() { printf '{"user": "%s", "password": "%s"}' "$1" "$2"; }

web_start b serve-b.log --web "127.0.0.1:$WB" || done_testing
serve_start a "$A" serve-a.log || done_testing

is "GET / is the login page" "$(req page "$U/")" 200
check "it is HTML with a login form" grep -q "<form id=\"login-form\"" "$TMP/page.b"
check "it loads its script from /app.js, nothing inline" sh -c \
	"grep -q '<script src=\"/app.js\" defer></script>' '$TMP/page.b' && ! grep -q '<script>' '$TMP/page.b'"
check "the page has the security headers" headers page
is "GET /app.js" "$(req js "$U/app.js")" 200
check "it is JavaScript that posts to the session API" sh -c \
	"grep -qi '^Content-Type: text/javascript' '$TMP/js.h' && grep -q '/api/v1/session' '$TMP/js.b'"
is "GET /app.css" "$(req css "$U/app.css")" 200
is "an unknown path is 404" "$(req nf "$U/../../etc/passwd" --path-as-is)" 404
check "the 404 has the security headers" headers nf
is "GET /api/v1/me without a session is 401" "$(req me0 "$U/api/v1/me")" 401
check "the 401 says so in JSON" grep -qx '{"error":"not logged in"}' "$TMP/me0.b"
check "the 401 has the security headers" headers me0

J=(-H 'Content-Type: application/json')
is "alice logs in" "$(req login -c "$TMP/jar" "${J[@]}" -X POST --data-binary "$(login_json alice "alice's long password")" "$U/api/v1/session")" 200
check "the cookie is HttpOnly, SameSite=Strict, Path=/" grep -Eqi \
	"^Set-Cookie: baton_session_$WB=[0-9a-f]{64}; Path=/; HttpOnly; SameSite=Strict" "$TMP/login.h"
check "not Secure over plain HTTP" sh -c "! grep -qi '^Set-Cookie:.*Secure' '$TMP/login.h'"
check "the body holds a CSRF token" grep -Eq '"csrf":"[0-9a-f]{64}"' "$TMP/login.b"
check "the login has the security headers" headers login
CSRF=$(sed -E 's/.*"csrf":"([0-9a-f]{64})".*/\1/' "$TMP/login.b")
COOKIE=$(grep -oiE 'baton_session_[0-9]+=[0-9a-f]{64}' "$TMP/login.h" | cut -d= -f2)
is "/api/v1/me with the cookie alone is 403: a browser sends it to every port of the host" \
	"$(req me00 "$U/api/v1/me" -b "$TMP/jar")" 403
is "/api/v1/me with the cookie and the token" "$(req me "$U/api/v1/me" -b "$TMP/jar" -H "X-CSRF-Token: $CSRF")" 200
check "the answer does not hand out the token" sh -c "! grep -q csrf '$TMP/me.b'"
is "says alice, registrar, at Riverside" \
	"$(jq -r '[.user, .role, .school.name, .school.code] | join("|")' "$TMP/me.b")" \
	"alice|registrar|Riverside Academy|RAS-204"
is "a made-up cookie is 401" "$(req me1 "$U/api/v1/me" -b "baton_session_$WB=$(printf '%064d' 0)" -H "X-CSRF-Token: $CSRF")" 401

is "a POST without X-CSRF-Token is 403" "$(req nocsrf -b "$TMP/jar" -X POST "$U/api/v1/me")" 403
check "the 403 names the header" grep -qx '{"error":"X-CSRF-Token: missing or wrong"}' "$TMP/nocsrf.b"
check "the 403 has the security headers" headers nocsrf
is "a logout without X-CSRF-Token is 403" "$(req nocsrf2 -b "$TMP/jar" -X DELETE "$U/api/v1/session")" 403
# The token with its last digit changed.
case $CSRF in *0) BAD=${CSRF%?}1 ;; *) BAD=${CSRF%?}0 ;; esac
is "a wrong token is 403" "$(req badcsrf -b "$TMP/jar" -H "X-CSRF-Token: $BAD" -X DELETE "$U/api/v1/session")" 403
is "alice is still logged in" "$(req me2 "$U/api/v1/me" -b "$TMP/jar" -H "X-CSRF-Token: $CSRF")" 200

is "a wrong password is 401" "$(req wrong "${J[@]}" -X POST --data-binary "$(login_json alice "not alice's password")" "$U/api/v1/session")" 401
is "an unknown user is 401" "$(req unknown "${J[@]}" -X POST --data-binary "$(login_json mallory "alice's long password")" "$U/api/v1/session")" 401
same "$TMP/wrong.b" "$TMP/unknown.b" "both say the same"
check "which is the one message" grep -qx '{"error":"wrong user or password"}' "$TMP/wrong.b"
check "the 401 sets no cookie" sh -c "! grep -qi '^Set-Cookie' '$TMP/wrong.h'"
is "a field of the wrong type is 400" "$(req bad "${J[@]}" -X POST --data-binary '{"user": 1, "password": "x"}' "$U/api/v1/session")" 400
check "the error names the field" grep -qx '{"error":"user: a string is required"}' "$TMP/bad.b"
is "a login that is not JSON is 415" "$(req bad2 -X POST --data-binary 'user=alice' "$U/api/v1/session")" 415
check "the 415 names the header" grep -qx '{"error":"Content-Type: application/json is required"}' "$TMP/bad2.b"
is "a login sent as text/plain, as another site's form could, is 415" \
	"$(req bad3 -H 'Content-Type: text/plain' -X POST --data-binary "$(login_json alice "alice's long password")" "$U/api/v1/session")" 415
is "JSON that is not an object is 400" "$(req bad4 "${J[@]}" -X POST --data-binary '[1]' "$U/api/v1/session")" 400
head -c 70000 /dev/zero | tr '\0' 'a' >"$TMP/big"
is "a 70000-byte body is 413" "$(req big "${J[@]}" -X POST --data-binary @"$TMP/big" "$U/api/v1/session")" 413
check "the 413 has the security headers" headers big
is "the server still answers" "$(req me3 "$U/api/v1/me" -b "$TMP/jar" -H "X-CSRF-Token: $CSRF")" 200

is "bob logs in with his new password" "$(req bob -c "$TMP/jarb" "${J[@]}" -X POST --data-binary "$(login_json bob "a brand new password")" "$U/api/v1/session")" 200
check "bob is an admin" grep -q '"role":"admin"' "$TMP/bob.b"
is "alice logs out" "$(req out -b "$TMP/jar" -H "X-CSRF-Token: $CSRF" -X DELETE "$U/api/v1/session")" 200
check "the cookie is cleared" grep -Eqi "^Set-Cookie: baton_session_$WB=; Path=/;.*Max-Age=0" "$TMP/out.h"
is "after logout /api/v1/me is 401" "$(req me4 "$U/api/v1/me" -b "$TMP/jar" -H "X-CSRF-Token: $CSRF")" 401
sleep 4 # BATON_WEB_IDLE=3: bob's session has been idle longer
is "an idle session has expired" "$(req me5 "$U/api/v1/me" -b "$TMP/jarb" -H "X-CSRF-Token: $(jq -r .csrf "$TMP/bob.b")")" 401

# ---- repeated failures ----
for i in 1 2 3 4 5; do
	req f$i "${J[@]}" -X POST --data-binary "$(login_json bob "guess number $i")" "$U/api/v1/session" >/dev/null
done
is "after 5 failures bob is refused even with his password (429)" \
	"$(req lock "${J[@]}" -X POST --data-binary "$(login_json bob "a brand new password")" "$U/api/v1/session")" 429
check "the 429 has the security headers" headers lock
check "alice (another user) still logs in" test "$(req a2 -c "$TMP/jar" "${J[@]}" -X POST --data-binary "$(login_json alice "alice's long password")" "$U/api/v1/session")" = 200

# ---- packets are still receipted while the web port is hammered ----
seq 1 300 | xargs -P 100 -I{} curl -s -o /dev/null --max-time 60 \
	-H 'Content-Type: application/json' -X POST --data-binary '{"user":"x{}","password":"y"}' \
	"$U/api/v1/session" &
HAMMER=$!
BG+=($HAMMER)
check_out 'queued' "A sends S-1018 to B meanwhile" "$BATON" send S-1018 --to RAS-204 \
	--consent "$TMP/s.consent" --dir "$A"
receipted() { "$BATON" outbox --json --dir "$A" | grep -q '"state": "receipted"'; }
check "B receipts it while the web port is hammered" wait_for 120 receipted
wait "$HAMMER"
check_out S-1018 "B holds S-1018" "$BATON" inbox --dir "$B"
is "the console still answers" "$(req page2 "$U/")" 200
is "and the address that failed so often is now refused (429)" \
	"$(req lock2 "${J[@]}" -X POST --data-binary "$(login_json alice "alice's long password")" "$U/api/v1/session")" 429

check "B's serve stops" serve_stop b
check "the log has alice's login and logout" sh -c \
	"grep -q 'web: alice logged in from 127.0.0.1' '$TMP/serve-b.log' && grep -q 'web: alice logged out' '$TMP/serve-b.log'"
check "the log holds no password, cookie or token" sh -c \
	"! grep -Eq \"long password|brand new|$COOKIE|$CSRF\" '$TMP/serve-b.log'"
"$BATON" audit --dir "$B" >"$TMP/audit2"
check "the audit log has alice's login and logout" sh -c \
	"grep -Eq 'login +alice' '$TMP/audit2' && grep -Eq 'logout +alice' '$TMP/audit2'"
check "no failed login is in the audit log" sh -c "! grep -Eq 'mallory|x[0-9]+' '$TMP/audit2'"
check_out '^alice +registrar +.* UTC +[0-9-]+ [0-9:]+ UTC$' "user list shows alice's last login" \
	"$BATON" user list --dir "$B"

# ---- TLS with a self-signed certificate, from the node directory's settings ----
mkdir -p "$TMP/tls"
check_out 'web.crt' "web selfsigned makes a certificate" "$BATON" web selfsigned --out "$TMP/tls"
check "its key is 0600" test "$(stat -c %a "$TMP/tls/web.key")" = 600
check_err 3 'exists already' "selfsigned does not overwrite" "$BATON" web selfsigned --out "$TMP/tls"
check_err 2 'a certificate needs its key' "a certificate without its key is refused" \
	"$BATON" web set --listen "127.0.0.1:$WT" --cert "$TMP/tls/web.crt" --dir "$B"
check_out "https://127.0.0.1:$WT/" "web set with the certificate" "$BATON" web set \
	--listen "127.0.0.1:$WT" --cert "$TMP/tls/web.crt" --key "$TMP/tls/web.key" --dir "$B"
check_out "^listen 127.0.0.1:$WT$" "web show" "$BATON" web show --dir "$B"
web_start t serve-t.log || done_testing
T_U=https://127.0.0.1:$WT
is "over TLS alice logs in" "$(req tls -k -c "$TMP/jart" "${J[@]}" -X POST --data-binary "$(login_json alice "alice's long password")" "$T_U/api/v1/session")" 200
check "the cookie is Secure under TLS" grep -Eqi \
	"^Set-Cookie: baton_session_$WT=[0-9a-f]{64}; Path=/; HttpOnly; SameSite=Strict; Secure" "$TMP/tls.h"
is "and /api/v1/me works over TLS" "$(req tlsme -k "$T_U/api/v1/me" -b "$TMP/jart" -H "X-CSRF-Token: $(jq -r .csrf "$TMP/tls.b")")" 200
check "plain HTTP to the TLS port gets nothing" sh -c \
	"! curl -s --max-time 20 'http://127.0.0.1:$WT/api/v1/me' | grep -q error"
check "serve stops" serve_stop t
check "serve a stops" serve_stop a
done_testing
