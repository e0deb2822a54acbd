#!/bin/bash
# SPDX-License-Identifier: ISC
# up -d with two services, status (human and --json) with their pids, down
# leaves no process, and up refuses a mesh that already runs.
# Ports: apps 21500-21501, sidecars from 21510.
. "$(dirname "$0")/lib.sh"

cat >"$T/mesh.ini" <<EOF
[mesh]
name = ctllife
state_dir = state
port_base = 21510

[service.alpha]
command = $MESH_APPS/testapp --port \$PORT
port = 21500
health = /

[service.beta]
command = $MESH_APPS/testapp --port \$PORT
port = 21501
health = /
EOF


mesh_up "$T/mesh.ini" >"$T/up.out" 2>"$T/up.err"
rc=$?
is "up -d exits 0" "$rc" 0
[ "$rc" = 0 ] || sed 's/^/#   /' "$T/up.out" "$T/up.err" | head -30

check "the apps answer" wait_port 21500 5
check "the second app answers" wait_port 21501 5
meshd_pid=$(cat "$T/state/run/meshd.pid" 2>/dev/null)
check "meshd's pid file names a live meshd" alive "${meshd_pid:-0}"

meshctl status -f "$T/mesh.ini" >"$T/status.out" 2>"$T/status.err"
is "status exits 0" "$?" 0
check "status names alpha" grep -q alpha "$T/status.out"
check "status names beta" grep -q beta "$T/status.out"

meshctl status --json -f "$T/mesh.ini" >"$T/status.json" 2>"$T/status.err"
is "status --json exits 0" "$?" 0
check "status --json is one valid JSON document" python3 -m json.tool "$T/status.json"
check "status --json says running true" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["mesh"]["running"] is True, d["mesh"]' "$T/status.json"
# each service appears in an object that carries a live pid
check "status --json shows both services with pids" python3 -c '
import json, os, sys
d = json.load(open(sys.argv[1]))
def pids(v, k=""):
    if isinstance(v, dict):
        for kk, vv in v.items(): yield from pids(vv, kk)
    elif isinstance(v, list):
        for vv in v: yield from pids(vv, k)
    elif isinstance(v, int) and not isinstance(v, bool) and k.endswith("pid") and v > 1:
        yield v
def objs(v):
    if isinstance(v, dict):
        yield v
        for vv in v.values(): yield from objs(vv)
    elif isinstance(v, list):
        for vv in v: yield from objs(vv)
for svc in ("alpha", "beta"):
    found = [o for o in objs(d) if svc in [str(x) for x in o.values()]
             and any(os.path.exists("/proc/%d" % p) for p in pids(o))]
    assert found, "no object naming %s with a live pid" % svc' "$T/status.json"

pids "$T/status.json" >"$T/pids"
[ -n "$meshd_pid" ] && echo "$meshd_pid" >>"$T/pids"
n=$(wc -l <"$T/pids")
if [ "$n" -ge 3 ]; then ok "status --json reports pids ($n with meshd)"; else not_ok "status --json reports pids" "only $n: $(tr '\n' ' ' <"$T/pids")"; fi
first_pid=$(pids "$T/status.json" | head -1)
check "human status shows the pids too" grep -qw "${first_pid:-none}" "$T/status.out"

# a second up refuses, names the running meshd, starts nothing
meshctl up -d -f "$T/mesh.ini" >"$T/up2.out" 2>"$T/up2.err"
is "up on a running mesh exits 1" "$?" 1
check "up on a running mesh says so" grep -q "already running" "$T/up2.err"
is "meshd unchanged after a refused up" "$(cat "$T/state/run/meshd.pid" 2>/dev/null)" "$meshd_pid"

# down: exit 0, and every pid meshd reported is gone
meshctl down -f "$T/mesh.ini" >"$T/down.out" 2>"$T/down.err"
rc=$?
is "down exits 0" "$rc" 0
[ "$rc" = 0 ] || sed 's/^/#   /' "$T/down.out" "$T/down.err" | head -20
left=
while read -r p; do alive "$p" && left="$left $p"; done <"$T/pids"
is "down leaves none of the reported processes" "${left:-none}" none
is "down leaves no process mentioning the test dir" "$(leftovers "$T" | tr '\n' ' ')" ""
if port_open 21500 || port_open 21501; then not_ok "down closes the app ports"; else ok "down closes the app ports"; fi

meshctl status -f "$T/mesh.ini" >/dev/null 2>&1
is "status after down exits 3" "$?" 3
meshctl down -f "$T/mesh.ini" >/dev/null 2>"$T/down2.err"
is "a second down exits 3" "$?" 3
check "a second down says not running" grep -q "mesh 'ctllife' is not running" "$T/down2.err"
# a file broken while its mesh runs must not keep `down` from stopping it
mesh_up "$T/mesh.ini" >"$T/up3.out" 2>&1
is "up -d again exits 0" "$?" 0
meshctl status --json -f "$T/mesh.ini" >"$T/status3.json" 2>/dev/null
pids "$T/status3.json" >"$T/pids3"
echo "bogus_key = 1" >>"$T/mesh.ini"
meshctl status -f "$T/mesh.ini" >/dev/null 2>"$T/status3.err"
is "status with a broken file exits 1" "$?" 1
meshctl down -f "$T/mesh.ini" >"$T/down3.out" 2>"$T/down3.err"
rc=$?
is "down with a broken file still stops the mesh (exit 0)" "$rc" 0
[ "$rc" = 0 ] || sed 's/^/#   /' "$T/down3.out" "$T/down3.err" | head -20
check "down shows the file's errors" grep -q "mesh.ini:[0-9]*:" "$T/down3.err"
left=
while read -r p; do alive "$p" && left="$left $p"; done <"$T/pids3"
is "down with a broken file leaves nothing" "${left:-none}" none
exit 0
