# SPDX-License-Identifier: ISC
# meshctl — a service mesh for one host.
#
#   make                      build meshctl, meshd, mesh-proxy into $(BUILD)/bin
#   make check                install what is missing, build, run every test
#   make demo                 install what is missing, build, run the demo mesh
#   make bench                side by side with an HAProxy pair (docs/performance.md)
#   make SANITIZE=address,undefined check
#   make fuzz | fuzz-ci       the libFuzzer targets of tests/fuzz/ (clang), below
#   make install PREFIX=/usr/local DESTDIR=
#   make security-compare     smuggling cases vs HAProxy and nginx (docs/security.md)
#
# Honours CC, CFLAGS, CPPFLAGS, LDFLAGS, PREFIX, DESTDIR.  WERROR=1 turns
# warnings into errors (CI sets it).

VERSION   := 0.1.0
CC        ?= cc
PREFIX    ?= /usr/local
DESTDIR   ?=
BINDIR    ?= $(PREFIX)/bin
SBINDIR   ?= $(PREFIX)/sbin
MANDIR    ?= $(PREFIX)/share/man
CFLAGS    ?= -O2 -g

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
        -Wpointer-arith -Wformat=2 -Wcast-align -Wwrite-strings \
        -Wno-unused-parameter
ifeq ($(WERROR),1)
WARN += -Werror
endif

ifneq ($(SANITIZE),)
BUILD     ?= build/sanitize
SANFLAGS  := -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
else
BUILD     ?= build
SANFLAGS  :=
endif

MESH_CPPFLAGS := -Iinclude -D_GNU_SOURCE -DMESH_VERSION='"$(VERSION)"'
# 64-bit file offsets and inode numbers on 32-bit targets (armhf): without
# them readdir() fails with EOVERFLOW on a directory whose entries have a
# 64-bit d_off or d_ino (ext4 hashes under a 64-bit kernel, XFS, btrfs), and
# run/pids and the stats folder would read as empty.  A no-op on 64-bit.
MESH_CPPFLAGS += -D_FILE_OFFSET_BITS=64
MESH_CFLAGS   := -std=c11 $(WARN) $(SANFLAGS) -MMD -MP

# wolfSSL: scripts/wolfssl.sh's static build of Debian's source with the
# CPU's assembly (AES-NI, AVX, SP math; about 2x the bulk TLS throughput)
# when build/wolfssl/prefix names one (scripts/deps.sh build|test, so make
# deps and make check, or make wolfssl, make it), else Debian's shared
# library.  make WOLFSSL=system: Debian's always.
# Its headers come first: options.h holds the defines the library was built
# with.  $(BUILD)/wolfssl.use records which one the objects were compiled
# against, so that a switch rebuilds them.
WOLFSSL_PREFIX ?= $(shell cat build/wolfssl/prefix 2>/dev/null)
WOLFSSL        ?= $(if $(wildcard $(WOLFSSL_PREFIX)/lib/libwolfssl.a),static,system)
ifeq ($(WOLFSSL),static)
MESH_CPPFLAGS  += -I$(WOLFSSL_PREFIX)/include
WOLFSSL_LIBS   := $(WOLFSSL_PREFIX)/lib/libwolfssl.a -lm -lpthread -ldl
# the prefix and its options.h: a rebuild with other flags (scripts/wolfssl.sh's
# RECIPE) changes struct layouts, so every object is compiled again
WOLFSSL_USE    := $(WOLFSSL_PREFIX) $(shell cksum <$(WOLFSSL_PREFIX)/include/wolfssl/options.h)
else
WOLFSSL_LIBS   := -lwolfssl
WOLFSSL_USE    := system
endif
WOLFSSL_STAMP  := $(BUILD)/wolfssl.use
$(shell mkdir -p $(BUILD) && { [ "$$(cat $(WOLFSSL_STAMP) 2>/dev/null)" = "$(WOLFSSL_USE)" ] || \
	echo "$(WOLFSSL_USE)" >$(WOLFSSL_STAMP); })

