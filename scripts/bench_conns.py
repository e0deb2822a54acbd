#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Hold N keep-alive connections open through a proxy (make bench).

    bench_conns.py PORT N PATH

Opens N connections to 127.0.0.1:PORT and sends one GET PATH on each, all
of them before reading any answer: the proxy has N requests in flight at
once, so it opens as many connections upstream as it keeps in its pool.
Then reads every answer (a Content-Length body), prints "ready N" and
holds every connection open until its standard input closes or 120 s pass
(the caller stops it by pid).  Exits 1, naming the connection, when one
is refused or answers anything but 200.
"""
import select
import socket
import sys
import time


def read_answer(s, i):
    """Read one HTTP/1.1 answer with a Content-Length body off s."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            raise OSError(f"connection {i}: closed before an answer")
        data += chunk
        if len(data) > 65536:
            raise OSError(f"connection {i}: header over 64 KiB")
    head, body = data.split(b"\r\n\r\n", 1)
    lines = head.split(b"\r\n")
    if not lines[0].startswith(b"HTTP/1.1 200"):
        why = [ln for ln in lines[1:] if ln.lower().startswith(b"mesh-error")]
        raise OSError(f"connection {i}: {lines[0][:80]!r} {b' '.join(why)[:200]!r}")
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = s.recv(length - len(body))
        if not chunk:
            raise OSError(f"connection {i}: closed in the body")
        body += chunk


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: bench_conns.py PORT N PATH")
    port, n, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    req = f"GET {path} HTTP/1.1\r\nHost: bench\r\n\r\n".encode()
    socks = []
    try:
        for i in range(n):
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            socks.append(s)
        for s in socks:
            s.sendall(req)
        for i, s in enumerate(socks):
            read_answer(s, i)
    except OSError as e:
        sys.exit(f"bench_conns: port {port}, {len(socks)} of {n} open: {e}")
    print(f"ready {n}", flush=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        r, _, _ = select.select([sys.stdin], [], [], 1.0)
        if r and not sys.stdin.read(1):
            break
    for s in socks:
        s.close()


if __name__ == "__main__":
    main()
