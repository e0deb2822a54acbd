#!/bin/bash
# SPDX-License-Identifier: ISC
# h2_limits: HTTP/2 attacks against a sidecar (issue 14, item 5):
#   h2_attack.py -> client sidecar (listen 26731 api) -> h2c -> nghttpd 26740
# each attack by a raw-frame client (tests/integ/h2_attack.py) on its own
# connection, and after each a normal request (nghttp) through the same
# sidecar must still be served:
#   rapid reset     10,000 streams opened and reset -> GOAWAY
#                   ENHANCE_YOUR_CALM, http2.floods counted
#   SETTINGS flood  20,000 frames -> GOAWAY or closed, RSS bounded
#   PING flood      20,000 frames -> GOAWAY or closed, RSS bounded; and
#                   paced under nghttp2's own bound -> GOAWAY ENHANCE_YOUR_CALM
#   CONTINUATION    HEADERS without END_HEADERS, then 10,000 CONTINUATION
#                   frames of 1 KiB -> closed, RSS bounded
#   streams         150 requests at once -> 100 served, 50 refused
#                   (RST_STREAM REFUSED_STREAM)
#   header list     64 KiB of header fields -> refused (431 or a reset),
#                   the connection still usable or closed with GOAWAY
#   HPACK           a dynamic table size update to 8192 (over 4096) ->
#                   GOAWAY COMPRESSION_ERROR
# The outcomes are printed as comments (# rapid: ...).
# Ports: 26730-26769.
. "$(dirname "$0")/sec.bash"

LST=26731 APP=26740
ATTACK="python3 $ROOT/tests/integ/h2_attack.py"
# RSS growth allowed over one attack (kB); ASan's shadow and allocator
# metadata cost more for the same allocations
RSS_MAX_KB=16384
[ "$ASAN" = 1 ] && RSS_MAX_KB=49152

mkdir -p "$T/www"
echo "hello over h2" >"$T/www/hello.txt"
spawn nghttpd nghttpd --no-tls -d "$T/www" "$APP"
wait_port "$APP" || not_ok "nghttpd listens on $APP" "$(cat "$T/nghttpd.log")"

cat >"$T/client.pcfg" <<E
instance web v1 0
listen $LST api
service api http2
endpoint api v1 0 $APP up
end
E
spawn client mesh-proxy -c "$T/client.pcfg" --stats "$T/client.stats"
wait_port "$LST" || not_ok "sidecar listens on $LST" "$(cat "$T/client.log")"
PID=$(cat "$T/client.pid")

