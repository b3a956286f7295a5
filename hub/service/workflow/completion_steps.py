"""Fill worker: start the completion of a partial fill (the rest, 343-HD C, on the same fill number), or close
a partial fill whose rest will never be dispensed.

The domain checks who asks, that a picked-up partial fill has a rest owed, and for schedule II the 21 CFR
1306.13 deadline and the quantity prescribed; a refusal is audited with its reason and answered to the staff
member's command. The completion then goes its own way: claim, pharmacist, pick, label, will-call, pickup.
"""

from __future__ import annotations

import logging

from hub.domain.partial_commands import ClosePartialFill, CompletePartialFill
from hub.domain.partial_fill import DispensingStatus, PartialFillRefused
from hub.messaging.envelope import Envelope
from hub.service.unit_of_work import UnitOfWork
from hub.service.workflow.context import WorkflowContext, actor_of, now
from hub.service.workflow.effects import commit_step, refuse_step
from hub.service.workflow.intake_steps import load

log = logging.getLogger(__name__)


def complete_partial_fill(
    command: CompletePartialFill, envelope: Envelope, uow: UnitOfWork, ctx: WorkflowContext
) -> None:
    """Start the completion; a copy after it started (the completion is the current fill) changes nothing."""
    row, rx = load(uow, command.prescription_id)
    current = rx.current_fill
    if current.fill_number != command.fill_number or current.dispensing_status is DispensingStatus.COMPLETION:
        log.info("completion of a partial fill already started or superseded: ignored")
        return
    actor = actor_of(uow, envelope)
    try:
        events = rx.start_completion(actor, now(), command.portion)
    except PartialFillRefused as refused:
        refuse_step(uow, rx, actor, "complete-partial-fill", command.fill_number, str(refused))
        return
    commit_step(
        uow, row, rx, events, envelope=envelope, actor=actor, catalogue=ctx.catalogue, action="complete-partial-fill"
    )


def close_partial_fill(command: ClosePartialFill, envelope: Envelope, uow: UnitOfWork, ctx: WorkflowContext) -> None:
    """Close the partial fill (its P claim reversed, what was dispensed billed whole); a copy after it was closed,
    or once a completion or refill took its place, changes nothing."""
    row, rx = load(uow, command.prescription_id)
    current = rx.current_fill
    if current.fill_number != command.fill_number or current.closure is not None:
        log.info("closing of a partial fill already done or superseded: ignored")
        return
    actor = actor_of(uow, envelope)
    try:
        events = rx.close_partial(actor, now(), command.reason)
    except PartialFillRefused as refused:
        refuse_step(uow, rx, actor, "close-partial-fill", command.fill_number, str(refused))
        return
    commit_step(
        uow, row, rx, events, envelope=envelope, actor=actor, catalogue=ctx.catalogue, action="close-partial-fill"
    )
