#!/bin/bash
# SPDX-License-Identifier: ISC
# console_top: the dashboard's `t` (tap) and `l` (logs) keys and its `f`
# (fault) and `m` (mirror) forms, driven headless in tmux (its own server
# socket):
#
#   gateway (pure client, 127.0.0.1:25301) -> api (v1 x2, all the traffic; v2)
#
# Asserts: `/api` Enter-less selection then `t` opens "TAP api" and the
# requests sent after it (distinct paths, one 503) appear in it with
# their caller, instance and status; Esc goes back to the main view and
# the sidecars stop recording within the lease (3 s); `l` on api shows
# api's last log lines (a line the app printed at start); `f` opens the
# fault form (labelled fields, the status 503 prefilled): 20 in Abort %,
# Tab Tab 10 in Delay %, Down 20ms in Delay, Enter puts that fault on api
# (its row tagged FAULT, status --json has it, some requests get the
# injected 503, others pass); reopened, the form shows it; Esc cancels;
# ^D turns it off; a value meshd refuses (120%) shows on the status line;
# every share 0 is off too; `m` opens the mirror form on the canary
# version, which fits an 80x24 terminal framed (and stays, alone, at
# 60x20); Tab 100 Enter mirrors api to v2 (MIRROR tag, status says
# live), a version api lacks is refused on the status line, an emptied
# percent turns it off; `q` exits 0.
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
capgrep() { cap | grep "$@"; }
TM send-keys -t top f
check "f opens the fault form of api" wait_for 5 bash -c \
	"tmux -L '$TS' capture-pane -p -t top | grep -q 'Fault injection: api'"
cap >"$T/frame-form.txt"
sed 's/^/# /' "$T/frame-form.txt"
check "the form starts on Abort %, empty, the status 503" bash -c "
	grep -Eq '> Abort % +\[ +\]' '$T/frame-form.txt' &&
	grep -Eq 'Abort status +\[503 +\]' '$T/frame-form.txt'"
check "every field is labelled, the keys are hinted" bash -c "
	for l in 'Delay %' 'Delay ' 'Version' 'Match header' 'Enter apply' 'Esc cancel'; do
		grep -qF \"\$l\" '$T/frame-form.txt' || exit 1
	done"
# 20% aborts; Tab Tab to Delay %, 10; Down to Delay, 20ms; Enter
TM send-keys -t top 2 0 Tab Tab 1 0 Down 2 0 m s
check "typing fills the focused field" wait_for 5 bash -c \
	"tmux -L '$TS' capture-pane -p -t top | grep -Eq '> Delay +\[20ms +\]'"
TM send-keys -t top Enter
check "api's row shows FAULT" wait_for 5 bash -c \
	"tmux -L '$TS' capture-pane -p -t top | grep -Eq '^api +FAULT '"
check "meshd has the fault of the fields (status --json)" wait_for 5 bash -c \
	"meshctl status -f '$T/mesh.ini' --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
