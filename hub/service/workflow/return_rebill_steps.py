"""Claim worker: bill again a fill returned to stock past its plan's window, once its reversal is answered.

The domain checks that the fill was returned past its window, that no reversal of its claims is still owed and
that the prescription may still be filled (``Prescription.rebill_refusal``); a refusal is audited with its reason
and answered to the staff member's command. The fresh B1 then goes like any claim (``effects``).
"""

from __future__ import annotations

import logging

from hub.domain.rebill_commands import RebillReturnedFill
from hub.domain.return_window import RebillRefused, window_days
from hub.domain.states import RxState
from hub.messaging.envelope import Envelope
from hub.service.unit_of_work import UnitOfWork
from hub.service.workflow.context import WorkflowContext, actor_of, now
from hub.service.workflow.effects import commit_step, refuse_step
from hub.service.workflow.intake_steps import load

log = logging.getLogger(__name__)


def rebill_returned_fill(
    command: RebillReturnedFill, envelope: Envelope, uow: UnitOfWork, ctx: WorkflowContext
) -> None:
    """Send the fresh B1; a copy after the fill was rebilled (no longer returned to stock) changes nothing."""
    row, rx = load(uow, command.prescription_id)
    fill = rx.current_fill
    if fill.fill_number != command.fill_number or fill.state is not RxState.RETURNED_TO_STOCK:
        log.info("rebill of a fill no longer returned to stock ignored")
        return
    actor = actor_of(uow, envelope)
    try:
        days = window_days(fill, ctx.payer_sheets, ctx.return_to_stock_days)
        events = rx.rebill_returned(actor, now(), days)
    except RebillRefused as refused:
        refuse_step(uow, rx, actor, "rebill-returned-fill", command.fill_number, str(refused))
        return
    commit_step(
        uow, row, rx, events, envelope=envelope, actor=actor, catalogue=ctx.catalogue, action="rebill-returned-fill"
    )
