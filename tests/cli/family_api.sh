#!/usr/bin/env bash
# The family's API (/api/v1/family, docs/api.md): a parent signs in with the
# guardian key on their own device (famsign stands for the device: it signs
# the login message of PROTOCOL.md 7.5 with a key file), sees the linked
# student's record and disclosures, grants a consent and revokes it. The
# hostile side: replayed and re-targeted login signatures, a consent's
# signature as a login and a login signature as a consent, keys not linked,
# restricted or unlinked while signed in, parent A asking for student B by
# every per-student route, a console session on family routes and the
# reverse, a missing token, and an eligible student whose parent no longer
# holds the rights. A real serving node over loopback, driven with curl.
. "$(dirname "$0")/lib.sh"

tool FAMSIGN famsign || done_testing
for c in curl jq; do
	if ! command -v "$c" >/dev/null; then
		echo "ok $((T + 1)) # SKIP $c missing (make deps)"
		T=$((T + 1))
		done_testing
	fi
done

A=$TMP/lhs
B=$TMP/ras
free_ports 3 || done_testing
p=$P0
PA=$p PB=$((p + 1)) WA=$((p + 2))
O=http://127.0.0.1:$WA
API=$O/api/v1

# ---- two schools, three students, the families' keys ----

for n in "$A:Lincoln High School:LHS-001:$PA" "$B:Riverside Academy:RAS-204:$PB"; do
	IFS=: read -r dir name code port <<<"$n"
	check "init $code" "$BATON" init --name "$name" --code "$code" --dir "$dir" --no-passphrase \
		--endpoint "tcp://127.0.0.1:$port"
	check "card of $code" "$BATON" card --dir "$dir" --out "$TMP/$code.card"
done
check "LHS pins RAS" "$BATON" peer add "$TMP/RAS-204.card" --dir "$A"
check "RAS pins LHS" "$BATON" peer add "$TMP/LHS-001.card" --dir "$B"

ADULT=$(date -u -d '-19 years' +%F)
printf 'a report card\n' >"$TMP/report.txt"
printf 'the other child'"'"'s report\n' >"$TMP/other.txt"
cat >"$TMP/records.json" <<EOF
[{"student_id": "S-1", "identity": {"given_name": "Ana", "family_name": "Ruiz", "birth_date": "2015-03-04"},
  "health": {"immunizations": [{"vaccine": "MMR", "date": "2016-04-01"}], "allergies": ["peanuts"], "conditions": []},
  "attachments": [{"name": "report.txt", "media_type": "text/plain", "section": "identity", "path": "report.txt"}]},
 {"student_id": "S-2", "identity": {"given_name": "Ben", "family_name": "Hall", "birth_date": "2014-05-06"},
  "attachments": [{"name": "other.txt", "media_type": "text/plain", "section": "identity", "path": "other.txt"}]},
 {"student_id": "S-3", "identity": {"given_name": "Cleo", "family_name": "Diaz", "birth_date": "$ADULT"}}]
EOF
check "LHS imports three students (S-3 is $ADULT: eligible)" "$BATON" student import "$TMP/records.json" --dir "$A"

# key NAME: a guardian key file $TMP/NAME.key (unencrypted: famsign reads it) and its line.
key() {
	check "the family makes key $1" "$BATON" guardian keygen --out "$TMP/$1.key" --no-passphrase
}
line() { head -n1 "$TMP/$1.key.pub"; }
for k in mother father stranger barred leaving cmother cself; do key "$k"; done
check "mother's key linked to S-1" "$BATON" guardian link S-1 "$TMP/mother.key.pub" --relation mother --dir "$A"
check "father's key linked to S-2" "$BATON" guardian link S-2 "$TMP/father.key.pub" --relation father --dir "$A"
check "a barred key linked to S-1, restricted" "$BATON" guardian link S-1 "$TMP/barred.key.pub" --relation father --restricted --dir "$A"
check "a key linked to S-1, to be unlinked" "$BATON" guardian link S-1 "$TMP/leaving.key.pub" --relation guardian --dir "$A"
check "S-3's mother linked" "$BATON" guardian link S-3 "$TMP/cmother.key.pub" --relation mother --dir "$A"
check "S-3's own key linked as self" "$BATON" guardian link S-3 "$TMP/cself.key.pub" --relation self --dir "$A"

