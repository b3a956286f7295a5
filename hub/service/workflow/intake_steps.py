"""Intake worker: new orders, cancels, product selection and refill requests."""

from __future__ import annotations

import logging
import uuid

from hub.domain.catalogue import Product
from hub.domain.commands import CancelPrescription, ReceivePrescription, RecordRenewalResponse
from hub.domain.days_supply import estimate_days_supply
from hub.domain.events import (
    Event,
    OrderRefused,
    PrescriptionReceived,
    PrescriptionUpdated,
    RefillDeclined,
)
from hub.domain.intake import IntakeContext
from hub.domain.order_parts import Source
from hub.domain.prescription import Prescription
from hub.domain.renewals import REFILL_REFUSED, renewal_needed_on_refill, renewal_request
from hub.domain.validity import RefillRefused
from hub.domain.workflow_commands import CancelByPharmacy, RequestRefill, SelectProduct
from hub.errors import MessageContentError, NotFound, TransientError
from hub.messaging.envelope import Envelope, derived_message_id
from hub.persistence.parties import PatientMatch
from hub.persistence.prescriptions import PrescriptionRow, load_aggregate, new_row
from hub.service.identity import match_order_patient
from hub.service.unit_of_work import UnitOfWork
from hub.service.workflow.context import WorkflowContext, actor_of, now
from hub.service.workflow.effects import commit_step, publish_events, record_step

log = logging.getLogger(__name__)


def intake_context(
    uow: UnitOfWork, ctx: WorkflowContext, rx: Prescription, *, patient: PatientMatch | None = None
) -> IntakeContext:
    """Reference data plus the patient's other medications and insurance on file.

    ``patient``: the profile intake just matched, with its coverage (read with it); a patient created by
    this order has no other prescriptions to read.
    """
    today = now().date()
    profile = []
    if patient is None or not patient.new:
        for document in uow.prescriptions.profile_documents(rx.patient_id, today, besides=rx.prescription_id):
            entry = Prescription.profile_entry_of(document, today)
            if entry is not None:
                profile.append(entry)
    plans = () if patient is not None and patient.new else uow.parties.plans_on_file(rx.patient_id)
    if plans:  # the plans on file, in billing order (secondary after primary)
        return IntakeContext(
            ctx.catalogue, ctx.interactions, profile=tuple(profile), coverage=plans[0], other_coverages=plans[1:]
        )
    on_file = patient.coverage if patient is not None else uow.parties.coverage(rx.patient_id)
    coverage = on_file or rx.coverage or ctx.default_coverage
    return IntakeContext(ctx.catalogue, ctx.interactions, profile=tuple(profile), coverage=coverage)


def fill_in_days_supply(rx: Prescription, product: Product | None) -> None:
    """Work out days supply from quantity and directions when the order did not say (HL7 never does)."""
    fill = rx.current_fill
    if fill.days_supply is not None:
        return
    estimate = estimate_days_supply(
        fill.quantity, rx.quantity.unit if rx.quantity else None, rx.sig, product.strength if product else None
    )
    if estimate is not None:
        fill.days_supply = estimate
        if rx.days_supply is None:
            rx.days_supply = estimate


#: the doors whose orders belong to the principal that sent them (staff orders belong to nobody: staff see all)
_OWNED_SOURCES = frozenset({Source.HL7, Source.FHIR, Source.SCRIPT})


def order_owner(envelope: Envelope) -> str | None:
    """The principal a new order belongs to: the one its door authenticated."""
    return envelope.principal if envelope.source in _OWNED_SOURCES else None


def refuse_duplicate(
    uow: UnitOfWork, ctx: WorkflowContext, envelope: Envelope, command: ReceivePrescription, holder: PrescriptionRow
) -> None:
    """Refuse a second order under a held placer number: recorded for staff, announced for its sender."""
    actor = actor_of(uow, envelope)
    refusal_id = str(derived_message_id("refused-order", envelope.message_id))
    events = load_aggregate(holder).refuse_duplicate_order(
        command, refusal_id=refusal_id, source=envelope.source, owner=order_owner(envelope)
    )
    uow.audit(
        actor=actor.user_id,
        role=actor.role.value,
        action="duplicate-order",
        prescription_id=holder.id,
        outcome="refused",
        detail={"refusal_id": refusal_id},
    )
    for event in events:
        if isinstance(event, OrderRefused):
            uow.refused_orders.add(event, correlation_id=str(envelope.correlation_id), refused_at=now())
    publish_events(uow, events, envelope=envelope, catalogue=ctx.catalogue)


