"""A private broker vhost, database and work folder for one benchmark run, removed afterwards.

Same isolation as ``tests/conftest.py``: nothing the benchmark creates outlives it, and it never touches
the default vhost or another run's queues.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from hub.config import Settings

PG_ADMIN_URL = os.environ.get("RXHUB_BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
AMQP_HOST = os.environ.get("RXHUB_BENCH_AMQP_HOST", "127.0.0.1:5672")


@dataclass(frozen=True)
class BenchEnvironment:
    """Where this run's hub keeps its messages, rows and logs."""

    vhost: str
    amqp_url: str
    database_url: str
    prefix: str
    workdir: Path

    def hub_env(self, log_level: str) -> dict[str, str]:
        """RXHUB_* variables for a hub process (ports chosen by the OS, printed on start)."""
        return {
            "RXHUB_AMQP_URL": self.amqp_url,
            "RXHUB_DATABASE_URL": self.database_url,
            "RXHUB_BROKER_PREFIX": self.prefix,
            "RXHUB_MLLP_PORT": "0",
            "RXHUB_HTTP_PORT": "0",
            "RXHUB_LOG_LEVEL": log_level,
        }

    def settings(self, log_level: str, extra: dict[str, str] | None = None) -> Settings:
        """The same configuration as a Settings object, for the in-process hub and topology declaration."""
        values = {k.removeprefix("RXHUB_").lower(): v for k, v in {**self.hub_env(log_level), **(extra or {})}.items()}
        return Settings(**values)  # type: ignore[arg-type]


def _rabbitmqctl(*args: str, timeout_s: float = 300) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=timeout_s)


@contextmanager
def _vhost() -> Iterator[str]:
    name = f"rxhub-bench-{uuid.uuid4().hex[:10]}"
    try:
        _rabbitmqctl("add_vhost", name)
        _rabbitmqctl("set_permissions", "-p", name, "guest", ".*", ".*", ".*")
        yield name
    finally:
        try:  # a broker busy with other work can take minutes; the figures must still be reported
            _rabbitmqctl("delete_vhost", name)
        except (subprocess.SubprocessError, OSError) as exc:
            print(f"bench: WARNING: vhost {name} not deleted ({exc}); run: rabbitmqctl delete_vhost {name}")


@contextmanager
def postgres_database() -> Iterator[str]:
    """A private PostgreSQL database ``rxhub_bench_<random>``, dropped WITH (FORCE) afterwards."""
    import psycopg

    name = f"rxhub_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + f"/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def fresh_database(env: BenchEnvironment, database: str, name: str) -> Iterator[BenchEnvironment]:
    """The same vhost and prefix with an empty database: a later phase must not inherit earlier orders."""
    if database == "postgres":
        with postgres_database() as db_url:
            yield dataclasses.replace(env, database_url=db_url)
    else:
        yield dataclasses.replace(env, database_url=f"sqlite:///{env.workdir / f'{name}.sqlite3'}")


@contextmanager
def bench_environment(database: str, *, keep: list[bool]) -> Iterator[BenchEnvironment]:
    """Create vhost, database and work folder; the folder survives when ``keep[0]`` is set at exit."""
    workdir = Path(tempfile.mkdtemp(prefix="rxhub-bench-"))
    try:
        with _vhost() as vhost:
            url = f"amqp://guest:guest@{AMQP_HOST}/{vhost}"
            prefix = f"b{uuid.uuid4().hex[:8]}"
            if database == "postgres":
                with postgres_database() as db_url:
                    yield BenchEnvironment(vhost, url, db_url, prefix, workdir)
            else:
                yield BenchEnvironment(vhost, url, f"sqlite:///{workdir / 'rxhub.sqlite3'}", prefix, workdir)
    finally:
        if keep[0]:
            print(f"bench: work folder kept for inspection: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
