#!/usr/bin/env bash
# tests/layering-check.sh SRC LIB: the source tree SRC keeps its layers and
# the library LIB (libbaton.a) exports only prefixed symbols. Prints one line
# per violation and exits 1 when there is any, 0 when there is none.
#
# The layers, lowest first (a directory may include the headers of those
# listed after it, the public include/baton/ and internal/ headers, and its
# own): what the Makefile's INC_* lines give each directory to compile with.
set -u
SRC=$1 LIB=$2
declare -A MAY=(
	[proto]="proto"
	[keys]="keys"
	[store]="store"
	[node]="node store"
	[cli]="cli node store"
	[demo]=""
)
bad=0
# Where each quoted header lives: its directory's name.
declare -A HOME_OF
for d in proto keys store node cli internal; do
	for h in "$SRC/$d"/*.h; do
		[ -e "$h" ] && HOME_OF[$(basename "$h")]=$d
	done
done
for d in "${!MAY[@]}"; do
	for f in "$SRC/$d"/*.[ch]; do
		[ -e "$f" ] || continue
		while IFS=: read -r line inc; do
			h=${inc#*\"}
			h=${h%%\"*}
			home=${HOME_OF[$h]:-}
			[ "$h" = version.h ] && home=internal # written by the build
			[ "$h" = web_assets.h ] && home=node # the console's pages, written by the build from web/
			[ "$h" = edfi_descriptors.h ] && home=node # the Ed-Fi descriptor map, written by the build
			case " internal ${MAY[$d]} " in
			*" $home "*) ;;
			*)
				echo "$d/$(basename "$f"):$line: includes \"$h\" (${home:-not in the tree}/), which $d/ may not use"
				bad=1
				;;
			esac
		done < <(grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f" | cut -d: -f1,2)
	done
done
# The installed headers include only each other and system headers.
for f in "$SRC"/include/baton/*.h; do
	if grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f"; then
		echo "include/baton/$(basename "$f"): an installed header includes a private one"
		bad=1
	fi
done
# Every symbol the library defines for others: baton_ (the API) or bti_
# (shared between its own directories, never declared in an installed header).
# Names beginning with two underscores are the compiler's own (a sanitizer's
# __odr_asan.*), reserved to it by the C standard.
if ! syms=$(nm -g --defined-only "$LIB" 2>/dev/null); then
	echo "$LIB: nm cannot read it"
	exit 1
fi
while read -r sym; do
	echo "$LIB: exports $sym, without the baton_ or bti_ prefix"
	bad=1
done < <(printf '%s\n' "$syms" | awk 'NF == 3 && $2 ~ /[TDBRVWGSC]/ {print $3}' | grep -v '^baton_\|^bti_\|^__')
if grep -n '\bbti_' "$SRC"/include/baton/*.h; then
	echo "include/baton/: an installed header declares an internal bti_ name"
	bad=1
fi
exit $bad
