"""Retention: what carries patient details, or only guards against redelivery, is kept for a period, then purged.

Raw inbound messages are kept for replay and investigation, and the outbox bodies (payer requests carry
demographics) for a resend or an investigation; both lose their bodies after the period, their rows stay
(dedupe keys, answers, each order's message trail). Idempotency records, the records of refused messages and
the outcomes of staff commands are deleted after the same period (their audit entries stay).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Engine

from hub.persistence.audit import AuditTrail
from hub.persistence.command_outcomes import purge_outcomes
from hub.persistence.inbound import InboundStore
from hub.persistence.maintenance import forget_processed
from hub.persistence.outbox_store import OutboxStore
from hub.persistence.refused_messages import purge_refused


class Purged(BaseModel):
    """What one purge removed."""

    model_config = ConfigDict(frozen=True)

    raw_bodies: int
    outbox_bodies: int
    idempotency_records: int
    refused_messages: int
    command_outcomes: int


def purge_expired(engine: Engine, *, days: int, actor: str = "retention", now: datetime | None = None) -> Purged:
    """Purge everything older than ``days``; the purge itself is audited."""
    if days < 0:
        raise ValueError("retention days must not be negative")
    cutoff = (now or datetime.now(UTC)) - timedelta(days=days)
    purged = Purged(
        raw_bodies=InboundStore(engine).purge_raw(cutoff),
        outbox_bodies=OutboxStore(engine).purge_bodies(cutoff),
        idempotency_records=forget_processed(engine, cutoff),
        refused_messages=purge_refused(engine, cutoff),
        command_outcomes=purge_outcomes(engine, cutoff),
    )
    AuditTrail(engine).record(
        actor=actor,
        role="admin",
        action="retention purge",
        detail={**purged.model_dump(), "before": cutoff.isoformat(), "days": days},
    )
    return purged
