#!/bin/bash
# SPDX-License-Identifier: ISC
# h2_raw: plain HTTP/2 (not gRPC) through the mesh with nghttp2's own
# client and server: nghttp (nghttp2-client) speaks h2c with prior
# knowledge to the caller's sidecar; the app is nghttpd (nghttp2-server),
# which speaks nothing but HTTP/2, serving a directory:
#   nghttp -> gateway 127.0.0.1:26701 (files:PORT listener) -> files
#                                            (protocol = http2, nghttpd)
#          -> gateway's outbound proxy 127.0.0.1:26703, :authority files
#   curl --http1.1 -> 127.0.0.1:26703 (the same port) -> web (protocol = http)
#                  -> 127.0.0.1:26702 (web:PORT)   -> web
#   1. a small file and a 1 MiB file come back byte-exact
#   2. 20 concurrent streams of the 1 MiB file on one connection
#      (nghttp -m 20): 20 x 200, each 1 MiB of DATA, each ended
#   3. a 1 MiB POST is echoed back byte-exact (nghttpd --echo-upload):
#      request bodies flow through both sidecars too
#   4. the outbound proxy port routes h2 by :authority, and HTTP/1.1 on
#      that very port still works (the sidecar tells them apart by the
#      connection preface)
# Ports: 26700-26729.
. "$(dirname "$0")/lib.sh"

NGHTTPD=$(command -v nghttpd || echo /usr/sbin/nghttpd)
for tool in nghttp "$NGHTTPD"; do
	if ! command -v "$tool" >/dev/null; then
		not_ok "$tool is installed (nghttp2-client, nghttp2-server: scripts/deps.sh test)"
		exit 1
	fi
done

mkdir -p "$T/www"
printf 'h2 through the mesh\n' >"$T/www/small.txt"
head -c 1048576 /dev/urandom >"$T/www/big.bin"
cp "$MESH_APPS/testapp" "$T/testapp"
cat >"$T/mesh.ini" <<EOF
[mesh]
name = h2-raw
port_base = 26715

[service.gateway]
upstreams = files:26701, web:26702
outbound = 26703

[service.files]
protocol = http2
command = exec $NGHTTPD --no-tls --echo-upload -a 127.0.0.1 -d $T/www \$PORT
port = 26710

[service.web]
command = exec $T/testapp --port \$PORT --name web
port = 26712
EOF

check "meshctl check accepts protocol = http2" meshctl check -f "$T/mesh.ini"
mesh_up_or_stop "$T/mesh.ini"
for p in 26701 26702 26703; do
	check "listener 127.0.0.1:$p accepts" wait_port "$p" 10
done
sleep 1   # and the gateway's sidecar has the endpoints

# h2 URL [nghttp args]: nghttp, bounded in time (it exits 0 even when it
# could not connect: the callers look at what came back)
h2() { local u=$1; shift; timeout 60 nghttp "$@" "$u"; }

# ---- 1. byte-exact through the files:PORT listener --------------------
h2 http://127.0.0.1:26701/small.txt -v >"$T/small.v" 2>&1
check "nghttp -v: :status 200 over h2c from nghttpd behind the mesh" \
	grep -aq 'recv (stream_id=[0-9]*) :status: 200' "$T/small.v"
check "... a response nghttpd sent (server: nghttpd)" \
	grep -aq 'recv (stream_id=[0-9]*) server: nghttpd' "$T/small.v"
h2 http://127.0.0.1:26701/small.txt >"$T/small.out" 2>"$T/small.err"
check "a small file comes back byte-exact" cmp "$T/www/small.txt" "$T/small.out"
h2 http://127.0.0.1:26701/big.bin >"$T/big.out" 2>"$T/big.err"
check "a 1 MiB file comes back byte-exact ($(stat -c %s "$T/big.out" 2>/dev/null) bytes)" \
	cmp "$T/www/big.bin" "$T/big.out"

# ---- 2. multiplexed -------------------------------------------------------
# per stream of `nghttp -v` output: its :status, the DATA it got, whether
# a DATA frame ended it; prints "streams good"
streams() {
	awk -v size="$1" '
	function num(re, off) { if (!match($0, re)) return ""; return substr($0, RSTART + off, RLENGTH - off) }
	/recv \(stream_id=[0-9]+\) :status: / { st[num("stream_id=[0-9]+", 10)] = $NF }
	/recv DATA frame </ {
		s = num("stream_id=[0-9]+", 10); n[s] += num("length=[0-9]+", 7)
		if ($0 ~ /flags=0x01/) e[s] = 1
	}
	END { for (s in st) { t++; if (st[s] == 200 && n[s] == size && e[s]) good++ }
	      printf "%d %d\n", t, good }' "$2"
}
h2 http://127.0.0.1:26701/big.bin -v -n -m 20 >"$T/m20.v" 2>&1
read -r total good < <(streams 1048576 "$T/m20.v")
echo "# nghttp -m 20: $total streams, $good of them 200 with 1 MiB of DATA, ended"
is "20 concurrent streams on one connection: 20 x 200, each 1 MiB, each ended" \
	"${total:-0} ${good:-0}" "20 20"

# ---- 3. a request body ---------------------------------------------------
h2 http://127.0.0.1:26701/echo -d "$T/www/big.bin" >"$T/echo.out" 2>"$T/echo.err"
check "a 1 MiB POST is echoed back byte-exact ($(stat -c %s "$T/echo.out" 2>/dev/null) bytes)" \
	cmp "$T/www/big.bin" "$T/echo.out"

# ---- 4. one port, both protocols ---------------------------------------
h2 http://127.0.0.1:26703/big.bin -H ':authority: files' >"$T/proxy.out" 2>"$T/proxy.err"
check "h2c to the outbound proxy port, :authority files: the 1 MiB file byte-exact" \
	cmp "$T/www/big.bin" "$T/proxy.out"
code=$(curl -s --http1.1 -o "$T/web.out" -w '%{http_code}' --max-time 10 \
	-x http://127.0.0.1:26703 http://web/whoami)
is "HTTP/1.1 on that same port (curl -x, http://web/whoami): 200" "$code" 200
check "... from web" grep -q 'name=web' "$T/web.out"
code=$(curl -s --http1.1 -o "$T/web2.out" -w '%{http_code}' --max-time 10 \
	http://127.0.0.1:26702/whoami)
is "HTTP/1.1 to the web:PORT listener: 200" "$code" 200
check "... from web" grep -q 'name=web' "$T/web2.out"

mesh_down_checked "$T/mesh.ini"
exit 0
