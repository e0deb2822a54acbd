#!/bin/bash
# SPDX-License-Identifier: ISC
# mesh-proxy --control: HELLO, CONFIG, READY against a stand-in meshd;
# live config changes; IPC_FAIL naming a busy port; meshd going away and
# coming back; SIGTERM.
. "$(dirname "$0")/proxy.bash"

OUT=20500 IN0=20510 IN1=20511 APP0=20520 APP1=20521 BUSY=20530

pcfg api0 <<E
instance api v1 0
inbound $IN0 http $APP0
end
E
pcfg api1 <<E
instance api v1 1
inbound $IN1 http $APP1
end
E
app api-0 $APP0
app api-1 $APP1
sidecar api0 $IN0
sidecar api1 $IN1

# A stand-in meshd: serves one sidecar connection at a time on SOCK,
# logs what it receives to LOG, and obeys the command files $T/cmd.N in
# order, deleting each (a pcfg path: send it; "drop": close the
# connection; "quit": exit).
cat >"$T/meshd.py" <<'PY'
import os, socket, struct, sys, time
sock, log, tdir = sys.argv[1], sys.argv[2], sys.argv[3]
lg = open(log, "a", buffering=1)
def send(c, typ, payload):
    c.sendall(struct.pack("!IHH", len(payload), typ, 0) + payload)
def recv(c):
    h = b""
    while len(h) < 8:
        x = c.recv(8 - len(h))
        if not x: return None, None
        h += x
    n, typ, _ = struct.unpack("!IHH", h)
    p = b""
    while len(p) < n: p += c.recv(n - len(p))
    return typ, p.decode()
srv = socket.socket(socket.AF_UNIX)
srv.bind(sock); srv.listen(1)
def next_cmd():
    names = [n for n in os.listdir(tdir) if n.startswith("cmd.") and n[4:].isdigit()]
    if not names: return None
    f = os.path.join(tdir, min(names, key=lambda n: int(n[4:])))
    what = open(f).read().strip()
    os.remove(f)
    return what
while True:
    c, _ = srv.accept()
    c.settimeout(0.1)
    while True:
        try:
            typ, p = recv(c)
            if typ is None: lg.write("eof\n"); break
            lg.write("%d %s\n" % (typ, p))
            continue
        except socket.timeout:
            pass
        what = next_cmd()
        if what is not None:
            if what == "quit": sys.exit(0)
            if what == "drop": c.close(); lg.write("dropped\n"); break
            c.settimeout(None); send(c, 10, open(what, "rb").read()); c.settimeout(0.1)
PY
step=0
meshd_cmd() { echo "$1" >"$T/cmd.tmp"; mv "$T/cmd.tmp" "$T/cmd.$step"; step=$((step + 1)); }
start_meshd() { spawn "meshd$1" python3 "$T/meshd.py" "$T/meshd.sock" "$T/ipc.log" "$T"; wait_for 5 test -S "$T/meshd.sock"; }

pcfg v1 <<E
instance web v1 0
outbound $OUT
service api http
endpoint api v1 0 $IN0 up
end
E
pcfg v2 <<E
instance web v1 0
outbound $OUT
service api http
endpoint api v1 0 $IN0 down
endpoint api v1 1 $IN1 up
end
E

start_meshd 1
spawn proxy mesh-proxy --control "$T/meshd.sock" --id web-0
wait_for 5 grep -q '^1 proxy web-0 [0-9]' "$T/ipc.log"
check "HELLO names the instance and pid" grep -q "^1 proxy web-0 $(cat "$T/proxy.pid")\$" "$T/ipc.log"
meshd_cmd "$T/v1.pcfg"
wait_for 5 grep -q '^2 ' "$T/ipc.log"
check "READY after the first config" grep -q '^2 $' "$T/ipc.log"
got=$(curl -s --max-time 5 -x "http://127.0.0.1:$OUT" http://api/)
is "serves the pushed config" "$got" "api-0"

meshd_cmd "$T/v2.pcfg"
wait_for 5 bash -c "curl -s --max-time 2 -x http://127.0.0.1:$OUT http://api/ | grep -q api-1"
is "a new config swaps endpoints live" "$(curl -s --max-time 5 -x "http://127.0.0.1:$OUT" http://api/)" "api-1"

# meshd going away does not stop the data path.
meshd_cmd quit
wait "$(cat "$T/meshd1.pid")"
rm -f "$T/meshd.sock"
is "meshd gone: still serving" "$(curl -s --max-time 5 -x "http://127.0.0.1:$OUT" http://api/)" "api-1"
start_meshd 2
wait_for 5 bash -c "[ \$(grep -c '^1 proxy web-0' '$T/ipc.log') -ge 2 ]"
is "reconnects and says HELLO again" "$(grep -c '^1 proxy web-0' "$T/ipc.log")" 2
meshd_cmd "$T/v1.pcfg"
wait_for 5 bash -c "[ \$(grep -c '^2 ' '$T/ipc.log') -ge 2 ]"
is "READY again after the new config" "$(grep -c '^2 ' "$T/ipc.log")" 2
is "the new config applies" "$(curl -s --max-time 5 -x "http://127.0.0.1:$OUT" http://api/)" "api-0"

kill -TERM "$(cat "$T/proxy.pid")"
wait "$(cat "$T/proxy.pid")"
is "exits 0 on SIGTERM" $? 0
meshd_cmd drop

# A busy port: IPC_FAIL naming it, exit 1.
python3 -c 'import socket,time,sys; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1); time.sleep(30)' $BUSY &
_pids+=($!)
wait_port $BUSY
pcfg busy <<E
instance web v1 0
outbound $OUT
listen $BUSY db
service db tcp
end
E
spawn proxy2 mesh-proxy --control "$T/meshd.sock" --id web-1
wait_for 5 grep -q '^1 proxy web-1' "$T/ipc.log"
meshd_cmd "$T/busy.pcfg"
wait_for 5 bash -c "! kill -0 $(cat "$T/proxy2.pid")"
wait "$(cat "$T/proxy2.pid")"
is "busy port: exit 1" $? 1
check "busy port: IPC_FAIL names the port and upstream" \
	grep -q "^3 cannot listen on 127.0.0.1:$BUSY (upstream db): Address already in use" "$T/ipc.log"
check "busy port: the outbound listener opened meanwhile is closed again" \
	bash -c "! (exec 3<>/dev/tcp/127.0.0.1/$OUT) 2>/dev/null"
meshd_cmd quit
grep -h 'ERROR: AddressSanitizer\|runtime error' "$T"/*.log && not_ok "sanitizers quiet" || ok "sanitizers quiet"
