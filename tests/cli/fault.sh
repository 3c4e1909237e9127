#!/usr/bin/env bash
# Fault injection at the receiving school. A packet with an attachment is
# imported at B under tests/tools/inject.c, an LD_PRELOAD shim that makes
# the Nth allocation (malloc, calloc, realloc) or the Nth LMDB call fail,
# counted from the moment the store is opened. A first run counts the calls
# (C); then every N from 1 to C fails in turn, each run on a fresh copy of
# B's node. Each run must:
#
#   - exit 0 (the failure was absorbed), 2 or 3, never by a signal;
#   - when it fails, print one error line that names the failure (memory,
#     or the store's error);
#   - not blame the packet for the node's failure (exit 2 with a signed
#     rejection receipt would tell the sender its valid packet is bad);
#   - when it fails, write no receipt and leave the students and the inbox
#     byte for byte as they were; the audit log may gain one entry, the
#     rejection, and must verify;
#   - when it exits 0, have imported the record once and whole: the same
#     record as an import without faults, its attachment byte for byte, and
#     its receipt written.
#
# Modes: "alloc" (allocation failures), "lmdb" (each LMDB call fails with an
# error LMDB returns there: ENOMEM, EIO, MDB_CORRUPTED, ...) and "mapfull"
# (only mdb_put and mdb_txn_commit are counted, and fail with MDB_MAP_FULL:
# the store grows its map and runs the transaction again, which must then
# import the record whole). Each mode prints the same eight TAP lines;
# a failing line names the failing N, the first one's output and backtrace,
# and the call sites grouped by the N that reach them (a library frame shows
# the nearest exported symbol, which for jansson's internals may be a
# neighbour; baton's frames are exact).
#
# Runs: every N when C <= 400 (or BATON_FAULT_ALL=1); otherwise N = 1..200,
# then a stride over the rest (about 100 runs) and the last 20 calls.
# In an ASan build of baton ($BATON) the shim comes before the sanitizer's
# runtime: the allocations that reach malloc, calloc and realloc fail as in
# the plain build (the runtime's own interceptors, strdup and the like,
# allocate inside it and are not counted), and a leak or a memory error on
# the way out of a failure ends the run with the sanitizer's exit code. A
# few LMDB faults also run under valgrind (leaks, memory errors), when
# valgrind is installed and $BATON is not an ASan build.
#
# make builds the shim, whole ($BATON_INJECT) and without its allocation
# hooks ($BATON_INJECT_LMDB). Reproduce one run by hand (see the
# diagnostics for N):
#   make build/tests/tools/inject.so
#   LD_PRELOAD=build/tests/tools/inject.so BATON_FAULT_KIND=alloc BATON_FAULT_N=N \
#     BATON_FAULT_TRACE=1 baton import P.baton --receipt-out R --dir DIR
. "$(dirname "$0")/lib.sh"

START=$(date +%s)
A=$TMP/lhs B=$TMP/ras
DATA=$BATON_SRC/tests/data
SNAP=$TMP/snap W=$TMP/w PKT=$TMP/p.baton
EXE=$(readlink -f "$BATON")

skip() {
	T=$((T + 1))
	echo "ok $T # SKIP $1"
}

# ranges: sorted numbers on standard input, printed as "1-3, 7, 9-12".
ranges() {
	awk 'NF { if (s == "") { s = e = $1; next }
	          if ($1 == e + 1) { e = $1; next }
	          out = out (out ? ", " : "") (s == e ? s : s "-" e); s = e = $1 }
	     END { if (s != "") out = out (out ? ", " : "") (s == e ? s : s "-" e); print out }'
}

# cut_at WIDTH: the line, cut at a comma before WIDTH characters, with "..." when cut.
cut_at() {
	awk -v w="$1" '{ if (length($0) <= w) { print; next }
	                 s = substr($0, 1, w); sub(/,[^,]*$/, "", s); print s ", ..." }'
}

