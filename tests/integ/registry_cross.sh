#!/bin/bash
# SPDX-License-Identifier: ISC
# Two hosts of one mesh on loopback addresses, end to end (issue 16):
# host a (127.0.0.1) makes the root CA and mints a token; host b
# (127.0.0.2) joins with `meshctl join --token` and runs api, which only b
# declares; a's front calls api through its NAME:PORT listener and is
# answered by b's instance over mTLS, b's sidecar presenting leaf +
# intermediate and a's trusting the root alone.  b's inbound listens on
# 127.0.0.2 only and refuses a client without a certificate; `allow` on b
# admits a's front and refuses a's intruder (403, across hosts); with an
# api instance of its own, a keeps every request on a (locality).
# Without network namespaces:
# multihost_mesh.sh runs the same across namespaces.
# Ports: 23600-23649 (etcd client 23600, peer 23601).
# Skips when no etcd is found.
. "$(dirname "$0")/lib.sh"

. "$(dirname "$0")/etcd.bash"

C=http://127.0.0.1:23600
ctl() { "$ETCDCTL" --endpoints "$C" --dial-timeout 2s --command-timeout 3s "$@"; }
etcd_spawn xmesh "$C" http://127.0.0.1:23601
check "etcd starts (client $C)" wait_for 20 ctl endpoint health

cp "$MESH_APPS/testapp" "$T/testapp"
common() { # HOST ADDR PORTBASE
	cat <<EOF
[mesh]
name = xmesh
state_dir = state
port_base = $3
registry = etcd
etcd = $C
host_address = $2
host_name = $1
registry_ttl = 3s
EOF
}
mkdir -p "$T/a" "$T/b"
{ common a 127.0.0.1 23610; cat <<EOF

[service.front]
upstreams = api:23630

[service.intruder]
upstreams = api:23631
EOF
} >"$T/a/mesh.ini"
{ common b 127.0.0.2 23640; cat <<EOF

[service.api]
command = $T/testapp --port \$PORT
port = 23645
allow = front
EOF
} >"$T/b/mesh.ini"
A=$T/a/mesh.ini
B=$T/b/mesh.ini

mesh_up_or_stop "$A"
meshctl certs --join-token -f "$A" >"$T/tok.out" 2>"$T/tok.err"
is "a mints a join token" "$?" 0
timeout 40 meshctl join --token "$(head -1 "$T/tok.out")" -f "$B" >"$T/join.out" 2>&1
is "b joins with it" "$?" 0
mesh_up "$B" >"$T/b-up.log" 2>&1
is "the joined host comes up" "$?" 0
[ -s "$T/b/state/ca/host.crt" ] || sed 's/^/#   /' "$T/join.out" "$T/b-up.log"

st_a() { meshctl status -f "$A" --json 2>/dev/null; }
sees_api() { st_a | grep -q '"host":"b"'; }
check "a's view has b's api" wait_for 15 sees_api
body() { curl -sS -m 3 "http://127.0.0.1:$1/" 2>/dev/null; }
answered_by() { [ "$(body 23630)" = "$1" ]; }
check "a's front is answered by b's api (mTLS across hosts)" wait_for 15 answered_by api-v1-0
ok_n=0
for i in $(seq 1 20); do answered_by api-v1-0 && ok_n=$((ok_n + 1)); done
is "20 of 20 requests answered by b" "$ok_n" 20

INB=$(meshctl status -f "$B" --json 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
print([i["inbound_port"] for s in d["services"] for i in s["instances"] if s["name"] == "api"][0])' 2>/dev/null)
check "b's inbound listens on 127.0.0.2 only" \
	bash -c "ss -Hltn 'sport = :${INB:-0}' | awk '{print \$4}' | grep -qx '127.0.0.2:${INB:-0}'"
check "b's sidecar presents leaf + intermediate" \
	bash -c "openssl s_client -connect 127.0.0.2:${INB:-0} -showcerts </dev/null 2>/dev/null | grep -c 'BEGIN CERTIFICATE' | grep -qx 2"
printf 'GET / HTTP/1.1\r\nHost: api\r\n\r\n' | timeout 5 openssl s_client -quiet \
	-connect "127.0.0.2:${INB:-0}" >"$T/nocert.out" 2>&1
check "a client without a certificate gets no answer from b's api" bash -c "! grep -q 'api-v1-0' '$T/nocert.out'"

code=$(curl -s -o "$T/intruder.body" -D "$T/intruder.head" -m 3 -w '%{http_code}' http://127.0.0.1:23631/)
is "allow on b refuses a's intruder" "$code" 403
check "with mesh-error: not allowed" grep -qi '^mesh-error: not allowed' "$T/intruder.head"

# ---- locality: with an api of its own, a keeps the requests --------------------
{ common a 127.0.0.1 23610; cat <<EOF

[service.front]
upstreams = api:23630

[service.intruder]
upstreams = api:23631

[service.api]
command = $T/testapp --port \$PORT
port = 23625
allow = front
EOF
} >"$T/a/mesh.ini.new"
mv "$T/a/mesh.ini.new" "$A"
timeout 40 meshctl down -f "$A" >/dev/null 2>&1
mesh_up "$A" >"$T/a-up2.log" 2>&1
is "a up again with its own api" "$?" 0
check "a's front goes to a's own api" wait_for 15 answered_by api-v1-0
local_n=0
for i in $(seq 1 20); do
	[ "$(curl -sS -m 3 "http://127.0.0.1:23630/whoami" 2>/dev/null | sed -n 's/.* port=\([0-9]*\) .*/\1/p')" = 23625 ] &&
		local_n=$((local_n + 1))
done
is "20 of 20 requests stay on host a" "$local_n" 20
timeout 40 meshctl down -f "$A" >/dev/null 2>&1
is "down on a exits 0" "$?" 0
timeout 40 meshctl down -f "$B" >/dev/null 2>&1
is "down on b exits 0" "$?" 0
no_sanitizer_report "$T/a/state/run/meshd.log"
no_sanitizer_report "$T/b/state/run/meshd.log"
exit 0
