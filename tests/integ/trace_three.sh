#!/bin/bash
# SPDX-License-Identifier: ISC
# trace_three: one request through three services yields one trace with
# correctly linked spans, in `meshctl traces` (no collector) and at an
# OTLP/HTTP JSON collector (tests/apps/otlp_sink):
#
#   curl -> gateway (pure client, 127.0.0.1:32202) -> web -> api -> db
#
# web and api call on through testapp's /call, which forwards the
# traceparent it received (as a traced app does).  trace_sample = 100%.
# Asserts: one trace, a client and a server span per hop (6), one root,
# each child's parent id is its parent's span id, a server span's parent
# is the client span that called it; the same trace id and span links
# reach the collector in the OTLP JSON shape; a request that brings its
# own traceparent keeps that trace id and hangs under that parent (an
# orphan for meshctl); --service, -n, --slow, text output; a stopped mesh
# exits 3.
# Ports: 32200-32299.
. "$(dirname "$0")/lib.sh"

SINK_PORT=32201
cp "$MESH_APPS/testapp" "$T/testapp"    # so pgrep on $T finds the apps
cat >"$T/mesh.ini" <<EOF
[mesh]
name = trace-three
port_base = 32250
trace_sample = 100%
traces = http://127.0.0.1:$SINK_PORT/v1/traces
metrics = 127.0.0.1:32290

[service.gateway]
upstreams = web:32202

[service.web]
command = $T/testapp --port \$PORT
port = 32210
upstreams = api

[service.api]
command = $T/testapp --port \$PORT
port = 32211
upstreams = db

[service.db]
command = $T/testapp --port \$PORT
port = 32212
EOF

spawn sink otlp_sink --port $SINK_PORT --out "$T/otlp.jsonl"
check "otlp_sink listens on $SINK_PORT" wait_port $SINK_PORT 5

mesh_up_or_stop "$T/mesh.ini"
check "front door 127.0.0.1:32202 accepts" wait_port 32202 10

traces() { meshctl traces -f "$T/mesh.ini" "$@"; }

# ---- one request, no trace context: the gateway's sidecar starts one
r=$(curl -sS -m 10 "http://127.0.0.1:32202/call?url=http://api/call?url=http://db/whoami")
is "web -> api -> db answers" "$r" \
	"200 200 name=db-v1-0 port=32212 service=db version=v1 instance=0"

# the last span (the gateway's) is recorded as the response leaves
spans_of_first() {
	traces --json >"$T/t1.json" 2>"$T/t1.err" || return 1
	python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if d["traces"] and len(d["traces"][0]["spans"]) >= 6 else 1)' "$T/t1.json"
}
check "meshctl traces --json shows the trace's 6 spans (within 5 s)" wait_for 5 spans_of_first
check "meshctl traces --json exits 0" traces --json -n 5

cat >"$T/check_tree.py" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
want_services = ["gateway", "web", "api", "db"]
assert d["mesh"] == "trace-three", d["mesh"]
assert d["running"] is True
assert len(d["traces"]) == 1, "want 1 trace, got %d" % len(d["traces"])
t = d["traces"][0]
spans = t["spans"]
assert len(t["trace_id"]) == 32 and int(t["trace_id"], 16) != 0, t["trace_id"]
assert len(spans) == 6, "want 6 spans, got %d" % len(spans)
ids = {s["span_id"]: s for s in spans}
assert len(ids) == 6, "span ids not unique"
roots = [s for s in spans if s["parent_id"] is None]
assert len(roots) == 1 and t["roots"] == 1, "want one root, got %d" % len(roots)
root = roots[0]
assert root["service"] == "gateway" and root["kind"] == "client", root
assert not any(s["orphan"] for s in spans), "an orphan"
for s in spans:
    assert s["status"] == 200, s
    assert len(s["span_id"]) == 16
    if s["parent_id"] is None:
        continue
    p = ids.get(s["parent_id"])
    assert p is not None, "parent %s of %s missing" % (s["parent_id"], s["span_id"])
    if s["kind"] == "server":
        # the caller's client span is the parent of the callee's server span
        assert p["kind"] == "client" and p["service"] != s["service"], (p, s)
        if p["peer"]:
            assert p["peer"] == s["service"], (p["peer"], s["service"])
    else:
        # the app called out while serving: its own server span is the parent
        assert p["kind"] == "server" and p["service"] == s["service"], (p, s)
    # a child starts after its parent and ends within it (1 ms slack)
    assert s["start_ns"] >= p["start_ns"] - 1000000, (p, s)
