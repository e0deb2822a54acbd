#!/bin/bash
# SPDX-License-Identifier: ISC
# `meshctl logs`: the lines of apps, sidecars and meshd as `up` prints
# them, from <state_dir>/log/mesh.log: selected by service and instance,
# -n, --since, -f (a line the app prints later shows up), after `down`
# (from disk), and exit 3 for a mesh that never ran.  Ports: 25000-25099.
. "$(dirname "$0")/lib.sh"

F=$T/mesh.ini
cat >"$F" <<EOF
[mesh]
name = logs
port_base = 25020

[service.api]
command = sh -c 'echo started-\$MESH_SERVICE-\$MESH_INSTANCE; exec testapp --port \$PORT --name api'
port = 25000
instances = 2

[service.web]
command = sh -c 'echo started-\$MESH_SERVICE-\$MESH_INSTANCE; exec testapp --port \$PORT --name web'
port = 25010
EOF
LOG=$T/.mesh/log/mesh.log

mesh_up_or_stop "$F"
wait_for 10 grep -q 'started-web-0' "$LOG"
check "meshd writes the apps' lines to log/mesh.log, timed" \
	grep -Eq '^20[0-9-]{8}T[0-9:]{8}\.[0-9]{3}Z api\.1 \| started-api-1$' "$LOG"

meshctl logs --file "$F" >"$T/all.out" 2>"$T/all.err"
is "logs exits 0" "$?" 0
# padded as up pads: the longest name is api.1~proxy
check "lines are printed as up prints them" grep -Eq '^api\.0       \| started-api-0$' "$T/all.out"
check "no operand: meshd's own lines too" grep -q "^meshd .*| mesh 'logs' ready" "$T/all.out"

meshctl logs --file "$F" api >"$T/api.out" 2>&1
is "logs api exits 0" "$?" 0
check "logs api: api's app lines" grep -q '| started-api-1$' "$T/api.out"
check "logs api: api's sidecar lines" grep -q '^api\.0~proxy *| ' "$T/api.out"
check "logs api: not web's lines" bash -c "! grep -E 'web|^meshd.*ready: 3' '$T/api.out'"

meshctl logs --file "$F" api.1 >"$T/api1.out" 2>&1
check "logs api.1: that instance" grep -q 'started-api-1' "$T/api1.out"
check "logs api.1: not api.0" bash -c "! grep -q 'api\.0' '$T/api1.out'"
meshctl logs --file "$F" api@v1.0 >"$T/id.out" 2>&1
check "an instance id selects the instance" grep -q 'started-api-0' "$T/id.out"

meshctl logs --file "$F" -n 1 web >"$T/n1.out" 2>&1
is "-n 1 gives one line" "$(wc -l <"$T/n1.out")" 1
is "-n 1 gives the last line" "$(cat "$T/n1.out")" \
	"$(meshctl logs --file "$F" web 2>/dev/null | tail -1)"

meshctl logs --file "$F" --since 1h api >"$T/since.out" 2>&1
check "--since 1h: the lines of the last hour" grep -q 'started-api-0' "$T/since.out"
tomorrow=$(date -d tomorrow +%Y-%m-%d)
meshctl logs --file "$F" --since "$tomorrow" >"$T/future.out" 2>&1
is "--since tomorrow exits 0" "$?" 0
is "--since tomorrow: no line" "$(wc -l <"$T/future.out")" 0

meshctl logs --file "$F" nosuch >"$T/bad.out" 2>&1
is "an unknown name exits 1" "$?" 1
check "the message names the file and the name" grep -q "$F.*'nosuch'" "$T/bad.out"
meshctl logs --file "$F" -x >/dev/null 2>&1
is "an unknown option exits 2" "$?" 2

# -f: a line the app prints after `logs -f` started
spawn follow meshctl logs --file "$F" -f -n 1 api
fpid=$(cat "$T/follow.pid")
wait_for 5 test -s "$T/follow.log"
curl -s -o /dev/null "http://127.0.0.1:25001/follow-probe"
curl -s -o /dev/null "http://127.0.0.1:25010/web-probe"
if wait_for 5 grep -q 'GET /follow-probe' "$LOG"; then
	# meshd has written it: the follower polls every 0.2 s
	check "logs -f shows a new line within 1 s" wait_for 1 grep -q '^api\.1 .*| api GET /follow-probe' "$T/follow.log"
else
	not_ok "the app's request line reaches mesh.log" "$(tail -3 "$LOG")"
fi
wait_for 5 grep -q 'GET /web-probe' "$LOG"
sleep 0.5
check "logs -f api: not web's new line" bash -c "! grep -q web-probe '$T/follow.log'"
kill -INT "$fpid"
wait "$fpid"
is "logs -f exits 0 on SIGINT" "$?" 0

# after down: from disk
timeout 40 meshctl down -f "$F" >/dev/null 2>&1
is "meshctl down exits 0" "$?" 0
meshctl logs --file "$F" >"$T/after.out" 2>&1
is "after down, logs exits 0" "$?" 0
check "after down, logs prints from disk" grep -q 'started-api-0' "$T/after.out"
check "after down, meshd's last lines are there" grep -q "every process of mesh 'logs' stopped" "$T/after.out"

# not running with -f: a later up appends, the follower shows it
spawn follow2 meshctl logs --file "$F" -f web.0
f2pid=$(cat "$T/follow2.pid")
wait_for 5 grep -q 'started-web-0' "$T/follow2.log"
mesh_up_or_stop "$F"
check "logs -f of a stopped mesh follows the next up" \
	wait_for 10 bash -c "[ \$(grep -c 'started-web-0' '$T/follow2.log') -ge 2 ]"
kill -TERM "$f2pid"
wait "$f2pid"
is "logs -f exits 0 on SIGTERM" "$?" 0
mesh_down_checked "$F" "$T/.mesh/run/meshd.log"

# a mesh that never ran: nothing on disk
mkdir -p "$T/never"
sed 's/^name = logs/name = never/' "$F" >"$T/never/mesh.ini"
meshctl logs --file "$T/never/mesh.ini" >"$T/never.out" 2>&1
is "a mesh never run, no log file: exit 3" "$?" 3
check "it says the mesh is not running" grep -q "mesh 'never' is not running" "$T/never.out"
meshctl logs --file "$T/never/mesh.ini" -f >/dev/null 2>&1
is "the same with -f: exit 3" "$?" 3
exit 0
