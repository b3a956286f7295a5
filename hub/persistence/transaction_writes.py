"""The rows a transaction writes at its end, one statement per kind, and the idempotency marks of its messages.

Outbox rows and audit entries are queued and written at the end of the transaction, one statement each for every
command it carries (a batch of 16 commands would otherwise pay 16 of each, plus 16 idempotency marks: now one).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from hub.persistence import audit as audit_trail
from hub.persistence import command_outcomes
from hub.persistence.database import execute_rows
from hub.persistence.outbox_store import OutboxRow, outbox_row
from hub.persistence.tables import outbox, processed_messages

_OUTBOX_INSERT = insert(outbox)


class Writes:
    """What the units of work of one transaction queue for its end: outbox rows, audit entries and the
    outcomes of staff commands."""

    def __init__(self) -> None:
        self.outbox: list[dict[str, Any]] = []
        self.audit: list[dict[str, Any]] = []
        self.outcomes: list[dict[str, Any]] = []
        #: the outbox rows written, for the relay to publish from memory once the transaction committed
        self.written: list[OutboxRow] = []

    def queued(self, row_id: str) -> bool:
        """True if an outbox row with this id is waiting to be written."""
        return any(row["id"] == row_id for row in self.outbox)

    def flush(self, conn: Connection) -> None:
        """Write what is queued: the outbox rows in one statement, the audit entries in another."""
        if self.outbox:
            rows, self.outbox = self.outbox, []
            execute_rows(conn, _OUTBOX_INSERT, rows)
            self.written.extend(outbox_row(r) for r in rows)
        if self.audit:
            entries, self.audit = self.audit, []
            audit_trail.append(conn, entries)
        if self.outcomes:
            outcomes, self.outcomes = self.outcomes, []
            command_outcomes.write(conn, outcomes, verdict=True)


@functools.cache
def _claim_statement(dialect: str) -> Any:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING into processed_messages, built once per dialect."""
    ignore = sqlite_insert if dialect == "sqlite" else pg_insert
    return ignore(processed_messages).on_conflict_do_nothing().returning(processed_messages.c.message_id)


def claim_messages(conn: Connection, consumer: str, message_ids: Sequence[str]) -> set[str]:
    """Record messages as applied now, in this transaction; the ids not applied before (one statement).

    The marks commit with the handlers' effects or roll back with them. A concurrent copy of one of these
    messages waits on its key (PostgreSQL) or on the writer lock (SQLite) until this transaction ends, then
    finds it applied (or applies it, if this one rolled back).  Ids go in sorted, so two batches holding
    the same messages take their keys in the same order.
    """
    now = datetime.now(UTC)
    rows = [{"consumer": consumer, "message_id": m, "processed_at": now} for m in sorted(set(message_ids))]
    result = execute_rows(conn, _claim_statement(conn.dialect.name), rows)
    return {row[0] for row in result}  # rowcount is not reliable here (psycopg reports -1)
