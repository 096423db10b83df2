# uioemu: the two set-up commands are `make run` and `make test` (README.md).
SWIFT       ?= swift
DEPS        := libevent-dev pkg-config libfdt-dev device-tree-compiler cpp
BENCH_DEPS  := strace valgrind libsystemc-dev g++
RELEASE_BIN := .build/release

.PHONY: deps build release run test bench clean

deps:
	@scripts/apt-ensure $(DEPS)

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

# The default job: the receive driver on the default board for 10 ms of board time (every byte
# verified, metrics and invariants printed), after a quick reactor self-check.
run: release
	$(RELEASE_BIN)/uioemu self-check
	$(RELEASE_BIN)/uioemu run p2020-fpga --duration 10ms

# First the layering check (DESIGN.md's layer table, in seconds, before any build).
# The allocation-counting suites read process-wide malloc counters, so they run alone, after the rest.
# Last, a smoke of the benchmark (debug build, tiny counts, no peers) so the suite cannot rot.
test: deps
	scripts/check-layers
	$(SWIFT) build --build-tests
	scripts/hang-guard 600 $(SWIFT) test --skip-build --skip AllocationTests
	scripts/hang-guard 600 $(SWIFT) test --skip-build --filter AllocationTests --no-parallel
	.build/debug/uioemu-bench floors --scale 0.002 --repeats 1 > /dev/null

bench: release
	@scripts/apt-ensure $(BENCH_DEPS)
	@mkdir -p bench
	bench/peers/run
	$(RELEASE_BIN)/uioemu-bench floors --json bench/results.json --strace --callgrind

clean:
	rm -rf .build
