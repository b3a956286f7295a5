"""Claim-responses worker: apply the payer's answers and the payer timeout's checks.

Status unknown (no answer within the payer timeout) is resolved the way pharmacies do: reverse first, and
only when the reversal is answered resubmit once, so a claim the payer did process is never paid twice.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from hub.domain.actors import system_actor
from hub.domain.claim import ClaimStatus
from hub.domain.claim_codes import (
    NO_ANSWER_CODE,
    NOT_DELIVERED_CODE,
    NOTHING_TO_REVERSE_CODE,
    TRANSIENT_REJECT_CODES,
)
from hub.domain.commands import RecordClaimResponse
from hub.domain.coordination import first_claim_to_its_payer
from hub.domain.eligibility import ELIGIBILITY
from hub.domain.events import Event
from hub.domain.order_parts import Source
from hub.domain.prescription import Prescription
from hub.domain.workflow_commands import CheckClaimTimeout, SendClaim
from hub.messaging.envelope import Envelope, derived_message_id
from hub.observability.metrics import REVERSAL_RETRIES
from hub.persistence.prescriptions import PrescriptionRow
from hub.service.unit_of_work import UnitOfWork
from hub.service.workflow.claim_steps import PAID, REVERSED
from hub.service.workflow.context import WorkflowContext, now
from hub.service.workflow.effects import commit_step
from hub.service.workflow.intake_steps import load
from hub.service.workflow.late_answers import apply_late_answer

log = logging.getLogger(__name__)

#: what the technician's exception queue says while the reversal of an unanswered claim is still owed
REVERSAL_PENDING = "reversal pending: no answer from the payer; reversing before resubmitting"


def record_response(command: RecordClaimResponse, envelope: Envelope, uow: UnitOfWork, ctx: WorkflowContext) -> None:
    """Apply the payer's answer to the claim transaction waiting for it (a late one is only noted)."""
    ledger = uow.claims
    sent = ledger.answer(command.exchange_id, command.status, command.reject_codes)
    if command.transaction == ELIGIBILITY:  # the ledger row is the check's answer; no fill to move
        if sent is None:  # a late answer still tells the technician what the plan said
            ledger.answered(command.exchange_id, command.status, command.reject_codes)
        return
    if sent is None:  # answered already or timed out: noted, and a late approved reversal is applied
        apply_late_answer(ctx, uow, envelope, command)
        return
    if _reversal_unsettled(command, sent.purpose):
        # a reversal is safe to repeat (a second one is answered S or 87), and until one is answered the
        # payer may still hold the unanswered claim paid: send it again, however long the switch is down,
        # rather than leave the fill in doubt (the claim sweeper sends it when due: hub.service.workflow.claim_sweeper)
        _retry_reversal(uow, ctx, command, sent.resends)
        return
    row, rx = load(uow, command.prescription_id)
    if command.transaction == "B2":
        _reversal_answered(uow, ctx, envelope, row, rx, command, sent.purpose)
        return
    fill = rx.fill(command.fill_number)
    claim = fill.claim
    if claim is None or claim.status is not ClaimStatus.SUBMITTED or claim.attempt != command.attempt:
        log.warning("payer answer for a superseded claim attempt %s ignored", command.exchange_id)
        return
    actor = system_actor("payer")
    transient = set(command.reject_codes) & TRANSIENT_REJECT_CODES
    if command.status == "R" and transient and sent.resends < ctx.max_transient_resends:
        _resend_later(uow, ctx, envelope, command, sent.resends + 1)
        return
    if command.status in PAID:
        events = rx.claim_paid(
            actor,
            now(),
            total_paid=command.total_paid,
            patient_pay=command.patient_pay,
            authorization_number=command.authorization_number,
            fill_number=command.fill_number,
            payer_dur=command.payer_dur,
            payer_message=command.payer_message,
        )
    elif command.status == "timeout":
        events = _status_unknown(uow, envelope, rx, command)
    else:
        events = rx.claim_rejected(
            actor,
            now(),
            reject_codes=list(command.reject_codes) or ["R"],
            payer_message=command.payer_message,
            fill_number=command.fill_number,
        )
    commit_step(
        uow,
        row,
        rx,
        events,
        envelope=envelope,
        actor=actor,
        catalogue=ctx.catalogue,
        action=f"claim-{command.status}",
    )


