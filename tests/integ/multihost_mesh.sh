#!/bin/bash
# SPDX-License-Identifier: ISC
# multihost_mesh: one mesh over three hosts through etcd (issue 16).  The
# hosts are network namespaces a, b, c on a private bridge the test makes
# (tests/integ/multihost.bash, 10.213.77.0/24 only inside them); a real
# etcd runs in a on a's address; one meshd per host with registry = etcd,
# host_address = its bridge address, registry_ttl = 3s.
#
#   a: front (a pure client, api:24001, round-robin), api@a (testapp
#      --name api@a, through a wrapper that idles while $T/a-api.off
#      exists), etcd
#   b: api@b      c: api@c      (one instance each, testapp --name api@H)
#
# Asserts, each step bounded: every host's `status --json` registry member
# lists the others' instances; from a, every request lands on api@a (local
# first); a's api down: requests spill to b and c over mTLS, and b's
# sidecar inbound on b's address answers nobody without a client
# certificate (plain HTTP, TLS without a certificate); c's meshd SIGKILLed:
# c's instances leave a's view within the TTL (+ slack) and, once gone,
# every request lands on b; then c's data plane dies too and requests keep
# succeeding; etcd stopped while c's meshd comes back: no request from a
# fails, and once etcd is back a's view has c again and requests reach it;
# etcd stopped again while a's api comes back: it reaches b's view once
# etcd is back, and a's requests are local again;
# a join token of another mesh is refused (only when meshctl has `join`).
# Ports, inside the namespaces: 24000-24099 (etcd 24079/24080 on a).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/etcd.bash"
. "$(dirname "$0")/multihost.bash"

mh_setup || { not_ok "the namespaces and the bridge"; exit 1; }
ok "namespaces $(_mh_ns a) $(_mh_ns b) $(_mh_ns c) on a bridge in $(_mh_ns s)"

A=$(mh_addr a) B=$(mh_addr b) C=$(mh_addr c)
EC=http://$A:24079
ectl() { mh_exec a "$ETCDCTL" --endpoints "$EC" --dial-timeout 2s --command-timeout 3s "$@"; }
etcd_run() {
	mh_spawn a etcd "$ETCD" --name mh --data-dir "$T/etcd.data" \
		--listen-client-urls "$EC" --advertise-client-urls "$EC" \
		--listen-peer-urls "http://$A:24080" --initial-advertise-peer-urls "http://$A:24080" \
		--initial-cluster "mh=http://$A:24080"
	ETCD_PID=$(cat "$T/etcd.pid")
	wait_for 20 ectl endpoint health
}
etcd_stop() {
	kill -9 "$ETCD_PID" 2>/dev/null
	wait "$ETCD_PID" 2>/dev/null
	! mh_tcp_open b "$A" 24079
}
check "etcd starts in a on $EC" etcd_run
check "b reaches etcd on a's address" mh_tcp_open b "$A" 24079
check "c reaches etcd on a's address" mh_tcp_open c "$A" 24079

cp "$MESH_APPS/testapp" "$T/testapp"
# a's api idles (not ready: down) while $T/a-api.off exists
cat >"$T/api-a.sh" <<EOF
#!/bin/sh
n=0
while [ -e "$T/a-api.off" ] && [ \$n -lt 600 ]; do sleep 0.2; n=\$((n + 1)); done
exec "$T/testapp" --port "\$1" --name api@a
EOF
chmod +x "$T/api-a.sh"

mesh_ini() {   # HOST API_COMMAND [EXTRA_SECTIONS]
	local h=$1
	mkdir -p "$T/$h"
	eval "MH_STATE_$h=\$T/$h/state"
	cat >"$T/$h/mesh.ini" <<EOF
[mesh]
name = mh
port_base = 24050
state_dir = $T/$h/state
registry = etcd
etcd = $EC
host_address = $(mh_addr "$h")
host_name = $h
registry_ttl = 3s

[service.api]
command = $2
port = 24010
${3:-}
EOF
}
mesh_ini a "$T/api-a.sh \$PORT" "
[service.front]
upstreams = api:24001

