#!/bin/sh
# SPDX-License-Identifier: ISC
# Install the Debian packages a task needs; quiet when all are present.
#   scripts/deps.sh build|test|demo|fuzz
set -eu

what=${1:-build}
pkgs="build-essential pkg-config libev-dev libwolfssl-dev libinih-dev libsystemd-dev libncurses-dev"
case "$what" in
	build|demo) ;;
	test)  pkgs="$pkgs libcmocka-dev curl wrk openssl tmux procps iproute2 python3 tcpdump prometheus testssl.sh" ;;
	fuzz)  pkgs="$pkgs clang libclang-rt-14-dev" ;;
	*) echo "usage: $0 build|test|demo|fuzz" >&2; exit 2 ;;
esac

missing=
for p in $pkgs; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' \
		|| missing="$missing $p"
done
[ -z "$missing" ] && exit 0

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
