# uioemu: the two set-up commands are `make run` and `make test` (README.md).
SWIFT       ?= swift
DEPS        := libevent-dev pkg-config
BENCH_DEPS  := strace valgrind
RELEASE_BIN := .build/release

.PHONY: deps build release run test bench clean

deps:
	@scripts/apt-ensure $(DEPS)

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

# The default job: until the driver and scenario layers land, a reactor self-check that prints what it
# did, then the default board's memory map and interrupt routing.
run: release
	$(RELEASE_BIN)/uioemu self-check
	$(RELEASE_BIN)/uioemu board show p2020-fpga

# The allocation-counting suite reads process-wide malloc counters, so it runs alone, after the rest.
test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --skip AllocationTests
	$(SWIFT) test --skip-build --filter AllocationTests --no-parallel

bench: release
	@scripts/apt-ensure $(BENCH_DEPS)
	@mkdir -p bench
	$(RELEASE_BIN)/uioemu-bench floors --json bench/results.json --strace --callgrind

clean:
	rm -rf .build