# The sidecar links statically with the static wolfSSL (not under a
# sanitizer; PROXY_STATIC=0 turns it off): one static-pie program (ASLR
# kept), every function no caller reaches dropped (--gc-sections).  An
# idle sidecar maps most of the code it links, since the kernel maps a
# program's pages 64 KiB at a time: 5.0 MiB of RSS with libc and the
# others shared, 2.3 MiB static (docs/performance.md).
# Only where the C library can make a static-pie program (its rcrt1.o):
# Debian's armhf glibc cannot, and a static sidecar without ASLR is not a
# trade we make for memory, so there it links dynamically (wolfSSL still
# inside).
PROXY_PIE_OK  := $(if $(findstring /,$(shell $(CC) -print-file-name=rcrt1.o 2>/dev/null)),1,0)
PROXY_STATIC ?= $(if $(filter static,$(WOLFSSL)),$(if $(SANITIZE),0,$(PROXY_PIE_OK)),0)
ifeq ($(PROXY_STATIC),1)
MESH_CFLAGS   += -ffunction-sections -fdata-sections
PROXY_LDFLAGS := -static-pie -Wl,--gc-sections
PROXY_LIBS    := -lev $(WOLFSSL_PREFIX)/lib/libwolfssl.a -lnghttp2 -lm
# Hot code first.  From its start to idle after one request a sidecar
# enters ~1,200 functions, ~480 KB, spread over 1.6 MB of text: with the
# kernel's 64 KiB fault-around that touched 23 of 26 windows.
# src/proxy/hot.order (make order: scripts/order.sh traces both sidecars)
# names them; lld puts the sections holding them first, in that order
# (--symbol-ordering-file; names this build lacks are skipped silently),
# so they fill ~13 windows and the rest is never mapped: idle VmRSS
# 2.2 -> 1.7 MiB (docs/performance.md).  Only where $(CC) can use ld.lld
# (the host's gcc; Debian's cross gcc does not find ld.lld);
# otherwise, or with PROXY_ORDER=, GNU ld links it unordered.
PROXY_ORDER   ?= src/proxy/hot.order
PROXY_LLD     := $(if $(PROXY_ORDER),$(shell $(CC) -fuse-ld=lld -Wl,--version 2>/dev/null | grep -q LLD && echo 1))
ifeq ($(PROXY_LLD),1)
PROXY_LDFLAGS += -fuse-ld=lld -Wl,--symbol-ordering-file=$(PROXY_ORDER) -Wl,--no-warn-symbol-ordering
PROXY_DEPS    := $(PROXY_ORDER)
endif
else
PROXY_LDFLAGS :=
PROXY_LIBS     = $(LIBS)
endif

# --as-needed: a program links only the libraries it calls (mesh-proxy never
# needs libsystemd and the six libraries that come with it: 1.5 MB of RSS).
LIBS          := -Wl,--as-needed -lev $(WOLFSSL_LIBS) -lnghttp2 -linih -lsystemd -lm -lncursesw

