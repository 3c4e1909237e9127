#!/usr/bin/env bash
# Sourced by the shell tests in tests/cli. Prints TAP lines ("ok N - ...",
# "not ok N - ..." with "# ..." details) and always exits 0: the runner
# counts the lines.
#
#   $BATON      the baton binary under test (default $BATON_SRC/baton)
#   $BATON_SRC  the source tree (default: two levels above this file)
#   $TMP        a fresh scratch directory, removed on exit; the working
#               directory of every test
#
# A script ends with done_testing, which prints the plan "1..N": the runner
# fails a script that stops before (no plan), or whose plan does not match.
# A check that cannot run here prints "ok N # SKIP why", counted as skipped.
#
# After each check_* call, $RC is the exit code and $OUT / $ERR name files
# holding the command's standard output and standard error.
set -u
# Run on its own (the runner runs every tests/cli/*.sh), it does nothing.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	exit 0
fi

BATON_SRC=${BATON_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BATON=${BATON:-$BATON_SRC/baton}
# The tests run in $TMP: make relative paths absolute first.
case $BATON_SRC in /*) ;; *) BATON_SRC=$PWD/$BATON_SRC ;; esac
case $BATON in /*) ;; */*) BATON=$PWD/$BATON ;; esac
# The environment the tests run in must not pick a node or a passphrase.
unset BATON_DIR BATON_PASSPHRASE PERL_UNICODE
export LC_ALL=C

T=0
RC=0
if ! TMP=$(mktemp -d "${TMPDIR:-/tmp}/baton-cli.XXXXXX"); then
	echo "not ok 1 - mktemp -d"
	exit 0
fi
# Background processes a test starts (serve nodes, peers) go into BG: they
# are killed on exit, before $TMP goes.
BG=()
declare -A SPID # the serve of each node started by serve_start, by name
trap 'for p in "${BG[@]}"; do kill -KILL "$p" 2>/dev/null; done; rm -rf "$TMP"' EXIT
trap 'exit 1' INT TERM
OUT=$TMP/.out.0
ERR=$TMP/.err.0
: >"$OUT"
: >"$ERR"
cd "$TMP" || exit 0

if ! command -v "$BATON" >/dev/null; then
	echo "not ok 1 - the baton binary is missing: $BATON"
	exit 0
fi