MARIA_PW="maria's long password"
printf '%s\n' "$MARIA_PW" >"$TMP/maria.pw"
chmod 600 "$TMP/maria.pw"
check "a registrar at LHS" "$BATON" user add maria --role registrar --password-file "$TMP/maria.pw" --dir "$A"
check "LHS serves its web API on loopback" "$BATON" web set --listen "127.0.0.1:$WA" --dir "$A"
serve_start lhs "$A" lhs.log || done_testing
serve_start ras "$B" ras.log || done_testing
wait_for 120 grep -q 'web: serving' "$TMP/lhs.log"

# ---- HTTP ----

# req METHOD PATH [BODY] [HEADER...]: the request with $JAR's cookies and
# $CSRF, Origin $O; the answer's body in $TMP/body, its status in $CODE.
JAR=$TMP/none.jar CSRF="" ORIGIN=$O
req() {
	local m=$1 path=$2 body=${3:-}
	shift 3 2>/dev/null || shift $#
	local args=(-s -o "$TMP/body" -w '%{http_code}' -X "$m" -b "$JAR" -c "$JAR" -H "Origin: $ORIGIN")
	[ -n "$CSRF" ] && args+=(-H "X-CSRF-Token: $CSRF")
	[ -n "$body" ] && args+=(-H 'Content-Type: application/json' --data-binary "$body")
	for h in "$@"; do args+=(-H "$h"); done
	CODE=$(curl "${args[@]}" "$API/$path")
}

# expect CODE RE DESC METHOD PATH [BODY] [HEADER...]: the answer has status
# CODE and its body matches RE (an extended regular expression).
expect() {
	local want=$1 re=$2 desc=$3
	shift 3
	req "$@"
	if [ "$CODE" = "$want" ] && grep -Eq -- "$re" "$TMP/body"; then
		pass "$desc"
	else
		fail "$desc" "$1 $2: expected $want and a body matching $re" "got $CODE: $(head -c 400 "$TMP/body")"
	fi
}

# login_body KEY [SCHOOL_ID] [ORIGIN]: a fresh challenge signed by KEY
# (for that school's identity key and origin: by default this one's), as
# the JSON of POST family/session, in $TMP/login.json.
login_body() {
	local k=$1 ch n id sig
	ch=$(curl -s "$API/family/challenge")
	n=$(jq -r .nonce <<<"$ch")
	id=${2:-$(jq -r .school.id <<<"$ch")}
	sig=$("$FAMSIGN" "$TMP/$k.key" "$id" "${3:-$O}" "$n") || return 1
	jq -cn --arg k "$(line "$k")" --arg n "$n" --arg s "$sig" '{key: $k, nonce: $n, signature: $s}' >"$TMP/login.json"
}

# signin NAME: NAME's key signs in; its jar $TMP/NAME.jar, its token in $TMP/NAME.csrf.
signin() {
	login_body "$1" || return 1
	JAR=$TMP/$1.jar CSRF=""
	rm -f "$JAR"
	req POST family/session "$(cat "$TMP/login.json")"
	[ "$CODE" = 200 ] && jq -r .csrf "$TMP/body" >"$TMP/$1.csrf"
}

# as NAME: the requests that follow go with NAME's session.
as() { JAR=$TMP/$1.jar CSRF=$(cat "$TMP/$1.csrf" 2>/dev/null); }

# ---- the open routes ----

JAR=$TMP/none.jar CSRF=""
expect 200 '"nonce":"[0-9a-f]{64}"' "challenge: a nonce of 32 bytes" GET family/challenge
check "challenge: names this school, its fingerprint and identity key" \
	jq -e '.school.code == "LHS-001" and .school.name == "Lincoln High School" and (.school.fingerprint | test("^[A-Z2-7]{5}(-[A-Z2-7]{5}){4}$")) and (.school.id | test("^[0-9a-f]{64}$")) and .expires == 120 and .origin_hint == null' "$TMP/body"
