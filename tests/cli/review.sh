#!/usr/bin/env bash
# A record that names a student on file but is not that child is held for
# review, never made current: from a pinned school under a statewide id
# already on file, and from the registrar's own import. The registrar
# accepts it (as the student it names, or as another) or rejects it. Ids
# with a space at either end, long ids cut by the receiver, and a file that
# repeats an id are refused or kept apart.
. "$(dirname "$0")/lib.sh"

export BATON_PASSPHRASE="a long enough passphrase"
A=$TMP/lhs B=$TMP/ras C=$TMP/oth

for n in "$A:Lincoln High School:LHS-001" "$B:Riverside Academy:RAS-204" "$C:Oak Hill School:OTH-9"; do
	IFS=: read -r dir name code <<<"$n"
	check "init $code" "$BATON" init --name "$name" --code "$code" --dir "$dir"
	check "card of $code" "$BATON" card --dir "$dir" --out "$TMP/$code.card"
done
check "A pins B" "$BATON" peer add "$TMP/RAS-204.card" --dir "$A"
check "B pins A" "$BATON" peer add "$TMP/LHS-001.card" --dir "$B"
check "B pins C" "$BATON" peer add "$TMP/OTH-9.card" --dir "$B"
check "C pins B" "$BATON" peer add "$TMP/RAS-204.card" --dir "$C"

# rec ID STATE GIVEN FAMILY BIRTH [CONDITION]: one record, with a health section.
rec() {
	local state=""
	[ -z "$2" ] || state="\"state_student_id\": \"$2\", "
	printf '{"student_id": "%s", %s"identity": {"given_name": "%s", "family_name": "%s", "birth_date": "%s"}, "health": {"immunizations": [], "allergies": [], "conditions": ["%s"]}}\n' \
		"$1" "$state" "$3" "$4" "$5" "${6:-none}"
}
# show_field DIR ID FIELD: a field of a student's current record, from --json.
show_field() {
	"$BATON" student show "$2" --json --dir "$1" | sed -n "s/^ *\"$3\": \"\(.*\)\",*$/\1/p" | head -n1
}
check "the parent makes a key" "$BATON" guardian keygen --out "$TMP/parent.key"
run "$BATON" guardian pubkey "$TMP/parent.key"
PK=$(head -n1 "$OUT")

# --- A pinned school sends another child under a statewide id on file ---
rec S-1018 ST-77 Ife Bello 2010-02-02 asthma >"$TMP/b1018.json"
check "B has Ife Bello on file as S-1018 (ST-77)" "$BATON" student import "$TMP/b1018.json" --dir "$B"
rec S-1 ST-77 Zed Mallory 2011-09-09 diabetes >"$TMP/a1.json"
check "A has Zed Mallory as S-1, under the same statewide id" "$BATON" student import "$TMP/a1.json" --dir "$A"
check "A links the parent to S-1" "$BATON" guardian link S-1 "$PK" --relation father --dir "$A"
check "the parent consents to S-1 going to B, health included" "$BATON" consent grant \
	--key "$TMP/parent.key" --student S-1 --from "$TMP/LHS-001.card" --to "$TMP/RAS-204.card" \
	--sections all,health --yes --out "$TMP/a1.consent"
check "A seals S-1 for B" "$BATON" send S-1 --to RAS-204 --consent "$TMP/a1.consent" \
	--sections all,health --out "$TMP/a1.baton" --dir "$A"
run "$BATON" student show S-1018 --json --dir "$B"
grep -v held_for_review "$OUT" >"$TMP/b1018.before"
check_out 'Held .* for review as 1: not the child on file as S-1018' \
	"B holds the packet for review, naming the student on file" \
	"$BATON" import "$TMP/a1.baton" --receipt-out "$TMP/a1.receipt" --dir "$B"
run "$BATON" student show S-1018 --json --dir "$B"
grep -v held_for_review "$OUT" >"$TMP/b1018.after"
same "$TMP/b1018.before" "$TMP/b1018.after" "B's S-1018 is unchanged: same record, same version"
check "B's current S-1018 is Ife Bello" test "$(show_field "$B" S-1018 family_name)" = Bello
check_out 'held for review' "student show says a record is held for review" \
	"$BATON" student show S-1018 --dir "$B"
check_out '^1 +S-1018 +from LHS-001 .*held: Zed Mallory 2011-09-09' "baton review lists it" \
	"$BATON" review --dir "$B"
check_out '"student": "S-1018"' "baton review --json lists it" "$BATON" review --json --dir "$B"
check_out '^\* given_name +Ife +Zed' "review show sets the names side by side" \
	"$BATON" review show 1 --dir "$B"
check_out '^\* birth_date +2010-02-02 +2011-09-09' "and the birth dates" \
	"$BATON" review show 1 --dir "$B"
