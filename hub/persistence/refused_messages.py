"""The doors' refused messages: recorded off the answer's path, audited, and bounded three ways.

A message a door answers with its standard's error (HL7 AE/AR, FHIR 4xx/5xx, SCRIPT Error) is kept in
``refused_messages`` with its answer and the reason, findable by control id in the message search, and gets
a ``receive message`` audit entry (outcome ``error`` or ``refused``) in the same transaction. Recording
never delays the answer: one thread writes whatever waits in one transaction, as the dedupe journal does.

Bounds, so a flood of garbage cannot fill the disk:

* per sender: ``RXHUB_REFUSED_PER_SENDER_PER_MINUTE`` records a minute (bursts of as many); past it a
  refusal is still answered and counted in the metrics but not recorded, and the sender's next record says
  how many went unrecorded (``unrecorded_before``). The key is the principal the door authenticated, or the
  peer address when the sender is only what the message claims (``hl7:`` principals, unparsed messages).
* in all: at most ``RXHUB_REFUSED_MAX_ROWS`` records; each write past it deletes the oldest.
* in time: ``rxhub retention purge`` deletes records older than ``RXHUB_RAW_RETENTION_DAYS``.

The body is kept only when raw messages are encrypted at rest (``RXHUB_DATA_KEY``), sealed, and at most its
first ``RAW_MAX_BYTES``; otherwise only its size. Text the databases cannot hold (``hub.domain.storable``),
often the very reason for the refusal, is recorded with U+FFFD in its place.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, Row, delete, func, insert, select

from hub.domain.storable import made_storable
from hub.persistence import audit
from hub.persistence.database import execute_rows
from hub.persistence.lane import Lane
from hub.persistence.maintenance import in_batches
from hub.persistence.tables import refused_messages
from hub.security import data_key
from hub.security.principals import dedupe_sender
from hub.security.rate_limit import SenderBudget
from hub.service.ports import RefusedMessage

log = logging.getLogger(__name__)

#: the most of a refused body kept (sealed); the biggest real order in the corpus is about half of this
RAW_MAX_BYTES = 64 * 1024
#: the most of a reason kept (a message with hundreds of problems says so in its first few)
REASON_MAX_CHARS = 2000
_INSERT = insert(refused_messages)
_LANE_IDLE_S = 5.0


@dataclass(frozen=True)
class _Pending:
    row: dict[str, Any]
    entry: dict[str, Any]
    done: Future[None]


def refused_row(refusal: RefusedMessage, *, now: datetime | None = None) -> dict[str, Any]:
    """The ``refused_messages`` row of a refusal (the body sealed and cut short, or not kept at all)."""
    cipher = data_key.current()
    raw = refusal.raw[:RAW_MAX_BYTES]
    return {
        "id": str(uuid.uuid4()),
        "door": refusal.door,
        "sender": made_storable(dedupe_sender(refusal.actor, refusal.claimed_sender))[:200],
        "control_id": made_storable(refusal.control_id)[:200],
        "message_type": made_storable(refusal.message_type)[:40] or None,
        "received_at": now or datetime.now(UTC),
        "outcome": refusal.answer_code[:8],
        "reason": made_storable(refusal.reason)[:REASON_MAX_CHARS],
        "answer": refusal.answer,
        "raw": cipher.seal(raw) if cipher is not None and raw else None,
        "raw_size": len(refusal.raw),
    }


def refusal_entry(refusal: RefusedMessage, row: dict[str, Any], unrecorded: int) -> dict[str, Any]:
    """The audit entry (``audit.record``'s keyword arguments) of a recorded refusal."""
    detail: dict[str, Any] = {
        "door": row["door"],
        "control_id": row["control_id"],
        "message_type": row["message_type"],
        "answer": row["outcome"],
        "reason": row["reason"],
        "refused_id": row["id"],
    }
    if refusal.claimed_sender:
        detail["claimed_sender"] = made_storable(refusal.claimed_sender)
    if unrecorded:
        detail["unrecorded_before"] = unrecorded
    return {
        "actor": made_storable(refusal.actor),
        "role": "feed",
        "action": "receive message",
        "outcome": refusal.outcome,
        "detail": detail,
    }


class RefusedMessages:
    """Implements ``hub.service.ports.RefusalLog`` for the doors of one process."""

    def __init__(self, engine: Engine, *, per_sender_per_minute: int, max_rows: int) -> None:
        self._budget = SenderBudget(per_sender_per_minute)
        self._max_rows = max_rows
        #: rows in the table as this process last knew it (None: count before the next write)
        self._rows: int | None = None
        self._lane = Lane("refused-messages", engine.connect, self._write, idle_s=_LANE_IDLE_S, what="refused messages")

    def record_later(self, refusal: RefusedMessage) -> Future[None]:
        """Queue the record and its audit entry, unless the sender is over its budget; never raises."""
        allowed, unrecorded = self._budget.take(refusal.budget_key)
        if not allowed:
            if unrecorded == 1:
                log.warning(
                    "refused messages from %s are over their budget: answered, not recorded",
                    refusal.budget_key,
                    extra={"door": refusal.door},
                )
            skipped: Future[None] = Future()
            skipped.set_result(None)
            return skipped
        row = refused_row(refusal)
        pending = _Pending(row, refusal_entry(refusal, row, unrecorded), Future())
        pending.done.add_done_callback(_logged)
        self._lane.submit(pending)
        return pending.done

    def close(self, timeout_s: float = 10.0) -> None:
        """Write what is queued, then end the writer thread."""
        self._lane.close(timeout_s)

    def _write(self, conn: Connection, batch: list[_Pending]) -> None:
        with conn.begin():
            execute_rows(conn, _INSERT, [p.row for p in batch])
            audit.append(conn, [audit.entry(**p.entry) for p in batch])
            self._keep_within(conn, len(batch))
        for p in batch:
            p.done.set_result(None)

    def _keep_within(self, conn: Connection, added: int) -> None:
        """Delete the oldest records past ``max_rows`` (counted afresh only near the cap: other processes
        write too)."""
        if self._rows is None or self._rows + added > self._max_rows:
            self._rows = int(conn.execute(select(func.count()).select_from(refused_messages)).scalar_one())
        else:
            self._rows += added
        excess = self._rows - self._max_rows
        if excess > 0:
            c = refused_messages.c
            oldest = select(c.id).order_by(c.received_at, c.id).limit(excess)
            conn.execute(delete(refused_messages).where(c.id.in_(oldest.scalar_subquery())))
            self._rows = self._max_rows


def purge_refused(engine: Engine, received_before: datetime, batch: int = 5000) -> int:
    """Delete the records of messages refused before the cutoff, in short batches; returns how many."""
    c = refused_messages.c

    def drop(conn: Connection, keys: Sequence[Row[Any]]) -> int:
        return int(conn.execute(delete(refused_messages).where(c.id.in_([k.id for k in keys]))).rowcount)

    return in_batches(engine, select(c.id).where(c.received_at < received_before), drop, batch)


def _logged(done: Future[None]) -> None:
    if not done.cancelled() and done.exception() is not None:
        log.warning("refused message not recorded: %s", done.exception())
