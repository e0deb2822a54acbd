#!/bin/bash
# SPDX-License-Identifier: ISC
# mtls_capture: no plaintext HTTP between sidecars.  tcpdump captures on lo
# the callee's inbound port (sidecar <-> sidecar) and, as a control that
# the capture sees payloads at all, the callee's app port (sidecar <-> app,
# plaintext by design) while HTTP and tcp traffic flows web -> api / db.
# Asserts: the app port shows "GET /" and "HTTP/1.1" (the control); the
# inbound ports show neither, nor the tcp payload, and carry TLS records
# (handshake 0x16 and application data 0x17, version 0x03 0x03).
# Skips (ok # SKIP) when tcpdump is missing or cannot capture here.
# Ports: 27100-27199 (27199: a closed port, the capture's sentinel).
. "$(dirname "$0")/lib.sh"

if ! command -v tcpdump >/dev/null 2>&1; then
	echo "ok - # SKIP tcpdump not installed (scripts/deps.sh test installs it)"
	exit 0
fi

cp "$MESH_APPS/testapp" "$T/testapp"
cat >"$T/mesh.ini" <<EOF
[mesh]
name = mtls-capture
port_base = 27150
state_dir = $T/state

[service.web]
command = $T/testapp --port \$PORT
port = 27110
upstreams = api, db:27111

[service.api]
command = $T/testapp --port \$PORT
port = 27120
allow = web

[service.db]
command = $T/testapp --tcp --port \$PORT
port = 27140
protocol = tcp
EOF

mesh_up_or_stop "$T/mesh.ini"
port_of() {  # SERVICE FIELD
	meshctl status -f "$T/mesh.ini" --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
print([i for s in d["services"] if s["name"] == sys.argv[1] for i in s["instances"]][0][sys.argv[2]])' "$1" "$2"
}
API_IN=$(port_of api inbound_port)
DB_IN=$(port_of db inbound_port)
WEB_OUT=$(port_of web outbound_port)
check "api inbound port known ($API_IN)" grep -Eqx '[0-9]+' <<<"$API_IN"
check "db inbound port known ($DB_IN)" grep -Eqx '[0-9]+' <<<"$DB_IN"
check "web reaches api before the capture" \
	wait_for 15 curl -sf -m 2 "http://127.0.0.1:27110/call?url=http://api/whoami"

# -U: each packet written at once; -s 0: whole payloads
spawn tcpdump tcpdump -i lo -nn -s 0 -U -w "$T/cap.pcap" \
	"tcp and (port $API_IN or port $DB_IN or port 27120 or port 27199)"
if ! wait_for 10 grep -q 'listening on' "$T/tcpdump.log"; then
	echo "ok - # SKIP tcpdump cannot capture here: $(head -c 200 "$T/tcpdump.log")"
	exit 0
fi

# traffic: HTTP web -> api (a marker in the path and in a POST body), tcp web -> db
for i in 1 2 3; do
	curl -s -m 5 -o /dev/null "http://127.0.0.1:27110/call?url=http://api/whoami%3Fmarker=PLAINMARKER$i"
done
code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' -x "http://127.0.0.1:$WEB_OUT" \
	-d 'BODYMARKER=1' http://api/count)
