"""Every command the workers handle and its handler, registered as data, keyed by the command's type.

The bus finds a handler by the type it decoded, and each step's workers run the handlers of the commands
routed to their queue (``step_handlers``). The step comes from the routing table the broker's bindings are
made from (``hub.messaging.routing``), so a command cannot be routed to a queue whose workers have no handler
for it; ``tests/unit/service/test_registry.py`` checks that both tables name the same commands. Registering a
handler whose parameter is another command's type fails mypy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from hub.domain.commands import (
    CancelPrescription,
    Command,
    ReceivePrescription,
    RecordClaimResponse,
    RecordRenewalResponse,
)
from hub.domain.eligibility import CheckEligibility
from hub.domain.partial_commands import ClosePartialFill, CompletePartialFill
from hub.domain.rebill_commands import RebillReturnedFill
from hub.domain.workflow_commands import (
    CancelByPharmacy,
    CheckClaimTimeout,
    CorrectPaidClaim,
    DecideShortStock,
    DispensePrescription,
    FillPrescription,
    ReceiveInventory,
    RecordVerification,
    RequestRefill,
    ResolveClaimRejection,
    ReturnToStock,
    SelectProduct,
    SendClaim,
)
from hub.messaging.envelope import Envelope
from hub.messaging.routing import COMMAND_STEPS as ROUTED_TO
from hub.service.bus import CommandHandler
from hub.service.unit_of_work import UnitOfWork
from hub.service.workflow import (
    claim_corrections,
    claim_responses,
    claim_steps,
    completion_steps,
    eligibility_steps,
    fill_steps,
    intake_steps,
    pharmacist_steps,
    return_rebill_steps,
)
from hub.service.workflow.context import WorkflowContext

C = TypeVar("C", bound=Command)
#: a workflow handler: the command, the envelope it came in, its unit of work, the worker's reference data
Handler = Callable[[C, Envelope, UnitOfWork, WorkflowContext], None]


@dataclass(frozen=True)
class Registration(Generic[C]):
    """One command: the step whose queue it goes to, and its handler (typed for exactly this command)."""

    command: type[C]
    step: str
    handle: Handler[C]


def _register(command: type[C], handle: Handler[C]) -> Registration[Any]:
    """A registration checked as written: ``handle`` takes exactly ``command`` (a table typed ``Any`` would not);
    a command with no route fails at import."""
    return Registration(command, ROUTED_TO[command], handle)


#: every command and its handler
REGISTRY: tuple[Registration[Any], ...] = (
    _register(ReceivePrescription, intake_steps.receive),
    _register(CancelPrescription, intake_steps.cancel),
    _register(CancelByPharmacy, intake_steps.cancel_by_pharmacy),
    _register(SelectProduct, intake_steps.select_product),
    _register(RequestRefill, intake_steps.request_refill),
    _register(RecordRenewalResponse, intake_steps.renewal_response),
    _register(SendClaim, claim_steps.send_claim),
    _register(CheckEligibility, eligibility_steps.check_eligibility),
    _register(ResolveClaimRejection, claim_steps.resolve),
    _register(CorrectPaidClaim, claim_corrections.correct_paid_claim),
    _register(RebillReturnedFill, return_rebill_steps.rebill_returned_fill),
    _register(RecordClaimResponse, claim_responses.record_response),
    _register(CheckClaimTimeout, claim_responses.check_timeout),
    _register(RecordVerification, pharmacist_steps.record_verification),
    _register(FillPrescription, fill_steps.fill),
    _register(DispensePrescription, fill_steps.dispense),
    _register(ReturnToStock, fill_steps.return_to_stock),
    _register(DecideShortStock, fill_steps.decide_short_stock),
    _register(CompletePartialFill, completion_steps.complete_partial_fill),
    _register(ClosePartialFill, completion_steps.close_partial_fill),
    _register(ReceiveInventory, fill_steps.receive_inventory),
)
#: command type -> handler
COMMAND_HANDLERS: dict[type[Command], Handler[Any]] = {r.command: r.handle for r in REGISTRY}
#: command type -> the step whose queue it goes to
COMMAND_STEPS: dict[type[Command], str] = {r.command: r.step for r in REGISTRY}
#: every worker step, in registration order
STEPS: tuple[str, ...] = tuple(dict.fromkeys(r.step for r in REGISTRY))


def step_handlers(step: str, ctx: WorkflowContext) -> dict[type[Command], CommandHandler]:
    """The handlers of the commands routed to ``step``, bound to the worker's context."""
    return {r.command: _bound(r.handle, ctx) for r in REGISTRY if r.step == step}


def _bound(handle: Handler[Any], ctx: WorkflowContext) -> CommandHandler:
    def run(command: Any, envelope: Envelope, uow: UnitOfWork) -> None:
        handle(command, envelope, uow, ctx)

    run.__qualname__ = run.__name__ = getattr(handle, "__name__", "handler")
    return run