run "$BATON" web hash
HASH=$(cat "$OUT")
check "baton web hash prints 64 hex digits" grep -Eqx '[0-9a-f]{64}' "$OUT"
expect 200 "\"bundle\":\"$HASH\"" "about: the bundle hash is what baton web hash prints" GET family/about

# ---- signing in ----

login_body mother
GOOD=$(cat "$TMP/login.json")
CODE=$(curl -s -o "$TMP/body" -w '%{http_code}' -H "Origin: $O" -H 'Content-Type: text/plain' --data-binary "$GOOD" "$API/family/session")
if [ "$CODE" = 415 ] && grep -q 'Content-Type' "$TMP/body"; then pass "a sign-in not sent as JSON is refused (415)"; else fail "a sign-in not sent as JSON is refused (415)" "got $CODE $(cat "$TMP/body")"; fi
ORIGIN=http://evil.example
req POST family/session "$GOOD"
ORIGIN=$O
if [ "$CODE" = 403 ] && grep -q '"error":"Origin' "$TMP/body"; then pass "a sign-in from another origin is refused (403 Origin)"; else fail "a sign-in from another origin is refused" "got $CODE $(cat "$TMP/body")"; fi
CODE=$(curl -s -o "$TMP/body" -w '%{http_code}' -H 'Content-Type: application/json' --data-binary "$GOOD" "$API/family/session")
if [ "$CODE" = 403 ] && grep -q 'Origin: missing' "$TMP/body"; then pass "a sign-in without Origin is refused (403)"; else fail "a sign-in without Origin is refused" "got $CODE $(cat "$TMP/body")"; fi
JAR=$TMP/mother.jar CSRF=""
expect 200 '"csrf":"[0-9a-f]{64}"' "the mother's key signs in" POST family/session "$GOOD"
jq -r .csrf "$TMP/body" >"$TMP/mother.csrf"
run "$BATON" guardian pubkey "$TMP/mother.key"
FP_MOTHER=$(sed -n 's/^fingerprint //p' "$OUT" "$ERR")
check "the answer names her key's fingerprint" jq -e --arg f "$FP_MOTHER" '.fingerprint == $f and $f != ""' "$TMP/body"
check "the session cookie is baton_family_PORT, HttpOnly" grep -Eq "#HttpOnly_127.0.0.1.*baton_family_$WA" "$TMP/mother.jar"
JAR=$TMP/replay.jar CSRF=""
expect 401 'nonce: unknown, used or expired' "the same signed nonce again is refused (replay)" POST family/session "$GOOD"

login_body mother "" "http://127.0.0.1:1"
expect 401 'signature: does not verify' "a signature made for another origin is refused" POST family/session "$(cat "$TMP/login.json")"
RAS_ID=$(jq -r '.[] | select(.code == "RAS-204") | .id' <(as mother; req GET family/schools; cat "$TMP/body"))
login_body mother "$RAS_ID"
JAR=$TMP/replay.jar CSRF=""
expect 401 'signature: does not verify' "a signature made for another school's fingerprint is refused" POST family/session "$(cat "$TMP/login.json")"

# A consent's signature (the last 64 bytes of the signed envelope) as a login signature.
check "the mother signs a consent with the CLI" "$BATON" consent grant --key "$TMP/mother.key" --student S-1 \
	--from "$TMP/LHS-001.card" --to "$TMP/RAS-204.card" --sections identity --purpose "enrolment" --out "$TMP/c1.bcs" --yes
login_body mother
CSIG=$(tail -c 64 "$TMP/c1.bcs" | od -An -v -tx1 | tr -d ' \n')
expect 401 'signature: does not verify' "a consent's signature presented as a sign-in is refused" POST family/session \
	"$(jq -c --arg s "$CSIG" '.signature = $s' "$TMP/login.json")"