tcp_out=$(timeout 5 python3 -c '
import socket
s = socket.create_connection(("127.0.0.1", 27111), timeout=4)
s.sendall(b"TCPMARKER\n")
got = b""
while b"TCPMARKER" not in got:
    d = s.recv(4096)
    if not d:
        break
    got += d
print(got.decode("latin-1").replace("\n", " "))' 2>&1)
check "tcp web -> db echoed through the mesh ($tcp_out)" grep -q TCPMARKER <<<"$tcp_out"
# A sentinel: a connection attempt to 27199 (nothing listens there) comes
# after every packet above; once it is in the file, so are they.
sentinel() {
	(exec 3<>/dev/tcp/127.0.0.1/27199) 2>/dev/null
	[ "$(tcpdump -nn -r "$T/cap.pcap" port 27199 2>/dev/null | wc -l)" -gt 0 ]
}
check "the capture caught up (sentinel seen)" wait_for 10 sentinel
kill -INT "$(cat "$T/tcpdump.pid")" 2>/dev/null
wait_for 5 sh -c "! kill -0 $(cat "$T/tcpdump.pid") 2>/dev/null"

# Split the capture by port: payload bytes seen on the app port, on the
# inbound ports, and whether TLS records start segments there.
python3 - "$T/cap.pcap" "$API_IN" "$DB_IN" 27120 >"$T/cap.txt" 2>&1 <<'PY'
import struct, sys
path, api_in, db_in, app = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
data = open(path, "rb").read()
magic = struct.unpack("<I", data[:4])[0]
end = "<" if magic in (0xa1b2c3d4, 0xa1b23c4d) else ">"
link = struct.unpack(end + "I", data[20:24])[0]
off, payload = 24, {"app": b"", "inbound": b""}
tls_hs = tls_app = segs = 0
while off + 16 <= len(data):
    _, _, incl, _ = struct.unpack(end + "IIII", data[off:off + 16])
    pkt = data[off + 16:off + 16 + incl]
    off += 16 + incl
    if link == 1:            # Ethernet
        pkt = pkt[14:]
    elif link == 113:        # Linux cooked
        pkt = pkt[16:]
    elif link == 276:        # Linux cooked v2
        pkt = pkt[20:]
    if not pkt or pkt[0] >> 4 != 4:
        continue
    ihl = (pkt[0] & 15) * 4
    tcp = pkt[ihl:]
    sport, dport = struct.unpack(">HH", tcp[:4])
    body = tcp[(tcp[12] >> 4) * 4:]
    if not body:
        continue
    if app in (sport, dport):
        payload["app"] += body
    elif sport in (api_in, db_in) or dport in (api_in, db_in):
        segs += 1
        payload["inbound"] += body
        if body[:3] == b"\x16\x03\x03" or body[:3] == b"\x16\x03\x01":
            tls_hs += 1
        if b"\x17\x03\x03" in body:
            tls_app += 1
for k, v in payload.items():
    print("%s_bytes=%d" % (k, len(v)))
    for m in (b"GET /", b"HTTP/1.1", b"PLAINMARKER", b"BODYMARKER", b"TCPMARKER"):
        print("%s_%s=%d" % (k, m.decode().replace(" ", "").replace("/", "").replace(".", ""), v.count(m)))
print("inbound_segments=%d" % segs)
print("tls_handshake_records=%d" % tls_hs)
print("tls_appdata_segments=%d" % tls_app)
PY
v() { sed -n "s/^$1=//p" "$T/cap.txt"; }
sed 's/^/# /' "$T/cap.txt"
is "POST through web's outbound proxy: 200" "$code" 200
check "control: the capture saw plaintext on the app port (GET /)" test "$(v app_GET)" -gt 0
check "control: the capture saw the marker on the app port" test "$(v app_PLAINMARKER)" -gt 0
check "traffic crossed the inbound ports" test "$(v inbound_bytes)" -gt 0
is "no 'GET /' between sidecars" "$(v inbound_GET)" 0
is "no 'HTTP/1.1' between sidecars" "$(v inbound_HTTP11)" 0
is "no path marker between sidecars" "$(v inbound_PLAINMARKER)" 0
is "no body marker between sidecars" "$(v inbound_BODYMARKER)" 0
is "no tcp payload between sidecars" "$(v inbound_TCPMARKER)" 0
check "TLS handshakes between sidecars" test "$(v tls_handshake_records)" -gt 0
check "TLS application data between sidecars" test "$(v tls_appdata_segments)" -gt 0

mesh_down_checked "$T/mesh.ini" "$T/state/run/meshd.log"
exit 0
