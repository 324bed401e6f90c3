# playnet: build output goes under build/ (release) and build/asan/ (tests,
# with AddressSanitizer and UndefinedBehaviorSanitizer). V=1 shows commands.

PREFIX ?= /usr/local
CC ?= gcc
FUZZ_CC ?= clang
PKGS := yaml-0.1 json-c libnl-3.0 libnl-route-3.0 libmnl libnftnl libbpf libmicrohttpd libcurl libseccomp libpcap

ifeq ($(V),1)
Q :=
else
Q := @
endif

.DELETE_ON_ERROR:
# Keep objects that pattern rules chain through (tests link from them).
.SECONDARY:
.SUFFIXES:

ifeq ($(filter clean help,$(MAKECMDGOALS)),)
ifneq ($(shell pkg-config --exists $(PKGS) && echo ok),ok)
$(error missing build dependencies ($(PKGS)): run scripts/install-deps.sh)
endif
endif

B := build
A := build/asan

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wpointer-arith -Wcast-qual
BASE_CFLAGS := -std=gnu11 $(WARN) -Inetd/lib -I$(B)/ebpf $(shell pkg-config --cflags $(PKGS))
LIBS := $(shell pkg-config --libs $(PKGS)) -lm
CFLAGS ?= -O2 -g
SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

