#!/bin/bash
# SPDX-License-Identifier: ISC
# policy_budget: with every instance failing, the retry budget holds retries
# near its ratio instead of multiplying the load by (1 + retries):
#   client -> gateway sidecar 127.0.0.1:30401 -> api.0, api.1 (both always 503)
# retries = 3 on 503 would make 4 attempts per request; retry_budget = 20%,
# 0/s allows about 0.2 retries per request.  1,000 requests on one keep-alive
# connection: the apps see between 1.10x and 1.25x as many requests, the
# gateway's stats count as many retries and a nonzero
# retries_budget_exhausted.  Breakers and outlier ejection are kept out of
# the way (10000 failures).  Needs the proxy's retries and budget.
# Ports: 30400-30499.
. "$(dirname "$0")/lib.sh"

cp "$MESH_APPS/testapp" "$T/testapp"
cat >"$T/mesh.ini" <<EOF
[mesh]
name = policy-budget
port_base = 30450

[service.gateway]
upstreams = api:30401

[service.api]
command = $T/testapp --port \$PORT --fail-pct 100
port = 30410
instances = 2

[route.api]
lb = round-robin
retries = 3
retry_on = 503
backoff = 1ms, 2ms
retry_budget = 20%, 0/s
breaker.failures = 10000
outlier.failures = 10000
EOF

mesh_up_or_stop "$T/mesh.ini"
check "listener 127.0.0.1:30401 accepts" wait_port 30401 10

N=1000
read -r s503 other < <(timeout 120 python3 - "$N" <<'EOF'
import http.client, sys
n = int(sys.argv[1])
c = http.client.HTTPConnection("127.0.0.1", 30401, timeout=10)
t = [0, 0]
for i in range(n):
    c.request("GET", "/?budget=%d" % i, headers={"Host": "api"})
    r = c.getresponse()
    r.read()
    t[0 if r.status == 503 else 1] += 1
print(*t)
EOF
)
sleep 0.5
is "every request ends in 503 (every instance fails)" "${s503:-?} ${other:-?}" "$N 0"
attempts=$(grep -c 'api-v1-[01] GET /?budget=' "$T/.mesh/run/meshd.log")
meshctl status -f "$T/mesh.ini" --json >"$T/status.json" 2>&1
read -r retries exhausted < <(python3 -c "
import json
d = json.load(open('$T/status.json'))
for s in d['services']:
    for i in s['instances']:
        if i['name'] == 'gateway.0' and i.get('stats'):
            st = i['stats']
            print(st.get('retries', '?'), st.get('retries_budget_exhausted', '?'))
" 2>/dev/null)
echo "# $N requests: the apps saw $attempts attempts; gateway retries=${retries:-?} budget_exhausted=${exhausted:-?}"
check "attempts stay near the budget: 1.10..1.25 x $N (got $attempts; without a budget: 4 x)" \
	test "$attempts" -ge $(( N * 110 / 100 )) -a "$attempts" -le $(( N * 125 / 100 ))
is "the gateway counts those retries" "${retries:-?}" "$(( attempts - N ))"
check "the budget refused retries, and says so (retries_budget_exhausted=${exhausted:-?})" test "${exhausted:-0}" -gt 0

mesh_down_checked "$T/mesh.ini"
exit 0
