# SPDX-License-Identifier: ISC
"""smuggle_drive: the caller side of the smuggling cases.

    python3 smuggle_drive.py tap CASES APPLOG LABEL PORT [CERT KEY CA]
        one TAP line per case: "ok - smuggle LABEL NAME: ..." when the
        answer is the case's expect column (for port LABEL, "out" or
        "in"), the caller never sees SMUGGLED, and the app's log (not an
        assumption) shows exactly what the app column allows
    python3 smuggle_drive.py json CASES APPLOG LABEL PORT [CERT KEY CA]
        the same cases, one JSON object a line (what came back, what the
        app got, whether it was let through): scripts/security_compare.sh

With CERT KEY CA the connection is TLS 1.3 with that client certificate
(a caller sidecar's identity): the bytes reach the server sidecar's
inbound parser exactly as written here.
"""

import json
import os
import select
import socket
import ssl
import sys
import time

import smuggle_lib

WAIT_S = 1.5      # <<WAIT>>: at most this long for one more response
SLEEP_S = 0.3     # <<SLEEP>>
END_S = 3.0       # after the last byte sent: at most this long for the answer
QUIET_S = 0.15    # once every expected response is in: this long for anything extra
SETTLE_S = 0.05   # then, before the app's log is read


class Conn:
    def __init__(self, port, tls):
        raw = socket.create_connection(("127.0.0.1", port), timeout=5)
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if tls:
            cert, key, ca = tls
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.minimum_version = ssl.TLSVersion.TLSv1_3
            ctx.check_hostname = False      # the peer's name is a SPIFFE URI
            ctx.load_verify_locations(ca)
            ctx.load_cert_chain(cert, key)
            raw = ctx.wrap_socket(raw)
        self.s = raw
        self.data = b""
        self.closed = False     # the peer closed (or reset) the connection
        self.send_failed = False

    def send(self, b):
        if self.closed or not b:
            return
        try:
            self.s.sendall(b)
        except OSError:
            self.send_failed = True

    def pump(self, until):
        """Read what is there, waiting until `until` at most; True if
        anything came (or the close)."""
        if self.closed:
            return False
        t = max(0.0, until - time.time())
        pending = isinstance(self.s, ssl.SSLSocket) and self.s.pending() > 0
        if not pending and not select.select([self.s], [], [], t)[0]:
            return False
        try:
            self.s.settimeout(0.5)
            x = self.s.recv(65536)
        except (socket.timeout, ssl.SSLWantReadError):
            return False
        except (OSError, ssl.SSLError):
            x = b""
        if not x:
            self.closed = True
        self.data += x
        return True

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


def responses(case, conn):
    codes, _ = smuggle_lib.read_responses(conn.data, case.first_method())
    # a body delimited by the close is complete once the close came
    return [abs(c) for c in codes if c > 0 or conn.closed]


def run_case(case, port, tls, label):
    want_codes, _ = case.expect(label)
    conn = Conn(port, tls)
    try:
        for seg, act in case.segments():
            conn.send(seg)
            if act == "wait":
                have = len(responses(case, conn))
                end = time.time() + WAIT_S
                while time.time() < end and not conn.closed and len(responses(case, conn)) == have:
                    conn.pump(end)
            elif act == "sleep":
                end = time.time() + SLEEP_S
                while time.time() < end:
                    conn.pump(end)
        end = time.time() + END_S
        while not conn.closed and time.time() < end:
            if len(responses(case, conn)) >= len(want_codes):
                quiet = time.time() + QUIET_S
                while conn.pump(quiet) and not conn.closed:
                    pass
                break
            conn.pump(end)
    finally:
        conn.close()
    return responses(case, conn), conn.closed, conn.data


class AppLog:
    """The recording app's log, read from where the last case ended."""

    def __init__(self, path):
        self.path = path
        self.off = os.path.getsize(path) if os.path.exists(path) else 0

    def take(self):
        with open(self.path, "rb") as f:
            f.seek(self.off)
            data = f.read()
        # only whole lines; a line being written is the next case's
        cut = data.rfind(b"\n") + 1
        self.off += cut
        return [json.loads(x) for x in data[:cut].splitlines() if x.strip()]


def app_summary(evs):
    """What the app got: the targets of the request heads, bytes, and
    the anomalies (junk, tunnel bytes, unfinished messages)."""
    s = {"bytes": 0, "heads": [], "done": [], "done_bytes": 0, "junk": 0, "tunnel": 0, "left": 0}
    for e in evs:
        t = e["t"]
        if t == "data":
            s["bytes"] += e["n"]
        elif t == "req":
            s["heads"].append(e["u"])
        elif t == "done":
            s["done"].append(e["u"])
            s["done_bytes"] += e["n"]
        elif t == "junk":
            s["junk"] += e["n"]
        elif t == "tunnel":
            s["tunnel"] += e["n"]
        elif t == "eof":
            s["left"] += e["left"]
    return s


