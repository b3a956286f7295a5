"""Stock by NDC and lot: first-expiry-first-out allocation, reservations and the reorder check.

Pure functions over lists of items: the caller loads the lots of one NDC, applies the result and saves it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal

from pydantic import field_validator

from hub.domain.identifiers import normalize_ndc
from hub.domain.lots import Pick
from hub.domain.order_parts import Frozen
from hub.domain.workflow_events import InventoryLow
from hub.errors import DomainError

__all__ = [
    "Allocation",
    "ExpiredLot",
    "InsufficientStock",
    "InventoryItem",
    "Pick",
    "allocate",
    "available_total",
    "check_receivable",
    "check_reorder",
    "consume",
    "release",
    "reserve",
]


class InsufficientStock(DomainError):
    """A reservation or release does not fit the lot's counts."""


class ExpiredLot(DomainError):
    """A delivery of a lot already past its expiry: no fill may use it, so it never goes on the shelf."""


def check_receivable(lot: str, expiry: date, today: date) -> None:
    """Refuse a lot that expired before today, however the delivery arrived (the API refuses it first)."""
    if expiry < today:
        raise ExpiredLot(f"lot {lot} expired on {expiry.isoformat()}: it may not go on the shelf")


class InventoryItem(Frozen):
    """One lot of one NDC on the shelf; ``reserved`` is stock picked for fills not yet sold."""

    ndc: str
    lot: str
    expiry: date
    on_hand: Decimal
    reserved: Decimal = Decimal("0")

    @field_validator("ndc")
    @classmethod
    def _ndc11(cls, value: str) -> str:
        return normalize_ndc(value)

    @property
    def available(self) -> Decimal:
        """What can still be picked from this lot."""
        return self.on_hand - self.reserved

    def dispensable_on(self, today: date) -> bool:
        """True when in date after today: a lot expiring today would be discarded the day it is sold."""
        return self.expiry > today


class Allocation(Frozen):
    """The result of picking stock for a fill: lots in FEFO order, and what is still owed if short."""

    ndc: str
    requested: Decimal
    picks: tuple[Pick, ...]
    owed: Decimal

    @property
    def allocated(self) -> Decimal:
        """Total quantity picked."""
        return sum((p.quantity for p in self.picks), Decimal("0"))

    @property
    def partial(self) -> bool:
        """True when stock was short and part of the quantity is owed to the patient."""
        return self.owed > 0


def allocate(items: Iterable[InventoryItem], ndc: str, quantity: Decimal, today: date) -> Allocation:
    """Pick ``quantity`` of ``ndc`` first-expiry-first-out, skipping lots out of date or with nothing free."""
    ndc11 = normalize_ndc(ndc)
    lots = sorted(
        (i for i in items if i.ndc == ndc11 and i.dispensable_on(today) and i.available > 0),
        key=lambda i: (i.expiry, i.lot),
    )
    picks: list[Pick] = []
    remaining = quantity
    for lot in lots:
        if remaining <= 0:
            break
        take = min(lot.available, remaining)
        picks.append(Pick(lot=lot.lot, expiry=lot.expiry, quantity=take))
        remaining -= take
    return Allocation(ndc=ndc11, requested=quantity, picks=tuple(picks), owed=max(remaining, Decimal("0")))


def reserve(items: Sequence[InventoryItem], ndc: str, picks: Iterable[Pick]) -> list[InventoryItem]:
    """The items with the picked quantities reserved."""
    return _adjust(items, ndc, picks, reserved_sign=1, on_hand_sign=0)


def release(items: Sequence[InventoryItem], ndc: str, picks: Iterable[Pick]) -> list[InventoryItem]:
    """The items with a reservation undone (product rejected, fill cancelled or returned to stock)."""
    return _adjust(items, ndc, picks, reserved_sign=-1, on_hand_sign=0)


def consume(items: Sequence[InventoryItem], ndc: str, picks: Iterable[Pick]) -> list[InventoryItem]:
    """The items after the reserved quantity left the pharmacy (dispensed or delivered)."""
    return _adjust(items, ndc, picks, reserved_sign=-1, on_hand_sign=-1)


def available_total(items: Iterable[InventoryItem], ndc: str, today: date) -> Decimal:
    """Free, in-date stock of one NDC across lots."""
    ndc11 = normalize_ndc(ndc)
    usable = (i.available for i in items if i.ndc == ndc11 and i.dispensable_on(today))
    return sum(usable, Decimal("0"))


def check_reorder(
    items: Iterable[InventoryItem],
    ndc: str,
    reorder_point: Decimal,
    today: date,
    prescription_id: str = "",
) -> InventoryLow | None:
    """An ``inventory.low`` event when free in-date stock has fallen under the reorder point."""
    available = available_total(items, ndc, today)
    if available >= reorder_point:
        return None
    return InventoryLow(
        prescription_id=prescription_id,
        ndc=normalize_ndc(ndc),
        available=available,
        reorder_point=reorder_point,
    )


def _adjust(
    items: Sequence[InventoryItem], ndc: str, picks: Iterable[Pick], reserved_sign: int, on_hand_sign: int
) -> list[InventoryItem]:
    ndc11 = normalize_ndc(ndc)
    result = list(items)
    for pick in picks:
        index = next((n for n, i in enumerate(result) if i.ndc == ndc11 and i.lot == pick.lot), None)
        if index is None:
            raise InsufficientStock(f"no lot {pick.lot} of NDC {ndc11} in stock")
        item = result[index]
        reserved = item.reserved + reserved_sign * pick.quantity
        on_hand = item.on_hand + on_hand_sign * pick.quantity
        if reserved < 0 or on_hand < 0 or reserved > on_hand:
            raise InsufficientStock(f"lot {pick.lot} of NDC {ndc11} cannot cover {pick.quantity}")
        result[index] = item.model_copy(update={"reserved": reserved, "on_hand": on_hand})
    return result
