#!/bin/bash
# SPDX-License-Identifier: ISC
# mesh-proxy, addresses and locality (issue 16), on loopback (127.0.0.0/8):
# an endpoint at 127.0.0.2:<port> is reached there; with a `host` line,
# requests go to the local endpoint, spill to the remote one when the
# local app is killed (outlier ejection), and come back once it serves
# again; an inbound with bind=127.0.0.3 listens there and not on
# 127.0.0.1.  Plain mode (-c FILE): no mTLS between the sidecars.
. "$(dirname "$0")/proxy.bash"

LST=20800 LOC=20801 IN_FAR=20810 IN_L=20811 IN_R=20812
APP_FAR=20820 APP_L=20821 APP_R=20822

port_at() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

pcfg client <<E
instance web v1 0
host alpha
listen $LST far
listen $LOC loc
service far http
endpoint far v1 0 127.0.0.2:$IN_FAR up host=alpha
service loc http
endpoint loc v1 0 $IN_L up host=alpha
endpoint loc v1 1 127.0.0.3:$IN_R up host=beta
policy loc lb=round-robin breaker_failures=100 outlier_failures=2 outlier_ejection_ms=1000
end
E
pcfg far <<E
instance far v1 0
inbound $IN_FAR http $APP_FAR bind=127.0.0.2
end
E
pcfg locl <<E
instance loc v1 0
host alpha
inbound $IN_L http $APP_L
end
E
pcfg locr <<E
instance loc v1 1
host beta
inbound $IN_R http $APP_R bind=127.0.0.3
end
E
app far-0 $APP_FAR
app loc-0 $APP_L
app loc-1 $APP_R
spawn far mesh-proxy -c "$T/far.pcfg"
wait_for 10 port_at 127.0.0.2 $IN_FAR || not_ok "sidecar far listens on 127.0.0.2:$IN_FAR" "$(cat "$T/far.log")"
spawn locr mesh-proxy -c "$T/locr.pcfg"
wait_for 10 port_at 127.0.0.3 $IN_R || not_ok "sidecar locr listens on 127.0.0.3:$IN_R" "$(cat "$T/locr.log")"
sidecar locl $IN_L
sidecar client $LST

get() { curl -s --max-time 5 "http://127.0.0.1:$1/"; }

# 1. an endpoint on another loopback address
check "inbound bind=127.0.0.2: listening there" port_at 127.0.0.2 $IN_FAR
if port_at 127.0.0.1 $IN_FAR; then not_ok "inbound bind=127.0.0.2: not on 127.0.0.1"
else ok "inbound bind=127.0.0.2: not on 127.0.0.1"; fi
is "endpoint 127.0.0.2:$IN_FAR is reached" "$(get $LST)" "far-0"
grep -q "listening on 127.0.0.2:$IN_FAR (inbound far)" "$T/far.log" &&
	ok "the far sidecar logs its bound address" ||
	not_ok "the far sidecar logs its bound address" "$(head -5 "$T/far.log")"

# 2. bind=127.0.0.3 and nothing on 127.0.0.1
check "inbound bind=127.0.0.3: listening there" port_at 127.0.0.3 $IN_R
if port_at 127.0.0.1 $IN_R; then not_ok "inbound bind=127.0.0.3: not on 127.0.0.1"
else ok "inbound bind=127.0.0.3: not on 127.0.0.1"; fi

# 3. locality: the local instance only, while it serves
names=$(for i in $(seq 1 10); do get $LOC; done | sort | uniq -c | awk '{print $2 "=" $1}' | tr '\n' ' ')
is "locality: 10 of 10 requests to the local instance" "$names" "loc-0=10 "

# ... spill to the remote one when the local app is gone
kill -TERM "$(cat "$T/loc-0.pid")"
wait "$(cat "$T/loc-0.pid")" 2>/dev/null
wait_for 5 sh -c "! (exec 3<>/dev/tcp/127.0.0.1/$APP_L) 2>/dev/null"
out=""
for i in $(seq 1 6); do out="$out$(get $LOC | tr -d '\n')|"; done
case "$out" in
*"loc-1|loc-1|loc-1|") ok "locality: spills to the remote instance (after the local one is ejected)" ;;
*) not_ok "locality: spills to the remote instance (after the local one is ejected)" "got: $out" ;;
esac
n=$(printf '%s' "$out" | tr '|' '\n' | grep -c '^loc-1$')
[ "$n" -ge 4 ] && ok "locality: at most 2 failures before the spill" ||
	not_ok "locality: at most 2 failures before the spill" "got: $out"
grep -q "endpoint 127.0.0.1:$IN_L ejected" "$T/client.log" &&
	ok "the ejection log names the local endpoint's address" ||
	not_ok "the ejection log names the local endpoint's address" "$(tail -5 "$T/client.log")"

# ... and back once the local app serves again and the ejection is over
app loc-0 $APP_L
back=0
for i in $(seq 1 40); do
	[ "$(get $LOC)" = "loc-0" ] && { back=1; break; }
	sleep 0.1
done
is "locality: back to the local instance" "$back" 1
names=$(for i in $(seq 1 10); do get $LOC; done | sort | uniq -c | awk '{print $2 "=" $1}' | tr '\n' ' ')
is "locality: 10 of 10 requests to the local instance again" "$names" "loc-0=10 "

for s in client far locl locr; do kill -TERM "$(cat "$T/$s.pid")"; done
for s in client far locl locr; do wait "$(cat "$T/$s.pid")"; is "sidecar $s exits 0" $? 0; done
grep -h 'ERROR: AddressSanitizer\|runtime error' "$T"/*.log && not_ok "sanitizers quiet" || ok "sanitizers quiet"
