#!/bin/bash
# SPDX-License-Identifier: ISC
# soak: 1,000,000 requests through two sidecars, twice:
#   wrk -> gateway sidecar 127.0.0.1:PORT -> mTLS -> web sidecar -> testapp
# once with keep-alive and once with a new connection per request
# (Connection: close).  Each phase runs its first SOAK_WARMUP requests,
# samples both sidecars' VmRSS and open descriptors, runs the rest, samples
# again; then a table.  Fails (exit 1) when a sidecar's RSS at the end of a
# phase is more than 5% above its RSS after the warm-up, when it holds
# more descriptors than then, when wrk saw a socket error or a non-2xx
# answer, or when a phase served fewer requests than asked.
#
#   make soak                  (builds, then runs this with BUILD=build)
#   scripts/soak.sh            SOAK_REQUESTS=1000000 SOAK_WARMUP=100000
#                              SOAK_PORT=26581 SOAK_THREADS=2 SOAK_CONNS=16
#
# Not part of `make check`: it takes minutes (2 x 1,000,000 requests).
# Ports: SOAK_PORT (front door), SOAK_PORT+9 (testapp), SOAK_PORT+14 on
# (the sidecars' own): 26581-26599 by default.
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${BUILD:-build}
REQ=${SOAK_REQUESTS:-1000000}
WARM=${SOAK_WARMUP:-100000}
PORT=${SOAK_PORT:-26581}
THREADS=${SOAK_THREADS:-2}
CONNS=${SOAK_CONNS:-16}
BIN=$ROOT/$BUILD/bin
APPS=$ROOT/$BUILD/apps
export PATH="$BIN:$APPS:$PATH" MESH_PROXY="$BIN/mesh-proxy"
unset http_proxy HTTP_PROXY https_proxy HTTPS_PROXY all_proxy ALL_PROXY

die() { echo "soak: $*" >&2; exit 1; }
[ -x "$BIN/meshctl" ] && [ -x "$APPS/testapp" ] || die "build first: make all apps (BUILD=$BUILD)"
[ "$WARM" -lt "$REQ" ] || die "SOAK_WARMUP ($WARM) must be below SOAK_REQUESTS ($REQ)"
if ! command -v wrk >/dev/null; then
	echo "soak: installing wrk" >&2
	SUDO=
	[ "$(id -u)" -ne 0 ] && SUDO=sudo
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q wrk >/dev/null ||
		die "cannot install wrk (apt-get install wrk)"
fi

