#!/bin/bash
# SPDX-License-Identifier: ISC
# e2e_split: a canary split between two deployments of one service:
#   client -> gateway sidecar 127.0.0.1:22801 -> api v1 (90%) | api@v2 (10%)
# 400 keep-alive requests on one connection, split per request: v1 gets
# 90% give or take (320..390 of 400), v2 the rest, both at least once.
# If `meshctl weight` exists: move to 50/50, then v2=100, live.
# Ports: 22800-22899.
. "$(dirname "$0")/lib.sh"

cp "$MESH_APPS/testapp" "$T/testapp"
cat >"$T/mesh.ini" <<EOF
[mesh]
name = e2e-split
port_base = 22850

[service.gateway]
upstreams = api:22801

[service.api]
command = $T/testapp --port \$PORT
port = 22810

[service.api@v2]
command = $T/testapp --port \$PORT
port = 22820

[route.api]
split = v1:90, v2:10
EOF

mesh_up_or_stop "$T/mesh.ini"
check "listener 127.0.0.1:22801 accepts" wait_port 22801 10

# N requests on one keep-alive connection; prints "v1 v2 other"
tally() {
	timeout 60 python3 - "$1" <<'EOF'
import http.client, sys
n = int(sys.argv[1])
c = http.client.HTTPConnection("127.0.0.1", 22801, timeout=10)
t = {"api-v1-0": 0, "api-v2-0": 0, "other": 0}
for i in range(n):
    c.request("GET", "/", headers={"Host": "api"})
    r = c.getresponse()
    b = r.read().decode().strip()
    t[b if r.status == 200 and b in t else "other"] += 1
print(t["api-v1-0"], t["api-v2-0"], t["other"])
EOF
}

read -r v1 v2 other < <(tally 400)
echo "# split v1:90, v2:10 over 400 requests: v1=$v1 v2=$v2 other=$other"
is "every request answered by v1 or v2" "${other:-?}" 0
check "v1 gets about 90% (320..390 of 400; got ${v1:-?})" test "${v1:-0}" -ge 320 -a "${v1:-0}" -le 390
check "v2 gets about 10% (10..80 of 400; got ${v2:-?})" test "${v2:-0}" -ge 10 -a "${v2:-0}" -le 80

if meshctl help 2>&1 | grep -qw weight; then
	check "meshctl weight api v1=50 v2=50" meshctl weight -f "$T/mesh.ini" api v1=50 v2=50
	sleep 0.5
	read -r v1 v2 other < <(tally 400)
	echo "# after weight v1=50 v2=50: v1=$v1 v2=$v2 other=$other"
	check "50/50: each gets 150..250 of 400 (v1=$v1 v2=$v2)" \
		test "${v1:-0}" -ge 150 -a "${v1:-0}" -le 250 -a "${v2:-0}" -ge 150 -a "${v2:-0}" -le 250
	check "meshctl weight api v1=0 v2=100" meshctl weight -f "$T/mesh.ini" api v1=0 v2=100
	sleep 0.5
	read -r v1 v2 other < <(tally 100)
	is "0/100: every request goes to v2" "$v1 $v2 $other" "0 100 0"
else
	echo "# meshctl weight is not implemented yet: live weights not tested"
fi

mesh_down_checked "$T/mesh.ini"
exit 0
