"""The staff API: work queues, one prescription's story, and every action a technician or pharmacist takes.

Actions are commands: they are checked against what the API can see (role and licence, state, alerts, product:
403/409/422 at once, hub.entrypoints.http.action_checks), published durably (confirmed) and answered 202 with
a command id whose outcome ``GET /api/commands/{id}`` tells; the worker applies them and checks the rules
again (the pharmacist gate is enforced here *and* in the domain).
"""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Header, HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from sqlalchemy import Connection

from adapters.ncpdp.d0.reject_codes import describe_reject
from hub.domain.actors import Role
from hub.domain.catalogue import Product
from hub.domain.claim import CLARIFICATION_CODES, ClaimStatus
from hub.domain.commands import Command, ReceivePrescription
from hub.domain.fill import Fill
from hub.domain.order_parts import Source
from hub.domain.payer_sheet import SHEET_CODE
from hub.domain.prescription import Prescription
from hub.domain.return_window import DEFAULT_WINDOW_DAYS, return_by, window_days
from hub.domain.rx_claims import PAYER_REVERSED_CODE
from hub.domain.states import RxState
from hub.domain.storable import first_unstorable
from hub.domain.workflow_commands import (
    CancelByPharmacy,
    DecideShortStock,
    DispensePrescription,
    ReceiveInventory,
    RecordVerification,
    RequestRefill,
    ResolveClaimRejection,
    ReturnToStock,
    SelectProduct,
)
from hub.entrypoints.http.action_checks import (
    catalogue,
    check_product,
    check_return_window,
    check_verbal_order,
    check_verification,
    payer_sheets,
    refuse,
    require_state,
)
from hub.entrypoints.http.auth import current_user, forbid, require
from hub.entrypoints.http.idempotency_keys import accepted_before
from hub.entrypoints.http.record_routes import profile_line
from hub.entrypoints.http.staff_models import (
    Accepted,
    ClaimResolution,
    ProductChoice,
    QueueItem,
    Reason,
    ShortStockDecision,
    StockDelivery,
    VerbalOrder,
    VerificationDecision,
)
from hub.entrypoints.http.stock_routes import check_delivery
from hub.messaging.envelope import Envelope, derived_message_id, order_correlation_id
from hub.persistence.audit import AuditTrail
from hub.persistence.claims import ClaimLedger
from hub.persistence.command_outcomes import PENDING, outcome_row
from hub.persistence.database import read_connection
from hub.persistence.prescriptions import PrescriptionRepository, PrescriptionRow, load_aggregate
from hub.persistence.state_reads import PrescriptionStates
from hub.persistence.stock import StockRepository
from hub.persistence.users import User
from hub.security.principals import user_principal

router = APIRouter(prefix="/api", tags=["staff"])

STAFF = ("technician", "pharmacist", "admin")
HANDS_ON = ("technician", "pharmacist")
#: the pharmacist gate: the role, and a licence number on file (403 otherwise, audited)
LICENSED_PHARMACIST = require(Role.PHARMACIST.value, licensed=True)
#: a cancel is refused only once the prescription is closed (the worker ignores a second one)
_CANCELLABLE = tuple(s for s in RxState if s not in (RxState.CANCELLED, RxState.REJECTED))
#: a refill starts from a fill that came to rest
_REFILLABLE = (RxState.DISPENSED, RxState.RETURNED_TO_STOCK)

#: work queue name -> the fill states it shows
QUEUES: dict[str, tuple[RxState, ...]] = {
    "intake": (RxState.NEEDS_PRODUCT,),
    "claim-exceptions": (RxState.CLAIM_REJECTED,),
    "claims-pending": (RxState.CLAIM_PENDING,),
    "data-verification": (RxState.DATA_VERIFICATION,),
    "fill": (RxState.FILLING,),
    "product-verification": (RxState.PRODUCT_VERIFICATION,),
    "ready": (RxState.READY,),
}


def _row(request: Request, prescription_id: str) -> PrescriptionRow:
    with read_connection(request.app.state.engine) as conn:
        row = PrescriptionRepository(conn).get(prescription_id)
    if row is None:
        raise HTTPException(404, f"no prescription {prescription_id}")
    return row


