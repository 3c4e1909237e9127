#!/usr/bin/env bash
# Runs test programs and appends "passed failed" for this run to RESULTS.
# cmocka binaries are counted from their [ OK ] / [ FAILED ] lines; shell
# tests (tests/cli/*.sh) print TAP lines, "ok N - ..." / "not ok N - ...".
# A program that dies without reporting a failure counts as one failure.
set -u
results=$1 label=$2
shift 2
passed=0 failed=0
for t in "$@"; do
	name=$(basename "$t")
	out=$("$t" 2>&1)
	rc=$?
	printf '%s\n' "$out" | grep -E '^\[ *(OK|FAILED|SKIPPED) *\]|^\[=+\] [0-9]+ test|^(not )?ok [0-9]' |
		sed "s|^|$label $name: |"
	if printf '%s\n' "$out" | grep -qE '^(not )?ok [0-9]'; then
		p=$(printf '%s\n' "$out" | grep -cE '^ok [0-9]')
		f=$(printf '%s\n' "$out" | grep -cE '^not ok [0-9]')
		printf '%s\n' "$out" | grep -E '^#' | sed "s|^|$label $name: |"
	else
		p=$(printf '%s\n' "$out" | grep -cE '^\[       OK \]')
		# cmocka names each failed test twice (as it fails, and in the summary).
		f=$(printf '%s\n' "$out" | grep -E '^\[  FAILED  \] [A-Za-z0-9_.-]+$' | sort -u | wc -l)
		printf '%s\n' "$out" | grep -E '^\[  ERROR   \]|^\[   LINE   \]' | sed "s|^|$label $name: |"
	fi
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		printf '%s\n' "$out" | tail -20
		echo "$label $name: exited with status $rc"
		f=1
	fi
	passed=$((passed + p))
	failed=$((failed + f))
done
echo "$passed $failed" >>"$results"
exit 0
