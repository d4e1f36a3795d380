# SPDX-License-Identifier: Apache-2.0
# shimvisor: the map of the build. Per binary: its objects and the -l libraries it links.
# Conventions: each component's sources are every .c in its directory; its entry point is
# main.c (left out of the component's archive so tests can link the rest).

# Where `make install` puts things (README.md, "Install"); the Debian packaging passes its own.
PREFIX     ?= /usr/local
DESTDIR    ?=
BINDIR     ?= $(PREFIX)/bin
SBINDIR    ?= $(PREFIX)/sbin
LIBDIR     ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR     ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
# install's flag for the binaries and libshimvisor.so: -s strips them (and libshimvisor.a of
# its debug sections); `make install-debug` (and debian/rules, whose dh_strip makes the
# -dbgsym package) passes it empty.
INSTALL_STRIP ?= -s
STRIP      ?= strip
CC         ?= cc

# SANITIZE=address,undefined: every binary and test built with those sanitizers into build-san/
# (never mixed with build/'s objects); the worker and CLI are then linked dynamically (ASan has
# no static runtime). Every report fails: UBSan does not recover, ASan aborts, and each report
# is also written under build-san/san-log/, which `make check` requires empty at the end
# (DESIGN.md, "Sanitized builds").
SANITIZE ?=
ifeq ($(SANITIZE),)
B          := build
STATIC_PIE := -static-pie
else
B          := build-san
STATIC_PIE :=
SAN_LOG    := $(abspath $(B))/san-log
SAN_FLAGS  := -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
SAN_ASAN   := abort_on_error=1:detect_leaks=1:log_path=$(SAN_LOG)/asan
SAN_UBSAN  := abort_on_error=1:halt_on_error=1:print_stacktrace=1:log_path=$(SAN_LOG)/ubsan
endif

# --- Cross builds (README.md, "Cross builds") -------------------------------------------------
# CROSS=aarch64-linux-gnu or CROSS=arm-linux-gnueabihf: Debian's cross gcc and binutils for
# that triplet, the multiarch libraries (/usr/lib/$(CROSS); mk/deps.sh TRIPLET installs them),
# objects in build-$(CROSS)/. Always glibc (no musl). static-pie only where the toolchain has
# rcrt1.o: Debian's armhf glibc has none, and there the worker and the CLI are linked
# dynamically, still PIE (plain -static would give up ASLR of their code; README, "Cross
# builds"). 32-bit targets get a 64-bit time_t and off_t (glibc >= 2.34): dates past 2038.
CROSS ?=
CROSS_TARGETS := aarch64-linux-gnu arm-linux-gnueabihf
AR         ?= ar
OBJCOPY    ?= objcopy
PKG_CONFIG ?= pkg-config
ifneq ($(CROSS),)
ifneq ($(SANITIZE),)
$(error CROSS and SANITIZE together are not supported)
endif
B          := build-$(CROSS)
CC         := $(CROSS)-gcc
AR         := $(CROSS)-ar
STRIP      := $(CROSS)-strip
OBJCOPY    := $(CROSS)-objcopy
PKG_CONFIG := PKG_CONFIG_LIBDIR=/usr/lib/$(CROSS)/pkgconfig:/usr/share/pkgconfig pkg-config
MUSL       := 0
STATIC_PIE := $(if $(filter /%,$(shell $(CC) -print-file-name=rcrt1.o 2>/dev/null)),-static-pie)
CROSS_CFLAGS := -D_TIME_BITS=64 -D_FILE_OFFSET_BITS=64
endif
# --- end of cross builds -----------------------------------------------------------------------

# The size options, on every target (bench/RESULTS.md, "Size options (issue 13)", has what
# each gave): -Os, each function and object in its own section so the link drops what nothing
# uses, and no unwind tables (C without exceptions or cancellation; gdb reads .debug_frame).
# A sanitized build keeps its unwind tables, for its reports' stacks.
SIZE_CFLAGS  ?= -Os -ffunction-sections -fdata-sections \
		$(if $(SANITIZE),,-fno-asynchronous-unwind-tables -fno-unwind-tables)
SIZE_LDFLAGS ?= -Wl,--gc-sections

CFLAGS  ?= -O2 -g
CFLAGS  += -std=gnu11 -Wall -Wextra -Wvla -Wshadow -Wstrict-prototypes -Wformat=2 -Wno-format-truncation -Werror \
	   -D_GNU_SOURCE -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE \
	   -DPB_ENABLE_MALLOC -I. -I$(B)/gen $(CROSS_CFLAGS) $(SIZE_CFLAGS)
