#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""grpc_app: a real gRPC server and client for the HTTP/2 and gRPC
scenarios (tests/integ/grpc_mesh.sh, grpc_policy.sh).

Run it with Debian's /usr/bin/python3 (python3-grpcio).  No .proto and no
generated code: generic handlers, messages are raw bytes both ways.

Server (h2c, prior knowledge, on 127.0.0.1:PORT; exits 0 on SIGTERM):
    grpc_app.py serve --port P --name NAME --version V
  /mesh.Test/Unary         "NAME V PID\\n" followed by the request
  /mesh.Test/ServerStream  request "N [SIZE]": N messages of SIZE bytes
                           (default 100), message i starts "%08d" % i
  /mesh.Test/Bidi          each message echoed as it comes
  /mesh.Test/Slow          request "MS": answers "NAME V PID" after MS ms;
                           a call its client gives up on ends early, and
                           the log says so ("slow: ended early ...")
  /mesh.Test/Fail          request a status name or number: aborts with it

Clients (every call has a deadline; the output is one JSON line; the exit
status is 0 when every call ended as that mode wants):
    unary  --target T --count N [--threads K] [--delay-ms D] [--mark N FILE]
           per-instance tally {"by": {"NAME V PID": n}, "ok": .., "failed": ..,
           "codes": {..}}; with --delay-ms each call is Slow D ms instead
    stream --target T --n N [--size S]    one server stream, order and count
    bidi   --target T --n N [--size S]    one bidi stream, order and count
    deadline --target T --ms M [--slow-ms S]
           Slow S ms (default 2000) with an M ms deadline: code and elapsed
    code   --target T [--method M] [--data D]
           one call: its status code, name, message, metadata, elapsed
