#!/bin/bash
# SPDX-License-Identifier: ISC
# zero_loss_change: no request is lost while the mesh changes (issue 12).
#   client loop -> gateway 127.0.0.1:31501 -> api (3 instances of testapp)
# A bounded client (one keep-alive connection, reconnecting after an
# error, a request every 5 ms, at most 60 s or 12000 requests; GET /whoami,
# or /delay?ms=40 so that a request is in flight when an app stops) counts
# every non-2xx answer and every connection error, under each change:
#   1. 10 `meshctl reload`s, each changing api's route: 0 failed
#   2. `meshctl restart api.0` (drained, then restarted): 0 failed, a new pid
#   3. `meshctl restart api` (rolling: one at a time, each drained first
#      and ready again before the next): 0 failed, 3 new pids, in order
#   4. api.1's app killed with SIGKILL: at most the requests in flight on
#      it fail (one client, so <= 2; 0 with connect-failure retries)
# The counts are printed as "# failed ..." lines.
# Ports: 31500-31599.
. "$(dirname "$0")/lib.sh"

cp "$MESH_APPS/testapp" "$T/testapp"
# write_ini ROUTE_LINES
write_ini() {
cat >"$T/mesh.ini.new" <<EOF
[mesh]
name = zero-loss
port_base = 31550

[service.gateway]
upstreams = api:31501

[service.api]
command = $T/testapp --port \$PORT --name api
port = 31510
instances = 3

[route.api]
timeout = 10s
$1
EOF
	mv "$T/mesh.ini.new" "$T/mesh.ini"
}
write_ini "lb = round-robin"
mesh_up_or_stop "$T/mesh.ini"
check "the front door 127.0.0.1:31501 answers" wait_for 10 \
	curl -sf -o /dev/null -H 'Host: api' http://127.0.0.1:31501/

# load_start NAME PATH: the client loop in the background; load_stop NAME
# stops it and sets $failed, $total (bounded: 60 s, 12000 requests)
load_start() {
	rm -f "$T/stop"
	timeout 75 python3 - "$T" "$2" >"$T/$1.load" 2>"$T/$1.load.err" <<'EOF' &
import http.client, os, sys, time
t, path = sys.argv[1], sys.argv[2]
c = None
ok = bad = err = 0
first = []
start = time.time()
while not os.path.exists(t + "/stop") and time.time() - start < 60 and ok + bad + err < 12000:
    try:
        if c is None:
            c = http.client.HTTPConnection("127.0.0.1", 31501, timeout=10)
        c.request("GET", path, headers={"Host": "api"})
        r = c.getresponse()
        body = r.read()
        if 200 <= r.status < 300:
            ok += 1
        else:
            bad += 1
            if len(first) < 5:
                first.append("%d %s %s" % (r.status, r.getheader("mesh-error"), body[:60]))
    except Exception as e:
        err += 1
        if len(first) < 5:
            first.append("error %s: %s" % (type(e).__name__, e))
        if c is not None:
            c.close()
        c = None
    time.sleep(0.005)
print("%d %d %d %d" % (ok + bad + err, ok, bad, err))
for f in first:
    print("# first failure: " + f)
EOF
	echo $! >"$T/$1.pid"
	_pids+=($!)
	sleep 0.5   # a few requests before the change
}
load_stop() {
	touch "$T/stop"
	local p; p=$(cat "$T/$1.pid")
	wait "$p" 2>/dev/null
	read -r total okn bad err <"$T/$1.load" || true
	failed=$(( ${bad:-0} + ${err:-0} ))
	[ -n "${total:-}" ] || { total=0; failed=-1; }
	echo "# failed $1: $failed of $total requests (non-2xx ${bad:-?}, connection errors ${err:-?})"
	grep '^# first failure' "$T/$1.load" | head -5
}

# app pid of an instance, from status --json
app_pid() {
	meshctl status -f "$T/mesh.ini" --json | python3 -c '
import json, sys
for s in json.load(sys.stdin)["services"]:
    for i in s["instances"]:
        if i["name"] == sys.argv[1]: print(i["app_pid"])' "$1"
}

