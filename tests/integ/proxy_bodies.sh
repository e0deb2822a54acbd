#!/bin/bash
# SPDX-License-Identifier: ISC
# mesh-proxy: large bodies streamed through two sidecars in both
# directions (chunked and Content-Length), HEAD, early close.
. "$(dirname "$0")/proxy.bash"

OUT=20200 IN0=20210 APP0=20220

pcfg client <<E
instance web v1 0
outbound $OUT
service api http
endpoint api v1 0 $IN0 up
end
E
pcfg api0 <<E
instance api v1 0
inbound $IN0 http $APP0
end
E
app api-0 $APP0
sidecar api0 $IN0
sidecar client $OUT

px() { curl -s --max-time 30 -x "http://127.0.0.1:$OUT" "$@"; }
sha() { sha256sum | cut -c1-64; }

head -c 10485760 /dev/urandom >"$T/big"
want=$(sha <"$T/big")
is "10 MB chunked upload echoed back intact" \
	"$(px -H 'Transfer-Encoding: chunked' --data-binary @"$T/big" http://api/echo | sha)" "$want"
is "10 MB Content-Length upload echoed back intact" \
	"$(px --data-binary @"$T/big" http://api/echo | sha)" "$want"

pattern=$(python3 -c 'import sys; sys.stdout.write(("0123456789abcdef" * 655360)[:10485760])' | sha)
is "10 MB chunked download intact" "$(px 'http://api/bytes?n=10485760' | sha)" "$pattern"

# A slow reader: the download must be paced by backpressure, not buffered.
px --limit-rate 4M 'http://api/bytes?n=10485760' -o "$T/slow.out" &
reader=$!
sleep 1
rss=$(ps -o rss= -p "$(cat "$T/client.pid")" | tr -d ' ')
wait $reader
is "slow reader gets every byte" "$(sha <"$T/slow.out")" "$pattern"
if [[ $BUILD == *sanitize* ]] || [ "${rss:-0}" -lt 20000 ]; then ok "slow reader: sidecar RSS stays small (${rss} KiB)"; else
	not_ok "slow reader: sidecar RSS stays small" "rss ${rss} KiB"; fi

curl -sI --max-time 5 -x "http://127.0.0.1:$OUT" 'http://api/bytes?n=100' >"$T/head.out"
check "HEAD: head only, connection kept" grep -q '^HTTP/1.1 200' "$T/head.out"
got=$(curl -s --max-time 5 -x "http://127.0.0.1:$OUT" -I 'http://api/bytes?n=100' -o /dev/null \
	--next -x "http://127.0.0.1:$OUT" http://api/whoami)
check "HEAD then GET on one connection" grep -q '^name=api-0' <<<"$got"

printf 'POST /echo HTTP/1.1\r\nHost: api\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\nGET /whoami HTTP/1.1\r\nHost: api\r\nConnection: close\r\n\r\n' |
	raw $OUT >"$T/chunk.out"
check "chunked request then a pipelined GET" grep -q '^name=api-0' "$T/chunk.out"
check "chunked echo body relayed" grep -q '^hello' "$T/chunk.out"

printf 'POST /echo HTTP/1.1\r\nHost: api\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n' |
	raw $OUT >"$T/badchunk.out"
check "malformed chunk: connection closed" grep -q '\[closed\]' "$T/badchunk.out"

for s in client api0; do kill -TERM "$(cat "$T/$s.pid")"; done
for s in client api0; do wait "$(cat "$T/$s.pid")"; is "sidecar $s exits 0" $? 0; done
grep -h 'ERROR: AddressSanitizer\|runtime error' "$T"/*.log && not_ok "sanitizers quiet" || ok "sanitizers quiet"
