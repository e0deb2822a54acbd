#!/bin/bash
# meshd under a stand-in for systemd's notify socket: READY=1, STATUS= with
# counts, WATCHDOG=1 from the loop at half WATCHDOG_USEC, SIGHUP does not stop
# the mesh, STOPPING=1 on SIGTERM; no child sees NOTIFY_SOCKET or WATCHDOG_*.
# Ports 28000-28049.
. "$(dirname "$0")/lib.sh"
ln -s "$MESH_APPS/testapp" "$T/testapp"

cat >"$T/mesh.ini" <<INI
[mesh]
name = notify
port_base = 28000

[service.api]
command = $T/testapp
port = 28030

[service.front]
upstreams = api:28040
INI

# The listener records every datagram, one per line, until killed.
cat >"$T/notify.py" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as out:
    while True:
        out.write(s.recv(4096).decode().replace("\n", " ") + "\n")
PY
spawn notify python3 "$T/notify.py" "$T/notify.sock" "$T/notify.txt"
wait_for 5 test -S "$T/notify.sock" || not_ok "notify listener starts"

NOTIFY_SOCKET="$T/notify.sock" WATCHDOG_USEC=400000 spawn meshd meshd -f "$T/mesh.ini"
MESHD=$(cat "$T/meshd.pid")
check "READY=1 once every instance is ready" wait_for 20 grep -q '^READY=1' "$T/notify.txt"
check "STATUS= counts the instances" wait_for 5 grep -q '^STATUS=2/2 instances ready' "$T/notify.txt"
sleep 1.2
n=$(grep -c '^WATCHDOG=1' "$T/notify.txt")
check "WATCHDOG=1 comes from the loop at half of WATCHDOG_USEC ($n in ~1.5 s)" test "$n" -ge 3

is "the app does not see NOTIFY_SOCKET" "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 http://127.0.0.1:28030/env/NOTIFY_SOCKET)" 404
is "the app does not see WATCHDOG_USEC" "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 http://127.0.0.1:28030/env/WATCHDOG_USEC)" 404
proxy=$(pgrep -f -- "--control $T/.mesh/run/meshd.sock" | head -1)
if [ -n "$proxy" ] && tr '\0' '\n' <"/proc/$proxy/environ" | grep -q '^NOTIFY_SOCKET='; then
	not_ok "a sidecar does not see NOTIFY_SOCKET"
else
	ok "a sidecar does not see NOTIFY_SOCKET"
fi

kill -HUP "$MESHD"
sleep 0.5
check "SIGHUP leaves meshd running" kill -0 "$MESHD"
check "SIGHUP says reloading is not supported yet" grep -q 'reloading is not supported' "$T/meshd.log"
is "the mesh still answers after SIGHUP" "$(curl -s --max-time 5 http://127.0.0.1:28040/ | head -c 3)" "api"

kill -TERM "$MESHD"
check "meshd exits on SIGTERM" wait_for 20 bash -c "! kill -0 $MESHD 2>/dev/null"
check "STOPPING=1 on stop" grep -q '^STOPPING=1' "$T/notify.txt"
sleep 0.5
left=$(pgrep -f -- "$T/testapp|$T/.mesh|$T/mesh.ini" | tr '\n' ' ')
is "nothing of the mesh is left" "$left" ""
exit 0
