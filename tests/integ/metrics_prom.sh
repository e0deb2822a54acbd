#!/bin/bash
# SPDX-License-Identifier: ISC
# metrics_prom: meshd's Prometheus endpoint (`metrics =` in [mesh]):
#
#   curl -> gateway (pure client, 127.0.0.1:31010) -> web (testapp)
#   meshd /metrics on 127.0.0.1:31001; prometheus on 127.0.0.1:31090
#
# After N requests through the mesh: /metrics answers with the 0.0.4
# content type; `promtool check metrics` passes on it; mesh_requests_total
# over web's inbound rows is N exactly, and so is the gateway's outbound
# and web's histogram count (+Inf = _count); meshd's own series (instance
# up, process resident bytes of meshd, the app and the sidecar, the
# certificate's not-after) are there; HEAD, 404 and 405.  Then a real
# Prometheus server scrapes it (scrape_interval 1s, its own config and
# tsdb under $T) and its HTTP API answers
# sum(mesh_requests_total{direction="inbound",service="web"}) = N.
# port_base is the metrics port: the automatic ports skip it (meshd binds
# the metrics address first).  A second mesh whose metrics address is taken fails to start naming
# FILE:LINE and the address; `meshctl check` names it too; a reload that
# changes the address says a restart is needed.
# Ports: 31000-31099.  SKIPs only the promtool/prometheus parts when those
# are missing (scripts/deps.sh test installs them).
. "$(dirname "$0")/lib.sh"

N=57
MPORT=31001
PPORT=31090
cp "$MESH_APPS/testapp" "$T/testapp"
write_ini() {
cat >"$T/mesh.ini.new" <<EOF
[mesh]
name = metrics-prom
port_base = $MPORT
metrics = 127.0.0.1:$1

[service.gateway]
upstreams = web:31010

[service.web]
command = $T/testapp --port \$PORT
port = 31020
EOF
	mv "$T/mesh.ini.new" "$T/mesh.ini"
}
write_ini $MPORT

M=http://127.0.0.1:$MPORT/metrics
scrape() { curl -sS -m 5 "$M"; }
# sum of the values of the series matching the ERE $1 in $T/m.txt
sum_of() { grep -E "$1" "$T/m.txt" | awk '{ s += $NF } END { printf "%d\n", s }'; }

mesh_up_or_stop "$T/mesh.ini"
check "front door 127.0.0.1:31010 accepts" wait_port 31010 10
check "metrics 127.0.0.1:$MPORT accepts" wait_port $MPORT 5
check "the automatic ports skipped the metrics port (port_base = $MPORT)" \
	grep -q "port $MPORT is taken on 127.0.0.1: skipped" "$T/.mesh/run/meshd.log"

ok=0
for i in $(seq 1 $N); do
	[ "$(curl -sS -m 5 -o /dev/null -w '%{http_code}' http://127.0.0.1:31010/)" = 200 ] && ok=$((ok + 1))
done
is "$N requests through the mesh all get 200" "$ok" "$N"

# the sidecar counts a request once its response is written: allow a moment
inbound_n() {
	scrape >"$T/m.txt" 2>/dev/null &&
	[ "$(sum_of '^mesh_requests_total\{.*service="web".*direction="inbound"')" = "$N" ]
}
wait_for 5 inbound_n
scrape >"$T/m.txt"
is "mesh_requests_total over web's inbound rows is N" \
	"$(sum_of '^mesh_requests_total\{.*service="web".*direction="inbound"')" "$N"
is "... all of them 2xx" \
	"$(sum_of '^mesh_requests_total\{.*service="web".*direction="inbound".*code="2xx"')" "$N"
is "... and they came from the gateway" \
	"$(sum_of '^mesh_requests_total\{.*service="web".*direction="inbound",peer="gateway"')" "$N"
is "mesh_requests_total over the gateway's outbound rows to web is N" \
	"$(sum_of '^mesh_requests_total\{.*service="gateway".*direction="outbound",peer="web"')" "$N"
is "web's inbound histogram: _count is N" \
	"$(sum_of '^mesh_request_duration_seconds_count\{.*service="web".*direction="inbound"')" "$N"
is "web's inbound histogram: le=+Inf is N" \
	"$(sum_of '^mesh_request_duration_seconds_bucket\{.*service="web".*direction="inbound".*le="\+Inf"')" "$N"