login_body stranger
expect 403 'not linked to a student here' "a key linked to no student cannot sign in" POST family/session "$(cat "$TMP/login.json")"
login_body barred
expect 403 'not linked to a student here' "a key linked only restricted cannot sign in" POST family/session "$(cat "$TMP/login.json")"

# The nonce table is bounded: one client asking for challenges in a loop
# must not push out the nonce a parent is signing meanwhile.
login_body mother
curl -s --interface "127.0.0.$((2 + RANDOM % 200))" "$API/family/challenge?n=[1-1100]" >/dev/null
JAR=$TMP/flood.jar CSRF=""
expect 200 '"csrf":"[0-9a-f]{64}"' "a nonce being signed survives another client asking 1100 challenges" POST family/session "$(cat "$TMP/login.json")"

# ---- the gate ----

as mother
expect 200 '"students":\[\{"id":"S-1"' "me: the mother's session sees S-1" GET family/me
check "me: S-1 only, with her relation and the rights" jq -e '(.students | length) == 1 and .students[0].relation == "mother" and .students[0].rights == "holds" and .school.code == "LHS-001"' "$TMP/body"
CSRF=""
expect 403 'X-CSRF-Token' "a family request without its token is refused (403)" GET family/me
CSRF=0000000000000000000000000000000000000000000000000000000000000000
expect 403 'X-CSRF-Token' "a family request with a wrong token is refused (403)" GET family/me
as mother
expect 401 'not logged in' "a family session does not open a console route (students)" GET students
expect 401 'not logged in' "a family session does not open the console's me" GET me

JAR=$TMP/maria.jar CSRF=""
rm -f "$JAR"
req POST session "$(jq -cn --arg p "$MARIA_PW" '{user: "maria", password: $p}')"
CSRF=$(jq -r .csrf "$TMP/body")
expect 200 '"user":"maria"' "the registrar's console session works" GET me
expect 401 'not signed in' "a console session does not open family routes (me)" GET family/me
expect 401 'not signed in' "a console session does not open a student's family record" GET family/students/S-1
MARIA_CSRF=$CSRF

# Every family route, read from its table ('*' standing for one segment):
# none opens without a family session (but the open ones), a console
# session opens none, and a family cookie without its token opens none.
{
	echo "DELETE family/session"
	sed -nE 's/^[[:space:]]*\{"(GET|POST|PUT|PATCH|DELETE)", *"(family\/[^"]+)", *([^,]*),.*/\1 \2 \3/p' "$BATON_SRC"/node/web_*.c
} | sed 's/\*/x1/g' >"$TMP/routes"
check "the family's route table is read ($(wc -l <"$TMP/routes") routes)" test "$(wc -l <"$TMP/routes")" -ge 10
while read -r m p flags; do
	if [ "${flags:-}" = WEB_ROUTE_OPEN ]; then
		JAR=$TMP/none.jar CSRF=""
		req "$m" "$p" ""
		if [ "$CODE" != 401 ] && [ "$CODE" != 403 ]; then pass "$m $p is open ($CODE)"; else fail "$m $p is open" "got $CODE"; fi
		continue
	fi
	JAR=$TMP/none.jar CSRF=""
	expect 401 'not signed in' "$m $p without a session is 401" "$m" "$p" '{}'
	JAR=$TMP/maria.jar CSRF=$MARIA_CSRF
	expect 401 'not signed in' "$m $p with a console session and its token is 401" "$m" "$p" '{}'
	JAR=$TMP/mother.jar CSRF=""
	expect 403 'X-CSRF-Token' "$m $p with the family cookie but no token is 403" "$m" "$p" '{}'
done <"$TMP/routes"

# ---- what the mother sees ----

as mother
expect 200 '"id":"S-1"' "record: S-1 as the school holds it" GET family/students/S-1
check "record: every section on file, the sensitive ones too (FERPA 99.10)" \
	jq -e '.sections.identity.given_name == "Ana" and .sections.health.allergies[0] == "peanuts" and (.attachments | length) == 1 and .attachments[0].name == "report.txt" and .attachments[0].section == "identity"' "$TMP/body"
