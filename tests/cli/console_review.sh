#!/usr/bin/env bash
# The console's Review page: records that name a student on file but are
# not that child are held; the registrar compares them side by side in the
# browser and accepts one as the next version, files one as another
# student, rejects one. The API's error paths with curl. Each decision is
# checked through the command line: the queue, the student, the audit log
# (by maria).
. "$(dirname "$0")/lib.sh"

export BATON_PASSPHRASE="a long enough passphrase" # the parent's key
console_schools || done_testing

# held ID GIVEN FAMILY BIRTH: a record for LHS's import naming student ID.
held() {
	printf '{"student_id": "%s", "identity": {"given_name": "%s", "family_name": "%s", "birth_date": "%s"}}\n' \
		"$1" "$2" "$3" "$4"
}
held S-1001 Jonas Fitzgerald 2012-08-06 >"$TMP/h1.json"  # another given name
held S-1002 Diego Achterberg 2009-12-20 >"$TMP/h2.json"  # another birth date
held S-1003 Mariela Novak 2013-05-05 >"$TMP/h3.json"     # another child altogether
for i in 1 2 3; do
	check_out '1 held for review' "LHS holds the record of h$i.json for review" \
		"$BATON" student import "$TMP/h$i.json" --dir "$TMP/lhs"
done

# And one from RAS, sent on the parent's consent: another child under
# S-1004's statewide id, so that LHS holds it as a record naming S-1004.
printf '{"student_id": "S-500", "state_student_id": "ST-2686-5996", "identity": {"given_name": "Mina", "family_name": "Rossi", "birth_date": "2011-03-03"}}\n' >"$TMP/r500.json"
check "RAS has Mina Rossi as S-500" "$BATON" student import "$TMP/r500.json" --dir "$TMP/ras"
check "RAS links the parent to S-500" "$BATON" guardian link S-500 "$PK" --relation mother --dir "$TMP/ras"
check "the parent consents to S-500 going to LHS" "$BATON" consent grant --key "$TMP/parent.key" \
	--student S-500 --from "$TMP/RAS-204.card" --to "$TMP/LHS-001.card" --sections all --yes \
	--out "$TMP/r500.consent"
check "RAS seals S-500 for LHS" "$BATON" send S-500 --to LHS-001 --consent "$TMP/r500.consent" \
	--sections all --out "$TMP/r500.baton" --dir "$TMP/ras"
check_out 'Held .* for review as 4: not the child on file as S-1004' "LHS holds it for review" \
	"$BATON" import "$TMP/r500.baton" --dir "$TMP/lhs"

# api USER METHOD PATH [BODY [NOCSRF]]: one API call as USER at LHS; the
# status in $CODE, the answer in $OUT.
api() {
	local jar=$TMP/$1.jar pw tok data=()
	[ "$1" = maria ] && pw=$MARIA_PW || pw=$IAN_PW
	if [ ! -f "$jar.csrf" ]; then
		curl -s -c "$jar" -H 'Content-Type: application/json' \
			-d "{\"user\": \"$1\", \"password\": \"$pw\"}" "http://127.0.0.1:$WA/api/v1/session" |
			jq -r .csrf >"$jar.csrf"
	fi
	tok=$(cat "$jar.csrf")
	[ -z "${5:-}" ] || tok=""
	[ -z "${4:-}" ] || data=(-H 'Content-Type: application/json' --data "$4")
	OUT=$TMP/api.out
	CODE=$(curl -s -o "$OUT" -w '%{http_code}' -b "$jar" -X "$2" -H "X-CSRF-Token: $tok" \
		"${data[@]}" "http://127.0.0.1:$WA/api/v1/$3")
}
# api_is WANT_CODE RE DESC: the last call answered WANT_CODE, its body matching RE.
api_is() {
	if [ "$CODE" = "$1" ] && grep -Eq -- "$2" "$OUT"; then
		pass "$3"
	else
		fail "$3" "status $CODE, want $1" "$(cat "$OUT")"
	fi
}

api maria GET review
api_is 200 '"student": ?"S-1001"' "GET review lists the held records"
check "and says which fields differ, as baton review --json does" sh -c \
	"'$BATON' review --json --dir '$TMP/lhs' | jq -S '.[0]' >'$TMP/cli.json' &&
	 jq -S '.held[0]' '$OUT' >'$TMP/web.json' && cmp '$TMP/cli.json' '$TMP/web.json'"
api maria GET review/3
api_is 200 '"record":' "GET review/3 holds the record beside the one on file"
api maria GET review/99
api_is 404 '"error": ?"no held record 99"' "an unknown review number: 404 in words"
api maria GET review/abc
api_is 404 'a review number is a whole number' "a review number that is not one: 404 naming it"
api maria POST review/3/accept '{"as": 5}'
api_is 400 '"error": ?"as: ' "accept with an 'as' that is not text: 400 naming the field"
api maria POST review/3/accept '{"as": "../x"}'
api_is 400 '"error": ?"as: ' "accept as a malformed student id: 400 naming the field"
api maria POST review/3/reject '' nocsrf
api_is 403 'X-CSRF-Token' "a decision without the CSRF token: 403"
check_out '^3 +S-1003' "none of these decided record 3" "$BATON" review --dir "$TMP/lhs"

node_tap "review" review.mjs "http://127.0.0.1:$WA"

check_out 'Nothing is held for review' "the queue is empty afterwards" "$BATON" review --dir "$TMP/lhs"
check_out 'Jonas Fitzgerald' "S-1001 is now the accepted record" "$BATON" student show S-1001 --dir "$TMP/lhs"
check_out 'version 2' "as its next version" "$BATON" student show S-1001 --dir "$TMP/lhs"
check_out 'born 2009-12-19|2009-12-19' "S-1002 keeps its birth date (the held one was rejected)" \
	"$BATON" student show S-1002 --dir "$TMP/lhs"
check_out 'Mariela Novak' "the third is filed as a new student S-9003" "$BATON" student show S-9003 --dir "$TMP/lhs"
check_out 'Marisol' "and S-1003 is still Marisol" "$BATON" student show S-1003 --dir "$TMP/lhs"
check_out 'Mina Rossi' "RAS's record is filed as a new student S-9004" "$BATON" student show S-9004 --dir "$TMP/lhs"
check_out 'Min-jun' "and S-1004 is still Min-jun" "$BATON" student show S-1004 --dir "$TMP/lhs"
check_out 'review .*school RAS-204 .*packet .*accepted held record 4 as S-9004.* by maria' \
	"the filing of RAS's record is audited by maria, naming the school and the packet" \
	"$BATON" audit --student S-9004 --dir "$TMP/lhs"
check_out 'review .*accepted held record 1 as S-1001 version 2 .*by maria' \
	"the acceptance is audited by maria" "$BATON" audit --student S-1001 --dir "$TMP/lhs"
check_out 'review .*rejected held record 2.* by maria' "the rejection is audited by maria" \
	"$BATON" audit --student S-1002 --dir "$TMP/lhs"
check_out 'review .*accepted held record 3 as S-9003 .*not the child on file as S-1003.* by maria' \
	"the filing as another student is audited by maria" "$BATON" audit --student S-9003 --dir "$TMP/lhs"
check "the node's log names no student" sh -c "! grep -E 'Jonas|Mariela|Novak|Mina' '$TMP/lhs.log'"
api maria POST review/1/accept '{}'
api_is 404 'no held record 1' "a decided record cannot be decided again: 404"
done_testing
