# SPDX-License-Identifier: ISC
# Helpers for the mesh-proxy scenarios (tests/integ/proxy_*.sh).  Not a
# test itself (run.sh only runs *.sh).  Sidecars run from pcfg files with
# `mesh-proxy -c FILE`, no meshd.  Ports: 20000-20999 only.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# pcfg NAME  < document       write $T/NAME.pcfg
pcfg() { cat >"$T/$1.pcfg"; }

# app NAME PORT [testapp args]
app() {
	local n=$1 p=$2; shift 2
	spawn "$n" testapp --port "$p" --name "$n" "$@"
	wait_port "$p" || not_ok "app $n listens on $p"
}

# sidecar NAME PORT    (config $T/NAME.pcfg; PORT: one of its listeners)
sidecar() {
	spawn "$1" mesh-proxy -c "$T/$1.pcfg"
	wait_port "$2" || not_ok "sidecar $1 listens on $2" "$(cat "$T/$1.log")"
}

# raw PORT [SECS] < bytes : send the bytes on one connection, print all
# that comes back until the peer closes or SECS pass (default 5).
cat >"$T/raw.py" <<'PY'
import socket, sys, time
port, secs = int(sys.argv[1]), float(sys.argv[2])
data = sys.stdin.buffer.read()
s = socket.create_connection(("127.0.0.1", port))
s.sendall(data)
end = time.time() + secs
out = b""
while time.time() < end:
    s.settimeout(max(0.05, end - time.time()))
    try:
        x = s.recv(65536)
    except socket.timeout:
        break
    except ConnectionResetError:
        out += b"\n[reset]"
        break
    if not x:
        out += b"\n[closed]"
        break
    out += x
sys.stdout.write(out.decode("latin-1"))
PY
raw() { timeout 10 python3 "$T/raw.py" "$1" "${2:-5}"; }
