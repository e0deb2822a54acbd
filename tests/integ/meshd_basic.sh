#!/bin/bash
# SPDX-License-Identifier: ISC
# meshd started directly: sidecars come ready, apps see the right
# environment, the control commands answer, SIGTERM leaves nothing behind.
# Ports 21200-21259.
. "$(dirname "$0")/lib.sh"
CLIENT="$ROOT/tests/integ/meshd_client.py"
ln -s "$MESH_APPS/testapp" "$T/testapp"   # so every app's command line names $T

cat >"$T/mesh.ini" <<INI
[mesh]
name = basic
port_base = 21200

[service.api]
command = $T/testapp
port = 21230
instances = 2
health = /
env.GREETING = hello

[service.web]
command = $T/testapp
port = 21240
upstreams = api, db:21245

[service.noisy]
command = while [ ! -e $T/go ]; do sleep 0.2; done; head -c 8000000 /dev/zero | tr '\\0' x | fold -w 5000; echo; exec sleep 1000

[service.db]
command = $T/testapp --tcp
port = 21250
protocol = tcp
INI
SOCK="$T/.mesh/run/meshd.sock"
ctl() { python3 "$CLIENT" "$SOCK" "$@"; }
js() { python3 -c "import json,sys; d=json.load(open('$T/status.json')); print($1)"; }

spawn meshd meshd -f "$T/mesh.ini"
MESHD=$(cat "$T/meshd.pid")
wait_for 10 test -S "$SOCK" || not_ok "control socket appears" "$(cat "$T/meshd.log")"
ctl wait-ready 30 >"$T/wait.out"
is "wait-ready answers 0" "$?" 0
ctl ping >/dev/null
is "ping answers 0" "$?" 0
ctl "no-such-command" >"$T/unknown.out"
is "an unknown command answers 2" "$?" 2
check "socket is mode 0600" test "$(stat -c %a "$SOCK")" = 600
check "state dir is mode 0700" test "$(stat -c %a "$T/.mesh")" = 700

ctl "status --json" >"$T/status.json"
check "status --json is valid JSON" python3 -m json.tool "$T/status.json"
is "every instance is running" \
	"$(js "' '.join(i['state'] for s in d['services'] for i in s['instances'])")" \
	"running running running running running"
is "instance names" \
	"$(js "' '.join(i['name'] for s in d['services'] for i in s['instances'])")" \
	"api.0 api.1 web.0 noisy.0 db.0"
is "instance ids" "$(js "d['services'][0]['instances'][1]['id']")" "api@v1.1"
is "meshd pid in status" "$(js "d['mesh']['meshd_pid']")" "$MESHD"
is "web's listener" "$(js "d['services'][1]['instances'][0]['listeners']")" \
	"[{'port': 21245, 'upstream': 'db'}]"
WEB_OUT=$(js "d['services'][1]['instances'][0]['outbound_port']")
API1_OUT=$(js "d['services'][0]['instances'][1]['outbound_port']")
check "auto ports start at port_base" test "$(js "d['services'][0]['instances'][0]['inbound_port']")" = 21200

get() { curl -s --max-time 5 "http://127.0.0.1:$1$2"; }
is "web PORT" "$(get 21240 /env/PORT)" 21240
is "web MESH_SERVICE" "$(get 21240 /env/MESH_SERVICE)" web
is "web MESH_VERSION" "$(get 21240 /env/MESH_VERSION)" v1
is "web MESH_INSTANCE" "$(get 21240 /env/MESH_INSTANCE)" 0
is "web http_proxy" "$(get 21240 /env/http_proxy)" "http://127.0.0.1:$WEB_OUT"
is "web HTTP_PROXY" "$(get 21240 /env/HTTP_PROXY)" "http://127.0.0.1:$WEB_OUT"
is "web no_proxy" "$(get 21240 /env/no_proxy)" "localhost,127.0.0.1,::1"
is "web NO_PROXY" "$(get 21240 /env/NO_PROXY)" "localhost,127.0.0.1,::1"
is "web MESH_UPSTREAM_DB" "$(get 21240 /env/MESH_UPSTREAM_DB)" "127.0.0.1:21245"
is "api.1 PORT is port+1" "$(get 21231 /env/PORT)" 21231
is "api.1 MESH_INSTANCE" "$(get 21231 /env/MESH_INSTANCE)" 1
is "api.1 its own outbound" "$(get 21231 /env/http_proxy)" "http://127.0.0.1:$API1_OUT"
is "api env.GREETING" "$(get 21230 /env/GREETING)" hello
check "web reaches api through its sidecar" \
	sh -c "curl -s --max-time 5 'http://127.0.0.1:21240/call?url=http://api/whoami' | grep -q '^200 name=api-v1-'"
