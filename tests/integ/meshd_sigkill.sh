#!/bin/bash
# SPDX-License-Identifier: ISC
# meshd SIGKILLed and started again under steady load: the sidecars and
# apps keep serving with what they last knew (their output goes to files,
# never to a pipe only meshd reads, so no SIGPIPE), `meshctl up -d` right
# after the kill adopts them (no restart, no duplicate, no "port in use"),
# they re-attach to the new meshd, and `down` stops every one of them.
#   load -> gateway sidecar 127.0.0.1:23401 -> api sidecars -> api.0, api.1
# The apps write a line per request (testapp), and `ticker` is a shell that
# writes a numbered line every 0.1 s with SIGPIPE at its default: before,
# it died at its first line after meshd did.  Ports: 23400-23449.
. "$(dirname "$0")/lib.sh"

ln -s "$MESH_APPS/testapp" "$T/testapp"
cat >"$T/mesh.ini" <<EOF
[mesh]
name = sigkill
port_base = 23420

[service.gateway]
upstreams = api:23401

[service.api]
command = $T/testapp --port \$PORT
port = 23410
instances = 2

[service.ticker]
command = i=0; while :; do i=\$((i + 1)); echo "tick \$i"; sleep 0.1; done
EOF
SOCK="$T/.mesh/run/meshd.sock"
meshd_pid() { cat "$T/.mesh/run/meshd.pid" 2>/dev/null; }
# "pid pid ..." of every app and sidecar status --json names, sorted
procs() {
	meshctl status -f "$T/mesh.ini" --json 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(" ".join(sorted(str(i[k]) for s in d["services"] for i in s["instances"]
      for k in ("app_pid", "proxy_pid") if i.get(k))))' 2>/dev/null
}
states() {
	meshctl status -f "$T/mesh.ini" --json 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(" ".join("%s=%s/%d" % (i["name"], i["state"], i["restarts"]) for s in d["services"]
      for i in s["instances"]))' 2>/dev/null
}
nproxies() { pgrep -f -- "mesh-proxy --control $SOCK" | wc -l; }
napps() { pgrep -f -- "^$T/testapp" | wc -l; }

# The load: GETs one after another until $T/stop exists (at most 60 s,
# 200000 requests); every non-2xx and every connection error counts as
# failed, with its time.  Keep-alive, a fresh connection every 100th
# request (and after an error): thousands of closed client sockets would
# hold ephemeral ports in TIME_WAIT that later tests bind as fixed ports.
cat >"$T/load.py" <<'EOF'
import http.client, os, sys, time
stop, out = sys.argv[1], sys.argv[2]
ok = failed = 0
first = {}
c = None
t0 = time.time()
while not os.path.exists(stop) and time.time() - t0 < 60 and ok + failed < 200000:
    try:
        if c is None or (ok + failed) % 100 == 0:
            if c is not None:
                c.close()
            c = http.client.HTTPConnection("127.0.0.1", 23401, timeout=5)
        c.request("GET", "/")
        r = c.getresponse()
        r.read()
        if 200 <= r.status < 300:
            ok += 1
            continue
        why = "status %d %s" % (r.status, r.getheader("mesh-error", ""))
    except Exception as e:
        why = type(e).__name__
        c.close()
        c = None
    failed += 1
    first.setdefault(why, round(time.time() - t0, 2))
if c is not None:
    c.close()
with open(out, "w") as f:
    f.write("%d %d %s\n" % (ok, failed, first))
EOF

mesh_up_or_stop "$T/mesh.ini"
check "front door 127.0.0.1:23401 accepts" wait_port 23401 10
M1=$(meshd_pid)
BEFORE=$(procs)
is "seven processes run (4 sidecars, 3 apps)" "$(echo $BEFORE | wc -w)" 7
is "4 sidecars and 2 testapps by pgrep" "$(nproxies) $(napps)" "4 2"
check "the apps' output goes to files under run/logs" \
	sh -c "ls $T/.mesh/run/logs/ | grep -q '\\.out\$'"

