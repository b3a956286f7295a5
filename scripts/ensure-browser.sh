#!/usr/bin/env bash
# The console's browser tests drive Debian's chromium through Playwright (never `playwright install`:
# no browser download from the internet). Idempotent: does nothing when /usr/bin/chromium is there.
set -euo pipefail

CHROMIUM=/usr/bin/chromium
if [ -x "$CHROMIUM" ]; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi
echo "installing Debian's chromium for the browser tests..."
export DEBIAN_FRONTEND=noninteractive
if ! apt-cache policy chromium 2>/dev/null | grep -q 'Candidate: [0-9]'; then
  $SUDO apt-get update -qq
fi
$SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null
[ -x "$CHROMIUM" ] || { echo "chromium did not install at $CHROMIUM"; exit 1; }
echo "browser: $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
