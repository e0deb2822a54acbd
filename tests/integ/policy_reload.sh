#!/bin/bash
# SPDX-License-Identifier: ISC
# policy_reload: `meshctl reload` changes a split live without dropping a
# keep-alive connection:
#   client -> gateway sidecar 127.0.0.1:30101 -> api v1 | api@v2
# A client on one long-lived keep-alive connection (its local port must never
# change) keeps getting 200s while the file's split goes v1:100 -> v2:100 and
# `meshctl reload` applies it; a file with errors changes nothing (exit 1,
# FILE:LINE on stderr); a changed service port is reported as "restart
# needed for" and not applied; a split set by `meshctl weight` survives a
# reload that leaves the file's split alone and gives way to one that changes
# it; SIGHUP does the same as `meshctl reload`.
# Ports: 30100-30199.
. "$(dirname "$0")/lib.sh"

cp "$MESH_APPS/testapp" "$T/testapp"
# write_ini SPLIT [API_V1_PORT] [EXTRA ROUTE LINES]
write_ini() {
cat >"$T/mesh.ini.new" <<EOF
[mesh]
name = policy-reload
port_base = 30150

[service.gateway]
upstreams = api:30101

[service.api]
command = $T/testapp --port \$PORT
port = ${2:-30110}

[service.api@v2]
command = $T/testapp --port \$PORT
port = 30120

[route.api]
split = $1
${3:-}
EOF
	mv "$T/mesh.ini.new" "$T/mesh.ini"
}
write_ini "v1:100, v2:0"

mesh_up_or_stop "$T/mesh.ini"
check "listener 127.0.0.1:30101 accepts" wait_port 30101 10

# The long-lived client: one connection, a request every 5 ms, each answer
# logged as "time localport status body"; it stops when $T/stop appears
# (bounded: 60 s at most).  http.client would reconnect silently, so the
# local port of each request is what proves the connection was kept.
timeout 70 python3 - "$T" >"$T/client.out" 2>"$T/client.err" <<'EOF' &
import http.client, os, sys, time
t = sys.argv[1]
c = http.client.HTTPConnection("127.0.0.1", 30101, timeout=5)
start = time.time()
while not os.path.exists(t + "/stop") and time.time() - start < 60:
    try:
        c.request("GET", "/", headers={"Host": "api"})
        port = c.sock.getsockname()[1]
        r = c.getresponse()
        print("%.6f %d %d %s" % (time.time(), port, r.status, r.read().decode().strip()), flush=True)
    except Exception as e:
        print("%.6f 0 0 error:%s" % (time.time(), type(e).__name__), flush=True)
        c.close()
    time.sleep(0.005)
EOF
client=$!
check "the client is running" wait_for 10 test -s "$T/client.out"
sleep 0.3

