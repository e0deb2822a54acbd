#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Minimal control-socket client for the meshd scenarios (include/mesh/ipc.h).

    meshd_client.py SOCK COMMAND [TIMEOUT_S]

Sends COMMAND as IPC_CMD, prints every IPC_REPLY and IPC_LOGLINE payload on
stdout (one per line), exits with the code in IPC_DONE; 124 on timeout,
125 when the connection closes first, 126 when it cannot connect.
"""
import socket
import struct
import sys

IPC_CMD, IPC_REPLY, IPC_DONE, IPC_LOGLINE = 20, 21, 22, 23


def main():
    path, cmd = sys.argv[1], sys.argv[2]
    timeout = float(sys.argv[3]) if len(sys.argv) > 3 else 10.0
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(path)
    except OSError as e:
        print("cannot connect to %s: %s" % (path, e), file=sys.stderr)
        return 126
    payload = cmd.encode()
    s.sendall(struct.pack("!IHH", len(payload), IPC_CMD, 0) + payload)
    buf = b""
    try:
        while True:
            while len(buf) >= 8:
                length, typ, flags = struct.unpack("!IHH", buf[:8])
                if len(buf) < 8 + length:
                    break
                body, buf = buf[8:8 + length], buf[8 + length:]
                if typ == IPC_DONE:
                    sys.stdout.flush()
                    return int(body.decode() or "0")
                if typ in (IPC_REPLY, IPC_LOGLINE):
                    text = body.decode(errors="replace")
                    sys.stdout.write(text if text.endswith("\n") else text + "\n")
                else:
                    print("unexpected message type %d" % typ, file=sys.stderr)
                    return 127
            data = s.recv(65536)
            if not data:
                return 125
            buf += data
    except socket.timeout:
        return 124


if __name__ == "__main__":
    sys.exit(main())
