#!/bin/bash
# SPDX-License-Identifier: ISC
# Cross-build meshctl for an ARM board and run it under qemu-user.
#
#   scripts/cross.sh deps  ARCH   toolchain, qemu and the ARCH sysroot (idempotent)
#   scripts/cross.sh env   ARCH   print the make variables of a cross build
#   scripts/cross.sh build ARCH   make all tests (or $CROSS_TARGETS) into build/ARCH/
#   scripts/cross.sh check ARCH   build, then the unit tests and the cross
#                                 scenario (tests/cross/) under qemu-user
# ARCH: arm64 | armhf.  CROSS_FULL=1 makes `check` run the whole suite
# (tests/run.sh: unit, config, every integration scenario) under qemu.
#
# Why a private sysroot and not `dpkg --add-architecture` + libfoo-dev:ARCH:
# multiarch needs every Multi-Arch: same library at the same version on
# every architecture, and Debian's security archive often carries a newer
# amd64 build (libwolfssl35, libssl3, liblzma5, linux-libc-dev, ...) than the
# one it has for arm64/armhf, so apt refuses the whole set.  Instead we give
# apt a private state (its own lists, no installed packages, only ARCH), let
# it resolve and download the -dev packages and their run-time closure, and
# unpack them into build/cross/ARCH/sysroot.  The host's dpkg database and
# architecture list are never touched.  The cross compiler's own libc
# (crossbuild-essential-ARCH) links; the sysroot's libc runs under qemu -L.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

usage() { echo "usage: $0 deps|env|build|check ARCH... (arm64, armhf)" >&2; exit 2; }
[ $# -ge 2 ] || usage
cmd=$1; shift
[ "$cmd" = check ] || [ $# -eq 1 ] || usage

arch_setup() { # ARCH: the per-architecture names every step uses
	ARCH=$1
	case "$ARCH" in
		arm64) TRIPLET=aarch64-linux-gnu   QEMU=qemu-aarch64 PORT_OFF=0 ;;
		armhf) TRIPLET=arm-linux-gnueabihf QEMU=qemu-arm     PORT_OFF=100 ;;
		*) usage ;;
	esac
	CROSS=${CROSS_DIR:-$ROOT/build/cross}/$ARCH
	SYSROOT=$CROSS/sysroot
	BUILD_DIR=build/$ARCH
	HOST_PKGS="crossbuild-essential-$ARCH qemu-user build-essential curl openssl python3 procps"
	APT_DIR=$CROSS/apt
}
DEV_PKGS="libev-dev libwolfssl-dev libnghttp2-dev libinih-dev libsystemd-dev libncurses-dev libcmocka-dev"

SUDO=
[ "$(id -u)" -ne 0 ] && SUDO=sudo

# ---- host packages: the cross toolchain and qemu-user ----------------------
host_deps() {
	local p missing=
	for p in $HOST_PKGS; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' \
			|| missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	echo "cross: installing:$missing" >&2
	export DEBIAN_FRONTEND=noninteractive
	if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mtime -7 2>/dev/null | head -1)" ]; then
		$SUDO apt-get update -q >/dev/null || echo "cross: apt-get update reported errors; going on" >&2
	fi
	# shellcheck disable=SC2086
	$SUDO apt-get install -y -q --no-install-recommends $missing >/dev/null
}

# ---- the ARCH sysroot, from a private apt state ----------------------------
apt_opts() {
	printf '%s\n' -o "Dir::State=$APT_DIR/state" -o "Dir::State::status=$APT_DIR/state/status" \
		-o "Dir::Cache=$APT_DIR/cache" -o "APT::Architecture=$ARCH" \
		-o "APT::Architectures::=$ARCH" -o "APT::Sandbox::User=root" -o "Debug::NoLocking=1"
}

