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

# The function names (the wasm `name` section, ~190 KB, ~50 KB gzip) and the producers section
# only serve debuggers: drop them from what deploys. (Rust's own `strip = true` cannot do this:
# it runs before wasm-bindgen, which needs the symbols.) `make bench` reads sizes per function
# from the named copy kept in target/.
cp build/index_bg.wasm target/edge-issuer.named.wasm
"$WASM_OPT_BIN" build/index_bg.wasm --strip-debug --strip-producers -o build/index_bg.wasm
