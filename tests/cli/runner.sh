#!/usr/bin/env bash
# The test runner itself (tests/run-tests.sh and tests/summary.sh), on
# planted test programs: a skip is counted as skipped, not passed; a script
# whose plan is missing or short, a cmocka program whose results do not add
# up, and a program that hangs past TEST_TIMEOUT each count as a failure;
# the summary is one line and its status says whether anything failed.
. "$(dirname "$0")/lib.sh"

RUNNER=$BATON_SRC/tests/run-tests.sh SUMMARY=$BATON_SRC/tests/summary.sh

# plant NAME LINE...: an executable script printing each LINE.
plant() {
	local f=$TMP/$1
	shift
	{
		echo '#!/usr/bin/env bash'
		printf 'echo %q\n' "$@"
	} >"$f"
	chmod +x "$f"
}

# runs LABEL PROGRAM...: the runner over PROGRAMs, its totals in $TMP/LABEL.res.
# Each program may take LIMIT seconds (default 120: only a hang takes that
# long, also on a loaded machine); the hang below is given 5.
runs() {
	local label=$1
	shift
	rm -f "$TMP/$label.res"
	run env TEST_TIMEOUT="${LIMIT:-120}" "$RUNNER" "$TMP/$label.res" "$label" "$@"
}

# recorded LABEL P F S: the runner recorded "LABEL P F S".
recorded() {
	[ "$(cat "$TMP/$1.res" 2>/dev/null)" = "$1 $2 $3 $4" ]
}

plant good.sh "ok 1 - a" "ok 2 - b" "1..2"
plant skip.sh "ok 1 - a" "ok 2 # SKIP not on this machine" "ok 3 - c # skip lower case" "1..3"
plant short.sh "ok 1 - a" "ok 2 - b" "1..3"
plant long.sh "ok 1 - a" "ok 2 - b" "ok 3 - c" "1..2"
plant noplan.sh "ok 1 - a" "ok 2 - b"
plant failed.sh "ok 1 - a" "not ok 2 - b" "1..2"
plant cmocka "[==========] Running 2 test(s)." "[       OK ] t1" "[       OK ] t2" \
	"[==========] 2 test(s) run." "[  PASSED  ] 2 test(s)."
plant cmocka-short "[==========] Running 3 test(s)." "[       OK ] t1" "[       OK ] t2" \
	"[==========] 3 test(s) run." "[  PASSED  ] 2 test(s)."
plant cmocka-died "[==========] Running 2 test(s)." "[       OK ] t1"
printf '#!/usr/bin/env bash\necho "ok 1 - a"\nsleep 60\necho "1..1"\n' >"$TMP/hang.sh"
printf '#!/usr/bin/env bash\necho "ok 1 - a"\necho "1..1"\nexit 3\n' >"$TMP/status.sh"
chmod +x "$TMP/hang.sh" "$TMP/status.sh"

runs good "$TMP/good.sh" "$TMP/cmocka"
if [ "$RC" -eq 0 ] && recorded good 4 0 0 && grep -q '^good: 4 passed, 0 failed, 0 skipped$' "$OUT"; then
	pass "a whole plan and a whole cmocka run: 4 passed, status 0"
else
	fail_run "a whole plan and a whole cmocka run: 4 passed, status 0" "recorded: $(cat "$TMP/good.res")"
fi

runs skip "$TMP/skip.sh"
if [ "$RC" -eq 0 ] && recorded skip 1 0 2; then
	pass "a SKIP directive counts as skipped, not passed"
else
	fail_run "a SKIP directive counts as skipped, not passed" "recorded: $(cat "$TMP/skip.res")"
fi

