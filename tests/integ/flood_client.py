# SPDX-License-Identifier: ISC
# flood_client.py: the hostile clients of tests/integ/sec_*.sh.  Not a test
# itself (run.sh only runs *.sh).  Every mode is bounded in count and time
# and prints "key value" lines for the scenario to read.
#
#   hold PORT N GO STOP SECS
#       open N connections at once (non-blocking, all in one epoll set),
#       print "connected K", then wait (at most SECS) until the file GO
#       exists; send one GET on each and count the answers ("answered K",
#       "ok K": status 200, "refused K": a mesh-error); print "done"; then
#       wait until the file STOP exists and count the connections the
#       server closed by then ("closed K"), or SECS pass.
#   slowloris PORT N SECS GAP
#       N connections, each dribbling a request head one byte every GAP
#       seconds; print "closed K" (connections the server ended within
#       SECS), "first_s" and "last_s" (when, from the first byte) and
#       "sent_max" (the most head bytes any connection got in).
#   tlsloris PORT N SECS GAP
#       the same with a TLS ClientHello record that announces 16 KiB (to
#       an mTLS inbound port: the handshake dribbled, no request yet).
#   slowread PORT BYTES FIRST STALL
#       GET /bytes?n=BYTES, read FIRST bytes, stop reading for STALL
#       seconds, then read on: "got N" (bytes of body), "ended 1" when the
#       server ended the connection before the whole body.
#   upload PORT BYTES STALL
#       POST /echo with Content-Length BYTES, never read the echo: send
#       until no byte goes for 1 s ("stalled_at N"), hold STALL seconds,
#       then read: "ended 1" when the server had ended the connection.
#   pipeline PORT MAX SECS
#       one connection: up to MAX tiny GETs written back to back while
#       the answers are read; stops at MAX answers or after SECS: "sent N",
#       "answered N", "ok N", "secs S", "ended 0|1" (the server closed).
import errno
import os
import select
import socket
import struct
import sys
import time

REQ = b"GET / HTTP/1.1\r\nHost: web\r\n\r\n"


def out(k, v):
    print("%s %s" % (k, v), flush=True)


def connect_many(port, n, deadline):
    """n non-blocking connects; returns the connected sockets."""
    ep = select.epoll()
    pending = {}
    done = []
    i = 0
    while (i < n or pending) and time.time() < deadline:
        # at most 256 connects in flight: the listen backlog is 511
        while i < n and len(pending) < 256:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            try:
                s.connect(("127.0.0.1", port))
            except BlockingIOError:
                pass
            except OSError:
                s.close()
                i += 1
                continue
            pending[s.fileno()] = s
            ep.register(s.fileno(), select.EPOLLOUT)
            i += 1
        for fd, ev in ep.poll(0.5):
            s = pending.pop(fd)
            ep.unregister(fd)
            if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                done.append(s)
            else:
                s.close()
    for s in pending.values():
        s.close()
    ep.close()
    return done


def wait_file(path, deadline):
    while not os.path.exists(path) and time.time() < deadline:
        time.sleep(0.05)


def status_of(data, why):
    head = data.split(b"\r\n\r\n", 1)[0]
    if head.startswith(b"HTTP/1.1 200 "):
        return "ok"
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"mesh-error:"):
            k = head[9:12].decode() + " " + line[11:].strip().decode("latin-1")
            why[k] = why.get(k, 0) + 1
            return "refused"
    k = head[:12].decode("latin-1") if head else "no answer"
    why[k] = why.get(k, 0) + 1
    return "other"


def hold(port, n, go, stop, secs):
    deadline = time.time() + secs
    socks = connect_many(port, n, deadline)
    out("connected", len(socks))
    wait_file(go, deadline)
    ep = select.epoll()
    bufs = {}
    for s in socks:
        try:
            s.send(REQ)
        except OSError:
            continue
        bufs[s.fileno()] = [s, b""]
        ep.register(s.fileno(), select.EPOLLIN)
    res = {"ok": 0, "refused": 0, "other": 0}
    why = {}
    waiting = dict(bufs)
    while waiting and time.time() < deadline:
        for fd, ev in ep.poll(0.5):
            if fd not in waiting:
                continue
            s, d = waiting[fd]
            try:
                b = s.recv(65536)
            except OSError:
                b = b""
            d += b
            waiting[fd][1] = d
            # testapp's / answers with a 6..20 byte body, Content-Length set
            head, sep, body = d.partition(b"\r\n\r\n")
            if sep:
                cl = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        cl = int(line.split(b":", 1)[1])
                if len(body) >= cl:
                    res[status_of(d, why)] += 1
                    del waiting[fd]
                    continue
            if not b:
                res[status_of(d, why)] += 1
                del waiting[fd]
    out("answered", res["ok"] + res["refused"] + res["other"])
    out("ok", res["ok"])
    out("refused", res["refused"])
    out("other", res["other"])
    for k in sorted(why):
        out("why", "%d %s" % (why[k], k))
    out("done", 1)
    wait_file(stop, deadline)
    closed = 0
    for s in socks:
        try:
            s.setblocking(False)
            b = s.recv(65536)
            while b:
                b = s.recv(65536)
            closed += 1
        except BlockingIOError:
            pass
        except OSError:
            closed += 1
    out("closed", closed)


