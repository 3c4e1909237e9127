#!/usr/bin/env bash
# The manual pages in man/ and the bash completion in dist/baton.bash say
# what the binary does: every page is clean under mandoc -Tlint -Wwarning
# and names only pages that exist; every command the binary dispatches is in
# baton(1), and every subcommand in a synopsis; every long option of the
# sources' getopt tables is in a page and in the completion, and neither has
# an option the sources do not; the completion offers exactly the binary's
# commands and subcommands, only options each command accepts, and
# completes files and directories where they are expected.
. "$(dirname "$0")/lib.sh"

MAN=$BATON_SRC/man
COMPLETION=$BATON_SRC/dist/baton.bash
SKIPPED() {
	T=$((T + 1))
	echo "ok $T # SKIP $1"
}

# same_set DESCRIPTION WANT GOT: passes when the two word lists hold the
# same words, else names those missing from GOT and those only in GOT.
same_set() {
	local missing extra
	missing=$(comm -23 <(tr ' ' '\n' <<<"$2" | sed '/^$/d' | sort -u) \
		<(tr ' ' '\n' <<<"$3" | sed '/^$/d' | sort -u) | tr '\n' ' ')
	extra=$(comm -13 <(tr ' ' '\n' <<<"$2" | sed '/^$/d' | sort -u) \
		<(tr ' ' '\n' <<<"$3" | sed '/^$/d' | sort -u) | tr '\n' ' ')
	if [ -z "$missing$extra" ] && [ -n "$2" ]; then
		pass "$1"
	else
		fail "$1" "missing: ${missing:-none}" "not expected: ${extra:-none}"
	fi
}

# ---- what the binary and the sources say ----

