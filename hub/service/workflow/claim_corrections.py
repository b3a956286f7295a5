"""A technician's correction of a paid claim before filling: the claim worker rebills it as a B3.

The aggregate decides whether the claim may be rebilled (``Prescription.rebill_claim``: one payer's paid claim,
the same BIN/PCN); the ``claim.submitted`` event it returns sends the B3 like any claim (``effects``).
"""

from __future__ import annotations

from hub.domain.workflow_commands import CorrectPaidClaim
from hub.messaging.envelope import Envelope
from hub.service.unit_of_work import UnitOfWork
from hub.service.workflow.context import WorkflowContext, actor_of, now
from hub.service.workflow.effects import commit_step
from hub.service.workflow.intake_steps import load


def correct_paid_claim(command: CorrectPaidClaim, envelope: Envelope, uow: UnitOfWork, ctx: WorkflowContext) -> None:
    """Rebill the fill's paid claim with the technician's corrections; which fields changed is audited."""
    row, rx = load(uow, command.prescription_id)
    actor = actor_of(uow, envelope)
    events = rx.rebill_claim(actor, now(), coverage=command.coverage, clarification_codes=command.clarification_codes)
    corrected = sorted(command.coverage.model_dump(exclude_none=True)) if command.coverage else []
    uow.audit(
        actor=actor.user_id,
        role=actor.role.value,
        action="claim-corrected-rebill",
        prescription_id=rx.prescription_id,
        detail={"corrected": corrected, "clarification_codes": list(command.clarification_codes)},
    )
    commit_step(uow, row, rx, events, envelope=envelope, actor=actor, catalogue=ctx.catalogue, action="rebill-claim")
