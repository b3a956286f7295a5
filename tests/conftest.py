"""Shared fixtures: every test session gets its own RabbitMQ vhost, every test its own names and database."""

from __future__ import annotations

import importlib
import os
import pkgutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

from hub.config import Settings

# No per-example time limit: a property test checks what comes out, never how fast (CI may run on a loaded
# machine, where Hypothesis's default 200 ms deadline failed examples that were right).
hypothesis_settings.register_profile("rxhub", deadline=None)
hypothesis_settings.load_profile("rxhub")


def _import_anyio_whole() -> None:
    """Import every anyio module now, on the main thread, before any test starts a server thread.

    anyio imports its parts lazily, on first use: Starlette's first file answer imports ``anyio._core._fileio``
    on the HTTP server's thread. anyio is a pytest plugin's package, so pytest's assertion rewriter parses
    that module as it is imported, and CPython 3.11's ``ast.parse`` is not safe on two threads at once: a
    test importing its own module meanwhile made the import fail ("SystemError: AST constructor recursion
    depth mismatch") and the answer was cut off. Outside pytest nothing parses at run time.
    """
    import anyio

    for name in dir(anyio):
        getattr(anyio, name)
    for module in pkgutil.walk_packages(anyio.__path__, "anyio."):
        try:
            importlib.import_module(module.name)
        except ImportError:  # an optional backend (trio) that is not installed
            continue


_import_anyio_whole()

PG_ADMIN_URL = os.environ.get("RXHUB_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")


def _rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="session")
def amqp_url() -> Iterator[str]:
    """A fresh vhost for this test session, deleted afterwards (nothing left behind on the broker)."""
    vhost = f"rxhub-test-{uuid.uuid4().hex[:10]}"
    _rabbitmqctl("add_vhost", vhost)
    _rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    try:
        yield f"amqp://guest:guest@127.0.0.1:5672/{vhost}"
    finally:
        _rabbitmqctl("delete_vhost", vhost)


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    """The PostgreSQL server the machine runs (CI starts it)."""
    return PG_ADMIN_URL


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A private SQLite database file."""
    return f"sqlite:///{tmp_path / 'rxhub.sqlite3'}"


@pytest.fixture
def postgres_url(postgres_admin_url: str) -> Iterator[str]:
    """A private PostgreSQL database, dropped afterwards."""
    import psycopg

    name = f"rxhub_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(postgres_admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield postgres_admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + f"/{name}"
    finally:
        with psycopg.connect(postgres_admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest) -> str:
    """Run the test on both databases."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def settings(amqp_url: str, sqlite_url: str) -> Settings:
    """Settings with a unique broker prefix and a private database; ports chosen by the OS."""
    return make_settings(amqp_url, sqlite_url)


_PREFIXES: list[tuple[str, str]] = []


@pytest.fixture(autouse=True, scope="module")
def _delete_module_queues() -> Iterator[None]:
    """Delete the exchanges and queues of a module's own hubs (module-scoped fixtures) when the module ends."""
    mark = len(_PREFIXES)
    yield
    _delete_queues_since(mark)


@pytest.fixture(autouse=True)
def _delete_test_queues() -> Iterator[None]:
    """Delete each test's exchanges and queues when it ends: hundreds of idle quorum queues slow the broker.

    Only the prefixes made during the test: a module's hub, set up before it, keeps its queues for the next test
    (deleted under it, a publish racing the workers' re-declaration came back unroutable: a 503).
    """
    mark = len(_PREFIXES)
    yield
    _delete_queues_since(mark)


def _delete_queues_since(mark: int) -> None:
    """Delete the queues of every prefix registered after ``mark``, and forget those prefixes."""
    while len(_PREFIXES) > mark:
        url, prefix = _PREFIXES.pop()
        try:
            from hub.messaging.blocking_publisher import connect
            from hub.messaging.topology import Topology

            conn = connect(url)  # a test's list of broker nodes too
            channel = conn.channel()
            topology = Topology(prefix)
            extra = [
                f"{prefix}.payer-sim",
                f"{prefix}.script-outbound",
                f"{prefix}.script-out",
                f"{prefix}.fhir-renewals",
            ]
            for name in [q.name for q in topology.queues()] + extra:
                channel.queue_delete(queue=name)
            conn.close()
        except Exception:  # best effort: the session's vhost is deleted at the end anyway
            pass


def make_settings(amqp_url: str, database_url: str, **overrides: object) -> Settings:
    """Build test settings (helper for tests that pick their own database)."""
    values: dict[str, object] = {
        "amqp_url": amqp_url,
        "database_url": database_url,
        "broker_prefix": f"t{uuid.uuid4().hex[:10]}",
        "mllp_port": 0,
        "http_port": 0,
        "retry_delay_ms": 200,
        "max_retries": 2,
        "log_json": False,
    }
    values.update(overrides)
    _PREFIXES.append((amqp_url, str(values["broker_prefix"])))
    return Settings(**values)  # type: ignore[arg-type]
