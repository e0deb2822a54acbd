#!/bin/bash
# SPDX-License-Identifier: ISC
# policy_retry: the route's traffic policy in the caller's sidecar.
#   gateway sidecar -> api   (2 instances, #1 always 503; retries = 2 on 503)
#                   -> slow  (answers after 5 s; timeout = 200ms)
#                   -> flaky (2 instances, #1 always 503; no retries,
#                             breaker.failures = 3, breaker.cooldown = 10s)
#                   -> busy  (answers after 1.5 s; breaker.max_pending = 1)
# Retries move every request to the healthy instance; the timeout answers
# 504 mesh-error: timeout well under a second (the time is reported); the
# breaker lets exactly breaker.failures requests reach the failing
# instance, then none until the cooldown, then one probe.
# Ports: 29000-29099.
. "$(dirname "$0")/lib.sh"

cp "$MESH_APPS/testapp" "$T/testapp"
cat >"$T/mesh.ini" <<EOF
[mesh]
name = policy-retry
port_base = 29050

[service.gateway]
upstreams = api:29001, slow:29002, flaky:29003, busy:29004

[service.api]
command = if [ "\$MESH_INSTANCE" = 1 ]; then exec $T/testapp --port \$PORT --name bad --fail-pct 100 >>$T/api-bad.log; else exec $T/testapp --port \$PORT --name good; fi
port = 29010
instances = 2

[service.slow]
command = $T/testapp --port \$PORT --delay-ms 5000
port = 29020

[service.flaky]
command = if [ "\$MESH_INSTANCE" = 1 ]; then exec $T/testapp --port \$PORT --name bad --fail-pct 100 >>$T/flaky-bad.log; else exec $T/testapp --port \$PORT --name good; fi
port = 29030
instances = 2

[service.busy]
command = $T/testapp --port \$PORT --delay-ms 1500
port = 29040

[route.api]
retries = 2
retry_on = connect-failure, reset, 503
backoff = 5ms, 20ms
lb = round-robin
breaker.failures = 10000
outlier.failures = 10000

[route.slow]
timeout = 200ms

[route.flaky]
lb = round-robin
breaker.failures = 3
breaker.cooldown = 10s
outlier.failures = 10000

[route.busy]
breaker.max_pending = 1
EOF

mesh_up_or_stop "$T/mesh.ini"
for p in 29001 29002 29003 29004 29010 29011 29020 29030 29031 29040; do
	wait_port $p 10 || not_ok "port $p accepts"
done

# the gateway sidecar's counters (status --json), "-" when absent
stat() {
	meshctl status -f "$T/mesh.ini" --json 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
for s in d["services"]:
    if s["name"] == "gateway":
        st = s["instances"][0].get("stats") or {}
        v = st
        for k in sys.argv[1].split("."):
            v = v.get(k, {}) if isinstance(v, dict) else {}
        print(v if not isinstance(v, dict) else "-")
' "$1" 2>/dev/null
}
# NAME N PATH: N sequential requests through the gateway, status codes counted
codes() {
	local port=$1 n=$2 path=$3 i
	for ((i = 0; i < n; i++)); do
		curl -s -o /dev/null -m 5 -w '%{http_code}\n' "http://127.0.0.1:$port$path"
	done | sort | uniq -c | awk '{printf "%s:%s ", $2, $1}'
}
badcount() { [ -f "$1" ] && grep -c ' 503$' "$1" || echo 0; }

# --- retries ---------------------------------------------------------
out=$(codes 29001 40 /whoami)
is "retries: 40 requests, all 200 (one instance always 503)" "$out" "200:40 "
b=$(badcount "$T/api-bad.log")
if [ "$b" -ge 10 ]; then ok "retries: the failing instance was tried ($b times)"
else not_ok "retries: the failing instance was tried" "got $b"; fi
r=$(stat retries)
if [ "$r" != "-" ] && [ "$r" -ge 10 ]; then ok "retries counted in the stats ($r)"
else not_ok "retries counted in the stats" "got $r"; fi

# POST with a small body (the retry buffer): resent whole to the healthy one
head -c 3000 /dev/urandom | base64 -w0 >"$T/body"
okpost=0
for i in 1 2 3 4 5 6; do
	curl -s -m 5 -o "$T/echo.out" -w '%{http_code}' --data-binary @"$T/body" \
		-H 'Content-Type: application/octet-stream' http://127.0.0.1:29001/echo >"$T/echo.code"
	[ "$(cat "$T/echo.code")" = 200 ] && cmp -s "$T/body" "$T/echo.out" && okpost=$((okpost + 1))
done
is "retries: POST bodies kept and resent, 6 of 6 echoed whole" "$okpost" 6
p=$(grep -c ' POST .* 503$' "$T/api-bad.log")
if [ "$p" -ge 2 ]; then ok "retries: the failing instance had POSTs first ($p)"
else not_ok "retries: the failing instance had POSTs first" "got $p"; fi

