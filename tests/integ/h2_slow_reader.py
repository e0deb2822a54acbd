# SPDX-License-Identifier: ISC
# h2_slow_reader: an HTTP/2 client that asks for a large body, opens its
# windows wide (2 GiB), then reads nothing for a while: only the socket's
# own backpressure holds the body back.  For tests/integ/h2_backpressure.sh.
#
#   python3 h2_slow_reader.py PORT AUTHORITY PATH PAUSE_S MARKFILE
#
# Creates MARKFILE when the pause starts, then reads the whole response
# and prints "status NNN", "bytes N" and "ended yes|no".
import socket
import struct
import sys
import time

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, RST, SETTINGS, GOAWAY, WINDOW = 0, 1, 3, 4, 7, 8
BIG = (1 << 31) - 1


def frame(ftype, flags, sid, payload=b""):
    n = len(payload)
    return struct.pack(">BHBBI", n >> 16, n & 0xFFFF, ftype, flags, sid) + payload


def literal(name, value):
    # literal header field without indexing, new name, no Huffman (RFC 7541
    # 6.2.2); names and values here are shorter than 127 bytes
    return b"\x00" + bytes([len(name)]) + name + bytes([len(value)]) + value


def main():
    port, auth, path = int(sys.argv[1]), sys.argv[2].encode(), sys.argv[3].encode()
    pause, mark = float(sys.argv[4]), sys.argv[5]
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    block = (literal(b":method", b"GET") + literal(b":scheme", b"http") +
             literal(b":authority", auth) + literal(b":path", path))
    s.sendall(PREFACE +
              frame(SETTINGS, 0, 0, struct.pack(">HI", 4, BIG)) +
              frame(WINDOW, 0, 0, struct.pack(">I", BIG - 65535)) +
              frame(HEADERS, 0x5, 1, block))
    open(mark, "w").close()
    time.sleep(pause)
    buf, total, status, ended = b"", 0, "?", False
    end = time.time() + 60
    while not ended and time.time() < end:
        x = s.recv(1 << 20)
        if not x:
            break
        buf += x
        while len(buf) >= 9:
            hi, lo, ftype, flags, sid = struct.unpack(">BHBBI", buf[:9])
            n = (hi << 16) | lo
            if len(buf) < 9 + n:
                break
            p, buf = buf[9:9 + n], buf[9 + n:]
            if ftype == SETTINGS and not flags & 1:
                s.sendall(frame(SETTINGS, 1, 0))
            elif ftype == HEADERS and sid == 1:
                # :status is the first field: static index 8 is 200
                status = "200" if p[:1] == b"\x88" else "other"
                if flags & 1:
                    ended = True
            elif ftype == DATA and sid == 1:
                total += n
                if flags & 1:
                    ended = True
            elif ftype in (RST, GOAWAY):
                print("reset_or_goaway", ftype)
                ended = True
    print("status", status)
    print("bytes", total)
    print("ended", "yes" if ended else "no")


main()
