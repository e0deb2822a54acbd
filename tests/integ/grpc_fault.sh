#!/bin/bash
# SPDX-License-Identifier: ISC
# grpc_fault: the route's injected faults apply per RPC to a gRPC service,
# what does not apply to HTTP/2 is refused by name, and a caller of the
# wrong HTTP version hears 505 instead of a hang:
#   gRPC client -> gateway 127.0.0.1:26771 -> flaky (fault.abort = 50% 503):
#     of 400 RPCs about half end UNAVAILABLE with grpc-message
#     "fault injected", the rest reach the app; faults.abort counts them
#   -> 127.0.0.1:26772 -> held (fault.delay = 100% 300ms): each RPC takes at
#     least the delay and still succeeds
#   `meshctl mirror flaky v1=10%`: refused, naming flaky and grpc
#   curl --http1.1 on 127.0.0.1:26771 (a grpc service): 505 service speaks HTTP/2
#   curl --http2-prior-knowledge on 127.0.0.1:26773 (an http service): 505
#     service speaks HTTP/1.1
# Ports: 26770-26789.
. "$(dirname "$0")/grpc.bash"

app() { # NAME: the command of a grpc_app server
	echo "exec $GRPC_PY $T/grpc_app.py serve --port \$PORT --name $1.\$MESH_INSTANCE --version \$MESH_VERSION"
}
cp "$MESH_APPS/testapp" "$T/testapp"
cat >"$T/mesh.ini" <<EOF
[mesh]
name = grpc-fault
port_base = 26780

[service.gateway]
upstreams = flaky:26771, held:26772, web:26773

[service.flaky]
protocol = grpc
command = $(app flaky)
port = 26775

[route.flaky]
fault.abort = 50% 503

[service.held]
protocol = grpc
command = $(app held)
port = 26776

[route.held]
fault.delay = 100% 300ms

[service.web]
command = exec $T/testapp --port \$PORT --name web
port = 26777
EOF

check "meshctl check accepts faults on grpc services" meshctl check -f "$T/mesh.ini"
mesh_up_or_stop "$T/mesh.ini"
for p in 26771 26772 26773; do
	check "listener 127.0.0.1:$p accepts" wait_port "$p" 10
done
check "the caller's sidecar knows flaky's endpoint" until_ok 15 grpc_answers 127.0.0.1:26772 1

# ---- fault.abort = 50% 503 ----------------------------------------------
grpc unary --target 127.0.0.1:26771 --count 400 --deadline-ms 3000 --max-seconds 60 \
	>"$T/abort.json" 2>"$T/abort.err"
echo "# fault.abort = 50% 503: $(head -c 400 "$T/abort.json")"
python3 - "$T/abort.json" >"$T/abort.out" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
print(d["ok"], d["codes"].get("UNAVAILABLE", 0), d["sent"],
      all("fault injected" in e for e in d["errors"]))
EOF
read -r ok_n unavail sent msg <"$T/abort.out"
is "all 400 RPCs were sent" "$sent" 400
check "about half ended UNAVAILABLE ($unavail of 400, want 140..260)" \
	test "${unavail:-0}" -ge 140 -a "${unavail:-0}" -le 260
is "... the others reached the app" "$((ok_n + unavail))" 400
is "... each with grpc-message 'fault injected'" "$msg" True
aborts=$(meshctl status -f "$T/mesh.ini" --json 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
for s in d["services"]:
    for i in s["instances"]:
        if i["name"] == "gateway.0" and i.get("stats"):
            print(i["stats"].get("faults", {}).get("abort", i["stats"].get("faults.abort", 0)))' 2>/dev/null)
is "the gateway's sidecar counted them as injected aborts" "${aborts:-?}" "$unavail"

# ---- fault.delay = 100% 300ms -------------------------------------------
grpc unary --target 127.0.0.1:26772 --count 5 --deadline-ms 3000 >"$T/delay.json" 2>"$T/delay.err"
echo "# fault.delay = 100% 300ms: $(head -c 300 "$T/delay.json")"
is "5 delayed RPCs all succeed" "$(jget "$T/delay.json" ok)" 5
ms=$(jget "$T/delay.json" elapsed_ms)
check "... and took at least 5 x 300 ms ($ms ms)" test "${ms:-0}" -ge 1500

# ---- what HTTP/2 does not do ---------------------------------------------
meshctl mirror -f "$T/mesh.ini" flaky v1=10% >"$T/mirror.out" 2>&1
is "meshctl mirror on a grpc service: refused (exit 1)" "$?" 1
check "... naming the service and its protocol" grep -q "flaky is grpc" "$T/mirror.out"
code=$(curl -s --http1.1 -o "$T/h1.body" -D "$T/h1.head" -w '%{http_code}' --max-time 5 \
	http://127.0.0.1:26771/mesh.Test/Unary)
is "HTTP/1.1 to a grpc service's listener: 505" "$code" 505
check "... mesh-error: service speaks HTTP/2" grep -qi "mesh-error: service speaks HTTP/2" "$T/h1.head"
code=$(curl -s --http2-prior-knowledge -o /dev/null -D "$T/h2.head" -w '%{http_code}' \
	--max-time 5 http://127.0.0.1:26773/whoami)
is "HTTP/2 to an http service's listener: 505" "$code" 505
check "... mesh-error: service speaks HTTP/1.1" grep -qi "mesh-error: service speaks HTTP/1.1" "$T/h2.head"
code=$(curl -s --http1.1 -o /dev/null -w '%{http_code}' --max-time 5 http://127.0.0.1:26773/whoami)
is "HTTP/1.1 to the http service on that port still works" "$code" 200

mesh_down_checked "$T/mesh.ini"
exit 0