kinds = sorted((s["service"], s["kind"]) for s in spans)
assert kinds == sorted([("gateway", "client"), ("web", "server"), ("web", "client"),
                        ("api", "server"), ("api", "client"), ("db", "server")]), kinds
# depth-first order: the chain goes one level deeper each hop
assert [s["depth"] for s in spans] == [0, 1, 2, 3, 4, 5], [s["depth"] for s in spans]
assert [s["service"] for s in spans] == ["gateway", "web", "web", "api", "api", "db"]
print(t["trace_id"])
PY
tid=$(python3 "$T/check_tree.py" "$T/t1.json" 2>"$T/tree.err")
if [ -n "$tid" ]; then ok "one trace, 6 spans, one root, every parent id a span id of the trace"
else not_ok "one trace, 6 spans, one root, every parent id a span id of the trace" \
	"$(tail -3 "$T/tree.err")" "$(head -c 800 "$T/t1.json")"; fi

# ---- the collector got the same trace, in the OTLP JSON shape
cat >"$T/check_otlp.py" <<'PY'
import json, re, sys
path, tid, want = sys.argv[1], sys.argv[2], int(sys.argv[3])
spans, services = [], set()
for line in open(path):
    d = json.loads(line)
    for rs in d["resourceSpans"]:
        attrs = {a["key"]: a["value"] for a in rs["resource"]["attributes"]}
        svc = attrs["service.name"]["stringValue"]
        assert "service.version" in attrs and "service.instance.id" in attrs, attrs
        for ss in rs["scopeSpans"]:
            assert ss["scope"]["name"] == "meshctl", ss["scope"]
            for s in ss["spans"]:
                if s["traceId"] == tid:
                    spans.append(s)
                    services.add(svc)
if len(spans) < want:
    sys.exit("collector has %d spans of trace %s, want %d" % (len(spans), tid, want))
ids = {s["spanId"] for s in spans}
roots = 0
for s in spans:
    assert re.fullmatch(r"[0-9a-f]{32}", s["traceId"]), s
    assert re.fullmatch(r"[0-9a-f]{16}", s["spanId"]), s
    assert s["kind"] in (2, 3), s
    assert s["name"].startswith("GET /"), s["name"]
    assert int(s["endTimeUnixNano"]) >= int(s["startTimeUnixNano"]) > 0, s
    keys = {a["key"] for a in s["attributes"]}
    for k in ("http.request.method", "http.response.status_code", "url.path", "mesh.retries"):
        assert k in keys, (k, keys)
    if "parentSpanId" in s:
        assert s["parentSpanId"] in ids, "parent %s not among %s" % (s["parentSpanId"], ids)
    else:
        roots += 1
