# SPDX-License-Identifier: ISC
# bash completion for meshctl(1)

# weight [-f FILE] SERVICE VERSION=PCT...: services and their versions from
# the [service.NAME] / [service.NAME@VERSION] headers of the file (-f, or
# ./mesh.ini); a service without @VERSION and without version= is v1.
_meshctl_weight()
{
	local file=mesh.ini svc= j
	for ((j = 1; j < COMP_CWORD; j++)); do
		case ${COMP_WORDS[j]} in
		-f|--file) file=${COMP_WORDS[j+1]}; ((j++)) ;;
		weight|-*) ;;
		*=*) ;;
		*) svc=${COMP_WORDS[j]} ;;
		esac
	done
	if [ -z "$svc" ]; then
		case $cur in
		-*) COMPREPLY=($(compgen -W "-f --file -h --help" -- "$cur")) ;;
		*)  COMPREPLY=($(compgen -W "$(sed -n 's/^\[service\.\([a-z0-9-]*\).*\].*/\1/p' "$file" 2>/dev/null | sort -u)" -- "$cur")) ;;
		esac
		return
	fi
	local vers
	vers=$(awk -v s="$svc" '
		/^\[/ { if (sec != "") print v; sec = ""; v = "" }
		$0 ~ "^\\[service\\." s "(@[^]]*)?\\]" { sec = s; v = "v1"
			if (match($0, /@[^]]*/)) v = substr($0, RSTART + 1, RLENGTH - 1) }
		sec != "" && /^version *=/ { sub(/^version *= */, ""); sub(/[ ;].*/, ""); v = $0 }
		END { if (sec != "") print v }' "$file" 2>/dev/null)
	compopt -o nospace 2>/dev/null
	COMPREPLY=($(compgen -W "$(printf '%s= ' $vers)" -- "$cur"))
}

# restart's operands: every service, and every instance by the name status
# shows (api.0, and api@v2.0 for a second version), from FILE's headers and
# instances= keys.
_meshctl_instances()
{
	awk '
		function out() { if (sec == "") return; print svc
			for (i = 0; i < n; i++) print sec "." i }
		/^\[/ { out(); sec = ""; n = 1 }
		match($0, /^\[service\.[a-z0-9-]+(@[a-z0-9.-]+)?\]/) {
			sec = substr($0, 10, RLENGTH - 10); svc = sec; sub(/@.*/, "", svc)
			if (!seen[svc]) sec = svc    # the first version: api.0
			seen[svc]++ }
		sec != "" && /^instances *=/ { v = $0; sub(/^instances *= */, "", v); n = v + 0 }
		END { out() }' "$1" 2>/dev/null | sort -u
}

# run [-f FILE] [--as SERVICE] -- COMMAND...: options and --as's services
# and instances up to "--" (or the first operand), then a command, then
# its files.
_meshctl_run()
{
	local file=mesh.ini j
	for ((j = 2; j < COMP_CWORD; j++)); do
		case ${COMP_WORDS[j]} in
		-f|--file) file=${COMP_WORDS[j+1]}; ((j++)) ;;
		--as) ((j++)) ;;
		--) break ;;
		-*) ;;
		*) break ;;
		esac
	done
	if ((j < COMP_CWORD)); then
		if ((j + 1 == COMP_CWORD)) && [ "${COMP_WORDS[j]}" = -- ]; then
			COMPREPLY=($(compgen -c -- "$cur"))
		else
			COMPREPLY=($(compgen -f -- "$cur"))
		fi
		return
	fi
	case $prev in
	-f|--file) COMPREPLY=($(compgen -f -X '!*.ini' -- "$cur") $(compgen -d -- "$cur")) ;;
	--as)      COMPREPLY=($(compgen -W "$(_meshctl_instances "$file")" -- "$cur")) ;;
	*)         COMPREPLY=($(compgen -W "-f --file --as -h --help --" -- "$cur")) ;;
	esac
}

