"""A private vhost, database, prefix, ports and work folder for one chaos run, removed afterwards.

Same isolation as ``tests/conftest.py``: the run never touches the default vhost or another run's queues,
so ``rabbitmqctl close_all_connections -p <vhost>`` only cuts this run's connections.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from hub.config import Settings

PG_ADMIN_URL = os.environ.get("RXHUB_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
AMQP_HOST = os.environ.get("RXHUB_CHAOS_AMQP_HOST", "127.0.0.1:5672")
PAYER_SIM_CONFIG = Path(__file__).resolve().parent / "payer-sim-chaos.json"


def rabbitmqctl(*args: str, timeout_s: float = 120) -> str:
    """Run rabbitmqctl quietly; raises on failure so a broken fault is noticed, not silently skipped."""
    done = subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, text=True, timeout=timeout_s)
    return done.stdout


def free_port() -> int:
    """A port the OS says is free now (the hub is restarted on the same port after a kill)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class ChaosEnvironment:
    """Where this run's hub keeps its messages, rows and logs, and how it is configured."""

    vhost: str
    amqp_url: str
    database_url: str
    database_name: str | None
    prefix: str
    workdir: Path
    mllp_port: int
    http_port: int
    #: the simulated switch's two listeners: the route's switch and its failover, in front of one payer
    #: (0 for harnesses that send claims straight to ``rxhub payer-sim``, as ``tests/cluster`` does)
    switch_port: int = 0
    failover_port: int = 0
    payer_timeout_ms: int = 3000
    retry_delay_ms: int = 500
    max_retries: int = 8

    @property
    def backend(self) -> str:
        """``postgres`` or ``sqlite``."""
        return "sqlite" if self.database_url.startswith("sqlite") else "postgres"

    @property
    def sqlite_path(self) -> Path:
        """The SQLite file (SQLite runs only)."""
        return Path(self.database_url.removeprefix("sqlite:///"))

    def hub_env(self) -> dict[str, str]:
        """RXHUB_* variables for every hub process of the run."""
        return {
            "RXHUB_AMQP_URL": self.amqp_url,
            "RXHUB_DATABASE_URL": self.database_url,
            "RXHUB_BROKER_PREFIX": self.prefix,
            "RXHUB_MLLP_PORT": str(self.mllp_port),
            "RXHUB_HTTP_PORT": str(self.http_port),
            "RXHUB_DEFAULT_BIN": "999001",
            "RXHUB_DEFAULT_PCN": "RXHUB",
            "RXHUB_DEFAULT_GROUP": "GRP1",
            "RXHUB_PAYER_TIMEOUT_MS": str(self.payer_timeout_ms),
            "RXHUB_RETRY_DELAY_MS": str(self.retry_delay_ms),
            "RXHUB_MAX_RETRIES": str(self.max_retries),
            "RXHUB_LOG_LEVEL": "INFO",
            "RXHUB_LOG_JSON": "true",
        }

    @property
    def switch_routes(self) -> Path:
        """The connectors' routing file (``RXHUB_SWITCH_ROUTES``)."""
        return self.workdir / "switch-routes.json"

    @property
    def switch_control(self) -> Path:
        """The switch simulator's fault knob (``adapters/ncpdp/switch/sim_control.py``)."""
        return self.workdir / "switch-control.json"

    @property
    def payer_journal(self) -> Path:
        """The payer's own record of every claim it decided, kept across switch restarts."""
        return self.workdir / "payer-journal.jsonl"

    def write_switch_routes(self) -> None:
        """BIN 999001 to switch ``a``, failing over to ``b``; both must answer well within the payer timeout."""
        answer_ms = self.payer_timeout_ms // 3
        switches = [
            {"name": name, "host": "127.0.0.1", "port": port, "connect_timeout_ms": 200, "answer_timeout_ms": answer_ms}
            for name, port in (("a", self.switch_port), ("b", self.failover_port))
        ]
        routes = [{"bin": "999001", "switch": "a", "failover": "b"}, {"bin": "999092", "switch": "a", "failover": "b"}]
        self.switch_routes.write_text(json.dumps({"switches": switches, "routes": routes}), encoding="utf-8")

    def settings(self) -> Settings:
        """The same configuration as a Settings object (topology names, user creation)."""
        values = {k.removeprefix("RXHUB_").lower(): v for k, v in self.hub_env().items()}
        return Settings(**values)  # type: ignore[arg-type]


@contextmanager
def chaos_environment(
    database: str = "postgres",
    workdir: Path | None = None,
    keep_workdir: bool = False,
    keep_database: bool = False,
    payer_timeout_ms: int = 3000,
) -> Iterator[ChaosEnvironment]:
    """Create the vhost and database; delete the vhost, and the database and work folder unless kept, on exit."""
    tag = uuid.uuid4().hex[:10]
    vhost = f"rxhub-chaos-{tag}"
    own_workdir = workdir is None
    folder = workdir or Path(tempfile.mkdtemp(prefix="rxhub-chaos-"))
    folder.mkdir(parents=True, exist_ok=True)
    rabbitmqctl("add_vhost", vhost)
    rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    db_name = f"rxhub_chaos_{tag}" if database == "postgres" else None
    try:
        if db_name:
            _pg_admin(f'CREATE DATABASE "{db_name}"')
            url = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + f"/{db_name}"
        else:
            url = f"sqlite:///{folder / 'rxhub.sqlite3'}"
        yield ChaosEnvironment(
            vhost=vhost,
            amqp_url=f"amqp://guest:guest@{AMQP_HOST}/{vhost}",
            database_url=url,
            database_name=db_name,
            prefix=f"chaos{tag}",
            workdir=folder,
            mllp_port=free_port(),
            http_port=free_port(),
            switch_port=free_port(),
            failover_port=free_port(),
            payer_timeout_ms=payer_timeout_ms,
        )
    finally:
        try:
            rabbitmqctl("delete_vhost", vhost)
        finally:
            if db_name and not keep_database:
                _pg_admin(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
            if own_workdir and not keep_workdir:
                shutil.rmtree(folder, ignore_errors=True)


def _pg_admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(sql.encode())


def pg_url(env: ChaosEnvironment) -> str:
    """A plain psycopg URL to the run's database (for the fault controller and the auditor)."""
    assert env.database_name is not None
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{env.database_name}"
