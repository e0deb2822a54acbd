#!/bin/bash
# SPDX-License-Identifier: ISC
# The house (docs/architecture.md, "Folders"): which folder may include and
# link which, checked on the tree and on the built programs.
#   src/lib    includes lib only; every program links it
#   src/proxy  lib + proxy        -> mesh-proxy
#   src/meshd  lib + meshd        -> meshd
#   src/ctl    lib + ctl          -> meshctl
#   tui        lib + ctl + tui    -> meshctl (the dashboard sits above ctl)
# A public header include/mesh/NAME.h belongs to the folder that holds
# NAME.c or NAME_*.c (or, failing that, the longest prefix of NAME that
# names a module: transport_tls.h -> transport*.c).
. "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 1
diag() { echo "# $*"; }

folders="src/lib src/proxy src/meshd src/ctl tui"
allowed() { # folder -> the folders it may include
	case $1 in
	src/lib)   echo "src/lib" ;;
	src/proxy) echo "src/lib src/proxy" ;;
	src/meshd) echo "src/lib src/meshd" ;;
	src/ctl)   echo "src/lib src/ctl" ;;
	tui)       echo "src/lib src/ctl tui" ;;
	esac
}
owner() { # header base name -> its folder; several folders: all of them
	local m=$1 d f hits
	while [ -n "$m" ]; do
		for d in $folders; do [ -f "$d/$m.c" ] && { echo "$d"; return; }; done
		hits=
		for d in $folders; do
			for f in "$d/$m"_*.c; do [ -f "$f" ] && { hits="$hits $d"; break; }; done
		done
		[ -n "$hits" ] && { echo $hits; return; }
		case $m in *_*) m=${m%_*} ;; *) m= ;; esac
	done
}

# 1. every public header has one owning folder (a header that declares
#    the functions of two folders is two headers)
orphans=
for h in include/mesh/*.h; do
	b=$(basename "$h" .h)
	o=$(owner "$b")
	case $o in "" | *" "*) orphans="$orphans $b.h${o:+($o)}" ;; esac
done
# container_of.h and clock.h are header-only helpers of the library
orphans=$(echo "$orphans" | tr ' ' '\n' | grep -vxE 'container_of\.h|clock\.h|' | tr '\n' ' ')
check "every public header belongs to one folder" [ -z "$orphans" ]
[ -z "$orphans" ] || diag "no folder, or more than one, owns:$orphans"

# 2. no folder includes a header of a folder it may not use
bad=
for d in $folders; do
	for f in "$d"/*.c "$d"/*.h; do
		[ -f "$f" ] || continue
		ok=$(allowed "$d")
		# a program's main may use all that its program links
		case $f in src/ctl/meshctl.c) ok="$ok tui" ;; esac
		for h in $(sed -n 's/^#include "mesh\/\([a-z0-9_]*\)\.h".*/\1/p' "$f"); do
			o=$(owner "$h")
			[ -z "$o" ] && o=src/lib
			case " $ok " in *" $o "*) ;; *) bad="$bad $f:$h.h($o)" ;; esac
		done
		# a private header of another folder is never reached
		for h in $(sed -n 's/^#include "\([a-z0-9_]*_int\)\.h".*/\1/p' "$f"); do
			[ -f "$d/$h.h" ] || bad="$bad $f:$h.h(private)"
		done
	done
done
check "no folder includes a header above it (lib <- proxy, meshd, ctl <- tui)" [ -z "$bad" ]
[ -z "$bad" ] || diag "against the layering:$bad"

# 3. each program links its own folder and the library, nothing else:
#    no function defined in another program's folder is in its binary
syms() { # folder -> the global functions its objects define
	local o
	for o in "$ROOT/${BUILD:-build}/obj/$1"/*.o; do
		nm -g --defined-only "$o" 2>/dev/null | awk '$2 == "T" { print $3 }'
	done | sort -u
}
bin_syms() { nm "$1" 2>/dev/null | awk '$2 == "T" || $2 == "t" { print $3 }' | sort -u; }
proxy_syms=$(syms src/proxy | grep -vx main)
meshd_syms=$(syms src/meshd | grep -vx main)
ctl_syms=$(syms src/ctl | grep -vx main)
tui_syms=$(syms tui)
for p in meshd:"$proxy_syms $ctl_syms $tui_syms" mesh-proxy:"$meshd_syms $ctl_syms $tui_syms" \
	meshctl:"$proxy_syms $meshd_syms"; do
	prog=${p%%:*}
	foreign=$(comm -12 <(bin_syms "$MESH_BIN/$prog") <(echo "${p#*:}" | tr ' ' '\n' | grep . | sort -u) | head -5)
	check "$prog links no other program's code" [ -z "$foreign" ]
	[ -z "$foreign" ] || diag "$prog has: $(echo $foreign)"
done
check "libmesh.a holds src/lib only" \
	bash -c "ar t '$ROOT/${BUILD:-build}/libmesh.a' | sed 's/\.o$//' | sort | diff -q - <(ls src/lib/*.c | xargs -n1 basename | sed 's/\.c$//' | sort)"

# 4. small files: none over 600 lines, the median near 200
big=$(wc -l src/*/*.c src/*/*.h tui/*.c tui/*.h include/mesh/*.h | awk '$2 != "total" && $1 > 600 { print $2 "(" $1 ")" }')
check "no source file over 600 lines" [ -z "$big" ]
[ -z "$big" ] || diag "over 600 lines: $big"
median=$(wc -l src/*/*.c tui/*.c | awk '$2 != "total" { print $1 }' | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
diag "median .c file: $median lines"
check "median .c file at most 250 lines" [ "$median" -le 250 ]

# 5. one way out of a downstream connection: conn_close() is called only
#    by the loop that runs the handlers (src/proxy/fwd.c's fwd_run and the
#    I/O and timer callbacks of src/proxy/conn.c), never by a handler
callers=$(grep -nw 'conn_close' src/proxy/*.c | grep -vE '^src/proxy/(fwd|conn)\.c:')
check "conn_close is called from fwd.c and conn.c only" [ -z "$callers" ]
[ -z "$callers" ] || diag "conn_close called from: $callers"
exit 0