[route.api]
lb = round-robin"
mesh_ini b "$T/testapp --port \$PORT --name api@b"
mesh_ini c "$T/testapp --port \$PORT --name api@c"
FA=$T/a/mesh.ini FB=$T/b/mesh.ini FC=$T/c/mesh.ini

up_or_stop() {
	mh_up "$1" "$2" >"$T/up-$1.log" 2>&1
	local rc=$?
	is "host $1: meshctl up -d exits 0" "$rc" 0
	if [ "$rc" -ne 0 ]; then
		sed 's/^/#   /' "$T/up-$1.log" | head -30
		exit 1
	fi
}
up_or_stop a "$FA"
# b and c join a's trust before their first start
check "b and c get an intermediate CA under a's root ($(mh_trust_how))" mh_trust_from_root a b c
up_or_stop b "$FB"
up_or_stop c "$FC"

# ---- the views ---------------------------------------------------------------
js() {   # HOST PYTHON_EXPR (d: that host's status --json)
	mh_exec "$1" meshctl status -f "$T/$1/mesh.ini" --json >"$T/st-$1.json" 2>/dev/null &&
	python3 -c "import json; d=json.load(open('$T/st-$1.json')); print($2)"
}
view() { js "$1" "' '.join(sorted('%s/%s@%s:%s' % (r['host'], r['id'], r['address'], r['port']) for r in d['registry']['remote']))"; }
# the polled ones without python (whose start alone can take a second on a
# loaded machine, longer than the TTL check's slack): status --json is one
# line ending with the registry, and a remote instance's object starts
# {"id":..,...,"host":.. with no brace between the two
st_line() { mh_exec "$1" meshctl status -f "$T/$1/mesh.ini" --json 2>/dev/null; }
view_hosts() {
	st_line "$1" | sed -n 's/.*"registry":{.*"remote":\[//p' |
		grep -o '{"id":"[^"]*"[^{}]*"host":"[^"]*"' |
		sed -n 's/^{"id":"\([^"]*\)".*"host":"\([^"]*\)"$/\2\/\1/p' | sort | tr '\n' ' ' | sed 's/ $//'
}
view_is() { [ "$(view_hosts "$1")" = "$2" ]; }
reg_is() { st_line "$1" | grep -q "\"registry\":{\"backend\":\"etcd\",\"state\":\"$2\""; }
ep_is() { [ "$(js "$1" "[i['endpoint'] for s in d['services'] for i in s['instances'] if i['id'] == '$2'][0]")" = "$3" ]; }
inport() { js "$1" "[i['inbound_port'] for s in d['services'] for i in s['instances'] if i['id'] == '$2'][0]"; }

for h in a b c; do
	check "host $h: registry up" wait_for 15 reg_is $h up
done
check "a's view: b's and c's api" wait_for 10 view_is a "b/api@v1.0 c/api@v1.0"
check "b's view: a's and c's api" wait_for 10 view_is b "a/api@v1.0 c/api@v1.0"
check "c's view: a's and b's api" wait_for 10 view_is c "a/api@v1.0 b/api@v1.0"
PB=$(inport b api@v1.0)
is "a sees b's api at b's address and b's inbound port" \
	"$(view a | tr ' ' '\n' | grep '^b/')" "b/api@v1.0@$B:$PB"