HASH1=$(jq -r '.attachments[0].hash' "$TMP/body")
req GET "family/students/S-1/attachments/$HASH1" ""
if [ "$CODE" = 200 ] && cmp -s "$TMP/body" "$TMP/report.txt"; then pass "attachment: the file downloads as stored"; else fail "attachment: the file downloads" "got $CODE"; fi
expect 200 '"code":"RAS-204"' "schools: the pinned peers a consent may name" GET family/schools

# ---- parent A asks for student B: every per-student route refused ----

run "$BATON" student show S-2 --json --dir "$A"
HASH2=$(jq -r '.. | objects | select(.name? == "other.txt") | .hash' "$OUT" | head -n1)
check "S-2's attachment has a hash" test -n "$HASH2"
as mother
expect 404 'student: not found' "A for B: the record is refused (404, as for no such student)" GET family/students/S-2
expect 404 'student: not found' "A for a student that does not exist: the same answer" GET family/students/S-404
expect 404 'not found' "A for B: B's attachment is refused" GET "family/students/S-2/attachments/$HASH2"
expect 404 'not found' "A for B: A's own attachment hash under B is refused" GET "family/students/S-2/attachments/$HASH1"
expect 404 'student: not found' "A for B: the disclosures are refused" GET family/students/S-2/disclosures
expect 404 'student: not found' "A for B: the requests are refused" GET family/students/S-2/requests
expect 404 'student: not found' "A for B: the consents are refused" GET family/students/S-2/consents
check "A signs a consent naming S-2" "$BATON" consent grant --key "$TMP/mother.key" --student S-2 \
	--from "$TMP/LHS-001.card" --to "$TMP/RAS-204.card" --sections identity --purpose "x" --out "$TMP/a-for-b.bcs" --yes
expect 404 'student: not found' "A for B: a consent naming B is refused" POST family/consents \
	"{\"consent\":\"$(od -An -v -tx1 "$TMP/a-for-b.bcs" | tr -d ' \n')\"}"
check "B's father signs a consent for S-2" "$BATON" consent grant --key "$TMP/father.key" --student S-2 \
	--from "$TMP/LHS-001.card" --to "$TMP/RAS-204.card" --sections identity --purpose "x" --out "$TMP/b.bcs" --yes
check "it is on file at LHS" "$BATON" consent import "$TMP/b.bcs" --dir "$A"
check "A signs a revocation of B's consent" "$BATON" consent revoke --key "$TMP/mother.key" "$TMP/b.bcs" --out "$TMP/a-revokes-b.brv"
expect 404 'consent: not found' "A for B: a revocation of B's consent is refused" POST family/revocations \
	"{\"revocation\":\"$(od -An -v -tx1 "$TMP/a-revokes-b.brv" | tr -d ' \n')\"}"
check_out 'valid' "B's consent stays valid" "$BATON" consent list --student S-2 --dir "$A"

# ---- a consent granted from the family's device, then sent and revoked ----

hexof() { od -An -v -tx1 "$1" | tr -d ' \n'; }
as mother
C1=$(hexof "$TMP/c1.bcs")
login_body mother
LSIG=$(jq -r .signature "$TMP/login.json")
expect 400 'consent: not a signed consent' "a login signature sent as a consent is refused (400)" POST family/consents "{\"consent\":\"$LSIG\"}"
head -c -64 "$TMP/c1.bcs" >"$TMP/c1-login.bcs"
printf '%s' "$LSIG" | perl -ne 'print pack("H*", $_)' >>"$TMP/c1-login.bcs"
expect 400 'consent: .*EBADSIG' "a consent carrying a login signature in place of its own is refused (400)" POST family/consents "{\"consent\":\"$(hexof "$TMP/c1-login.bcs")\"}"
expect 400 '"consent: not hexadecimal digits"' "garbage as a consent is refused, naming the field" POST family/consents '{"consent":"zz"}'
expect 400 '"consent: the signed object' "a body without the consent is refused, naming the field" POST family/consents '{"x":1}'
check "the father signs a consent for S-1 (not his child)" "$BATON" consent grant --key "$TMP/father.key" --student S-1 \
	--from "$TMP/LHS-001.card" --to "$TMP/RAS-204.card" --sections identity --purpose "x" --out "$TMP/f-for-a.bcs" --yes
