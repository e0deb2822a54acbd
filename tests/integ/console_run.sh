#!/bin/bash
# SPDX-License-Identifier: ISC
# console_run: `meshctl run [--as SERVICE] -- COMMAND...`, a command as a
# caller in the mesh.
#
#   meshctl run -- curl http://api/... -> console's sidecar -mTLS-> api
#
# A mesh with a pure client `console` (upstreams = api, web:PORT), web
# (calls api) and api (`allow = console`).  Without --as a command calls as
# console: it reaches api, its environment is an app's (http_proxy to
# console's sidecar outbound port, MESH_UPSTREAM_WEB, no PORT), its request
# is in `meshctl traces` and in the access log under console.  --as web is
# refused by api's allow (403, mesh-error: not allowed).  The exit status is
# the command's (7; 127 not found); no command is a usage error (2); an
# unknown --as, a config without a pure client or with several is 1 with a
# message saying what to do; a stopped mesh is 3.
# Ports: 25200-25299.
. "$(dirname "$0")/lib.sh"

cp "$MESH_APPS/testapp" "$T/testapp"
cat >"$T/mesh.ini" <<EOF
[mesh]
name = console-run
port_base = 25250
state_dir = $T/state
trace_sample = 100%
access_log = $T/access.log

[service.console]
upstreams = api, web:25201

[service.web]
command = $T/testapp --port \$PORT
port = 25210
upstreams = api

[service.api]
command = $T/testapp --port \$PORT
port = 25220
allow = console
EOF
# the same services with no pure client (and so no allow naming it), and
# with two
sed '/^\[service.console\]/,/^$/d; /^allow = console$/d; s/^name = .*/name = console-none/; s|/state$|/state-none|' \
	"$T/mesh.ini" >"$T/none.ini"
sed 's/^name = .*/name = console-two/; s|/state$|/state-two|' "$T/mesh.ini" >"$T/two.ini"
printf '\n[service.batch]\nupstreams = web\n' >>"$T/two.ini"

run() { meshctl run -f "$T/mesh.ini" "$@"; }
unset PORT MESH_SERVICE MESH_INSTANCE MESH_UPSTREAM_WEB

# ---- before the mesh runs --------------------------------------------------
run -- true >/dev/null 2>"$T/err"
is "a stopped mesh: exit 3" "$?" 3
check "... saying it is not running" grep -q "mesh 'console-run' is not running" "$T/err"
meshctl run -f "$T/none.ini" -- true >/dev/null 2>"$T/err"
is "no pure client and no --as: exit 1" "$?" 1
check "... naming what to add to which file" grep -q \
	"none.ini has no pure-client service to call as: add \[service.console\] with \`upstreams = web, api\` (no command, no port), or pass --as SERVICE" \
	"$T/err"
meshctl run -f "$T/two.ini" -- true >/dev/null 2>"$T/err"
is "two pure clients and no --as: exit 1" "$?" 1
check "... naming both and asking for --as" grep -q \
	"two.ini has 2 pure-client services (console, batch): pass --as one of them" "$T/err"

mesh_up_or_stop "$T/mesh.ini"

# ---- usage and identity errors ----------------------------------------------
run >/dev/null 2>"$T/err"
is "no command: exit 2" "$?" 2
check "... with the usage" grep -q "missing COMMAND" "$T/err"
run -- >/dev/null 2>&1
is "'--' and no command: exit 2" "$?" 2
run --as nosuch -- true >/dev/null 2>"$T/err"
is "--as an unknown service: exit 1" "$?" 1
check "... naming the file and the services" grep -q \
	"mesh.ini has no such service or instance (services: console, web, api)" "$T/err"
run --as web.3 -- true >/dev/null 2>"$T/err"
is "--as an instance past the last: exit 1" "$?" 1

