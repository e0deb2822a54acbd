#!/bin/bash
# SPDX-License-Identifier: ISC
# chaos_mirror: a route's mirror (mirror = SERVICE@VERSION P% of
# [route.NAME], src/proxy/mirror.c), fire-and-forget copies sent by the
# caller's sidecar:
#   client -> gateway sidecar 127.0.0.1:25601 -> api (split v1:100,
#             mirror = api@v2 100%)
#   client -> gateway sidecar 127.0.0.1:25602 -> pay (split v1:100,
#             mirror = pay@v2 100%, and pay v2 answers after 10 s)
# Every api response comes from v1, byte for byte what v1 answers
# directly, while v2 sees each request once more with Host api-shadow; a
# POST body under the 64 KiB retry buffer reaches v2 whole, one over it is
# not mirrored (mirror.skipped).  The pay mirror that hangs changes no
# primary answer (each bounded under 2 s: it did not wait the 10 s) and
# is cut at the route's timeout (mirror.errors).  status, status --json and
# /metrics show the counts.
# Ports: 25600-25699.
. "$(dirname "$0")/lib.sh"

N=200
cp "$MESH_APPS/testapp" "$T/testapp"
cat >"$T/mesh.ini" <<EOF
[mesh]
name = chaos-mirror
port_base = 25650
metrics = 127.0.0.1:25699

[service.gateway]
upstreams = api:25601, pay:25602

[service.api]
command = exec $T/testapp --port \$PORT --log-host
port = 25610

[service.api@v2]
command = exec $T/testapp --port \$PORT --log-host
port = 25620

[service.pay]
command = exec $T/testapp --port \$PORT --log-host
port = 25630

[service.pay@v2]
command = exec $T/testapp --port \$PORT --log-host
port = 25640
env.TESTAPP_DELAY_MS = 10000

[route.api]
split = v1:100
mirror = api@v2 100%

[route.pay]
split = v1:100
mirror = pay@v2 100%
timeout = 4s
EOF

check "meshctl check accepts the mirror key" meshctl check -f "$T/mesh.ini"
mesh_up_or_stop "$T/mesh.ini"
check "listener 127.0.0.1:25601 accepts" wait_port 25601 10
check "listener 127.0.0.1:25602 accepts" wait_port 25602 10
check "api v2's app accepts" wait_port 25620 10
LOG=$T/.mesh/run/meshd.log

# a counter of gateway.0's stats, from status --json
gw_stat() {
	meshctl status -f "$T/mesh.ini" --json 2>/dev/null | python3 -c "
import json, sys
d = json.load(sys.stdin)
for s in d['services']:
    for i in s['instances']:
        if i['name'] == 'gateway.0' and i.get('stats'):
            print(i['stats']$1)"
}

# meshd says the gateway's sidecar may use v2 once v2 is ready: until
# then a copy is skipped (no instance of the version up)
warm() {
	curl -s -o /dev/null --max-time 5 -H 'Host: api' http://127.0.0.1:25601/whoami?warm
	grep -q "api-v2-0 GET /whoami?warm 200 host=api-shadow" "$LOG"
}
check "a copy reaches v2 once it is ready (within 15 s)" wait_for 15 warm
sleep 1   # the sidecars sync their stats files twice a second
sent0=$(gw_stat "['mirror']['requests']")
ok0=$(gw_stat "['mirror']['2xx']")
out0=$(gw_stat "['requests_out']")

# N GETs of /whoami?m=K through the gateway on one keep-alive connection,
# each body compared with what v1's app answers directly; prints
# "same different other_status slowest_ms"
timeout 90 python3 - "$N" >"$T/burst.out" <<'EOF'
import http.client, sys, time
n = int(sys.argv[1])
d = http.client.HTTPConnection("127.0.0.1", 25610, timeout=10)
g = http.client.HTTPConnection("127.0.0.1", 25601, timeout=10)
same = diff = other = 0
slow = 0
end = time.monotonic() + 80
for i in range(n):
    if time.monotonic() > end:
        break
    d.request("GET", "/whoami?m=%d" % i, headers={"Host": "api"})
    want = d.getresponse().read()
    t0 = time.monotonic()
    g.request("GET", "/whoami?m=%d" % i, headers={"Host": "api"})
    r = g.getresponse()
    got = r.read()
    slow = max(slow, int((time.monotonic() - t0) * 1000))
    if r.status != 200:
        other += 1
    elif got == want and b"version=v1" in got:
        same += 1
    else:
        diff += 1
        sys.stderr.write("got %r want %r\n" % (got, want))
