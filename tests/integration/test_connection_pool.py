"""The PostgreSQL pool checks a connection only after it idled: no ping per transaction, dead ones still replaced."""

from __future__ import annotations

import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import psycopg
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from hub.persistence import database
from hub.persistence.database import make_engine

pytestmark = pytest.mark.postgres


@pytest.fixture
def engine(postgres_url: str) -> Iterator[Engine]:
    engine = make_engine(postgres_url)
    yield engine
    engine.dispose()


@pytest.fixture
def pings(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    seen: list[Any] = []
    real = engine.dialect.do_ping

    def counted(dbapi_connection: Any) -> bool:
        seen.append(dbapi_connection)
        return real(dbapi_connection)

    monkeypatch.setattr(engine.dialect, "do_ping", counted)
    return seen


def _backend(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _idle_for(seconds: float, monkeypatch: pytest.MonkeyPatch) -> None:
    """Move the pool's clock on, as if the pooled connections had sat idle that long (no sleeping)."""
    real = time.monotonic
    monkeypatch.setattr(database, "time", SimpleNamespace(monotonic=lambda: real() + seconds))


def _terminate(admin_url: str, pid: int) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        # with a timeout it returns once the backend has gone: the next statement cannot reach it first
        assert conn.execute("SELECT pg_terminate_backend(%s, 10000)", (pid,)).fetchone() == (True,)


def test_a_connection_used_again_at_once_is_not_pinged(engine: Engine, pings: list[Any]) -> None:
    for _ in range(20):
        _backend(engine)
    assert pings == []


def test_a_connection_that_sat_idle_is_pinged_once_before_use(
    engine: Engine, pings: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    _backend(engine)
    _idle_for(database.PING_IDLE_S + 1, monkeypatch)
    _backend(engine)
    _backend(engine)  # back in the pool a moment ago: trusted
    assert len(pings) == 1


def test_a_connection_killed_while_idle_is_replaced_without_an_error(
    engine: Engine, pings: list[Any], postgres_admin_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _backend(engine)
    _terminate(postgres_admin_url, first)
    _idle_for(database.PING_IDLE_S + 1, monkeypatch)
    assert _backend(engine) != first
    assert len(pings) == 1


def test_a_connection_killed_right_after_use_fails_once_then_the_pool_recovers(
    engine: Engine, postgres_admin_url: str
) -> None:
    first = _backend(engine)
    _terminate(postgres_admin_url, first)
    with pytest.raises(DBAPIError) as failed:
        _backend(engine)
    assert failed.value.connection_invalidated
    assert _backend(engine) != first
