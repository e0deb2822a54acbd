#!/bin/bash
# SPDX-License-Identifier: ISC
# h2_conn_window: the pooled HTTP/2 connection between two sidecars keeps
# its receive window when responses end before the caller has read them
# (h2_up.c, h2u_stream_close).  It used to lose those bytes for good: a
# few bursts of 32 concurrent 40 kB responses, or some 20,000 small ones at
# -m32, left the window at zero, and from then on every response's HEADERS came through
# and none of its DATA, for every caller.
#   h2load -> client sidecar 127.0.0.1:27291 --h2, mTLS--> web sidecar --h2c--> nghttpd 27290
# Ports: 27290-27299.
. "$(dirname "$0")/lib.sh"

mkdir -p "$T/www"
head -c 40000 /dev/zero >"$T/www/b40k"
head -c 1000 /dev/zero >"$T/www/b1k"
spawn nghttpd nghttpd --no-tls -a 127.0.0.1 -n 1 -d "$T/www" 27290
check "nghttpd listens on 27290" wait_port 27290 10

# ini LINE: the mesh.ini, LINE under [service.web]
ini() {
	cat >"$T/mesh.ini" <<EOF
[mesh]
name = h2-window
port_base = 27293

[service.client]
upstreams = web:27291

[service.web]
port = 27290
$1
EOF
}
ini "protocol = http2"
mesh_up_or_stop "$T/mesh.ini"
check "listener 127.0.0.1:27291 accepts" wait_port 27291 10

# N ARGS...: h2load through the mesh; ok when all N requests succeeded
h2ok() {
	local n=$1; shift
	timeout 30 h2load "$@" >"$T/h2load.out" 2>&1
	grep -q "^requests: $n total, $n started, $n done, $n succeeded, 0 failed" "$T/h2load.out" ||
		{ cat "$T/h2load.out"; return 1; }
}
# 8 x 1.25 MB and 20 MB: more than the 1 MiB window many times over
for i in 1 2 3 4 5 6 7 8; do
	check "burst $i: 32 concurrent 40 kB responses, one connection" \
		h2ok 32 -n32 -c1 -m32 http://127.0.0.1:27291/b40k
done
check "20,000 1 kB responses at -c2 -m32" \
	h2ok 20000 -n20000 -c2 -m32 http://127.0.0.1:27291/b1k
check "then one more" h2ok 1 -n1 -c1 http://127.0.0.1:27291/b1k
mesh_down_checked "$T/mesh.ini"
