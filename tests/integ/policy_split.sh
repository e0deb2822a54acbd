#!/bin/bash
# SPDX-License-Identifier: ISC
# policy_split: a canary split and `meshctl weight`, live and persisted:
#   client -> gateway sidecar 127.0.0.1:30001 -> api v1 (90%) | api@v2 (10%)
# 2,000 requests on one keep-alive connection give v2 10% +- 2%; after
# `meshctl weight api v1=0 v2=100` every request goes to v2 within a second;
# bad weights are refused (exit 2) and change nothing; the weight is in
# <state_dir>/weights and in status (text and JSON), and survives
# `meshctl down` + `up`; a persisted weight naming a version that no longer
# exists is ignored with a warning.
# Ports: 30000-30099.
. "$(dirname "$0")/lib.sh"

cp "$MESH_APPS/testapp" "$T/testapp"
write_ini() {
cat >"$T/mesh.ini" <<EOF
[mesh]
name = policy-split
port_base = 30050

[service.gateway]
upstreams = api:30001

[service.api]
command = $T/testapp --port \$PORT
port = 30010

[service.api@v2]
command = $T/testapp --port \$PORT
port = 30020
$1
[route.api]
split = v1:90, v2:10$2
EOF
}
write_ini "" ""

mesh_up_or_stop "$T/mesh.ini"
check "listener 127.0.0.1:30001 accepts" wait_port 30001 10

# N requests on one keep-alive connection; prints "v1 v2 v3 other"
tally() {
	timeout 120 python3 - "$1" <<'EOF'
import http.client, sys
n = int(sys.argv[1])
c = http.client.HTTPConnection("127.0.0.1", 30001, timeout=10)
t = {"api-v1-0": 0, "api-v2-0": 0, "api-v3-0": 0, "other": 0}
for i in range(n):
    c.request("GET", "/", headers={"Host": "api"})
    r = c.getresponse()
    b = r.read().decode().strip()
    t[b if r.status == 200 and b in t else "other"] += 1
print(t["api-v1-0"], t["api-v2-0"], t["api-v3-0"], t["other"])
EOF
}

read -r v1 v2 v3 other < <(tally 2000)
echo "# split v1:90, v2:10 over 2000 requests: v1=$v1 v2=$v2 other=$other"
is "every request answered by v1 or v2" "${other:-?}" 0
check "v2 gets 10% +- 2% (160..240 of 2000; got ${v2:-?})" test "${v2:-0}" -ge 160 -a "${v2:-0}" -le 240
check "v1 gets the rest (got ${v1:-?})" test "$(( ${v1:-0} + ${v2:-0} ))" -eq 2000

# bad weights: exit 2, nothing changes
meshctl weight -f "$T/mesh.ini" api v1=90 v2=20 >"$T/bad1.out" 2>&1
is "weights summing to 110 are refused (exit 2)" "$?" 2
check "... saying so" grep -q 'sum to 110, not 100' "$T/bad1.out"
meshctl weight -f "$T/mesh.ini" api v1=50 v9=50 >"$T/bad2.out" 2>&1
is "an unknown version is refused (exit 2)" "$?" 2
check "... naming it" grep -q "no version 'v9'" "$T/bad2.out"
meshctl weight -f "$T/mesh.ini" api v1=50.5 v2=49.5 >/dev/null 2>&1
is "a non-integer weight is refused (exit 2)" "$?" 2
meshctl weight -f "$T/mesh.ini" nosuch v1=100 >/dev/null 2>&1
is "an unknown service is refused (exit 2)" "$?" 2
meshctl weight -f "$T/mesh.ini" api >/dev/null 2>&1
is "no VERSION=PCT is a usage error (exit 2)" "$?" 2
check "nothing was persisted by refused weights" test ! -e "$T/.mesh/weights"

# the live move, timed: a client already running on a keep-alive connection
# logs each answer with its time; the last v1 answer must come less than a
# second after meshctl returns, and only v2 answers after that second
timeout 30 python3 - "$T" >"$T/seq.out" 2>&1 <<'EOF' &
import http.client, os, sys, time
t = sys.argv[1]
c = http.client.HTTPConnection("127.0.0.1", 30001, timeout=5)
end = None
while end is None or time.time() < end:
    c.request("GET", "/", headers={"Host": "api"})
    r = c.getresponse()
    print("%.6f %d %s" % (time.time(), r.status, r.read().decode().strip()), flush=True)
    if end is None and os.path.exists(t + "/weight.done"):
        end = time.time() + 1.5
    if not os.path.exists(t + "/client.ready"):
        open(t + "/client.ready", "w").close()
