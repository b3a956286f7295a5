"""A partial fill billed as 343-HD P, its rest completed as C on the same fill number; CII within 1306.13."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from hub.domain.inventory import InventoryItem, allocate
from hub.domain.order_parts import CoverageInfo, DrugInfo, QuantityInfo
from hub.domain.partial_events import FillCompletionStarted, FillPartiallyFilled
from hub.domain.partial_fill import DispensingStatus, PartialFillRefused, RequestedBy, ShortStockChoice
from hub.domain.prescription import Prescription
from hub.domain.states import RxState
from hub.domain.validity import RefillRefused
from hub.domain.workflow_events import ClaimSubmitted
from hub.errors import NotAuthorized
from tests.unit.domain.builders import (
    COVERAGE,
    HYDROCODONE,
    LISINOPRIL,
    NOW,
    PHARMACIST,
    PHARMACY,
    SYSTEM,
    TECHNICIAN,
    context,
    reach,
    received,
)


def _shelf(quantity: str, ndc: str = LISINOPRIL) -> list[InventoryItem]:
    return [InventoryItem(ndc=ndc, lot="LOT-A", expiry=date(2027, 6, 30), on_hand=Decimal(quantity))]


def _pick(rx: Prescription, on_shelf: str, ndc: str = LISINOPRIL) -> None:
    quantity = rx.current_fill.quantity
    assert quantity is not None
    rx.complete_fill(TECHNICIAN, NOW, allocate(_shelf(on_shelf, ndc), ndc, quantity, NOW.date()), PHARMACY)


def _pay(rx: Prescription) -> None:
    rx.claim_paid(SYSTEM, NOW, total_paid=Decimal("4.00"), patient_pay=Decimal("1.00"), authorization_number="A")


def _partial(rx: Prescription, on_shelf: str = "12", by: RequestedBy = RequestedBy.PHARMACY) -> list[object]:
    quantity = rx.current_fill.quantity
    assert quantity is not None and rx.product is not None
    rx.note_short_stock(NOW, allocate(_shelf(on_shelf, rx.product.ndc11), rx.product.ndc11, quantity, NOW.date()))
    return list(rx.decide_short_stock(TECHNICIAN, NOW, ShortStockChoice.PARTIAL, "back-order", by))


def _hand_over(rx: Prescription, on_shelf: str = "500") -> None:
    """Paid claim -> pharmacist -> pick -> product check -> picked up."""
    _pay(rx)
    rx.approve_data_verification(PHARMACIST, NOW)
    assert rx.product is not None
    _pick(rx, on_shelf, rx.product.ndc11)
    rx.approve_product_verification(PHARMACIST, NOW)
    rx.dispense(TECHNICIAN, NOW)


def test_a_partial_of_a_fill_paid_whole_is_billed_again_as_p_for_the_part() -> None:
    rx = reach(RxState.FILLING)
    paid = rx.current_fill.claim
    assert paid is not None and paid.attempt == 2
    partial, billed = _partial(rx)
    fill = rx.current_fill
    assert (fill.dispensing_status, fill.quantity, fill.quantity_intended) == (DispensingStatus.PARTIAL, 12, 30)
    assert (fill.days_supply, fill.days_supply_intended) == (12, 30)
    assert rx.state is RxState.CLAIM_PENDING and fill.claim is not None and fill.claim.attempt == 3
    assert fill.claim.submitted_at == paid.submitted_at, "a B3 keeps the date of service of the claim it replaces"
    assert isinstance(partial, FillPartiallyFilled) and partial.rebilled and partial.complete_by is None
    assert isinstance(billed, ClaimSubmitted) and billed.transaction == "B3" and billed.quantity == 12
    assert fill.claim.rebill and fill.claim.prior_auth_number == paid.prior_auth_number == "PA-1"


def test_the_part_is_picked_labelled_and_handed_over_with_the_rest_owed() -> None:
    rx = reach(RxState.FILLING)
    _partial(rx)
    _hand_over(rx, on_shelf="12")
    fill = rx.current_fill
    assert (fill.quantity_dispensed, fill.owed) == (12, 18) and fill.label is not None and fill.label.quantity == 12
    assert fill.completion_due
    with pytest.raises(RefillRefused, match="18 of fill 0 still owed"):
        rx.request_refill(TECHNICIAN, NOW + timedelta(days=40))


def test_the_part_billed_is_no_longer_on_the_shelf_waits_for_a_new_choice() -> None:
    rx = reach(RxState.FILLING)
    _partial(rx)
    _pay(rx)
    rx.approve_data_verification(PHARMACIST, NOW)
    shorter = allocate(_shelf("5"), LISINOPRIL, Decimal("12"), NOW.date())
    assert rx.awaits_choice(shorter)
    rx.note_short_stock(NOW, shorter)
    rx.decide_short_stock(TECHNICIAN, NOW, ShortStockChoice.PARTIAL, "even less")
    fill = rx.current_fill
    assert (fill.quantity, fill.quantity_intended, fill.claim.attempt if fill.claim else None) == (5, 30, 4)


def test_the_rest_is_a_completion_on_the_same_fill_number_billed_as_c() -> None:
    rx = reach(RxState.FILLING)
    _partial(rx)
    _hand_over(rx, on_shelf="12")
    started, billed = rx.start_completion(TECHNICIAN, NOW + timedelta(days=2))
    rest = rx.current_fill
    assert len(rx.fills) == 2 and rest.fill_number == 0 and rest.dispensing_status is DispensingStatus.COMPLETION
    assert (rest.quantity, rest.days_supply, rest.quantity_intended, rest.days_supply_intended) == (18, 18, 30, 30)
    assert rest.state is RxState.CLAIM_PENDING and rest.claim is not None and rest.claim.attempt == 4
    assert rest.claim.prior_auth_number == "PA-1" and not rest.claim.rebill
    assert isinstance(started, FillCompletionStarted) and started.dispensed_before == 12
    assert isinstance(billed, ClaimSubmitted) and billed.transaction == "B1" and billed.quantity == 18
    assert rx.fill(0) is rest, "answers about fill 0 now reach the completion"
    _hand_over(rx, on_shelf="18")
    assert (rest.quantity_dispensed, rest.owed, rest.state) == (18, 0, RxState.DISPENSED)
    assert rest.label is not None and rest.label.quantity == 18
    with pytest.raises(PartialFillRefused, match="not a picked-up partial fill"):
        rx.start_completion(TECHNICIAN, NOW + timedelta(days=3))
    assert rx.request_refill(TECHNICIAN, NOW + timedelta(days=40)).fill_number == 1


def test_a_completion_is_started_by_staff_only_and_never_as_a_partial_again() -> None:
    rx = reach(RxState.FILLING)
    _partial(rx)
    _hand_over(rx, on_shelf="12")
    with pytest.raises(NotAuthorized):
        rx.start_completion(SYSTEM, NOW)
    rx.start_completion(PHARMACIST, NOW)
    _pay(rx)
    rx.approve_data_verification(PHARMACIST, NOW)
    rx.note_short_stock(NOW, allocate(_shelf("3"), LISINOPRIL, Decimal("18"), NOW.date()))
    with pytest.raises(PartialFillRefused, match="dispensed whole"):
        rx.decide_short_stock(TECHNICIAN, NOW, ShortStockChoice.PARTIAL, "less again")


def test_a_cash_partial_is_not_billed_and_its_rest_is_cash() -> None:
    rx = received(coverage=None)
    rx.intake(SYSTEM, NOW, context())
    rx.approve_data_verification(PHARMACIST, NOW)
    (partial,) = _partial(rx)
    assert isinstance(partial, FillPartiallyFilled) and not partial.rebilled and rx.state is RxState.FILLING
    _pick(rx, "12")
    rx.approve_product_verification(PHARMACIST, NOW)
    rx.dispense(TECHNICIAN, NOW)
    (started,) = rx.start_completion(TECHNICIAN, NOW)
    assert isinstance(started, FillCompletionStarted) and started.quantity == 18
    rest = rx.current_fill
    assert rest.state is RxState.DATA_VERIFICATION and rest.claim is not None and rest.claim.status.value == "cash"


def _cii() -> Prescription:
    rx = received(drug=DrugInfo(ndc=HYDROCODONE, schedule="2"), refills=0)
    rx.intake(SYSTEM, NOW, context())
    _pay(rx)
    rx.approve_data_verification(PHARMACIST, NOW)
    return rx


def test_schedule_ii_rest_is_refused_after_72_hours_when_the_pharmacy_was_short() -> None:
    rx = _cii()
    (partial, _) = _partial(rx, "10")
    assert isinstance(partial, FillPartiallyFilled) and partial.complete_by == NOW + timedelta(hours=72)
    _hand_over(rx, on_shelf="10")
    late = NOW + timedelta(hours=73)
    assert "72 hours" in (rx.completion_refusal(late) or "")
    with pytest.raises(PartialFillRefused, match="72 hours"):
        rx.start_completion(TECHNICIAN, late)
    assert len(rx.fills) == 1 and rx.current_fill.owed == 20
    facts = rx.partial_facts(rx.current_fill)
    assert facts == {
        "dispensing_status": "P",
        "quantity_intended": "30",
        "owed": "20",
        "complete_by": (NOW + timedelta(hours=72)).isoformat(),
    }
    assert rx.completion_refusal(NOW + timedelta(hours=71)) is None


def test_schedule_ii_rest_asked_for_by_the_patient_keeps_30_days_from_writing() -> None:
    rx = _cii()
    _partial(rx, "10", by=RequestedBy.PATIENT)
    _hand_over(rx, on_shelf="10")
    assert rx.completion_refusal(NOW + timedelta(days=20)) is None
    with pytest.raises(PartialFillRefused, match="30 days of the date written"):
        rx.start_completion(TECHNICIAN, NOW + timedelta(days=31))


def test_schedule_ii_total_never_exceeds_the_quantity_prescribed() -> None:
    rx = _cii()
    _partial(rx, "10")
    _hand_over(rx, on_shelf="10")
    assert rx.quantity is not None
    rx.quantity = QuantityInfo(value=Decimal("25"), unit="EA")  # as if the prescription said less than billed
    with pytest.raises(PartialFillRefused, match="exceed the 25 prescribed"):
        rx.start_completion(TECHNICIAN, NOW)


def test_a_fill_billed_to_two_payers_waits_for_stock_rather_than_a_partial() -> None:
    secondary = CoverageInfo(bin="999003", pcn="SECPCN", group_id="SEC1", cardholder_id="SEC-CH-9")
    rx = received(other_coverages=(secondary,))
    rx.intake(SYSTEM, NOW, context(coverage=COVERAGE))
    rx.claim_paid(SYSTEM, NOW, total_paid=Decimal("4"), patient_pay=Decimal("5"), authorization_number="P1")
    rx.claim_paid(SYSTEM, NOW, total_paid=Decimal("5"), patient_pay=Decimal("0"), fill_number=0)
    rx.approve_data_verification(PHARMACIST, NOW)
    rx.note_short_stock(NOW, allocate(_shelf("12"), LISINOPRIL, Decimal("30"), NOW.date()))
    with pytest.raises(PartialFillRefused, match="billed to two payers"):
        rx.decide_short_stock(TECHNICIAN, NOW, ShortStockChoice.PARTIAL, "back-order")
    assert rx.decide_short_stock(TECHNICIAN, NOW, ShortStockChoice.WAIT, "delivery tomorrow") == []


def test_a_completion_returned_to_stock_gives_back_no_refill() -> None:
    rx = reach(RxState.DISPENSED)
    later = NOW + timedelta(days=40)
    assert rx.request_refill(TECHNICIAN, later).fill_number == 1 and rx.refills_remaining == 1
    rx.intake(SYSTEM, later, context())
    _pay(rx)
    rx.approve_data_verification(PHARMACIST, NOW)
    _partial(rx)
    _hand_over(rx, on_shelf="12")
    rx.start_completion(TECHNICIAN, later)
    _pay(rx)
    rx.approve_data_verification(PHARMACIST, NOW)
    _pick(rx, "18")
    rx.approve_product_verification(PHARMACIST, NOW)
    rx.return_to_stock(TECHNICIAN, later + timedelta(days=14))
    assert rx.current_fill.state is RxState.RETURNED_TO_STOCK and rx.refills_remaining == 1
