#!/bin/bash
# SPDX-License-Identifier: ISC
# Weights, faults and mirrors set on one host apply on every host of the
# mesh (include/mesh/mreg.h, src/meshd/mreg_ovr.c): two meshds of one mesh
# (hosts a and b, on 127.0.0.1 and 127.0.0.2) against a real etcd 3.4.
# `meshctl weight|fault|mirror` on a: b applies it (its status, its
# callers' traffic, its state file); the key stays in etcd after a leaves;
# b restarted takes the settings from etcd; a line b cannot take (a
# service only a declares) is logged on b once and skipped.
# Its own etcd on 127.0.0.1 (client 23701, peer 23702); meshes 23710-23749.
# Skips when no etcd is found.
. "$(dirname "$0")/lib.sh"

. "$(dirname "$0")/etcd.bash"

C=http://127.0.0.1:23701
O=/meshctl/shmesh/overrides
ctl() { "$ETCDCTL" --endpoints "$C" --dial-timeout 2s --command-timeout 3s "$@"; }

etcd_spawn shmesh "$C" http://127.0.0.1:23702
check "etcd starts (client $C)" wait_for 20 ctl endpoint health

cp "$MESH_APPS/testapp" "$T/testapp"
# host HOST ADDR PORTBASE GATEWAYPORT [EXTRA SECTION TEXT]
host() {
	mkdir -p "$T/$1"
	cat >"$T/$1/mesh.ini" <<EOF
[mesh]
name = shmesh
state_dir = state
port_base = $3
registry = etcd
etcd = $C
host_address = $2
host_name = $1
registry_ttl = 3s

[service.gateway]
upstreams = web:$4

[service.web]
command = $T/testapp --port \$PORT
port = $(($3 + 10))

[service.web@v2]
command = $T/testapp --port \$PORT
port = $(($3 + 12))
${5:-}
EOF
}
host a 127.0.0.1 23710 23729 "
[service.solo]
command = $T/testapp --port \$PORT
port = 23724"
host b 127.0.0.2 23730 23749
A=$T/a/mesh.ini
B=$T/b/mesh.ini
mesh_up_or_stop "$A"
mesh_up_or_stop "$B"
blog=$T/b/state/run/meshd.log

split_of() { # FILE SERVICE: "v1=W v2=W" as its status shows it
	meshctl status -f "$1" --json 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
for r in d.get("routes", []):
    if r.get("name") == sys.argv[1]:
        print(" ".join("%s=%s" % (s["version"], s["weight"]) for s in r.get("split", [])))' "$2"
}
split_is() { [ "$(split_of "$1" "$2")" = "$3" ]; }

# ---- weight ---------------------------------------------------------------------
meshctl weight -f "$A" web v1=20 v2=80 >"$T/w.out" 2>&1
is "weight on a exits 0" "$?" 0
ctl get -w json "$O/weight/web" >"$T/w.json" 2>&1
check "the key is in etcd, without a lease" \
	bash -c "grep -q '\"kvs\"' '$T/w.json' && ! grep -q '\"lease\"' '$T/w.json'"
is "its value names host a and the line" "$(ctl get --print-value-only "$O/weight/web")" \
	'{"host":"a","line":"web v1=20 v2=80"}'
check "host b applies it (its status)" wait_for 10 split_is "$B" web "v1=20 v2=80"
check "host b saved it in its state file" grep -qx 'web v1=20 v2=80' "$T/b/state/weights"
check "host b logged where it came from" grep -q 'registry: weight web v1=20 v2=80 (meshctl weight on host a)' "$blog"

# ---- fault: b's callers see it ------------------------------------------------------
meshctl fault -f "$A" web --abort 100%:418 >"$T/f.out" 2>&1
is "fault on a exits 0" "$?" 0
code_b() { curl -s -o /dev/null -m 3 -w '%{http_code}' http://127.0.0.1:23749/; }
check "host b's gateway gets the fault's 418" wait_for 10 bash -c "[ \"\$($(declare -f code_b); code_b)\" = 418 ]"
meshctl fault -f "$A" web --off >/dev/null 2>&1
check "fault --off on a: b's gateway is answered again" wait_for 10 bash -c "[ \"\$($(declare -f code_b); code_b)\" = 200 ]"

# ---- mirror -------------------------------------------------------------------------
meshctl mirror -f "$A" web v2=50% >/dev/null 2>&1
is "mirror on a exits 0" "$?" 0
check "host b applies the mirror" wait_for 10 grep -q 'registry: mirror web v2=50%' "$blog"

# ---- a line b cannot take ----------------------------------------------------------------
meshctl weight -f "$A" solo v1=100 >/dev/null 2>&1
is "weight of a service only a declares exits 0 on a" "$?" 0
check "b logs that it cannot apply it" wait_for 10 grep -q 'registry: weight from host a not applied here: .*solo' "$blog"
sleep 1
is "once" "$(grep -c 'registry: weight from host a not applied here' "$blog")" 1

# ---- a leaves; b restarts and finds the settings in etcd ---------------------------------
timeout 40 meshctl down -f "$A" >/dev/null 2>&1
is "down on a exits 0" "$?" 0
is "the weight stays in etcd after a left" "$(ctl get --print-value-only "$O/weight/web")" \
	'{"host":"a","line":"web v1=20 v2=80"}'
timeout 40 meshctl down -f "$B" >/dev/null 2>&1
rm -f "$T/b/state/weights"
mesh_up "$B" >"$T/b-up2.log" 2>&1
is "b up again exits 0" "$?" 0
check "b restarted without its state file: the split comes from etcd" wait_for 10 split_is "$B" web "v1=20 v2=80"
ctl put "$O/weight/web" 'not json' >/dev/null
check "a bad value is logged with its key" wait_for 10 grep -q "overrides/weight/web: ignored" "$blog"
check "and changes nothing" split_is "$B" web "v1=20 v2=80"

timeout 40 meshctl down -f "$B" >/dev/null 2>&1
is "down on b exits 0" "$?" 0
no_sanitizer_report "$T/a/state/run/meshd.log"
no_sanitizer_report "$blog"
exit 0
