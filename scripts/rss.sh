#!/bin/bash
# SPDX-License-Identifier: ISC
# The idle sidecar's memory (issue 13), alone and in seconds: a client ->
# web mesh with testapp behind web, one request through the mTLS pair,
# 3 s idle, then per sidecar VmRSS, RssAnon, RssFile and how many 64 KiB
# windows of mesh-proxy's own file mapping have a page present
# (/proc/PID/pagemap; the kernel maps a file 64 KiB at a time around a
# fault, so windows, not bytes run, make RssFile).  Needs `make all apps`.
# Run it in a private network namespace:
#
#   unshare -n bash -c 'ip link set lo up; scripts/rss.sh'
#
#   BUILD=build          which build's programs
#   RSS_PORT=27300       ports RSS_PORT .. RSS_PORT+49 on 127.0.0.1
#   RSS_PROXY=FILE       measure this mesh-proxy instead of $BUILD/bin's
#   RSS_WRAP="valgrind --tool=callgrind ..."  run each sidecar under this
#                        (MESH_PROXY points meshd at a wrapper; scripts/order.sh)
#   RSS_REQUESTS=N       after the measure, N more requests on one
#                        connection (for a profiler's instruction count)
#   RSS_HOOK=CMD         run CMD with the sidecars' pids (client web) after
#                        the measure, before the extra requests
#   RSS_WINDOWS=1        also list each touched window of the text and rodata
#                        with the symbols in it (where the pages go)
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
BIN=$ROOT/$BUILD/bin
P=${RSS_PORT:-27300}
P_APP=$P              # testapp behind web
P_FRONT=$((P + 10))   # the client's web:PORT listener
P_BASE=$((P + 20))    # sidecar ports

die() { echo "rss: $*" >&2; exit 1; }
for b in meshctl meshd mesh-proxy; do
	[ -x "$BIN/$b" ] || die "$BIN/$b missing: run make all first"
done
[ -x "$ROOT/$BUILD/apps/testapp" ] || die "$ROOT/$BUILD/apps/testapp missing: run make apps first"
unset http_proxy HTTP_PROXY https_proxy HTTPS_PROXY all_proxy ALL_PROXY

