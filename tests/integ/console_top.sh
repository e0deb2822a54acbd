#!/bin/bash
# SPDX-License-Identifier: ISC
# console_top: the dashboard's `t` (tap) and `l` (logs) keys, driven
# headless in tmux (its own server socket):
#
#   gateway (pure client, 127.0.0.1:25301) -> api (v1 x2, all the traffic; v2)
#
# Asserts: `/api` Enter-less selection then `t` opens "TAP api" and the
# requests sent after it (distinct paths, one 503) appear in it with
# their caller, instance and status; Esc goes back to the main view and
# the sidecars stop recording within the lease (3 s); `l` on api shows
# api's last log lines (a line the app printed at start); `f` then
# "abort 100%:503" Enter puts a fault on api (its row tagged FAULT,
# requests get the injected 503), `f` "off" clears it, a bad value is
# refused on the status line; `m` then "v2=100%" mirrors api to v2 (the
# row tagged MIRROR, status says live), `m` "off" clears it; `q` exits 0.
# Ports: 25300-25399.
. "$(dirname "$0")/tmux.bash"

cp "$MESH_APPS/testapp" "$T/testapp"
cat >"$T/mesh.ini" <<EOF
[mesh]
name = console-top
port_base = 25350
trace_sample = 0%

[service.gateway]
upstreams = api:25301

[service.api]
command = sh -c 'echo "api app \$MESH_INSTANCE says hello"; exec $T/testapp --port \$PORT'
port = 25310
instances = 2

[service.api@v2]
command = $T/testapp --port \$PORT
port = 25320

[route.api]
split = v1:100
EOF

mesh_up_or_stop "$T/mesh.ini"
check "listener 127.0.0.1:25301 accepts" wait_port 25301 10

TM new-session -d -s top -x 120 -y 40 \
	"TERM=screen LANG=C.UTF-8 meshctl top -f '$T/mesh.ini' -i 0.5; echo \$? >'$T/top.rc'; sleep 120"
check "the dashboard shows api" wait_for 10 bash -c "tmux -L '$TS' capture-pane -p -t top | grep -q '^api '"

# ---- t: the tap view of api
TM send-keys -t top / a p i Enter
sleep 0.5
TM send-keys -t top t
check "t opens the tap view of api" wait_for 5 bash -c \
	"tmux -L '$TS' capture-pane -p -t top | grep -q '^TAP api: live requests'"
check "the tap's lease is taken" wait_for 5 test -e "$T/.mesh/run/tap/api"
sleep 1.5   # the sidecars look at the lease every 0.5 s
for i in 1 2 3; do
	curl -s -m 5 -o /dev/null -H 'Host: api' "http://127.0.0.1:25301/whoami?top=$i"
done
curl -s -m 5 -o /dev/null -H 'Host: api' "http://127.0.0.1:25301/status/503?top=4"
check "the tapped requests appear in the view" wait_for 5 bash -c "
	c=\$(tmux -L '$TS' capture-pane -p -t top)
	for i in 1 2 3; do grep -q \"gateway -> api@v1\\.[01] .*GET /whoami?top=\$i .* 200 \" <<<\"\$c\" || exit 1; done
	grep -q 'GET /status/503?top=4 .* 503 ' <<<\"\$c\""
cap >"$T/frame-tap.txt"
sed 's/^/# /' "$T/frame-tap.txt"
check "the title counts what was shown" grep -Eq '^TAP api: .*\(([4-9]|[1-9][0-9]+) shown' "$T/frame-tap.txt"
check "the footer says how to go back" grep -q 'Esc back' "$T/frame-tap.txt"

# ---- Esc: back to the main view; the lease runs out
TM send-keys -t top Escape
check "Esc goes back to the main view" wait_for 5 bash -c \
	"tmux -L '$TS' capture-pane -p -t top | grep -q '^SERVICE '"
written() {
	python3 - "$T/.mesh/run/stats" <<'PY'
import os, struct, sys
# the sum of spans_written over api's stats files (stats.h: the span
# section's offset is the first u32 of the header's spans field)
tot = 0
for f in os.listdir(sys.argv[1]):
    if not f.startswith("api") or not f.endswith(".stats"):
        continue
    with open(os.path.join(sys.argv[1], f), "rb") as fh:
        b = fh.read()
    off = struct.unpack_from("<I", b, 56)[0]
    tot += struct.unpack_from("<Q", b, off)[0]
print(tot)
PY
}
sleep 4   # past the 3 s lease
before=$(written)
for i in 1 2 3; do
	curl -s -m 5 -o /dev/null -H 'Host: api' "http://127.0.0.1:25301/whoami?after=$i"
