#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""The demo's gRPC pair, with no .proto and no generated code: the messages
are plain bytes (a SKU in, a line of text out).

  stock.py serve PORT     the stock service: /shop.Stock/Get on 127.0.0.1:PORT
  stock.py call [N]       checkout: N calls (default: forever, 5 a second)
                          through $MESH_UPSTREAM_STOCK, its sidecar's listener

Debian's python3-grpcio (/usr/bin/python3); scripts/deps.sh demo installs it.
"""
import os
import sys
import time
from concurrent import futures

import grpc

METHOD = "/shop.Stock/Get"


def serve(port):
    me = "%s.%s" % (os.environ.get("MESH_SERVICE", "stock"),
                    os.environ.get("MESH_INSTANCE", "0"))

    def get(request, context):
        sku = request.decode("utf-8", "replace")
        # a stable count per SKU, so repeated calls agree
        left = sum(sku.encode()) % 20
        return ("%s: %s, %d left" % (me, sku, left)).encode()

    handler = grpc.method_handlers_generic_handler(
        "shop.Stock", {"Get": grpc.unary_unary_rpc_method_handler(get)})
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    server.add_generic_rpc_handlers((handler,))
    addr = "127.0.0.1:%d" % port
    if server.add_insecure_port(addr) == 0:
        sys.exit("stock.py: cannot listen on %s" % addr)
    server.start()
    print("stock.py: %s serving %s on %s" % (me, METHOD, addr), flush=True)
    server.wait_for_termination()


def call(count):
    target = os.environ.get("MESH_UPSTREAM_STOCK", "127.0.0.1:8610")
    # plain h2c to our own sidecar; it does the mTLS and the balancing
    channel = grpc.insecure_channel(target,
                                    options=[("grpc.enable_http_proxy", 0)])
    get = channel.unary_unary(METHOD)
    ok = failed = n = 0
    last = ""
    # meshd starts checkout beside stock, not after it: until stock's first
    # answer (10 s at most) UNAVAILABLE only means "not up yet"
    warm_until = time.monotonic() + 10 if count == 0 else 0
    while count == 0 or n < count:
        n += 1
        try:
            last = get(("sku-%d" % (n % 7)).encode(), timeout=2).decode()
            ok += 1
            warm_until = 0
        except grpc.RpcError as e:
            last = "%s: %s" % (e.code().name, e.details())
            if (e.code() == grpc.StatusCode.UNAVAILABLE and
                    time.monotonic() < warm_until):
                n -= 1
                time.sleep(0.5)
                continue
            failed += 1
            if count == 0:
                print("checkout: call %d failed: %s" % (n, last), flush=True)
        if count != 0:
            print(last, flush=True)
        elif n % 100 == 0:
            print("checkout: %d calls to %s via %s: %d ok, %d failed; last: %s"
                  % (n, METHOD, target, ok, failed, last), flush=True)
        if count == 0:
            time.sleep(0.2)
    return 0 if failed == 0 else 1


def main(argv):
    if len(argv) == 3 and argv[1] == "serve":
        serve(int(argv[2]))
        return 0
    if len(argv) in (2, 3) and argv[1] == "call":
        return call(int(argv[2]) if len(argv) == 3 else 0)
    sys.stderr.write("usage: stock.py serve PORT | stock.py call [N]\n")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