python3 "$T/load.py" "$T/stop" "$T/load.out" &
LOAD=$!
_pids+=($LOAD)
sleep 1
kill -9 "$M1"
echo "# meshd pid $M1 SIGKILLed at $(date +%T.%N)"
sleep 2
alive=0; for p in $BEFORE; do alive_p=$(alive "$p" && echo 1); [ -n "$alive_p" ] && alive=$((alive + 1)); done
is "2 s after the SIGKILL every sidecar and app still runs" "$alive" 7
is "nothing answers on the control socket" "$(meshctl status -f "$T/mesh.ini" >/dev/null 2>&1; echo $?)" 3

t0=$(date +%s.%N)
mesh_up "$T/mesh.ini" >"$T/up2.log" 2>&1
rc=$?
t1=$(date +%s.%N)
is "meshctl up -d right after the SIGKILL exits 0" "$rc" 0
[ "$rc" = 0 ] || sed 's/^/#   /' "$T/up2.log" | head -20
echo "# the second up -d took $(python3 -c "print(round($t1 - $t0, 2))") s"
M2=$(meshd_pid)
check "a new meshd runs (pid $M2)" test -n "$M2" -a "$M2" != "$M1"
sleep 2
touch "$T/stop"
wait "$LOAD"
read -r OK FAILED FIRST <"$T/load.out"
echo "# load: $OK ok, $FAILED failed around the SIGKILL and the new meshd $FIRST"
check "the load got answers ($OK)" test "${OK:-0}" -gt 100
is "0 failed requests" "$FAILED" 0

AFTER=$(procs)
is "status --json: the very same pids" "$AFTER" "$BEFORE"
is "no duplicate: still 4 sidecars and 2 testapps (pgrep)" "$(nproxies) $(napps)" "4 2"
is "status: every instance running, no restart counted" "$(states)" \
	"gateway.0=ready/0 api.0=running/0 api.1=running/0 ticker.0=running/0"
LOG="$T/.mesh/run/meshd.log"
check "the new meshd says it adopted seven processes" \
	grep -q "adopted 7 process(es) of a meshd that is gone; stopped 0" "$LOG"
check "every sidecar re-attached" \
	test "$(grep -c 'adopted sidecar re-attached' "$LOG")" -eq 4
check "no leftover was stopped or replaced" sh -c "! grep -qE 'stopping leftover|replacing leftover' $LOG"
check "the apps' lines reach the new meshd's log" \
	sh -c "tail -n 50 $LOG | grep -qE '^api\\.[01] +\\| api-v1-[01] GET / 200'"
# what ticker wrote while no meshd ran is shown by the new one: no gap
sed -n 's/^ticker\.0 *| tick \([0-9]*\)$/\1/p' "$LOG" | sort -n | uniq >"$T/ticks"
last=$(tail -1 "$T/ticks")
echo "# ticker: lines 1..${last:-0} expected in meshd.log, $(wc -l <"$T/ticks") distinct found"
check "ticker's lines from before, during and after the gap are all in the log" \
	test "$(wc -l <"$T/ticks")" -eq "${last:-0}" -a "${last:-0}" -gt 40
check "the adopted sidecars got new leaves from the new meshd" \
	sh -c "meshctl certs -f $T/mesh.ini | grep -q 'gateway.0'"

# an adopted app that dies is restarted, as any would be
APP0=$(meshctl status -f "$T/mesh.ini" --json | python3 -c '
import json, sys
print([i["app_pid"] for s in json.load(sys.stdin)["services"] for i in s["instances"] if i["name"] == "api.0"][0])')
kill -9 "$APP0"
check "an adopted app killed: meshd sees it (pidfd) and restarts it" \
	wait_for 10 sh -c "meshctl status -f $T/mesh.ini --json | grep -q '\"restarts\": *1'"
check "...and it answers again" wait_for 10 sh -c "curl -s -m 2 http://127.0.0.1:23401/ | grep -q api-v1-"
is "still 2 testapps" "$(napps)" 2

ALL="$M2 $(procs) $AFTER"
timeout 40 meshctl down -f "$T/mesh.ini" >/dev/null 2>&1
is "meshctl down exits 0" "$?" 0
left=""; for p in $ALL; do alive "$p" && left="$left $p"; done
is "down: every process (adopted ones too) is gone, by pid" "$left" ""
is "down: nothing left (pgrep)" "$(leftovers "$T")" ""
is "down: no log file left" "$(ls "$T/.mesh/run/logs" 2>/dev/null)" ""
no_sanitizer_report "$LOG"
