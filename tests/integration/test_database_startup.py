"""A long-running process started while its database is unreachable waits for it (a failover, a database that
starts after the hub), then starts; one that stays unreachable past the wait exits with the database's code."""

from __future__ import annotations

import logging
import subprocess
import sys
import threading

import psycopg
import pytest

from hub.entrypoints.exit_codes import ExitCode
from hub.errors import DatabaseUnavailable
from hub.persistence.database import make_engine, wait_until_reachable
from tests.support.waiting import eventually


def _allow(admin_url: str, database: str, allowed: bool) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS {str(allowed).lower()}')


def test_a_database_that_comes_back_within_the_wait_is_waited_for(
    postgres_url: str, postgres_admin_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    database = postgres_url.rsplit("/", 1)[1]
    _allow(postgres_admin_url, database, False)
    engine = make_engine(postgres_url)
    outcome: list[BaseException | None] = []

    def start() -> None:
        try:
            wait_until_reachable(engine, 120)
            outcome.append(None)
        except BaseException as exc:
            outcome.append(exc)

    caplog.set_level(logging.WARNING, logger="hub.persistence.database")
    waiter = threading.Thread(target=start)
    try:
        waiter.start()
        eventually(lambda: any("database unreachable" in r.getMessage() for r in caplog.records) or None, "it waits")
        assert not outcome, "still waiting while the database refuses connections"
        _allow(postgres_admin_url, database, True)
        waiter.join(60)
    finally:
        _allow(postgres_admin_url, database, True)
        waiter.join(60)
        engine.dispose()
    assert outcome == [None]


def test_one_that_stays_unreachable_ends_the_wait_as_database_unavailable() -> None:
    engine = make_engine("postgresql+psycopg://postgres@127.0.0.1:1/nowhere?connect_timeout=2")
    with pytest.raises(DatabaseUnavailable, match="unreachable for 1s"):
        wait_until_reachable(engine, 1)


def test_a_worker_process_gives_up_after_its_wait_with_the_database_exit_code(amqp_url: str) -> None:
    env = {
        "RXHUB_AMQP_URL": amqp_url,
        "RXHUB_DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:1/nowhere?connect_timeout=2",
        "RXHUB_DATABASE_STARTUP_WAIT_S": "1",
        "PATH": "/usr/bin:/bin",
    }
    done = subprocess.run(
        [sys.executable, "-m", "hub.entrypoints.cli", "worker", "intake"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == ExitCode.DATABASE and "database unreachable" in done.stderr, done.stderr[-500:]
