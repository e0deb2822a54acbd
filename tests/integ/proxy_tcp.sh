#!/bin/bash
# SPDX-License-Identifier: ISC
# mesh-proxy: an opaque TCP relay through a `listen` port and a tcp
# inbound, balanced per connection, half-close passed on.
. "$(dirname "$0")/proxy.bash"

LST=20300 IN0=20310 IN1=20311 APP0=20320 APP1=20321 DOWN=20301

pcfg client <<E
instance web v1 0
listen $LST db
listen $DOWN nodb
service db tcp
service nodb tcp
endpoint db v1 0 $IN0 up
endpoint db v1 1 $IN1 up
endpoint nodb v1 0 $IN0 down
end
E
pcfg db0 <<E
instance db v1 0
inbound $IN0 tcp $APP0
end
E
pcfg db1 <<E
instance db v1 1
inbound $IN1 tcp $APP1
end
E
app db-0 $APP0 --tcp
app db-1 $APP1 --tcp
sidecar db0 $IN0
sidecar db1 $IN1
sidecar client $LST

cat >"$T/tcp.py" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.settimeout(3)
banner = b""
while not banner.endswith(b"\n"):
    banner += s.recv(1)
data = bytes(range(256)) * 4096          # 1 MiB, all byte values
s.sendall(data)
got = b""
while len(got) < len(data):
    got += s.recv(65536)
s.shutdown(socket.SHUT_WR)               # half-close: the echo server sees EOF
rest = s.recv(10)
print(banner.decode().strip(), got == data, rest == b"")
PY
r1=$(timeout 10 python3 "$T/tcp.py" $LST)
r2=$(timeout 10 python3 "$T/tcp.py" $LST)
is "tcp relay: banner, 1 MiB echoed, half-close passed on" "${r1#* }" "True True"
case "${r1%% *} ${r2%% *}" in
"db-0 db-1" | "db-1 db-0") ok "tcp relay: balanced per connection" ;;
*) not_ok "tcp relay: balanced per connection" "got: $r1 / $r2" ;;
esac

out=$(printf '' | raw $DOWN 2)
is "tcp relay, no endpoint up: connection closed" "$out" "
[closed]"

kill -TERM "$(cat "$T/db-0.pid")"
sleep 0.2
outs=$(for i in 1 2; do printf '' | raw $LST 1; echo; done | tr '\n' ' ')
case "$outs" in
*"[closed]"*db-1*|*db-1*"[closed]"*) ok "tcp relay, app gone: connection closed, other instance serves" ;;
*) not_ok "tcp relay, app gone: connection closed, other instance serves" "got: $outs" ;;
esac

for s in client db0 db1; do kill -TERM "$(cat "$T/$s.pid")"; done
for s in client db0 db1; do wait "$(cat "$T/$s.pid")"; is "sidecar $s exits 0" $? 0; done
grep -h 'ERROR: AddressSanitizer\|runtime error' "$T"/*.log && not_ok "sanitizers quiet" || ok "sanitizers quiet"
