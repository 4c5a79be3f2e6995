# The two commands of the README, plus the benchmark and the long fuzzing run. Each installs
# what it needs first.
.PHONY: dev test bench fuzz build setup

dev:
	bash scripts/dev.sh

test:
	bash scripts/test.sh

bench:
	bash scripts/bench.sh

# The fuzz properties of `make test` (tests/fuzz.rs), 20,000 cases each instead of 64, in
# release. A failure is kept in fuzz/regressions/; copy its input into fuzz/corpus/<target>/.
fuzz:
	bash scripts/setup.sh
	PROPTEST_CASES=$${PROPTEST_CASES:-20000} cargo test --release --locked --test fuzz

build:
	bash scripts/setup.sh
	bash scripts/build.sh

setup:
	bash scripts/setup.sh
