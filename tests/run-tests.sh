#!/usr/bin/env bash
# Runs cmocka test binaries; appends "passed failed" for this run to RESULTS.
# A binary that dies without reporting counts as one failure.
set -u
results=$1 label=$2
shift 2
passed=0 failed=0
for t in "$@"; do
	out=$("$t" 2>&1)
	rc=$?
	printf '%s\n' "$out" | grep -E '^\[ *(OK|FAILED|ERROR|SKIPPED) *\]|^\[=+\] [0-9]+ test' | sed "s|^|$label $(basename "$t"): |"
	p=$(printf '%s\n' "$out" | grep -cE '^\[       OK \]')
	# cmocka names each failed test twice (as it fails, and in the summary): count names once.
	f=$(printf '%s\n' "$out" | grep -E '^\[  FAILED  \] [A-Za-z0-9_.-]+$' | sort -u | wc -l)
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		printf '%s\n' "$out" | tail -20
		echo "$label $(basename "$t"): exited with status $rc"
		f=1
	fi
	passed=$((passed + p))
	failed=$((failed + f))
done
echo "$passed $failed" >>"$results"
exit 0
