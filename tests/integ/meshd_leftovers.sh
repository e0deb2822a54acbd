#!/bin/bash
# SPDX-License-Identifier: ISC
# Never two copies: a second meshd is refused; after meshd is SIGKILLed
# the next one adopts what it left that matches its config (same pids, no
# duplicate, no port conflict) and replaces the rest: an app whose command
# changed, a service no longer in the file, and everything a meshd left
# without run/spec (one from before adoption); a taken fixed port fails
# the start naming the line; -d detaches and `down` stops everything.
# Ports 21320-21379.
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

[service.old]
command = $T/testapp
port = 21370
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
is "four sidecars run" "$(count "mesh-proxy --control $SOCK")" 4
kill -9 "$M1"
wait "$M1" 2>/dev/null
alive=0; for p in $OLD; do alive "$p" && alive=$((alive + 1)); done
is "SIGKILL: meshd's children outlive it" "$alive" 7

# the same config: everything is adopted
spawn meshd2 meshd -f "$T/mesh.ini"
M2=$(cat "$T/meshd2.pid")
wait_for 15 ctl ping
ctl wait-ready 30 >/dev/null
is "a new meshd comes ready (no port conflict)" "$?" 0
status
is "the leftovers were adopted: the same pids" "$(allpids)" "$OLD"
is "still exactly four sidecars" "$(count "mesh-proxy --control $SOCK")" 4
is "exactly three apps" "$(count "^$T/testapp")" 3
check "the new meshd says what it adopted" grep -q 'api.0~proxy: adopted pid' "$T/meshd2.log"
check "the gateway's listener serves" sh -c "curl -s --max-time 5 http://127.0.0.1:21360/ | grep -q api-v1-"

# a changed command and a removed service: those leftovers are replaced
pid_of() { js "[i['$2'] for s in d['services'] for i in s['instances'] if i['name'] == '$1'][0]"; }
API_APP=$(pid_of api.0 app_pid) API_PROXY=$(pid_of api.0 proxy_pid) GW=$(pid_of gw.0 proxy_pid)
OLD_SVC="$(pid_of old.0 app_pid) $(pid_of old.0 proxy_pid)"
kill -9 "$M2"
wait "$M2" 2>/dev/null
sed -i -e "s|^command = $T/testapp\$|command = $T/testapp --name changed|" -e '/^\[service.old\]/,$d' "$T/mesh.ini"
spawn meshd3 meshd -f "$T/mesh.ini"
M3=$(cat "$T/meshd3.pid")
wait_for 15 ctl ping
ctl wait-ready 30 >/dev/null
is "after a config change: ready" "$?" 0
status
check "the app whose command changed was replaced" sh -c "! kill -0 $API_APP 2>/dev/null"
check "...and logged so" grep -q 'stopping leftover api.0 (pid' "$T/meshd3.log"
is "its sidecar (unchanged) was adopted" "$(pid_of api.0 proxy_pid)" "$API_PROXY"
is "the gateway's sidecar was adopted" "$(pid_of gw.0 proxy_pid)" "$GW"
left=""; for p in $OLD_SVC; do alive "$p" && left="$left $p"; done
is "the removed service's sidecar and app were stopped" "$left" ""
is "exactly three sidecars" "$(count "mesh-proxy --control $SOCK")" 3
is "exactly two apps" "$(count "^$T/testapp")" 2
check "the new command answers" sh -c "curl -s --max-time 5 http://127.0.0.1:21360/ | grep -q changed"

# leftovers without run/spec (a meshd from before adoption): replaced
OLD=$(allpids)
kill -9 "$M3"
wait "$M3" 2>/dev/null
rm -f "$T/.mesh/run/spec"
spawn meshd4 meshd -f "$T/mesh.ini"
M4=$(cat "$T/meshd4.pid")
wait_for 15 ctl ping
ctl wait-ready 30 >/dev/null
is "without run/spec: ready" "$?" 0
left=""; for p in $OLD; do alive "$p" && left="$left $p"; done
is "without run/spec: every leftover was replaced" "$left" ""
is "still exactly three sidecars" "$(count "mesh-proxy --control $SOCK")" 3
is "still exactly two apps" "$(count "^$T/testapp")" 2
M2=$M4

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
