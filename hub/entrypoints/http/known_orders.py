"""Is an order already recorded? The FHIR door asks before every publish; here it costs one query per batch.

Every FHIR create looks its order up by correlation id before publishing (a known order is answered 200
as it stands, not published again), and nearly every answer is "not recorded yet". Asked one by one from
the default thread pool, each lookup checked a connection out of the pool (and, on PostgreSQL, pinged it
first), ran its own transaction and gave the connection back. Here one thread owns a read connection and
answers every lookup waiting at once with one ``IN`` query on the indexed correlation id; an order that
is found is then read whole through ``PrescriptionQueries`` as before (resends only). The lookups made
during one turn of the event loop go to the thread together, and their answers come back together (one
wake-up each way per batch, not per request). The thread and its connection go away after ``idle_s``
without lookups and come back with the next one.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from dataclasses import dataclass

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from hub.domain.prescription import Prescription
from hub.errors import DatabaseUnavailable
from hub.persistence.database import READ_ONLY
from hub.persistence.prescriptions import PrescriptionRepository
from hub.service.ports import PrescriptionQueries

#: most lookups answered by one query
BATCH = 256


@dataclass(frozen=True)
class _Batch:
    """The lookups of one turn of an event loop: (correlation id, its future) each."""

    loop: asyncio.AbstractEventLoop
    lookups: list[tuple[str, asyncio.Future[bool]]]

    def answer(self, found: set[str] | BaseException) -> None:
        """Hand the answers back to the loop in one call (the loop may be gone at shutdown)."""
        with contextlib.suppress(RuntimeError):
            self.loop.call_soon_threadsafe(_settle, self.lookups, found)


def _settle(lookups: list[tuple[str, asyncio.Future[bool]]], found: set[str] | BaseException) -> None:
    for correlation_id, done in lookups:
        if done.done():  # the request went away
            continue
        if isinstance(found, BaseException):
            done.set_exception(type(found)(*found.args))
        else:
            done.set_result(correlation_id in found)


class KnownOrders:
    """``prescription_by_correlation`` for the FHIR door: existence in batches, the aggregate only when found."""

    def __init__(self, engine: Engine, queries: PrescriptionQueries, idle_s: float = 2.0) -> None:
        self._engine, self._queries, self._idle_s = engine, queries, idle_s
        self._queue: queue.SimpleQueue[_Batch] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._waiting: list[tuple[str, asyncio.Future[bool]]] = []
        self._waiting_loop: asyncio.AbstractEventLoop | None = None

    async def prescription_by_correlation(self, correlation_id: str) -> Prescription | None:
        """The recorded order with this correlation id, or None (raises DatabaseUnavailable like the queries)."""
        if not await self.recorded(correlation_id):
            return None
        return await asyncio.to_thread(self._queries.prescription_by_correlation, correlation_id)

    async def recorded(self, correlation_id: str) -> bool:
        """Whether a prescription with this correlation id is stored (answered by the lookup thread)."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[bool] = loop.create_future()
        if self._waiting_loop is not loop:  # a loop that ended before its lookups were sent left nothing to wait
            self._waiting, self._waiting_loop = [], loop
        if not self._waiting:
            loop.call_soon(self._send, loop)
        self._waiting.append((correlation_id, done))
        return await done

    def _send(self, loop: asyncio.AbstractEventLoop) -> None:
        batch, self._waiting = _Batch(loop, self._waiting), []
        self._queue.put(batch)
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="fhir-known-orders", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        connection = _Connection(self._engine)
        try:
            while True:
                try:
                    first = self._queue.get(timeout=self._idle_s)
                except queue.Empty:
                    with self._lock:
                        if self._queue.empty():  # nothing came in meanwhile: end; the next lookup starts a thread
                            self._thread = None
                            return
                    continue
                batches = [first]
                while sum(len(b.lookups) for b in batches) < BATCH:
                    try:
                        batches.append(self._queue.get_nowait())
                    except queue.Empty:
                        break
                _answer(connection, batches)
        finally:
            connection.close()


class _Connection:
    """The lookup thread's own read connection, opened on first use and again after a failure."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._conn: Connection | None = None

    def recorded(self, ids: list[str]) -> set[str]:
        """The ids among ``ids`` that have a stored prescription; one retry on a fresh connection."""
        for attempt in (1, 2):
            reused = self._conn is not None
            try:
                if self._conn is None:
                    self._conn = self._engine.connect().execution_options(**{READ_ONLY: True})
                with self._conn.begin():
                    return PrescriptionRepository(self._conn).recorded(ids)
            except SQLAlchemyError:
                self.close()
                if attempt == 2 or not reused:  # a connection that had gone stale gets one fresh try
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(SQLAlchemyError):
                self._conn.close()
        self._conn = None


def _answer(connection: _Connection, batches: list[_Batch]) -> None:
    found: set[str] | BaseException
    try:
        found = connection.recorded(sorted({c for batch in batches for c, _ in batch.lookups}))
    except SQLAlchemyError as exc:
        found = DatabaseUnavailable(f"database unavailable: {type(exc).__name__}")
    for batch in batches:
        batch.answer(found)
