# Thin wrapper over CMake for the two commands a new user runs (README.md).
#   make demo   build everything, boot the demo firmware in QEMU, capture and report
#   make test   install what is missing, build with sanitizers, run every test
#   make bench  benchmarks (bench/)
#   make fuzz   every libFuzzer target for FUZZ_SECONDS each (tests/fuzz/run.sh; make test runs 10 s each)
BUILD      ?= build
RELEASE    := $(BUILD)/release
TESTBUILD  := $(BUILD)/test
JOBS       ?= 2
PYTEST     := /usr/bin/python3 -m pytest
FUZZ_SECONDS ?= 300

.PHONY: all deps build demo test unit e2e bench fuzz clean

all: build

deps:
	@scripts/bootstrap.sh

build: deps
	cmake -S . -B $(RELEASE) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	MAKEFLAGS= MAKELEVEL= cmake --build $(RELEASE) -j$(JOBS)

demo: build
	scripts/demo.sh $(RELEASE)

test: deps
	cmake -S . -B $(TESTBUILD) -DCMAKE_BUILD_TYPE=Debug -DCOMB_SANITIZE=ON >/dev/null
	MAKEFLAGS= MAKELEVEL= cmake --build $(TESTBUILD) -j$(JOBS)
	$(MAKE) --no-print-directory unit e2e

unit:
	cd $(TESTBUILD) && ctest --output-on-failure -j$(JOBS)

e2e:
	COMB_BUILD_DIR=$(abspath $(TESTBUILD)) $(PYTEST) -q tests/e2e

bench: build
	scripts/bench.sh $(RELEASE)

fuzz: deps
	tests/fuzz/run.sh $(BUILD)/fuzz $(FUZZ_SECONDS) 1000000000

clean:
	rm -rf $(BUILD)
