#!/bin/bash
# SPDX-License-Identifier: ISC
# cross scenario: the short end-to-end check `make check-cross` runs on each
# ARM build under qemu-user (scripts/cross.sh sets BUILD to the wrapper
# directory, so every meshctl, meshd, mesh-proxy and testapp here is the ARM
# binary, emulated).  It runs natively too: `bash tests/cross/scenario.sh`.
#
#   curl -> gateway (127.0.0.1:P+1) -> web -> api (2 instances)
#
# Asserts: the mesh comes up; the front door answers; web calls api through
# the sidecars (mTLS between them); a sidecar's inbound listener presents a
# certificate whose URI SAN is the SPIFFE ID of its service and refuses
# plain HTTP; a few hundred requests all succeed over keep-alive; the mesh
# goes down leaving no process behind.
# Ports: CROSS_PORT (default 25500) .. +99; scripts/cross.sh gives each
# architecture its own hundred within 25500-25999.
. "$(dirname "$0")/../integ/lib.sh"

P=${CROSS_PORT:-25500}
N=${CROSS_REQUESTS:-300}
arch=${CROSS_ARCH:-native}

cp "$MESH_APPS/testapp" "$T/testapp"
cat >"$T/mesh.ini" <<EOF
[mesh]
name = cross-$arch
port_base = $((P + 50))
trust_domain = cross.test

[service.gateway]
upstreams = web:$((P + 1))

[service.web]
command = $T/testapp --port \$PORT
port = $((P + 10))
upstreams = api

[service.api]
command = $T/testapp --port \$PORT
port = $((P + 20))
instances = 2
EOF

get() { curl -sS -m 20 "$@"; }
G=http://127.0.0.1:$((P + 1))

start=$(date +%s)
mesh_up "$T/mesh.ini" --timeout 120 >"$T/up.log" 2>&1
rc=$?
is "meshctl up -d exits 0 ($arch)" "$rc" 0
if [ "$rc" -ne 0 ]; then
	sed 's/^/#   /' "$T/up.log" | tail -30
	exit 1
fi
echo "# $arch: mesh ready in $(( $(date +%s) - start ))s"
check "front door accepts" wait_port $((P + 1)) 30
is "GET / through the gateway reaches web" "$(get $G/)" "web-v1-0"
r=$(get "$G/call?url=http://api/whoami")
check "web -> api through both sidecars (got '$r')" \
	grep -Eq '^200 name=api-v1-[01] port=[0-9]+ service=api version=v1 instance=[01]$' <<<"$r"

# ---- mTLS: find api's inbound listener among the sidecars' ports -------
spiffe=
for port in $(seq $((P + 50)) $((P + 99))); do
	port_open "$port" || continue
	san=$(timeout 10 openssl s_client -connect "127.0.0.1:$port" -verify_quiet </dev/null 2>/dev/null \
		| openssl x509 -noout -ext subjectAltName 2>/dev/null | tr -d ' ' | grep -o 'URI:spiffe://[^,]*')
	case "$san" in
	URI:spiffe://cross.test/svc/api)
		spiffe=$port
		break ;;
	esac
done
check "a sidecar listener presents spiffe://cross.test/svc/api" test -n "$spiffe"
if [ -n "$spiffe" ]; then
	code=$(curl -s -m 10 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$spiffe/" || true)
	is "plain HTTP to the inbound mTLS port gets no HTTP answer" "$code" "000"
	code=$(curl -sk -m 10 -o /dev/null -w '%{http_code}' "https://127.0.0.1:$spiffe/" || true)
	is "TLS without a client certificate gets no HTTP answer" "$code" "000"
fi

# ---- a few hundred requests, keep-alive, 100 URLs per curl ---------------
t0=$(date +%s%N)
: >"$T/codes"
sent=0
while [ "$sent" -lt "$N" ]; do
	urls=()
	for _ in $(seq 1 100); do
		[ "$sent" -ge "$N" ] && break
		urls+=("$G/call?url=http://api/count")
		sent=$((sent + 1))
	done
	curl -s -m 120 -o /dev/null -w '%{http_code}\n' "${urls[@]}" >>"$T/codes"
done
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "# $arch: $N requests (gateway -> web -> api, two mTLS hops each) in ${ms} ms"
is "$N requests through the mesh, all 200" "$(grep -c '^200$' "$T/codes")" "$N"

meshctl down -f "$T/mesh.ini" >"$T/down.log" 2>&1
is "meshctl down exits 0" "$?" 0
_meshes=()
sleep 0.5
is "no process left from this mesh" "$(leftovers "$T" | wc -l)" 0
exit 0
