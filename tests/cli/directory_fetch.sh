#!/usr/bin/env bash
# 'baton directory update URL': a directory fetched over HTTP from a small
# server on loopback (tests/tools/httpfile), taken by the same rule as a
# file. Version 1, then version 2 put in its place, are taken; then each of
# these is refused with nothing stored and nothing audited: a 404, a body
# of 17 MiB (with and without a Content-Length), a server that stalls past
# the timeout, a redirect to file://, a directory with a byte flipped, an
# older version, a URL with a user name and password (which no message
# repeats), and plain http:// to another machine. Then 'baton serve'
# fetches from the URL pinned with the authority, every 2 s here
# (directory.conf): versions 3 and 4 are taken as they appear; a forged
# directory, a 404 and 17 MiB are each logged once, not taken, and serve
# keeps running and takes the next good one. Last, with the clock
# moved on (BATON_NOW), 'directory show' and serve's log warn of the
# directory expiring within 7 days, and say when it has expired.
. "$(dirname "$0")/lib.sh"

export BATON_PASSPHRASE="a long enough passphrase"
A=$TMP/lhs B=$TMP/ras W=$TMP/www
tool HTTPFILE httpfile || done_testing
free_ports 2 || done_testing
URL=http://127.0.0.1:$P0
mkdir -p "$W"

audit_len() { "$BATON" audit --json --dir "$A" | grep -c '"seq"'; }
state() { "$BATON" directory show --json --dir "$A" && audit_len; }

check "an authority" "$BATON" authority init --name "State Board of Education" --out "$TMP/auth"
KL=$(sed -n 's/^ *key  *//p' "$OUT") FP=$(sed -n 's/^ *fingerprint  *//p' "$OUT")
for n in "$A:Lincoln High School:LHS-001" "$B:Riverside Academy:RAS-204"; do
	IFS=: read -r dir name code <<<"$n"
	check "init $code" "$BATON" init --name "$name" --code "$code" \
		--endpoint "tcp://127.0.0.1:$((P0 + 1))" --dir "$dir"
	check "card of $code" "$BATON" card --dir "$dir" --out "$dir.card"
	check "the authority adds $code" "$BATON" authority add "$dir.card" \
		--expect "$(sed -n 's/^fingerprint //p' "$OUT")" --dir "$TMP/auth"
done
check "version 1" "$BATON" authority sign --expires 30d --out "$TMP/v1.dir" --dir "$TMP/auth"
check "version 2" "$BATON" authority sign --expires 30d --out "$TMP/v2.dir" --dir "$TMP/auth"
check "A pins the authority" "$BATON" directory trust "$KL" --expect "$FP" --name "State Board" --dir "$A"

"$HTTPFILE" "$P0" "$W" >"$TMP/http.log" 2>&1 &
BG+=($!)
check "the web server listens" wait_for 60 grep -q listening "$TMP/http.log"

# ---- taken ----
cp "$TMP/v1.dir" "$W/state.dir"
check_out 'Took version 1 of State Board.*2 schools.*2 added' "update URL takes version 1" \
	"$BATON" directory update "$URL/state.dir" --dir "$A"
check_out 'directory-update.*version 1: 2 added' "and audits it once" "$BATON" audit --dir "$A"
check_out 'no change' "the same URL again: no change" "$BATON" directory update "$URL/state.dir" --dir "$A"
cp "$TMP/v2.dir" "$W/state.dir"
check_out 'Took version 2 of State Board' "version 2 put in its place is taken" \
	"$BATON" directory update "$URL/state.dir" --dir "$A"
check_out 'RAS-204 .*directory: State Board' "B is trusted through it" "$BATON" peer list --dir "$A"

