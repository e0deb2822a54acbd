#!/bin/bash
# SPDX-License-Identifier: ISC
# e2e_tcp: an opaque TCP service (protocol = tcp, testapp --tcp) reached
# through a pure client's NAME:PORT listener, over mTLS between the sidecars:
#   client -> gateway sidecar 127.0.0.1:22201 -> db sidecar (x2) -> testapp --tcp
# Asserts: the app's greeting arrives before the client writes (server
# speaks first); echoed bytes arrive intact (small and 1 MiB, both ways at
# once); half-close is propagated; connections are balanced per
# connection over the two instances (round-robin: both seen, evenly).
# Ports: 22200-22299.
. "$(dirname "$0")/lib.sh"

cp "$MESH_APPS/testapp" "$T/testapp"
cat >"$T/mesh.ini" <<EOF
[mesh]
name = e2e-tcp
port_base = 22250

[service.gateway]
upstreams = db:22201

[service.db]
command = $T/testapp --tcp --port \$PORT
port = 22210
instances = 2
protocol = tcp

[route.db]
lb = round-robin
EOF

mesh_up_or_stop "$T/mesh.ini"
check "listener 127.0.0.1:22201 accepts" wait_port 22201 10

# One python client does the byte-level work and prints TAP lines itself.
timeout 90 python3 - <<'EOF'
import hashlib, os, socket, threading

PORT = 22201

def tap(ok, name, detail=""):
    print(("ok - " if ok else "not ok - ") + name)
    if not ok and detail:
        print("#   " + detail)

def recv_exact(s, n):
    out = bytearray()
    while len(out) < n:
        b = s.recv(min(65536, n - len(out)))
        if not b:
            break
        out += b
    return bytes(out)

def greeting(s):
    g = b""
    while not g.endswith(b"\n") and len(g) < 100:
        b = s.recv(1)
        if not b:
            break
        g += b
    return g.decode(errors="replace").strip()

# Server speaks first (like MySQL, SMTP, SSH): the app's greeting must come
# through before the client has sent anything.
try:
    s = socket.create_connection(("127.0.0.1", PORT), timeout=5)
    try:
        g = greeting(s)
        tap(g in ("db-v1-0", "db-v1-1"), "server-first: the greeting arrives before the client writes (got %r)" % g)
    except socket.timeout:
        tap(False, "server-first: the greeting arrives before the client writes",
            "nothing in 5 s; the client has not written")
    s.close()
except Exception as e:
    tap(False, "server-first connection", repr(e))

# The rest writes first, so it does not depend on the above.
def session():
    s = socket.create_connection(("127.0.0.1", PORT), timeout=10)
    s.sendall(b"hello over mtls\n")
    g = greeting(s)
    return s, g

try:
    s, g = session()
    tap(g in ("db-v1-0", "db-v1-1"), "greeting from a db instance (got %r)" % g)
    r = recv_exact(s, 16)
    tap(r == b"hello over mtls\n", "small echo", "got %r" % r)

    # 1 MiB both ways at once: a writer thread while we read
    data = os.urandom(1 << 20)
    t = threading.Thread(target=s.sendall, args=(data,))
    t.start()
    r = recv_exact(s, len(data))
    t.join()
    tap(hashlib.sha256(r).digest() == hashlib.sha256(data).digest(),
        "1 MiB echoed intact", "got %d bytes" % len(r))

    # half-close: our FIN reaches the app, which closes after echoing
    s.sendall(b"last")
    s.shutdown(socket.SHUT_WR)
    r = b""
    while True:
        b = s.recv(4096)
        if not b:
            break
        r += b
    tap(r == b"last", "half-close: echo of the tail, then EOF", "got %r" % r)
    s.close()
except Exception as e:
    tap(False, "tcp session", repr(e))

# balanced per connection
names = []
for i in range(8):
    try:
        s, g = session()
        ok = recv_exact(s, 16) == b"hello over mtls\n"
        names.append(g if ok else "noecho")
        s.close()
    except Exception as e:
        names.append("error:" + repr(e))
print("# connections by instance: " + ", ".join(
    "%s=%d" % (n, names.count(n)) for n in sorted(set(names))))
tap(sorted(set(names)) == ["db-v1-0", "db-v1-1"], "both db instances answer",
    "seen %r" % sorted(set(names)))
tap(names.count("db-v1-0") == 4 and names.count("db-v1-1") == 4,
    "round-robin per connection: 4 and 4 of 8", "seen %r" % names)
EOF
rc=$?
is "python client finished" "$rc" 0

mesh_down_checked "$T/mesh.ini"
exit 0