# symbolize: backtrace_symbols_fd lines on standard input; frames of the
# shim are left out, frames of baton get function, file and line.
symbolize() {
	local l f o s
	while IFS= read -r l; do
		case $l in *inject*.so*) continue ;; esac
		if [[ $l =~ ^([^\(]+)\(\+(0x[0-9a-f]+)\) ]] && [ "${BASH_REMATCH[1]}" = "$EXE" ] &&
			command -v addr2line >/dev/null; then
			f=${BASH_REMATCH[1]} o=${BASH_REMATCH[2]}
			s=$(addr2line -f -i -p -e "$f" "$(printf '0x%x' $((o - 1)))" 2>/dev/null | head -n1)
			echo "${s:-$l}"
		else
			echo "$l"
		fi
	done
}

# site LOG: the failed call and the first frame of baton that leads to it
# ("malloc <- libjansson.so.4(json_loadb) <- baton(+0x1234)"), unsymbolized.
site() {
	awk -v exe="$EXE" '
		/^fault: call/ { fn = $4; next }
		/inject[^\/]*\.so/ { next }
		{
			split($0, p, "(")
			if (p[1] == exe) { sub(/\).*/, ")", $0); sub(/.*\//, "", $0); print fn via " <- " $0; exit }
			if (via == "" && p[1] != "") {
				f = p[1]; sub(/.*\//, "", f); s = p[2]; sub(/[+)].*/, "", s)
				if (s != "") via = " <- " f "(" s ")"
			}
		}' "$1"
}

# site_name KEY: the site with baton's frame symbolized.
site_name() {
	local k=$1 off
	if [[ $k =~ \(\+(0x[0-9a-f]+)\)$ ]] && command -v addr2line >/dev/null; then
		off=${BASH_REMATCH[1]}
		echo "${k%% <- $(basename "$EXE")(*} <- $(addr2line -f -i -p -e "$EXE" \
			"$(printf '0x%x' $((off - 1)))" 2>/dev/null | head -n1 | sed 's| at .*/\([^/]*/[^/]*\)$| at \1|')"
	else
		echo "$k"
	fi
}

# ---- two schools, a parent, a packet with an attachment ----

for n in "$A:Lincoln High School:LHS-001" "$B:Riverside Academy:RAS-204"; do
	IFS=: read -r dir name code <<<"$n"
	# No passphrase: the key load would run Argon2id in each of hundreds of imports.
	check "init $code" "$BATON" init --name "$name" --code "$code" --dir "$dir" --no-passphrase
	check "card of $code" "$BATON" card --dir "$dir" --out "$TMP/$code.card"
done
check "A pins B" "$BATON" peer add "$TMP/RAS-204.card" --dir "$A"
check "B pins A" "$BATON" peer add "$TMP/LHS-001.card" --dir "$B"
check "A imports the sample school" "$BATON" student import "$DATA/school.json" --dir "$A"
SID=$(head -n "$(grep -n '"section": "transcript"' "$DATA/school.json" | head -n1 | cut -d: -f1)" \
	"$DATA/school.json" | grep '"student_id"' | tail -n1 | sed 's/.*: "\(.*\)".*/\1/')
PDF=$DATA/files/$SID-transcript.pdf
check "a student with a transcript PDF was found ($SID)" test -s "$PDF"
check "the parent makes a key" "$BATON" guardian keygen --out "$TMP/parent.key" --no-passphrase
run "$BATON" guardian pubkey "$TMP/parent.key"
PK=$(head -n1 "$OUT")
check "A links the parent to $SID" "$BATON" guardian link "$SID" "$PK" --relation mother --dir "$A"
check "the parent consents" "$BATON" consent grant --key "$TMP/parent.key" --student "$SID" \
	--from "$TMP/LHS-001.card" --to "$TMP/RAS-204.card" --sections all --yes --out "$TMP/c.consent"
check_out '^Sealed.*transcript' "A seals the record with its transcript for B" "$BATON" send "$SID" \
	--to RAS-204 --consent "$TMP/c.consent" --out "$PKT" --dir "$A"

# B as it is before any import, sparse (the store reserves its map on disk
# at each open: a sparse copy is quick to make).
cp -a --sparse=always "$B" "$SNAP"
fresh() {
	rm -rf "$W"
	cp -a --sparse=always "$SNAP" "$W"
}
fresh
"$BATON" student list --json --dir "$W" >"$TMP/list.0" 2>&1
"$BATON" inbox --json --dir "$W" >"$TMP/inbox.0" 2>&1
"$BATON" audit --json --dir "$W" >"$TMP/audit.0" 2>&1
A0=$(count '"seq":' "$TMP/audit.0")
grep '"hash":' "$TMP/audit.0" >"$TMP/hashes.0"
S0=$(count '"student_id":' "$TMP/list.0")

# The reference: the same import without the shim.
check_out "^Imported .* as $SID, version 1" "B imports the packet (reference run, no shim)" \
	"$BATON" import "$PKT" --receipt-out "$W/r" --dir "$W"
# The times a run stamps (when the record was filed, and when its terms were
# received) differ from run to run; everything else must be equal.
"$BATON" student show "$SID" --json --dir "$W" 2>&1 | grep -vE '"(updated|time)": [0-9]+' >"$TMP/show.ref"
mkdir -p "$W/exp"
"$BATON" student export "$SID" --out "$W/exp/$SID.json" --dir "$W" >/dev/null 2>&1
same "$W/exp/$SID-files/transcript.pdf" "$PDF" "the reference import has the PDF byte for byte"

# ---- the shim ----

ASAN=0
if grep -aq '__asan_init' "$EXE" 2>/dev/null; then
	ASAN=1
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
	# The shim's backtraces load libgcc_s with dlopen, which LeakSanitizer
	# would report as the shim's leak; baton itself opens no library.
	echo 'leak:dl_open_worker' >"$TMP/lsan.supp"
	LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$TMP/lsan.supp:print_suppressions=0"
	export ASAN_OPTIONS LSAN_OPTIONS
fi
# The shim without its allocation hooks serves valgrind.
tool BATON_INJECT inject.so || done_testing
tool BATON_INJECT_LMDB inject-lmdb.so || done_testing
SHIM=$BATON_INJECT SHIM_LMDB=$BATON_INJECT_LMDB

# count_calls LABEL KIND [FUNCS]: runs the import under the shim, counting;
# sets C and leaves the calls, one "N FUNCTION" a line, in $TMP/list.LABEL.
count_calls() {
	fresh
	rm -f "$TMP/count.$1"
	run env LD_PRELOAD="$SHIM" BATON_FAULT_KIND="$2" BATON_FAULT_FUNCS="${3:-}" BATON_FAULT_N=0 \
		BATON_FAULT_COUNT="$TMP/count.$1" BATON_FAULT_LIST="$TMP/list.$1" \
		"$BATON" import "$PKT" --receipt-out "$W/r" --dir "$W"
	C=$(cat "$TMP/count.$1" 2>/dev/null)
	C=${C:-0}
	if [ "$RC" -eq 0 ] && grep -q '^Imported' "$OUT" && [ "$C" -gt 0 ]; then
		pass "counting $1 calls: the import succeeds under the shim, $C calls"
	else
		fail_run "counting $1 calls: the import succeeds under the shim and counts some" \
			"counted: $C"
	fi
}
count_calls alloc alloc
C_ALLOC=$C
count_calls lmdb lmdb
C_LMDB=$C
count_calls all all
C_ALL=$C
if [ "$C_ALL" -eq $((C_ALLOC + C_LMDB)) ]; then
	pass "all = alloc + lmdb ($C_ALL = $C_ALLOC + $C_LMDB)"
else
	fail "all = alloc + lmdb" "all $C_ALL, alloc $C_ALLOC, lmdb $C_LMDB: the count is not deterministic"
fi
MAPFULL_FUNCS=mdb_put,mdb_txn_commit
count_calls mapfull lmdb "$MAPFULL_FUNCS"
C_MAPFULL=$C

# ---- one run ----

# select C: the N to try.
select_n() {
	local c=$1 s
	if [ "$c" -le 400 ] || [ "${BATON_FAULT_ALL:-0}" = 1 ]; then
		seq 1 "$c"
		return
	fi
	s=$(((c - 200 + 99) / 100))
	{
		seq 1 200
		seq $((200 + s)) "$s" "$c"
		seq $((c - 19)) "$c"
	} | sort -n -u
}

CATS="fired exit message blame receipt store audit absorbed"
# bad MODE CAT N WHY: records a failed check of run N.
bad() {
	echo "$3" >>"$TMP/bad.$1.$2"
	if [ ! -e "$TMP/first.$1.$2" ]; then
		{
			echo "first failing N=$3: $4"
			echo "exit code $rc; stderr:"
			head -n 6 "$W/err" | sed 's/^/  /'
			[ ! -s "$W/out" ] || { echo "stdout:" && head -n 3 "$W/out" | sed 's/^/  /'; }
			if [ -s "$W/log" ]; then
				head -n 1 "$W/log"
				echo "backtrace:"
				tail -n +2 "$W/log" | symbolize | head -n 14 | sed 's/^/  /'
			fi
		} >"$TMP/first.$1.$2"
	fi
	[ ! -s "$W/log" ] || echo "$3	$(site "$W/log")" >>"$TMP/sites.$1.$2"
}

# expect_text MODE: the text an error line must carry for the fault in $W/log.
expect_text() {
	local e
	e=$(sed -n '1s/.*(\(.*\))$/\1/p' "$W/log" 2>/dev/null)
	case $e in
	ENOMEM) echo 'out of memory|Cannot allocate memory' ;;
	EIO) echo 'Input/output error' ;;
	MDB_MAP_FULL) echo 'map is full|maximum size|MDB_MAP_FULL' ;;
	'') echo 'out of memory|Cannot allocate memory|MDB_|Input/output error' ;;
	*) echo "$e" ;;
	esac
}

