# bash completion for baton(1)
#
# Completes commands, the subcommands of command groups, each command's
# options, file names where a file is expected and directories for --dir.
# The tables below are checked against the binary and its sources by
# tests/cli/manpages.sh: a command or option added to baton fails that test
# until it is added here too.

_baton_commands="init card endpoint rekey peer directory student review guardian consent serve send import \
receipt request requests release deny policy inbox outbox audit backup restore upgrade user web mail \
authority"

# The options every command takes (CLI_COMMON_OPTS).
_baton_common="--dir --json --passphrase-file --no-passphrase --yes --help"

# The options that take a value, of every command.
_baton_valued="--dir --passphrase-file --name --code --endpoint --out --rotation-out \
--card-out --expect --rotation --version --as --relation --key --student --from --to \
--sections --purpose --expires --role --consent --consents --listen --receipt-out --note \
--reason --against --card --school --password-file --web --web-cert --web-key --cert --host --url \
--section --text-file --held --replay --server --user --ca --file --birth-date --notice-file --sensitive \
--format --filter --descriptor-map"

# _baton_subs CMD: the second words of CMD.
_baton_subs() {
	case $1 in
	peer) echo "add update list remove" ;;
	directory) echo "trust untrust update url show" ;;
	endpoint) echo "set" ;;
	student) echo "import list show export dissent erase erasures" ;;
	review) echo "list show accept reject" ;;
	guardian) echo "keygen pubkey link unlink invite invites confirm cancel email" ;;
	consent) echo "grant revoke show import list check" ;;
	receipt) echo "import" ;;
	policy) echo "retention terms enrolment-exception" ;;
	outbox) echo "export" ;;
	audit) echo "verify sign held copy check" ;;
	user) echo "add list remove passwd" ;;
	web) echo "set show selfsigned hash" ;;
	mail) echo "set show test flush" ;;
	authority) echo "init add remove list sign" ;;
	esac
}

# _baton_opts CMD [SUB]: the options of CMD SUB, common ones included; none
# for a group that needs its subcommand first.
_baton_opts() {
	local own
	case "$1 ${2:-}" in
	"init ") own="--name --code --endpoint" ;;
	"card ") own="--out --rotation-out --force" ;;
	"rekey ") own="--card-out --rotation-out" ;;
	"peer add") own="--expect --rotation" ;;
	"peer list" | "peer remove" | "peer update") own="" ;;
	"directory trust") own="--expect --name --url" ;;
	"directory untrust" | "directory update" | "directory url" | "directory show") own="" ;;
	"endpoint ") own="" ;;
	"endpoint set") own="--card-out --force" ;;
	"student import") own="--merge --dry-run --format --filter --descriptor-map" ;;
	"student list") own="" ;;
	"student show") own="--version" ;;
	"student export") own="--out --format --descriptor-map" ;;
	"student dissent") own="--section --text-file --key" ;;
	"student erase") own="--reason --received --held --expired --dry-run --replay --compact" ;;
	"student erasures") own="" ;;
	"review " | "review list" | "review show" | "review reject") own="" ;;
	"review accept") own="--as" ;;
	"guardian keygen") own="--out --qr" ;;
	"guardian pubkey") own="--qr" ;;
	"guardian link") own="--relation --restricted" ;;
	"guardian unlink") own="" ;;
	"guardian invite") own="--relation --url" ;;
	"guardian invites") own="--student" ;;
	"guardian confirm" | "guardian cancel") own="" ;;
	"guardian email") own="--remove" ;;
	"consent grant") own="--key --student --from --to --sections --purpose --expires --out --role --yes" ;;
	"consent revoke") own="--key --out" ;;
	"consent show") own="" ;;
	"consent import") own="--consent" ;;
	"consent list") own="--student" ;;
	"consent check") own="--to --sections" ;;
	"serve ") own="--listen --web --web-cert --web-key" ;;
	"send ") own="--to --consent --sections --out --consents --force --again" ;;
	"import ") own="--receipt-out --force" ;;
	"receipt import") own="" ;;
	"request ") own="--from --consent --sections --note --out --force --enrolling --student --name --birth-date" ;;
	"requests ") own="--all" ;;
	"release ") own="--out --force" ;;
	"deny ") own="--reason --out --force" ;;
	"policy " | "policy retention" | "inbox " | "outbox ") own="" ;;
	"policy terms") own="--file" ;;
	"policy enrolment-exception") own="--notice-file --sensitive" ;;
	"outbox export") own="--out --force" ;;
	"audit ") own="--student" ;;
	"audit verify") own="--against" ;;
	"audit sign") own="" ;;
	"audit held") own="--school --out" ;;
	"audit copy") own="--student --out" ;;
	"audit check") own="--key --card --against" ;;
	"backup " | "restore " | "upgrade ") own="" ;;
	"user add") own="--role --password-file" ;;
	"user passwd") own="--password-file" ;;
	"user list" | "user remove") own="" ;;
	"web set") own="--listen --cert --key --url" ;;
	"web show") own="" ;;
	"mail set") own="--server --from --user --password-file --ca" ;;
	"mail show" | "mail test" | "mail flush") own="" ;;
	"authority init") own="--name --out" ;;
	"authority add") own="--expect --replace" ;;
	"authority remove" | "authority list") own="" ;;
	"authority sign") own="--expires --out --force" ;;
	"web selfsigned")
		# Makes files only: no node directory, none of the common options.
		echo "--out --host --help"
		return
		;;
	"web hash")
		# Reads only the binary: no node directory.
		echo "--files --help"
		return
		;;
	*)
		echo "--help"
		return
		;;
	esac
	echo "$own $_baton_common"
}

