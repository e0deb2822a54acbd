#!/bin/sh
# SPDX-License-Identifier: ISC
# The demo shop mesh (examples/demo/mesh.ini), in the foreground: every
# process's log lines stream here, prefixed; Ctrl-C stops everything.
# `make demo` runs this; it also works on its own from any directory.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in
/*) build=$BUILD ;;
*)  build=$root/$BUILD ;;
esac

# meshctl, meshd, mesh-proxy and the test apps, built if missing
if [ ! -x "$build/bin/meshctl" ] || [ ! -x "$build/bin/meshd" ] ||
   [ ! -x "$build/bin/mesh-proxy" ] || [ ! -x "$build/apps/testapp" ]; then
	make -C "$root" BUILD="$BUILD" all apps
fi
PATH=$build/bin:$PATH
MESH_APPS=$build/apps
MESH_PROXY=$build/bin/mesh-proxy
export PATH MESH_APPS MESH_PROXY

ini=$here/mesh.ini
# stock and checkout (stock.py) need Debian's python3-grpcio
if ! /usr/bin/python3 -c 'import grpc' 2>/dev/null; then
	echo "demo: /usr/bin/python3 cannot import grpc (examples/demo/stock.py needs it); run scripts/deps.sh demo" >&2
	exit 1
fi
# the file and the host (ports 8080, 8100-8101, 8200, 8300, 8400, 8500,
# 8510, 8600-8601, 8610, 9901 and 15000 up must be free)
if ! meshctl check -f "$ini" >/dev/null; then
	echo "demo: 'meshctl check -f $ini' found a problem (above); is another demo running?" >&2
	exit 1
fi

# What to try, printed before anything starts; meshctl by its full path,
# since the other terminal may not have build/bin on its PATH.
ctl=$build/bin/meshctl
cat <<MSG
The shop mesh: curl -> gateway 127.0.0.1:8080 -> web (x2) -> api v1 90% / v2 10% -> db (tcp)
               checkout -> stock (gRPC, x2), five calls a second
Starting it in the foreground; Ctrl-C stops it.  In another terminal, try:

  curl http://127.0.0.1:8080/whoami
  for i in \$(seq 20); do curl -s 'http://127.0.0.1:8080/call?url=http://api/whoami'; done | sort | uniq -c
  echo hello | curl -s --max-time 2 telnet://127.0.0.1:8500     # db, through api's sidecar
  /usr/bin/python3 $here/stock.py call 3          # gRPC, through checkout's stock:8610 listener
  $ctl status -f $ini
  $ctl traces -f $ini                     # recent traces, as trees of spans
  curl -s http://127.0.0.1:9901/metrics | grep '^mesh_requests_total'
MSG
if meshctl help 2>&1 | grep -qw weight; then
	echo "  $ctl weight -f $ini api v1=50 v2=50     # then the loop again"
fi
if meshctl help 2>&1 | grep -qw top; then
	echo "  $ctl top -f $ini"
fi
if meshctl help 2>&1 | grep -qw run; then
	echo "  $ctl run -f $ini -- curl -s http://api/whoami   # as the gateway, through its sidecar"
fi
echo

exec meshctl up -f "$ini"
