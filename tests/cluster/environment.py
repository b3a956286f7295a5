"""The cluster run's configuration: the chaos run's environment with the broker nodes and the balancer's doors.

How the hub reaches the brokers depends on what it supports: a list of nodes (``RXHUB_AMQP_URLS``, or several
URLs in ``RXHUB_AMQP_URL``) when it has one, otherwise HAProxy's broker frontend, one URL that any live node
answers behind.
"""

from __future__ import annotations

import importlib.util
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from hub.config import Settings
from tests.chaos.environment import PG_ADMIN_URL, ChaosEnvironment


def broker_list_setting() -> str | None:
    """The variable that takes a list of broker nodes, or None when the hub takes only one URL."""
    if "amqp_urls" in Settings.model_fields:
        return "RXHUB_AMQP_URLS"
    if importlib.util.find_spec("hub.messaging.broker_nodes") is not None:
        return "RXHUB_AMQP_URL"  # several full URLs separated by commas
    return None


@dataclass(frozen=True)
class ClusterEnvironment(ChaosEnvironment):
    """``amqp_url`` is what the harness itself uses; the hub gets ``node_urls`` when ``list_setting`` is set."""

    node_urls: tuple[str, ...] = ()
    list_setting: str | None = None

    def hub_env(self) -> dict[str, str]:
        """The chaos run's variables, with the broker nodes as a list when the hub takes one."""
        values = super().hub_env()
        if self.list_setting is not None:
            values["RXHUB_AMQP_URL"] = self.node_urls[0]
            values[self.list_setting] = ",".join(self.node_urls)
        return values

    def settings(self) -> Settings:
        """The hub's Settings (topology names, schema, users) as the harness uses them."""
        values = {k.removeprefix("RXHUB_").lower(): v for k, v in super().hub_env().items()}
        return Settings(**values)  # type: ignore[arg-type]


@contextmanager
def fresh_database() -> Iterator[tuple[str, str]]:
    """A new PostgreSQL database (name, SQLAlchemy URL), dropped on exit whatever happened."""
    name = f"rxhub_cluster_{uuid.uuid4().hex[:10]}"
    _pg_admin(f'CREATE DATABASE "{name}"')
    try:
        yield name, PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + f"/{name}"
    finally:
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _pg_admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(sql.encode())


def work_folder(keep: Path | None) -> Path:
    """The run's temporary folder (nodes, logs, haproxy.cfg), or the one given to keep."""
    import tempfile

    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        return keep
    return Path(tempfile.mkdtemp(prefix="rxhub-cluster-", dir=os.environ.get("TMPDIR")))
