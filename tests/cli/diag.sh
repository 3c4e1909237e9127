#!/usr/bin/env bash
# An error is explained by what caused it, never by an older message. A
# cohort is sent whose first consent is refused (its reason is recorded),
# while the Nth allocation fails (tests/tools/inject.c), for every N: a run
# that fails must say so in one line of its own, never with the refused
# consent's reason or a null string.
. "$(dirname "$0")/lib.sh"

export BATON_PASSPHRASE="a long enough passphrase" # the parent's key
A=$TMP/lhs SNAP=$TMP/snap
DATA=$BATON_SRC/tests/data

for n in "$A:Lincoln High School:LHS-001" "$TMP/ras:Riverside Academy:RAS-204" "$TMP/oth:Other School:OTH-9"; do
	IFS=: read -r dir name code <<<"$n"
	check "init $code" "$BATON" init --name "$name" --code "$code" --dir "$dir" --no-passphrase
	check "card of $code" "$BATON" card --dir "$dir" --out "$TMP/$code.card"
done
check "A pins B" "$BATON" peer add "$TMP/RAS-204.card" --dir "$A"
check "A pins C" "$BATON" peer add "$TMP/OTH-9.card" --dir "$A"
check "A imports the sample school" "$BATON" student import "$DATA/school.json" --dir "$A"
check "the parent makes a key" "$BATON" guardian keygen --out "$TMP/parent.key"
run "$BATON" guardian pubkey "$TMP/parent.key"
PK=$(head -n1 "$OUT")
mkdir -p "$TMP/cs"
for s in S-1018 S-1019; do
	check "A links the parent to $s" "$BATON" guardian link "$s" "$PK" --dir "$A"
done
# a.consent names another school: refused, with its reason, before b.consent is sealed.
check "a consent for another school" "$BATON" consent grant --key "$TMP/parent.key" --student S-1018 \
	--from "$TMP/LHS-001.card" --to "$TMP/OTH-9.card" --sections all --yes --out "$TMP/cs/a.consent"
check "a consent for B" "$BATON" consent grant --key "$TMP/parent.key" --student S-1019 \
	--from "$TMP/LHS-001.card" --to "$TMP/RAS-204.card" --sections all --yes --out "$TMP/cs/b.consent"
cp -r "$A" "$SNAP"
REASON='the consent names OTH-9'

# Under ASan the shim goes ahead of the sanitizer's runtime (as in fault.sh),
# and every seventh N is tried: the plain build tries them all.
STEP=1
if grep -aq '__asan_init' "$(readlink -f "$BATON")" 2>/dev/null; then
	STEP=7
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
	echo 'leak:dl_open_worker' >"$TMP/lsan.supp"
	LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$TMP/lsan.supp:print_suppressions=0"
	export ASAN_OPTIONS LSAN_OPTIONS
fi
tool BATON_INJECT inject.so || done_testing
SHIM=$BATON_INJECT
run env LD_PRELOAD="$SHIM" BATON_FAULT_KIND=alloc BATON_FAULT_COUNT="$TMP/count" \
	"$BATON" send --to RAS-204 --consents "$TMP/cs" --dir "$A"
C=$(cat "$TMP/count" 2>/dev/null)
if [ "$RC" -eq 2 ] && grep -q "^S-1018 .*refused (ETO): $REASON" "$OUT" && [ "${C:-0}" -gt 0 ]; then
	pass "without a fault: S-1018 refused, S-1019 sent; $C allocations"
else
	fail_run "without a fault: S-1018 refused, S-1019 sent" "counted: ${C:-0}"
fi
stale='' null='' bad='' sanitizer='' failed=0
for n in $(seq 1 "$STEP" "${C:-0}"); do
	rm -rf "$A"
	cp -r "$SNAP" "$A"
	env LD_PRELOAD="$SHIM" BATON_FAULT_KIND=alloc BATON_FAULT_N="$n" \
		"$BATON" send --to RAS-204 --consents "$TMP/cs" --dir "$A" >"$TMP/o" 2>"$TMP/e"
	rc=$?
	# Under ASan, an allocation failed inside the sanitizer's own start of a
	# thread (pthread_getattr_np) stops the run with its internal CHECK: the
	# runtime's failure, not the command's; such runs are counted apart.
	if [ "$rc" -eq 1 ] && [ "$STEP" -ne 1 ] && grep -Eq 'Sanitizer:? CHECK failed' "$TMP/e"; then
		sanitizer="$sanitizer $n"
		continue
	fi
	case $rc in 0 | 2) ;; 3) failed=$((failed + 1)) ;; *) bad="$bad $n:$rc" ;; esac
	grep -q "$REASON" "$TMP/e" && stale="$stale $n"
	grep -q '(null)' "$TMP/e" && null="$null $n"
done
check "some runs failed (exit 3): $failed" test "$failed" -gt 0
check "every run exited 0, 2 or 3${bad:+ (not:$bad)}" test -z "$bad"
[ -z "$sanitizer" ] || echo "# runs stopped by the sanitizer's own CHECK (an allocation inside its thread start):$sanitizer"
check "no failure was explained by the refused consent's reason${stale:+ (N =$stale)}" test -z "$stale"
check "no failure printed a null string${null:+ (N =$null)}" test -z "$null"
done_testing