check_out '^  state_student_id +ST-77 +ST-77' "and marks what does not differ" \
	"$BATON" review show 1 --dir "$B"
check_out 'LHS-001 .*accepted .*held for review' "B's inbox says held for review" \
	"$BATON" inbox --dir "$B"
check_out '"note": "held for review"' "and so does its JSON" "$BATON" inbox --json --dir "$B"
check_out 'held for review' "the receipt says held for review" \
	"$BATON" receipt import "$TMP/a1.receipt" --dir "$A"
check_out 'received .*held for review as 1' "B's audit log records the arrival as held" \
	"$BATON" audit --student S-1018 --dir "$B"
check_out 'Already imported' "the packet again is a replay" "$BATON" import "$TMP/a1.baton" --dir "$B"
run "$BATON" review --json --dir "$B"
check "and holds nothing more" test "$(grep -c '"id":' "$OUT")" -eq 1

# A later consented send from B discloses Ife Bello, not Zed Mallory.
check "B links the parent to S-1018" "$BATON" guardian link S-1018 "$PK" --relation mother --dir "$B"
check "the parent consents to S-1018 going to C, health included" "$BATON" consent grant \
	--key "$TMP/parent.key" --student S-1018 --from "$TMP/RAS-204.card" --to "$TMP/OTH-9.card" \
	--sections all,health --yes --out "$TMP/b1018.consent"
check "B seals S-1018 for C" "$BATON" send S-1018 --to OTH-9 --consent "$TMP/b1018.consent" \
	--sections all,health --out "$TMP/b1018.baton" --dir "$B"
check_out 'as S-1018, version 1' "C imports it" "$BATON" import "$TMP/b1018.baton" --dir "$C"
check "C received Ife Bello" test "$(show_field "$C" S-1018 family_name)" = Bello
check "and Ife's health, not Zed's" sh -c "'$BATON' student show S-1018 --json --dir '$C' | grep -q asthma && ! '$BATON' student show S-1018 --json --dir '$C' | grep -q diabetes"

# Accepted as another student: Zed gets his own id; Ife stays as she is.
check_err 1 'not a review number' "a review number must be a number" "$BATON" review accept x --dir "$B"
check_err 2 'no held record 9' "an unknown review number is refused" "$BATON" review accept 9 --dir "$B"
check_err 2 'S-1018 on file is not this child' "--as the student it names is refused" \
	"$BATON" review accept 1 --as S-1018 --dir "$B"
check_out 'Held record 1 is now S-2001 version 1 .a new student.' \
	"B accepts it as a new student S-2001" "$BATON" review accept 1 --as S-2001 --dir "$B"
check "and says the statewide id stays with S-1018" grep -q 'statewide id, which stays with S-1018' "$OUT"
check "S-2001 is Zed Mallory" test "$(show_field "$B" S-2001 family_name)" = Mallory
check "the statewide id ST-77 stays with S-1018" test "$(show_field "$B" S-1018 state_student_id)" = ST-77
check "S-2001 is filed without it" test -z "$(show_field "$B" S-2001 state_student_id)"
check "S-1018 is still Ife Bello" test "$(show_field "$B" S-1018 family_name)" = Bello
check_out 'Nothing is held for review' "the queue is empty" "$BATON" review --dir "$B"
check_out 'review .*accepted held record 1 as S-2001' "the decision is audited" \
	"$BATON" audit --dir "$B"

# --- The registrar's own import ---
rec S-1018 ST-77 Ifeoluwa Bello 2010-02-02 asthma >"$TMP/b1018-name.json"
check_out '1 held for review' "an import of S-1018 with another given name is held" \
	"$BATON" student import "$TMP/b1018-name.json" --dir "$B"
check "S-1018 is still Ife" test "$(show_field "$B" S-1018 given_name)" = Ife
check_out 'Held record 2 is now S-1018 version 2' "accepted, it becomes S-1018's next version" \
	"$BATON" review accept 2 --dir "$B"
check "S-1018 is now Ifeoluwa" test "$(show_field "$B" S-1018 given_name)" = Ifeoluwa
rec S-1018 ST-77 Ifeoluwa Bello 2010-03-02 asthma >"$TMP/b1018-born.json"
check_out '1 held for review' "an import of S-1018 with another birth date is held" \
	"$BATON" student import "$TMP/b1018-born.json" --dir "$B"
check_out 'Discarded held record 3; student S-1018 is unchanged' "and rejected" \
	"$BATON" review reject 3 --dir "$B"
check "S-1018 keeps its birth date" test "$(show_field "$B" S-1018 birth_date)" = 2010-02-02
check_out 'review .*rejected held record 3' "the rejection is audited" \
	"$BATON" audit --student S-1018 --dir "$B"
