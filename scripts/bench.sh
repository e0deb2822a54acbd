#!/bin/bash
# SPDX-License-Identifier: ISC
# make bench: the mesh's mTLS hop side by side with an HAProxy pair doing
# the same hop, in front of one nginx (HTTP/1.1, scripts/bench_h1.sh), then
# the same with HTTP/2 on every leg in front of one nghttpd (h2load,
# scripts/bench_h2.sh).
#
#   wrk/curl -> haproxy A --mTLS 1.3--> haproxy B --> nginx
#   wrk/curl -> client sidecar --mTLS 1.3--> web sidecar --> nginx
#   wrk/curl -> nginx                              (direct, the baseline)
#   h2load -> haproxy A2 --h2, mTLS--> haproxy B2 --h2c--> nghttpd
#   h2load -> client sidecar --h2, mTLS--> web sidecar --h2c--> nghttpd
#   h2load -> nghttpd                              (direct)
#
# Runs are interleaved (direct, HAProxy, mesh, again) so that a noisy
# neighbour hurts both sides alike.  Prints one markdown table and the
# details behind it.  Installs haproxy, nginx, wrk, curl, openssl, h2load
# and nghttpd when missing.  Everything lives in one temp dir; every
# process it starts is stopped by pid on exit.  Bounded: each wrk or h2load
# run is 5 s under `timeout`, each download under `timeout`; the whole run
# takes about 4 minutes.  BENCH_ONLY=h1 or h2 runs one half (the h2 half:
# under 1 minute).
#
#   BUILD=build BENCH_PORT=27200 BENCH_RUNS=3 BENCH_ONLY= scripts/bench.sh
# BENCH_KEEP=1 keeps the temp dir (configs, the proxies' logs) for a look.
# Ports: BENCH_PORT .. BENCH_PORT+99 on 127.0.0.1 (+60 and up: HTTP/2).
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
BIN=$ROOT/$BUILD/bin
P=${BENCH_PORT:-27200}
RUNS=${BENCH_RUNS:-3}
DUR=${BENCH_SECONDS:-5}
BIG_MB=200
ONLY=${BENCH_ONLY:-}

P_NGINX=$P                 # nginx
P_HA_A=$((P + 1))          # haproxy A: plain HTTP in, mTLS out
P_HA_B=$((P + 2))          # haproxy B: mTLS in, plain out
P_FRONT=$((P + 10))        # the mesh's front door: client's web:PORT listener
P_BASE=$((P + 40))         # the mesh's port_base (sidecar ports)
P2_APP=$((P + 60))         # nghttpd, h2c
P2_HA_A=$((P + 61))        # haproxy A2: h2c in, h2 over mTLS out
P2_HA_B=$((P + 62))        # haproxy B2: h2 over mTLS in, h2c out
P2_FRONT=$((P + 70))       # the second mesh's front door (h2c)
P2_BASE=$((P + 80))        # the second mesh's port_base

die() { echo "bench: $*" >&2; exit 1; }
case $ONLY in
""|h1|h2) ;;
*) die "BENCH_ONLY=$ONLY: expected h1, h2 or nothing (both)" ;;
esac

for b in meshctl meshd mesh-proxy; do
	[ -x "$BIN/$b" ] || die "$BIN/$b missing: run make all first"
done

# --- what it needs: haproxy, nginx, wrk, curl, openssl, nghttp2 -------------
"$ROOT/scripts/deps.sh" bench || die "scripts/deps.sh bench failed"
PATH=$PATH:/usr/sbin:/sbin
unset http_proxy HTTP_PROXY https_proxy HTTPS_PROXY all_proxy ALL_PROXY

