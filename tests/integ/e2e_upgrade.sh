#!/bin/bash
# SPDX-License-Identifier: ISC
# e2e_upgrade: an HTTP/1.1 Upgrade tunnel through two sidecars:
#   python client -> gateway sidecar 127.0.0.1:22301 -> web sidecar -> testapp /ws
# The client sends the upgrade request, reads the 101, then exchanges raw
# bytes both ways (small, then 256 KiB while writing), half-closes, and
# expects EOF.  A plain request on a new connection still works afterwards,
# and a request on the same connection before the upgrade is answered first.
# Ports: 22300-22399.
. "$(dirname "$0")/lib.sh"

cp "$MESH_APPS/testapp" "$T/testapp"
cat >"$T/mesh.ini" <<EOF
[mesh]
name = e2e-upgrade
port_base = 22350

[service.gateway]
upstreams = web:22301

[service.web]
command = $T/testapp --port \$PORT
port = 22310
EOF

mesh_up_or_stop "$T/mesh.ini"
check "front door 127.0.0.1:22301 accepts" wait_port 22301 10

timeout 60 python3 - <<'EOF'
import hashlib, os, socket, threading

PORT = 22301

def tap(ok, name, detail=""):
    print(("ok - " if ok else "not ok - ") + name)
    if not ok and detail:
        print("#   " + detail)

def read_head(s):
    h = b""
    while b"\r\n\r\n" not in h:
        b = s.recv(1)          # byte by byte: nothing after the head is consumed
        if not b:
            break
        h += b
    return h

def recv_exact(s, n):
    out = bytearray()
    while len(out) < n:
        b = s.recv(min(65536, n - len(out)))
        if not b:
            break
        out += b
    return bytes(out)

UPGRADE = (b"GET /ws HTTP/1.1\r\nHost: web\r\nConnection: Upgrade\r\n"
           b"Upgrade: echo\r\n\r\n")
try:
    s = socket.create_connection(("127.0.0.1", PORT), timeout=10)
    # a normal keep-alive request first, then the upgrade on the same connection
    s.sendall(b"GET / HTTP/1.1\r\nHost: web\r\n\r\n")
    h = read_head(s)
    tap(h.startswith(b"HTTP/1.1 200"), "plain request before the upgrade", repr(h[:80]))
    cl = [l for l in h.split(b"\r\n") if l.lower().startswith(b"content-length:")]
    body = recv_exact(s, int(cl[0].split(b":")[1])) if cl else b""
    tap(body == b"web-v1-0\n", "its body", repr(body))

    s.sendall(UPGRADE)
    h = read_head(s)
    first = h.split(b"\r\n")[0]
    tap(first.startswith(b"HTTP/1.1 101"), "101 Switching Protocols", repr(first))
    hl = h.lower()
    tap(b"\r\nupgrade: echo" in hl, "Upgrade: echo in the 101", repr(h))
    tap(b"\r\nconnection: upgrade" in hl, "Connection: upgrade in the 101", repr(h))

    s.sendall(b"ping")
    r = recv_exact(s, 4)
    tap(r == b"ping", "bytes client -> app -> client", repr(r))
    # bytes that look like HTTP must pass untouched: the tunnel is opaque
    raw = b"GET /not-parsed HTTP/1.1\r\nHost: x\r\n\r\n\x00\xff\r\n"
    s.sendall(raw)
    r = recv_exact(s, len(raw))
    tap(r == raw, "opaque bytes (HTTP-looking, NUL, 0xff) pass untouched", repr(r))

    data = os.urandom(256 * 1024)
    t = threading.Thread(target=s.sendall, args=(data,))
    t.start()
    r = recv_exact(s, len(data))
    t.join()
    tap(hashlib.sha256(r).digest() == hashlib.sha256(data).digest(),
        "256 KiB both ways at once", "got %d bytes" % len(r))

    s.sendall(b"bye")
    s.shutdown(socket.SHUT_WR)
    r = b""
    while True:
        b = s.recv(4096)
        if not b:
            break
        r += b
    tap(r == b"bye", "half-close: the tail echoes, then EOF", repr(r))
    s.close()
except Exception as e:
    tap(False, "upgrade session", repr(e))

# without the Upgrade headers /ws is an ordinary 400 from the app
try:
    s = socket.create_connection(("127.0.0.1", PORT), timeout=10)
    s.sendall(b"GET /ws HTTP/1.1\r\nHost: web\r\nConnection: close\r\n\r\n")
    h = read_head(s)
    tap(h.startswith(b"HTTP/1.1 400"), "/ws without Upgrade is the app's 400", repr(h[:60]))
    s.close()
except Exception as e:
    tap(False, "/ws without upgrade", repr(e))
EOF
is "python client finished" "$?" 0

mesh_down_checked "$T/mesh.ini"
exit 0
