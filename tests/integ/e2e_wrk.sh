#!/bin/bash
# SPDX-License-Identifier: ISC
# e2e_wrk: keep-alive load through two sidecars with wrk:
#   wrk -> gateway sidecar 127.0.0.1:22501 -> web sidecar -> testapp
# Bounded: 3 s, 2 threads, 16 connections.  Asserts at least 1,000
# requests, zero socket errors, zero non-2xx responses, and that the app
# served at least as many requests as wrk counted; then three pipelined
# requests come back in order.  Prints requests/s and
# the latency distribution as "# " lines.
# Ports: 22500-22599.
. "$(dirname "$0")/lib.sh"

cp "$MESH_APPS/testapp" "$T/testapp"
cat >"$T/mesh.ini" <<EOF
[mesh]
name = e2e-wrk
port_base = 22550

[service.gateway]
upstreams = web:22501

[service.web]
command = $T/testapp --port \$PORT
port = 22510
EOF

G=http://127.0.0.1:22501
mesh_up_or_stop "$T/mesh.ini"
check "front door 127.0.0.1:22501 accepts" wait_port 22501 10

before=$(curl -sS -m 10 "$G/count")
timeout 30 wrk -t2 -c16 -d3s --timeout 5s --latency "$G/" >"$T/wrk.out" 2>&1
is "wrk exits 0" "$?" 0
after=$(curl -sS -m 10 "$G/count")
sed -n 's/^/# wrk: /p' "$T/wrk.out"

reqs=$(awk '/requests in/ {print $1}' "$T/wrk.out")
rps=$(awk '/^Requests\/sec:/ {print $2}' "$T/wrk.out")
echo "# requests=${reqs:-?} requests/s=${rps:-?}"
check "at least 1000 requests (got ${reqs:-none})" test "${reqs:-0}" -ge 1000
errs=$(sed -n 's/.*Socket errors: //p' "$T/wrk.out")
is "zero socket errors" "${errs:-none}" "none"
non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' "$T/wrk.out")
is "zero non-2xx responses" "${non2xx:-0}" 0
# /count is the number served before this request: the app saw every one
served=$(( ${after:-0} - ${before:-0} - 1 ))
echo "# app served $served requests during the run (wrk completed ${reqs:-?})"
check "the app served at least what wrk counted ($served >= ${reqs:-?})" \
	test "$served" -ge "${reqs:-1}"
is "the mesh still answers after the load" "$(curl -sS -m 10 "$G/")" "web-v1-0"

# pipelining: three requests in one write, the slow one first; the answers
# come back complete and in order on the same connection
r=$(timeout 20 python3 - <<'EOF'
import socket
s = socket.create_connection(("127.0.0.1", 22501), timeout=10)
s.sendall(b"GET /delay?ms=300 HTTP/1.1\r\nHost: web\r\n\r\n"
          b"POST /echo HTTP/1.1\r\nHost: web\r\nContent-Length: 5\r\n\r\nhello"
          b"GET /status/201 HTTP/1.1\r\nHost: web\r\nConnection: close\r\n\r\n")
d = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    d += b
out = []
for part in d.split(b"HTTP/1.1 ")[1:]:
    out.append(part[:3].decode())
print(" ".join(out), b"web-v1-0\n" in d, b"hello" in d)
EOF
)
is "pipelined: 200 (slow), 200 (echo), 201, in order, bodies intact" "$r" "200 200 201 True True"

mesh_down_checked "$T/mesh.ini"
exit 0
