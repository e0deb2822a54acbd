#!/bin/bash
# SPDX-License-Identifier: ISC
# chaos_live: `meshctl fault` sets, lists and clears faults on a running
# mesh (faults.h, control_fault.c):
#   client -> gateway sidecar 127.0.0.1:25501 -> api (v1, v2: split 50/50)
# A live abort is in force within a second (503 mesh-error: fault
# injected), status text and --json show it, down + up -d keeps it (the
# state dir's faults file), --off clears it, a delay delays, --version
# limits it to one version, --off-all clears everything, and bad values
# exit 1 and change nothing.  Latency is only bounded from below.
# Ports: 25500-25599.
. "$(dirname "$0")/lib.sh"

cp "$MESH_APPS/testapp" "$T/testapp"
cat >"$T/mesh.ini" <<EOF
[mesh]
name = chaos-live
port_base = 25550

[service.gateway]
upstreams = api:25501

[service.api]
command = exec $T/testapp --port \$PORT
port = 25510

[service.api@v2]
command = exec $T/testapp --port \$PORT
port = 25520

[route.api]
split = v1:50, v2:50
EOF
F=$T/mesh.ini

code() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H 'Host: api' "http://127.0.0.1:25501${1:-/}"; }
code_is() { [ "$(code)" = "$1" ]; }
# N requests: "200s 503s v1s v2s" (the version of each 200 from /whoami)
tally() {
	local i n2=0 n5=0 v1=0 v2=0 out c
	for i in $(seq 1 "$1"); do
		out=$(curl -s -D "$T/h" --max-time 5 -H 'Host: api' http://127.0.0.1:25501/whoami)
		c=$(sed -n '1s/^HTTP\/1.1 \([0-9]*\).*/\1/p' "$T/h")
		case $c in
		200) n2=$((n2 + 1))
		     case $out in *version=v1*) v1=$((v1 + 1));; *version=v2*) v2=$((v2 + 1));; esac;;
		503) n5=$((n5 + 1));;
		esac
	done
	echo "$n2 $n5 $v1 $v2"
}
json_fault() {
	meshctl status -f "$F" --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
r = [r for r in d["routes"] if r["name"] == "api"]
print(json.dumps(r[0]["fault"], sort_keys=True) if r else "no-route")'
}

mesh_up_or_stop "$F"
check "listener 127.0.0.1:25501 accepts" wait_port 25501 10
check "api answers 200 before any fault" wait_for 5 code_is 200

# --- an abort, live --------------------------------------------------------
meshctl fault -f "$F" api --abort 100%:503 >"$T/out" 2>&1
is "fault api --abort 100%:503 exits 0" "$?" 0
check "it prints what is in force" grep -q '^api: abort 100% 503 (live; meshctl fault api --off clears)' "$T/out"
check "within 1 s the gateway's requests get 503" wait_for 1 code_is 503
curl -s -D "$T/h" -o /dev/null --max-time 5 -H 'Host: api' http://127.0.0.1:25501/ >/dev/null
check "the 503 says mesh-error: fault injected" grep -qi '^mesh-error: fault injected' "$T/h"
meshctl status -f "$F" >"$T/status" 2>&1
check "status lists the fault" grep -q '^api: FAULT abort 100% 503 (live)' "$T/status"
is "status --json: routes[].fault" "$(json_fault)" \
	'{"abort_percent": 100, "abort_status": 503, "delay_ms": 0, "delay_percent": 0, "match": null, "source": "live", "version": null}'
check "the faults file holds it" grep -qx 'api abort 100%:503' "$T/.mesh/faults"

# --- persisted: down and up again ------------------------------------------
timeout 40 meshctl down -f "$F" >/dev/null 2>&1
is "meshctl down exits 0" "$?" 0
mesh_up_or_stop "$F"
check "listener 127.0.0.1:25501 accepts again" wait_port 25501 10
check "after down + up -d the fault is still in force" wait_for 5 code_is 503
check "status still lists it" sh -c "meshctl status -f '$F' | grep -q '^api: FAULT abort 100% 503 (live)'"

# --- off -------------------------------------------------------------------
meshctl fault -f "$F" api --off >"$T/out" 2>&1
is "fault api --off exits 0" "$?" 0
check "it says there is no fault" grep -q '^api: no fault' "$T/out"
check "within 1 s the gateway's requests get 200 again" wait_for 1 code_is 200
check "status lists no fault" sh -c "! meshctl status -f '$F' | grep -q FAULT"
is "status --json: routes[].fault is null" "$(json_fault)" null

