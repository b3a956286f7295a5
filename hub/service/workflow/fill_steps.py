"""Fill worker: pick and label, hand out, return to stock, and receive deliveries."""

from __future__ import annotations

import logging

from hub.domain.inventory import ExpiredLot, allocate, check_receivable
from hub.domain.order_parts import Source
from hub.domain.partial_fill import ShortStockChoice
from hub.domain.prescription import OutOfStock
from hub.domain.renewals import LAST_REFILL_DISPENSED, renewal_needed_after_dispense, renewal_request
from hub.domain.return_window import check_sale, window_days
from hub.domain.states import RxState
from hub.domain.workflow_commands import (
    DecideShortStock,
    DispensePrescription,
    FillPrescription,
    ReceiveInventory,
    ReturnToStock,
)
from hub.messaging.envelope import Envelope, derived_message_id
from hub.persistence.prescriptions import load_aggregate
from hub.service.unit_of_work import UnitOfWork
from hub.service.workflow.context import WorkflowContext, actor_of, now
from hub.service.workflow.effects import commit_step, receive_stock, shelf
from hub.service.workflow.intake_steps import load

log = logging.getLogger(__name__)


def fill(command: FillPrescription, envelope: Envelope, uow: UnitOfWork, ctx: WorkflowContext) -> None:
    """Pick the fill from the shelf (FEFO) and label it; short stock waits for a person's choice."""
    row, rx = load(uow, command.prescription_id)
    current = rx.current_fill
    if current.fill_number != command.fill_number or current.state is not RxState.FILLING:
        log.info("fill request for a fill no longer waiting to be filled ignored")
        return
    product = rx.product
    assert product is not None
    quantity = current.quantity or (rx.quantity.value if rx.quantity else None)
    if quantity is None:
        log.warning("Rx %s has no quantity to fill; left in the fill queue", rx.rx_number)
        return
    allocation = allocate(shelf(uow, product.ndc11), product.ndc11, quantity, now().date())
    actor = actor_of(uow, envelope)
    if rx.awaits_choice(allocation):
        # never partial-filled silently: the fill waits in the fill queue with the choice (partial or wait)
        commit_step(
            uow,
            row,
            rx,
            rx.note_short_stock(now(), allocation),
            envelope=envelope,
            actor=actor,
            catalogue=ctx.catalogue,
            action="fill-short-stock",
        )
        return
    try:
        events = rx.complete_fill(actor, now(), allocation, ctx.pharmacy)
    except OutOfStock:
        # waits in the technician's fill queue; receiving stock of this NDC tries again
        uow.audit(
            actor=actor.user_id,
            role=actor.role.value,
            action="fill",
            prescription_id=rx.prescription_id,
            outcome="out-of-stock",
            detail={"ndc": product.ndc11},
        )
        return
    commit_step(uow, row, rx, events, envelope=envelope, actor=actor, catalogue=ctx.catalogue, action="fill")


def dispense(command: DispensePrescription, envelope: Envelope, uow: UnitOfWork, ctx: WorkflowContext) -> None:
    """Hand the fill over (within its plan's return window), asking for a renewal at the last refill."""
    row, rx = load(uow, command.prescription_id)
    actor = actor_of(uow, envelope)
    fill = rx.current_fill
    check_sale(fill, now(), window_days(fill, ctx.payer_sheets, ctx.return_to_stock_days))
    events = rx.dispense(actor, now())
    if ctx.renewal_at_last_refill and renewal_needed_after_dispense(rx):
        events.append(renewal_request(rx, LAST_REFILL_DISPENSED))
    commit_step(uow, row, rx, events, envelope=envelope, actor=actor, catalogue=ctx.catalogue, action="dispense")


def return_to_stock(command: ReturnToStock, envelope: Envelope, uow: UnitOfWork, ctx: WorkflowContext) -> None:
    """Put a fill left in will-call back on the shelf (a sweep names the fill it means)."""
    row, rx = load(uow, command.prescription_id)
    if command.fill_number is not None and (
        rx.current_fill.fill_number != command.fill_number or rx.current_fill.state is not RxState.READY
    ):
        log.info("return to stock of a fill no longer in will-call ignored")
        return
    actor = actor_of(uow, envelope)
    commit_step(
        uow,
        row,
        rx,
        rx.return_to_stock(actor, now(), command.reason),
        envelope=envelope,
        actor=actor,
        catalogue=ctx.catalogue,
        action="return-to-stock",
    )


def decide_short_stock(command: DecideShortStock, envelope: Envelope, uow: UnitOfWork, ctx: WorkflowContext) -> None:
    """Partial fill now, or wait for stock: the choice a short shelf left to a person."""
    row, rx = load(uow, command.prescription_id)
    if rx.current_fill.fill_number != command.fill_number:
        log.info("short-stock decision for a fill no longer current ignored")
        return
    actor = actor_of(uow, envelope)
    events = rx.decide_short_stock(
        actor, now(), command.choice, command.reason, command.requested_by, command.designation
    )
    commit_step(
        uow, row, rx, events, envelope=envelope, actor=actor, catalogue=ctx.catalogue, action="short-stock-decision"
    )
    # a part billed again (B3) is picked once the pharmacist has seen the payer's answer, not now
    if command.choice is ShortStockChoice.PARTIAL and rx.state is RxState.FILLING:
        retry = FillPrescription(prescription_id=rx.prescription_id, fill_number=command.fill_number)
        uow.add_command(
            Envelope.wrap(
                retry,
                correlation_id=row.correlation_id,  # type: ignore[arg-type]
                source=Source.HUB,
                message_id=derived_message_id("partial-fill", envelope.message_id),
                causation_id=envelope.message_id,
            )
        )


def receive_inventory(command: ReceiveInventory, envelope: Envelope, uow: UnitOfWork, ctx: WorkflowContext) -> None:
    """A delivery onto the shelf; fills waiting for its NDC are tried again."""
    actor = actor_of(uow, envelope)
    delivery = {"ndc": command.ndc, "lot": command.lot, "quantity": str(command.quantity)}
    try:
        check_receivable(command.lot, command.expiry, now().date())
    except ExpiredLot as expired:
        uow.audit(
            actor=actor.user_id,
            role=actor.role.value,
            action="receive-inventory",
            outcome="refused",
            detail={**delivery, "expiry": command.expiry.isoformat(), "reason": str(expired)},
        )
        uow.refuse(str(expired))
        return
    receive_stock(uow, command.ndc, command.lot, command.expiry, command.quantity)
    uow.audit(actor=actor.user_id, role=actor.role.value, action="receive-inventory", detail=delivery)
    for waiting in uow.prescriptions.in_states([RxState.FILLING.value], limit=500):
        rx = load_aggregate(waiting)
        if rx.product is not None and rx.product.ndc11 == command.ndc:
            retry = FillPrescription(prescription_id=rx.prescription_id, fill_number=rx.current_fill.fill_number)
            uow.add_command(
                Envelope.wrap(
                    retry,
                    correlation_id=waiting.correlation_id,  # type: ignore[arg-type]
                    source=Source.HUB,
                    message_id=derived_message_id("refill-after-stock", envelope.message_id, rx.prescription_id),
                    causation_id=envelope.message_id,
                )
            )
