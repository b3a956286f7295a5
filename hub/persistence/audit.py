"""The append-only audit trail: who (and in which role) did what to which prescription, and when."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, insert, select

from hub.persistence.tables import audit_log


@dataclass(frozen=True)
class AuditEntry:
    """One audited action."""

    at: datetime
    actor: str
    role: str
    action: str
    prescription_id: str | None
    outcome: str
    detail: dict[str, Any]


def record(conn: Connection, *, actor: str, role: str, action: str, prescription_id: str | None = None,
           outcome: str = "ok", detail: dict[str, Any] | None = None) -> None:
    """Append one entry on the caller's connection (inside its transaction when it has one)."""
    conn.execute(insert(audit_log).values(
        at=datetime.now(UTC), actor=actor, role=role, action=action, prescription_id=prescription_id,
        outcome=outcome, detail=json.dumps(detail or {}, default=str),
    ))


class AuditTrail:
    """Reads and writes the audit trail outside a unit of work (HTTP refusals, queries)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def record(self, **kwargs: Any) -> None:
        """Append one entry in its own transaction."""
        with self._engine.begin() as conn:
            record(conn, **kwargs)

    def query(self, *, prescription_id: str | None = None, actor: str | None = None,
              limit: int = 500) -> list[AuditEntry]:
        """Entries, oldest first, filtered by prescription or actor."""
        query = select(audit_log).order_by(audit_log.c.id).limit(limit)
        if prescription_id:
            query = query.where(audit_log.c.prescription_id == prescription_id)
        if actor:
            query = query.where(audit_log.c.actor == actor)
        with self._engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [AuditEntry(r["at"], r["actor"], r["role"], r["action"], r["prescription_id"], r["outcome"],
                           json.loads(r["detail"] or "{}")) for r in rows]
