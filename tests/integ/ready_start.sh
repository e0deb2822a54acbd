#!/bin/bash
# SPDX-License-Identifier: ISC
# ready_start: an app is ready when its port accepts a connection, not
# when it was forked (issue 12, "Ready means ready").
#   1. slow.0 sleeps 6 s before it binds (it has a port, no health=).
#      While `meshctl up -d` waits, status (text and --json) and top (no
#      tty: the status table) show it `starting`, its endpoint down; up -d
#      returns 0 only once the port accepts, and the very first request
#      through the front door (gateway 127.0.0.1:31401) gets 200.
#   2. stuck.0 and stuck.1 never bind; their [service] ready_timeout = 2s
#      wins over [mesh]'s 60s: up -d exits 1 well before 60 s, naming each
#      instance and the last line its app wrote.
#   3. a rolling `meshctl restart web` whose first new app never binds:
#      exit 1 naming web.0 and its last line; web.1 is not touched (same
#      pid, still running).
# Ports: 31400-31499.
. "$(dirname "$0")/lib.sh"

cp "$MESH_APPS/testapp" "$T/testapp"
mkdir -p "$T/a" "$T/b"
cat >"$T/a/mesh.ini" <<EOF
[mesh]
name = ready-start
port_base = 31450

[service.gateway]
upstreams = slow:31401

[service.slow]
command = echo "slow: loading for 6 s"; sleep 6; echo "slow: binding"; exec $T/testapp --port \$PORT --name slow
port = 31410
EOF

# state_of FILE INSTANCE FIELD: one field of an instance in status --json
state_of() {
	meshctl status -f "$1" --json 2>/dev/null | python3 -c '
import json, sys
try:
    doc = json.load(sys.stdin)
except ValueError:
    sys.exit(0)
for s in doc["services"]:
    for i in s["instances"]:
        if i["name"] == sys.argv[1]: print(i.get(sys.argv[2]))' "$2" "$3"
}
listens() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# 1. up -d in the background; look at the mesh while it waits
_meshes+=("$T/a/mesh.ini")
( meshctl up -d -f "$T/a/mesh.ini" >"$T/up.out" 2>"$T/up.err"; echo $? >"$T/up.rc" ) &
_pids+=($!)
check "slow.0's app is forked while up -d waits" wait_for 10 \
	bash -c "[ \"\$(meshctl status -f '$T/a/mesh.ini' --json 2>/dev/null | python3 -c '
import json, sys
for s in json.load(sys.stdin)[\"services\"]:
    for i in s[\"instances\"]:
        if i[\"name\"] == \"slow.0\": print(i.get(\"app_pid\"))' 2>/dev/null)\" -gt 1 ] 2>/dev/null"
if listens 31410; then
	not_ok "slow.0 does not listen yet (the test looked too late: it binds after 6 s)"
else
	ok "slow.0 does not listen yet"
fi
is "status --json: slow.0 is starting while it sleeps" "$(state_of "$T/a/mesh.ini" slow.0 state)" starting
is "status --json: its endpoint is down meanwhile" "$(state_of "$T/a/mesh.ini" slow.0 endpoint)" down
meshctl status -f "$T/a/mesh.ini" >"$T/st.txt" 2>&1
check "status (text) shows slow.0 starting" grep -Eq '^slow +v1 +0 +starting' "$T/st.txt"
meshctl top -f "$T/a/mesh.ini" </dev/null >"$T/top.txt" 2>&1
check "top (no tty) shows slow.0 starting" grep -Eq '^slow +v1 +0 +starting' "$T/top.txt"
check "up -d has not returned while slow.0 does not listen" test ! -e "$T/up.rc"

check "up -d returns (bounded)" wait_for 30 test -e "$T/up.rc"
# the port accepts the moment up -d is back: no waiting here
if listens 31410; then ok "slow.0's port accepts when up -d returns"
else not_ok "slow.0's port accepts when up -d returns"; fi
code=$(curl -s -o "$T/first.body" -w '%{http_code}' -H 'Host: slow' http://127.0.0.1:31401/whoami)
is "the first request through the front door gets 200" "$code" 200
is "up -d exits 0" "$(cat "$T/up.rc" 2>/dev/null)" 0
check "up -d said it is ready" grep -q "is ready" "$T/up.out"
check "meshd logged slow.0 ready when its port accepted" \
	grep -q 'slow.0: ready: 127.0.0.1:31410 accepts connections' "$T/a/.mesh/run/meshd.log"
is "status --json: slow.0 is running now" "$(state_of "$T/a/mesh.ini" slow.0 state)" running
is "status --json: its endpoint is up" "$(state_of "$T/a/mesh.ini" slow.0 endpoint)" up
mesh_down_checked "$T/a/mesh.ini"

# 2. apps that never bind, with a [service] ready_timeout
cat >"$T/b/mesh.ini" <<EOF
[mesh]
name = ready-never
port_base = 31470
ready_timeout = 60s

[service.stuck]
command = echo "stuck: waiting for a database that never comes"; exec sleep 120
port = 31420
instances = 2
ready_timeout = 2s
EOF
t0=$(date +%s)
mesh_up "$T/b/mesh.ini" >"$T/upb.out" 2>"$T/upb.err"
rc=$?
t1=$(date +%s)
is "up -d exits 1 when apps never bind" "$rc" 1
check "it returned on the service's ready_timeout, not [mesh]'s 60s ($((t1 - t0)) s)" \
	test $((t1 - t0)) -lt 40
check "it names stuck.0 and why" grep -q 'stuck.0: not ready after .*(ready_timeout 2s)' "$T/upb.err"
check "it names stuck.1 too" grep -q 'stuck.1: not ready after ' "$T/upb.err"
check "it gives the port that never accepted" grep -q 'connect to 127.0.0.1:31420' "$T/upb.err"
check "it gives the app's last log line" \
	grep -q "stuck.0: .*last line: 'stuck: waiting for a database that never comes'" "$T/upb.err"
is "status --json: stuck.0 is still starting" "$(state_of "$T/b/mesh.ini" stuck.0 state)" starting
sed 's/^/# up -d: /' "$T/upb.err" | head -5
mesh_down_checked "$T/b/mesh.ini"

# 3. a rolling restart stops at an instance that does not come back
mkdir -p "$T/c"
cat >"$T/c/mesh.ini" <<EOF
[mesh]
name = ready-roll
port_base = 31490

[service.web]
command = if [ -e "$T/c/broken" ]; then echo "web: config broken, not listening"; exec sleep 120; fi; exec $T/testapp --port \$PORT
port = 31430
instances = 2
ready_timeout = 2s
EOF
mesh_up "$T/c/mesh.ini" >"$T/upc.out" 2>&1
is "up -d (mesh c) exits 0" "$?" 0
w1=$(state_of "$T/c/mesh.ini" web.1 app_pid)
touch "$T/c/broken"
meshctl restart -f "$T/c/mesh.ini" web >"$T/roll.out" 2>"$T/roll.err"
is "a rolling restart whose first instance does not come back exits 1" "$?" 1
check "it names web.0 and its last line" \
	grep -q "web.0: not ready after .*last line: 'web: config broken, not listening'" "$T/roll.err"
check "web.1 was not touched" bash -c "! grep -q 'web.1' '$T/roll.out' '$T/roll.err'"
is "web.1 runs its old app still" "$(state_of "$T/c/mesh.ini" web.1 app_pid)" "$w1"
is "web.1 is running" "$(state_of "$T/c/mesh.ini" web.1 state)" running
sed 's/^/# restart: /' "$T/roll.err" | head -3
mesh_down_checked "$T/c/mesh.ini"
exit 0
