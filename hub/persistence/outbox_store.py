"""Reading and marking the transactional outbox, for the relay."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, func, select, update

from hub.persistence.tables import outbox


@dataclass(frozen=True)
class OutboxRow:
    """One message waiting to be published."""

    seq: int
    id: str
    target: str
    routing_key: str
    message_type: str
    content_type: str
    correlation_id: str | None
    body: bytes
    headers: dict[str, Any]


class OutboxStore:
    """The relay's view of the outbox table."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def pending(self, limit: int = 200) -> list[OutboxRow]:
        """Unpublished rows, oldest first, so events about one order leave in the order they happened."""
        query = (
            select(outbox).where(outbox.c.published_at.is_(None)).order_by(outbox.c.seq).limit(limit)
        )
        with self._engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [
            OutboxRow(r["seq"], r["id"], r["target"], r["routing_key"], r["message_type"], r["content_type"],
                      r["correlation_id"], r["body"], dict(r["headers"] or {}))
            for r in rows
        ]

    def mark_published(self, ids: list[str]) -> None:
        """Mark rows sent; a crash before this only causes a republish with the same message id."""
        if not ids:
            return
        with self._engine.begin() as conn:
            conn.execute(
                update(outbox).where(outbox.c.id.in_(ids)).values(published_at=datetime.now(UTC))
            )

    def mark_failed(self, row_id: str, error: str) -> None:
        """Park a row the broker refused for good, keeping the reason for operators."""
        with self._engine.begin() as conn:
            conn.execute(update(outbox).where(outbox.c.id == row_id)
                         .values(published_at=datetime.now(UTC), error=error[:1000]))

    def backlog(self) -> int:
        """How many rows wait to be published (a health and metrics figure)."""
        with self._engine.connect() as conn:
            return int(conn.execute(
                select(func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))
            ).scalar_one())
