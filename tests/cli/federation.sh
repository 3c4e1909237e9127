#!/usr/bin/env bash
# A federation: FED_N schools (default 6), each a real 'baton serve' on
# loopback, trusted through one authority's signed directory and none
# pinning another by hand.
#
#   1. The authority admits every school once ('authority add' with the
#      fingerprint read from the school's card) and signs version 1; each
#      node pins the authority and takes the directory.
#   2. FED_M transfers (default 30) between random pairs of schools, each
#      under a parent's consent: every one receipted 'accepted' exactly once
#      (one outbox entry at the sender, one inbox entry at the receiver),
#      every audit log verifying at the end.
#   3. Version 2: a school added, one school's key changed (it rekeys while
#      serving), one school withdrawn. Every node takes it; then a record
#      reaches the new school and the school with the new key, and one for
#      the withdrawn school is held, not sent.
#   4. Version 3 given to one school only: each member school sends it one
#      record, and with the offer after that delivery takes version 3 (no
#      'directory update'); the time until every member holds it.
#
# Measurements are printed as "# federation.NAME VALUE UNIT" lines, which
# tests/bench/run.sh reads for its federation rows ('make federation' runs
# this script with a large FED_N and FED_M). No check depends on time.
. "$(dirname "$0")/lib.sh"

N=${FED_N:-6} M=${FED_M:-30}
if ! [[ $N =~ ^[0-9]+$ && $M =~ ^[0-9]+$ ]] || [ "$N" -lt 4 ] || [ "$M" -lt 1 ]; then
	fail "FED_N must be at least 4 and FED_M at least 1" "FED_N=$N FED_M=$M"
	done_testing
fi
export BATON_PASSPHRASE="the authority's long passphrase"
free_ports $((N + 1)) || done_testing
AUTH=$TMP/authority
node() { echo "$TMP/n$1"; }
code() { printf 'SCH-%04d' "$1"; }
metric() { echo "# federation.$1 $2 $3"; }
now_ms() { date +%s%3N; }
ms_since() { echo $(($(now_ms) - $1)); }

# ---- 1. the authority, the schools, the directory ----
check_out 'fingerprint' "the authority is made" "$BATON" authority init --name "State Board of Education" --out "$AUTH"
AK=$(sed -n 's/^  key  *//p' "$OUT") AFP=$(sed -n 's/^  fingerprint  *//p' "$OUT")
check "its key line and fingerprint are printed" test -n "$AK" -a -n "$AFP"

# The sample school's attachments, beside each school's copy of its records.
mkdir -p "$TMP/data" && cp -R "$BATON_SRC/tests/data/files" "$TMP/data/files"
# new_school I: makes school I's node and card, its 240 students (the sample
# school under ids and statewide ids of its own) and admits it at the authority.
new_school() {
	local i=$1 d fp ok=0
	d=$(node "$i")
	"$BATON" init --name "School $i" --code "$(code "$i")" --endpoint "tcp://127.0.0.1:$((P0 + i))" \
		--no-passphrase --dir "$d" >/dev/null 2>"$TMP/setup.err" &&
		fp=$("$BATON" card --dir "$d" --out "$d.card" 2>>"$TMP/setup.err" | sed -n 's/^fingerprint //p') &&
		"$BATON" authority add "$d.card" --expect "$fp" --dir "$AUTH" >/dev/null 2>>"$TMP/setup.err" &&
		sed "s/\"student_id\": \"S-/\"student_id\": \"N$i-/; s/\"ST-/\"ST$i-/" \
			"$BATON_SRC/tests/data/school.json" >"$TMP/data/n$i.json" &&
		"$BATON" student import "$TMP/data/n$i.json" --dir "$d" >/dev/null 2>>"$TMP/setup.err" && ok=1
	[ $ok = 1 ]
}
t0=$(now_ms)
bad=0
for ((i = 0; i < N; i++)); do
	new_school "$i" || { bad=$((bad + 1)); diag "school $i could not be set up: $(tail -n 3 "$TMP/setup.err")"; }
done
check "$N schools made, each with 240 students, each admitted by the authority" test $bad -eq 0
metric setup_schools_s "$(awk "BEGIN{printf \"%.1f\", $(ms_since "$t0")/1000}")" s
check_out "Signed version 1 .*$N schools" "the authority signs version 1" \
	"$BATON" authority sign --expires 30d --out "$TMP/v1.dir" --dir "$AUTH"