rec S-1018 ST-77 "  IFEOLUWA " "bello" 2010-02-02 asthma,eczema >"$TMP/b1018-case.json"
check_out '1 new versions' "case and outer space in a name do not make another child" \
	"$BATON" student import "$TMP/b1018-case.json" --dir "$B"

# An id with a space at either end is refused, naming it.
rec "S-1018 " "" Ife Bello 2010-02-02 >"$TMP/space.json"
run "$BATON" student list --json --dir "$B"
cp "$OUT" "$TMP/list.before"
check_err 2 'student_id: "S-1018 " starts or ends with a space' "\"S-1018 \" is refused" \
	"$BATON" student import "$TMP/space.json" --dir "$B"
rec " S-1018" "" Ife Bello 2010-02-02 >"$TMP/space2.json"
check_err 2 'student_id: " S-1018" starts or ends with a space' "\" S-1018\" too" \
	"$BATON" student import "$TMP/space2.json" --dir "$B"
rec S-5 "ST-5 " Ife Bello 2010-02-02 >"$TMP/space3.json"
check_err 2 'state_student_id: "ST-5 " starts or ends with a space' "and a statewide id too" \
	"$BATON" student import "$TMP/space3.json" --dir "$B"
run "$BATON" student list --json --dir "$B"
same "$TMP/list.before" "$OUT" "nothing was imported"

# --- Two long ids that the receiver cuts alike stay two students ---
L=S-$(printf 'x%.0s' $(seq 1 58))
for s in 1 2; do
	rec "$L-$s" "" "Own$s" Child 2012-01-0$s >"$TMP/bl$s.json"
	check "B has its own $s under the long id" "$BATON" student import "$TMP/bl$s.json" --dir "$B"
	rec "$L-$s" "" "Other$s" Pupil 2013-01-0$s >"$TMP/al$s.json"
	check "A has another child under it ($s)" "$BATON" student import "$TMP/al$s.json" --dir "$A"
	check "A links the parent ($s)" "$BATON" guardian link "$L-$s" "$PK" --relation father --dir "$A"
	check "the parent consents ($s)" "$BATON" consent grant --key "$TMP/parent.key" \
		--student "$L-$s" --from "$TMP/LHS-001.card" --to "$TMP/RAS-204.card" --sections all \
		--yes --out "$TMP/l$s.consent"
	check "A seals it ($s)" "$BATON" send "$L-$s" --to RAS-204 --consent "$TMP/l$s.consent" \
		--out "$TMP/l$s.baton" --dir "$A"
	check_out 'as LHS-001-S-x+~[0-9a-f]{16}, version 1$' "B files it as a new student ($s)" \
		"$BATON" import "$TMP/l$s.baton" --dir "$B"
done
run "$BATON" student list --json --dir "$B"
check "B has four students under the long ids, each once" \
	test "$(grep -c '"student_id": ".*S-xxxxxxxx' "$OUT")" -eq 4
check "B's own long-id students are unchanged" sh -c \
	"'$BATON' student show '$L-1' --json --dir '$B' | grep -q Own1 && '$BATON' student show '$L-2' --json --dir '$B' | grep -q Own2"

# --- A file that repeats a student id is refused, whatever is on file ---
{
	echo "["
	rec S-7 "" Ada Lowe 2011-05-05
	echo ","
	rec S-7 "" Ada Lowe 2011-05-05
	echo "]"
} >"$TMP/twice.json"
check_err 2 'record 2 .S-7.: student_id: "S-7" repeats an earlier record in this file' \
	"a file repeating S-7 is refused on a node without S-7" \
	"$BATON" student import "$TMP/twice.json" --dir "$C"
check_err 2 'no student "S-7"' "nothing was stored" "$BATON" student show S-7 --dir "$C"
rec S-7 "" Ada Lowe 2011-05-05 >"$TMP/once.json"
check "C imports S-7 once" "$BATON" student import "$TMP/once.json" --dir "$C"
run "$BATON" audit --json --dir "$C"
cp "$OUT" "$TMP/audit.before"
run "$BATON" student list --json --dir "$C"
cp "$OUT" "$TMP/list.before"
check_err 2 'record 2 .S-7.: student_id: "S-7" repeats an earlier record in this file' \
	"and refused on a node that holds S-7" \
	"$BATON" student import "$TMP/twice.json" --dir "$C"
run "$BATON" student list --json --dir "$C"
same "$TMP/list.before" "$OUT" "nothing was stored"
run "$BATON" audit --json --dir "$C"
same "$TMP/audit.before" "$OUT" "nothing was audited"

