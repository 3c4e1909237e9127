#!/usr/bin/env bash
# Adds up the runs recorded by run-tests.sh and prints the closing line.
set -u
passed=0 failed=0
while read -r p f; do
	passed=$((passed + p))
	failed=$((failed + f))
done <"$1"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
