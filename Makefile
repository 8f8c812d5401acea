# criu-lite top-level Makefile.
#
#   make            build criu-lite/criu-lite (and everything the tests need)
#   make SAN=1      the same with ASan + UBSan (objects kept apart in build/san)
#   make deps       install the Debian packages the build and tests need (idempotent)
#   make test       deps + build + unit tests + the zdtm suite + the CLI test + the kernel test
#   make kernel-test the kernel patch (kernel/): build 6.1 unpatched and patched, boot both in qemu
#   make demo       deps + build + the demo (scripted in bench/demo)
#   make bench      dump/restore throughput against process_vm_readv/writev; lazy restore,
#                   local (bench/lazybench) and over a veth (bench/remotebench)
#   make fuzz       libFuzzer targets with clang (test/fuzz/)
#   make install    PREFIX=/usr/local DESTDIR=
#   make format     clang-format every C file in place

PREFIX	?= /usr/local
DESTDIR	?=
CC	?= gcc
SAN	?= 0

ifeq ($(SAN),1)
FLAVOR	:= san
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
else
FLAVOR	:= plain
SANFLAGS :=
endif

B	:= build/$(FLAVOR)
G	:= build/proto

PKGS	:= libprotobuf-c libnl-3.0 libnl-route-3.0 libcap libseccomp json-c gnutls libnftables
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lisal

WARN	:= -Wall -Wextra -Werror
CFLAGS_COMMON := -std=gnu11 -D_GNU_SOURCE -O2 -g $(WARN) -I. -I$(G) $(SANFLAGS)
CFLAGS_ALL = $(CFLAGS_COMMON) $(PKG_CFLAGS) $(CFLAGS)
LDFLAGS_ALL = $(SANFLAGS) $(LDFLAGS)

# Debian packages needed to build and test. `make deps` installs the missing ones.
DEB_PKGS := build-essential pkg-config protobuf-c-compiler libprotobuf-c-dev \
	libnl-3-dev libnl-route-3-dev libcap-dev libseccomp-dev libjson-c-dev \
	libisal-dev libgnutls28-dev libnftables-dev libcmocka-dev python3 iproute2 util-linux procps kmod \
	nftables \
	clang libclang-rt-14-dev \
	linux-source-6.1 qemu-system-x86 busybox-static flex bison bc libelf-dev libssl-dev \
	cpio xz-utils patch \
	redis-server
# (redis-server: a real TCP server test/cli/tcp-apps checkpoints with a client connected;
# nftables: the nft command test/cli/tcp-migrate looks at the network lock with)

