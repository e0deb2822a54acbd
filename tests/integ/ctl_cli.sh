#!/bin/bash
# SPDX-License-Identifier: ISC
# meshctl without a running mesh: usage errors, help, version, a stopped
# mesh (exit 3), a broken config (exit 1).  No ports are opened.
. "$(dirname "$0")/lib.sh"

# rc NAME WANT CMD...: run CMD, keep stdout/stderr in $T/out, $T/err
rc() {
	local n=$1 want=$2; shift 2
	"$@" >"$T/out" 2>"$T/err"
	local got=$?
	if [ "$got" = "$want" ]; then ok "$n"; else
		not_ok "$n" "exit $got, want $want" "stdout: $(head -c 300 "$T/out")" \
			"stderr: $(head -c 300 "$T/err")"
	fi
}
has() { # NAME FILE REGEX
	if grep -Eq -- "$3" "$2"; then ok "$1"; else
		not_ok "$1" "no /$3/ in $2:" "$(head -c 400 "$2")"; fi
}
empty() { if [ ! -s "$2" ]; then ok "$1"; else not_ok "$1" "$(head -c 300 "$2")"; fi; }

# ---- usage errors: exit 2, usage on stderr, nothing on stdout
rc "no command exits 2" 2 meshctl
has "no command: usage on stderr" "$T/err" '^usage: meshctl'
rc "unknown command exits 2" 2 meshctl frobnicate
has "unknown command is named" "$T/err" "unknown command 'frobnicate'"
empty "unknown command: nothing on stdout" "$T/out"
rc "unknown global option exits 2" 2 meshctl --bogus
rc "unknown option exits 2" 2 meshctl status --bogus
has "unknown option is named" "$T/err" "unknown option '--bogus'"
rc "unknown short option exits 2" 2 meshctl status -x
has "unknown short option is named" "$T/err" "unknown option '-x'"
rc "option of another command exits 2" 2 meshctl status -d
rc "--json is status's only" 2 meshctl down --json
rc "-f without a file exits 2" 2 meshctl status -f
has "-f without a file is named" "$T/err" "needs an argument"
rc "stray argument exits 2" 2 meshctl status extra
rc "version takes no options" 2 meshctl version -f x.ini
rc "bad --timeout exits 2" 2 meshctl up -d --timeout soon
rc "zero --timeout exits 2" 2 meshctl down --timeout 0
rc "top -i 0 exits 2" 2 meshctl top -i 0
rc "traces -n 0 exits 2" 2 meshctl traces -n 0
empty "usage errors print nothing on stdout" "$T/out"

# ---- help
rc "help exits 0" 0 meshctl help
has "help lists up" "$T/out" '^  up '
has "help lists down" "$T/out" '^  down '
has "help lists status" "$T/out" '^  status '
has "help lists check" "$T/out" '^  check '
has "help lists version" "$T/out" '^  version'
has "help lists certs" "$T/out" '^  certs '
has "help lists weight" "$T/out" '^  weight '
has "help lists reload" "$T/out" '^  reload '
has "help lists top" "$T/out" '^  top '
has "help lists traces" "$T/out" '^  traces '
has "help lists restart" "$T/out" '^  restart '
has "help lists breaker-reset" "$T/out" '^  breaker-reset '
rc "-h exits 0" 0 meshctl -h
rc "--help exits 0" 0 meshctl --help
rc "command -h exits 0" 0 meshctl status -h
has "command -h prints its synopsis" "$T/out" '^usage: meshctl status \[-f FILE\] \[--json\]'

# ---- version: three lines
rc "version exits 0" 0 meshctl version
is "version prints three lines" "$(wc -l <"$T/out")" 3
has "version line 1" "$T/out" '^meshctl [0-9]+\.[0-9]+\.[0-9]+$'
has "version line 2: wolfSSL" "$T/out" '^wolfSSL [0-9]+\.[0-9]+'
has "version line 3: libev" "$T/out" '^libev [0-9]+\.[0-9]+$'
rc "--version is version" 0 meshctl --version
has "--version line 1" "$T/out" '^meshctl '

# ---- a mesh that is not running
mkdir -p "$T/m"
cat >"$T/m/mesh.ini" <<EOF
[mesh]
name = ctlcli
state_dir = st
port_base = 21990

