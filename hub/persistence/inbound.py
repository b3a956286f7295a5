"""The inbound message store: raw messages, their answers and the dedupe key of every door.

Raw messages are encrypted at rest when RXHUB_DATA_KEY is set (hub.security.data_key), transparently to
callers, and purged after the retention period (the row, its answer and dedupe key stay).
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, Row, delete, insert, select, update
from sqlalchemy.exc import IntegrityError, OperationalError

from hub.errors import DatabaseUnavailable
from hub.persistence import audit
from hub.persistence.database import read_connection
from hub.persistence.maintenance import in_batches
from hub.persistence.tables import inbound_messages
from hub.security import data_key
from hub.security.principals import split_sender
from hub.service.inbound_entry import CLAIMED, InboundEntry

__all__ = ["CLAIMED", "InboundRecord", "InboundStore", "inbound_row", "inserted_new", "receipts"]


@dataclass(frozen=True)
class InboundRecord:
    """What a door needs to answer a resend: the first answer and the commands it published."""

    id: str
    outcome: str
    answer: bytes | None
    command_ids: list[str]
    raw: bytes | None = None


def inbound_row(entry: InboundEntry) -> dict[str, Any]:
    """The ``inbound_messages`` row of a message (raw sealed when a data key is installed)."""
    return {
        "id": entry.record_id or str(uuid.uuid4()),
        "door": entry.door,
        "sender": entry.sender,
        "control_id": entry.control_id,
        "message_type": entry.message_type,
        "received_at": datetime.now(UTC),
        "outcome": entry.outcome,
        "raw": data_key.seal(entry.raw),
        "answer": entry.answer,
        "command_ids": list(entry.command_ids),
    }


def inserted_new(conn: Connection, values: dict[str, Any]) -> bool:
    """INSERT that does nothing when the key (or the derived id) is taken; whether this one took it (the row it
    returns says so: the driver's rowcount is not reliable here on PostgreSQL)."""
    return conn.execute(_insert_new(conn.dialect.name), values).first() is not None


@functools.cache
def _insert_new(dialect_name: str) -> Any:
    """Built once with the values as parameters: on every new message's ACK path, building the statement around
    its values cost twice the insert itself (SQLite)."""
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = postgresql if dialect_name == "postgresql" else sqlite
    return dialect.insert(inbound_messages).on_conflict_do_nothing().returning(inbound_messages.c.id)


#: the door of the rows that index a principal's accepted orders (``hub.persistence.order_index``): not
#: messages, so not receipts in the audit trail
ORDER_INDEX_DOOR = "order"


def receipts(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The audit entries (``audit.record``'s keyword arguments) for receiving the messages of these rows.

    The actor is the principal the door authenticated; the sender the message claimed is in the detail.
    """
    entries = []
    for row in rows:
        if row["door"] == ORDER_INDEX_DOOR:
            continue
        principal, claimed = split_sender(row["sender"])
        detail = {
            "door": row["door"],
            "control_id": row["control_id"],
            "message_type": row["message_type"],
            "inbound_id": row["id"],
        }
        if claimed:
            detail["claimed_sender"] = claimed
        entries.append(
            {
                "actor": principal,
                "role": "feed",
                "action": "receive message",
                "outcome": row["outcome"],
                "detail": detail,
            }
        )
    return entries


class InboundStore:
    """Dedupe by (door, sender, control id), kept in the database so it survives restarts."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def find(self, door: str, sender: str, control_id: str) -> InboundRecord | None:
        """The earlier accepted message with this key, if any."""
        query = select(inbound_messages).where(
            inbound_messages.c.door == door,
            inbound_messages.c.sender == sender,
            inbound_messages.c.control_id == control_id,
        )
        try:
            with read_connection(self._engine) as conn:
                row = conn.execute(query).mappings().first()
        except OperationalError as exc:
            raise DatabaseUnavailable(f"inbound store unavailable: {exc.orig!r}") from exc
        if row is None:
            return None
        return InboundRecord(
            row["id"], row["outcome"], row["answer"], list(row["command_ids"] or []), data_key.reveal(row["raw"])
        )

    def claim(self, entry: InboundEntry) -> InboundRecord | None:
        """Take the key before publishing (a row without an answer): None when taken now, else what holds it
        (an accepted message, or one still being published: ``answer`` None)."""
        row = inbound_row(replace(entry, outcome=CLAIMED, answer=None, command_ids=[]))
        try:
            with self._engine.begin() as conn:
                if inserted_new(conn, row):
                    return None
        except OperationalError as exc:
            raise DatabaseUnavailable(f"inbound store unavailable: {exc.orig!r}") from exc
        found = self.find(entry.door, entry.sender, entry.control_id)
        return found or InboundRecord(str(row["id"]), CLAIMED, None, [], None)

    def release(self, record_id: str) -> None:
        """Give back a claim whose message was not accepted after all (its row, while it has no answer)."""
        c = inbound_messages.c
        with self._engine.begin() as conn:
            conn.execute(delete(inbound_messages).where(c.id == record_id, c.answer.is_(None)))

    def record(self, entry: InboundEntry) -> str:
        """Store an accepted message and its answer; a concurrent identical resend loses quietly."""
        return self.record_row(inbound_row(entry))

    def record_row(self, row: dict[str, Any]) -> str:
        """``record`` for a row built by ``inbound_row``; returns the id that holds the key."""
        try:
            with self._engine.begin() as conn:
                conn.execute(insert(inbound_messages), row)
                for receipt in receipts([row]):
                    audit.record(conn, **receipt)
        except IntegrityError:
            existing = self.find(row["door"], row["sender"], row["control_id"])
            if existing is not None and existing.answer is None:
                self._fill(existing.id, row)
            return existing.id if existing else str(row["id"])
        except OperationalError as exc:
            raise DatabaseUnavailable(f"inbound store unavailable: {exc.orig!r}") from exc
        return str(row["id"])

    def _fill(self, record_id: str, row: dict[str, Any]) -> None:
        """Answer a row claimed for the same message whose process never recorded the answer (it died between
        publishing and recording): its resend got through and the answer is the same."""
        c = inbound_messages.c
        with self._engine.begin() as conn:
            filled = conn.execute(
                update(inbound_messages)
                .where(c.id == record_id, c.answer.is_(None))
                .values(outcome=row["outcome"], answer=row["answer"], command_ids=row["command_ids"])
            ).rowcount
            if filled:
                for receipt in receipts([{**row, "id": record_id}]):
                    audit.record(conn, **receipt)

    def purge_raw(self, received_before: datetime, batch: int = 5000) -> int:
        """Drop the bodies of messages received before the cutoff, in short batches; returns how many.

        The keys are found by reading the whole table (no index on the time: see ``inbound_messages``).
        """
        c = inbound_messages.c

        def drop(conn: Connection, keys: Sequence[Row[Any]]) -> int:
            return int(
                conn.execute(update(inbound_messages).where(c.id.in_([k.id for k in keys])).values(raw=None)).rowcount
            )

        return in_batches(
            self._engine, select(c.id).where(c.received_at < received_before, c.raw.is_not(None)), drop, batch
        )