PROTOS	:= $(wildcard proto/*.proto)
PB_C	:= $(patsubst proto/%.proto,$(G)/%.pb-c.c,$(PROTOS))
PB_H	:= $(PB_C:.c=.h)
PB_O	:= $(patsubst $(G)/%.c,$(B)/proto/%.o,$(PB_C))

IMG_SRC	:= $(wildcard images/*.c)
IMG_O	:= $(patsubst %.c,$(B)/%.o,$(IMG_SRC))
LIBIMG	:= $(B)/libimages.a

TOOL_SRC := $(wildcard criu-lite/*.c criu-lite/*/*.c) $(wildcard lazy-pages/*.c)
TOOL_O	:= $(patsubst %.c,$(B)/%.o,$(TOOL_SRC))
TOOL	:= criu-lite/criu-lite
# everything but main(), for unit tests of the tool's modules
LIBTOOL	:= $(B)/libcriu-lite.a

UNIT_SRC := $(wildcard test/unit/test_*.c)
UNIT_BIN := $(patsubst test/unit/%.c,$(B)/unit/%,$(UNIT_SRC))

# zdtm test programs are never built with sanitizers: they are the workload.
Z	:= build/zdtm
ZLIB_SRC := $(wildcard test/zdtm/lib/*.c)
ZLIB_O	:= $(patsubst test/zdtm/lib/%.c,$(Z)/lib/%.o,$(ZLIB_SRC))
ZLIB	:= $(Z)/libzdtm.a
ZTESTS_SRC := $(wildcard test/zdtm/static/*.c)
ZTESTS	:= $(patsubst test/zdtm/static/%.c,$(Z)/static/%,$(ZTESTS_SRC))
ZRUNNER	:= $(Z)/zdtm
ZCFLAGS	:= -std=gnu11 -D_GNU_SOURCE -O2 -g $(WARN) -Itest/zdtm/lib -pthread
# per-test extra flags: ZFLAGS_<test>. xstate00 needs none: its AVX-512 code is one function
# with __attribute__((target)); -mavx512f on the whole file lets gcc put zmm moves into main()
# before the CPU check, and the test would die of SIGILL instead of skipping without AVX-512.
# per-test libraries: ZLIBS_<test>
ZLIBS_seccomp00 := -lseccomp
ZLIBS_creds00 := -lcap

.PHONY: all deps test unit zdtm demo bench bench-build fuzz install format clean check-format kernel-test
.SECONDARY:

all: $(TOOL) zdtm-build bench-build

$(G)/%.pb-c.c $(G)/%.pb-c.h: proto/%.proto
	@mkdir -p $(G)
	protoc-c --proto_path=proto --c_out=$(G) $<

# generated code: keep warnings on, but unused-parameter noise is theirs, not ours
$(B)/proto/%.o: $(G)/%.c $(PB_H)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Wno-unused-parameter -c $< -o $@

$(B)/%.o: %.c $(PB_H)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -MMD -MP -c $< -o $@

$(LIBIMG): $(IMG_O) $(PB_O)
	@rm -f $@
	ar rcs $@ $^

# The binary is relinked whenever the flavor changes (plain <-> san): this
# file is rewritten (and so newer) only when the flavor differs from last time.
FLAVOR_FILE := build/last-flavor
$(shell mkdir -p build; [ "$$(cat $(FLAVOR_FILE) 2>/dev/null)" = "$(FLAVOR)" ] || \
	echo $(FLAVOR) > $(FLAVOR_FILE))

$(TOOL): $(TOOL_O) $(LIBIMG) $(FLAVOR_FILE)
	$(CC) $(LDFLAGS_ALL) -o $@ $(TOOL_O) $(LIBIMG) $(PKG_LIBS) -lpthread

$(LIBTOOL): $(filter-out $(B)/criu-lite/main.o,$(TOOL_O))
	@rm -f $@
	ar rcs $@ $^

# A unit test of criu-lite code compiles the sources it tests in: UNIT_EXTRA_<test>.
UNIT_EXTRA_test_proc := $(wildcard criu-lite/proc/proc-*.c) criu-lite/log.c test/unit/proc_live.c
$(B)/unit/test_proc: $(UNIT_EXTRA_test_proc) criu-lite/proc/proc.h criu-lite/proc/proc-util.h \
	test/unit/proc_live.h test/unit/proc_fixtures.h
UNIT_EXTRA_test_rsys := criu-lite/seize.c criu-lite/rsys.c criu-lite/log.c
$(B)/unit/test_rsys: $(UNIT_EXTRA_test_rsys) criu-lite/seize.h criu-lite/rsys.h
UNIT_EXTRA_test_pagescan := criu-lite/dump/pagescan.c criu-lite/log.c
UNIT_EXTRA_test_core := test/unit/core_fixture.c
$(B)/unit/test_core: $(UNIT_EXTRA_test_core) test/unit/core_fixture.h
UNIT_EXTRA_test_core_regs := test/unit/core_fixture.c
$(B)/unit/test_core_regs: $(UNIT_EXTRA_test_core_regs) test/unit/core_fixture.h
UNIT_EXTRA_test_files := test/unit/files_restore.c
$(B)/unit/test_files: $(UNIT_EXTRA_test_files) test/unit/files_fixture.h
UNIT_EXTRA_test_xfer_conn := test/unit/xfer_fixture.c
$(B)/unit/test_xfer_conn: $(UNIT_EXTRA_test_xfer_conn) test/unit/xfer_fixture.h
UNIT_EXTRA_test_xfer_auth := test/unit/xfer_fixture.c
$(B)/unit/test_xfer_auth: $(UNIT_EXTRA_test_xfer_auth) test/unit/xfer_fixture.h
UNIT_EXTRA_test_xfer_msg := test/unit/xfer_msg_fixture.c
$(B)/unit/test_xfer_msg: $(UNIT_EXTRA_test_xfer_msg) test/unit/xfer_msg_fixture.h
UNIT_EXTRA_test_xfer_refuse := test/unit/xfer_msg_fixture.c
$(B)/unit/test_xfer_refuse: $(UNIT_EXTRA_test_xfer_refuse) test/unit/xfer_msg_fixture.h
UNIT_EXTRA_test_ps_sandbox := test/unit/sandbox_fixture.c
$(B)/unit/test_ps_sandbox: $(UNIT_EXTRA_test_ps_sandbox) test/unit/sandbox_fixture.h
UNIT_EXTRA_test_ps_sandbox_push := test/unit/sandbox_fixture.c
$(B)/unit/test_ps_sandbox_push: $(UNIT_EXTRA_test_ps_sandbox_push) test/unit/sandbox_fixture.h
UNIT_EXTRA_test_push_recv := test/unit/xfer_msg_fixture.c
$(B)/unit/test_push_recv: $(UNIT_EXTRA_test_push_recv) test/unit/xfer_msg_fixture.h

UNIT_UTIL := $(wildcard test/unit/util_*.c test/unit/util_*.h)
$(B)/unit/%: test/unit/%.c $(LIBTOOL) $(LIBIMG) $(PB_H) $(UNIT_UTIL)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Itest/unit -o $@ $< $(UNIT_EXTRA_$*) $(filter-out test/unit/$*.c,$(wildcard test/unit/util_*.c)) \
		$(LIBTOOL) $(LIBIMG) $(PKG_LIBS) -lcmocka -lpthread $(LDFLAGS_ALL)

$(Z)/lib/%.o: test/zdtm/lib/%.c $(wildcard test/zdtm/lib/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ZCFLAGS) -c $< -o $@

$(ZLIB): $(ZLIB_O)
	@rm -f $@
	ar rcs $@ $^

$(Z)/static/%: test/zdtm/static/%.c $(ZLIB)
	@mkdir -p $(dir $@)
	$(CC) $(ZCFLAGS) $(ZFLAGS_$*) -o $@ $< $(ZLIB) $(ZLIBS_$*) -lpthread

$(ZRUNNER): $(wildcard test/zdtm/runner/*.c) $(wildcard test/zdtm/runner/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ZCFLAGS) -Itest/zdtm/runner -o $@ $(wildcard test/zdtm/runner/*.c)

zdtm-build: $(ZLIB) $(ZTESTS) $(ZRUNNER)

# benchmarks (bench/): plain -O2 programs, never sanitized
build/bench/%: bench/%.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -D_GNU_SOURCE -O2 -g $(WARN) -o $@ $<

bench-build: build/bench/counter build/bench/drbench build/bench/treeload build/bench/lazyload \
	build/bench/tcpfloor build/bench/dirtyload

bench: all bench-build
	build/bench/drbench
	bash bench/lazybench
	bash bench/remotebench
	bash bench/predumpbench
	bash bench/snapbench

-include $(IMG_O:.o=.d) $(TOOL_O:.o=.d)

deps:
	@missing=""; for p in $(DEB_PKGS); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "deps: installing$$missing"; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing >/dev/null || \
			{ echo "deps: apt-get install$$missing failed" >&2; exit 1; }; \
	else echo "deps: all installed"; fi

unit: $(UNIT_BIN)
	@rc=0; for t in $(UNIT_BIN); do $$t || rc=1; done; exit $$rc

zdtm: $(TOOL) zdtm-build
	$(ZRUNNER) run --all

# make test: one closing line from the zdtm runner, which also counts the unit tests.
# The runner's closing line ("N passed, N failed, N skipped") must stay the last line of output,
# on failure too, where make would print "make: *** [test] Error 1" after it: so on failure the
# recipe ends make with SIGKILL (make prints nothing; the exit status is 137). A build that
# fails counts as one failure in a closing line of its own.
test: deps
	@$(MAKE) all && $(MAKE) $(UNIT_BIN) || { echo "0 passed, 1 failed (the build failed)"; \
		kill -KILL $$PPID; exit 1; }
	@$(ZRUNNER) run --all --keep-going -f nocr,h,pidns,lazy,ps-lazy,remote-lazy,remote,pre,pre-lazy,pre-remote,snapshot --unit "$(UNIT_BIN)" \
		--cmd "cli:600=test/cli/run" --cmd "predump:300=test/cli/predump" --cmd "tcp-migrate:300=test/cli/tcp-migrate" --cmd "tcp-apps:300=test/cli/tcp-apps" \
		--cmd "snapshot:300=test/cli/snapshot" \
		--cmd "kernel-test=kernel/run-qemu-test" || \
		{ kill -KILL $$PPID; exit 1; }

# The kernel patch test (kernel/README.md): about 4-5 minutes on 2 cores the first
# time, seconds once build/kernel/ holds both kernels.
kernel-test: $(TOOL)
	kernel/run-qemu-test

demo: deps
	$(MAKE) all
	bash bench/demo

fuzz:
	@command -v clang >/dev/null || { echo "make fuzz needs clang (apt-get install clang)" >&2; exit 1; }
	@mkdir -p build/fuzz
	$(MAKE) -C . $(PB_C)
	clang -std=gnu11 -D_GNU_SOURCE -g -O1 -I. -I$(G) -fsanitize=fuzzer,address,undefined \
		-o build/fuzz/fuzz_records test/fuzz/fuzz_records.c $(IMG_SRC) $(PB_C) \
		$(PKG_CFLAGS) $(PKG_LIBS)
	clang -std=gnu11 -D_GNU_SOURCE -g -O1 -I. -fsanitize=fuzzer,address,undefined \
		-o build/fuzz/fuzz_proc test/fuzz/fuzz_proc.c $(wildcard criu-lite/proc/proc-*.c) criu-lite/log.c
	clang -std=gnu11 -D_GNU_SOURCE -g -O1 -I. -I$(G) -fsanitize=fuzzer,address,undefined \
		-o build/fuzz/fuzz_pagexfer test/fuzz/fuzz_pagexfer.c lazy-pages/xfer-msg.c \
		$(IMG_SRC) $(PB_C) $(PKG_CFLAGS) $(PKG_LIBS)
	clang -std=gnu11 -D_GNU_SOURCE -g -O1 -I. -I$(G) -fsanitize=fuzzer,address,undefined \
		-o build/fuzz/fuzz_push test/fuzz/fuzz_push.c lazy-pages/push-recv.c \
		lazy-pages/xfer-msg.c $(IMG_SRC) $(PB_C) $(PKG_CFLAGS) $(PKG_LIBS)
	@echo "run: mkdir -p /tmp/fz && build/fuzz/fuzz_records -max_total_time=60 /tmp/fz test/fuzz/corpus"
	@echo "run: build/fuzz/fuzz_proc -max_total_time=60"
	@echo "run: mkdir -p /tmp/fzx && build/fuzz/fuzz_pagexfer -max_total_time=60 /tmp/fzx test/fuzz/corpus-pagexfer"
	@echo "run: mkdir -p /tmp/fzp && build/fuzz/fuzz_push -max_total_time=60 /tmp/fzp test/fuzz/corpus-pagexfer"

install: $(TOOL)
	install -D -m 0755 $(TOOL) $(DESTDIR)$(PREFIX)/sbin/criu-lite
	install -D -m 0644 docs/criu-lite.8 $(DESTDIR)$(PREFIX)/share/man/man8/criu-lite.8

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

check-format:
	@clang-format --dry-run -Werror $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build $(TOOL)