# 1. the split moves from v1 to v2 through the file
write_ini "v1:0, v2:100"
meshctl reload -f "$T/mesh.ini" >"$T/r1.out" 2>"$T/r1.err"
is "meshctl reload exits 0" "$?" 0
date +%s.%N >"$T/r1.at"
check "it reports the new split" grep -qx 'route api: split v1=0 v2=100' "$T/r1.out"
check "it says nothing needs a restart" bash -c "! grep -q 'restart needed' '$T/r1.out'"
sleep 1.5
r1=$(cat "$T/r1.at")
read -r lag after < <(awk -v d="$r1" '$4 == "api-v1-0" { last = $1 } $1 > d + 1.0 && $4 != "api-v2-0" { bad++ }
	END { printf "%.3f %d\n", (last ? last - d : -9), bad }' "$T/client.out")
check "the live client moved to v2 within a second (last v1 answer at ${lag:-?} s)" \
	python3 -c "import sys; sys.exit(0 if -5 < float('${lag:-9}') < 1.0 else 1)"
is "only v2 answers after that second" "${after:-?}" 0
meshctl status -f "$T/mesh.ini" >"$T/st1.txt" 2>&1
check "status shows the reloaded split" grep -q 'route api: split v1=0 v2=100' "$T/st1.txt"

# 2. a file with errors: exit 1, errors on stderr, nothing changes
cp "$T/mesh.ini" "$T/mesh.ini.good"
write_ini "v1:100, v2:0" 30110 "retries = lots"
meshctl reload -f "$T/mesh.ini" >"$T/r2.out" 2>"$T/r2.err"
is "reload of a broken file exits 1" "$?" 1
check "the error names FILE:LINE and the key" grep -qE 'mesh.ini:[0-9]+: .*retries' "$T/r2.err"
check "... and says nothing changed" grep -q 'nothing changed' "$T/r2.err"
cp "$T/mesh.ini.good" "$T/mesh.ini"
sleep 0.3
is "the split did not change (the last answer is still v2)" "$(tail -1 "$T/client.out" | awk '{print $4}')" "api-v2-0"

# 3. a port change needs a restart: reported, not applied; the split is
write_ini "v1:100, v2:0" 30111
meshctl reload -f "$T/mesh.ini" >"$T/r3.out" 2>"$T/r3.err"
is "reload with a changed port exits 0 (the rest applies)" "$?" 0
check "it reports: restart needed for service api@v1 (port)" grep -q 'restart needed for: service api@v1 (port)' "$T/r3.out"
sleep 0.5
is "the split part applied (the last answer is v1)" "$(tail -1 "$T/client.out" | awk '{print $4}')" "api-v1-0"
is "api v1's app still answers on its old port" "$(curl -s --max-time 5 http://127.0.0.1:30110/)" "api-v1-0"
write_ini "v1:100, v2:0"

# 4. `meshctl weight` and reload: an unchanged file split keeps the weight,
# a changed one replaces it
check "meshctl weight api v1=50 v2=50" meshctl weight -f "$T/mesh.ini" api v1=50 v2=50
meshctl reload -f "$T/mesh.ini" >"$T/r4.out" 2>&1
is "reload (file split unchanged) exits 0" "$?" 0
meshctl status -f "$T/mesh.ini" >"$T/st4.txt" 2>&1
check "the weight survives a reload that leaves the file's split alone" grep -q 'route api: split v1=50 v2=50' "$T/st4.txt"
write_ini "v1:20, v2:80"
meshctl reload -f "$T/mesh.ini" >"$T/r5.out" 2>&1
is "reload (file split changed) exits 0" "$?" 0
check "it says the file's split replaces the weight" grep -q "route api: the file's split replaces" "$T/r5.out"
meshctl status -f "$T/mesh.ini" >"$T/st5.txt" 2>&1
check "status shows the file's new split" grep -q 'route api: split v1=20 v2=80' "$T/st5.txt"
check "the dropped weight is gone from <state_dir>/weights" bash -c "! grep -q '^api ' '$T/.mesh/weights'"

# 5. SIGHUP reloads too
write_ini "v1:0, v2:100"
kill -HUP "$(cat "$T/.mesh/run/meshd.pid")"
check "SIGHUP applies the file (status shows it)" wait_for 5 bash -c \
	"meshctl status -f '$T/mesh.ini' | grep -q 'route api: split v1=0 v2=100'"
check "meshd logs the SIGHUP reload" grep -q 'SIGHUP: reload: applied' "$T/.mesh/run/meshd.log"

touch "$T/stop"
wait "$client"
total=$(grep -c . "$T/client.out")
bad=$(awk '$3 != 200' "$T/client.out" | wc -l)
ports=$(awk '{print $2}' "$T/client.out" | sort -u | tr '\n' ' ')
echo "# keep-alive client: $total requests, local port(s): $ports"
check "the client made hundreds of requests across the reloads ($total)" test "$total" -ge 200
is "every request of the client got a 200" "$bad" 0
is "one connection throughout: a single local port" "$(echo $ports | wc -w)" 1

mesh_down_checked "$T/mesh.ini"
exit 0
