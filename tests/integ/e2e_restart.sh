#!/bin/bash
# SPDX-License-Identifier: ISC
# e2e_restart: meshd restarts what dies.
#   curl -> gateway sidecar 127.0.0.1:22601 -> web sidecar -> testapp
# The app is killed with SIGKILL: a new process (new pid, its request
# counter back at zero) answers through the mesh again, and status counts
# the restart.  Then web's sidecar is killed with SIGKILL: it comes back
# too and traffic flows again.
# Ports: 22600-22699.
. "$(dirname "$0")/lib.sh"

cp "$MESH_APPS/testapp" "$T/testapp"
cat >"$T/mesh.ini" <<EOF
[mesh]
name = e2e-restart
port_base = 22650

[service.gateway]
upstreams = web:22601

[service.web]
command = $T/testapp --port \$PORT
port = 22610
EOF

G=http://127.0.0.1:22601
get() { curl -sS -m 5 "$@"; }
app_pid() { pgrep -f "^$T/testapp" | head -1; }
# the sum of every "restarts" value in status --json
restarts() {
	meshctl status -f "$T/mesh.ini" --json 2>/dev/null | python3 -c '
import json, sys
n = 0
def walk(o):
    global n
    if isinstance(o, dict):
        for k, v in o.items():
            if k == "restarts" and isinstance(v, int): n += v
            else: walk(v)
    elif isinstance(o, list):
        for v in o: walk(v)
walk(json.load(sys.stdin)); print(n)' 2>/dev/null
}

mesh_up_or_stop "$T/mesh.ini"
check "front door 127.0.0.1:22601 accepts" wait_port 22601 10

# ---- the app
is "web answers" "$(get $G/)" "web-v1-0"
for i in $(seq 20); do get $G/ >/dev/null; done
oldc=$(get $G/count)
old=$(app_pid)
check "the app runs (pid ${old:-none})" test -n "$old"
app_in_status() { # NAME PID: status --json names the app process itself
	if grep -qx "$2" <(status_pids); then ok "$1"; return; fi
	local p; p=$(meshctl status -f "$T/mesh.ini" --json 2>/dev/null | python3 -c '
import json, sys
for s in json.load(sys.stdin)["services"]:
    for i in s["instances"]:
        if s["name"] == "web": print(i.get("app_pid"))' 2>/dev/null)
	not_ok "$1" "status app_pid ${p:-?}: $(ps -o args= -p "${p:-0}" 2>/dev/null)" \
		"the app $2: $(ps -o ppid=,args= -p "$2" 2>/dev/null)"
}
app_in_status "status --json app_pid is the app itself, pid $old (not a /bin/sh -c wrapper)" "$old"
r0=$(restarts)
kill -9 "$old"
new_app() { local p; p=$(app_pid); [ -n "$p" ] && [ "$p" != "$old" ]; }
check "a new app process replaces pid $old" wait_for 15 new_app
new=$(app_pid)
echo "# app pid $old -> ${new:-none}"
answers() { [ "$(get $G/)" = "web-v1-0" ]; }
check "web answers through the mesh again" wait_for 15 answers
# /count: requests this process served before; the old one had served 20+
c=$(get $G/count)
check "a fresh process answers (its count $c < the old one's $oldc)" test "${c:-99}" -lt "${oldc:-0}"
app_in_status "status --json app_pid is the new app itself, pid $new" "$new"
r1=$(restarts)
check "status counts the restart (restarts $r0 -> $r1)" test "${r1:-0}" -gt "${r0:-0}"
is "exactly one app process" "$(pgrep -f "^$T/testapp" | wc -l)" 1

# ---- web's sidecar: the mesh-proxy among the status pids that is not the
# gateway's (the one listening on the front door 22601)
gw=$(ss -Hltnp 'sport = :22601' 2>/dev/null | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2)
sc=""
for p in $(status_pids); do
	[ "$(cat /proc/$p/comm 2>/dev/null)" = mesh-proxy ] || continue
	[ "$p" = "$gw" ] && continue
	sc=$p
done
check "found web's sidecar pid (${sc:-none}; gateway's ${gw:-?})" test -n "$sc" -a -n "$gw"
if [ -n "$sc" ]; then
	kill -9 "$sc"
	new_sc() {
		local p
		for p in $(status_pids); do
			[ "$(cat /proc/$p/comm 2>/dev/null)" = mesh-proxy ] || continue
			[ "$p" = "$gw" ] || [ "$p" = "$sc" ] || return 0
		done
		return 1
	}
	check "a new sidecar replaces pid $sc" wait_for 15 new_sc
	check "web answers through the mesh after its sidecar died" wait_for 15 answers
fi

mesh_down_checked "$T/mesh.ini"
exit 0