# Bodies past one pooled buffer go up while they arrive: the retry buffer
# keeps what went (up to retry_buffer = 64 KiB), chunked framing and all.
head -c 36000 /dev/urandom | base64 -w0 >"$T/big"    # 48,000 bytes
p0=$(grep -c ' POST .* 503$' "$T/api-bad.log")
for mode in length chunked; do
	hdr=(-H 'Expect:')
	[ "$mode" = chunked ] && hdr+=(-H 'Transfer-Encoding: chunked')
	okpost=0
	for i in 1 2 3 4; do
		code=$(curl -s -m 5 -o "$T/echo.out" -w '%{http_code}' "${hdr[@]}" \
			--data-binary @"$T/big" http://127.0.0.1:29001/echo)
		[ "$code" = 200 ] && cmp -s "$T/big" "$T/echo.out" && okpost=$((okpost + 1))
	done
	is "retries: 48 KB POST bodies ($mode) kept and resent, 4 of 4 echoed whole" "$okpost" 4
done
p=$(grep -c ' POST .* 503$' "$T/api-bad.log")
if [ $((p - p0)) -ge 4 ]; then ok "retries: the failing instance had big POSTs first ($((p - p0)))"
else not_ok "retries: the failing instance had big POSTs first" "got $((p - p0))"; fi
# past retry_buffer the body cannot go again: the 503 comes through
head -c 75000 /dev/urandom | base64 -w0 >"$T/huge"   # 100,000 bytes
code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' -H 'Expect:' \
	--data-binary @"$T/huge" http://127.0.0.1:29001/echo)
is "retries: a 100 KB POST (over retry_buffer) is not retried: 503" "$code" 503

# --- timeout ---------------------------------------------------------
res=$(curl -s -D "$T/slow.h" -o /dev/null -m 5 -w '%{http_code} %{time_total}' http://127.0.0.1:29002/)
code=${res% *}; t=${res#* }
is "timeout = 200ms against a 5 s upstream: 504" "$code" 504
check "504 says mesh-error: timeout" grep -qi '^mesh-error: timeout' "$T/slow.h"
echo "# timeout: 504 after ${t}s (timeout = 200ms)"
if awk -v t="$t" 'BEGIN { exit !(t < 1.0) }'; then ok "504 within 1 s (${t}s)"
else not_ok "504 within 1 s" "took ${t}s"; fi
r=$(stat timeouts)
if [ "$r" != "-" ] && [ "$r" -ge 1 ]; then ok "timeouts counted ($r)"; else not_ok "timeouts counted" "got $r"; fi

# --- breaker ---------------------------------------------------------
# (a cooldown far longer than the requests take, even on a loaded machine)
out=$(codes 29003 20 /whoami)
is "breaker: 20 requests, exactly breaker.failures (3) reach the failing instance" \
	"$(badcount "$T/flaky-bad.log")" 3
is "breaker: the client saw those 3 as 503, the rest 200" "$out" "200:17 503:3 "
r=$(stat breaker.opened)
if [ "$r" != "-" ] && [ "$r" -ge 1 ]; then ok "breaker.opened counted ($r)"; else not_ok "breaker.opened counted" "got $r"; fi
is "breaker.open gauge is 1" "$(stat breaker.open)" 1
sleep 10.3
out=$(codes 29003 10 /whoami)
is "after the cooldown: one half-open probe reaches it, then open again" \
	"$(badcount "$T/flaky-bad.log")" 4
is "after the cooldown: 9 x 200, 1 x 503 (the probe)" "$out" "200:9 503:1 "

# --- max_pending -----------------------------------------------------
curl -s -o /dev/null -m 5 -w '%{http_code}' http://127.0.0.1:29004/ >"$T/busy1" &
first=$!
_pids+=($first)
sleep 0.3
res=$(curl -s -D "$T/busy.h" -o /dev/null -m 5 -w '%{http_code} %{time_total}' http://127.0.0.1:29004/)
is "max_pending = 1: a second request meanwhile gets 503" "${res% *}" 503
check "503 says mesh-error: overloaded" grep -qi '^mesh-error: overloaded' "$T/busy.h"
if awk -v t="${res#* }" 'BEGIN { exit !(t < 0.5) }'; then ok "overloaded at once (${res#* }s)"
else not_ok "overloaded at once" "took ${res#* }s"; fi
wait "$first"
is "the first request still gets its 200" "$(cat "$T/busy1")" 200
r=$(stat overloaded)
if [ "$r" != "-" ] && [ "$r" -ge 1 ]; then ok "overloaded counted ($r)"; else not_ok "overloaded counted" "got $r"; fi
