#!/bin/bash
# SPDX-License-Identifier: ISC
# meshd with `registry = etcd` (include/mesh/mreg.h) against a real etcd
# 3.4: its ready instances appear under /meshctl/<mesh>/instances/<host>/
# with their JSON record; a key another host would put shows in
# `status --json` as a remote instance, and leaves when deleted; a bad
# value is ignored; etcd stopped: the registry is "down" and requests
# through the mesh still succeed; etcd back (an empty store): this host's
# keys are back; `meshctl down` revokes the lease (keys gone at once).
# Its own etcd on 127.0.0.1 (client 23811, peer 23821); the mesh's ports
# 23830-23869.  Skips when no etcd is found.
. "$(dirname "$0")/lib.sh"

. "$(dirname "$0")/etcd.bash"

C=http://127.0.0.1:23811
P=/meshctl/regmesh/instances
ctl()  { "$ETCDCTL" --endpoints "$C" --dial-timeout 2s --command-timeout 3s "$@"; }
keys() { ctl get --prefix --keys-only "$P/" 2>/dev/null | sed '/^$/d' | sort | tr '\n' ' '; }

etcd_run() {
	etcd_spawn rmesh "$C" http://127.0.0.1:23821
	ETCD_PID=$(cat "$T/etcd.pid")
	wait_for 20 ctl endpoint health
}
etcd_stop() {
	kill -9 "$ETCD_PID" 2>/dev/null
	wait "$ETCD_PID" 2>/dev/null
	wait_for 5 bash -c '! (exec 3<>/dev/tcp/127.0.0.1/23821) 2>/dev/null'
}

cp "$MESH_APPS/testapp" "$T/testapp"
cat >"$T/mesh.ini" <<EOF
[mesh]
name = regmesh
port_base = 23850
registry = etcd
etcd = $C
host_address = 127.0.0.1
host_name = a

[service.gateway]
upstreams = web:23831

[service.web]
command = $T/testapp --port \$PORT
port = 23840
instances = 2
EOF
F=$T/mesh.ini
G=http://127.0.0.1:23831
st() { meshctl status -f "$F" --json >"$T/status.json" 2>/dev/null; }
js() { st && python3 -c "import json; d=json.load(open('$T/status.json')); print($1)"; }
answers() { curl -sS -m 3 "$G/" 2>/dev/null | grep -Eqx 'web-v1-[01]'; }
reg_state_is() { [ "$(js "d['registry']['state']")" = "$1" ]; }
remotes() { js "' '.join('%s/%s@%s:%s' % (r['host'], r['id'], r['address'], r['port']) for r in d['registry']['remote'])"; }
remotes_are() { [ "$(remotes)" = "$1" ]; }
keys_are() { [ "$(keys)" = "$1" ]; }

check "etcd starts (client $C)" etcd_run
mesh_up_or_stop "$F"
WANT_KEYS="$P/a/web@v1.0 $P/a/web@v1.1 "
check "this host's ready instances are published (not the portless gateway)" \
	wait_for 10 keys_are "$WANT_KEYS"
is "status: registry up" "$(js "d['registry']['state']")" up
is "status: this host" "$(js "d['registry']['host'] + ' ' + d['registry']['address'] + ' ' + str(d['registry']['published'])")" \
	"a 127.0.0.1 2"
PORT1=$(js "[i['inbound_port'] for s in d['services'] for i in s['instances'] if i['id'] == 'web@v1.1'][0]")
ctl get --print-value-only "$P/a/web@v1.1" >"$T/rec.json" 2>/dev/null
is "the record of web@v1.1" "$(python3 -c "import json; print(sorted(json.load(open('$T/rec.json')).items()))")" \
	"$(python3 -c "print(sorted({'service':'web','version':'v1','index':1,'host':'a','address':'127.0.0.1','port':$PORT1,'spiffe':'spiffe://mesh.local/svc/web','protocol':'http'}.items()))")"
LEASE=$(ctl get -w json "$P/a/web@v1.0" 2>/dev/null | sed -n 's/.*"lease":\([0-9]*\).*/\1/p')
check "the keys are under a lease" test -n "$LEASE" -a "${LEASE:-0}" != 0

# ---- the other hosts ---------------------------------------------------------
ctl put "$P/b/api@v1.0" '{"service":"api","version":"v1","index":0,"host":"b","address":"10.0.0.9","port":15001,"spiffe":"spiffe://mesh.local/svc/api"}' >/dev/null
check "a key of host b shows as a remote instance" wait_for 10 remotes_are "b/api@v1.0@10.0.0.9:15001"
is "its service and spiffe id" "$(js "' '.join([d['registry']['remote'][0][k] for k in ('service', 'version', 'spiffe')])")" \
	"api v1 spiffe://mesh.local/svc/api"
check "status text has the registry and the remote instance" \
	bash -c "meshctl status -f '$F' | grep -q '^registry etcd: up, host a at 127.0.0.1' && meshctl status -f '$F' | grep -q 'remote api@v1.0 on b at 10.0.0.9:15001'"
