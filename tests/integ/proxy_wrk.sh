#!/bin/bash
# SPDX-License-Identifier: ISC
# mesh-proxy: a bounded wrk run through two sidecars has no errors, and
# the sidecars hold little memory with 100 idle keep-alive connections.
. "$(dirname "$0")/proxy.bash"

OUT=20400 LST=20401 IN0=20410 APP0=20420

pcfg client <<E
instance web v1 0
outbound $OUT
listen $LST api
service api http
endpoint api v1 0 $IN0 up
end
E
pcfg api0 <<E
instance api v1 0
inbound $IN0 http $APP0
end
E
app api-0 $APP0
sidecar api0 $IN0
sidecar client $LST

if ! command -v wrk >/dev/null; then
	ok "wrk: skipped (not installed)"
else
	timeout 20 wrk -t1 -c10 -d3s "http://127.0.0.1:$LST/" >"$T/wrk.out" 2>&1
	sed 's/^/# /' "$T/wrk.out"
	n=$(awk '/requests in/ {print $1}' "$T/wrk.out")
	if [ "${n:-0}" -gt 100 ]; then ok "wrk: $n requests through two sidecars"; else
		not_ok "wrk: requests through two sidecars" "$(cat "$T/wrk.out")"; fi
	check "wrk: no non-2xx responses" bash -c "! grep -q 'Non-2xx' '$T/wrk.out'"
	check "wrk: no socket errors" bash -c "! grep -q 'Socket errors' '$T/wrk.out'"
fi

# 100 idle keep-alive connections through the client sidecar.
timeout 20 python3 - $LST "$(cat "$T/client.pid")" >"$T/ka.out" <<'PY'
import socket, sys, subprocess
port, pid = int(sys.argv[1]), sys.argv[2]
socks = []
for i in range(100):
    s = socket.create_connection(("127.0.0.1", port))
    s.settimeout(5)
    s.sendall(b"GET / HTTP/1.1\r\nHost: api\r\n\r\n")
    socks.append(s)
ok = 0
for s in socks:
    d = b""
    while not d.endswith(b"api-0\n"):
        d += s.recv(4096)
    ok += d.startswith(b"HTTP/1.1 200")
rss = subprocess.check_output(["ps", "-o", "rss=", "-p", pid]).decode().strip()
print(ok, rss)
PY
read -r n rss <"$T/ka.out"
is "100 keep-alive connections served" "$n" 100
echo "# client sidecar RSS with 100 idle keep-alive connections: ${rss} KiB"
if [[ $BUILD == *sanitize* ]] || [ "${rss:-999999}" -lt 16000 ]; then ok "RSS with 100 keep-alive connections is small"; else
	not_ok "RSS with 100 keep-alive connections is small" "${rss} KiB"; fi

for s in client api0; do kill -TERM "$(cat "$T/$s.pid")"; done
for s in client api0; do wait "$(cat "$T/$s.pid")"; is "sidecar $s exits 0" $? 0; done
grep -h 'ERROR: AddressSanitizer\|runtime error' "$T"/*.log && not_ok "sanitizers quiet" || ok "sanitizers quiet"
