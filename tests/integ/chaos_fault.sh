#!/bin/bash
# SPDX-License-Identifier: ISC
# chaos_fault: faults a route injects in the caller's sidecar (fault.* of
# [route.NAME], src/proxy/fwd_fault.c):
#   client -> gateway sidecar 127.0.0.1:25401 -> api (fault.abort = 10% 503,
#             retries = 2 on 503: never for an injected abort)
#   client -> gateway sidecar 127.0.0.1:25402 -> web (fault.abort = 100% 418
#             only with x-chaos: 1)
#   client -> probe sidecar 127.0.0.1:25403 -> slow (fault.delay = 100% 200ms)
# Over 2,000 requests about 10% get 503 mesh-error: fault injected, none of
# them reaches the app, the breaker stays closed, and the injected count is
# the same in status --json, /metrics and the count of 503s.  Latency is
# only bounded from below (>= the injected delay).
# Ports: 25400-25499.
. "$(dirname "$0")/lib.sh"

cp "$MESH_APPS/testapp" "$T/testapp"
cat >"$T/mesh.ini" <<EOF
[mesh]
name = chaos-fault
port_base = 25450
metrics = 127.0.0.1:25499

[service.gateway]
upstreams = api:25401, web:25402

[service.probe]
upstreams = slow:25403

[service.api]
command = exec $T/testapp --port \$PORT
port = 25410

[service.web]
command = exec $T/testapp --port \$PORT
port = 25420

[service.slow]
command = exec $T/testapp --port \$PORT
port = 25430

[route.api]
fault.abort = 10% 503
retries = 2
retry_on = connect-failure, 503
breaker.failures = 3

[route.web]
fault.abort = 100% 418
fault.match = x-chaos: 1

[route.slow]
fault.delay = 100% 200ms
EOF

check "meshctl check accepts the fault keys" meshctl check -f "$T/mesh.ini"
mesh_up_or_stop "$T/mesh.ini"
check "listener 127.0.0.1:25401 accepts" wait_port 25401 10
check "listener 127.0.0.1:25403 accepts" wait_port 25403 10

# N requests to PORT (Host HOST, extra header H: V if given) on one
# keep-alive connection; prints "ok injected other min_ms"
burst() {
	timeout 60 python3 - "$@" <<'EOF'
import http.client, sys, time
port, host, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
hdr = {"Host": host}
if len(sys.argv) > 4:
    k, v = sys.argv[4].split(":", 1)
    hdr[k] = v.strip()
c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
ok = inj = other = 0
lo = None
end = time.monotonic() + 55
for i in range(n):
    if time.monotonic() > end:
        break
    t0 = time.monotonic()
    c.request("GET", "/?i=%d" % i, headers=hdr)
    r = c.getresponse()
    r.read()
    ms = (time.monotonic() - t0) * 1000
    lo = ms if lo is None or ms < lo else lo
    if r.status == 200:
        ok += 1
    elif r.getheader("mesh-error") == "fault injected":
        inj += 1
    else:
        other += 1
    if r.getheader("connection", "").lower() == "close":
        c.close()
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
print(ok, inj, other, int(lo or 0))
EOF
}
# a counter of gateway.0's (or probe.0's) stats, from status --json
inst_stat() {
	meshctl status -f "$T/mesh.ini" --json 2>/dev/null | python3 -c "
import json, sys
d = json.load(sys.stdin)
for s in d['services']:
    for i in s['instances']:
        if i['name'] == '$1' and i.get('stats'):
            print($2)"
}