def load(uow: UnitOfWork, prescription_id: str) -> tuple[PrescriptionRow, Prescription]:
    """A stored prescription and its aggregate, or NotFound."""
    row = uow.prescriptions.get(prescription_id)
    if row is None:
        raise NotFound(f"no prescription {prescription_id}")
    return row, load_aggregate(row)


def receive(command: ReceivePrescription, envelope: Envelope, uow: UnitOfWork, ctx: WorkflowContext) -> None:
    """A new order: match its patient and prescriber, run intake, store it once in its final state."""
    repo = uow.prescriptions
    actor = actor_of(uow, envelope)
    existing = repo.by_correlation(str(envelope.correlation_id))
    if existing is not None:
        # a new message re-using a placer number we already hold: not a resend (those are deduped by id)
        refuse_duplicate(uow, ctx, envelope, command, existing)
        return
    parties = uow.parties
    match = match_order_patient(uow, parties, command.patient, envelope, actor)
    prescriber = parties.prescriber_for(command.prescriber)
    patient = match.patient
    rx, events = Prescription.receive(
        prescription_id=str(uuid.uuid4()),
        rx_number=repo.next_rx_number(),
        command=command,
        source=envelope.source,
        patient=patient,
        prescriber=prescriber,
        actor=actor,
        now=now(),
        owner=order_owner(envelope),
    )
    if command.reply is not None:  # the sender's application ACK quotes its own message
        events = [
            e.model_copy(update={"reply": command.reply}) if isinstance(e, PrescriptionReceived) else e for e in events
        ]
    fill_in_days_supply(rx, ctx.catalogue.by_ndc(rx.drug.ndc) if rx.drug.ndc else None)
    events += rx.intake(actor, now(), intake_context(uow, ctx, rx, patient=match))
    # stored once, after intake: one INSERT of the final state rather than an INSERT and an UPDATE
    row = new_row(rx, str(envelope.correlation_id), envelope.source.value)
    repo.add(row, patient_id=patient.patient_id, raw_message_ref=command.raw_message_ref, owner=rx.owner)
    record_step(uow, row, rx, events, envelope=envelope, actor=actor, catalogue=ctx.catalogue, action="receive")
    uow.subject = rx.prescription_id
    if rx.source is Source.VERBAL:
        uow.audit(
            actor=actor.user_id,
            role=actor.role.value,
            action="verbal-order-taken",
            prescription_id=rx.prescription_id,
            detail={"taken_by": actor.name, "user_id": actor.user_id, "licence": rx.verbal_licence},
        )


def cancel(command: CancelPrescription, envelope: Envelope, uow: UnitOfWork, ctx: WorkflowContext) -> None:
    """The prescriber's cancel of an order (found by its correlation id; retried if it overtook the order)."""
    row = uow.prescriptions.by_correlation(str(envelope.correlation_id))
    if row is None:
        # the cancel overtook its order (another worker copy has it): retry shortly, never drop it
        raise TransientError(f"cancel for order {command.placer_order_number} arrived before the order")
    _cancel(
        uow,
        ctx,
        envelope,
        row,
        command.reason or f"cancelled by prescriber ({command.control})",
        command.control.upper(),
    )


def cancel_by_pharmacy(command: CancelByPharmacy, envelope: Envelope, uow: UnitOfWork, ctx: WorkflowContext) -> None:
    """Staff close a prescription."""
    row, _ = load(uow, command.prescription_id)
    _cancel(uow, ctx, envelope, row, command.reason)


