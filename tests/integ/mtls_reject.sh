#!/bin/bash
# SPDX-License-Identifier: ISC
# mtls_reject: the mTLS rejection matrix.  A mesh with `allow = web` on api
# (http) and db (tcp); the test makes its own certificates with openssl and
# talks straight to the callee sidecar's inbound port:
#
#   plaintext; TLS without a client certificate; a certificate from another
#   CA; expired; not yet valid; right CA but wrong trust domain; two URI
#   SANs; a leaf with CA:TRUE; TLS 1.1; an identity not in `allow` (403 with
#   `mesh-error: not allowed`; the tcp variant is closed).
#
# "Right CA" certificates are signed with the mesh's own CA key
# (<state_dir>/ca/ca.key) so only the property under test is wrong; a
# control certificate for web, made the same way with nothing wrong, must
# get through (200, tcp greeting).  For each case: nothing reaches the app
# (testapp's /count, read on the app port, moves only by our own /count)
# and the callee's tls_handshakes_failed or refused.not_allowed moves
# (meshctl status --json).  The allowed caller through the real mesh path
# (web's outbound proxy) gets 200.
# Ports: 27000-27099.
. "$(dirname "$0")/lib.sh"

TD=reject.test
API_APP=27020
DB_APP=27040
cp "$MESH_APPS/testapp" "$T/testapp"
cat >"$T/mesh.ini" <<EOF
[mesh]
name = mtls-reject
port_base = 27050
state_dir = $T/state
trust_domain = $TD

[service.web]
command = $T/testapp --port \$PORT
port = 27010
upstreams = api, db:27011

[service.other]
command = $T/testapp --port \$PORT
port = 27030
upstreams = api

[service.api]
command = $T/testapp --port \$PORT
port = $API_APP
allow = web

[service.db]
command = $T/testapp --tcp --port \$PORT
port = $DB_APP
protocol = tcp
allow = web
EOF

mesh_up_or_stop "$T/mesh.ini"

# status --json, one field of an instance: jq-like via python
st() { meshctl status -f "$T/mesh.ini" --json 2>/dev/null; }
inst() {  # SERVICE EXPR (python, `i` is the instance dict)
	st | python3 -c '
import json, sys
d = json.load(sys.stdin)
for s in d["services"]:
    if s["name"] == sys.argv[1]:
        i = s["instances"][0]
        v = eval(sys.argv[2])
        print("null" if v is None else v)
' "$1" "$2" 2>/dev/null
}
# the callee's rejection counters: "failed not_allowed" (or "- -" without stats)
counters() {
	inst "$1" '"%s %s" % (i["stats"]["tls_handshakes_failed"], i["stats"]["refused"]["not_allowed"]) if i.get("stats") else "- -"'
}

API_IN=$(inst api 'i["inbound_port"]')
DB_IN=$(inst db 'i["inbound_port"]')
WEB_OUT=$(inst web 'i["outbound_port"]')
check "api inbound port known ($API_IN)" grep -Eqx '[0-9]+' <<<"$API_IN"
check "db inbound port known ($DB_IN)" grep -Eqx '[0-9]+' <<<"$DB_IN"
check "api inbound accepts" wait_port "$API_IN" 10
check "db inbound accepts" wait_port "$DB_IN" 10
check "the api app answers on its own port" wait_for 10 curl -sf -m 2 "http://127.0.0.1:$API_APP/count"
check "the mesh CA exists" test -s "$T/state/ca/ca.key" -a -s "$T/state/ca/ca.crt"
# until CMD succeeds, at most SECS seconds whatever each try costs
within() {
	local end=$(( $(date +%s) + $1 )); shift
	until "$@" >/dev/null 2>&1; do
		[ "$(date +%s)" -ge "$end" ] && return 1
		sleep 0.2
	done
}
moved() {  # SERVICE OLD: the counters are readable and differ from OLD
	local now; now=$(counters "$1")
	grep -Eqx "[0-9]+ [0-9]+" <<<"$now" && [ "$now" != "$2" ]
}
check "api's sidecar keeps stats" within 10 moved api "- -"
check "db's sidecar keeps stats" within 10 moved db "- -"

