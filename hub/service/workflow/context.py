"""What the workflow handlers read besides the command: reference data, the payer codec, the pharmacy."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from hub.domain.actors import Actor, Role, system_actor
from hub.domain.catalogue import Catalogue
from hub.domain.dur import InteractionTable
from hub.domain.label import PharmacyInfo
from hub.domain.order_parts import CoverageInfo, Source
from hub.domain.payer_sheet import PayerSheets
from hub.errors import NotAuthorized
from hub.messaging.envelope import Envelope
from hub.messaging.topology import Topology
from hub.service.ports import ClaimCodec
from hub.service.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class WorkflowContext:
    """Built once per worker process by the composition root."""

    catalogue: Catalogue
    interactions: InteractionTable
    pharmacy: PharmacyInfo
    pharmacy_npi: str
    topology: Topology
    claim_codec: ClaimCodec | None = None
    #: the plan billed when neither the order nor the patient's profile names one (a house plan)
    default_coverage: CoverageInfo | None = None
    #: per BIN/PCN required claim fields, cost basis and dispensing fee (checked before a claim is sent)
    payer_sheets: PayerSheets = field(default_factory=PayerSheets)
    #: transient payer rejects (92, 99, 85) retried this many times before a technician sees them
    max_transient_resends: int = 3
    #: a status-unknown claim's unanswered reversal is retried after this, doubling up to the cap (ms)
    reversal_retry_base_ms: int = 500
    reversal_retry_cap_ms: int = 60000
    #: ask the prescriber to renew when the last refill is handed over, not only when a refill is refused
    renewal_at_last_refill: bool = False
    #: every compound claim carries 420-DK 08 (pay the covered ingredients only)
    compound_approved_ingredients_only: bool = False
    #: days a paid fill may wait in will-call when its payer sheet names no window
    return_to_stock_days: float = 14.0


def now() -> datetime:
    """The workflow's clock."""
    return datetime.now(UTC)


def actor_of(uow: UnitOfWork, envelope: Envelope) -> Actor:
    """The user behind a command, with the role and licence on record, or the role of a break-glass grant in
    force (never trusted from the message)."""
    if not envelope.actor:
        if envelope.principal and envelope.source is not Source.HUB:
            # a door's command: the feed its door authenticated, never the sender the message names
            return Actor(user_id=envelope.principal, role=Role.FEED, name=envelope.principal)
        return system_actor(envelope.source.value)
    key = ("user", envelope.actor)
    known: Actor | None = uow.memo.get(key)
    if known is not None:  # read by another command of this transaction (a pharmacist's batch of approvals)
        return known
    actor = uow.actors.on_record(envelope.actor, now())
    if actor is None:
        raise NotAuthorized(f"user {envelope.actor} is unknown or revoked")
    uow.memo[key] = actor
    return actor
