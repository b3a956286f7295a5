"""After a step: store the aggregate, queue its events, and start what each event sets in motion.

Everything here is written on the unit of work's connection, so the state change, its events, the next
commands and the stock movements commit together or not at all (the transactional outbox).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from hub.domain.actors import Actor
from hub.domain.catalogue import Catalogue
from hub.domain.compound import COMPOUND_PRODUCT_ID
from hub.domain.events import Event
from hub.domain.inventory import InventoryItem, check_reorder, consume, release, reserve
from hub.domain.order_parts import Source
from hub.domain.prescription import Prescription
from hub.domain.workflow_commands import FillPrescription, SendClaim
from hub.domain.workflow_events import (
    ClaimReversalRequired,
    ClaimReversed,
    ClaimStatusUnknown,
    ClaimSubmitted,
    FillCompleted,
    FillRejected,
    InventoryReleased,
    PrescriptionDispensed,
    PrescriptionVerified,
)
from hub.messaging.envelope import Envelope, derived_message_id
from hub.persistence.prescriptions import PrescriptionRow, store_aggregate
from hub.service.unit_of_work import UnitOfWork
from hub.service.workflow.context import now


def commit_step(
    uow: UnitOfWork,
    row: PrescriptionRow,
    rx: Prescription,
    events: Sequence[Event],
    *,
    envelope: Envelope,
    actor: Actor,
    catalogue: Catalogue,
    action: str,
) -> None:
    """Persist the aggregate (optimistic lock), audit the action, queue events and follow-ups."""
    store_aggregate(row, rx)
    uow.prescriptions.save(row)
    record_step(uow, row, rx, events, envelope=envelope, actor=actor, catalogue=catalogue, action=action)


def refuse_step(uow: UnitOfWork, rx: Prescription, actor: Actor, action: str, fill_number: int, reason: str) -> None:
    """The domain refused a staff action the API let through (the state moved meanwhile): audited with its real
    actor and reason, and the command's outcome says why."""
    uow.audit(
        actor=actor.user_id,
        role=actor.role.value,
        action=action,
        prescription_id=rx.prescription_id,
        outcome="refused",
        detail={"fill_number": fill_number, "reason": reason},
    )
    uow.refuse(reason)


def record_step(
    uow: UnitOfWork,
    row: PrescriptionRow,
    rx: Prescription,
    events: Sequence[Event],
    *,
    envelope: Envelope,
    actor: Actor,
    catalogue: Catalogue,
    action: str,
) -> None:
    """The rest of ``commit_step`` for a row already written (a new prescription, inserted in its final state)."""
    uow.audit(
        actor=actor.user_id,
        role=actor.role.value,
        action=action,
        prescription_id=row.id,
        detail={"state": row.state, "message_id": str(envelope.message_id)},
    )
    publish_events(uow, events, envelope=envelope, catalogue=catalogue, rx=rx)


def state_change(event: Event) -> str | None:
    """The claim attempt a reversal or a timeout is about: the one state change its event stands for, whichever
    message (payer answer, its duplicate, a sweeper pass) brought it about; None for events named by their cause."""
    if isinstance(event, ClaimReversed | ClaimStatusUnknown):
        return f"claim|{event.prescription_id}|{event.fill_number}|{event.attempt}"
    return None


def publish_events(
    uow: UnitOfWork,
    events: Sequence[Event],
    *,
    envelope: Envelope,
    catalogue: Catalogue,
    rx: Prescription | None = None,
) -> None:
    """Queue each event and what it starts: claims to send, fills to make, stock to move."""
    patient_id = rx.patient_id if rx is not None else None
    for event in events:
        uow.add_event(event, correlation_id=envelope.correlation_id, patient_id=patient_id, change=state_change(event))
        for follow_up in _follow_ups(uow, event, catalogue, rx):
            uow.add_event(follow_up, correlation_id=envelope.correlation_id, patient_id=patient_id)
        command = _next_command(event)
        if command is not None:
            uow.add_command(
                Envelope.wrap(
                    command,
                    correlation_id=envelope.correlation_id,
                    source=Source.HUB,
                    message_id=derived_message_id("follow-up", envelope.message_id, event.name, command.name),
                    causation_id=envelope.message_id,
                )
            )


def _next_command(event: Event) -> SendClaim | FillPrescription | None:
    if isinstance(event, ClaimSubmitted):
        return SendClaim(
            prescription_id=event.prescription_id,
            fill_number=event.fill_number,
            attempt=event.attempt,
            transaction=event.transaction,
        )
    if isinstance(event, ClaimReversalRequired):
        return SendClaim(
            prescription_id=event.prescription_id,
            fill_number=event.fill_number,
            attempt=event.attempt,
            transaction="B2",
        )
    if isinstance(event, PrescriptionVerified | FillRejected):
        # a product-check reject sends the fill back to be picked again from the shelf (its picks are released
        # in the same step); with none in date it waits in the fill queue, and a delivery retries it
        return FillPrescription(prescription_id=event.prescription_id, fill_number=event.fill_number)
    return None


def shelf(uow: UnitOfWork, ndc: str) -> list[InventoryItem]:
    """The lots of an NDC, locked for this transaction; read once per transaction, then as last changed."""
    if ndc not in uow.shelves:
        uow.shelves[ndc] = uow.stock.lots(ndc, for_update=True)
    return list(uow.shelves[ndc])


def receive_stock(uow: UnitOfWork, ndc: str, lot: str, expiry: date, quantity: Decimal) -> None:
    """A delivery, and the NDC's shelf read again at its next use in this transaction: a fill after it would
    otherwise write back the counts read before it (absolute counts) and not see a new lot."""
    uow.stock.receive(ndc, lot, expiry, quantity)
    uow.shelves.pop(ndc, None)


def _follow_ups(uow: UnitOfWork, event: Event, catalogue: Catalogue, rx: Prescription | None) -> list[Event]:
    """Stock movements the event stands for; returns ``inventory.low`` when one crosses a reorder point."""
    if isinstance(event, FillCompleted):
        move = reserve
    elif isinstance(event, InventoryReleased):
        move = release
    elif isinstance(event, PrescriptionDispensed):
        move = consume
    else:
        return []
    if event.ndc == COMPOUND_PRODUCT_ID:  # made to order: no shelf of its own (hub.domain.compound_product)
        return []
    before = shelf(uow, event.ndc)
    after = move(before, event.ndc, event.picks)
    uow.stock.save(after, before=before)
    uow.shelves[event.ndc] = after
    product = catalogue.by_ndc(event.ndc)
    if product is None or rx is None:
        return []
    low = check_reorder(after, event.ndc, product.reorder_point, now().date(), prescription_id=event.prescription_id)
    return [low] if low else []
