"""21 CFR 1306.13(b): a schedule II partial fill for a patient a pharmacist records as terminally ill or an LTCF
patient keeps 60 days from the date written for its rest, instead of 72 hours; only a pharmacist records it."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from hub.domain.actors import Actor, Role
from hub.domain.inventory import allocate
from hub.domain.partial_claims import claim_quantities
from hub.domain.partial_events import FillCompletionStarted, FillPartiallyFilled
from hub.domain.partial_fill import DispensingStatus, PartialFillRefused, PatientDesignation, ShortStockChoice
from hub.domain.prescription import Prescription
from hub.domain.states import RxState
from hub.domain.workflow_events import ClaimSubmitted
from hub.errors import NotAuthorized
from tests.unit.domain.builders import NOW, PHARMACIST, TECHNICIAN, reach
from tests.unit.domain.test_partial_completion import _cii, _hand_over, _shelf

LTCF = PatientDesignation.LTCF_PATIENT


def _short(rx: Prescription, on_shelf: str = "10") -> None:
    quantity, product = rx.current_fill.quantity, rx.product
    assert quantity is not None and product is not None
    rx.note_short_stock(NOW, allocate(_shelf(on_shelf, product.ndc11), product.ndc11, quantity, NOW.date()))


def _designated(designation: PatientDesignation = LTCF) -> tuple[Prescription, FillPartiallyFilled]:
    rx = _cii()
    _short(rx)
    partial, _ = rx.decide_short_stock(
        PHARMACIST, NOW, ShortStockChoice.PARTIAL, "LTCF unit dose", designation=designation
    )
    assert isinstance(partial, FillPartiallyFilled)
    return rx, partial


def test_a_designated_patients_rest_keeps_60_days_from_the_date_written() -> None:
    rx, partial = _designated()
    deadline = partial.complete_by
    assert deadline is not None and deadline.date() == rx.written_date + timedelta(days=60)
    assert partial.designation == "LTCF patient"
    fill = rx.current_fill
    assert fill.partial is not None and fill.partial.designation is LTCF
    _hand_over(rx, on_shelf="10")
    assert rx.completion_refusal(NOW + timedelta(hours=73)) is None, "72 hours do not apply"
    assert (rx.partial_facts(rx.current_fill) or {})["complete_by"] == deadline.isoformat()
    rx.start_completion(TECHNICIAN, NOW + timedelta(days=45))
    assert rx.current_fill.state is RxState.CLAIM_PENDING and rx.current_fill.quantity == 20


def test_a_designated_patients_rest_past_60_days_is_refused_with_the_rule() -> None:
    rx, partial = _designated(PatientDesignation.TERMINALLY_ILL)
    _hand_over(rx, on_shelf="10")
    assert partial.complete_by is not None
    late = partial.complete_by + timedelta(seconds=1)
    with pytest.raises(PartialFillRefused, match="60 days of the date written") as refused:
        rx.start_completion(TECHNICIAN, late)
    assert "'terminally ill'" in str(refused.value) and "1306.13" in str(refused.value)
    assert len(rx.fills) == 1 and rx.current_fill.owed == 20


def test_only_a_licensed_pharmacist_records_the_designation() -> None:
    rx = _cii()
    _short(rx)
    with pytest.raises(NotAuthorized, match="only a pharmacist"):
        rx.decide_short_stock(TECHNICIAN, NOW, ShortStockChoice.PARTIAL, "LTCF", designation=LTCF)
    unlicensed = Actor(user_id="rph-2", role=Role.PHARMACIST, name="No Licence")
    with pytest.raises(NotAuthorized, match="licence"):
        rx.decide_short_stock(unlicensed, NOW, ShortStockChoice.PARTIAL, "LTCF", designation=LTCF)
    assert rx.current_fill.partial is None and rx.current_fill.dispensing_status is None


def test_the_designation_is_for_schedule_ii_only() -> None:
    rx = reach(RxState.FILLING)
    _short(rx, "12")
    with pytest.raises(PartialFillRefused, match="not schedule II"):
        rx.decide_short_stock(PHARMACIST, NOW, ShortStockChoice.PARTIAL, "LTCF", designation=LTCF)


def test_a_designated_patients_rest_goes_in_portions_each_a_p_until_the_last_c() -> None:
    rx, _ = _designated()
    _hand_over(rx, on_shelf="10")
    started, billed = rx.start_completion(TECHNICIAN, NOW + timedelta(days=7), portion=Decimal("8"))
    second = rx.current_fill
    assert (second.fill_number, second.dispensing_status, second.quantity) == (0, DispensingStatus.PARTIAL, 8)
    assert (second.dispensed_before, second.quantity_intended) == (10, 30)
    assert second.partial is not None and second.partial.designation is LTCF, "the deadline holds for the rest"
    assert isinstance(started, FillCompletionStarted) and started.dispensed_before == 10
    assert isinstance(billed, ClaimSubmitted) and billed.transaction == "B1" and billed.quantity == 8
    fields = claim_quantities(rx.rx_number, rx.fills, second)
    assert (fields.dispensing_status, fields.quantity, fields.quantity_intended) == ("P", 8, 30)
    assert fields.associated_rx_number == rx.rx_number and fields.associated_date is not None
    _hand_over(rx, on_shelf="8")
    assert (second.quantity_dispensed, second.owed) == (8, 12) and second.completion_due
    assert rx.close_refusal() is not None, "portions are not closed here"
    rx.start_completion(TECHNICIAN, NOW + timedelta(days=14))
    last = rx.current_fill
    assert (last.dispensing_status, last.quantity, last.dispensed_before) == (DispensingStatus.COMPLETION, 12, 18)
    assert claim_quantities(rx.rx_number, rx.fills, last).associated_rx_number == rx.rx_number
    _hand_over(rx, on_shelf="12")
    assert sum(f.quantity_dispensed or 0 for f in rx.fills) == 30 and last.owed == 0
    days = [f.days_supply or 0 for f in rx.fills]
    assert sum(days) == rx.fills[0].days_supply_intended


def test_only_a_designated_patients_rest_is_split_and_never_beyond_what_is_owed() -> None:
    rx = _cii()
    _short(rx)
    rx.decide_short_stock(TECHNICIAN, NOW, ShortStockChoice.PARTIAL, "back-order")
    _hand_over(rx, on_shelf="10")
    with pytest.raises(PartialFillRefused, match="dispensed whole"):
        rx.start_completion(TECHNICIAN, NOW, portion=Decimal("5"))
    assert "1306.13(b)" in (rx.completion_refusal(NOW, Decimal("5")) or "")
    designated, _ = _designated()
    _hand_over(designated, on_shelf="10")
    with pytest.raises(PartialFillRefused, match="not within the 20 owed"):
        designated.start_completion(TECHNICIAN, NOW, portion=Decimal("21"))