# ---- refused: nothing stored, nothing audited ----
S0=$(state)
refused() { # refused CODE DESCRIPTION REGEX URL
	check_err "$1" "$3" "$2" "$BATON" directory update "$4" --dir "$A"
	check "$2: nothing stored, nothing audited" test "$(state)" = "$S0"
}
refused 3 "a 404" "$URL/gone.dir: the server answered HTTP 404" "$URL/gone.dir"
refused 2 "17 MiB with no length" "$URL/big: longer than 16777216 bytes" "$URL/big"
refused 2 "17 MiB declared" "$URL/big-declared: longer than 16777216 bytes" "$URL/big-declared"
export BATON_FETCH_TIMEOUT=2
refused 3 "a server that stalls" "$URL/slow: .*[Tt]imed out" "$URL/slow"
unset BATON_FETCH_TIMEOUT
refused 3 "a redirect (to file://)" "$URL/redirect: the server answered HTTP 302" "$URL/redirect"
cp "$TMP/v2.dir" "$W/forged.dir"
flip "$W/forged.dir" $(($(stat -c %s "$W/forged.dir") / 2))
refused 2 "a byte flipped" "$URL/forged.dir: " "$URL/forged.dir"
cp "$TMP/v1.dir" "$W/old.dir"
refused 2 "an older version" 'version 1 is older than version 2 held' "$URL/old.dir"
check_err 2 "http://127.0.0.1:$P0/state.dir: a URL with a user name or password is refused" \
	"a URL with a user name and password" \
	"$BATON" directory update "http://registrar:hunter2secret@127.0.0.1:$P0/state.dir" --dir "$A"
check "whose password no message repeats" sh -c "! grep -q hunter2 '$ERR' '$OUT'"
check "a URL with a password: nothing stored, nothing audited" test "$(state)" = "$S0"
refused 2 "plain http:// to another machine" 'expected https://' "http://192.0.2.1/state.dir"
refused 2 "a scheme that is not fetched" 'not a URL this node can fetch' "http://[zz/state.dir"
check "A's audit log verifies" "$BATON" audit verify --dir "$A"

# ---- serve fetches on a schedule ----
check_err 2 'a URL with a user name or password is refused' "url refuses credentials" \
	"$BATON" directory url "$FP" "https://u:p@example.org/state.dir" --dir "$A"
check_out "serve fetches the directory of $FP from $URL/state.dir" "url sets where serve fetches" \
	"$BATON" directory url "$FP" "$URL/state.dir" --dir "$A"
check_out 'directory-url.*fetched from a URL' "and that is audited" "$BATON" audit --dir "$A"
check_out "fetched by serve from $URL/state.dir" "show says where" "$BATON" directory show --dir "$A"
echo "fetch-every 2s" >"$A/directory.conf"
check "version 3" "$BATON" authority sign --expires 30d --out "$W/state.dir.new" --dir "$TMP/auth"
mv "$W/state.dir.new" "$W/state.dir"
serve_start A "$A" fetch.log || done_testing
check "serve takes version 3 at start" wait_for 60 grep -q 'directory: took version 3 of State Board' "$TMP/fetch.log"
check_out 'version 3,' "and holds it" "$BATON" directory show --dir "$A"
check "version 4" "$BATON" authority sign --expires 30d --out "$W/state.dir.new" --dir "$TMP/auth"
cp "$W/state.dir.new" "$TMP/v4.dir"
mv "$W/state.dir.new" "$W/state.dir"
check "serve takes version 4 on schedule" wait_for 60 grep -q 'directory: took version 4 of State Board' "$TMP/fetch.log"
S0=$(state)
# mark: the failures logged so far, counted before the server's answer changes.
mark() { n0=$(grep -c 'trying again' "$TMP/fetch.log"); }
bad() { # bad DESCRIPTION REGEX: since mark, serve logged REGEX once, stored nothing, runs
	check "$1: logged" wait_for 60 grep -q "directory: State Board from [^ ]*: $2" "$TMP/fetch.log"
	sleep 5 # two more attempts at least, every 2 s
	check "$1: once, not at each attempt" test "$(grep -c 'trying again' "$TMP/fetch.log")" -eq $((n0 + 1))
	check "$1: nothing stored, nothing audited" test "$(state)" = "$S0"
	check "$1: serve still runs" kill -0 "${SPID[A]}"
}
mark
cp "$TMP/v4.dir" "$W/.new" # each answer put in place whole, never half-written
flip "$W/.new" $(($(stat -c %s "$W/.new") / 2))
mv "$W/.new" "$W/state.dir"
bad "a forged directory" "directory[^ ]*: "
cp "$TMP/v4.dir" "$W/.new" && mv "$W/.new" "$W/state.dir"
check "the good one again is logged as fetched again" wait_for 60 grep -q 'directory: State Board fetched again: version 4, no change' "$TMP/fetch.log"
mark
rm "$W/state.dir"
bad "a 404" "$URL/state.dir: the server answered HTTP 404"
mark
cp "$TMP/v1.dir" "$W/.new" && mv "$W/.new" "$W/state.dir"
bad "an older version" "version 1 is older than version 4 held"
mark
check "the URL moved to 17 MiB" "$BATON" directory url "$FP" "$URL/big" --dir "$A"
S0=$(state)
bad "17 MiB" "$URL/big: longer than 16777216 bytes"
check "serve stops" serve_stop A
check "A's audit log verifies after serve" "$BATON" audit verify --dir "$A"
check_out 'taken from files only' "url without URL stops the fetching" "$BATON" directory url "$FP" --dir "$A"

