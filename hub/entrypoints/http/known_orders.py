"""Is an order already recorded? The FHIR door asks before every publish; here it costs one query per batch.

Every FHIR create looks its order up by correlation id before publishing (a known order is answered 200
as it stands, not published again), and nearly every answer is "not recorded yet". Asked one by one from
the default thread pool, each lookup checked a connection out of the pool (and, on PostgreSQL, pinged it
first), ran its own transaction and gave the connection back. Here one thread owns a read connection and
answers every lookup waiting at once with one ``IN`` query on the indexed correlation id; an order that
is found is then read whole through ``PrescriptionQueries`` as before (resends only). The thread and its
connection go away after ``idle_s`` without lookups and come back with the next one.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from concurrent.futures import Future
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, bindparam, select
from sqlalchemy.exc import SQLAlchemyError

from hub.domain.prescription import Prescription
from hub.errors import DatabaseUnavailable
from hub.persistence.database import READ_ONLY
from hub.persistence.tables import prescriptions
from hub.service.ports import PrescriptionQueries

#: most lookups answered by one query
BATCH = 256
_RECORDED = select(prescriptions.c.correlation_id).where(
    prescriptions.c.correlation_id.in_(bindparam("ids", expanding=True)))


@dataclass(frozen=True)
class _Lookup:
    correlation_id: str
    done: Future[bool]


class KnownOrders:
    """``prescription_by_correlation`` for the FHIR door: existence in batches, the aggregate only when found."""

    def __init__(self, engine: Engine, queries: PrescriptionQueries, idle_s: float = 2.0) -> None:
        self._engine, self._queries, self._idle_s = engine, queries, idle_s
        self._queue: queue.SimpleQueue[_Lookup] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    async def prescription_by_correlation(self, correlation_id: str) -> Prescription | None:
        """The recorded order with this correlation id, or None (raises DatabaseUnavailable like the queries)."""
        if not await asyncio.wrap_future(self.recorded(correlation_id)):
            return None
        return await asyncio.to_thread(self._queries.prescription_by_correlation, correlation_id)

    def recorded(self, correlation_id: str) -> Future[bool]:
        """Whether a prescription with this correlation id is stored (answered by the lookup thread)."""
        lookup = _Lookup(correlation_id, Future())
        self._queue.put(lookup)
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="fhir-known-orders", daemon=True)
                self._thread.start()
        return lookup.done

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
                batch = [first]
                while len(batch) < BATCH:
                    try:
                        batch.append(self._queue.get_nowait())
                    except queue.Empty:
                        break
                _answer(connection, batch)
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
                    return {row[0] for row in self._conn.execute(_RECORDED, {"ids": ids})}
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


def _answer(connection: _Connection, batch: list[_Lookup]) -> None:
    try:
        found = connection.recorded(sorted({lookup.correlation_id for lookup in batch}))
    except SQLAlchemyError as exc:
        error = DatabaseUnavailable(f"database unavailable: {type(exc).__name__}")
        for lookup in batch:
            lookup.done.set_exception(error)
        return
    for lookup in batch:
        lookup.done.set_result(lookup.correlation_id in found)
