# SPDX-License-Identifier: ISC
# Sourced by scripts/bench.sh (BENCH_ONLY unset or h1): HTTP/1.1 through
# the mesh pair and the HAProxy pair, nginx behind both.  Uses bench.sh's
# helpers, temp dir ($T), certificates ($K) and ports; sets the S_*, L_*,
# B_*, C_*, HS_* and RSS* figures bench.sh's table reads.
# shellcheck shell=bash disable=SC2154,SC2034  # bench.sh sets P_*, T, K, BIN, reads the figures

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
events { worker_connections 4096; }
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
NGINX_MASTER=$!
wait_port "$P_NGINX" "nginx: $(tail -2 "$N/error.log" 2>/dev/null)"

# --- the HAProxy pair ----------------------------------------------------------
H=$T/haproxy
mkdir -p "$H"
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
ha_pair "$H" "" "$P_HA_A" "$P_HA_B"
HA_A=$HA_PAIR_A HA_B=$HA_PAIR_B

# --- the mesh pair: a pure client in front, web = the same nginx ----------------
M=$T/mesh
mkdir -p "$M"
cat >"$M/mesh.ini" <<EOF
[mesh]
name = bench
port_base = $P_BASE
# as HAProxy's maxconn: the held-connections step opens 1,000 at once
max_connections = 4096

[service.client]
upstreams = web:$P_FRONT

[service.web]
port = $P_NGINX

# as HAProxy's "timeout connect 5s" (the mesh's covers the mTLS handshake
# too): 1,000 connections opened at once queue 1,000 handshakes
[route.web]
connect_timeout = 5s
EOF
MESH_UP=1
timeout 60 "$BIN/meshctl" up -d -f "$M/mesh.ini" >"$M/up.log" 2>&1 \
	|| die "meshctl up failed: $(tail -5 "$M/up.log")"
"$BIN/meshctl" status --json -f "$M/mesh.ini" >"$M/status.json" 2>/dev/null
MP_C=$(status_field "$M/status.json" client.0 proxy_pid)
MP_W=$(status_field "$M/status.json" web.0 proxy_pid)
if [ -z "$MP_C" ] || [ -z "$MP_W" ]; then
	die "no sidecar pids in meshctl status --json"
fi
wait_port "$P_FRONT" "mesh front door"
P_MESH_IN=$(status_field "$M/status.json" web.0 inbound_port)

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

# --- idle RSS after one mTLS request (before any load) -----------------------------
curl -s -m 10 -o /dev/null "$HA/small"
curl -s -m 10 -o /dev/null "$MESH/small"
# idle: a sidecar gives its handshake tables back 2 s after its last
# handshake (transport_tls.c); HAProxy keeps what it has
sleep 3
RSS1_HA_A=$(rss_kib $HA_A); RSS1_HA_B=$(rss_kib $HA_B)
RSS1_M_C=$(rss_kib "$MP_C"); RSS1_M_W=$(rss_kib "$MP_W")
RSS1_DETAIL="client $(rss_both "$MP_C"), web $(rss_both "$MP_W"); haproxy A $(rss_both $HA_A), B $(rss_both $HA_B)"
A1_HA_A=$(rss_anon $HA_A); A1_HA_B=$(rss_anon $HA_B); A1_M_C=$(rss_anon "$MP_C"); A1_M_W=$(rss_anon "$MP_W")

echo "bench: nginx on $P_NGINX, haproxy $P_HA_A -> $P_HA_B, mesh $P_FRONT -> $P_MESH_IN; $RUNS interleaved runs of ${DUR}s" >&2

# warm-up: every path, 1 s
for u in "$D" "$HA" "$MESH"; do
	timeout 20 wrk -t1 -c32 -d1s "$u/small" >/dev/null 2>&1
done

# --- small responses, keep-alive, 32 connections -----------------------------------
S_D=(); S_HA=(); S_M=()
REQ_HA=0; REQ_M=0
# where the CPU of a small request goes: the proxies' user and system
# time, and nginx's worker (the master's only child), per 1k requests
NGINX_W=$(pgrep -P "$NGINX_MASTER" | head -1)
US_HA=(0 0 0); US_M=(0 0 0)   # user, system, nginx ticks
us_add() { # ARRAY-NAME T0-TRIPLE PIDS...: add what the pids spent since T0
	local -n acc=$1; local -a t0=($2) t1; shift 2
	read -r -a t1 < <(ticks_us "$@")
	acc[0]=$((acc[0] + t1[0] - t0[0])); acc[1]=$((acc[1] + t1[1] - t0[1])); acc[2]=$((acc[2] + t1[2] - t0[2]))
}
for i in $(seq "$RUNS"); do
	read -r _ rps _ err < <(wrk_run -t1 -c32 -d"${DUR}s" "$D/small"); S_D+=("$rps"); warn_err "$err" "direct small"
	u0=$(ticks_us $HA_A $HA_B)
	read -r req rps _ err < <(wrk_run -t1 -c32 -d"${DUR}s" "$HA/small"); S_HA+=("$rps"); warn_err "$err" "haproxy small"
	REQ_HA=$((REQ_HA + req)); us_add US_HA "$u0" $HA_A $HA_B
	u0=$(ticks_us "$MP_C" "$MP_W")
	read -r req rps _ err < <(wrk_run -t1 -c32 -d"${DUR}s" "$MESH/small"); S_M+=("$rps"); warn_err "$err" "mesh small"
	REQ_M=$((REQ_M + req)); us_add US_M "$u0" "$MP_C" "$MP_W"
	echo "bench: small run $i: direct ${S_D[-1]} haproxy ${S_HA[-1]} mesh ${S_M[-1]} rps" >&2
