#!/bin/bash
# SPDX-License-Identifier: ISC
# policy_ewma: load balancing and passive outlier ejection in the caller's
# sidecar (the gateway's):
#   client -> gateway sidecar 127.0.0.1:29501 -> api   (3 instances, lb = ewma;
#                                                       instance 2 answers 20 ms late)
#             gateway sidecar 127.0.0.1:29502 -> flaky (3 instances;
#                                                       instance 2 always answers 502)
# ewma: >= 80% of 600 sequential requests go to the two fast instances.
# outlier: after outlier.failures (3) 502s in a row the bad instance is
# ejected: the next 300 requests all succeed, none reaches it, and the
# gateway's stats count the ejection.
# Ports: 29500-29699.
. "$(dirname "$0")/lib.sh"

cp "$MESH_APPS/testapp" "$T/testapp"    # so pgrep on $T finds the apps
# The slowness and the failures are per instance: the environment says which.
cat >"$T/app.sh" <<EOF
#!/bin/sh
if [ "\$MESH_INSTANCE" = 2 ]; then
	case "\$MESH_SERVICE" in
	api)   export TESTAPP_DELAY_MS=20 ;;
	flaky) export TESTAPP_FAIL_PCT=100 TESTAPP_FAIL_STATUS=502 ;;
	esac
fi
exec "$T/testapp" --port "\$PORT"
EOF
chmod +x "$T/app.sh"

cat >"$T/mesh.ini" <<EOF
[mesh]
name = policy-ewma
port_base = 29550

[service.gateway]
upstreams = api:29501, flaky:29502

[service.api]
command = $T/app.sh
port = 29510
instances = 3

[service.flaky]
command = $T/app.sh
port = 29520
instances = 3

[route.api]
lb = ewma

[route.flaky]
lb = ewma
outlier.failures = 3
outlier.ejection = 30s
breaker.failures = 1000
EOF

mesh_up_or_stop "$T/mesh.ini"
check "listener 127.0.0.1:29501 accepts" wait_port 29501 10
check "listener 127.0.0.1:29502 accepts" wait_port 29502 10
for p in 29510 29511 29512 29520 29521 29522; do
	wait_port $p 10 || not_ok "app on 127.0.0.1:$p accepts"
done

# N sequential requests on one keep-alive connection to PORT; prints
# "<count of instance 0> <1> <2> <failures>", the failures as status codes
tally() {
	timeout 90 python3 - "$1" "$2" "$3" <<'EOF'
import http.client, sys
port, n, svc = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
t = [0, 0, 0]
bad = []
for i in range(n):
    try:
        c.request("GET", "/", headers={"Host": svc})
        r = c.getresponse()
        b = r.read().decode().strip()
    except Exception as e:
        bad.append(type(e).__name__)
        c.close()
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        continue
    if r.status != 200:
        bad.append(str(r.status))
        continue
    for k in range(3):
        if b == "%s-v1-%d" % (svc, k):
            t[k] += 1
            break
    else:
        bad.append("body:" + b[:20])
print(t[0], t[1], t[2], len(bad), ",".join(bad[:8]) or "-")
EOF
}

# ---- ewma: the instance 20 ms slower than its peers gets little
read -r a0 a1 a2 nbad bad < <(tally 29501 600 api)
echo "# api by instance: 0=$a0 1=$a1 2=$a2 (2 is 20 ms slower); failures=$nbad $bad"
is "ewma: 600 requests, no failure" "${nbad:-?}" 0
check "ewma: >= 80% away from the slow instance (fast: $((${a0:-0} + ${a1:-0})) of 600)" \
	test $((${a0:-0} + ${a1:-0})) -ge 480
check "ewma: both fast instances take traffic (0=$a0 1=$a1)" \
	test "${a0:-0}" -ge 1 -a "${a1:-0}" -ge 1

# ---- outlier ejection: an always-502 instance is ejected after 3 failures
read -r f0 f1 f2 nbad bad < <(tally 29502 60 flaky)
echo "# flaky, first 60: 0=$f0 1=$f1 2=$f2 failures=$nbad $bad"
check "outlier: the bad instance fails at most outlier.failures times (got ${nbad:-?})" \
	test "${nbad:-99}" -le 3
check "outlier: those failures are 502s from it ($bad)" grep -qxE '502(,502)*' <<<"$bad"
read -r f0 f1 f2 nbad bad < <(tally 29502 300 flaky)
echo "# flaky, next 300: 0=$f0 1=$f1 2=$f2 failures=$nbad $bad"
is "outlier: the next 300 requests all succeed" "${nbad:-?}" 0
is "outlier: none reaches the ejected instance" "${f2:-?}" 0
check "outlier: the others carry it (0=$f0 1=$f1)" test $((${f0:-0} + ${f1:-0})) -eq 300

# the gateway's stats file: outlier.ejections (counter 22), outlier.ejected (23)
check "outlier: the gateway's stats count one ejection, one ejected now" python3 - \
	"$T/.mesh/run/stats/gateway@v1.0.stats" <<'EOF'
import struct, sys
d = open(sys.argv[1], "rb").read()
assert d[:8] == b"MESHSTAT", d[:8]
n, hs = struct.unpack_from("<II", d, 32)
v = struct.unpack_from("<%dQ" % n, d, hs)
print("ejections", v[22], "ejected", v[23])
sys.exit(0 if n > 23 and v[22] == 1 and v[23] == 1 else 1)
EOF

# meshctl status: the ejected instance, as the gateway holds it.  Those are
# the gateway's endpoint rows, which its sidecar copies from the live state
# only twice a second (include/mesh/pstats.h, PSTATS_INTERVAL_S), unlike the
# counters above that the ejection bumps at once; the 360 requests take less
# than that, so status may look before the first copy since the ejection:
# wait for it (bounded) before asserting.
ejected() {
	meshctl status -f "$T/mesh.ini" --json 2>/dev/null | python3 -c "
import json, sys
d = json.load(sys.stdin)
print(sorted(i['index'] for s in d['services'] if s['name'] == 'flaky'
             for i in s['instances'] if i.get('ejected')))"
}
ejected_2() { [ "$(ejected)" = "[2]" ]; }
wait_for 2 ejected_2
is "status --json: flaky.2 is ejected, the others are not" "$(ejected)" "[2]"

mesh_down_checked "$T/mesh.ini"
exit 0
