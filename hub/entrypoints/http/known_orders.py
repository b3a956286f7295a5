"""Is an order already recorded? The FHIR door asks before every publish; here it costs one query per batch.

Every FHIR create looks its order up by correlation id before publishing (a known order is answered 200
as it stands, not published again), and nearly every answer is "not recorded yet". Asked one by one from
the default thread pool, each lookup would check a connection out of the pool (and, on PostgreSQL, ping it
first), run its own transaction and give the connection back. Here one thread owns a read connection and
answers every lookup waiting at once with one ``IN`` query on the indexed correlation id (a
``hub.persistence.lane.Lane``); an order that is found is then read whole through ``PrescriptionQueries``
(resends only). The lookups made during one turn of the event loop go to the lane as one request, and
their answers come back together (one wake-up each way per turn, not per request). The lane's connection
goes back to the pool after ``idle_s`` without lookups.
"""

from __future__ import annotations

import asyncio
import contextlib
from concurrent.futures import Future
from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine

from hub.domain.prescription import Prescription
from hub.persistence.database import read_connection
from hub.persistence.lane import Lane
from hub.persistence.prescriptions import PrescriptionRepository
from hub.service.ports import PrescriptionQueries

#: most correlation ids in one ``IN`` query
BATCH = 256

Waiting = list[tuple[str, asyncio.Future[bool]]]


@dataclass(frozen=True)
class _Turn:
    """The lookups of one turn of an event loop: one request to the lane, answered back in one call."""

    loop: asyncio.AbstractEventLoop
    lookups: Waiting
    done: Future[set[str]] = field(default_factory=Future)

    def __post_init__(self) -> None:
        self.done.add_done_callback(self._answer)

    def _answer(self, done: Future[set[str]]) -> None:
        """Hand the answers back to the loop (which may be gone at shutdown)."""
        found = done.exception() or done.result()
        with contextlib.suppress(RuntimeError):
            self.loop.call_soon_threadsafe(_settle, self.lookups, found)


def _settle(lookups: Waiting, found: set[str] | BaseException) -> None:
    for correlation_id, done in lookups:
        if done.done():  # the request went away
            continue
        if isinstance(found, BaseException):
            done.set_exception(type(found)(*found.args))
        else:
            done.set_result(correlation_id in found)


def _recorded(conn: Connection, turns: list[_Turn]) -> None:
    """Which of the turns' correlation ids have a stored prescription: one query per ``BATCH`` of them."""
    ids, found = sorted({c for turn in turns for c, _ in turn.lookups}), set[str]()
    with conn.begin():
        for start in range(0, len(ids), BATCH):
            found |= PrescriptionRepository(conn).recorded(ids[start : start + BATCH])
    for turn in turns:
        turn.done.set_result(found)


class KnownOrders:
    """``prescription_by_correlation`` for the FHIR door: existence in batches, the aggregate only when found."""

    def __init__(self, engine: Engine, queries: PrescriptionQueries, idle_s: float = 2.0) -> None:
        self._queries = queries
        self._lane = Lane("fhir-known-orders", lambda: read_connection(engine), _recorded, idle_s=idle_s)
        self._waiting: Waiting = []
        self._waiting_loop: asyncio.AbstractEventLoop | None = None

    async def prescription_by_correlation(self, correlation_id: str) -> Prescription | None:
        """The recorded order with this correlation id, or None (raises DatabaseUnavailable like the queries)."""
        if not await self.recorded(correlation_id):
            return None
        return await asyncio.to_thread(self._queries.prescription_by_correlation, correlation_id)

    async def recorded(self, correlation_id: str) -> bool:
        """Whether a prescription with this correlation id is stored (answered by the lane)."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[bool] = loop.create_future()
        if self._waiting_loop is not loop:  # a loop that ended before its lookups were sent left nothing to wait
            self._waiting, self._waiting_loop = [], loop
        if not self._waiting:
            loop.call_soon(self._send, loop)
        self._waiting.append((correlation_id, done))
        return await done

    def close(self, timeout_s: float) -> None:
        """Answer what is queued, then end the lane's thread and give its connection back."""
        self._lane.close(timeout_s)

    def _send(self, loop: asyncio.AbstractEventLoop) -> None:
        turn, self._waiting = _Turn(loop, self._waiting), []
        self._lane.submit(turn)
