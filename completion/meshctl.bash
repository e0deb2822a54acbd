# bash completion for meshctl(1)
_meshctl()
{
	local cur prev cmd i
	COMPREPLY=()
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	local cmds="up down status certs check version help"

	cmd=
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		-*) ;;
		*) cmd=${COMP_WORDS[i]}; break ;;
		esac
	done
	if [ -z "$cmd" ]; then
		COMPREPLY=($(compgen -W "$cmds --help --version" -- "$cur"))
		return
	fi
	case $prev in
	-f|--file)
		COMPREPLY=($(compgen -f -X '!*.ini' -- "$cur") $(compgen -d -- "$cur"))
		return ;;
	--timeout)
		return ;;
	esac
	local opts
	case $cmd in
	up)      opts="-f --file -d --detach --timeout -h --help" ;;
	down)    opts="-f --file --timeout -h --help" ;;
	status)  opts="-f --file --json -h --help" ;;
	certs)   opts="-f --file --json --rotate -h --help" ;;
	check)   opts="-f --file -h --help" ;;
	help)    opts="up down status certs check version" ;;
	*)       opts="" ;;
	esac
	COMPREPLY=($(compgen -W "$opts" -- "$cur"))
}
complete -o filenames -F _meshctl meshctl
