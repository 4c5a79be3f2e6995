#!/usr/bin/env bash
# Installs what the build and the tests need, from the registries only, skipping what is
# already there: the wasm32 target and the standard library's source, the pinned worker-build and wasm-bindgen-cli, and the npm
# packages of package-lock.json (Node 22 for wrangler, wrangler/miniflare, esbuild, binaryen,
# jose). Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

WORKER_BUILD_VERSION=0.8.7
WASM_BINDGEN_VERSION=0.2.129   # must equal the wasm-bindgen pin in Cargo.toml
export PATH="$HOME/.cargo/bin:$PATH"

need() { command -v "$1" >/dev/null 2>&1 || { echo "setup: '$1' is required ($2)" >&2; exit 1; }; }
need cargo "install Rust with rustup"
need rustup "install Rust with rustup"
need npm "install Node.js and npm (any version: Node 22 comes from npm)"

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  echo "setup: adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# The Worker's build compiles the standard library for size (scripts/build.sh).
if ! rustup component list --installed | grep -qx rust-src; then
  echo "setup: adding the rust-src component"
  rustup component add rust-src
fi

if ! worker-build --version 2>/dev/null | grep -q "$WORKER_BUILD_VERSION"; then
  echo "setup: installing worker-build $WORKER_BUILD_VERSION (a few minutes, once)"
  cargo install worker-build --version "$WORKER_BUILD_VERSION" --locked
fi

if ! wasm-bindgen --version 2>/dev/null | grep -q "$WASM_BINDGEN_VERSION"; then
  echo "setup: installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (a few minutes, once)"
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --locked
fi

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund
fi
