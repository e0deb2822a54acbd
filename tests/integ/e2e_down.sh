#!/bin/bash
# SPDX-License-Identifier: ISC
# e2e_down: nothing of a mesh survives it being stopped, whichever way.
#   gateway (pure client, 127.0.0.1:22701) -> web (2 instances, 22710-22711)
# 1. `meshctl up -d` then `meshctl down`: every pid status --json reported,
#    meshd's, and anything whose command line mentions the test directory
#    is gone; the ports are free; status then says "not running" (exit 3).
# 2. Foreground `meshctl up`, Ctrl-C (SIGINT to its process group, as a
#    terminal sends it): the same; its output streamed the apps' log lines
#    with a prefix.  Then foreground again and SIGTERM to meshctl alone.
# 3. `meshctl up -d`, meshd killed with SIGKILL: the sidecars keep serving;
#    the next `meshctl up -d` succeeds and replaces what was left: no
#    duplicate app or sidecar, no port conflict; `meshctl down` then leaves
#    nothing, old processes included.
# Ports: 22700-22799.
. "$(dirname "$0")/lib.sh"

cp "$MESH_APPS/testapp" "$T/testapp"
cat >"$T/mesh.ini" <<EOF
[mesh]
name = e2e-down
port_base = 22750

[service.gateway]
upstreams = web:22701

[service.web]
command = $T/testapp --port \$PORT
port = 22710
instances = 2
EOF

G=http://127.0.0.1:22701
F=$T/mesh.ini
PIDFILE=$T/.mesh/run/meshd.pid

# the pids among $@ that still exist and are not zombies
alive() {
	local p st
	for p in "$@"; do
		st=$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null) || continue
		[ -n "$st" ] && [ "$st" != Z ] && echo "$p"
	done
}
proxies_of() { local p; for p in "$@"; do [ "$(cat /proc/$p/comm 2>/dev/null)" = mesh-proxy ] && echo "$p"; done; }
apps() { pgrep -f "^$T/testapp"; }
answers() { curl -sS -m 3 "$G/" 2>/dev/null | grep -Eqx 'web-v1-[01]'; }
none_alive() { [ -z "$(alive "$@")" ]; }
# everything a running mesh consists of: status pids, meshd, and anything
# whose command line mentions $T (apps, meshd -f $T/mesh.ini)
collect() { { status_pids; cat "$PIDFILE" 2>/dev/null; echo; leftovers "$T"; } | grep -E '^[0-9]+$' | sort -un; }

# The mesh is gone: every pid in $@ gone, nothing from $T, ports free.
assert_gone() {
	local what=$1; shift
	check "$what: every process is gone ($# known)" wait_for 10 none_alive "$@"
	local left; left=$(alive "$@")
	[ -n "$left" ] && ps -o pid,ppid,stat,args -p "$(echo $left | tr ' ' ,)" | sed 's/^/#   /'
	is "$what: nothing mentions the test directory" "$(leftovers "$T" | tr '\n' ' ')" ""
	local port
	for port in 22701 22710 22711; do
		check "$what: port $port is free" bash -c "! (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null"
	done
}

# ---- 1. up -d, down
mesh_up "$F" >"$T/up1.log" 2>&1
rc=$?
is "up -d exits 0" "$rc" 0
if [ "$rc" -ne 0 ]; then
	sed 's/^/#   /' "$T/up1.log" | head -30
	exit 1
fi
check "the mesh answers" wait_for 10 answers
pids=$(collect)
n_sp=$(status_pids | wc -l)
echo "# pids: $(echo $pids)"
check "status --json reports at least 5 pids (2 apps, 3 sidecars; got $n_sp)" test "$n_sp" -ge 5
is "2 apps run" "$(apps | wc -l)" 2
is "3 sidecars among the status pids" "$(proxies_of $(status_pids) | wc -l)" 3
timeout 40 meshctl down -f "$F" >"$T/down1.log" 2>&1
is "down exits 0" "$?" 0
assert_gone "after down" $pids
meshctl status -f "$F" >/dev/null 2>&1
is "status after down exits 3 (not running)" "$?" 3

