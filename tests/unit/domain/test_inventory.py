"""FEFO allocation, expired lots, partial fills, reservations and the reorder check."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from hub.domain.inventory import (
    InsufficientStock,
    InventoryItem,
    Pick,
    allocate,
    check_reorder,
    consume,
    release,
    reserve,
)
from hub.domain.workflow_commands import ReceiveInventory

NDC = "00054429725"
TODAY = date(2026, 3, 2)


def lot(name: str, expiry: date, on_hand: str, reserved: str = "0", ndc: str = NDC) -> InventoryItem:
    return InventoryItem(ndc=ndc, lot=name, expiry=expiry, on_hand=Decimal(on_hand), reserved=Decimal(reserved))


SHELF = [
    lot("LATE", date(2027, 12, 31), "100"),
    lot("EXPIRED", date(2026, 1, 31), "500"),
    lot("TODAY", TODAY, "500"),
    lot("SOON", date(2026, 6, 30), "20", reserved="5"),
    lot("OTHER-NDC", date(2026, 4, 1), "500", ndc="00378020801"),
    lot("EMPTY", date(2026, 5, 1), "10", reserved="10"),
]


def test_fefo_skips_expired_empty_and_other_ndc_lots() -> None:
    allocation = allocate(SHELF, NDC, Decimal("30"), TODAY)
    assert [(p.lot, p.quantity) for p in allocation.picks] == [("SOON", 15), ("LATE", 15)]
    assert allocation.owed == 0 and not allocation.partial and allocation.allocated == 30


def test_lot_expiring_today_is_not_dispensed() -> None:
    only_today = [lot("TODAY", TODAY, "50")]
    assert allocate(only_today, NDC, Decimal("10"), TODAY).picks == ()
    assert allocate(only_today, NDC, Decimal("10"), date(2026, 3, 1)).allocated == 10


def test_short_stock_gives_a_partial_fill_with_owed_quantity() -> None:
    allocation = allocate(SHELF, NDC, Decimal("200"), TODAY)
    assert allocation.allocated == 115 and allocation.owed == 85 and allocation.partial


def test_dashed_ndc_is_accepted() -> None:
    assert allocate(SHELF, "0054-4297-25", Decimal("1"), TODAY).ndc == NDC


def test_reserve_release_consume_keep_counts_consistent() -> None:
    allocation = allocate(SHELF, NDC, Decimal("30"), TODAY)
    reserved = reserve(SHELF, NDC, allocation.picks)
    assert {i.lot: i.reserved for i in reserved}["SOON"] == 20
    assert release(reserved, NDC, allocation.picks) == SHELF
    consumed = consume(reserved, NDC, allocation.picks)
    late = next(i for i in consumed if i.lot == "LATE")
    assert (late.on_hand, late.reserved) == (85, 0)


def test_reservation_beyond_stock_is_refused() -> None:
    with pytest.raises(InsufficientStock):
        reserve(SHELF, NDC, [Pick(lot="SOON", expiry=date(2026, 6, 30), quantity=Decimal("16"))])
    with pytest.raises(InsufficientStock):
        release(SHELF, NDC, [Pick(lot="NOPE", expiry=date(2026, 6, 30), quantity=Decimal("1"))])


def test_reorder_event_when_free_stock_falls_under_reorder_point() -> None:
    assert check_reorder(SHELF, NDC, Decimal("100"), TODAY) is None  # 115 free in date
    after = reserve(SHELF, NDC, allocate(SHELF, NDC, Decimal("30"), TODAY).picks)
    event = check_reorder(after, NDC, Decimal("100"), TODAY, prescription_id="rx-1")
    assert event is not None and event.name == "inventory.low"
    assert (event.ndc, event.available, event.reorder_point, event.prescription_id) == (NDC, 85, 100, "rx-1")


_lots = st.lists(
    st.builds(
        lambda n, days, on_hand, reserved: lot(
            f"L{n}", date.fromordinal(TODAY.toordinal() + days), str(on_hand), str(min(reserved, on_hand))
        ),
        st.integers(0, 10_000),
        st.integers(-30, 400),
        st.integers(0, 100),
        st.integers(0, 100),
    ),
    max_size=8,
    unique_by=lambda i: i.lot,
)


@given(_lots, st.integers(1, 500))
def test_allocation_properties(items: list[InventoryItem], quantity: int) -> None:
    allocation = allocate(items, NDC, Decimal(quantity), TODAY)
    assert allocation.allocated + allocation.owed == quantity
    expiries = [p.expiry for p in allocation.picks]
    assert expiries == sorted(expiries)
    assert all(p.expiry > TODAY and p.quantity > 0 for p in allocation.picks)
    by_lot = {i.lot: i for i in items}
    assert all(p.quantity <= by_lot[p.lot].available for p in allocation.picks)
    reserve(items, NDC, allocation.picks)  # never over-reserves


@pytest.mark.parametrize("spelled", ["00054429725", "00054-4297-25", "0054-4297-25"])
def test_a_delivery_is_recorded_under_the_ndc_11_whatever_its_spelling(spelled: str) -> None:
    delivery = ReceiveInventory(ndc=spelled, lot="L1", expiry=date(2030, 1, 1), quantity=Decimal(5))
    assert delivery.ndc == NDC


@pytest.mark.parametrize("unreadable", ["0054429725", "54-4297-25", "ABCDE-1234-12", ""])
def test_a_delivery_under_an_ndc_that_cannot_be_read_without_guessing_is_refused(unreadable: str) -> None:
    with pytest.raises(ValidationError, match="NDC"):
        ReceiveInventory(ndc=unreadable, lot="L1", expiry=date(2030, 1, 1), quantity=Decimal(5))
