#!/bin/bash
# SPDX-License-Identifier: ISC
# sec_smuggle: request smuggling and desync.  Every case of
# tests/integ/smuggle_cases.txt (its header gives the format) is sent as
# raw bytes, and judged by what the caller gets back and by what the
# recording app (smuggle_app.py) logged it received: never by assumption.
#
#   out: raw TCP to web's outbound port, the path of every meshed app:
#        web's sidecar -> mTLS -> api's sidecar -> the recording app
#   in:  raw bytes inside TLS 1.3 straight to api's inbound port, with a
#        client certificate for "web" signed by the mesh's CA (made with
#        openssl + tests/apps/pkitool, as mtls_rotate_root does).  A real
#        caller sidecar would re-parse and re-frame the request, so the
#        test stands in for a broken or hostile one: api's sidecar gets
#        the bytes exactly as written.
#
# One TAP line per case per port, named "smuggle out|in CASE".
# Response-side cases (res_*) make the app answer /evil/CASE with the
# case's raw response.  scripts/security_compare.sh runs the same table
# against HAProxy and nginx (docs/security.md has the results).
# Ports: 26200-26299 (26201 web outbound, 26210 the app, 26250+ auto).
. "$(dirname "$0")/lib.sh"

HERE=$ROOT/tests/integ
CASES=$HERE/smuggle_cases.txt
export PYTHONDONTWRITEBYTECODE=1   # no __pycache__ in the tree
APP=26210 OUT=26201

n_req=$(grep -Ec '^[a-z0-9_]+	' "$CASES")
n_res=$(grep -Ec '^res_[a-z0-9_]+	' "$CASES")
n_req=$((n_req - n_res))
check "the table has at least 40 request-side cases ($n_req) and response-side ones ($n_res)" \
	test "$n_req" -ge 40 -a "$n_res" -ge 5
check "the table loads (names unique, columns well formed)" \
	python3 -c "import sys; sys.path.insert(0, '$HERE'); import smuggle_lib; smuggle_lib.load('$CASES')"

spawn app python3 "$HERE/smuggle_app.py" "$APP" "$T/app.jsonl" "$CASES"
check "the recording app listens on $APP" wait_port "$APP" 10

cat >"$T/mesh.ini" <<EOF
[mesh]
name = sec-smuggle
port_base = 26250
state_dir = $T/state

[service.web]
outbound = $OUT
upstreams = api

[service.api]
port = $APP
allow = web

; a case that makes the app misbehave is a failure of api for web's
; breaker and outlier detection: never enough of them to eject api here
[route.api]
retries = 0
breaker.failures = 10000
outlier.failures = 10000
EOF
mesh_up_or_stop "$T/mesh.ini"

API_IN=$(meshctl status -f "$T/mesh.ini" --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
print([i for s in d["services"] if s["name"] == "api" for i in s["instances"]][0]["inbound_port"])')
check "api's inbound port is known ($API_IN)" grep -Eqx '[0-9]+' <<<"$API_IN"
check "web's outbound port accepts" wait_port "$OUT" 10

# a leaf for "web", the one caller api allows
CA=$T/state/ca
check "a client certificate for web from the mesh's CA" sh -c "
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out '$T/web.key' 2>/dev/null &&
	openssl req -new -key '$T/web.key' -subj /CN=web -out '$T/web.csr' 2>/dev/null &&
	'$MESH_APPS/pkitool' sign '$CA' mesh.local web 3600 '$T/web.csr' '$T/web.crt'"

# a good request both ways first: the plumbing works, so a refusal
# below is the case's and not the set-up's
check "control: a good request through web's outbound reaches the app" \
	sh -c "curl -sf -m 5 -x http://127.0.0.1:$OUT http://api/control | grep -q '^got GET /control'"
check "control: a good request on api's inbound with web's certificate" \
	sh -c "curl -sfk -m 5 --cert '$T/web.crt' --key '$T/web.key' https://127.0.0.1:$API_IN/control |
		grep -q '^got GET /control'"
PIDS_BEFORE=$(status_pids "$T/mesh.ini")
check "meshd and both sidecars have pids ($(wc -w <<<"$PIDS_BEFORE"))" test "$(wc -w <<<"$PIDS_BEFORE")" -ge 3
sleep 0.3

timeout 200 python3 "$HERE/smuggle_drive.py" tap "$CASES" "$T/app.jsonl" out "$OUT"
timeout 200 python3 "$HERE/smuggle_drive.py" tap "$CASES" "$T/app.jsonl" in "$API_IN" \
	"$T/web.crt" "$T/web.key" "$CA/ca.crt"

# still serving after all that, with the same processes
check "after the cases: a good request through web's outbound" \
	sh -c "curl -sf -m 5 -x http://127.0.0.1:$OUT http://api/after | grep -q '^got GET /after'"
check "after the cases: a good request on api's inbound" \
	sh -c "curl -sfk -m 5 --cert '$T/web.crt' --key '$T/web.key' https://127.0.0.1:$API_IN/after |
		grep -q '^got GET /after'"
is "no sidecar crashed or restarted during the cases" "$(status_pids "$T/mesh.ini" | tr '\n' ' ')" \
	"$(tr '\n' ' ' <<<"$PIDS_BEFORE")"
mesh_down_checked "$T/mesh.ini" "$T/state/run/meshd.log"
