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
trap 'rm -rf "$TMP"' EXIT
OUT=$TMP/.out.0
ERR=$TMP/.err.0
: >"$OUT"
: >"$ERR"
cd "$TMP" || exit 0

if ! command -v "$BATON" >/dev/null; then
	echo "not ok 1 - the baton binary is missing: $BATON"
	exit 0
fi

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

# done_testing: the plan line; the script then exits 0.
done_testing() {
	echo "1..$T"
	exit 0
}