SLOW_HEAD = b"GET / HTTP/1.1\r\nHost: web\r\nX-Slow: " + b"a" * 4096 + b"\r\n\r\n"
# record header (handshake, 16 KiB), ClientHello header, legacy version
TLS_HEAD = b"\x16\x03\x01\x40\x00" + b"\x01\x00\x3f\xfc" + b"\x03\x03" + b"\x00" * 4096


def slowloris(port, n, secs, gap, head=SLOW_HEAD):
    start = time.time()
    socks = connect_many(port, n, start + 10)
    sent = {s.fileno(): 0 for s in socks}
    first = {}
    ended = {}
    deadline = time.time() + secs
    live = list(socks)
    while live and time.time() < deadline:
        now = time.time()
        for s in list(live):
            fd = s.fileno()
            try:
                r, _, _ = select.select([s], [], [], 0)
                if r and s.recv(4096) == b"":
                    raise ConnectionResetError()
                if sent[fd] < len(head):
                    s.send(head[sent[fd]:sent[fd] + 1])
                    first.setdefault(fd, now)
                    sent[fd] += 1
            except OSError:
                ended[fd] = time.time() - first.get(fd, start)
                live.remove(s)
        time.sleep(gap)
    out("closed", len(ended))
    out("first_s", "%.1f" % (min(ended.values()) if ended else -1))
    out("last_s", "%.1f" % (max(ended.values()) if ended else -1))
    out("sent_max", max(sent.values()) if sent else 0)
    for s in socks:
        s.close()


def read_on(s, secs):
    """Read until EOF or error or secs; returns (bytes, ended)."""
    n = 0
    end = time.time() + secs
    s.settimeout(1)
    while time.time() < end:
        try:
            b = s.recv(1 << 20)
        except socket.timeout:
            continue
        except OSError:
            return n, True
        if not b:
            return n, True
        n += len(b)
    return n, False


def slowread(port, nbytes, first, stall):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    s.sendall(b"GET /bytes?n=%d HTTP/1.1\r\nHost: web\r\n\r\n" % nbytes)
    got = 0
    while got < first:
        b = s.recv(min(65536, first - got))
        if not b:
            break
        got += len(b)
    time.sleep(stall)
    n, ended = read_on(s, 30)
    out("got", got + n)
    out("ended", 1 if ended and got + n < nbytes else 0)


def upload(port, nbytes, stall):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    s.sendall(b"POST /echo HTTP/1.1\r\nHost: web\r\nContent-Length: %d\r\n\r\n" % nbytes)
    s.setblocking(False)
    chunk = b"x" * 65536
    sent = 0
    last = time.time()
    while sent < nbytes and time.time() - last < 1.0:
        try:
            k = s.send(chunk[:min(len(chunk), nbytes - sent)])
            sent += k
            last = time.time()
        except BlockingIOError:
            select.select([], [s], [], 0.1)
        except OSError:
            break
    out("stalled_at", sent)
    time.sleep(stall)
    s.setblocking(True)
    n, ended = read_on(s, 30)
    out("echoed", n)
    out("ended", 1 if ended else 0)


def pipeline(port, maxn, secs):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.setblocking(False)
    batch = REQ * 256
    sent = answered = ok = 0
    tail = b""
    start = time.time()
    ended = False
    pend = b""
    while answered < maxn and time.time() - start < secs:
        want_w = sent < maxn or pend
        r, w, _ = select.select([s], [s] if want_w else [], [], 0.5)
        if w:
            if not pend:
                k = min(256, maxn - sent)
                pend = batch[:k * len(REQ)]
                sent += k
            try:
                n = s.send(pend)
                pend = pend[n:]
            except BlockingIOError:
                pass
            except OSError:
                ended = True
                break
        if r:
            try:
                b = s.recv(1 << 20)
            except BlockingIOError:
                continue
            except OSError:
                ended = True
                break
            if not b:
                ended = True
                break
            # a marker split over two reads: the kept tail is shorter
            # than the marker, so no marker is counted twice
            answered += (tail[-8:] + b).count(b"HTTP/1.1 ")
            ok += (tail + b).count(b"HTTP/1.1 200 ")
            tail = (tail + b)[-12:]
    out("sent", sent - len(pend) // len(REQ))
    out("answered", answered)
    out("ok", ok)
    out("secs", "%.1f" % (time.time() - start))
    out("ended", 1 if ended else 0)
    s.close()


def main():
    a = sys.argv[1:]
    m = a[0]
    if m == "hold":
        hold(int(a[1]), int(a[2]), a[3], a[4], float(a[5]))
    elif m == "slowloris":
        slowloris(int(a[1]), int(a[2]), float(a[3]), float(a[4]))
    elif m == "tlsloris":
        slowloris(int(a[1]), int(a[2]), float(a[3]), float(a[4]), TLS_HEAD)
    elif m == "slowread":
        slowread(int(a[1]), int(a[2]), int(a[3]), float(a[4]))
    elif m == "upload":
        upload(int(a[1]), int(a[2]), float(a[3]))
    elif m == "pipeline":
        pipeline(int(a[1]), int(a[2]), float(a[3]))
    else:
        sys.exit("unknown mode " + m)


if __name__ == "__main__":
    main()
