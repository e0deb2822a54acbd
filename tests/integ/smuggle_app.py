# SPDX-License-Identifier: ISC
"""smuggle_app: the recording app behind the proxy under test
(tests/integ/sec_smuggle.sh, scripts/security_compare.sh).

    python3 smuggle_app.py PORT LOG CASES

Listens on 127.0.0.1:PORT.  Every byte it receives is recorded in LOG, one
JSON object a line, flushed at once, before anything is answered:
    {"t": "conn", "c": ID}                      a connection accepted
    {"t": "data", "c": ID, "n": N, "b": "..."}  N bytes arrived (the first 300 shown)
    {"t": "req", "c": ID, "m": M, "u": TARGET, "h": [...]}
                                                a request head was read
    {"t": "done", "c": ID, "u": TARGET, "n": N} that request and its body
                                                ended, N bytes in all
    {"t": "junk", "c": ID, "n": N}              bytes that are no request
    {"t": "tunnel", "c": ID, "n": N}            bytes after a 101
    {"t": "eof", "c": ID, "left": N}            the peer closed; N bytes of
                                                an unfinished message left

It reads requests leniently (bare LF, any Content-Length or
Transfer-Encoding it can make sense of): a backend that accepts what it
should not is what a proxy in front of it must protect.  It answers
    /evil/NAME    the response column of case NAME (smuggle_cases.txt),
                  with its <<EARLY>>, <<WAIT>> and <<CLOSE>> markers
    Upgrade: h2c  101, then records everything that follows as tunnel
    CONNECT       200, then the same (a backend that tunnels anything)
    anything else 200 "got METHOD TARGET"
"""

import json
import re
import socket
import sys
import threading
import time

import smuggle_lib

TRAILER_END = re.compile(rb"\r?\n\r?\n")
lock = threading.Lock()
ids = iter(range(1, 1 << 30))


class Log:
    def __init__(self, path):
        self.f = open(path, "a", buffering=1, encoding="utf-8")

    def put(self, **ev):
        with lock:
            self.f.write(json.dumps(ev) + "\n")
            self.f.flush()


def parse_head(buf):
    """(head_len, method, target, fields) or None (incomplete) or
    "junk".  Lenient: CRLF or bare LF line ends."""
    m = re.search(rb"\r?\n\r?\n", buf)
    if m is None:
        return "junk" if len(buf) > 65536 else None
    lines = re.split(rb"\r?\n", buf[:m.start()])
    start = lines[0].split(b" ")
    if len(start) != 3 or not start[0] or not start[1]:
        return "junk"
    fields = []
    for ln in lines[1:]:
        k, sep, v = ln.partition(b":")
        if sep:
            fields.append((k.strip().lower(), v.strip()))
    return m.end(), start[0], start[1], fields


def field(fields, name):
    for k, v in fields:
        if k == name:
            return v
    return None


def body_len(buf, at, fields):
    """Bytes of body from buf[at:], or None when incomplete (or -1 when
    the framing makes no sense: the rest is junk)."""
    te = field(fields, b"transfer-encoding")
    if te is not None and b"chunked" in te.lower():
        p = at
        while True:
            e = buf.find(b"\n", p)
            if e < 0:
                return None
            try:
                size = int(buf[p:e].split(b";")[0].strip() or b"x", 16)
            except ValueError:
                return -1
            if size < 0:
                return -1
            if size == 0:
                # the trailer section ends at the first empty line
                r = e + 1
                if len(buf) < r + 1 or buf[r:r + 2] == b"\r":
                    return None
                if buf.startswith(b"\r\n", r):
                    return r + 2 - at
                if buf.startswith(b"\n", r):
                    return r + 1 - at
                m = TRAILER_END.search(buf, r)
                return None if m is None else m.end() - at
            p = e + 1 + size
            if len(buf) < p + 1:
                return None
            p += 2 if buf[p:p + 2] == b"\r\n" else 1
    cl = field(fields, b"content-length")
    if cl is None:
        return 0
    try:
        n = int(cl.split(b",")[0])
    except ValueError:
        return -1
    if n < 0:
        return -1
    return n if len(buf) - at >= n else None


