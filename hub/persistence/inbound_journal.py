"""The doors' dedupe store on the ACK path: one thread, its own connections, lookups and records in batches.

Every accepted message costs a lookup before its commands are published and a record after.  Done as one
pooled transaction each on whatever thread was free, they queued behind one another and behind the pool:
at 8 senders the records' commits set the pace of every ACK.  Here one thread owns a read and a write
connection, answers all lookups waiting at once with one query, and writes all records waiting at once
in one transaction (their audit entries with them).  A record is visible to lookups from the moment it is
queued, so a resend that arrives before its record is written still gets its first answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, tuple_
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from hub.errors import DatabaseUnavailable
from hub.persistence import audit
from hub.persistence.database import READ_ONLY
from hub.persistence.inbound import InboundRecord, InboundStore
from hub.persistence.tables import inbound_messages
from hub.security import data_key

log = logging.getLogger(__name__)

#: most requests handled in one query or one transaction
BATCH = 256
Key = tuple[str, str, str]


@dataclass(frozen=True)
class _Find:
    key: Key
    done: Future[InboundRecord | None]


@dataclass(frozen=True)
class _Record:
    key: Key
    values: dict[str, Any]
    done: Future[str]


@dataclass(frozen=True)
class _Barrier:
    done: Future[None]


_Request = _Find | _Record | _Barrier


class InboundJournal:
    """Implements ``hub.service.ports.DedupeJournal`` for the MLLP and HTTP doors of one process."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._store = InboundStore(engine)
        self._queue: queue.SimpleQueue[_Request | None] = queue.SimpleQueue()
        self._pending: dict[Key, InboundRecord] = {}
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._read: Connection | None = None
        self._write: Connection | None = None

    async def find(self, door: str, sender: str, control_id: str) -> InboundRecord | None:
        """The earlier accepted message with this key (written or still queued), if any."""
        key = (door, sender, control_id)
        queued = self._pending.get(key)
        if queued is not None:
            return queued
        done: Future[InboundRecord | None] = Future()
        self._submit(_Find(key, done))
        return await asyncio.wrap_future(done)

    def record_later(
        self, *, door: str, sender: str, control_id: str, message_type: str, outcome: str, raw: bytes,
        answer: bytes | None, command_ids: list[str], record_id: str | None = None,
    ) -> Future[str]:
        """Queue an accepted message and its answer; the future ends once it is committed (or failed)."""
        key = (door, sender, control_id)
        record_id = record_id or str(uuid.uuid4())
        self._pending.setdefault(key, InboundRecord(record_id, outcome, answer, list(command_ids), raw))
        values = {
            "id": record_id, "door": door, "sender": sender, "control_id": control_id,
            "message_type": message_type, "received_at": datetime.now(UTC), "outcome": outcome,
            "raw": data_key.seal(raw), "answer": answer, "command_ids": command_ids,
        }
        done: Future[str] = Future()
        self._submit(_Record(key, values, done))
        return done

    async def drain(self) -> None:
        """Return once everything queued before this call is written."""
        done: Future[None] = Future()
        self._submit(_Barrier(done))
        await asyncio.wrap_future(done)

    def close(self, timeout_s: float = 10.0) -> None:
        """Write what is queued, then end the thread and give the connections back."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout_s)

    def _submit(self, request: _Request) -> None:
        self._queue.put(request)
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="inbound-journal", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        try:
            while True:
                first = self._queue.get()
                if first is None:
                    return
                batch: list[_Request] = [first]
                stop = False
                while len(batch) < BATCH:
                    try:
                        more = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if more is None:
                        stop = True
                        break
                    batch.append(more)
                self._handle(batch)
                if stop:
                    return
        finally:
            self._disconnect()

    def _handle(self, batch: list[_Request]) -> None:
        finds = [r for r in batch if isinstance(r, _Find)]
        records = [r for r in batch if isinstance(r, _Record)]
        if finds:
            self._guard(finds, self._find_all)
        if records:
            self._guard(records, self._record_all)
        for request in batch:
            if isinstance(request, _Barrier):
                request.done.set_result(None)

    def _guard(self, requests: list[Any], work: Callable[[list[Any]], None]) -> None:
        try:
            work(requests)
        except SQLAlchemyError as exc:
            self._disconnect()  # the next batch starts on fresh connections
            error = DatabaseUnavailable(f"inbound store unavailable: {type(exc).__name__}")
            for request in requests:
                if not request.done.done():
                    request.done.set_exception(error)
            for request in requests:
                if isinstance(request, _Record):
                    self._pending.pop(request.key, None)

    def _find_all(self, finds: list[_Find]) -> None:
        c = inbound_messages.c
        keys = list({f.key for f in finds})
        found: dict[Key, InboundRecord] = {}
        read = self._connection("read")
        for start in range(0, len(keys), 50):
            chunk = keys[start:start + 50]
            query = select(inbound_messages).where(tuple_(c.door, c.sender, c.control_id).in_(chunk))
            for row in read.execute(query).mappings():
                found[(row["door"], row["sender"], row["control_id"])] = InboundRecord(
                    row["id"], row["outcome"], row["answer"], list(row["command_ids"] or []),
                    data_key.reveal(row["raw"]))
        if read.in_transaction():
            read.rollback()
        for f in finds:
            f.done.set_result(found.get(f.key) or self._pending.get(f.key))

    def _record_all(self, records: list[_Record]) -> None:
        unique: dict[Key, _Record] = {}
        for r in records:
            unique.setdefault(r.key, r)
        write = self._connection("write")
        try:
            with write.begin():
                write.execute(insert(inbound_messages), [r.values for r in unique.values()])
                audit.record_many(write, [_audit_entry(r) for r in unique.values()])
        except IntegrityError:
            # another process recorded one of these keys first: write them one by one, losers quietly
            for r in unique.values():
                r.done.set_result(self._store.record(**_store_args(r)))
        else:
            for r in unique.values():
                r.done.set_result(r.values["id"])
        for r in records:
            self._pending.pop(r.key, None)
            if not r.done.done():  # a second record of a key queued in the same batch
                r.done.set_result(unique[r.key].values["id"])

    def _connection(self, kind: str) -> Connection:
        if kind == "read":
            if self._read is None:
                read = self._engine.connect().execution_options(**{READ_ONLY: True})
                if read.dialect.name == "postgresql":  # no BEGIN/COMMIT round trips around a single SELECT
                    read = read.execution_options(isolation_level="AUTOCOMMIT")
                self._read = read
            return self._read
        if self._write is None:
            self._write = self._engine.connect()
        return self._write

    def _disconnect(self) -> None:
        for conn in (self._read, self._write):
            if conn is not None:
                with contextlib.suppress(SQLAlchemyError):
                    conn.close()
        self._read = self._write = None


def _audit_entry(r: _Record) -> dict[str, Any]:
    v = r.values
    return {"actor": v["sender"], "role": "feed", "action": "receive message", "outcome": v["outcome"],
            "detail": {"door": v["door"], "control_id": v["control_id"], "message_type": v["message_type"],
                       "inbound_id": v["id"]}}


def _store_args(r: _Record) -> dict[str, Any]:
    v = r.values
    return {"door": v["door"], "sender": v["sender"], "control_id": v["control_id"],
            "message_type": v["message_type"], "outcome": v["outcome"], "raw": data_key.reveal(v["raw"]) or b"",
            "answer": v["answer"], "command_ids": v["command_ids"], "record_id": v["id"]}