def check_timeout(command: CheckClaimTimeout, envelope: Envelope, uow: UnitOfWork, ctx: WorkflowContext) -> None:
    """A claim unanswered after the payer timeout: undelivered ones are resent, others treated as status unknown."""
    ledger = uow.claims
    sent = ledger.get(command.exchange_id)
    if sent is None or sent.answered:
        return
    transaction = command.exchange_id.rsplit(":", 1)[-1]
    if ledger.never_left(command.exchange_id):
        # the broker refused it (no payer connector bound for the BIN): certainly not at the payer, so
        # no reversal is needed; resend later like a transient reject, then hand it to a person
        _undelivered(uow, ctx, envelope, command, transaction, sent.resends)
        return
    record_response(
        RecordClaimResponse(
            exchange_id=command.exchange_id,
            prescription_id=command.prescription_id,
            fill_number=command.fill_number,
            attempt=command.attempt,
            transaction=transaction,
            status="timeout",
            payer_message="the payer did not answer in time",
        ),
        envelope,
        uow,
        ctx,
    )


def _status_unknown(uow: UnitOfWork, envelope: Envelope, rx: Prescription, command: RecordClaimResponse) -> list[Event]:
    """Reject into the exception queue for now and send a reversal; its answer decides what's next."""
    log.warning("claim %s unanswered: reversing before any resubmission", command.exchange_id)
    events = rx.claim_status_unknown(
        system_actor("payer"),
        now(),
        code=NO_ANSWER_CODE,
        payer_message=REVERSAL_PENDING,
        fill_number=command.fill_number,
    )
    _queue(
        uow,
        envelope,
        [
            SendClaim(
                prescription_id=rx.prescription_id,
                fill_number=command.fill_number,
                attempt=command.attempt,
                transaction="B2",
            )
        ],
    )
    return events


def _reversal_answered(
    uow: UnitOfWork,
    ctx: WorkflowContext,
    envelope: Envelope,
    row: PrescriptionRow,
    rx: Prescription,
    command: RecordClaimResponse,
    purpose: str,
) -> None:
    fill = rx.fill(command.fill_number)
    actor = system_actor("payer")
    events: list[Event] = []
    reversing = fill.claim_of(command.attempt) or fill.claim
    if (
        purpose == "reversal"
        and command.status in REVERSED
        and reversing is not None
        and reversing.status is ClaimStatus.REVERSAL_REQUIRED
    ):
        events = rx.claim_reversed(
            actor,
            now(),
            fill_number=fill.fill_number,
            authorization_number=command.authorization_number,
            attempt=reversing.attempt,
        )
    elif (
        purpose == "unknown-status"
        and _safe_to_resubmit(command)
        and fill.claim is not None
        and fill.claim.status is ClaimStatus.REJECTED
        and fill.claim.reject_codes == [NO_ANSWER_CODE]
    ):
        if command.status in REVERSED:  # the payer had paid the claim it did not answer: say it is undone
            events = rx.unknown_claim_reversed(
                actor, now(), fill_number=fill.fill_number, authorization_number=command.authorization_number
            )
        if first_claim_to_its_payer(fill):  # resubmit once, to the same payer with the same AM05
            events += rx.resubmit_claim(actor, now())
    uow.audit(
        actor=actor.user_id,
        role=actor.role.value,
        action=f"reversal-{command.status}",
        prescription_id=rx.prescription_id,
        detail={"purpose": purpose},
    )
    commit_step(
        uow,
        row,
        rx,
        events,
        envelope=envelope,
        actor=actor,
        catalogue=ctx.catalogue,
        action=f"reversal-{command.status}",
    )


