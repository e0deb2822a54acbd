#!/bin/bash
# SPDX-License-Identifier: ISC
# meshd's etcd client (include/mesh/etcd.h) against a real etcd 3.4,
# through tests/apps/etcdtool, a script-driven client on a libev loop:
# puts seen by etcdctl under the client's lease; the watch's snapshot and
# etcdctl's puts and deletes in order; a SIGKILLed client's keys gone
# within TTL + 2 s; etcd stopped and restarted: the client reports it,
# comes back with its lease or a new one and its keys, and its watch
# catches up with what changed meanwhile (by events, or by a new snapshot
# when etcd compacted them away); failover past a dead endpoint; a graceful
# close revokes the lease; https with a CA and a client certificate.
# Its own etcd on 127.0.0.1 (client 23791, a second client port 23794 that
# the clients do not know, peer 23801; TLS 23793/23803).  Ports 23791-23803.
# Skips when no etcd is found (scripts/deps.sh test unpacks one into
# build/etcd/).
. "$(dirname "$0")/lib.sh"

. "$(dirname "$0")/etcd.bash"

C=http://127.0.0.1:23791
C2=http://127.0.0.1:23794     # known to etcdctl only: changes while the clients are cut off
P=/meshctl/itest/
ctl()  { "$ETCDCTL" --endpoints "$C2" --dial-timeout 2s --command-timeout 3s "$@"; }
val()  { ctl get --print-value-only "$P$1" 2>/dev/null; }
val_is() { [ "$(val "$1")" = "$2" ]; }
# the lease a key is under, as etcdctl's JSON gives it (decimal), "" if none
lease_of() { ctl get -w json "$P$1" 2>/dev/null | sed -n 's/.*"lease":\([0-9]*\).*/\1/p'; }
# the lease of the last "state up" of driver $1
last_lease() { sed -n 's/^state up lease=//p' "$T/$1.log" | tail -1; }
events()  { grep -E "^(put|del) $2 " "$T/$1.log" | awk '{ if ($1 == "put") print $1, $2, $3; else print $1, $2 }'; }
has()     { grep -q -- "$2" "$T/$1.log"; }
count()   { grep -c -- "$2" "$T/$1.log"; }
at_least() { [ "$(count "$1" "$2")" -ge "$3" ]; }

# etcd_run NAME CLIENT_URLS: the etcd of this test on its data dir
etcd_run() {
	spawn "$1" "$ETCD" --name itest --data-dir "$T/etcd.data" \
		--listen-client-urls "$2" --advertise-client-urls "${2%%,*}" \
		--listen-peer-urls http://127.0.0.1:23801 \
		--initial-advertise-peer-urls http://127.0.0.1:23801 \
		--initial-cluster itest=http://127.0.0.1:23801
	ETCD_PID=$(cat "$T/$1.pid")
	wait_for 20 ctl endpoint health
}
etcd_stop() {
	kill -9 "$ETCD_PID" 2>/dev/null
	wait "$ETCD_PID" 2>/dev/null
	wait_for 5 bash -c '! (exec 3<>/dev/tcp/127.0.0.1/23801) 2>/dev/null'
}

# driver NAME ARGS...: etcdtool reading commands from $T/NAME.in (fd kept open)
driver() {
	local n=$1; shift
	mkfifo "$T/$n.in"
	eval "exec {fd_$n}<>\"\$T/\$n.in\""
	# not through spawn: a background job's stdin would be /dev/null
	etcdtool "$@" <"$T/$n.in" >"$T/$n.log" 2>&1 &
	_pids+=($!)
	echo $! >"$T/$n.pid"
}
send() { local fd="fd_$1"; echo "$2" >&"${!fd}"; }

check "etcd starts (client $C, $C2)" etcd_run etcd1 "$C,$C2"

# ---- puts, the lease, the snapshot, the watch ------------------------------
ctl put "${P}before" b0 >/dev/null
driver a --endpoints "$C" --prefix "$P" --ttl 2
check "the client reports up with a lease" wait_for 10 has a '^state up lease=[1-9]'
check "its snapshot: reset, the key already there, synced" \
	wait_for 5 bash -c "grep -q '^reset ' '$T/a.log' && grep -q '^put before b0 ' '$T/a.log' && grep -q '^synced ' '$T/a.log'"
send a "put svc/a 10.0.0.1:8080 v1"
check "its put is seen by etcdctl" wait_for 5 val_is svc/a '10.0.0.1:8080 v1'
is "the key is under the client's lease" "$(lease_of svc/a)" "$(last_lease a)"

ctl put "${P}w1" x >/dev/null
ctl put "${P}w1" y >/dev/null
ctl del "${P}w1" >/dev/null
ctl put "${P}other/x" 1 >/dev/null
check "the watch sees etcdctl's puts and delete" wait_for 5 has a '^put other/x 1 '
is "... in order" "$(events a w1 | tr '\n' ,)" "put w1 x,put w1 y,del w1,"
revs=$(grep -E '^(put|del) w1 ' "$T/a.log" | awk '{print $NF}' | tr '\n' ' ')
check "... with rising revisions ($revs)" bash -c "printf '%s\n' $revs | sort -n -c -u"
check "the client saw its own put" has a '^put svc/a 10.0.0.1:8080 v1 '
ctl put /meshctl/elsewhere z >/dev/null
sleep 0.3
is "nothing outside the prefix" "$(count a elsewhere)" 0