expect 403 'signed by another key' "a consent signed by another key than the session's is refused" POST family/consents "{\"consent\":\"$(hexof "$TMP/f-for-a.bcs")\"}"
check_out '^No consents on file' "nothing refused was stored for S-1" "$BATON" consent list --student S-1 --dir "$A"
expect 201 '"status":"active"' "the mother's consent is taken (201)" POST family/consents "{\"consent\":\"$C1\"}"
C1ID=$(jq -r .id "$TMP/body")
check "the consent made for the family route verifies with baton consent show" "$BATON" consent show "$TMP/c1.bcs"
check_out "^$C1ID +S-1 +valid +to RAS-204" "baton consent list lists it" "$BATON" consent list --student S-1 --dir "$A"
expect 200 "\"id\":\"$C1ID\"" "consents: the family sees it" GET family/students/S-1/consents
check "consents: to RAS-204 by name and fingerprint, hers, its sections" \
	jq -e --arg f "$FP_MOTHER" '.[0].to.code == "RAS-204" and .[0].to.name == "Riverside Academy" and (.[0].to.fingerprint | length) == 29 and .[0].mine == true and .[0].signer == $f and .[0].sections == ["identity"]' "$TMP/body"

check "the registrar sends S-1 to RAS under it" "$BATON" send S-1 --to RAS-204 --consent "$TMP/c1.bcs" --dir "$A"
wait_for 60 sh -c "'$BATON' outbox --json --dir '$A' | grep -q receipted"
as mother
expect 200 '"to":\{"code":"RAS-204"' "disclosures: the release to RAS-204 is listed (99.32)" GET family/students/S-1/disclosures
check "disclosures: when, which sections, under which consent, who, the receipt" \
	jq -e --arg c "$C1ID" 'length == 1 and .[0].consent == $c and .[0].basis == "consent" and .[0].sections == ["identity"] and .[0].by == "command line" and .[0].receipt == "received" and (.[0].transfer | test("^[0-9a-f]+$")) and .[0].to.name == "Riverside Academy"' "$TMP/body"

check "the mother signs a revocation" "$BATON" consent revoke --key "$TMP/mother.key" "$TMP/c1.bcs" --out "$TMP/c1.brv"
expect 400 'revocation: not a signed revocation \(it is a consent\)' "a consent sent as a revocation is refused" POST family/revocations "{\"revocation\":\"$C1\"}"
expect 200 "\"consent\":\"$C1ID\",\"effective\":true" "the revocation takes effect at once" POST family/revocations "{\"revocation\":\"$(hexof "$TMP/c1.brv")\"}"
check_err 2 'EREVOKED' "baton send under the revoked consent is refused EREVOKED" \
	"$BATON" send S-1 --to RAS-204 --consent "$TMP/c1.bcs" --again --dir "$A"
expect 200 '"status":"revoked"' "consents: the family sees it revoked" GET family/students/S-1/consents

# ---- the eligible student: the rights are the student's ----

signin cmother || fail "S-3's mother signs in" "$(cat "$TMP/body")"
as cmother
expect 200 '"rights":"student"' "me: S-3's mother is told the student now holds the rights" GET family/me
for r in "" /disclosures /requests /consents; do
	expect 403 'the student now holds the rights' "S-3's mother: students/S-3$r is refused (403)" GET "family/students/S-3$r"
done
check "S-3's mother signs a consent" "$BATON" consent grant --key "$TMP/cmother.key" --student S-3 \
	--from "$TMP/LHS-001.card" --to "$TMP/RAS-204.card" --sections identity --purpose "x" --out "$TMP/cm.bcs" --yes