# ---- requests from a ------------------------------------------------------------
FRONT=http://127.0.0.1:24001
req() { mh_exec a curl -sS -m 3 "$FRONT/" 2>/dev/null; }
req_ok() { [[ $(req) == api@? ]]; }
# req_loop N OUT [STOP]: up to N requests from a (until the file STOP
# exists), one line each in OUT: the answer or "FAIL" (why in OUT.why)
req_loop() {
	local i r
	for ((i = 0; i < $1; i++)); do
		[ -n "${3:-}" ] && [ -e "$3" ] && break
		r=$(req)
		case $r in
		api@?) echo "$r" ;;
		*) echo FAIL; echo "$r" | head -c 200 >>"$2.why" ;;
		esac >>"$2"
		sleep 0.02
	done
}
# loop_start NAME: req_loop into $T/NAME.out in the background, until
# loop_stop NAME (at most 600 requests)
loop_start() {
	: >"$T/$1.out"
	rm -f "$T/$1.stop"
	spawn "$1-loop" req_loop 600 "$T/$1.out" "$T/$1.stop"
}
loop_stop() {
	local p
	p=$(cat "$T/$1-loop.pid")
	touch "$T/$1.stop"
	wait_for 10 bash -c "! kill -0 $p 2>/dev/null"
}
tally() { sort "$1" | uniq -c | awk '{print $2 "=" $1}' | tr '\n' ' ' | sed 's/ $//'; }
fails() { grep -c '^FAIL$' "$1"; }

check "a's front door answers" wait_for 10 req_ok
: >"$T/local.out"; req_loop 20 "$T/local.out"
is "local first: 20 requests from a, all on api@a" "$(tally "$T/local.out")" "api@a=20"

# a's api down: the wrapper idles after its app is killed, so a has no
# ready api and the requests spill to the other hosts
touch "$T/a-api.off"
APP_A=$(js a "[i['app_pid'] for s in d['services'] for i in s['instances'] if i['id'] == 'api@v1.0'][0]")
kill -9 "$APP_A"
check "a's api is down" wait_for 10 ep_is a api@v1.0 down
check "b's view loses a's api (a withdrew it)" wait_for 10 view_is b "c/api@v1.0"
: >"$T/spill.out"; req_loop 30 "$T/spill.out"
is "spill: 30 requests from a, none failed" "$(fails "$T/spill.out")" 0
check "spill: requests from a reach api@b (b's reply) [$(tally "$T/spill.out")]" grep -qx api@b "$T/spill.out"
check "spill: requests from a reach api@c" grep -qx api@c "$T/spill.out"
check "spill: only b's and c's answers" bash -c "! grep -vxE 'api@[bc]' '$T/spill.out'"

# b's inbound is on b's bridge address and speaks only mTLS
check "b's sidecar inbound listens on $B:$PB" mh_tcp_open a "$B" "$PB"
check "plain HTTP from a to b's inbound gets no answer from b's api" \
	bash -c "! ip netns exec $(_mh_ns a) curl -sS -m 3 http://$B:$PB/ | grep -q api@b"
printf 'GET / HTTP/1.1\r\nHost: api\r\n\r\n' >"$T/get.txt"
mh_exec a timeout 5 openssl s_client -connect "$B:$PB" -quiet -ign_eof <"$T/get.txt" >"$T/nocert.out" 2>&1
check "TLS without a client certificate gets no answer from b's api" bash -c "! grep -q api@b '$T/nocert.out'"
check "... but a TLS alert (certificate required)" grep -Eq 'alert (certificate required|handshake failure)' "$T/nocert.out"
check "nor does curl over TLS without a client certificate" \
	bash -c "! ip netns exec $(_mh_ns a) curl -sSk -m 3 https://$B:$PB/ 2>/dev/null | grep -q api@b"