T=$(mktemp -d /tmp/meshrss.XXXXXX) || die "mktemp failed"
MESH_UP=0
# shellcheck disable=SC2317  # run by the EXIT trap
cleanup() {
	trap - EXIT INT TERM
	[ "$MESH_UP" = 1 ] && timeout 60 "$BIN/meshctl" down -f "$T/mesh.ini" >/dev/null 2>&1
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

PROXY=${RSS_PROXY:-$BIN/mesh-proxy}
[ -x "$PROXY" ] || die "$PROXY: not an executable file"
export MESH_PROXY=$PROXY
if [ -n "${RSS_WRAP:-}" ]; then
	printf '#!/bin/sh\nexec %s %s "$@"\n' "$RSS_WRAP" "$PROXY" >"$T/proxy-wrap"
	chmod +x "$T/proxy-wrap"
	export MESH_PROXY=$T/proxy-wrap
fi

cat >"$T/mesh.ini" <<EOF
[mesh]
name = rss
port_base = $P_BASE
state_dir = $T/state

[service.client]
upstreams = web:$P_FRONT

[service.web]
command = $ROOT/$BUILD/apps/testapp --port \$PORT
port = $P_APP
EOF
MESH_UP=1
timeout 120 "$BIN/meshctl" up -d -f "$T/mesh.ini" >"$T/up.log" 2>&1 ||
	die "meshctl up failed: $(tail -5 "$T/up.log")"
"$BIN/meshctl" status --json -f "$T/mesh.ini" >"$T/status.json" 2>/dev/null
pid_of() {
	python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print([i for s in d["services"] if s["name"] == sys.argv[2] for i in s["instances"]][0]["proxy_pid"])' \
		"$T/status.json" "$1"
}
PC=$(pid_of client) PW=$(pid_of web)
if [ -z "$PC" ] || [ -z "$PW" ]; then
	die "no sidecar pids in meshctl status --json"
fi

# one request; the front door may need a moment (more so under a profiler)
n=100
until [ "$(curl -s -m 20 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$P_FRONT/")" = 200 ]; do
	n=$((n - 1)); [ $n -gt 0 ] || die "web through the mesh never answered 200"
	sleep 0.2
done
[ "$n" = 100 ] || echo "rss: note: the first request needed $((101 - n)) tries" >&2
# idle: a sidecar gives its handshake tables back 2 s after its last
# handshake (transport_tls.c)
sleep 3

# windows PID: the exe's mappings, pages present, 64 KiB windows touched
windows() {
	python3 - "$1" "$(readlink -f "$PROXY")" "${RSS_WINDOWS:-0}" <<'PY'
import os, struct, subprocess, sys
pid, exe, detail = int(sys.argv[1]), sys.argv[2], sys.argv[3] == "1"
PG, WIN = os.sysconf("SC_PAGE_SIZE"), 64 * 1024
maps = []
for line in open(f"/proc/{pid}/maps"):
    f = line.split()
    if len(f) >= 6 and f[5] == exe:
        lo, hi = (int(x, 16) for x in f[0].split("-"))
        maps.append((lo, hi, f[1], int(f[2], 16)))
pm = open(f"/proc/{pid}/pagemap", "rb")
present = []
for lo, hi, perm, off in maps:
    pm.seek(lo // PG * 8)
    ent = struct.unpack(f"{(hi - lo) // PG}Q", pm.read((hi - lo) // PG * 8))
    pages = [lo + i * PG for i, e in enumerate(ent) if e >> 63 & 1]
    present.append(pages)
base = maps[0][0] - maps[0][3] if maps else 0
tot_p = tot_w = 0
out = []
for (lo, hi, perm, off), pages in zip(maps, present):
    w = {p // WIN for p in pages}
    tot_p += len(pages); tot_w += len(w)
    out.append(f"{perm}:{len(pages) * PG // 1024}K/{len(w)}w")
print(f"file pages {tot_p * PG // 1024} kB in {tot_w} windows ({' '.join(out)})")
if detail:
    syms = []
    nm = subprocess.run(["nm", "-n", "-S", "--defined-only", exe], capture_output=True, text=True).stdout
    for l in nm.splitlines():
        f = l.split()
        if len(f) == 4 and f[2] in "tTrRdDbB":
            syms.append((int(f[0], 16), int(f[1], 16), f[3]))
    for (lo, hi, perm, off), pages in zip(maps, present):
        for win in sorted({p // WIN for p in pages}):
            a, b = win * WIN - base, (win + 1) * WIN - base
            n = sum(1 for p in pages if p // WIN == win)
            big = sorted((s for s in syms if a <= s[0] < b), key=lambda s: -s[1])[:4]
            print(f"  {perm} {a:#08x} {n:2d}p  " + " ".join(f"{s[2]}({s[1]})" for s in big))
PY
}
for who in client:$PC web:$PW; do
	pid=${who#*:}
	awk -v who="${who%%:*}" '/^VmRSS:/ { r = $2 } /^RssAnon:/ { a = $2 } /^RssFile:/ { f = $2 }
		END { printf "%-6s VmRSS %5d kB  RssAnon %4d kB  RssFile %5d kB  ", who, r, a, f }' \
		"/proc/$pid/status"
	windows "$pid"
done

[ -n "${RSS_HOOK:-}" ] && $RSS_HOOK "$PC" "$PW"
if [ "${RSS_REQUESTS:-0}" -gt 0 ]; then
	urls=()
	for ((i = 0; i < RSS_REQUESTS; i++)); do urls+=("http://127.0.0.1:$P_FRONT/"); done
	printf 'url = %s\noutput = /dev/null\n' "${urls[@]}" >"$T/curl.cfg"
	curl -s -m 600 -K "$T/curl.cfg" -w '%{http_code}\n' | sort | uniq -c |
		awk '{ printf "rss: %d more requests: %d answered %s\n", '"$RSS_REQUESTS"', $1, $2 }' >&2
fi
exit 0
