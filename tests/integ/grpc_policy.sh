#!/bin/bash
# SPDX-License-Identifier: ISC
# grpc_policy: the route's policy per RPC for a real gRPC caller
# (python3-grpcio, h2c with prior knowledge), and the mesh's own refusals
# as gRPC statuses (trailers-only, grpc-status, grpc-message, mesh-error):
#   client channel -> gateway 127.0.0.1:26651 -> api.0 api.1 api.2
#        retries = 2, retry_on = connect-failure, unavailable; restart = never
#     2,000 RPCs (Slow 50 ms, 16 callers on ONE channel, 5 s deadline each);
#     api.1's app is SIGKILLed once 500 have ended: not one RPC fails
#   -> 127.0.0.1:26652 -> locked (allow = someone): PERMISSION_DENIED (7)
#   -> 127.0.0.1:26653 -> gone (its only app killed): UNAVAILABLE (14)
#   -> 127.0.0.1:26654 -> slow (route timeout = 300ms), a 2 s call with a
#      5 s deadline of its own: DEADLINE_EXCEEDED (4) in well under 1.5 s
# Ports: 26650-26699.
. "$(dirname "$0")/grpc.bash"

app() { # NAME: the command of a grpc_app server
	echo "exec $GRPC_PY $T/grpc_app.py serve --port \$PORT --name $1.\$MESH_INSTANCE --version \$MESH_VERSION"
}
cat >"$T/mesh.ini" <<EOF
[mesh]
name = grpc-policy
port_base = 26675

[service.gateway]
upstreams = api:26651, locked:26652, gone:26653, slow:26654

[service.someone]
upstreams = locked

[service.api]
protocol = grpc
command = $(app api)
port = 26660
instances = 3
restart = never

[route.api]
lb = round-robin
retries = 2
retry_on = connect-failure, unavailable
backoff = 5ms, 50ms
retry_budget = 20%, 200/s
connect_timeout = 250ms

[service.locked]
protocol = grpc
command = $(app locked)
port = 26665
allow = someone

[service.gone]
protocol = grpc
command = $(app gone)
port = 26667
restart = never

[service.slow]
protocol = grpc
command = $(app slow)
port = 26669

[route.slow]
timeout = 300ms
EOF

check "meshctl check accepts the config" meshctl check -f "$T/mesh.ini"
mesh_up_or_stop "$T/mesh.ini"
for p in 26651 26652 26653 26654; do
	check "listener 127.0.0.1:$p accepts" wait_port "$p" 10
done
check "the caller's sidecar knows all 3 api endpoints (a few RPCs reach 3 instances)" \
	until_ok 15 grpc_answers 127.0.0.1:26651 3

# ---- an instance SIGKILLed under load ---------------------------------
victim=$(inst_field api v1 1 app_pid)
check "api.1's app is running (pid ${victim:-?})" alive "${victim:-0}"
grpc unary --target 127.0.0.1:26651 --count 2000 --threads 16 --delay-ms 50 \
	--deadline-ms 5000 --mark 500 "$T/quarter" --max-seconds 90 \
	>"$T/kill.json" 2>"$T/kill.err" &
load=$!
_pids+=("$load")
check "500 RPCs ended before the kill" wait_for 60 test -e "$T/quarter"
kill -KILL "${victim:-0}" 2>/dev/null
check "api.1's app was killed under load" wait_for 5 bash -c "! kill -0 ${victim:-0} 2>/dev/null"
wait "$load"
echo "# under the kill: $(cat "$T/kill.json")"
is "all 2000 RPCs were sent" "$(jget "$T/kill.json" sent)" 2000
is "not one RPC failed with one of three instances SIGKILLed" "$(jget "$T/kill.json" failed)" 0
python3 - "$T/kill.json" "${victim:-0}" >"$T/kill.by" <<'EOF'
import json, sys
by = json.load(open(sys.argv[1]))["by"]
print(by.get("api.1 v1 %s" % sys.argv[2], 0))
EOF
check "api.1 answered some before it died ($(cat "$T/kill.by"))" test "$(cat "$T/kill.by")" -gt 0
retries=$(meshctl status -f "$T/mesh.ini" --json 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
for s in d["services"]:
    for i in s["instances"]:
        if i["name"] == "gateway.0" and i.get("stats"):
            print(i["stats"].get("retries", 0))' 2>/dev/null)
echo "# the gateway's sidecar retried ${retries:-?} times"

# refusal NAME FILE WANT_CODE WANT_NAME [mesh-error]: the refusal in FILE
refusal() {
	local what=$1 f=$2
	echo "# $what: $(cat "$f")"
	is "$what: $4 ($3)" "$(jget "$f" code) $(jget "$f" name)" "$3 $4"
	check "... with a grpc-message ('$(jget "$f" message)')" test -n "$(jget "$f" message)" -a "$(jget "$f" message)" != -
	if [ "${5:-}" = mesh-error ]; then
		check "... and a mesh-error header" python3 -c '
import json, sys
sys.exit(0 if json.load(open(sys.argv[1]))["metadata"].get("mesh-error") else 1)' "$f"
	fi
}

# ---- allow --------------------------------------------------------------
grpc code --target 127.0.0.1:26652 --data knock >"$T/allow.json" 2>"$T/allow.err"
refusal "the gateway is not in locked's allow" "$T/allow.json" 7 PERMISSION_DENIED mesh-error

# ---- no endpoint ----------------------------------------------------------
gone=$(inst_field gone v1 0 app_pid)
check "gone's app is running (pid ${gone:-?})" alive "${gone:-0}"
kill -KILL "${gone:-0}" 2>/dev/null
gone_down() { [ "$(inst_field gone v1 0 endpoint)" = down ]; }
check "gone's only endpoint is down once its app is dead" until_ok 10 gone_down
sleep 1   # and the gateway's sidecar has the document that says so
grpc code --target 127.0.0.1:26653 --data anyone >"$T/gone.json" 2>"$T/gone.err"
refusal "gone has no live endpoint" "$T/gone.json" 14 UNAVAILABLE mesh-error

# ---- the route's timeout ----------------------------------------------
grpc code --target 127.0.0.1:26654 --method Slow --data 2000 --deadline-ms 5000 \
	>"$T/timeout.json" 2>"$T/timeout.err"
refusal "route timeout = 300ms on a 2 s call" "$T/timeout.json" 4 DEADLINE_EXCEEDED
ms=$(jget "$T/timeout.json" elapsed_ms)
check "... in well under the client's own 5 s deadline (${ms} ms < 1500)" \
	test "${ms:-9999}" -lt 1500 2>/dev/null

mesh_down_checked "$T/mesh.ini"
exit 0