# ---- 2. foreground up, Ctrl-C
# A non-interactive shell starts background jobs with SIGINT ignored; a
# terminal's Ctrl-C reaches a process that has it at default, in its own
# foreground group.  So: default SIGINT, a new session, then exec.
fg_up() {
	python3 -c 'import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.setsid()
os.execvp(sys.argv[1], sys.argv[1:])' meshctl up -f "$F" >"$T/$1.log" 2>&1 &
	FG=$!
	_pids+=("$FG")
}
exited() { local st; st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null); [ -z "$st" ] || [ "$st" = Z ]; }

fg_up fg1
check "foreground up: the mesh answers" wait_for 30 answers
pids=$(collect)
echo "# pids: $(echo $pids)"
is "foreground up: 2 apps run" "$(apps | wc -l)" 2
kill -INT -- "-$FG"
check "Ctrl-C: meshctl up returns within 30 s" wait_for 30 exited "$FG"
wait "$FG"; rc=$?
echo "# exit status after Ctrl-C: $rc"
check "Ctrl-C: exit status 0 or 130 (got $rc)" test "$rc" -eq 0 -o "$rc" -eq 130
assert_gone "after Ctrl-C" $pids
if grep -Eq '.+web-v1-[01] listening on 127\.0\.0\.1:2271[01]' "$T/fg1.log"; then
	ok "foreground output streams the apps' lines with a prefix"
else
	not_ok "foreground output streams the apps' lines with a prefix" "$(head -c 600 "$T/fg1.log")"
fi

fg_up fg2
check "foreground up again: the mesh answers" wait_for 30 answers
pids=$(collect)
kill -TERM "$FG"
check "SIGTERM: meshctl up returns within 30 s" wait_for 30 exited "$FG"
wait "$FG"; rc=$?
is "SIGTERM: exit status 0" "$rc" 0
assert_gone "after SIGTERM" $pids

# ---- 3. meshd killed with SIGKILL, then up again
mesh_up "$F" >"$T/up3.log" 2>&1
is "up -d exits 0" "$?" 0
check "the mesh answers" wait_for 10 answers
meshd=$(cat "$PIDFILE" 2>/dev/null)
check "meshd pid file names a live meshd (${meshd:-none})" \
	test -n "$meshd" -a "$(cat /proc/${meshd:-0}/comm 2>/dev/null)" = meshd
old=$(collect)
old_apps=$(apps)
old_proxies=$(proxies_of $old)
kill -9 "$meshd"
check "meshd is gone" wait_for 5 exited "$meshd"
check "the sidecars keep serving without meshd" answers
timeout 70 meshctl up -d -f "$F" >"$T/up4.log" 2>&1
rc=$?
is "the next up -d exits 0 (no port conflict)" "$rc" 0
[ "$rc" -ne 0 ] && sed 's/^/#   /' "$T/up4.log" | head -20
check "the mesh answers again" wait_for 10 answers
new=$(collect)
echo "# before: $(echo $old)"
echo "# after:  $(echo $new)"
is "exactly 2 apps run (no duplicates)" "$(apps | wc -l)" 2
new_proxies=$(proxies_of $(status_pids))
is "exactly 3 sidecars in status" "$(echo $new_proxies | wc -w)" 3
# every old sidecar and app is either gone or adopted (still in status)
stray=""
for p in $(alive $old_proxies $old_apps); do
	grep -qx "$p" <(status_pids) || stray="$stray $p"
done
is "no process of the killed meshd left behind" "$stray" ""
newd=$(cat "$PIDFILE" 2>/dev/null)
check "a new meshd runs (${newd:-none}, was $meshd)" test -n "$newd" -a "${newd:-0}" != "$meshd"
timeout 40 meshctl down -f "$F" >"$T/down3.log" 2>&1
is "down exits 0" "$?" 0
assert_gone "after down (old and new)" $old $new
check "the mesh's log is there to look at" test -s "$T/.mesh/run/meshd.log"
no_sanitizer_report "$T/.mesh/run/meshd.log" "$T"/fg*.log
exit 0
