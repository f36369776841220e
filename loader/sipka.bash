# bash completion for sipka(8)
_sipka()
{
	local cur prev words cword
	_init_completion || return

	local i cmd sub
	for ((i = 1; i < cword; i++)); do
		case ${words[i]} in
		--pin-dir) ((i++)) ;;
		-*) ;;
		*) if [[ -z $cmd ]]; then cmd=${words[i]}; elif [[ $cmd == config && -z $sub ]]; then sub=${words[i]}; fi ;;
		esac
	done

	case $prev in
	--pin-dir) _filedir -d; return ;;
	--config|-f|--output|-o) _filedir; return ;;
	--cgroup|-c)
		local root
		root=$(awk '{ for (i = 7; i < NF; i++) if ($i == "-") { if ($(i + 1) == "cgroup2") print $5; break } }' /proc/self/mountinfo | head -n 1)
		COMPREPLY=($(compgen -d -- "${cur:-$root/}"))
		compopt -o nospace
		return ;;
	--user-timeout|-u) COMPREPLY=($(compgen -W 'auto off' -- "$cur")); return ;;
	--name|-n|--time|-t|--intvl|-i|--probes|-p|--watch|-w) return ;;
	esac

	local opts
	case $cmd in
	'') opts='attach load detach status config stats events --pin-dir --json --verbose --help --version' ;;
	attach) opts='--cgroup --config --new-only --help' ;;
	load) opts='--config --help' ;;
	detach) opts='--cgroup --help' ;;
	status) opts='--help' ;;
	stats) opts='--prometheus --output --watch --help' ;;
	events) opts='--follow --help' ;;
	config)
		case $sub in
		'') opts='show set del load --help' ;;
		set) opts='--name --time --intvl --probes --user-timeout --reset-events --new-only --help' ;;
		load) [[ $cur == -* ]] || { _filedir; return; }; opts='--new-only --help' ;;
		*) opts='--help' ;;
		esac ;;
	esac
	COMPREPLY=($(compgen -W "$opts" -- "$cur"))
} &&
	complete -F _sipka sipka