def _storable(command: Command) -> None:
    """Text no database can hold is refused (422), as the doors refuse it, not accepted for a worker to fail on."""
    found = first_unstorable(command)
    if found is not None:
        raise HTTPException(422, found.describe(found.dotted() or "the request"))


async def _send(
    request: Request,
    user: User,
    command: Command,
    *,
    correlation_id: uuid.UUID,
    prescription_id: str | None,
    idempotency_key: str | None,
    source: Source = Source.API,
    detail: dict[str, Any] | None = None,
    checked: bool = False,
) -> Accepted:
    """Publish with confirms, audit, answer 202; an Idempotency-Key makes a retried request harmless (answered as
    before; 409 when it is reused for another action: ``accepted_before``, unless the caller ``checked`` it);
    text no database can hold is refused (``_storable``).
    The audit entry commits with the command's pending outcome: a 202 always has an outcome to ask for."""
    _storable(command)
    message_id = derived_message_id("api", user.id, idempotency_key) if idempotency_key else uuid.uuid4()
    envelope = Envelope.wrap(
        command,
        correlation_id=correlation_id,
        source=source,
        message_id=message_id,
        actor=user.id,
        principal=user_principal(user.name, user.role),
    )
    target = outcome_row(envelope, PENDING, prescription_id=prescription_id)["prescription_id"]
    if (
        idempotency_key
        and not checked
        and await accepted_before(request, message_id, envelope.type, target, idempotency_key)
    ):
        return Accepted(command_id=str(message_id), command=command.name, prescription_id=prescription_id)
    await request.app.state.sink.publish_commands([envelope])
    audit: AuditTrail = request.app.state.audit
    await audit.record_soon(
        actor=user.name,
        role=user.role,
        action=f"request {command.name}",
        prescription_id=prescription_id,
        detail={"command_id": str(message_id), **(detail or {})},
        queued=outcome_row(envelope, PENDING, prescription_id=prescription_id),
    )
    return Accepted(command_id=str(message_id), command=command.name, prescription_id=prescription_id)


async def _act(
    request: Request, user: User, prescription_id: str, command: Command, key: str | None, allowed: tuple[RxState, ...]
) -> Accepted:
    # what an action checks before it is queued: the state and the correlation id (not the document)
    states: PrescriptionStates = request.app.state.rx_states
    found = await states.state_of(prescription_id)
    if found is None:
        raise HTTPException(404, f"no prescription {prescription_id}")
    state, correlation_id = found
    if key:  # a retry is answered as before, even once the action moved the prescription on
        command_id = derived_message_id("api", user.id, key)
        if await accepted_before(request, command_id, command.name, prescription_id, key):
            return Accepted(command_id=str(command_id), command=command.name, prescription_id=prescription_id)
    await require_state(request, user, prescription_id, state, allowed, command=command.name)
    return await _send(
        request,
        user,
        command,
        correlation_id=uuid.UUID(correlation_id),
        prescription_id=prescription_id,
        idempotency_key=key,
        checked=True,
    )


async def _read(request: Request, prescription_id: str) -> tuple[PrescriptionRow, Prescription]:
    """The stored prescription and its aggregate, read on a worker thread (404 when there is none): for the
    checks that need more than its state (alerts, the ordered drug, refills)."""
    row = await asyncio.to_thread(_row, request, prescription_id)
    return row, load_aggregate(row)


#: most lines of a work queue (PrescriptionRepository.in_states' limit)
QUEUE_LIMIT = 200
#: past this many lines not yet rendered, the whole queue is read at once rather than row by row
_FEW = 20

QueueKey = tuple[str, int, str]