def _cancel(
    uow: UnitOfWork,
    ctx: WorkflowContext,
    envelope: Envelope,
    row: PrescriptionRow,
    reason: str,
    requested: str | None = None,
) -> None:
    rx, actor = load_aggregate(row), actor_of(uow, envelope)
    if rx.closed_reason is not None:
        log.info("cancel ignored: prescription already closed", extra={"correlation_id": row.correlation_id})
        uow.refuse(f"Rx {rx.rx_number} is already closed ({rx.closed_reason})")
        return
    events = rx.cancel(actor, now(), reason, requested)
    commit_step(uow, row, rx, events, envelope=envelope, actor=actor, catalogue=ctx.catalogue, action="cancel")


def select_product(command: SelectProduct, envelope: Envelope, uow: UnitOfWork, ctx: WorkflowContext) -> None:
    """A technician picks the catalogue product for an order that named none the hub could match."""
    row, rx = load(uow, command.prescription_id)
    product = ctx.catalogue.by_ndc(command.ndc)
    if product is None:
        raise MessageContentError(f"NDC {command.ndc} is not in the drug catalogue")
    actor = actor_of(uow, envelope)
    fill_in_days_supply(rx, product)
    events = rx.select_product(actor, now(), product, intake_context(uow, ctx, rx))
    events.append(
        PrescriptionUpdated(
            prescription_id=rx.prescription_id,
            rx_number=rx.rx_number,
            state=rx.state.value,
            change=f"product selected: {product.ndc11}",
        )
    )
    commit_step(uow, row, rx, events, envelope=envelope, actor=actor, catalogue=ctx.catalogue, action="select-product")


def request_refill(command: RequestRefill, envelope: Envelope, uow: UnitOfWork, ctx: WorkflowContext) -> None:
    """The next fill of a prescription, or a refusal (and a renewal request) when none may be given."""
    row, rx = load(uow, command.prescription_id)
    actor = actor_of(uow, envelope)
    try:
        rx.request_refill(actor, now())
    except RefillRefused as refused:
        declined: list[Event] = [
            RefillDeclined(prescription_id=rx.prescription_id, rx_number=rx.rx_number, reason=refused.reason)
        ]
        if renewal_needed_on_refill(rx):
            declined.append(renewal_request(rx, REFILL_REFUSED))
        uow.audit(
            actor=actor.user_id,
            role=actor.role.value,
            action="refill",
            prescription_id=rx.prescription_id,
            outcome="refused",
            detail={"reason": refused.reason},
        )
        uow.refuse(f"refill of Rx {rx.rx_number} refused: {refused.reason}")
        publish_events(uow, declined, envelope=envelope, catalogue=ctx.catalogue)
        return
    events = rx.intake(actor, now(), intake_context(uow, ctx, rx))
    commit_step(uow, row, rx, events, envelope=envelope, actor=actor, catalogue=ctx.catalogue, action="refill")


def renewal_response(command: RecordRenewalResponse, envelope: Envelope, uow: UnitOfWork, ctx: WorkflowContext) -> None:
    """The prescriber's answer to a renewal request, applied only to their own orders."""
    row = uow.prescriptions.by_rx_number(command.rx_number) if command.rx_number else None
    actor = actor_of(uow, envelope)
    if row is not None and load_aggregate(row).owner not in (None, order_owner(envelope)):
        # another sender's prescription: treated as unknown, never renewed by someone who did not order it
        uow.audit(
            actor=actor.user_id,
            role=actor.role.value,
            action="renewal-response",
            prescription_id=row.id,
            outcome="refused",
            detail={"reason": "not this sender's order"},
        )
        return
    uow.audit(
        actor=actor.user_id,
        role=actor.role.value,
        action="renewal-response",
        prescription_id=row.id if row else None,
        detail={"decision": command.decision},
    )
    if row is not None:
        rx = load_aggregate(row)
        renewed = rx.apply_renewal(command.decision, command.refills_approved, now())
        change = f"renewal {command.decision}" + (f": {rx.refills_remaining} refill(s) now" if renewed else "")
        commit_step(
            uow,
            row,
            rx,
            [
                PrescriptionUpdated(
                    prescription_id=rx.prescription_id,
                    rx_number=rx.rx_number,
                    state=rx.state.value,
                    change=change,
                )
            ],
            envelope=envelope,
            actor=actor,
            catalogue=ctx.catalogue,
            action="renewal",
        )
