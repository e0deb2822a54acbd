#!/bin/bash
# SPDX-License-Identifier: ISC
# up -d that cannot succeed: a port already taken, an app that exits 1 at
# once, a health check that never passes.  Each must exit 1 naming what
# failed; down then leaves nothing.
# Ports: 21520-21549.
. "$(dirname "$0")/lib.sh"


# ---- a port is taken: service, port and FILE:LINE named, nothing left
mkdir -p "$T/taken"
cat >"$T/taken/mesh.ini" <<EOF
[mesh]
name = ctltaken
state_dir = state
port_base = 21530

[service.gamma]
command = $MESH_APPS/testapp --port \$PORT
port = 21520
upstreams = delta:21521

[service.delta]
command = $MESH_APPS/testapp --port \$PORT
port = 21522
EOF

taken() { # WHAT PORT LINE SERVICE
	local what=$1 port=$2 line=$3 svc=$4 holder rc
	python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(8)
print("held", flush=True); time.sleep(120)' "$port" >"$T/holder.log" 2>&1 &
	holder=$!
	_pids+=($holder)
	wait_for 20 grep -q held "$T/holder.log" || not_ok "$what: port holder started" "$(cat "$T/holder.log")"
	mesh_up "$T/taken/mesh.ini" --timeout 30 >"$T/taken.out" 2>"$T/taken.err"
	rc=$?
	cat "$T/taken.out" "$T/taken.err" >"$T/taken.all"
	is "$what taken: up -d exits 1" "$rc" 1
	check "$what taken: the failure names the service" grep -q "$svc" "$T/taken.all"
	check "$what taken: the failure names the port" grep -q "$port" "$T/taken.all"
	check "$what taken: the failure names FILE:LINE" grep -qF "$T/taken/mesh.ini:$line:" "$T/taken.all"
	[ "$rc" = 1 ] || sed 's/^/#   /' "$T/taken.all" | head -20
	meshctl down -f "$T/taken/mesh.ini" >/dev/null 2>"$T/taken.down"
	rc=$?
	if [ "$rc" = 0 ] || [ "$rc" = 3 ]; then ok "$what taken: down after a failed up"; else
		not_ok "$what taken: down after a failed up" "exit $rc" "$(head -c 300 "$T/taken.down")"; fi
	is "$what taken: nothing left of the failed mesh" "$(leftovers "$T/taken" | tr '\n' ' ')" ""
	if port_open 21520; then not_ok "$what taken: the other app is not running"; else ok "$what taken: the other app is not running"; fi
	kill "$holder" 2>/dev/null
	wait "$holder" 2>/dev/null
}
# line 9: the NAME:PORT listener of gamma's sidecar; line 13: delta's app port
taken "sidecar listener port" 21521 9 gamma
taken "app port" 21522 13 delta

# ---- an app that exits 1 immediately: FATAL, named
mkdir -p "$T/crash"
cat >"$T/crash/mesh.ini" <<EOF
[mesh]
name = ctlcrash
state_dir = state
port_base = 21540

[service.fine]
command = $MESH_APPS/testapp --port \$PORT
port = 21523

[service.broken]
command = echo "broken: giving up" >&2; exit 1
port = 21524
EOF
start=$(date +%s)
mesh_up "$T/crash/mesh.ini" --timeout 60 >"$T/crash.out" 2>"$T/crash.err"
rc=$?
took=$(( $(date +%s) - start ))
cat "$T/crash.out" "$T/crash.err" >"$T/crash.all"
is "up -d with a crashing app exits 1" "$rc" 1
check "the failure names the app" grep -q broken "$T/crash.all"
if [ "$took" -lt 60 ]; then ok "the failure is reported before the timeout (${took}s)"; else not_ok "the failure is reported before the timeout" "took ${took}s"; fi
[ "$rc" = 1 ] || sed 's/^/#   /' "$T/crash.all" | head -20
meshctl status -f "$T/crash/mesh.ini" >"$T/crash.status" 2>&1
check "status shows the app FATAL" grep -Eiq 'broken.*fatal|fatal.*broken' "$T/crash.status"
meshctl status --json -f "$T/crash/mesh.ini" >"$T/crash.json" 2>/dev/null
check "status --json shows the app FATAL" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
def objs(v):
    if isinstance(v, dict):
        yield v
        for vv in v.values(): yield from objs(vv)
    elif isinstance(v, list):
        for vv in v: yield from objs(vv)