class QueueItems:
    """Each prescription's queue line, kept as JSON per (id, version, state).

    A stored aggregate changes only with its version (optimistic lock), so a poll reads the queue's ids,
    versions and states, and decodes and renders only the prescriptions that changed since the last poll.
    """

    def __init__(self, max_entries: int = 4096, window: Callable[[Fill], float] | None = None) -> None:
        self._max = max_entries
        #: a fill's return-to-stock window in days (will-call shows when it must be sold by)
        self._window = window or (lambda fill: DEFAULT_WINDOW_DAYS)
        self._lines: OrderedDict[QueueKey, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def cached(self, key: QueueKey) -> bytes | None:
        """The line of this version of a prescription, when it was rendered before."""
        with self._lock:
            return self._lines.get(key)

    def line(self, row: PrescriptionRow) -> bytes:
        """The JSON of one row's QueueItem."""
        key = (row.id, row.version, row.state)
        found = self.cached(key)
        if found is None:
            item = _item(load_aggregate(row), self._window).model_dump(mode="json")
            found = json.dumps(item, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()
            with self._lock:
                self._lines[key] = found
                while len(self._lines) > self._max:
                    self._lines.popitem(last=False)
        return found

    def queue(self, conn: Connection, states: list[str]) -> list[bytes]:
        """The lines of a work queue, oldest first."""
        repo = PrescriptionRepository(conn)
        keys = repo.queue_keys(states, QUEUE_LIMIT)
        lines = [self.cached(key) for key in keys]
        missing = [i for i, line in enumerate(lines) if line is None]
        if len(missing) > _FEW:
            return [self.line(row) for row in repo.in_states(states, QUEUE_LIMIT)]
        if missing:  # new or changed since the last poll, read in one query
            rows = repo.by_ids([keys[i][0] for i in missing])
            for i in missing:
                row = rows.get(keys[i][0])
                lines[i] = self.line(row) if row is not None and row.state in states else None
        return [line for line in lines if line is not None]


def queue_items(app: FastAPI) -> QueueItems:
    """The app's queue lines (made on first use)."""
    lines: QueueItems | None = getattr(app.state, "queue_items", None)
    if lines is None:
        days = app.state.settings.return_to_stock_days
        lines = app.state.queue_items = QueueItems(window=lambda fill: window_days(fill, payer_sheets(app), days))
    return lines


@router.get("/queues/{queue}", response_model=list[QueueItem])
def work_queue(queue: str, request: Request, user: User = Depends(require(*STAFF))) -> Response:
    """A work queue, oldest first."""
    if queue not in QUEUES:
        raise HTTPException(404, f"unknown queue; known: {', '.join(QUEUES)}")
    with read_connection(request.app.state.engine) as conn:
        lines = queue_items(request.app).queue(conn, [s.value for s in QUEUES[queue]])
    return Response(b"[" + b",".join(lines) + b"]", media_type="application/json")


def _item(rx: Prescription, window: Callable[[Fill], float] = lambda fill: DEFAULT_WINDOW_DAYS) -> QueueItem:
    fill = rx.current_fill
    detail: dict[str, Any] = {
        "fill_number": fill.fill_number,
        "alerts": [a.model_dump(mode="json") for a in rx.alerts_for(fill)],
    }
    if rx.product is not None:
        detail["ndc"] = rx.product.ndc11
    if fill.claim is not None:
        detail["claim"] = fill.claim.model_dump(mode="json")
        detail["patient_id"] = rx.patient_id  # an E1 eligibility check asks about the patient
        detail["reject_texts"] = {code: _reject_text(code) for code in fill.claim.reject_codes}
        if fill.claim.status is ClaimStatus.REJECTED:  # what a resubmission may add as 420-DK
            detail["clarification_choices"] = CLARIFICATION_CODES
        due = fill.patient_pay  # what will-call collects: the copay of a paid claim, or the cash price
        detail["amount_due"] = str(due) if due is not None else None
        sell_by = return_by(fill, window(fill))  # past it, pickup is refused (hub.domain.return_window)
        detail["return_by"] = sell_by.isoformat() if sell_by else None
    if fill.needs_product_reason:
        detail["needs_product_reason"] = fill.needs_product_reason
    if fill.short_stock is not None:  # the fill queue's choice: partial fill now or wait for stock
        detail["short_stock"] = fill.short_stock.model_dump(mode="json")
        detail["partial"] = fill.partial.model_dump(mode="json") if fill.partial else None
    if fill.label is not None:
        detail["picks"] = [p.model_dump(mode="json") for p in fill.picks]
        detail["label"] = fill.label.model_dump(mode="json")
    return QueueItem(
        prescription_id=rx.prescription_id,
        rx_number=rx.rx_number,
        state=fill.state.value,
        setting=rx.setting.value,
        patient=rx.patient_name,
        drug=(rx.product.display_name if rx.product else rx.drug.text or rx.drug.ndc),
        quantity=str(fill.quantity) if fill.quantity is not None else None,
        waiting_since=(fill.history[-1].at if fill.history else fill.created_at).isoformat(),
        detail=detail,
    )


def _reject_text(code: str) -> str:
    """NCPDP 511-FB reject codes in words, plus the hub's own codes for unanswered claims."""
    own = {
        "TO": "No answer from the payer in time: the claim is being reversed before any resubmission",
        "ND": "No payer connection for this BIN: the claim was never sent",
        SHEET_CODE: "Not sent: the claim lacks fields the payer sheet requires (named in the payer message)",
        PAYER_REVERSED_CODE: "The payer approved a late reversal of this paid claim: rebill it",
    }
    return own.get(code) or describe_reject(code).text


@router.get("/patients/{patient_id}/prescriptions")
def patient_profile(patient_id: str, request: Request, user: User = Depends(require(*STAFF))) -> list[dict[str, Any]]:
    """The patient's medication profile (for the pharmacist's DUR review); the read is audited."""
    with read_connection(request.app.state.engine) as conn:
        rows = PrescriptionRepository(conn).for_patient(patient_id)
    audit: AuditTrail = request.app.state.audit
    audit.record(actor=user.name, role=user.role, action="read patient profile", patient_id=patient_id)
    return [profile_line(load_aggregate(row)) for row in rows]


@router.get("/prescriptions/{prescription_id}")
def prescription(prescription_id: str, request: Request, user: User = Depends(require(*STAFF))) -> dict[str, Any]:
    """One prescription with its whole timeline (every read of patient details is audited)."""
    row = _row(request, prescription_id)
    rx = load_aggregate(row)
    audit: AuditTrail = request.app.state.audit
    audit.record(
        actor=user.name,
        role=user.role,
        action="read prescription",
        prescription_id=prescription_id,
        patient_id=rx.patient_id,
    )
    with read_connection(request.app.state.engine) as conn:
        claims = ClaimLedger(conn).for_prescription(prescription_id)
    entries = audit.query(prescription_id=prescription_id)
    return {
        "prescription": rx.model_dump(mode="json"),
        "state": rx.state.value,
        "claims": [c.__dict__ for c in claims],
        # the audit (reads, refusals, their details) is for pharmacists and admins; technicians see the actions
        **(
            {"actions": _actions(entries)}
            if user.role == "technician"
            else {"audit": [e.__dict__ | {"at": e.at.isoformat()} for e in entries]}
        ),
    }


def _actions(entries: list[Any]) -> list[dict[str, Any]]:
    """What was done to a prescription, from its audit entries: who asked for or applied which command, when."""
    return [
        {"at": e.at.isoformat(), "actor": e.actor, "role": e.role, "action": e.action, "outcome": e.outcome}
        for e in entries
        if e.action.startswith(("request ", "apply "))
    ]


@router.get("/prescriptions")
def find(
    request: Request,
    rx_number: str | None = None,
    placer_order_number: str | None = None,
    user: User = Depends(require(*STAFF)),
) -> list[dict[str, str]]:
    """Find prescriptions by Rx number or placer order number."""
    with read_connection(request.app.state.engine) as conn:
        repo = PrescriptionRepository(conn)
        rows = (
            [repo.by_rx_number(rx_number)]
            if rx_number
            else ([repo.by_placer(None, placer_order_number)] if placer_order_number else [])
        )
    return [
        {
            "prescription_id": r.id,
            "rx_number": r.rx_number,
            "state": r.state,
            "placer_order_number": r.placer_order_number,
        }
        for r in rows
        if r is not None
    ]


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
        return await _act(request, user, prescription_id, command, idempotency_key, (RxState.DATA_VERIFICATION,))
    row, rx = await _read(request, prescription_id)
    await check_verification(request, user, rx, approve=body.approve, overrides=body.overrides, command=command.name)
    return await _send(
        request,
        user,
        command,
        correlation_id=uuid.UUID(row.correlation_id),
        prescription_id=prescription_id,
        idempotency_key=idempotency_key,
    )


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
    return await _act(request, user, prescription_id, command, idempotency_key, (RxState.PRODUCT_VERIFICATION,))


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
    return await _act(request, user, prescription_id, command, idempotency_key, (RxState.CLAIM_REJECTED,))


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
    row, rx = await _read(request, prescription_id)
    await check_product(request, user, rx, body.ndc, command=command.name)
    return await _send(
        request,
        user,
        command,
        correlation_id=uuid.UUID(row.correlation_id),
        prescription_id=prescription_id,
        idempotency_key=idempotency_key,
    )


@router.post("/prescriptions/{prescription_id}/dispense", status_code=202, response_model=Accepted)
async def dispense(
    prescription_id: str,
    request: Request,
    user: User = Depends(require(*HANDS_ON)),
    idempotency_key: str | None = Header(default=None),
) -> Accepted:
    """Picked up (retail) or delivered to the unit (inpatient)."""
    command = DispensePrescription(prescription_id=prescription_id)
    _, rx = await _read(request, prescription_id)
    await check_return_window(request, user, rx, command=command.name)
    return await _act(request, user, prescription_id, command, idempotency_key, (RxState.READY,))


@router.post("/prescriptions/{prescription_id}/short-stock", status_code=202, response_model=Accepted)
async def short_stock(
    prescription_id: str,
    body: ShortStockDecision,
    request: Request,
    user: User = Depends(require(*HANDS_ON)),
    idempotency_key: str | None = Header(default=None),
) -> Accepted:
    """For a fill the shelf cannot cover (``short_stock`` on the fill): a partial fill now, or wait for stock."""
    _, rx = await _read(request, prescription_id)
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
    )
    return await _act(request, user, prescription_id, command, idempotency_key, (RxState.FILLING,))


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
    return await _act(request, user, prescription_id, command, idempotency_key, (RxState.READY,))


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
    return await _act(request, user, prescription_id, command, idempotency_key, _CANCELLABLE)


@router.post("/prescriptions/{prescription_id}/refill", status_code=202, response_model=Accepted)
async def refill(
    prescription_id: str,
    request: Request,
    user: User = Depends(require(*HANDS_ON)),
    idempotency_key: str | None = Header(default=None),
) -> Accepted:
    """A patient asks for a refill; with none left it is refused and the prescriber asked to renew."""
    row, rx = await _read(request, prescription_id)
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
    await require_state(request, user, prescription_id, rx.state.value, _REFILLABLE, command=command.name)
    accepted = await _send(
        request,
        user,
        command,
        correlation_id=uuid.UUID(row.correlation_id),
        prescription_id=prescription_id,
        idempotency_key=idempotency_key,
    )
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


@router.post("/inventory", status_code=202, response_model=Accepted)
async def receive_inventory(
    body: StockDelivery,
    request: Request,
    user: User = Depends(require(*HANDS_ON)),
    idempotency_key: str | None = Header(default=None),
) -> Accepted:
    """Receive a lot into stock; fills waiting for this NDC are retried (an unknown NDC or expired lot: 422)."""
    command = ReceiveInventory(ndc=body.ndc, lot=body.lot, expiry=body.expiry, quantity=body.quantity)
    await check_delivery(request, user, body, command=command.name)
    return await _send(
        request,
        user,
        command,
        correlation_id=derived_message_id("stock", body.ndc),
        prescription_id=None,
        idempotency_key=idempotency_key,
    )


@router.get("/inventory")
def inventory(request: Request, user: User = Depends(require(*STAFF))) -> list[dict[str, Any]]:
    """The shelf: lots, expiry, on hand and reserved, with the drug's name and the NDC as printed."""
    with read_connection(request.app.state.engine) as conn:
        lots = StockRepository(conn).all_lots()
    known = catalogue(request.app)
    return [item.model_dump(mode="json") | _named(known.by_ndc(item.ndc)) for item in lots]


def _named(product: Product | None) -> dict[str, str | None]:
    return {"drug": product.display_name if product else None, "ndc_printed": product.ndc if product else None}


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
    _storable(command)
    await check_verbal_order(request, user, body, command=command.name)
    return await _send(
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
