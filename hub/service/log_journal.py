"""The plain inbound store (``InboundLog``) seen as a ``DedupeJournal``, its calls on worker threads.

A door served without the process's batching journal (an app built by tests and tools, the SCRIPT door)
still takes the one door pipeline: lookups and claims run on a thread each, records on a thread whose
future the caller may wait on.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import Future, ThreadPoolExecutor

from hub.service.inbound_entry import InboundEntry
from hub.service.ports import InboundLog, InboundRecord

#: records are written off the answer's path; a handful of threads keeps a burst from queueing behind one
_RECORD_THREADS = 4


class LogJournal:
    """Implements ``hub.service.ports.DedupeJournal`` over an ``InboundLog``."""

    def __init__(self, log: InboundLog) -> None:
        self._log = log
        self._claims: dict[tuple[str, str, str], str] = {}
        self._records = ThreadPoolExecutor(_RECORD_THREADS, thread_name_prefix="inbound-log")
        self._pending: set[Future[str]] = set()

    async def find(self, door: str, sender: str, control_id: str) -> InboundRecord | None:
        """The earlier accepted message with this key."""
        return await asyncio.to_thread(self._log.find, door, sender, control_id)

    async def claim(self, entry: InboundEntry) -> InboundRecord | None:
        """Take the key: None when this message holds it now, else what holds it."""
        holder = await asyncio.to_thread(self._log.claim, entry)
        if holder is None and entry.record_id is not None:
            self._claims[(entry.door, entry.sender, entry.control_id)] = entry.record_id
        return holder

    def release(self, door: str, sender: str, control_id: str) -> None:
        """Give back a key this journal claimed (on a thread: the caller does not wait)."""
        record_id = self._claims.pop((door, sender, control_id), None)
        if record_id is not None:
            self._track(self._records.submit(_release, self._log, record_id))

    def record_later(self, entry: InboundEntry) -> Future[str]:
        """Write the answered message on a thread; the future ends once it is written (or failed)."""
        self._claims.pop((entry.door, entry.sender, entry.control_id), None)
        return self._track(self._records.submit(self._log.record, entry))

    async def drain(self) -> None:
        """Return once every record submitted so far is written."""
        if self._pending:
            await asyncio.gather(*(asyncio.wrap_future(f) for f in list(self._pending)), return_exceptions=True)

    def _track(self, done: Future[str]) -> Future[str]:
        self._pending.add(done)
        done.add_done_callback(self._pending.discard)
        return done


def _release(log: InboundLog, record_id: str) -> str:
    log.release(record_id)
    return record_id