# ---- expiry warned about: version 5 expires in 8 days ----
check "version 5, for 8 days" "$BATON" authority sign --expires 8d --out "$TMP/v5.dir" --dir "$TMP/auth"
check_out 'Took version 5' "A takes it" "$BATON" directory update "$TMP/v5.dir" --dir "$A"
check "A imports the sample school" "$BATON" student import "$BATON_SRC/tests/data/school.json" --dir "$A"
check "a parent key, linked to S-1018" sh -c "'$BATON' guardian keygen --out '$TMP/p.key' >/dev/null &&
	'$BATON' guardian link S-1018 \"\$('$BATON' guardian pubkey '$TMP/p.key' | head -n1)\" --dir '$A'"
check "consent A -> B" "$BATON" consent grant --key "$TMP/p.key" --student S-1018 --from "$A.card" \
	--to "$B.card" --sections all --yes --out "$TMP/ab.consent"
check_out 'queued' "A queues a record for B, trusted through the directory" \
	"$BATON" send S-1018 --to RAS-204 --consent "$TMP/ab.consent" --dir "$A"
NOW=$(date +%s)
check_out 'version 5, .*expires 20' "show today: no warning" "$BATON" directory show --dir "$A"
check "nothing to warn of" sh -c "! grep -q warning '$OUT'"
export BATON_NOW=$((NOW + 2 * 86400))
check_out "warning: expires within 7 days; take a newer one with 'baton directory update'" \
	"show 2 days on warns of the expiry" "$BATON" directory show --dir "$A"
check_out '"expires_soon": true' "and --json says so" "$BATON" directory show --json --dir "$A"
echo "fetch-every 213503982334601d" >"$A/directory.conf"
serve_start A "$A" a.log || done_testing
check "serve says what is wrong in directory.conf, and runs" wait_for 60 grep -q \
	'directory.conf:1: "213503982334601d": from 1 s to 400 days; fetching every 6 hours' "$TMP/a.log"
check "serve's log warns of it" wait_for 60 grep -q \
	"directory: the directory of State Board ($FP) expires .*take a newer one" "$TMP/a.log"
check "serve stops" serve_stop A
export BATON_NOW=$((NOW + 9 * 86400))
EXP=$(date -u -d "@$((NOW + 8 * 86400))" +%Y-%m-%d)
check_out "\\(expired\\)" "show 9 days on says it expired" "$BATON" directory show --dir "$A"
check_out "warning: expired: its schools are trusted through it no more" "and warns" \
	"$BATON" directory show --dir "$A"
WHY="RAS-204 was trusted through State Board's directory, which expired $EXP; take a newer one with 'baton directory update'"
check_err 2 "$WHY" "send says why RAS-204 is trusted no more" \
	"$BATON" send S-1018 --again --to RAS-204 --consent "$TMP/ab.consent" --dir "$A"
serve_start A "$A" a2.log || done_testing
check "serve's log says it expired" wait_for 60 grep -q \
	"directory: the directory of State Board ($FP) expired $EXP" "$TMP/a2.log"
check "the outbox says why too" wait_for 60 sh -c "'$BATON' outbox --dir '$A' | grep -qF \"$WHY\""
check "serve stops" serve_stop A
unset BATON_NOW
check "A's audit log verifies at the end" "$BATON" audit verify --dir "$A"
done_testing
