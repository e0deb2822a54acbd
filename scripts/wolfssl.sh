#!/bin/sh
# SPDX-License-Identifier: ISC
# Build wolfSSL with the CPU's assembly, statically, for meshctl's programs.
#
#   scripts/wolfssl.sh        build once for this machine into
#                             build/wolfssl/ARCH-VERSION/ (include/,
#                             lib/libwolfssl.a), named by build/wolfssl/prefix;
#                             a no-op when built
#   scripts/wolfssl.sh ARCH   the same for a board (arm64, armhf) with the
#                             cross compiler of scripts/cross.sh deps ARCH,
#                             named by build/wolfssl/prefix-ARCH
#   WOLFSSL_BENCH=1           also run wolfCrypt's benchmark after the build
#                             (under qemu-user for a board), into
#                             build/wolfssl/bench-ARCH.log
# Every build runs wolfCrypt's own self-test (testwolfcrypt) on what it
# built, under qemu-user for a board, and refuses a library that fails it;
# its output is build/wolfssl/test-ARCH.log.
#
# Why: Debian's libwolfssl is built without assembly (no AES-NI, no AVX,
# no SP-math asm): bulk mTLS through two sidecars moved about half the
# bytes of HAProxy+OpenSSL (docs/performance.md).  We build Debian's own
# source package (its patches and security fixes) with only what the
# mesh uses (TLS 1.3 with a TLS 1.2 floor, P-256 and X25519, AES-GCM and
# ChaCha20-Poly1305, SHA-2, session tickets, certificate and CSR
# generation; the list is `flags` below), in sections the linker can drop,
# plus the assembly:
#   amd64  --enable-aesni --enable-intelasm --enable-sp-asm
#          (--enable-intelasm only when this CPU has AVX: see below)
#   arm64  --enable-sp-asm; WOLFSSL_ARMV8_CRYPTO=1 adds --enable-armasm
#          (the ARMv8 crypto extension: for boards known to have it)
#   armhf  --enable-sp-asm (ARM32 SP math, in ARM state: -marm)
#   other  the portable C code
# Debian's build (--enable-distro) has everything else too: 3.9 MB of code
# against 1.1 MB, and an idle sidecar maps most of what it links (the
# kernel maps a program's pages 64 KiB at a time).
# The Makefile links build/wolfssl/prefix's library when that file exists;
# `make WOLFSSL=system` links Debian's shared library as before.
#
# Is the amd64 build safe on an older CPU?  What wolfSSL 5.5.4 checks at
# run time (cpuid.c: cpuid_get_flags() reads leaves 1 and 7 once):
#   AES and AES-GCM (aes.c): AES-NI only if the CPU has it (haveAESNI),
#     then AVX2, AVX1 or plain AES-NI for GCM, else the C code;
#   SHA-256/512 (sha256.c, sha512.c): AVX2, AVX1, else the C code;
#   ChaCha20 (chacha.c): AVX2, AVX1, else plain x86_64 assembly;
#   SP ECC/RSA (sp_x86_64.c): the BMI2+ADX code only when the CPU has both.
# One exception: Poly1305 (poly1305.c) takes AVX2 when there, else the AVX1
# code with no further check, so TLS_CHACHA20_POLY1305 would stop on an
# x86_64 without AVX at all (before Sandy Bridge; Atom/Celeron Goldmont).
# Such CPUs mostly have AES-NI, and AES-GCM is what the proxy prefers
# then (src/proxy/tlsctx.c), so only a peer offering ChaCha20 alone would
# hit it.  When the building CPU has no AVX we leave --enable-intelasm out
# (AES-NI and SP asm stay); a binary built elsewhere for such a CPU: build
# it there, or with `make WOLFSSL=system`.
# -maes is the only -m flag wolfSSL adds for C code, and the compiler emits
# AES instructions only for intrinsics, which sit behind haveAESNI.
# arm64: --enable-armasm compiles everything with -mcpu=generic+crypto and
# 5.5.4 has no run-time check for the ARMv8 crypto extension, which e.g. the
# Raspberry Pi 4 lacks (a Pi 5 has it): its SHA-256 would stop the first
# handshake with SIGILL.  Its NEON ChaCha20 is not to be had alone (5.5.4's
# WOLFSSL_ARMASM_NO_HW_CRYPTO is for 32-bit ARM only).  So by default only
# the SP assembly (plain ARMv8) is used there, ChaCha20-Poly1305 and AES-GCM
# in C; WOLFSSL_ARMV8_CRYPTO=1 builds the crypto-extension library for a
# fleet of Pi 5s (the proxy then prefers AES-GCM: tlsctx.c).
# armhf: --enable-armasm would mean -mfpu=crypto-neon-fp-armv8 (a 32-bit
# ARMv8 with crypto, no Pi in 32-bit mode has it), so only the SP assembly.
#
# Needs dpkg-dev, autoconf, automake, libtool (make wolfssl
# installs them) and the network once.  Each step is bounded in time, and a
# failure names the step and its log under build/wolfssl/.
set -eu
cd "$(dirname "$0")/.."
ROOT=$PWD
TOP=$ROOT/build/wolfssl
mkdir -p "$TOP"

