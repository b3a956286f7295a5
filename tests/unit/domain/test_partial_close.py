"""Closing a partial fill whose rest will never be dispensed: nothing owed, the P claim reversed (B2), what was
dispensed billed whole (B1 without 343-HD), its answer recorded on the picked-up fill, and a refill possible."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from hub.domain.claim import ClaimStatus
from hub.domain.partial_claims import claim_quantities
from hub.domain.partial_events import PartialFillClosed
from hub.domain.partial_fill import DispensingStatus, PartialFillRefused
from hub.domain.prescription import Prescription
from hub.domain.states import RxState
from hub.domain.workflow_events import ClaimPaid, ClaimReversalRequired, ClaimReversed, ClaimSubmitted
from hub.errors import NotAuthorized
from tests.unit.domain.builders import NOW, PHARMACIST, SYSTEM, TECHNICIAN, context, reach, received
from tests.unit.domain.test_partial_completion import _hand_over, _partial, _pick


def _picked_up_part() -> Prescription:
    rx = reach(RxState.FILLING)
    _partial(rx)
    _hand_over(rx, on_shelf="12")
    return rx


def test_closing_reverses_the_p_claim_and_owes_nothing() -> None:
    rx = _picked_up_part()
    part = rx.current_fill
    paid = part.claim
    assert paid is not None and paid.attempt == 3
    closed, reversal = rx.close_partial(TECHNICIAN, NOW + timedelta(days=3), "patient declined the rest")
    assert isinstance(closed, PartialFillClosed) and closed.rebilled
    assert (closed.quantity_dispensed, closed.owed_cancelled, closed.actor_id) == (12, 18, TECHNICIAN.user_id)
    assert isinstance(reversal, ClaimReversalRequired) and reversal.attempt == 3
    assert part.owed == 0 and not part.completion_due and part.closure is not None
    assert part.closure.reason == "patient declined the rest" and part.closure.closed_by == TECHNICIAN.user_id
    assert paid.status is ClaimStatus.REVERSAL_REQUIRED
    reversal_fields = claim_quantities(rx.rx_number, rx.fills, part, 3)
    assert reversal_fields.dispensing_status == "P", "the B2 names the partial fill it reverses"
    with pytest.raises(PartialFillRefused, match="not a picked-up partial fill"):
        rx.start_completion(TECHNICIAN, NOW + timedelta(days=3))


def test_once_reversed_what_was_dispensed_is_billed_whole_and_its_answer_recorded() -> None:
    rx = _picked_up_part()
    rx.close_partial(TECHNICIAN, NOW, "deadline passed")
    reversed_, billed = rx.claim_reversed(SYSTEM, NOW, fill_number=0, attempt=3)
    part = rx.current_fill
    assert isinstance(reversed_, ClaimReversed) and isinstance(billed, ClaimSubmitted)
    assert (billed.transaction, billed.attempt, billed.quantity) == ("B1", 4, 12)
    assert part.claim is not None and part.closed_claim is not None
    assert part.closed_claim.status is ClaimStatus.REVERSED and part.closed_claim.attempt == 3
    assert part.claim.submitted_at == part.closed_claim.submitted_at, "the date of service of what was dispensed"
    whole = claim_quantities(rx.rx_number, rx.fills, part, 4)
    assert (whole.dispensing_status, whole.quantity, whole.quantity_intended) == (None, 12, None)
    assert part.claim_of(3) is part.closed_claim
    (answer,) = rx.claim_paid(SYSTEM, NOW, total_paid=Decimal("3"), patient_pay=Decimal("1"), fill_number=0)
    assert isinstance(answer, ClaimPaid) and part.claim.status is ClaimStatus.PAID
    assert part.state is RxState.DISPENSED and part.dispensing_status is DispensingStatus.PARTIAL
    assert rx.request_refill(TECHNICIAN, NOW + timedelta(days=40)).fill_number == 1


def test_a_rejected_whole_bill_stays_on_the_picked_up_fill() -> None:
    rx = _picked_up_part()
    rx.close_partial(TECHNICIAN, NOW, "declined")
    rx.claim_reversed(SYSTEM, NOW, fill_number=0, attempt=3)
    rx.claim_rejected(SYSTEM, NOW, reject_codes=["76"], fill_number=0)
    claim = rx.fill(0).claim
    assert claim is not None and claim.status is ClaimStatus.REJECTED and claim.reject_codes == ["76"]
    assert rx.state is RxState.DISPENSED


def test_only_staff_close_and_only_a_picked_up_partial_with_a_rest_owed() -> None:
    rx = _picked_up_part()
    with pytest.raises(NotAuthorized):
        rx.close_partial(SYSTEM, NOW, "declined")
    rx.close_partial(TECHNICIAN, NOW, "declined")
    with pytest.raises(PartialFillRefused, match="nothing to close"):
        rx.close_partial(TECHNICIAN, NOW, "again")
    whole = reach(RxState.DISPENSED)
    assert whole.close_refusal() is not None


def test_a_cash_partial_is_closed_without_a_payer() -> None:
    rx = received(coverage=None)
    rx.intake(SYSTEM, NOW, context())
    rx.approve_data_verification(PHARMACIST, NOW)
    _partial(rx)
    _pick(rx, "12")
    rx.approve_product_verification(PHARMACIST, NOW)
    rx.dispense(TECHNICIAN, NOW)
    (closed,) = rx.close_partial(PHARMACIST, NOW, "patient moved away")
    assert isinstance(closed, PartialFillClosed) and not closed.rebilled and closed.owed_cancelled == 18
    claim = rx.current_fill.claim
    assert claim is not None and claim.status is ClaimStatus.CASH and rx.current_fill.owed == 0
