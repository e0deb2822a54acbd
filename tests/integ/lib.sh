# SPDX-License-Identifier: ISC
# Shared helpers for integration scenarios.  Source it first thing:
#   . "$(dirname "$0")/lib.sh"
# Gives: $MESH_BIN, $MESH_APPS, $T (a private temp dir, removed at exit),
#   ok NAME / not_ok NAME [DETAIL] / check NAME CMD... / is NAME GOT WANT
#   spawn NAME CMD...      start CMD in the background, remember its pid (killed at exit)
#   mesh_up FILE [ARGS]    `meshctl up -d -f FILE`; the mesh is brought down at exit
#   wait_port PORT [SECS]  until 127.0.0.1:PORT accepts connections
#   wait_for SECS CMD...   until CMD succeeds (polling every 0.1 s)
#   leftovers DIR          pids of processes whose command line mentions DIR
# Every scenario is bounded: run.sh runs each under `timeout`.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-build}
MESH_BIN=${MESH_BIN:-$ROOT/$BUILD/bin}
MESH_APPS=${MESH_APPS:-$ROOT/$BUILD/apps}
export PATH="$MESH_BIN:$MESH_APPS:$PATH"
export MESH_PROXY="$MESH_BIN/mesh-proxy"
unset http_proxy HTTP_PROXY https_proxy HTTPS_PROXY all_proxy ALL_PROXY
T=$(mktemp -d "/tmp/meshtest.$(basename "$0" .sh).XXXXXX")
_pids=()
_meshes=()

ok()     { echo "ok - $1"; }
not_ok() { echo "not ok - $1"; [ $# -gt 1 ] && printf '#   %s\n' "${@:2}"; return 0; }
check()  { local n=$1; shift; if "$@" >"$T/check.out" 2>&1; then ok "$n"; else not_ok "$n" "$(head -c 600 "$T/check.out")"; fi; }
is()     { if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "got:  $2" "want: $3"; fi; }

spawn() {
	local name=$1; shift
	"$@" >"$T/$name.log" 2>&1 &
	_pids+=($!)
	echo $! >"$T/$name.pid"
}

wait_for() {
	local secs=$1; shift
	local n=$((secs * 10))
	while [ $n -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1; n=$((n - 1))
	done
	return 1
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_port() { wait_for "${2:-10}" port_open "$1"; }

mesh_up() {
	local f=$1; shift
	_meshes+=("$f")
	meshctl up -d -f "$f" "$@"
}

# mesh_up FILE, asserted; when it fails, its output as comments and the
# scenario stops (what follows would only fail for the same reason)
mesh_up_or_stop() {
	mesh_up "$1" >"$T/up.log" 2>&1
	local rc=$?
	is "meshctl up -d exits 0" "$rc" 0
	if [ "$rc" -ne 0 ]; then
		sed 's/^/#   /' "$T/up.log" | head -30
		exit 1
	fi
}

leftovers() { pgrep -f -- "$1" | grep -vx "$$" || true; }

# ok when none of the logs holds a sanitizer report (ASan, LSan, UBSan)
no_sanitizer_report() {
	if grep -qE 'Sanitizer|runtime error:' "$@" 2>/dev/null; then
		not_ok "no sanitizer report in the mesh's log" "$(grep -h -m5 -E 'Sanitizer|runtime error:' "$@")"
	else
		ok "no sanitizer report in the mesh's log"
	fi
}

# Stop the mesh of FILE now, so that exit-time sanitizer reports reach its
# log (every process's stderr goes to <state_dir>/run/meshd.log), then look
# for them.  LOG defaults to the .mesh state dir beside FILE.
mesh_down_checked() {
	local f=$1 log=${2:-$(dirname "$1")/.mesh/run/meshd.log}
	timeout 40 meshctl down -f "$f" >/dev/null 2>&1
	is "meshctl down exits 0" "$?" 0
	check "the mesh's log is there to look at" test -s "$log"
	no_sanitizer_report "$log"
}

# pids [JSON_FILE]: every int under a key ending in "pid" in a JSON document
# (stdin without a file), one a line, sorted
pids() {
	python3 -c '
import json, sys
def walk(o, k=""):
    if isinstance(o, dict):
        for kk, v in o.items(): walk(v, kk)
    elif isinstance(o, list):
        for v in o: walk(v, k)
    elif isinstance(o, int) and not isinstance(o, bool) and k.endswith("pid") and o > 1:
        print(o)
walk(json.load(open(sys.argv[1]) if len(sys.argv) > 1 else sys.stdin))' "$@" 2>/dev/null | sort -un
}

# Every pid `meshctl status --json` reports for FILE (default $T/mesh.ini)
status_pids() { meshctl status -f "${1:-$T/mesh.ini}" --json 2>/dev/null | pids; }

# alive PID: it exists and is not a zombie
alive() { [ -r "/proc/$1/stat" ] && ! sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | grep -q '^[ZX]'; }

_cleanup() {
	local f p
	for f in "${_meshes[@]}"; do timeout 20 meshctl down -f "$f" >/dev/null 2>&1 || true; done
	for p in "${_pids[@]}"; do kill "$p" 2>/dev/null || true; done
	sleep 0.2
	for p in "${_pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
	# last resort: anything still running from this test's directory
	for p in $(leftovers "$T"); do kill -9 "$p" 2>/dev/null || true; done
	[ -n "${MESH_KEEP:-}" ] && echo "# kept $T" || rm -rf "$T"
}
trap _cleanup EXIT
