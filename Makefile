# sipka: .bpf.c -> .bpf.o -> .skel.h -> sipka (the libbpf-bootstrap chain).
# `make V=1` shows every command.

PREFIX  ?= /usr/local
DESTDIR ?=
BINDIR  := $(PREFIX)/sbin
SYSCONFDIR ?= /etc
UNITDIR ?= $(PREFIX)/lib/systemd/system
MANDIR  ?= $(PREFIX)/share/man
DOCDIR  ?= $(PREFIX)/share/doc/sipka
COMPLETIONDIR ?= $(PREFIX)/share/bash-completion/completions
UNITS   := sipka.service sipka-prometheus.service sipka-prometheus.timer

CC      ?= gcc
CLANG   ?= clang
BPFTOOL ?= bpftool
PKG_CONFIG ?= pkg-config

VERSION := $(shell cat VERSION)
OUT     ?= build
BIN     ?= sipka
BPF_CPU ?= v3
ARCH    := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/' -e 's/ppc64le/powerpc/' -e 's/s390x/s390/')

LIBS    := libbpf inih jansson
CFLAGS  ?= -O2 -g
CFLAGS  += -Wall -Wextra -Werror -std=gnu11 -Iinclude -I$(OUT) \
	   -DSIPKA_VERSION='"$(VERSION)"' $(shell $(PKG_CONFIG) --cflags $(LIBS))
LDLIBS  += $(shell $(PKG_CONFIG) --libs $(LIBS)) -lelf -lz
BPF_CFLAGS := -g -O2 -target bpf -mcpu=$(BPF_CPU) -D__TARGET_ARCH_$(ARCH) -Wall -Werror -I. -Iinclude \
	      $(SIPKA_DEFS)
CFLAGS  += $(SIPKA_DEFS)

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

LOADER_SRCS := $(wildcard loader/*.c)
LOADER_OBJS := $(patsubst loader/%.c,$(OUT)/%.o,$(LOADER_SRCS))
# The pure modules the unit tests link against.
PURE_OBJS   := $(OUT)/parse.o $(OUT)/conf.o
UNIT_SRCS   := $(wildcard tests/unit/*.c)

# Debian 12 packages: to build, then to run the tests.
BUILD_DEPS := clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev gcc libc6-dev make pkg-config \
	      libinih-dev libjansson-dev
TEST_DEPS  := python3 iproute2 nftables util-linux strace prometheus bash-completion groff-base \
	      kamailio kamailio-tls-modules sip-tester openssl

.PHONY: all deps test-deps test bench demo install uninstall clean vmlinux
all: $(BIN)

$(OUT):
	$(Q)mkdir -p $@ $(dir $(BIN))

$(OUT)/sipka.bpf.o: bpf/sipka.bpf.c bpf/uapi.h include/sipka.h vmlinux.h | $(OUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUT)/sipka.skel.h: $(OUT)/sipka.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name sipka_bpf > $@

$(OUT)/%.o: loader/%.c $(wildcard loader/*.h) include/sipka.h $(OUT)/sipka.skel.h VERSION | $(OUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(BIN): $(LOADER_OBJS)
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(OUT)/unit: $(UNIT_SRCS) $(PURE_OBJS) $(wildcard tests/unit/*.h)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Iloader $(UNIT_SRCS) $(PURE_OBJS) $(LDLIBS) -o $@

# The upgrade test's "newer build": the same sources, another instruction set,
# so another program (another tag).
$(OUT)/next/sipka: $(LOADER_SRCS) $(wildcard loader/*.h) bpf/sipka.bpf.c include/sipka.h
	$(Q)$(MAKE) --no-print-directory OUT=$(OUT)/next BIN=$@ BPF_CPU=v2 $@

# The layout test's later layout: a field appended to the rule, layout 3.
$(OUT)/layout3/sipka: $(LOADER_SRCS) $(wildcard loader/*.h) bpf/sipka.bpf.c include/sipka.h
	$(Q)$(MAKE) --no-print-directory OUT=$(OUT)/layout3 BIN=$@ \
		SIPKA_DEFS="-DSIPKA_LAYOUT=3 -DSIPKA_TEST_APPENDED_FIELD" $@

# The last release (layout 1), for the migration test: built from git history
# when the clone has it; the test says it is skipped otherwise.
RELEASE_PREV := 343071d
$(OUT)/v0.1.0/sipka:
	$(Q)rm -rf $(OUT)/v0.1.0 && mkdir -p $(OUT)/v0.1.0 && \
	  { git archive $(RELEASE_PREV) 2>/dev/null | tar -x -C $(OUT)/v0.1.0 && \
	    $(MAKE) --no-print-directory -C $(OUT)/v0.1.0 sipka >/dev/null; } || \
	  echo "  (no git history of $(RELEASE_PREV): the 0.1.0 migration test is skipped)"

# Unit tests, then the real-kernel tests; needs root. Ends with "N passed, N failed".
test: $(BIN) $(OUT)/unit $(OUT)/next/sipka $(OUT)/layout3/sipka $(OUT)/v0.1.0/sipka
	$(Q)tests/run

# Install what the build, and then the tests, need (root; apt-get).
deps:
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $(BUILD_DEPS)

test-deps:
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $(TEST_DEPS)

$(OUT)/bench-%: bench/%.c bench/common.h | $(OUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $< $(LDLIBS) -lpthread -o $@

$(OUT)/bare.bpf.o: bench/bare.bpf.c bpf/uapi.h vmlinux.h | $(OUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

BENCH_SRCS := $(filter-out %.bpf.c,$(wildcard bench/*.c))

# Benchmarks, as root; figures in bench/RESULTS.md.
bench: $(BIN) $(patsubst bench/%.c,$(OUT)/bench-%,$(BENCH_SRCS)) $(OUT)/bare.bpf.o
	$(Q)bench/run

# For a person to watch (root): phones register to Kamailio, vanish, and die.
demo: $(BIN)
	$(Q)tests/demo.sh

# Regenerate vmlinux.h from the running kernel's BTF.
vmlinux:
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > vmlinux.h

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
	install -m 0644 systemd/sipka-pbx.conf examples/sipka.conf $(DESTDIR)$(DOCDIR)/
	sed 's/@VERSION@/$(VERSION)/' man/sipka.8 > $(DESTDIR)$(MANDIR)/man8/sipka.8
	install -m 0644 loader/sipka.bash $(DESTDIR)$(COMPLETIONDIR)/sipka

# Leaves /etc/sipka/sipka.conf if it was edited, as package managers do.
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/sipka $(DESTDIR)$(MANDIR)/man8/sipka.8 \
	      $(DESTDIR)$(COMPLETIONDIR)/sipka $(addprefix $(DESTDIR)$(UNITDIR)/,$(UNITS)) \
	      $(DESTDIR)$(DOCDIR)/sipka-pbx.conf $(DESTDIR)$(DOCDIR)/sipka.conf
	-rmdir $(DESTDIR)$(DOCDIR)
	-cmp -s examples/sipka.conf $(DESTDIR)$(SYSCONFDIR)/sipka/sipka.conf && \
		rm -f $(DESTDIR)$(SYSCONFDIR)/sipka/sipka.conf && rmdir $(DESTDIR)$(SYSCONFDIR)/sipka

clean:
	rm -rf $(OUT) $(BIN)