# The folders are the architecture (docs/architecture.md): libmesh.a is
# src/lib alone; each program links its own folder and the library, never
# another program's code.  meshctl's dashboard (tui/) sits above src/ctl.
LIB_SRCS   := $(wildcard src/lib/*.c)
PROXY_SRCS := $(wildcard src/proxy/*.c)
MESHD_SRCS := $(wildcard src/meshd/*.c)
CTL_SRCS   := $(wildcard src/ctl/*.c)
TUI_SRCS   := $(wildcard tui/*.c)
MAINS      := src/proxy/proxy.c src/meshd/meshd.c src/ctl/meshctl.c
ALL_SRCS   := $(LIB_SRCS) $(PROXY_SRCS) $(MESHD_SRCS) $(CTL_SRCS) $(TUI_SRCS)
obj         = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

LIBMESH  := $(BUILD)/libmesh.a
LIBPROXY := $(BUILD)/libproxy.a
LIBMESHD := $(BUILD)/libmeshd.a
LIBCTL   := $(BUILD)/libctl.a
LIBTUI   := $(BUILD)/libtui.a

PROGS := $(BUILD)/bin/meshd $(BUILD)/bin/mesh-proxy $(BUILD)/bin/meshctl

# A unit test links what its folder's program links: tests/unit/proxy/test_x
# gets libproxy.a + libmesh.a, and may #include a .c of its own folder.
# The stats readers' tests (meshd, tui, ctl) also link the sidecar's stats writer
# (src/proxy/stats_write.c): it makes their fixture files.
UNIT_SRCS  := $(wildcard tests/unit/*/test_*.c)
UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
APP_SRCS   := $(wildcard tests/apps/*.c)
APPS       := $(APP_SRCS:tests/apps/%.c=$(BUILD)/apps/%)

all: $(PROGS)

# Private headers (*_int.h) live beside their folder's sources.
$(BUILD)/obj/%.o: %.c $(WOLFSSL_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(MESH_CPPFLAGS) -I$(dir $<) $(CPPFLAGS) $(MESH_CFLAGS) $(CFLAGS) -c -o $@ $<

$(LIBMESH): $(call obj,$(LIB_SRCS))
$(LIBPROXY): $(call obj,$(filter-out $(MAINS),$(PROXY_SRCS)))
$(LIBMESHD): $(call obj,$(filter-out $(MAINS),$(MESHD_SRCS)))
$(LIBCTL): $(call obj,$(filter-out $(MAINS),$(CTL_SRCS)))
$(LIBTUI): $(call obj,$(TUI_SRCS))
$(LIBMESH) $(LIBPROXY) $(LIBMESHD) $(LIBCTL) $(LIBTUI):
	@mkdir -p $(dir $@)
	rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/bin/mesh-proxy: $(call obj,src/proxy/proxy.c) $(LIBPROXY) $(LIBMESH) $(PROXY_DEPS)
$(BUILD)/bin/meshd: $(call obj,src/meshd/meshd.c) $(LIBMESHD) $(LIBMESH)
$(BUILD)/bin/meshctl: $(call obj,src/ctl/meshctl.c) $(LIBTUI) $(LIBCTL) $(LIBMESH)
$(BUILD)/bin/meshd $(BUILD)/bin/meshctl:
	@mkdir -p $(dir $@)
	$(CC) $(SANFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS)
$(BUILD)/bin/mesh-proxy:
	@mkdir -p $(dir $@)
	$(CC) $(SANFLAGS) $(CFLAGS) $(LDFLAGS) $(PROXY_LDFLAGS) -o $@ $(filter-out $(PROXY_DEPS),$^) $(PROXY_LIBS)

test_dir  = $(word 1,$(subst /, ,$(1)))
test_libs = $(if $(filter lib,$(1)),,$(if $(filter tui,$(1)),$(LIBTUI) $(LIBCTL),$(BUILD)/lib$(1).a)) \
            $(if $(filter meshd tui ctl,$(1)),$(call obj,src/proxy/stats_write.c)) $(LIBMESH)
test_src  = $(if $(filter lib proxy meshd ctl,$(1)),src/$(1),tui)

.SECONDEXPANSION:
$(BUILD)/tests/%: tests/unit/%.c $$(call test_libs,$$(call test_dir,$$*)) $(WOLFSSL_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(MESH_CPPFLAGS) -Isrc -I$(call test_src,$(call test_dir,$*)) -Isrc/lib -Itests/unit \
		$(CPPFLAGS) $(MESH_CFLAGS) $(CFLAGS) $(LDFLAGS) \
		-o $@ $< $(call test_libs,$(call test_dir,$*)) $(LIBS) -lcmocka

# Test apps: small real servers the integration scenarios start.
$(BUILD)/apps/%: tests/apps/%.c $(LIBMESH) $(WOLFSSL_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(MESH_CPPFLAGS) $(CPPFLAGS) $(MESH_CFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIBMESH) $(LIBS)

# etcdtool drives the etcd client (src/lib/etcd*.c; meshd's folder for nothing else)
$(BUILD)/apps/etcdtool: tests/apps/etcdtool.c $(LIBMESHD) $(LIBMESH) $(WOLFSSL_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(MESH_CPPFLAGS) $(CPPFLAGS) $(MESH_CFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIBMESHD) $(LIBMESH) $(LIBS)

tests: $(UNIT_TESTS) $(APPS)

# The test apps alone (the demo runs them; no cmocka needed).
apps: $(APPS)

deps:
	@scripts/deps.sh build

check: deps-test
	$(MAKE) all tests
	@BUILD=$(BUILD) tests/run.sh

deps-test:
	@scripts/deps.sh test

# wolfSSL with the CPU's assembly, static (scripts/wolfssl.sh); every make
# after it links that one
wolfssl:
	@scripts/deps.sh wolfssl

demo:
	@scripts/deps.sh demo
	$(MAKE) all apps
	@BUILD=$(BUILD) examples/demo/run.sh

# Not part of check: about 4 minutes, and it measures, it does not assert.
# Installs haproxy, nginx, wrk and the nghttp2 tools when missing
# (scripts/bench.sh).  BENCH_ONLY=h2 make bench: the HTTP/2 row alone.
bench:
	$(MAKE) all
	@BUILD=$(BUILD) scripts/bench.sh

# src/proxy/hot.order again from what the sidecars run now (scripts/order.sh;
# x86-64, in a private network namespace: unshare -n, ip link set lo up);
# scripts/rss.sh measures the idle sidecar, windows and all.
order: all apps
	@BUILD=$(BUILD) scripts/order.sh

# 2 x 1,000,000 requests through two sidecars (keep-alive, then a new
# connection each); fails if a sidecar's RSS grew more than 5% after the
# first 100,000 or its descriptors grew.  Minutes; not part of check.
soak: all apps
	@BUILD=$(BUILD) scripts/soak.sh

# ---- fuzzing: clang's libFuzzer, one target per parser (tests/fuzz/) -------
#   make fuzz [FUZZ_TIME=60]       each target FUZZ_TIME s, from its seeds and
#                                  what earlier runs kept (build/fuzz/NAME.corpus/)
#   make fuzz-ci [FUZZ_CI_TIME=10] each target FUZZ_CI_TIME s from its seeds
#                                  alone (CI: .ci/run); one pass or fail a target
#   FUZZ_JOBS=2                    targets run at once
# Both end with "N passed, N failed".  A crash leaves build/fuzz/NAME.crash-*
# and the command that replays it; fixed, the input joins tests/fuzz/NAME.seeds/
# as a regression seed.  The library is built once, instrumented, for all.
FUZZ_CC      ?= clang
FUZZ_DIR     := build/fuzz
FUZZ_TIME    ?= 30
FUZZ_CI_TIME ?= 10
FUZZ_JOBS    ?= 2
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
# clang's -Wcast-align flags every char * to T * cast, aligned or not
# (config_table.c's offsetof table); gcc's only where alignment is strict
FUZZ_CFLAGS  := -std=c11 -g -O1 $(filter-out -Wcast-align,$(WARN)) $(FUZZ_SAN)
FUZZ_SRCS    := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS    := $(patsubst tests/fuzz/%.c,$(FUZZ_DIR)/%,$(FUZZ_SRCS))
FUZZ_OBJS    := $(patsubst %.c,$(FUZZ_DIR)/obj/%.o,$(LIB_SRCS) src/proxy/stats_write.c)

$(FUZZ_DIR)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(MESH_CPPFLAGS) -I$(dir $<) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link \
		-MMD -MP -c -o $@ $<

$(FUZZ_DIR)/libmesh.a: $(FUZZ_OBJS)
	rm -f $@
	$(AR) rcs $@ $^

$(FUZZ_DIR)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_DIR)/libmesh.a
	$(FUZZ_CC) $(MESH_CPPFLAGS) -Isrc -Isrc/lib $(FUZZ_CFLAGS) -fsanitize=fuzzer \
		-MMD -MP -o $@ $< $(FUZZ_DIR)/libmesh.a $(LIBS)

# fuzz_h2_frames drives src/proxy's HTTP/2 frame path under nghttp2: the
# files it needs of it (h2_queue.c, h2_opts.c, h2_mem.c, buf.c; no libev) are built in,
# instrumented, beside the library; the target is given src/proxy's headers
FUZZ_H2_OBJS := $(patsubst %.c,$(FUZZ_DIR)/obj/%.o,src/proxy/h2_queue.c src/proxy/h2_opts.c src/proxy/h2_mem.c src/proxy/buf.c)

$(FUZZ_DIR)/fuzz_h2_frames: tests/fuzz/fuzz_h2_frames.c $(FUZZ_H2_OBJS) $(FUZZ_DIR)/libmesh.a
	$(FUZZ_CC) $(MESH_CPPFLAGS) -Isrc -Isrc/lib -Isrc/proxy $(FUZZ_CFLAGS) -fsanitize=fuzzer \
		-MMD -MP -o $@ $< $(FUZZ_H2_OBJS) $(FUZZ_DIR)/libmesh.a $(LIBS)

# fuzz_etcd_frame reads responses as the etcd client does (src/lib/etcd_frame.c,
# etcd_json.c: in the instrumented libmesh.a)
FUZZ_ETCD_OBJS :=

$(FUZZ_DIR)/fuzz_etcd_frame: tests/fuzz/fuzz_etcd_frame.c $(FUZZ_ETCD_OBJS) $(FUZZ_DIR)/libmesh.a
	$(FUZZ_CC) $(MESH_CPPFLAGS) -Isrc -Isrc/lib $(FUZZ_CFLAGS) -fsanitize=fuzzer \
		-MMD -MP -o $@ $< $(FUZZ_ETCD_OBJS) $(FUZZ_DIR)/libmesh.a $(LIBS)

fuzz-build: $(FUZZ_BINS)

fuzz:
	@scripts/deps.sh fuzz
	@$(MAKE) --no-print-directory fuzz-build
	@scripts/fuzz.sh long $(FUZZ_TIME) $(FUZZ_JOBS) $(FUZZ_BINS)

fuzz-ci:
	@scripts/deps.sh fuzz
	@$(MAKE) --no-print-directory fuzz-build
	@scripts/fuzz.sh ci $(FUZZ_CI_TIME) $(FUZZ_JOBS) $(FUZZ_BINS)

# The smuggling cases of tests/integ/sec_smuggle.sh against HAProxy and
# nginx too (installs both; docs/security.md); not part of check.
security-compare:
	@BUILD=$(BUILD) scripts/security_compare.sh

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8
	install -m 0755 $(BUILD)/bin/meshctl $(DESTDIR)$(BINDIR)/meshctl
	install -m 0755 $(BUILD)/bin/meshd $(DESTDIR)$(SBINDIR)/meshd
	install -m 0755 $(BUILD)/bin/mesh-proxy $(DESTDIR)$(SBINDIR)/mesh-proxy
	install -m 0644 man/meshctl.1 $(DESTDIR)$(MANDIR)/man1/meshctl.1
	install -m 0644 man/mesh.ini.5 $(DESTDIR)$(MANDIR)/man5/mesh.ini.5
	install -m 0644 man/meshd.8 $(DESTDIR)$(MANDIR)/man8/meshd.8
	install -m 0644 man/mesh-proxy.8 $(DESTDIR)$(MANDIR)/man8/mesh-proxy.8
	install -d $(DESTDIR)$(UNITDIR) $(DESTDIR)$(COMPLETIONDIR) $(DESTDIR)$(SYSCONFDIR)/mesh
	for u in meshd.service meshd@.service; do \
		sed -e 's|/usr/bin/meshctl|$(BINDIR)/meshctl|g' -e 's|/usr/sbin/meshd|$(SBINDIR)/meshd|g' \
			units/$$u >$(DESTDIR)$(UNITDIR)/$$u && chmod 0644 $(DESTDIR)$(UNITDIR)/$$u || exit 1; \
	done
	install -m 0644 completion/meshctl.bash $(DESTDIR)$(COMPLETIONDIR)/meshctl
	@# never overwrite a mesh.ini someone has edited
	[ -e $(DESTDIR)$(SYSCONFDIR)/mesh/mesh.ini ] || \
		install -m 0644 etc/mesh.ini $(DESTDIR)$(SYSCONFDIR)/mesh/mesh.ini

# ---- edge install: Debian packages, ARM cross builds, footprint ----------
# Units, completion and /etc/mesh/mesh.ini go where systemd and bash look
# whatever PREFIX is: ConfigurationDirectory= is always under /etc.
SYSCONFDIR    ?= /etc
UNITDIR       ?= $(PREFIX)/lib/systemd/system
COMPLETIONDIR ?= $(PREFIX)/share/bash-completion/completions
# make deb [ARCH=arm64|armhf] [DEB_OUT=build/deb]: the .deb for the host or
# a cross build; make check-cross [CROSS_ARCHS="arm64 armhf"]: unit tests and
# a short scenario of each ARM build under qemu-user; make size.
ARCH          ?=
DEB_OUT       ?= build/deb
CROSS_ARCHS   ?= arm64 armhf

deb:
	@ARCH=$(ARCH) DEB_OUT=$(DEB_OUT) scripts/deb.sh

check-cross:
	@scripts/cross.sh check $(CROSS_ARCHS)

# CI's suite, then check-cross, the three .debs and the sizes
release:
	@scripts/release.sh

size:
	@scripts/size.sh $(CROSS_ARCHS)

.PHONY: deb check-cross size

clean:
	rm -rf build

.PHONY: release all tests apps deps deps-test wolfssl check demo bench order soak fuzz fuzz-ci fuzz-build security-compare install clean

-include $(patsubst %.o,%.d,$(call obj,$(ALL_SRCS)))
-include $(FUZZ_OBJS:.o=.d) $(FUZZ_BINS:=.d)
