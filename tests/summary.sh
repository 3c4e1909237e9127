#!/usr/bin/env bash
# summary.sh RESULTS [LABEL...]: adds up the runs run-tests.sh recorded in
# RESULTS ("label passed failed skipped" lines) and prints the closing line,
# "N passed, N failed, N skipped"; exits 1 when anything failed. Each LABEL
# named must have recorded a run: one that did not (its build failed, or it
# was interrupted) counts as a failure, named on a line before.
set -u
results=$1
shift
passed=0 failed=0 skipped=0
if [ -r "$results" ]; then
	while read -r _ p f s; do
		passed=$((passed + p))
		failed=$((failed + f))
		skipped=$((skipped + ${s:-0}))
	done <"$results"
fi
for l in "$@"; do
	if ! grep -q "^$l " "$results" 2>/dev/null; then
		echo "summary: the run '$l' recorded no results (its build failed?)"
		failed=$((failed + 1))
	fi
done
if [ -s "$results.failed" ]; then
	echo "summary: what failed (from the lines above):"
	head -n 400 "$results.failed"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