print(same, diff, other, slow)
EOF
read -r same diff other slow <"$T/burst.out"
echo "# api: $N requests: $same same as v1 directly, $diff different, $other not 200, slowest $slow ms"
is "every response through the gateway is v1's, unchanged" "$same" "$N"
is "no response differs" "$diff" 0

v2_seen() { grep -Ec "api-v2-0 GET /whoami\?m=[0-9]+ 200 host=" "$LOG"; }
v2_count_is() { [ "$(v2_seen)" -eq "$1" ]; }
check "v2 sees the $N copies (within 10 s)" wait_for 10 v2_count_is "$N"
is "v2 got each copy once" "$(v2_seen)" "$N"
is "every copy v2 saw has Host api-shadow" \
	"$(grep -Ec "api-v2-0 GET /whoami\?m=[0-9]+ 200 host=api-shadow body=0" "$LOG")" "$N"
# v1 saw each of them twice: the direct call and the one through the gateway
is "v1 saw each request once through the gateway (plus the direct call)" \
	"$(grep -Ec "api-v1-0 GET /whoami\?m=[0-9]+ 200 host=api body=0" "$LOG")" "$((2 * N))"
is "no copy reached v1" "$(grep -c 'api-v1-0 .*host=api-shadow' "$LOG")" 0

# bodies: one under the 64 KiB retry buffer goes along whole, one over it
# is not mirrored (the primary gets it either way).  /delay answers once
# the body is read: a response before the end of the request body (which
# testapp's /status gives) cuts the request, and such a request is never
# mirrored
skipped0=$(gw_stat "['mirror']['skipped']")
head -c 3000 /dev/zero | tr '\0' 's' >"$T/small"
head -c 100000 /dev/zero | tr '\0' 'L' >"$T/large"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -H 'Host: api' \
	--data-binary @"$T/small" 'http://127.0.0.1:25601/delay?ms=1&small')
is "a small POST through the gateway: v1's 200" "$code" 200
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -H 'Host: api' \
	--data-binary @"$T/large" 'http://127.0.0.1:25601/delay?ms=1&large')
is "a large POST through the gateway: v1's 200" "$code" 200
small_seen() { grep -q "api-v2-0 POST /delay?ms=1&small 200 host=api-shadow body=3000" "$LOG"; }
check "the small POST's copy reached v2 whole (body=3000)" wait_for 10 small_seen
large_seen() { grep -q "api-v1-0 POST /delay?ms=1&large 200 host=api body=100000" "$LOG"; }
check "v1 got the large POST whole" wait_for 10 large_seen
sleep 1   # the sidecars sync their stats files twice a second
is "the large POST was not mirrored" "$(grep -c 'api-v2-0 POST /delay?ms=1&large' "$LOG")" 0
is "status --json: mirror.skipped counts it" "$(gw_stat "['mirror']['skipped']")" "$((skipped0 + 1))"

# the counts: N + 1 more copies sent, all answered 2xx by v2
is "status --json: mirror.requests of gateway.0" "$(gw_stat "['mirror']['requests']")" "$((sent0 + N + 1))"
is "status --json: mirror.2xx of gateway.0" "$(gw_stat "['mirror']['2xx']")" "$((ok0 + N + 1))"
is "status --json: no mirror error" "$(gw_stat "['mirror']['errors']")" 0
is "status --json: the copies are not in gateway.0's own requests" \
	"$(gw_stat "['requests_out']")" "$((out0 + N + 2))"
is "status --json: routes[].mirror of api" \
	"$(meshctl status -f "$T/mesh.ini" --json | python3 -c "
import json, sys
d = json.load(sys.stdin)
print([r['mirror'] for r in d['routes'] if r['name'] == 'api'][0])")" \
	"{'version': 'v2', 'percent': 100, 'source': 'file'}"
meshctl status -f "$T/mesh.ini" >"$T/status.txt" 2>&1
check "meshctl status: the route's MIRROR line" grep -q "^route api: MIRROR v2 100%\$" "$T/status.txt"
sent=$((sent0 + N + 1))
check "meshctl status: gateway.0's mirrored counts" \
	grep -q "gateway.0: mirrored: $sent sent, $((ok0 + N + 1)) answered (0 5xx), 0 failed" "$T/status.txt"
