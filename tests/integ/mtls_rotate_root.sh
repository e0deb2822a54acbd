#!/bin/bash
# SPDX-License-Identifier: ISC
# mtls_rotate_root: a root CA rollover under load, nothing restarted.
#
#   load -> gateway (pure client: web:28101, api:28102) --mTLS--> web, api
#
# A bounded client load (python3: a loop of keep-alive requests, every
# third one with Connection: close; and every second a burst of 6 slow
# requests at once, so that the gateway opens more mTLS connections than
# it keeps busy, whose pooled spares idle out after idle_timeout/2 = 0.5 s:
# new sidecar-to-sidecar handshakes all through) runs through `meshctl
# certs --rotate-root`.  Asserts: the command exits 0; new mTLS handshakes
# after the retirement and none failed; zero failed requests (non-2xx or
# connection errors); no process was restarted (every pid of status --json
# unchanged); the old root is gone
# from disk (ca.crt and ca.key replaced, no next.* or rollover file) and
# from the bundle (`certs --json` lists one root, a new serial, active);
# the services present leaves that verify against the new root and not the
# old one (openssl s_client with a client certificate); a leaf signed by
# the old root got 200 on api's inbound port before and is refused after,
# while one signed by the new root gets 200.
# Then a second rollover with meshd SIGKILLed in its sign phase: `meshctl
# up -d` adopts every process, the new meshd resumes the rollover from the
# state file and retires the second root; under load again, 0 failed
# requests, every app and sidecar pid unchanged, the first rollover's
# leaf refused.
# Test client keys are made by openssl in $T, as mtls_reject does; leaves
# are signed by tests/apps/pkitool with the mesh's CA in place.
# Bounded: about 40 s.  Ports: 28100-28199.
. "$(dirname "$0")/lib.sh"

TD=roll.test
cp "$MESH_APPS/testapp" "$T/testapp"
cat >"$T/mesh.ini" <<EOF2
[mesh]
name = mtls-rotate-root
port_base = 28150
state_dir = $T/state
trust_domain = $TD
cert_ttl = 10m
idle_timeout = 1s

[service.gateway]
upstreams = web:28101, api:28102

[service.web]
command = $T/testapp --port \$PORT
port = 28110

[service.api]
command = $T/testapp --port \$PORT
port = 28120
EOF2

mesh_up_or_stop "$T/mesh.ini"
check "front doors accept" wait_port 28101 10
check "... both" wait_port 28102 10
CA=$T/state/ca
certs_json() { meshctl certs -f "$T/mesh.ini" --json 2>/dev/null; }
# field of the roots array: "SERIAL STATE" lines
roots() {
	certs_json | python3 -c '
import json, sys
for r in json.load(sys.stdin).get("roots", []):
    print(r["serial"], r["state"])'
}
inbound() {  # SERVICE: its inbound port from status --json
	meshctl status -f "$T/mesh.ini" --json 2>/dev/null | python3 -c '
import json, sys
for s in json.load(sys.stdin)["services"]:
    if s["name"] == sys.argv[1]:
        print(s["instances"][0]["inbound_port"])' "$1"
}
API_IN=$(inbound api)
WEB_IN=$(inbound web)
check "inbound ports known ($API_IN, $WEB_IN)" grep -Eqx '[0-9]+ [0-9]+' <<<"$API_IN $WEB_IN"

OLD=$(roots)
is "one root before, active" "$(wc -l <<<"$OLD") $(awk '{print $2}' <<<"$OLD")" "1 active"
OLD_SERIAL=$(awk '{print $1}' <<<"$OLD")
cp "$CA/ca.crt" "$T/old_ca.crt"            # public: kept to check against
OLD_KEY_SUM=$(sha256sum <"$CA/ca.key")
PIDS_BEFORE=$(status_pids)
check "status lists pids ($(wc -w <<<"$PIDS_BEFORE"))" test "$(wc -w <<<"$PIDS_BEFORE")" -ge 5

