#!/bin/bash
# SPDX-License-Identifier: ISC
# grpc_drain: a rolling `meshctl restart` of a gRPC service under load
# costs no RPC.  Each instance's sidecar is drained first: its HTTP/2
# connections get GOAWAY, the streams under way finish, and the caller's
# sidecar opens new sessions to the instances still up (h2.h):
#   16 callers on ONE channel -> gateway 127.0.0.1:26791 -> api.0 api.1 api.2
#   (Slow 100 ms calls, 3 s deadline each) while `meshctl restart api`
#   replaces the three instances one at a time: 0 failed.
# Ports: 26790-26799.
. "$(dirname "$0")/grpc.bash"

cat >"$T/mesh.ini" <<EOF
[mesh]
name = grpc-drain
port_base = 26795

[service.gateway]
upstreams = api:26791

[service.api]
protocol = grpc
command = exec $GRPC_PY $T/grpc_app.py serve --port \$PORT --name api.\$MESH_INSTANCE --version \$MESH_VERSION
port = 26792
instances = 3

[route.api]
retries = 2
retry_on = connect-failure, unavailable
EOF

check "meshctl check accepts the config" meshctl check -f "$T/mesh.ini"
mesh_up_or_stop "$T/mesh.ini"
check "listener 127.0.0.1:26791 accepts" wait_port 26791 10
check "the caller's sidecar knows all 3 api endpoints" until_ok 15 grpc_answers 127.0.0.1:26791 3

grpc unary --target 127.0.0.1:26791 --count 100000 --threads 16 --delay-ms 100 \
	--deadline-ms 3000 --max-seconds 30 --mark 200 "$T/going" >"$T/load.json" 2>"$T/load.err" &
load=$!
_pids+=("$load")
check "the load runs (200 RPCs ended)" wait_for 30 test -e "$T/going"
meshctl restart -f "$T/mesh.ini" api >"$T/restart.out" 2>&1
is "meshctl restart api: exit 0" "$?" 0
sed 's/^/# /' "$T/restart.out" | head -5
check "the load still runs after the restart (it starts calls for 30 s)" alive "$load"
wait "$load"
echo "# load: $(head -c 600 "$T/load.json")"
sent=$(jget "$T/load.json" sent)
check "RPCs ran through the whole restart ($sent)" test "${sent:-0}" -gt 500
is "not one RPC failed while every instance was replaced" "$(jget "$T/load.json" failed)" 0

mesh_down_checked "$T/mesh.ini"
exit 0
