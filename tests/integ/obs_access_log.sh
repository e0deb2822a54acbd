#!/bin/bash
# SPDX-License-Identifier: ISC
# obs_access_log: `access_log = PATH` and `access_log = json`.
#
#   curl -> gateway (pure client, 127.0.0.1:31701) -> web -> api
#
# N requests through the front door give exactly N outbound lines in the
# gateway's sidecar, N inbound lines in web's, and, for the N/2 that web
# passes on to api (/call), N/2 outbound lines from web and N/2 inbound
# from api; every line is one JSON object with the documented keys; the
# hops of one traced request share one trace id; a refusal carries its
# Envoy-like flag (UH: no healthy upstream); `json` puts the lines in
# meshd's log.
# Ports: 31700-31799.
. "$(dirname "$0")/lib.sh"

cp "$MESH_APPS/testapp" "$T/testapp"
mesh_ini() {
	cat <<EOF
[mesh]
name = obs-alog
port_base = 31750
trace_sample = ${2:-100%}
access_log = $1

[service.gateway]
upstreams = web:31701, ghost:31702

[service.web]
command = $T/testapp --port \$PORT
port = 31710
upstreams = api

[service.api]
command = $T/testapp --port \$PORT
port = 31720

[service.ghost]
upstreams = web
EOF
}
mesh_ini access.log >"$T/mesh.ini"
mesh_up_or_stop "$T/mesh.ini"
check "front door accepts" wait_port 31701 10

N=20
ok200=0
for ((i = 0; i < N; i++)); do
	if ((i % 2 == 0)); then path=/whoami; else path="/call?url=http://api/whoami"; fi
	c=$(curl -s -o /dev/null -m 5 -w '%{http_code}' "http://127.0.0.1:31701$path")
	[ "$c" = 200 ] && ok200=$((ok200 + 1))
done
is "$N requests through the mesh, all 200" "$ok200" $N
# ghost has no instance: 503 no healthy upstream (flag UH)
code=$(curl -s -o /dev/null -m 5 -w '%{http_code}' http://127.0.0.1:31702/)
is "a service with no instance: 503" "$code" 503

# lines are flushed from the loop: give them a moment
want=$((3 * N + 1))    # gateway N, web N in + N/2 out, api N/2, one 503
lines() { grep -c . "$T/access.log" 2>/dev/null || echo 0; }
all_lines() { [ "$(lines)" -ge $want ]; }
wait_for 5 all_lines
is "every line arrived" "$(lines)" $want

python3 - "$T/access.log" >"$T/py.out" 2>&1 <<'PY'
import json, sys, collections
keys = ["time","service","instance","direction","method","authority","path","status",
        "duration_us","upstream","retries","flags","trace_id","bytes_in","bytes_out",
        "grpc_status"]
lines = [json.loads(l) for l in open(sys.argv[1])]
bad = [l for l in lines if list(l.keys()) != keys]
print("keys", "ok" if not bad else "bad %r" % bad[:1])
c = collections.Counter((l["service"], l["direction"]) for l in lines if l["status"] == 200)
print("gateway-out", c[("gateway","outbound")])
print("web-in", c[("web","inbound")])
print("web-out", c[("web","outbound")])
print("api-in", c[("api","inbound")])
calls = [l for l in lines if l["path"].startswith("/call")]
tids = {l["trace_id"] for l in calls}
hops = collections.Counter(l["trace_id"] for l in lines if l["trace_id"] in tids)
print("call-hops", sorted(set(hops.values())))
print("traced", all(len(l["trace_id"]) == 32 for l in lines if l["status"] == 200))
uh = [l for l in lines if l["status"] == 503]
print("uh", (uh[0]["flags"] + " " + uh[0]["direction"]) if uh else "none")
print("upstream", sorted({l["upstream"] for l in lines if l["direction"] == "outbound" and l["status"] == 200}))
PY
val() { sed -n "s/^$1 //p" "$T/py.out"; }
is "every line has the documented keys, in order" "$(val keys)" ok
is "gateway: one outbound line per request" "$(val gateway-out)" $N
is "web: one inbound line per request" "$(val web-in)" $N
is "web: one outbound line per /call" "$(val web-out)" $((N / 2))
is "api: one inbound line per /call" "$(val api-in)" $((N / 2))
is "a /call request: four lines under one trace id" "$(val call-hops)" "[4]"
is "trace_sample = 100%: every line names its trace" "$(val traced)" True
is "503 with no instance: flag UH on the outbound line" "$(val uh)" "UH outbound"
is "outbound lines name the instance that served" "$(val upstream)" "['v1.0']"

# B3 as input: the multi-header and the single forms keep their trace ids
# (a 64-bit id is left-padded), on the gateway's line and on web's
curl -s -o /dev/null -m 5 -H 'X-B3-TraceId: 463ac35c9f6413ad48485a3953bb6124' \
	-H 'X-B3-SpanId: a2fb4a1d1a96d312' -H 'X-B3-Sampled: 1' http://127.0.0.1:31701/whoami
curl -s -o /dev/null -m 5 -H 'b3: 80f198ee56343ba8-e457b5a2e4d86bd1-1' http://127.0.0.1:31701/whoami
b3lines() { grep -c -e 463ac35c9f6413ad48485a3953bb6124 -e 000000000000000080f198ee56343ba8 "$T/access.log"; }
four() { [ "$(b3lines)" -ge 4 ]; }
wait_for 5 four
is "B3 headers: both traces on the gateway's and web's lines" "$(b3lines)" 4

mesh_down_checked "$T/mesh.ini"

# ---- json: into meshd's log, after the sidecar's prefix; trace_sample = 50%:
# a trace is started (sampled or not) by the first sidecar only, so every
# hop of a request names the same trace, and a recorded trace is whole
mesh_ini json 50% >"$T/mesh.ini"
mesh_up_or_stop "$T/mesh.ini"
check "front door accepts (json)" wait_port 31701 10
for ((i = 0; i < 5; i++)); do curl -s -o /dev/null -m 5 http://127.0.0.1:31701/whoami; done
for ((i = 0; i < 20; i++)); do curl -s -o /dev/null -m 5 "http://127.0.0.1:31701/call?url=http://api/whoami"; done
log=$T/.mesh/run/meshd.log
alines() { grep '| {"time"' "$log" | sed 's/^[^|]*| //'; }
webin() {
	alines | python3 -c '
import json, sys
print(sum(1 for l in sys.stdin
          if json.loads(l)["service"] == "web" and json.loads(l)["direction"] == "inbound"))'
}
all_in() { [ "$(webin)" -ge 25 ]; }
wait_for 5 all_in
is "access_log = json: web's 25 inbound lines in meshd's log" "$(webin)" 25
hops=$(alines | python3 -c '
import json, sys, collections
ls = [json.loads(l) for l in sys.stdin]
ids = {l["trace_id"] for l in ls if l["path"].startswith("/call")}
c = collections.Counter(l["trace_id"] for l in ls if l["trace_id"] in ids)
print(len(ids), sorted(set(c.values())))')
is "trace_sample = 50%: 20 /call requests, 20 trace ids, each on all 4 hops" "$hops" "20 [4]"
whole=$(meshctl traces -f "$T/mesh.ini" --json -n 100 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
n = [len(t["spans"]) for t in d["traces"] if any(s["path"].startswith("/call") for s in t["spans"])]
print("some" if 0 < len(n) < 20 else len(n), sorted(set(n)))')
is "trace_sample = 50%: some /call traces recorded, each with all 4 spans" "$whole" "some [4]"
mesh_down_checked "$T/mesh.ini"