Every client takes --authority A (the channel's default authority: how a
caller names the service to a sidecar's outbound proxy port) and
--deadline-ms (per call).  Channels are h2c with prior knowledge; the
client's own retries and any http_proxy in the environment are off, so
what the tests see is what the mesh did.
"""

import argparse
import json
import os
import signal
import sys
import threading
import time
from concurrent import futures

import grpc

SVC = "/mesh.Test/"
CODES = {c.value[0]: c for c in grpc.StatusCode}


def log(msg):
    print("grpc_app[%d]: %s" % (os.getpid(), msg), file=sys.stderr, flush=True)


def numbered(i, size):
    head = b"%08d" % i
    return head + b"." * max(0, size - len(head))


# ---- server ---------------------------------------------------------------

def serve(a):
    ident = ("%s %s %d" % (a.name, a.version, os.getpid())).encode()

    def unary(req, ctx):
        return ident + b"\n" + req

    def server_stream(req, ctx):
        f = req.decode("ascii", "replace").split()
        try:
            n = int(f[0])
            size = int(f[1]) if len(f) > 1 else 100
        except (IndexError, ValueError):
            ctx.abort(grpc.StatusCode.INVALID_ARGUMENT, "want 'N [SIZE]', got %r" % req[:40])
        for i in range(n):
            yield numbered(i, size)

    def bidi(it, ctx):
        for m in it:
            yield m

    def slow(req, ctx):
        try:
            ms = int(req.decode("ascii", "replace"))
        except ValueError:
            ctx.abort(grpc.StatusCode.INVALID_ARGUMENT, "want MS, got %r" % req[:40])
        t0 = time.monotonic()
        end = t0 + ms / 1000.0
        # in small steps, so a call the client (or the mesh) ended is seen
        while time.monotonic() < end:
            if not ctx.is_active():
                log("slow: ended early after %d ms of %d" %
                    ((time.monotonic() - t0) * 1000, ms))
                return b""
            time.sleep(0.01)
        return ident

    def fail(req, ctx):
        want = req.decode("ascii", "replace").strip()
        code = None
        if want.isdigit():
            code = CODES.get(int(want))
        else:
            code = getattr(grpc.StatusCode, want.upper().replace("-", "_"), None)
        if code is None or code == grpc.StatusCode.OK:
            ctx.abort(grpc.StatusCode.INVALID_ARGUMENT, "Fail: no error status %r" % want)
        ctx.abort(code, "Fail asked for %s" % code.name)

    handlers = {
        "Unary": grpc.unary_unary_rpc_method_handler(unary),
        "ServerStream": grpc.unary_stream_rpc_method_handler(server_stream),
        "Bidi": grpc.stream_stream_rpc_method_handler(bidi),
        "Slow": grpc.unary_unary_rpc_method_handler(slow),
        "Fail": grpc.unary_unary_rpc_method_handler(fail),
    }
    # SO_REUSEPORT off: a second server on a taken port must fail, not share it
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=64),
                         options=[("grpc.so_reuseport", 0)])
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler("mesh.Test", handlers),))
    addr = "127.0.0.1:%d" % a.port
    try:
        got = server.add_insecure_port(addr)
    except RuntimeError as e:
        got, why = 0, str(e)
    else:
        why = "port taken?"
    if got != a.port:
        log("serve: cannot listen on %s (%s)" % (addr, why))
        return 1
    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    server.start()
    log("serve: %s listening on %s (h2c)" % (ident.decode(), addr))
    while not stop.wait(0.2):
        pass
    server.stop(0.5).wait(5)
    log("serve: stopped by a signal")
    return 0


# ---- clients --------------------------------------------------------------

def channel(a):
    opts = [("grpc.enable_http_proxy", 0), ("grpc.enable_retries", 0)]
    if a.authority:
        opts.append(("grpc.default_authority", a.authority))
    return grpc.insecure_channel(a.target, options=opts)


def status_of(err):
    """(code number, name, message, metadata dict) of a finished call"""
    code = err.code()
    md = {}
    for part in (err.initial_metadata, err.trailing_metadata):
        try:
            for k, v in part() or ():
                md[k] = v if isinstance(v, str) else repr(v)
        except Exception:
            pass
    return code.value[0], code.name, err.details() or "", md


def out(doc):
    print(json.dumps(doc, sort_keys=True), flush=True)


def client_unary(a):
    ch = channel(a)
    method = SVC + ("Slow" if a.delay_ms > 0 else "Unary")
    call = ch.unary_unary(method)
    lock = threading.Lock()
    st = {"by": {}, "ok": 0, "failed": 0, "codes": {}, "errors": []}
    nextno = [0]
    t0 = time.monotonic()

    def one(i):
        req = b"%d" % a.delay_ms if a.delay_ms > 0 else b"rpc %d" % i
        try:
            rep = call(req, timeout=a.deadline_ms / 1000.0)
            who, _, echo = rep.partition(b"\n")
            if a.delay_ms <= 0 and echo != req:
                return None, "UNARY_BAD_ECHO", "rpc %d: echo %r" % (i, echo[:40])
            return who.decode("ascii", "replace"), "OK", ""
        except grpc.RpcError as e:
            _, name, msg, _ = status_of(e)
            return None, name, "rpc %d: %s: %s" % (i, name, msg)

    def run():
        while True:
            with lock:
                i = nextno[0]
                if i >= a.count or time.monotonic() - t0 > a.max_seconds:
                    return
                nextno[0] += 1
            who, name, err = one(i)
            with lock:
                st["codes"][name] = st["codes"].get(name, 0) + 1
                if who is not None:
                    st["ok"] += 1
                    st["by"][who] = st["by"].get(who, 0) + 1
                else:
                    st["failed"] += 1
                    if len(st["errors"]) < 5:
                        st["errors"].append(err)
                if a.mark and st["ok"] + st["failed"] == a.mark[0]:
                    open(a.mark[1], "w").close()

    ths = [threading.Thread(target=run) for _ in range(max(1, a.threads))]
    for th in ths:
        th.start()
    for th in ths:
        th.join()
    st["sent"] = st["ok"] + st["failed"]
    st["elapsed_ms"] = int((time.monotonic() - t0) * 1000)
    ch.close()
    out(st)
    return 0 if st["ok"] == a.count else 1


def check_sequence(replies, n, size):
    """count and order of numbered messages: (received, first bad index)"""
    got, bad = 0, None
    for m in replies:
        if bad is None and m != numbered(got, size):
            bad = got
        got += 1
    return got, bad


def client_stream(a, bidi):
    ch = channel(a)
    t0 = time.monotonic()
    doc = {"mode": "bidi" if bidi else "stream", "want": a.n, "size": a.size}
    try:
        if bidi:
            call = ch.stream_stream(SVC + "Bidi")
            reqs = (numbered(i, a.size) for i in range(a.n))
            it = call(reqs, timeout=a.deadline_ms / 1000.0)
        else:
            call = ch.unary_stream(SVC + "ServerStream")
            it = call(b"%d %d" % (a.n, a.size), timeout=a.deadline_ms / 1000.0)
        doc["received"], doc["first_bad"] = check_sequence(it, a.n, a.size)
        doc["code"], doc["name"], doc["message"] = 0, "OK", ""
    except grpc.RpcError as e:
        doc["code"], doc["name"], doc["message"], _ = status_of(e)
        doc.setdefault("received", None)
        doc.setdefault("first_bad", None)
    doc["elapsed_ms"] = int((time.monotonic() - t0) * 1000)
    doc["intact"] = (doc["code"] == 0 and doc["received"] == a.n and
                     doc["first_bad"] is None)
    ch.close()
    out(doc)
    return 0 if doc["intact"] else 1


def one_call(a, method, data, deadline_ms):
    ch = channel(a)
    t0 = time.monotonic()
    doc = {"method": method}
    try:
        rep, c = ch.unary_unary(SVC + method).with_call(data, timeout=deadline_ms / 1000.0)
        doc.update(code=0, name="OK", message="",
                   reply=rep.decode("utf-8", "replace")[:200],
                   metadata={k: v for k, v in (c.trailing_metadata() or ())
                             if isinstance(v, str)})
    except grpc.RpcError as e:
        doc["code"], doc["name"], doc["message"], doc["metadata"] = status_of(e)
    doc["elapsed_ms"] = int((time.monotonic() - t0) * 1000)
    ch.close()
    out(doc)
    return doc


def client_deadline(a):
    doc = one_call(a, "Slow", b"%d" % a.slow_ms, a.ms)
    return 0 if doc["name"] == "DEADLINE_EXCEEDED" else 1


def client_code(a):
    doc = one_call(a, a.method, a.data.encode(), a.deadline_ms)
    return 0 if doc["code"] == 0 else 1


def main():
    p = argparse.ArgumentParser(description="gRPC test app and clients")
    sub = p.add_subparsers(dest="mode", required=True)

    s = sub.add_parser("serve")
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--name", default="grpc")
    s.add_argument("--version", default="v1")

    def client(name, deadline_ms):
        c = sub.add_parser(name)
        c.add_argument("--target", required=True, help="HOST:PORT")
        c.add_argument("--authority", default="", help="the channel's default authority")
        c.add_argument("--deadline-ms", type=int, default=deadline_ms,
                       help="per call (default %d)" % deadline_ms)
        return c

    c = client("unary", 5000)
    c.add_argument("--count", type=int, default=1)
    c.add_argument("--threads", type=int, default=1, help="callers sharing the one channel")
    c.add_argument("--delay-ms", type=int, default=0, help="call Slow this long instead")
    c.add_argument("--mark", nargs=2, metavar=("N", "FILE"), default=None,
                   help="create FILE once N calls have ended")
    c.add_argument("--max-seconds", type=float, default=120, help="start no call after this")
    for name in ("stream", "bidi"):
        c = client(name, 60000)
        c.add_argument("--n", type=int, default=10000 if name == "stream" else 1000)
        c.add_argument("--size", type=int, default=100, help="bytes a message (>= 8)")
    c = client("deadline", 10000)
    c.add_argument("--ms", type=int, default=300, help="the call's deadline")
    c.add_argument("--slow-ms", type=int, default=2000, help="how long Slow takes")
    c = client("code", 10000)
    c.add_argument("--method", default="Unary", choices=("Unary", "Slow", "Fail"))
    c.add_argument("--data", default="", help="the request (Slow: MS; Fail: a status)")

    a = p.parse_args()
    if a.mode == "unary" and a.mark:
        a.mark = (int(a.mark[0]), a.mark[1])
    if a.mode in ("stream", "bidi") and a.size < 8:
        p.error("--size: at least 8 bytes (the message number)")
    run = {"serve": serve, "unary": client_unary, "deadline": client_deadline,
           "code": client_code, "stream": lambda x: client_stream(x, False),
           "bidi": lambda x: client_stream(x, True)}
    return run[a.mode](a)


if __name__ == "__main__":
    sys.exit(main())