# ---- the environment ----------------------------------------------------------
st() { meshctl status -f "$T/mesh.ini" --json; }
port_of() { # INSTANCE-NAME KEY
	st | python3 -c '
import json, sys
for s in json.load(sys.stdin)["services"]:
    for i in s["instances"]:
        if i["name"] == sys.argv[1]:
            print(i[sys.argv[2]])' "$1" "$2" 2>/dev/null
}
CON_OUT=$(port_of console.0 outbound_port)
WEB_OUT=$(port_of web.0 outbound_port)
check "console's outbound port is known ($CON_OUT)" grep -Eqx '[0-9]+' <<<"$CON_OUT"
is "status --json: console's sidecar is ready" "$(port_of console.0 proxy_ready)" True
http_proxy=http://127.0.0.1:1 run -- env >"$T/env" 2>"$T/err"
is "run -- env: exit 0" "$?" 0
envv() { sed -n "s/^$1=//p" "$T/env"; }
is "http_proxy: console's sidecar (the caller's own replaced)" "$(envv http_proxy)" "http://127.0.0.1:$CON_OUT"
is "HTTP_PROXY too" "$(envv HTTP_PROXY)" "http://127.0.0.1:$CON_OUT"
is "no_proxy: loopback" "$(envv no_proxy)" "localhost,127.0.0.1,::1"
is "MESH_UPSTREAM_WEB: console's web listener" "$(envv MESH_UPSTREAM_WEB)" "127.0.0.1:25201"
is "only NAME:PORT upstreams get a MESH_UPSTREAM_" "$(grep -c '^MESH_UPSTREAM_' "$T/env")" 1
is "MESH_SERVICE: the identity called as" "$(envv MESH_SERVICE)" console
is "MESH_INSTANCE" "$(envv MESH_INSTANCE)" 0
is "no PORT: a caller serves nothing" "$(grep -c '^PORT=' "$T/env")" 0
run --as web.0 -- env >"$T/env" 2>&1
is "--as web.0: http_proxy is web's sidecar" "$(envv http_proxy)" "http://127.0.0.1:$WEB_OUT"
run --as api@v1.0 -- env >"$T/env" 2>&1
is "--as an instance id (api@v1.0)" "$(envv MESH_SERVICE)" api

# ---- calls ----------------------------------------------------------------------
check "api answers console" wait_for 10 run -- curl -sf -m 5 http://api/whoami
body=$(run -- curl -s -m 5 'http://api/whoami?from=console-run' 2>"$T/err")
check "run -- curl http://api/whoami: api answers ($body)" grep -q 'service=api' <<<"$body"
check "... through a NAME:PORT listener too (web)" \
	run -- sh -c 'curl -sf -m 5 "http://$MESH_UPSTREAM_WEB/whoami" | grep -q service=web'
code=$(run --as web -- curl -s -m 5 -o "$T/body" -D "$T/hdr" -w '%{http_code}' http://api/whoami)
is "--as web: api's allow refuses it (403)" "$code" 403
check "... with mesh-error: not allowed" grep -qi '^mesh-error: not allowed' "$T/hdr"

# the request is in the traces and the access log, as console's
traced() {
	meshctl traces -f "$T/mesh.ini" --json -n 100 | python3 -c '
import json, sys
d = json.load(sys.stdin)
for t in d["traces"]:
    ss = [s for s in t["spans"] if s["path"] == "/whoami?from=console-run"]
    if {(s["service"], s["kind"]) for s in ss} >= {("console", "client"), ("api", "server")}:
        sys.exit(0)
sys.exit(1)'
}
check "meshctl traces: console's client span and api's server span" wait_for 5 traced
logged() { # SERVICE DIRECTION
	python3 -c '
import json, sys
for l in open(sys.argv[1]):
    l = json.loads(l)
    if (l["service"], l["direction"], l["path"], l["status"]) == \
       (sys.argv[2], sys.argv[3], "/whoami?from=console-run", 200):
        sys.exit(0)
sys.exit(1)' "$T/access.log" "$1" "$2"
}
check "access log: console's outbound line" wait_for 5 logged console outbound
check "access log: api's inbound line" wait_for 5 logged api inbound

# ---- the command gets exactly its words, once ------------------------------------
is "the command's words, each once" "$(run -- printf '%s|' a '-f' 'b c' 2>&1)" "a|-f|b c|"
is "a request through run is made once" \
	"$(run -- curl -s -o /dev/null -w '%{http_code};' http://api/whoami 2>&1)" "200;"

# ---- exit status ----------------------------------------------------------------
run -- sh -c 'exit 7' >/dev/null 2>&1
is "the command's exit status (7)" "$?" 7
run -- /nonexistent/cmd >/dev/null 2>"$T/err"
is "a command not found: 127" "$?" 127
check "... said so" grep -q "/nonexistent/cmd: command not found" "$T/err"
# SIGPIPE is the command's again: `yes | head` ends
check "the command gets SIGPIPE back (yes | head ends)" \
	timeout 5 sh -c "meshctl run -f '$T/mesh.ini' -- yes | head -1 >/dev/null"

mesh_down_checked "$T/mesh.ini" "$T/state/run/meshd.log"
run -- true >/dev/null 2>&1
is "after down: exit 3" "$?" 3
