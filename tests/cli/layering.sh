#!/usr/bin/env bash
# The layers are kept (tests/layering-check.sh): no file outside proto/
# includes proto/'s private header or a header of a layer above it, no
# installed header includes a private one, and libbaton.a defines only
# baton_ and bti_ symbols. The check is run on this tree, and on copies with
# one planted violation each, which it must report.
. "$(dirname "$0")/lib.sh"

CHECK=$BATON_SRC/tests/layering-check.sh
LIB=$(dirname "$BATON")/libbaton.a

check "libbaton.a is beside the binary" test -f "$LIB"
check "this tree keeps its layers" "$CHECK" "$BATON_SRC" "$LIB"

# A copy of the sources to plant violations in.
copy() {
	rm -rf "$TMP/src"
	mkdir "$TMP/src"
	for d in include internal proto keys store node cli demo; do
		[ -d "$BATON_SRC/$d" ] && cp -r "$BATON_SRC/$d" "$TMP/src/$d"
	done
}
# planted WHAT FILE LINE PATTERN: FILE in a fresh copy gets LINE after its first
# include; the check must fail naming PATTERN.
planted() {
	local what=$1 file=$2 line=$3 pattern=$4
	copy
	sed -i "0,/^#include/s||$line\n#include|" "$TMP/src/$file"
	run "$CHECK" "$TMP/src" "$LIB"
	if [ "$RC" -eq 1 ] && grep -q -- "$pattern" "$OUT"; then
		pass "$what is reported"
	else
		fail "$what is reported" "exit $RC; output: $(head -c 300 "$OUT")"
	fi
}
copy
check "an unchanged copy passes" "$CHECK" "$TMP/src" "$LIB"
planted "node/ including proto/'s private header" node/record.c '#include "proto_impl.h"' \
	'record.c:.*"proto_impl.h" (proto/)'
planted "store/ including a node/ header" store/env.c '#include "record.h"' \
	'env.c:.*"record.h" (node/)'
planted "node/ including a cli/ header" node/transfer.c '#include "cli.h"' '"cli.h" (cli/)'
planted "a header reached by a relative path" cli/main.c '#include "../proto/proto_impl.h"' \
	'not in the tree'
planted "an installed header including a private one" include/baton/keys.h '#include "bti.h"' \
	'installed header includes a private one'

# A library with one unprefixed global symbol beside the real ones.
cp "$LIB" "$TMP/lib.a"
printf 'int enc_init(void);\nint enc_init(void) { return 0; }\n' >"$TMP/plant.c"
if cc -c -o "$TMP/plant.o" "$TMP/plant.c" && ar rs "$TMP/lib.a" "$TMP/plant.o" 2>/dev/null; then
	copy
	run "$CHECK" "$TMP/src" "$TMP/lib.a"; cp "$OUT" "$TMP/nm.out"
	check "a library exporting enc_init is refused" test "$RC" -eq 1
	check "the check names the symbol" grep -q "exports enc_init, without the baton_ or bti_ prefix" "$TMP/nm.out"
else
	fail "a library exporting enc_init is refused" "could not build the planted library"
fi
done_testing
