"""The workers' vacuum of the tables whose rows they update (PostgreSQL; SQLite has nothing to vacuum)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from sqlalchemy import Engine, insert, text, update

from hub.persistence.database import create_schema, make_engine
from hub.persistence.maintenance import CHURNING, Vacuumer, vacuum
from hub.persistence.tables import outbox


def _publish_rows(engine: Engine, count: int) -> None:
    """Outbox rows written and marked published, as the relay does: each mark leaves a dead row version."""
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(
            insert(outbox),
            [
                dict(
                    id=f"row-{n}",
                    created_at=now,
                    target="events",
                    routing_key="x",
                    message_type="x",
                    content_type="application/json",
                    correlation_id="c",
                    body=b"{}",
                    headers={},
                )
                for n in range(count)
            ],
        )
    with engine.begin() as conn:
        conn.execute(update(outbox).values(published_at=now))


def _dead_rows(engine: Engine) -> int:
    with engine.connect() as conn:
        # the row versions no snapshot can see any more, counted from the table itself (statistics lag)
        conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pgstattuple")
        return int(conn.execute(text("SELECT dead_tuple_count FROM pgstattuple('outbox')")).scalar_one())


def test_a_vacuum_removes_the_row_versions_the_outbox_marks_left(postgres_url: str) -> None:
    engine = make_engine(postgres_url)
    create_schema(engine)
    _publish_rows(engine, 500)
    assert _dead_rows(engine) > 0
    assert vacuum(engine)
    assert _dead_rows(engine) == 0
    with engine.connect() as conn:
        vacuumed = conn.execute(text("SELECT relname FROM pg_stat_user_tables WHERE last_vacuum IS NOT NULL"))
        assert set(CHURNING) <= set(vacuumed.scalars())
    engine.dispose()


def test_the_vacuum_thread_runs_every_interval_until_stopped(postgres_url: str) -> None:
    engine = make_engine(postgres_url)
    create_schema(engine)
    _publish_rows(engine, 50)
    assert _dead_rows(engine) > 0
    stop = threading.Event()
    thread = threading.Thread(target=Vacuumer(engine, interval_s=0.2).run, args=(stop,))
    thread.start()
    try:
        for _ in range(100):
            if _dead_rows(engine) == 0:
                break
            stop.wait(0.1)
        assert _dead_rows(engine) == 0
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive()
    engine.dispose()


def test_sqlite_has_nothing_to_vacuum(tmp_path: object) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/hub.sqlite3")
    create_schema(engine)
    assert vacuum(engine) is False
    engine.dispose()