ctl put "$P/b/bad@v1.0" '{"service":"api","port":"x"}' >/dev/null
ctl put "$P/b/api@v1.1" '{"service":"api","version":"v1","index":1,"host":"c","address":"10.0.0.9","port":15002,"spiffe":"spiffe://mesh.local/svc/api"}' >/dev/null
ctl put "$P/b/api@v1.2" '{"service":"api","version":"v1","index":2,"host":"b","address":"10.0.0.9","port":15003,"spiffe":"spiffe://mesh.local/svc/api"}' >/dev/null
check "bad values are ignored, good ones kept" wait_for 10 remotes_are "b/api@v1.0@10.0.0.9:15001 b/api@v1.2@10.0.0.9:15003"
check "a bad value is logged with its key" grep -q 'instances/b/bad@v1.0: ignored' "$T/.mesh/run/meshd.log"
ctl put "$P/b/bad@v1.0" '{"service":"api","port":"y"}' >/dev/null
ctl put "$P/a/web@v1.9" '{"service":"web"}' >/dev/null   # host a is us: not read
sleep 0.5
is "each bad key is logged once" "$(grep -c 'instances/b/bad@v1.0: ignored' "$T/.mesh/run/meshd.log")" 1
check "a key under this host's name is not taken as remote" remotes_are "b/api@v1.0@10.0.0.9:15001 b/api@v1.2@10.0.0.9:15003"
ctl del "$P/a/web@v1.9" >/dev/null
ctl del "$P/b/api@v1.0" >/dev/null
check "a deleted key leaves the view" wait_for 10 remotes_are "b/api@v1.2@10.0.0.9:15003"

# ---- locality: another host's web, unreachable, is pushed but not used ------
# (while this host's two are up, the gateway's sidecar keeps to them)
ctl put "$P/b/web@v1.0" '{"service":"web","version":"v1","index":0,"host":"b","address":"127.0.0.9","port":23849,"spiffe":"spiffe://mesh.local/svc/web","protocol":"http"}' >/dev/null
check "host b's web is in the view" wait_for 10 remotes_are "b/api@v1.2@10.0.0.9:15003 b/web@v1.0@127.0.0.9:23849"
check "meshd pushed the view to the sidecars" wait_for 10 grep -q "service web: 1 endpoint(s) on other hosts: 127.0.0.9:23849 web v1.0 (host b)" "$T/.mesh/run/meshd.log"
fails=0
for i in $(seq 1 20); do answers || fails=$((fails + 1)); done
is "local instances first: 20 requests, failures" "$fails" 0
ctl del "$P/b/web@v1.0" >/dev/null
check "host b's web leaves the view" wait_for 10 remotes_are "b/api@v1.2@10.0.0.9:15003"

# ---- etcd away and back ---------------------------------------------------------
check "requests through the mesh succeed" answers
etcd_stop
check "etcd stopped: status says down within 15 s" wait_for 15 reg_state_is down
is "the reason names the endpoint" "$(js "d['registry']['reason'].startswith('$C')")" True
check "the last view stands" remotes_are "b/api@v1.2@10.0.0.9:15003"
fails=0
for i in 1 2 3 4 5 6 7 8 9 10; do answers || fails=$((fails + 1)); done
is "the mesh keeps serving (10 requests, failures)" "$fails" 0
# an empty store comes back: the lease is unknown there, so the keys must be put again
rm -rf "$T/etcd.data"
check "etcd restarts (empty)" etcd_run
check "the registry is up again" wait_for 20 reg_state_is up
check "this host's keys are back" wait_for 10 keys_are "$WANT_KEYS"
check "the new snapshot has no remote instance" wait_for 10 remotes_are ""

# ---- hosts in status ----------------------------------------------------------
# Each local instance names its host (status --json "host", a HOST column);
# host b's web@v1.0 on this host's web@v1.0's port (another address) is a
# row of its own in the gateway's sidecar (stats v4): status shows its
# breaker under "registry", and this host's web.0 keeps one caller row.
is "status --json: every local instance is on host a" \
	"$(js "sorted(set(str(i['host']) for s in d['services'] for i in s['instances']))")" "['a']"
check "status text has a HOST column" bash -c "meshctl status -f '$F' | grep -q ' BRK/EJ HOST\$'"
PORT0=$(js "[i['inbound_port'] for s in d['services'] for i in s['instances'] if i['id'] == 'web@v1.0'][0]")
ctl put "$P/b/web@v1.0" '{"service":"web","version":"v1","index":0,"host":"b","address":"127.0.0.9","port":'"$PORT0"',"spiffe":"spiffe://mesh.local/svc/web","protocol":"http"}' >/dev/null
remote_brk() { [ "$(js "' '.join('%s/%s:%s' % (r['host'], r['id'], r['breaker']['state']) for r in d['registry']['remote'])")" = "$1" ]; }
check "the gateway's row on host b's web@v1.0 shows under registry" wait_for 10 remote_brk "b/web@v1.0:closed"
is "host b's web@v1.0: one caller, the gateway" \
	"$(js "[c['caller'] for r in d['registry']['remote'] for c in r['breaker']['callers']]")" "['gateway.0']"
is "this host's web@v1.0 keeps one caller row" \
	"$(js "[len(i['breaker']['callers']) for s in d['services'] for i in s['instances'] if i['id'] == 'web@v1.0'][0]")" 1
check "status text: host b's web with its host and breaker" \
	bash -c "meshctl status -f '$F' | grep -q 'remote web@v1.0 on b at 127.0.0.9:$PORT0, breaker closed'"
check "requests through the mesh still succeed" answers
ctl del "$P/b/web@v1.0" >/dev/null
check "host b's web@v1.0 leaves the view" wait_for 10 remotes_are ""

# ---- leaving ------------------------------------------------------------------------
timeout 40 meshctl down -f "$F" >"$T/down.log" 2>&1
is "meshctl down exits 0" "$?" 0
is "meshctl down removed this host's keys at once" "$(keys)" ""
check "it withdrew from the registry before stopping the apps" \
	grep -q 'stopping: withdrawn from the registry; apps stop in 1 s' "$T/.mesh/run/meshd.log"
check "meshd logged the registry" grep -q 'registry: etcd up' "$T/.mesh/run/meshd.log"
no_sanitizer_report "$T/.mesh/run/meshd.log"
etcd_stop
exit 0
