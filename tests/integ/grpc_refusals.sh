#!/bin/bash
# SPDX-License-Identifier: ISC
# grpc_refusals: an app that calls with gRPC's content-type hears the
# mesh's own refusals as gRPC statuses (src/lib/grpc.c, head_refusal's
# HEAD_GRPC): 200, content-type application/grpc, grpc-status,
# grpc-message, mesh-error, no body.  Over HTTP/1.1 here; the statuses
# are the ones issue 14's HTTP/2 path will send.
#   gateway 127.0.0.1:26001 -> api    fault.abort = 100% 503 with x-chaos: 1
#                                     -> UNAVAILABLE (14), never reaching api
#   gateway 127.0.0.1:26002 -> locked allow = someone: the callee's 403
#                                     -> PERMISSION_DENIED (7), translated
#                                     by the gateway's sidecar
#   gateway 127.0.0.1:26003 -> slow   timeout = 300ms -> DEADLINE_EXCEEDED (4)
# The same requests without the gRPC content-type get the HTTP refusals.
# Ports: 26000-26099.
. "$(dirname "$0")/lib.sh"

cp "$MESH_APPS/testapp" "$T/testapp"
cat >"$T/mesh.ini" <<EOF
[mesh]
name = grpc-refusals
port_base = 26050

[service.gateway]
upstreams = api:26001, locked:26002, slow:26003

[service.someone]
upstreams = locked

[service.api]
command = exec $T/testapp --port \$PORT
port = 26010

[service.locked]
command = exec $T/testapp --port \$PORT
port = 26020
allow = someone

[service.slow]
command = exec $T/testapp --port \$PORT
port = 26030

[route.api]
fault.abort = 100% 503
fault.match = x-chaos: 1

[route.slow]
timeout = 300ms
EOF

check "meshctl check accepts the config" meshctl check -f "$T/mesh.ini"
mesh_up_or_stop "$T/mesh.ini"
for p in 26001 26002 26003; do
	check "listener 127.0.0.1:$p accepts" wait_port "$p" 10
done

# PORT HOST PATH [content-type]: one request; prints
# "status|content-type|grpc-status|grpc-message|mesh-error|body-length"
ask() {
	timeout 20 python3 - "$@" <<'EOF'
import http.client, sys
port, host, path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
hdr = {"Host": host, "x-chaos": "1", "te": "trailers"}
body = None
if len(sys.argv) > 4:
    hdr["content-type"] = sys.argv[4]
    body = b"\x00\x00\x00\x00\x00"   # one empty gRPC message
c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
c.request("POST", path, body=body, headers=hdr)
r = c.getresponse()
b = r.read()
print("|".join([str(r.status), r.getheader("content-type", "-"),
                r.getheader("grpc-status", "-"), r.getheader("grpc-message", "-"),
                r.getheader("mesh-error", "-"), str(len(b))]))
EOF
}
api_count() { curl -s --max-time 5 http://127.0.0.1:26010/count; }

before=$(api_count)
is "gRPC caller, injected abort: UNAVAILABLE, trailers-only" \
	"$(ask 26001 api /shop.Cart/Add application/grpc)" \
	"200|application/grpc|14|fault injected|fault injected|0"
is "gRPC caller with a codec (application/grpc+proto): the same" \
	"$(ask 26001 api /shop.Cart/Add application/grpc+proto)" \
	"200|application/grpc|14|fault injected|fault injected|0"
is "an HTTP caller, injected abort: the HTTP refusal" \
	"$(ask 26001 api /shop.Cart/Add)" \
	"503|-|-|-|fault injected|15"
is "grpc-web is not gRPC: the HTTP refusal" \
	"$(ask 26001 api /shop.Cart/Add application/grpc-web)" \
	"503|-|-|-|fault injected|15"
is "no aborted call reached api (only the /count before)" "$(api_count)" "$((before + 1))"

is "gRPC caller refused by the callee's allow: PERMISSION_DENIED" \
	"$(ask 26002 locked /shop.Vault/Open application/grpc)" \
	"200|application/grpc|7|not allowed|not allowed|0"
is "an HTTP caller refused by allow: the callee's 403 as it was" \
	"$(ask 26002 locked /shop.Vault/Open)" \
	"403|-|-|-|not allowed|12"

is "gRPC caller past the route's timeout: DEADLINE_EXCEEDED" \
	"$(ask 26003 slow '/delay?ms=3000' application/grpc)" \
	"200|application/grpc|4|timeout|timeout|0"
is "an HTTP caller past the timeout: 504" \
	"$(ask 26003 slow '/delay?ms=3000')" \
	"504|-|-|-|timeout|8"

mesh_down_checked "$T/mesh.ini"
exit 0
