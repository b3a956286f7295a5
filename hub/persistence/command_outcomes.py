"""What became of each staff command: pending from the API's 202 on, then applied, refused or dead-lettered.

The API writes ``pending`` (an insert that yields to a verdict already there: the worker may be faster than
the API's own write); the worker writes ``applied`` or ``refused`` over it in the transaction of the command's
effects, and the consumer writes a dead letter's outcome in a transaction of its own. So the worker has the
last word whatever order the writes commit in, and a replayed dead letter that then applies becomes
``applied``. Door orders have no row: only commands with a staff actor (``Envelope.actor``) are recorded.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, Row, delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError

from hub.errors import DatabaseUnavailable
from hub.messaging.envelope import Envelope
from hub.persistence.database import execute_rows, read_connection
from hub.persistence.maintenance import in_batches
from hub.persistence.tables import command_outcomes, prescriptions, users

PENDING, APPLIED, REFUSED, DEAD_LETTERED = "pending", "applied", "refused", "dead-lettered"
_REASON_MAX = 1000


@dataclass(frozen=True)
class CommandOutcome:
    """One staff command's outcome as its sender may read it."""

    command_id: str
    command: str
    actor: str
    prescription_id: str | None
    rx_number: str | None
    outcome: str
    reason: str | None
    at: datetime


def outcome_row(
    envelope: Envelope, outcome: str, *, reason: str | None = None, prescription_id: str | None = None
) -> dict[str, Any]:
    """The row of a staff command's outcome (``envelope.actor`` must be set); the prescription is the one the
    command names unless given (a verbal order's new prescription)."""
    assert envelope.actor is not None
    named = envelope.payload.get("prescription_id")
    return {
        "message_id": str(envelope.message_id),
        "command": envelope.type[:100],
        "actor": envelope.actor,
        "prescription_id": prescription_id or (named if isinstance(named, str) else None),
        "outcome": outcome,
        "reason": reason[:_REASON_MAX] if reason else None,
        "at": datetime.now(UTC),
    }


@functools.cache
def _statement(dialect: str, verdict: bool) -> Any:
    """Pending: insert unless a row exists. A verdict: insert or overwrite outcome, reason and time."""
    insert = (sqlite_insert if dialect == "sqlite" else pg_insert)(command_outcomes)
    if not verdict:
        return insert.on_conflict_do_nothing(index_elements=["message_id"])
    c = command_outcomes.c
    return insert.on_conflict_do_update(
        index_elements=["message_id"],
        set_={
            "outcome": insert.excluded.outcome,
            "reason": insert.excluded.reason,
            "at": insert.excluded.at,
            "prescription_id": func.coalesce(insert.excluded.prescription_id, c.prescription_id),
        },
    )


def write(conn: Connection, rows: Sequence[dict[str, Any]], *, verdict: bool) -> None:
    """Write outcome rows in one statement: ``verdict`` False for pending rows, True for the worker's word."""
    if rows:
        execute_rows(conn, _statement(conn.dialect.name, verdict), rows)


def find(conn: Connection, command_id: str) -> CommandOutcome | None:
    """The command's outcome with the Rx number of its prescription, or None when no staff command has it."""
    c = command_outcomes.c
    row = (
        conn.execute(
            select(command_outcomes, prescriptions.c.rx_number)
            .outerjoin(prescriptions, prescriptions.c.id == c.prescription_id)
            .where(c.message_id == command_id)
        )
        .mappings()
        .first()
    )
    if row is None:
        return None
    return CommandOutcome(
        command_id=row["message_id"],
        command=row["command"],
        actor=row["actor"],
        prescription_id=row["prescription_id"],
        rx_number=row["rx_number"],
        outcome=row["outcome"],
        reason=row["reason"],
        at=row["at"],
    )


class DeadLetterOutcomes:
    """Records the outcome of a staff command the consumer dead-letters (``hub.messaging.consumer.OutcomeLog``).

    Written before the dead letter is published: a database that fails here raises ``DatabaseUnavailable``,
    the consumer reconnects and the command is delivered again, so its sender is never left on ``pending``.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def dead_lettered(self, envelope: Envelope, *, refused: bool, reason: str, forbidden: bool = False) -> None:
        """A domain rule refused the command (``refused``; ``forbidden``: the actor may not do it, e.g. a
        pharmacist without a licence), or it could not be applied at all; audited with the full reason in the
        outcome's transaction."""
        if not envelope.actor:
            return
        row = outcome_row(envelope, REFUSED if refused else DEAD_LETTERED, reason=reason)
        try:
            with self._engine.begin() as conn:
                write(conn, [row], verdict=True)
                _audit(conn, envelope, row, "forbidden" if forbidden else row["outcome"], reason)
        except SQLAlchemyError as exc:
            raise DatabaseUnavailable(f"command outcome not recorded: {type(exc).__name__}") from exc


def _audit(conn: Connection, envelope: Envelope, row: dict[str, Any], outcome: str, reason: str) -> None:
    """The worker's refusal in the audit trail: who (name and role on record now), which command, why."""
    from hub.persistence import audit  # audit writes the API's pending outcomes with its entries: imported late

    user = conn.execute(select(users.c.name, users.c.role).where(users.c.id == envelope.actor)).first()
    audit.record(
        conn,
        actor=user.name if user else str(envelope.actor),
        role=user.role if user else "unknown",
        action=f"apply {envelope.type}",
        prescription_id=row["prescription_id"],
        outcome=outcome,
        detail={"reason": reason, "command_id": row["message_id"], "principal": envelope.principal},
    )


def read(engine: Engine, command_id: str) -> CommandOutcome | None:
    """``find`` on a read connection of its own."""
    with read_connection(engine) as conn:
        return find(conn, command_id)


def purge_outcomes(engine: Engine, before: datetime, batch: int = 5000) -> int:
    """Delete the outcomes last written before the cutoff, in short batches (retention: the audit trail keeps
    who requested what); returns how many."""
    c = command_outcomes.c

    def drop(conn: Connection, keys: Sequence[Row[Any]]) -> int:
        return int(conn.execute(delete(command_outcomes).where(c.message_id.in_([k[0] for k in keys]))).rowcount)

    return in_batches(engine, select(c.message_id).where(c.at < before), drop, batch)