# ---- certificates ------------------------------------------------------
P=$T/pki
mkdir -p "$P/new"
: >"$P/index.txt"
echo 1000 >"$P/serial"
cat >"$P/ca.cnf" <<EOF
[ca]
default_ca = c
[c]
database = $P/index.txt
new_certs_dir = $P/new
serial = $P/serial
default_md = sha256
policy = anything
unique_subject = no
copy_extensions = none
[anything]
commonName = supplied
EOF
SPIFFE=spiffe://$TD/svc
# extension sections, one per variant
cat >"$P/ext.cnf" <<EOF
[leaf]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth,clientAuth
subjectAltName = URI:$SPIFFE/web
[other_td]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth,clientAuth
subjectAltName = URI:spiffe://elsewhere.test/svc/web
[two_uris]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth,clientAuth
subjectAltName = URI:$SPIFFE/web, URI:$SPIFFE/other
[ca_true]
basicConstraints = critical,CA:TRUE
keyUsage = critical,digitalSignature,keyCertSign
extendedKeyUsage = serverAuth,clientAuth
subjectAltName = URI:$SPIFFE/web
[not_allowed]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth,clientAuth
subjectAltName = URI:$SPIFFE/other
EOF
utc() { date -u -d "$1" +%Y%m%d%H%M%SZ; }

# issue NAME CA_CRT CA_KEY SECTION START END: $P/NAME.crt, $P/NAME.key
issue() {
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$P/$1.key" 2>/dev/null &&
	openssl req -new -key "$P/$1.key" -subj "/CN=$1" -out "$P/$1.csr" 2>/dev/null &&
	openssl ca -batch -notext -config "$P/ca.cnf" -cert "$2" -keyfile "$3" -in "$P/$1.csr" \
	    -out "$P/$1.crt" -startdate "$5" -enddate "$6" -extfile "$P/ext.cnf" -extensions "$4" \
	    >"$P/$1.log" 2>&1
}
MCA=$T/state/ca/ca.crt
MKEY=$T/state/ca/ca.key
NOW=$(utc '-1 hour')
LATER=$(utc '+1 day')

openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$P/rogue.key" 2>/dev/null
openssl req -x509 -new -key "$P/rogue.key" -subj "/CN=rogue CA" -days 30 \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign" \
    -out "$P/rogue.crt" 2>/dev/null

check "cert: control (web, mesh CA)" issue good "$MCA" "$MKEY" leaf "$NOW" "$LATER"
check "cert: another CA" issue rogue_leaf "$P/rogue.crt" "$P/rogue.key" leaf "$NOW" "$LATER"
check "cert: expired" issue expired "$MCA" "$MKEY" leaf "$(utc '-3 days')" "$(utc '-2 days')"
check "cert: not yet valid" issue future "$MCA" "$MKEY" leaf "$(utc '+2 days')" "$(utc '+3 days')"
check "cert: wrong trust domain" issue other_td "$MCA" "$MKEY" other_td "$NOW" "$LATER"
check "cert: two URI SANs" issue two_uris "$MCA" "$MKEY" two_uris "$NOW" "$LATER"
check "cert: CA:TRUE leaf" issue ca_true "$MCA" "$MKEY" ca_true "$NOW" "$LATER"
check "cert: identity not in allow" issue not_allowed "$MCA" "$MKEY" not_allowed "$NOW" "$LATER"
check "control cert verifies against the mesh CA" \
	openssl verify -purpose sslclient -CAfile "$MCA" "$P/good.crt"
check "rogue cert does not verify against the mesh CA" \
	sh -c "! openssl verify -CAfile '$MCA' '$P/rogue_leaf.crt' >/dev/null 2>&1"
check "expired cert is expired" sh -c "! openssl x509 -in '$P/expired.crt' -noout -checkend 0"

# ---- the cases ---------------------------------------------------------
app_count() { curl -s -m 5 "http://127.0.0.1:$API_APP/count"; }

# https to api's inbound port; prints the status code (000: no HTTP answer)
https() {  # NAME [curl args]
	local n=$1; shift
	rm -f "$T/last.hdr"
	curl -sk -m 5 -o "$T/$n.body" -D "$T/last.hdr" -w '%{http_code}' "$@" \
	    "https://127.0.0.1:$API_IN/whoami" 2>"$T/$n.err"
}

# case NAME EXPECT(000|403) CMD...: run CMD (prints a status code); assert
# the code, that the app saw nothing, that a rejection counter moved.
case_http() {
	local n=$1 want=$2; shift 2
	local c0 c1 k0 k1 code
	c0=$(app_count); k0=$(counters api)
	code=$("$@")
	is "$n: answered $want" "$code" "$want"
	if [ "$want" = 403 ]; then
		check "$n: mesh-error: not allowed" grep -qi '^mesh-error: not allowed' "$T/last.hdr"
	fi
	c1=$(app_count)
	if [ -n "$c0" ] && [ "$c1" = "$((c0 + 1))" ]; then
		ok "$n: nothing reached the app"
	else
		not_ok "$n: nothing reached the app" "count before $c0, after $c1 (one is ours)"
	fi
	if within 3 moved api "$k0"; then
		k1=$(counters api)
		ok "$n: a rejection counter moved (failed not_allowed: $k0 -> $k1)"
	else
		not_ok "$n: a rejection counter moved" "failed not_allowed stayed at '$k0'"
	fi
}

