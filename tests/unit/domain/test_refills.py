"""Refills: counting, refusal reasons, expiry by schedule, and a refill's own workflow."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from hub.domain.order_parts import DrugInfo
from hub.domain.prescription import Prescription
from hub.domain.states import RxState
from hub.domain.validity import RefillRefused, add_months, expiry_date, refills_allowed
from hub.errors import DomainError, IllegalTransition, NotFound
from tests.unit.domain.builders import (
    HYDROCODONE,
    NOW,
    PHARMACIST,
    SYSTEM,
    TECHNICIAN,
    context,
    fill_from_stock,
    reach,
    received,
)


def dispense_current(rx: Prescription, now: datetime) -> None:
    """Run the current fill from RECEIVED to DISPENSED with a paid claim."""
    rx.intake(SYSTEM, now, context())
    rx.claim_paid(SYSTEM, now, total_paid=Decimal("5"), patient_pay=Decimal("1"))
    for alert in rx.alerts_for(rx.current_fill):
        if alert.blocking:
            rx.override_alert(PHARMACIST, now, alert.alert_id, "reviewed")
    rx.approve_data_verification(PHARMACIST, now)
    fill_from_stock(rx, now)
    rx.approve_product_verification(PHARMACIST, now)
    rx.dispense(TECHNICIAN, now)


def test_refill_decrements_remaining_until_refused_with_reason() -> None:
    rx = received(refills=2)
    day = NOW
    dispense_current(rx, day)
    for expected_remaining, number in ((1, 1), (0, 2)):
        day += timedelta(days=30)
        fill = rx.request_refill(TECHNICIAN, day)
        assert (fill.fill_number, fill.state, rx.refills_remaining) == (
            number,
            RxState.RECEIVED,
            expected_remaining,
        )
        dispense_current(rx, day)
    with pytest.raises(RefillRefused) as info:
        rx.request_refill(TECHNICIAN, day + timedelta(days=30))
    assert info.value.reason == "no refills remaining"
    assert isinstance(info.value, DomainError)


def test_refill_refused_while_previous_fill_in_progress() -> None:
    rx = reach(RxState.READY)
    with pytest.raises(RefillRefused) as info:
        rx.request_refill(TECHNICIAN, NOW)
    assert info.value.reason == "previous fill still in progress"
    assert rx.refills_remaining == 2 and len(rx.fills) == 1


def test_refill_refused_after_expiry() -> None:
    rx = reach(RxState.DISPENSED)
    after = datetime.combine(rx.expires_on + timedelta(days=1), NOW.timetz())
    with pytest.raises(RefillRefused) as info:
        rx.request_refill(TECHNICIAN, after)
    assert info.value.reason.startswith("prescription expired on ")
    on_last_day = datetime.combine(rx.expires_on, NOW.timetz())
    assert rx.request_refill(TECHNICIAN, on_last_day).fill_number == 1


def test_refill_refused_for_cancelled_prescription() -> None:
    rx = reach(RxState.DISPENSED)
    rx.cancel(SYSTEM, NOW, "therapy stopped")
    with pytest.raises(RefillRefused) as info:
        rx.request_refill(TECHNICIAN, NOW + timedelta(days=30))
    assert "cancelled" in info.value.reason


def test_schedule_ii_is_never_refilled() -> None:
    rx = received(drug=DrugInfo(ndc=HYDROCODONE, schedule="2"), refills=3)
    assert rx.refills_remaining == 0
    dispense_current(rx, NOW)
    with pytest.raises(RefillRefused) as info:
        rx.request_refill(TECHNICIAN, NOW + timedelta(days=30))
    assert "Schedule II" in info.value.reason


def test_schedule_from_the_catalogue_limits_refills_even_if_the_order_did_not_say() -> None:
    rx = received(drug=DrugInfo(ndc=HYDROCODONE), refills=3)
    assert rx.refills_remaining == 3
    rx.intake(SYSTEM, NOW, context())
    assert rx.schedule == "2" and rx.refills_remaining == 0
    assert rx.expires_on == add_months(rx.written_date, 6)


def test_refill_runs_its_own_workflow_and_early_refill_is_flagged() -> None:
    rx = received()
    dispense_current(rx, NOW)
    early = NOW + timedelta(days=10)
    rx.request_refill(TECHNICIAN, early)
    rx.intake(SYSTEM, early, context())
    kinds = [a.kind.value for a in rx.alerts_for(rx.current_fill) if a.fill_number == 1]
    assert kinds == ["early_refill"]
    assert rx.state is RxState.CLAIM_PENDING


def test_refill_on_time_has_no_early_refill_alert() -> None:
    rx = received()
    dispense_current(rx, NOW)
    on_time = NOW + timedelta(days=23)  # 75 % of 30 days
    rx.request_refill(TECHNICIAN, on_time)
    rx.intake(SYSTEM, on_time, context())
    assert [a for a in rx.alerts if a.fill_number == 1] == []


def test_returned_refill_gives_the_refill_back() -> None:
    rx = received(refills=1)
    dispense_current(rx, NOW)
    later = NOW + timedelta(days=30)
    rx.request_refill(TECHNICIAN, later)
    assert rx.refills_remaining == 0
    rx.intake(SYSTEM, later, context())
    rx.claim_paid(SYSTEM, later, total_paid=Decimal("5"), patient_pay=Decimal("1"))
    rx.approve_data_verification(PHARMACIST, later)
    fill_from_stock(rx, later)
    rx.approve_product_verification(PHARMACIST, later)
    rx.return_to_stock(TECHNICIAN, later + timedelta(days=14))
    assert rx.refills_remaining == 1


def test_payer_answer_for_a_finished_fill_is_refused() -> None:
    rx = received()
    dispense_current(rx, NOW)
    rx.request_refill(TECHNICIAN, NOW + timedelta(days=30))
    rx.intake(SYSTEM, NOW + timedelta(days=30), context())
    with pytest.raises(IllegalTransition):
        rx.claim_paid(SYSTEM, NOW, total_paid=None, patient_pay=None, fill_number=0)
    with pytest.raises(NotFound):
        rx.claim_paid(SYSTEM, NOW, total_paid=None, patient_pay=None, fill_number=7)
    rx.claim_paid(SYSTEM, NOW, total_paid=None, patient_pay=None, fill_number=1)
    assert rx.state is RxState.DATA_VERIFICATION


@pytest.mark.parametrize(
    ("schedule", "expected"),
    [(None, date(2027, 1, 15)), ("2", date(2026, 7, 15)), ("3", date(2026, 7, 15)), ("5", date(2026, 7, 15))],
)
def test_expiry_by_schedule(schedule: str | None, expected: date) -> None:
    assert expiry_date(date(2026, 1, 15), schedule) == expected


def test_expiry_date_arithmetic_edges() -> None:
    assert expiry_date(date(2024, 2, 29), None) == date(2025, 2, 28)
    assert add_months(date(2026, 8, 31), 6) == date(2027, 2, 28)
    assert add_months(date(2026, 12, 15), 1) == date(2027, 1, 15)


@pytest.mark.parametrize(("authorized", "schedule", "allowed"), [(11, None, 11), (9, "3", 5), (3, "2", 0), (2, "4", 2)])
def test_refills_allowed_by_law(authorized: int, schedule: str | None, allowed: int) -> None:
    assert refills_allowed(authorized, schedule) == allowed