[service.solo]
port = 21991
EOF
rc "status of a stopped mesh exits 3" 3 meshctl status -f "$T/m/mesh.ini"
has "status says not running" "$T/err" "mesh 'ctlcli' is not running"
rc "status --json of a stopped mesh exits 3" 3 meshctl status --json -f "$T/m/mesh.ini"
check "status --json of a stopped mesh is valid JSON" python3 -m json.tool "$T/out"
check "status --json says running false" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["mesh"]["running"] is False and d["mesh"]["name"] == "ctlcli", d' "$T/out"
rc "weight without operands exits 2" 2 meshctl weight -f "$T/m/mesh.ini"
rc "weight with only a service exits 2" 2 meshctl weight -f "$T/m/mesh.ini" api
rc "weight of a stopped mesh exits 3" 3 meshctl weight -f "$T/m/mesh.ini" solo v1=100
rc "weight checks its operands first (exit 2)" 2 meshctl weight -f "$T/m/mesh.ini" solo v1=99
rc "reload takes no operands" 2 meshctl reload -f "$T/m/mesh.ini" extra
rc "reload of a stopped mesh exits 3" 3 meshctl reload -f "$T/m/mesh.ini"
has "reload says not running" "$T/err" "mesh 'ctlcli' is not running"
rc "traces of a stopped mesh exits 3" 3 meshctl traces -f "$T/m/mesh.ini"
rc "restart of a stopped mesh exits 3" 3 meshctl restart -f "$T/m/mesh.ini" solo.0
rc "down of a stopped mesh exits 3" 3 meshctl down -f "$T/m/mesh.ini"
has "down says not running" "$T/err" "mesh 'ctlcli' is not running"
# FILE defaults to ./mesh.ini
rc "FILE defaults to ./mesh.ini" 3 bash -c 'cd "$1" && meshctl status' _ "$T/m"
has "default FILE names the mesh" "$T/err" "mesh 'ctlcli' is not running"
# a stale pid file and socket (pid of no meshd) mean "not running" too
mkdir -p "$T/m/st/run"
echo 999999 >"$T/m/st/run/meshd.pid"
python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$T/m/st/run/meshd.sock"
rc "stale socket and pid file: status exits 3" 3 meshctl status -f "$T/m/mesh.ini"
rc "stale socket and pid file: down exits 3" 3 meshctl down -f "$T/m/mesh.ini"

# ---- which meshd: MESH_MESHD wins; a missing one is named
MESH_MESHD=/nonexistent/meshd meshctl up -f "$T/m/mesh.ini" >"$T/out" 2>"$T/err"
is "foreground up with a missing meshd exits 1" "$?" 1
has "the missing meshd is named" "$T/err" "cannot run /nonexistent/meshd"
MESH_MESHD=/nonexistent/meshd meshctl up -d -f "$T/m/mesh.ini" >"$T/out" 2>"$T/err"
is "up -d with a missing meshd exits 1" "$?" 1
has "up -d: the missing meshd is named" "$T/err" "cannot run /nonexistent/meshd"
printf '#!/bin/sh\necho "fake meshd $*" >"%s/fake.args"\nexit 0\n' "$T" >"$T/fakemeshd"
chmod +x "$T/fakemeshd"
MESH_MESHD=$T/fakemeshd meshctl up -f "$T/m/mesh.ini" >/dev/null 2>&1
is "foreground up runs \$MESH_MESHD -f FILE" "$(cat "$T/fake.args" 2>/dev/null)" "fake meshd -f $T/m/mesh.ini"
MESH_MESHD=$T/fakemeshd meshctl up -d -f "$T/m/mesh.ini" >/dev/null 2>"$T/err"
is "up -d runs \$MESH_MESHD -f FILE -d" "$(cat "$T/fake.args" 2>/dev/null)" "fake meshd -f $T/m/mesh.ini -d"
has "a meshd -d that returns without a socket is reported" "$T/err" "does not answer"

# ---- config errors: exit 1 with FILE:LINE, before anything runs
cat >"$T/bad.ini" <<EOF
[mesh]
name = ctlbad
state_dir = badst

[service.x]
port = 21992
bogus_key = 1
EOF
rc "status with a bad config exits 1" 1 meshctl status -f "$T/bad.ini"
has "the error names FILE:LINE" "$T/err" "$T/bad.ini:7:"
rc "up with a bad config exits 1" 1 meshctl up -d -f "$T/bad.ini"
has "up: the error names FILE:LINE" "$T/err" "$T/bad.ini:7:"
if [ -e "$T/badst/run/meshd.pid" ]; then not_ok "up with a bad config starts nothing"; else ok "up with a bad config starts nothing"; fi
rc "foreground up with a bad config exits 1" 1 meshctl up -f "$T/bad.ini"
rc "check with a bad config exits 1" 1 meshctl check -f "$T/bad.ini"
# down still finds the state dir in [mesh]: not running, not a config failure
rc "down with a bad config still answers (3)" 3 meshctl down -f "$T/bad.ini"
has "down with a bad config names the mesh" "$T/err" "mesh 'ctlbad' is not running"
rc "a missing file exits 1" 1 meshctl status -f "$T/nope.ini"
has "a missing file is named" "$T/err" "$T/nope.ini"

# ---- colour never in a pipe, never with NO_COLOR
meshctl frobnicate 2>"$T/err"
if grep -q $'\033' "$T/err"; then not_ok "no colour in a pipe"; else ok "no colour in a pipe"; fi
if command -v script >/dev/null; then
	NO_COLOR=1 script -qec "meshctl frobnicate" /dev/null >"$T/tty" 2>&1
	if grep -q $'\033' "$T/tty"; then not_ok "no colour on a terminal with NO_COLOR"; else ok "no colour on a terminal with NO_COLOR"; fi
	NO_COLOR= script -qec "meshctl frobnicate" /dev/null >"$T/tty" 2>&1
	if grep -q $'\033\[31m' "$T/tty"; then ok "colour on a terminal"; else not_ok "colour on a terminal" "$(head -c 200 "$T/tty" | od -c | head -3)"; fi
fi
exit 0