done
CPU_HA=$(cpu_per_k $((US_HA[0] + US_HA[1])) $REQ_HA)
CPU_M=$(cpu_per_k $((US_M[0] + US_M[1])) $REQ_M)
CPU_SPLIT="mesh user $(cpu_per_k "${US_M[0]}" $REQ_M) sys $(cpu_per_k "${US_M[1]}" $REQ_M), nginx $(cpu_per_k "${US_M[2]}" $REQ_M) | haproxy user $(cpu_per_k "${US_HA[0]}" $REQ_HA) sys $(cpu_per_k "${US_HA[1]}" $REQ_HA), nginx $(cpu_per_k "${US_HA[2]}" $REQ_HA) (ms per 1k requests)"

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

# --- NCONN keep-alive connections held open through each pair -----------------------
# scripts/bench_conns.py opens them and has a request in flight on every
# one at once, so each proxy opens about as many connections upstream (the
# mTLS hop included); it reads the answers and holds everything open while
# VmRSS and RssAnon of the proxies are read, then closes them.  "Per
# connection" is a proxy's RssAnon growth over its idle figure divided by
# NCONN: the heap and buffers one held client connection costs, its
# upstream half included.
NCONN=${BENCH_CONNS:-1000}
conns_hold() { # PORT LABEL: hold NCONN connections; sets CONN_PID, CONN_FIFO
	CONN_FIFO=$T/conns-$2.fifo
	rm -f "$CONN_FIFO"; mkfifo "$CONN_FIFO"
	python3 "$ROOT/scripts/bench_conns.py" "$1" "$NCONN" /small <"$CONN_FIFO" >"$T/conns-$2.log" 2>&1 &
	CONN_PID=$!; PIDS+=("$CONN_PID")
	exec 9>"$CONN_FIFO"
	local n=600
	until grep -q '^ready' "$T/conns-$2.log" 2>/dev/null; do
		kill -0 "$CONN_PID" 2>/dev/null || { exec 9>&-; die "$2: $(tail -2 "$T/conns-$2.log")"; }
		n=$((n - 1)); [ $n -gt 0 ] || { exec 9>&-; die "$2: $NCONN connections not ready in 60 s"; }
		sleep 0.1
	done
	# held, idle: as for the idle figure, a sidecar hands the memory its
	# handshakes freed back 2 s after the last one (pki_trim())
	sleep 3
}
conns_release() { # closes the holder's stdin: it closes the connections and exits
	exec 9>&-
	wait "$CONN_PID" 2>/dev/null
	rm -f "$CONN_FIFO"
}
per_conn() { awk -v a="$1" -v b="$2" -v n="$NCONN" 'BEGIN { printf "%.1f", (a - b) / n }'; }
conns_hold "$P_HA_A" haproxy
RSS3_HA_A=$(rss_kib $HA_A); RSS3_HA_B=$(rss_kib $HA_B)
PC_HA_A=$(per_conn "$(rss_anon $HA_A)" "$A1_HA_A"); PC_HA_B=$(per_conn "$(rss_anon $HA_B)" "$A1_HA_B")
RSS3_DETAIL_HA="haproxy A $(rss_both $HA_A), B $(rss_both $HA_B)"
conns_release
conns_hold "$P_FRONT" mesh
RSS3_M_C=$(rss_kib "$MP_C"); RSS3_M_W=$(rss_kib "$MP_W")
PC_M_C=$(per_conn "$(rss_anon "$MP_C")" "$A1_M_C"); PC_M_W=$(per_conn "$(rss_anon "$MP_W")" "$A1_M_W")
RSS3_DETAIL="client $(rss_both "$MP_C"), web $(rss_both "$MP_W"); $RSS3_DETAIL_HA"
conns_release
echo "bench: $NCONN connections held: mesh $(mib "$RSS3_M_C") / $(mib "$RSS3_M_W") MiB, haproxy $(mib "$RSS3_HA_A") / $(mib "$RSS3_HA_B") MiB" >&2