f = [r[\"fault\"] for r in d[\"routes\"] if r[\"name\"] == \"api\"]
sys.exit(not (f and f[0] and f[0][\"abort_percent\"] == 20 and f[0][\"abort_status\"] == 503
    and f[0][\"delay_percent\"] == 10 and f[0][\"delay_ms\"] == 20 and f[0][\"source\"] == \"live\"))'"
# 20%: some requests get the injected 503, the others go through
injected=0 passed=0
for i in $(seq 1 80); do
	h=$(curl -s -m 5 -D - -o /dev/null -H 'Host: api' "http://127.0.0.1:25301/whoami?f=$i")
	if grep -qi '^mesh-error: fault injected' <<<"$h"; then
		grep -q '^HTTP/1.1 503' <<<"$h" && injected=$((injected + 1))
	elif grep -q '^HTTP/1.1 200' <<<"$h"; then
		passed=$((passed + 1))
	fi
	[ "$injected" -ge 3 ] && [ "$passed" -ge 3 ] && break
done
echo "# of up to 80 requests: $injected injected 503s, $passed passed"
check "requests through the gateway get injected 503s, and others pass" \
	test "$injected" -ge 3 -a "$passed" -ge 3
# the caller's detail view counts what its sidecar injected, apart
TM send-keys -t top / g a t e w a y Enter
sleep 0.3
TM send-keys -t top Enter
check "gateway's detail counts the faults its sidecar injected" wait_for 5 bash -c \
	"tmux -L '$TS' capture-pane -p -t top | grep -Eq '^CHAOS  faults injected into its calls: [1-9]'"
TM send-keys -t top Escape
TM send-keys -t top / a p i Enter
sleep 0.3
# reopened, the form shows the fault in force; Esc cancels, nothing sent
TM send-keys -t top f
check "the form is prefilled with the fault in force" wait_for 5 bash -c "
	c=\$(tmux -L '$TS' capture-pane -p -t top)
	grep -Eq '> Abort % +\[20 +\]' <<<\"\$c\" && grep -Eq 'Delay % +\[10 +\]' <<<\"\$c\" &&
	grep -Eq 'Delay +\[20ms +\]' <<<\"\$c\""
TM send-keys -t top Escape
check "Esc cancels the form" wait_for 5 bash -c "
	c=\$(tmux -L '$TS' capture-pane -p -t top)
	grep -q '^cancelled' <<<\"\$c\" && ! grep -q 'Fault injection' <<<\"\$c\""
check "Esc left the fault on" capgrep -Eq '^api +FAULT '
# ^D in the form: off
TM send-keys -t top f
sleep 0.3
TM send-keys -t top C-d
check "f ^D: the tag goes" wait_for 5 bash -c \
	"tmux -L '$TS' capture-pane -p -t top | grep -Eq '^api +(ok|[0-9])'"
check "f ^D: requests answer 200 again" wait_for 5 bash -c \
	"[ \"\$(curl -s -m 5 -o /dev/null -w '%{http_code}' -H 'Host: api' http://127.0.0.1:25301/whoami)\" = 200 ]"
check "f ^D: status has no fault on api" bash -c \
	"meshctl status -f '$T/mesh.ini' --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
sys.exit(any(r[\"fault\"] for r in d[\"routes\"] if r[\"name\"] == \"api\"))'"
# a value meshd refuses: its reason on the status line, nothing changes
TM send-keys -t top f
sleep 0.3
TM send-keys -t top 1 2 0 Enter
check "a bad value is refused on the status line" wait_for 5 bash -c \
	"tmux -L '$TS' capture-pane -p -t top | grep -q 'failed: .*120%'"
check "the refused value changed nothing" capgrep -Eq '^api +(ok|[0-9])'
# every share 0 is off too (a fault set from the shell first)
meshctl fault -f "$T/mesh.ini" api --abort 100%:503 >/dev/null
check "a fault set from the shell tags api" wait_for 5 bash -c \
	"tmux -L '$TS' capture-pane -p -t top | grep -Eq '^api +FAULT '"
TM send-keys -t top f
check "the form shows the shell's fault" wait_for 5 bash -c \
	"tmux -L '$TS' capture-pane -p -t top | grep -Eq '> Abort % +\[100 +\]'"
TM send-keys -t top C-u 0 Enter
check "f with every share 0: the tag goes" wait_for 5 bash -c \
	"tmux -L '$TS' capture-pane -p -t top | grep -Eq '^api +(ok|[0-9])'"
check "f with every share 0: requests answer 200 again" wait_for 5 bash -c \
	"[ \"\$(curl -s -m 5 -o /dev/null -w '%{http_code}' -H 'Host: api' http://127.0.0.1:25301/whoami)\" = 200 ]"

# ---- m: the mirror form (api@v2, the canary, is the target); the MIRROR tag
TM send-keys -t top m
check "m opens the mirror form of api, on the canary version" wait_for 5 bash -c \
	"tmux -L '$TS' capture-pane -p -t top | grep -Eq '> Version +\[v2 +\]'"
check "m's form is titled" capgrep -q 'Mirror: api'
check "m's form has an empty Percent field" capgrep -Eq 'Percent +\[ +\]'
# 80x24: the form fits whole, framed, with its keys
TM resize-window -t top -x 80 -y 24
check "at 80x24 the form fits, framed, with its key hint" wait_for 5 bash -c "
	c=\$(tmux -L '$TS' capture-pane -p -t top)
	[ \$(wc -l <<<\"\$c\") -le 24 ] && grep -q 'Mirror: api' <<<\"\$c\" &&
	grep -Eq 'Percent +\[ +\]' <<<\"\$c\" && grep -q 'Esc cancel' <<<\"\$c\" &&
	grep -q '^mesh console-top' <<<\"\$c\""
cap >"$T/frame-mirror.txt"
sed 's/^/# /' "$T/frame-mirror.txt"
# below 80x24 the table gives way to "too small", the open form stays
TM resize-window -t top -x 60 -y 20
check "at 60x20 the open form is still drawn" wait_for 5 bash -c "
	c=\$(tmux -L '$TS' capture-pane -p -t top)
	grep -q 'Mirror: api' <<<\"\$c\" && grep -Eq '> Version +\[v2 +\]' <<<\"\$c\""
TM resize-window -t top -x 80 -y 24
check "back at 80x24 the table is behind the form" wait_for 5 bash -c "
	c=\$(tmux -L '$TS' capture-pane -p -t top)
	grep -q 'Mirror: api' <<<\"\$c\" && grep -q '^SERVICE ' <<<\"\$c\""
TM send-keys -t top Tab 1 0 0 Enter
check "api's row shows MIRROR" wait_for 5 bash -c \
	"tmux -L '$TS' capture-pane -p -t top | grep -Eq '^api +MIRROR '"
check "meshd has the mirror, live (status --json)" wait_for 5 bash -c \
	"meshctl status -f '$T/mesh.ini' --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
m = [r[\"mirror\"] for r in d[\"routes\"] if r[\"name\"] == \"api\"]
sys.exit(not (m and m[0] and m[0][\"version\"] == \"v2\" and m[0][\"percent\"] == 100
    and m[0][\"source\"] == \"live\"))'"
# a version api does not have: refused on the status line
TM send-keys -t top m
sleep 0.3
TM send-keys -t top C-u v 9 Enter
check "a version api does not have is refused on the status line" wait_for 5 bash -c \
	"tmux -L '$TS' capture-pane -p -t top | grep -q 'failed: .*v9'"
# reopened: prefilled with the mirror in force; an emptied percent is off
TM send-keys -t top m
check "the mirror form is prefilled with the mirror in force" wait_for 5 bash -c \
	"tmux -L '$TS' capture-pane -p -t top | grep -Eq 'Percent +\[100 +\]'"
TM send-keys -t top Tab C-u Enter
check "m with an empty percent: the tag goes" wait_for 5 bash -c \
	"tmux -L '$TS' capture-pane -p -t top | grep -Eq '^api +(ok|[0-9])'"
check "m off: status has no mirror on api" bash -c \
	"meshctl status -f '$T/mesh.ini' --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
sys.exit(any(r[\"mirror\"] for r in d[\"routes\"] if r[\"name\"] == \"api\"))'"
cap >"$T/frame-fault.txt"
sed 's/^/# /' "$T/frame-fault.txt" | tail -4

# ---- q exits 0
TM send-keys -t top q
check "q exits top" wait_for 5 test -s "$T/top.rc"
is "top's exit code" "$(cat "$T/top.rc" 2>/dev/null)" 0

mesh_down_checked "$T/mesh.ini"
exit 0
