"""Which step's queue each command goes to: the one table the topology's bindings, the publishers and the
handler registry (``hub.service.handlers``) all read.

A cancel shares its order's queue (intake) so it is never overtaken by the order it cancels; a payer's answer
and a claim's timeout check share ``claim-responses`` so one fill's answers are applied in turn. The handler
registry takes each handler's step from here, and ``tests/unit/service/test_registry.py`` proves that every
command routed here has exactly one handler and no handler waits on a command routed nowhere.
"""

from __future__ import annotations

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

#: command type -> the step whose work queue it is published to
COMMAND_STEPS: dict[type[Command], str] = {
    ReceivePrescription: "intake",
    CancelPrescription: "intake",
    CancelByPharmacy: "intake",
    SelectProduct: "intake",
    RequestRefill: "intake",
    RecordRenewalResponse: "intake",
    SendClaim: "claim",
    CheckEligibility: "claim",
    ResolveClaimRejection: "claim",
    CorrectPaidClaim: "claim",
    RebillReturnedFill: "claim",
    RecordClaimResponse: "claim-responses",
    CheckClaimTimeout: "claim-responses",
    RecordVerification: "verification",
    FillPrescription: "fill",
    DispensePrescription: "fill",
    ReturnToStock: "fill",
    DecideShortStock: "fill",
    CompletePartialFill: "fill",
    ClosePartialFill: "fill",
    ReceiveInventory: "fill",
}
#: command name (the routing key it travels under) -> step
COMMAND_ROUTES: dict[str, str] = {command.name: step for command, step in COMMAND_STEPS.items()}
