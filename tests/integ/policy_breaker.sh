#!/bin/bash
# SPDX-License-Identifier: ISC
# policy_breaker: an always-503 instance trips its breaker in the caller's
# sidecar within breaker.failures requests, stops receiving traffic, and
# after breaker.cooldown gets exactly one probe (half-open), which fails and
# opens the breaker again:
#   client -> gateway sidecar 127.0.0.1:30301 -> api.0 (always 503), api.1, api.2
# lb = round-robin, retries = 0 (every 503 reaches the client, so the count is
# exact), breaker.failures = 3, breaker.cooldown = 5s, outlier ejection out of
# the way (outlier.failures = 10000).  Needs the proxy's breakers
# (src/proxy/breaker.c wired into src/proxy/fwd.c, fwd_route.c and the balancer).
# Ports: 30300-30399.
. "$(dirname "$0")/lib.sh"

cp "$MESH_APPS/testapp" "$T/testapp"
cat >"$T/mesh.ini" <<EOF
[mesh]
name = policy-breaker
port_base = 30350

[service.gateway]
upstreams = api:30301

[service.api]
; instance 0 answers 503 to everything (testapp --fail-pct 100)
command = TESTAPP_FAIL_PCT=\$(( MESH_INSTANCE == 0 ? 100 : 0 )) exec $T/testapp --port \$PORT
port = 30310
instances = 3

[route.api]
lb = round-robin
retries = 0
breaker.failures = 3
breaker.cooldown = 5s
outlier.failures = 10000
EOF

mesh_up_or_stop "$T/mesh.ini"
check "listener 127.0.0.1:30301 accepts" wait_port 30301 10
is "api.0 answers 503 itself" "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 http://127.0.0.1:30310/)" 503
is "api.1 answers 200 itself" "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 http://127.0.0.1:30311/)" 200

# N requests of GET /?phase=PHASE&i=K on one keep-alive connection; prints "ok 503 other"
burst() {
	timeout 60 python3 - "$1" "$2" <<'EOF'
import http.client, sys
phase, n = sys.argv[1], int(sys.argv[2])
c = http.client.HTTPConnection("127.0.0.1", 30301, timeout=10)
t = [0, 0, 0]
for i in range(n):
    c.request("GET", "/?phase=%s&i=%d" % (phase, i), headers={"Host": "api"})
    r = c.getresponse()
    r.read()
    t[0 if r.status == 200 else 1 if r.status == 503 else 2] += 1
print(*t)
EOF
}
# requests api.0's app saw in a phase, from its log lines in meshd's log
seen0() { grep -c "api-v1-0 GET /?phase=$1&" "$T/.mesh/run/meshd.log"; }
gw_stat() {
	meshctl status -f "$T/mesh.ini" --json 2>/dev/null | python3 -c "
import json, sys
d = json.load(sys.stdin)
for s in d['services']:
    for i in s['instances']:
        if i['name'] == 'gateway.0' and i.get('stats'):
            print(i['stats'].get('breaker', {}).get('$1', '?'))"
}

read -r ok1 e1 o1 < <(burst p1 60)
# at once, well within the cooldown: nothing more for api.0
read -r ok2 e2 o2 < <(burst p2 30)
tripped=$(date +%s%N)
sleep 0.3
n1=$(seen0 p1)
echo "# phase 1: 60 requests: $ok1 ok, $e1 x 503, $o1 other; api.0 saw $n1"
check "api.0 saw at most breaker.failures (3) requests before its breaker opened (saw $n1)" test "$n1" -ge 1 -a "$n1" -le 3
is "the client saw exactly those 503s" "$e1" "$n1"
is "every other request went to a healthy instance (200)" "$ok1" "$(( 60 - n1 ))"
is "while open (before the cooldown) api.0 gets nothing" "$(seen0 p2)" 0
is "... and the client sees only 200s" "$ok2" 30
check "the gateway's stats count a breaker opened" test "$(gw_stat opened)" -ge 1
is "the gateway's stats show one breaker open now" "$(gw_stat open)" 1
meshctl status -f "$T/mesh.ini" >"$T/status.txt" 2>&1
check "meshctl status shows it (BRK/EJ 1/0 on gateway.0)" grep -qE '^gateway .* 1/0( |$)' "$T/status.txt"
# each endpoint's state as its callers hold it (endpoint rows, synced twice a second)
api_brk() {
	meshctl status -f "$T/mesh.ini" --json 2>/dev/null | python3 -c "
import json, sys
d = json.load(sys.stdin)
for s in d['services']:
    for i in s['instances']:
        if s['name'] == 'api' and i['index'] == $1:
            print((i.get('breaker') or {}).get('state'))"
}
api0_open() { [ "$(api_brk 0)" = open ]; }
wait_for 2 api0_open
is "status --json: api.0's breaker is open" "$(api_brk 0)" open
is "status --json: api.1's breaker is closed" "$(api_brk 1)" closed
meshctl status -f "$T/mesh.ini" >"$T/status.txt" 2>&1
check "meshctl status names it (breaker api.0: open)" grep -q 'breaker api.0: open' "$T/status.txt"

# half-open after the cooldown: one probe, it fails, open again
left=$(( 5500 - ($(date +%s%N) - tripped) / 1000000 ))
[ "$left" -gt 0 ] && sleep "$(printf '%d.%03d' $((left / 1000)) $((left % 1000)))"
read -r ok3 e3 o3 < <(burst p3 30)
sleep 0.3
n3=$(seen0 p3)
echo "# phase 3 (after the cooldown): $ok3 ok, $e3 x 503; api.0 saw $n3"
is "after breaker.cooldown api.0 gets exactly one probe (half-open)" "$n3" 1
is "the failed probe is the only 503" "$e3" 1
check "the breaker opened again (opened >= 2)" test "$(gw_stat opened)" -ge 2

mesh_down_checked "$T/mesh.ini"
exit 0
