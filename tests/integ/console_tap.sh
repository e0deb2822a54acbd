#!/bin/bash
# SPDX-License-Identifier: ISC
# console_tap: `meshctl tap` shows the requests through a service's
# sidecars as they happen, and costs nothing once nobody taps:
#
#   curl -> gateway (pure client, 127.0.0.1:25101) -> api (2 instances)
#
# trace_sample = 0 and no retries, so only the tap makes span records and
# each request is exactly one record in api's sidecars.
# Asserts: --json -n K shows exactly the K requests sent after the tap
# started (paths, statuses, caller gateway, both instances, no trace),
# then exits 0; --status 5xx shows only the 503s; --path and the text
# form (arrow lines); Ctrl-C exits 0; after the tap stops the sidecars
# stop recording (spans_written stays put while requests go on) and
# `meshctl traces` shows no trace (tap-only records are not traces);
# usage errors exit 2, an unknown service 1, a stopped mesh 3.
# Ports: 25100-25199.
. "$(dirname "$0")/lib.sh"

cp "$MESH_APPS/testapp" "$T/testapp"    # so pgrep on $T finds the apps
cat >"$T/mesh.ini" <<EOF2
[mesh]
name = console-tap
port_base = 25150
trace_sample = 0%

[service.gateway]
upstreams = api:25101

[service.api]
command = $T/testapp --port \$PORT
port = 25110
instances = 2

[route.api]
retries = 0
lb = round-robin
EOF2

mesh_up_or_stop "$T/mesh.ini"
check "front door 127.0.0.1:25101 accepts" wait_port 25101 10
LEASE="$T/.mesh/run/tap/api"
tap() { meshctl tap -f "$T/mesh.ini" "$@"; }
get() { curl -s -o /dev/null -w '%{http_code}' -m 5 "http://127.0.0.1:25101$1"; }

# spans_written summed over api's stats files (include/mesh/stats.h: the
# header's u32 at 56 is the span section's offset, whose first u64 it is)
written() {
	python3 - "$T/.mesh/run/stats" <<'PY'
import glob, struct, sys
total = 0
for p in glob.glob(sys.argv[1] + "/api@*.stats"):
    b = open(p, "rb").read()
    off = struct.unpack_from("=I", b, 56)[0]
    if off:
        total += struct.unpack_from("=Q", b, off)[0]
print(total)
PY
}

# start_tap NAME ARGS...: a tap in the background, bounded; wait until its
# lease exists and the sidecars (checking every 0.5 s) have seen it
start_tap() {
	local name=$1; shift
	rm -f "$LEASE"
	timeout 30 meshctl tap -f "$T/mesh.ini" "$@" >"$T/$name.out" 2>"$T/$name.err" &
	echo $! >"$T/$name.pid"
	_pids+=($!)
	wait_for 5 test -f "$LEASE" || return 1
	sleep 1.2
}
# wait_tap NAME: $rc = its exit code once it exited by itself (124: it did
# not, and was stopped); not in $(...): only this shell can wait for it
wait_tap() {
	local pid; pid=$(cat "$T/$1.pid")
	if wait_for 15 bash -c "! kill -0 $pid"; then
		wait "$pid"; rc=$?
	else
		kill "$pid" 2>/dev/null; wait "$pid"; rc=124
	fi
}

# ---- nobody taps: nothing recorded (trace_sample = 0)
get /whoami >/dev/null
w0=$(written)
is "requests before any tap leave no record" "$w0" 0

# ---- --json -n K: exactly the K requests sent after it started
K=8
check "tap --json takes its lease (run/tap/api)" start_tap t1 --json -n $K api
codes=
for i in 1 2 3 4 5 6; do codes="$codes$(get "/whoami?i=$i") "; done
codes="$codes$(get /status/503?i=7) $(get /status/503?i=8)"
is "the $K requests answer" "$codes" "200 200 200 200 200 200 503 503"
wait_tap t1
is "tap -n $K exits 0 after $K lines" "$rc" 0
cat >"$T/check1.py" <<'PY'
import json, re, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 8, "want 8 lines, got %d: %r" % (len(lines), lines)
recs = [json.loads(l) for l in lines]
want = {"/whoami?i=%d" % i: 200 for i in range(1, 7)}
want.update({"/status/503?i=7": 503, "/status/503?i=8": 503})
got = {r["path"]: r["status"] for r in recs}
assert got == want, got
for r in recs:
    assert r["direction"] == "in", r
    assert r["caller"] == "gateway", r
    assert r["service"] == "api" and r["version"] == "v1", r
    assert r["callee"] == r["instance"] and r["instance"] in ("api@v1.0", "api@v1.1"), r
    assert r["method"] == "GET" and r["retries"] == 0, r
    assert r["trace_id"] is None and r["flags"] == [], r
    assert isinstance(r["duration_ms"], (int, float)) and r["duration_ms"] >= 0, r
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", r["time"]), r["time"]
    assert r["authority"].startswith("api") or r["authority"].startswith("127.0.0.1"), r