metric directory_bytes "$(stat -c %s "$TMP/v1.dir")" bytes
bad=0
for ((i = 0; i < N; i++)); do
	"$BATON" directory trust "$AK" --expect "$AFP" --dir "$(node "$i")" >/dev/null &&
		"$BATON" directory update "$TMP/v1.dir" --dir "$(node "$i")" >/dev/null || bad=$((bad + 1))
done
check "every node pins the authority and takes version 1" test $bad -eq 0
check_out "$(code $((N - 1))) .*directory" "a node trusts the others through the directory" \
	"$BATON" peer list --dir "$(node 0)"

# ---- 2. M transfers between random pairs ----
check "a parent's key" "$BATON" guardian keygen --no-passphrase --out "$TMP/parent.key"
PK=$(cat "$TMP/parent.key.pub")
# The sample school's minors (a parent consents only for them), by local number.
mapfile -t MINORS < <(awk -F'"' '/"student_id"/ { id = $4 } /"birth_date"/ && id != "" { print id, $4; id = "" }' \
	"$BATON_SRC/tests/data/school.json" | awk -v cut="$(date -u -d '18 years ago' +%F)" '$2 > cut { sub(/^S-/, "", $1); print $1 }')
check "the sample school has minors to send" test "${#MINORS[@]}" -gt 2
declare -A SENT_TO  # transfers aimed at each receiver
declare -A NEXT     # the next unsent student of each sender
declare -A PAIRS    # consent directories in use, "from to"
RANDOM=${FED_SEED:-7}
t0=$(now_ms)
bad=0
for ((k = 0; k < M; k++)); do
	a=$((RANDOM % N))
	b=$(((a + 1 + RANDOM % (N - 1)) % N))
	s=${NEXT[$a]:-1}
	NEXT[$a]=$((s + 1))
	# The last minor is kept for part 3.
	[ "$s" -lt "${#MINORS[@]}" ] || { bad=$((bad + 1)); continue; }
	sid=N$a-${MINORS[$((s - 1))]}
	cdir=$TMP/consents/$a-$b
	mkdir -p "$cdir"
	PAIRS["$a $b"]=1
	"$BATON" guardian link "$sid" "$PK" --dir "$(node "$a")" >/dev/null 2>"$TMP/setup.err" &&
		"$BATON" consent grant --key "$TMP/parent.key" --student "$sid" --from "$(node "$a").card" \
			--to "$(node "$b").card" --sections all --yes --out "$cdir/$sid.consent" >/dev/null 2>>"$TMP/setup.err" ||
		{ bad=$((bad + 1)); diag "consent for $sid: $(tail -n 3 "$TMP/setup.err")"; }
	SENT_TO[$b]=$((${SENT_TO[$b]:-0} + 1))
done
check "$M consents signed by the parent, a student at most once per sender" test $bad -eq 0
metric setup_consents_s "$(awk "BEGIN{printf \"%.1f\", $(ms_since "$t0")/1000}")" s

for ((i = 0; i < N; i++)); do
	serve_start "n$i" "$(node "$i")" "n$i.log" || done_testing
done
t0=$(now_ms)
bad=0
for p in "${!PAIRS[@]}"; do
	read -r a b <<<"$p"
	"$BATON" send --to "$(code "$b")" --consents "$TMP/consents/$a-$b" --dir "$(node "$a")" >/dev/null 2>"$TMP/setup.err" ||
		{ bad=$((bad + 1)); diag "send from school $a to $b: $(tail -n 3 "$TMP/setup.err")"; }
done
check "every sender queues its records" test $bad -eq 0
# receipted I: how many of node I's outbox entries are receipted, and how many in all.
outbox_done() {
	local i all=0 done=0 j
	for ((i = 0; i < N; i++)); do
		j=$("$BATON" outbox --json --dir "$(node "$i")")
		all=$((all + $(grep -c '"packet"' <<<"$j")))
		done=$((done + $(grep -c '"state": *"receipted"' <<<"$j")))
	done
	[ "$all" -eq "$M" ] && [ "$done" -eq "$M" ]
}
# A bound only a hang reaches, also for the largest runs.
check "all $M transfers are receipted" wait_for $((600 + M / 5)) outbox_done
total_ms=$(ms_since "$t0")
metric transfers "$M" transfers
metric transfers_s "$(awk "BEGIN{printf \"%.2f\", $total_ms/1000}")" s
metric transfers_per_s "$(awk "BEGIN{printf \"%.1f\", $M*1000/($total_ms>0?$total_ms:1)}")" transfers/s