# one MODE KIND FUNCS ERR N: one run with call N failing, and its checks.
one() {
	local mode=$1 kind=$2 funcs=$3 err=$4 n=$5 committed=0 lines n1 last
	fresh
	rm -f "$W/r" "$W/log"
	env LD_PRELOAD="$SHIM" BATON_FAULT_KIND="$kind" BATON_FAULT_FUNCS="$funcs" BATON_FAULT_N="$n" \
		BATON_FAULT_ERR="$err" \
		BATON_FAULT_LOG="$W/log" BATON_FAULT_TRACE=1 \
		"$BATON" import "$PKT" --receipt-out "$W/r" --dir "$W" >"$W/out" 2>"$W/err" </dev/null
	rc=$?
	RUNS_DONE=$((RUNS_DONE + 1))
	grep -q "^fault: call $n " "$W/log" 2>/dev/null ||
		bad "$mode" fired "$n" "the shim did not fail call $n (fewer calls than counted?)"
	if [ "$rc" -gt 128 ]; then
		bad "$mode" exit "$n" "killed by SIG$(kill -l $((rc - 128)) 2>/dev/null)"
	elif [ "$rc" -ne 0 ] && [ "$rc" -ne 2 ] && [ "$rc" -ne 3 ]; then
		bad "$mode" exit "$n" "exit code $rc is not 0, 2 or 3"
	fi
	# A receipt that could not be written after the commit: documented, two lines.
	if [ "$rc" -eq 0 ] || { [ "$rc" -eq 3 ] && grep -q 'imported all the same' "$W/err"; }; then
		committed=1
	fi
	if [ "$rc" -ne 0 ]; then
		lines=$(wc -l <"$W/err")
		if [ "$lines" -ne $((1 + committed)) ] || ! head -n1 "$W/err" | grep -q '^baton: ' ||
			! head -n1 "$W/err" | grep -Eq -- "$(expect_text)"; then
			bad "$mode" message "$n" "$lines lines on stderr; expected one 'baton: ...' line carrying: $(expect_text)"
		fi
	fi
	if [ "$rc" -eq 2 ]; then
		bad "$mode" blame "$n" "the node's own failure was reported as a rejected packet (exit 2)$([ -e "$W/r" ] && echo ', and a signed rejection receipt was written')"
	fi
	if [ "$committed" -eq 0 ] && [ -e "$W/r" ]; then
		bad "$mode" receipt "$n" "exit code $rc, yet a receipt was written"
	fi
	"$BATON" student list --json --dir "$W" >"$W/list" 2>&1
	if [ "$committed" -eq 0 ]; then
		"$BATON" inbox --json --dir "$W" >"$W/inbox" 2>&1
		if ! cmp -s "$W/list" "$TMP/list.0" || ! cmp -s "$W/inbox" "$TMP/inbox.0"; then
			bad "$mode" store "$n" "students or inbox changed: $(diff "$TMP/list.0" "$W/list" | head -n 3 | tr '\n' ' ') $(diff "$TMP/inbox.0" "$W/inbox" | head -n 3 | tr '\n' ' ')"
		fi
	fi
	"$BATON" audit --json --dir "$W" >"$W/audit" 2>&1
	n1=$(count '"seq":' "$W/audit")
	last=$(grep '"action":' "$W/audit" | tail -n1 | sed 's/.*: "\(.*\)".*/\1/')
	if ! grep '"hash":' "$W/audit" | head -n "$A0" | cmp -s - "$TMP/hashes.0"; then
		bad "$mode" audit "$n" "the entries before the import changed"
	elif [ "$committed" -eq 0 ] && ! { [ "$n1" -eq "$A0" ] || { [ "$n1" -eq $((A0 + 1)) ] && [ "$last" = rejected ]; }; }; then
		bad "$mode" audit "$n" "$((n1 - A0)) new entries, the last '$last' (at most one, a rejection)"
	elif [ "$committed" -eq 1 ] && ! { [ "$n1" -eq $((A0 + 1)) ] && [ "$last" = received ]; }; then
		bad "$mode" audit "$n" "the import committed with $((n1 - A0)) new entries, the last '$last'"
	elif ! "$BATON" audit verify --dir "$W" >"$W/verify" 2>&1; then
		bad "$mode" audit "$n" "audit verify: $(head -n1 "$W/verify")"
	fi
	if [ "$committed" -eq 1 ]; then
		local why=""
		local show_rc
		"$BATON" student show "$SID" --json --dir "$W" >"$W/show.raw" 2>&1
		show_rc=$?
		grep -vE '"(updated|time)": [0-9]+' "$W/show.raw" >"$W/show"
		rm -rf "$W/exp"
		mkdir -p "$W/exp"
		if [ "$(count '"student_id":' "$W/list")" -ne $((S0 + 1)) ] ||
			[ "$(count "\"student_id\": \"$SID\"" "$W/list")" -ne 1 ]; then
			why="the student is not listed exactly once"
		elif [ "$show_rc" -ne 0 ]; then
			why="the stored record cannot be read back: $(head -n1 "$W/show.raw")"
		elif ! cmp -s "$W/show" "$TMP/show.ref"; then
			why="the stored record differs from a fault-free import: $(diff "$TMP/show.ref" "$W/show" | grep '^[<>]' | head -n 4 | tr -s ' ' | tr '\n' ' ')"
		elif ! "$BATON" student export "$SID" --out "$W/exp/$SID.json" --dir "$W" >/dev/null 2>&1 ||
			! cmp -s "$W/exp/$SID-files/transcript.pdf" "$PDF"; then
			why="the attachment does not export byte for byte"
		elif [ "$rc" -eq 0 ] && [ ! -s "$W/r" ]; then
			why="exit 0 but no receipt"
		fi
		[ -z "$why" ] || bad "$mode" absorbed "$n" "$why"
	fi
}

