"""A lane: one thread with its own database connection that handles whatever requests wait as one batch.

The doors run on an event loop; a database write done per request on a pooled connection and a worker
thread pays a thread hop, a pool checkout and a commit for each request, and under load they queue behind
one another.  A lane takes every request waiting when it is free and settles them with one query or one
transaction, so the more requests arrive together, the less each one costs.  Each request carries a
``concurrent.futures.Future`` its caller awaits; a batch that cannot be settled fails every request in it
with ``DatabaseUnavailable``, never silently.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, Protocol

from sqlalchemy import Connection
from sqlalchemy.exc import SQLAlchemyError

from hub.errors import DatabaseUnavailable

log = logging.getLogger(__name__)

#: most requests handled in one query or one transaction
BATCH = 256


class Request(Protocol):
    """What a lane's requests have in common: the future their caller waits on."""

    @property
    def done(self) -> Future[Any]: ...


class Lane:
    """One thread with its own connection, taking whatever requests are waiting as one batch.

    ``work(conn, batch)`` settles every request's future; ``linger_s`` waits that long after the first
    request for company (for writes nobody waits on by the millisecond); after ``idle_s`` without requests
    the connection goes back to the pool (a test's engine can then be disposed, a restarted database is
    met with a fresh connection).
    """

    def __init__(
        self,
        name: str,
        connect: Callable[[], Connection],
        work: Callable[[Connection, list[Any]], None],
        *,
        linger_s: float = 0.0,
        idle_s: float | None = None,
        what: str = "database",
    ):
        self._name, self._connect, self._work, self._linger = name, connect, work, linger_s
        self._idle, self._what = idle_s, what
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._conn: Connection | None = None

    def submit(self, request: Request) -> None:
        """Queue a request (the thread starts with the first one)."""
        self._queue.put(request)
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()

    def close(self, timeout_s: float) -> None:
        """Settle what is queued, then end the thread and give the connection back."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout_s)

    def _next(self) -> Any:
        while True:
            try:
                return self._queue.get(timeout=self._idle)
            except queue.Empty:
                self._disconnect()

    def _run(self) -> None:
        try:
            while True:
                batch, stop = [self._next()], False
                if self._linger and batch[0] is not None:
                    time.sleep(self._linger)  # let a few more arrive: one transaction for them all
                while batch[-1] is not None and len(batch) < BATCH:
                    try:
                        batch.append(self._queue.get_nowait())
                    except queue.Empty:
                        break
                if batch[-1] is None:
                    batch.pop()
                    stop = True
                if batch:
                    self._guard(batch)
                if stop:
                    return
        finally:
            self._disconnect()

    def _guard(self, batch: list[Request]) -> None:
        try:
            self._attempt(batch)
        except Exception as exc:  # the lane lives on, and no caller is left waiting
            self._disconnect()  # the next batch starts on a fresh connection
            error: Exception = exc
            if isinstance(exc, SQLAlchemyError | DatabaseUnavailable):
                error = DatabaseUnavailable(f"{self._what} unavailable: {type(exc).__name__}")
            else:
                log.exception("lane %s failed a batch of %d", self._name, len(batch))
            for request in batch:
                if not request.done.done():
                    request.done.set_exception(error)

    def _attempt(self, batch: list[Any]) -> None:
        """The work on the lane's connection; a held connection that fails (the database restarted since) is
        replaced once before the batch is failed (the work settles nothing before its statements succeed)."""
        reused = self._conn is not None
        try:
            if self._conn is None:
                self._conn = self._connect()
            self._work(self._conn, batch)
        except SQLAlchemyError:
            self._disconnect()
            if not reused:
                raise
            self._conn = self._connect()
            self._work(self._conn, batch)

    def _disconnect(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(SQLAlchemyError):
                self._conn.close()
        self._conn = None