# --- temp dir, and the one way out ------------------------------------------
T=$(mktemp -d /tmp/meshbench.XXXXXX) || die "mktemp failed"
PIDS=()
MESH_UP=0
MESH2_UP=0
# shellcheck disable=SC2317  # run by the EXIT trap
cleanup() {
	local p
	trap - EXIT INT TERM
	if [ "$MESH_UP" = 1 ]; then
		timeout 30 "$BIN/meshctl" down -f "$T/mesh/mesh.ini" >/dev/null 2>&1
	fi
	if [ "$MESH2_UP" = 1 ]; then
		timeout 30 "$BIN/meshctl" down -f "$T/mesh2/mesh.ini" >/dev/null 2>&1
	fi
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null
	done
	for p in "${PIDS[@]}"; do
		timeout 10 tail --pid="$p" -f /dev/null 2>/dev/null
	done
	if [ "${BENCH_KEEP:-0}" = 1 ]; then
		echo "bench: BENCH_KEEP=1: configs and logs kept in $T" >&2
	else
		rm -rf "$T"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_port() {
	local n=100
	while [ $n -gt 0 ]; do
		port_open "$1" && return 0
		sleep 0.1; n=$((n - 1))
	done
	die "nothing listens on 127.0.0.1:$1 after 10 s ($2)"
}
for p in $P_NGINX $P_HA_A $P_HA_B $P_FRONT $((P_BASE)) $((P_BASE + 1)) $((P_BASE + 2)) \
    $P2_APP $P2_HA_A $P2_HA_B $P2_FRONT $((P2_BASE)) $((P2_BASE + 1)) $((P2_BASE + 2)); do
	port_open "$p" && die "port $p is already in use (set BENCH_PORT to move the range)"
done

# --- certificates for the HAProxy pair: ECDSA P-256, like the mesh's ----------
K=$T/pki
mkdir -m 0700 "$K"
ossl() { openssl "$@" >>"$K/openssl.log" 2>&1 || die "openssl $1 failed: $(tail -3 "$K/openssl.log")"; }
ossl ecparam -name prime256v1 -genkey -noout -out "$K/ca.key"
ossl req -x509 -new -key "$K/ca.key" -subj /CN=bench-ca -days 2 -out "$K/ca.crt" \
	-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign
# leaf NAME: key, CSR, cert signed by the CA with NAME as a DNS SAN
leaf() {
	ossl ecparam -name prime256v1 -genkey -noout -out "$K/$1.key"
	ossl req -new -key "$K/$1.key" -subj "/CN=$1" -out "$K/$1.csr"
	printf 'subjectAltName=DNS:%s\nextendedKeyUsage=serverAuth,clientAuth\nkeyUsage=critical,digitalSignature\n' \
		"$1" >"$K/$1.ext"
	ossl x509 -req -in "$K/$1.csr" -CA "$K/ca.crt" -CAkey "$K/ca.key" -CAcreateserial \
		-days 2 -extfile "$K/$1.ext" -out "$K/$1.crt"
	cat "$K/$1.crt" "$K/$1.key" >"$K/$1.pem"
}
leaf ha-a
leaf ha-b

# both HAProxy pairs: one thread each, TLS 1.3 only, pooled server connections
ha_common() {
	cat <<EOF
global
	nbthread 1
	maxconn 4096
	ssl-default-bind-options ssl-min-ver TLSv1.3
	ssl-default-server-options ssl-min-ver TLSv1.3
defaults
	mode http
	timeout connect 5s
	timeout client 60s
	timeout server 60s
	http-reuse always
EOF
}

# ha_pair DIR LABEL PORT_A PORT_B: check DIR/a.cfg and DIR/b.cfg, start B
# then A, wait for their ports; their pids in HA_PAIR_A and HA_PAIR_B
ha_pair() {
	local d=$1 l=$2 f
	for f in a b; do
		haproxy -c -q -f "$d/$f.cfg" >"$d/check.log" 2>&1 ||
			die "haproxy ${f^^}$l config: $(cat "$d/check.log")"
	done
	haproxy -db -f "$d/b.cfg" >"$d/b.log" 2>&1 &
	HA_PAIR_B=$!; PIDS+=("$HA_PAIR_B")
	haproxy -db -f "$d/a.cfg" >"$d/a.log" 2>&1 &
	HA_PAIR_A=$!; PIDS+=("$HA_PAIR_A")
	wait_port "$4" "haproxy B$l: $(tail -2 "$d/b.log")"
	wait_port "$3" "haproxy A$l: $(tail -2 "$d/a.log")"
}

# --- measuring helpers -----------------------------------------------------------
HZ=$(getconf CLK_TCK)
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null; }
rss_anon() { awk '/^RssAnon:/ {print $2}' "/proc/$1/status" 2>/dev/null; }
# VmRSS and its private anonymous part (heap, stacks), as "R MiB (anon A)"
rss_both() { awk '/^VmRSS:/ { r = $2 } /^RssAnon:/ { a = $2 }
	END { printf "%.1f MiB (anon %.1f)", r / 1024, a / 1024 }' "/proc/$1/status" 2>/dev/null; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
# "utime stime" of the given pids, summed, in clock ticks
ticks_split() {
	local p a b u=0 s=0
	for p in "$@"; do
		read -r a b < <(sed 's/^.*) //' "/proc/$p/stat" | awk '{print $12, $13}')
		u=$((u + a)); s=$((s + b))
	done
	echo "$u $s"
}
# utime+stime of the given pids, in clock ticks
ticks() { local u s; read -r u s < <(ticks_split "$@"); echo $((u + s)); }
# "user system nginx" ticks: ticks_split of the given pids, then the nginx
# worker's utime+stime (NGINX_W, set by bench_h1.sh)
ticks_us() { echo "$(ticks_split "$@") $(ticks "$NGINX_W")"; }
# wrk ARGS... URL: prints "requests rps p50_us errors"
wrk_run() {
	local out=$T/wrk.out
	timeout $((DUR + 30)) wrk --timeout 10s "$@" >"$out" 2>&1
	awk '
	function us(v) {
		if (v ~ /us$/) return v + 0
		if (v ~ /ms$/) return v * 1000
		if (v ~ /s$/) return v * 1000000
		return v + 0
	}
	/requests in/ { req = $1 }
	/^Requests\/sec:/ { rps = $2 }
	/^ *50%/ { p50 = us($2) }
	/Socket errors:/ { err = 1 }
	/Non-2xx/ { err = 1 }
	END { printf "%d %.0f %.0f %d\n", req, rps, p50, err }' "$out"
}
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "-"; else printf "%.2f", a / b }'; }
# status_field STATUS_JSON INSTANCE FIELD: a number from meshctl status --json
status_field() {
	sed 's/"name":"'"$2"'"/\n&/' "$1" | sed -n '2p' |
		sed -n 's/^[^}]*"'"$3"'":\([0-9]*\).*/\1/p'
}
# CPU milliseconds the two proxies spent per 1,000 requests
cpu_per_k() { awk -v t="$1" -v hz="$HZ" -v r="$2" 'BEGIN { if (r == 0) print "-"; else printf "%.0f", t * 1000 / hz / (r / 1000) }'; }
warn_err() { [ "$1" = 0 ] || echo "bench: warning: $2 had socket errors or non-2xx answers" >&2; }

LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
[ "$ONLY" = h2 ] || . "$ROOT/scripts/bench_h1.sh"
[ "$ONLY" = h1 ] || . "$ROOT/scripts/bench_h2.sh"

# --- the machine, then the table -----------------------------------------------------------------------------
ver() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo "?"; }
echo "machine: $(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1), $(nproc) CPU(s) online"
echo "         kernel $(uname -r), Debian $(cat /etc/debian_version 2>/dev/null || echo "?")"
# which wolfSSL the programs link: the Makefile records it in $BUILD/wolfssl.use
wolf="Debian's shared $(ver libwolfssl-dev)"
case "$(cat "$ROOT/$BUILD/wolfssl.use" 2>/dev/null)" in
build/wolfssl/*) wolf="static $(sed -n 1p "$ROOT/$(cut -d' ' -f1 "$ROOT/$BUILD/wolfssl.use")/.stamp") of $(ver libwolfssl-dev)" ;;
esac
readelf -d "$BIN/mesh-proxy" 2>/dev/null | grep -q NEEDED || wolf="$wolf, mesh-proxy static"
echo "         wolfSSL $wolf, libev $(ver libev-dev), libnghttp2 $(ver libnghttp2-dev), HAProxy $(ver haproxy), nginx $(ver nginx), wrk $(ver wrk), nghttp2 tools $(ver nghttp2-client), OpenSSL $(ver openssl)"
echo "         load average before the run: $LOAD0"
echo
echo "| measure | meshctl | HAProxy pair | ratio | goal |"
echo "| --- | --- | --- | --- | --- |"
if [ "$ONLY" != h2 ]; then
	sD=$(median "${S_D[@]}"); sHA=$(median "${S_HA[@]}"); sM=$(median "${S_M[@]}")
	lD=$(median "${L_D[@]}"); lHA=$(median "${L_HA[@]}"); lM=$(median "${L_M[@]}")
	aHA=$(awk -v a="$lHA" -v b="$lD" 'BEGIN { print a - b }')
	aM=$(awk -v a="$lM" -v b="$lD" 'BEGIN { print a - b }')
	bD=$(median "${B_D[@]}"); bHA=$(median "${B_HA[@]}"); bM=$(median "${B_M[@]}")
	cHA=$(median "${C_HA[@]}"); cM=$(median "${C_M[@]}")
	hHA=$(median "${HS_HA[@]}"); hM=$(median "${HS_M[@]}")
	mx() { if [ "$1" -gt "$2" ]; then echo "$1"; else echo "$2"; fi; }
	worst_m=$(mx "$RSS1_M_C" "$RSS1_M_W")
cat <<EOF
| small responses, \`wrk -t1 -c32 -d${DUR}s\`, median of $RUNS interleaved runs (direct $sD rps) | $sM rps | $sHA rps | $(ratio "$sM" "$sHA")x | >= 1.5x |
| added p50 over direct, \`wrk -t1 -c1 -d${DUR}s --latency\` (direct p50 $lD us) | $aM us | $aHA us | $(ratio "$aM" "$aHA") | <= 0.5 |
| one ${BIG_MB} MB download (curl), median of $RUNS (direct $bD MiB/s) | $bM MiB/s | $bHA MiB/s | $(ratio "$bM" "$bHA")x | >= 1.0x |
| idle sidecar RSS after one mTLS request (client / web; HAProxy A / B) | $(mib "$RSS1_M_C") / $(mib "$RSS1_M_W") MiB | $(mib "$RSS1_HA_A") / $(mib "$RSS1_HA_B") MiB | | <= 2 MiB |
| new client connection per request, \`wrk -t1 -c32 -H 'Connection: close'\` | $cM rps | $cHA rps | $(ratio "$cM" "$cHA")x | |
| full mTLS handshakes at the inbound proxy, \`openssl s_time -new\` | $hM /s | $hHA /s | $(ratio "$hM" "$hHA")x | |
| CPU of both proxies per 1k requests (small responses) | $CPU_M ms | $CPU_HA ms | $(ratio "$CPU_M" "$CPU_HA") | |
| RSS after the whole run (client / web; HAProxy A / B) | $(mib "$RSS2_M_C") / $(mib "$RSS2_M_W") MiB | $(mib "$RSS2_HA_A") / $(mib "$RSS2_HA_B") MiB | | |
| RSS with $NCONN keep-alive connections held (client / web; HAProxy A / B) | $(mib "$RSS3_M_C") / $(mib "$RSS3_M_W") MiB | $(mib "$RSS3_HA_A") / $(mib "$RSS3_HA_B") MiB | | <= 16 MiB |
| own memory per held connection, RssAnon growth / $NCONN (client / web; A / B) | $PC_M_C / $PC_M_W KiB | $PC_HA_A / $PC_HA_B KiB | | |
EOF
fi
[ "$ONLY" = h1 ] || h2_row
echo
if [ "$ONLY" != h2 ]; then
cat <<EOF
runs: small rps direct ${S_D[*]} | haproxy ${S_HA[*]} | mesh ${S_M[*]}
      p50 us direct ${L_D[*]} | haproxy ${L_HA[*]} | mesh ${L_M[*]}
      download MiB/s direct ${B_D[*]} | haproxy ${B_HA[*]} | mesh ${B_M[*]}
      Connection: close rps haproxy ${C_HA[*]} | mesh ${C_M[*]}
      s_time handshakes/s haproxy ${HS_HA[*]} | mesh ${HS_M[*]}
cpu:  $CPU_SPLIT
rss:  after one request: $RSS1_DETAIL
      after the run:     $RSS2_DETAIL
      $NCONN connections held: $RSS3_DETAIL
goals met: rps $(awk -v r="$(ratio "$sM" "$sHA")" 'BEGIN { print (r >= 1.5) ? "yes" : "no" }'), \
latency $(awk -v r="$(ratio "$aM" "$aHA")" 'BEGIN { print (r != "-" && r <= 0.5) ? "yes" : "no" }'), \
download $(awk -v r="$(ratio "$bM" "$bHA")" 'BEGIN { print (r >= 1.0) ? "yes" : "no" }'), \
RSS $( [ "$worst_m" -le 2048 ] && echo yes || echo no), \
RSS with $NCONN connections $( [ "$(mx "$RSS3_M_C" "$RSS3_M_W")" -le 16384 ] && echo yes || echo no)
EOF
fi
[ "$ONLY" = h1 ] || h2_details
exit 0