# The commands baton dispatches, from its own list.
run "$BATON" help
COMMANDS=$(sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p' "$OUT" | tr '\n' ' ')
if [ -n "$COMMANDS" ]; then
	pass "baton help lists the commands ($(wc -w <<<"$COMMANDS"))"
else
	fail_run "baton help lists the commands"
fi

# subs CMD: the subcommands of CMD, from its --help: the table of a command
# group and the second words of its usage lines (baton audit verify, ...).
subs() {
	"$BATON" "$1" --help 2>&1 </dev/null | sed -n \
		-e '/^Commands:/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p' \
		-e "s/^\(usage:\)\{0,1\} *baton $1 \([a-z][a-z-]*\).*/\2/p" | sort -u | tr '\n' ' '
}
declare -A SUBS
for c in $COMMANDS; do
	SUBS[$c]=$(subs "$c")
done

# The long options of every getopt table in the node's sources, and those
# of them that take a value.
SRC_OPTS=$(grep -ho '"[a-z][a-z-]*", *\(required\|no\|optional\)_argument' \
	"$BATON_SRC"/cli/cmd_*.c "$BATON_SRC"/cli/cli.h | sed 's/^"\([^"]*\)".*/--\1/' | sort -u |
	tr '\n' ' ')
SRC_VALUED=$(grep -ho '"[a-z][a-z-]*", *required_argument' \
	"$BATON_SRC"/cli/cmd_*.c "$BATON_SRC"/cli/cli.h | sed 's/^"\([^"]*\)".*/--\1/' | sort -u |
	tr '\n' ' ')
# main.c takes --version (and --help) before any command.
MAIN_OPTS=$(grep -ho 'strcmp(argv\[1\], "--[a-z-]*")' "$BATON_SRC/cli/main.c" |
	sed 's/.*"\(--[a-z-]*\)".*/\1/' | sort -u | tr '\n' ' ')
if [ -n "$SRC_OPTS" ] && [ -n "$SRC_VALUED" ]; then
	pass "the sources' getopt tables name $(wc -w <<<"$SRC_OPTS") long options"
else
	fail "the sources' getopt tables name long options" "found none in $BATON_SRC/node"
fi

# ---- the pages ----

shopt -s nullglob
PAGES=("$MAN"/*.[1-8])
shopt -u nullglob
if [ -f "$MAN/baton.1" ] && [ -f "$MAN/baton-serve.8" ]; then
	pass "man/ holds baton.1, baton-serve.8 and $((${#PAGES[@]} - 2)) more"
else
	fail "man/ holds baton.1 and baton-serve.8" "found: ${PAGES[*]:-no pages in $MAN}"
fi

if command -v mandoc >/dev/null; then
	for p in "${PAGES[@]}"; do
		run mandoc -Tlint -Wwarning "$p"
		if [ "$RC" -eq 0 ] && [ ! -s "$OUT" ] && [ ! -s "$ERR" ]; then
			pass "mandoc -Tlint -Wwarning $(basename "$p"): no message"
		else
			fail_run "mandoc -Tlint -Wwarning $(basename "$p"): no message"
		fi
	done
else
	SKIPPED "mandoc is not installed ('make deps' installs it): the pages are not linted"
fi

# Every baton page a page refers to exists.
xrefs=$(cat "${PAGES[@]}" /dev/null | sed -n 's/^\.Xr \(baton[a-z-]*\) \([1-8]\).*/\1.\2/p' | sort -u)
dangling=""
for x in $xrefs; do
	[ -f "$MAN/$x" ] || dangling="$dangling $x"
done
if [ -n "$xrefs" ] && [ -z "$dangling" ]; then
	pass "every baton page named in an .Xr is in man/"
else
	fail "every baton page named in an .Xr is in man/" "missing:${dangling:- no .Xr found}"
fi

# Every command the binary dispatches has its item in baton(1), which names
# its subcommands.
missing=""
for c in $COMMANDS; do
	item=$(grep -E "^\.It Cm $c( |$)" "$MAN/baton.1" 2>/dev/null)
	[ -n "$item" ] || missing="$missing $c"
	for s in ${SUBS[$c]}; do
		[[ " $item " == *" $s "* ]] || missing="$missing '$c $s'"
	done
done
if [ -n "$COMMANDS" ] && [ -z "$missing" ]; then
	pass "every command baton dispatches is in baton(1)"
else
	fail "every command baton dispatches is in baton(1)" "missing:$missing"
fi

# Every subcommand has a synopsis line: ".Nm baton CMD SUB", or ".Nm baton
# CMD" then ".Op Cm SUB" for the one a group runs by default.
missing=""
for c in $COMMANDS; do
	for s in ${SUBS[$c]}; do
		awk -v c="$c" -v s="$s" '
			$0 ~ "^\\.Nm baton " c " " s "( |$)" { found = 1 }
			prev == ".Nm baton " c && $0 ~ "^\\.Op Cm " s "( |$)" { found = 1 }
			{ prev = $0 }
			END { exit !found }' "${PAGES[@]}" /dev/null || missing="$missing '$c $s'"
	done
done
if [ -z "$missing" ]; then
	pass "every subcommand baton dispatches has a synopsis in a page"
else
	fail "every subcommand baton dispatches has a synopsis in a page" "missing:$missing"
fi

# Every long option of the sources is in a page; no page names another.
PAGE_OPTS=$(cat "${PAGES[@]}" /dev/null | grep -o 'Fl -[a-z][a-z-]*' | sed 's/^Fl -/--/' | sort -u |
	tr '\n' ' ')
missing=""
for o in $SRC_OPTS; do
	[[ " $PAGE_OPTS " == *" $o "* ]] || missing="$missing $o"
done
if [ -n "$SRC_OPTS" ] && [ -z "$missing" ]; then
	pass "every long option in the sources' getopt tables is in a page"
else
	fail "every long option in the sources' getopt tables is in a page" "missing:$missing"
fi
extra=""
for o in $PAGE_OPTS; do
	[[ " $SRC_OPTS $MAIN_OPTS " == *" $o "* ]] || extra="$extra $o"
done
if [ -n "$PAGE_OPTS" ] && [ -z "$extra" ]; then
	pass "every option the pages name is one the sources take"
else
	fail "every option the pages name is one the sources take" \
		"not in the sources:${extra:- (no options in the pages)}"
fi

# Every BATON_ variable the sources read, a test-only BATON_TEST_ one aside,
# is under ENVIRONMENT in baton(1) or baton-serve(8).
SRC_ENV=$(cat "$BATON_SRC"/cli/*.c "$BATON_SRC"/node/*.c "$BATON_SRC"/store/*.c |
	grep -o '"BATON_[A-Z_]*"' | tr -d '"' | grep -v '^BATON_TEST_' | sort -u | tr '\n' ' ')
PAGE_ENV=$(cat "$MAN/baton.1" "$MAN/baton-serve.8" |
	sed -n '/^\.Sh ENVIRONMENT/,/^\.Sh /s/^\.It Ev \(BATON_[A-Z_]*\).*/\1/p' | sort -u | tr '\n' ' ')
same_set "every BATON_ variable the sources read is under ENVIRONMENT" "$SRC_ENV" "$PAGE_ENV"

# ---- the completion ----

if ! [ -f "$COMPLETION" ] || ! . "$COMPLETION" || ! declare -F _baton >/dev/null; then
	fail "dist/baton.bash defines _baton" "$COMPLETION"
	done_testing
fi
pass "dist/baton.bash defines _baton"
check_out '_baton' "it registers _baton for baton" complete -p baton

same_set "the completion's commands are the binary's" "$COMMANDS" "$_baton_commands"
# Every "command subcommand" pair, as the binary and as the completion has them.
want="" got=""
for c in $COMMANDS; do
	for s in ${SUBS[$c]}; do want="$want $c:$s"; done
	for s in $(_baton_subs "$c"); do got="$got $c:$s"; done
done
same_set "the completion's subcommands are the binary's" "$want" "$got"

# The options the completion offers anywhere, and those it takes a value of.
all=""
for c in $COMMANDS; do
	all="$all $(_baton_opts "$c")"
	for s in ${SUBS[$c]}; do
		all="$all $(_baton_opts "$c" "$s")"
	done
done
same_set "the completion offers every long option of the sources, and no other" \
	"$SRC_OPTS" "$all $_baton_common"
same_set "the completion's options with a value are the sources' required_argument ones" \
	"$SRC_VALUED" "$_baton_valued"

# accepts CMD SUB OPT: the binary takes OPT there. Given with its --help,
# nothing runs: getopt reports an option it does not know, a command group
# one that is not its subcommand.
accepts() {
	local arg=$3
	[[ " $SRC_VALUED " == *" $3 "* ]] && arg="$3=x"
	BATON_DIR=$TMP/no-node timeout 60 "$BATON" $1 $2 "$arg" --help >/dev/null 2>"$TMP/accepts.err" </dev/null
	! grep -Eq "unrecognized option|is not a command|doesn't allow an argument" "$TMP/accepts.err"
}
refused=""
n=0
for c in $COMMANDS; do
	for s in "" ${SUBS[$c]}; do
		for o in $(_baton_opts "$c" "$s"); do
			n=$((n + 1))
			accepts "$c" "$s" "$o" || refused="$refused '$c${s:+ $s} $o'"
		done
	done
done
if [ "$n" -gt 0 ] && [ -z "$refused" ]; then
	pass "the binary takes each of the $n options the completion offers, where it offers it"
else
	fail "the binary takes each option the completion offers, where it offers it" \
		"refused:${refused:- (nothing offered)}"
fi

# complete WORD...: COMPREPLY for the command line WORD..., the last being
# the word under the cursor, in $TMP.
complete_line() {
	COMP_WORDS=("$@")
	COMP_CWORD=$(($# - 1))
	COMPREPLY=()
	_baton
	GOT=$(printf '%s\n' "${COMPREPLY[@]}" | sed '/^$/d' | sort | tr '\n' ' ')
}
# completes DESCRIPTION "WANT" WORD...: COMPREPLY is exactly WANT (sorted words).
completes() {
	local desc=$1 want
	want=$(tr ' ' '\n' <<<"$2" | sed '/^$/d' | sort | tr '\n' ' ')
	shift 2
	complete_line "$@"
	if [ "$GOT" = "$want" ]; then
		pass "$desc"
	else
		fail "$desc" "line: $*" "want: $want" "got:  $GOT"
	fi
}
mkdir -p "$TMP/nodes/lincoln" "$TMP/nodes/riverside"
touch "$TMP/nodes/lhs.card" "$TMP/nodes/notes.txt"
cd "$TMP/nodes" || exit 0

completes "the first word: every command, and help" "$COMMANDS help" baton ""
completes "help completes a command" "$COMMANDS" baton help ""
completes "help CMD completes its subcommands" "${SUBS[student]}" baton help student ""
completes "--dir before the command completes directories" "lincoln riverside" baton --dir ""
completes "--dir is offered before the command" "--dir" baton --di
completes "the first word, begun" "student" baton stu
completes "the second word of a group" "${SUBS[student]}" baton student ""
completes "the second word of a group, begun" "show" baton consent sh
completes "an option of a command" "--again" baton send S-1001 --ag
completes "an option of a subcommand" "--version" baton student show --ver
completes "--dir completes directories only" "lincoln riverside" baton send --dir ""
completes "--dir=, split at '=', too" "lincoln" baton student list --dir = li
completes "a FILE operand completes files" "lhs.card lincoln" baton peer add l
completes "a file option completes files" "notes.txt" baton send S --consent no
completes "--sections completes the last name of a list" "all,health" \
	baton consent grant --sections all,he
completes "no file where an id is expected" "" baton student show ""

done_testing
