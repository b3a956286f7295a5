"""Payer answers that come after the transmission was answered or timed out: noted, and applied when they change
what the payer holds.

A reversal approved late (a stale B2 that reached the payer after a newer B1 was paid, or an answer that
arrived after the timeout) means the payer no longer pays the fill: its paid claim is marked reversed and the
fill goes back to the technician to rebill, never ignored. Every other late answer is noted in the claim wire
log, where ``rxhub claims reconcile`` compares it with what the hub believes.
"""

from __future__ import annotations

import logging

from hub.domain.actors import system_actor
from hub.domain.claim import ClaimStatus
from hub.domain.commands import RecordClaimResponse
from hub.messaging.envelope import Envelope
from hub.persistence.claims import WireEvent
from hub.persistence.prescriptions import load_aggregate
from hub.service.unit_of_work import UnitOfWork
from hub.service.workflow.context import WorkflowContext, now
from hub.service.workflow.effects import commit_step

log = logging.getLogger(__name__)

#: B2 answers meaning the payer reversed a paid claim just now (S: it had been reversed already)
REVERSAL_APPROVED = "A"


def apply_late_answer(ctx: WorkflowContext, uow: UnitOfWork, envelope: Envelope, command: RecordClaimResponse) -> None:
    """Note a late or repeated answer in the ledger and apply a late approved reversal to the fill."""
    ledger = uow.claims
    ledger.note(
        command.exchange_id,
        WireEvent.LATE_ANSWER,
        message_id=str(envelope.message_id),
        status=command.status,
        detail=",".join(command.reject_codes) or None,
    )
    log.warning("late payer answer for %s: %s", command.exchange_id, command.status)
    if command.transaction != "B2" or command.status != REVERSAL_APPROVED:
        return
    row = uow.prescriptions.get(command.prescription_id)
    if row is None:
        return
    rx = load_aggregate(row)
    fill = rx.fill(command.fill_number)
    if fill.claim is None or fill.claim.status is not ClaimStatus.PAID:
        return
    actor = system_actor("payer")
    events = rx.claim_reversed_late(
        actor, now(), fill_number=fill.fill_number, authorization_number=command.authorization_number
    )
    log.warning(
        "late reversal %s undid the paid claim of fill %d: back to the technician to rebill",
        command.exchange_id,
        fill.fill_number,
    )
    commit_step(
        uow, row, rx, events, envelope=envelope, actor=actor, catalogue=ctx.catalogue, action="claim-reversed-late"
    )
