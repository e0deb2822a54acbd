#!/bin/bash
# SPDX-License-Identifier: ISC
# make security-compare: the request smuggling and desync cases of
# tests/integ/smuggle_cases.txt sent to
#   meshctl  web's outbound port (web's sidecar -> mTLS -> api's sidecar)
#            and api's inbound port (raw bytes inside TLS, as
#            tests/integ/sec_smuggle.sh does)
#   HAProxy  one haproxy in front of the app (the Debian package: 2.6 on
#            bookworm), its defaults, http mode, keep-alive both sides
#   nginx    one nginx in front of the app, proxy_pass with HTTP/1.1 and
#            upstream keep-alive, WebSocket passthrough as nginx's docs
#            configure it (Upgrade and Connection passed on)
# each in front of its own recording app (tests/integ/smuggle_app.py), then
# prints one table: what each answered, and what its app received
# (scripts/security_table.py says how a cell reads).  docs/security.md
# holds the table of the last run that was looked at.
#
# Installs haproxy and nginx with apt-get (scripts/deps.sh security) and
# runs them on its own ports with its own configs; never part of make
# check.  Ports: SEC_PORT_BASE (26280) to SEC_PORT_BASE+19, loopback only.
# Output in build/security/: one JSON line per case per proxy, the logs,
# and table.md.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${BUILD:-build}
B=${SEC_PORT_BASE:-26280}
OUT=$ROOT/build/security
CASES=$ROOT/tests/integ/smuggle_cases.txt
DRIVE=$ROOT/tests/integ/smuggle_drive.py
APPPY=$ROOT/tests/integ/smuggle_app.py
export PATH="$ROOT/$BUILD/bin:$ROOT/$BUILD/apps:$PATH"
export MESH_PROXY="$ROOT/$BUILD/bin/mesh-proxy"
unset http_proxy HTTP_PROXY https_proxy HTTPS_PROXY all_proxy ALL_PROXY
export PYTHONDONTWRITEBYTECODE=1   # no __pycache__ in the tree

scripts/deps.sh security
rm -rf "$OUT"
mkdir -p "$OUT"
make --no-print-directory BUILD="$BUILD" all apps >"$OUT/build.log" 2>&1 || {
	tail -20 "$OUT/build.log"; echo "security-compare: build failed" >&2; exit 1; }

pids=()
mesh_started=
cleanup() {
	local p
	[ -n "$mesh_started" ] && timeout 30 meshctl down -f "$OUT/mesh.ini" >/dev/null 2>&1 || true
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	sleep 0.2
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_port() {
	local i
	for i in $(seq 100); do port_open "$1" && return 0; sleep 0.1; done
	echo "security-compare: nothing listens on 127.0.0.1:$1 ($2)" >&2
	exit 1
}
# app NAME PORT: a recording app logging to $OUT/NAME-app.jsonl
app() {
	python3 "$APPPY" "$2" "$OUT/$1-app.jsonl" "$CASES" >"$OUT/$1-app.log" 2>&1 &
	pids+=($!)
	wait_port "$2" "the recording app for $1"
}
drive() { # NAME PORT [CERT KEY CA]
	echo "security-compare: $1 ..." >&2
	python3 "$DRIVE" json "$CASES" "$OUT/${1%-*}-app.jsonl" "${LABEL:-out}" "${@:2}" \
		>"$OUT/$1.jsonl"
}

# --- meshctl: the same mesh as tests/integ/sec_smuggle.sh
app meshctl $B
cat >"$OUT/mesh.ini" <<EOF
[mesh]
name = security-compare
port_base = $((B + 10))
state_dir = $OUT/state

[service.web]
outbound = $((B + 1))
upstreams = api

[service.api]
port = $B
allow = web

[route.api]
retries = 0
breaker.failures = 10000
outlier.failures = 10000
EOF
mesh_started=1
meshctl up -d -f "$OUT/mesh.ini" >"$OUT/up.log" 2>&1 || {
	cat "$OUT/up.log"; echo "security-compare: meshctl up failed" >&2; exit 1; }
API_IN=$(meshctl status -f "$OUT/mesh.ini" --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
print([i for s in d["services"] if s["name"] == "api" for i in s["instances"]][0]["inbound_port"])')
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$OUT/web.key" 2>/dev/null
openssl req -new -key "$OUT/web.key" -subj /CN=web -out "$OUT/web.csr" 2>/dev/null
pkitool sign "$OUT/state/ca" mesh.local web 3600 "$OUT/web.csr" "$OUT/web.crt"
LABEL=out drive meshctl-out $((B + 1))
LABEL=in drive meshctl-in "$API_IN" "$OUT/web.crt" "$OUT/web.key" "$OUT/state/ca/ca.crt"
timeout 30 meshctl down -f "$OUT/mesh.ini" >/dev/null 2>&1 || true
mesh_started=

# --- HAProxy
app haproxy $((B + 2))
cat >"$OUT/haproxy.cfg" <<EOF
global
	maxconn 256
defaults
	mode http
	timeout connect 2s
	timeout client 10s
	timeout server 10s
	timeout http-request 5s
frontend smuggle
	bind 127.0.0.1:$((B + 3))
	default_backend app
backend app
	server app 127.0.0.1:$((B + 2))
EOF
haproxy -f "$OUT/haproxy.cfg" -db >"$OUT/haproxy.log" 2>&1 &
pids+=($!)
wait_port $((B + 3)) haproxy
drive haproxy $((B + 3))

# --- nginx
app nginx $((B + 4))
mkdir -p "$OUT/nginx"
cat >"$OUT/nginx.conf" <<EOF
daemon off;
worker_processes 1;
pid $OUT/nginx/nginx.pid;
error_log $OUT/nginx/error.log;
events { worker_connections 256; }
http {
	access_log off;
	client_body_temp_path $OUT/nginx/body;
	proxy_temp_path $OUT/nginx/proxy;
	fastcgi_temp_path $OUT/nginx/fastcgi;
	uwsgi_temp_path $OUT/nginx/uwsgi;
	scgi_temp_path $OUT/nginx/scgi;
	map \$http_upgrade \$connection_upgrade { default upgrade; '' ''; }
	upstream app { server 127.0.0.1:$((B + 4)); keepalive 8; }
	server {
		listen 127.0.0.1:$((B + 5));
		location / {
			proxy_pass http://app;
			proxy_http_version 1.1;
			proxy_set_header Host \$host;
			proxy_set_header Upgrade \$http_upgrade;
			proxy_set_header Connection \$connection_upgrade;
		}
	}
}
EOF
nginx -c "$OUT/nginx.conf" -e "$OUT/nginx/error.log" >"$OUT/nginx.log" 2>&1 &
pids+=($!)
wait_port $((B + 5)) nginx
drive nginx $((B + 5))

HV=$(haproxy -v 2>/dev/null | sed -n 's/^HAProxy version \([0-9.]*\).*/\1/p' | head -1)
NV=$(nginx -v 2>&1 | sed -n 's|.*nginx/\([0-9.]*\).*|\1|p')
MV=$(meshctl version 2>/dev/null | head -1 | awk '{print $2}')
python3 scripts/security_table.py \
	"meshctl ${MV:-} out=$OUT/meshctl-out.jsonl" "meshctl ${MV:-} in=$OUT/meshctl-in.jsonl" \
	"HAProxy ${HV:-?}=$OUT/haproxy.jsonl" "nginx ${NV:-?}=$OUT/nginx.jsonl" | tee "$OUT/table.md"
echo "security-compare: table in $OUT/table.md" >&2
