#!/usr/bin/env bash
# The alert rules (deploy/prometheus) and the hub's /metrics are checked with promtool from Debian's
# prometheus package (never a downloaded binary). Idempotent: does nothing when promtool is there.
set -euo pipefail

if command -v promtool >/dev/null 2>&1; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi
echo "installing Debian's prometheus (for promtool)..."
export DEBIAN_FRONTEND=noninteractive
if ! apt-cache policy prometheus 2>/dev/null | grep -q 'Candidate: [0-9]'; then
  $SUDO apt-get update -qq
fi
$SUDO apt-get install -y -qq --no-install-recommends prometheus >/dev/null
command -v promtool >/dev/null 2>&1 || { echo "promtool did not install"; exit 1; }
echo "promtool: $(promtool --version 2>&1 | head -1)"