LDFLAGS += -pie -Wl,-z,relro,-z,now -Wl,--as-needed $(SIZE_LDFLAGS)
ifneq ($(SANITIZE),)
# common/sanitize.c carries the same options into processes started with an empty environment
# (the engine, shimvisor-init); -u pulls it out of libsvcommon.a into every binary.
CFLAGS  += $(SAN_FLAGS) -DSV_SAN_ASAN='"$(SAN_ASAN)"' -DSV_SAN_UBSAN='"$(SAN_UBSAN)"'
LDFLAGS += $(SAN_FLAGS) -Wl,-u,sv_san_linked
endif

NANOPB_LIB := -l:libprotobuf-nanopb.a
PROTOS     := $(sort $(basename $(notdir $(wildcard wire/*.proto))))
GEN_C      := $(PROTOS:%=$(B)/gen/%.pb.c)
GEN_H      := $(PROTOS:%=$(B)/gen/%.pb.h)

objs = $(patsubst %.c,$(B)/%.o,$(1))
COMMON_SRC := $(filter-out common/multicall.c,$(wildcard common/*.c))
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

# shimvisor-init links its libraries dynamically: libseccomp2 and libcap-ng0 are on every
# Debian system (apt and util-linux need them), and their static archives made the init
# 289 KiB stripped instead of 162 KiB (libseccomp's syscall table alone 108 KiB). The price,
# ld.so mapping two more libraries (+~40 KiB USS in the warm init, which exists once and
# whose memory becomes the task's at exec), is paid ahead of need by the warm init. shimvisord
# needs no libseccomp (its engine's filter is compiled at build time: $(B)/gen/engine_filter.h)
# and links libinih's 4 KiB statically; on glibc (MUSL=0) cJSON is shared (Debian has no .a).
INIT_LIBS  := -lcap-ng -lseccomp -lcjson -lmnl
SUP_LIBS   := -Wl,-Bstatic -linih -Wl,-Bdynamic -lcjson

BINS := $(B)/shimvisord $(B)/shimvisor-worker $(B)/shimvisor-init $(B)/shimvisor
UNIT_SRC   := $(wildcard selftest/unit/test_*.c)
UNIT_BINS  := $(patsubst selftest/unit/%.c,$(B)/selftest/%,$(UNIT_SRC))
E2E_TESTS  := $(sort $(wildcard selftest/e2e/*.t))
FUZZ_NAMES := $(patsubst selftest/fuzz/fuzz_%.c,%,$(wildcard selftest/fuzz/fuzz_*.c))
REPLAY_BINS := $(FUZZ_NAMES:%=$(B)/selftest/fuzz_%)

.PHONY: all deps check unit e2e cross check-qemu demo install install-debug lib clean bench soak scale fuzz tables deb
all: $(BINS) lib

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
$(B)/supervisor/spec_seccomp.o $(B)/musl/supervisor/spec_seccomp.o $(B)/selftest/unit/test_init_seccomp.o: \
	$(B)/gen/seccomp_default.h

# The engine's seccomp filter (mk/engine_filter.c: its allow-list), compiled by libseccomp on
# the build host into a BPF array, so shimvisord links no libseccomp. For CROSS builds, the
# target's architecture (the triplet's first word: aarch64, arm); --asan adds what the
# AddressSanitizer runtime needs.
HOSTCC     ?= cc
FILTER_ARGS := $(if $(findstring address,$(SANITIZE)),--asan) $(firstword $(subst -, ,$(CROSS)))
$(B)/mk/engine_filter: mk/engine_filter.c
	@mkdir -p $(dir $@)
	$(HOSTCC) -O2 -Wall -Wextra -Werror -o $@ $< -lseccomp
$(B)/gen/engine_filter.h: $(B)/mk/engine_filter
	@mkdir -p $(B)/gen
	$< $(FILTER_ARGS) > $@.tmp && mv $@.tmp $@
$(B)/supervisor/engine_seccomp.o $(B)/musl/supervisor/engine_seccomp.o: $(B)/gen/engine_filter.h

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
	rm -f $@ && $(AR) rcs $@ $^

# MUSL=1 (the default where musl-gcc is found, and neither CROSS nor SANITIZE is set): the
# daemon, the worker and the CLI are one static-pie binary on musl (below), their objects
# (wire/, common/, the generated .pb.c included) compiled again with musl-gcc into $(B)/musl/,
# never mixed with the glibc objects the unit tests link. musl-gcc's specs see only musl's
# headers: $(M)/include holds symlinks to the kernel's (linux/, asm/, asm-generic/), nanopb's,
# libinih's and cJSON's, nothing else; and
# $(M)/musl.specs is musl-gcc's with rcrt1.o and a static-pie link (musl-gcc's own would ask
# for /lib/ld-musl-*.so.1 at run time). Debian's libprotobuf-nanopb.a needs only memcpy,
# memset, realloc, free and __stack_chk_fail: it links with musl as it is. _FORTIFY_SOURCE
# is a no-op under musl (no __*_chk functions); -fstack-protector-strong, PIE and relro stay.
# wire/stdio_fields.h: musl makes stdin/stdout/stderr macros, which the task API uses as field names.
MUSL ?= auto
ifeq ($(MUSL),auto)
MUSL := $(if $(CROSS)$(SANITIZE),0,$(if $(shell command -v musl-gcc 2>/dev/null),1,0))
endif
M := $(B)/musl
ifeq ($(MUSL),1)
MUSL_SPECS_IN := $(shell sed -n 's/.*-specs "\(.*\)".*/\1/p' $$(command -v musl-gcc))
MUSL_CC       := $(CC) -specs $(M)/musl.specs
MUSL_CFLAGS   := $(CFLAGS) -isystem $(M)/include -include wire/stdio_fields.h
MUSL_ARCH_INC := /usr/include/$(shell $(CC) -print-multiarch)
STATIC_PB     := $(shell $(CC) -print-file-name=libprotobuf-nanopb.a)
$(M)/musl.specs: $(MUSL_SPECS_IN)
	@mkdir -p $(M)/include
	sed -e 's|/Scrt1\.o|/rcrt1.o|' -e 's|-dynamic-linker [^ ]*|-static -pie --no-dynamic-linker -z text|' $< > $@.tmp
	grep -q rcrt1.o $@.tmp && grep -q no-dynamic-linker $@.tmp && mv $@.tmp $@
	ln -sfn /usr/include/linux /usr/include/asm-generic $(MUSL_ARCH_INC)/asm /usr/include/pb.h \
		/usr/include/pb_common.h /usr/include/pb_encode.h /usr/include/pb_decode.h $(M)/include/
$(M)/%.o: %.c $(GEN_H) $(M)/musl.specs
	@mkdir -p $(dir $@)
	$(MUSL_CC) $(MUSL_CFLAGS) -MMD -MP -c -o $@ $<
$(M)/gen/%.pb.o: $(B)/gen/%.pb.c $(GEN_H) $(M)/musl.specs
	@mkdir -p $(dir $@)
	$(MUSL_CC) $(MUSL_CFLAGS) -Wno-unused-parameter -c -o $@ $<
mobjs = $(patsubst %.c,$(M)/%.o,$(1))
$(M)/libsvcommon.a: $(call mobjs,$(COMMON_SRC))
$(M)/libsvwire.a:   $(call mobjs,$(WIRE_SRC)) $(PROTOS:%=$(M)/gen/%.pb.o)
$(M)/libsvworker.a: $(call mobjs,$(WORKER_SRC))
$(M)/libshimvisor.a: $(call mobjs,$(LIBSV_SRC))
$(M)/libsvcli.a:    $(call mobjs,$(CLI_SRC))
$(M)/libsvsupervisor.a: $(call mobjs,$(SUP_SRC))
$(M)/lib%.a:
	rm -f $@ && $(AR) rcs $@ $^
STATIC_LINK := $(MUSL_CC) $(filter-out -pie,$(LDFLAGS))
# One file, three programs: shimvisord, shimvisor-worker (and containerd-shim-shimvisor-v2)
# and shimvisor are $(B)/shimvisord, the others symlinks to it; common/multicall.c picks the
# program by the name it is run as. The three share musl, nanopb, wire/ and common/ (~110 KiB
# each as three files) and the page cache; each process maps and dirties only what it runs,
# but every process relocates all of the file's pointers at exec (static-pie), so static
# tables are kept free of pointers where they can be (DESIGN.md, "Footprint"). Each main.c
# keeps its main(), renamed here for the dispatcher. On glibc (MUSL=0) they stay three files.
# The daemon on musl maps no libc.so and no ld.so, whose text (shared, but counted whole in
# the RSS of each process) kept an idle monitor + engine at ~4.3 MiB RSS. Debian ships no
# libcjson.a: cJSON.c is compiled from Debian's source package of the installed libcjson-dev
# (same version and patches, fetched into $(B)/src/cjson by mk/debsrc.sh); Debian's libinih.a
# needs only libc functions musl also has, and links as it is.
CJSON_DIR := $(B)/src/cjson
INIH_A    := $(shell $(CC) -print-file-name=libinih.a)
$(CJSON_DIR)/VERSION:
	sh mk/debsrc.sh libcjson-dev $(CJSON_DIR)
$(M)/include/cjson/cJSON.h: $(CJSON_DIR)/VERSION $(M)/musl.specs
	@mkdir -p $(dir $@)
	ln -sfn $(abspath $(CJSON_DIR))/tree/cJSON.h $@
$(M)/include/ini.h: $(M)/musl.specs
	ln -sfn /usr/include/ini.h $@
$(call mobjs,$(SUP_SRC)): | $(M)/include/cjson/cJSON.h $(M)/include/ini.h
# not our code: its own warnings are not ours to fix (hardening and size flags kept)
$(M)/cjson/cJSON.o: $(CJSON_DIR)/VERSION $(M)/musl.specs
	@mkdir -p $(dir $@)
	$(MUSL_CC) $(filter-out -Werror -W%,$(MUSL_CFLAGS)) -c -o $@ $(CJSON_DIR)/tree/cJSON.c
MAIN_DEPS := $(GEN_H) $(M)/musl.specs | $(M)/include/cjson/cJSON.h $(M)/include/ini.h
$(M)/main_daemon.o: supervisor/main.c $(MAIN_DEPS)
	$(MUSL_CC) $(MUSL_CFLAGS) -Dmain=sv_main_daemon -MMD -MP -c -o $@ $<
$(M)/main_worker.o: worker/main.c $(MAIN_DEPS)
	$(MUSL_CC) $(MUSL_CFLAGS) -Dmain=sv_main_worker -MMD -MP -c -o $@ $<
$(M)/main_cli.o: client/cli/main.c $(MAIN_DEPS)
	$(MUSL_CC) $(MUSL_CFLAGS) -Dmain=sv_main_cli -MMD -MP -c -o $@ $<
# The worker's objects first, with the members of the shared archives it uses (an archive
# named twice is searched twice): its data and .bss then lie together on a few pages, not
# among the daemon's and the CLI's (worker USS at N=20: 64 -> 60 KiB median).
ONE_WORKER := $(M)/main_worker.o $(M)/libsvworker.a $(M)/libsvwire.a $(M)/libsvcommon.a
ONE_REST   := $(M)/main_daemon.o $(M)/main_cli.o $(M)/libsvsupervisor.a $(M)/libsvcli.a \
	      $(M)/libshimvisor.a $(M)/libsvwire.a $(M)/libsvcommon.a $(M)/cjson/cJSON.o
$(B)/shimvisord: $(M)/common/multicall.o $(ONE_WORKER) $(ONE_REST)
	$(STATIC_LINK) -o $@ $(M)/common/multicall.o $(ONE_WORKER) $(STATIC_PB) $(ONE_REST) \
		$(INIH_A) $(STATIC_PB)
$(B)/shimvisor-worker $(B)/shimvisor: $(B)/shimvisord
	ln -sfn shimvisord $@
else
$(B)/shimvisord: $(B)/supervisor/main.o $(LIB_SUP) $(LIB_WIRE) $(LIB_COMMON)
	@rm -f $@
	$(CC) $(LDFLAGS) -o $@ $^ $(SUP_LIBS) $(NANOPB_LIB)
# The worker stays resident for a task's whole life: static-pie keeps its private memory to its
# own dirty pages (no ld.so, no per-process relocation of libc). It uses neither NSS nor dlopen.
$(B)/shimvisor-worker: $(B)/worker/main.o $(LIB_WORKER) $(LIB_WIRE) $(LIB_COMMON)
	@rm -f $@
	$(CC) $(LDFLAGS) $(STATIC_PIE) -o $@ $^ $(NANOPB_LIB)
# The CLI is short-lived: static-pie skips ld.so (~0.2 ms of every command). No NSS used.
$(B)/shimvisor: $(B)/client/cli/main.o $(LIB_CLI) $(LIB_SV) $(LIB_WIRE) $(LIB_COMMON)
	@rm -f $@
	$(CC) $(LDFLAGS) $(STATIC_PIE) -o $@ $^ $(NANOPB_LIB)
endif
$(B)/shimvisor-init: $(B)/worker/init/main.o $(LIB_INIT) $(LIB_WIRE) $(LIB_COMMON)
	$(CC) $(LDFLAGS) -o $@ $^ $(INIT_LIBS) $(NANOPB_LIB)

# libshimvisor for other programs (<shimvisor.h>, pkg-config shimvisor), in $(B)/lib/: the
# client library and the part of wire/ and common/ it uses, compiled again with -fPIC into
# $(B)/pic/ (never mixed with the -fPIE objects above). The .so exports only what the
# installed headers declare: the functions in client/libshimvisor.map and the message
# descriptors of the .pb.h files installed with it (sv_<Msg>_msg, for sv_<Msg>_fields),
# node SHIMVISOR_0; everything else, nanopb included (Debian ships only a PIE-compiled
# libprotobuf-nanopb.a, whose symbols are made local here), stays inside. libshimvisor.a is
# the same objects linked into one with the same symbols kept global; it needs nanopb's .a
# (shimvisor.pc's Libs.private).
SV_VERSION := $(shell sed -n 's/^\#define SV_VERSION *"\(.*\)"/\1/p' wire/limits.h)
SO_NAME    := libshimvisor.so.0
SO_REAL    := $(SO_NAME).$(word 2,$(subst ., ,$(SV_VERSION))).$(word 3,$(subst ., ,$(SV_VERSION)))
SO_PB      := control task metrics
SO_SRC     := $(LIBSV_SRC) wire/pbio.c wire/status.c wire/ttrpc.c common/clock.c common/ids.c
SO_OBJS    := $(patsubst %.c,$(B)/pic/%.o,$(SO_SRC)) $(patsubst %,$(B)/pic/gen/%.pb.o,$(SO_PB) ttrpc)
PIC_CFLAGS := $(filter-out -fPIE,$(CFLAGS)) -fPIC
comma      := ,
SO_LDFLAGS := -shared -Wl,-soname,$(SO_NAME) $(filter-out -pie -Wl$(comma)-u$(comma)sv_san_linked,$(LDFLAGS)) \
	      $(if $(SANITIZE),,-Wl,-z,defs)
LIBS_OUT   := $(B)/lib/$(SO_REAL) $(B)/lib/libshimvisor.a

lib: $(LIBS_OUT)
$(B)/pic/%.o: %.c $(GEN_H)
	@mkdir -p $(dir $@)
	$(CC) $(PIC_CFLAGS) -MMD -MP -c -o $@ $<
$(B)/pic/gen/%.pb.o: $(B)/gen/%.pb.c $(GEN_H)
	@mkdir -p $(dir $@)
	$(CC) $(PIC_CFLAGS) -Wno-unused-parameter -c -o $@ $<
# The exported names: the map's functions, and each installed .pb.h's descriptors in place of
# its @MESSAGES@ line. $(B)/lib/libshimvisor.syms is the same list, one a line.
$(B)/lib/libshimvisor.map: client/libshimvisor.map $(SO_PB:%=$(B)/gen/%.pb.h)
	@mkdir -p $(B)/lib
	sed -n 's/^extern const pb_msgdesc_t \(sv_[A-Za-z0-9_]*_msg\);$$/\t\1;/p' \
	    $(SO_PB:%=$(B)/gen/%.pb.h) > $@.msgs
	sed -e '/^\t@MESSAGES@$$/{r $@.msgs' -e 'd}' $< > $@.tmp && rm $@.msgs && mv $@.tmp $@
$(B)/lib/libshimvisor.syms: $(B)/lib/libshimvisor.map
	sed -n 's/^\t\(sv_[A-Za-z0-9_]*\);$$/\1/p' $< > $@
$(B)/lib/$(SO_REAL): $(SO_OBJS) $(B)/lib/libshimvisor.map
	$(CC) $(SO_LDFLAGS) -Wl,--version-script,$(B)/lib/libshimvisor.map -o $@ $(SO_OBJS) $(NANOPB_LIB)
$(B)/lib/libshimvisor.a: $(SO_OBJS) $(B)/lib/libshimvisor.syms
	$(CC) -r -nostdlib -o $(B)/pic/libshimvisor.o $(SO_OBJS)
	$(OBJCOPY) --keep-global-symbols=$(B)/lib/libshimvisor.syms $(B)/pic/libshimvisor.o
	rm -f $@ && $(AR) rcs $@ $(B)/pic/libshimvisor.o

# Unit tests: selftest/unit/test_<component>_<what>.c links that component's archives and Check.
TEST_LIBS_common := $(LIB_COMMON)
TEST_LIBS_wire   := $(LIB_WIRE) $(LIB_COMMON)
TEST_LIBS_init   := $(LIB_INIT) $(LIB_WIRE) $(LIB_COMMON)
TEST_LIBS_worker := $(LIB_WORKER) $(LIB_WIRE) $(LIB_COMMON)
TEST_LIBS_sup    := $(LIB_SUP) $(LIB_WIRE) $(LIB_COMMON)
TEST_LIBS_client := $(LIB_CLI) $(LIB_SV) $(LIB_WIRE) $(LIB_COMMON)
CHECK_LIBS := $(shell $(PKG_CONFIG) --libs check 2>/dev/null)
test_comp = $(firstword $(subst _, ,$(1)))
.SECONDEXPANSION:
$(B)/selftest/test_%: $(B)/selftest/unit/test_%.o $$(TEST_LIBS_$$(call test_comp,$$*))
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(SUP_LIBS) $(INIT_LIBS) $(NANOPB_LIB) $(CHECK_LIBS)

unit: $(UNIT_BINS) $(REPLAY_BINS) $(B)/tables $(B)/selftest/floor-run

# The kernel floor (Linux 5.4): floor-run execs a command under a seccomp filter answering
# ENOSYS for every newer system call, so each fallback in common/kernel.c runs. `make check`
# runs these e2e cases again under it (selftest/e2e/85-floor.t, which reads this list through
# `make floor-suites`): SUITE[@FLOOR][:CASE,...], FLOOR 5.4 unless given (5.2: no pidfd_open
# either). Together they reach every fallback: mount targets, exec's setns, tty, re-attach,
# confinement, cleanup, the rollback of a create.
FLOOR_SUITES ?= 10-run 27-exec 27-exec@5.2 35-cleanup-links \
	16-tty:run_tty_size_and_status,exec_tty,detach_and_attach \
	15-confine:masked_and_readonly_paths,namespaces_and_mount_refused,blocked_syscalls,device_node_in_rootfs_refused \
	40-restart:reattach_after_kill9,exit_event_after_restart,engine_replaced_when_it_ends \
	43-create-atomic@5.2:daemon_killed_before_commit_rolls_back,rollback_spares_a_reused_pid
.PHONY: floor-suites
floor-suites:
	@echo $(FLOOR_SUITES)
$(B)/selftest/floor-run: $(B)/selftest/floor/floor_run.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ -lseccomp

# The lifecycle and message tables, printed from the code as markdown ($(B)/tables [NAME]):
# `make tables` rewrites DESIGN.md's copies of them, which 05-docs.t checks.
tables: $(B)/tables
	python3 mk/design-tables.py DESIGN.md $(B)/tables
$(B)/tables: $(B)/mk/tables.o $(LIB_SUP) $(LIB_WORKER) $(LIB_WIRE) $(LIB_COMMON)
	$(CC) $(LDFLAGS) -o $@ $^ $(SUP_LIBS) $(INIT_LIBS) $(NANOPB_LIB)

# The test command (README, .ci/run): set-up, build, every suite under prove (TAP). The e2e
# suites find the binaries through BUILD; a sanitized run ends with 99-sanitizer-log.t, which
# fails on any report a process wrote under $(B)/san-log instead of failing its test. The
# sanitized binaries run ~2-3x slower: the e2e cases' and the Check tests' timeouts grow.
CHECK_ENV := BUILD=$(abspath $(B)) FLOOR_SUITES='$(FLOOR_SUITES)'
ifneq ($(SANITIZE),)
SAN_CASE_TIMEOUT ?= 180
CHECK_ENV += ASAN_OPTIONS='$(SAN_ASAN)' UBSAN_OPTIONS='$(SAN_UBSAN)' SV_SAN_LOG='$(SAN_LOG)' \
	     CASE_TIMEOUT=$(SAN_CASE_TIMEOUT) CK_TIMEOUT_MULTIPLIER=3
endif
check: deps
	$(MAKE) all unit
	$(if $(SANITIZE),rm -rf $(SAN_LOG) && mkdir -m 1777 $(SAN_LOG))
	$(CHECK_ENV) prove -f $(UNIT_BINS) $(REPLAY_BINS) $(E2E_TESTS)

# --- Cross builds' targets (README.md, "Cross builds"): `make cross` installs the cross
# toolchains and multiarch libraries (mk/deps.sh TRIPLET...; the native deps too, for nanopb's
# generator) and builds every binary, libshimvisor and the unit tests for each of
# CROSS_TARGETS into build-TRIPLET/; `make check-qemu` then runs each one's unit suite under
# qemu-user (selftest/cross/run-qemu.sh; the counts: selftest/cross/RESULTS.md).
cross: deps
	sh mk/deps.sh $(CROSS_TARGETS)
	for t in $(CROSS_TARGETS); do $(MAKE) CROSS=$$t all unit || exit 1; done
check-qemu: cross
	sh selftest/cross/run-qemu.sh $(CROSS_TARGETS)
# --- end of cross builds' targets ----------------------------------------------------------------

demo: deps
	$(MAKE) all
	sh mk/demo.sh

# `make install` (stripped) and `make install-debug` (with symbols): the daemon, worker, first
# stage and CLI; libshimvisor (.so.0, .a, headers, shimvisor.pc); the man pages; the config.
install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR)/pkgconfig \
		   $(DESTDIR)$(INCLUDEDIR)/shimvisor/common $(DESTDIR)$(INCLUDEDIR)/shimvisor/wire
	install -m 0755 $(INSTALL_STRIP) $(B)/shimvisord $(B)/shimvisor-init $(DESTDIR)$(SBINDIR)/
ifeq ($(MUSL),1)
	ln -sf shimvisord $(DESTDIR)$(SBINDIR)/shimvisor-worker
	ln -sf $(shell realpath -m --relative-to=$(BINDIR) $(SBINDIR))/shimvisord $(DESTDIR)$(BINDIR)/shimvisor
else
	install -m 0755 $(INSTALL_STRIP) $(B)/shimvisor-worker $(DESTDIR)$(SBINDIR)/
	install -m 0755 $(INSTALL_STRIP) $(B)/shimvisor $(DESTDIR)$(BINDIR)/
endif
	ln -sf $(shell realpath -m --relative-to=$(BINDIR) $(SBINDIR))/shimvisor-worker \
		$(DESTDIR)$(BINDIR)/containerd-shim-shimvisor-v2
	install -m 0644 $(INSTALL_STRIP) $(B)/lib/$(SO_REAL) $(DESTDIR)$(LIBDIR)/
	ln -sf $(SO_REAL) $(DESTDIR)$(LIBDIR)/$(SO_NAME)
	ln -sf $(SO_NAME) $(DESTDIR)$(LIBDIR)/libshimvisor.so
	install -m 0644 $(B)/lib/libshimvisor.a $(DESTDIR)$(LIBDIR)/
	$(if $(INSTALL_STRIP),$(STRIP) --strip-debug $(DESTDIR)$(LIBDIR)/libshimvisor.a)
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' \
	    -e 's|@VERSION@|$(SV_VERSION)|g' client/shimvisor.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/shimvisor.pc
	install -m 0644 client/shimvisor.h $(DESTDIR)$(INCLUDEDIR)/
	install -m 0644 common/ids.h $(DESTDIR)$(INCLUDEDIR)/shimvisor/common/
	install -m 0644 wire/pbmsg.h $(DESTDIR)$(INCLUDEDIR)/shimvisor/wire/
	install -m 0644 $(SO_PB:%=$(B)/gen/%.pb.h) $(DESTDIR)$(INCLUDEDIR)/shimvisor/
	for s in 1 3 5 8; do install -d $(DESTDIR)$(MANDIR)/man$$s && \
	    install -m 0644 man/*.$$s $(DESTDIR)$(MANDIR)/man$$s/ || exit 1; done
	install -d $(DESTDIR)$(SYSCONFDIR)/shimvisor $(DESTDIR)$(SYSCONFDIR)/init.d
	install -m 0644 etc/shimvisord.conf $(DESTDIR)$(SYSCONFDIR)/shimvisor/shimvisord.conf
	install -m 0644 etc/seccomp-default.json $(DESTDIR)$(SYSCONFDIR)/shimvisor/seccomp-default.json
	sed 's|@SBINDIR@|$(SBINDIR)|' etc/init.d/shimvisord > $(DESTDIR)$(SYSCONFDIR)/init.d/shimvisord
	chmod 0755 $(DESTDIR)$(SYSCONFDIR)/init.d/shimvisord
	if [ -f etc/default/shimvisord ]; then install -d $(DESTDIR)$(SYSCONFDIR)/default && \
	    install -m 0644 etc/default/shimvisord $(DESTDIR)$(SYSCONFDIR)/default/shimvisord; fi
	@# the engine's user and group; a staged install (DESTDIR) leaves that to the package
	@if [ -z "$(DESTDIR)" ]; then sh mk/sysuser.sh; fi
install-debug:
	$(MAKE) install INSTALL_STRIP=

# The Debian packages (debian/) in build/deb/, then lintian's tags on them (mk/deb.sh).
deb:
	sh mk/deb.sh

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

# Scale (not CI): one fresh daemon per N of SCALE_N, N `sleep` tasks: start rate, memory per
# task (worker and task USS/PSS; the kernel's: slab and its caches, stacks, page tables,
# per-cpu), `ls`, the engine's CPU per call, RSS and fds, restart (serving, re-attached),
# delete per task. Before them: the kernel's memory per task of each isolation (default,
# --net none, --net host, host ipc+uts, plain processes; --iso-n tasks) and an idle runc-v2
# shim's memory per task (--runc-n); --net-host-n: the same sweep with `run --net host`. 2 pids
# a task: it refuses an N kernel.pid_max cannot hold. SCALE_ARGS: more options (`python3
# bench/scale.py --help`). Writes only its own section of bench/RESULTS.md
# ("Scale").
SCALE_N ?= 200,2000
SCALE_ARGS ?=
scale: all
	sh bench/deps.sh && python3 bench/scale.py --n $(SCALE_N) $(SCALE_ARGS)

# Fuzz targets (selftest/fuzz/fuzz_<name>.c, libFuzzer's LLVMFuzzerTestOneInput), each with the
# component whose decoder it drives. `make unit` links each with gcc and replay.c into
# $(B)/selftest/fuzz_<name>, which runs selftest/fuzz/corpus/<name>/ (make check; sanitized
# with SANITIZE). `make fuzz` builds them with clang's libFuzzer and runs each FUZZ_TIME s.
FUZZ_COMP_spec      := INIT
FUZZ_COMP_resources := INIT
FUZZ_COMP_policy    := SUP
FUZZ_COMP_monitor   := SUP
FUZZ_COMP_control   := SUP
FUZZ_COMP_engine_spec := SUP
FUZZ_COMP_handover  := WORKER
FUZZ_COMP_task_report := SUP
FUZZ_COMP_replies   := SUP
$(B)/selftest/fuzz/replay.o: CFLAGS += -DSV_FUZZ_CORPUS='"$(abspath selftest/fuzz/corpus)"'
$(B)/selftest/fuzz_%: $(B)/selftest/fuzz/fuzz_%.o $(B)/selftest/fuzz/replay.o \
		      $$(LIB_$$(FUZZ_COMP_$$*)) $(LIB_WIRE) $(LIB_COMMON)
	$(CC) $(LDFLAGS) -o $@ $^ $(SUP_LIBS) $(INIT_LIBS) $(NANOPB_LIB)

# clang's objects and archives, apart from gcc's: $(B)/fuzz/
FZ := $(B)/fuzz
FUZZ_TIME ?= 30
FUZZ_CFLAGS := -g -O1 -fsanitize=fuzzer-no-link,address,undefined -D_GNU_SOURCE -DPB_ENABLE_MALLOC \
	       -I. -I$(B)/gen
fzobjs = $(patsubst %.c,$(FZ)/%.o,$(1))
$(FZ)/%.o: %.c $(GEN_H)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -c -o $@ $<
$(FZ)/libsvcommon.a: $(call fzobjs,$(COMMON_SRC))
$(FZ)/libsvwire.a: $(call fzobjs,$(WIRE_SRC) $(GEN_C))
$(FZ)/libsvinit.a: $(call fzobjs,$(INIT_SRC))
$(FZ)/libsvsupervisor.a: $(call fzobjs,$(SUP_SRC))
$(FZ)/libsvworker.a: $(call fzobjs,$(WORKER_SRC))
$(FZ)/lib%.a:
	rm -f $@ && ar rcs $@ $^
FZLIB_INIT := $(FZ)/libsvinit.a
FZLIB_SUP := $(FZ)/libsvsupervisor.a
FZLIB_WORKER := $(FZ)/libsvworker.a
$(FZ)/fuzz_%: $(FZ)/selftest/fuzz/fuzz_%.o $$(FZLIB_$$(FUZZ_COMP_$$*)) $(FZ)/libsvwire.a $(FZ)/libsvcommon.a
	clang -fsanitize=fuzzer,address,undefined -o $@ $^ $(SUP_LIBS) $(INIT_LIBS) $(NANOPB_LIB)
fuzz: $(FUZZ_NAMES:%=$(FZ)/fuzz_%)
	for t in $(FUZZ_NAMES); do mkdir -p $(FZ)/corpus/$$t && \
	  $(FZ)/fuzz_$$t -max_total_time=$(FUZZ_TIME) -max_len=16384 -print_final_stats=1 \
	    -artifact_prefix=$(FZ)/$$t- $(FZ)/corpus/$$t selftest/fuzz/corpus/$$t || exit 1; \
	done

clean:
	rm -rf $(B)

.SECONDARY:
# (not build/deb/: make deb's copy of the tree, with its own build/)
-include $(shell find $(B) -path build/deb -prune -o -name '*.d' -type f -print 2>/dev/null)
