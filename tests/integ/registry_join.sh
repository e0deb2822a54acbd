#!/bin/bash
# SPDX-License-Identifier: ISC
# `meshctl join` (include/mesh/jtok.h, mjoin.h) against a real etcd 3.4: a
# root mesh R (registry = etcd, host r) mints a token with `meshctl certs
# --join-token`; a second mesh dir J (same mesh name, host j), not up,
# joins with it: host.key (0600), host.crt, root.crt in J's ca/ (0700),
# host.crt an intermediate CA that `openssl verify` accepts under R's
# ca.crt.  Refused: the same token again (used, by R), a token naming
# another mesh (locally), a wrong secret (bad MAC, by R), an expired
# token (by R), join while meshd runs, join over an existing CA, a token
# from a mesh without registry = etcd; with R stopped, join times out
# naming the endpoint and the mesh.
# Ports: 23950-23989 (etcd client 23950, peer 23951; R's ports from 23960).
# Skips when no etcd is found.
. "$(dirname "$0")/lib.sh"

. "$(dirname "$0")/etcd.bash"

C=http://127.0.0.1:23950
M=joinmesh
ctl() { "$ETCDCTL" --endpoints "$C" --dial-timeout 2s --command-timeout 3s "$@"; }
join_keys() { ctl get --prefix --keys-only "/meshctl/$M/join/" 2>/dev/null | sed '/^$/d' | tr '\n' ' '; }

etcd_spawn jmesh "$C" http://127.0.0.1:23951
check "etcd starts (client $C)" wait_for 20 ctl endpoint health

cp "$MESH_APPS/testapp" "$T/testapp"
# mini NAME HOST [REGISTRY]: a mesh dir $T/NAME with one app service
mini() {
	mkdir -p "$T/$1"
	{
		echo "[mesh]"
		echo "name = ${4:-$M}"
		echo "port_base = $3"
		if [ "${5:-etcd}" = etcd ]; then
			echo "registry = etcd"
			echo "etcd = $C"
			echo "host_address = 127.0.0.1"
			echo "host_name = $2"
			echo "registry_ttl = 2s"
		fi
		echo
		echo "[service.web]"
		echo "command = $T/testapp --port \$PORT"
		echo "port = $(($3 + 5))"
	} >"$T/$1/mesh.ini"
}
mini R r 23960
mini J j 23970
mini J2 j2 23975
mini N n 23980 other none
R=$T/R/mesh.ini J=$T/J/mesh.ini J2=$T/J2/mesh.ini

mesh_up_or_stop "$R"
meshctl certs --join-token -f "$R" >"$T/tok.out" 2>"$T/tok.err"
is "certs --join-token exits 0" "$?" 0
TOK=$(head -1 "$T/tok.out")
check "the token's shape: meshtok1.$M.<16 hex>.<64 hex>" \
	grep -Eqx "meshtok1\.$M\.[0-9a-f]{16}\.[0-9a-f]{64}" <<<"$TOK"
check "a second line says how to use it" grep -q 'meshctl join --token' "$T/tok.out"
check "the tokens file is 0600" test "$(stat -c %a "$T/R/.mesh/join-tokens")" = 600
check "the secret is not in meshd's log" bash -c "! grep -q '${TOK##*.}' '$T/R/.mesh/run/meshd.log'"

# ---- a host joins ---------------------------------------------------------------
timeout 40 meshctl join --token "$TOK" -f "$J" >"$T/join.out" 2>"$T/join.err"
is "join exits 0" "$?" 0
check "join says what it did" grep -Eq "^joined mesh $M as host j; intermediate CA serial [0-9a-f]+, root serial [0-9a-f]+$" "$T/join.out"
CA=$T/J/.mesh/ca
is "host.key is 0600" "$(stat -c %a "$CA/host.key" 2>/dev/null)" 600
is "the ca dir is 0700" "$(stat -c %a "$CA" 2>/dev/null)" 700
check "host.crt and root.crt are there, no ca.key" bash -c "test -s '$CA/host.crt' && test -s '$CA/root.crt' && ! test -e '$CA/ca.key'"
check "host.key is an EC key" grep -q 'BEGIN EC PRIVATE KEY' "$CA/host.key"
check "host.crt verifies against R's ca.crt (openssl verify)" \
	openssl verify -CAfile "$T/R/.mesh/ca/ca.crt" "$CA/host.crt"
check "root.crt is R's ca.crt" cmp "$CA/root.crt" "$T/R/.mesh/ca/ca.crt"
openssl x509 -in "$CA/host.crt" -noout -text >"$T/host.txt" 2>&1
check "host.crt: CA:TRUE, pathlen:0" grep -q 'CA:TRUE, pathlen:0' "$T/host.txt"
check "host.crt: keyCertSign and cRLSign" grep -q 'Certificate Sign, CRL Sign' "$T/host.txt"
check "host.crt: subject names host j and the mesh" grep -Eq "Subject: .*CN ?= ?j intermediate" "$T/host.txt"
check "host.crt's key is host.key's" bash -c "[ \"\$(openssl x509 -in '$CA/host.crt' -noout -pubkey)\" = \"\$(openssl pkey -in '$CA/host.key' -pubout)\" ]"
check "R logged the join" grep -q 'join: host j joined with token' "$T/R/.mesh/run/meshd.log"
check "the join keys are gone from etcd" wait_for 10 bash -c "[ -z \"\$(\"$ETCDCTL\" --endpoints $C get --prefix --keys-only /meshctl/$M/join/ 2>/dev/null | sed '/^\$/d')\" ]"