EOF
client=$!
wait_for 20 test -e "$T/client.ready"
meshctl weight -f "$T/mesh.ini" api v1=0 v2=100 >"$T/w.out" 2>&1
is "meshctl weight api v1=0 v2=100 exits 0" "$?" 0
date +%s.%N >"$T/weight.done"
check "it prints the new split" grep -qx 'route api: split v1=0 v2=100' "$T/w.out"
wait "$client"
done_at=$(cat "$T/weight.done")
read -r lag after_v1 total < <(awk -v d="$done_at" '
	$3 == "api-v1-0" { last = $1 } $1 > d + 1.0 && $3 != "api-v2-0" { bad++ }
	END { printf "%.3f %d %d\n", (last ? last - d : -1), bad, NR }' "$T/seq.out")
echo "# live client: $total answers; last v1 answer at ${lag} s from meshctl's return"
check "the split moved within a second (last v1 answer at ${lag:-?} s)" \
	python3 -c "import sys; sys.exit(0 if float('${lag:-9}') < 1.0 else 1)"
is "after that second every answer comes from v2" "${after_v1:-?}" 0
check "the live client saw no error" bash -c "! grep -v ' 200 api-v[12]-0\$' '$T/seq.out' | grep -q ."
read -r v1 v2 v3 other < <(tally 300)
is "then every request goes to v2 (v1 v2 other)" "$v1 $v2 $other" "0 300 0"

check "the weight is persisted in <state_dir>/weights" grep -qx 'api v1=0 v2=100' "$T/.mesh/weights"
check "... mode 0600" test "$(stat -c %a "$T/.mesh/weights")" = 600
check "no temporary file is left beside it" test -z "$(ls -A "$T/.mesh" | grep -i tmp)"
meshctl status -f "$T/mesh.ini" >"$T/status.txt" 2>&1
check "meshctl status shows the split" grep -q 'route api: split v1=0 v2=100' "$T/status.txt"
meshctl status -f "$T/mesh.ini" --json >"$T/status.json" 2>&1
check "status --json has the split weights" python3 -c "
import json, sys
d = json.load(open('$T/status.json'))
r = [x for x in d['routes'] if x['name'] == 'api'][0]
sys.exit(0 if {s['version']: s['weight'] for s in r['split']} == {'v1': 0, 'v2': 100} else 1)"

# restart: the weight survives
timeout 40 meshctl down -f "$T/mesh.ini" >/dev/null 2>&1
is "meshctl down exits 0" "$?" 0
meshctl up -d -f "$T/mesh.ini" >"$T/up2.log" 2>&1
is "meshctl up -d again exits 0" "$?" 0
check "listener accepts again" wait_port 30001 10
read -r v1 v2 v3 other < <(tally 200)
is "after down + up the persisted weight holds: every request to v2" "$v1 $v2 $other" "0 200 0"

# a persisted weight naming a version that is gone is ignored, with a warning
timeout 40 meshctl down -f "$T/mesh.ini" >/dev/null 2>&1
printf 'api v1=0 v3=100\n' >"$T/.mesh/weights"
meshctl up -d -f "$T/mesh.ini" >"$T/up3.log" 2>&1
is "meshctl up -d with a stale weights file exits 0" "$?" 0
check "listener accepts again" wait_port 30001 10
check "the stale entry is reported, naming file and line" \
	grep -q "weights:1: ignored: weight: service api has no version 'v3'" "$T/.mesh/run/meshd.log"
read -r v1 v2 v3 other < <(tally 400)
echo "# file split back: v1=$v1 v2=$v2"
check "the file's split applies again (v2 10..80 of 400; got ${v2:-?})" test "${v2:-0}" -ge 10 -a "${v2:-0}" -le 80 -a "${other:-1}" -eq 0

mesh_down_checked "$T/mesh.ini"
exit 0
