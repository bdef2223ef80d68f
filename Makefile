# SPDX-License-Identifier: GPL-2.0-only
# egressd: make builds build/egressd; make test runs every test layer.

OUTPUT    ?= build
PREFIX    ?= /usr/local
BINDIR    ?= $(PREFIX)/bin
MANDIR    ?= $(PREFIX)/share/man
DESTDIR   ?=
CC        ?= cc
CLANG     ?= clang
BPFTOOL   ?= bpftool
PKG_CONFIG ?= pkg-config
VERSION   := 0.3.0

# vmlinux.h is checked in per arch so the build never depends on the
# build host's kernel (see scripts/gen-vmlinux.sh).
UNAME_M   := $(shell uname -m)
ARCH      := $(shell echo $(UNAME_M) | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/' \
		-e 's/ppc64le/powerpc/' -e 's/s390x/s390/' -e 's/riscv64/riscv/')
VMLINUX   := vmlinux/$(UNAME_M)/vmlinux.h

PKGS      := libbpf libcares libcurl json-c
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
# libcurl's headers only: user/curlso.c loads the library when it is used.
PKG_LIBS  := $(shell $(PKG_CONFIG) --libs $(filter-out libcurl,$(PKGS)) 2>/dev/null)
CMOCKA_LIBS := $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null)

WARN      := -Wall -Wextra -Werror
CFLAGS    ?= -O2 -g
ALL_CFLAGS := $(CFLAGS) $(WARN) -std=gnu11 -D_GNU_SOURCE -DEGRESSD_VERSION='"$(VERSION)"' \
	      -Iinclude -Iuser -I$(OUTPUT) $(PKG_CFLAGS) -MMD -MP
BPF_CFLAGS := -O2 -g -target bpf -D__TARGET_ARCH_$(ARCH) $(WARN) \
	      -Iinclude -I$(dir $(VMLINUX)) -MMD -MP

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

