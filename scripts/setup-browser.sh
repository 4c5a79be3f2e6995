#!/usr/bin/env bash
# Installs Debian's Chromium for the browser test (tests/e2e/browser.test.mjs) when it is
# missing. `CHROMIUM_PATH` names another Chromium and skips this. Safe to run again.
set -euo pipefail

if [ -n "${CHROMIUM_PATH:-}" ] || command -v chromium >/dev/null 2>&1; then
  exit 0
fi
need_sudo=""
if [ "$(id -u)" != 0 ]; then need_sudo="sudo"; fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "setup: the browser test needs Chromium: install it, or set CHROMIUM_PATH" >&2
  exit 1
fi
echo "setup: installing Debian's chromium for the browser test (once)"
export DEBIAN_FRONTEND=noninteractive
$need_sudo apt-get install -y --no-install-recommends chromium \
  || { $need_sudo apt-get update -qq && $need_sudo apt-get install -y --no-install-recommends chromium; }
