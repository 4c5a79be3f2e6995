#!/usr/bin/env bash
# Builds the Worker (build/entry.mjs wrapping build/index.js + wasm) offline with the pinned tools. Run by wrangler's
# [build] command and by the Makefile. Exits early when the output is newer than the sources,
# because `wrangler dev` runs the build twice at start-up.
#
# `build.sh conformance` builds the test variant into build-conformance/ instead: the same
# Worker plus the storage conformance suite as a route (the `conformance` feature), which the
# end-to-end test runs against D1. What deploys never has it.
set -euo pipefail
cd "$(dirname "$0")/.."

out=build
cargo_args=()
if [ "${1:-}" = conformance ]; then
  out=build-conformance
  cargo_args=(--features conformance)
fi

if [ -f "$out/entry.mjs" ] && [ -z "$(find src Cargo.toml Cargo.lock -newer "$out/entry.mjs" -print -quit)" ]; then
  exit 0
fi

# worker-build would otherwise download these from the network and fail offline.
export WASM_BINDGEN_BIN="${WASM_BINDGEN_BIN:-$(command -v wasm-bindgen || echo "$HOME/.cargo/bin/wasm-bindgen")}"
export WASM_OPT_BIN="${WASM_OPT_BIN:-$PWD/node_modules/.bin/wasm-opt}"
export ESBUILD_BIN="${ESBUILD_BIN:-$PWD/node_modules/.bin/esbuild}"
for bin in "$WASM_BINDGEN_BIN" "$WASM_OPT_BIN" "$ESBUILD_BIN"; do
  [ -x "$bin" ] || { echo "build.sh: $bin is missing; run 'bash scripts/setup.sh' first" >&2; exit 1; }
done

# Size (docs/architecture.md, "Bundle size"): the standard library is built with the Worker
# (`build-std`, which needs the `rust-src` component setup.sh adds) so that a panic is an
# immediate trap, with no message formatting, no panic carries its source location, and the
# standard library picks its smaller implementations (`optimize_for_size`); and `{:?}` formats
# nothing (`fmt-debug=none`: the Worker's own messages never use it, a test greps for that).
# Together about 30 KiB of gzip. These are unstable options of the pinned stable toolchain,
# which RUSTC_BOOTSTRAP allows for this build only; native builds and tests do not use them.
# A panic still answers 500 `server_error` (src/entry.mjs; tests/e2e/panic.test.mjs), but its
# message is no longer logged. The `aes_compact` cfg repeats .cargo/config.toml, which this
# variable overrides.
export RUSTC_BOOTSTRAP=1
export CARGO_UNSTABLE_BUILD_STD=std,panic_abort
export CARGO_UNSTABLE_BUILD_STD_FEATURES=optimize_for_size
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="--cfg aes_compact -Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none -Zfmt-debug=none"
worker-build --release --out-dir "$out" . "${cargo_args[@]}"

# The function names (the wasm `name` section, ~190 KB, ~50 KB gzip) and the producers section
# only serve debuggers: drop them from what deploys; and optimize once more for size (-Oz:
# about 12 KB raw, 1.7 KB gzip, beyond worker-build's own pass). (Rust's own `strip = true` cannot do this:
# it runs before wasm-bindgen, which needs the symbols.) `make bench` reads sizes per function
# from the named copy kept in target/.
[ "$out" = build ] && cp build/index_bg.wasm target/edge-issuer.named.wasm
# `--low-memory-unused` lets the optimizer fold a constant into a load's or store's offset
# without proving that the address computation cannot wrap past 4 GiB (it could only for an
# address in the first KiB, which no valid pointer of ours reaches by wrapping): 3 KiB gzip.
#
# The `worker` and `wasm-streams` crates export classes for JavaScript to call into: a Rust
# stream's source and sink (`IntoUnderlyingSource`, `…ByteSource`, `…Sink`), a container's
# start-up options, a minify setting and an R2 range. This Worker never hands one to
# JavaScript (that would take an import that wraps it, which the check below refuses), so no
# call can reach those exports: they are removed, and the code only they reached with them
# (2.8 KiB gzip).
unused_exports=(intounderlyingsource intounderlyingbytesource intounderlyingsink
  containerstartupoptions minifyconfig r2range)
removals=()
for class in "${unused_exports[@]}"; do
  removals+=("--remove-exports=*${class}*")
  if grep -Eq "__wbg_${class}_new|__wbg_${class}_unwrap" "$out/index.js"; then
    echo "build.sh: the Worker now hands a ${class} to JavaScript; keep its exports" >&2
    exit 1
  fi
done
"$WASM_OPT_BIN" "$out/index_bg.wasm" \
  "${removals[@]}" \
  --low-memory-unused -Oz --gufa-optimizing -Oz --converge \
  --strip-debug --strip-producers \
  -o "$out/index_bg.wasm"

# The entry point: the Rust Worker, with a panic answered as the issuer's 500 (src/entry.mjs).
cp src/entry.mjs "$out/entry.mjs"