fail() {
	echo "wolfssl.sh: $*" >&2
	exit 1
}

for c in apt-get dpkg-source dpkg-buildflags autoreconf libtoolize make; do
	command -v "$c" >/dev/null 2>&1 || fail "$c is missing (make wolfssl installs it)"
done

host_arch=$(dpkg --print-architecture)
arch=${1:-$host_arch}
case "$arch" in
"$host_arch") triplet= pfile=$TOP/prefix ;;
arm64|armhf)
	triplet=$(dpkg-architecture -a"$arch" -qDEB_HOST_GNU_TYPE 2>/dev/null)
	command -v "$triplet-gcc" >/dev/null 2>&1 ||
		fail "$triplet-gcc is missing (scripts/cross.sh deps $arch installs it)"
	pfile=$TOP/prefix-$arch ;;
*) fail "usage: $0 [arm64|armhf]: no build for $arch" ;;
esac
# What runs the self-test and the benchmark: the program itself here, qemu
# with the board's sysroot (scripts/cross.sh) for a board.
runner=
if [ -n "$triplet" ]; then
	sysroot=$ROOT/build/cross/$arch/sysroot
	case "$arch" in arm64) runner="qemu-aarch64 -L $sysroot" ;; armhf) runner="qemu-arm -L $sysroot" ;; esac
	command -v "${runner%% *}" >/dev/null 2>&1 && [ -d "$sysroot" ] ||
		fail "${runner%% *} or $sysroot is missing (scripts/cross.sh deps $arch)"
fi
# The version whose headers the system build uses: rebuild when a Debian
# update installs a newer one.
have=$(dpkg-query -W -f='${Version}' libwolfssl-dev 2>/dev/null || true)

# The recipe's number: raise it when the flags below change, so that a
# tree built by an older recipe is built again.
RECIPE=6

