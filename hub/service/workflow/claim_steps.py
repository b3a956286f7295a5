"""Claim worker: send claims and reversals, and resolve the exception queue (a technician's decision).

The payer's answers are applied by the claim-responses worker (``claim_responses``); the request a claim is
billed with is built in ``claim_requests``.
"""

from __future__ import annotations

import logging

from hub.domain.actors import system_actor
from hub.domain.claim import ClaimStatus
from hub.domain.claim_codes import NO_ANSWER_CODE
from hub.domain.claim_exchange import ClaimRequestData
from hub.domain.payer_sheet import SHEET_CODE, missing_fields
from hub.domain.prescription import Prescription
from hub.domain.workflow_commands import ResolveClaimRejection, SendClaim
from hub.errors import IllegalTransition, MessageContentError
from hub.messaging.envelope import Envelope, derived_message_id
from hub.messaging.headers import ORDER_CORRELATION_HEADER
from hub.observability.metrics import REVERSAL_RETRIES
from hub.service.unit_of_work import UnitOfWork
from hub.service.workflow.claim_requests import claim_request
from hub.service.workflow.context import WorkflowContext, actor_of, now
from hub.service.workflow.effects import commit_step
from hub.service.workflow.intake_steps import load

log = logging.getLogger(__name__)

PAID = {"P", "D", "C", "Q"}
REVERSED = {"A", "S"}
#: the claim ledger's purpose of a claim that bills: a B3 reverses the paid claim and bills it again (a
#: corrected claim, a partial fill of a fill paid whole), which the ledger and reconciliation keep apart
BILLING_PURPOSES = {"B1": "billing", "B3": "rebill"}


def exchange_id(prescription_id: str, fill_number: int, attempt: int, transaction: str) -> str:
    """Unique per claim transaction; the payer echoes it back as the AMQP correlation id."""
    return f"{prescription_id}:{fill_number}:{attempt}:{transaction}"


def send_claim(command: SendClaim, envelope: Envelope, uow: UnitOfWork, ctx: WorkflowContext) -> None:
    """Bill (B1) or reverse (B2) a fill's claim: recorded in the claim ledger, sent through the outbox."""
    if ctx.claim_codec is None:
        raise MessageContentError("no payer connection is configured (claim codec missing)")
    _, rx = load(uow, command.prescription_id)
    fill = rx.fill(command.fill_number)
    claim = fill.claim_of(command.attempt) if command.attempt else fill.claim
    if claim is None or claim.bin is None:
        log.info("no claim to send for fill %s", command.fill_number)
        if command.resend and command.attempt:  # a retry of a reversal no longer owed: the sweep forgets it
            uow.claims.retry_at(
                exchange_id(rx.prescription_id, fill.fill_number, command.attempt, command.transaction), None
            )
        return
    attempt = command.attempt or claim.attempt
    xid = exchange_id(rx.prescription_id, fill.fill_number, attempt, command.transaction)
    request = claim_request(uow, ctx, rx, command, attempt, xid)
    if command.transaction != "B2" and _sheet_refuses(uow, ctx, envelope, rx, request):
        return
    ledger = uow.claims
    if command.transaction in ("B1", "B3"):
        purpose = BILLING_PURPOSES[command.transaction]
    else:  # a resent reversal keeps the purpose it was first sent for
        known = ledger.get(xid)
        purpose = (
            known.purpose
            if known
            else ("reversal" if claim.status is ClaimStatus.REVERSAL_REQUIRED else "unknown-status")
        )
        if purpose == "unknown-status" and command.resend and _superseded(rx, command):
            # a newer transmission of the fill is out (the technician resubmitted, or the reversal was answered):
            # this older attempt's reversal must not follow it to the payer
            ledger.retry_at(xid, None)
            REVERSAL_RETRIES.labels("fenced").inc()
            log.info("reversal %s no longer owed: a newer transmission of the fill is out", xid)
            return
        if purpose == "unknown-status" and command.resend:
            REVERSAL_RETRIES.labels("sent").inc()
    ledger.sent(
        exchange_id=xid,
        prescription_id=rx.prescription_id,
        fill_number=fill.fill_number,
        attempt=attempt,
        transaction=command.transaction,
        purpose=purpose,
        resends=command.resend,
    )
    encoded = ctx.claim_codec.encode(request)
    uow.add_raw(
        row_id=str(derived_message_id("payer", envelope.message_id)),
        target="payer",
        routing_key=encoded.routing_key,
        message_type=command.transaction,
        content_type=encoded.content_type,
        correlation_id=xid,
        body=encoded.body,
        headers={
            "reply_to": ctx.topology.payer_responses_queue,
            ORDER_CORRELATION_HEADER: str(envelope.correlation_id),
        },
    )
    # no timer of its own: the ledger row just written is the timer (hub.service.workflow.claim_sweeper)


def _superseded(rx: Prescription, command: SendClaim) -> bool:
    """True unless the fill still waits, rejected as unanswered, on the attempt this reversal undoes."""
    current = rx.fill(command.fill_number).claim
    return (
        current is None
        or current.attempt != command.attempt
        or current.status is not ClaimStatus.REJECTED
        or current.reject_codes != [NO_ANSWER_CODE]
    )


def _sheet_refuses(
    uow: UnitOfWork, ctx: WorkflowContext, envelope: Envelope, rx: Prescription, request: ClaimRequestData
) -> bool:
    """A claim its payer sheet (or the CII rule) finds incomplete is not sent: a technician completes it."""
    missing = missing_fields(request, ctx.payer_sheets.for_plan(request.bin, request.pcn))
    if not missing:
        return False
    row, _ = load(uow, rx.prescription_id)
    actor = system_actor("payer-sheet")
    text = f"not sent: the payer sheet for BIN {request.bin} needs {', '.join(missing)}"
    events = rx.claim_rejected(
        actor, now(), reject_codes=[SHEET_CODE], payer_message=text, fill_number=request.fill_number
    )
    commit_step(
        uow, row, rx, events, envelope=envelope, actor=actor, catalogue=ctx.catalogue, action="claim-incomplete"
    )
    return True


def resolve(command: ResolveClaimRejection, envelope: Envelope, uow: UnitOfWork, ctx: WorkflowContext) -> None:
    """A technician's way out of the exception queue: resubmit (corrected), bill cash, or cancel."""
    row, rx = load(uow, command.prescription_id)
    actor = actor_of(uow, envelope)
    if command.action == "resubmit":
        if command.days_supply is not None:
            rx.current_fill.days_supply = command.days_supply
        events = rx.resubmit_claim(
            actor,
            now(),
            prior_auth_number=command.prior_auth_number,
            dur_pps=command.dur_pps,
            clarification_codes=command.clarification_codes,
            coverage=command.coverage,
        )
    elif command.action == "cash":
        events = rx.bill_cash(actor, now(), command.cash_amount)
    elif command.action == "cancel":
        events = rx.cancel(actor, now(), command.reason or "claim rejected")
    else:
        raise IllegalTransition(rx.state.value, f"resolve a claim by {command.action!r}")
    if command.coverage is not None:  # who corrected which insurance fields (not their values)
        uow.audit(
            actor=actor.user_id,
            role=actor.role.value,
            action="claim-coverage-corrected",
            prescription_id=rx.prescription_id,
            detail={"corrected": sorted(command.coverage.model_dump(exclude_none=True))},
        )
    commit_step(
        uow,
        row,
        rx,
        events,
        envelope=envelope,
        actor=actor,
        catalogue=ctx.catalogue,
        action=f"resolve-claim-{command.action}",
    )
