#!/usr/bin/env bash
# The official AsyncAPI parser (npm @asyncapi/parser) checks docs/asyncapi.json in make test, run with the
# machine's Node.js; axe-core is injected into the console by tests/browser/test_console_accessibility.py.
# Installed from tests/node/package-lock.json into tests/node/node_modules; idempotent.
set -euo pipefail
cd "$(dirname "$0")/../tests/node"
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || { echo "need Node.js 20 and npm (apt-get install nodejs npm)"; exit 1; }
if [ -d node_modules/@asyncapi/parser ] && [ -d node_modules/axe-core ] \
   && [ node_modules/.package-lock.json -nt package-lock.json ]; then
  exit 0
fi
npm ci --no-audit --no-fund --silent