bad=0
for ((i = 0; i < N; i++)); do
	got=$("$BATON" inbox --json --dir "$(node "$i")" | grep -c '"accepted"')
	[ "$got" -eq "${SENT_TO[$i]:-0}" ] || { bad=$((bad + 1)); diag "school $i: $got accepted, ${SENT_TO[$i]:-0} sent to it"; }
done
check "each receiver accepted exactly the transfers aimed at it, once each" test $bad -eq 0

# Memory of each serve at rest, once the transfers are done.
sleep 1
rss_max=0 rss_sum=0
for ((i = 0; i < N; i++)); do
	r=$(awk '/^VmRSS/ {print $2}' "/proc/${SPID[n$i]}/status" 2>/dev/null || echo 0)
	rss_sum=$((rss_sum + r))
	[ "$r" -gt "$rss_max" ] && rss_max=$r
done
metric rss_at_rest_mean_mib "$(awk "BEGIN{printf \"%.1f\", $rss_sum/$N/1024}")" MiB
metric rss_at_rest_max_mib "$(awk "BEGIN{printf \"%.1f\", $rss_max/1024}")" MiB

# CPU of all the serves at rest, over 5 s: a node with nothing to do sleeps.
serve_ticks() {
	local i t sum=0
	for ((i = 0; i < N; i++)); do
		t=$(awk '{print $14 + $15}' "/proc/${SPID[n$i]}/stat" 2>/dev/null || echo 0)
		sum=$((sum + t))
	done
	echo "$sum"
}
c0=$(serve_ticks)
sleep 5
c1=$(serve_ticks)
metric idle_cpu_pct "$(awk "BEGIN{printf \"%.1f\", ($c1 - $c0) * 100 / $(getconf CLK_TCK) / 5}")" %

# ---- 3. version 2: a school added, a key changed, a school withdrawn ----
NEW=$N CHANGED=0 GONE=1
check "a new school is admitted" new_school "$NEW"
check "school 0 rekeys" "$BATON" rekey --card-out "$(node 0).card2" --rotation-out "$TMP/rot0" \
	--no-passphrase --dir "$(node 0)"
run "$BATON" card --dir "$(node 0)" --out "$(node 0).card3"
FP0=$(sed -n 's/^fingerprint //p' "$OUT")
check "school 0 serves with its new key (SIGHUP)" kill -HUP "${SPID[n0]}"
check_out 'Withdrew the old key' "the authority takes school 0's new key" \
	"$BATON" authority add "$(node 0).card3" --expect "$FP0" --replace --dir "$AUTH"
check_out 'withdrew its key' "the authority withdraws school 1" "$BATON" authority remove "$(code $GONE)" --dir "$AUTH"
check_out "Signed version 2 .*$((N)) schools" "and signs version 2" \
	"$BATON" authority sign --expires 30d --out "$TMP/v2.dir" --dir "$AUTH"
t0=$(now_ms)
bad=0
for ((i = 0; i <= N; i++)); do
	[ "$i" -eq "$NEW" ] && "$BATON" directory trust "$AK" --expect "$AFP" --dir "$(node "$i")" >/dev/null
	"$BATON" directory update "$TMP/v2.dir" --dir "$(node "$i")" >/dev/null 2>&1 || bad=$((bad + 1))
done
metric directory_update_all_s "$(awk "BEGIN{printf \"%.2f\", $(ms_since "$t0")/1000}")" s
check "every node takes version 2" test $bad -eq 0
check_out "version 2" "a node shows version 2" "$BATON" directory show --dir "$(node 2)"
serve_start "n$NEW" "$(node "$NEW")" "n$NEW.log" || done_testing

