"""The rest of a partial fill from the staff API: its completion, on the same Rx and fill number (343-HD C).

Asking for the rest is this route, never a refill (a refill is refused while a rest is owed). A schedule II rest
past its 21 CFR 1306.13 deadline is not dispensable: the route answers 409 with the deadline and the rule, for
the technician to tell the patient a new prescription is needed; the worker checks it again. When the rest will
never be dispensed (declined, or past that deadline), ``/completion/close`` closes the partial fill: nothing is
owed, the payer's P claim is reversed and what was dispensed billed whole, and a refill is possible again.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Header, Request

from hub.domain.partial_commands import ClosePartialFill, CompletePartialFill
from hub.domain.states import RxState
from hub.entrypoints.http.action_checks import refuse
from hub.entrypoints.http.auth import require
from hub.entrypoints.http.staff_commands import HANDS_ON, act, answered_before, read_prescription
from hub.entrypoints.http.staff_models import Accepted, ClosingReason, CompletionPortion
from hub.persistence.users import User

router = APIRouter(prefix="/api", tags=["staff"])


@router.post("/prescriptions/{prescription_id}/completion", status_code=202, response_model=Accepted)
async def complete_partial_fill(
    prescription_id: str,
    request: Request,
    body: CompletionPortion | None = None,
    user: User = Depends(require(*HANDS_ON)),
    idempotency_key: str | None = Header(default=None),
) -> Accepted:
    """Start dispensing the rest of the partial fill the patient picked up; 409 when no rest is owed or a schedule
    II rest is past its deadline; ``portion`` (1306.13(b) patients only) dispenses part of the rest."""
    portion = body.portion if body is not None else None
    name = CompletePartialFill.name
    if (before := await answered_before(request, user, name, prescription_id, idempotency_key)) is not None:
        return before
    _, rx = await read_prescription(request, prescription_id)
    refusal = rx.completion_refusal(datetime.now(UTC), portion)
    if refusal is not None:
        await refuse(request, user, 409, refusal, command=CompletePartialFill.name, prescription_id=prescription_id)
    command = CompletePartialFill(
        prescription_id=prescription_id, fill_number=rx.current_fill.fill_number, portion=portion
    )
    return await act(request, user, prescription_id, command, idempotency_key, (RxState.DISPENSED,), retry_checked=True)


@router.post("/prescriptions/{prescription_id}/completion/close", status_code=202, response_model=Accepted)
async def close_partial_fill(
    prescription_id: str,
    body: ClosingReason,
    request: Request,
    user: User = Depends(require(*HANDS_ON)),
    idempotency_key: str | None = Header(default=None),
) -> Accepted:
    """Close the picked-up partial fill whose rest will never be dispensed, saying why; 409 when no rest is owed."""
    name = ClosePartialFill.name
    if (before := await answered_before(request, user, name, prescription_id, idempotency_key)) is not None:
        return before
    _, rx = await read_prescription(request, prescription_id)
    refusal = rx.close_refusal()
    if refusal is not None:
        await refuse(request, user, 409, refusal, command=ClosePartialFill.name, prescription_id=prescription_id)
    command = ClosePartialFill(
        prescription_id=prescription_id, fill_number=rx.current_fill.fill_number, reason=body.reason
    )
    return await act(request, user, prescription_id, command, idempotency_key, (RxState.DISPENSED,), retry_checked=True)
