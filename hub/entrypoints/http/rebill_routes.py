"""A fill returned to stock past its plan's window, billed again for a patient who came for it after all.

``POST /api/prescriptions/{id}/rebill`` sends a fresh B1 for the returned fill once the payer has answered its
reversal; paid, the fill goes through the pharmacist's check and the shelf again to will-call, where it is
sellable. A fill not past its window, or whose reversal is not answered, is refused 409 with the reason; the
worker checks again (``hub.domain.return_window``).
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Header, Request

from hub.domain.rebill_commands import RebillReturnedFill
from hub.domain.return_window import window_days
from hub.domain.states import RxState
from hub.entrypoints.http.action_checks import refuse
from hub.entrypoints.http.auth import require
from hub.entrypoints.http.dependencies import services_of
from hub.entrypoints.http.staff_commands import HANDS_ON, act, answered_before, read_prescription
from hub.entrypoints.http.staff_models import Accepted
from hub.persistence.users import User

router = APIRouter(prefix="/api", tags=["staff"])


@router.post("/prescriptions/{prescription_id}/rebill", status_code=202, response_model=Accepted)
async def rebill_returned_fill(
    prescription_id: str,
    request: Request,
    user: User = Depends(require(*HANDS_ON)),
    idempotency_key: str | None = Header(default=None),
) -> Accepted:
    """Bill again (B1) the fill returned to stock past its plan's return-to-stock window, once its reversal is
    answered; 409 with the reason otherwise."""
    services = services_of(request.app)
    name = RebillReturnedFill.name
    if (before := await answered_before(request, user, name, prescription_id, idempotency_key)) is not None:
        return before
    _, rx = await read_prescription(request, prescription_id)
    fill = rx.current_fill
    days = window_days(fill, services.payer_sheets, services.settings.return_to_stock_days)
    refusal = rx.rebill_refusal(datetime.now(UTC), days)
    if refusal is not None:
        await refuse(request, user, 409, refusal, command=name, prescription_id=prescription_id)
    command = RebillReturnedFill(prescription_id=prescription_id, fill_number=fill.fill_number)
    return await act(
        request, user, prescription_id, command, idempotency_key, (RxState.RETURNED_TO_STOCK,), retry_checked=True
    )
