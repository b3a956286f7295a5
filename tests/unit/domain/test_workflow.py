"""Retail and inpatient paths through the aggregate, with the events each step returns."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from hub.domain.claim import ClaimStatus, DurPps
from hub.domain.events import PrescriptionCancelled, PrescriptionReceived
from hub.domain.inventory import allocate
from hub.domain.order_parts import DrugInfo, Setting, Source
from hub.domain.partial_fill import ShortStockChoice
from hub.domain.prescription import OutOfStock, Prescription, WrongProduct
from hub.domain.states import RxState
from hub.domain.workflow_events import (
    ClaimPaid,
    ClaimReversalRequired,
    ClaimReversed,
    ClaimSubmitted,
    FillCompleted,
    PrescriptionReady,
    PrescriptionReturned,
)
from hub.errors import IllegalTransition, NotAuthorized
from tests.unit.domain.builders import (
    CATALOGUE,
    LISINOPRIL,
    NOW,
    PATIENT,
    PHARMACIST,
    PHARMACY,
    PRESCRIBER,
    SYSTEM,
    TECHNICIAN,
    context,
    fill_from_stock,
    order,
    reach,
    received,
    stock,
)


def names(events: list[object]) -> list[str]:
    return [e.name for e in events]  # type: ignore[attr-defined]


def test_receive_returns_prescription_received_in_state_received() -> None:
    rx, events = Prescription.receive(
        prescription_id="p1",
        rx_number="7000001",
        command=order(),
        source=Source.FHIR,
        patient=PATIENT,
        prescriber=PRESCRIBER,
        actor=SYSTEM,
        now=NOW,
    )
    assert rx.state is RxState.RECEIVED and rx.current_fill.fill_number == 0
    (event,) = events
    assert isinstance(event, PrescriptionReceived)
    assert (event.rx_number, event.placer_order_number, event.state, event.source) == (
        "7000001",
        "ORD-1",
        "received",
        "fhir",
    )
    assert rx.expires_on == rx.written_date.replace(year=rx.written_date.year + 1)


def test_retail_happy_path_events_and_records() -> None:
    rx = received()
    (submitted,) = rx.intake(SYSTEM, NOW, context())
    assert isinstance(submitted, ClaimSubmitted)
    assert (submitted.ndc, submitted.bin, submitted.pcn, submitted.quantity) == (
        LISINOPRIL,
        "610014",
        "TESTPCN",
        30,
    )
    assert submitted.amount_requested == Decimal("1.80")  # 30 x 0.06 from the catalogue
    assert rx.state is RxState.CLAIM_PENDING

    (paid,) = rx.claim_paid(
        SYSTEM, NOW, total_paid=Decimal("9.50"), patient_pay=Decimal("3.00"), authorization_number="A1"
    )
    assert isinstance(paid, ClaimPaid) and rx.state is RxState.DATA_VERIFICATION

    assert names(rx.approve_data_verification(PHARMACIST, NOW)) == ["prescription.verified"]
    assert rx.current_fill.data_verified_by == "rph-1"

    allocation = allocate(stock(), LISINOPRIL, Decimal("30"), NOW.date())
    (completed,) = rx.complete_fill(TECHNICIAN, NOW, allocation, PHARMACY)
    assert isinstance(completed, FillCompleted)
    assert completed.picks[0].lot == "LOT-A" and completed.quantity == 30 and completed.owed == 0

    verified, ready = rx.approve_product_verification(PHARMACIST, NOW)
    assert verified.name == "fill.verified"
    assert isinstance(ready, PrescriptionReady) and ready.patient_pay == Decimal("3.00")
    assert names(rx.dispense(TECHNICIAN, NOW)) == ["prescription.dispensed"]
    assert rx.state is RxState.DISPENSED and rx.current_fill.dispensed_at == NOW
    assert [c.target for c in rx.current_fill.history] == [
        RxState.CLAIM_PENDING,
        RxState.DATA_VERIFICATION,
        RxState.FILLING,
        RxState.PRODUCT_VERIFICATION,
        RxState.READY,
        RxState.DISPENSED,
    ]


def test_inpatient_path_skips_the_claim_and_is_delivered() -> None:
    rx = received(setting=Setting.INPATIENT)
    assert rx.intake(SYSTEM, NOW, context()) == []
    assert rx.state is RxState.DATA_VERIFICATION and rx.current_fill.claim is None
    rx.approve_data_verification(PHARMACIST, NOW)
    fill_from_stock(rx)
    _, ready = rx.approve_product_verification(PHARMACIST, NOW)
    assert ready.setting is Setting.INPATIENT and ready.patient_pay is None
    rx.dispense(TECHNICIAN, NOW)
    assert rx.state is RxState.DISPENSED
    with pytest.raises(IllegalTransition):
        reach(RxState.READY, Setting.INPATIENT).return_to_stock(TECHNICIAN, NOW)


def test_no_coverage_bills_cash_and_goes_to_the_pharmacist() -> None:
    rx = received(coverage=None)
    assert rx.intake(SYSTEM, NOW, context()) == []
    assert rx.state is RxState.DATA_VERIFICATION
    assert rx.current_fill.claim is not None and rx.current_fill.claim.status is ClaimStatus.CASH


def test_pharmacy_coverage_on_file_overrides_the_order() -> None:
    rx = received(coverage=None)
    (submitted,) = rx.intake(SYSTEM, NOW, context(coverage=order().coverage))
    assert isinstance(submitted, ClaimSubmitted) and submitted.bin == "610014"


@pytest.mark.parametrize(
    ("drug", "reason"),
    [
        (DrugInfo(rxnorm="314077", text="lisinopril"), "RxNorm 314077 only"),
        (DrugInfo(text="Polycillin 500 mg TAB"), "free-text drug"),
        (DrugInfo(ndc="0143963401", text="nicardipine"), "NDC 0143963401"),
    ],
)
def test_order_without_a_usable_ndc_waits_for_a_product(drug: DrugInfo, reason: str) -> None:
    rx = received(drug=drug)
    assert rx.intake(SYSTEM, NOW, context()) == []
    assert rx.state is RxState.NEEDS_PRODUCT
    assert reason in (rx.current_fill.needs_product_reason or "")
    product = CATALOGUE.by_ndc(LISINOPRIL)
    assert product is not None
    events = rx.select_product(TECHNICIAN, NOW, product, context())
    assert names(events) == ["claim.submitted"] and rx.state is RxState.CLAIM_PENDING
    assert rx.product == product and rx.current_fill.ndc == LISINOPRIL


def test_claim_rejection_then_resubmission_with_prior_auth() -> None:
    rx = reach(RxState.CLAIM_PENDING)
    (rejected,) = rx.claim_rejected(SYSTEM, NOW, reject_codes=["75", "MR"], payer_message="PA required")
    assert rejected.name == "claim.rejected" and rejected.reject_codes == ("75", "MR")  # type: ignore[attr-defined]
    assert rx.state is RxState.CLAIM_REJECTED
    (again,) = rx.resubmit_claim(TECHNICIAN, NOW, prior_auth_number="PA-77")
    assert isinstance(again, ClaimSubmitted) and again.attempt == 2 and again.prior_auth_number == "PA-77"
    assert again.bin == "610014"


def test_reject_88_override_needs_a_pharmacist() -> None:
    rx = reach(RxState.CLAIM_PENDING)
    rx.claim_rejected(SYSTEM, NOW, reject_codes=["88"])
    assert rx.current_fill.claim is not None and rx.current_fill.claim.needs_pharmacist_to_resubmit
    codes = DurPps(reason_for_service="ER", professional_service="M0", result_of_service="1B")
    with pytest.raises(NotAuthorized):
        rx.resubmit_claim(TECHNICIAN, NOW, dur_pps=codes)
    assert rx.state is RxState.CLAIM_REJECTED
    (again,) = rx.resubmit_claim(PHARMACIST, NOW, dur_pps=codes)
    assert isinstance(again, ClaimSubmitted) and again.dur_pps == codes


def test_claim_rejected_resolved_as_cash() -> None:
    rx = reach(RxState.CLAIM_REJECTED)
    rx.bill_cash(TECHNICIAN, NOW, Decimal("12.34"))
    assert rx.state is RxState.DATA_VERIFICATION
    assert rx.current_fill.patient_pay == Decimal("12.34")


def test_cancel_after_paid_claim_requires_a_reversal_then_records_it() -> None:
    rx = reach(RxState.PRODUCT_VERIFICATION)
    events = rx.cancel(SYSTEM, NOW, "prescriber discontinued")
    assert names(events) == ["prescription.cancelled", "inventory.released", "claim.reversal_required"]
    cancelled, released, reversal = events
    assert isinstance(cancelled, PrescriptionCancelled) and cancelled.previous_state == "product_verification"
    assert released.picks[0].lot == "LOT-A"  # type: ignore[attr-defined]
    assert isinstance(reversal, ClaimReversalRequired)
    assert (reversal.authorization_number, reversal.total_paid, reversal.bin) == (
        "AUTH1",
        Decimal("12.00"),
        "610014",
    )
    claim = rx.current_fill.claim
    assert claim is not None and claim.status is ClaimStatus.REVERSAL_REQUIRED
    (reversed_,) = rx.claim_reversed(SYSTEM, NOW, fill_number=0, authorization_number="B2-1")
    assert isinstance(reversed_, ClaimReversed) and claim.status is ClaimStatus.REVERSED
    with pytest.raises(IllegalTransition):
        rx.claim_reversed(SYSTEM, NOW, fill_number=0)


def test_cancel_before_any_claim_needs_no_reversal() -> None:
    rx = reach(RxState.NEEDS_PRODUCT)
    assert names(rx.cancel(SYSTEM, NOW)) == ["prescription.cancelled"]


def test_cancel_while_claim_pending_asks_for_a_reversal() -> None:
    rx = reach(RxState.CLAIM_PENDING)
    assert "claim.reversal_required" in names(rx.cancel(SYSTEM, NOW, "patient left"))
    with pytest.raises(IllegalTransition):
        rx.claim_paid(SYSTEM, NOW, total_paid=Decimal("1"), patient_pay=Decimal("0"))


def test_return_to_stock_releases_stock_and_requires_reversal() -> None:
    rx = reach(RxState.READY)
    events = rx.return_to_stock(TECHNICIAN, NOW + timedelta(days=14))
    assert names(events) == ["prescription.returned", "inventory.released", "claim.reversal_required"]
    returned = events[0]
    assert isinstance(returned, PrescriptionReturned) and returned.reversal_required
    assert rx.state is RxState.RETURNED_TO_STOCK


def test_return_to_stock_of_a_cash_fill_needs_no_reversal() -> None:
    rx = received(coverage=None)
    rx.intake(SYSTEM, NOW, context())
    rx.approve_data_verification(PHARMACIST, NOW)
    fill_from_stock(rx)
    rx.approve_product_verification(PHARMACIST, NOW)
    events = rx.return_to_stock(TECHNICIAN, NOW)
    assert names(events) == ["prescription.returned", "inventory.released"]


def test_rejection_at_data_verification_closes_the_prescription_and_reverses() -> None:
    rx = reach(RxState.DATA_VERIFICATION)
    events = rx.reject_data_verification(PHARMACIST, NOW, "duplicate of Rx 123")
    assert names(events) == ["prescription.rejected", "claim.reversal_required"]
    assert events[0].actor_id == "rph-1"  # type: ignore[attr-defined]
    assert rx.closed_reason is not None and rx.state is RxState.REJECTED


def test_product_rejection_releases_stock_and_returns_to_filling() -> None:
    rx = reach(RxState.PRODUCT_VERIFICATION)
    events = rx.reject_product_verification(PHARMACIST, NOW, "wrong count")
    assert names(events) == ["fill.rejected", "inventory.released"]
    assert rx.state is RxState.FILLING and rx.current_fill.picks == [] and rx.current_fill.label is None
    fill_from_stock(rx)
    assert rx.state is RxState.PRODUCT_VERIFICATION


def test_partial_fill_records_what_is_owed() -> None:
    rx = reach(RxState.FILLING)
    allocation = allocate(stock(quantity="12"), LISINOPRIL, Decimal("30"), NOW.date())
    rx.note_short_stock(NOW, allocation)
    rx.decide_short_stock(TECHNICIAN, NOW, ShortStockChoice.PARTIAL, "wholesaler back-order")
    rx.claim_paid(SYSTEM, NOW, total_paid=Decimal("4"), patient_pay=Decimal("1"))  # the part, billed again as P
    rx.approve_data_verification(PHARMACIST, NOW)
    part = allocate(stock(quantity="12"), LISINOPRIL, Decimal("12"), NOW.date())
    (completed,) = rx.complete_fill(TECHNICIAN, NOW, part, PHARMACY)
    assert completed.quantity == 12 and completed.owed == 18  # type: ignore[attr-defined]
    assert rx.current_fill.owed == 18 and rx.current_fill.label is not None
    assert rx.current_fill.label.quantity == 12


def test_fill_refuses_empty_allocation_and_wrong_product() -> None:
    rx = reach(RxState.FILLING)
    with pytest.raises(OutOfStock):
        rx.complete_fill(TECHNICIAN, NOW, allocate([], LISINOPRIL, Decimal("30"), NOW.date()), PHARMACY)
    wrong = allocate(stock("00093005801"), "00093005801", Decimal("30"), NOW.date())
    with pytest.raises(WrongProduct):
        rx.complete_fill(TECHNICIAN, NOW, wrong, PHARMACY)
    assert rx.state is RxState.FILLING
