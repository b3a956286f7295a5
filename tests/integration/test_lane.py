"""A lane settles whatever requests wait as one batch, on one connection it gives back when idle."""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field

import pytest
from sqlalchemy import Connection, Engine, text

from hub.errors import DatabaseUnavailable
from hub.persistence.database import make_engine
from hub.persistence.lane import Lane


@dataclass(frozen=True)
class _Ask:
    value: int
    done: Future[int] = field(default_factory=Future)


@pytest.fixture
def engine(sqlite_url: str) -> Engine:
    engine = make_engine(sqlite_url)
    yield engine
    engine.dispose()


def test_requests_waiting_together_are_settled_as_one_batch(engine: Engine) -> None:
    batches: list[int] = []
    gate, taken = threading.Event(), threading.Event()

    def work(conn: Connection, batch: list[_Ask]) -> None:
        taken.set()
        gate.wait(5)  # the first batch holds the lane while the others queue behind it
        batches.append(len(batch))
        doubled = conn.execute(text("SELECT 2")).scalar_one()
        for ask in batch:
            ask.done.set_result(ask.value * doubled)

    lane = Lane("test-lane", engine.connect, work)
    asks = [_Ask(n) for n in range(10)]
    try:
        lane.submit(asks[0])
        assert taken.wait(5), "the lane never took the first request"
        for ask in asks[1:]:
            lane.submit(ask)
        gate.set()
        assert [ask.done.result(5) for ask in asks] == [2 * n for n in range(10)]
    finally:
        lane.close(5)
    assert batches == [1, 9]


def test_the_connection_goes_back_to_the_pool_when_the_lane_is_idle(engine: Engine) -> None:
    def work(conn: Connection, batch: list[_Ask]) -> None:
        conn.execute(text("SELECT 1"))
        for ask in batch:
            ask.done.set_result(ask.value)

    lane = Lane("test-lane", engine.connect, work, idle_s=0.2)
    try:
        ask = _Ask(1)
        lane.submit(ask)
        assert ask.done.result(5) == 1
        assert engine.pool.checkedout() == 1  # type: ignore[attr-defined]
        deadline = time.monotonic() + 5
        while engine.pool.checkedout() and time.monotonic() < deadline:  # type: ignore[attr-defined]
            time.sleep(0.05)
        assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]
        again = _Ask(2)
        lane.submit(again)  # and it connects again for the next request
        assert again.done.result(5) == 2
    finally:
        lane.close(5)
    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]


def test_a_failing_batch_fails_its_requests_and_the_lane_goes_on(engine: Engine) -> None:
    def work(conn: Connection, batch: list[_Ask]) -> None:
        if any(ask.value < 0 for ask in batch):
            raise ValueError("negative")
        if any(ask.value == 0 for ask in batch):
            conn.execute(text("SELECT * FROM no_such_table"))
        for ask in batch:
            ask.done.set_result(ask.value)

    lane = Lane("test-lane", engine.connect, work, what="test store")
    try:
        bad, broken, good = _Ask(-1), _Ask(0), _Ask(3)
        lane.submit(bad)
        with pytest.raises(ValueError, match="negative"):
            bad.done.result(5)
        lane.submit(broken)
        with pytest.raises(DatabaseUnavailable, match="test store unavailable"):
            broken.done.result(5)
        lane.submit(good)
        assert good.done.result(5) == 3
    finally:
        lane.close(5)
