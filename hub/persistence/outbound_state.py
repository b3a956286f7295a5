"""Outbound destinations' state in the database: written by the sender, read by any process.

``rxhub outbound status``, ``/metrics`` and the admin dashboard run in other processes than the sender, so
what it is doing (connected, message in flight, attempts, last error, totals) is one row per destination.
The newest event of each order it delivered is kept too: an older event of that order (a replayed dead
letter) must not be sent after it.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import field_validator
from sqlalchemy import Engine, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError

from hub.domain.order_parts import Frozen
from hub.errors import DatabaseUnavailable
from hub.persistence.database import read_connection
from hub.persistence.tables import outbound_destinations, outbound_order_progress


class DestinationRow(Frozen):
    """One destination's last written state."""

    name: str
    state: str
    connected: bool
    in_flight_control_id: str | None = None
    in_flight_event_time: datetime | None = None
    failing_since: datetime | None = None
    attempts: int = 0
    last_error: str | None = None
    last_error_at: datetime | None = None
    counts: dict[str, int] = {}
    updated_at: datetime

    @field_validator("in_flight_event_time", "failing_since", "last_error_at", "updated_at")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        return _aware(value)


class DeliveredEvent(Frozen):
    """The newest event of one order a destination accepted."""

    event_id: str
    event_type: str
    event_time: datetime

    @field_validator("event_time")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        aware = _aware(value)
        assert aware is not None
        return aware


def _aware(value: datetime | None) -> datetime | None:
    """SQLite gives back naive datetimes; everything here was written in UTC."""
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


@functools.cache
def _upsert(dialect: str, table: str) -> Any:
    target = outbound_destinations if table == "destinations" else outbound_order_progress
    insert = (sqlite_insert if dialect == "sqlite" else pg_insert)(target)
    keys = [c.name for c in target.primary_key.columns]
    return insert.on_conflict_do_update(
        index_elements=keys, set_={c.name: insert.excluded[c.name] for c in target.columns if c.name not in keys}
    )


class OutboundStateStore:
    """Reads and writes ``outbound_destinations`` and ``outbound_order_progress``."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def save(self, row: DestinationRow) -> None:
        """Write one destination's state over the previous one."""
        self._write("destinations", row.model_dump())

    def load(self, names: Sequence[str] | None = None) -> dict[str, DestinationRow]:
        """The stored state per destination name (all when ``names`` is None)."""
        query = select(outbound_destinations)
        if names is not None:
            query = query.where(outbound_destinations.c.name.in_(list(names)))
        try:
            with read_connection(self._engine) as conn:
                rows = conn.execute(query).mappings().all()
        except SQLAlchemyError as exc:
            raise DatabaseUnavailable(f"outbound state not read: {type(exc).__name__}") from exc
        return {r["name"]: DestinationRow.model_validate(dict(r)) for r in rows}

    def delivered(self, destination: str, subject: str) -> DeliveredEvent | None:
        """The newest event of ``subject`` (an order) this destination has accepted, if any."""
        p = outbound_order_progress.c
        try:
            with read_connection(self._engine) as conn:
                row = (
                    conn.execute(
                        select(p.event_id, p.event_type, p.event_time).where(
                            p.destination == destination, p.subject == subject
                        )
                    )
                    .mappings()
                    .first()
                )
        except SQLAlchemyError as exc:
            raise DatabaseUnavailable(f"outbound progress not read: {type(exc).__name__}") from exc
        return None if row is None else DeliveredEvent.model_validate(dict(row))

    def record_delivered(self, destination: str, subject: str, event: DeliveredEvent) -> None:
        """Remember ``event`` as the order's newest delivered one (the caller checked it is not older)."""
        self._write("progress", {"destination": destination, "subject": subject, **event.model_dump()})

    def _write(self, table: str, row: dict[str, Any]) -> None:
        try:
            with self._engine.begin() as conn:
                conn.execute(_upsert(conn.dialect.name, table), [row])
        except SQLAlchemyError as exc:
            raise DatabaseUnavailable(f"outbound state not written: {type(exc).__name__}") from exc