expect 403 'the student now holds the rights' "S-3's mother: her consent is refused (403)" POST family/consents "{\"consent\":\"$(hexof "$TMP/cm.bcs")\"}"
signin cself || fail "S-3 signs in with her own key" "$(cat "$TMP/body")"
as cself
expect 200 '"rights":"holds"' "me: the student's own key holds the rights" GET family/me
expect 200 '"given_name":"Cleo"' "the student sees her own record" GET family/students/S-3
check "the student signs her own consent" "$BATON" consent grant --key "$TMP/cself.key" --student S-3 --role student \
	--from "$TMP/LHS-001.card" --to "$TMP/RAS-204.card" --sections identity --purpose "college" --out "$TMP/cs.bcs" --yes
expect 201 '"status":"active"' "the student's consent is taken" POST family/consents "{\"consent\":\"$(hexof "$TMP/cs.bcs")\"}"

# ---- a session that outlives its key's link ----

signin leaving || fail "a guardian signs in" "$(cat "$TMP/body")"
as leaving
expect 200 '"id":"S-1"' "the guardian's session works" GET family/me
check "the registrar unlinks the key" "$BATON" guardian unlink S-1 "$TMP/leaving.key.pub" --dir "$A"
expect 401 'no longer linked' "the next request of that session is refused (401)" GET family/me
check "the registrar links it again" "$BATON" guardian link S-1 "$TMP/leaving.key.pub" --relation guardian --dir "$A"
expect 401 'not signed in' "the ended session stays ended" GET family/me
signin leaving || fail "the guardian signs in again" "$(cat "$TMP/body")"
as leaving
check "the registrar restricts the key" "$BATON" guardian link S-1 "$TMP/leaving.key.pub" --relation guardian --restricted --dir "$A"
expect 401 'no longer linked' "a session whose key was restricted is refused at its next request" GET family/me

# ---- signing out ----

as mother
expect 200 '"ok":true' "the mother signs out" DELETE family/session
expect 401 'not signed in' "her session is gone" GET family/me

# ---- throttling: bad sign-ins from one address ----

# Once an address has failed 3 times its failures wait a second; a sign-in
# that is not counted (a malformed body, a key not linked) must not wait,
# or a client could keep every web thread asleep without ever reaching 429.
SRC=127.0.0.$((2 + RANDOM % 200))
login_body mother
STALE=$(jq -c '.nonce = ("00" * 32)' "$TMP/login.json")
for i in 1 2 3; do
	curl -s -o /dev/null --interface "$SRC" -H "Origin: $O" -H 'Content-Type: application/json' --data-binary "$STALE" "$API/family/session"
done
login_body stranger
T0=$(date +%s%N)
for b in '{}' '{"key": "x"}' '[]' "$(cat "$TMP/login.json")"; do
	curl -s -o /dev/null --interface "$SRC" -H "Origin: $O" -H 'Content-Type: application/json' --data-binary "$b" "$API/family/session"
done
MS=$((($(date +%s%N) - T0) / 1000000))
check "after 3 failures, sign-ins that do not count (malformed, a key not linked) do not wait (${MS} ms)" test "$MS" -lt 2000

login_body mother
BAD=$(jq -c '.signature = ("00" * 64)' "$TMP/login.json")
JAR=$TMP/none.jar CSRF=""
n=0
while [ "$n" -lt 25 ]; do
	req POST family/session "$BAD"
	[ "$CODE" = 429 ] && break
	n=$((n + 1))
done
if [ "$CODE" = 429 ] && grep -q 'too many' "$TMP/body"; then pass "failed sign-ins from one address are throttled (429 after $n)"; else fail "failed sign-ins are throttled" "got $CODE after $n"; fi

check "no audit entry names a refused consent for S-2" sh -c "! '$BATON' audit --student S-2 --json --dir '$A' | grep -q 'family'"
serve_stop lhs
serve_stop ras
done_testing
