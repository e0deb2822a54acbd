#!/bin/bash
# SPDX-License-Identifier: ISC
# chaos_mirror_live: `meshctl mirror` sets, lists and clears a route's
# mirror on a running mesh (mirrors.h, control_mirror.c), with no mirror
# key in the file:
#   client -> gateway sidecar 127.0.0.1:25701 -> api (v1, v2: split v1:100)
# `mirror api v2=100%` is in force within a second (v2's app logs copies
# with Host api-shadow while every answer is v1's), status text and --json
# show it (source live), down + up -d keeps it (the state dir's mirrors
# file), a reload with the file unchanged keeps it, --off stops the
# copies, bad values exit 1 and change nothing, and the control command
# the dashboard's `m` key sends ("mirror api v2=50%", "mirror api off")
# works through the control socket (tests/integ/meshd_client.py).
# Ports: 25700-25799.
. "$(dirname "$0")/lib.sh"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CLIENT="$ROOT/tests/integ/meshd_client.py"
cp "$MESH_APPS/testapp" "$T/testapp"
cat >"$T/mesh.ini" <<EOF
[mesh]
name = chaos-mirror-live
port_base = 25750

[service.gateway]
upstreams = api:25701

[service.api]
command = exec $T/testapp --port \$PORT --log-host
port = 25710

[service.api@v2]
command = exec $T/testapp --port \$PORT --log-host
port = 25720

[route.api]
split = v1:100
EOF
F=$T/mesh.ini
LOG=$T/.mesh/run/meshd.log
SOCK=$T/.mesh/run/meshd.sock

# copies v2's app logged so far
copies() { grep -c 'api-v2-0 GET /whoami.* host=api-shadow' "$LOG" 2>/dev/null || true; }
copies_ge() { [ "$(copies)" -ge "$1" ]; }
# N requests through the gateway: how many were answered 200 by v1
from_v1() {
	local i n=0
	for i in $(seq 1 "$1"); do
		case $(curl -s --max-time 5 -H 'Host: api' "http://127.0.0.1:25701/whoami?i=$i") in
		*version=v1*) n=$((n + 1));;
		esac
	done
	echo "$n"
}
json_mirror() {
	meshctl status -f "$F" --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
r = [r for r in d["routes"] if r["name"] == "api"]
print(json.dumps(r[0]["mirror"], sort_keys=True) if r else "no-route")'
}
mesh_up_or_stop "$F"
check "listener 127.0.0.1:25701 accepts" wait_port 25701 10
check "api v2's app accepts" wait_port 25720 10
sleep 1
is "no copy before any mirror (20 requests, all v1)" "$(from_v1 20) $(copies)" "20 0"

# --- on, live --------------------------------------------------------------
meshctl mirror -f "$F" api v2=100% >"$T/out" 2>&1
is "mirror api v2=100% exits 0" "$?" 0
check "it prints what is in force" \
	grep -qx 'api: mirror v2 100% (live; meshctl mirror api --off clears)' "$T/out"
sleep 1
is "20 requests a second later: every answer v1's" "$(from_v1 20)" 20
check "v2's app logs the copies with host=api-shadow (20)" wait_for 5 copies_ge 20
meshctl status -f "$F" >"$T/status" 2>&1
check "status lists the mirror" grep -qx 'route api: MIRROR v2 100% (live)' "$T/status"
is "status --json: routes[].mirror" "$(json_mirror)" \
	'{"percent": 100, "source": "live", "version": "v2"}'
check "the mirrors file holds it" grep -qx 'api v2=100%' "$T/.mesh/mirrors"

# --- bad values: exit 1, nothing changes -----------------------------------
before=$(cat "$T/.mesh/mirrors")
for args in "api v9=10%" "api v2=120%" "api v2=10" "api v2" "nope v2=10%" "api =10%"; do
	# shellcheck disable=SC2086
	meshctl mirror -f "$F" $args >"$T/out" 2>&1
	is "mirror $args exits 1" "$?" 1
	check "mirror $args says nothing changed" grep -q 'nothing changed' "$T/out"
