# SPDX-License-Identifier: Apache-2.0
# shimvisor: the map of the build. Per binary: its objects and the -l libraries it links.
# Conventions: each component's sources are every .c in its directory; its entry point is
# main.c (left out of the component's archive so tests can link the rest).

PREFIX  ?= /usr/local
DESTDIR ?=
B       := build
CC      ?= cc

CFLAGS  ?= -O2 -g
CFLAGS  += -std=gnu11 -Wall -Wextra -Wvla -Wshadow -Wstrict-prototypes -Wformat=2 -Wno-format-truncation -Werror \
	   -D_GNU_SOURCE -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE \
	   -DPB_ENABLE_MALLOC -I. -I$(B)/gen
LDFLAGS += -pie -Wl,-z,relro,-z,now -Wl,--as-needed

NANOPB_LIB := -l:libprotobuf-nanopb.a
PROTOS     := $(sort $(basename $(notdir $(wildcard wire/*.proto))))
GEN_C      := $(PROTOS:%=$(B)/gen/%.pb.c)
GEN_H      := $(PROTOS:%=$(B)/gen/%.pb.h)

objs = $(patsubst %.c,$(B)/%.o,$(1))
COMMON_SRC := $(wildcard common/*.c)
WIRE_SRC   := $(wildcard wire/*.c)
WORKER_SRC := $(filter-out worker/main.c,$(wildcard worker/*.c))
INIT_SRC   := $(filter-out worker/init/main.c,$(wildcard worker/init/*.c))
SUP_SRC    := $(filter-out supervisor/main.c,$(wildcard supervisor/*.c))
LIBSV_SRC  := $(wildcard client/lib/*.c)
CLI_SRC    := $(filter-out client/cli/main.c,$(wildcard client/cli/*.c))

LIB_COMMON := $(B)/libsvcommon.a
LIB_WIRE   := $(B)/libsvwire.a
LIB_WORKER := $(B)/libsvworker.a
LIB_INIT   := $(B)/libsvinit.a
LIB_SUP    := $(B)/libsvsupervisor.a
LIB_SV     := $(B)/libshimvisor.a
LIB_CLI    := $(B)/libsvcli.a

# libseccomp and libcap-ng are linked statically (Debian ships their .a): fewer objects for
# ld.so to map in every task's first stage. cJSON and libmnl have no .a in Debian.
INIT_LIBS  := -Wl,-Bstatic -lcap-ng -lseccomp -Wl,-Bdynamic -lcjson -lmnl
SUP_LIBS   := -Wl,-Bstatic -lseccomp -Wl,-Bdynamic -lcjson -linih

BINS := $(B)/shimvisord $(B)/shimvisor-worker $(B)/shimvisor-init $(B)/shimvisor
UNIT_SRC   := $(wildcard selftest/unit/test_*.c)
UNIT_BINS  := $(patsubst selftest/unit/%.c,$(B)/selftest/%,$(UNIT_SRC))
E2E_TESTS  := $(sort $(wildcard selftest/e2e/*.t))

.PHONY: all deps check unit e2e demo install clean bench soak fuzz
all: $(BINS)

deps:
	@sh mk/deps.sh

$(B)/gen/%.pb.c $(B)/gen/%.pb.h: wire/%.proto wire/sv.options
	@mkdir -p $(B)/gen
	nanopb_generator.py -q -f wire/sv.options -I wire -D $(B)/gen $<

$(B)/%.o: %.c $(GEN_H)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

# The default tasks' seccomp profile, built into shimvisord (seccomp_profile= overrides it):
# etc/seccomp-default.json as a NUL-terminated C array.
$(B)/gen/seccomp_default.h: etc/seccomp-default.json
	@mkdir -p $(B)/gen
	{ echo 'static const char sv_seccomp_default[] = {'; od -An -v -tx1 $< | \
	  sed 's/\([0-9a-f][0-9a-f]\)/0x\1,/g'; echo '0 };'; } > $@.tmp && mv $@.tmp $@
$(B)/supervisor/spec_seccomp.o $(B)/selftest/unit/test_init_seccomp.o: $(B)/gen/seccomp_default.h

$(B)/gen/%.pb.o: $(B)/gen/%.pb.c $(GEN_H)
	$(CC) $(CFLAGS) -Wno-unused-parameter -c -o $@ $<

$(LIB_COMMON): $(call objs,$(COMMON_SRC))
$(LIB_WIRE):   $(call objs,$(WIRE_SRC)) $(GEN_C:.c=.o)
$(LIB_WORKER): $(call objs,$(WORKER_SRC))
$(LIB_INIT):   $(call objs,$(INIT_SRC))
$(LIB_SUP):    $(call objs,$(SUP_SRC))
$(LIB_SV):     $(call objs,$(LIBSV_SRC))
$(LIB_CLI):    $(call objs,$(CLI_SRC))
$(B)/lib%.a:
	@mkdir -p $(B)
	rm -f $@ && ar rcs $@ $^

$(B)/shimvisord: $(B)/supervisor/main.o $(LIB_SUP) $(LIB_WIRE) $(LIB_COMMON)
	$(CC) $(LDFLAGS) -o $@ $^ $(SUP_LIBS) $(NANOPB_LIB)
# The worker stays resident for a task's whole life: static-pie keeps its private memory to its
# own dirty pages (no ld.so, no per-process relocation of libc), ~76 KiB instead of ~120 KiB.
# It uses neither NSS nor dlopen, which static glibc cannot serve.
$(B)/shimvisor-worker: $(B)/worker/main.o $(LIB_WORKER) $(LIB_WIRE) $(LIB_COMMON)
	$(CC) $(LDFLAGS) -static-pie -o $@ $^ $(NANOPB_LIB)
$(B)/shimvisor-init: $(B)/worker/init/main.o $(LIB_INIT) $(LIB_WIRE) $(LIB_COMMON)
	$(CC) $(LDFLAGS) -o $@ $^ $(INIT_LIBS) $(NANOPB_LIB)
# The CLI is short-lived: static-pie skips ld.so (~0.2 ms of every command). No NSS used.
$(B)/shimvisor: $(B)/client/cli/main.o $(LIB_CLI) $(LIB_SV) $(LIB_WIRE) $(LIB_COMMON)
	$(CC) $(LDFLAGS) -static-pie -o $@ $^ $(NANOPB_LIB)

# Unit tests: selftest/unit/test_<component>_<what>.c links that component's archives and Check.
TEST_LIBS_common := $(LIB_COMMON)
TEST_LIBS_wire   := $(LIB_WIRE) $(LIB_COMMON)
TEST_LIBS_init   := $(LIB_INIT) $(LIB_WIRE) $(LIB_COMMON)
TEST_LIBS_worker := $(LIB_WORKER) $(LIB_WIRE) $(LIB_COMMON)
TEST_LIBS_sup    := $(LIB_SUP) $(LIB_WIRE) $(LIB_COMMON)
TEST_LIBS_client := $(LIB_CLI) $(LIB_SV) $(LIB_WIRE) $(LIB_COMMON)
CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null)
test_comp = $(firstword $(subst _, ,$(1)))
.SECONDEXPANSION:
$(B)/selftest/test_%: $(B)/selftest/unit/test_%.o $$(TEST_LIBS_$$(call test_comp,$$*))
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(SUP_LIBS) $(INIT_LIBS) $(NANOPB_LIB) $(CHECK_LIBS)

unit: $(UNIT_BINS)

# The test command (README, .ci/run): set-up, build, every suite under prove (TAP).
check: deps
	$(MAKE) all unit
	prove -f $(UNIT_BINS) $(E2E_TESTS)

demo: deps
	$(MAKE) all
	sh mk/demo.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(B)/shimvisord $(B)/shimvisor-worker $(B)/shimvisor-init $(DESTDIR)$(PREFIX)/sbin/
	install -m 0755 $(B)/shimvisor $(DESTDIR)$(PREFIX)/bin/
	ln -sf ../sbin/shimvisor-worker $(DESTDIR)$(PREFIX)/bin/containerd-shim-shimvisor-v2
	install -d $(DESTDIR)/etc/shimvisor $(DESTDIR)/etc/init.d
	install -m 0644 etc/shimvisord.conf $(DESTDIR)/etc/shimvisor/shimvisord.conf
	install -m 0644 etc/seccomp-default.json $(DESTDIR)/etc/shimvisor/seccomp-default.json
	install -m 0755 etc/init.d/shimvisord $(DESTDIR)/etc/init.d/shimvisord
	@# the engine's user and group; a staged install (DESTDIR) leaves that to the package
	@if [ -z "$(DESTDIR)" ]; then sh mk/sysuser.sh; fi

# Benchmarks beside containerd + runc and the unshare floor (installs what it needs as root).
# BENCH_ARGS: e.g. "--phases shim" (only issue 3: our shim under containerd beside runc-v2's).
BENCH_ARGS ?=
bench: all
	sh bench/deps.sh && python3 bench/bench.py $(BENCH_ARGS)

# Soak (not CI): SOAK_N `run --rm` and SOAK_N execs into one long task, 4 at a time, on a private
# daemon: RSS/fd drift of monitor, engine and that task's worker, exit->event latency, leftovers;
# then bench/hostile.py when it exists. Writes only its own sections of bench/RESULTS.md.
SOAK_N ?= 20000
SOAK_ARGS ?=
soak: all
	sh bench/deps.sh && python3 bench/soak.py --n $(SOAK_N) $(SOAK_ARGS)

# libFuzzer targets for every decoder (clang); FUZZ_TIME seconds each.
FUZZ_TIME ?= 30
FUZZ_CFLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -DPB_ENABLE_MALLOC -I. -I$(B)/gen
FUZZ_SRC := $(wildcard selftest/fuzz/fuzz_*.c)
fuzz: $(GEN_C)
	@mkdir -p $(B)/fuzz
	for f in $(FUZZ_SRC); do t=$$(basename $$f .c); \
	  extra=""; case $$t in fuzz_spec|fuzz_resources) extra="$(INIT_SRC) -lcjson -lcap-ng -lseccomp -lmnl";; \
	    fuzz_policy) extra="supervisor/policy_check.c supervisor/policy_config.c -lcjson";; esac; \
	  clang $(FUZZ_CFLAGS) $$f $(WIRE_SRC) $(COMMON_SRC) $(GEN_C) $$extra -l:libprotobuf-nanopb.a -o $(B)/fuzz/$$t || exit 1; \
	  $(B)/fuzz/$$t -max_total_time=$(FUZZ_TIME) -max_len=16384 -print_final_stats=0 || exit 1; \
	done

clean:
	rm -rf $(B)

.SECONDARY:
-include $(shell find $(B) -name '*.d' 2>/dev/null)
