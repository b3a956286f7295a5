"""Eligibility worker: send an E1 through the payer exchange, recorded in the claim ledger like every claim.

An E1 bills nothing, so its status-unknown rule is simple: an unanswered check is closed as ``timeout`` by the
claim sweeper (nothing to reverse) and the technician asks again.
"""

from __future__ import annotations

from hub.domain.claim_exchange import ClaimPatient
from hub.domain.eligibility import ELIGIBILITY, CheckEligibility, EligibilityRequestData, eligibility_exchange_id
from hub.errors import MessageContentError
from hub.messaging.envelope import Envelope, derived_message_id
from hub.messaging.headers import ORDER_CORRELATION_HEADER
from hub.service.unit_of_work import UnitOfWork
from hub.service.workflow.context import WorkflowContext, actor_of, now

#: the claim ledger's purpose for an eligibility check
PURPOSE = "eligibility"


def check_eligibility(command: CheckEligibility, envelope: Envelope, uow: UnitOfWork, ctx: WorkflowContext) -> None:
    """Send an E1 for a patient's coverage, once per check id, recorded in the claim ledger."""
    if ctx.claim_codec is None:
        raise MessageContentError("no payer connection is configured (claim codec missing)")
    ledger = uow.claims
    xid = eligibility_exchange_id(command.check_id)
    if ledger.get(xid) is not None:  # a redelivered command: sent already
        return
    patient = uow.parties.patient(command.patient_id)
    info = patient.info if patient else None
    coverage = command.coverage
    assert coverage.bin is not None  # the door refuses a check without a BIN
    request = EligibilityRequestData(
        exchange_id=xid,
        bin=coverage.bin,
        pcn=coverage.pcn,
        group_id=coverage.group_id,
        cardholder_id=coverage.cardholder_id,
        person_code=coverage.person_code,
        relationship=coverage.relationship or "1",
        patient=ClaimPatient(
            first_name=info.given_name if info else None,
            last_name=info.family_name if info else None,
            birth_date=info.birth_date if info else None,
            gender_code={"M": "1", "F": "2"}.get((info.sex or "") if info else "", "0"),
        ),
        pharmacy_npi=ctx.pharmacy_npi,
        date_of_service=now().date(),
    )
    encoded = ctx.claim_codec.encode_eligibility(request)
    ledger.sent(
        exchange_id=xid,
        prescription_id=command.check_id,
        fill_number=0,
        attempt=1,
        transaction=ELIGIBILITY,
        purpose=PURPOSE,
        resends=0,
    )
    uow.add_raw(
        row_id=str(derived_message_id("payer", envelope.message_id)),
        target="payer",
        routing_key=encoded.routing_key,
        message_type=ELIGIBILITY,
        content_type=encoded.content_type,
        correlation_id=xid,
        body=encoded.body,
        headers={
            "reply_to": ctx.topology.payer_responses_queue,
            ORDER_CORRELATION_HEADER: str(envelope.correlation_id),
        },
    )
    actor = actor_of(uow, envelope)
    uow.audit(
        actor=actor.user_id,
        role=actor.role.value,
        action="eligibility-sent",
        detail={"check_id": command.check_id, "bin": coverage.bin},
        patient_id=command.patient_id,
    )
