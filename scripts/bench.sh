#!/usr/bin/env bash
# `make bench`: builds the release Worker and measures it under workerd (see scripts/bench.mjs).
set -euo pipefail
cd "$(dirname "$0")/.."
export CLOUDFLARE_CF_FETCH_ENABLED=false WRANGLER_SEND_METRICS=false
bash scripts/setup.sh
bash scripts/build.sh
rm -rf bench-results/bundle
npx wrangler deploy --dry-run --outdir bench-results/bundle > /dev/null
# The same upload as one file, for `wrangler check startup` (it would otherwise build again).
npx wrangler deploy --dry-run --outfile bench-results/worker.bundle > /dev/null
# Sizes per function (twiggy, from crates.io when missing) of the named wasm build.sh keeps.
command -v twiggy > /dev/null || [ -x "$HOME/.cargo/bin/twiggy" ] || cargo install twiggy --version 0.8.0 --locked
npm run --silent bench
