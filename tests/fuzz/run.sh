#!/usr/bin/env bash
# Runs libFuzzer harnesses for SECONDS each and prints one line per harness:
#   fuzz NAME: N execs, E exec/s, ok
#
# Usage: run.sh BUILDDIR SECONDS NAME...
#
# Each harness fuzzes the corpus BUILDDIR/corpus/NAME, which keeps what
# earlier runs found and is seeded with the files in tests/fuzz/seeds/NAME/
# (when that directory exists) and with the "input" of every
# tests/vectors/*.json whose "kind" is NAME without its "fuzz_" prefix
# (fuzz_msgpack takes every vector's input). The vectors are read with
# python3; without it they are skipped. Crash inputs go to BUILDDIR/crashes,
# full output to BUILDDIR/logs/NAME.log. Exits 1 if any harness fails.
set -u
if [ $# -lt 3 ]; then
	echo "usage: $0 BUILDDIR SECONDS NAME..." >&2
	exit 2
fi
builddir=$1 seconds=$2
shift 2
root=$(cd "$(dirname "$0")/../.." && pwd)
seeds=$root/tests/fuzz/seeds
vectors=$root/tests/vectors

have_python=0
if command -v python3 >/dev/null 2>&1; then
	have_python=1
else
	echo "fuzz: python3 not found; not seeding the corpora from tests/vectors" >&2
fi

# Writes the inputs of the vectors for harness $2 from directory $1 into $3.
extract_vectors() {
	python3 - "$1" "$2" "$3" <<'EOF'
import glob, json, os, sys

vdir, name, out = sys.argv[1:4]
for path in sorted(glob.glob(os.path.join(vdir, "*.json"))):
    try:
        with open(path) as f:
            v = json.load(f)
        kind = v.get("kind")
        data = bytes.fromhex(v["input"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        continue
    if name != "fuzz_msgpack" and name != "fuzz_" + str(kind):
        continue
    base = os.path.splitext(os.path.basename(path))[0]
    with open(os.path.join(out, "vector-" + base), "wb") as f:
        f.write(data)
EOF
}

failed=0
for name in "$@"; do
	bin=$builddir/$name
	corpus=$builddir/corpus/$name
	log=$builddir/logs/$name.log
	mkdir -p "$corpus" "$builddir/crashes" "$builddir/logs"

	if [ -d "$seeds/$name" ]; then
		find "$seeds/$name" -maxdepth 1 -type f -exec cp -- {} "$corpus"/ \;
	fi
	if [ "$have_python" = 1 ] && [ -d "$vectors" ]; then
		extract_vectors "$vectors" "$name" "$corpus" ||
			echo "fuzz $name: could not read tests/vectors; continuing without them" >&2
	fi

	if [ ! -x "$bin" ]; then
		echo "fuzz $name: $bin is missing, FAILED"
		failed=1
		continue
	fi
	"$bin" -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$builddir/crashes/$name-" \
		"$corpus" >"$log" 2>&1
	rc=$?

	execs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | tail -1)
	execs=${execs:-0}
	# "Done N runs in T second(s)" gives the time; libFuzzer's own average
	# stands in when the line is missing (a crash, or an older libFuzzer).
	secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
	if [ -n "$secs" ] && [ "$secs" -gt 0 ]; then
		rate=$((execs / secs))
	else
		rate=$(sed -n 's/^stat::average_exec_per_sec: *\([0-9]*\).*/\1/p' "$log" | tail -1)
		rate=${rate:-0}
	fi

	if [ "$rc" -eq 0 ]; then
		echo "fuzz $name: $execs execs, $rate exec/s, ok"
		continue
	fi
	failed=1
	echo "fuzz $name: $execs execs, $rate exec/s, FAILED (exit status $rc; log $log)"
	grep -E '^==[0-9]+==ERROR|^SUMMARY:|runtime error:|^ *#[0-9]+ 0x|Test unit written to' "$log" |
		head -40 | sed "s|^|  |"
	artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
	if [ -n "$artifact" ] && [ -f "$artifact" ]; then
		echo "  $artifact ($(wc -c <"$artifact") bytes; hex, first 2048 bytes):"
		{
			od -An -v -tx1 "$artifact" | tr -d ' \n'
			echo
		} | fold -w 64 | head -64 | sed "s|^|    |"
	fi
done
exit "$failed"