check "web's db listener reaches db" bash -c "exec 3<>/dev/tcp/127.0.0.1/21245; head -c 8 <&3 | grep -q db-v1-0"

check "app lines are prefixed with the instance" grep -Eq '^api\.0 +\| api-v1-0 ' "$T/meshd.log"
check "sidecar lines are prefixed name~proxy" grep -Eq '^web\.0~proxy +\| ' "$T/meshd.log"
check "wait-ready streamed progress lines" grep -q 'sidecar ready' "$T/wait.out"

# a `logs` client that never reads is dropped; meshd keeps answering
python3 - "$SOCK" "$T/attached" >"$T/slow.out" 2>&1 <<'PY' &
import socket, struct, sys, time
s = socket.socket(socket.AF_UNIX)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(sys.argv[1])
s.sendall(struct.pack("!IHH", 4, 20, 0) + b"logs")
open(sys.argv[2], "w").close()   # attached: now the noise may start
time.sleep(6)              # noisy writes 8 MB meanwhile
got = 0
s.settimeout(5)
try:
    while True:
        d = s.recv(1 << 20)
        if not d:
            break
        got += len(d)
except socket.timeout:
    print("not dropped", got)
    sys.exit(1)
print("dropped after", got, "bytes")
PY
SLOW=$!
# the noise must come after the client is attached, or it only gets the ring
wait_for 10 test -e "$T/attached"
sleep 0.3
touch "$T/go"
sleep 3
ctl ping >/dev/null
is "meshd answers while a client does not read" "$?" 0
wait "$SLOW"
check "the client that does not read is dropped" grep -q '^dropped after' "$T/slow.out"
check "meshd says it dropped it" grep -q 'dropping a client that does not read' "$T/meshd.log"
wait_for 20 sh -c "grep -c '^noisy.0 *| x' '$T/meshd.log' | grep -qx 3200"
check "long lines are split at 4 KiB" sh -c "grep '^noisy.0 *| x' '$T/meshd.log' | awk '{print length(\$NF)}' | sort -n | uniq -c | tr -s ' ' | grep -qx ' 1600 904' && \
	grep '^noisy.0 *| x' '$T/meshd.log' | awk '{print length(\$NF)}' | sort -n | uniq -c | tr -s ' ' | grep -qx ' 1600 4096'"
ctl "status --json" >"$T/status.json"

PIDS=$(js "' '.join(str(i[k]) for s in d['services'] for i in s['instances'] for k in ('app_pid','proxy_pid'))")
kill -TERM "$MESHD"
wait_for 20 sh -c "! kill -0 $MESHD 2>/dev/null"
wait "$MESHD"
is "SIGTERM: meshd exits 0" "$?" 0
left=""
for p in $PIDS; do kill -0 "$p" 2>/dev/null && left="$left $p"; done
is "SIGTERM: every app and sidecar is gone (by pid)" "$left" ""
is "SIGTERM: nothing mentions the state dir (pgrep -f)" "$(leftovers "$T")" ""
check "SIGTERM: socket and pid file removed" test ! -e "$SOCK" -a ! -e "$T/.mesh/run/meshd.pid"
a=$(grep -n 'meshd *| api.0: stopped' "$T/meshd.log" | head -1 | cut -d: -f1)
p=$(grep -n 'meshd *| api.0~proxy: stopped' "$T/meshd.log" | head -1 | cut -d: -f1)
check "apps stopped before their sidecars" test "${a:-0}" -gt 0 -a "${p:-0}" -gt "${a:-0}"
