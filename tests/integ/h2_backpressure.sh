#!/bin/bash
# SPDX-License-Identifier: ISC
# h2_backpressure: HTTP/2 flow control end to end.  A client asks for a
# 64 MiB body over h2c, opens its windows to 2 GiB (so only the socket
# holds anything back) and reads nothing for 4 s; the sidecars must not
# buffer the body meanwhile: a stream's bytes are acknowledged to their
# sender only when the next leg took them (h2.h).  Then it reads it all.
#   h2_slow_reader.py -> gateway 127.0.0.1:26801 (files:PORT listener)
#        ==mTLS h2==> files' sidecar -> nghttpd (h2c, protocol = http2)
# Checks: while it stalls, neither sidecar grows by 16 MiB (ASan: 48);
# afterwards the whole 64 MiB arrives, ended.
# Ports: 26800-26819.
. "$(dirname "$0")/grpc.bash"

NGHTTPD=$(command -v nghttpd || echo /usr/sbin/nghttpd)
mkdir -p "$T/www"
head -c 67108864 /dev/zero >"$T/www/big.bin"
cat >"$T/mesh.ini" <<EOF
[mesh]
name = h2-backpressure
port_base = 26810

[service.gateway]
upstreams = files:26801

[service.files]
protocol = http2
command = exec $NGHTTPD --no-tls -a 127.0.0.1 -d $T/www \$PORT
port = 26805
EOF

mesh_up_or_stop "$T/mesh.ini"
check "listener 127.0.0.1:26801 accepts" wait_port 26801 10
gw=$(inst_field gateway v1 0 proxy_pid)
fs=$(inst_field files v1 0 proxy_pid)
check "both sidecars run (gateway ${gw:-?}, files ${fs:-?})" alive "${gw:-0}"
rss() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
# warm: one small request through the same path, so pools and TLS exist
echo hi >"$T/www/small.txt"
timeout 10 nghttp -n http://127.0.0.1:26801/small.txt >/dev/null 2>&1
gw0=$(rss "$gw") fs0=$(rss "$fs")

timeout 90 python3 "$(dirname "$0")/h2_slow_reader.py" 26801 files /big.bin 4 "$T/paused" \
	>"$T/reader.out" 2>"$T/reader.err" &
reader=$!
_pids+=("$reader")
check "the reader asked and stalls" wait_for 10 test -e "$T/paused"
sleep 3
gw1=$(rss "$gw") fs1=$(rss "$fs")
lim=16384
case "$BUILD" in *sanitize*|*asan*) lim=49152 ;; esac   # ASan's shadow and quarantine
echo "# RSS kB before / while stalled: gateway $gw0 / $gw1, files $fs0 / $fs1 (bound +$lim)"
check "the caller's sidecar holds back: +$((gw1 - gw0)) kB < $lim" test $((gw1 - gw0)) -lt "$lim"
check "the callee's sidecar holds back: +$((fs1 - fs0)) kB < $lim" test $((fs1 - fs0)) -lt "$lim"
wait "$reader"
sed 's/^/# /' "$T/reader.out"
is "then the whole body arrives: 64 MiB" "$(awk '/^bytes/ {print $2}' "$T/reader.out")" 67108864
is "... with :status 200, ended" "$(awk '/^status|^ended/ {printf "%s ", $2}' "$T/reader.out")" "200 yes "

mesh_down_checked "$T/mesh.ini"
exit 0
