#!/bin/bash
# SPDX-License-Identifier: ISC
# ready_external: an app meshd does not start (`port`, no `command`: nginx,
# a database, an app under a debugger) is ready, and its endpoint
# announced, only once its port accepts a connection — as for one meshd
# starts (svc_ready.c).  Before: ready with its sidecar, and the first
# callers got 503s.
#   1. ext's app is not running: `up -d` with ready_timeout = 3s exits 1
#      naming ext.0 and its port; status says `waiting`, endpoint down.
#   2. the app is started by hand: within seconds ext.0 is ready, its
#      endpoint up, and the front door (127.0.0.1:26101) gets ext's 200.
# Ports: 26100-26199.
. "$(dirname "$0")/lib.sh"

cp "$MESH_APPS/testapp" "$T/testapp"
cat >"$T/mesh.ini" <<EOF
[mesh]
name = ready-external
port_base = 26150

[service.gateway]
upstreams = ext:26101

[service.ext]
port = 26110
ready_timeout = 3s
EOF

meshctl up -d -f "$T/mesh.ini" >"$T/up.out" 2>"$T/up.err"
is "up -d: ext's app is not listening: exit 1" "$?" 1
check "... naming ext.0 and its port" grep -q "ext.0.*127.0.0.1:26110" "$T/up.err"
cat "$T/up.err" | sed 's/^/# /' | head -5
ext_field() { # FIELD: ext.0's field in status --json
	meshctl status -f "$T/mesh.ini" --json 2>/dev/null | python3 -c "
import json, sys
d = json.load(sys.stdin)
print([i['$1'] for s in d['services'] for i in s['instances'] if i['id'] == 'ext@v1.0'][0])"
}
is "status --json: ext.0's state is waiting" "$(ext_field state)" waiting
is "status --json: ext.0's endpoint is down" "$(ext_field endpoint)" down
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H 'Host: ext' http://127.0.0.1:26101/)
is "the front door: no endpoint for ext yet (503)" "$code" 503

"$T/testapp" --port 26110 --name ext >"$T/app.log" 2>&1 &
app=$!
ext_up() { [ "$(ext_field endpoint)" = up ]; }
check "ext.0's endpoint is up once its port accepts (within 10 s)" wait_for 10 ext_up
is "status --json: ext.0 is ready" "$(ext_field state)" ready
sleep 1   # and the gateway's sidecar has the document that says so
code=$(curl -s -o "$T/body" -w '%{http_code}' --max-time 5 -H 'Host: ext' http://127.0.0.1:26101/whoami)
is "the front door: ext answers 200" "$code" 200
check "... from the app started by hand" grep -q "name=ext" "$T/body"

mesh_down_checked "$T/mesh.ini"
kill "$app" 2>/dev/null; wait "$app" 2>/dev/null
exit 0