# ---- a client SIGKILLed: its lease expires --------------------------------
driver b --endpoints "$C" --prefix "$P" --ttl 2 --no-watch
send b "put svc/b 10.0.0.2:8080"
check "a second client's put reaches the first one's watch" wait_for 10 has a '^put svc/b 10.0.0.2:8080 '
kill -9 "$(cat "$T/b.pid")"
wait "$(cat "$T/b.pid")" 2>/dev/null
t0=$(date +%s%N)
check "SIGKILLed with TTL 2: its key vanishes within 4 s (watch)" wait_for 4 has a '^del svc/b '
t1=$(date +%s%N)
echo "# the key went $(( (t1 - t0) / 1000000 )) ms after the kill"
is "... and for etcdctl" "$(val svc/b)" ""

# ---- etcd stopped, then back: events caught up ---------------------------
ctl put "${P}k0" gone-soon >/dev/null
check "k0 is seen before the outage" wait_for 5 has a '^put k0 gone-soon '
lease1=$(last_lease a)
kill -STOP "$ETCD_PID"
check "etcd SIGSTOPped: the client reports down" wait_for 10 has a '^state down '
down=$(grep '^state down ' "$T/a.log" | tail -1)
check "... naming the endpoint ($down)" bash -c "grep '^state down ' '$T/a.log' | tail -1 | grep -q -- '$C'"
etcd_stop
# back on the port the client does not know: changes it misses
check "etcd back on $C2 only" etcd_run etcd2 "$C2"
ctl put "${P}w2" during-outage >/dev/null
ctl del "${P}k0" >/dev/null
sleep 3      # the client's lease (TTL 2) may expire meanwhile
etcd_stop
check "etcd back on $C too" etcd_run etcd3 "$C,$C2"
check "the client is up again" wait_for 15 at_least a '^state up' 2
lease2=$(last_lease a)
echo "# lease before the outage $lease1, after $lease2"
check "its key is there again" wait_for 5 val_is svc/a '10.0.0.1:8080 v1'
is "... under its current lease" "$(lease_of svc/a)" "$lease2"
check "its watch caught up: the put made meanwhile" wait_for 5 has a '^put w2 during-outage '
check "... and the delete" wait_for 5 has a '^del k0 '
is "no new snapshot was needed" "$(count a '^reset ')" 1

# ---- etcd back after compacting what the client missed: a new snapshot -----
etcd_stop
check "the client reports down again" wait_for 10 at_least a '^state down' 2
check "etcd back on $C2 only" etcd_run etcd4 "$C2"
ctl put "${P}w3" compacted-away >/dev/null
ctl put "${P}w3" last >/dev/null
rev=$(ctl get -w json "${P}w3" | sed -n 's/.*"revision":\([0-9]*\).*/\1/p' | head -1)
check "etcdctl compacts to revision $rev" ctl compact "$rev"
etcd_stop
check "etcd back on $C too" etcd_run etcd5 "$C,$C2"
check "the client takes a new snapshot (a second reset)" wait_for 15 at_least a '^reset ' 2
check "... that has the key changed meanwhile" wait_for 5 has a '^put w3 last '
is "... and not the compacted value" "$(count a 'put w3 compacted-away')" 0
check "... and ends synced" wait_for 5 at_least a '^synced ' 2

# ---- etcd restored from a backup: behind the client, another cluster id ---
check "etcdctl saves a backup" ctl snapshot save "$T/backup.db"
ctl put "${P}after-backup" lost >/dev/null
check "the client sees a put made after the backup" wait_for 5 has a '^put after-backup lost '
etcd_stop
rm -rf "$T/etcd.data"
check "etcdctl restores the backup" "$ETCDCTL" snapshot restore "$T/backup.db" --name itest \
	--data-dir "$T/etcd.data" --initial-cluster itest=http://127.0.0.1:23801 \
	--initial-advertise-peer-urls http://127.0.0.1:23801
check "etcd back from the backup" etcd_run etcd6 "$C,$C2"
check "the client takes a new snapshot of the restored etcd" wait_for 15 at_least a '^reset ' 3
check "... which ends synced" wait_for 5 at_least a '^synced ' 3
is "... and has no key written after the backup" \
	"$(sed -n '/^reset /h; /^reset /!H; ${x; p}' "$T/a.log" | grep -c '^put after-backup ')" 0
check "its own key is there" wait_for 5 val_is svc/a '10.0.0.1:8080 v1'

# ---- failover: the first endpoint is dead ---------------------------------
driver c --endpoints "http://127.0.0.1:23792, $C" --prefix "$P" --ttl 5 --no-watch
send c "put svc/c via-second"
check "two endpoints, the first dead: up through the second" wait_for 10 has c '^state up '
check "... and its put is in etcd" wait_for 5 val_is svc/c via-second

