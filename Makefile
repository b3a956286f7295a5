# RxHub: `make demo` runs the hub's main job, `make test` runs every test. Both set up .venv first.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test test-fast check lint typecheck bench chaos clean services broker browser

$(STAMP): pyproject.toml
	@command -v $(PY) >/dev/null 2>&1 || { echo "need $(PY)"; exit 1; }
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

setup: $(STAMP)

# RabbitMQ and PostgreSQL, installed from Debian's packages and started where missing; the demo runs on
# SQLite, so it needs only RabbitMQ
services:
	@bash scripts/ensure.sh services rabbitmq postgresql

broker:
	@bash scripts/ensure.sh services rabbitmq

# the console's browser tests drive Debian's chromium (never a downloaded browser)
browser:
	@bash scripts/ensure.sh browser

# alert rules and /metrics are checked with Debian's promtool (never a downloaded binary)
.PHONY: promtool
promtool:
	@bash scripts/ensure.sh promtool

# docs/asyncapi.json is checked by the official AsyncAPI parser, the console by axe-core (npm, into tests/node)
.PHONY: node-tools
node-tools:
	@bash scripts/ensure.sh node-tools

demo: setup broker
	$(BIN)/python -m hub.entrypoints.demo

test: promtool
test: node-tools
# the suite runs in TEST_WORKERS processes (pytest-xdist): each has its own vhost and databases, and most
# tests wait on processes and sockets rather than the CPU
TEST_WORKERS ?= 3
test: setup services browser check
	$(BIN)/python -m pytest -q -p no:cacheprovider -n $(TEST_WORKERS) --durations=15

test-fast: setup
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/unit tests/property

# what review would otherwise catch by hand; part of make test and so of CI
check: setup
	$(BIN)/ruff check hub adapters tests bench
	$(BIN)/ruff format --check hub adapters tests bench
	$(BIN)/mypy hub adapters

lint: check

bench: setup services
	$(BIN)/python -m bench.run

# fault injection: orders keep flowing while connections drop, workers die and the payer goes quiet
chaos: setup services
	$(BIN)/python -m tests.chaos.run $(CHAOS_ARGS)

# three private RabbitMQ nodes (never the one on 5672), two instances behind HAProxy, nodes killed under load;
# not part of `make test`.  Bigger: make cluster CLUSTER_ARGS="--orders 16000 --duration 1800"
.PHONY: cluster
cluster: setup services
	@bash scripts/ensure.sh haproxy
	$(BIN)/python -m tests.cluster.run $(CLUSTER_ARGS)

clean:
	rm -rf $(VENV) var build *.egg-info