def app_ok(spec, s):
    """Does the app's log match the case's app column?  (ok, why)"""
    if spec == "none":
        return s["bytes"] == 0, "%d bytes" % s["bytes"]
    kind, _, arg = spec.partition(":")
    want = arg.split(",")
    bad = s["junk"] or s["tunnel"]
    if kind == "head":
        return (s["heads"] == want and not bad,
                "heads %s, junk %d, tunnel %d" % (s["heads"], s["junk"], s["tunnel"]))
    # one: / paths: every request whole, and not one byte more
    ok = (s["heads"] == want and s["done"] == want and not bad and
          s["bytes"] == s["done_bytes"])
    return ok, "heads %s, done %s, %d of %d bytes in them, junk %d, tunnel %d" % (
        s["heads"], s["done"], s["done_bytes"], s["bytes"], s["junk"], s["tunnel"])


def other_bytes(codes, data):
    """Bytes back that are no HTTP/1.x response: text is a proxy that
    answered an HTTP/0.9 request the 0.9 way (the body alone); anything
    else another protocol (HTTP/2 frames after a preface).  None if the
    bytes are HTTP/1.x or there are none."""
    if codes or not data or data.startswith(b"HTTP/"):
        return None
    if all(32 <= c < 127 or c in (9, 10, 13) for c in data[:64]):
        return "HTTP/0.9 body"
    return "%d bytes, not HTTP/1" % len(data)


def describe(codes, closed, data=b""):
    """Status codes in order, a run of one code as CODExN, then "close";
    "no answer" when nothing came and the connection stayed open."""
    other = other_bytes(codes, data)
    words, i = ([other] if other else []), 0
    while i < len(codes):
        j = i
        while j < len(codes) and codes[j] == codes[i]:
            j += 1
        if j - i < 3:
            words += [str(codes[i])] * (j - i)
        else:
            words.append("%dx%d" % (codes[i], j - i))
        i = j
    if closed:
        words.append("close")
    return " ".join(words) or "no answer in %g s" % END_S


def main():
    mode, casespath, applog, label, port = sys.argv[1:6]
    tls = sys.argv[6:9] if len(sys.argv) >= 9 else None
    cases = smuggle_lib.load(casespath)
    log = AppLog(applog)
    t0 = time.time()
    for case in cases:
        want_codes, want_close = case.expect(label)
        try:
            codes, closed, data = run_case(case, int(port), tls, label)
        except OSError as e:
            codes, closed, data = [], True, ("[%s]" % e).encode()
        time.sleep(SETTLE_S)
        s = app_summary(log.take())
        aok, why = app_ok(case.app, s)
        seen = smuggle_lib.MARK in data
        got = describe(codes, closed, data)
        if mode == "json":
            print(json.dumps({"case": case.name, "side": case.side, "answer": got,
                              "codes": codes, "closed": closed,
                              "finals": sum(1 for c in codes if c >= 200) +
                                        (other_bytes(codes, data) == "HTTP/0.9 body"),
                              "expect": describe(want_codes, want_close),
                              "app": case.app, "app_ok": aok, "app_got": s,
                              "smuggled_response": seen}), flush=True)
            continue
        aok_codes = codes == want_codes and (closed or not want_close)
        name = "smuggle %s %s: %s%s; app: %s" % (label, case.name, describe(want_codes, want_close),
                                                 "" if not seen else " (SMUGGLED seen)", case.app)
        if aok_codes and aok and not seen:
            print("ok - " + name, flush=True)
        else:
            print("not ok - " + name, flush=True)
            print("#   answer: %s; caller saw SMUGGLED: %s" % (got, seen))
            print("#   first bytes back: %r" % data[:160])
            print("#   app: %s" % why)
    # anything the app got after the last case (a late smuggled request)
    time.sleep(0.5)
    s = app_summary(log.take())
    if mode == "tap":
        print("# %s: %d cases in %.1f s" % (label, len(cases), time.time() - t0))
        if s["bytes"] == 0:
            print("ok - smuggle %s: the app got nothing after the last case" % label)
        else:
            print("not ok - smuggle %s: the app got nothing after the last case" % label)
            print("#   %d bytes, heads %s" % (s["bytes"], s["heads"]))


if __name__ == "__main__":
    main()
