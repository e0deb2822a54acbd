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

leftovers() { pgrep -f -- "$1" | grep -vx "$$" || true; }

_cleanup() {
	local f p
	for f in "${_meshes[@]}"; do timeout 20 meshctl down -f "$f" >/dev/null 2>&1 || true; done
	for p in "${_pids[@]}"; do kill "$p" 2>/dev/null || true; done
	sleep 0.2
	for p in "${_pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
	# last resort: anything still running from this test's directory
	for p in $(leftovers "$T"); do kill -9 "$p" 2>/dev/null || true; done
	rm -rf "$T"
}
trap _cleanup EXIT