# 1. reloads with route changes
load_start reload /whoami
rc_all=0
for i in 1 2 3 4 5 6 7 8 9 10; do
	case $((i % 3)) in
	0) write_ini "lb = least-request" ;;
	1) write_ini "lb = ewma
retries = 1" ;;
	2) write_ini "lb = round-robin
connect_timeout = $((200 + i))ms" ;;
	esac
	meshctl reload -f "$T/mesh.ini" >>"$T/reload.out" 2>&1 || rc_all=1
	sleep 0.2
done
sleep 0.3
load_stop reload
is "10 reloads with route changes exit 0" "$rc_all" 0
check "the reloads applied route changes (no restart needed)" bash -c "! grep -q 'restart needed' '$T/reload.out'"
check "requests went through during the reloads ($total)" test "$total" -gt 50
is "reloads: 0 failed requests" "$failed" 0

# 2. one instance
old0=$(app_pid api.0)
# requests of 40 ms: one is nearly always in flight when an app is stopped
load_start one '/delay?ms=40'
meshctl restart -f "$T/mesh.ini" api.0 >"$T/restart1.out" 2>&1
rc=$?
sleep 0.3
load_stop one
is "meshctl restart api.0 exits 0" "$rc" 0
check "it drained api.0 before its restart" grep -q 'api.0: drained' "$T/restart1.out"
check "it waited for api.0 to be ready again" grep -q 'api.0: ready again' "$T/restart1.out"
new0=$(app_pid api.0)
check "api.0 runs on a new pid ($old0 -> $new0)" test "$new0" != "$old0" -a "$new0" != None
check "requests went through during the restart ($total)" test "$total" -gt 20
is "restart api.0: 0 failed requests" "$failed" 0

# 3. rolling restart of the service
o0=$(app_pid api.0); o1=$(app_pid api.1); o2=$(app_pid api.2)
load_start rolling '/delay?ms=40'
meshctl restart -f "$T/mesh.ini" api >"$T/restart3.out" 2>&1
rc=$?
sleep 0.3
load_stop rolling
is "meshctl restart api exits 0" "$rc" 0
n0=$(app_pid api.0); n1=$(app_pid api.1); n2=$(app_pid api.2)
check "every instance of api runs on a new pid" \
	test "$n0" != "$o0" -a "$n1" != "$o1" -a "$n2" != "$o2"
# one at a time: each was ready again before the next was withdrawn
order=$(grep -oE 'api\.[0-2]: (endpoint withdrawn|ready again)' "$T/restart3.out" | tr '\n' ',')
is "one at a time, in order" "$order" \
	"api.0: endpoint withdrawn,api.0: ready again,api.1: endpoint withdrawn,api.1: ready again,api.2: endpoint withdrawn,api.2: ready again,"
check "it says so at the end" grep -q 'restarted 3 instances of api, one at a time' "$T/restart3.out"
check "requests went through during the rolling restart ($total)" test "$total" -gt 50
is "rolling restart api: 0 failed requests" "$failed" 0

# 4. an app killed
k=$(app_pid api.1)
load_start sigkill '/delay?ms=40'
kill -9 "$k"
check "api.1 is restarted on a new pid" wait_for 15 bash -c "
	p=\$(meshctl status -f '$T/mesh.ini' --json | python3 -c '
import json, sys
for s in json.load(sys.stdin)[\"services\"]:
    for i in s[\"instances\"]:
        if i[\"name\"] == \"api.1\" and i[\"state\"] == \"running\": print(i[\"app_pid\"])')
	[ -n \"\$p\" ] && [ \"\$p\" != '$k' ]"
sleep 0.5
load_stop sigkill
check "requests went through around the kill ($total)" test "$total" -gt 20
check "SIGKILL of one of 3 apps: at most the requests in flight failed ($failed <= 2)" \
	test "$failed" -ge 0 -a "$failed" -le 2

mesh_down_checked "$T/mesh.ini"
exit 0
