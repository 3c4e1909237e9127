#!/usr/bin/env bash
# The demo with its consoles (baton-demo --web, make demo WEB=1): both
# schools serve their consoles on loopback, each printed as a line with its
# URL, user and a password made up for the run that signs in there (and is
# kept in no file); the parent's consent is left where the demo says; Ctrl-C
# (SIGINT) stops both serves cleanly: each exits 0, the demo exits 0, no
# process of it is left and its ports are closed.
. "$(dirname "$0")/lib.sh"

if ! command -v curl >/dev/null; then
	echo "ok 1 # SKIP curl is not installed"
	done_testing
fi
DEMO=${BATON_DEMO:-$(dirname "$(readlink -f "$BATON")")/baton-demo}
if [ ! -x "$DEMO" ]; then
	fail "the demo program is missing: $DEMO" "make builds it beside baton; \$BATON_DEMO names another"
	done_testing
fi

# The demo keeps its files in a directory of its own (it says which): gone with $TMP's.
DDIR=
trap 'for p in "${BG[@]}"; do kill -KILL "$p" 2>/dev/null; done
	case $DDIR in /tmp/baton-demo-*) rm -rf "$DDIR" ;; esac; rm -rf "$TMP"' EXIT

# gone PID: PID has ended (a zombie still answers kill -0).
gone() {
	! kill -0 "$1" 2>/dev/null || [ "$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null)" = Z ]
}

"$DEMO" --web "$BATON" >"$TMP/demo.out" 2>"$TMP/demo.err" &
DPID=$!
BG+=($DPID)
started() {
	grep -q '^Riverside Academy: http' "$TMP/demo.out" || gone "$DPID"
}
if wait_for 300 started && ! gone "$DPID"; then
	pass "the demo prints a line per school"
else
	fail "the demo prints a line per school" "$(tail -n 20 "$TMP/demo.out")" "$(cat "$TMP/demo.err")"
	done_testing
fi
DDIR=$(sed -n 's/^Baton demo, working in //p' "$TMP/demo.out")

# school_line NAME: URL and password of NAME's line into URL and PW.
school_line() {
	local re="^$1: (http://127\\.0\\.0\\.1:[0-9]+/)  user maria  password ([a-z0-9-]+)\$"
	local line
	line=$(grep -E "$re" "$TMP/demo.out")
	URL=$(sed -E "s|$re|\\1|" <<<"$line")
	PW=$(sed -E "s|$re|\\2|" <<<"$line")
	[ -n "$line" ]
}

# login NAME URL PASSWORD: a session at URL as maria, its cookie in $TMP/NAME.jar.
login() {
	run curl -s -o "$TMP/$1.login" -w '%{http_code}' -c "$TMP/$1.jar" \
		-H 'Content-Type: application/json' \
		--data-binary "{\"user\":\"maria\",\"password\":\"$3\"}" "${2}api/v1/session"
}

declare -A URLS PWS
for s in "Lincoln High School:LHS-001" "Riverside Academy:RAS-204"; do
	name=${s%%:*} code=${s#*:}
	if school_line "$name"; then
		pass "$name: its URL, user and password, on one line"
	else
		fail "$name: its URL, user and password, on one line" "$(cat "$TMP/demo.out")"
		continue
	fi
	URLS[$code]=$URL PWS[$code]=$PW
	login "$code" "$URL" "$PW"
	if [ "$(cat "$OUT")" = 200 ]; then
		pass "$name: maria signs in with the printed password"
	else
		fail "$name: maria signs in with the printed password" "status $(cat "$OUT")" "$(cat "$TMP/$code.login")"
	fi
	run curl -s -b "$TMP/$code.jar" -H "X-CSRF-Token: $(jq -r .csrf "$TMP/$code.login" 2>/dev/null)" "${URL}api/v1/me"
	if grep -q "\"name\":\"$name\"" "$OUT" && grep -q "\"code\":\"$code\"" "$OUT" &&
		grep -q '"role":"registrar"' "$OUT"; then
		pass "$name: GET /api/v1/me names the school and the registrar"
	else
		fail "$name: GET /api/v1/me names the school and the registrar" "$(cat "$OUT")"
	fi
	login "$code-wrong" "$URL" "not-the-printed-one"
	if [ "$(cat "$OUT")" = 401 ]; then
		pass "$name: another password is refused"
	else
		fail "$name: another password is refused" "status $(cat "$OUT")"
	fi
done
if [ -n "${PWS[LHS-001]:-}" ] && [ "${PWS[LHS-001]}" != "${PWS[RAS-204]:-}" ]; then
	pass "each school has a password of its own"
else
	fail "each school has a password of its own" "${PWS[*]}"
fi
if [ -n "$DDIR" ] && ! grep -rqF -e "${PWS[LHS-001]:-x}" -e "${PWS[RAS-204]:-x}" "$DDIR"; then
	pass "the passwords are in no file of the demo"
else
	fail "the passwords are in no file of the demo" "$(grep -rlF -e "${PWS[LHS-001]:-x}" -e "${PWS[RAS-204]:-x}" "$DDIR")"
fi

CONSENT=$(sed -n 's/^The parent.s consent, for S-1018 to go to Riverside Academy: //p' "$TMP/demo.out")
check_out 'S-1018' "the parent's consent is where the demo says" "$BATON" consent show "$CONSENT"

# ---- Ctrl-C ----
SERVES=$(ps -o pid= --ppid "$DPID" | tr -d ' ')
if [ "$(wc -w <<<"$SERVES")" = 2 ]; then
	pass "the demo runs two serves"
else
	fail "the demo runs two serves" "$(ps -o pid,args --ppid "$DPID")"
fi
kill -INT "$DPID"
if wait_for 120 gone "$DPID"; then
	wait "$DPID"
	RC=$?
else
	RC=timeout
fi
if [ "$RC" = 0 ]; then
	pass "after SIGINT the demo exits 0"
else
	fail "after SIGINT the demo exits 0" "exit $RC" "$(tail -n 5 "$TMP/demo.out")" "$(cat "$TMP/demo.err")"
fi
if grep -q '^Lincoln High School stopped\.$' "$TMP/demo.out" &&
	grep -q '^Riverside Academy stopped\.$' "$TMP/demo.out" && [ ! -s "$TMP/demo.err" ]; then
	pass "it says both schools stopped (each serve exited 0), and nothing went wrong"
else
	fail "it says both schools stopped (each serve exited 0), and nothing went wrong" \
		"$(tail -n 5 "$TMP/demo.out")" "$(cat "$TMP/demo.err")"
fi
left=
for p in $SERVES; do
	kill -0 "$p" 2>/dev/null && left="$left $p"
done
if [ -n "$SERVES" ] && [ -z "$left" ] && ! ps -eo args | grep -F -- "$DDIR/" | grep -qv grep; then
	pass "no process of the demo is left"
else
	fail "no process of the demo is left" "still running:$left" "$(ps -eo pid,args | grep -F -- "$DDIR/")"
fi
for f in lhs_log ras_log; do
	if grep -q 'serve: stopping' "$DDIR/$f"; then
		pass "$f: the serve stopped as asked"
	else
		fail "$f: the serve stopped as asked" "$(tail -n 5 "$DDIR/$f")"
	fi
done
for code in LHS-001 RAS-204; do
	run curl -s -o /dev/null --max-time 10 "${URLS[$code]:-http://127.0.0.1:1/}"
	if [ "$RC" = 7 ]; then
		pass "$code: its console's port is closed"
	else
		fail "$code: its console's port is closed" "curl exit $RC"
	fi
done

done_testing
