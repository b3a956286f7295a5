"""Retention: raw inbound messages (patient details) are kept for replay and investigation, then purged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from hub.persistence.audit import AuditTrail
from hub.persistence.inbound import InboundStore


def purge_raw_messages(engine: Engine, *, days: int, actor: str = "retention", now: datetime | None = None) -> int:
    """Drop bodies received more than ``days`` ago; the purge itself is audited.  Returns how many."""
    if days < 0:
        raise ValueError("retention days must not be negative")
    cutoff = (now or datetime.now(UTC)) - timedelta(days=days)
    purged = InboundStore(engine).purge_raw(cutoff)
    AuditTrail(engine).record(actor=actor, role="admin", action="retention purge",
                              detail={"purged": purged, "received_before": cutoff.isoformat(), "days": days})
    return purged
