"""The plan's return-to-stock window: a READY fill not picked up within it goes back and its claim is reversed.

Payers recoup a claim whose prescription was not picked up within their window (10 to 15 days by PBM), so a
fill past it is returned to stock with its B2, and a sale after it is refused. A patient who comes for it later
gets it rebilled: once the payer has answered the B2, a fresh B1 for the same fill (``rebill_refusal`` says when
not), and, paid, the fill goes the ordinary way again (pharmacist's check, picked from the shelf its stock went
back to, product check) to will-call, where its window starts again.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from hub.domain.claim import ClaimStatus
from hub.domain.fill import Fill
from hub.domain.payer_sheet import PayerSheets
from hub.domain.states import Action, RxState
from hub.errors import DomainError

#: the window when neither the payer sheet nor the settings name one
DEFAULT_WINDOW_DAYS = 14.0


class ReturnWindowPassed(DomainError):
    """The fill sat in will-call past its plan's return-to-stock window: it may not be sold on that claim."""


class RebillRefused(DomainError):
    """The fill is not one returned to stock past its window with its reversal answered: it is not rebilled."""


def ready_since(fill: Fill) -> datetime | None:
    """When the fill last reached will-call, None when it is not there."""
    if fill.state is not RxState.READY:
        return None
    arrivals = [step.at for step in fill.history if step.target is RxState.READY]
    return arrivals[-1] if arrivals else None


def window_days(fill: Fill, sheets: PayerSheets, default_days: float = DEFAULT_WINDOW_DAYS) -> float:
    """The window of the plan that paid the fill: its payer sheet's, else the default."""
    claim = fill.claim
    if claim is not None and claim.bin:
        sheet = sheets.for_plan(claim.bin, claim.pcn)
        if sheet is not None and sheet.return_to_stock_days is not None:
            return sheet.return_to_stock_days
    return default_days


def return_by(fill: Fill, days: float) -> datetime | None:
    """When a paid fill in will-call passes its window; None for a fill not there or not billed to a payer."""
    since = ready_since(fill)
    if since is None or not fill.claim_paid:
        return None
    return since + timedelta(days=days)


def past_window(fill: Fill, now: datetime, days: float) -> bool:
    """True when a READY fill billed to a payer has waited in will-call longer than ``days``.

    Cash fills have no claim to recoup and stay until a person returns them.
    """
    since = ready_since(fill)
    if since is None or not fill.claim_paid:
        return False
    return now - since > timedelta(days=days)


def check_sale(fill: Fill, now: datetime, days: float) -> None:
    """Refuse a pickup past the window: the payer would recoup the claim."""
    if past_window(fill, now, days):
        raise ReturnWindowPassed(
            f"fill {fill.fill_number} waited in will-call past its plan's {days:g}-day return-to-stock window; "
            "it must be returned to stock and rebilled before it is sold"
        )


def returned_past_window(fill: Fill, days: float) -> bool:
    """True when the fill was returned to stock after waiting in will-call longer than ``days``."""
    if fill.state is not RxState.RETURNED_TO_STOCK:
        return False
    returns = [i for i, step in enumerate(fill.history) if step.action is Action.RETURN_TO_STOCK]
    if not returns:
        return False
    arrivals = [step.at for step in fill.history[: returns[-1]] if step.target is RxState.READY]
    return bool(arrivals) and fill.history[returns[-1]].at - arrivals[-1] > timedelta(days=days)


def rebill_refusal(fill: Fill, now: datetime, days: float) -> str | None:
    """Why the fill may not be rebilled after its window, or None when it may: it must have been returned to stock
    past the window and the payer must have answered every reversal of its claims (a B1 sent while a B2 is still
    owed could leave the payer holding two paid claims for one fill)."""
    name = f"fill {fill.fill_number}"
    if fill.state is RxState.READY:
        if past_window(fill, now, days):
            return f"{name} is still in will-call past its plan's {days:g}-day window: return it to stock first"
        return f"{name} is within its plan's {days:g}-day return-to-stock window: sell it on its paid claim"
    if fill.state is not RxState.RETURNED_TO_STOCK:
        return f"{name} is {fill.state.value}: only a fill returned to stock past its window is rebilled"
    if not returned_past_window(fill, days):
        return f"{name} was returned to stock before its plan's {days:g}-day window passed: it is not rebilled"
    if fill.dispensing_status is not None:
        return f"{name} is a partial fill or its completion: it is not rebilled after its window"
    claims = [c for c in (*fill.earlier_claims, fill.claim) if c is not None]
    if any(c.status in (ClaimStatus.REVERSAL_REQUIRED, ClaimStatus.PAID) for c in claims):
        return f"the payer has not approved the reversal (B2) of {name}'s claim yet: it is rebilled once it has"
    if not any(c.status is ClaimStatus.REVERSED for c in claims):
        return f"{name} has no reversed claim to bill again"
    return None