# free_ports N: sets P0 to the first of N consecutive TCP ports that no socket
# on this machine holds (listening, connected or closing, IPv4 or IPv6), and
# outside the range the kernel gives outgoing connections, so that no client
# takes one while the test runs. Every test that listens picks its ports here.
free_ports() {
	local n=$1 lo=20000 hi eph_lo=32768 eph_hi=60999 port i tries
	local -A used=()
	read -r eph_lo eph_hi </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null
	while read -r _ port _; do
		port=${port##*:}
		[[ $port =~ ^[0-9A-F]{4}$ ]] && used[$((16#$port))]=1
	done < <(cat /proc/net/tcp /proc/net/tcp6 2>/dev/null)
	# Below the outgoing range when there is room, else above it.
	if [ "$eph_lo" -ge $((lo + 1000 + n)) ]; then
		hi=$((eph_lo - n))
	else
		lo=$((eph_hi + 1)) hi=$((65535 - n))
	fi
	for tries in $(seq 200); do
		P0=$((lo + (RANDOM * 32768 + RANDOM) % (hi - lo)))
		for ((i = 0; i < n; i++)); do
			[ -z "${used[$((P0 + i))]:-}" ] || continue 2
		done
		return 0
	done
	fail "no $n free TCP ports in $lo..$hi"
	return 1
}

# wait_for SECONDS CMD...: polls CMD every 0.2 s until it succeeds or time runs out.
wait_for() {
	local n=$(($1 * 5))
	shift
	while [ "$n" -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.2
		n=$((n - 1))
	done
	return 1
}

# tool VAR FILE: sets VAR to the test program FILE that make builds into
# $(BUILD)/tests/tools: $VAR as the Makefile exports it, else the one beside
# $BATON's build. A failed check, and status 1, when it is not there.
tool() {
	local p=${!1:-$(dirname "$(readlink -f "$BATON")")/tests/tools/$2}
	if [ ! -f "$p" ]; then
		fail "the test program $2 is missing: $p" \
			"make builds it into \$(BUILD)/tests/tools ('make test' does); \$$1 names another"
		return 1
	fi
	printf -v "$1" '%s' "$p"
}

# serve_start NAME DIR LOG: 'baton serve' for the node in DIR in the
# background, its log in $TMP/LOG and its pid in SPID[NAME]; waits until it
# listens (a failed check, and status 1, when it does not within 120 s: a
# bound that only a hang reaches, also on a loaded machine).
serve_start() {
	"$BATON" serve --dir "$2" >/dev/null 2>"$TMP/$3" &
	SPID[$1]=$!
	BG+=($!)
	wait_for 120 grep -q 'serve: listening' "$TMP/$3" && return 0
	fail "serve of $1 did not start" "$(cat "$TMP/$3")"
	return 1
}

# serve_stop NAME: SIGTERM; returns the serve's exit code (124 when it did
# not stop within 120 s and was killed).
serve_stop() {
	local pid=${SPID[$1]} n=600
	unset "SPID[$1]"
	kill -TERM "$pid" 2>/dev/null
	while kill -0 "$pid" 2>/dev/null && [ "$n" -gt 0 ]; do
		sleep 0.2
		n=$((n - 1))
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid"
		wait "$pid" 2>/dev/null
		return 124
	fi
	wait "$pid"
}

# flip FILE OFFSET: changes the byte at OFFSET (xor 1), so it always differs.
flip() {
	perl -e 'open(my $f, "+<", $ARGV[0]) or die "$ARGV[0]: $!"; binmode $f;
		seek($f, $ARGV[1], 0); read($f, my $b, 1) == 1 or die "short";
		seek($f, $ARGV[1], 0); print $f chr(ord($b) ^ 1); close $f or die' "$1" "$2"
}

# Prints each line of standard input as a TAP diagnostic.
diag() {
	sed 's/^/#   /'
}

pass() {
	T=$((T + 1))
	echo "ok $T - $1"
}

# fail DESCRIPTION [DETAIL...]: one "not ok" line and the details.
fail() {
	local desc=$1 d
	shift
	T=$((T + 1))
	echo "not ok $T - $desc"
	for d in "$@"; do
		[ -z "$d" ] || printf '%s\n' "$d" | diag
	done
}

# fail_run DESCRIPTION [DETAIL...]: fail, then the last command's exit code and output.
fail_run() {
	fail "$@"
	echo "#   exit code $RC"
	if [ -s "$ERR" ]; then
		echo "#   stderr:"
		head -n 8 "$ERR" | diag
	fi
	if [ -s "$OUT" ]; then
		echo "#   stdout:"
		head -n 8 "$OUT" | diag
	fi
}

# run CMD...: runs CMD, keeping its output in $OUT and $ERR and its status in
# $RC. Each run gets new files, so CMD may read the previous run's "$OUT".
RUNS=0
run() {
	RUNS=$((RUNS + 1))
	rm -f "$TMP/.out.$((RUNS - 2))" "$TMP/.err.$((RUNS - 2))"
	OUT=$TMP/.out.$RUNS
	ERR=$TMP/.err.$RUNS
	"$@" >"$OUT" 2>"$ERR" </dev/null
	RC=$?
}

# check DESCRIPTION CMD...: passes when CMD exits 0.
check() {
	local desc=$1
	shift
	run "$@"
	if [ "$RC" -eq 0 ]; then pass "$desc"; else fail_run "$desc" "command: $*"; fi
}

# check_exit CODE DESCRIPTION CMD...: passes when CMD exits with CODE.
check_exit() {
	local code=$1 desc=$2
	shift 2
	run "$@"
	if [ "$RC" -eq "$code" ]; then
		pass "$desc"
	else
		fail_run "$desc" "command: $*" "expected exit code $code"
	fi
}

# check_out REGEX DESCRIPTION CMD...: CMD exits 0 and its output matches REGEX (grep -E).
check_out() {
	local re=$1 desc=$2
	shift 2
	run "$@"
	if [ "$RC" -eq 0 ] && grep -Eq -- "$re" "$OUT"; then
		pass "$desc"
	else
		fail_run "$desc" "command: $*" "expected exit code 0 and output matching: $re"
	fi
}

# check_err CODE REGEX DESCRIPTION CMD...: CMD exits with CODE and its
# standard error is exactly one line, matching REGEX (grep -E).
check_err() {
	local code=$1 re=$2 desc=$3
	shift 3
	run "$@"
	local lines
	lines=$(wc -l <"$ERR")
	if [ "$RC" -eq "$code" ] && [ "$lines" -eq 1 ] && grep -Eq -- "$re" "$ERR"; then
		pass "$desc"
	else
		fail_run "$desc" "command: $*" \
			"expected exit code $code and one line on stderr matching: $re" \
			"got $lines lines on stderr"
	fi
}

# same FILE1 FILE2 DESCRIPTION: passes when the files are byte-identical.
same() {
	if cmp -s -- "$1" "$2"; then
		pass "$3"
	else
		fail "$3" "$1 and $2 differ:" "$(diff -- "$1" "$2" 2>&1 | head -n 12)"
	fi
}

# count REGEX FILE: the number of lines of FILE matching REGEX.
count() {
	grep -Ec -- "$1" "$2"
}

# two_schools A B [INIT_ARGS...]: Lincoln High School (LHS-001) at A and
# Riverside Academy (RAS-204) at B, each pinning the other, their cards in
# $TMP/CODE.card; A holds the sample school, and a parent's key is in
# $TMP/parent.key with its public line in PK.
two_schools() {
	local a=$1 b=$2 n dir name code
	shift 2
	for n in "$a:Lincoln High School:LHS-001" "$b:Riverside Academy:RAS-204"; do
		IFS=: read -r dir name code <<<"$n"
		check "init $code" "$BATON" init --name "$name" --code "$code" --dir "$dir" "$@"
		check "card of $code" "$BATON" card --dir "$dir" --out "$TMP/$code.card"
	done
	check "A pins B" "$BATON" peer add "$TMP/RAS-204.card" --dir "$a"
	check "B pins A" "$BATON" peer add "$TMP/LHS-001.card" --dir "$b"
	check "A imports the sample school" "$BATON" student import "$BATON_SRC/tests/data/school.json" --dir "$a"
	check "the parent makes a key" "$BATON" guardian keygen --out "$TMP/parent.key"
	run "$BATON" guardian pubkey "$TMP/parent.key"
	PK=$(head -n1 "$OUT")
}

# console_schools: two_schools at $TMP/lhs and $TMP/ras, each listening on
# loopback and serving its console (LHS at $WA, RAS at $WB: http://127.0.0.1:PORT),
# with a registrar "maria" and an admin "ian" at each (passwords in
# $MARIA_PW and $IAN_PW), both serve running. Skips the whole script (and
# returns 1) when Chromium or the npm packages of the browser tests are missing.
console_schools() {
	local p
	if [ ! -x "${BATON_CHROMIUM:-/usr/bin/chromium}" ] || ! command -v node >/dev/null ||
		[ ! -d "$BATON_SRC/node_modules/playwright-core" ]; then
		echo "ok $((T + 1)) # SKIP Chromium, node or node_modules/playwright-core missing (make deps)"
		T=$((T + 1))
		return 1
	fi
	free_ports 4 || return 1
	PA=$P0 PB=$((P0 + 1)) WA=$((P0 + 2)) WB=$((P0 + 3))
	two_schools "$TMP/lhs" "$TMP/ras" --no-passphrase
	check "LHS listens on loopback" "$BATON" endpoint set "tcp://127.0.0.1:$PA" --dir "$TMP/lhs" --card-out "$TMP/LHS-001.card" --force
	check "RAS listens on loopback" "$BATON" endpoint set "tcp://127.0.0.1:$PB" --dir "$TMP/ras" --card-out "$TMP/RAS-204.card" --force
	check "RAS takes LHS's card" "$BATON" peer update "$TMP/LHS-001.card" --dir "$TMP/ras"
	check "LHS takes RAS's card" "$BATON" peer update "$TMP/RAS-204.card" --dir "$TMP/lhs"
	MARIA_PW="maria's long password" IAN_PW="ian's long password"
	printf '%s\n' "$MARIA_PW" >"$TMP/maria.pw"
	printf '%s\n' "$IAN_PW" >"$TMP/ian.pw"
	chmod 600 "$TMP/maria.pw" "$TMP/ian.pw"
	for d in lhs:$WA ras:$WB; do
		check "users at ${d%%:*}" "$BATON" user add maria --role registrar --password-file "$TMP/maria.pw" --dir "$TMP/${d%%:*}"
		check "admin at ${d%%:*}" "$BATON" user add ian --role admin --password-file "$TMP/ian.pw" --dir "$TMP/${d%%:*}"
		check "console of ${d%%:*}" "$BATON" web set --listen "127.0.0.1:${d#*:}" --dir "$TMP/${d%%:*}"
	done
	serve_start lhs "$TMP/lhs" lhs.log || return 1
	serve_start ras "$TMP/ras" ras.log || return 1
	wait_for 120 grep -q 'web: serving' "$TMP/lhs.log"
	wait_for 120 grep -q 'web: serving' "$TMP/ras.log"
	export MARIA_PW IAN_PW
	export BATON_SHOTS=${BATON_SHOTS:-$(dirname "$BATON")/screenshots}
	return 0
}

# node_tap DESC SCRIPT [ARGS...]: runs a browser test (tests/web/SCRIPT with
# node) and takes each of its "ok - X" / "not ok - X" lines as a check; the
# script must end with "done N" (N its results), or it stopped early.
node_tap() {
	local desc=$1 script=$2 line last="" n=0
	shift 2
	run env NODE_PATH="$BATON_SRC/node_modules" node "$BATON_SRC/tests/web/$script" "$@"
	while IFS= read -r line; do
		case $line in
		"ok - "*) pass "$desc: ${line#ok - }"; n=$((n + 1)) ;;
		"not ok - "*) fail "$desc: ${line#not ok - }"; n=$((n + 1)) ;;
		"#"*) echo "$line" ;;
		"done "*) last=${line#done } ;;
		esac
	done <"$OUT"
	if [ "$last" != "$n" ] || [ "$RC" != 0 ]; then
		fail "$desc: the browser test ran to its end" "exit code $RC, done '$last', results $n" "$(tail -n 20 "$ERR")"
	fi
}

# done_testing: the plan line; the script then exits 0.
done_testing() {
	echo "1..$T"
	exit 0
}