sysroot_deps() {
	local -a opt
	mapfile -t opt < <(apt_opts)
	# Refresh the private lists once a week; a stamp that names the packages
	# we unpacked makes a second run a no-op.
	if [ -f "$SYSROOT/.stamp" ] && [ -n "$(find "$SYSROOT/.stamp" -mtime -7)" ]; then
		return 0
	fi
	echo "cross: preparing the $ARCH sysroot in $SYSROOT" >&2
	mkdir -p "$APT_DIR/state/lists/partial" "$APT_DIR/cache/archives/partial" "$CROSS/debs"
	: >"$APT_DIR/state/status"
	# The mirror may fail one index (a security suite mid-sync): the main
	# suite is enough, so errors are reported, not fatal.
	apt-get "${opt[@]}" update -q >"$CROSS/apt-update.log" 2>&1 \
		|| echo "cross: apt-get update ($ARCH) reported errors (see $CROSS/apt-update.log); going on" >&2

	# The -dev packages, plus the run-time libraries they pull in.  Other
	# -dev packages and tools in the closure (libc6-dev, ncurses-bin...)
	# are left out: the cross toolchain brings its own libc headers.
	local closure want p
	closure=$(apt-cache "${opt[@]}" depends --recurse --no-recommends --no-suggests \
		--no-conflicts --no-breaks --no-replaces --no-enhances $DEV_PKGS libc6 \
		| grep -v '^ ' | grep -v '^<' | sed "s/:$ARCH\$//" | sort -u)
	want=
	for p in $closure; do
		case " $DEV_PKGS " in *" $p "*) want="$want $p"; continue ;; esac
		case "$p" in
			*-dev|*-bin|*-base|*-common|rpcsvc-proto|*:*) ;;
			lib*) want="$want $p" ;;
		esac
	done
	rm -f "$CROSS"/debs/*.deb
	# shellcheck disable=SC2086
	(cd "$CROSS/debs" && apt-get "${opt[@]}" download -q $want) >"$CROSS/apt-download.log" 2>&1 || {
		echo "cross: apt-get download ($ARCH) failed:" >&2; tail -20 "$CROSS/apt-download.log" >&2; exit 1; }

	rm -rf "$SYSROOT"
	mkdir -p "$SYSROOT"
	local d
	: >"$CROSS/shlibs"
	for d in "$CROSS"/debs/*.deb; do
		dpkg-deb -x "$d" "$SYSROOT"
		# shlibs of each run-time library: dpkg-shlibdeps reads them
		# (debian/shlibs.local) when packaging a cross build.
		dpkg-deb -I "$d" shlibs >>"$CROSS/shlibs" 2>/dev/null || true
	done
	# Absolute symlinks in the debs (libfoo.so -> /lib/...) must point
	# inside the sysroot, for the linker and for qemu.
	local l t
	while IFS= read -r l; do
		t=$(readlink "$l")
		case "$t" in /*) ln -sfn "$SYSROOT$t" "$l" ;; esac
	done < <(find "$SYSROOT" -type l)
	(cd "$CROSS/debs" && ls) >"$SYSROOT/.stamp"
}

# ---- make variables of a cross build ---------------------------------------
cross_env() {
	local inc="-I$SYSROOT/usr/include -I$SYSROOT/usr/include/$TRIPLET"
	local lib="$SYSROOT/usr/lib/$TRIPLET:$SYSROOT/lib/$TRIPLET"
	echo "CC=$TRIPLET-gcc"
	echo "AR=$TRIPLET-ar"
	echo "BUILD=$BUILD_DIR"
	echo "CPPFLAGS=$inc"
	echo "LDFLAGS=-L$SYSROOT/usr/lib/$TRIPLET -L$SYSROOT/lib/$TRIPLET -Wl,-rpath-link,$lib"
	# The board's static wolfSSL (scripts/wolfssl.sh ARCH, run by deps)
	# when it was built, linked as on the host (mesh-proxy static-pie);
	# else the sysroot's Debian libwolfssl.
	local w
	w=$(cat "$ROOT/build/wolfssl/prefix-$ARCH" 2>/dev/null || true)
	if [ -n "$w" ] && [ -f "$ROOT/$w/lib/libwolfssl.a" ]; then
		echo "WOLFSSL_PREFIX=$ROOT/$w"
		echo "WOLFSSL=static"
	else
		echo "WOLFSSL=system"
	fi
}

# ---- the board's wolfSSL: static, with what its CPU accelerates -----------
# A failure (no network for Debian's source package) is a warning, as in
# scripts/deps.sh: the build then links the sysroot's shared libwolfssl.
# WOLFSSL=system skips it.
wolfssl_deps() {
	[ "${WOLFSSL:-}" != system ] || return 0
	scripts/wolfssl.sh "$ARCH" ||
		echo "cross: warning: scripts/wolfssl.sh $ARCH failed (above); the $ARCH build links the sysroot's shared libwolfssl" >&2
}

cross_make() { # make targets...
	local -a vars
	mapfile -t vars < <(cross_env)
	make --no-print-directory "${vars[@]}" "$@"
}

# ---- running ARCH binaries: wrappers that start each one under qemu -------
# Without binfmt_misc (containers, CI) the kernel cannot exec an ARM ELF,
# so meshctl could not start meshd, nor meshd a sidecar.  Each binary gets a
# wrapper script of the same name in $BUILD_DIR/qemu/, and the suite runs
# with BUILD pointing there: MESH_MESHD, MESH_PROXY and PATH name wrappers.
make_wrappers() {
	local w=$ROOT/$BUILD_DIR/qemu d f
	rm -rf "$w"
	# bin/, apps/ and tests/<folder>/ (the unit tests mirror src/)
	find "$ROOT/$BUILD_DIR/bin" "$ROOT/$BUILD_DIR/tests" "$ROOT/$BUILD_DIR/apps" \
		-type f -perm -u+x 2>/dev/null | while read -r f; do
		d=${f#"$ROOT/$BUILD_DIR/"}
		mkdir -p "$w/$(dirname "$d")"
		# -0 "$0": the command line names the wrapper's path, as
		# the native binary's would (pgrep -f in the scenarios)
		printf '#!/bin/sh\nexec %s -L %s -0 "$0" %s "$@"\n' "$QEMU" "$SYSROOT" "$f" >"$w/$d"
		chmod 0755 "$w/$d"
	done
}

# ---- check: the unit tests and the cross scenario under qemu --------------
# Prints per architecture "ARCH: N passed, N failed" and at the end the sum.
check_one() { # ARCH; sets P F
	local t0=$SECONDS log=$ROOT/build/cross/check-$1.log rc p f
	arch_setup "$1"
	P=0 F=0
	host_deps; sysroot_deps; wolfssl_deps
	mkdir -p "$(dirname "$log")"
	echo "=== $ARCH: cross build ($TRIPLET-gcc)"
	if ! cross_make all tests >"$log" 2>&1; then
		grep -E 'error|Error' "$log" | head -20
		echo "$ARCH: build failed (log: $log)"
		F=1
		return
	fi
	make_wrappers
	echo "=== $ARCH: tests under $QEMU -L $SYSROOT"
	(
		set +e
		export BUILD=$BUILD_DIR/qemu MESH_MESHD=$ROOT/$BUILD_DIR/qemu/bin/meshd
		if [ "${CROSS_FULL:-0}" = 1 ]; then
			tests/run.sh
		else
			TESTS=test_ tests/run.sh | grep -v '^config golden files'
			CROSS_ARCH=$ARCH CROSS_PORT=$((25500 + PORT_OFF)) \
				timeout -k 10 600 bash tests/cross/scenario.sh >"$ROOT/build/cross/scenario-$ARCH.log" 2>&1
			rc=$?
			p=$(grep -Ec '^ok ' "$ROOT/build/cross/scenario-$ARCH.log")
			f=$(grep -Ec '^not ok ' "$ROOT/build/cross/scenario-$ARCH.log")
			[ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1
			printf '%-40s %3d passed %3d failed\n' "cross/scenario ($ARCH)" "$p" "$f"
			grep -E '^not ok|^#' "$ROOT/build/cross/scenario-$ARCH.log" | head -30 | sed 's/^/    /'
			echo "scenario: $p passed, $f failed"
		fi
	) | tee "$ROOT/build/cross/run-$ARCH.log" || true
	# sum every "N passed, N failed" line of this architecture's run
	read -r P F < <(sed -n 's/.*[^0-9]\([0-9][0-9]*\) passed, \([0-9][0-9]*\) failed.*/\1 \2/p;s/^\([0-9][0-9]*\) passed, \([0-9][0-9]*\) failed.*/\1 \2/p' \
		"$ROOT/build/cross/run-$ARCH.log" | awk '{p += $1; f += $2} END {print p + 0, f + 0}')
	echo "$ARCH: $P passed, $F failed ($((SECONDS - t0)) s)"
}

case "$cmd" in
	deps)  arch_setup "$1"; host_deps; sysroot_deps; wolfssl_deps ;;
	env)   arch_setup "$1"; cross_env ;;
	build) arch_setup "$1"; host_deps; sysroot_deps; wolfssl_deps; cross_make ${CROSS_TARGETS:-all tests} ;;
	check)
		tp=0 tf=0
		for a in "$@"; do
			check_one "$a"
			tp=$((tp + P)); tf=$((tf + F))
		done
		echo "cross ($*): $tp passed, $tf failed"
		echo "$tp passed, $tf failed"
		[ "$tf" -eq 0 ]
		;;
	*) usage ;;
esac
