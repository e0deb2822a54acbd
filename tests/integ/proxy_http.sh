#!/bin/bash
# SPDX-License-Identifier: ISC
# mesh-proxy: HTTP through two sidecars (outbound proxy -> inbound -> app):
# routing forms, round-robin, keep-alive, pipelining, 100-continue,
# upgrade, refusals, header timeout.
. "$(dirname "$0")/proxy.bash"

OUT=20100 LST=20101 IN0=20110 IN1=20111 APP0=20120 APP1=20121 SLOW=20102 DEAD=20199

pcfg client <<E
instance web v1 0
outbound $OUT
listen $LST api
service api http
service down http
service dead http
endpoint api v1 0 $IN0 up
endpoint api v1 1 $IN1 up
policy api lb=round-robin
endpoint down v1 0 $IN0 down
endpoint dead v1 0 $DEAD up
end
E
pcfg api0 <<E
instance api v1 0
inbound $IN0 http $APP0
end
E
pcfg api1 <<E
instance api v1 1
inbound $IN1 http $APP1
end
E
pcfg slow <<E
instance web v1 1
limit header_timeout_ms 300
outbound $SLOW
service api http
endpoint api v1 0 $IN0 up
end
E
app api-0 $APP0
app api-1 $APP1
sidecar api0 $IN0
sidecar api1 $IN1
sidecar client $OUT
sidecar slow $SLOW

px() { curl -s --max-time 5 -x "http://127.0.0.1:$OUT" "$@"; }