assert any("broken" in [str(x) for x in o.values()] and
           "FATAL" in json.dumps(o).upper() for o in objs(d)), d' "$T/crash.json"
meshctl down -f "$T/crash/mesh.ini" >/dev/null 2>"$T/crash.down"
is "down after a crashed app exits 0" "$?" 0
is "nothing left of the crashed mesh" "$(leftovers "$T/crash" | tr '\n' ' ')" ""
if port_open 21523; then not_ok "the healthy app is stopped too"; else ok "the healthy app is stopped too"; fi

# ---- an app that ignores SIGTERM: a short `down --timeout` reports what is
# left (exit 1); meshd's SIGKILL then ends it and a later down finds it gone
# (one process that listens on its port, so that it is ready)
mkdir -p "$T/stub"
cat >"$T/stub/mesh.ini" <<EOF
[mesh]
name = ctlstub
state_dir = state
port_base = 21547

[service.stubborn]
command = exec python3 -c 'import os, signal, socket, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", int(os.environ["PORT"]))); s.listen(8); time.sleep(300)'
port = 21526
EOF
mesh_up "$T/stub/mesh.ini" >"$T/stub.out" 2>&1
is "up -d with a SIGTERM-proof app exits 0" "$?" 0
meshctl status --json -f "$T/stub/mesh.ini" >"$T/stub.json" 2>/dev/null
app_pid=$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(d["services"][0]["instances"][0]["app_pid"])' "$T/stub.json" 2>/dev/null)
meshd_pid=$(python3 -c '
import json, sys
print(json.load(open(sys.argv[1]))["meshd_pid"])' "$T/stub.json" 2>/dev/null)
meshctl down --timeout 1 -f "$T/stub/mesh.ini" >"$T/stub.down" 2>"$T/stub.err"
is "down that runs out of time exits 1" "$?" 1
check "it says what is still running" grep -q "still running 1 s after 'down'" "$T/stub.err"
check "it lists the app's pid" grep -q "pid ${app_pid:-none} " "$T/stub.err"
# wait for meshd itself to be gone, not for status to fail: a status that
# fails while meshd is still shutting down (slow under the sanitizers) let
# the next down find meshd and stop it, exit 0
wait_for 30 sh -c "! kill -0 ${meshd_pid:-0} 2>/dev/null"
meshctl down -f "$T/stub/mesh.ini" >/dev/null 2>&1
is "once meshd has killed it, down exits 3" "$?" 3
is "nothing of it is left" "$(leftovers "$T/stub" | tr '\n' ' ')" ""
if [ -n "$app_pid" ] && alive "$app_pid"; then not_ok "the stubborn app is gone"; else ok "the stubborn app is gone"; fi

# ---- an app whose health check never passes: up -d gives up at --timeout
mkdir -p "$T/slow"
cat >"$T/slow/mesh.ini" <<EOF
[mesh]
name = ctlslow
state_dir = state
port_base = 21545

[service.sick]
command = $MESH_APPS/testapp --port \$PORT
port = 21525
health = /status/503
EOF
start=$(date +%s)
mesh_up "$T/slow/mesh.ini" --timeout 3 >"$T/slow.out" 2>"$T/slow.err"
rc=$?
took=$(( $(date +%s) - start ))
is "up -d that never gets ready exits 1" "$rc" 1
check "it says it timed out" grep -q "not ready after 3 s" "$T/slow.err"
if [ "$took" -le 8 ]; then ok "up -d honours --timeout (${took}s)"; else not_ok "up -d honours --timeout" "took ${took}s"; fi
meshctl status -f "$T/slow/mesh.ini" >"$T/slow.status" 2>&1
check "the unready instance is still starting" grep -Eq 'sick.*starting' "$T/slow.status"
meshctl down -f "$T/slow/mesh.ini" >/dev/null 2>&1
is "down after a timed-out up exits 0" "$?" 0
exit 0
