#!/bin/bash
# SPDX-License-Identifier: ISC
# Never two copies: a second meshd is refused; after meshd is SIGKILLed
# the next one replaces what it left (no duplicate, no port conflict);
# a taken fixed port fails the start naming the line; -d detaches and
# `down` stops everything.  Ports 21320-21379.
. "$(dirname "$0")/lib.sh"
CLIENT="$ROOT/tests/integ/meshd_client.py"
ln -s "$MESH_APPS/testapp" "$T/testapp"

cat >"$T/mesh.ini" <<INI
[mesh]
name = left
port_base = 21320

[service.api]
command = $T/testapp
port = 21350
instances = 2

[service.gw]
upstreams = api:21360
INI
SOCK="$T/.mesh/run/meshd.sock"
ctl() { python3 "$CLIENT" "$SOCK" "$@"; }
status() { ctl "status --json" >"$T/status.json"; }
js() { python3 -c "import json,sys; d=json.load(open('$T/status.json')); print($1)"; }
allpids() { js "' '.join(str(i[k]) for s in d['services'] for i in s['instances'] for k in ('app_pid','proxy_pid') if i[k])"; }
count() { pgrep -f -- "$1" | wc -l; }

spawn meshd1 meshd -f "$T/mesh.ini"
M1=$(cat "$T/meshd1.pid")
wait_for 10 test -S "$SOCK"
ctl wait-ready 30 >/dev/null
is "first meshd ready" "$?" 0

meshd -f "$T/mesh.ini" >"$T/second.out" 2>&1
is "a second meshd exits 1" "$?" 1
is "a second meshd says why" "$(cat "$T/second.out")" "meshd: mesh 'left' already running (meshd pid $M1)"
ctl ping >/dev/null
is "the first one is untouched" "$?" 0

status
OLD=$(allpids)
is "three sidecars run" "$(count "mesh-proxy --control $SOCK")" 3
kill -9 "$M1"
wait "$M1" 2>/dev/null
alive=0; for p in $OLD; do kill -0 "$p" 2>/dev/null && alive=$((alive + 1)); done
is "SIGKILL: meshd's children outlive it" "$alive" 5

spawn meshd2 meshd -f "$T/mesh.ini"
M2=$(cat "$T/meshd2.pid")
wait_for 15 ctl ping
ctl wait-ready 30 >/dev/null
is "a new meshd comes ready (no port conflict)" "$?" 0
left=""; for p in $OLD; do kill -0 "$p" 2>/dev/null && left="$left $p"; done
is "the leftovers were replaced" "$left" ""
is "still exactly three sidecars" "$(count "mesh-proxy --control $SOCK")" 3
is "exactly two apps" "$(count "^$T/testapp")" 2
check "the new meshd says what it replaced" grep -q 'replacing leftover api.0' "$T/meshd2.log"
check "the gateway's listener serves" sh -c "curl -s --max-time 5 http://127.0.0.1:21360/ | grep -q api-v1-"

status
NEWPIDS=$(allpids)
ctl down 30 >/dev/null
is "down answers 0" "$?" 0
wait_for 10 sh -c "! kill -0 $M2 2>/dev/null"
wait "$M2"
is "after down meshd exits 0" "$?" 0
left=""; for p in $NEWPIDS; do kill -0 "$p" 2>/dev/null && left="$left $p"; done
is "down: every process is gone" "$left" ""
is "down: nothing left (pgrep -f)" "$(leftovers "$T")" ""

# a fixed port that is taken fails the start, naming file, line, service, port
python3 -c "
import socket,time
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1',21360)); s.listen(1); time.sleep(30)" &
HOLDER=$!
wait_port 21360 5
meshd -f "$T/mesh.ini" >"$T/taken.out" 2>&1
is "a taken fixed port: exit 1" "$?" 1
is "a taken fixed port: the message" "$(cat "$T/taken.out")" \
	"meshd: $T/mesh.ini:11: service gw: port 21360 (upstream api) is already in use"
kill "$HOLDER"; wait "$HOLDER" 2>/dev/null

# -d: returns once the socket accepts, logs to run/meshd.log
meshd -f "$T/mesh.ini" -d >"$T/detach.out" 2>&1
is "-d exits 0" "$?" 0
ctl ping >/dev/null
is "-d: the socket accepts at once" "$?" 0
M3=$(cat "$T/.mesh/run/meshd.pid")
ctl wait-ready 30 >/dev/null
is "-d: wait-ready answers 0" "$?" 0
check "-d: lines go to run/meshd.log" grep -q "sidecar ready" "$T/.mesh/run/meshd.log"
meshd -f "$T/mesh.ini" -d >"$T/detach2.out" 2>&1
is "-d while running: exit 1" "$?" 1
is "-d while running: the parent says why" "$(cat "$T/detach2.out")" \
	"meshd: mesh 'left' already running (meshd pid $M3)"
check "-d: meshd is a session leader" test "$(ps -o sid= -p "$M3" | tr -d ' ')" = "$M3"
ctl down 30 >/dev/null
wait_for 20 sh -c "! kill -0 $M3 2>/dev/null"
is "-d: down stops it" "$(kill -0 "$M3" 2>/dev/null && echo alive)" ""
is "-d: nothing left" "$(leftovers "$T")" ""
meshd -f "$T/nope.ini" >"$T/nofile.out" 2>&1
is "a missing config: exit 1" "$?" 1
