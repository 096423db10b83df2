# uioemu: the two set-up commands are `make run` and `make test` (README.md).
SWIFT       ?= swift
DEPS        := libevent-dev pkg-config libfdt-dev device-tree-compiler cpp
BENCH_DEPS  := strace valgrind libsystemc-dev g++
RELEASE_BIN := .build/release

.PHONY: deps build release run test bench clean preload preload-test examples fuzz soak test-asan explore

deps:
	@scripts/apt-ensure $(DEPS)

# SwiftPM makes .build/debug and .build/release symlinks into its own folder, replacing a directory
# already there: the preload library goes in after the Swift build, not before.
build: deps
	$(SWIFT) build
	$(MAKE) preload

release: deps
	$(SWIFT) build -c release
	$(MAKE) preload

# The default job: the receive driver on the default board for 10 ms of board time (every byte
# verified, metrics and invariants printed), after a quick reactor self-check.
run: release
	$(RELEASE_BIN)/uioemu self-check
	$(RELEASE_BIN)/uioemu run p2020-fpga --duration 10ms

# First the layering check (DESIGN.md's layer table, in seconds, before any build). Then the debug
# build with the tests, and the release uioemu (a test compares its trace hashes with the debug
# build's); then the preload library into both (after them: see `build`) and its own tests.
# The allocation-counting suites read process-wide malloc counters, so they run alone, after the rest.
# Last, a smoke of the benchmark (debug build, tiny counts, no peers) so the suite cannot rot.
test: deps
	scripts/check-layers
	$(SWIFT) build --build-tests
	$(SWIFT) build -c release --product uioemu
	$(MAKE) preload-test
	scripts/hang-guard 600 $(SWIFT) test --skip-build --skip AllocationTests
	scripts/hang-guard 600 $(SWIFT) test --skip-build --filter AllocationTests --no-parallel
	.build/debug/uioemu-bench floors --scale 0.002 --repeats 1 > /dev/null

# libFuzzer on the profile and scenario loaders, the attach control-socket decoder and the DTB reader,
# FUZZ_SECONDS each (default 60), from the shipped files; fails on any crash, hang or sanitizer
# report (scripts/fuzz, Fuzz/README.md). Its own build (.build/fuzz), never part of `make test`.
fuzz: deps
	scripts/fuzz

# The whole suite under AddressSanitizer, then the real-time suites (the reactor on libevent and
# eventfds, the Linux backend on real descriptors, the 50 ms stall) under ThreadSanitizer; each in its
# own build directory (a sanitized build shares nothing with .build/debug). The allocation-counting
# suites are left out: they interpose malloc, as the sanitizers do. Leak detection is off: most
# tests keep their boards to the end of the process on purpose, and whether a finished run is freed
# is asserted in `make test` (TeardownTests). A release step (README, "Reliability").
ASAN_BUILD := .build/asan
TSAN_BUILD := .build/tsan
TSAN_TESTS := ReactorTests|LinuxUIOTests|RealTimeStallTests|UIOFileTests
# The trace sinks' own threads (hash, JSON-lines writer), run one test at a time: the tests make
# TraceNames from several threads at once, and the name table's Synchronization.Mutex locks with raw
# futexes that ThreadSanitizer does not see (it reports the table's accesses as races).
TSAN_SERIAL := StreamSinkThreadTests|TraceDeterminismTests
test-asan: deps preload
	$(SWIFT) build --build-tests --sanitize=address --build-path $(ASAN_BUILD)
	cp .build/debug/libuioemu-attach.so $(ASAN_BUILD)/debug/
	ASAN_OPTIONS=detect_leaks=0 scripts/hang-guard 1800 $(SWIFT) test --skip-build --sanitize=address --build-path $(ASAN_BUILD) --skip AllocationTests
	$(SWIFT) build --build-tests --sanitize=thread --build-path $(TSAN_BUILD)
	scripts/hang-guard 1800 $(SWIFT) test --skip-build --sanitize=thread --build-path $(TSAN_BUILD) --filter '$(TSAN_TESTS)' --skip AllocationTests
	scripts/hang-guard 1800 $(SWIFT) test --skip-build --sanitize=thread --build-path $(TSAN_BUILD) --filter '$(TSAN_SERIAL)' --no-parallel

# 10 M completions in virtual time on p2020-fpga with a random fault every ~10 k: zero violations and
# a flat resident set (uioemu-bench soak; about a minute, release build). Not part of `make test`.
soak: deps
	$(SWIFT) build -c release --product uioemu-bench
	$(RELEASE_BIN)/uioemu-bench soak

# uioemu explore's long runs (README, "Explore" and "Reliability"): the built-in receive driver
# and the scatter-gather one each pass 2,000 runs of the whole fault catalogue, the C example
# driver (attached) 200; release build, reproducers of any failure in .build/explore. Not part of
# `make test` (which explores the planted bugs, 100 runs of the built-in driver, 40 of the SG one
# and 2 of the C one): about 5 minutes.
EXPLORE_SEED ?= 1
explore: release examples
	$(RELEASE_BIN)/uioemu explore scenarios/explore/receive-p2020.yaml --runs 2000 --seed $(EXPLORE_SEED) --out .build/explore
	$(RELEASE_BIN)/uioemu explore scenarios/explore/sg-receive-p2020.yaml --runs 2000 --seed $(EXPLORE_SEED) --out .build/explore
	$(RELEASE_BIN)/uioemu explore scenarios/explore/attached-c-driver.yaml --runs 200 --seed $(EXPLORE_SEED) --out .build/explore

