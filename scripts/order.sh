#!/bin/bash
# SPDX-License-Identifier: ISC
# make order: refresh src/proxy/hot.order, the functions an idle sidecar
# has run, which the Makefile hands to lld (--symbol-ordering-file) so that
# they sit together at the start of mesh-proxy's text (docs/performance.md,
# "A static sidecar").  Runs scripts/rss.sh with both sidecars under
# scripts/order_trace.c (a one-shot breakpoint on every function: native
# speed, the CPU's own code paths): start, one mTLS request through the
# client -> web pair, 3 s idle; every function either sidecar entered by
# then, in any of ORDER_RUNS rounds, is hot.  Needs `make all apps` (the static sidecar), x86-64, and a
# private network namespace:
#
#   unshare -n bash -c 'ip link set lo up; scripts/order.sh'
#
# The list is grouped by where a function comes from and sorted within a
# group, so that a refresh reads as a diff.  wolfSSL's assembly comes last:
# each of its .S files is one section, hot or cold as a whole, and its cold
# parts then trail the hot region instead of splitting it.  Names that a
# build lacks (another CPU's variants, an arm64 build) are skipped by lld.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
OUT=${ORDER_OUT:-$ROOT/src/proxy/hot.order}
PROXY=$ROOT/$BUILD/bin/mesh-proxy
die() { echo "order: $*" >&2; exit 1; }
[ "$(uname -m)" = x86_64 ] || die "scripts/order_trace.c knows x86-64 only"
readelf -d "$PROXY" 2>/dev/null | grep -q NEEDED &&
	die "$PROXY is dynamic: the list is for the static sidecar (make with the static wolfSSL)"

T=$(mktemp -d /tmp/meshorder.XXXXXX)
trap 'rm -rf "$T"' EXIT
${CC:-cc} -O2 -Wall -Wextra -o "$T/order_trace" "$ROOT/scripts/order_trace.c" ||
	die "cannot build scripts/order_trace.c"
# every function's entry, once per address: FUNC; IFUNC (readelf's "<OS
# specific>: 10"), its resolver; and the global labels of code that
# assembly declares without a type (aes_asm.S).  Not the local labels of
# assembly (L_*, NOTYPE LOCAL): a breakpoint on a constant would be read.
readelf -sW "$PROXY" | python3 -c '
import re, subprocess, sys
code = set()
for l in subprocess.run(["readelf", "-SW", sys.argv[1]], capture_output=True, text=True).stdout.splitlines():
    m = re.match(r"\s*\[\s*(\d+)\]\s+\S+\s+\S+\s+\S+\s+\S+\s+\S+\s+\S+\s+(\S*)", l)
    if m and "X" in m.group(2):
        code.add(m.group(1))
for l in sys.stdin:
    f = l.split()
    if len(f) < 8 or not re.fullmatch(r"0*[1-9a-f][0-9a-f]*", f[1]):
        continue
    if f[3] == "FUNC" or f[3] == "<OS" or (f[3] == "NOTYPE" and f[4] == "GLOBAL" and f[6] in code):
        print(f[1], f[-1])
' "$PROXY" | sort >"$T/syms"
cut -d' ' -f1 "$T/syms" | uniq >"$T/addrs"
# at idle: each tracer writes what its sidecar entered and lets it go
printf '#!/bin/sh\nkill -USR1 "$@" && sleep 1\n' >"$T/dump"
chmod +x "$T/dump"
# ORDER_RUNS rounds (3), their union: a request is traced in detail (the
# access log, the span) by sampling, so one round may miss those functions
for r in $(seq "${ORDER_RUNS:-3}"); do
	RSS_WRAP="$T/order_trace $T/addrs $T/hit.$r.\$\$" RSS_HOOK=$T/dump BUILD=$BUILD \
		"$ROOT/scripts/rss.sh" >"$T/rss.log" 2>&1 ||
		die "scripts/rss.sh under order_trace failed: $(tail -5 "$T/rss.log")"
done
[ "$(cat "$T"/hit.* 2>/dev/null | wc -l)" -gt 100 ] ||
	die "no functions recorded: $(tail -5 "$T/rss.log")"