# ---- c's meshd SIGKILLed ---------------------------------------------------------
# The data plane outlives meshd by design (a sidecar keeps serving), so
# SIGKILL of c's meshd alone stops nothing that serves: what must happen
# is that c's lease runs out, c leaves a's view within the TTL, and then
# a's sidecar stops sending to c although c would still answer -- so
# "every request lands on b" is the check that the view reached the
# sidecar.  Then c's sidecar and app die too (the rest of the host): a's
# requests must not notice.  Failures during the window are counted and
# reported; after c left the view none may fail.  (c's processes are
# killed rather than its cable pulled: with the link down, a request that
# a's sidecar sends on a pooled connection to c waits for an answer that
# never comes -- routes have no default timeout -- so curl's --max-time
# would count it, which tests the route's timeout, not the registry.)
C_PIDS=$(mh_exec c meshctl status -f "$FC" --json 2>/dev/null | pids)
MESHD_C=$(js c "d['mesh']['meshd_pid']")
loop_start kill
sleep 0.3
kill -9 "$MESHD_C"
t0=$(date +%s%N)
check "c's instances leave a's view within the TTL (3s) + 3s" wait_for 6 view_is a "b/api@v1.0"
echo "# c left a's view after $(( ($(date +%s%N) - t0) / 1000000 )) ms"
check "and b's view" wait_for 3 view_is b ""
sleep 1   # the view to a's sidecar
n_window=$(wc -l <"$T/kill.out")
sleep 1.5
for p in $C_PIDS; do [ "$p" != "$MESHD_C" ] && kill -9 "$p" 2>/dev/null; done
echo "# c's sidecar and app killed after request $(wc -l <"$T/kill.out")"
sleep 2
loop_stop kill
sed -n "1,${n_window}p" "$T/kill.out" >"$T/kill.before"
sed -n "$((n_window + 1)),\$p" "$T/kill.out" >"$T/kill.after"
echo "# requests while c left the view: $(wc -l <"$T/kill.before") [$(tally "$T/kill.before")]," \
	"failures $(fails "$T/kill.before")"
is "after c left a's view: $(wc -l <"$T/kill.after") requests, none failed" "$(fails "$T/kill.after")" 0
is "after c left a's view: every request on api@b" "$(tally "$T/kill.after" | sed 's/=.*//')" api@b

# ---- etcd away and back, c back meanwhile ----------------------------------------
loop_start etcd
sleep 0.3
check "etcd stopped" etcd_stop
check "a: registry down within 15 s" wait_for 15 reg_is a down
check "a keeps the last view" view_is a "b/api@v1.0"
# c comes back while etcd is away: its instance can only reach a's view
# through etcd once etcd is back
up_or_stop c "$FC"
sleep 2
check "c's instance is not in a's view while etcd is away" view_is a "b/api@v1.0"
check "etcd starts again (same data)" etcd_run
for h in a b c; do
	check "host $h: registry up again" wait_for 20 reg_is $h up
done
check "c is back in a's view" wait_for 10 view_is a "b/api@v1.0 c/api@v1.0"
check "c sees b" wait_for 10 view_is c "b/api@v1.0"
sleep 1
loop_stop etcd
is "etcd away and back: $(wc -l <"$T/etcd.out") requests from a, none failed [$(tally "$T/etcd.out")]" \
	"$(fails "$T/etcd.out")" 0
: >"$T/back.out"; req_loop 30 "$T/back.out"
check "requests from a reach api@c again [$(tally "$T/back.out")]" grep -qx api@c "$T/back.out"

# ---- etcd away again while a's api comes back: published once etcd is back
check "etcd stopped again" etcd_stop
check "a: registry down" wait_for 15 reg_is a down
rm -f "$T/a-api.off"
check "a's api is up again (etcd away)" wait_for 15 ep_is a api@v1.0 up
check "b's view has no a's api yet" view_is b "c/api@v1.0"
check "etcd starts again" etcd_run
check "a's api reaches b's view once etcd is back" wait_for 15 view_is b "a/api@v1.0 c/api@v1.0"
: >"$T/local2.out"; req_loop 10 "$T/local2.out"
is "local first again: 10 requests from a, all on api@a" "$(tally "$T/local2.out")" "api@a=10"

