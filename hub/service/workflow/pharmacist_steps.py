"""Verification worker: the pharmacist's decisions. The domain refuses any other role (the gate is law)."""

from __future__ import annotations

from hub.domain.workflow_commands import RecordVerification
from hub.errors import IllegalTransition
from hub.messaging.envelope import Envelope
from hub.service.unit_of_work import UnitOfWork
from hub.service.workflow.context import WorkflowContext, actor_of, now
from hub.service.workflow.effects import commit_step
from hub.service.workflow.intake_steps import load


def record_verification(command: RecordVerification, envelope: Envelope, uow: UnitOfWork, ctx: WorkflowContext) -> None:
    """A pharmacist's data or product verification, with any alert overrides."""
    row, rx = load(uow, command.prescription_id)
    actor, when = actor_of(uow, envelope), now()
    events = []
    for alert_id, why in command.overrides:
        events += rx.override_alert(actor, when, alert_id, why)
    if command.stage == "data":
        events += (
            rx.approve_data_verification(actor, when)
            if command.approve
            else rx.reject_data_verification(actor, when, command.reason or "refused")
        )
    elif command.stage == "product":
        events += (
            rx.approve_product_verification(actor, when)
            if command.approve
            else rx.reject_product_verification(actor, when, command.reason or "refused")
        )
    else:
        raise IllegalTransition(rx.state.value, f"verify stage {command.stage!r}")
    decision = "approve" if command.approve else "reject"
    commit_step(
        uow,
        row,
        rx,
        events,
        envelope=envelope,
        actor=actor,
        catalogue=ctx.catalogue,
        action=f"{command.stage}-verification-{decision}",
    )
