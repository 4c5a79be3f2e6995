#!/usr/bin/env bash
# `make test`: every test. Installs what is missing, then runs the native tests, builds the
# Worker, and runs the end-to-end tests against the built worker under workerd.
set -euo pipefail
cd "$(dirname "$0")/.."
export CLOUDFLARE_CF_FETCH_ENABLED=false WRANGLER_SEND_METRICS=false

bash scripts/setup.sh
bash scripts/setup-browser.sh
cargo fmt --all -- --check
cargo clippy --all-targets --locked -- -D warnings
# The Worker as it ships, and its test variant.
cargo clippy --target wasm32-unknown-unknown --lib --locked -- -D warnings
cargo clippy --target wasm32-unknown-unknown --lib --locked --features conformance -- -D warnings
cargo test --locked
bash scripts/build.sh
bash scripts/build.sh conformance
npm run --silent test:e2e