# --- The same over the network: the sending school learns it is held ---
NA=$TMP/net-lhs NB=$TMP/net-ras
free_ports 2 || done_testing
PA=$P0
PB=$((PA + 1))
check "init A on loopback" "$BATON" init --name "Lincoln High School" --code LHS-001 \
	--endpoint "tcp://127.0.0.1:$PA" --dir "$NA"
check "init B on loopback" "$BATON" init --name "Riverside Academy" --code RAS-204 \
	--endpoint "tcp://127.0.0.1:$PB" --dir "$NB"
check "cards" sh -c "'$BATON' card --dir '$NA' --out '$TMP/na.card' >/dev/null && '$BATON' card --dir '$NB' --out '$TMP/nb.card' >/dev/null"
check "A pins B" "$BATON" peer add "$TMP/nb.card" --dir "$NA"
check "B pins A" "$BATON" peer add "$TMP/na.card" --dir "$NB"
check "B has Ife Bello as S-1018" "$BATON" student import "$TMP/b1018.json" --dir "$NB"
check "A has Zed Mallory under the same statewide id" "$BATON" student import "$TMP/a1.json" --dir "$NA"
check "A links the parent" "$BATON" guardian link S-1 "$PK" --relation father --dir "$NA"
check "the parent consents" "$BATON" consent grant --key "$TMP/parent.key" --student S-1 \
	--from "$TMP/na.card" --to "$TMP/nb.card" --sections all,health --yes --out "$TMP/n1.consent"
check_out 'queued' "A queues S-1 for B" "$BATON" send S-1 --to RAS-204 --consent "$TMP/n1.consent" \
	--sections all,health --dir "$NA"
serve_start b "$NB" nb.log
serve_start a "$NA" na.log
check "the packet is delivered and receipted" wait_for 120 sh -c "'$BATON' outbox --dir '$NA' | grep -q receipted"
check_out 'receipted.*held for review' "A's outbox says it is held for review" "$BATON" outbox --dir "$NA"
check "B's log says held for review" grep -q 'inbox: packet .* from LHS-001: held for review as 1' "$TMP/nb.log"
serve_stop a
serve_stop b
check "B's S-1018 is still Ife Bello" test "$(show_field "$NB" S-1018 family_name)" = Bello
check_out '^1 +S-1018 +from LHS-001 .*held: Zed Mallory' "B's review queue has it" "$BATON" review --dir "$NB"

# ---- another child under a statewide id that names an adult here ----
# The guardian's consent is not judged by the adult's age: the record is held.
EA=$TMP/ea EB=$TMP/eb
check "two more schools" sh -c "'$BATON' init --name 'Lincoln High School' --code LHS-001 --dir '$EA' >/dev/null &&
	'$BATON' init --name 'Riverside Academy' --code RAS-204 --dir '$EB' >/dev/null &&
	'$BATON' card --out '$TMP/ea.card' --dir '$EA' && '$BATON' card --out '$TMP/eb.card' --dir '$EB' &&
	'$BATON' peer add '$TMP/eb.card' --dir '$EA' >/dev/null && '$BATON' peer add '$TMP/ea.card' --dir '$EB' >/dev/null"
printf '[{"student_id": "S-7", "state_student_id": "ST-42", "identity": {"given_name": "Ada", "family_name": "Child", "birth_date": "2015-04-12"}}]' >"$TMP/ea.json"
printf '[{"student_id": "R-1", "state_student_id": "ST-42", "identity": {"given_name": "Bob", "family_name": "Adult", "birth_date": "2000-01-01"}}]' >"$TMP/eb.json"
check "A imports a child" "$BATON" student import "$TMP/ea.json" --dir "$EA"
check "B has an adult under the same statewide id" "$BATON" student import "$TMP/eb.json" --dir "$EB"
check "A links the child's mother" "$BATON" guardian link S-7 "$PK" --relation mother --dir "$EA"
check "the mother consents" "$BATON" consent grant --key "$TMP/parent.key" --student S-7 \
	--from "$TMP/ea.card" --to "$TMP/eb.card" --sections all --yes --out "$TMP/e.consent"
check "A sends the child's record" "$BATON" send S-7 --to RAS-204 --consent "$TMP/e.consent" \
	--out "$TMP/e.baton" --dir "$EA"
check_out 'Held .* for review' "B holds it for review, not refused by the adult's age" \
	"$BATON" import "$TMP/e.baton" --receipt-out "$TMP/e.receipt" --dir "$EB"
check_out '^1 +R-1 +from LHS-001 .*held: Ada Child 2015-04-12' "B's review queue has the child" \
	"$BATON" review --dir "$EB"

check "the audit logs verify" sh -c "'$BATON' audit verify --dir '$A' >/dev/null && '$BATON' audit verify --dir '$B' >/dev/null && '$BATON' audit verify --dir '$C' >/dev/null"
done_testing
