"""Claim worker: send claims and reversals, apply the payer's answers, resolve the exception queue.

Status unknown (no answer within the payer timeout) is resolved the way pharmacies do: reverse first, and
only when the reversal is answered resubmit once, so a claim the payer did process is never paid twice.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

from hub.domain.actors import system_actor
from hub.domain.claim import ClaimStatus
from hub.domain.claim_exchange import ClaimPatient, ClaimRequestData, ClaimTransaction
from hub.domain.commands import Command, RecordClaimResponse
from hub.domain.eligibility import ELIGIBILITY
from hub.domain.events import Event
from hub.domain.order_parts import CoverageInfo, Identifier, Source
from hub.domain.payer_sheet import BASIS_OF_COST, SHEET_CODE, PayerSheet, missing_fields
from hub.domain.prescription import Prescription
from hub.domain.workflow_commands import CheckClaimTimeout, ResolveClaimRejection, SendClaim
from hub.errors import IllegalTransition, MessageContentError
from hub.messaging.envelope import Envelope, derived_message_id
from hub.persistence.prescriptions import PrescriptionRow
from hub.persistence.unit_of_work import UnitOfWork
from hub.service.bus import CommandHandler
from hub.service.workflow import eligibility_steps
from hub.service.workflow.context import WorkflowContext, actor_of, now
from hub.service.workflow.effects import commit_step
from hub.service.workflow.intake_steps import load
from hub.service.workflow.late_answers import apply_late_answer

log = logging.getLogger(__name__)

PAID = {"P", "D", "C", "Q"}
REVERSED = {"A", "S"}
#: payer or switch trouble, not a verdict on the claim (standards §4.4)
TRANSIENT_REJECTS = {"92", "99", "85"}
#: what the exception queue shows when the payer never answered
NO_ANSWER_CODE = "TO"
#: what the exception queue shows when no payer connector took the claim at all
NOT_DELIVERED_CODE = "ND"
#: reject answering a reversal of a claim the payer never paid (the simulator's choice; unverified)
NOTHING_TO_REVERSE = "87"
ORDER_CORRELATION_HEADER = "x-rxhub-order-correlation"
#: NCPDP 419-DJ prescription origin by the door the order came through (0 unknown: staff-entered orders
#: may be written, faxed or transferred, which the hub is not told)
ORIGIN_CODES = {Source.SCRIPT: "3", Source.HL7: "3", Source.FHIR: "3", Source.VERBAL: "2", Source.API: "0"}


def exchange_id(prescription_id: str, fill_number: int, attempt: int, transaction: str) -> str:
    """Unique per claim transaction; the payer echoes it back as the AMQP correlation id."""
    return f"{prescription_id}:{fill_number}:{attempt}:{transaction}"


def handlers(ctx: WorkflowContext) -> dict[str, CommandHandler]:
    """The claim and claim-response workers' handlers."""

    def send_claim(command: Command, envelope: Envelope, uow: UnitOfWork) -> None:
        assert isinstance(command, SendClaim)
        if ctx.claim_codec is None:
            raise MessageContentError("no payer connection is configured (claim codec missing)")
        _, rx = load(uow, command.prescription_id)
        fill = rx.fill(command.fill_number)
        claim = fill.claim
        if claim is None or claim.bin is None:
            log.info("no claim to send for fill %s", command.fill_number)
            return
        attempt = command.attempt or claim.attempt
        xid = exchange_id(rx.prescription_id, fill.fill_number, attempt, command.transaction)
        request = _claim_request(uow, ctx, rx, command, attempt, xid)
        if command.transaction != "B2" and _sheet_refuses(uow, envelope, rx, request):
            return
        ledger = uow.claims
        if command.transaction == "B1":
            purpose = "billing"
        else:  # a resent reversal keeps the purpose it was first sent for
            known = ledger.get(xid)
            purpose = (
                known.purpose
                if known
                else ("reversal" if claim.status is ClaimStatus.REVERSAL_REQUIRED else "unknown-status")
            )
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

    def _sheet_refuses(uow: UnitOfWork, envelope: Envelope, rx: Prescription, request: ClaimRequestData) -> bool:
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

    def record_response(command: Command, envelope: Envelope, uow: UnitOfWork) -> None:
        assert isinstance(command, RecordClaimResponse)
        ledger = uow.claims
        sent = ledger.answer(command.exchange_id, command.status, command.reject_codes)
        if command.transaction == ELIGIBILITY:  # the ledger row is the check's answer; no fill to move
            if sent is None:  # a late answer still tells the technician what the plan said
                ledger.answered(command.exchange_id, command.status, command.reject_codes)
            return
        if sent is None:  # answered already or timed out: noted, and a late approved reversal is applied
            apply_late_answer(ctx, uow, envelope, command)
            return
        row, rx = load(uow, command.prescription_id)
        if command.transaction == "B2":
            _reversal_answered(uow, envelope, row, rx, command, sent.purpose)
            return
        fill = rx.fill(command.fill_number)
        claim = fill.claim
        if claim is None or claim.status is not ClaimStatus.SUBMITTED or claim.attempt != command.attempt:
            log.warning("payer answer for a superseded claim attempt %s ignored", command.exchange_id)
            return
        actor = system_actor("payer")
        transient = set(command.reject_codes) & TRANSIENT_REJECTS
        if command.status == "R" and transient and sent.resends < ctx.max_transient_resends:
            _resend_later(uow, envelope, command, sent.resends + 1)
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

    def check_timeout(command: Command, envelope: Envelope, uow: UnitOfWork) -> None:
        assert isinstance(command, CheckClaimTimeout)
        ledger = uow.claims
        sent = ledger.get(command.exchange_id)
        if sent is None or sent.answered:
            return
        transaction = command.exchange_id.rsplit(":", 1)[-1]
        if ledger.never_left(command.exchange_id):
            # the broker refused it (no payer connector bound for the BIN): certainly not at the payer, so
            # no reversal is needed; resend later like a transient reject, then hand it to a person
            _undelivered(uow, envelope, command, transaction, sent.resends)
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
        )

    def _status_unknown(
        uow: UnitOfWork, envelope: Envelope, rx: Prescription, command: RecordClaimResponse
    ) -> list[Event]:
        """Reject into the exception queue for now and send a reversal; its answer decides what's next."""
        log.warning("claim %s unanswered: reversing before any resubmission", command.exchange_id)
        events = rx.claim_status_unknown(
            system_actor("payer"),
            now(),
            code=NO_ANSWER_CODE,
            payer_message="no answer from the payer; reversing before resubmitting",
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
        envelope: Envelope,
        row: PrescriptionRow,
        rx: Prescription,
        command: RecordClaimResponse,
        purpose: str,
    ) -> None:
        fill = rx.fill(command.fill_number)
        actor = system_actor("payer")
        events: list[Event] = []
        if (
            purpose == "reversal"
            and command.status in REVERSED
            and fill.claim is not None
            and fill.claim.status is ClaimStatus.REVERSAL_REQUIRED
        ):
            events = rx.claim_reversed(
                actor, now(), fill_number=fill.fill_number, authorization_number=command.authorization_number
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
            if fill.claim.attempt < 2:
                events += rx.resubmit_claim(actor, now())  # resubmit once
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
        uow: UnitOfWork, envelope: Envelope, command: CheckClaimTimeout, transaction: str, resends: int
    ) -> None:
        if resends < ctx.max_transient_resends:
            _resend_later(
                uow,
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

    def _resend_later(uow: UnitOfWork, envelope: Envelope, command: RecordClaimResponse, resend: int) -> None:
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

    def resolve(command: Command, envelope: Envelope, uow: UnitOfWork) -> None:
        assert isinstance(command, ResolveClaimRejection)
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

    return {
        **eligibility_steps.handlers(ctx),
        SendClaim.name: send_claim,
        RecordClaimResponse.name: record_response,
        CheckClaimTimeout.name: check_timeout,
        ResolveClaimRejection.name: resolve,
    }


def _safe_to_resubmit(reversal: RecordClaimResponse) -> bool:
    """Only once the payer has said the unanswered claim is not (or no longer) paid.

    Reversed (A/S), or rejected as "nothing to reverse" (87): then a new billing cannot double-pay. Any other
    answer, or none, leaves the claim in the exception queue for a person to call the payer's help desk.
    """
    return reversal.status in REVERSED or (reversal.status == "R" and NOTHING_TO_REVERSE in reversal.reject_codes)


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


def _claim_request(
    uow: UnitOfWork, ctx: WorkflowContext, rx: Prescription, command: SendClaim, attempt: int, xid: str
) -> ClaimRequestData:
    fill = rx.fill(command.fill_number)
    claim = fill.claim
    assert claim is not None and claim.bin is not None
    patient = uow.parties.patient(rx.patient_id)
    info = patient.info if patient else None
    gender = {"M": "1", "F": "2"}.get((info.sex or "") if info else "", "0")
    cardholder = claim.cardholder_id or _member_id(info.identifiers if info else ())
    coverage = ctx.default_coverage or CoverageInfo()
    return ClaimRequestData(
        exchange_id=xid,
        prescription_id=rx.prescription_id,
        fill_number=fill.fill_number,
        attempt=attempt,
        transaction=ClaimTransaction(command.transaction),
        bin=claim.bin,
        pcn=claim.pcn,
        group_id=claim.group_id or coverage.group_id,
        cardholder_id=cardholder,
        person_code=claim.person_code or coverage.person_code,
        relationship=coverage.relationship or "1",
        patient=ClaimPatient(
            first_name=info.given_name if info else None,
            last_name=info.family_name if info else None,
            birth_date=info.birth_date if info else None,
            gender_code=gender,
        ),
        prescriber_npi=rx.prescriber.npi,
        prescriber_last_name=rx.prescriber.family_name,
        pharmacy_npi=ctx.pharmacy_npi,
        rx_number=rx.rx_number,
        ndc=fill.ndc or (rx.product.ndc11 if rx.product else ""),
        quantity=fill.quantity or Decimal("0"),
        days_supply=fill.days_supply,
        written_date=rx.written_date,
        refills_authorized=rx.refills_authorized,
        daw_code="0" if rx.substitution_allowed else "1",
        prior_auth_number=claim.prior_auth_number,
        dur_pps=(
            (claim.dur_pps.reason_for_service, claim.dur_pps.professional_service, claim.dur_pps.result_of_service),
        )
        if claim.dur_pps
        else (),
        date_of_service=(claim.submitted_at or rx.received_at).date(),
        clarification_codes=tuple(claim.clarification_codes),
        schedule=rx.schedule,
        quantity_prescribed=rx.quantity.value if rx.quantity else None,
        origin_code=ORIGIN_CODES.get(rx.source),
        unit_of_measure=rx.product.unit if rx.product else None,
        **_pricing(ctx.payer_sheets.for_plan(claim.bin, claim.pcn), rx, fill.quantity, claim.amount_requested),
    )


def _pricing(
    sheet: PayerSheet | None, rx: Prescription, quantity: Decimal | None, usual: Decimal | None
) -> dict[str, Any]:
    """AM11 amounts: U&C always; ingredient cost, fee and basis on the plan's cost basis when it has one."""
    unit_cost = sheet.unit_cost(rx.product) if sheet and rx.product else None
    if sheet is None or unit_cost is None or quantity is None:
        return {
            "usual_and_customary": usual,
            "gross_amount_due": usual,
            "other_coverage_code": sheet.other_coverage_code if sheet else None,
        }
    ingredient = (unit_cost * quantity).quantize(Decimal("0.01"))
    return {
        "usual_and_customary": usual,
        "ingredient_cost": ingredient,
        "dispensing_fee": sheet.dispensing_fee,
        "basis_of_cost": BASIS_OF_COST[sheet.cost_basis],
        "gross_amount_due": ingredient + sheet.dispensing_fee,
        "other_coverage_code": sheet.other_coverage_code,
    }


def _member_id(identifiers: tuple[Identifier, ...]) -> str | None:
    """The pharmacy's house plan bills under the patient's record number when no card is on file."""
    return identifiers[0].value if identifiers else None
