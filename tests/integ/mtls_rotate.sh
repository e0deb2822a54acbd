#!/bin/bash
# SPDX-License-Identifier: ISC
# mtls_rotate: certificate rotation under continuous traffic.
#
#   curl -> front (pure client, 127.0.0.1:26101) --mTLS--> back (2 instances)
#
# cert_ttl = 60s (the config's minimum is 1 minute): each sidecar renews at
# 60..66.7% of its leaf's lifetime, with a new key each time.  Asserts:
# every instance has a leaf spiffe://rot.test/svc/<service> (certs --json,
# the certs table, status --json); `allow`: a caller not in back's list
# gets 403 with mesh-error: not allowed; `meshctl certs --rotate` changes
# every serial and exits 0; bounded traffic (a third of it with
# Connection: close, so new mTLS connections keep being made) runs across
# at least three rotations of back's leaf (serials observed with `meshctl
# certs --json`) with zero failed requests.
# Bounded: about 2.5 minutes.  Ports: 26100-26199.
. "$(dirname "$0")/lib.sh"

cp "$MESH_APPS/testapp" "$T/testapp"
cat >"$T/mesh.ini" <<EOF
[mesh]
name = mtls-rotate
port_base = 26150
trust_domain = rot.test
cert_ttl = 60s

[service.front]
upstreams = back:26101

[service.intruder]
upstreams = back:26102

[service.back]
command = $T/testapp --port \$PORT
port = 26110
instances = 2
allow = front
EOF

mesh_up_or_stop "$T/mesh.ini"
check "front door 127.0.0.1:26101 accepts" wait_port 26101 10

# serials of every instance as "name=serial" lines, sorted
serials() {
	meshctl certs -f "$T/mesh.ini" --json 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
for c in d["certs"]:
    print("%s=%s" % (c["instance"], (c["cert"] or {}).get("serial", "-")))' | sort
}

meshctl certs -f "$T/mesh.ini" --json >"$T/certs.json" 2>&1
is "meshctl certs --json exits 0" "$?" 0
check "every instance has a leaf with its own SPIFFE ID" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
want = {"front.0": "front", "intruder.0": "intruder", "back.0": "back", "back.1": "back"}
got = {c["instance"]: c["cert"]["spiffe_id"] for c in d["certs"]}
for i, s in want.items():
    assert got[i] == "spiffe://rot.test/svc/" + s, (i, got.get(i))
for c in d["certs"]:
    assert len(c["cert"]["serial"]) >= 16 and c["cert"]["not_after"] > c["cert"]["not_before"]
' "$T/certs.json"
meshctl certs -f "$T/mesh.ini" >"$T/certs.txt" 2>&1
check "meshctl certs prints a table with identity and serial" \
	grep -q "spiffe://rot.test/svc/back" "$T/certs.txt"
meshctl status -f "$T/mesh.ini" --json >"$T/status.json" 2>&1
check "status --json has a cert per instance" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
n = 0
for s in d["services"]:
    for i in s["instances"]:
        c = i["cert"]
        assert c["spiffe_id"].startswith("spiffe://rot.test/svc/") and c["serial"], i
        n += 1
assert n == 4, n' "$T/status.json"

# ---- allow: intruder's calls reach back's sidecar and are refused
hdr=$(curl -sS -m 10 -D - -o /dev/null http://127.0.0.1:26102/ 2>&1 | tr -d '\r')
check "a caller not in allow gets 403" grep -q '^HTTP/1.1 403' <<<"$hdr"
check "... with mesh-error: not allowed" grep -qi '^mesh-error: not allowed' <<<"$hdr"
code=$(curl -sS -m 10 -o /dev/null -w '%{http_code}' http://127.0.0.1:26101/ 2>&1)
is "front (allowed) reaches back" "$code" 200

# ---- forced rotation changes every serial
before=$(serials)
timeout 30 meshctl certs -f "$T/mesh.ini" --rotate >"$T/rotate.out" 2>&1
rc=$?
is "meshctl certs --rotate exits 0" "$rc" 0
[ "$rc" -ne 0 ] && sed 's/^/#   /' "$T/rotate.out"
after=$(serials)
changed=$(join -t= -j1 <(echo "$before") <(echo "$after") | awk -F= '$2 != $3 && $3 != "-"' | wc -l)
is "certs --rotate changed all 4 serials" "$changed" 4

# ---- continuous traffic across at least three rotations of back's leaves
traffic() {    # $1: seconds; one line per request: its status code
	local end=$((SECONDS + $1)) i=0
	while [ $SECONDS -lt $end ] && [ $i -lt 20000 ]; do
		curl -s -m 5 -w '%{http_code}\n' \
			-o /dev/null http://127.0.0.1:26101/ -o /dev/null http://127.0.0.1:26101/whoami \
			--next -s -m 5 -w '%{http_code}\n' -H 'Connection: close' \
			-o /dev/null http://127.0.0.1:26101/ 2>/dev/null || echo "curl-error"
		i=$((i + 1))
	done
}
traffic 140 >"$T/codes" &
tpid=$!
_pids+=($tpid)
seen=$(serials | grep '^back\.0=')
rotations=0
end=$((SECONDS + 140))
while [ $SECONDS -lt $end ] && [ $rotations -lt 3 ]; do
	sleep 2
	now=$(serials | grep '^back\.0=')
	if [ -n "$now" ] && [ "$now" != "$seen" ]; then
		rotations=$((rotations + 1))
		echo "# rotation $rotations of back.0 at ${SECONDS}s: $now"
		seen=$now
	fi
done
sleep 3    # traffic on the newest leaf too
kill "$tpid" 2>/dev/null
wait "$tpid" 2>/dev/null
check "back.0 rotated at least three times under traffic (saw $rotations)" test "$rotations" -ge 3
total=$(wc -l <"$T/codes")
bad=$(grep -vc '^200$' "$T/codes")
check "traffic ran ($total requests)" test "$total" -gt 100
is "zero failed requests across the rotations" "$bad" 0
[ "$bad" -gt 0 ] && sort "$T/codes" | uniq -c | sed 's/^/#   /'

mesh_down_checked "$T/mesh.ini"
exit 0
