#!/usr/bin/env bash
# Builds the Worker (build/index.js + wasm) offline with the pinned tools. Run by wrangler's
# [build] command and by the Makefile. Exits early when the output is newer than the sources,
# because `wrangler dev` runs the build twice at start-up.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -f build/index.js ] && [ -z "$(find src Cargo.toml Cargo.lock -newer build/index.js -print -quit)" ]; then
  exit 0
fi

# worker-build would otherwise download these from the network and fail offline.
export WASM_BINDGEN_BIN="${WASM_BINDGEN_BIN:-$(command -v wasm-bindgen || echo "$HOME/.cargo/bin/wasm-bindgen")}"
export WASM_OPT_BIN="${WASM_OPT_BIN:-$PWD/node_modules/.bin/wasm-opt}"
export ESBUILD_BIN="${ESBUILD_BIN:-$PWD/node_modules/.bin/esbuild}"
for bin in "$WASM_BINDGEN_BIN" "$WASM_OPT_BIN" "$ESBUILD_BIN"; do
  [ -x "$bin" ] || { echo "build.sh: $bin is missing; run 'bash scripts/setup.sh' first" >&2; exit 1; }
done

worker-build --release