# _baton_files CMD SUB: whether the operands of CMD SUB are files.
_baton_files() {
	case "$1 ${2:-}" in
	"peer add" | "peer update" | "directory update" | "student import" | "guardian pubkey" | "consent revoke" | "consent show" | \
		"consent import" | "consent check" | "import " | "receipt import" | "audit check" | "authority add") return 0 ;;
	esac
	return 1
}

# _baton_sub_at CMD CMD_INDEX INDEX: whether a subcommand of CMD may be the
# word at INDEX: audit finds it among its options, the others only right
# after the command.
_baton_sub_at() {
	[ "$1" = audit ] || [ "$3" -eq $(($2 + 1)) ]
}

# _baton_reply COMPGEN_ARGS...: COMPREPLY, one entry per line compgen prints.
_baton_reply() {
	mapfile -t COMPREPLY < <(compgen "$@")
}

_baton() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev="" cmd="" sub="" nargs=0 at=0 i w subs arg1=""
	[ "$COMP_CWORD" -gt 0 ] && prev=${COMP_WORDS[COMP_CWORD - 1]}
	# COMP_WORDBREAKS splits --opt=value into three words.
	if [ "$cur" = "=" ]; then
		cur=""
	elif [ "$prev" = "=" ] && [ "$COMP_CWORD" -gt 1 ]; then
		prev=${COMP_WORDS[COMP_CWORD - 2]}
	fi
	COMPREPLY=()

	# The command, its subcommand and how many operands precede the word.
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		if [ "$w" = "=" ]; then
			continue
		elif [[ $w == -* ]]; then
			# Skip its value: "--opt value", or "--opt = value" from --opt=value.
			if [ "${COMP_WORDS[i + 1]:-}" = "=" ]; then
				i=$((i + 2))
			elif [[ " $_baton_valued " == *" $w "* ]]; then
				i=$((i + 1))
			fi
		elif [ -z "$cmd" ]; then
			cmd=$w
			at=$i
		elif [ -z "$sub" ] && [ "$nargs" -eq 0 ] && _baton_sub_at "$cmd" "$at" "$i" &&
			[[ " $(_baton_subs "$cmd") " == *" $w "* ]]; then
			sub=$w
		else
			nargs=$((nargs + 1))
			[ "$nargs" -eq 1 ] && arg1=$w
		fi
	done

	# --dir is taken before the command too; other values belong to one.
	if [[ " $_baton_valued " == *" $prev "* ]] && { [ -n "$cmd" ] || [ "$prev" = --dir ]; }; then
		case $prev in
		--dir | --consents)
			compopt -o filenames 2>/dev/null
			_baton_reply -d -- "$cur"
			;;
		--role) _baton_reply -W "guardian student" -- "$cur" ;;
		--relation) _baton_reply -W "mother father guardian self" -- "$cur" ;;
		--section)
			_baton_reply -W "assessments attendance custody discipline english_learner \
enrollment graduation guardians health homeless identity section_504 special_education \
transcript" -- "$cur"
			;;
		--sections)
			# A comma-separated list: complete its last name.
			local head=""
			[[ $cur == *,* ]] && head=${cur%,*},
			_baton_reply -P "$head" -W "all assessments attendance custody discipline \
english_learner enrollment graduation guardians health homeless identity section_504 \
special_education transcript" -- "${cur##*,}"
			;;
		--from | --to)
			# Card files for a consent; school codes elsewhere.
			if [ "$cmd $sub" = "consent grant" ]; then
				compopt -o filenames 2>/dev/null
				_baton_reply -f -- "$cur"
			fi
			;;
		--out | --rotation-out | --card-out | --passphrase-file | --key | --consent | \
			--rotation | --receipt-out | --against | --card | --text-file)
			compopt -o filenames 2>/dev/null
			_baton_reply -f -- "$cur"
			;;
		esac
		return 0
	fi

	if [ -z "$cmd" ]; then
		if [[ $cur == -* ]]; then
			_baton_reply -W "--help --version --dir" -- "$cur"
		else
			_baton_reply -W "$_baton_commands help" -- "$cur"
		fi
		return 0
	fi
	# 'baton help CMD [SUB]': the command, then its subcommand.
	if [ "$cmd" = help ] && [[ $cur != -* ]]; then
		case $nargs in
		0) _baton_reply -W "$_baton_commands" -- "$cur" ;;
		1) _baton_reply -W "$(_baton_subs "$arg1")" -- "$cur" ;;
		esac
		return 0
	fi
	if [[ $cur == -* ]]; then
		_baton_reply -W "$(_baton_opts "$cmd" "$sub")" -- "$cur"
		return 0
	fi
	if [ "$cmd" = policy ] && [ -z "$sub" ]; then
		case $nargs in
		0) _baton_reply -W "auto-release $(_baton_subs policy)" -- "$cur" ;;
		1) _baton_reply -W "on off" -- "$cur" ;;
		esac
		return 0
	fi
	subs=$(_baton_subs "$cmd")
	if [ -n "$subs" ] && [ -z "$sub" ] && [ "$nargs" -eq 0 ] &&
		_baton_sub_at "$cmd" "$at" "$COMP_CWORD"; then
		_baton_reply -W "$subs" -- "$cur"
		return 0
	fi
	if _baton_files "$cmd" "$sub"; then
		compopt -o filenames 2>/dev/null
		_baton_reply -f -- "$cur"
	fi
	return 0
} &&
	complete -F _baton baton
