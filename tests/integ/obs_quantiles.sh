#!/bin/bash
# SPDX-License-Identifier: ISC
# obs_quantiles: the latency histograms measure what the app did.
#
#   curl -> gateway (pure client, 127.0.0.1:31801) -> slow (testapp /delay)
#
# 200 requests with known delays (10, 20, ... 2000 ms spread evenly, sent
# 20 at a time in a shuffled order): slow's p50/p95/p99 in meshctl status
# --json (its inbound histogram, the sidecar's time from request head to
# the end of the response) are within 5% of the exact order statistics of
# the delays; so are the gateway's outbound ones, and the histogram
# quantile a /metrics scrape implies.  Counts are exact.
# Ports: 31800-31899.
. "$(dirname "$0")/lib.sh"

cp "$MESH_APPS/testapp" "$T/testapp"
cat >"$T/mesh.ini" <<EOF
[mesh]
name = obs-quantiles
port_base = 31850
metrics = 127.0.0.1:31890

[service.gateway]
upstreams = slow:31801

[service.slow]
command = $T/testapp --port \$PORT
port = 31810
EOF
mesh_up_or_stop "$T/mesh.ini"
check "front door accepts" wait_port 31801 10

N=200
seq 1 $N | awk '{print $1 * 10}' | shuf --random-source=<(yes) >"$T/delays"
# each curl prints its status; 20 in flight, every one bounded by -m
xargs -P 20 -I{} curl -s -o /dev/null -m 10 -w '%{http_code}\n' \
	"http://127.0.0.1:31801/delay?ms={}" <"$T/delays" >"$T/codes"
is "$N requests with delays of 10..2000 ms, all 200" "$(grep -c '^200$' "$T/codes")" $N

summary() {
	meshctl status -f "$T/mesh.ini" --json 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
for s in d["services"]:
    if s["name"] == sys.argv[1]:
        m = s["summary"]
        print(m["requests"], m["p50_ms"], m["p95_ms"], m["p99_ms"])' "$1"
}
all_counted() { [ "$(summary slow | cut -d' ' -f1)" = $N ]; }
wait_for 5 all_counted
# exact order statistics of the delays (nearest rank)
exact() { sort -n "$T/delays" | awk -v q="$1" '{ v[NR] = $1 } END {
	r = int(q * NR + 0.999999); if (r < 1) r = 1; print v[r] }'; }
within5() {   # NAME GOT WANT
	if awk -v g="$2" -v w="$3" 'BEGIN { d = g - w; if (d < 0) d = -d; exit !(d <= 0.05 * w) }'
	then ok "$1: $2 ms, exact $3 ms (within 5%)"
	else not_ok "$1: within 5% of $3 ms" "got $2 ms"; fi
}
read -r n p50 p95 p99 < <(summary slow)
is "slow: status counts $N requests" "$n" $N
within5 "slow p50" "$p50" "$(exact 0.50)"
within5 "slow p95" "$p95" "$(exact 0.95)"
within5 "slow p99" "$p99" "$(exact 0.99)"
read -r n p50 p95 p99 < <(summary gateway)
is "gateway (outbound): status counts $N requests" "$n" $N
within5 "gateway p50 (outbound, one hop more)" "$p50" "$(exact 0.50)"
within5 "gateway p99 (outbound, one hop more)" "$p99" "$(exact 0.99)"

# /metrics: the share of slow's requests under 1 s is the share of delays under 1 s
curl -s -m 5 http://127.0.0.1:31890/metrics >"$T/m.txt"
le1=$(grep -E '^mesh_request_duration_seconds_bucket\{.*service="slow".*direction="inbound".*le="1"\}' \
	"$T/m.txt" | awk '{s += $NF} END {print s + 0}')
# (a request's own overhead may push one at 990 ms over: allow those above 950 ms)
under=$(awk '$1 < 1000 {n++} END {print n + 0}' "$T/delays")
surely=$(awk '$1 <= 950 {n++} END {print n + 0}' "$T/delays")
check "/metrics: le=\"1\" counts the requests under 1 s ($le1; $surely..$under)" \
	test "$le1" -ge "$surely" -a "$le1" -le "$under"
mesh_down_checked "$T/mesh.ini"
