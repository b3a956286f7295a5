"""One database transaction per handled message: effects, idempotency mark and outbox rows together.

If the process dies before commit nothing happened and the broker redelivers; after commit the outbox
rows exist and the relay publishes them, whether or not this process lives to do it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, bindparam, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import OperationalError

from hub.domain.events import Event
from hub.errors import DatabaseUnavailable
from hub.messaging.cloudevents import CONTENT_TYPE, encode, event_id, to_cloudevent
from hub.messaging.envelope import Envelope
from hub.persistence.outbox_store import OutboxRow, outbox_row
from hub.persistence.tables import outbox, processed_messages

_PROCESSED = select(processed_messages.c.message_id).where(
    processed_messages.c.consumer == bindparam("consumer"), processed_messages.c.message_id == bindparam("message_id"))
_OUTBOX_INSERT = insert(outbox)
#: per dialect: INSERT ... ON CONFLICT DO NOTHING into processed_messages (built once)
_CLAIM: dict[str, Any] = {}


class UnitOfWork:
    """Collects a handler's writes on one connection inside one transaction."""

    def __init__(self, conn: Connection, *, causation: Envelope | None = None, actor: str | None = None):
        self.conn = conn
        self.causation = causation
        self.actor = actor or (causation.actor if causation else None)
        self._event_index = 0
        self._outbox_rows: list[dict[str, Any]] = []
        #: the outbox rows this transaction wrote, for the relay to publish from memory once it committed
        self.written: list[OutboxRow] = []
        self.published_event_names: list[str] = []
        #: lots of an NDC this transaction has read for update (and changed), so it reads them once
        self.shelves: dict[str, list[Any]] = {}

    def already_processed(self, consumer: str, message_id: uuid.UUID | str) -> bool:
        """True if this consumer has committed this message before (a redelivery or a resend)."""
        row = self.conn.execute(_PROCESSED, {"consumer": consumer, "message_id": str(message_id)}).first()
        return row is not None

    def mark_processed(self, consumer: str, message_id: uuid.UUID | str) -> None:
        """Record the message as applied, in the same transaction as its effects."""
        self.conn.execute(insert(processed_messages), dict(
            consumer=consumer, message_id=str(message_id), processed_at=datetime.now(UTC)))

    def claim_message(self, consumer: str, message_id: uuid.UUID | str) -> bool:
        """Record the message as applied now, in this transaction; False if it was applied before.

        One statement for the check and the mark: the mark commits with the handler's effects or rolls back
        with them. A concurrent copy of the same message waits on the key (PostgreSQL) or on the writer lock
        (SQLite) until this transaction ends, then finds it applied (or applies it, if this one rolled back).
        """
        result = self.conn.execute(self._claim_statement(), {
            "consumer": consumer, "message_id": str(message_id), "processed_at": datetime.now(UTC)})
        return result.first() is not None  # rowcount is not reliable here (psycopg reports -1)

    def _claim_statement(self) -> Any:
        dialect = self.conn.dialect.name
        if dialect not in _CLAIM:
            ignore = sqlite_insert if dialect == "sqlite" else pg_insert
            _CLAIM[dialect] = (ignore(processed_messages).on_conflict_do_nothing()
                               .returning(processed_messages.c.message_id))
        return _CLAIM[dialect]

    def already_queued(self, row_id: str) -> bool:
        """True if an outbox row with this id exists (a derived command queued before)."""
        if any(row["id"] == row_id for row in self._outbox_rows):
            return True
        return self.conn.execute(select(outbox.c.seq).where(outbox.c.id == row_id)).first() is not None

    def add_event(self, event: Event, *, correlation_id: uuid.UUID | str) -> str:
        """Queue a public event in the outbox; returns its stable CloudEvents id."""
        causation = self.causation.message_id if self.causation else uuid.uuid4()
        eid = event_id(causation, event.name, self._event_index)
        self._event_index += 1
        now = datetime.now(UTC)
        body = encode(
            to_cloudevent(
                event, event_id=eid, time=now, correlation_id=str(correlation_id),
                causation_id=str(causation), actor=self.actor,
            )
        )
        self._add_row(eid, "events", event.name, event.name, CONTENT_TYPE, str(correlation_id), body, {})
        self.published_event_names.append(event.name)
        return eid

    def add_command(self, envelope: Envelope) -> None:
        """Queue a command for another step; it leaves only if this transaction commits."""
        self._add_row(
            str(envelope.message_id), "commands", envelope.type, envelope.type, "application/json",
            str(envelope.correlation_id), envelope.to_bytes(), {"x-rxhub-source": envelope.source.value},
        )

    def add_raw(self, *, row_id: str, target: str, routing_key: str, message_type: str, content_type: str,
                correlation_id: str | None, body: bytes, headers: dict[str, Any] | None = None) -> None:
        """Queue any message (a payer claim, a delayed check) to leave only if this transaction commits.

        ``target`` is "payer" (payer exchange), "delay" (default exchange: routing key = a delay queue),
        "events" or "commands"; a ``reply_to`` header becomes the AMQP reply-to property.
        """
        self._add_row(row_id, target, routing_key, message_type, content_type, correlation_id or "", body,
                      headers or {})

    def _add_row(
        self, row_id: str, target: str, routing_key: str, message_type: str, content_type: str,
        correlation_id: str, body: bytes, headers: dict[str, Any],
    ) -> None:
        self._outbox_rows.append(dict(
            id=row_id, created_at=datetime.now(UTC), target=target, routing_key=routing_key,
            message_type=message_type, content_type=content_type, correlation_id=correlation_id,
            body=body, headers=headers,
        ))

    def flush(self) -> None:
        """Write the queued outbox rows in one statement (done before commit by ``unit_of_work``)."""
        if self._outbox_rows:
            rows, self._outbox_rows = self._outbox_rows, []
            # one row as a plain execute: an executemany costs a pipeline on psycopg
            self.conn.execute(_OUTBOX_INSERT, rows[0] if len(rows) == 1 else rows)
            self.written.extend(outbox_row(r) for r in rows)


@contextmanager
def unit_of_work(
    engine: Engine, *, causation: Envelope | None = None, actor: str | None = None
) -> Iterator[UnitOfWork]:
    """Begin a transaction; commit on success, roll back on any error."""
    with units_of_work(engine) as begin:
        yield begin(causation, actor)


class Begin(Protocol):
    """Starts the unit of work of one command inside a shared transaction."""

    def __call__(self, causation: Envelope | None = None, actor: str | None = None) -> UnitOfWork: ...


@contextmanager
def units_of_work(engine: Engine) -> Iterator[Begin]:
    """One transaction for several commands: ``begin(envelope)`` gives each its own unit of work (its own
    causation and event numbering) on the shared connection; all commit together or roll back together."""
    try:
        with engine.begin() as conn:
            made: list[UnitOfWork] = []

            def begin(causation: Envelope | None = None, actor: str | None = None) -> UnitOfWork:
                made.append(UnitOfWork(conn, causation=causation, actor=actor))
                return made[-1]

            yield begin
            for uow in made:
                uow.flush()
    except OperationalError as exc:
        raise DatabaseUnavailable(f"database unavailable: {exc.orig!r}") from exc