DESC_fired="the shim failed the chosen call in every run"
DESC_exit="every run exits 0, 2 or 3, never by a signal"
DESC_message="every failed run prints one error line naming the failure (memory, or the store's error)"
DESC_blame="no run blames the packet for the node's failure (exit 2, rejection receipt)"
DESC_receipt="no failed run writes a receipt"
DESC_store="no failed run changes the students or the inbox"
DESC_audit="the audit log keeps its entries, gains at most a rejection (or the import's entry), and verifies"
DESC_absorbed="every run that exits 0 imported the record once and whole, with its attachment and receipt"

# report MODE TESTED: one TAP line per check.
report() {
	local mode=$1 tested=$2 cat d nb sites
	for cat in $CATS; do
		eval "d=\$DESC_$cat"
		if [ ! -s "$TMP/bad.$mode.$cat" ]; then
			pass "$mode: $d ($tested runs)"
			continue
		fi
		nb=$(sort -n -u "$TMP/bad.$mode.$cat" | wc -l)
		sites=$(sort -t '	' -k2,2 -k1,1n "$TMP/sites.$mode.$cat" 2>/dev/null |
			awk -F '\t' '{ if ($2 != k) { if (k != "") print k "\t" ns; k = $2; ns = $1 } else ns = ns " " $1 }
			             END { if (k != "") print k "\t" ns }' |
			while IFS='	' read -r k ns; do
				printf '%s: N=%s\n' "$(site_name "$k")" "$(printf '%s\n' $ns | ranges | cut_at 150)"
			done | head -n 25)
		fail "$mode: $d" "failed for $nb of $tested runs, N = $(sort -n -u "$TMP/bad.$mode.$cat" | ranges | cut_at 300)" \
			"$(cat "$TMP/first.$mode.$cat")" "${sites:+call sites (failed call <- caller <- baton frame):
$sites}"
	done
}

