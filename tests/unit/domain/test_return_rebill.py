"""A fill returned to stock past its plan's window is billed again (a fresh B1) for a patient who came after all:
only once the payer answered its reversal, and only for a fill that went back because its window passed."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from hub.domain.claim import ClaimStatus
from hub.domain.prescription import Prescription
from hub.domain.return_window import RebillRefused, check_sale
from hub.domain.rx_rebill import ReturnedFillRebill
from hub.domain.states import RxState
from hub.domain.workflow_events import ClaimSubmitted
from tests.unit.domain.builders import COVERAGE, NOW, PHARMACIST, SYSTEM, TECHNICIAN, at_state, fill_from_stock

DAYS = 14.0
RETURNED_AT = NOW + timedelta(days=15)
LATER = RETURNED_AT + timedelta(days=2)


def _returned(at: datetime = RETURNED_AT) -> Prescription:
    rx = at_state(RxState.READY)
    rx.return_to_stock(SYSTEM, at, "not picked up within the plan's return-to-stock window")
    return rx


def _reversal_approved(rx: Prescription) -> None:
    claim = rx.current_fill.claim
    assert claim is not None and claim.status is ClaimStatus.REVERSAL_REQUIRED
    rx.claim_reversed(SYSTEM, RETURNED_AT, fill_number=0, attempt=claim.attempt)


def test_a_fill_returned_past_its_window_is_billed_again_once_its_reversal_is_approved() -> None:
    rx = _returned()
    assert "not approved the reversal (B2)" in (ReturnedFillRebill(rx).refusal(LATER, DAYS) or "")
    with pytest.raises(RebillRefused):
        ReturnedFillRebill(rx).rebill(TECHNICIAN, LATER, DAYS)
    _reversal_approved(rx)
    assert ReturnedFillRebill(rx).refusal(LATER, DAYS) is None
    events = ReturnedFillRebill(rx).rebill(TECHNICIAN, LATER, DAYS)
    fill = rx.current_fill
    [submitted] = events
    assert isinstance(submitted, ClaimSubmitted)
    assert (submitted.transaction, submitted.attempt, submitted.payer, submitted.bin) == ("B1", 3, 1, COVERAGE.bin)
    assert submitted.date_of_service == LATER.date(), "a fresh claim for today, not the reversed one's date"
    assert rx.state is RxState.CLAIM_PENDING and fill.fill_number == 0
    assert fill.picks == [] and fill.label is None, "its stock went back to the shelf: it is picked again"
    assert fill.history[-1].actor_id == TECHNICIAN.user_id


def test_paid_again_it_goes_back_to_will_call_and_may_be_sold_in_its_new_window() -> None:
    rx = _returned()
    _reversal_approved(rx)
    ReturnedFillRebill(rx).rebill(TECHNICIAN, LATER, DAYS)
    rx.claim_paid(SYSTEM, LATER, total_paid=Decimal("12.00"), patient_pay=Decimal("5.00"), fill_number=0)
    rx.approve_data_verification(PHARMACIST, LATER)
    fill_from_stock(rx, LATER)
    rx.approve_product_verification(PHARMACIST, LATER)
    assert rx.state is RxState.READY
    check_sale(rx.current_fill, LATER + timedelta(days=1), DAYS)
    rx.dispense(TECHNICIAN, LATER + timedelta(days=1))
    assert rx.state is RxState.DISPENSED


@pytest.mark.parametrize(
    ("when", "reason"),
    [(NOW + timedelta(days=1), "within its plan's 14-day return-to-stock window"), (RETURNED_AT, "return it to stock")],
)
def test_a_fill_still_in_will_call_is_not_rebilled(when: datetime, reason: str) -> None:
    rx = at_state(RxState.READY)
    assert reason in (ReturnedFillRebill(rx).refusal(when, DAYS) or "")


def test_a_fill_returned_before_its_window_passed_is_not_rebilled() -> None:
    rx = _returned(NOW + timedelta(days=3))
    _reversal_approved(rx)
    assert "before its plan's 14-day window passed" in (ReturnedFillRebill(rx).refusal(LATER, DAYS) or "")


def test_a_cancelled_prescription_is_not_rebilled() -> None:
    rx = _returned()
    _reversal_approved(rx)
    rx.cancel(TECHNICIAN, LATER, "patient moved")
    assert "cancelled" in (ReturnedFillRebill(rx).refusal(LATER, DAYS) or "")