BPF_SRCS  := $(wildcard bpf/*.bpf.c)
BPF_NAMES := $(patsubst bpf/%.bpf.c,%,$(BPF_SRCS))
SKELS     := $(patsubst %,$(OUTPUT)/%.skel.h,$(BPF_NAMES))
USER_SRCS := $(wildcard user/*.c)
USER_OBJS := $(patsubst user/%.c,$(OUTPUT)/user/%.o,$(USER_SRCS))
LIB_OBJS  := $(filter-out $(OUTPUT)/user/main.o,$(USER_OBJS))
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(OUTPUT)/tests/%,$(UNIT_SRCS))
BPFT_SRCS := $(wildcard tests/bpf/test_*.c)
BPFT_BINS := $(patsubst tests/bpf/%.c,$(OUTPUT)/tests/%,$(BPFT_SRCS))
# faultinj.c is an LD_PRELOAD shim (a .so), not a program: its own rule.
HELP_SRCS := $(filter-out tests/helpers/faultinj.c,$(wildcard tests/helpers/*.c))
HELP_BINS := $(patsubst tests/helpers/%.c,$(OUTPUT)/tests/%,$(HELP_SRCS))
# Defined here, before test-bins names them: a prerequisite list is
# expanded where the rule is read.
BENCH_DIR  := $(OUTPUT)/bench
BENCH_BINS := $(BENCH_DIR)/connsrv $(BENCH_DIR)/connrate $(BENCH_DIR)/progcost $(BENCH_DIR)/floor \
	      $(BENCH_DIR)/verifier \
	      $(BENCH_DIR)/noop.bpf.o

.DELETE_ON_ERROR:
.SECONDARY:
.PHONY: all test test-unit test-bpf test-e2e test-adversarial install uninstall clean help deps-check \
	bench bench-smoke bench-bins soak soak-smoke

all: $(OUTPUT)/egressd

help:
	@echo 'make            build $(OUTPUT)/egressd'
	@echo 'make test       unit, BPF packet, end-to-end and adversarial tests (root)'
	@echo 'make test-unit | test-bpf | test-e2e | test-adversarial   one layer'
	@echo 'make test-asan  unit tests (and e2e with CI=true) with ASan+UBSan builds in $(OUTPUT)/asan'
	@echo 'make valgrind   end-to-end tests with egressd under valgrind memcheck (VALGRIND_TESTS=filters)'
	@echo 'make bench      egressd vs none, iptables+ipset, nftables; writes docs/benchmarks.md (root, ~15 min)'
	@echo 'make bench-smoke   one short repetition of every metric: does the harness work'
	@echo 'make soak       10 min of rotating DNS, allowed+denied traffic, an exec session; build/soak/results.json (root; SOAK_SECONDS)'
	@echo 'make soak-smoke   the soak for 30 s: does the harness work'
	@echo 'make install    PREFIX=$(PREFIX) DESTDIR=$(DESTDIR)'
	@echo 'make clean'
	@echo 'V=1             show commands'

$(OUTPUT) $(OUTPUT)/user $(OUTPUT)/tests:
	$(Q)mkdir -p $@

# bpf/X.bpf.c -> X.tmp.bpf.o (clang) -> X.bpf.o (bpftool gen object) -> X.skel.h
$(OUTPUT)/%.tmp.bpf.o: bpf/%.bpf.c $(VMLINUX) | $(OUTPUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -MF $(@:.o=.d) -c $< -o $@

$(OUTPUT)/%.bpf.o: $(OUTPUT)/%.tmp.bpf.o
	$(call msg,GEN-OBJ,$@)
	$(Q)$(BPFTOOL) gen object $@ $<

$(OUTPUT)/%.skel.h: $(OUTPUT)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst -,_,$*)_bpf > $@

# Every user object may include a skeleton; generate them first.
$(OUTPUT)/user/%.o: user/%.c $(SKELS) | $(OUTPUT)/user
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(OUTPUT)/egressd: $(USER_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $^ $(PKG_LIBS) -o $@

$(OUTPUT)/tests/%.o: tests/unit/%.c | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

# A unit test links only what it tests: TEST_OBJS_test_X lists the user
# objects (what they call included), TEST_PKGS_test_X the pkg-config
# packages those need, so a parser test needs neither libbpf nor libcurl.
# A test with no TEST_OBJS_ line links every user object but main.o and
# every package in PKGS, so a new tests/unit/test_X.c builds by default;
# give it a list once it works.  A missing object is a link error, not a
# silent change.
TEST_OBJS_test_addr       := addr.o text.o
TEST_OBJS_test_cgroup     := cgroup.o fileio.o log.o
TEST_OBJS_test_check      := check_report.o addr.o text.o
TEST_PKGS_test_check      := json-c
TEST_OBJS_test_cli        := cli.o policy.o entry.o resolvconf.o addr.o text.o log.o
TEST_OBJS_test_dns        := dns.o aresloop.o loop.o log.o
TEST_PKGS_test_dns        := libcares
TEST_OBJS_test_entry      := entry.o addr.o text.o
TEST_OBJS_test_events     := events.o addr.o text.o log.o
TEST_OBJS_test_ghmeta     := ghmeta.o policy.o entry.o addr.o text.o log.o
TEST_PKGS_test_ghmeta     := json-c
TEST_OBJS_test_policy     := policy.o entry.o addr.o text.o
TEST_OBJS_test_rule_exact := policy.o entry.o addr.o text.o
TEST_OBJS_test_resolvconf := resolvconf.o addr.o text.o
TEST_OBJS_test_seccomp    := seccomp.o
TEST_OBJS_test_text       := text.o
TEST_OBJS_test_loop       := loop.o
TEST_OBJS_test_loop_nopidfd := loop.o
TEST_OBJS_test_listeners  := listeners.o
TEST_OBJS_test_export     := export.o namematch.o policy.o entry.o addr.o text.o
TEST_OBJS_test_status_learn := learn.o namematch.o entry.o addr.o text.o
TEST_OBJS_test_status_ring := events.o addr.o text.o log.o
TEST_OBJS_test_fuzz_regress := entry.o policy.o resolvconf.o ghmeta.o addr.o text.o log.o
TEST_PKGS_test_fuzz_regress := json-c

test_objs = $(if $(TEST_OBJS_$(1)),$(addprefix $(OUTPUT)/user/,$(TEST_OBJS_$(1))),$(LIB_OBJS))
test_libs = $(if $(TEST_OBJS_$(1)),$(if $(TEST_PKGS_$(1)),$(shell $(PKG_CONFIG) --libs \
		$(TEST_PKGS_$(1)) 2>/dev/null)),$(PKG_LIBS))

define UNIT_TEST_RULE
$(OUTPUT)/tests/$(1): $(OUTPUT)/tests/$(1).o $(call test_objs,$(1))
	$$(call msg,LINK,$$@)
	$$(Q)$$(CC) $$(CFLAGS) $$(LDFLAGS) $$^ $(call test_libs,$(1)) $$(CMOCKA_LIBS) -o $$@
endef
$(foreach t,$(patsubst $(OUTPUT)/tests/%,%,$(UNIT_BINS)),$(eval $(call UNIT_TEST_RULE,$(t))))

# The BPF packet tests drive the loader: everything.
$(BPFT_BINS): $(OUTPUT)/tests/%: $(OUTPUT)/tests/%.o $(LIB_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $^ $(PKG_LIBS) $(CMOCKA_LIBS) -o $@

$(OUTPUT)/tests/%.o: tests/bpf/%.c $(SKELS) | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(OUTPUT)/tests/%.o: tests/helpers/%.c | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(HELP_BINS): $(OUTPUT)/tests/%: $(OUTPUT)/tests/%.o
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $^ -o $@

# The fault-injection shim the 9N_fault tests LD_PRELOAD into egressd.
FAULTINJ := $(OUTPUT)/tests/faultinj.so
$(FAULTINJ): tests/helpers/faultinj.c | $(OUTPUT)/tests
	$(call msg,CC-SO,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -fPIC -shared -MF $(OUTPUT)/tests/faultinj.so.d $< -ldl -o $@

test-bins: $(OUTPUT)/egressd $(UNIT_BINS) $(BPFT_BINS) $(HELP_BINS) $(FAULTINJ) $(BENCH_BINS)

test: test-bins asan-bins
	$(Q)rc=0; tests/run.sh all || rc=1; tests/sanitized.sh asan unit || rc=1; \
	if [ "$${CI:-}" = true ]; then tests/sanitized.sh asan e2e || rc=1; fi; exit $$rc
test-unit: test-bins
	$(Q)tests/run.sh unit
test-bpf: test-bins
	$(Q)tests/run.sh bpf
test-e2e: test-bins
	$(Q)tests/run.sh e2e
test-adversarial: test-bins
	$(Q)tests/run.sh adversarial

# Sanitizers and valgrind (docs/hardening.md).  $(ASAN_DIR) holds egressd
# and every unit test built again with ASan+UBSan (UBSan does not recover:
# a report ends the process); tests/sanitized.sh runs a layer with them and
# fails on any report it finds under $(ASAN_DIR)/reports/.  `make valgrind`
# runs the end-to-end tests with egressd under memcheck through the wrapper
# $(OUTPUT)/valgrind/egressd that tests/sanitized.sh writes.
ASAN_DIR    := $(OUTPUT)/asan
ASAN_CFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
ASAN_OBJS   := $(patsubst user/%.c,$(ASAN_DIR)/user/%.o,$(USER_SRCS))
ASAN_LIB_OBJS := $(filter-out $(ASAN_DIR)/user/main.o,$(ASAN_OBJS))
ASAN_UNITS  := $(patsubst tests/unit/%.c,$(ASAN_DIR)/tests/%,$(UNIT_SRCS))
VALGRIND    ?= valgrind

.PHONY: asan-bins test-asan valgrind

$(ASAN_DIR)/user $(ASAN_DIR)/tests:
	$(Q)mkdir -p $@

$(ASAN_DIR)/user/%.o: user/%.c $(SKELS) | $(ASAN_DIR)/user
	$(call msg,CC-ASAN,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(ASAN_CFLAGS) -c $< -o $@

$(ASAN_DIR)/tests/%.o: tests/unit/%.c | $(ASAN_DIR)/tests
	$(call msg,CC-ASAN,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(ASAN_CFLAGS) -c $< -o $@

$(ASAN_DIR)/egressd: $(ASAN_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(ASAN_CFLAGS) $(LDFLAGS) $^ $(PKG_LIBS) -o $@

asan_objs = $(if $(TEST_OBJS_$(1)),$(addprefix $(ASAN_DIR)/user/,$(TEST_OBJS_$(1))),$(ASAN_LIB_OBJS))

define ASAN_UNIT_RULE
$(ASAN_DIR)/tests/$(1): $(ASAN_DIR)/tests/$(1).o $(call asan_objs,$(1))
	$$(call msg,LINK,$$@)
	$$(Q)$$(CC) $$(CFLAGS) $$(ASAN_CFLAGS) $$(LDFLAGS) $$^ $(call test_libs,$(1)) $$(CMOCKA_LIBS) -o $$@
endef
$(foreach t,$(patsubst $(ASAN_DIR)/tests/%,%,$(ASAN_UNITS)),$(eval $(call ASAN_UNIT_RULE,$(t))))

asan-bins: $(ASAN_DIR)/egressd $(ASAN_UNITS)

# The unit layer with ASan; the end-to-end layer too when CI=true.
test-asan: test-bins asan-bins
	$(Q)rc=0; tests/sanitized.sh asan unit || rc=1; \
	if [ "$${CI:-}" = true ]; then tests/sanitized.sh asan e2e || rc=1; fi; exit $$rc

# VALGRIND_TESTS: the e2e name filters (default: every test
# tests/sanitized.sh does not exclude for valgrind; see docs/hardening.md).
valgrind: test-bins
	$(Q)VALGRIND=$(VALGRIND) tests/sanitized.sh valgrind e2e $(VALGRIND_TESTS)

# bench/: the load generators, the floor program and the test_run cost
# meter, all under $(OUTPUT)/bench (see bench/README.md).

$(BENCH_DIR):
	$(Q)mkdir -p $@

$(BENCH_DIR)/%.o: bench/%.c $(SKELS) | $(BENCH_DIR)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BENCH_DIR)/connsrv $(BENCH_DIR)/connrate: $(BENCH_DIR)/%: $(BENCH_DIR)/%.o
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $^ -o $@

$(BENCH_DIR)/floor: $(BENCH_DIR)/floor.o
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $^ $(shell $(PKG_CONFIG) --libs libbpf 2>/dev/null) -o $@

$(BENCH_DIR)/progcost $(BENCH_DIR)/verifier: $(BENCH_DIR)/%: $(BENCH_DIR)/%.o $(LIB_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $^ $(PKG_LIBS) -o $@

$(BENCH_DIR)/noop.bpf.o: bench/noop.bpf.c $(VMLINUX) | $(BENCH_DIR)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -MF $(BENCH_DIR)/noop.bpf.d -c $< -o $@

bench-bins: $(OUTPUT)/egressd $(BENCH_BINS) $(OUTPUT)/tests/probe

bench: bench-bins
	$(Q)bench/run.sh

bench-smoke: bench-bins
	$(Q)BENCH_SMOKE=1 bench/run.sh

# ---- fuzz/ (issue 11): libFuzzer targets; see docs/fuzzing.md ---------
# Every user object a target links is rebuilt under $(FUZZ_DIR) with
# coverage and ASan+UBSan; c-ares and json-c are the system's, not
# instrumented.  make fuzz runs each target FUZZ_SECONDS from a copy of
# its seed corpus (fuzz/corpus/X/, never written to), FUZZ_JOBS at once.
# make test runs fuzz-smoke (10 s each), or with CI=true 60 s each.
FUZZ_DIR     := $(OUTPUT)/fuzz
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_JOBS    ?= 2
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS  := -O1 -g -fno-omit-frame-pointer $(FUZZ_SAN) $(WARN) -std=gnu11 -D_GNU_SOURCE \
		-DEGRESSD_VERSION='"$(VERSION)"' -Iinclude -Iuser -I$(OUTPUT) $(PKG_CFLAGS) -MMD -MP
FUZZ_SRCS    := $(wildcard fuzz/fuzz_*.c)
FUZZ_NAMES   := $(patsubst fuzz/fuzz_%.c,%,$(FUZZ_SRCS))
FUZZ_BINS    := $(patsubst %,$(FUZZ_DIR)/fuzz_%,$(FUZZ_NAMES))
# What each target links, as TEST_OBJS_ does for the unit tests.
FUZZ_OBJS_entry      := policy.o entry.o addr.o text.o
FUZZ_OBJS_name       := namematch.o entry.o addr.o text.o
FUZZ_OBJS_resolvconf := resolvconf.o addr.o text.o
FUZZ_OBJS_ghmeta     := ghmeta.o policy.o entry.o addr.o text.o log.o
FUZZ_PKGS_ghmeta     := json-c
# proxy.c itself is #included by fuzz_dnsproxy.c (its handlers are static).
FUZZ_OBJS_dnsproxy   := dnsmsg.o learn.o namematch.o entry.o addr.o text.o log.o
FUZZ_PKGS_dnsproxy   := libcares
FUZZ_OBJS_learn      := learn.o namematch.o entry.o addr.o text.o
CI_FUZZ_SECONDS := $(if $(filter true,$(CI)),60,10)

.PHONY: fuzz fuzz-smoke fuzz-bins test-fuzz fuzz-deps

# --no-install-recommends leaves the runtime out: say which package.
fuzz-deps:
	$(Q)rt=$$($(FUZZ_CC) --print-runtime-dir 2>/dev/null); \
	[ -f "$$rt/libclang_rt.fuzzer-$(UNAME_M).a" ] || { \
	echo "fuzz: the libFuzzer runtime ($$rt/libclang_rt.fuzzer-$(UNAME_M).a) is missing: apt-get install libclang-rt-14-dev" >&2; \
	exit 1; }

$(FUZZ_DIR) $(FUZZ_DIR)/user:
	$(Q)mkdir -p $@

$(FUZZ_DIR)/user/%.o: user/%.c $(SKELS) | $(FUZZ_DIR)/user
	$(call msg,FUZZ-CC,$@)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_DIR)/%.o: fuzz/%.c $(SKELS) | $(FUZZ_DIR)
	$(call msg,FUZZ-CC,$@)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

define FUZZ_RULE
$(FUZZ_DIR)/fuzz_$(1): $(FUZZ_DIR)/fuzz_$(1).o $(addprefix $(FUZZ_DIR)/user/,$(FUZZ_OBJS_$(1))) | fuzz-deps
	$$(call msg,FUZZ-LD,$$@)
	$$(Q)$$(FUZZ_CC) $$(FUZZ_SAN) -fsanitize=fuzzer $$^ \
		$(if $(FUZZ_PKGS_$(1)),$(shell $(PKG_CONFIG) --libs $(FUZZ_PKGS_$(1)) 2>/dev/null)) -o $$@
endef
$(foreach t,$(FUZZ_NAMES),$(eval $(call FUZZ_RULE,$(t))))

fuzz-bins: $(FUZZ_BINS)

fuzz: fuzz-bins
	$(Q)FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_JOBS=$(FUZZ_JOBS) fuzz/run.sh $(FUZZ_DIR) $(FUZZ_NAMES)

fuzz-smoke: fuzz-bins
	$(Q)FUZZ_SECONDS=10 FUZZ_JOBS=$(FUZZ_JOBS) fuzz/run.sh $(FUZZ_DIR) $(FUZZ_NAMES)

# make test depends on test-fuzz too, so it runs before tests/run.sh all.
test: test-fuzz
test-fuzz: fuzz-bins
	$(Q)FUZZ_SECONDS=$(CI_FUZZ_SECONDS) FUZZ_JOBS=2 fuzz/run.sh $(FUZZ_DIR) $(FUZZ_NAMES)
# ---- end of fuzz/ ------------------------------------------------------

# soak: tests/soak/soak.sh under load for SOAK_SECONDS (default 600),
# outside make test; writes $(OUTPUT)/soak/results.json (docs/soak.md).
SOAK_SECONDS ?= 600
soak: $(OUTPUT)/egressd $(HELP_BINS)
	$(Q)SOAK_SECONDS=$(SOAK_SECONDS) SOAK_OUT=$(abspath $(OUTPUT))/soak EGRESSD=$(abspath $(OUTPUT))/egressd \
		PROBE=$(abspath $(OUTPUT))/tests/probe ATTACK=$(abspath $(OUTPUT))/tests/attack tests/soak/soak.sh

soak-smoke: $(OUTPUT)/egressd $(HELP_BINS)
	$(Q)$(MAKE) --no-print-directory soak SOAK_SECONDS=30

install: $(OUTPUT)/egressd
	install -d $(DESTDIR)$(BINDIR)
	install -m 0755 $(OUTPUT)/egressd $(DESTDIR)$(BINDIR)/egressd

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/egressd

clean:
	rm -rf $(OUTPUT)

-include $(wildcard $(OUTPUT)/*.d $(OUTPUT)/user/*.d $(OUTPUT)/tests/*.d $(OUTPUT)/bench/*.d \
	$(ASAN_DIR)/user/*.d $(ASAN_DIR)/tests/*.d)
-include $(wildcard $(OUTPUT)/fuzz/*.d $(OUTPUT)/fuzz/user/*.d)
