#!/bin/bash
# SPDX-License-Identifier: ISC
# grpc_mesh: real gRPC (python3-grpcio, h2c with prior knowledge) through
# the mesh, balanced and split per RPC, not per connection:
#   client channel -> gateway 127.0.0.1:26601 -> api.0 api.1 api.2
#                                               (protocol = grpc, round-robin)
#                  -> gateway 127.0.0.1:26602 -> canary v1 (90%) | canary@v2 (10%)
#                  -> caller's outbound proxy port, default authority "api"
#   1. 3,000 unary RPCs on ONE channel: each instance 900..1100 (even +- 10%)
#   2. 2,000 unary RPCs on one channel, split v1:90, v2:10: v2 gets
#      150..250 (10% +- 2.5%, ~3.7 sigma), v1 the rest
#   3. a server stream of 10,000 messages (100 B each: 1 MB, many flow
#      control windows) arrives whole and in order
#   4. a bidi stream of 1,000 messages is echoed whole and in order
#   5. a 300 ms deadline on a 2 s call: DEADLINE_EXCEEDED, back well
#      before the 2 s (< 1.5 s), and the app sees its call end early
#   6. one RPC through the caller's outbound proxy port, the port the
#      caller's app finds in $http_proxy, naming the service by
#      grpc.default_authority = api
# Ports: 26600-26649.
. "$(dirname "$0")/grpc.bash"

cat >"$T/mesh.ini" <<EOF
[mesh]
name = grpc-mesh
port_base = 26625
metrics = 127.0.0.1:26648

[service.gateway]
upstreams = api:26601, canary:26602

[service.api]
protocol = grpc
command = exec $GRPC_PY $T/grpc_app.py serve --port \$PORT --name api.\$MESH_INSTANCE --version \$MESH_VERSION
port = 26610
instances = 3

[route.api]
lb = round-robin

[service.canary]
protocol = grpc
command = exec $GRPC_PY $T/grpc_app.py serve --port \$PORT --name canary --version \$MESH_VERSION
port = 26615

[service.canary@v2]
protocol = grpc
command = exec $GRPC_PY $T/grpc_app.py serve --port \$PORT --name canary --version \$MESH_VERSION
port = 26616

[route.canary]
split = v1:90, v2:10

; a caller app: it writes down the proxy its environment names, then
; serves (so that it is ready by its port like the others)
[service.client]
protocol = grpc
upstreams = api
command = printf '%s\n' "\$http_proxy" >$T/client.proxy; exec $GRPC_PY $T/grpc_app.py serve --port \$PORT --name client
port = 26620
EOF

check "meshctl check accepts protocol = grpc" meshctl check -f "$T/mesh.ini"
mesh_up_or_stop "$T/mesh.ini"
for p in 26601 26602; do
	check "listener 127.0.0.1:$p accepts" wait_port "$p" 10
done
check "the caller's sidecar knows all 3 api endpoints (a few RPCs reach 3 instances)" \
	until_ok 15 grpc_answers 127.0.0.1:26601 3
check "canary answers" until_ok 15 grpc_answers 127.0.0.1:26602 1

# ---- 1. per-RPC balancing on one channel ----------------------------
grpc unary --target 127.0.0.1:26601 --count 3000 >"$T/even.json" 2>"$T/even.err"
echo "# 3000 RPCs on one channel: $(jget "$T/even.json" by) failed=$(jget "$T/even.json" failed) $(jget "$T/even.json" errors)"
is "3000 unary RPCs on one channel: all OK" "$(jget "$T/even.json" ok)" 3000
sum=$(python3 - "$T/even.json" <<'EOF'
import json, sys
by = json.load(open(sys.argv[1]))["by"]
print(", ".join("%s=%d" % (k.split()[0], c) for k, c in sorted(by.items())))
inst = sorted(k.split()[0] for k in by)
sys.exit(0 if inst == ["api.0", "api.1", "api.2"]
         and all(900 <= c <= 1100 for c in by.values()) else 1)
EOF
)
is "... one instance each of api.0, api.1, api.2, each 900..1100 ($sum)" "$?" 0

