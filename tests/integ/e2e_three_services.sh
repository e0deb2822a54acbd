#!/bin/bash
# SPDX-License-Identifier: ISC
# e2e_three_services: a real mesh started by meshd from `command`:
#
#   curl -> gateway (pure client, 127.0.0.1:22101) -> web -> api (2 instances,
#   round-robin) -> users
#
# Asserts: the front door works; the environment each app sees (PORT,
# MESH_SERVICE, MESH_VERSION, MESH_INSTANCE, http_proxy/HTTP_PROXY,
# no_proxy/NO_PROXY, MESH_UPSTREAM_<NAME>); an app calls another through its
# sidecar with the injected http_proxy, absolute-form (testapp /call) and
# origin-form with Host, for the authorities `api`, `api:80` and `api.mesh`;
# a two-hop call web -> api -> users; round-robin reaches both instances; a
# NAME:PORT listener; an unknown service is refused with a reason.
# Ports: 22100-22199.
. "$(dirname "$0")/lib.sh"

cp "$MESH_APPS/testapp" "$T/testapp"    # so pgrep on $T finds the apps
cat >"$T/mesh.ini" <<EOF
[mesh]
name = e2e-three
port_base = 22150

[service.gateway]
upstreams = web:22101

[service.web]
command = $T/testapp --port \$PORT
port = 22110
upstreams = api, users:22130

[service.api]
command = $T/testapp --port \$PORT
port = 22111
instances = 2
upstreams = users

[service.users]
command = $T/testapp --port \$PORT
port = 22120

[route.api]
lb = round-robin
EOF

get() { curl -sS -m 10 "$@"; }
G=http://127.0.0.1:22101

mesh_up_or_stop "$T/mesh.ini"
check "front door 127.0.0.1:22101 accepts" wait_port 22101 10

# ---- through the front door: gateway sidecar -> web sidecar -> web
is "GET / through the gateway reaches web" "$(get $G/)" "web-v1-0"
is "web whoami" "$(get $G/whoami)" \
	"name=web-v1-0 port=22110 service=web version=v1 instance=0"

# ---- the environment web sees
is "env PORT"          "$(get $G/env/PORT)" 22110
is "env MESH_SERVICE"  "$(get $G/env/MESH_SERVICE)" web
is "env MESH_VERSION"  "$(get $G/env/MESH_VERSION)" v1
is "env MESH_INSTANCE" "$(get $G/env/MESH_INSTANCE)" 0
hp=$(get $G/env/http_proxy)
check "env http_proxy is http://127.0.0.1:PORT (got '$hp')" \
	grep -Eqx 'http://127\.0\.0\.1:[0-9]+/?' <<<"$hp"
is "env HTTP_PROXY equals http_proxy" "$(get $G/env/HTTP_PROXY)" "$hp"
is "env no_proxy" "$(get $G/env/no_proxy)" "localhost,127.0.0.1,::1"
is "env NO_PROXY" "$(get $G/env/NO_PROXY)" "localhost,127.0.0.1,::1"
is "env MESH_UPSTREAM_USERS" "$(get $G/env/MESH_UPSTREAM_USERS)" "127.0.0.1:22130"
is "no MESH_UPSTREAM_API (api has no NAME:PORT listener)" \
	"$(get -o /dev/null -w '%{http_code}' $G/env/MESH_UPSTREAM_API)" 404

# ---- web calls api through its own sidecar (absolute-form, testapp /call)
want='^200 name=api-v1-([01]) port=2211[12] service=api version=v1 instance=\1$'
for a in api api:80 api.mesh; do
	r=$(get "$G/call?url=http://$a/whoami")
	check "web -> http://$a/whoami through web's sidecar (got '$r')" grep -Eq "$want" <<<"$r"
done

# the env api's instances see: PORT = port + instance
for i in 1 2 3 4; do
	get "$G/call?url=http://api/whoami" >>"$T/api-whoami"
	echo >>"$T/api-whoami"
done
check "api instance i listens on 22111+i" awk '
	/^200 / { n++; split($2, a, "="); split($3, p, "="); split($6, x, "=");
	          if (p[2] != 22111 + x[2]) bad++ }
	END { exit !(n == 4 && bad == 0) }' "$T/api-whoami"

# ---- round-robin over the two api instances: both answer
: >"$T/rr"
for i in 1 2 3 4 5 6 7 8; do get "$G/call?url=http://api/" >>"$T/rr"; echo >>"$T/rr"; done
seen=$(grep -o 'api-v1-[0-9]*' "$T/rr" | sort | uniq -c | awk '{printf "%s:%s ", $2, $1}')
echo "# round-robin over api: $seen"
is "round-robin reaches both api instances" \
	"$(grep -o 'api-v1-[0-9]*' "$T/rr" | sort -u | tr '\n' ' ')" "api-v1-0 api-v1-1 "