curl -s --max-time 5 http://127.0.0.1:25699/metrics >"$T/metrics.txt"
check "/metrics: mesh_mirror_requests_total{result=2xx} of gateway.0" \
	grep -qE "^mesh_mirror_requests_total\{.*instance=\"gateway@v1\.0\",result=\"2xx\"\} $((ok0 + N + 1))\$" \
	"$T/metrics.txt"
# the copies' own row: status class and latency under direction="mirror"
mlab='instance="gateway@v1\.0",direction="mirror",peer="api",peer_version="v2"'
check "/metrics: the copies' 2xx under direction=mirror, peer api v2" \
	grep -qE "^mesh_requests_total\{.*$mlab,code=\"2xx\"\} $((ok0 + N + 1))\$" "$T/metrics.txt"
check "/metrics: the copies' latency histogram under direction=mirror" \
	grep -qE "^mesh_request_duration_seconds_count\{.*$mlab\} $((ok0 + N + 1))\$" "$T/metrics.txt"
no_outbound_v2() { # the primary never picks v2: such a row would be a copy
	! grep -E '^mesh_requests_total\{.*instance="gateway@v1\.0",direction="outbound",peer="api",peer_version="v2"' \
	    "$T/metrics.txt" >/dev/null && grep -q '^mesh_requests_total{' "$T/metrics.txt"
}
check "/metrics: no mirror row counts as gateway's outbound traffic to v2" no_outbound_v2

# a mirror target that hangs 10 s: the primary answers do not wait
pay_v2_up() {
	meshctl status -f "$T/mesh.ini" --json 2>/dev/null | python3 -c "
import json, sys
d = json.load(sys.stdin)
sys.exit(0 if any(i['id'] == 'pay@v2.0' and i['endpoint'] == 'up'
                  for s in d['services'] for i in s['instances']) else 1)"
}
check "pay v2's endpoint is up (within 15 s)" wait_for 15 pay_v2_up
sleep 1   # and the gateway's sidecar has the document that says so
sent0=$(gw_stat "['mirror']['requests']")
timeout 60 python3 >"$T/pay.out" <<'EOF'
import http.client, time
g = http.client.HTTPConnection("127.0.0.1", 25602, timeout=15)
ok = 0
slow = 0
for i in range(10):
    t0 = time.monotonic()
    g.request("GET", "/whoami?p=%d" % i, headers={"Host": "pay"})
    r = g.getresponse()
    body = r.read()
    slow = max(slow, int((time.monotonic() - t0) * 1000))
    if r.status == 200 and b"version=v1" in body:
        ok += 1
print(ok, slow)
EOF
read -r ok slow <"$T/pay.out"
echo "# pay: 10 requests, $ok from v1, slowest $slow ms"
is "pay: every primary answer is v1's" "$ok" 10
check "pay: no primary answer waited for the hanging mirror (slowest $slow ms < 2000)" \
	test "${slow:-99999}" -lt 2000
sleep 1
is "10 copies went to pay v2" "$(gw_stat "['mirror']['requests']")" "$((sent0 + 10))"
errors_are() { [ "$(gw_stat "['mirror']['errors']")" = "$1" ]; }
check "the 10 copies are cut at the route's 4 s timeout (mirror.errors 10)" wait_for 10 errors_are 10
read -r ok slow < <(timeout 20 python3 - <<'EOF'
import http.client, time
g = http.client.HTTPConnection("127.0.0.1", 25602, timeout=15)
t0 = time.monotonic()
g.request("GET", "/whoami", headers={"Host": "pay"})
r = g.getresponse()
print(1 if r.status == 200 else 0, int((time.monotonic() - t0) * 1000))
EOF
)
is "gateway.0 still serves pay afterwards" "$ok" 1
curl -s --max-time 5 http://127.0.0.1:25699/metrics >"$T/metrics.txt"
check "/metrics: the 10 cut copies are timeouts of the mirror row pay v2" \
	grep -qE '^mesh_timeouts_total\{.*instance="gateway@v1\.0",direction="mirror",peer="pay",peer_version="v2"\} 10$' \
	"$T/metrics.txt"

mesh_down_checked "$T/mesh.ini"
exit 0
