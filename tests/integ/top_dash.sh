#!/bin/bash
# SPDX-License-Identifier: ISC
# top_dash: `meshctl top` driven headless in tmux (its own server socket):
#
#   gateway (pure client, 127.0.0.1:31601) -> web -> api (v1 x2, v2) -> users
#   route api: split v1:90, v2:10
#
# Asserts: at 80x24 the dashboard lists every service under its header;
# under a bounded curl loop the service rows change between two captures
# and api's RPS is above 0 (needs the sidecars' rate ring and peer rows);
# `/api` Enter `+` asks, `y` moves the canary 90/10 -> 85/15 as `meshctl
# status --json` reports; `-` `n` changes nothing; a resize to 120x40 shows
# the wide columns and every row, back to 80x24 every row again, 60x20
# says "terminal too small"; Enter opens the detail view; `q` exits 0 and
# leaves the tty sane (icanon, echo); TERM=dumb or no tty prints the
# status table (exit 0); -i takes decimals and refuses 0; the one-shot
# `meshctl restart` and `meshctl breaker-reset`.
# Ports: 31600-31699 (below the ephemeral range, 32768 and up, where an
# earlier test's outgoing socket can hold a port).
. "$(dirname "$0")/tmux.bash"

cp "$MESH_APPS/testapp" "$T/testapp"
cat >"$T/mesh.ini" <<EOF
[mesh]
name = top-dash
port_base = 31650

[service.gateway]
upstreams = web:31601

[service.web]
command = $T/testapp --port \$PORT
port = 31610
upstreams = api

[service.api]
command = $T/testapp --port \$PORT
port = 31611
instances = 2
upstreams = users

[service.api@v2]
command = $T/testapp --port \$PORT
port = 31620

[service.users]
command = $T/testapp --port \$PORT
port = 31630

[route.api]
split = v1:90, v2:10
EOF

mesh_up_or_stop "$T/mesh.ini"

# every service has its row (a name at the start of a line)
all_rows() {
	local c s
	c=$(cap)
	grep -q '^mesh top-dash ' <<<"$c" || return 1
	for s in gateway web api users; do
		grep -q "^$s " <<<"$c" || return 1
	done
}
# the service rows only (not the header: its uptime always moves)
svc_rows() { cap | grep -E '^(gateway|web|api|users) '; }
weights() {
	meshctl status -f "$T/mesh.ini" --json 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
for r in d.get("routes", []):
    if r["name"] == "api":
        print(" ".join("%s=%s" % (s["version"], s["weight"]) for s in r["split"]))'
}

# ---- 80x24: the main view
TM new-session -d -s top -x 80 -y 24 \
	"TERM=screen LANG=C.UTF-8 meshctl top -f '$T/mesh.ini' -i 0.5; echo \$? >'$T/top.rc'; stty -a >'$T/stty.txt' 2>&1; sleep 120"
check "the dashboard lists every service at 80x24" wait_for 10 all_rows
cap >"$T/frame-80x24.txt"
sed 's/^/# /' "$T/frame-80x24.txt"
check "the header names the mesh, rps, errors, cert expiry" \
	grep -Eq '^mesh top-dash +up .* rps +err .*cert ' "$T/frame-80x24.txt"
check "no line is wider than 80 columns" awk 'length($0) > 80 { exit 1 }' "$T/frame-80x24.txt"
check "api shows its canary weights 90/10" grep -Eq '^api .* 90/10( |$)' "$T/frame-80x24.txt"

# ---- numbers change under load (bounded: 600 requests, 40 s at most)
(
	end=$((SECONDS + 40))
	for i in $(seq 1 600); do
		[ $SECONDS -ge $end ] && break
		curl -s -m 2 -o /dev/null "http://127.0.0.1:31601/call?url=http://api/call?url=http://users/"
	done
) &
load=$!
sleep 3
svc_rows >"$T/rows1"
sleep 2.5
svc_rows >"$T/rows2"
if cmp -s "$T/rows1" "$T/rows2"; then
	not_ok "the service rows change between two captures under load" "$(cat "$T/rows2")"
else
	ok "the service rows change between two captures under load"
fi
rps=$(awk '$1 == "api" { print $3 }' "$T/rows2")
check "api's RPS is above 0 under load (got '$rps')" \
	awk -v r="$rps" 'BEGIN { exit !(r + 0 > 0) }'
kill "$load" 2>/dev/null
wait "$load" 2>/dev/null

# ---- / api Enter, +, y: the canary moves 5 points, through meshd
is "weights before" "$(weights)" "v1=90 v2=10"
TM send-keys -t top / a p i Enter
sleep 0.5
TM send-keys -t top +
check "+ asks before moving api's canary" wait_for 5 bash -c \
	"tmux -L '$TS' capture-pane -p -t top | grep -q 'Move api canary v2 10% -> 15%.*\[y/n\]'"
TM send-keys -t top y
check "y applies it: status --json says v1=85 v2=15" wait_for 10 bash -c \
	"[ \"\$(meshctl status -f '$T/mesh.ini' --json | python3 -c 'import json,sys; print([s[\"weight\"] for r in json.load(sys.stdin)[\"routes\"] if r[\"name\"]==\"api\" for s in r[\"split\"]])')\" = '[85, 15]' ]"
check "the dashboard shows 85/15" wait_for 5 bash -c \
	"tmux -L '$TS' capture-pane -p -t top | grep -Eq '^api .* 85/15( |$)'"
TM send-keys -t top -
sleep 0.5
TM send-keys -t top n
sleep 1
is "- then n changes nothing" "$(weights)" "v1=85 v2=15"