# a client leaf for "gateway" from the root in $CA now: $T/NAME.crt + .key
client_leaf() {
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/$1.key" 2>/dev/null &&
	openssl req -new -key "$T/$1.key" -subj "/CN=gateway" -out "$T/$1.csr" 2>/dev/null &&
	pkitool sign "$CA" "$TD" gateway 3600 "$T/$1.csr" "$T/$1.crt"
}
code_with() {  # NAME: status code of GET /whoami on api's inbound port with that leaf
	curl -sk -m 5 -o /dev/null -w '%{http_code}' --cert "$T/$1.crt" --key "$T/$1.key" \
	    "https://127.0.0.1:$API_IN/whoami" 2>/dev/null
}
# mTLS handshakes at web's and api's inbound: "ok failed", summed
handshakes() {
	meshctl status -f "$T/mesh.ini" --json 2>/dev/null | python3 -c '
import json, sys
ok = bad = 0
for s in json.load(sys.stdin)["services"]:
    if s["name"] in ("web", "api"):
        for i in s["instances"]:
            st = i.get("stats") or {}
            ok += st.get("tls_handshakes_ok", 0)
            bad += st.get("tls_handshakes_failed", 0)
print(ok, bad)'
}
check "a client leaf from the old root" client_leaf oldleaf
is "the old-root leaf gets 200 before the rollover" "$(code_with oldleaf)" 200

# ---- load through the whole rollover
cat >"$T/load.py" <<'PY'
import http.client, os, sys, threading, time
stop, out = sys.argv[1], sys.argv[2]
ports = [28101, 28102]
count = {"ok": 0, "bad": 0, "err": 0, "conns": 0}
lock = threading.Lock()
deadline = time.time() + 120

def one(c, port, path, close):
    """One request on c; True if c may be reused."""
    try:
        c.request("GET", path, headers={"Connection": "close"} if close else {})
        r = c.getresponse()
        r.read()
        with lock:
            if 200 <= r.status < 300:
                count["ok"] += 1
            else:
                count["bad"] += 1
                print("status %d on %d at %.2f mesh-error: %s" % (r.status, port, time.time(),
                      r.getheader("mesh-error")), file=sys.stderr)
        return not (close or r.will_close)
    except Exception as e:
        with lock:
            count["err"] += 1
        print("error %r on %d at %.2f" % (e, port, time.time()), file=sys.stderr)
        return False

def fresh(port):
    with lock:
        count["conns"] += 1
    return http.client.HTTPConnection("127.0.0.1", port, timeout=5)

def going():
    return time.time() < deadline and not os.path.exists(stop)

def bursts():
    n = 0
    while going() and n < 120:
        ts = [threading.Thread(target=lambda p=ports[k % 2]: one(fresh(p), p, "/delay?ms=150", True))
              for k in range(6)]
        for t in ts: t.start()
        for t in ts: t.join()
        n += 1
        time.sleep(1.0)

b = threading.Thread(target=bursts)
b.start()
conns = {}
i = 0
while i < 40000 and going():
    port = ports[i % 2]
    c = conns.get(port) or fresh(port)
    conns[port] = c
    if not one(c, port, "/whoami", i % 3 == 2):
        c.close()
        conns.pop(port, None)
    i += 1
b.join()
with open(out, "w") as f:
    f.write("%d %d %d %d\n" % (count["ok"], count["bad"], count["err"], count["conns"]))
PY
# what the sidecars warned of, when a request failed: the first lines of
# each kind (the meshd log holds every sidecar's stderr)
sidecar_warnings() {
	grep -h 'proxy *| .*warning' "$T/state/run/meshd.log" 2>/dev/null |
	    grep -v 'meshd.sock' | cut -c1-200 | sort | uniq -c | sort -rn | head -8
}
python3 "$T/load.py" "$T/stop" "$T/counts" 2>"$T/load.err" &
LOAD=$!
_pids+=($LOAD)
sleep 2