LIB_SRC := $(wildcard netd/lib/*.c)
CLI_SRC := $(wildcard netd/cli/*.c)
NETD_SRC := $(wildcard netd/daemon/*.c)
VML_SRC := $(wildcard netd/vmlaunch/*.c)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
KTEST_SRC := $(wildcard tests/netns/test_*.c)
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)

LIB_OBJ := $(LIB_SRC:%.c=$(B)/obj/%.o)
LIB_AOBJ := $(LIB_SRC:%.c=$(A)/obj/%.o)
BINS := $(B)/bin/playnet $(B)/bin/netd $(B)/bin/vmlaunch
ABINS := $(A)/bin/playnet $(A)/bin/netd $(A)/bin/vmlaunch
UNIT_BINS := $(UNIT_SRC:tests/unit/%.c=$(A)/tests/%) $(KTEST_SRC:tests/netns/%.c=$(A)/tests/%)
FUZZ_BINS := $(FUZZ_SRC:tests/fuzz/%.c=$(B)/fuzz/%)

all: $(BINS) $(B)/bin/pnagent

# The agent in every VM (agent_proto.h): static, libc only, for any guest.
AGENT_SRC := netd/agent/pnagent.c $(addprefix netd/lib/,agent_serve.c agent_exec.c agent_wire.c agent_mux.c)
$(B)/bin/pnagent: $(AGENT_SRC) netd/lib/agent_proto.h netd/lib/agent_mux.h
	@mkdir -p $(@D)
	@echo "  LD      $@ (static)"
	$(Q)$(CC) -std=gnu11 $(WARN) -Inetd/lib $(CFLAGS) -static -o $@ $(AGENT_SRC)

# BPF: vmlinux.h from the running kernel's BTF, .bpf.c -> .bpf.o -> .skel.h
BPF_CFLAGS := -target bpf -O2 -g -Wall -Werror -D__TARGET_ARCH_x86 -I$(B)/ebpf -Iebpf

$(B)/ebpf/vmlinux.h:
	@mkdir -p $(@D)
	@echo "  BTF     $@"
	$(Q)bpftool btf dump file /sys/kernel/btf/vmlinux format c > $@

$(B)/ebpf/%.bpf.o: ebpf/%.bpf.c ebpf/guard_abi.h $(B)/ebpf/vmlinux.h
	@echo "  BPF     $@"
	$(Q)clang $(BPF_CFLAGS) -c $< -o $@

# The same programs for kernels before 6.2 (guard.bpf.c says why).
$(B)/ebpf/guard_compat.bpf.o: ebpf/guard.bpf.c ebpf/guard_abi.h $(B)/ebpf/vmlinux.h
	@echo "  BPF     $@"
	$(Q)clang $(BPF_CFLAGS) -DGUARD_PROBE_READ -c $< -o $@

$(B)/ebpf/%.skel.h: $(B)/ebpf/%.bpf.o
	@echo "  SKEL    $@"
	$(Q)bpftool gen skeleton $< name $*_bpf > $@

# Everything that includes the skeleton waits for it.
$(B)/obj/netd/lib/guard.o $(A)/obj/netd/lib/guard.o: $(B)/ebpf/guard.skel.h \
	$(B)/ebpf/guard_compat.skel.h

$(B)/obj/%.o: %.c
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) $(BASE_CFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

$(A)/obj/%.o: %.c
	@mkdir -p $(@D)
	@echo "  CC asan $<"
	$(Q)$(CC) $(BASE_CFLAGS) -O1 -g $(SAN) -MMD -MP -c $< -o $@

$(B)/libplaynet.a: $(LIB_OBJ)
	$(Q)ar rcs $@ $^

$(A)/libplaynet.a: $(LIB_AOBJ)
	$(Q)ar rcs $@ $^

$(B)/bin/playnet: $(CLI_SRC:%.c=$(B)/obj/%.o) $(B)/libplaynet.a
	@mkdir -p $(@D)
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LIBS)

$(B)/bin/netd: $(NETD_SRC:%.c=$(B)/obj/%.o) $(B)/libplaynet.a
	@mkdir -p $(@D)
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LIBS)

$(B)/bin/vmlaunch: $(VML_SRC:%.c=$(B)/obj/%.o) $(B)/libplaynet.a
	@mkdir -p $(@D)
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LIBS)

$(A)/bin/vmlaunch: $(VML_SRC:%.c=$(A)/obj/%.o) $(A)/libplaynet.a
	@mkdir -p $(@D)
	@echo "  LD asan $@"
	$(Q)$(CC) $(SAN) -o $@ $^ $(LIBS)

$(A)/bin/netd: $(NETD_SRC:%.c=$(A)/obj/%.o) $(A)/libplaynet.a
	@mkdir -p $(@D)
	@echo "  LD asan $@"
	$(Q)$(CC) $(SAN) -o $@ $^ $(LIBS)

$(B)/obj/netd/daemon/%.o $(A)/obj/netd/daemon/%.o: BASE_CFLAGS += -Inetd/daemon

$(A)/bin/playnet: $(CLI_SRC:%.c=$(A)/obj/%.o) $(A)/libplaynet.a
	@mkdir -p $(@D)
	@echo "  LD asan $@"
	$(Q)$(CC) $(SAN) -o $@ $^ $(LIBS)

$(A)/tests/%: $(A)/obj/tests/unit/%.o $(A)/libplaynet.a
	@mkdir -p $(@D)
	@echo "  LD asan $@"
	$(Q)$(CC) $(SAN) -o $@ $^ $(LIBS) $(shell pkg-config --libs cmocka)

# Kernel tests (tests/netns/*.c) need root; they skip without it.
$(A)/tests/%: $(A)/obj/tests/netns/%.o $(A)/libplaynet.a
	@mkdir -p $(@D)
	@echo "  LD asan $@"
	$(Q)$(CC) $(SAN) -o $@ $^ $(LIBS) $(shell pkg-config --libs cmocka)

$(A)/obj/tests/unit/%.o $(A)/obj/tests/netns/%.o: BASE_CFLAGS += $(shell pkg-config --cflags cmocka) -DSRCDIR='"$(CURDIR)"'

# The frames between netd's processes are netd's own code.
$(A)/tests/test_channel: $(A)/obj/tests/unit/test_channel.o $(A)/obj/netd/daemon/channel.o \
		$(A)/libplaynet.a
	@mkdir -p $(@D)
	@echo "  LD asan $@"
	$(Q)$(CC) $(SAN) -o $@ $^ $(LIBS) $(shell pkg-config --libs cmocka)
$(A)/obj/tests/unit/test_channel.o: BASE_CFLAGS += -Inetd/daemon

# libFuzzer targets build the library sources in, with clang.
$(B)/fuzz/%: tests/fuzz/%.c $(LIB_SRC) $(B)/ebpf/guard.skel.h $(B)/ebpf/guard_compat.skel.h
	@mkdir -p $(@D)
	@echo "  FUZZ    $@"
	$(Q)$(FUZZ_CC) $(BASE_CFLAGS) -Wno-unused-command-line-argument -O1 -g \
		-fsanitize=fuzzer,address,undefined -o $@ $(filter %.c,$^) $(LIBS)

tests: $(ABINS) $(UNIT_BINS) $(FUZZ_BINS)

# The whole suite: unit tests, CLI tests and short fuzz runs under
# sanitizers. tests/run.sh prints the final "N passed, N failed" line.
test: all tests
	$(Q)tests/run.sh

# Benchmarks: figures to read, not tests (never part of make test).
$(B)/bench/%: $(B)/obj/tests/bench/%.o $(B)/libplaynet.a
	@mkdir -p $(@D)
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LIBS)

bench: all $(B)/bench/bench_fabric $(B)/bench/bench_api $(B)/bench/bench_guard
	$(Q)scripts/bench.sh

# 10,000 create/delete cycles through the API, 8 clients at once, then a
# check that nothing is left (not part of make test either).
soak: all $(B)/bench/bench_api
	$(Q)scripts/soak.sh

# 10^7 executions per parser (FUZZ_RUNS to change it), outside make test.
fuzz: $(FUZZ_BINS)
	$(Q)FUZZ_RUNS=$${FUZZ_RUNS:-10000000} tests/fuzz/run.sh

MAN := $(wildcard man/*.[0-9])

install: all
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(BINS) $(DESTDIR)$(PREFIX)/bin/
	for m in $(MAN); do \
		s=$${m##*.}; install -d $(DESTDIR)$(PREFIX)/share/man/man$$s; \
		install -m 0644 $$m $(DESTDIR)$(PREFIX)/share/man/man$$s/; \
	done

clean:
	rm -rf build

help:
	@echo "targets: all (default), test, bench, soak, fuzz, install, clean"

.PHONY: all tests test bench soak fuzz install clean help

-include $(LIB_OBJ:.o=.d) $(LIB_AOBJ:.o=.d) $(CLI_SRC:%.c=$(B)/obj/%.d) $(CLI_SRC:%.c=$(A)/obj/%.d)
-include $(NETD_SRC:%.c=$(B)/obj/%.d) $(NETD_SRC:%.c=$(A)/obj/%.d)
-include $(VML_SRC:%.c=$(B)/obj/%.d) $(VML_SRC:%.c=$(A)/obj/%.d)
-include $(UNIT_SRC:tests/unit/%.c=$(A)/obj/tests/unit/%.d) $(KTEST_SRC:tests/netns/%.c=$(A)/obj/tests/netns/%.d)
-include $(wildcard $(B)/obj/tests/bench/*.d)