sort -u "$T"/hit.* >"$T/hits"

# where each symbol comes from: the archives mesh-proxy links
src_of() { # LABEL ARCHIVE...
	local label=$1; shift
	nm -A --defined-only "$@" 2>/dev/null |
		awk -v l="$label" '$2 ~ /^[tTiW]$/ { m = $1; sub(/:[0-9a-f]*$/, "", m)
			sub(/^.*:/, "", m); print $3, (m ~ /_asm\.o$/ ? l " assembly" : l), m }'
}
{
	src_of mesh "$ROOT/$BUILD/obj/src/proxy/proxy.o" "$ROOT/$BUILD/libproxy.a" "$ROOT/$BUILD/libmesh.a"
	src_of libev "$(${CC:-cc} -print-file-name=libev.a)"
	src_of nghttp2 "$(${CC:-cc} -print-file-name=libnghttp2.a)"
	src_of wolfSSL "$(cat "$ROOT/build/wolfssl/prefix")/lib/libwolfssl.a"
} >"$T/origin"

python3 - "$T" "$OUT" <<'PY'
import sys
tmp, out = sys.argv[1], sys.argv[2]
hits = {l.strip() for l in open(tmp + "/hits")}
addrs = {}
for line in open(tmp + "/syms"):
    a, name = line.split()
    addrs.setdefault(name, set()).add(a)
hot = {n for n, a in addrs.items() if a & hits}
# lld orders every symbol of a name: a static function whose namesake in
# another file stayed cold (libc's read_int, in vfscanf and vfwprintf too)
# would pull the cold one's whole object in.  Left out; the hot one's
# object is nearly always pulled in by its other functions.
namesakes = sorted(n for n in hot if not addrs[n] <= hits)
hot -= set(namesakes)
origin, member = {}, {}
for line in open(tmp + "/origin"):
    name, rest = line.rstrip("\n").split(" ", 1)
    where, obj = rest.rsplit(" ", 1)
    origin.setdefault(name, where)
    member.setdefault(name, obj)
groups = ["mesh", "libev", "nghttp2", "libc and libgcc", "wolfSSL", "wolfSSL assembly"]
by = {g: [] for g in groups}
for name in hot:
    by[origin.get(name, "libc and libgcc")].append(name)
# Assembly runs its CPU's variant, mostly the last one of its file (AVX2
# after AVX1): the file whose hot code starts furthest from its beginning
# goes first in the text, so its cold head lies before everything and its
# hot end runs into the other hot functions.
head, first = 0, []
span = {}
for name, a in addrs.items():
    if origin.get(name) == "wolfSSL assembly":
        lo, hot_lo = span.get(member[name], (None, None))
        x = min(int(v, 16) for v in a)
        span[member[name]] = (x if lo is None else min(lo, x),
                              hot_lo if name not in hot else x if hot_lo is None else min(hot_lo, x))
for obj, (lo, hot_lo) in span.items():
    if hot_lo is not None and hot_lo - lo > head:
        head, lead = hot_lo - lo, obj
if head:
    first = sorted(n for n in by["wolfSSL assembly"] if member[n] == lead)
    by["wolfSSL assembly"] = [n for n in by["wolfSSL assembly"] if member[n] != lead]
with open(out, "w") as f:
    f.write("# mesh-proxy's hot functions, first in its text (lld --symbol-ordering-file).\n"
            "# Generated by scripts/order.sh: what both sidecars of a client -> web\n"
            "# pair entered from start through one mTLS request and 3 s idle.  Refresh\n"
            "# it after changes to what a sidecar runs; a stale list only costs memory.\n")
    f.write("# Left out: names a cold function shares (" + (", ".join(namesakes) or "none") + ").\n")
    if first:
        f.write(f"\n# wolfSSL assembly, first: {lead}, hot from {head // 1024} KiB on\n")
        f.writelines(n + "\n" for n in first)
    for g in groups:
        f.write(f"\n# {g}: {len(by[g])}\n")
        f.writelines(n + "\n" for n in sorted(by[g]))
print(f"order: {len(hot)} functions -> {out}")
PY
