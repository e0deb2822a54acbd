#!/bin/bash
# SPDX-License-Identifier: ISC
# sec_slow: slow clients against a sidecar, each bounded by a timeout of
# the sidecar, through two sidecars:
#   client -> gateway sidecar 127.0.0.1:26451 -> mTLS -> web sidecar -> testapp
# with header_timeout = 2s and idle_timeout = 4s:
#   slowloris    500 connections dribbling a request head (a byte every
#                0.2 s): each closed by the header timeout, from its first
#                byte, though it keeps sending
#   handshake    50 connections to web's mTLS inbound port dribbling a
#                ClientHello: closed by the header timeout from the accept
#   slow read    GET 1 GiB, read 1 MB, stop: the sidecars stop reading the
#                app (flow control), the idle timeout ends it
#   stopped echo POST 1 GiB to /echo, never read the echo: the sender is
#                stopped after what the socket buffers hold, the idle
#                timeout ends it
# During and after each: a good client gets 200, the sidecars' peak RSS
# stays within the bound below, no descriptor is left behind, nothing dies.
# Ports: 26450-26499.
. "$(dirname "$0")/sec.bash"

# Peak RSS growth bound per sidecar over the whole scenario (kB): 500
# heads in progress hold a 16 KiB buffer each (8 MB); bodies hold one
# buffer per direction.  ASan: redzones and shadow memory.
LIM=24576
[ "$ASAN" = 1 ] && LIM=65536
GIB=1073741824

sec_mesh 26451 26460 26470 "header_timeout = 2s
idle_timeout = 4s"
gw0=$(hwm "$GW_PID") web0=$(hwm "$WEB_PID")
gwfd=$(nfds "$GW_PID") webfd=$(nfds "$WEB_PID")
good "before"

# --- slowloris -----------------------------------------------------------
$FLOOD slowloris 26451 500 12 0.2 >"$T/loris.out" 2>&1 &
lp=$!
sleep 1
good "slowloris, 500 heads in progress"
wait $lp
sed 's/^/# slowloris: /' "$T/loris.out"
is "slowloris: all 500 connections closed by the sidecar" "$(awk '/^closed/ {print $2}' "$T/loris.out")" 500
check "slowloris: none closed before the header timeout (2 s from its first byte)" \
	awk '/^first_s/ {exit !($2 >= 1.5)}' "$T/loris.out"
# they keep dribbling for 12 s: without the bound they would last that long
check "slowloris: each closed within 2 x header_timeout + 2 s of its first byte" \
	awk '/^last_s/ {exit !($2 > 0 && $2 < 6)}' "$T/loris.out"
check "slowloris: no head got through (4 KiB at 5 bytes/s)" \
	awk '/^sent_max/ {exit !($2 < 200)}' "$T/loris.out"
good "after slowloris"

# --- a dribbled mTLS handshake -------------------------------------------
$FLOOD tlsloris "$WEB_IN" 50 12 0.2 >"$T/tls.out" 2>&1
sed 's/^/# handshake: /' "$T/tls.out"
is "handshake dribble: all 50 connections closed by web's sidecar" "$(awk '/^closed/ {print $2}' "$T/tls.out")" 50
check "handshake dribble: each closed within 2 x header_timeout + 2 s" \
	awk '/^last_s/ {exit !($2 > 0 && $2 < 6)}' "$T/tls.out"
good "after the handshake dribble"

# --- slow read: 1 GiB, read 1 MB, stop for idle_timeout + 3 s -------------
$FLOOD slowread 26451 $GIB 1000000 7 >"$T/read.out" 2>&1 &
rp=$!
sleep 2
good "slow reader stopped"
wait $rp
sed 's/^/# slow read: /' "$T/read.out"
is "slow read: the sidecar ended the response before 1 GiB (idle timeout)" \
	"$(awk '/^ended/ {print $2}' "$T/read.out")" 1
check "slow read: what was sent before the end is what the sockets hold (< 64 MiB)" \
	awk '/^got/ {exit !($2 < 67108864)}' "$T/read.out"

# --- an echo nobody reads: 1 GiB up, the reader stopped --------------------
$FLOOD upload 26451 $GIB 7 >"$T/up.out" 2>&1 &
upp=$!
sleep 3
good "echo reader stopped"
wait $upp
sed 's/^/# stopped echo: /' "$T/up.out"
check "stopped echo: the sender was stopped (flow control) well before 1 GiB (< 256 MiB)" \
	awk '/^stalled_at/ {exit !($2 > 0 && $2 < 268435456)}' "$T/up.out"
is "stopped echo: the sidecar ended the exchange (idle timeout)" \
	"$(awk '/^ended/ {print $2}' "$T/up.out")" 1

# --- bounds ---------------------------------------------------------------
alive_all "after every slow client"
check "gateway sidecar: descriptors back to $gwfd" fds_back "$GW_PID" "$gwfd" 10
check "web sidecar: descriptors back to $webfd" fds_back "$WEB_PID" "$webfd" 10
for p in "gateway:$GW_PID:$gw0" "web:$WEB_PID:$web0"; do
	IFS=: read -r n pid base <<<"$p"
	h=$(hwm "$pid")
	echo "# $n sidecar peak RSS ${base} kB before, ${h} kB after"
	check "$n sidecar peak RSS grew $((h - base)) kB < $LIM kB" test $((h - base)) -lt $LIM
done
good "at the end"
mesh_down_checked "$T/mesh.ini"
exit 0
