#!/bin/bash
# SPDX-License-Identifier: ISC
# Build the meshctl Debian package for the host or, cross, for an ARM board;
# then lint it and verify its systemd units.
#
#   scripts/deb.sh                 (make deb)              host architecture
#   ARCH=arm64 scripts/deb.sh      (make deb ARCH=arm64)   cross build
#   ARCH=armhf scripts/deb.sh      (make deb ARCH=armhf)
# DEB_OUT (default build/deb): where the .deb, -dbgsym .deb, .buildinfo and
# .changes land.  DEB_LINT=0 skips lintian and systemd-analyze.
#
# pkg/debian is the debian/ directory.  dpkg-buildpackage wants it at the
# top of the source tree and writes beside it, so the tree (tracked and
# untracked files, without build/) is copied to build/deb/work/ARCH/ and
# pkg/debian becomes its debian/: the checkout is never written to.
# A cross build takes its libraries from scripts/cross.sh's sysroot.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

HOST_ARCH=$(dpkg --print-architecture)
ARCH=${ARCH:-$HOST_ARCH}
DEB_OUT=${DEB_OUT:-build/deb}
case "$DEB_OUT" in /*) ;; *) DEB_OUT=$ROOT/$DEB_OUT ;; esac
t0=$SECONDS

SUDO=
[ "$(id -u)" -ne 0 ] && SUDO=sudo

# ---- tools and build dependencies ----------------------------------------
need() { # packages...: install the missing ones, quietly
	local p missing=
	for p in "$@"; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' \
			|| missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	echo "deb: installing:$missing" >&2
	export DEBIAN_FRONTEND=noninteractive
	if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mtime -7 2>/dev/null | head -1)" ]; then
		$SUDO apt-get update -q >/dev/null || echo "deb: apt-get update reported errors; going on" >&2
	fi
	# shellcheck disable=SC2086
	$SUDO apt-get install -y -q --no-install-recommends $missing >/dev/null
}

need build-essential debhelper dpkg-dev fakeroot lintian systemd man-db
scripts/deps.sh build

VERSION=$(sed -n 's/^VERSION *:= *//p' Makefile)
PKGVER=$(dpkg-parsechangelog -l pkg/debian/changelog -S Version)
if [ "$VERSION" != "$PKGVER" ]; then
	echo "deb: Makefile VERSION is $VERSION but pkg/debian/changelog says $PKGVER;" \
		"add a changelog entry (dch -v $VERSION)" >&2
	exit 1
fi

# ---- the build tree ------------------------------------------------------
WORK=$ROOT/build/deb/work/$ARCH
SRC=$WORK/meshctl-$VERSION
rm -rf "$WORK"
mkdir -p "$SRC" "$DEB_OUT"
git ls-files -z --cached --others --exclude-standard -- . ':!build' ':!pkg/debian' \
	| xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh \
	| tar --null -T - -cf - | tar -xf - -C "$SRC"
cp -a pkg/debian "$SRC/debian"

bp_args=(-b -us -uc)
# wolfSSL: the static build of Debian's source with the target's assembly
# (scripts/wolfssl.sh, run by deps.sh build and cross.sh deps), so the
# package does not depend on libwolfssl; Debian's shared library only when
# that build failed (a warning above) or with WOLFSSL=system.
X_WOLFSSL_PREFIX=
if [ "$ARCH" = "$HOST_ARCH" ]; then
	w=$(cat build/wolfssl/prefix 2>/dev/null || true)
	[ "${WOLFSSL:-}" != system ] && [ -n "$w" ] && [ -f "$w/lib/libwolfssl.a" ] &&
		X_WOLFSSL_PREFIX=$ROOT/$w
else
	scripts/cross.sh deps "$ARCH"
	eval "$(scripts/cross.sh env "$ARCH" | sed -n 's/^\(CPPFLAGS\|LDFLAGS\|CC\|WOLFSSL_PREFIX\)=\(.*\)/X_\1=\x27\2\x27/p')"
	[ "${WOLFSSL:-}" = system ] && X_WOLFSSL_PREFIX=
	SYSROOT=$ROOT/build/cross/$ARCH/sysroot
	TRIPLET=$(dpkg-architecture -a"$ARCH" -qDEB_HOST_MULTIARCH 2>/dev/null)
	export CC=$X_CC
	export DEB_CPPFLAGS_APPEND=$X_CPPFLAGS DEB_LDFLAGS_APPEND=$X_LDFLAGS
	export MESH_SHLIBDEPS_DIRS="$SYSROOT/usr/lib/$TRIPLET $SYSROOT/lib/$TRIPLET"
	# The sysroot's libraries are not in dpkg's database: their own shlibs
	# files tell dpkg-shlibdeps which package and version each one needs.
	grep -v '^udeb:' "$ROOT/build/cross/$ARCH/shlibs" >"$SRC/debian/shlibs.local"
	# Build-Depends are satisfied by the sysroot, which dpkg cannot see.
	bp_args+=(-a"$ARCH" -d)
fi

if [ -n "$X_WOLFSSL_PREFIX" ]; then
	export WOLFSSL_PREFIX=$X_WOLFSSL_PREFIX WOLFSSL=static
	echo "=== deb: wolfSSL linked statically from ${X_WOLFSSL_PREFIX#"$ROOT/"}"
else
	export WOLFSSL=system
	echo "=== deb: wolfSSL from Debian's shared libwolfssl"
fi
echo "=== deb: building meshctl $VERSION for $ARCH"
(
	cd "$SRC"
	DEB_BUILD_OPTIONS="nocheck parallel=$(nproc)" dpkg-buildpackage "${bp_args[@]}"
) >"$WORK/build.log" 2>&1 || {
	grep -E 'error|Error|warning: ' "$WORK/build.log" | head -30
	echo "deb: dpkg-buildpackage failed for $ARCH; log: $WORK/build.log" >&2
	exit 1
}

shopt -s nullglob
out=()
for f in "$WORK"/*.deb "$WORK"/*.ddeb "$WORK"/*.buildinfo "$WORK"/*.changes; do
	mv -f "$f" "$DEB_OUT/"
	out+=("$DEB_OUT/$(basename "$f")")
done
DEB=$DEB_OUT/meshctl_${VERSION}_$ARCH.deb
[ -f "$DEB" ] || { echo "deb: $DEB was not produced" >&2; exit 1; }

rc=0
if [ "${DEB_LINT:-1}" != 0 ]; then
	# ---- lintian: errors and warnings fail; overrides are in pkg/debian
	echo "=== deb: lintian $(basename "$DEB")"
	lintian --fail-on error,warning --display-info "$DEB" || rc=1

	# ---- systemd-analyze verify on the units as installed by the package
	V=$WORK/verify-root
	rm -rf "$V"; mkdir -p "$V"
	dpkg-deb -x "$DEB" "$V"
	cp -an /lib/systemd/system/. "$V/lib/systemd/system/"
	echo "=== deb: systemd-analyze verify meshd.service meshd@.service"
	if ! MANPATH=$V/usr/share/man systemd-analyze verify --root="$V" \
		meshd.service meshd@example.service; then
		echo "deb: systemd-analyze verify reported problems" >&2
		rc=1
	fi
fi

echo "=== deb: $ARCH done in $((SECONDS - t0)) s:"
ls -l "${out[@]}" | awk '{printf "  %9d  %s\n", $5, $NF}'
exit $rc