plain() { curl -s -m 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$API_IN/whoami" 2>/dev/null; }
with() { local n=$1; https "$n" --cert "$P/$1.crt" --key "$P/$1.key"; }
tls11() {
	# a ClientHello for TLS 1.1 only, with a good certificate; the
	# client's own security level must allow 1.1 so the hello goes out
	timeout 10 openssl s_client -connect "127.0.0.1:$API_IN" -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0' \
	    -cert "$P/good.crt" -key "$P/good.key" -quiet -ign_eof \
	    <<<$'GET /whoami HTTP/1.1\r\nHost: api\r\nConnection: close\r\n\r\n' >"$T/tls11.out" 2>"$T/tls11.err"
	if grep -q '^HTTP/1' "$T/tls11.out"; then head -1 "$T/tls11.out" | cut -d' ' -f2; else echo 000; fi
}

# the control first: same tools, nothing wrong -> through
code=$(with good)
is "control: a good web certificate gets 200 on api's inbound port" "$code" 200

case_http "plaintext" 000 plain
case_http "TLS without a client certificate" 000 https nocert
case_http "certificate from another CA" 000 with rogue_leaf
case_http "expired certificate" 000 with expired
case_http "not yet valid certificate" 000 with future
case_http "right CA, wrong trust domain" 000 with other_td
case_http "two URI SANs" 000 with two_uris
case_http "leaf with CA:TRUE" 000 with ca_true
case_http "TLS 1.1" 000 tls11
case_http "identity not in allow" 403 with not_allowed

# ---- tcp service: not allowed is closed, the control gets the greeting --
tcp_try() {  # NAME: what db's inbound port sends back to a TLS client with $P/NAME.crt
	timeout 10 python3 - "$DB_IN" "$P/$1.crt" "$P/$1.key" 2>"$T/tcp_$1.err" <<'PY'
import socket, ssl, sys, time
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
ctx.load_cert_chain(sys.argv[2], sys.argv[3])
got = b""
try:
    s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=3))
    s.sendall(b"ping\n")
    end = time.time() + 3
    while b"ping" not in got and time.time() < end:
        d = s.recv(4096)
        if not d:
            break
        got += d
except (OSError, ssl.SSLError) as e:
    print("closed: %s" % e, file=sys.stderr)
sys.stdout.write(got.decode("latin-1"))
PY
}
out=$(tcp_try good)
check "tcp control: the db greeting and echo come back" grep -q 'ping' <<<"$out"
k0=$(counters db)
out=$(tcp_try not_allowed)
is "tcp: identity not in allow gets no byte from the app" "$out" ""
if within 3 moved db "$k0"; then
	ok "tcp: a rejection counter moved ($k0 -> $(counters db))"
else
	not_ok "tcp: a rejection counter moved" "failed not_allowed stayed at '$k0'"
fi

# ---- the real mesh path ----------------------------------------------------
is "allowed caller web -> api through web's outbound proxy: 200" \
	"$(curl -s -m 10 -o /dev/null -w '%{http_code}' -x "http://127.0.0.1:$WEB_OUT" http://api/whoami)" 200
r=$(curl -s -m 10 "http://127.0.0.1:27030/call?url=http://api/whoami")
check "other -> api through the mesh is refused 403 (other's app saw: $(head -c 60 <<<"$r"))" \
	grep -q '^403' <<<"$r"
# a server-speaks-first protocol (like MySQL or SMTP): the greeting must come
# through web's NAME:PORT listener before the client writes anything
timeout 15 python3 - >"$T/listen_tcp.out" 2>&1 <<'PY'
import socket
s = socket.create_connection(("127.0.0.1", 27011), timeout=5)
try:
    print("greeting=" + s.recv(64).decode().strip())
except OSError as e:
    print("greeting=none (%s)" % e)
s.sendall(b"hello\n")
got = b""
try:
    while b"hello" not in got:
        d = s.recv(64)
        if not d:
            break
        got += d
except OSError:
    pass
print("echo=" + ("yes" if b"hello" in got else "no"))
PY
is "tcp through web's db:27011 listener: the greeting before the client writes" \
	"$(sed -n 's/^greeting=//p' "$T/listen_tcp.out")" "db-v1-0"
is "tcp through web's db:27011 listener: echo" "$(sed -n 's/^echo=//p' "$T/listen_tcp.out")" "yes"

mesh_down_checked "$T/mesh.ini" "$T/state/run/meshd.log"
exit 0
