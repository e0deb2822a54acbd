#!/bin/bash
# SPDX-License-Identifier: ISC
# meshd SIGKILLed: its sidecars and apps keep running; `meshctl down` finds
# them through the state dir, stops them (exit 0) and leaves nothing.
# Ports: 21580-21599.
. "$(dirname "$0")/lib.sh"


cat >"$T/mesh.ini" <<EOF
[mesh]
name = ctlreap
state_dir = state
port_base = 21590

[service.left]
command = $MESH_APPS/testapp --port \$PORT
port = 21580
health = /

[service.right]
command = $MESH_APPS/testapp --port \$PORT
port = 21581
instances = 2
EOF

mesh_up "$T/mesh.ini" >"$T/up.out" 2>&1
rc=$?
is "up -d exits 0" "$rc" 0
[ "$rc" = 0 ] || sed 's/^/#   /' "$T/up.out" | head -20
meshctl status --json -f "$T/mesh.ini" >"$T/status.json" 2>/dev/null
pids "$T/status.json" >"$T/pids"
n=$(wc -l <"$T/pids")
if [ "$n" -ge 3 ]; then ok "status --json reports the processes ($n)"; else not_ok "status --json reports the processes" "$n"; fi
meshd_pid=$(cat "$T/state/run/meshd.pid" 2>/dev/null)

kill -KILL "${meshd_pid:-0}"
wait_for 5 sh -c "! kill -0 $meshd_pid 2>/dev/null || grep -q '^[^)]*) [ZX]' /proc/$meshd_pid/stat"
left=
while read -r p; do alive "$p" && left="$left $p"; done <"$T/pids"
if [ -n "$left" ]; then ok "children outlive a SIGKILLed meshd"; else not_ok "children outlive a SIGKILLed meshd" "nothing left to reap: the scenario proves nothing"; fi

meshctl status -f "$T/mesh.ini" >/dev/null 2>&1
is "status with meshd dead exits 3" "$?" 3

meshctl down -f "$T/mesh.ini" >"$T/down.out" 2>"$T/down.err"
rc=$?
is "down reaps the leftovers (exit 0)" "$rc" 0
[ "$rc" = 0 ] || sed 's/^/#   /' "$T/down.out" "$T/down.err" | head -20
check "down says what it stopped" grep -q "left by a meshd that is gone" "$T/down.out"
left=
while read -r p; do alive "$p" && left="$left $p"; done <"$T/pids"
is "nothing reported is left" "${left:-none}" none
is "no process mentions the test dir" "$(leftovers "$T" | tr '\n' ' ')" ""
if port_open 21580 || port_open 21581 || port_open 21582; then not_ok "the app ports are closed"; else ok "the app ports are closed"; fi

meshctl down -f "$T/mesh.ini" >/dev/null 2>"$T/down2.err"
is "down again exits 3" "$?" 3
exit 0