read -r h0_ok h0_bad <<<"$(handshakes)"
start=$SECONDS
timeout 90 meshctl certs -f "$T/mesh.ini" --rotate-root >"$T/rotate.out" 2>&1
rc=$?
is "meshctl certs --rotate-root exits 0" "$rc" 0
[ "$rc" -ne 0 ] && sed 's/^/#   /' "$T/rotate.out"
echo "# rollover took $((SECONDS - start)) s"
read -r h1_ok h1_bad <<<"$(handshakes)"
sleep 3      # load on the new root alone, with new connections
touch "$T/stop"
wait "$LOAD"
read -r n_ok n_bad n_err n_conns <"$T/counts" 2>/dev/null || n_ok=0 n_bad=-1 n_err=-1 n_conns=0
echo "# requests: $((n_ok + n_bad + n_err)) ok: $n_ok non-2xx: $n_bad connection errors: $n_err client connections: $n_conns"
check "the load ran ($n_ok requests answered)" test "$n_ok" -gt 100
is "zero non-2xx through the rollover" "$n_bad" 0
is "zero connection errors through the rollover" "$n_err" 0
[ "$n_bad$n_err" != 00 ] && { head -5 "$T/load.err"; sidecar_warnings; } | sed 's/^/#   /'
read -r h2_ok h2_bad <<<"$(handshakes)"
echo "# mTLS handshakes at web and api: $h0_ok before, $h1_ok at retirement, $h2_ok after; failed: $h0_bad, $h1_bad, $h2_bad"
check "new mTLS connections after the retirement ($h1_ok -> $h2_ok)" test "$h2_ok" -gt "$h1_ok"
is "no handshake failed through the rollover" "$h2_bad" "$h0_bad"

# ---- nothing restarted
is "no process restarted (pids unchanged)" "$(status_pids)" "$PIDS_BEFORE"

# ---- the old root is gone: bundle and disk
NEW=$(roots)
NEW_SERIAL=$(awk '{print $1}' <<<"$NEW")
is "one root after, active" "$(wc -l <<<"$NEW") $(awk '{print $2}' <<<"$NEW")" "1 active"
check "... and it is a new one ($OLD_SERIAL -> $NEW_SERIAL)" test "$NEW_SERIAL" != "$OLD_SERIAL"
is "rollover phase none" "$(certs_json | python3 -c 'import json,sys; print(json.load(sys.stdin)["rollover"]["phase"])')" none
check "ca.crt replaced" sh -c "! cmp -s '$T/old_ca.crt' '$CA/ca.crt'"
check "ca.key replaced (the old key is gone)" test "$(sha256sum <"$CA/ca.key")" != "$OLD_KEY_SUM"
check "no next.key, next.crt or rollover file left" \
	sh -c "! ls '$CA/next.key' '$CA/next.crt' '$CA/rollover' 2>/dev/null | grep -q ."
is "ca.key is mode 0600" "$(stat -c %a "$CA/ca.key")" 600
check "ca.crt is the root certs --json shows" sh -c \
	"openssl x509 -in '$CA/ca.crt' -noout -serial | tr A-F a-f | grep -qi '=0*${NEW_SERIAL#0}'"

# ---- every service's leaf comes from the new root
for p in "$API_IN" "$WEB_IN"; do
	timeout 10 openssl s_client -connect "127.0.0.1:$p" -showcerts \
	    -cert "$T/oldleaf.crt" -key "$T/oldleaf.key" </dev/null 2>/dev/null |
	    sed -n '/BEGIN CERT/,/END CERT/p;/END CERT/q' >"$T/leaf_$p.pem"
	check "port $p presents a leaf" grep -q 'BEGIN CERT' "$T/leaf_$p.pem"
	check "port $p: its leaf verifies against the new root" \
		openssl verify -CAfile "$CA/ca.crt" "$T/leaf_$p.pem"
	check "port $p: its leaf does not verify against the old root" \
		sh -c "! openssl verify -CAfile '$T/old_ca.crt' '$T/leaf_$p.pem' >/dev/null 2>&1"
done

# ---- a leaf signed by the old root is refused, one from the new root is not
is "the old-root leaf is refused after retirement" "$(code_with oldleaf)" 000
check "a client leaf from the new root" client_leaf newleaf
is "the new-root leaf gets 200" "$(code_with newleaf)" 200
check "meshd logged the retirement" grep -q "old root retired" "$T/state/run/meshd.log"