is "round-robin alternates evenly (4 each of 8)" \
	"$(grep -c 'api-v1-0' "$T/rr")/$(grep -c 'api-v1-1' "$T/rr")" "4/4"

# ---- the same sidecar proxy port used directly, as any HTTP client would
pp=${hp#http://127.0.0.1:}; pp=${pp%/}
r=$(get -H 'Host: api' "http://127.0.0.1:$pp/whoami")
check "origin-form with Host: api on web's proxy port (got '$r')" grep -Eq '^name=api-v1-[01] ' <<<"$r"
r=$(get -H 'Host: api:80' "http://127.0.0.1:$pp/whoami")
check "origin-form with Host: api:80 (got '$r')" grep -Eq '^name=api-v1-[01] ' <<<"$r"
r=$(get -H 'Host: api.mesh' "http://127.0.0.1:$pp/whoami")
check "origin-form with Host: api.mesh (got '$r')" grep -Eq '^name=api-v1-[01] ' <<<"$r"
r=$(get -x "http://127.0.0.1:$pp" "http://api.mesh/whoami")
check "absolute-form http://api.mesh/ via curl -x (got '$r')" grep -Eq '^name=api-v1-[01] ' <<<"$r"
r=$(get -x "http://127.0.0.1:$pp" -X POST --data-binary 'through the proxy' "http://api/echo")
is "POST body through web's proxy port to api" "$r" "through the proxy"

# ---- two hops: web -> api -> users, each through its own sidecar
r=$(get "$G/call?url=http://api/call?url=http://users/whoami")
is "web -> api -> users" "$r" \
	"200 200 name=users-v1-0 port=22120 service=users version=v1 instance=0"

# ---- web's NAME:PORT listener for users (instance 0: port 22130 + 0)
is "users through web's listener 127.0.0.1:22130" "$(get http://127.0.0.1:22130/)" "users-v1-0"

# ---- refusals carry a status and a reason
code=$(get -o "$T/nosuch.body" -D "$T/nosuch.hdr" -w '%{http_code}' -x "http://127.0.0.1:$pp" http://nosuch/)
check "unknown service refused with 4xx/5xx (got $code)" test "$code" -ge 400
check "refusal names its reason in mesh-error:" grep -qi '^mesh-error: ' "$T/nosuch.hdr"
code=$(get -o /dev/null -w '%{http_code}' "$G/status/503")
is "an app's own 503 passes through unchanged" "$code" 503
code=$(get -o /dev/null -w '%{http_code}' "$G/nope")
is "an app's own 404 passes through unchanged" "$code" 404

# ---- status lists every instance with a live pid
meshctl status -f "$T/mesh.ini" --json >"$T/status.json" 2>"$T/status.err"
is "meshctl status --json exits 0" "$?" 0
check "status --json is one JSON document" python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$T/status.json"
for s in gateway web api users; do
	check "status --json names service $s" grep -q "\"$s\"" "$T/status.json"
done

# ---- between sidecars there is no plaintext path: web's inbound port
# speaks TLS (1.3 when offered), and serves nothing without a mesh client cert
inb=$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
for s in d.get("services", []):
    for i in s.get("instances", []):
        if s.get("name") == "web" and i.get("inbound_port"):
            print(i["inbound_port"])' "$T/status.json" 2>/dev/null | head -1)
check "status --json gives web's inbound port (${inb:-none})" test -n "$inb"
if [ -n "$inb" ]; then
	r=$(timeout 5 python3 -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=3)
s.sendall(b"GET / HTTP/1.1\r\nHost: web\r\n\r\n")
try:
    print(s.recv(200).decode("latin-1"))
except Exception as e:
    print("error", e)' "$inb" 2>&1)
	if grep -q '^HTTP/' <<<"$r"; then
		not_ok "plaintext HTTP to web's inbound port gets no HTTP answer" "got: $(head -1 <<<"$r")"
	else
		ok "plaintext HTTP to web's inbound port gets no HTTP answer"
	fi
	timeout 10 openssl s_client -connect "127.0.0.1:$inb" -tls1_3 -ign_eof \
		<<<$'GET / HTTP/1.1\r\nHost: web\r\nConnection: close\r\n\r\n' >"$T/sclient.out" 2>&1
	check "web's inbound port negotiates TLSv1.3" grep -q 'TLSv1.3' "$T/sclient.out"
	check "without a client certificate nothing is served" \
		bash -c '! grep -q "^HTTP/1.1 200" "$1"' _ "$T/sclient.out"
fi

n=$(pgrep -f "^$T/testapp" | wc -l)
is "exactly 4 app processes run (web, api x2, users)" "$n" 4

mesh_down_checked "$T/mesh.ini"
exit 0
