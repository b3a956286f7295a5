"""Short stock: no partial fill without a person's choice and reason; schedule II within 21 CFR 1306.13."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from hub.domain.inventory import Allocation, allocate
from hub.domain.partial_fill import (
    PartialDecision,
    PartialFillRefused,
    RequestedBy,
    ShortStockChoice,
    ShortStockUndecided,
    check_completion,
    check_total,
    completion_deadline,
)
from hub.domain.prescription import Prescription
from hub.domain.states import RxState
from hub.errors import NotAuthorized
from tests.unit.domain.builders import (
    LISINOPRIL,
    NOW,
    PHARMACIST,
    PHARMACY,
    SYSTEM,
    TECHNICIAN,
    reach,
    stock,
)

WRITTEN = date(2026, 3, 1)


def _short(rx: Prescription, on_shelf: str = "12") -> Allocation:
    return allocate(stock(quantity=on_shelf), LISINOPRIL, Decimal("30"), NOW.date())


def test_a_short_pick_waits_for_a_persons_choice() -> None:
    rx = reach(RxState.FILLING)
    allocation = _short(rx)
    with pytest.raises(ShortStockUndecided, match="12 of 30 in stock"):
        rx.complete_fill(TECHNICIAN, NOW, allocation, PHARMACY)
    assert rx.note_short_stock(NOW, allocation) == []
    short = rx.current_fill.short_stock
    assert short is not None and (short.available, short.needed) == (Decimal("12"), Decimal("30"))
    assert rx.state is RxState.FILLING and rx.current_fill.picks == []


def test_waiting_for_stock_still_refuses_the_short_pick() -> None:
    rx = reach(RxState.FILLING)
    rx.note_short_stock(NOW, _short(rx))
    rx.decide_short_stock(TECHNICIAN, NOW, ShortStockChoice.WAIT, "delivery tomorrow")
    with pytest.raises(ShortStockUndecided):
        rx.complete_fill(TECHNICIAN, NOW, _short(rx), PHARMACY)
    full = allocate(stock(quantity="30"), LISINOPRIL, Decimal("30"), NOW.date())
    rx.complete_fill(TECHNICIAN, NOW, full, PHARMACY)
    assert rx.current_fill.owed == 0 and rx.current_fill.short_stock is None


def test_a_chosen_partial_fill_keeps_who_why_and_what_is_owed() -> None:
    rx = reach(RxState.FILLING)
    rx.note_short_stock(NOW, _short(rx))
    rx.decide_short_stock(PHARMACIST, NOW, ShortStockChoice.PARTIAL, "back-order", RequestedBy.PHARMACY)
    assert rx.state is RxState.CLAIM_PENDING, "the claim paid whole is billed again for the part"
    rx.claim_paid(SYSTEM, NOW, total_paid=Decimal("4"), patient_pay=Decimal("1"))
    rx.approve_data_verification(PHARMACIST, NOW)
    part = allocate(stock(quantity="12"), LISINOPRIL, Decimal("12"), NOW.date())
    rx.complete_fill(TECHNICIAN, NOW, part, PHARMACY)
    fill = rx.current_fill
    assert fill.partial is not None and fill.partial.decided_by == PHARMACIST.user_id
    assert fill.partial.reason == "back-order" and fill.owed == 18 and fill.quantity_dispensed == 12


def test_only_staff_decide_and_only_when_short() -> None:
    rx = reach(RxState.FILLING)
    with pytest.raises(PartialFillRefused, match="not short"):
        rx.decide_short_stock(TECHNICIAN, NOW, ShortStockChoice.PARTIAL, "why not")
    rx.note_short_stock(NOW, _short(rx))
    with pytest.raises(NotAuthorized):
        rx.decide_short_stock(SYSTEM, NOW, ShortStockChoice.PARTIAL, "automatic")
    with pytest.raises(ValueError):
        rx.decide_short_stock(TECHNICIAN, NOW, ShortStockChoice.PARTIAL, "")


def _decision(by: RequestedBy) -> PartialDecision:
    return PartialDecision(choice=ShortStockChoice.PARTIAL, reason="short", requested_by=by, decided_by="t", at=NOW)


def test_schedule_ii_rest_within_72_hours_when_the_pharmacy_is_short() -> None:
    decision = _decision(RequestedBy.PHARMACY)
    assert completion_deadline("2", decision, WRITTEN) == NOW + timedelta(hours=72)
    check_completion("2", decision, WRITTEN, NOW + timedelta(hours=71))
    with pytest.raises(PartialFillRefused, match="72 hours"):
        check_completion("2", decision, WRITTEN, NOW + timedelta(hours=73))


def test_schedule_ii_rest_within_30_days_of_writing_when_requested() -> None:
    decision = _decision(RequestedBy.PATIENT)
    check_completion("2", decision, WRITTEN, NOW + timedelta(days=20))
    with pytest.raises(PartialFillRefused, match="30 days of the date written"):
        check_completion("2", decision, WRITTEN, NOW + timedelta(days=31))


def test_other_schedules_have_no_1306_13_deadline() -> None:
    assert completion_deadline("3", _decision(RequestedBy.PHARMACY), WRITTEN) is None
    assert completion_deadline(None, _decision(RequestedBy.PHARMACY), WRITTEN) is None


def test_the_total_never_exceeds_the_quantity_prescribed() -> None:
    check_total(Decimal("30"), Decimal("12"), Decimal("18"))
    with pytest.raises(PartialFillRefused, match="exceed the 30 prescribed"):
        check_total(Decimal("30"), Decimal("12"), Decimal("19"))
    check_total(None, Decimal("12"), Decimal("100"))