# floods: the sidecar's http2.floods counter, its index in enum stat_id
# (include/mesh/stats.h) read from the header, so new counters move nothing
FLOODS_IDX=$(awk '/^enum stat_id/ {on = 1; next} on && /^};/ {exit}
	on && match($0, /^[ \t]*STAT_[A-Z0-9_]+/) {
		n = substr($0, RSTART, RLENGTH); gsub(/[ \t]/, "", n)
		if (n == "STAT_H2_FLOODS") {print i; exit}
		i++ }' "$ROOT/include/mesh/stats.h")
floods() {
	python3 - "$T/client.stats" "$FLOODS_IDX" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read()
i = int(sys.argv[2])
n, hs = struct.unpack_from("<II", d, 32)
print(struct.unpack_from("<Q", d, hs + 8 * i)[0] if d[:8] == b"MESHSTAT" and i < n else "none")
PY
}

# a normal request with nghttp through the sidecar
after() {
	local got
	got=$(timeout 10 nghttp "http://127.0.0.1:$LST/hello.txt" 2>&1)
	is "$1: afterwards, nghttp is served through the same sidecar" "$got" "hello over h2"
	if alive "$PID"; then
		ok "$1: the sidecar is alive"
	else
		wait "$PID"
		not_ok "$1: the sidecar is alive" "exit status $?" "$(tail -20 "$T/client.log")"
	fi
}

# attack NAME MODE N: run it, print what it saw and the RSS it cost
attack() {
	local name=$1 r0 r1
	r0=$(rss "$PID")
	timeout 60 $ATTACK "$2" "$LST" "${3:-0}" >"$T/$name.out" 2>&1
	r1=$(rss "$PID")
	sed "s/^/# $name: /" "$T/$name.out"
	echo "# $name: sidecar VmRSS $r0 -> $r1 kB, http2.floods $(floods)"
	check "$name: the sidecar's RSS grew less than $RSS_MAX_KB kB ($r0 -> $r1)" \
		test $((r1 - r0)) -lt "$RSS_MAX_KB"
}
v() { awk -v k="$2" '$1 == k {print $2}' "$T/$1.out"; }

is "before: one GET with the raw client is served 200" \
	"$(timeout 20 $ATTACK get "$LST" | awk '/^status:200/ {print $2}')" 1
after "before"
f0=$(floods)

# --- (a) rapid reset ----------------------------------------------------------
attack rapid rapid 10000
is "rapid reset: GOAWAY ENHANCE_YOUR_CALM (0xb)" "$(v rapid goaway)" 0xb
is "rapid reset: the connection is closed" "$(v rapid closed)" yes
# what the client could write depends on the socket buffers; what the
# sidecar took is in its GOAWAY (the last stream it processed)
check "rapid reset: the sidecar stopped well before 10,000 streams (last stream $(v rapid goaway_last_stream), of 19999)" \
	test "$(v rapid goaway_last_stream)" -lt 19999
f1=$(floods)
check "rapid reset: http2.floods went up ($f0 -> $f1)" test "$f1" -gt "$f0"
after "rapid reset"

# --- (b) SETTINGS and (c) PING floods ---------------------------------------------
for m in settings ping; do
	attack "$m" "$m" 20000
	check "$m flood: GOAWAY or closed (goaway $(v "$m" goaway), closed $(v "$m" closed))" \
		test "$(v "$m" goaway)" != none -o "$(v "$m" closed)" = yes
	after "$m flood"
done
# the same PINGs paced, 20 every 10 ms: nghttp2's bound on the
# acknowledgements owed (100) is never reached, our rate (1,000 a second) is
attack paced paced 20000
is "paced PING flood: GOAWAY ENHANCE_YOUR_CALM (0xb)" "$(v paced goaway)" 0xb
check "paced PING flood: closed well before 20,000 ($(v paced sent) written)" \
	test "$(v paced sent)" -lt 20000
after "paced PING flood"
f2=$(floods)
check "SETTINGS and PING floods: http2.floods went up by 3 ($f1 -> $f2)" test "$f2" -eq $((f1 + 3))

# --- (d) CONTINUATION flood --------------------------------------------------------
attack continuation continuation 10000
is "CONTINUATION flood: the connection is closed" "$(v continuation closed)" yes
f3=$(floods)
check "CONTINUATION flood: http2.floods went up ($f2 -> $f3)" test "$f3" -gt "$f2"
after "CONTINUATION flood"

# --- (e) more streams than SETTINGS_MAX_CONCURRENT_STREAMS -----------------------
# A client that sends at once, before our SETTINGS reach it: nghttp2
# refuses the streams past the limit it announced (stream errors).
attack burst burst 150
is "150 streams with the preface: 100 served 200" "$(v burst status:200)" 100
is "150 streams with the preface: 50 refused (RST_STREAM REFUSED_STREAM 0x7)" \
	"$(v burst rst:0x7)" 50
after "150 streams with the preface"
# A client that acknowledged the limit and still goes over it: nghttp2
# makes that a connection error (RFC 9113 5.4.1 lets it), GOAWAY
# PROTOCOL_ERROR, and the streams under way end with the connection.
attack streams streams 150
is "150 streams after SETTINGS: GOAWAY PROTOCOL_ERROR (0x1)" "$(v streams goaway)" 0x1
is "150 streams after SETTINGS: the connection is closed" "$(v streams closed)" yes
after "150 streams after SETTINGS"

# --- (f) a header list over the limit --------------------------------------------
attack biglist biglist 64
check "64 KiB header list: refused (431 or a reset: $(v biglist big_status), $(v biglist big_rst))" \
	test "$(v biglist big_status)" = 431 -o "$(v biglist big_rst)" != none -o \
	"$(v biglist goaway)" != none
check "64 KiB header list: the connection served the next request or ended with GOAWAY" \
	test "$(v biglist after_status)" = 200 -o "$(v biglist goaway)" != none
after "64 KiB header list"

# --- (g) HPACK dynamic table size over the limit -----------------------------------
attack hpack hpack
is "HPACK table size update to 8192: GOAWAY COMPRESSION_ERROR (0x9)" "$(v hpack goaway)" 0x9
after "HPACK table size"

kill "$PID" 2>/dev/null
wait "$PID" 2>/dev/null
no_sanitizer_report "$T/client.log"