_meshctl()
{
	local cur prev cmd i
	COMPREPLY=()
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	local cmds="up down status certs join traces logs tap weight fault mirror reload top restart breaker-reset run check version help"

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
	if [ "$cmd" = run ]; then
		_meshctl_run
		return
	fi
	case $prev in
	-f|--file)
		# logs: -f is --follow, the file is --file only
		if [ "$cmd" != logs ] || [ "$prev" = --file ]; then
			COMPREPLY=($(compgen -f -X '!*.ini' -- "$cur") $(compgen -d -- "$cur"))
			return
		fi ;;
	--timeout|-i|--interval|-n|--since|--token|--ttl)
		return ;;
	--path|--delay|--abort|--match)
		return ;;
	--status)
		COMPREPLY=($(compgen -W "5xx 4xx 3xx 2xx" -- "$cur"))
		return ;;
	--service)
		# the file's services (-f, or ./mesh.ini)
		local file=mesh.ini j
		for ((j = 1; j < COMP_CWORD; j++)); do
			case ${COMP_WORDS[j]} in -f|--file) file=${COMP_WORDS[j+1]} ;; esac
		done
		COMPREPLY=($(compgen -W "$(sed -n 's/^\[service\.\([a-z0-9-]*\).*\].*/\1/p' "$file" 2>/dev/null | sort -u)" -- "$cur"))
		return ;;
	esac
	local opts
	case $cmd in
	up)      opts="-f --file -d --detach --timeout -h --help" ;;
	down)    opts="-f --file --timeout -h --help" ;;
	status)  opts="-f --file --json -h --help" ;;
	certs)   opts="-f --file --json --rotate --rotate-root --join-token --ttl -h --help" ;;
	join)    opts="--token -f --file --timeout -h --help" ;;
	traces)  opts="-f --file --slow --json -n --service -h --help" ;;
	logs)
		# SERVICE, INSTANCE (api.0), INSTANCE~proxy, meshd; the file is --file
		local file=mesh.ini j
		for ((j = 1; j < COMP_CWORD; j++)); do
			case ${COMP_WORDS[j]} in --file) file=${COMP_WORDS[j+1]} ;; esac
		done
		case $cur in
		-*) opts="--file -f --follow -n --since -h --help" ;;
		*)  opts="meshd $(_meshctl_instances "$file")" ;;
		esac ;;
	weight)  _meshctl_weight; return ;;
	tap)
		# options, else the file's services (-f, or ./mesh.ini)
		local file=mesh.ini j
		for ((j = 1; j < COMP_CWORD; j++)); do
			case ${COMP_WORDS[j]} in -f|--file) file=${COMP_WORDS[j+1]} ;; esac
		done
		case $cur in
		-*) opts="-f --file --path --status -n --json -h --help" ;;
		*)  opts=$(sed -n 's/^\[service\.\([a-z0-9-]*\).*\].*/\1/p' "$file" 2>/dev/null | sort -u) ;;
		esac ;;
	fault)
		# fault [-f FILE] SERVICE --delay P%:D --abort P%:S [--version V]
		# [--match 'H: V'] | SERVICE --off | --off-all
		local file=mesh.ini j
		for ((j = 1; j < COMP_CWORD; j++)); do
			case ${COMP_WORDS[j]} in -f|--file) file=${COMP_WORDS[j+1]} ;; esac
		done
		if [ "$prev" = --version ]; then
			# the versions the file declares (@VERSION headers; v1 otherwise)
			opts="v1 $(sed -n 's/^\[service\.[a-z0-9-]*@\([a-z0-9.-]*\)\].*/\1/p' "$file" 2>/dev/null | sort -u)"
		else
			case $cur in
			-*) opts="-f --file --delay --abort --version --match --off --off-all -h --help" ;;
			*)  opts=$(sed -n 's/^\[service\.\([a-z0-9-]*\).*\].*/\1/p' "$file" 2>/dev/null | sort -u) ;;
			esac
		fi ;;
	mirror)
		# mirror [-f FILE] SERVICE VERSION=P% | SERVICE --off: the file's
		# services, then the chosen one's versions as VERSION=
		local file=mesh.ini j svc=
		for ((j = i + 1; j < COMP_CWORD; j++)); do
			case ${COMP_WORDS[j]} in
			-f|--file) file=${COMP_WORDS[j+1]}; j=$((j + 1)) ;;
			-*) ;;
			*) [ -z "$svc" ] && svc=${COMP_WORDS[j]} ;;
			esac
		done
		case $cur in
		-*) opts="-f --file --off -h --help" ;;
		*)  if [ -z "$svc" ]; then
			opts=$(sed -n 's/^\[service\.\([a-z0-9-]*\).*\].*/\1/p' "$file" 2>/dev/null | sort -u)
		    else
			opts="v1= $(sed -n "s/^\[service\.$svc@\([a-z0-9.-]*\)\].*/\1=/p" "$file" 2>/dev/null | sort -u)"
			compopt -o nospace 2>/dev/null
		    fi ;;
		esac ;;
	reload)  opts="-f --file -h --help" ;;
	top)     opts="-f --file -i --interval -h --help" ;;
	restart|breaker-reset)
		local file=mesh.ini j
		for ((j = 1; j < COMP_CWORD; j++)); do
			case ${COMP_WORDS[j]} in -f|--file) file=${COMP_WORDS[j+1]} ;; esac
		done
		case $cur in
		-*) opts="-f --file -h --help"
		    [ "$cmd" = restart ] && opts="-f --file --timeout -h --help" ;;
		*)  if [ "$cmd" = restart ]; then
			opts=$(_meshctl_instances "$file")
		    else
			opts=$(sed -n 's/^\[service\.\([a-z0-9-]*\).*\].*/\1/p' "$file" 2>/dev/null | sort -u)
		    fi ;;
		esac ;;
	check)   opts="-f --file -h --help" ;;
	help)    opts="up down status certs join traces logs tap weight fault mirror reload top restart breaker-reset run check version" ;;
	*)       opts="" ;;
	esac
	COMPREPLY=($(compgen -W "$opts" -- "$cur"))
}
complete -o filenames -F _meshctl meshctl
