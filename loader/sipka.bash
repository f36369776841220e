# SPDX-License-Identifier: GPL-2.0
# bash completion for sipka(8)

# The options of 'sipka KEY': --long=-short, with a trailing ':' when it takes
# a value. tests/docs/test_options.py checks these lists against the option
# tables of the loader ('sipka -j help').
_sipka_options()
{
	case $1 in
	attach) echo '--cgroup=-c: --cgroup-of=: --config=-C: --new-only=-N --max-connections=:' ;;
	load) echo '--config=-C: --new-only=-N --max-connections=:' ;;
	detach) echo '--cgroup=-c: --cgroup-of=:' ;;
	'config set') echo '--name=-n: --time=-t: --intvl=-i: --probes=-p: --user-timeout=-u: --reset-events=-r --new-only=-N' ;;
	'config load') echo '--new-only=-N' ;;
	stats) echo '--prometheus=-P --output=-o: --watch=-w: --listen=: --close-wait-after=:' ;;
	events) echo '--follow=-f --exec=: --exec-jobs=: --exec-timeout=: --exec-queue=: --config=-C:' ;;
	connections) echo '--port=: --peer=: --all=-a --close-wait=' ;;
	check) echo '--close-wait-after=:' ;;
	esac
	# The global options, accepted anywhere on the line.
	echo '--pin-dir=: --json=-j --verbose=-v --version=-V'
}

# The live rules' ports, from 'SIPKA [--pin-dir DIR] -j config show'; quietly
# nothing when sipka cannot say (not loaded, not root).
_sipka_ports()
{
	"$@" -j config show 2>/dev/null | grep -o '"port": *[0-9]*' | grep -o '[0-9]*$'
}

# WORD's long form in KEY's options ("--cgroup:" when it takes a value).
_sipka_long()
{
	local o long short
	for o in $(_sipka_options "$1"); do
		long=${o%%=*} short=${o#*=} short=${short%:}
		if [[ $2 == "$long" || ( -n $short && $2 == "$short" ) ]]; then
			[[ $o == *: ]] && echo "$long:" || echo "$long"
			return
		fi
	done
}

# WORD, or the one name in NAMES it is a prefix of (as sipka takes it).
_sipka_resolve()
{
	local n found=() word=$1
	shift
	for n in "$@"; do
		[[ $n == "$word" ]] && { echo "$n"; return; }
		[[ $n == "$word"* ]] && found+=("$n")
	done
	((${#found[@]} == 1)) && echo "${found[0]}" || echo "$word"
}

_sipka()
{
	local cur prev words cword
	_init_completion || return

	local commands='attach load detach status config stats events connections check help'
	local subs='show set del load check'
	local i w long cmd='' sub='' key='' npos=0 pin_dir=()
	for ((i = 1; i < cword; i++)); do
		w=${words[i]}
		case $w in
		--pin-dir=*) pin_dir=(--pin-dir "${w#*=}"); continue ;;
		-*)
			long=$(_sipka_long "$key" "$w")
			if [[ $long == *: ]]; then
				[[ $long == --pin-dir: ]] && pin_dir=(--pin-dir "${words[i + 1]}")
				((i++))		# its value is no argument
			fi
			continue ;;
		esac
		if [[ -z $cmd ]]; then
			cmd=$(_sipka_resolve "$w" $commands) key=$cmd
		elif [[ $cmd == config && -z $sub ]]; then
			sub=$(_sipka_resolve "$w" $subs) key="config $sub"
		elif [[ $cmd == help && -z $sub ]]; then
			sub=$(_sipka_resolve "$w" $commands)
		else
			((npos++))
		fi
	done

	# The value of the option before.
	if [[ $prev == -* ]]; then
		case $(_sipka_long "$key" "$prev") in
		--pin-dir:) _filedir -d; return ;;
		--config: | --output: | --exec:) _filedir; return ;;
		--cgroup-of:) COMPREPLY=($(compgen -W "self $(cd /proc && echo [0-9]*)" -- "$cur")); return ;;
		--port:)
			COMPREPLY=($(compgen -W "$(_sipka_ports "${words[0]}" "${pin_dir[@]}")" -- "$cur"))
			return ;;
		--cgroup:)
			# cgroup directories, absolute or relative to the cgroup v2 mount
			local root
			root=$(awk '{ for (i = 7; i < NF; i++) if ($i == "-") { if ($(i + 1) == "cgroup2") print $5; break } }' /proc/self/mountinfo | head -n 1)
			if [[ $cur == /* || -z $root ]]; then
				COMPREPLY=($(compgen -d -- "${cur:-$root/}"))
			else
				COMPREPLY=($(cd "$root" 2>/dev/null && compgen -d -- "$cur"))
			fi
			compopt -o nospace
			COMPREPLY=("${COMPREPLY[@]/%//}")
			return ;;
		--user-timeout:) COMPREPLY=($(compgen -W 'auto off' -- "$cur")); return ;;
		*:) return ;;	# a number or a name: nothing to offer
		esac
	fi

	local opts='' o
	if [[ $cur == -* ]]; then
		if [[ -z $cmd ]]; then
			opts='--pin-dir --json --verbose --help --version'
		elif [[ $cmd != help && ( $cmd != config || -n $sub ) ]]; then
			for o in $(_sipka_options "$key"); do
				[[ $o == --pin-dir* || $o == --json* || $o == --verbose* || $o == --version* ]] ||
					opts+=" ${o%%=*}"
			done
			opts+=' --help'
		else
			opts='--help'
		fi
		COMPREPLY=($(compgen -W "$opts" -- "$cur"))
		return
	fi

	case $cmd in
	'') opts=$commands ;;
	help)
		if [[ -z $sub ]]; then opts=$commands
		elif [[ $sub == config && $npos -eq 0 ]]; then opts=$subs
		fi ;;
	config)
		case $sub in
		'') opts=$subs ;;
		del | set) ((npos == 0)) && opts=$(_sipka_ports "${words[0]}" "${pin_dir[@]}") ;;
		load | check) ((npos == 0)) && { _filedir; return; } ;;
		esac ;;
	esac
	COMPREPLY=($(compgen -W "$opts" -- "$cur"))
} &&
	complete -F _sipka sipka
