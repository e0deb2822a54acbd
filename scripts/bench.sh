#!/bin/bash
# SPDX-License-Identifier: ISC
# make bench: the mesh's mTLS hop side by side with an HAProxy pair doing
# the same hop, in front of one nginx.
#
#   wrk/curl -> haproxy A --mTLS 1.3--> haproxy B --> nginx
#   wrk/curl -> client sidecar --mTLS 1.3--> web sidecar --> nginx
#   wrk/curl -> nginx                              (direct, the baseline)
#
# Runs are interleaved (direct, HAProxy, mesh, again) so that a noisy
# neighbour hurts both sides alike.  Prints one markdown table and the
# details behind it.  Installs haproxy, nginx, wrk, curl and openssl when
# missing.  Everything lives in one temp dir; every process it starts is
# stopped by pid on exit.  Bounded: each wrk run is 5 s under `timeout`,
# each download under `timeout`; the whole run takes about 3 minutes.
#
#   BUILD=build BENCH_PORT=27200 BENCH_RUNS=3 scripts/bench.sh
# Ports: BENCH_PORT .. BENCH_PORT+59 on 127.0.0.1.
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
BIN=$ROOT/$BUILD/bin
P=${BENCH_PORT:-27200}
RUNS=${BENCH_RUNS:-3}
DUR=${BENCH_SECONDS:-5}
BIG_MB=200

P_NGINX=$P                 # nginx
P_HA_A=$((P + 1))          # haproxy A: plain HTTP in, mTLS out
P_HA_B=$((P + 2))          # haproxy B: mTLS in, plain out
P_FRONT=$((P + 10))        # the mesh's front door: client's web:PORT listener
P_BASE=$((P + 40))         # the mesh's port_base (sidecar ports)

die() { echo "bench: $*" >&2; exit 1; }

for b in meshctl meshd mesh-proxy; do
	[ -x "$BIN/$b" ] || die "$BIN/$b missing: run make all first"
done

# --- what it needs: haproxy, nginx, wrk, curl, openssl ------------------------
"$ROOT/scripts/deps.sh" bench || die "scripts/deps.sh bench failed"
PATH=$PATH:/usr/sbin:/sbin
unset http_proxy HTTP_PROXY https_proxy HTTPS_PROXY all_proxy ALL_PROXY