RUNS_DONE=0
# mode MODE KIND FUNCS ERR C
mode() {
	local m=$1 kind=$2 funcs=$3 err=$4 c=$5 n tested=0
	for n in $(select_n "$c"); do
		one "$m" "$kind" "$funcs" "$err" "$n"
		tested=$((tested + 1))
	done
	report "$m" "$tested"
}

mode alloc alloc "" "" "$C_ALLOC"
mode lmdb lmdb "" "" "$C_LMDB"
mode mapfull lmdb "$MAPFULL_FUNCS" MDB_MAP_FULL "$C_MAPFULL"

# ---- valgrind: leaks and memory errors on the way out of a failure ----

# pick FUNCTION first|last: the N of that LMDB call in the counting run.
pick() {
	local n
	if [ "$2" = first ]; then
		n=$(awk -v f="$1" '$2 == f { print $1; exit }' "$TMP/list.lmdb" 2>/dev/null)
	else
		n=$(awk -v f="$1" '$2 == f { n = $1 } END { print n }' "$TMP/list.lmdb" 2>/dev/null)
	fi
	echo "${n:-$(((C_LMDB + 1) / 2))}"
}
VG_SITES="mdb_dbi_open:first mdb_cursor_get:first mdb_put:first mdb_put:last mdb_txn_commit:last"
for s in $VG_SITES; do
	f=${s%:*} w=${s#*:}
	if [ "$ASAN" -eq 1 ]; then
		skip "valgrind, the $w $f failing: $BATON is an ASan build"
		continue
	fi
	if ! command -v valgrind >/dev/null; then
		skip "valgrind, the $w $f failing: valgrind is not installed"
		continue
	fi
	n=$(pick "$f" "$w")
	fresh
	# valgrind replaces malloc: the shim without its allocation hooks.
	run env LD_PRELOAD="$SHIM_LMDB" BATON_FAULT_KIND=lmdb BATON_FAULT_N="$n" valgrind -q \
		--leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99 \
		"$BATON" import "$PKT" --receipt-out "$W/r" --dir "$W"
	if [ "$RC" -eq 0 ] || [ "$RC" -eq 2 ] || [ "$RC" -eq 3 ]; then
		pass "valgrind, lmdb call $n (the $w $f) failing: no definite leak, no memory error"
	else
		fail_run "valgrind, lmdb call $n (the $w $f) failing: no definite leak, no memory error"
		grep -E 'definitely lost|Invalid|uninitialised|by 0x|at 0x' "$ERR" | head -n 30 | diag
	fi
done

# ---- and without the shim, the import still works, once ----

check_out "^Imported .* as $SID, version 1" "without the shim, B imports the packet" "$BATON" import "$PKT" \
	--receipt-out "$TMP/r.receipt" --dir "$B"
run "$BATON" student list --json --dir "$B"
if [ "$RC" -eq 0 ] && [ "$(count '"student_id":' "$OUT")" -eq 1 ] &&
	[ "$(count "\"student_id\": \"$SID\"" "$OUT")" -eq 1 ]; then
	pass "B has exactly one student, $SID"
else
	fail_run "B has exactly one student, $SID"
fi
check_out 'Already imported' "the same packet again imports nothing" "$BATON" import "$PKT" --dir "$B"
check "B's audit log verifies" "$BATON" audit verify --dir "$B"

echo "# fault.sh: calls counted: alloc $C_ALLOC, lmdb $C_LMDB, all $C_ALL, mdb_put+mdb_txn_commit $C_MAPFULL;" \
	"$RUNS_DONE fault runs;" \
	"$(($(date +%s) - START)) s$([ "$ASAN" -eq 0 ] || echo ' (ASan build)')"
done_testing
