#!/usr/bin/env bash
# run-tests.sh RESULTS LABEL PROGRAM...: runs each test program, prints its
# result lines prefixed with LABEL and its name, appends
# "LABEL passed failed skipped" for this run to RESULTS, prints the run's
# totals, and exits 1 when anything failed. Each failure's lines (its "not ok"
# line with the details after it, or why a program failed with the end of its
# output) are also appended to RESULTS.failed, which summary.sh prints again
# at the very end, where a log's last lines always show them.
#
# Shell tests (tests/cli/*.sh) print TAP: "ok N - ...", "not ok N - ...",
# "ok N # SKIP why" (a skip, not a pass), and a plan "1..N" once they reach
# their end (lib.sh's done_testing). A script whose plan is missing, or does
# not match the number of test lines it printed, failed: it died midway.
# cmocka binaries are counted from their [ OK ] / [ FAILED ] / [ SKIPPED ]
# lines, which must add up to the "[==========] N test(s) run." they report.
# A program that exits non-zero without reporting a failure, or runs longer
# than TEST_TIMEOUT seconds (default 1800: only a hang takes that long),
# counts as one failure.
set -u
results=$1 label=$2
shift 2
limit=${TEST_TIMEOUT:-1800}
passed=0 failed=0 skipped=0
failures=$results.failed
for t in "$@"; do
	name=$(basename "$t")
	out=$(timeout --kill-after=10 "$limit" "$t" 2>&1)
	rc=$?
	printf '%s\n' "$out" |
		grep -E '^\[ *(OK|FAILED|SKIPPED) *\]|^\[=+\] [0-9]+ test|^(not )?ok [0-9]|^1\.\.[0-9]' |
		sed "s|^|$label $name: |"
	why=""
	if printf '%s\n' "$out" | grep -qE '^(not )?ok [0-9]|^1\.\.[0-9]'; then
		s=$(printf '%s\n' "$out" | grep -ciE '^ok [0-9]+[^#]*#[[:space:]]*skip')
		p=$(($(printf '%s\n' "$out" | grep -cE '^ok [0-9]') - s))
		f=$(printf '%s\n' "$out" | grep -cE '^not ok [0-9]')
		# A failed check, and the "# ..." details that follow it.
		printf '%s\n' "$out" | awk '/^not ok [0-9]/ { d = 1; print; next }
			d && /^#/ { print; next } { d = 0 }' | head -n 200 |
			sed "s|^|$label $name: |" >>"$failures"
		printf '%s\n' "$out" | grep -E '^#' | sed "s|^|$label $name: |"
		plans=$(printf '%s\n' "$out" | grep -cE '^1\.\.[0-9]+$')
		plan=$(printf '%s\n' "$out" | sed -n 's/^1\.\.\([0-9][0-9]*\)$/\1/p' | tail -n1)
		if [ "$plans" -eq 0 ]; then
			why="no plan (1..N): the script stopped before its end"
		elif [ "$plans" -gt 1 ]; then
			why="$plans plans"
		elif [ "$plan" -ne $((p + f + s)) ]; then
			why="plan 1..$plan, but $((p + f + s)) tests ran"
		fi
	else
		p=$(printf '%s\n' "$out" | grep -cE '^\[       OK \]')
		# ... and each skipped test twice, too.
		s=$(printf '%s\n' "$out" | grep -E '^\[  SKIPPED \] [A-Za-z0-9_.-]+$' | sort -u | wc -l)
		# cmocka names each failed test twice (as it fails, and in the summary).
		f=$(printf '%s\n' "$out" | grep -E '^\[  FAILED  \] [A-Za-z0-9_.-]+$' | sort -u | wc -l)
		printf '%s\n' "$out" | grep -E '^\[  ERROR   \]|^\[   LINE   \]' | sed "s|^|$label $name: |"
		printf '%s\n' "$out" | grep -E '^\[  (ERROR|FAILED)  ? *\]|^\[   LINE   \]' | head -n 200 |
			sed "s|^|$label $name: |" >>"$failures"
		# A program may run several groups: each reports its count.
		ran=$(printf '%s\n' "$out" | sed -n 's/^\[=\{10\}\] \([0-9][0-9]*\) test(s) run\./\1/p' |
			awk '{ n += $1 } END { if (NR) print n }')
		if [ -z "$ran" ]; then
			why="no \"[==========] N test(s) run.\" line: the program stopped before its end"
		elif [ "$ran" -ne $((p + f + s)) ]; then
			why="it reports $ran tests run, but $((p + f + s)) results"
		fi
	fi
	if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		why="timed out after $limit s, or killed (exit status $rc)${why:+; $why}"
	elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		why="exited with status $rc${why:+; $why}"
	fi
	if [ -n "$why" ]; then
		{
			printf '%s\n' "$out" | tail -20 | sed "s|^|$label $name: |"
			echo "$label $name: FAILED: $why"
		} | tee -a "$failures"
		f=$((f + 1))
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	skipped=$((skipped + s))
done
echo "$label $passed $failed $skipped" >>"$results"
echo "$label: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