T=$(mktemp -d /tmp/meshsoak.XXXXXX)
APP_PID= WRK=
cleanup() {
	[ -n "$WRK" ] && kill "$WRK" 2>/dev/null
	timeout 30 meshctl down -f "$T/mesh.ini" >/dev/null 2>&1
	[ -n "$APP_PID" ] && kill "$APP_PID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# The app, quiet (a log line per request would be 2,000,000 lines).
testapp --port $((PORT + 9)) --name web >/dev/null 2>&1 &
APP_PID=$!
cat >"$T/mesh.ini" <<EOF
[mesh]
name = soak
port_base = $((PORT + 14))

[service.gateway]
upstreams = web:$PORT

[service.web]
port = $((PORT + 9))
EOF
meshctl up -d -f "$T/mesh.ini" >"$T/up.log" 2>&1 || { cat "$T/up.log" >&2; die "meshctl up failed"; }
eval "$(meshctl status -f "$T/mesh.ini" --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
for s in d["services"]:
    for i in s["instances"]:
        print("PID_%s=%d" % (s["name"], i["proxy_pid"]))')"
[ -n "${PID_gateway:-}" ] && [ -n "${PID_web:-}" ] || die "no sidecar pids in meshctl status --json"

# wrk stops each thread after its share of the requests (the whole run
# is then exactly N requests, give or take what is in flight).
cat >"$T/count.lua" <<'LUA'
local left
function init(args)
	left = tonumber(args[1])
end
function response(status, headers, body)
	left = left - 1
	if left <= 0 then
		wrk.thread:stop()
	end
end
LUA

rss()  { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
nfds() { ls "/proc/$1/fd" | wc -l; }

# run PHASE N [wrk args...]: N requests; COUNT = the requests wrk counted
run() {
	local phase=$1 n=$2 out
	shift 2
	out=$T/wrk.$phase.$n
	wrk -t"$THREADS" -c"$CONNS" -d 3600s --timeout 10s -s "$T/count.lua" "$@" \
		"http://127.0.0.1:$PORT/" -- $((n / THREADS)) >"$out" 2>&1 &
	WRK=$!
	# wrk's main thread sleeps out -d even once every thread stopped (its
	# share done): when only that thread is left, SIGINT ends the sleep
	# and wrk prints its summary.
	wrk_threads() { ls "/proc/$WRK/task" 2>/dev/null | wc -l; }
	for _ in $(seq 100); do [ "$(wrk_threads)" -gt 1 ] && break; sleep 0.1; done
	while [ "$(wrk_threads)" -gt 1 ]; do sleep 0.2; done
	kill -INT "$WRK" 2>/dev/null
	wait "$WRK"
	WRK=
	sed 's/^/    /' "$out" >&2
	if grep -q 'Socket errors' "$out"; then
		echo "soak: $phase: wrk saw socket errors" >&2
		FAIL=1
	fi
	if grep -q 'Non-2xx or 3xx responses' "$out"; then
		echo "soak: $phase: non-2xx answers" >&2
		FAIL=1
	fi
	COUNT=$(awk '/requests in/ {print $1}' "$out")
}

# sample PHASE WHEN: after a pause for closing connections (linger 2 s)
sample() {
	sleep 3
	for s in gateway web; do
		eval "p=\$PID_$s"
		[ -r "/proc/$p/status" ] || die "$s sidecar (pid $p) is gone"
		echo "$1 $2 $s $(rss "$p") $(nfds "$p")" >>"$T/samples"
	done
}

FAIL=0
: >"$T/samples"
for phase in keep-alive new-conn; do
	args=()
	[ "$phase" = new-conn ] && args=(-H "Connection: close")
	echo "soak: $phase: $WARM requests (warm-up)" >&2
	run "$phase" "$WARM" "${args[@]}"
	a=$COUNT
	sample "$phase" warm
	echo "soak: $phase: $((REQ - WARM)) requests more" >&2
	run "$phase" $((REQ - WARM)) "${args[@]}"
	b=$COUNT
	sample "$phase" end
	total=$(( ${a:-0} + ${b:-0} ))
	echo "$phase $total" >>"$T/served"
	if [ "$total" -lt "$REQ" ]; then
		echo "soak: $phase: wrk counted $total requests, fewer than $REQ" >&2
		FAIL=1
	fi
done

echo
printf '%-10s %-8s %9s %12s %12s %7s %9s %8s  %s\n' phase sidecar requests \
	"RSS@${WARM}" "RSS@end" growth "fds@${WARM}" "fds@end" verdict
for phase in keep-alive new-conn; do
	served=$(awk -v p="$phase" '$1 == p {print $2}' "$T/served")
	for s in gateway web; do
		read -r r0 f0 < <(awk -v p="$phase" -v s="$s" '$1 == p && $2 == "warm" && $3 == s {print $4, $5}' "$T/samples")
		read -r r1 f1 < <(awk -v p="$phase" -v s="$s" '$1 == p && $2 == "end" && $3 == s {print $4, $5}' "$T/samples")
		growth=$(awk -v a="$r0" -v b="$r1" 'BEGIN {printf "%+.1f%%", (b - a) * 100 / a}')
		verdict=ok
		if [ $((r1 * 100)) -gt $((r0 * 105)) ]; then verdict="RSS grew >5%"; FAIL=1; fi
		if [ "$f1" -gt "$f0" ]; then verdict="fds grew"; FAIL=1; fi
		printf '%-10s %-8s %9s %9s kB %9s kB %7s %9s %8s  %s\n' "$phase" "$s" "$served" \
			"$r0" "$r1" "$growth" "$f0" "$f1" "$verdict"
	done
done
echo
if [ "$FAIL" -ne 0 ]; then
	echo "soak: FAILED"
	exit 1
fi
echo "soak: passed"
