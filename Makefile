# The two commands of the README, plus the benchmark. Each installs what it needs first.
.PHONY: dev test bench build setup

dev:
	bash scripts/dev.sh

test:
	bash scripts/test.sh

bench:
	bash scripts/bench.sh

build:
	bash scripts/setup.sh
	bash scripts/build.sh

setup:
	bash scripts/setup.sh