# --- a delay ---------------------------------------------------------------
check "fault api --delay 100%:200ms exits 0" meshctl fault -f "$F" api --delay 100%:200ms
sleep 1
ms=$(curl -s -o /dev/null -w '%{time_total}' --max-time 5 -H 'Host: api' http://127.0.0.1:25501/ |
	python3 -c 'import sys; print(int(float(sys.stdin.read()) * 1000))')
check "a request takes >= 200 ms ($ms ms)" test "$ms" -ge 200
check "status --json: delay 100% 200 ms" sh -c "meshctl status -f '$F' --json | grep -q '\"delay_percent\":100,\"delay_ms\":200'"

# --- one version only ------------------------------------------------------
meshctl fault -f "$F" api --abort 100%:503 --version v2 >"$T/out" 2>&1
is "fault api --abort 100%:503 --version v2 exits 0" "$?" 0
check "it prints the version" grep -q '^api: abort 100% 503, version v2 (live' "$T/out"
sleep 1
read -r n2 n5 v1 v2 < <(tally 30)
echo "# 30 requests with an abort on v2: $n2 ok ($v1 v1, $v2 v2), $n5 503"
check "some requests (those to v2) get 503" test "$n5" -gt 0
check "some requests (those to v1) pass" test "$n2" -gt 0
is "no request answered by v2 passes" "$v2" 0
is "every request that passes is v1's" "$v1" "$n2"

# --- bad values: exit 1, nothing changes -----------------------------------
before=$(cat "$T/.mesh/faults")
for args in "api --abort 120%:503" "api --delay 10%:0ms" "api --abort 5%:99" \
	"nope --abort 5%:503" "api --abort 5%:503 --version v9" "api --delay 10%300ms"; do
	# shellcheck disable=SC2086
	meshctl fault -f "$F" $args >"$T/out" 2>&1
	rc=$?
	is "fault $args exits 1" "$rc" 1
	check "fault $args says what is wrong" grep -q 'meshctl: fault' "$T/out"
done
check "the bad one names the share" sh -c "meshctl fault -f '$F' api --abort 120%:503 2>&1 | grep -q 'share out of range'"
check "the bad one names the version" sh -c "meshctl fault -f '$F' api --abort 5%:503 --version v9 2>&1 | grep -q \"no version 'v9'\""
is "the faults file did not change" "$(cat "$T/.mesh/faults")" "$before"
check "the v2 fault is still in force" grep -q '^api: FAULT abort 100% 503, version v2 (live)' \
	<(meshctl status -f "$F")
meshctl fault -f "$F" api --off --delay 10%:1s >/dev/null 2>&1
is "--off with --delay is a usage error (2)" "$?" 2

# --- reload: the override stays while the file's fault.* keys do -----------
check "reload with the file unchanged exits 0" meshctl reload -f "$F"
check "the live fault is still in force after reload" grep -q '^api: FAULT abort 100% 503, version v2 (live)' \
	<(meshctl status -f "$F")
echo "fault.abort = 100% 418" >>"$F"
meshctl reload -f "$F" >"$T/out" 2>&1
is "reload with a new fault.abort exits 0" "$?" 0
check "reload says the file's fault replaces the live one" grep -q "route api: the file's fault replaces" "$T/out"
check "within 1 s the file's fault is in force (418)" wait_for 1 code_is 418
check "status shows the file's fault" grep -q '^api: FAULT abort 100% 418 (file)' <(meshctl status -f "$F")
check "the faults file no longer holds api" sh -c "! grep -q '^api' '$T/.mesh/faults'"

# --- off-all: the file's fault is suspended too ----------------------------
meshctl fault -f "$F" --off-all >"$T/out" 2>&1
is "fault --off-all exits 0" "$?" 0
check "it names what it cleared" grep -q '^faults off: api' "$T/out"
check "within 1 s every request passes again" wait_for 1 code_is 200
check "status says the file's fault is suspended" grep -q '^api: fault off (live' <(meshctl status -f "$F")
read -r n2 n5 v1 v2 < <(tally 10)
is "10 requests after --off-all: all 200" "$n2 $n5" "10 0"
is "status --json: routes[].fault is null after --off-all" "$(json_fault)" null

mesh_down_checked "$F"
meshctl fault -f "$F" api --abort 5%:503 >/dev/null 2>&1
is "fault on a stopped mesh exits 3" "$?" 3
exit 0
