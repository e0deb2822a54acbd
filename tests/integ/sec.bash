# SPDX-License-Identifier: ISC
# Helpers for the hardening scenarios (tests/integ/sec_*.sh).  Not a test
# itself (run.sh only runs *.sh).  Source it first thing.  Gives, on top
# of lib.sh:
#   $FLOOD           the hostile clients (flood_client.py: modes, output)
#   $ASAN            1 under a sanitizer build (BUILD contains sanitize or
#                    asan): slower, more memory; the bounds say which applies
#   sec_mesh GW APP BASE [LINES]  $T/mesh.ini: a gateway sidecar whose
#                    listener 127.0.0.1:GW leads to service web (its sidecar
#                    in front of a testapp on APP, started here, quiet),
#                    port_base BASE, LINES added to [mesh]; the mesh comes
#                    up (or the scenario stops); sets $GW_PID, $WEB_PID (the
#                    two sidecars), $WEB_IN (web's inbound mTLS port),
#                    $MESHD_PID, $APP_PID
#   rss PID / hwm PID / nfds PID  VmRSS, VmHWM (kB), open descriptors
#   cpu PID          user + system clock ticks so far
#   good NAME [SECS] a good client: curl GET / on the gateway within SECS
#                    (default 5) must answer 200 from web (asserted)
#   good_retry NAME SECS  the same, but 503 overloaded is retried (a good
#                    client during load shedding) until SECS pass
#   alive_all NAME   both sidecars and meshd still run (asserted)
#   fds_back PID BASE SECS  wait until PID has at most BASE+2 descriptors
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

FLOOD="python3 $ROOT/tests/integ/flood_client.py"
ASAN=0
case "$BUILD" in *sanitize*|*asan*) ASAN=1 ;; esac
# ASan's quarantine keeps freed memory (256 MB by default) and counts in
# RSS: without it, RSS measures what the processes keep (e2e_bodies.sh).
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0"

rss()  { awk '/^VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
hwm()  { awk '/^VmHWM/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
nfds() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }
cpu()  { sed 's/.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }

sec_mesh() {
	local gw=$1 app=$2 base=$3 lines=${4:-}
	testapp --port "$app" --name web >/dev/null 2>&1 &
	APP_PID=$!
	_pids+=("$APP_PID")
	wait_port "$app" || not_ok "testapp listens on $app"
	cat >"$T/mesh.ini" <<EOF
[mesh]
name = $(basename "$0" .sh)
port_base = $base
$lines

[service.gateway]
upstreams = web:$gw

[service.web]
port = $app
EOF
	mesh_up_or_stop "$T/mesh.ini"
	meshctl status -f "$T/mesh.ini" --json >"$T/status.json"
	eval "$(python3 - "$T/status.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
print("MESHD_PID=%d" % d["mesh"]["meshd_pid"])
for s in d["services"]:
    for i in s["instances"]:
        if s["name"] == "gateway":
            print("GW_PID=%d" % i["proxy_pid"])
        else:
            print("WEB_PID=%d WEB_IN=%d" % (i["proxy_pid"], i["inbound_port"]))
PY
)"
	check "front door 127.0.0.1:$gw accepts" wait_port "$gw" 10
	GW_URL=http://127.0.0.1:$gw/
}

good() {
	local code
	code=$(curl -sS -m "${2:-5}" -o "$T/good.body" -w '%{http_code}' "$GW_URL" 2>"$T/good.err")
	if [ "$code" = 200 ] && [ "$(cat "$T/good.body")" = web ]; then
		ok "$1: a good client gets 200 within ${2:-5} s"
	else
		not_ok "$1: a good client gets 200 within ${2:-5} s" "got: $code $(head -c 200 "$T/good.err")"
	fi
}

good_retry() {
	local name=$1 secs=$2 code n=0 end=$((SECONDS + $2))
	while [ $SECONDS -lt $end ]; do
		n=$((n + 1))
		code=$(curl -sS -m "$secs" -o /dev/null -D "$T/good.hdr" -w '%{http_code}' "$GW_URL" 2>/dev/null)
		[ "$code" = 200 ] && break
		# only a refusal of load shedding is worth another try
		grep -qi '^mesh-error: overloaded' "$T/good.hdr" || break
		sleep 0.1
	done
	echo "# $name: good client: $code after $n attempt(s)"
	is "$name: a good client (retrying 503 overloaded) gets 200 within $secs s" "$code" 200
}

alive_all() {
	local p ok_=1
	for p in "$GW_PID" "$WEB_PID" "$MESHD_PID"; do
		alive "$p" || ok_=0
	done
	if [ $ok_ = 1 ]; then ok "$1: meshd and both sidecars alive"; else
		not_ok "$1: meshd and both sidecars alive" "$(tail -5 "$T/.mesh/run/meshd.log")"; fi
}

fds_back() {
	local pid=$1 base=$2 n=$(($3 * 10))
	while [ "$n" -gt 0 ] && [ "$(nfds "$pid")" -gt $((base + 2)) ]; do
		sleep 0.1
		n=$((n - 1))
	done
	[ "$(nfds "$pid")" -le $((base + 2)) ]
}
