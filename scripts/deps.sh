#!/bin/sh
# SPDX-License-Identifier: ISC
# Install the Debian packages a task needs; quiet when all are present.
#   scripts/deps.sh build|test|demo|fuzz|bench|security|wolfssl
# build, test and wolfssl (make wolfssl) also install what scripts/wolfssl.sh
# needs and run it: wolfSSL with the CPU's assembly, built once, linked
# statically by every make after it.  WOLFSSL=system skips that.
set -eu

what=${1:-build}
# lld: mesh-proxy's hot functions first (Makefile PROXY_ORDER); without it GNU ld
pkgs="build-essential lld pkg-config libev-dev libwolfssl-dev libinih-dev libsystemd-dev libncurses-dev libnghttp2-dev"
# scripts/wolfssl.sh: Debian's source package, autoreconf'd
wolfpkgs="dpkg-dev autoconf automake libtool"
case "$what" in
	build) pkgs="$pkgs $wolfpkgs" ;;
	# the demo's gRPC service and its caller (examples/demo/stock.py)
	demo)  pkgs="$pkgs python3-grpcio" ;;
	test)  pkgs="$pkgs $wolfpkgs libcmocka-dev curl wrk openssl tmux procps iproute2 python3 tcpdump prometheus testssl.sh python3-grpcio nghttp2-client nghttp2-server" ;;
	fuzz)  pkgs="$pkgs clang libclang-rt-14-dev" ;;
	bench) pkgs="$pkgs haproxy nginx wrk curl openssl procps python3 nghttp2-client nghttp2-server" ;;
	# make security-compare: the same smuggling cases against HAProxy and nginx
	security) pkgs="$pkgs openssl python3 haproxy nginx" ;;
	wolfssl) pkgs="$pkgs $wolfpkgs" ;;
	*) echo "usage: $0 build|test|demo|fuzz|bench|security|wolfssl" >&2; exit 2 ;;
esac

# After the packages: the static wolfSSL (a no-op once built), on every
# architecture scripts/wolfssl.sh knows (amd64, arm64, armhf: the ARM
# builds are tested under qemu by make check-cross), after wolfCrypt's own
# self-test passed on it.  For build and test a failure (no network for
# Debian's source package, say) is a warning: the programs build and pass
# with Debian's shared library, only slower; `make wolfssl` fails instead.
wolfssl() {
	[ "${WOLFSSL:-}" != system ] || return 0
	case "$what" in
	wolfssl) "$(dirname "$0")/wolfssl.sh" ;;
	build|test)
		case "$(dpkg --print-architecture)" in amd64|arm64|armhf) ;; *) return 0 ;; esac
		"$(dirname "$0")/wolfssl.sh" ||
		    echo "deps: warning: scripts/wolfssl.sh failed (above); make links Debian's shared libwolfssl (slower bulk TLS)" >&2 ;;
	esac
}

# test: etcd and etcdctl for tests/integ/registry_etcd.sh, which runs its
# own etcd on test ports.  The packages are not installed (that would start
# a system-wide etcd on 2379 on a systemd host): they are downloaded and
# unpacked into build/etcd/ once.  Skipped when the system has etcd; a
# failure is a warning (the scenario then skips).
etcd_bins() {
	[ "$what" = test ] || return 0
	[ -x /usr/bin/etcd ] && [ -x /usr/bin/etcdctl ] && return 0
	dir="$(cd "$(dirname "$0")/.." && pwd)/build/etcd"
	[ -x "$dir/usr/bin/etcd" ] && [ -x "$dir/usr/bin/etcdctl" ] && return 0
	tmp=$(mktemp -d)
	if (cd "$tmp" && apt-get download -q etcd-server etcd-client >/dev/null 2>&1); then
		mkdir -p "$dir"
		for deb in "$tmp"/*.deb; do dpkg-deb -x "$deb" "$dir"; done
		echo "deps: etcd-server and etcd-client unpacked into build/etcd/ (not installed)" >&2
	else
		echo "deps: warning: apt-get download etcd-server etcd-client failed; registry_etcd will skip" >&2
	fi
	rm -rf "$tmp"
}

missing=
for p in $pkgs; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' \
		|| missing="$missing $p"
done
if [ -z "$missing" ]; then
	wolfssl
	etcd_bins
	exit 0
fi

echo "deps: installing:$missing" >&2
SUDO=
[ "$(id -u)" -ne 0 ] && SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
# One update per machine unless the lists are missing or very old.
if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mtime -7 2>/dev/null | head -1)" ]; then
	$SUDO apt-get update -q >/dev/null
fi
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing >/dev/null
# The tests run their own Prometheus server on a test port; the package's
# service (on :9090, enabled by the install on a systemd host) is not wanted.
case " $missing " in
*" prometheus "*)
	if [ -d /run/systemd/system ]; then
		$SUDO systemctl disable --now prometheus >/dev/null 2>&1 || true
		echo "deps: prometheus is for the tests only: its service is disabled" >&2
	fi ;;
esac
# make bench and make security-compare run their own nginx and haproxy on
# their own ports with their own configs; the packages' services (on :80)
# are not wanted.
for svc in haproxy nginx; do
	case " $missing " in
	*" $svc "*)
		if [ -d /run/systemd/system ]; then
			$SUDO systemctl disable --now "$svc" >/dev/null 2>&1 || true
		else
			$SUDO service "$svc" stop >/dev/null 2>&1 || true
		fi
		echo "deps: $svc is for make bench and make security-compare only: its service is stopped" >&2 ;;
	esac
done
wolfssl
etcd_bins