def _undelivered(
    uow: UnitOfWork,
    ctx: WorkflowContext,
    envelope: Envelope,
    command: CheckClaimTimeout,
    transaction: str,
    resends: int,
) -> None:
    if resends < ctx.max_transient_resends:
        _resend_later(
            uow,
            ctx,
            envelope,
            RecordClaimResponse(
                exchange_id=command.exchange_id,
                prescription_id=command.prescription_id,
                fill_number=command.fill_number,
                attempt=command.attempt,
                transaction=transaction,
                status="R",
            ),
            resends + 1,
        )
        return
    uow.claims.answered(command.exchange_id, "undelivered")
    row, rx = load(uow, command.prescription_id)
    if transaction != "B1":
        return
    actor = system_actor("payer")
    events = rx.claim_rejected(
        actor,
        now(),
        reject_codes=[NOT_DELIVERED_CODE],
        payer_message="no payer connection for this BIN; claim never sent",
        fill_number=command.fill_number,
    )
    commit_step(
        uow, row, rx, events, envelope=envelope, actor=actor, catalogue=ctx.catalogue, action="claim-undelivered"
    )


def _resend_later(
    uow: UnitOfWork, ctx: WorkflowContext, envelope: Envelope, command: RecordClaimResponse, resend: int
) -> None:
    log.info("transient payer reject %s; resending (%d)", ",".join(command.reject_codes), resend)
    again = SendClaim(
        prescription_id=command.prescription_id,
        fill_number=command.fill_number,
        attempt=command.attempt,
        transaction=command.transaction,
        resend=resend,
    )
    env = Envelope.wrap(
        again,
        correlation_id=envelope.correlation_id,
        source=Source.HUB,
        message_id=derived_message_id("resend", command.exchange_id, resend),
        causation_id=envelope.message_id,
    )
    uow.add_raw(
        row_id=str(env.message_id),
        target="delay",
        routing_key=ctx.topology.claim_resend_queue,
        message_type=env.type,
        content_type="application/json",
        correlation_id=str(envelope.correlation_id),
        body=env.to_bytes(),
    )


def reversal_retry_delay(ctx: WorkflowContext, resends: int) -> timedelta:
    """Bounded exponential backoff: the base after the first try, doubling with each resend, up to the cap."""
    delay_ms = min(ctx.reversal_retry_cap_ms, ctx.reversal_retry_base_ms * 2 ** min(resends, 32))
    return timedelta(milliseconds=delay_ms)


def _retry_reversal(uow: UnitOfWork, ctx: WorkflowContext, command: RecordClaimResponse, resends: int) -> None:
    """Keep the unsettled reversal owed in the ledger (``retry_at``): the claim sweeper sends it again when due."""
    delay = reversal_retry_delay(ctx, resends)
    uow.claims.retry_at(command.exchange_id, now() + delay)
    REVERSAL_RETRIES.labels("scheduled").inc()
    log.warning(
        "reversal %s of an unanswered claim %s (%s): sending it again in %.1f s (try %d)",
        command.exchange_id,
        "unanswered" if command.status == "timeout" else "met " + ",".join(command.reject_codes),
        command.status,
        delay.total_seconds(),
        resends + 2,
    )


def _reversal_unsettled(command: RecordClaimResponse, purpose: str) -> bool:
    """A status-unknown claim's reversal that went unanswered or met switch or payer trouble (92, 99, 85)."""
    trouble = command.status == "timeout" or bool(set(command.reject_codes) & TRANSIENT_REJECT_CODES)
    return command.transaction == "B2" and purpose == "unknown-status" and trouble


def _safe_to_resubmit(reversal: RecordClaimResponse) -> bool:
    """Only once the payer has said the unanswered claim is not (or no longer) paid.

    Reversed (A/S), or rejected as "nothing to reverse" (87): then a new billing cannot double-pay. Any other
    answer, or none, leaves the claim in the exception queue for a person to call the payer's help desk.
    """
    return reversal.status in REVERSED or (reversal.status == "R" and NOTHING_TO_REVERSE_CODE in reversal.reject_codes)


def _queue(uow: UnitOfWork, envelope: Envelope, commands: list[SendClaim]) -> None:
    for i, command in enumerate(commands):
        uow.add_command(
            Envelope.wrap(
                command,
                correlation_id=envelope.correlation_id,
                source=Source.HUB,
                message_id=derived_message_id("claim-follow-up", envelope.message_id, i),
                causation_id=envelope.message_id,
            )
        )
