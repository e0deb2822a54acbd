#!/bin/bash
# SPDX-License-Identifier: ISC
# ready_connect: connect failures are retried by default, whatever the
# method (issue 12, "Connect failures are retried").
#   client -> gateway sidecar 127.0.0.1:24501 -> api.0 api.1 api.2
# No [route.api]: the defaults (retries = 0, ewma).  api.1's app is running
# but refuses every connection (it listened long enough for meshd's
# readiness probe, then closed its listener: an app that is not listening
# yet, or has just died, looks the same to its sidecar).  api.1's sidecar
# answers 503 mesh-error: app not ready; the gateway's sidecar takes that
# as a connect failure of api.1 and sends the request to another instance.
#   - 300 POSTs with a body through the gateway: every one 200, its body
#     echoed whole by api.0 or api.2;
#   - the gateway's sidecar counted retries (> 0, status --json), and
#     api.1's sidecar answered app not ready (its refused.no_upstream > 0);
#   - a request straight to api.1's inbound port (mTLS, with a client
#     certificate for gateway signed by the mesh CA) gets 503 with
#     mesh-error: app not ready.
# Ports: 24500-24599 (below the ephemeral range: no socket of an earlier test holds one).
. "$(dirname "$0")/lib.sh"

GW=24501
cp "$MESH_APPS/testapp" "$T/testapp"
cat >"$T/half.py" <<'EOF'
# Listen on PORT until the file STOP exists (accepting and closing what
# comes: meshd's readiness probe), then close the listener and live on.
import os, socket, sys, time
port, stop = int(sys.argv[1]), sys.argv[2]
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(16)
s.settimeout(0.05)
while not os.path.exists(stop):
    try:
        c, _ = s.accept()
        c.close()
    except socket.timeout:
        pass
s.close()
open(stop + ".done", "w").close()
while True:
    time.sleep(3600)
EOF
cat >"$T/mesh.ini" <<EOF
[mesh]
name = ready-connect
port_base = 24550

[service.gateway]
upstreams = api:$GW

[service.api]
command = if [ "\$MESH_INSTANCE" = 1 ]; then exec python3 $T/half.py \$PORT $T/stop; else exec $T/testapp --port \$PORT; fi
port = 24510
instances = 3
EOF

mesh_up_or_stop "$T/mesh.ini"
check "listener 127.0.0.1:$GW accepts" wait_port $GW 10
touch "$T/stop"
check "api.1's app closed its listener and still runs" wait_for 10 test -e "$T/stop.done"
check "api.1's app port 24511 refuses connections" wait_for 10 sh -c '! (exec 3<>/dev/tcp/127.0.0.1/24511) 2>/dev/null'
check "api.0 and api.2 answer on their own ports" \
	sh -c 'curl -sf -m 2 http://127.0.0.1:24510/ >/dev/null && curl -sf -m 2 http://127.0.0.1:24512/ >/dev/null'

# status --json: one value of an instance ("-" when absent)
st() {  # INSTANCE EXPR (python; `i` is the instance dict)
	meshctl status -f "$T/mesh.ini" --json 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
for s in d["services"]:
    for i in s["instances"]:
        if i["name"] == sys.argv[1]:
            try:
                print(eval(sys.argv[2]))
            except Exception:
                print("-")
' "$1" "$2" 2>/dev/null
}
is "status says api.1's endpoint is up (its app runs)" "$(st api.1 'i["endpoint"]')" up
r0=$(st gateway.0 'i["stats"]["retries"]')

# 300 POSTs, one keep-alive connection (a new one after a close); prints
# "good total" and the failures as "# ..." lines on stderr
timeout 120 python3 - "$GW" >"$T/load.out" 2>"$T/load.err" <<'EOF'
import http.client, sys
port = int(sys.argv[1])
good = total = 0
c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
for n in range(300):
    body = ("post %d " % n).encode() * 20
    total += 1
    try:
        c.request("POST", "/echo", body=body, headers={"Host": "api"})
        r = c.getresponse()
        got = r.read()
        if r.status == 200 and got == body:
            good += 1
        else:
            print("# POST %d: %d %s %r" % (n, r.status, r.getheader("mesh-error", ""), got[:60]),
                  file=sys.stderr)
        if r.getheader("connection", "").lower() == "close":
            c.close()
    except Exception as e:
        print("# POST %d: %s" % (n, e), file=sys.stderr)
        c.close()
print(good, total)
EOF
read -r good total <"$T/load.out"
echo "# $good of ${total:-0} POSTs answered 200 with their body echoed"
head -5 "$T/load.err"
is "300 POSTs through the gateway (one instance of 3 refusing): all 200, bodies whole" \
	"${good:-0}/${total:-0}" "300/300"

r1=$(st gateway.0 'i["stats"]["retries"]')
nr=$(st api.1 'i["stats"]["refused"]["no_upstream"]')
echo "# the gateway's sidecar retried $((${r1:-0} - ${r0:-0})) times ($r0 -> $r1); api.1's sidecar answered app not ready $nr times"
if [ "$r1" != "-" ] && [ "$r0" != "-" ] && [ "$((r1 - r0))" -gt 0 ]; then
	ok "the retries are counted (status --json retries: $r0 -> $r1)"
else
	not_ok "the retries are counted (status --json retries)" "got $r0 -> $r1"
fi
if [ "$nr" != "-" ] && [ "$nr" -gt 0 ]; then
	ok "api.1's sidecar refused with app not ready ($nr)"
else
	not_ok "api.1's sidecar refused with app not ready" "got $nr"
fi

# ---- straight to api.1's inbound port ------------------------------------
IN1=$(st api.1 'i["inbound_port"]')
check "api.1's inbound port is known ($IN1)" grep -Eqx '[0-9]+' <<<"$IN1"
CA=$T/.mesh/ca
P=$T/pki
mkdir -p "$P"
cat >"$P/ext.cnf" <<EOF
[leaf]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth,clientAuth
subjectAltName = URI:spiffe://mesh.local/svc/gateway
EOF
check "a client certificate for gateway from the mesh CA" sh -c "
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out '$P/gw.key' &&
	openssl req -new -key '$P/gw.key' -subj /CN=gateway -out '$P/gw.csr' &&
	openssl x509 -req -in '$P/gw.csr' -CA '$CA/ca.crt' -CAkey '$CA/ca.key' -set_serial 4242 \
	    -days 1 -extfile '$P/ext.cnf' -extensions leaf -out '$P/gw.crt'"
code=$(curl -sk -m 5 --cert "$P/gw.crt" --key "$P/gw.key" -D "$T/in1.hdr" -o "$T/in1.body" \
	-w '%{http_code}' -H 'Host: api' "https://127.0.0.1:$IN1/whoami" 2>"$T/in1.err")
echo "# straight to api.1's inbound port $IN1: $code $(grep -i '^mesh-error' "$T/in1.hdr" | tr -d '\r')"
is "a request to api.1's inbound port: 503" "$code" 503
check "with mesh-error: app not ready" grep -qix 'mesh-error: app not ready.' "$T/in1.hdr"
code=$(curl -sk -m 5 --cert "$P/gw.crt" --key "$P/gw.key" -o /dev/null -w '%{http_code}' \
	-H 'Host: api' "https://127.0.0.1:$(st api.0 'i["inbound_port"]')/whoami" 2>/dev/null)
is "the same request to api.0's inbound port: 200 (the certificate is good)" "$code" 200

mesh_down_checked "$T/mesh.ini"
exit 0
