#!/bin/bash
# SPDX-License-Identifier: ISC
# Foreground `meshctl up`: it becomes meshd; Ctrl-C (SIGINT to the whole
# process group, as a terminal sends it) or SIGTERM to it stops every
# process it started.  Ports: 21550-21579.
. "$(dirname "$0")/lib.sh"

# Start `meshctl up -f FILE` as a terminal session would: its own process
# group, SIGINT at its default (a background job of a script ignores it).
fg_up() {
	local name=$1 file=$2
	spawn "$name" python3 -c '
import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.setpgid(0, 0)
os.execvp(sys.argv[1], sys.argv[1:])' meshctl up -f "$file"
}
ready() { meshctl status --json -f "$1" >"$T/ready.json" 2>/dev/null && [ "$(pids "$T/ready.json" | wc -l)" -ge 2 ]; }

scenario() { # NAME SIGNAL TARGET(group|pid) BASEPORT
	local n=$1 sig=$2 target=$3 base=$4 pid rc left p
	mkdir -p "$T/$n"
	cat >"$T/$n/mesh.ini" <<EOF
[mesh]
name = ctl$n
state_dir = state
port_base = $((base + 5))

[service.one]
command = $MESH_APPS/testapp --port \$PORT
port = $base
health = /

[service.two]
command = $MESH_APPS/testapp --port \$PORT
port = $((base + 1))
EOF
	fg_up "$n" "$T/$n/mesh.ini"
	pid=$(cat "$T/$n.pid")
	if wait_for 30 ready "$T/$n/mesh.ini" && wait_port "$base" 10; then
		ok "$n: foreground up runs the mesh"
	else
		not_ok "$n: foreground up runs the mesh" "$(tail -5 "$T/$n.log")"
	fi
	meshctl status --json -f "$T/$n/mesh.ini" >"$T/$n.json" 2>/dev/null
	pids "$T/$n.json" >"$T/$n.pids"
	is "$n: meshctl became meshd (same pid)" "$(cat "$T/$n/state/run/meshd.pid" 2>/dev/null)" "$pid"
	check "$n: the log streams instance-prefixed lines" grep -Eq 'one|two' "$T/$n.log"
	if [ "$target" = group ]; then kill "-$sig" -- "-$pid"; else kill "-$sig" "$pid"; fi
	# meshctl up is our child here: wait gives its exit status
	rc=124
	for _ in $(seq 1 200); do
		if ! kill -0 "$pid" 2>/dev/null || ! alive "$pid"; then
			wait "$pid"; rc=$?; break
		fi
		sleep 0.1
	done
	if [ "$rc" = 0 ] || [ "$rc" = 130 ] || [ "$rc" = 143 ]; then
		ok "$n: $sig stops foreground up (exit $rc)"
	else
		not_ok "$n: $sig stops foreground up" "exit $rc" "$(tail -5 "$T/$n.log")"
	fi
	left=
	while read -r p; do alive "$p" && left="$left $p"; done <"$T/$n.pids"
	is "$n: no reported process is left" "${left:-none}" none
	is "$n: no process mentions its dir" "$(leftovers "$T/$n" | tr '\n' ' ')" ""
	if port_open "$base" || port_open "$((base + 1))"; then not_ok "$n: ports closed"; else ok "$n: ports closed"; fi
	meshctl status -f "$T/$n/mesh.ini" >/dev/null 2>&1
	is "$n: status afterwards exits 3" "$?" 3
}

scenario ctrlc INT group 21550
scenario term TERM pid 21560
exit 0
