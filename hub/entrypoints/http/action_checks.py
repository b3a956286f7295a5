"""What a staff action is checked against before its command is queued, so that staff get the answer at once.

The worker checks every rule again (the domain keeps its own checks: defence in depth); these spare a pharmacist
a 202 for an action the worker would refuse later: 409 when the prescription's state or its open alerts forbid
it, 422 when the request names what does not exist or does not fit the order. Every refusal is audited with
its reason, like the gate's 403s (``hub.entrypoints.http.auth.forbid``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, NoReturn

from fastapi import FastAPI, HTTPException, Request

from hub.domain.catalogue import Catalogue, Product
from hub.domain.identifiers import dea_is_valid
from hub.domain.prescription import Prescription
from hub.domain.product_match import product_mismatch
from hub.domain.return_window import ReturnWindowPassed, check_sale, window_days
from hub.domain.states import RxState
from hub.entrypoints.http.dependencies import services_of
from hub.entrypoints.http.staff_models import VerbalOrder
from hub.persistence.users import User


async def refuse(
    request: Request,
    user: User,
    status: int,
    reason: str,
    *,
    command: str,
    prescription_id: str | None = None,
    **facts: Any,
) -> NoReturn:
    """Answer ``status`` with the reason (and ``facts``: the alerts, the state), audited as refused."""
    await services_of(request.app).audit.record_soon(
        actor=user.name,
        role=user.role,
        action=f"request {command}",
        outcome="refused",
        prescription_id=prescription_id,
        detail={"status": status, "reason": reason, **facts},
    )
    raise HTTPException(status, {"reason": reason, **facts})


async def require_state(
    request: Request, user: User, prescription_id: str, state: str, allowed: Sequence[RxState], *, command: str
) -> None:
    """409 unless the prescription's state is one the action starts from."""
    if RxState(state) not in allowed:
        needed = ", ".join(s.value for s in allowed)
        await refuse(
            request,
            user,
            409,
            f"prescription is {state}; this action needs {needed}",
            command=command,
            prescription_id=prescription_id,
            state=state,
        )


async def check_verification(
    request: Request, user: User, rx: Prescription, *, approve: bool, overrides: Sequence[tuple[str, str]], command: str
) -> None:
    """Data verification: its state; overrides name alerts the prescription has, and say why; an approval leaves
    no high-severity alert of the fill without an override (``UnresolvedAlerts`` in the worker)."""
    pid = rx.prescription_id
    await require_state(request, user, pid, rx.state.value, (RxState.DATA_VERIFICATION,), command=command)
    known = {a.alert_id for a in rx.alerts}
    unknown = sorted({alert_id for alert_id, _ in overrides} - known)
    if unknown:
        await refuse(
            request,
            user,
            422,
            f"Rx {rx.rx_number} has no alert {', '.join(unknown)}",
            command=command,
            prescription_id=pid,
        )
    if any(not why.strip() for _, why in overrides):
        await refuse(
            request, user, 422, "an override needs the pharmacist's reason", command=command, prescription_id=pid
        )
    open_alerts = rx.open_alerts(answered=[alert_id for alert_id, _ in overrides])
    if approve and open_alerts:
        alerts = [
            {"alert_id": a.alert_id, "severity": a.severity.value, "kind": a.kind.value, "text": a.text}
            for a in open_alerts
        ]
        await refuse(
            request,
            user,
            409,
            f"override or resolve alerts {', '.join(a.alert_id for a in open_alerts)} before approving",
            command=command,
            prescription_id=pid,
            alerts=alerts,
        )


async def check_product(request: Request, user: User, rx: Prescription, ndc11: str, *, command: str) -> Product:
    """A product choice: the prescription waits for one, the NDC is in the catalogue, and nothing in the order
    says it is another drug (``hub.domain.product_match``)."""
    pid = rx.prescription_id
    await require_state(request, user, pid, rx.state.value, (RxState.NEEDS_PRODUCT,), command=command)
    known = catalogue(request.app)
    product = known.by_ndc(ndc11)
    if product is None:
        await refuse(
            request, user, 422, f"NDC {ndc11} is not in the drug catalogue", command=command, prescription_id=pid
        )
    mismatch = product_mismatch(rx.drug, product, known)
    if mismatch is not None:
        await refuse(
            request,
            user,
            422,
            f"NDC {ndc11} does not match the order: {mismatch}",
            command=command,
            prescription_id=pid,
        )
    return product


async def check_verbal_order(request: Request, user: User, body: VerbalOrder, *, command: str) -> None:
    """The read-back was done, and a controlled substance names its prescriber's DEA number (21 CFR 1306.05)."""
    if not body.read_back_confirmed:
        await refuse(
            request,
            user,
            422,
            "read the order back to the prescriber and confirm it (read_back_confirmed: true)",
            command=command,
        )
    schedule = controlled_schedule(catalogue(request.app), body)
    if schedule is None:
        return
    dea = (body.prescriber.dea or "").strip()
    if not dea:
        await refuse(
            request, user, 422, f"a Schedule {schedule} drug needs the prescriber's DEA number", command=command
        )
    if not dea_is_valid(dea):
        await refuse(request, user, 422, f"DEA number {dea!r} fails its check digit", command=command)


def controlled_schedule(known: Catalogue, body: VerbalOrder) -> str | None:
    """The DEA schedule of the ordered drug, as the order declares it or the catalogue knows it (by NDC or
    RxNorm), or None when it is not controlled."""
    products = [p for p in (known.by_ndc(body.drug.ndc),) if p] if body.drug.ndc else []
    if body.drug.rxnorm:
        products += known.by_rxcui(body.drug.rxnorm)
    schedules = sorted({s for s in (body.drug.schedule, *(p.schedule for p in products)) if s})
    return schedules[0] if schedules else None


def catalogue(app: FastAPI) -> Catalogue:
    """The drug catalogue the workers use (``RXHUB_CATALOGUE_PATH``), read once per app."""
    return services_of(app).catalogue


async def check_return_window(request: Request, user: User, rx: Prescription, *, command: str) -> None:
    """409 for a pickup past the plan's return-to-stock window (the fill worker refuses it too)."""
    fill = rx.current_fill
    services = services_of(request.app)
    days = window_days(fill, services.payer_sheets, services.settings.return_to_stock_days)
    try:
        check_sale(fill, datetime.now(UTC), days)
    except ReturnWindowPassed as passed:
        await refuse(request, user, 409, str(passed), command=command, prescription_id=rx.prescription_id)