# ---- 2. the canary split per RPC ------------------------------------
grpc unary --target 127.0.0.1:26602 --count 2000 >"$T/split.json" 2>"$T/split.err"
read -r v1 v2 other < <(python3 - "$T/split.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
t = {"v1": 0, "v2": 0, "other": 0}
for k, c in d["by"].items():
    f = k.split()
    t[f[1] if f[0] == "canary" and f[1] in t else "other"] += c
print(t["v1"], t["v2"], t["other"] + d["failed"])
EOF
)
echo "# split v1:90, v2:10 over 2000 RPCs on one channel: v1=${v1:-?} v2=${v2:-?} other=${other:-?}"
is "every RPC answered by canary v1 or v2" "${other:-?}" 0
check "v2 gets 10% +- 2.5% (150..250 of 2000; got ${v2:-?})" \
	test "${v2:-0}" -ge 150 -a "${v2:-0}" -le 250
check "v1 gets the rest (got ${v1:-?})" test "$(( ${v1:-0} + ${v2:-0} ))" -eq 2000

# ---- 3, 4. streams ----------------------------------------------------
grpc stream --target 127.0.0.1:26601 --n 10000 >"$T/stream.json" 2>"$T/stream.err"
echo "# server stream: $(cat "$T/stream.json")"
is "a 10,000-message server stream arrives whole and in order" "$(jget "$T/stream.json" intact)" true
grpc bidi --target 127.0.0.1:26601 --n 1000 >"$T/bidi.json" 2>"$T/bidi.err"
echo "# bidi stream: $(cat "$T/bidi.json")"
is "a 1,000-message bidi stream is echoed whole and in order" "$(jget "$T/bidi.json" intact)" true

# ---- 5. a deadline ------------------------------------------------------
grpc deadline --target 127.0.0.1:26601 --ms 300 --slow-ms 2000 >"$T/deadline.json" 2>"$T/deadline.err"
ms=$(jget "$T/deadline.json" elapsed_ms)
echo "# deadline 300 ms on a 2 s call: $(cat "$T/deadline.json")"
is "a 300 ms deadline on a 2 s call: DEADLINE_EXCEEDED" "$(jget "$T/deadline.json" name)" DEADLINE_EXCEEDED
check "... back within about the deadline (${ms} ms < 1500)" test "${ms:-9999}" -lt 1500 2>/dev/null
# the client's RST_STREAM or grpc-timeout went through both sidecars
check "... and the app saw its call end early, not run its 2 s" \
	wait_for 5 grep -q 'slow: ended early' "$T/.mesh/run/meshd.log"

# ---- 6. through the caller's outbound proxy port ---------------------
check "the caller app was given http_proxy" wait_for 10 test -s "$T/client.proxy"
hp=$(cat "$T/client.proxy" 2>/dev/null)
out=$(sed -E 's,^http://,,; s,/$,,' <<<"$hp")
check "... http://127.0.0.1:PORT (got '$hp')" grep -Eqx '127\.0\.0\.1:[0-9]+' <<<"$out"
is "... the port status --json says is client.0's outbound port" \
	"127.0.0.1:$(inst_field client v1 0 outbound_port)" "$out"
grpc code --target "$out" --authority api --data via-proxy >"$T/proxy.json" 2>"$T/proxy.err"
echo "# through $out with authority api: $(cat "$T/proxy.json")"
is "one RPC through the outbound proxy port, default_authority = api: OK" \
	"$(jget "$T/proxy.json" name)" OK
check "... answered by api, echoing the request" \
	grep -Eq '"reply": "api\.[012] v1 [0-9]+\\nvia-proxy"' "$T/proxy.json"

# ---- 7. seen like the rest: per-RPC statuses in status and /metrics -----
meshctl status -f "$T/mesh.ini" >"$T/status.txt" 2>&1
grep GRPC "$T/status.txt" | sed 's/^/# /'
check "meshctl status: api's gRPC success rate (GRPC P% OK of N calls)" \
	grep -Eq '^api v1: GRPC [0-9.]+% OK of [0-9]+ calls' "$T/status.txt"
curl -s --max-time 5 http://127.0.0.1:26648/metrics >"$T/metrics.txt"
check "/metrics: mesh_grpc_requests_total with grpc_status=\"0\" for api" \
	grep -Eq '^mesh_grpc_requests_total\{.*service="api".*grpc_status="0".*\} [1-9]' "$T/metrics.txt"
check "/metrics: the sidecars counted HTTP/2 streams" \
	grep -Eq '^mesh_http2_total\{.*what="streams".*\} [1-9]' "$T/metrics.txt"

mesh_down_checked "$T/mesh.ini"
exit 0
