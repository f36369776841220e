# SPDX-License-Identifier: GPL-2.0
# sipka: .bpf.c -> .bpf.o -> .skel.h -> sipka (the libbpf-bootstrap chain).
# `make V=1` shows every command.

PREFIX  ?= /usr/local
DESTDIR ?=
BINDIR  := $(PREFIX)/sbin
SYSCONFDIR ?= /etc
# The systemd unit directory: under PREFIX=/usr (a package), systemd's own (pkg-config systemd:
# /lib/systemd/system on Debian 12, /usr/lib/systemd/system on 13); under another prefix,
# PREFIX/lib/systemd/system (systemd reads /usr/local/lib/systemd/system too).
ifeq ($(PREFIX),/usr)
UNITDIR ?= $(or $(shell $(PKG_CONFIG) --variable=systemdsystemunitdir systemd 2>/dev/null),/usr/lib/systemd/system)
else
UNITDIR ?= $(PREFIX)/lib/systemd/system
endif
MANDIR  ?= $(PREFIX)/share/man
DOCDIR  ?= $(PREFIX)/share/doc/sipka
COMPLETIONDIR ?= $(PREFIX)/share/bash-completion/completions
# The guides beside the man page (README.md links to them as doc/NAME.md).
DOC_PAGES := $(wildcard doc/*.md)
UNITS   := sipka.service sipka-prometheus.service sipka-prometheus.timer sipka-events.service
# Where the sipka to warn about is pinned (make uninstall).
PIN_DIR ?= /sys/fs/bpf/sipka

# CC from the environment or the command line; make's built-in default (cc) gives way to gcc.
ifeq ($(origin CC),default)
CC      := gcc
endif
CLANG   ?= clang
LLVM_STRIP ?= llvm-strip
BPFTOOL ?= bpftool
PKG_CONFIG ?= pkg-config

VERSION := $(shell cat VERSION)
OUT     ?= build
BIN     ?= sipka
# The BPF program's instruction set (clang -mcpu) and optimisation level.
BPF_CPU ?= v3
BPF_OPT ?= -O2
# The target architecture, from the compiler (a cross compiler names its target), for
# bpf_tracing.h's __TARGET_ARCH_*; DEB_HOST_ARCH wins when a Debian build gives it.
ifdef DEB_HOST_ARCH
ARCH    := $(subst amd64,x86,$(subst ppc64el,powerpc,$(DEB_HOST_ARCH)))
else
ARCH    := $(shell $(CC) -dumpmachine | sed -e 's/-.*//' -e 's/x86_64/x86/' -e 's/aarch64/arm64/' \
		-e 's/powerpc64le/powerpc/' -e 's/s390x/s390/')
endif
# The kernel's types for that architecture, from BTF, in libbpf-tools' layout (make vmlinux).
VMLINUX_H := vmlinux/$(ARCH)/vmlinux.h

LIBS    := libbpf inih jansson libmicrohttpd
# bpftool's extra warnings (tools/scripts/Makefile.include) as bpftool uses them, that is
# without -Wswitch-enum, which wants every enum value listed even beside a default.
# (-Wstrict-aliasing=3 is in -Wall already.)
# WERROR=0 turns warnings back into warnings (a packager's newer compiler may find new ones).
WERROR  ?= 1
WARNINGS := -Wall -Wextra $(if $(filter 1,$(WERROR)),-Werror) -Wbad-function-cast -Wdeclaration-after-statement \
	    -Wformat -Wformat-security -Wformat-y2k -Winit-self -Wmissing-declarations \
	    -Wmissing-prototypes -Wnested-externs -Wno-system-headers -Wold-style-definition \
	    -Wpacked -Wredundant-decls -Wshadow -Wstrict-prototypes -Wundef -Wno-type-limits \
	    -Wswitch-default -Wwrite-strings
# GCC's only: clang 14 refuses it.
ifeq ($(findstring clang,$(shell $(CC) --version 2>/dev/null)),)
WARNINGS += -Wformat-signedness
endif
# The project's own flags stay apart from the user's CPPFLAGS, CFLAGS and EXTRA_CFLAGS, which
# come last: `make CFLAGS+=-fsanitize=address` or `EXTRA_CFLAGS=--coverage` keep -Iinclude, and
# a packager's CPPFLAGS (-D_FORTIFY_SOURCE=2) reach every loader file.
# -ffile-prefix-map keeps the build directory out of the binary: two clones, same bytes.
SIPKA_CFLAGS := -O2 -g -std=gnu11 $(WARNINGS) -Iinclude -I$(OUT) -DSIPKA_VERSION='"$(VERSION)"' \
		$(shell $(PKG_CONFIG) --cflags $(LIBS)) -ffile-prefix-map=$(CURDIR)=. $(SIPKA_DEFS)
# Each object's headers, as the compiler found them, in $(OUT)/*.d (included at the end).
DEPFLAGS := -MMD -MP
ALL_CFLAGS = $(SIPKA_CFLAGS) $(DEPFLAGS) $(CPPFLAGS) $(CFLAGS) $(EXTRA_CFLAGS)
ALL_LDFLAGS = $(LDFLAGS) $(EXTRA_LDFLAGS)
LDLIBS  += $(shell $(PKG_CONFIG) --libs $(LIBS)) -lelf -lz
# The BPF compile keeps its own flags: the user's CFLAGS are for the host compiler.
BPF_CFLAGS := -g $(BPF_OPT) -target bpf -mcpu=$(BPF_CPU) -D__TARGET_ARCH_$(ARCH) -Wall -Werror -I$(dir $(VMLINUX_H)) -I. -Iinclude \
	      -ffile-prefix-map=$(CURDIR)=. $(DEPFLAGS) $(SIPKA_DEFS)

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

LOADER_SRCS := $(wildcard loader/*.c)
LOADER_OBJS := $(patsubst loader/%.c,$(OUT)/%.o,$(LOADER_SRCS))
# The modules the unit tests link against: none reads the command line's options.
UNIT_OBJS   := $(OUT)/parse.o $(OUT)/conf.o $(OUT)/format.o $(OUT)/counter_table.o \
	       $(OUT)/prometheus.o $(OUT)/pinspec.o $(OUT)/maps.o $(OUT)/procfs.o $(OUT)/walk.o \
	       $(OUT)/event.o $(OUT)/hz.o $(OUT)/execenv.o $(OUT)/output.o $(OUT)/log.o
UNIT_SRCS   := $(wildcard tests/unit/*.c)

# make static (STATIC=1): every library linked in from Debian's archives (the -dev packages'
# .a files), for distributions whose libbpf is too old or missing. inih comes first: GnuTLS
# (libmicrohttpd's, for HTTPS) carries an INI parser of its own under the same names. Debian
# ships no static p11-kit, which GnuTLS's PKCS#11 code calls: sipka never asks for TLS, and
# static/p11kit_none.c stands in for it.
ifeq ($(STATIC),1)
LDLIBS      := -linih -ljansson $(filter-out -lp11-kit,$(shell $(PKG_CONFIG) --static --libs libbpf \
	       libmicrohttpd)) -lelf -lz
LOADER_OBJS += $(OUT)/p11kit_none.o
ALL_LDFLAGS += -static
endif

# Debian 12 and 13 packages (the same names in both): to build, then to run the tests.
BUILD_DEPS := clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev gcc libc6-dev make pkg-config \
	      libinih-dev libjansson-dev libmicrohttpd-dev
# libFuzzer's runtime for the default clang (14 on Debian 12, 19 on 13: make fuzz); make
# check-deps installs it.
FUZZ_DEPS  := clang libclang-rt-dev
TEST_DEPS  := python3 iproute2 nftables util-linux strace libcap2-bin prometheus bash-completion \
	      groff-base kamailio kamailio-tls-modules kamailio-websocket-modules sip-tester openssl \
	      python3-websockets python3-yaml baresip-core

.PHONY: all deps test-deps test bench demo install uninstall clean vmlinux vm-deps vmtest \
	test-sanitize check check-deps check-format check-cppcheck check-analyzer check-shell \
	check-docs check-kubernetes fuzz soak help deb deb-deps static static-deps test-static
## all             build ./sipka (the BPF object, its skeleton, the loader); V=1 shows each command
all: $(BIN)

## deps            install the Debian packages the build needs (root)
# Install what the build, and then the tests, need (root; apt-get).
deps:
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $(BUILD_DEPS)

## test-deps       install the Debian packages the tests need (root)
test-deps:
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $(TEST_DEPS)

$(OUT):
	$(Q)mkdir -p $@ $(dir $(BIN))

# clang's object keeps its DWARF, for debugging (llvm-objdump -S $(OUT)/sipka.debug.bpf.o).
$(OUT)/sipka.debug.bpf.o: bpf/sipka.bpf.c $(VMLINUX_H) | $(OUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

# The skeleton embeds the object linked by bpftool and stripped of DWARF (BTF stays):
# about a tenth of the size.
$(OUT)/sipka.bpf.o: $(OUT)/sipka.debug.bpf.o
	$(call msg,GEN-OBJ,$@)
	$(Q)$(BPFTOOL) gen object $@ $<
	$(Q)$(LLVM_STRIP) -g $@

$(OUT)/sipka.skel.h: $(OUT)/sipka.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name sipka_bpf > $@

# The skeleton is order-only: the .d files say which objects include it.
$(OUT)/%.o: loader/%.c VERSION | $(OUT) $(OUT)/sipka.skel.h
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(OUT)/p11kit_none.o: static/p11kit_none.c | $(OUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BIN): $(LOADER_OBJS)
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) $^ $(LDLIBS) -o $@

$(OUT)/unit-%.o: tests/unit/%.c | $(OUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -Iloader -c $< -o $@

$(OUT)/unit: $(patsubst tests/unit/%.c,$(OUT)/unit-%.o,$(UNIT_SRCS)) $(UNIT_OBJS)
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) $^ $(LDLIBS) -o $@

# The upgrade test's "newer build": the same sources optimized less, so
# another program (another tag).
$(OUT)/next/sipka: $(LOADER_SRCS) $(wildcard loader/*.h) bpf/sipka.bpf.c include/sipka.h
	$(Q)$(MAKE) --no-print-directory OUT=$(OUT)/next BIN=$@ BPF_OPT=-O1 $@

# The layout test's later layout: a field appended to the rule, SIPKA_LAYOUT + 1.
LAYOUT_NEXT := $(shell echo $$(( $$(sed -n 's/^\#define SIPKA_LAYOUT //p' include/sipka.h) + 1 )))
$(OUT)/layout-next/sipka: $(LOADER_SRCS) $(wildcard loader/*.h) bpf/sipka.bpf.c include/sipka.h
	$(Q)$(MAKE) --no-print-directory OUT=$(OUT)/layout-next BIN=$@ \
		SIPKA_DEFS="-DSIPKA_LAYOUT=$(LAYOUT_NEXT) -DSIPKA_TEST_APPENDED_FIELD" $@

# The releases before (0.1.0: layout 1; 0.2.0: layout 2; 0.3.0), for the migration
# and event tests: built from git history when the clone has it; the tests say they are
# skipped otherwise.
RELEASE_0.1.0 := 343071d
RELEASE_0.2.0 := 21170ea
# 0.3.0: the last commit before the redesign (issue 22); vmtest's deb boot upgrades from it.
RELEASE_0.3.0 := 1f1bcae
$(OUT)/v%/sipka:
	$(Q)rm -rf $(OUT)/v$* && mkdir -p $(OUT)/v$* && \
	  { git archive $(RELEASE_$*) 2>/dev/null | tar -x -C $(OUT)/v$* && \
	    $(MAKE) --no-print-directory -C $(OUT)/v$* sipka >/dev/null; } || \
	  echo "  (no git history of $(RELEASE_$*): the $* migration test is skipped)"

## test            unit tests, then the tests on this kernel (root); ends "N passed, N failed"
# Unit tests, then the real-kernel tests; needs root. Ends with "N passed, N failed".
test: $(BIN) $(OUT)/unit $(OUT)/next/sipka $(OUT)/layout-next/sipka $(OUT)/v0.1.0/sipka \
      $(OUT)/v0.2.0/sipka $(OUT)/v0.3.0/sipka
	$(Q)tests/run

# The same tests with sipka and the unit tests built with ASan and UBSan (in $(SAN_OUT)):
# any report fails its test (tests/e2e/harness.py). The upgrade test's "newer build" and
# the install test's binary stay the plain ones.
SAN_OUT   ?= $(OUT)/san
SAN_FLAGS := -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
## test-sanitize   the same tests with sipka built with ASan and UBSan (root)
test-sanitize: $(BIN) $(OUT)/next/sipka
	$(Q)$(MAKE) --no-print-directory OUT=$(SAN_OUT) BIN=$(SAN_OUT)/sipka \
		EXTRA_CFLAGS="$(EXTRA_CFLAGS) $(SAN_FLAGS)" $(SAN_OUT)/sipka $(SAN_OUT)/unit
	$(Q)ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
		SIPKA=$(SAN_OUT)/sipka UNIT=$(SAN_OUT)/unit tests/run

# Static checks. Each reports nothing, or its finding is suppressed where it is, with
# the reason. Debian 12's tools: make check-deps.
CLANG_FORMAT ?= clang-format-14
CPPCHECK     ?= cppcheck
ANALYZER_CC  ?= gcc
SHELLCHECK   ?= shellcheck
CHECK_DEPS   := clang-format-14 cppcheck gcc shellcheck $(FUZZ_DEPS)
# The C files as written; the skeleton ($(OUT)) and vmlinux/*/vmlinux.h are generated.
C_SRCS = $(wildcard loader/*.[ch] bpf/*.[ch] include/*.h tests/unit/*.[ch] tests/fuzz/*.[ch] \
	 bench/*.[ch] static/*.c)
# Every shell script: a shell in its #! line; and the completion, which has none.
SHELL_SCRIPTS = $(sort $(shell for f in $$(find .ci tests bench debian -type f ! -path '*/__pycache__/*'); do \
		head -n 1 "$$f" | grep -qE '^\#!.*[/ ](ba)?sh$$' && echo "$$f"; done)) loader/sipka.bash

## check           every static check below; no root; CI runs it
check: check-format check-cppcheck check-analyzer check-shell check-docs

## check-deps      install the Debian packages the checks need (root)
check-deps:
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $(CHECK_DEPS)

## check-format    C files against .clang-format (clang-format 14)
# .clang-format: kernel style at 100 columns. `clang-format -i FILE` formats a file.
check-format: | $(OUT)
	$(call msg,FORMAT,$(words $(C_SRCS)) C files)
	$(Q)n=0; for f in $(C_SRCS); do \
		$(CLANG_FORMAT) "$$f" >$(OUT)/format.tmp || exit 1; \
		d=$$(diff "$$f" $(OUT)/format.tmp | grep -c '^<'); \
		[ "$$d" -eq 0 ] || { echo "$$f: $$d lines to reformat"; n=$$((n + 1)); }; \
	done; rm -f $(OUT)/format.tmp; \
	[ $$n -eq 0 ] || { echo "$$n files: see clang-format FILE | diff FILE -"; exit 1; }

## check-cppcheck  cppcheck over the C files
# Without -I$(OUT) the skeleton is not read. Globally off, with the reason:
# variableScope: kernel style declares variables at the top of a block
# (-Wdeclaration-after-statement); readdirCalled: readdir_r is the deprecated one.
# The BPF macros of bpf_helpers.h, which cppcheck is not given, are spelt out.
check-cppcheck:
	$(call msg,CPPCHECK,$(words $(filter %.c,$(C_SRCS))) C files)
	$(Q)$(CPPCHECK) --quiet --error-exitcode=1 --enable=warning,style,performance,portability \
		--inline-suppr --std=c11 --library=posix --suppress=variableScope \
		--suppress=readdirCalled -Iinclude -Iloader -Ibpf -Ibench -Itests/unit -Itests/fuzz \
		'-DLIBBPF_OPTS(TYPE, NAME, ...)=struct TYPE NAME = { .sz = sizeof(struct TYPE), __VA_ARGS__ }' \
		'-DSEC(name)=' '-D__uint(name, val)=int (*name)[val]' \
		'-D__type(name, val)=typeof(val) *name' '-D__always_inline=inline' \
		$(filter %.c,$(C_SRCS))

## check-analyzer  gcc -fanalyzer over the loader
# GCC's static analyzer over the loader, a compile of its own.
check-analyzer: $(OUT)/sipka.skel.h
	$(call msg,ANALYZER,loader/*.c)
	$(Q)rc=0; for f in $(LOADER_SRCS); do \
		$(ANALYZER_CC) $(SIPKA_CFLAGS) $(CFLAGS) $(EXTRA_CFLAGS) -fanalyzer -c "$$f" -o /dev/null || rc=1; \
	done; exit $$rc

## check-shell     shellcheck over the shell scripts and the completion
# -S warning: info and style notes are advice. The completion's COMPREPLY=($$(compgen ...))
# is bash-completion's own idiom (SC2207): its words hold no spaces.
check-shell:
	$(call msg,SHELLCHK,$(words $(SHELL_SCRIPTS)) scripts)
	$(Q)$(SHELLCHECK) -S warning $(filter-out loader/sipka.bash,$(SHELL_SCRIPTS))
	$(Q)$(SHELLCHECK) -S warning -s bash -e SC2207 loader/sipka.bash

## check-docs      the docs against the code: man page, completion, links, counters (no root)
# tests/docs: Python unittest, no root; they read ./sipka's tables (sipka -j help) and the sources.
check-docs: $(BIN)
	$(call msg,DOCS,tests/docs)
	$(Q)SIPKA=$(BIN) /usr/bin/python3 -m unittest discover -s tests/docs $(if $(V),-v,-q)

## check-kubernetes examples/kubernetes/ against the Kubernetes schemas, offline (node, npm; no root)
# tests/kubernetes/validate: the npm validators installed once into SIPKA_NPM_CACHE (default
# /var/cache/sipka-npm), then no network. Not part of check: it needs nodejs and npm.
check-kubernetes: $(BIN)
	$(call msg,K8S,examples/kubernetes)
	$(Q)SIPKA=$(BIN) tests/kubernetes/validate

# libFuzzer targets (tests/fuzz/fuzz_*.c, one per decoder of outside bytes), built with clang's
# -fsanitize=fuzzer,address,undefined in $(FUZZ_OUT) against the pure loader modules. `make
# fuzz` runs each for FUZZ_SECONDS from its seed corpus (tests/fuzz/corpus/TARGET), FUZZ_JOBS
# at a time; a crash, a leak or a sanitizer report fails it (tests/fuzz/run). The runtime,
# libclang_rt.fuzzer, is in libclang-rt-dev (FUZZ_DEPS; Debian 12's is 14's): make check-deps.
FUZZ_CC      ?= $(CLANG)
FUZZ_OUT     ?= $(OUT)/fuzz
FUZZ_SECONDS ?= 60
FUZZ_JOBS    ?= 1
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS   = -O1 -g -std=gnu11 $(filter-out -Wformat-signedness,$(WARNINGS)) -Iinclude -Iloader \
		-DSIPKA_VERSION='"$(VERSION)"' \
		$(shell $(PKG_CONFIG) --cflags $(LIBS)) $(DEPFLAGS) $(FUZZ_SAN) $(CFLAGS) $(EXTRA_CFLAGS)
FUZZ_SRCS    := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS    := $(patsubst tests/fuzz/%.c,$(FUZZ_OUT)/%,$(FUZZ_SRCS))
# Every target links the pure modules (what it does not call, the linker leaves out).
FUZZ_OBJS    := $(patsubst %,$(FUZZ_OUT)/%.o,parse conf format event procfs walk pinspec maps \
		counter_table prometheus)

# Kept between builds: make would remove them as intermediates.
.SECONDARY: $(FUZZ_OBJS)

$(FUZZ_OUT):
	$(Q)mkdir -p $@

$(FUZZ_OUT)/%.o: loader/%.c | $(FUZZ_OUT)
	$(call msg,FUZZ-CC,$@)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_OUT)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_OBJS) | $(FUZZ_OUT)
	$(call msg,FUZZ,$@)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer $(ALL_LDFLAGS) $< $(FUZZ_OBJS) $(LDLIBS) -o $@

## fuzz            each libFuzzer target for FUZZ_SECONDS (60) from its seed corpus; fails on a crash
fuzz: $(FUZZ_BINS)
	$(Q)FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_JOBS=$(FUZZ_JOBS) tests/fuzz/run $(FUZZ_BINS)

$(OUT)/bench-%: bench/%.c | $(OUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) $< $(LDLIBS) -lpthread -o $@

# The benchmarks' yardstick programs (bare.bpf.c, return.bpf.c).
BENCH_BPF := $(patsubst bench/%.bpf.c,$(OUT)/%.bpf.o,$(wildcard bench/*.bpf.c))
$(BENCH_BPF): $(OUT)/%.bpf.o: bench/%.bpf.c bpf/uapi.h $(VMLINUX_H) | $(OUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

BENCH_SRCS := $(filter-out %.bpf.c,$(wildcard bench/*.c))

## bench           benchmarks (root); their figures go in bench/RESULTS.md
# Benchmarks, as root; figures in bench/RESULTS.md.
bench: $(BIN) $(patsubst bench/%.c,$(OUT)/bench-%,$(BENCH_SRCS)) $(BENCH_BPF)
	$(Q)bench/run

## soak            everything at once for SOAK_MINUTES (default 30), then exact books (root)
# Churn, idle phones black-holed, rule changes, upgrades, killed commands and readers, all at
# once; then the counters, events, the readers' memory and what is left (tests/soak/soak.py).
SOAK_MINUTES ?= 30
soak: $(BIN) $(OUT)/next/sipka
	$(Q)SOAK_MINUTES=$(SOAK_MINUTES) /usr/bin/python3 tests/soak/soak.py

# Debian's own kernels and systemd in QEMU (root): Debian 12's 6.1 and Debian 13's 6.12
# build and run `make test`; systemd 252 and 257 run the units, and the Debian package is
# installed, upgraded and removed. See tests/vm/run. VMTEST="e2e-trixie-6.12 systemd-trixie"
# boots only those; VMTEST=e2e-arm64 (opt-in) boots Debian 12's arm64 kernel, which also
# needs qemu-system-arm and qemu-user-static: `make vm-deps VMTEST=e2e-arm64` adds them.
VM_DEPS := qemu-system-x86 debootstrap e2fsprogs \
	$(if $(findstring arm64,$(VMTEST)),qemu-system-arm qemu-user-static)
## vm-deps         install QEMU and debootstrap for vmtest (root; VMTEST=e2e-arm64: and arm64's)
vm-deps:
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $(VM_DEPS)

## vmtest          Debian's own kernels and systemd in QEMU (root; VMTEST= picks boots)
vmtest:
	$(Q)BUILD_DEPS="$(BUILD_DEPS)" TEST_DEPS="$(TEST_DEPS)" tests/vm/run $(VMTEST)

## demo            Kamailio phones vanish and sipka finds them, to watch (root)
# For a person to watch (root): phones register to Kamailio, vanish, and die.
demo: $(BIN)
	$(Q)tests/demo.sh

## vmlinux         regenerate vmlinux/ARCH/vmlinux.h from the running kernel's BTF (VMLINUX_BTF=)
# Regenerate $(VMLINUX_H) from the running kernel's BTF, or from VMLINUX_BTF: a BTF file, e.g.
# one taken from another architecture's kernel image (doc/validation.md#architectures).
VMLINUX_BTF ?= /sys/kernel/btf/vmlinux
vmlinux:
	@[ "$(VMLINUX_BTF)" != /sys/kernel/btf/vmlinux ] || [ "$$(uname -m | sed -e 's/x86_64/x86/' \
		-e 's/aarch64/arm64/')" = "$(ARCH)" ] || { echo "make vmlinux: this kernel is not $(ARCH):" \
		"give VMLINUX_BTF=FILE (doc/validation.md#architectures)" >&2; exit 1; }
	mkdir -p $(dir $(VMLINUX_H))
	$(BPFTOOL) btf dump file $(VMLINUX_BTF) format c > $(VMLINUX_H).tmp
	mv $(VMLINUX_H).tmp $(VMLINUX_H)

## install         install sipka, its units, man page, completion and example config
install: $(BIN)
	install -D -m 0755 $(BIN) $(DESTDIR)$(BINDIR)/sipka
	# A config ops have edited is theirs: never overwrite it.
	[ -e $(DESTDIR)$(SYSCONFDIR)/sipka/sipka.conf ] || \
		install -D -m 0644 examples/sipka.conf $(DESTDIR)$(SYSCONFDIR)/sipka/sipka.conf
	install -d $(DESTDIR)$(UNITDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(DOCDIR) $(DESTDIR)$(COMPLETIONDIR)
	for u in $(UNITS); do \
		sed -e 's|/usr/local/sbin/sipka|$(BINDIR)/sipka|' -e 's|/etc/sipka/|$(SYSCONFDIR)/sipka/|' \
			systemd/$$u > $(DESTDIR)$(UNITDIR)/$$u; \
	done
	sed -e 's|/usr/local/sbin/sipka|$(BINDIR)/sipka|' systemd/sipka-pbx.conf > $(DESTDIR)$(DOCDIR)/sipka-pbx.conf
	install -m 0644 examples/sipka.conf README.md $(DESTDIR)$(DOCDIR)/
	install -D -m 0644 -t $(DESTDIR)$(DOCDIR)/doc $(DOC_PAGES)
	sed -e 's/@VERSION@/$(VERSION)/' -e 's|@DOCDIR@|$(DOCDIR)|' man/sipka.8 > $(DESTDIR)$(MANDIR)/man8/sipka.8
	install -m 0644 loader/sipka.bash $(DESTDIR)$(COMPLETIONDIR)/sipka

## uninstall       remove what install put (an edited /etc/sipka/sipka.conf stays)
# Leaves /etc/sipka/sipka.conf if it was edited, as package managers do.
uninstall:
	@# The binary goes, but a loaded sipka stays in the kernel: say how to remove it.
	@if [ -e $(PIN_DIR) ]; then \
		echo "warning: sipka is still loaded ($(PIN_DIR) exists) and keeps arming connections;" >&2; \
		echo "warning: run 'sipka detach' first, while the sipka command is still installed" >&2; \
	fi
	rm -f $(DESTDIR)$(BINDIR)/sipka $(DESTDIR)$(MANDIR)/man8/sipka.8 \
	      $(DESTDIR)$(COMPLETIONDIR)/sipka $(addprefix $(DESTDIR)$(UNITDIR)/,$(UNITS)) \
	      $(DESTDIR)$(DOCDIR)/sipka-pbx.conf $(DESTDIR)$(DOCDIR)/sipka.conf \
	      $(DESTDIR)$(DOCDIR)/README.md $(addprefix $(DESTDIR)$(DOCDIR)/,$(DOC_PAGES))
	-rmdir $(DESTDIR)$(DOCDIR)/doc $(DESTDIR)$(DOCDIR)
	-cmp -s examples/sipka.conf $(DESTDIR)$(SYSCONFDIR)/sipka/sipka.conf && \
		rm -f $(DESTDIR)$(SYSCONFDIR)/sipka/sipka.conf && rmdir $(DESTDIR)$(SYSCONFDIR)/sipka

# The Debian package (debian/: debhelper 13, plain dh), built with dpkg-buildpackage -b in a
# copy of the tree, $(DEB_OUT)/src: $(DEB_OUT)/sipka_VERSION_ARCH.deb. The version is VERSION's,
# with debian/changelog's revision; a tree that is not the release (a git clone whose HEAD is
# not tagged vVERSION) is a snapshot after it, VERSION+gitDATE.HASH-1, in a changelog entry
# added to the copy. DEB_FROM=COMMIT (or RELEASE) builds that commit (git archive) with this
# debian/ instead, at its own VERSION-1: vmtest's upgrade starts from RELEASE_0.3.0's (whose
# Makefile put the units in PREFIX/lib/systemd/system: UNITDIR, systemd's, is given to it).
# DEB_ARCH=arm64 cross-builds for that architecture (dpkg-buildpackage --host-arch), without
# the unit tests (its binaries do not run here): make deb-deps DEB_ARCH=arm64 first, once.
DEB_OUT  ?= $(OUT)/deb
DEB_FROM ?=
DEB_ARCH ?=
DEB_DEPS := debhelper dpkg-dev lintian
## deb-deps        install what make deb needs beside make deps (root; DEB_ARCH=: a cross build's)
deb-deps:
ifeq ($(DEB_ARCH),)
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $(DEB_DEPS)
else
	dpkg --add-architecture $(DEB_ARCH) && apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $(DEB_DEPS) \
		crossbuild-essential-$(DEB_ARCH)
	DEBIAN_FRONTEND=noninteractive apt-get build-dep -y --no-install-recommends --host-architecture $(DEB_ARCH) ./
endif

## deb             the Debian package: build/deb/sipka_VERSION_ARCH.deb (DEB_FROM=COMMIT: that one's)
deb:
	$(Q)command -v dpkg-buildpackage >/dev/null && command -v dh >/dev/null || \
		{ echo "make deb needs dpkg-dev and debhelper: make deb-deps"; exit 1; }
	$(Q)rm -rf $(DEB_OUT)/src $(DEB_OUT)/sipka*_*.deb $(DEB_OUT)/sipka_*.changes $(DEB_OUT)/sipka_*.buildinfo && \
		mkdir -p $(DEB_OUT)/src
ifneq ($(DEB_FROM),)
	$(Q)git archive $(or $(RELEASE_$(DEB_FROM)),$(DEB_FROM)) | tar -x -C $(DEB_OUT)/src
	$(Q)rm -rf $(DEB_OUT)/src/debian && cp -r debian $(DEB_OUT)/src/
	@# The examples that commit has (0.3.0 had no examples/actions).
	$(Q)cd $(DEB_OUT)/src && while read -r p; do [ ! -e "$$p" ] || echo "$$p"; done \
		<debian/sipka.examples >debian/sipka.examples.new && mv debian/sipka.examples.new debian/sipka.examples
else
	$(Q)tar -c --exclude=./build --exclude=./.git --exclude=./$(BIN) --exclude=./$(OUT) . | \
		tar -x -C $(DEB_OUT)/src
endif
	$(Q)set -e; cd $(DEB_OUT)/src; v=$$(cat VERSION); ver=$$v-$$(dpkg-parsechangelog -S Version | sed 's/.*-//'); \
	if [ -z "$(DEB_FROM)" ] && git -C $(CURDIR) rev-parse -q --verify HEAD >/dev/null 2>&1 && \
	   ! git -C $(CURDIR) describe --exact-match --match "v$$v" >/dev/null 2>&1; then \
		ver=$$v+git$$(git -C $(CURDIR) log -1 --format=%cd --date=format:%Y%m%d).$$(git -C $(CURDIR) rev-parse --short=7 HEAD)-1; \
	fi; \
	if [ "$$ver" != "$$(dpkg-parsechangelog -S Version)" ]; then \
		{ printf 'sipka (%s) unstable; urgency=medium\n\n  * Built by make deb from %s.\n\n -- %s  %s\n\n' \
			"$$ver" "$(or $(DEB_FROM),$$(git -C $(CURDIR) rev-parse --short=7 HEAD))" \
			"$$(dpkg-parsechangelog -S Maintainer)" "$$(date -R)"; cat debian/changelog; } >debian/changelog.new; \
		mv debian/changelog.new debian/changelog; \
	fi; \
	echo "  DEB      sipka $$ver (log: $(DEB_OUT)/build.log)"; \
	$(if $(DEB_FROM),UNITDIR=$$($(PKG_CONFIG) --variable=systemdsystemunitdir systemd)) \
		$(if $(DEB_ARCH),DEB_BUILD_OPTIONS="nocheck $$DEB_BUILD_OPTIONS") \
		dpkg-buildpackage -b -us -uc $(if $(DEB_ARCH),--host-arch $(DEB_ARCH) -Pnocheck) >../build.log 2>&1 || \
		{ tail -n 30 ../build.log; exit 1; }; \
	echo "  DEB      $(DEB_OUT)/sipka_$${ver}_$$(dpkg-architecture $(if $(DEB_ARCH),-a$(DEB_ARCH)) -qDEB_HOST_ARCH).deb"

# The static binary (STATIC=1 above) in $(STATIC_OUT); it says which libraries it needs (none).
STATIC_OUT ?= $(OUT)/static
STATIC_DEPS := libgnutls28-dev libgmp-dev nettle-dev libtasn1-6-dev libidn2-dev libunistring-dev
## static-deps     install the static libraries make static needs beside make deps (root)
static-deps:
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $(STATIC_DEPS)

## static          one binary with every library linked in: build/static/sipka (see README)
static:
	$(Q)libs=$$($(PKG_CONFIG) --static --libs-only-l $(LIBS)) || \
		{ echo "make static: pkg-config lacks a library's static dependencies: make deps static-deps"; exit 1; }; \
	for l in $$libs -lelf -lz; do \
		[ "$$l" = -lp11-kit ] || [ -e "$$($(CC) -print-file-name=lib$${l#-l}.a)" ] || \
		{ echo "make static: no lib$${l#-l}.a (the static library): make deps static-deps"; exit 1; }; \
	done
	$(Q)$(MAKE) --no-print-directory STATIC=1 OUT=$(STATIC_OUT) BIN=$(STATIC_OUT)/sipka $(STATIC_OUT)/sipka
	$(Q)! ldd $(STATIC_OUT)/sipka >/dev/null 2>&1 || { ldd $(STATIC_OUT)/sipka; echo "not static"; exit 1; }
	$(call msg,STATIC,$(STATIC_OUT)/sipka: no shared library ($$(du -h $(STATIC_OUT)/sipka | cut -f1)))

## test-static     the static binary in Debian 12 and 13 chroots without its libraries (root)
# tests/static/run: debootstrap --variant=minbase chroots, cached; --version, config check, check.
# The e2e suite with it: SIPKA=build/static/sipka tests/run.
test-static: static
	$(Q)tests/static/run $(STATIC_OUT)/sipka

## clean           remove build/ and ./sipka
clean:
	rm -rf $(OUT) $(BIN)

## help            this list
# The lines that start with two hashes, above each target.
help:
	@echo "make TARGET (variables: see the top of the Makefile and HACKING.md):"
	@sed -n 's/^## /  /p' $(firstword $(MAKEFILE_LIST))

# Each object's header dependencies, written by -MMD.
-include $(wildcard $(OUT)/*.d $(FUZZ_OUT)/*.d)