# ---- a second rollover, meshd SIGKILLed in the middle of it: the next
# meshd adopts every process (meshd_sigkill.sh), takes the rollover up
# from <state_dir>/ca/rollover and finishes it; the load sees nothing
phase() { certs_json | python3 -c 'import json, sys; print(json.load(sys.stdin)["rollover"]["phase"])' 2>/dev/null; }
apps_and_sidecars() { meshctl status -f "$T/mesh.ini" --json 2>/dev/null | python3 -c '
import json, sys
print(" ".join(sorted(str(i[k]) for s in json.load(sys.stdin)["services"] for i in s["instances"]
      for k in ("app_pid", "proxy_pid") if i.get(k))))' 2>/dev/null; }
within() {  # SECS CMD...: until CMD succeeds
	local end=$(( $(date +%s) + $1 )); shift
	until "$@" >/dev/null 2>&1; do
		[ "$(date +%s)" -ge "$end" ] && return 1
		sleep 0.2
	done
}
retired_from() { [ "$(phase)" = none ] && ! cmp -s "$1" "$CA/ca.crt" && [ "$(roots | wc -l)" = 1 ]; }
cp "$CA/ca.crt" "$T/second_ca.crt"
PROCS=$(apps_and_sidecars)
M1=$(cat "$T/state/run/meshd.pid")
rm -f "$T/stop" "$T/counts"
python3 "$T/load.py" "$T/stop" "$T/counts" 2>"$T/load2.err" &
LOAD=$!
_pids+=($LOAD)
sleep 1
meshctl certs -f "$T/mesh.ini" --rotate-root >"$T/rotate2.out" 2>&1 &
_pids+=($!)
# the phase as meshd persists it (<state_dir>/ca/rollover, "phase sign"),
# read by the shell itself: the sign phase can last less than one
# `meshctl certs --json` takes, so asking meshd left a window in which the
# rollover finished before the kill
seen=none
end=$((SECONDS + 10))
while [ "$SECONDS" -lt "$end" ]; do
	ph=
	{ read -r _ ph <"$CA/rollover"; } 2>/dev/null
	[ "$ph" = sign ] && { seen=sign; break; }
done
kill -9 "$M1"
echo "# meshd pid $M1 SIGKILLed in rollover phase $seen"
within 10 sh -c "! test -e /proc/$M1"     # reaped, so the next meshd takes the lock
is "meshd was SIGKILLed in the middle of the rollover (phase sign)" "$seen" sign
check "the new root's files wait on disk (next.key, rollover)" test -s "$CA/next.key" -a -s "$CA/rollover"
mesh_up "$T/mesh.ini" >"$T/up2.log" 2>&1
rc=$?
is "meshctl up -d after the SIGKILL exits 0" "$rc" 0
[ "$rc" = 0 ] || sed 's/^/#   /' "$T/up2.log" | head -20
check "the next meshd resumed the rollover and retired the old root" within 30 retired_from "$T/second_ca.crt"
sleep 2     # load on the newest root
touch "$T/stop"
wait "$LOAD"
read -r n_ok n_bad n_err n_conns <"$T/counts" 2>/dev/null || n_ok=0 n_bad=-1 n_err=-1 n_conns=0
echo "# across SIGKILL + up -d + resumed rollover: requests: $((n_ok + n_bad + n_err)) ok: $n_ok non-2xx: $n_bad connection errors: $n_err"
check "the load ran ($n_ok requests answered)" test "$n_ok" -gt 100
is "zero failed requests across the SIGKILL and the resumed rollover" "$((n_bad + n_err))" 0
[ "$n_bad$n_err" != 00 ] && { head -5 "$T/load2.err"; sidecar_warnings; } | sed 's/^/#   /'
is "every app and sidecar kept its pid (adopted, not restarted)" "$(apps_and_sidecars)" "$PROCS"
check "no next.key, next.crt or rollover file left" \
	sh -c "! ls '$CA/next.key' '$CA/next.crt' '$CA/rollover' 2>/dev/null | grep -q ."
is "the first rollover's leaf is refused now" "$(code_with newleaf)" 000
check "meshd logged the resumption" grep -q "resuming phase sign" "$T/state/run/meshd.log"

mesh_down_checked "$T/mesh.ini" "$T/state/run/meshd.log"
exit 0