st_n=$(meshctl status -f "$T/mesh.ini" --json 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(sum(s["summary"]["requests"] for s in d["services"] if s["name"] == "web"))' 2>/dev/null)
is "meshctl status --json agrees: web's summary counts N requests" "$st_n" "$N"
is "web's instance is up" "$(sum_of '^mesh_instance_up\{.*instance="web@v1.0"\}')" 1
check "meshd's resident bytes" grep -Eq '^mesh_process_resident_bytes\{mesh="metrics-prom",process="meshd"\} [1-9][0-9]*$' "$T/m.txt"
check "web's app and sidecar resident bytes" bash -c '
	grep -Eq "^mesh_process_resident_bytes\{.*instance=\"web@v1.0\",process=\"app\"\} [1-9]" "$1" &&
	grep -Eq "^mesh_process_resident_bytes\{.*instance=\"web@v1.0\",process=\"sidecar\"\} [1-9]" "$1"' _ "$T/m.txt"
na=$(grep -E '^mesh_cert_expiry_timestamp_seconds\{.*instance="web@v1.0",identity="spiffe://mesh.local/svc/web"\}' "$T/m.txt" | awk '{print $NF}')
check "web's certificate not-after is in the future (${na:-none})" test "${na:-0}" -gt "$(date +%s)"
for f in mesh_requests_total mesh_request_duration_seconds mesh_retries_total \
	mesh_tcp_connections_open mesh_requests_in_flight mesh_tls_handshakes_total mesh_cert_expiry_timestamp_seconds \
	mesh_process_resident_bytes mesh_instance_up; do
	is "one TYPE line for $f" "$(grep -c "^# TYPE $f " "$T/m.txt")" 1
done

curl -sS -m 5 -D "$T/h.txt" -o /dev/null "$M"
check "Content-Type: text/plain; version=0.0.4; charset=utf-8" \
	grep -qi '^content-type: text/plain; version=0.0.4; charset=utf-8' "$T/h.txt"
is "HEAD /metrics: 200 and no body" \
	"$(curl -sS -m 5 -I -o /dev/null -w '%{http_code} %{size_download}' "$M")" "200 0"
is "GET /other: 404" "$(curl -sS -m 5 -o /dev/null -w '%{http_code}' http://127.0.0.1:$MPORT/other)" 404
is "POST /metrics: 405" "$(curl -sS -m 5 -o /dev/null -w '%{http_code}' -d x "$M")" 405

# ---- promtool
if command -v promtool >/dev/null; then
	check "promtool check metrics passes" bash -c 'promtool check metrics <"$1"' _ "$T/m.txt"
else
	ok "# SKIP promtool check metrics: promtool not installed (scripts/deps.sh test)"
fi

# ---- a real Prometheus server, bounded: its own config and tsdb, killed at exit
if command -v prometheus >/dev/null; then
	cat >"$T/prom.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: mesh
    static_configs:
      - targets: ['127.0.0.1:$MPORT']
EOF
	spawn prometheus prometheus --config.file="$T/prom.yml" --storage.tsdb.path="$T/tsdb" \
		--web.listen-address=127.0.0.1:$PPORT --log.level=warn
	P=http://127.0.0.1:$PPORT
	check "prometheus is ready on 127.0.0.1:$PPORT" wait_for 60 curl -sf -m 2 "$P/-/ready"
	# instant query: the value of the first result, "" when none
	query() {
		curl -sS -m 5 -G "$P/api/v1/query" --data-urlencode "query=$1" 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
r = d.get("data", {}).get("result", [])
print(r[0]["value"][1] if d.get("status") == "success" and r else "")' 2>/dev/null
	}
	q='sum(mesh_requests_total{direction="inbound",service="web"})'
	got_n() { [ "$(query "$q")" = "$N" ]; }
	wait_for 30 got_n
	is "prometheus: $q" "$(query "$q")" "$N"
	is "prometheus: up{job=\"mesh\"}" "$(query 'up{job="mesh"}')" 1
	is "prometheus: histogram count of web's inbound requests" \
		"$(query 'sum(mesh_request_duration_seconds_count{direction="inbound",service="web"})')" "$N"
	kill "$(cat "$T/prometheus.pid")" 2>/dev/null
	check "prometheus exits on SIGTERM" wait_for 20 bash -c '! kill -0 $1 2>/dev/null' _ "$(cat "$T/prometheus.pid")"
else
	ok "# SKIP the Prometheus query: prometheus not installed (scripts/deps.sh test)"
fi

# ---- a taken metrics port: another mesh fails to start, naming FILE:LINE
mkdir -p "$T/two"
cat >"$T/two/mesh.ini" <<EOF
[mesh]
name = metrics-two
port_base = 31070

metrics = 127.0.0.1:$MPORT

[service.solo]
command = $T/testapp --port \$PORT
port = 31081
EOF
meshctl check -f "$T/two/mesh.ini" >"$T/check2.out" 2>&1
is "meshctl check of the second mesh exits 1" "$?" 1
check "meshctl check names the taken metrics port with FILE:LINE" \
	grep -q "mesh.ini:5: metrics: port $MPORT is already in use" "$T/check2.out"
mesh_up "$T/two/mesh.ini" >"$T/up2.out" 2>&1
is "meshctl up of the second mesh exits 1" "$?" 1
check "the failure names FILE:LINE and the metrics address" \
	grep -q "mesh.ini:5: metrics: 127.0.0.1:$MPORT is already in use" "$T/up2.out"
check "the first mesh still serves /metrics" bash -c 'curl -sf -m 5 "$1" | grep -q "^mesh_instance_up{"' _ "$M"

# ---- reload: a changed address needs a restart; the old one keeps serving
write_ini 31095
meshctl reload -f "$T/mesh.ini" >"$T/reload.out" 2>&1
check "reload with a new metrics address says a restart is needed" grep -q "metrics" "$T/reload.out"
check "the old metrics address still serves" bash -c 'curl -sf -m 5 "$1" >/dev/null' _ "$M"
write_ini $MPORT

mesh_down_checked "$T/mesh.ini"
check "the metrics port is closed after down" bash -c '! (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null' _ $MPORT
exit 0