got=$(px http://api/whoami)
check "absolute-form GET through two sidecars" grep -q '^name=api-[01] ' <<<"$got"
got=$(curl -s --max-time 5 -H 'Host: api' "http://127.0.0.1:$OUT/whoami")
check "origin-form GET routed on Host" grep -q '^name=api-[01] ' <<<"$got"
got=$(px http://api.mesh:80/whoami)
check "api.mesh:80 routes to api" grep -q '^name=api-[01] ' <<<"$got"
got=$(curl -s --max-time 5 -H 'Host: elsewhere' "http://127.0.0.1:$LST/whoami")
check "listen port sends every request to its service" grep -q '^name=api-[01] ' <<<"$got"

names=$(for i in 1 2 3 4; do px http://api/; done | tr '\n' ' ')
case "$names" in
"api-0 api-1 api-0 api-1 " | "api-1 api-0 api-1 api-0 ") ok "round-robin over 2 instances" ;;
*) not_ok "round-robin over 2 instances" "got: $names" ;;
esac

curl -sv --max-time 5 -x "http://127.0.0.1:$OUT" http://api/ http://api/whoami http://api/status/204 \
	>"$T/ka.out" 2>&1
is "keep-alive: curl reuses its connection across URLs" "$(grep -c 'Re-using existing connection' "$T/ka.out")" 2

printf 'GET http://api/status/201 HTTP/1.1\r\nHost: api\r\n\r\nGET /whoami HTTP/1.1\r\nHost: api\r\n\r\nGET /nothing HTTP/1.1\r\nHost: nope\r\n\r\nGET /status/202 HTTP/1.1\r\nHost: api\r\nConnection: close\r\n\r\n' |
	raw $OUT >"$T/pipe.out"
is "pipelined requests answered in order" \
	"$(grep -o '^HTTP/1.1 [0-9]*' "$T/pipe.out" | tr '\n' ' ')" \
	"HTTP/1.1 201 HTTP/1.1 200 HTTP/1.1 404 HTTP/1.1 202 "
check "pipelined: connection closed after Connection: close" grep -q '^\[closed\]' "$T/pipe.out"

head -c 300000 /dev/urandom >"$T/body"
start=$(date +%s%N)
curl -sv --max-time 5 -x "http://127.0.0.1:$OUT" -H 'Expect: 100-continue' \
	--data-binary @"$T/body" http://api/echo -o "$T/echo.out" 2>"$T/cont.err"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
check "100-continue: interim 100 relayed to curl" grep -q '< HTTP/1.1 100 Continue' "$T/cont.err"
is "100-continue: body echoed" "$(sha256sum <"$T/echo.out" | cut -c1-64)" "$(sha256sum <"$T/body" | cut -c1-64)"
if [ "$ms" -lt 900 ]; then ok "100-continue: no stall (${ms} ms)"; else not_ok "100-continue: no stall" "took ${ms} ms"; fi

timeout 10 python3 - $OUT >"$T/ws.out" 2>&1 <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.settimeout(3)
s.sendall(b"GET http://api/ws HTTP/1.1\r\nHost: api\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
head = b""
while b"\r\n\r\n" not in head:
    head += s.recv(1)
print(head.split(b"\r\n")[0].decode())
for msg in (b"hello", b"x" * 100000):
    s.sendall(msg)
    got = b""
    while len(got) < len(msg):
        got += s.recv(65536)
    print("echo", got == msg)
s.shutdown(socket.SHUT_WR)
print("eof", s.recv(10) == b"")
PY
is "upgrade: 101 relayed, then a tunnel both ways" "$(tr '\n' ' ' <"$T/ws.out")" \
	"HTTP/1.1 101 Switching Protocols echo True echo True eof True "

printf 'GET / HTTP/1.1\r\nHost: api\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n' |
	raw $OUT >"$T/bad.out"
check "bad request: 400 with mesh-error" grep -q '^HTTP/1.1 400 ' "$T/bad.out"
check "bad request: connection closed" grep -q '^\[closed\]' "$T/bad.out"
check "bad request: mesh-error header" grep -qi '^mesh-error: ' "$T/bad.out"

curl -si --max-time 5 -x "http://127.0.0.1:$OUT" http://nope/ >"$T/404.out"
check "unknown host: 404" grep -q '^HTTP/1.1 404 ' "$T/404.out"
check "unknown host: mesh-error: no route" grep -q '^mesh-error: no route' "$T/404.out"
curl -si --max-time 5 -x "http://127.0.0.1:$OUT" http://api:8080/ >"$T/port.out"
check "other port than 80: 404" grep -q '^HTTP/1.1 404 ' "$T/port.out"
curl -si --max-time 5 -x "http://127.0.0.1:$OUT" http://down/ >"$T/503.out"
check "no endpoint up: 503" grep -q '^HTTP/1.1 503 ' "$T/503.out"
check "no endpoint up: mesh-error: no healthy upstream" grep -q '^mesh-error: no healthy upstream' "$T/503.out"
curl -si --max-time 5 -x "http://127.0.0.1:$OUT" http://dead/ >"$T/502.out"
check "dead endpoint: 502" grep -q '^HTTP/1.1 502 ' "$T/502.out"
check "dead endpoint: mesh-error names it" grep -q '^mesh-error: upstream connect failed' "$T/502.out"

curl -s --max-time 5 -x "http://127.0.0.1:$OUT" http://down/ http://api/whoami >"$T/after503.out"
check "a refusal keeps the connection usable" grep -q '^name=api-' "$T/after503.out"

printf 'GET /whoami HTTP/1.1\r\nHo' | raw $SLOW 3 >"$T/slow.out"
check "slow header: 408 after header_timeout_ms" grep -q '^HTTP/1.1 408 ' "$T/slow.out"

kill -TERM "$(cat "$T/api-1.pid")"
sleep 0.2
codes=$(for i in 1 2 3 4; do px -o /dev/null -w '%{http_code} ' http://api/; done)
# its sidecar answers 503 app not ready, a connect failure the caller
# retries on the other instance whatever the method
is "app gone behind its sidecar: the caller retries on the other instance" "$codes" "200 200 200 200 "
curl -si --max-time 5 -H 'Host: api' "http://127.0.0.1:$IN1/" >"$T/notready.out"
check "app gone: its sidecar answers 503" grep -q '^HTTP/1.1 503 ' "$T/notready.out"
check "app gone: mesh-error: app not ready" grep -q '^mesh-error: app not ready' "$T/notready.out"

for s in client api0 api1 slow; do kill -TERM "$(cat "$T/$s.pid")"; done
for s in client api0 api1 slow; do
	wait "$(cat "$T/$s.pid")"; rc=$?
	is "sidecar $s exits 0 on SIGTERM" "$rc" 0
done
grep -h 'ERROR: AddressSanitizer\|runtime error' "$T"/*.log && not_ok "sanitizers quiet" || ok "sanitizers quiet"