# School 2 sends to the new school, to school 0 (new key) and to school 1 (withdrawn).
S2=N2-${MINORS[$((${#MINORS[@]} - 1))]}
check "school 2 links the parent to $S2" "$BATON" guardian link "$S2" "$PK" --dir "$(node 2)"
for t in "$NEW:$(node "$NEW").card" "0:$(node 0).card3" "$GONE:$(node "$GONE").card"; do
	check "a consent to school ${t%%:*}" "$BATON" consent grant --key "$TMP/parent.key" --student "$S2" \
		--from "$(node 2).card" --to "${t#*:}" --sections all --yes --out "$TMP/v2-${t%%:*}.consent"
done
check_out 'queued' "school 2 sends to the new school" "$BATON" send "$S2" --to "$(code "$NEW")" \
	--consent "$TMP/v2-$NEW.consent" --dir "$(node 2)"
check_out 'queued' "and to school 0, under its new key" "$BATON" send "$S2" --to "$(code 0)" \
	--consent "$TMP/v2-0.consent" --dir "$(node 2)"
check_err 2 "withdrawn" "and nothing to the withdrawn school" "$BATON" send "$S2" --to "$(code "$GONE")" \
	--consent "$TMP/v2-$GONE.consent" --dir "$(node 2)"
check "the new school receipts it" wait_for 120 sh -c \
	"'$BATON' inbox --json --dir '$(node "$NEW")' | grep -q '\"accepted\"'"
check "school 0 receipts it under its new key" wait_for 120 sh -c \
	"test \"\$('$BATON' inbox --json --dir '$(node 0)' | grep -c '\"accepted\"')\" -eq $((${SENT_TO[0]:-0} + 1))"

# ---- 4. version 3 given to one school; the others get it by talking to it ----
H=2
check_out "Signed version 3" "the authority signs version 3" \
	"$BATON" authority sign --expires 30d --out "$TMP/v3.dir" --dir "$AUTH"
t0=$(now_ms)
check_out 'Took version 3' "school $H alone takes it" "$BATON" directory update "$TMP/v3.dir" --dir "$(node "$H")"
# Each member school sends school H one record: its offer after the delivery
# gets version 3 in the reply (PROTOCOL.md section 10).
bad=0
for ((i = 0; i <= N; i++)); do
	{ [ "$i" -eq "$H" ] || [ "$i" -eq "$GONE" ]; } && continue
	s=${NEXT[$i]:-1}
	NEXT[$i]=$((s + 1))
	sid=N$i-${MINORS[$((s - 1))]}
	card=$(node "$i").card
	[ "$i" -eq 0 ] && card=$(node 0).card3
	"$BATON" guardian link "$sid" "$PK" --dir "$(node "$i")" >/dev/null 2>&1
	"$BATON" consent grant --key "$TMP/parent.key" --student "$sid" --from "$card" \
		--to "$(node "$H").card" --sections all --yes --out "$TMP/v3-$i.consent" >/dev/null 2>&1 &&
		"$BATON" send "$sid" --to "$(code "$H")" --consent "$TMP/v3-$i.consent" --dir "$(node "$i")" >/dev/null 2>&1 ||
		{ bad=$((bad + 1)); diag "school $i could not send to school $H"; }
done
check "every member school sends school $H a record" test $bad -eq 0
all_v3() {
	local i
	for ((i = 0; i <= N; i++)); do
		[ "$i" -eq "$GONE" ] && continue
		"$BATON" directory show --json --dir "$(node "$i")" | grep -q '"version": *3' || return 1
	done
}
check "every member school holds version 3 without 'directory update'" wait_for 300 all_v3
metric propagation_s "$(awk "BEGIN{printf \"%.2f\", $(ms_since "$t0")/1000}")" s
check "and took it from school $H, audited so" sh -c "'$BATON' audit --dir '$(node 0)' | grep -q 'version 3: .*from school $(code "$H")'"

for ((i = 0; i <= N; i++)); do
	serve_stop "n$i" >/dev/null
done
bad=0
for ((i = 0; i <= N; i++)); do
	"$BATON" audit verify --dir "$(node "$i")" >/dev/null 2>&1 || { bad=$((bad + 1)); diag "school $i's audit log"; }
done
check "all $((N + 1)) audit logs verify" test $bad -eq 0
done_testing