done
is "after Esc and the lease, api's sidecars record nothing (trace_sample 0%)" "$(written)" "$before"

# ---- l: the logs view of api
TM send-keys -t top l
check "l opens the logs view of api" wait_for 5 bash -c \
	"tmux -L '$TS' capture-pane -p -t top | grep -q '^LOGS api: the last lines'"
check "it shows the line api's app printed at start" wait_for 5 bash -c \
	"tmux -L '$TS' capture-pane -p -t top | grep -Eq '^api\\.[01] +\\| api app [01] says hello'"
cap >"$T/frame-logs.txt"
sed 's/^/# /' "$T/frame-logs.txt"
TM send-keys -t top Escape

# ---- f: the fault form; the row's FAULT tag while it is on
TM send-keys -t top f
check "f asks for the fault of api" wait_for 5 bash -c \
	"tmux -L '$TS' capture-pane -p -t top | grep -q '^fault api (abort'"
TM send-keys -t top "abort 100%:503" Enter
check "api's row shows FAULT" wait_for 5 bash -c \
	"tmux -L '$TS' capture-pane -p -t top | grep -Eq '^api +FAULT '"
check "meshd has the fault (status --json)" wait_for 5 bash -c \
	"meshctl status -f '$T/mesh.ini' --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
f = [r[\"fault\"] for r in d[\"routes\"] if r[\"name\"] == \"api\"]
sys.exit(not (f and f[0] and f[0][\"abort_percent\"] == 100 and f[0][\"abort_status\"] == 503))'"
check "requests through the gateway get the injected 503" wait_for 5 bash -c \
	"curl -s -m 5 -D - -o /dev/null -H 'Host: api' http://127.0.0.1:25301/whoami | grep -qi '^mesh-error: fault injected'"
# the caller's detail view counts what its sidecar injected, apart
TM send-keys -t top / g a t e w a y Enter
sleep 0.3
TM send-keys -t top Enter
check "gateway's detail counts the faults its sidecar injected" wait_for 5 bash -c \
	"tmux -L '$TS' capture-pane -p -t top | grep -Eq '^CHAOS  faults injected into its calls: [1-9]'"
TM send-keys -t top Escape
TM send-keys -t top / a p i Enter
sleep 0.3
TM send-keys -t top f
sleep 0.3
TM send-keys -t top off Enter
check "f off: the tag goes" wait_for 5 bash -c \
	"tmux -L '$TS' capture-pane -p -t top | grep -Eq '^api +(ok|[0-9])'"
check "f off: requests answer 200 again" wait_for 5 bash -c \
	"[ \"\$(curl -s -m 5 -o /dev/null -w '%{http_code}' -H 'Host: api' http://127.0.0.1:25301/whoami)\" = 200 ]"
TM send-keys -t top f
sleep 0.3
TM send-keys -t top "abort 120%:503" Enter
check "a bad value is refused on the status line" wait_for 5 bash -c \
	"tmux -L '$TS' capture-pane -p -t top | grep -q 'failed: .*120%'"
# ---- m: the mirror form (api@v2 is the target); the row's MIRROR tag
TM send-keys -t top m
check "m asks for the mirror of api" wait_for 5 bash -c \
	"tmux -L '$TS' capture-pane -p -t top | grep -q '^mirror api (VERSION=P%'"
TM send-keys -t top "v2=100%" Enter
check "api's row shows MIRROR" wait_for 5 bash -c \
	"tmux -L '$TS' capture-pane -p -t top | grep -Eq '^api +MIRROR '"
check "meshd has the mirror, live (status --json)" wait_for 5 bash -c \
	"meshctl status -f '$T/mesh.ini' --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
m = [r[\"mirror\"] for r in d[\"routes\"] if r[\"name\"] == \"api\"]
sys.exit(not (m and m[0] and m[0][\"version\"] == \"v2\" and m[0][\"source\"] == \"live\"))'"
TM send-keys -t top m
sleep 0.3
TM send-keys -t top off Enter
check "m off: the tag goes" wait_for 5 bash -c \
	"tmux -L '$TS' capture-pane -p -t top | grep -Eq '^api +(ok|[0-9])'"
cap >"$T/frame-fault.txt"
sed 's/^/# /' "$T/frame-fault.txt" | tail -4

# ---- q exits 0
TM send-keys -t top q
check "q exits top" wait_for 5 test -s "$T/top.rc"
is "top's exit code" "$(cat "$T/top.rc" 2>/dev/null)" 0

mesh_down_checked "$T/mesh.ini"
exit 0