# --- temp dir, and the one way out ------------------------------------------
T=$(mktemp -d /tmp/meshbench.XXXXXX) || die "mktemp failed"
PIDS=()
MESH_UP=0
# shellcheck disable=SC2317  # run by the EXIT trap
cleanup() {
	local p
	trap - EXIT INT TERM
	if [ "$MESH_UP" = 1 ]; then
		timeout 30 "$BIN/meshctl" down -f "$T/mesh/mesh.ini" >/dev/null 2>&1
	fi
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null
	done
	for p in "${PIDS[@]}"; do
		timeout 10 tail --pid="$p" -f /dev/null 2>/dev/null
	done
	rm -rf "$T"
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
for p in $P_NGINX $P_HA_A $P_HA_B $P_FRONT $((P_BASE)) $((P_BASE + 1)) $((P_BASE + 2)); do
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

# --- nginx: one worker, a small body and a 200 MB file -------------------------
N=$T/nginx
mkdir -p "$N/www" "$N/tmp"
chmod 0755 "$T" "$N" "$N/www"
printf 'hello from nginx, a small response body for the benchmark.\n' >"$N/www/small"
truncate -s "${BIG_MB}M" "$N/www/big"
chmod 0644 "$N/www/small" "$N/www/big"
{
	echo "worker_processes 1;"
	[ "$(id -u)" -eq 0 ] && echo "user root;"
	cat <<EOF
pid $N/nginx.pid;
error_log $N/error.log warn;
events { worker_connections 1024; }
http {
	access_log off;
	client_body_temp_path $N/tmp/body;
	proxy_temp_path $N/tmp/proxy;
	fastcgi_temp_path $N/tmp/fastcgi;
	uwsgi_temp_path $N/tmp/uwsgi;
	scgi_temp_path $N/tmp/scgi;
	sendfile on;
	tcp_nopush on;
	tcp_nodelay on;
	keepalive_requests 1000000;
	keepalive_timeout 60s;
	default_type application/octet-stream;
	server {
		listen 127.0.0.1:$P_NGINX;
		root $N/www;
	}
}
EOF
} >"$N/nginx.conf"
nginx -p "$N" -e "$N/error.log" -c "$N/nginx.conf" -g 'daemon off;' >"$N/stdout.log" 2>&1 &
PIDS+=($!)
wait_port "$P_NGINX" "nginx: $(tail -2 "$N/error.log" 2>/dev/null)"

# --- the HAProxy pair ----------------------------------------------------------
H=$T/haproxy
mkdir -p "$H"
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
{
	ha_common
	cat <<EOF
frontend a_in
	bind 127.0.0.1:$P_HA_A
	default_backend a_out
backend a_out
	server b 127.0.0.1:$P_HA_B ssl crt $K/ha-a.pem ca-file $K/ca.crt verify required verifyhost ha-b
EOF
} >"$H/a.cfg"
{
	ha_common
	cat <<EOF
frontend b_in
	bind 127.0.0.1:$P_HA_B ssl crt $K/ha-b.pem ca-file $K/ca.crt verify required
	default_backend b_out
backend b_out
	server nginx 127.0.0.1:$P_NGINX
EOF
} >"$H/b.cfg"
haproxy -c -q -f "$H/a.cfg" >"$H/check.log" 2>&1 || die "haproxy A config: $(cat "$H/check.log")"
haproxy -c -q -f "$H/b.cfg" >"$H/check.log" 2>&1 || die "haproxy B config: $(cat "$H/check.log")"
haproxy -db -f "$H/b.cfg" >"$H/b.log" 2>&1 &
HA_B=$!; PIDS+=("$HA_B")
haproxy -db -f "$H/a.cfg" >"$H/a.log" 2>&1 &
HA_A=$!; PIDS+=("$HA_A")
wait_port "$P_HA_B" "haproxy B: $(tail -2 "$H/b.log")"
wait_port "$P_HA_A" "haproxy A: $(tail -2 "$H/a.log")"

# --- the mesh pair: a pure client in front, web = the same nginx ----------------
M=$T/mesh
mkdir -p "$M"
cat >"$M/mesh.ini" <<EOF
[mesh]
name = bench
port_base = $P_BASE

[service.client]
upstreams = web:$P_FRONT

[service.web]
port = $P_NGINX
EOF
MESH_UP=1
timeout 60 "$BIN/meshctl" up -d -f "$M/mesh.ini" >"$M/up.log" 2>&1 \
	|| die "meshctl up failed: $(tail -5 "$M/up.log")"
"$BIN/meshctl" status --json -f "$M/mesh.ini" >"$M/status.json" 2>/dev/null
# the proxy_pid of service $1's instance 0, from the status document
proxy_pid() {
	sed 's/"name":"'"$1"'\.0"/\n&/' "$M/status.json" | sed -n '2p' |
		sed -n 's/^[^}]*"proxy_pid":\([0-9]*\).*/\1/p'
}
MP_C=$(proxy_pid client)
MP_W=$(proxy_pid web)
if [ -z "$MP_C" ] || [ -z "$MP_W" ]; then
	die "no sidecar pids in meshctl status --json"
fi
wait_port "$P_FRONT" "mesh front door"
P_MESH_IN=$(sed 's/"name":"web\.0"/\n&/' "$M/status.json" | sed -n '2p' |
	sed -n 's/^[^}]*"inbound_port":\([0-9]*\).*/\1/p')

# A client identity the mesh trusts, for the handshake test: signed by the
# mesh's own CA, named as the pure client (the web service allows it).
MCA=$M/.mesh/ca
ossl ecparam -name prime256v1 -genkey -noout -out "$K/mesh-client.key"
ossl req -new -key "$K/mesh-client.key" -subj /CN=client -out "$K/mesh-client.csr"
printf 'subjectAltName=URI:spiffe://mesh.local/svc/client\nextendedKeyUsage=serverAuth,clientAuth\nkeyUsage=critical,digitalSignature\n' \
	>"$K/mesh-client.ext"
ossl x509 -req -in "$K/mesh-client.csr" -CA "$MCA/ca.crt" -CAkey "$MCA/ca.key" \
	-CAserial "$K/mesh.srl" -CAcreateserial -days 1 -extfile "$K/mesh-client.ext" \
	-out "$K/mesh-client.crt"

D=http://127.0.0.1:$P_NGINX
HA=http://127.0.0.1:$P_HA_A
MESH=http://127.0.0.1:$P_FRONT
for u in "$D" "$HA" "$MESH"; do
	n=50
	until [ "$(curl -s -m 5 -o /dev/null -w '%{http_code}' "$u/small")" = 200 ]; do
		n=$((n - 1)); [ $n -gt 0 ] || die "$u/small never answered 200"
		sleep 0.1
	done
done

# --- measuring helpers -----------------------------------------------------------
HZ=$(getconf CLK_TCK)
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null; }
# VmRSS and its private anonymous part (heap, stacks), as "R MiB (anon A)"
rss_both() { awk '/^VmRSS:/ { r = $2 } /^RssAnon:/ { a = $2 }
	END { printf "%.1f MiB (anon %.1f)", r / 1024, a / 1024 }' "/proc/$1/status" 2>/dev/null; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
# utime+stime of the given pids, in clock ticks
ticks() {
	local p t=0
	for p in "$@"; do
		t=$((t + $(sed 's/^.*) //' "/proc/$p/stat" | awk '{print $12 + $13}')))
	done
	echo $t
}
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
warn_err() { [ "$1" = 0 ] || echo "bench: warning: $2 had socket errors or non-2xx answers" >&2; }

# --- idle RSS after one mTLS request (before any load) -----------------------------
curl -s -m 10 -o /dev/null "$HA/small"
curl -s -m 10 -o /dev/null "$MESH/small"
# idle: a sidecar gives its handshake tables back 2 s after its last
# handshake (transport_tls.c); HAProxy keeps what it has
sleep 3
RSS1_HA_A=$(rss_kib $HA_A); RSS1_HA_B=$(rss_kib $HA_B)
RSS1_M_C=$(rss_kib "$MP_C"); RSS1_M_W=$(rss_kib "$MP_W")
RSS1_DETAIL="client $(rss_both "$MP_C"), web $(rss_both "$MP_W"); haproxy A $(rss_both $HA_A), B $(rss_both $HA_B)"

echo "bench: nginx on $P_NGINX, haproxy $P_HA_A -> $P_HA_B, mesh $P_FRONT -> $P_MESH_IN; $RUNS interleaved runs of ${DUR}s" >&2

LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
# warm-up: every path, 1 s
for u in "$D" "$HA" "$MESH"; do
	timeout 20 wrk -t1 -c32 -d1s "$u/small" >/dev/null 2>&1
done

# --- small responses, keep-alive, 32 connections -----------------------------------
S_D=(); S_HA=(); S_M=()
REQ_HA=0; REQ_M=0; TK_HA=0; TK_M=0
for i in $(seq "$RUNS"); do
	read -r _ rps _ err < <(wrk_run -t1 -c32 -d"${DUR}s" "$D/small"); S_D+=("$rps"); warn_err "$err" "direct small"
	t0=$(ticks $HA_A $HA_B)
	read -r req rps _ err < <(wrk_run -t1 -c32 -d"${DUR}s" "$HA/small"); S_HA+=("$rps"); warn_err "$err" "haproxy small"
	TK_HA=$((TK_HA + $(ticks $HA_A $HA_B) - t0)); REQ_HA=$((REQ_HA + req))
	t0=$(ticks "$MP_C" "$MP_W")
	read -r req rps _ err < <(wrk_run -t1 -c32 -d"${DUR}s" "$MESH/small"); S_M+=("$rps"); warn_err "$err" "mesh small"
	TK_M=$((TK_M + $(ticks "$MP_C" "$MP_W") - t0)); REQ_M=$((REQ_M + req))
	echo "bench: small run $i: direct ${S_D[-1]} haproxy ${S_HA[-1]} mesh ${S_M[-1]} rps" >&2
done
# CPU milliseconds the two proxies spent per 1,000 requests
cpu_per_k() { awk -v t="$1" -v hz="$HZ" -v r="$2" 'BEGIN { if (r == 0) print "-"; else printf "%.0f", t * 1000 / hz / (r / 1000) }'; }
CPU_HA=$(cpu_per_k $TK_HA $REQ_HA)
CPU_M=$(cpu_per_k $TK_M $REQ_M)

# --- added latency, one connection ---------------------------------------------------
L_D=(); L_HA=(); L_M=()
for i in $(seq "$RUNS"); do
	read -r _ _ p50 err < <(wrk_run -t1 -c1 -d"${DUR}s" --latency "$D/small"); L_D+=("$p50"); warn_err "$err" "direct latency"
	read -r _ _ p50 err < <(wrk_run -t1 -c1 -d"${DUR}s" --latency "$HA/small"); L_HA+=("$p50"); warn_err "$err" "haproxy latency"
	read -r _ _ p50 err < <(wrk_run -t1 -c1 -d"${DUR}s" --latency "$MESH/small"); L_M+=("$p50"); warn_err "$err" "mesh latency"
	echo "bench: latency run $i: p50 direct ${L_D[-1]} haproxy ${L_HA[-1]} mesh ${L_M[-1]} us" >&2
done

# --- one 200 MB download ----------------------------------------------------------------
# speed in MiB/s, or 0 when the download failed or came back short
dl() {
	timeout 120 curl -s -m 110 -o /dev/null -w '%{http_code} %{size_download} %{speed_download}\n' "$1/big" |
		awk -v want=$((BIG_MB * 1048576)) '{ if ($1 == 200 && $2 == want) printf "%.0f\n", $3 / 1048576; else print 0 }'
}
B_D=(); B_HA=(); B_M=()
for i in $(seq "$RUNS"); do
	B_D+=("$(dl "$D")"); B_HA+=("$(dl "$HA")"); B_M+=("$(dl "$MESH")")
	echo "bench: download run $i: direct ${B_D[-1]} haproxy ${B_HA[-1]} mesh ${B_M[-1]} MiB/s" >&2
done

# --- handshakes -------------------------------------------------------------------------
# (1) a new client connection per request through each pair (wrk with
#     Connection: close): what a client that never reuses its connection
#     gets; the proxies may still reuse their pooled mTLS connection.
# (2) full TLS 1.3 mTLS handshakes per second at the inbound proxy alone
#     (openssl s_time -new, ECDSA P-256 client certificate): haproxy B and
#     the web sidecar's inbound port.  The client's signing and verifying
#     share the same cores.
C_HA=(); C_M=(); HS_HA=(); HS_M=()
s_time() {
	timeout $((DUR + 30)) openssl s_time -connect "127.0.0.1:$1" -new -time "$DUR" \
		-cert "$2" -key "$3" -CAfile "$4" 2>/dev/null |
		awk '/connections in .* real seconds/ { printf "%.0f\n", $1 / $4; found = 1 }
		     END { if (!found) print 0 }'
}
for i in $(seq "$RUNS"); do
	read -r _ rps _ err < <(wrk_run -t1 -c32 -d"${DUR}s" -H 'Connection: close' "$HA/small"); C_HA+=("$rps"); warn_err "$err" "haproxy close"
	read -r _ rps _ err < <(wrk_run -t1 -c32 -d"${DUR}s" -H 'Connection: close' "$MESH/small"); C_M+=("$rps"); warn_err "$err" "mesh close"
	HS_HA+=("$(s_time "$P_HA_B" "$K/ha-a.crt" "$K/ha-a.key" "$K/ca.crt")")
	HS_M+=("$(s_time "$P_MESH_IN" "$K/mesh-client.crt" "$K/mesh-client.key" "$MCA/ca.crt")")
	echo "bench: handshake run $i: close haproxy ${C_HA[-1]} mesh ${C_M[-1]} rps; s_time haproxy ${HS_HA[-1]} mesh ${HS_M[-1]} /s" >&2
done

RSS2_HA_A=$(rss_kib $HA_A); RSS2_HA_B=$(rss_kib $HA_B)
RSS2_M_C=$(rss_kib "$MP_C"); RSS2_M_W=$(rss_kib "$MP_W")
RSS2_DETAIL="client $(rss_both "$MP_C"), web $(rss_both "$MP_W"); haproxy A $(rss_both $HA_A), B $(rss_both $HA_B)"

# --- the machine, then the table -----------------------------------------------------------------------------
sD=$(median "${S_D[@]}"); sHA=$(median "${S_HA[@]}"); sM=$(median "${S_M[@]}")
lD=$(median "${L_D[@]}"); lHA=$(median "${L_HA[@]}"); lM=$(median "${L_M[@]}")
aHA=$(awk -v a="$lHA" -v b="$lD" 'BEGIN { print a - b }')
aM=$(awk -v a="$lM" -v b="$lD" 'BEGIN { print a - b }')
bD=$(median "${B_D[@]}"); bHA=$(median "${B_HA[@]}"); bM=$(median "${B_M[@]}")
cHA=$(median "${C_HA[@]}"); cM=$(median "${C_M[@]}")
hHA=$(median "${HS_HA[@]}"); hM=$(median "${HS_M[@]}")
mx() { if [ "$1" -gt "$2" ]; then echo "$1"; else echo "$2"; fi; }
worst_m=$(mx "$RSS1_M_C" "$RSS1_M_W")

ver() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo "?"; }
echo "machine: $(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1), $(nproc) CPU(s) online"
echo "         kernel $(uname -r), Debian $(cat /etc/debian_version 2>/dev/null || echo "?")"
echo "         wolfSSL $(ver libwolfssl-dev), libev $(ver libev-dev), HAProxy $(ver haproxy), nginx $(ver nginx), wrk $(ver wrk), OpenSSL $(ver openssl)"
echo "         load average before the run: $LOAD0"
echo
cat <<EOF
| measure | meshctl | HAProxy pair | ratio | goal |
| --- | --- | --- | --- | --- |
| small responses, \`wrk -t1 -c32 -d${DUR}s\`, median of $RUNS interleaved runs (direct $sD rps) | $sM rps | $sHA rps | $(ratio "$sM" "$sHA")x | >= 1.5x |
| added p50 over direct, \`wrk -t1 -c1 -d${DUR}s --latency\` (direct p50 $lD us) | $aM us | $aHA us | $(ratio "$aM" "$aHA") | <= 0.5 |
| one ${BIG_MB} MB download (curl), median of $RUNS (direct $bD MiB/s) | $bM MiB/s | $bHA MiB/s | $(ratio "$bM" "$bHA")x | >= 1.0x |
| idle sidecar RSS after one mTLS request (client / web; HAProxy A / B) | $(mib "$RSS1_M_C") / $(mib "$RSS1_M_W") MiB | $(mib "$RSS1_HA_A") / $(mib "$RSS1_HA_B") MiB | | <= 2 MiB |
| new client connection per request, \`wrk -t1 -c32 -H 'Connection: close'\` | $cM rps | $cHA rps | $(ratio "$cM" "$cHA")x | |
| full mTLS handshakes at the inbound proxy, \`openssl s_time -new\` | $hM /s | $hHA /s | $(ratio "$hM" "$hHA")x | |
| CPU of both proxies per 1k requests (small responses) | $CPU_M ms | $CPU_HA ms | $(ratio "$CPU_M" "$CPU_HA") | |
| RSS after the whole run (client / web; HAProxy A / B) | $(mib "$RSS2_M_C") / $(mib "$RSS2_M_W") MiB | $(mib "$RSS2_HA_A") / $(mib "$RSS2_HA_B") MiB | | |

runs: small rps direct ${S_D[*]} | haproxy ${S_HA[*]} | mesh ${S_M[*]}
      p50 us direct ${L_D[*]} | haproxy ${L_HA[*]} | mesh ${L_M[*]}
      download MiB/s direct ${B_D[*]} | haproxy ${B_HA[*]} | mesh ${B_M[*]}
      Connection: close rps haproxy ${C_HA[*]} | mesh ${C_M[*]}
      s_time handshakes/s haproxy ${HS_HA[*]} | mesh ${HS_M[*]}
rss:  after one request: $RSS1_DETAIL
      after the run:     $RSS2_DETAIL
goals met: rps $(awk -v r="$(ratio "$sM" "$sHA")" 'BEGIN { print (r >= 1.5) ? "yes" : "no" }'), \
latency $(awk -v r="$(ratio "$aM" "$aHA")" 'BEGIN { print (r != "-" && r <= 0.5) ? "yes" : "no" }'), \
download $(awk -v r="$(ratio "$bM" "$bHA")" 'BEGIN { print (r >= 1.0) ? "yes" : "no" }'), \
RSS $( [ "$worst_m" -le 2048 ] && echo yes || echo no)
EOF
exit 0