timeout 40 meshctl join --token "$TOK" -f "$J" >"$T/again.out" 2>&1
is "join again on J: refused (exit 1)" "$?" 1
check "... saying host.crt exists" grep -q 'host.crt exists' "$T/again.out"

# ---- refusals -------------------------------------------------------------------
timeout 40 meshctl join --token "$TOK" -f "$J2" >"$T/used.out" 2>&1
is "the same token from J2: exit 1" "$?" 1
check "... refused by R: already used" grep -q "refused by the root host of mesh $M: join token [0-9a-f]* already used" "$T/used.out"
check "R logged the refusal" grep -q 'join: host j2 refused: join token .* already used' "$T/R/.mesh/run/meshd.log"
check "no CA files were written for J2" bash -c "! ls '$T/J2/.mesh/ca/'*.crt 2>/dev/null"

OTHER=$(sed "s/^meshtok1\.$M\./meshtok1.other./" <<<"$TOK")
timeout 10 meshctl join --token "$OTHER" -f "$J2" >"$T/other.out" 2>&1
is "a token of another mesh: exit 1" "$?" 1
check "... refused locally, naming both meshes" grep -q "token is for mesh other; $J2 names mesh $M" "$T/other.out"

meshctl certs --join-token -f "$R" 2>/dev/null | head -1 >"$T/tok2"
TOK2=$(cat "$T/tok2")
last=${TOK2: -1}; [ "$last" = 0 ] && flip=1 || flip=0
BAD=${TOK2%?}$flip
timeout 40 meshctl join --token "$BAD" -f "$J2" >"$T/mac.out" 2>&1
is "a wrong secret: exit 1" "$?" 1
check "... refused by R: bad MAC, relayed" grep -q "refused by the root host of mesh $M: bad MAC" "$T/mac.out"

meshctl certs --join-token --ttl 1s -f "$R" 2>/dev/null | head -1 >"$T/tok3"
sleep 2
timeout 40 meshctl join --token "$(cat "$T/tok3")" -f "$J2" >"$T/exp.out" 2>&1
is "an expired token: exit 1" "$?" 1
check "... refused by R: expired" grep -q "join token [0-9a-f]* expired" "$T/exp.out"

timeout 10 meshctl join --token "$TOK2" -f "$R" >"$T/running.out" 2>&1
is "join while this mesh's meshd runs: exit 1" "$?" 1
check "... saying it is running" grep -q "is running" "$T/running.out"

mini J3 j3 23985
mkdir -p "$T/J3/.mesh/ca" && touch "$T/J3/.mesh/ca/ca.key"
timeout 10 meshctl join --token "$TOK2" -f "$T/J3/mesh.ini" >"$T/own.out" 2>&1
is "join over a root CA of its own: exit 1" "$?" 1
check "... naming ca.key" grep -q "ca.key exists" "$T/own.out"

meshctl certs --join-token -f "$T/N/mesh.ini" >"$T/noreg.out" 2>&1
is "certs --join-token without registry = etcd: exit 1" "$?" 1
check "... saying so" grep -q "registry = etcd" "$T/noreg.out"
meshctl certs --join-token --ttl 25h -f "$R" >"$T/ttl.out" 2>&1
is "--ttl over 24h: usage error" "$?" 2
timeout 10 meshctl join --token garbage -f "$J2" >"$T/syntax.out" 2>&1
is "a malformed token: exit 1" "$?" 1
check "... saying what a token looks like" grep -q "not a join token" "$T/syntax.out"

# ---- the root host is away ------------------------------------------------------
mesh_down_checked "$R"
start=$(date +%s)
timeout 20 meshctl join --token "$TOK2" -f "$J2" --timeout 3s >"$T/timeout.out" 2>&1
rc=$? took=$(($(date +%s) - start))
is "no answer: exit 1" "$rc" 1
check "... within the timeout (3 s, took ${took}s)" test "$took" -le 6
check "... naming the endpoint and the mesh" grep -q "mesh $M through etcd $C" "$T/timeout.out"
check "the request left with meshctl (its lease revoked)" wait_for 5 bash -c "[ -z \"\$(\"$ETCDCTL\" --endpoints $C get --prefix --keys-only /meshctl/$M/join/ 2>/dev/null | sed '/^\$/d')\" ]"
# meshctl's own output (under SANITIZE=... its reports go there)
no_sanitizer_report "$T"/*.out "$T"/*.err
exit 0
