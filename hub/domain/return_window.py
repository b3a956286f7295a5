"""The plan's return-to-stock window: a READY fill not picked up within it goes back and its claim is reversed.

Payers recoup a claim whose prescription was not picked up within their window (10 to 15 days by PBM), so a
fill past it is returned to stock with its B2, and a sale after it is refused until the fill is rebilled.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from hub.domain.fill import Fill
from hub.domain.payer_sheet import PayerSheets
from hub.domain.states import RxState
from hub.errors import DomainError

#: the window when neither the payer sheet nor the settings name one
DEFAULT_WINDOW_DAYS = 14.0


class ReturnWindowPassed(DomainError):
    """The fill sat in will-call past its plan's return-to-stock window: it may not be sold on that claim."""


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
