# uioemu: the two set-up commands are `make run` and `make test` (README.md).
SWIFT       ?= swift
DEPS        := libevent-dev pkg-config
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

# The allocation-counting suite reads process-wide malloc counters, so it runs alone, after the rest.
test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --skip AllocationTests
	$(SWIFT) test --skip-build --filter AllocationTests --no-parallel

bench: release
	@scripts/apt-ensure $(BENCH_DEPS)
	@mkdir -p bench
	$(RELEASE_BIN)/uioemu-bench floors --json bench/results.json --strace --callgrind
	bench/peers/run

clean:
	rm -rf .build