# ---- resize: 120x40 shows the wide columns and every row, and back
TM resize-window -t top -x 120 -y 40
check "at 120x40 the wide columns appear (P95, CONN)" wait_for 5 bash -c \
	"tmux -L '$TS' capture-pane -p -t top | grep -Eq '^SERVICE +STATE .*P95 .*CONN'"
check "at 120x40 the header and every service are drawn" all_rows
is "the capture is 40 lines" "$(cap | wc -l)" 40
TM resize-window -t top -x 80 -y 24
check "back at 80x24 the wide columns are gone" wait_for 5 bash -c \
	"! tmux -L '$TS' capture-pane -p -t top | grep -q 'P95'"
check "back at 80x24 the header and every service are drawn" wait_for 3 all_rows
TM resize-window -t top -x 60 -y 20
check "at 60x20 it says the terminal is too small" wait_for 5 bash -c \
	"tmux -L '$TS' capture-pane -p -t top | grep -q 'terminal too small'"
TM resize-window -t top -x 80 -y 24
check "80x24 again: every service" wait_for 5 all_rows

# ---- detail view
TM send-keys -t top / w e b Enter
sleep 0.3
TM send-keys -t top Enter
check "Enter opens web's detail view (instances, routes, requests)" wait_for 5 bash -c \
	"c=\$(tmux -L '$TS' capture-pane -p -t top); grep -q '^web (http)' <<<\"\$c\" && grep -q '^INSTANCE' <<<\"\$c\" && grep -q '^ROUTES' <<<\"\$c\" && grep -q '^  api ' <<<\"\$c\""
TM send-keys -t top Escape
check "Escape returns to the main view" wait_for 5 all_rows

# ---- q: exit 0, the terminal sane again
TM send-keys -t top q
check "q ends meshctl top" wait_for 10 test -s "$T/top.rc"
is "meshctl top exits 0 on q" "$(cat "$T/top.rc" 2>/dev/null)" 0
# top.rc is written before `stty -a` runs: wait for its output too
check "the tty has icanon" wait_for 5 grep -Eq '(^|[ ;])icanon([ ;]|$)' "$T/stty.txt"
check "the tty has echo" wait_for 5 grep -Eq '(^|[ ;])echo([ ;]|$)' "$T/stty.txt"
TM kill-server >/dev/null 2>&1

# ---- no terminal: the status table instead
TERM=dumb meshctl top -f "$T/mesh.ini" >"$T/dumb.out" 2>&1 </dev/null
is "TERM=dumb: exit 0" "$?" 0
check "TERM=dumb prints the status table with every service" bash -c \
	"grep -q '^SERVICE ' '$T/dumb.out' && for s in gateway web api users; do grep -q \"^\$s \" '$T/dumb.out' || exit 1; done"
meshctl top -f "$T/mesh.ini" </dev/null 2>&1 | cat >"$T/notty.out"
is "no tty: exit 0" "${PIPESTATUS[0]}" 0
check "no tty prints the status table with every service" bash -c \
	"for s in gateway web api users; do grep -q \"^\$s \" '$T/notty.out' || exit 1; done"

# ---- options
meshctl top -f "$T/mesh.ini" -i 0 >/dev/null 2>&1 </dev/null
is "-i 0 is a usage error" "$?" 2
meshctl top -f "$T/mesh.ini" -i x >/dev/null 2>&1 </dev/null
is "-i x is a usage error" "$?" 2
meshctl top -f "$T/mesh.ini" -i 0.5 >/dev/null 2>&1 </dev/null
is "-i 0.5 is accepted" "$?" 0

# ---- the one-shot commands behind r and b
before=$(meshctl status -f "$T/mesh.ini" --json | python3 -c '
import json, sys
for s in json.load(sys.stdin)["services"]:
    for i in s["instances"]:
        if i["name"] == "users.0": print(i["app_pid"], i["restarts"])')
meshctl restart -f "$T/mesh.ini" users.0 >"$T/restart.out" 2>&1
is "meshctl restart users.0 exits 0" "$?" 0
check "users.0 runs again with a new pid and one restart more (was: $before)" wait_for 10 bash -c "
meshctl status -f '$T/mesh.ini' --json | python3 -c '
import json, sys
old_pid, old_r = \"$before\".split()
for s in json.load(sys.stdin)[\"services\"]:
    for i in s[\"instances\"]:
        if i[\"name\"] == \"users.0\":
            sys.exit(not (i[\"state\"] == \"running\" and str(i[\"app_pid\"]) != old_pid and i[\"restarts\"] == int(old_r) + 1))
sys.exit(1)'"
meshctl restart -f "$T/mesh.ini" nosuch.0 >/dev/null 2>&1
is "meshctl restart of an unknown instance exits 1" "$?" 1
r=$(meshctl breaker-reset -f "$T/mesh.ini" api 2>&1)
is "meshctl breaker-reset api exits 0" "$?" 0
check "it reached api's callers (web) (got '$r')" grep -q 'reset in 1 caller' <<<"$r"
meshctl breaker-reset -f "$T/mesh.ini" api v2.0 >/dev/null 2>&1
is "meshctl breaker-reset api v2.0 exits 0" "$?" 0
meshctl breaker-reset -f "$T/mesh.ini" nosuch >/dev/null 2>&1
is "meshctl breaker-reset of an unknown service exits 1" "$?" 1
check "web's sidecar logged the reset" wait_for 5 grep -q 'breaker reset asked by meshd for api' \
	"$T/.mesh/run/meshd.log"

mesh_down_checked "$T/mesh.ini"
exit 0
