"""The doors' dedupe store on the ACK path: one thread, its own connections, lookups and records in batches.

Every accepted message costs a lookup before its commands are published and a record after.  Done as one
pooled transaction each on whatever thread was free, they queued behind one another and behind the pool:
at 8 senders the records' commits set the pace of every ACK.  Here one thread owns a read and a write
connection, answers all lookups waiting at once with one query, and writes all records waiting at once
in one transaction (their audit entries with them).  A record is visible to lookups from the moment it is
queued, so a resend that arrives before its record is written still gets its first answer.

A lookup alone let two different messages racing under one control id both through (each found nothing),
on one instance and across instances; so a new message first *claims* its key: a row inserted before its
commands are published, the database's unique key deciding which of two racing messages wins.  The
loser gets the winner's row (raw included) and the door answers it as a conflict or a resend.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from sqlalchemy import Connection, Dialect, Engine, bindparam, delete, insert, update
from sqlalchemy.exc import IntegrityError

from hub.errors import DatabaseUnavailable
from hub.persistence import audit
from hub.persistence.database import lookup_connection
from hub.persistence.inbound import CLAIMED, InboundRecord, InboundStore, inbound_row, inserted_new, receipts
from hub.persistence.lane import Lane
from hub.persistence.tables import inbound_messages
from hub.security import data_key
from hub.service.inbound_entry import InboundEntry

log = logging.getLogger(__name__)

#: records are off the ACK path: waiting this long for company costs no sender anything
RECORD_LINGER_S = 0.01
Key = tuple[str, str, str]
R = TypeVar("R", bound="_Record | _Barrier | _Claim | _Release")


@dataclass(frozen=True)
class _Find:
    key: Key
    done: Future[InboundRecord | None]


@dataclass(frozen=True)
class _Record:
    key: Key
    values: dict[str, Any]
    done: Future[str]
    #: the row exists (claimed before publishing): the record fills in its answer
    claimed: bool = False


@dataclass(frozen=True)
class _Claim:
    key: Key
    values: dict[str, Any]
    done: Future[InboundRecord | None]


@dataclass(frozen=True)
class _Release:
    record_id: str
    done: Future[None]


@dataclass(frozen=True)
class _Barrier:
    done: Future[None]


_SELECT = "SELECT door, sender, control_id, id, outcome, answer, command_ids, raw FROM inbound_messages "


#: a claimed row's answer, built once (see ``_Lookup``)
_FILL_CLAIMED = (
    update(inbound_messages)
    .where(inbound_messages.c.id == bindparam("claim_id"))
    .values(
        outcome=bindparam("outcome"),
        answer=bindparam("answer"),
        command_ids=bindparam("command_ids"),
        raw=bindparam("raw"),
    )
)


@dataclass(frozen=True)
class _Lookup:
    """The dedupe lookup as driver SQL: on the sequential sender's ACK path SQLAlchemy's statement compile
    and result machinery cost several times the query itself."""

    placeholder: str
    command_ids: Callable[[Any], Any]

    @classmethod
    def of(cls, dialect: Dialect) -> _Lookup:
        decode = inbound_messages.c.command_ids.type.result_processor(dialect, None)
        return cls("?" if dialect.paramstyle == "qmark" else "%s", decode or (lambda value: value))

    def sql(self, keys: int) -> str:
        return _lookup_sql(self.placeholder, keys)


@functools.cache
def _lookup_sql(placeholder: str, keys: int) -> str:
    """One equality lookup on the unique key per message, UNION ALL-ed (built once per key count).

    A row-value IN list of two or more keys is a scan of the whole table on SQLite (EXPLAIN QUERY PLAN), so
    once lookups came in batches under load every ACK got slower with every message stored; PostgreSQL showed
    the same step in the sustained run and not with this form. Only placeholders go into the text; every
    value goes as a parameter.
    """
    one = f"{_SELECT}WHERE door = {placeholder} AND sender = {placeholder} AND control_id = {placeholder}"
    return " UNION ALL ".join([one] * keys)


class InboundJournal:
    """Implements ``hub.service.ports.DedupeJournal`` for the MLLP and HTTP doors of one process.

    Lookups and records run on two lanes, so a lookup never waits behind a batch of records committing.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._store = InboundStore(engine)
        self._pending: dict[Key, InboundRecord] = {}
        self._lookup = _Lookup.of(engine.dialect)
        self._lookups = Lane("inbound-lookups", lambda: lookup_connection(engine), self._find_all, what="inbound store")
        self._records = Lane(
            "inbound-records", engine.connect, self._record_all, linger_s=RECORD_LINGER_S, what="inbound store"
        )
        self._claims = Lane("inbound-claims", engine.connect, self._claim_all, what="inbound store")
        #: keys whose row this process inserted as a claim and has not yet filled in or released
        self._claimed: set[Key] = set()

    async def find(self, door: str, sender: str, control_id: str) -> InboundRecord | None:
        """The earlier accepted message with this key (written or still queued), if any."""
        key = (door, sender, control_id)
        queued = self._pending.get(key)
        if queued is not None:
            return queued
        done: Future[InboundRecord | None] = Future()
        self._lookups.submit(_Find(key, done))
        return await asyncio.wrap_future(done)

    async def claim(self, entry: InboundEntry) -> InboundRecord | None:
        """Take the key before the message's commands are published: None when this message holds it now,
        else what holds it (an accepted message, or one still being published, ``answer`` None)."""
        key = (entry.door, entry.sender, entry.control_id)
        held = self._pending.get(key)
        if held is not None:  # a message of this process holds it: settled without the database
            return held
        raw = entry.raw
        values = inbound_row(replace(entry, outcome=CLAIMED, answer=None, command_ids=[]))
        self._pending[key] = InboundRecord(values["id"], CLAIMED, None, [], raw)
        done: Future[InboundRecord | None] = Future()
        self._claims.submit(_Claim(key, values, done))
        try:
            holder = await asyncio.wrap_future(done)
        except BaseException:
            self._pending.pop(key, None)
            raise
        if holder is None:
            self._claimed.add(key)
        else:
            self._pending.pop(key, None)
        return holder

    def release(self, door: str, sender: str, control_id: str) -> None:
        """Give a claimed key back: the message was not accepted (nothing published), the sender may resend."""
        key = (door, sender, control_id)
        if key not in self._claimed:
            return
        self._claimed.discard(key)
        held = self._pending.pop(key, None)
        if held is not None:
            done: Future[None] = Future()
            done.add_done_callback(_logged)
            self._claims.submit(_Release(held.id, done))

    def record_later(self, entry: InboundEntry) -> Future[str]:
        """Queue an accepted message and its answer; the future ends once it is committed (or failed)."""
        key = (entry.door, entry.sender, entry.control_id)
        values = inbound_row(entry)
        outcome, answer, command_ids, raw = entry.outcome, entry.answer, entry.command_ids, entry.raw
        claimed = key in self._claimed
        self._claimed.discard(key)
        held = self._pending.get(key)
        if held is None or held.answer is None:  # a claim gives way to the answer
            self._pending[key] = InboundRecord(values["id"], outcome, answer, list(command_ids), raw)
        done: Future[str] = Future()
        done.add_done_callback(lambda _: self._pending.pop(key, None))
        self._records.submit(_Record(key, values, done, claimed=claimed))
        return done

    async def drain(self) -> None:
        """Return once every record queued before this call is written."""
        done: Future[None] = Future()
        self._records.submit(_Barrier(done))
        with contextlib.suppress(DatabaseUnavailable):  # it waits for the attempts, not for their success
            await asyncio.wrap_future(done)

    def close(self, timeout_s: float = 10.0) -> None:
        """Write what is queued, then end the threads and give the connections back."""
        self._lookups.close(timeout_s)
        self._claims.close(timeout_s)
        self._records.close(timeout_s)

    def _find_all(self, read: Connection, finds: list[_Find]) -> None:
        keys = list({f.key for f in finds})
        found: dict[Key, InboundRecord] = {}
        lookup = self._lookup
        for start in range(0, len(keys), 50):
            chunk = keys[start : start + 50]
            rows = read.exec_driver_sql(lookup.sql(len(chunk)), tuple(v for key in chunk for v in key)).all()
            for door, sender, control_id, record_id, outcome, answer, command_ids, raw in rows:
                found[(door, sender, control_id)] = InboundRecord(
                    record_id, outcome, answer, list(lookup.command_ids(command_ids) or []), data_key.reveal(raw)
                )
        if read.in_transaction():
            read.rollback()
        for f in finds:
            f.done.set_result(found.get(f.key) or self._pending.get(f.key))

    def _claim_all(self, write: Connection, batch: list[_Claim | _Release]) -> None:
        """Insert each claim unless its key is taken (one transaction), then read the rows of those that lost."""
        batch = _unsettled(batch)
        won: list[_Claim] = []
        lost: list[_Claim] = []
        with write.begin():
            for request in batch:
                if isinstance(request, _Release):
                    c = inbound_messages.c
                    write.execute(delete(inbound_messages).where(c.id == request.record_id, c.answer.is_(None)))
                elif inserted_new(write, request.values):
                    won.append(request)
                else:
                    lost.append(request)
        # only once committed: a winner told earlier could answer and fill in its row before the row is
        # visible to the records' connection (PostgreSQL), and its answer would be lost for resends
        for request in batch:
            if isinstance(request, _Release):
                request.done.set_result(None)
        for request in won:
            request.done.set_result(None)
        for request in lost:
            holder = self._store.find(*request.key)
            # gone again (released between the insert and this read): the sender's resend will decide
            request.done.set_result(holder or InboundRecord(str(request.values["id"]), CLAIMED, None, [], None))

    def _record_all(self, write: Connection, batch: list[_Record | _Barrier]) -> None:
        records = [r for r in _unsettled(batch) if isinstance(r, _Record)]
        unique: dict[Key, _Record] = {}
        for r in records:
            unique.setdefault(r.key, r)
        filled = [r for r in unique.values() if r.claimed]
        if filled:
            self._fill_claimed(write, filled)
            unique = {key: r for key, r in unique.items() if not r.claimed}
        if unique:
            try:
                with write.begin():
                    write.execute(insert(inbound_messages), [r.values for r in unique.values()])
                    audit.record_many(write, receipts([r.values for r in unique.values()]))
            except IntegrityError:
                # another process recorded one of these keys first: write them one by one, losers quietly
                for r in unique.values():
                    r.done.set_result(self._store.record_row(r.values))
            else:
                for r in unique.values():
                    r.done.set_result(r.values["id"])
        for r in records:
            if not r.done.done():  # a second record of a key queued in the same batch
                r.done.set_result(r.values["id"])
        for request in batch:
            if isinstance(request, _Barrier):
                request.done.set_result(None)

    @staticmethod
    def _fill_claimed(write: Connection, filled: list[_Record]) -> None:
        """The answers of claimed rows, and the receipts in the audit trail (a claim alone is no receipt)."""
        with write.begin():
            write.execute(
                _FILL_CLAIMED,
                [
                    {
                        "claim_id": r.values["id"],
                        "outcome": r.values["outcome"],
                        "answer": r.values["answer"],
                        "command_ids": r.values["command_ids"],
                        "raw": r.values["raw"],
                    }
                    for r in filled
                ],
            )
            audit.record_many(write, receipts([r.values for r in filled]))
        for r in filled:
            r.done.set_result(r.values["id"])


def _unsettled(batch: list[R]) -> list[R]:
    """What a batch still owes its callers: the lane tries a batch again on a fresh connection when its held
    one failed, and a part committed and settled on the first try (claimed rows filled in, say) is done."""
    return [request for request in batch if not request.done.done()]


def _logged(done: Future[None]) -> None:
    if not done.cancelled() and done.exception() is not None:
        log.warning("dedupe claim not released: %s", done.exception())
