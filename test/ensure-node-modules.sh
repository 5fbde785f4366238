#!/usr/bin/env bash
# Installs node_modules when it is missing or older than package-lock.json, so
# `npm test` and `npm run demo` work on a fresh clone without a prior `npm ci`.
set -euo pipefail
cd "$(dirname "$0")/.."
marker=node_modules/.package-lock.json
if [ ! -f "$marker" ] || [ package-lock.json -nt "$marker" ] || [ ! -x node_modules/.bin/node ]; then
  echo "[setup] npm ci" >&2
  npm ci --no-audit --no-fund --loglevel=error
fi