done
check "v9 is named as unknown" sh -c "meshctl mirror -f '$F' api v9=10% 2>&1 | grep -q \"no version 'v9'\""
check "120% is out of range" sh -c "meshctl mirror -f '$F' api v2=120% 2>&1 | grep -q 'out of range'"
is "the mirrors file is unchanged" "$(cat "$T/.mesh/mirrors")" "$before"
check "status still shows v2 100% (live)" grep -qx 'route api: MIRROR v2 100% (live)' \
	<(meshctl status -f "$F")
meshctl mirror -f "$F" api >/dev/null 2>&1
is "mirror api (no VERSION=P%) is a usage error (2)" "$?" 2
meshctl mirror -f "$F" api v2=10% --off >/dev/null 2>&1
is "--off with a VERSION=P% is a usage error (2)" "$?" 2

# --- persisted: down and up again, then a reload ---------------------------
timeout 40 meshctl down -f "$F" >/dev/null 2>&1
is "meshctl down exits 0" "$?" 0
mesh_up_or_stop "$F"
check "listener 127.0.0.1:25701 accepts again" wait_port 25701 10
check "api v2's app accepts again" wait_port 25720 10
check "after down + up -d status still lists the mirror" \
	grep -qx 'route api: MIRROR v2 100% (live)' <(meshctl status -f "$F")
warm() { curl -s -o /dev/null --max-time 5 -H 'Host: api' http://127.0.0.1:25701/whoami?warm; copies_ge 1; }
check "after down + up -d v2 gets copies again (within 15 s)" wait_for 15 warm
check "reload with the file unchanged exits 0" meshctl reload -f "$F"
check "the live mirror is still in force after reload" \
	grep -qx 'route api: MIRROR v2 100% (live)' <(meshctl status -f "$F")

# --- off -------------------------------------------------------------------
meshctl mirror -f "$F" api --off >"$T/out" 2>&1
is "mirror api --off exits 0" "$?" 0
check "it says there is no mirror" grep -qx 'api: no mirror' "$T/out"
sleep 1
from_v1 1 >/dev/null
sleep 1
c0=$(copies)
is "20 requests after --off: every answer v1's" "$(from_v1 20)" 20
sleep 2
is "v2 gets no more copies (count stays $c0)" "$(copies)" "$c0"
check "status lists no mirror" sh -c "! meshctl status -f '$F' | grep -q MIRROR"
is "status --json: routes[].mirror is null" "$(json_mirror)" null
check "the mirrors file no longer holds api" sh -c "! grep -q '^api' '$T/.mesh/mirrors'"

# --- the dashboard's form of the command (tui/top_input.c, `m`) -------------
python3 "$CLIENT" "$SOCK" "mirror api v2=50%" >"$T/out" 2>&1
is "control command 'mirror api v2=50%' exits 0" "$?" 0
check "it replies what is in force" grep -q '^api: mirror v2 50% (live' "$T/out"
check "status lists it" grep -qx 'route api: MIRROR v2 50% (live)' <(meshctl status -f "$F")
is "status --json: 50% live" "$(json_mirror)" '{"percent": 50, "source": "live", "version": "v2"}'
python3 "$CLIENT" "$SOCK" "mirror api v9=50%" >"$T/out" 2>&1
is "control command 'mirror api v9=50%' exits 1" "$?" 1
python3 "$CLIENT" "$SOCK" "mirror api off" >"$T/out" 2>&1
is "control command 'mirror api off' exits 0" "$?" 0
is "status --json: null after off" "$(json_mirror)" null

mesh_down_checked "$F"
meshctl mirror -f "$F" api v2=10% >/dev/null 2>&1
is "mirror on a stopped mesh exits 3" "$?" 3
exit 0
