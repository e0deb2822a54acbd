#!/bin/bash
# SPDX-License-Identifier: ISC
# mesh-proxy: the connection limit pauses accepting; running out of file
# descriptors pauses the accept watcher instead of spinning; idle timeout.
. "$(dirname "$0")/proxy.bash"

LIM=20600 FD=20601 IDLE=20602 IN0=20610 APP0=20620

pcfg api0 <<E
instance api v1 0
inbound $IN0 http $APP0
end
E
pcfg lim <<E
instance web v1 0
limit connections 3
outbound $LIM
service api http
endpoint api v1 0 $IN0 up
end
E
pcfg fd <<E
instance web v1 1
outbound $FD
service api http
endpoint api v1 0 $IN0 up
end
E
pcfg idle <<E
instance web v1 2
limit idle_timeout_ms 400
outbound $IDLE
service api http
endpoint api v1 0 $IN0 up
end
E
app api-0 $APP0
sidecar api0 $IN0
sidecar lim $LIM
sidecar idle $IDLE
# A tiny descriptor budget: 3 stdio, 3 epoll/signal/eventfd, the listener,
# a few connections.
spawn fd bash -c "ulimit -n 14; exec mesh-proxy -c '$T/fd.pcfg'"
wait_port $FD

timeout 20 python3 - $LIM >"$T/lim.out" <<'PY'
import socket, sys, time
port = int(sys.argv[1])
def get(s):
    s.sendall(b"GET http://api/ HTTP/1.1\r\nHost: api\r\n\r\n")
    d = b""
    while not d.endswith(b"api-0\n"):
        d += s.recv(4096)
    return d.startswith(b"HTTP/1.1 200")
held = [socket.create_connection(("127.0.0.1", port)) for _ in range(3)]
for s in held: s.settimeout(5)
print("three served", all(get(s) for s in held))
extra = socket.create_connection(("127.0.0.1", port))   # queued in the backlog
extra.settimeout(0.5)
extra.sendall(b"GET http://api/ HTTP/1.1\r\nHost: api\r\n\r\n")
try:
    extra.recv(100); print("fourth waits", False)
except socket.timeout:
    print("fourth waits", True)
held[0].close()
extra.settimeout(5)
d = b""
while not d.endswith(b"api-0\n"):
    d += extra.recv(4096)
print("fourth served after a close", d.startswith(b"HTTP/1.1 200"))
PY
is "connection limit: three served" "$(sed -n 1p "$T/lim.out")" "three served True"
is "connection limit: the fourth waits in the backlog" "$(sed -n 2p "$T/lim.out")" "fourth waits True"
is "connection limit: served once one closes" "$(sed -n 3p "$T/lim.out")" "fourth served after a close True"

timeout 20 python3 - $FD "$(cat "$T/fd.pid")" >"$T/fd.out" <<'PY'
import socket, sys, time
port, pid = int(sys.argv[1]), sys.argv[2]
def cpu():
    f = open("/proc/%s/stat" % pid).read().split(")")[1].split()
    return int(f[11]) + int(f[12])       # utime + stime, clock ticks
held = []
for _ in range(20):
    held.append(socket.create_connection(("127.0.0.1", port)))
c0 = cpu(); time.sleep(1.0); c1 = cpu()
print("no spin", c1 - c0 < 20, c1 - c0)    # < 0.2 s of CPU in 1 s
for s in held: s.close()
time.sleep(0.5)
s = socket.create_connection(("127.0.0.1", port)); s.settimeout(5)
s.sendall(b"GET http://api/ HTTP/1.1\r\nHost: api\r\n\r\n")
d = b""
while not d.endswith(b"api-0\n"):
    d += s.recv(4096)
print("recovers", d.startswith(b"HTTP/1.1 200"))
PY
is "out of descriptors: accept pauses, no spinning" "$(sed -n 1p "$T/fd.out" | cut -d" " -f1-3)" "no spin True"
is "out of descriptors: serves again afterwards" "$(sed -n 2p "$T/fd.out")" "recovers True"
check "out of descriptors: logged" grep -q 'accept (pausing' "$T/fd.log"

printf 'GET http://api/ HTTP/1.1\r\nHost: api\r\n\r\n' | raw $IDLE 3 >"$T/idle.out"
check "idle keep-alive connection closed after idle_timeout_ms" grep -q '^\[closed\]' "$T/idle.out"

for s in lim fd idle api0; do kill -TERM "$(cat "$T/$s.pid")"; done
for s in lim fd idle api0; do wait "$(cat "$T/$s.pid")"; is "sidecar $s exits 0" $? 0; done
grep -h 'ERROR: AddressSanitizer\|runtime error' "$T"/*.log && not_ok "sanitizers quiet" || ok "sanitizers quiet"
