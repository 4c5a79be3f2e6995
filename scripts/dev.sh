#!/usr/bin/env bash
# `make dev`: the issuer on workerd at http://127.0.0.1:8787 with local D1 and KV and the demo
# tenant of seed/dev.json, and the example SPA at http://127.0.0.1:3000. Safe to run again: migrations apply once, the seed is an upsert.
set -euo pipefail
cd "$(dirname "$0")/.."
export CLOUDFLARE_CF_FETCH_ENABLED=false WRANGLER_SEND_METRICS=false
PORT="${PORT:-8787}"

bash scripts/setup.sh
bash scripts/build.sh

# A dev-only key-encryption key, made once per checkout (never commit .dev.vars).
if [ ! -f .dev.vars ]; then
  kek=$(node -e "process.stdout.write(require('crypto').randomBytes(32).toString('base64'))")
  printf '# DEVELOPMENT ONLY: local key-encryption key for signing keys in local D1.\nKEY_ENCRYPTION_KEY=%s\n' "$kek" > .dev.vars
  echo "dev: wrote .dev.vars with a new dev-only KEY_ENCRYPTION_KEY"
fi

npx wrangler d1 migrations apply DB --local
mkdir -p .wrangler
ISSUER="http://127.0.0.1:${PORT}" KEY_ENCRYPTION_KEY="$(sed -n 's/^KEY_ENCRYPTION_KEY=//p' .dev.vars)" \
  node scripts/seed.mjs seed/dev.json > .wrangler/seed.sql
npx wrangler d1 execute DB --local --file .wrangler/seed.sql

# The example SPA (examples/spa, Auth0's SPA SDK) on http://127.0.0.1:3000, as the seed's
# demo-spa is registered there; it stops with this script.
node scripts/spa-server.mjs --port 3000 --issuer "http://127.0.0.1:${PORT}" &
spa=$!
# The local outbox on http://127.0.0.1:3001: once the issuer answers, the tenant's email
# provider is pointed at it, and every message (verification, password reset) shows there.
node scripts/outbox.mjs --port 3001 --issuer "http://127.0.0.1:${PORT}" &
outbox=$!
trap 'kill $spa $outbox 2>/dev/null' EXIT

echo "dev: serving on http://127.0.0.1:${PORT}; the example SPA on http://127.0.0.1:3000; emails at http://127.0.0.1:3001 (Ctrl-C stops)"
npx wrangler dev --ip 127.0.0.1 --port "$PORT" --var "ISSUER:http://127.0.0.1:${PORT}/"