# ---- graceful close: the lease is revoked --------------------------------
send a "exit"
check "exit: the client closes" wait_for 5 has a '^state closed'
is "... and its key is gone at once (revoked, not expired)" "$(val svc/a)" ""
not_alive() { ! alive "$1"; }
check "... and it exited" wait_for 5 not_alive "$(cat "$T/a.pid")"
send c "del svc/c"
check "a delete by the client" wait_for 5 val_is svc/c ""
send c "exit"
wait_for 5 has c '^state closed' || not_ok "the second client closes"

# ---- https: a CA, a server certificate, a client certificate ---------------
if command -v openssl >/dev/null; then
	K=$T/pki
	mkdir -p "$K"
	(
	cd "$K" || exit 1
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-subj /CN=itest-ca -keyout ca.key -out ca.pem
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=etcd \
		-keyout server.key -out server.csr
	printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n' >server.ext
	openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
		-extfile server.ext -out server.pem
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=meshd \
		-keyout client.key -out client.csr
	printf 'extendedKeyUsage=clientAuth\n' >client.ext
	openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
		-extfile client.ext -out client.pem
	# a CA that signed nothing here
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-subj /CN=other-ca -keyout other.key -out other.pem
	) >"$T/openssl.log" 2>&1 || not_ok "openssl makes the certificates" "$(tail -5 "$T/openssl.log")"
	S=https://127.0.0.1:23793
	spawn etcdtls "$ETCD" --name tls --data-dir "$T/etcd-tls.data" \
		--listen-client-urls "$S,https://127.0.0.2:23793" --advertise-client-urls "$S" \
		--listen-peer-urls http://127.0.0.1:23803 \
		--initial-advertise-peer-urls http://127.0.0.1:23803 \
		--initial-cluster tls=http://127.0.0.1:23803 \
		--cert-file "$K/server.pem" --key-file "$K/server.key" \
		--client-cert-auth --trusted-ca-file "$K/ca.pem"
	tctl() { "$ETCDCTL" --endpoints "$S" --cacert "$K/ca.pem" --cert "$K/client.pem" \
		--key "$K/client.key" --dial-timeout 2s --command-timeout 3s "$@"; }
	check "an etcd with TLS and client certificates starts" wait_for 20 tctl endpoint health
	driver d --endpoints "$S" --prefix "$P" --ttl 5 --ca "$K/ca.pem" \
		--cert "$K/client.pem" --key "$K/client.key"
	send d "put svc/d over-tls"
	check "https: up" wait_for 10 has d '^state up '
	tls_val() { [ "$(tctl get --print-value-only "$P$1" 2>/dev/null)" = "$2" ]; }
	check "https: the put is in etcd" wait_for 5 tls_val svc/d over-tls
	check "https: the watch sees it" wait_for 5 has d '^put svc/d over-tls '
	tctl put "${P}svc/e" from-etcdctl >/dev/null
	check "https: the watch sees etcdctl's put" wait_for 5 has d '^put svc/e from-etcdctl '
	driver e --endpoints "$S" --prefix "$P" --ttl 5 --ca "$K/ca.pem" --no-watch
	check "https without a client certificate: down, naming the endpoint" \
		wait_for 10 has e "^state down $S"
	driver f --endpoints "$S" --prefix "$P" --ttl 5 --ca "$K/other.pem" \
		--cert "$K/client.pem" --key "$K/client.key" --no-watch
	check "https with a CA that did not sign etcd's certificate: down" \
		wait_for 10 has f "^state down $S.*TLS"
	is "... and never up" "$(count f '^state up')" 0
	send e "exit"
	check "a client that never came up closes at once" wait_for 3 has e '^state closed'
	driver g --endpoints https://127.0.0.2:23793 --prefix "$P" --ttl 5 --ca "$K/ca.pem" \
		--cert "$K/client.pem" --key "$K/client.key" --no-watch
	check "https to an address the certificate does not name: down" \
		wait_for 10 has g '^state down https://127.0.0.2:23793.*TLS'
	driver h --endpoints https://localhost:23793 --prefix "$P" --ttl 5 --ca "$K/ca.pem" \
		--cert "$K/client.pem" --key "$K/client.key" --no-watch
	check "https to a name the certificate has (localhost): up" wait_for 10 has h '^state up '
	send h "exit"
	wait_for 5 has h '^state closed' || not_ok "the localhost client closes"
	send d "exit"
	check "https: a graceful close" wait_for 5 has d '^state closed'
	is "https: its key is gone" "$(tctl get --print-value-only "${P}svc/d" 2>/dev/null)" ""
else
	ok "# SKIP https: no openssl"
fi

for n in a b c d e f g h; do
	[ -f "$T/$n.log" ] || continue
	if grep -qE 'Sanitizer|runtime error:' "$T/$n.log"; then
		not_ok "no sanitizer report from client $n" "$(grep -m5 -E 'Sanitizer|runtime error:' "$T/$n.log")"
	fi
done
ok "no sanitizer report from the clients"
exit 0