bench: release examples
	@scripts/apt-ensure $(BENCH_DEPS)
	@mkdir -p bench
	bench/peers/run
	$(RELEASE_BIN)/uioemu-bench floors --json bench/results.json --strace --callgrind --attach

# The attach preload library (plain C, not a SwiftPM target), next to both uioemu binaries: uioemu
# attach finds it beside its own executable. Its tests run against a fake emulator, so they need no
# Swift build; the C examples are built with it (.build/examples).
PRELOAD_CC      ?= gcc
PRELOAD_SOURCES := $(wildcard Sources/AttachPreload/*.c)
PRELOAD_HEADERS := $(wildcard Sources/AttachPreload/*.h) Sources/CAttachProtocol/include/uioemu_attach.h
PRELOAD_CFLAGS  := -O2 -g -fPIC -shared -Wall -Wextra -std=gnu11 -fvisibility=hidden -ISources/CAttachProtocol/include
PRELOAD_LIBS    := .build/debug/libuioemu-attach.so .build/release/libuioemu-attach.so
ATTACH_TESTS    := .build/attach-tests
EXAMPLES        := .build/examples
EXAMPLE_CFLAGS  := -std=c11 -O2 -g -Wall -Wextra -Wpedantic
EXAMPLE_BINS    := $(EXAMPLES)/axidma-rx $(EXAMPLES)/axidma-rx-bug-unmask-first $(EXAMPLES)/axidma-rx-bug-no-sync \
                   $(EXAMPLES)/axidma-rx-devmem $(EXAMPLES)/axidma-loopback $(EXAMPLES)/dmasr-poll $(EXAMPLES)/axidma-rx-sg

preload: $(PRELOAD_LIBS)

$(PRELOAD_LIBS): $(PRELOAD_SOURCES) $(PRELOAD_HEADERS)
	@mkdir -p $(@D)
	$(PRELOAD_CC) $(PRELOAD_CFLAGS) -o $@ $(PRELOAD_SOURCES) -ldl -pthread

$(ATTACH_TESTS)/decoder_test: Sources/AttachPreload/tests/decoder_test.c Sources/AttachPreload/decoder.c Sources/AttachPreload/decoder.h
	@mkdir -p $(@D)
	$(PRELOAD_CC) -O2 -g -Wall -Wextra -std=gnu11 -ISources/AttachPreload -o $@ $< Sources/AttachPreload/decoder.c

$(ATTACH_TESTS)/fake_emulator: Sources/AttachPreload/tests/fake_emulator.c Sources/CAttachProtocol/include/uioemu_attach.h
	@mkdir -p $(@D)
	$(PRELOAD_CC) -O2 -g -Wall -Wextra -std=gnu11 -ISources/CAttachProtocol/include -o $@ $< -pthread

$(ATTACH_TESTS)/attach_test: Sources/AttachPreload/tests/attach_test.c
	@mkdir -p $(@D)
	$(PRELOAD_CC) -O2 -g -Wall -Wextra -std=gnu11 -o $@ $<

# The decoder's unit test, then the library inside test programs and the examples, under the fake emulator.
preload-test: preload examples $(ATTACH_TESTS)/decoder_test $(ATTACH_TESTS)/fake_emulator $(ATTACH_TESTS)/attach_test
	$(ATTACH_TESTS)/decoder_test
	scripts/hang-guard 300 scripts/preload-test .build/debug/libuioemu-attach.so $(ATTACH_TESTS) $(EXAMPLES)

examples: $(EXAMPLE_BINS)

$(EXAMPLES)/axidma-rx: examples/c/axidma-rx.c
	@mkdir -p $(@D)
	$(PRELOAD_CC) $(EXAMPLE_CFLAGS) -o $@ $<

$(EXAMPLES)/axidma-rx-bug-unmask-first: examples/c/axidma-rx.c
	@mkdir -p $(@D)
	$(PRELOAD_CC) $(EXAMPLE_CFLAGS) -DBUG_UNMASK_FIRST -o $@ $<

$(EXAMPLES)/axidma-rx-bug-no-sync: examples/c/axidma-rx.c
	@mkdir -p $(@D)
	$(PRELOAD_CC) $(EXAMPLE_CFLAGS) -DBUG_NO_SYNC -o $@ $<

$(EXAMPLES)/axidma-rx-sg: examples/c/axidma-rx-sg.c
	@mkdir -p $(@D)
	$(PRELOAD_CC) $(EXAMPLE_CFLAGS) -o $@ $<

$(EXAMPLES)/dmasr-poll: examples/c/dmasr-poll.c
	@mkdir -p $(@D)
	$(PRELOAD_CC) $(EXAMPLE_CFLAGS) -o $@ $<

$(EXAMPLES)/axidma-loopback: examples/c/axidma-loopback.c
	@mkdir -p $(@D)
	$(PRELOAD_CC) $(EXAMPLE_CFLAGS) -o $@ $<

$(EXAMPLES)/axidma-rx-devmem: examples/c/axidma-rx-devmem.c
	@mkdir -p $(@D)
	$(PRELOAD_CC) $(EXAMPLE_CFLAGS) -o $@ $<

clean:
	rm -rf .build