# No-op when what build/wolfssl/prefix names was built for this arch, by
# this recipe, and of at least the installed version.
[ "${WOLFSSL_ARMV8_CRYPTO:-0}" = 1 ] && [ "$arch" = arm64 ] && RECIPE=$RECIPE-armv8-crypto
if [ -f "$pfile" ]; then
	p=$(cat "$pfile")
	built=${p##*/"$arch"-}
	if [ -f "$ROOT/$p/.stamp" ] && [ "$built" != "$p" ] &&
	   grep -qx "recipe $RECIPE" "$ROOT/$p/.stamp" &&
	   { [ -z "$have" ] || dpkg --compare-versions "$built" ge "$have"; }; then
		exit 0
	fi
fi

t0=$(date +%s)
# A private apt state that lists Debian's sources: the host's own apt
# sources file with deb changed to deb-src; nothing of the host's apt is
# written.
APT=$TOP/apt
rm -rf "$APT"
mkdir -p "$APT/parts" "$APT/lists/partial" "$APT/src"
sys=/etc/apt/sources.list.d/debian.sources
if [ -f "$sys" ]; then
	sed 's/^Types:.*/Types: deb-src/' "$sys" >"$APT/parts/debian.sources"
elif [ -f /etc/apt/sources.list ]; then
	sed -n 's/^deb \(.*\)/deb-src \1/p' /etc/apt/sources.list >"$APT/parts/debian.list"
else
	fail "no apt sources: neither $sys nor /etc/apt/sources.list"
fi
aptp() {
	timeout 300 apt-get -q -o Dir::Etc::SourceList=/dev/null \
		-o Dir::Etc::SourceParts="$APT/parts" \
		-o Dir::State::Lists="$APT/lists" "$@"
}
aptp update >"$TOP/apt.log" 2>&1 ||
	fail "apt-get update of the deb-src lists failed (log: $TOP/apt.log)"
cd "$APT/src"
# The installed version first; Debian's security archive keeps only the
# newest, so take that when the installed one is gone.
if ! { [ -n "$have" ] && aptp source --download-only "wolfssl=$have" >>"$TOP/apt.log" 2>&1; }; then
	aptp source --download-only wolfssl >>"$TOP/apt.log" 2>&1 ||
		fail "apt-get source wolfssl failed (log: $TOP/apt.log)"
fi
dsc=$(ls wolfssl_*.dsc 2>/dev/null | head -1)
[ -n "$dsc" ] || fail "no wolfssl .dsc in $APT/src (log: $TOP/apt.log)"
ver=${dsc#wolfssl_}
ver=${ver%.dsc}
timeout 120 dpkg-source -x "$dsc" tree >"$TOP/unpack.log" 2>&1 ||
	fail "dpkg-source -x $dsc failed (log: $TOP/unpack.log)"

rel=build/wolfssl/$arch-$ver
PREFIX=$ROOT/$rel
rm -rf "$PREFIX"

# What the mesh uses, and nothing else; the shared library and the
# programs (examples, tests, benchmark) are not built.
# wolfCrypt's self-test and benchmark are built to be run below, never
# installed.
flags="--enable-static --disable-shared --disable-examples --enable-crypttests --enable-benchmark"
# TLS 1.3, and 1.2 as the floor (tlsctx.c): no SSL 3.0, TLS 1.0 or 1.1.
flags="$flags --enable-tls13 --disable-oldtls --enable-session-ticket --enable-sessioncerts"
flags="$flags --enable-alpn --enable-sni --enable-supportedcurves"
# meshd's etcd client checks an https://ADDRESS endpoint's IP SAN (etcd_tls.c).
flags="$flags --enable-ip-alt-name"
# P-256 (ECDSA keys, ECDHE) and X25519; no finite-field DH.  The curves
# are the only ones compiled in (ECC_USER_CURVES, below), which is what
# keeps a TLS 1.2 peer to them without the OpenSSL layer (tlsctx.c).
flags="$flags --enable-ecc --enable-curve25519 --disable-dh --enable-sp=ec256"
flags="$flags --enable-aesgcm --enable-chacha --enable-poly1305"
flags="$flags --enable-sha384 --enable-sha512 --disable-sha3"
# meshd's CA and the sidecars' CSRs (pki*.c, csr.c).
flags="$flags --enable-certgen --enable-certreq --enable-certext --enable-keygen"
# Every program of ours runs one thread.  Without this the SP code's point
# caches are thread-local: 1.4 MB of TLS block that the loader zeroes, so
# touches, in every process at start (an idle sidecar's own memory 0.5 ->
# 1.8 MiB).  Single-threaded and no __thread (ac_cv_tls=none, the cache
# variable of wolfSSL's AX_TLS check), they are plain .bss that costs
# nothing until used.
flags="$flags --enable-singlethreaded ac_cv_tls=none"
case "$arch" in
amd64)	flags="$flags --enable-aesni --enable-sp-asm"
	# intelasm's Poly1305 needs AVX (above): without it here, AES-NI alone
	grep -q -w avx /proc/cpuinfo && flags="$flags --enable-intelasm" ;;
arm64) flags="$flags --enable-sp-asm"
	[ "${WOLFSSL_ARMV8_CRYPTO:-0}" = 1 ] && flags="$flags --enable-armasm" ;;