def send_parts(s, raw):
    """The response column: parts between <<WAIT>> 0.2 s apart."""
    close = raw.endswith(smuggle_lib.CLOSE)
    if close:
        raw = raw[:-len(smuggle_lib.CLOSE)]
    parts = raw.split(smuggle_lib.WAIT)
    for i, part in enumerate(parts):
        if i > 0:
            time.sleep(0.2)
        s.sendall(part)
    return close


def serve(s, cid, log, evil):
    buf, tunnel = b"", False
    cur = None     # the message at the front of buf whose head is logged
    early = False  # and it was answered before its body
    log.put(t="conn", c=cid)
    try:
        while True:
            try:
                data = s.recv(65536)
            except OSError:
                data = b""
            if not data:
                log.put(t="eof", c=cid, left=len(buf))
                return
            log.put(t="data", c=cid, n=len(data), b=data[:300].decode("latin-1"))
            if tunnel:
                log.put(t="tunnel", c=cid, n=len(data))
                continue
            buf += data
            while buf:
                if cur is None:
                    h = parse_head(buf)
                    if h is None:
                        break
                    if h == "junk":
                        log.put(t="junk", c=cid, n=len(buf))
                        s.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n"
                                  b"Connection: close\r\n\r\n")
                        log.put(t="eof", c=cid, left=0)
                        return
                    cur = h
                    hl, method, target, fields = cur
                    name = target.decode("latin-1")
                    log.put(t="req", c=cid, m=method.decode("latin-1"), u=name,
                            h=[k.decode("latin-1") for k, _ in fields])
                    resp = evil.get(name[len("/evil/"):]) if name.startswith("/evil/") else None
                    early = resp is not None and resp.startswith(smuggle_lib.EARLY)
                    if early and send_parts(s, resp[len(smuggle_lib.EARLY):]):
                        log.put(t="eof", c=cid, left=len(buf))
                        return
                hl, method, target, fields = cur
                name = target.decode("latin-1")
                n = body_len(buf, hl, fields)
                if n is None:
                    break
                if n < 0:
                    log.put(t="junk", c=cid, n=len(buf) - hl)
                    log.put(t="eof", c=cid, left=0)
                    return
                log.put(t="done", c=cid, u=name, n=hl + n)
                buf = buf[hl + n:]
                cur = None
                if early:
                    continue
                resp = evil.get(name[len("/evil/"):]) if name.startswith("/evil/") else None
                if method == b"CONNECT":
                    # a backend that tunnels whatever it is asked to
                    s.sendall(b"HTTP/1.1 200 Connection Established\r\n\r\n")
                    tunnel = True
                    if buf:
                        log.put(t="tunnel", c=cid, n=len(buf))
                    buf = b""
                    break
                up = field(fields, b"upgrade")
                if up is not None and b"h2c" in up.lower():
                    s.sendall(b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
                              b"Upgrade: h2c\r\n\r\n")
                    tunnel = True
                    if buf:
                        log.put(t="tunnel", c=cid, n=len(buf))
                    buf = b""
                    break
                if resp is not None:
                    if send_parts(s, resp):
                        log.put(t="eof", c=cid, left=len(buf))
                        return
                    continue
                body = b"got " + method + b" " + target + b"\n"
                close = (field(fields, b"connection") or b"").lower() == b"close"
                s.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n%s\r\n%s"
                          % (len(body), b"Connection: close\r\n" if close else b"", body))
                if close:
                    log.put(t="eof", c=cid, left=len(buf))
                    return
    finally:
        s.close()


def main():
    port, logpath, casespath = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    evil = {c.name: c.response for c in smuggle_lib.load(casespath) if c.response is not None}
    log = Log(logpath)
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(128)
    while True:
        s, _ = ls.accept()
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=serve, args=(s, next(ids), log, evil), daemon=True).start()


if __name__ == "__main__":
    main()
