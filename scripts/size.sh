#!/bin/bash
# SPDX-License-Identifier: ISC
# make size: the footprint.
#   1. stripped sizes of meshctl, meshd and mesh-proxy for the host and for
#      each ARCH given (arm64 armhf: cross-built by scripts/cross.sh);
#   2. the resident memory (VmRSS) of an idle sidecar, and of meshd, in a
#      one-service mesh started natively (under qemu the number would be
#      qemu's, not ours).
# Ports 25800-25849.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
HOST_ARCH=$(dpkg --print-architecture)
OUT=$ROOT/build/size
PROGS="meshctl meshd mesh-proxy"
rm -rf "$OUT"
mkdir -p "$OUT"

scripts/deps.sh build
make --no-print-directory all >"$OUT/build-$HOST_ARCH.log" 2>&1 || {
	tail -20 "$OUT/build-$HOST_ARCH.log"; echo "size: native build failed" >&2; exit 1; }

strip_sizes() { # ARCH BUILDDIR STRIP
	local arch=$1 dir=$2 strip=$3 p line total=0 s
	mkdir -p "$OUT/$arch"
	line=$(printf '%-8s' "$arch")
	for p in $PROGS; do
		"$strip" -o "$OUT/$arch/$p" "$dir/bin/$p"
		s=$(stat -c %s "$OUT/$arch/$p")
		total=$((total + s))
		line="$line$(printf ' %11d' "$s")"
	done
	echo "$line$(printf ' %11d' "$total")"
}

echo "stripped size, bytes:"
printf '%-8s %11s %11s %11s %11s\n' arch $PROGS total
strip_sizes "$HOST_ARCH" build strip
for a in "$@"; do
	[ "$a" = "$HOST_ARCH" ] && continue
	case "$a" in
		arm64) t=aarch64-linux-gnu ;;
		armhf) t=arm-linux-gnueabihf ;;
		*) echo "size: unknown architecture $a" >&2; exit 2 ;;
	esac
	if CROSS_TARGETS=all scripts/cross.sh build "$a" >"$OUT/build-$a.log" 2>&1; then
		strip_sizes "$a" "build/$a" "$t-strip"
	else
		printf '%-8s cross build failed (%s)\n' "$a" "$OUT/build-$a.log"
	fi
done

# ---- RSS of an idle sidecar ----------------------------------------------
T=$(mktemp -d /tmp/meshsize.XXXXXX)
cleanup() {
	MESH_MESHD=$ROOT/build/bin/meshd timeout 20 build/bin/meshctl down -f "$T/mesh.ini" >/dev/null 2>&1 || true
	rm -rf "$T"
}
trap cleanup EXIT
cat >"$T/mesh.ini" <<EOF
[mesh]
name = size
port_base = 25810

[service.api]
port = 25800

[service.gateway]
upstreams = api:25801
EOF
export MESH_MESHD=$ROOT/build/bin/meshd MESH_PROXY=$ROOT/build/bin/mesh-proxy
if ! build/bin/meshctl up -d -f "$T/mesh.ini" >"$T/up.log" 2>&1; then
	cat "$T/up.log" >&2
	echo "size: the mesh did not start; no RSS figure" >&2
	exit 1
fi
# one request, so both sidecars have done an mTLS handshake (api has no
# app: the answer is a 502, which is fine here)
curl -s -o /dev/null -m 5 http://127.0.0.1:25801/ || true
sleep 2   # let start-up garbage settle: "idle" means after it

# VmRSS counts shared library pages in full; RssAnon is the process's own
# memory; PSS shares the libraries among the processes that map them
field() { sed -n "s/^$2:[[:space:]]*\([0-9]*\) kB/\1/p" "/proc/$1/$3"; }
mem() { echo "RSS $(field "$1" VmRSS status) kB, anon $(field "$1" RssAnon status) kB, PSS $(field "$1" Pss smaps_rollup) kB"; }
n=0
for pid in $(pgrep -f "mesh-proxy.*$T" || true); do
	echo "idle sidecar ($HOST_ARCH, native, after one mTLS request): $(mem "$pid")  (pid $pid)"
	n=$((n + 1))
done
for pid in $(pgrep -f "meshd.*$T" || true); do
	echo "idle meshd ($HOST_ARCH, native, 2 sidecars): $(mem "$pid")  (pid $pid)"
done
[ "$n" -gt 0 ] || { echo "size: no sidecar found" >&2; exit 1; }