armhf) flags="$flags --enable-sp-asm" ;;
esac
[ -n "$triplet" ] && flags="$flags --host=$triplet"
# No configure switch turns these on: subject alternative names in the
# certificates meshd makes (pki_issue.c); only the curves asked for
# (ECC_USER_CURVES); a server finding a resumed TLS 1.3 session in its
# cache by the ticket's ID, with the peer's chain that tlsctx_verify_peer
# checks again (WOLFSSL_TICKET_HAVE_ID, KEEP_PEER_CERT: Debian's build has
# them through --enable-distro).  They reach options.h.  Function and data sections let
# --gc-sections drop what no program calls.
# MAX_CHAIN_DEPTH: every TLS connection's session object keeps the peer's
# chain (--enable-sessioncerts, for the check on resumption) in a buffer
# of MAX_CHAIN_DEPTH x 2 KiB: 18.9 KB a connection at wolfSSL's 9, 8.6 KB
# at 4.  A mesh peer sends 1 or 2 certificates (leaf, joined host's
# intermediate); 4 leaves room for an etcd behind a public CA's chain.  A
# peer sending more than 4 fails its handshake (MAX_CHAIN_ERROR).
extra="-DWOLFSSL_ALT_NAMES -DECC_USER_CURVES -DWOLFSSL_TICKET_HAVE_ID -DKEEP_PEER_CERT -DMAX_CHAIN_DEPTH=4 -ffunction-sections -fdata-sections"
# The board's own flags (amd64's -fcf-protection is not an ARM flag).
bflags() { DEB_BUILD_MAINT_OPTIONS=hardening=+all dpkg-architecture -a"$arch" -f -c dpkg-buildflags --get "$1" 2>/dev/null; }
cflags="$(bflags CFLAGS) -O2"
cppflags="$(bflags CPPFLAGS) $extra"
# The SP code's ARM32 assembly is written for ARM state; Debian's armhf
# compiler emits Thumb-2 by default.
[ "$arch" = armhf ] && cflags="$cflags -marm"
# A 64-bit build sizes its big numbers for 4096-bit RSA (settings.h); a
# 32-bit one with only P-256 in SP code gets 521 bits and then refuses
# RSA at all ("SP_INT_BITS too small"): a peer's RSA certificate (an
# etcd's, say) must still verify.  In options.h with the others.
[ "$arch" = armhf ] && cppflags="$cppflags -DSP_INT_BITS=4096"
cc=${triplet:+$triplet-}gcc

cd tree
timeout 300 autoreconf -fi >"$TOP/autoreconf.log" 2>&1 ||
	fail "autoreconf in $APT/src/tree failed (log: $TOP/autoreconf.log)"
# shellcheck disable=SC2086
timeout 300 ./configure --prefix="$PREFIX" $flags CC="$cc" CFLAGS="$cflags" CPPFLAGS="$cppflags" \
	>"$TOP/configure.log" 2>&1 ||
	fail "configure failed (log: $TOP/configure.log, $APT/src/tree/config.log)"
timeout 1200 make -j"$(nproc)" >"$TOP/make.log" 2>&1 ||
	fail "make failed (log: $TOP/make.log)"
# wolfCrypt's self-test, in the source tree (it reads certs/ there): every
# algorithm compiled in against its known answers.
# shellcheck disable=SC2086
timeout 600 $runner wolfcrypt/test/testwolfcrypt >"$TOP/test-$arch.log" 2>&1 ||
	fail "wolfCrypt's self-test failed for $arch (log: $TOP/test-$arch.log)"
if [ "${WOLFSSL_BENCH:-0}" = 1 ]; then
	# shellcheck disable=SC2086
	timeout 900 $runner wolfcrypt/benchmark/benchmark >"$TOP/bench-$arch.log" 2>&1 ||
		fail "wolfCrypt's benchmark failed for $arch (log: $TOP/bench-$arch.log)"
	echo "wolfssl.sh: wolfCrypt's benchmark for $arch: $TOP/bench-$arch.log" >&2
fi
timeout 300 make install >"$TOP/install.log" 2>&1 ||
	fail "make install into $PREFIX failed (log: $TOP/install.log)"
# options.h holds the defines the library was built with, which every
# includer must see first; make install may leave it out (Debian's
# libwolfssl-dev.install copies it too).
cp wolfssl/options.h "$PREFIX/include/wolfssl/options.h" ||
	fail "cannot copy wolfssl/options.h into $PREFIX/include/wolfssl"
# Nothing but the static library: nothing links a shared one by mistake.
rm -rf "$PREFIX/bin" "$PREFIX/share" "$PREFIX"/lib/libwolfssl.so* "$PREFIX/lib/libwolfssl.la"
[ -f "$PREFIX/lib/libwolfssl.a" ] || fail "$PREFIX has no lib/libwolfssl.a (log: $TOP/install.log)"
! grep -q 'define HAVE_THREAD_LS' "$PREFIX/include/wolfssl/options.h" ||
	fail "$PREFIX/include/wolfssl/options.h still defines HAVE_THREAD_LS: configure ignored ac_cv_tls=none"

printf 'recipe %s\n%s\n' "$RECIPE" "$flags" >"$PREFIX/.stamp"
echo "$rel" >"$pfile.new"
mv "$pfile.new" "$pfile"
cd "$ROOT"
rm -rf "$APT"
echo "wolfssl.sh: wolfSSL $ver for $arch in $rel ($(($(date +%s) - t0)) s)" >&2
