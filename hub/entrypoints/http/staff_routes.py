"""The staff actions: every step a technician or pharmacist takes on a prescription, stock received, verbal orders.

Actions are commands: they are checked against what the API can see (role and licence, state, alerts, product:
403/409/422 at once, hub.entrypoints.http.action_checks), published durably (confirmed) and answered 202 with
a command id whose outcome ``GET /api/commands/{id}`` tells (hub.entrypoints.http.staff_commands); the worker
applies them and checks the rules again (the pharmacist gate is enforced here *and* in the domain).
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Header, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from hub.domain.actors import Role
from hub.domain.commands import ReceivePrescription
from hub.domain.order_parts import Source
from hub.domain.states import RxState
from hub.domain.workflow_commands import (
    CancelByPharmacy,
    DecideShortStock,
    DispensePrescription,
    RecordVerification,
    RequestRefill,
    ResolveClaimRejection,
    ReturnToStock,
    SelectProduct,
)
from hub.entrypoints.http.action_checks import (
    check_product,
    check_return_window,
    check_verbal_order,
    check_verification,
    refuse,
    require_state,
)
from hub.entrypoints.http.auth import current_user, forbid, require
from hub.entrypoints.http.staff_commands import (
    HANDS_ON,
    LICENSED_PHARMACIST,
    act,
    read_prescription,
    send_about,
    send_command,
    storable,
)
from hub.entrypoints.http.staff_models import (
    Accepted,
    ClaimResolution,
    ProductChoice,
    Reason,
    ShortStockDecision,
    VerbalOrder,
    VerificationDecision,
)
from hub.messaging.envelope import order_correlation_id
from hub.persistence.users import User

router = APIRouter(prefix="/api", tags=["staff"])

#: a cancel is refused only once the prescription is closed (the worker ignores a second one)
_CANCELLABLE = tuple(s for s in RxState if s not in (RxState.CANCELLED, RxState.REJECTED))
#: a refill starts from a fill that came to rest
_REFILLABLE = (RxState.DISPENSED, RxState.RETURNED_TO_STOCK)


@router.post("/prescriptions/{prescription_id}/data-verification", status_code=202, response_model=Accepted)
async def data_verification(
    prescription_id: str,
    body: VerificationDecision,
    request: Request,
    user: User = Depends(LICENSED_PHARMACIST),
    idempotency_key: str | None = Header(default=None),
) -> Accepted:
    """Licensed pharmacist only: approve (after overriding alerts) or reject at data verification; an approval
    that leaves a high-severity alert without an override is refused at once (409, with the alerts)."""
    command = RecordVerification(
        prescription_id=prescription_id,
        stage="data",
        approve=body.approve,
        reason=body.reason,
        overrides=tuple(body.overrides),
    )
    if not body.approve and not body.overrides:
        return await act(request, user, prescription_id, command, idempotency_key, (RxState.DATA_VERIFICATION,))
    row, rx = await read_prescription(request, prescription_id)
    await check_verification(request, user, rx, approve=body.approve, overrides=body.overrides, command=command.name)
    return await send_about(request, user, row, command, idempotency_key)


@router.post("/prescriptions/{prescription_id}/product-verification", status_code=202, response_model=Accepted)
async def product_verification(
    prescription_id: str,
    body: VerificationDecision,
    request: Request,
    user: User = Depends(LICENSED_PHARMACIST),
    idempotency_key: str | None = Header(default=None),
) -> Accepted:
    """Pharmacist only: the final check before the medication is released."""
    command = RecordVerification(
        prescription_id=prescription_id, stage="product", approve=body.approve, reason=body.reason
    )
    return await act(request, user, prescription_id, command, idempotency_key, (RxState.PRODUCT_VERIFICATION,))


@router.post("/prescriptions/{prescription_id}/claim-resolution", status_code=202, response_model=Accepted)
async def claim_resolution(
    prescription_id: str,
    body: ClaimResolution,
    request: Request,
    user: User = Depends(require(*HANDS_ON)),
    idempotency_key: str | None = Header(default=None),
) -> Accepted:
    """Resubmit (prior auth, or DUR/PPS codes: licensed pharmacist only), bill as cash, or cancel."""
    if body.dur_pps is not None and user.role != Role.PHARMACIST.value:
        await forbid(request, user, "DUR/PPS override codes need a pharmacist")
    if body.dur_pps is not None and not user.licence:
        await forbid(request, user, f"{user.name} has no licence number on file: DUR/PPS override codes need one")
    command = ResolveClaimRejection(
        prescription_id=prescription_id,
        action=body.action,
        prior_auth_number=body.prior_auth_number,
        dur_pps=body.dur_pps,
        cash_amount=body.cash_amount,
        reason=body.reason,
        days_supply=body.days_supply,
        clarification_codes=body.clarification_codes,
        coverage=body.coverage.coverage() if body.coverage else None,
    )
    return await act(request, user, prescription_id, command, idempotency_key, (RxState.CLAIM_REJECTED,))


@router.post("/prescriptions/{prescription_id}/product", status_code=202, response_model=Accepted)
async def select_product(
    prescription_id: str,
    body: ProductChoice,
    request: Request,
    user: User = Depends(require(*HANDS_ON)),
    idempotency_key: str | None = Header(default=None),
) -> Accepted:
    """Choose the catalogue product for an order that named none we can dispense: an NDC not in the catalogue,
    or one the order says is another drug, is refused at once (422)."""
    command = SelectProduct(prescription_id=prescription_id, ndc=body.ndc)
    row, rx = await read_prescription(request, prescription_id)
    await check_product(request, user, rx, body.ndc, command=command.name)
    return await send_about(request, user, row, command, idempotency_key)


@router.post("/prescriptions/{prescription_id}/dispense", status_code=202, response_model=Accepted)
async def dispense(
    prescription_id: str,
    request: Request,
    user: User = Depends(require(*HANDS_ON)),
    idempotency_key: str | None = Header(default=None),
) -> Accepted:
    """Picked up (retail) or delivered to the unit (inpatient)."""
    command = DispensePrescription(prescription_id=prescription_id)
    _, rx = await read_prescription(request, prescription_id)
    await check_return_window(request, user, rx, command=command.name)
    return await act(request, user, prescription_id, command, idempotency_key, (RxState.READY,))


@router.post("/prescriptions/{prescription_id}/short-stock", status_code=202, response_model=Accepted)
async def short_stock(
    prescription_id: str,
    body: ShortStockDecision,
    request: Request,
    user: User = Depends(require(*HANDS_ON)),
    idempotency_key: str | None = Header(default=None),
) -> Accepted:
    """For a fill the shelf cannot cover (``short_stock`` on the fill): a partial fill now, or wait for stock; a
    1306.13(b) designation (terminally ill, LTCF patient) needs a licensed pharmacist."""
    if body.designation is not None and (user.role != Role.PHARMACIST.value or not user.licence):
        await forbid(request, user, "only a licensed pharmacist records a patient as terminally ill or LTCF")
    _, rx = await read_prescription(request, prescription_id)
    fill = rx.current_fill
    if fill.state is RxState.FILLING and fill.short_stock is None:
        await refuse(
            request,
            user,
            409,
            f"fill {fill.fill_number} is not short of stock",
            command="DecideShortStock",
            prescription_id=prescription_id,
        )
    command = DecideShortStock(
        prescription_id=prescription_id,
        fill_number=fill.fill_number,
        choice=body.choice,
        reason=body.reason,
        requested_by=body.requested_by,
        designation=body.designation,
    )
    return await act(request, user, prescription_id, command, idempotency_key, (RxState.FILLING,))


@router.post("/prescriptions/{prescription_id}/return-to-stock", status_code=202, response_model=Accepted)
async def return_to_stock(
    prescription_id: str,
    body: Reason,
    request: Request,
    user: User = Depends(require(*HANDS_ON)),
    idempotency_key: str | None = Header(default=None),
) -> Accepted:
    """Not picked up: back to stock, with the claim reversed."""
    command = ReturnToStock(prescription_id=prescription_id, reason=body.reason)
    return await act(request, user, prescription_id, command, idempotency_key, (RxState.READY,))


@router.post("/prescriptions/{prescription_id}/cancel", status_code=202, response_model=Accepted)
async def cancel(
    prescription_id: str,
    body: Reason,
    request: Request,
    user: User = Depends(require(*HANDS_ON)),
    idempotency_key: str | None = Header(default=None),
) -> Accepted:
    """Cancel before it is dispensed (a paid claim is reversed); after, no further refill is made."""
    command = CancelByPharmacy(prescription_id=prescription_id, reason=body.reason)
    return await act(request, user, prescription_id, command, idempotency_key, _CANCELLABLE)


@router.post("/prescriptions/{prescription_id}/refill", status_code=202, response_model=Accepted)
async def refill(
    prescription_id: str,
    request: Request,
    user: User = Depends(require(*HANDS_ON)),
    idempotency_key: str | None = Header(default=None),
) -> Accepted:
    """A patient asks for a refill; with none left it is refused and the prescriber asked to renew."""
    row, rx = await read_prescription(request, prescription_id)
    command = RequestRefill(prescription_id=prescription_id)
    if rx.closed_reason is not None:
        await refuse(
            request,
            user,
            409,
            f"Rx {rx.rx_number} is closed ({rx.closed_reason}): no refill can be made",
            command=command.name,
            prescription_id=prescription_id,
        )
    if rx.current_fill.completion_due:  # the rest of a partial fill is its completion, never a refill
        fill = rx.current_fill
        owed = f"{fill.owed.normalize():f} of fill {fill.fill_number} of Rx {rx.rx_number} still owed"
        reason = f"{owed}: dispense the rest (POST /api/prescriptions/{prescription_id}/completion)"
        await refuse(request, user, 409, reason, command=command.name, prescription_id=prescription_id)
    await require_state(request, user, prescription_id, rx.state.value, _REFILLABLE, command=command.name)
    accepted = await send_about(request, user, row, command, idempotency_key)
    if rx.refills_remaining <= 0:
        # still queued: the worker records the refusal and asks the prescriber to renew
        raise HTTPException(
            409,
            {
                "reason": f"no refills remaining on Rx {rx.rx_number}",
                "renewal": "requested from the prescriber",
                "command_id": accepted.command_id,
            },
        )
    return accepted


@router.post("/verbal-orders", status_code=202, response_model=Accepted)
async def verbal_order(
    body: VerbalOrder,
    request: Request,
    user: User = Depends(LICENSED_PHARMACIST),
    idempotency_key: str | None = Header(default=None),
) -> Accepted:
    """Licensed pharmacist only: a prescription taken by telephone and read back becomes a ReceivePrescription
    (source verbal), recorded as taken by this pharmacist; the command's outcome names the new prescription."""
    placer = body.placer_order_number or f"VO-{uuid.uuid4().hex[:10].upper()}"
    try:
        command = ReceivePrescription(
            placer_system="verbal",
            placer_order_number=placer,
            taken_by=user.id,
            **body.model_dump(exclude={"placer_order_number", "read_back_confirmed"}),
        )
    except ValidationError as exc:  # a rule of the order itself, not of the request's shape: still the caller's
        raise RequestValidationError(exc.errors(include_url=False)) from None
    storable(command)
    await check_verbal_order(request, user, body, command=command.name)
    return await send_command(
        request,
        user,
        command,
        correlation_id=order_correlation_id("verbal", placer),
        prescription_id=None,
        idempotency_key=idempotency_key,
        source=Source.VERBAL,
        detail={"taken_by": user.name, "licence": user.licence},
    )


@router.get("/me")
def me(user: User = Depends(current_user)) -> dict[str, str]:
    """Who the token belongs to (the console uses it to show only the actions a role may take)."""
    return {"id": user.id, "name": user.name, "role": user.role}
