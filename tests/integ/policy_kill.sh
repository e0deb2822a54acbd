#!/bin/bash
# SPDX-License-Identifier: ISC
# policy_kill: one of three instances killed under bounded load; retries
# (retries = 2, retry_on = connect-failure, reset, 502, 503) in the caller's
# sidecar keep the success rate >= 99.9%:
#   16 keep-alive clients -> gateway sidecar 127.0.0.1:30201 -> api.0 api.1 api.2
# 4,000 requests of GET /delay?ms=50 in all (bounded by count and by 90 s), so
# several are in flight at api.1 at any time; api.1's app is killed with
# SIGKILL once a quarter of them are done, and stays dead (restart = never).
# Without retries the requests in flight there fail: more than 0.1%.
# Needs the proxy's retries (src/proxy/fwd_retry.c, src/proxy/retry.c).
# Ports: 30200-30299.
. "$(dirname "$0")/lib.sh"

cp "$MESH_APPS/testapp" "$T/testapp"
cat >"$T/mesh.ini" <<EOF
[mesh]
name = policy-kill
port_base = 30250

[service.gateway]
upstreams = api:30201

[service.api]
command = $T/testapp --port \$PORT
port = 30210
instances = 3
restart = never

[route.api]
retries = 2
retry_on = connect-failure, reset, 502, 503
backoff = 5ms, 50ms
retry_budget = 20%, 200/s
connect_timeout = 250ms
EOF

mesh_up_or_stop "$T/mesh.ini"
check "listener 127.0.0.1:30201 accepts" wait_port 30201 10
victim=$(pgrep -f "^$T/testapp --port 30211" | head -1)
check "api.1's app is running (pid ${victim:-?})" test -n "$victim"

# The load: 16 threads x 250 requests, each thread on its own keep-alive
# connection (reconnecting if the proxy closes it); prints "ok total" and
# touches $T/quarter once 1,000 requests are done.
timeout 120 python3 - "$T" >"$T/load.out" 2>"$T/load.err" <<'EOF' &
import http.client, sys, threading, time
t = sys.argv[1]
N, THREADS = 250, 16
lock = threading.Lock()
done = [0, 0]          # [answered 200, total]
start = time.time()
def run():
    c = http.client.HTTPConnection("127.0.0.1", 30201, timeout=10)
    for i in range(N):
        if time.time() - start > 90:
            break
        status = 0
        try:
            c.request("GET", "/delay?ms=50", headers={"Host": "api"})
            r = c.getresponse()
            r.read()
            status = r.status
            if r.getheader("connection", "").lower() == "close":
                c.close()
        except Exception:
            c.close()
        with lock:
            done[1] += 1
            if status == 200:
                done[0] += 1
            else:
                print("# failed: status %d" % status, file=sys.stderr, flush=True)
            if done[1] == N * THREADS // 4:
                open(t + "/quarter", "w").close()
ths = [threading.Thread(target=run) for _ in range(THREADS)]
for th in ths: th.start()
for th in ths: th.join()
print(done[0], done[1])
EOF
load=$!
wait_for 60 test -e "$T/quarter"
kill -KILL "$victim" 2>/dev/null
# meshd reaps the app on its next loop turn; until then the pid exists
check "api.1's app was killed under load" wait_for 5 bash -c "! kill -0 $victim 2>/dev/null"
wait "$load"
read -r good total <"$T/load.out"
echo "# $good of $total answered 200 ($(head -c 300 "$T/load.err" | tr '\n' ' '))"
is "all 4000 requests were sent" "${total:-0}" 4000
check "success rate >= 99.9% with one of three instances killed (${good:-0}/${total:-0})" \
	test "$(( ${good:-0} * 1000 ))" -ge "$(( ${total:-1} * 999 ))"
meshctl status -f "$T/mesh.ini" --json >"$T/status.json" 2>&1
retries=$(python3 -c "
import json
d = json.load(open('$T/status.json'))
for s in d['services']:
    for i in s['instances']:
        if i['name'] == 'gateway.0' and i.get('stats'):
            print(i['stats'].get('retries', 0))
" 2>/dev/null)
echo "# the gateway's sidecar retried ${retries:-?} times"

mesh_down_checked "$T/mesh.ini"
exit 0
