#!/bin/bash
# SPDX-License-Identifier: ISC
# meshd under a stand-in for systemd's notify socket: READY=1, STATUS= with
# counts, WATCHDOG=1 from the loop at half WATCHDOG_USEC, SIGHUP reloads the
# file (RELOADING=1 with MONOTONIC_USEC=, then READY=1; a broken file changes
# nothing and still ends in READY=1) without stopping the mesh, STOPPING=1 on
# SIGTERM; no child sees NOTIFY_SOCKET or WATCHDOG_*.
# Ports 28000-28049.
. "$(dirname "$0")/lib.sh"

# counted anew at each poll of wait_for (a $(...) in its arguments is
# counted once, before the wait)
readies() { [ "$(grep -c '^READY=1' "$T/notify.txt")" -eq "$1" ]; }
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
check "SIGHUP: RELOADING=1 with MONOTONIC_USEC=" wait_for 5 grep -qE '^RELOADING=1 MONOTONIC_USEC=[0-9]+ *$' "$T/notify.txt"
check "SIGHUP: READY=1 again once reloaded" wait_for 5 readies 2
rl=$(grep -n '^RELOADING=1' "$T/notify.txt" | tail -1 | cut -d: -f1)
rd=$(grep -n '^READY=1' "$T/notify.txt" | tail -1 | cut -d: -f1)
check "SIGHUP: RELOADING=1 comes before that READY=1 (lines ${rl:-?} < ${rd:-?})" test "${rl:-0}" -gt 0 -a "${rl:-0}" -lt "${rd:-0}"
us=$(grep -oE 'MONOTONIC_USEC=[0-9]+' "$T/notify.txt" | tail -1 | cut -d= -f2)
now=$(python3 -c 'import time; print(int(time.clock_gettime(time.CLOCK_MONOTONIC) * 1e6))')
check "MONOTONIC_USEC is CLOCK_MONOTONIC in microseconds (${us:-?}, now ${now})" \
	test "${us:-0}" -gt 0 -a "$(( ${now} - ${us:-0} ))" -lt 30000000 -a "$(( ${us:-0} - ${now} ))" -lt 30000000
check "SIGHUP leaves meshd running" kill -0 "$MESHD"
check "SIGHUP reloads the file (the log says so)" wait_for 5 grep -q 'SIGHUP: reload: applied' "$T/meshd.log"
check "reloading is no longer 'not supported'" bash -c "! grep -q 'reloading is not supported' '$T/meshd.log'"
is "the mesh still answers after SIGHUP" "$(curl -s --max-time 5 http://127.0.0.1:28040/ | head -c 3)" "api"

# A broken file: nothing changes, the errors are logged, READY=1 still ends it.
cp "$T/mesh.ini" "$T/mesh.ini.good"
printf '[route.api]\nbogus = 1\n' >>"$T/mesh.ini"
kill -HUP "$MESHD"
check "SIGHUP, broken file: READY=1 after RELOADING=1 all the same" wait_for 5 readies 3
check "SIGHUP, broken file: the log names the error and changes nothing" \
	wait_for 5 grep -q 'the file has errors; nothing changed' "$T/meshd.log"
check "SIGHUP, broken file: the error names FILE:LINE" grep -qE 'mesh.ini:[0-9]+: .*bogus' "$T/meshd.log"
cp "$T/mesh.ini.good" "$T/mesh.ini"
is "the mesh still answers after a refused reload" "$(curl -s --max-time 5 http://127.0.0.1:28040/ | head -c 3)" "api"

kill -TERM "$MESHD"
check "meshd exits on SIGTERM" wait_for 20 bash -c "! kill -0 $MESHD 2>/dev/null"
check "STOPPING=1 on stop" grep -q '^STOPPING=1' "$T/notify.txt"
sleep 0.5
left=$(pgrep -f -- "$T/testapp|$T/.mesh|$T/mesh.ini" | tr '\n' ' ')
is "nothing of the mesh is left" "$left" ""
exit 0