read -r ok inj other lo < <(burst 25401 api 2000)
echo "# api: 2000 requests: $ok ok, $inj injected, $other other"
is "every request got an answer (200 or the injected 503)" "$((ok + inj))" 2000
is "no other status" "$other" 0
check "between 150 and 250 injected aborts at 10% (got $inj)" test "$inj" -ge 150 -a "$inj" -le 250
served=$(curl -s --max-time 5 http://127.0.0.1:25410/count)
is "the app saw exactly the requests not aborted (no retry of an injected one)" "$served" "$ok"
sleep 1   # the sidecars sync their stats files twice a second
is "status --json: faults.abort of gateway.0 is the count of injected 503s" \
	"$(inst_stat gateway.0 "i['stats']['faults']['abort']")" "$inj"
is "status --json: no retry was made" "$(inst_stat gateway.0 "i['stats']['retries']")" 0
is "status --json: the injected 503s count in gateway.0's responses to its app" \
	"$(inst_stat gateway.0 "i['stats']['responses_out']['5xx']")" "$inj"
is "status --json: they are not refusals of the mesh" \
	"$(inst_stat gateway.0 "i['stats']['refused']['no_upstream']")" 0
is "status --json: gateway.0 has no breaker open" "$(inst_stat gateway.0 "i['stats']['breaker']['open']")" 0
is "status --json: gateway.0 opened no breaker" "$(inst_stat gateway.0 "i['stats']['breaker']['opened']")" 0
curl -s --max-time 5 http://127.0.0.1:25499/metrics >"$T/metrics.txt"
check "/metrics: mesh_faults_injected_total{kind=abort} of gateway.0 is $inj" \
	grep -qE "^mesh_faults_injected_total\{.*instance=\"gateway@v1\.0\",kind=\"abort\"\} $inj\$" "$T/metrics.txt"
meshctl status -f "$T/mesh.ini" >"$T/status.txt" 2>&1
check "meshctl status names the injected faults" grep -q "gateway.0: faults injected: $inj aborted" "$T/status.txt"

# fault.match: only requests with the header
read -r ok inj other lo < <(burst 25402 web 50)
is "web without x-chaos: all 50 pass" "$ok" 50
read -r ok inj other lo < <(burst 25402 web 50 "x-chaos: 1")
is "web with x-chaos: 1: all 50 injected" "$inj" 50
read -r ok inj other lo < <(burst 25402 web 20 "x-chaos: 2")
is "web with x-chaos: 2: all 20 pass" "$ok" 20
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H 'Host: web' -H 'x-chaos: 1' http://127.0.0.1:25402/)
is "the injected abort answers its status" "$code" 418

# fault.delay: every request waits at least the delay
read -r ok inj other lo < <(burst 25403 slow 20)
echo "# slow: 20 requests: $ok ok, fastest $lo ms"
is "slow: every delayed request passes" "$ok" 20
check "slow: every request took >= 200 ms (fastest $lo ms)" test "$lo" -ge 200
sleep 1
p50=$(inst_stat probe.0 "[p['p50_ms'] for p in i['stats']['peers'] if p['service'] == 'slow'][0]")
# the histogram's quantiles are bucket middles, within 2% (stats.h): a
# true 200 ms can read 196 ms
check "status --json: probe.0's p50 to slow is >= 200 ms, within the histogram's 2% ($p50)" \
	python3 -c "import sys; sys.exit(0 if float('$p50') >= 196 else 1)"
is "status --json: faults.delay of probe.0" "$(inst_stat probe.0 "i['stats']['faults']['delay']")" 20

# a client that leaves during the delay: its request never goes up, and
# the sidecar goes on serving
timeout 10 python3 - <<'EOF'
import socket, time
s = socket.create_connection(("127.0.0.1", 25403), timeout=5)
s.sendall(b"GET /gone HTTP/1.1\r\nHost: slow\r\n\r\n")
time.sleep(0.05)
s.close()
EOF
sleep 0.5
is "a request whose client left during the delay never reached the app" \
	"$(grep -c 'GET /gone' "$T/.mesh/run/meshd.log")" 0
read -r ok inj other lo < <(burst 25403 slow 2)
is "probe.0's sidecar still serves after that" "$ok" 2

mesh_down_checked "$T/mesh.ini"
exit 0