assert {r["instance"] for r in recs} == {"api@v1.0", "api@v1.1"}, "both instances"
times = [r["time"] for r in recs]
assert times == sorted(times), "in start order"
PY
check "tap --json: the $K requests, paths and statuses, from gateway, on both instances" \
	python3 "$T/check1.py" "$T/t1.out"
check "tap --json: nothing on stderr" test ! -s "$T/t1.err"

# ---- --status 5xx: the 503s only (sent last, so -n 2 proves the filter)
check "tap --status 5xx takes its lease" start_tap t2 --json --status 5xx -n 2 api
for i in 1 2 3; do get "/whoami?j=$i" >/dev/null; done
get /status/503?j=4 >/dev/null; get /status/502?j=5 >/dev/null
wait_tap t2
is "tap --status 5xx exits 0" "$rc" 0
check "tap --status 5xx: the 503 and the 502 only" python3 -c '
import json, sys
r = [json.loads(l) for l in open(sys.argv[1])]
assert [(x["path"], x["status"]) for x in r] == [("/status/503?j=4", 503), ("/status/502?j=5", 502)], r' "$T/t2.out"

# ---- --path, text: arrow lines
check "tap --path /whoami (text) takes its lease" start_tap t3 --path /whoami -n 3 api
get /status/503 >/dev/null; get /status/200 >/dev/null
for i in 1 2 3; do get "/whoami?k=$i" >/dev/null; done
wait_tap t3
is "tap --path exits 0" "$rc" 0
re='^[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}  in   gateway -> api@v1\.[01] +GET /whoami\?k=[123]  200  [0-9.]+(us|ms|s)  retries=0  trace=-$'
check "tap text: 3 arrow lines, /whoami only" bash -c \
	"[ \$(wc -l <'$T/t3.out') -eq 3 ] && [ \$(grep -cE '$re' '$T/t3.out') -eq 3 ]"
[ "$(grep -cE "$re" "$T/t3.out")" -eq 3 ] || sed 's/^/#   /' "$T/t3.out"

# ---- Ctrl-C: exit 0
check "tap (until Ctrl-C) takes its lease" start_tap t4 api
get "/whoami?sig=1" >/dev/null
sleep 0.5
# Ctrl-C reaches meshctl itself (timeout(1) is its parent here)
kill -INT "$(pgrep -P "$(cat "$T/t4.pid")")"
wait_tap t4
is "tap exits 0 on SIGINT" "$rc" 0
check "tap showed the request before SIGINT" grep -q 'GET /whoami?sig=1  200' "$T/t4.out"

# ---- no tapper: the sidecars stop recording within the lease (3 s)
still() { # one request more leaves spans_written where it was
	local a b; a=$(written); get /whoami >/dev/null; b=$(written); [ "$a" = "$b" ]
}
check "after the tap, the sidecars stop recording (lease expired)" wait_for 8 still
w1=$(written)
for i in 1 2 3 4 5; do get "/whoami?after=$i" >/dev/null; done
is "no record while nobody taps" "$(written)" "$w1"

# ---- tap-only records are no traces
meshctl traces -f "$T/mesh.ini" --json >"$T/traces.json" 2>"$T/traces.err"
is "meshctl traces --json exits 0" "$?" 0
check "meshctl traces: no trace from the tap's records" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["traces"] == [], d["traces"][:2]' "$T/traces.json"
meshctl traces -f "$T/mesh.ini" --slow --json >"$T/slow.json" 2>/dev/null
check "meshctl traces --slow: none either" python3 -c '
import json, sys
assert json.load(open(sys.argv[1]))["traces"] == []' "$T/slow.json"

# ---- errors
tap >/dev/null 2>"$T/e1.err"
is "tap without a SERVICE exits 2" "$?" 2
tap api web >/dev/null 2>&1
is "tap with two services exits 2" "$?" 2
tap --status 6xx api >/dev/null 2>&1
is "tap --status 6xx exits 2" "$?" 2
tap nosuch >/dev/null 2>"$T/e2.err"
is "tap of an unknown service exits 1" "$?" 1
check "it names the file and the service" grep -q "mesh.ini: no service 'nosuch'" "$T/e2.err"

mesh_down_checked "$T/mesh.ini"
tap api >/dev/null 2>"$T/e3.err"
is "tap of a stopped mesh exits 3" "$?" 3
check "it says the mesh is not running" grep -q "not running" "$T/e3.err"
exit 0