assert roots == 1, "roots: %d" % roots
assert services == {"gateway", "web", "api", "db"}, services
print(len(spans), sorted(s["spanId"] for s in spans) == sorted(sys.argv[4].split()))
PY
ids1=$(python3 -c '
import json, sys
print(" ".join(s["span_id"] for s in json.load(open(sys.argv[1]))["traces"][0]["spans"]))' "$T/t1.json" 2>/dev/null)
otlp_has() { python3 "$T/check_otlp.py" "$T/otlp.jsonl" "$tid" 6 "$ids1" >"$T/otlp.out" 2>&1; }
if [ -n "$tid" ] && wait_for 5 otlp_has; then
	ok "the collector received the trace's 6 spans as OTLP JSON with linked parents"
	is "the collector has the same span ids as meshctl traces" "$(cut -d' ' -f2 "$T/otlp.out")" True
else
	not_ok "the collector received the trace's 6 spans as OTLP JSON with linked parents" \
		"$(tail -3 "$T/otlp.out" 2>/dev/null)" "$(head -c 600 "$T/otlp.jsonl" 2>/dev/null)"
	not_ok "the collector has the same span ids as meshctl traces"
fi
check "every line the collector got is one JSON document" python3 -c '
import json, sys
n = 0
for line in open(sys.argv[1]):
    json.loads(line); n += 1
sys.exit(0 if n > 0 else 1)' "$T/otlp.jsonl"

# ---- a request that brings its own context keeps it
T2=4bf92f3577b34da6a3ce929d0e0e4736
P2=00f067aa0ba902b7
r=$(curl -sS -m 10 -H "traceparent: 00-$T2-$P2-01" -H "tracestate: vendor=x" \
	"http://127.0.0.1:32202/call?url=http://api/whoami")
check "a request with a traceparent is served (got '$r')" grep -q '^200 name=api-v1-0' <<<"$r"
has_t2() {
	traces --json >"$T/t2.json" 2>/dev/null && python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
t = [t for t in d["traces"] if t["trace_id"] == sys.argv[2]]
sys.exit(0 if t and len(t[0]["spans"]) >= 4 else 1)' "$T/t2.json" "$T2"
}
check "the incoming trace id is kept: trace $T2 has 4 spans (within 5 s)" wait_for 5 has_t2
check "its root hangs under the caller's span $P2 (an orphan here), 4 linked spans" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
t = [t for t in d["traces"] if t["trace_id"] == sys.argv[2]][0]
s = t["spans"]
assert len(s) == 4, len(s)
assert s[0]["parent_id"] == sys.argv[3] and s[0]["orphan"] and s[0]["service"] == "gateway", s[0]
ids = {x["span_id"] for x in s}
assert all(x["parent_id"] in ids for x in s[1:]), s
assert not any(x["orphan"] for x in s[1:])' "$T/t2.json" "$T2" "$P2"
is "two traces now, the newest first" "$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(len(d["traces"]), d["traces"][0]["trace_id"])' "$T/t2.json" 2>&1)" "2 $T2"
t2_at_sink() { grep -q "\"traceId\":\"$T2\"" "$T/otlp.jsonl"; }
check "the collector got trace $T2 too" wait_for 5 t2_at_sink

# ---- the other ways to ask
traces >"$T/text.out" 2>"$T/text.err"
is "meshctl traces exits 0" "$?" 0
check "text: each trace a header line" grep -q "^trace $tid  " "$T/text.out"
check "text: the db server span five levels under the gateway's client span" \
	grep -Eq '^            db@v1\.0  server  GET /whoami  <- [a-z?]+  200  [0-9]+\.[0-9]{3} ms' "$T/text.out"
is "-n 1: one trace" "$(traces --json -n 1 | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["traces"]))')" 1
is "--service db: only the trace through db" \
	"$(traces --json --service db | python3 -c 'import json,sys; print(" ".join(t["trace_id"] for t in json.load(sys.stdin)["traces"]))')" "$tid"
is "--service nosuch: none" \
	"$(traces --json --service nosuch | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["traces"]))')" 0
check "--slow --json: the slowest traces, with their spans" python3 -c '
import json, subprocess, sys
d = json.loads(subprocess.run(sys.argv[1:], capture_output=True, check=True).stdout)
assert d["order"] == "slowest" and d["traces"], d
assert all(t["spans"] for t in d["traces"])' meshctl traces -f "$T/mesh.ini" --slow --json
traces -n 0 >/dev/null 2>&1
is "-n 0 is a usage error" "$?" 2

# ---- the exporter's own numbers on /metrics: every span meshctl traces shows
nspans=$(traces --json -n 100 | python3 -c '
import json, sys
print(sum(len(t["spans"]) for t in json.load(sys.stdin)["traces"]))')
exported() { curl -s -m 5 http://127.0.0.1:32290/metrics |
	sed -n 's/^mesh_trace_spans_exported_total{mesh="trace-three"} //p'; }
all_out() { [ "$(exported)" = "$nspans" ]; }
wait_for 5 all_out
is "/metrics: mesh_trace_spans_exported_total is the $nspans spans recorded" "$(exported)" "$nspans"
is "/metrics: nothing dropped" "$(curl -s -m 5 http://127.0.0.1:32290/metrics |
	sed -n 's/^mesh_trace_spans_dropped_total{mesh="trace-three"} //p')" 0

mesh_down_checked "$T/mesh.ini"
traces >/dev/null 2>"$T/down.err"
is "meshctl traces on a stopped mesh exits 3" "$?" 3
check "and says the mesh is not running" grep -q "not running" "$T/down.err"
is "--json on a stopped mesh is still one document" \
	"$(traces --json 2>/dev/null | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["running"], d["traces"])')" "False []"

kill "$(cat "$T/sink.pid")"
wait "$(cat "$T/sink.pid")" 2>/dev/null
is "otlp_sink exits 0 on SIGTERM" "$?" 0
exit 0
