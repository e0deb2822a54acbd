#!/bin/bash
# SPDX-License-Identifier: ISC
# Supervision: a kill -9'd app comes back; a crash loop ends in FATAL
# (status --json, wait-ready's answer); restart=never is not restarted;
# a sidecar that dies is restarted.  Ports 21260-21319.
. "$(dirname "$0")/lib.sh"
CLIENT="$ROOT/tests/integ/meshd_client.py"
ln -s "$MESH_APPS/testapp" "$T/testapp"

cat >"$T/mesh.ini" <<INI
[mesh]
name = restarts
port_base = 21260

[service.api]
command = $T/testapp
port = 21290

[service.crash]
command = echo "boom from \$MESH_SERVICE"; exit 3

[service.sick]
command = $T/testapp
port = 21291
health = /status/503

[service.once]
command = echo done; exit 0
restart = never
INI
SOCK="$T/.mesh/run/meshd.sock"
ctl() { python3 "$CLIENT" "$SOCK" "$@"; }
status() { ctl "status --json" >"$T/status.json"; }
js() { python3 -c "import json,sys; d=json.load(open('$T/status.json')); print($1)"; }
inst() { js "[i for s in d['services'] for i in s['instances'] if i['name']=='$1'][0]['$2']"; }

spawn meshd meshd -f "$T/mesh.ini"
MESHD=$(cat "$T/meshd.pid")
wait_for 10 test -S "$SOCK" || not_ok "control socket appears" "$(cat "$T/meshd.log")"

# crash: 5 fast failures (0.1+0.2+0.4+0.8 s of backoff) -> FATAL
wait_for 15 sh -c "python3 '$CLIENT' '$SOCK' 'status --json' | grep -q '\"state\":\"fatal\"'"
ctl wait-ready 30 >"$T/wait.out"
is "wait-ready answers 1 when an instance is FATAL" "$?" 1
check "wait-ready names the instance, the exit and its last lines" \
	grep -q 'crash.0: exited with status 3, 5 times within 60 s (FATAL); last lines: boom from crash' "$T/wait.out"
status
check "status --json is valid JSON" python3 -m json.tool "$T/status.json"
is "crash loop: state fatal" "$(inst crash.0 state)" fatal
is "crash loop: 4 restarts, then no more" "$(inst crash.0 restarts)" 4
is "crash loop: last_exit" "$(inst crash.0 last_exit)" "exited with status 3"
is "restart=never: stopped" "$(inst once.0 state)" stopped
is "restart=never: not restarted" "$(inst once.0 restarts)" 0
is "restart=never: last_exit" "$(inst once.0 last_exit)" "exited with status 0"
is "a failing health check: still starting" "$(inst sick.0 state)" starting
is "a failing health check: endpoint down" "$(inst sick.0 endpoint)" down
check "a failing health check is logged" grep -q 'GET /status/503 503' "$T/meshd.log"
sleep 1.5
status
is "FATAL stays FATAL" "$(inst crash.0 restarts)" 4
check "status text shows the FATAL reason" sh -c "python3 '$CLIENT' '$SOCK' status | grep -q 'FATAL'"

# kill -9 of an app: it comes back on a new pid
wait_for 10 sh -c "python3 '$CLIENT' '$SOCK' 'status --json' | grep -q '\"name\":\"api.0\"[^}]*\"state\":\"running\"'"
status
OLD=$(inst api.0 app_pid)
kill -9 "$OLD"
wait_for 10 sh -c "curl -s --max-time 1 http://127.0.0.1:21290/ | grep -q api-v1-0" 
status
NEW=$(inst api.0 app_pid)
check "kill -9: the app is restarted on a new pid" test "$NEW" != "$OLD" -a "$NEW" != None
is "kill -9: one restart counted" "$(inst api.0 restarts)" 1
is "kill -9: last_exit says the signal" "$(inst api.0 last_exit)" "killed by signal 9 (Killed)"
check "kill -9: the old pid is gone" sh -c "! kill -0 $OLD 2>/dev/null"

# a sidecar killed -9 is restarted too, and the app keeps running
OLDP=$(inst api.0 proxy_pid)
kill -9 "$OLDP"
wait_for 10 sh -c "python3 '$CLIENT' '$SOCK' 'status --json' | grep -q '\"name\":\"api.0\"[^}]*\"state\":\"running\"[^}]*\"restarts\":2'"
status
check "sidecar kill -9: restarted on a new pid" test "$(inst api.0 proxy_pid)" != "$OLDP"
is "sidecar kill -9: the app kept its pid" "$(inst api.0 app_pid)" "$NEW"
check "sidecar kill -9: its outbound listens again" port_open "$(inst api.0 outbound_port)"
is "sidecar kill -9: the endpoint is up again" "$(inst api.0 endpoint)" up

kill -TERM "$MESHD"
wait_for 20 sh -c "! kill -0 $MESHD 2>/dev/null"
wait "$MESHD"
is "SIGTERM: meshd exits 0" "$?" 0
is "SIGTERM: nothing left" "$(leftovers "$T")" ""