# bad NAME DESCRIPTION REGEX P: the runner fails $TMP/NAME with one failure,
# P passes, and a line matching REGEX naming it.
bad() {
	runs "$1" "$TMP/$1"
	if [ "$RC" -ne 0 ] && recorded "$1" "$4" 1 0 && grep -Eq "^$1 $1: FAILED: $3" "$OUT"; then
		pass "$2"
	else
		fail_run "$2" "recorded: $(cat "$TMP/$1.res" 2>/dev/null)"
	fi
}
bad short.sh "a plan longer than the tests that ran fails the script" 'plan 1\.\.3, but 2 tests ran' 2
bad long.sh "a plan shorter than the tests that ran fails the script" 'plan 1\.\.2, but 3 tests ran' 3
bad noplan.sh "a script that ends without its plan fails" 'no plan' 2
bad status.sh "a script that exits non-zero after passing fails" 'exited with status 3' 1
bad cmocka-short "a cmocka run whose results fall short of its count fails" 'it reports 3 tests run, but 2' 2
bad cmocka-died "a cmocka run that stops before its count fails" 'no .* line' 1
LIMIT=5 bad hang.sh "a program that outlives TEST_TIMEOUT fails, named" 'timed out after 5 s' 1

runs failed "$TMP/failed.sh"
if [ "$RC" -ne 0 ] && recorded failed 1 1 0; then
	pass "a 'not ok' line is one failure, and the run's status says so"
else
	fail_run "a 'not ok' line is one failure, and the run's status says so"
fi

# The summary over every run above, and one that recorded nothing.
cat "$TMP"/*.res >"$TMP/all.res"
cat "$TMP"/*.res.failed >"$TMP/all.res.failed"
run "$SUMMARY" "$TMP/all.res" good skip
if [ "$RC" -eq 0 ] && [ "$(cat "$OUT")" = "18 passed, 8 failed, 2 skipped" ]; then
	fail_run "the summary fails when anything failed" "it exited 0"
elif [ "$(tail -n1 "$OUT")" = "18 passed, 8 failed, 2 skipped" ]; then
	pass "the summary adds up every run in one line, and fails"
else
	fail_run "the summary adds up every run in one line, and fails"
fi
# The end of a long log must say what failed: the summary names each failure
# again, before its closing line, and nothing that passed.
if sed '$d' "$OUT" | grep -q '^failed failed.sh: not ok 2 - b$' &&
	sed '$d' "$OUT" | grep -q '^noplan.sh noplan.sh: FAILED: no plan' &&
	sed '$d' "$OUT" | grep -q '^cmocka-died cmocka-died: FAILED: no "' &&
	! grep -q 'good.sh' "$OUT"; then
	pass "the summary names every failure again before its closing line"
else
	fail_run "the summary names every failure again before its closing line"
fi
run "$SUMMARY" "$TMP/skip.res" skip asan
if [ "$RC" -ne 0 ] && [ "$(tail -n1 "$OUT")" = "1 passed, 1 failed, 2 skipped" ] &&
	grep -q "the run 'asan' recorded no results" "$OUT"; then
	pass "a run that recorded nothing (its build failed) counts as a failure"
else
	fail_run "a run that recorded nothing (its build failed) counts as a failure"
fi
run "$SUMMARY" "$TMP/good.res" good
if [ "$RC" -eq 0 ] && [ "$(cat "$OUT")" = "4 passed, 0 failed, 0 skipped" ]; then
	pass "with nothing failed, the summary is the one line and exits 0"
else
	fail_run "with nothing failed, the summary is the one line and exits 0"
fi
# A port picked at random can be one a client socket holds (the kernel's
# range for outgoing connections starts at 32768): every test that listens
# takes its ports from lib.sh's free_ports.
if grep -nE '[0-9]{4,} \+ RANDOM' "$BATON_SRC"/tests/cli/*.sh | grep -v '/lib\.sh:' >"$TMP/ports.txt"; then
	fail "every test picks its ports with free_ports, none at random" "$(cat "$TMP/ports.txt")"
else
	pass "every test picks its ports with free_ports, none at random"
fi
done_testing
