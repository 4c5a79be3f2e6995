#!/usr/bin/env bash
# `make bench`: builds the release Worker and measures it under workerd (see scripts/bench.mjs).
set -euo pipefail
cd "$(dirname "$0")/.."
export CLOUDFLARE_CF_FETCH_ENABLED=false WRANGLER_SEND_METRICS=false
bash scripts/setup.sh
bash scripts/build.sh
rm -rf bench-results/bundle
npx wrangler deploy --dry-run --outdir bench-results/bundle > /dev/null
npm run --silent bench