# ---- b's cable pulled: a request already on its way to b fails in bounded time --
# a's api off again, so a's requests go to b and c.  With b's link down,
# a request a's sidecar put on a pooled connection to b gets no ACK: the
# connection fails after 5 s (TCP_USER_TIMEOUT on connections to other
# hosts, upstream.h) instead of hanging; b loses etcd, so its lease runs
# out and it leaves a's view, after which nothing fails.
touch "$T/a-api.off"
APP_A=$(js a "[i['app_pid'] for s in d['services'] for i in s['instances'] if i['id'] == 'api@v1.0'][0]")
kill -9 "$APP_A"
check "a's api is down again" wait_for 10 ep_is a api@v1.0 down
: >"$T/pre.out"; req_loop 10 "$T/pre.out"
check "a's requests reach b before its cable is pulled [$(tally "$T/pre.out")]" grep -qx api@b "$T/pre.out"
# timed N OUT: up to N requests from a (curl allows 12 s each), at most 40 s
# in all; one line each: "<ms> <answer or FAIL>"
timed() {
	local i r t0 end=$((SECONDS + 40))
	for ((i = 0; i < $1 && SECONDS < end; i++)); do
		t0=$(date +%s%N)
		r=$(mh_exec a curl -sS -m 12 "$FRONT/" 2>/dev/null)
		[[ $r == api@? ]] || r=FAIL
		echo "$(( ($(date +%s%N) - t0) / 1000000 )) $r" >>"$2"
	done
}
mh_link b down
: >"$T/cable.out"
timed 15 "$T/cable.out"
check "b left a's view (its lease ran out)" wait_for 10 view_is a "c/api@v1.0"
max=$(sort -n "$T/cable.out" | tail -1 | cut -d' ' -f1)
echo "# cable pulled: $(wc -l <"$T/cable.out") requests, failures $(grep -c FAIL "$T/cable.out"), slowest ${max:-?} ms"
check "no request waited past the 5 s user timeout + 3 s (slowest ${max:-?} ms)" test "${max:-99999}" -lt 8000
: >"$T/after.out"; req_loop 20 "$T/after.out"
is "after b left a's view: 20 requests, none failed" "$(fails "$T/after.out")" 0
mh_link b up
check "b's link back: b is in a's view again" wait_for 20 view_is a "b/api@v1.0 c/api@v1.0"
rm -f "$T/a-api.off"
check "a's api is up again" wait_for 15 ep_is a api@v1.0 up

# ---- a join token of another mesh ------------------------------------------------
TOK=$(mh_exec a meshctl certs -f "$FA" --join-token 2>"$T/token.err" | head -1)
check "certs --join-token on a: meshtok1.mh.<id>.<secret>" grep -Eqx 'meshtok1\.mh\.[0-9a-f]+\.[0-9a-f]+' <<<"$TOK"
# a fourth host d in b's namespace, of mesh mh, never started
mkdir -p "$T/d"
sed "s/^host_name = b/host_name = d/; s#$T/b/state#$T/d/state#" "$FB" >"$T/d/mesh.ini"
BAD=$(sed 's/^meshtok1\.mh\./meshtok1.other./' <<<"$TOK")
mh_exec b timeout 40 meshctl join -f "$T/d/mesh.ini" --token "$BAD" >"$T/join1.out" 2>&1
is "join with the token's mesh name changed exits 1" "$?" 1
sed 's/^name = mh$/name = other/' "$T/d/mesh.ini" >"$T/d/other.ini"
mh_exec b timeout 40 meshctl join -f "$T/d/other.ini" --token "$TOK" >"$T/join2.out" 2>&1
is "a host of mesh \"other\" given mh's token: join exits 1" "$?" 1
check "neither wrote a host key" test ! -e "$T/d/state/ca/host.key"

# ---- leaving -------------------------------------------------------------------------
for h in a b c; do
	timeout 40 ip netns exec "$(_mh_ns "$h")" meshctl down -f "$T/$h/mesh.ini" >"$T/down-$h.log" 2>&1
	is "host $h: meshctl down exits 0" "$?" 0
done
check "meshd down revoked every lease: no instance key left" \
	test -z "$(ectl get --prefix --keys-only /meshctl/mh/ 2>/dev/null | sed '/^$/d')"
for h in a b c; do no_sanitizer_report "$T/$h/state/run/meshd.log"; done
check "etcd stopped" etcd_stop
left=""
for p in "${MH_PIDS[@]}"; do alive "$p" && left="$left $p"; done
is "no process of the mesh left" "$left" ""
mh_teardown
is "no namespace of this test left" "$(ip netns list | grep -c "^$MH_P")" 0
exit 0
