"""Coordination of benefits (issue 33, part 3): the secondary is billed after the primary paid with a patient
share left (or rejected as not covered), the fill waits for the last payer, and reversals go last payer first;
a technician's correction of a paid claim is a B3 rebill."""

from __future__ import annotations

from decimal import Decimal

import pytest

from hub.domain.claim import ClaimStatus
from hub.domain.coordination import other_payments, payments_before
from hub.domain.intake import IntakeContext
from hub.domain.order_parts import CoverageInfo
from hub.domain.prescription import Prescription
from hub.domain.states import RxState
from hub.domain.workflow_events import ClaimPaid, ClaimRejected, ClaimReversalRequired, ClaimReversed, ClaimSubmitted
from hub.errors import DomainError, IllegalTransition
from tests.unit.domain.builders import COVERAGE, NOW, SYSTEM, TECHNICIAN, context, received

SECONDARY = CoverageInfo(bin="999003", pcn="SECPCN", group_id="SEC1", cardholder_id="SEC-CH-9")


def _billed(*others: CoverageInfo) -> Prescription:
    rx = received(other_coverages=others)
    rx.intake(SYSTEM, NOW, context(coverage=COVERAGE))
    assert rx.state is RxState.CLAIM_PENDING
    return rx


def _primary_pays(rx: Prescription, patient_pay: str = "5.00") -> list[object]:
    return list(
        rx.claim_paid(
            SYSTEM, NOW, total_paid=Decimal("4.15"), patient_pay=Decimal(patient_pay), authorization_number="P1"
        )
    )


def test_primary_paid_with_a_copay_bills_the_secondary_and_the_fill_waits() -> None:
    rx = _billed(SECONDARY)
    events = _primary_pays(rx)
    fill = rx.current_fill
    assert [type(e) for e in events] == [ClaimPaid, ClaimSubmitted]
    submitted = events[1]
    assert isinstance(submitted, ClaimSubmitted)
    assert (submitted.payer, submitted.attempt, submitted.bin, submitted.transaction) == (2, 2, "999003", "B1")
    assert rx.state is RxState.CLAIM_PENDING, "not on to the pharmacist before the last payer answered"
    [primary] = fill.earlier_claims
    assert (primary.status, primary.payer, primary.patient_pay) == (ClaimStatus.PAID, 1, Decimal("5.00"))
    assert fill.claim is not None and (fill.claim.payer, fill.claim.cardholder_id) == (2, "SEC-CH-9")
    [payment] = other_payments(fill.earlier_claims)
    assert (payment.sequence, payment.bin, payment.amount_paid, payment.answered_on) == (
        1,
        COVERAGE.bin,
        Decimal("4.15"),
        NOW.date(),
    )


def test_secondary_answer_moves_the_fill_on_with_what_is_left_to_pay() -> None:
    rx = _billed(SECONDARY)
    _primary_pays(rx)
    events = rx.claim_paid(SYSTEM, NOW, total_paid=Decimal("5.00"), patient_pay=Decimal("0"), fill_number=0)
    assert [type(e) for e in events] == [ClaimPaid]
    assert rx.state.value == "data_verification"
    assert rx.current_fill.patient_pay == Decimal("0")


def test_no_secondary_billed_when_the_patient_owes_nothing_or_has_no_other_plan() -> None:
    nothing_left = _billed(SECONDARY)
    _primary_pays(nothing_left, patient_pay="0")
    one_plan = _billed()
    _primary_pays(one_plan)
    assert nothing_left.state is one_plan.state is RxState.DATA_VERIFICATION
    assert nothing_left.current_fill.earlier_claims == [] and one_plan.current_fill.earlier_claims == []


def test_primary_not_covering_the_product_passes_the_claim_to_the_secondary_with_its_codes() -> None:
    rx = _billed(SECONDARY)
    events = rx.claim_rejected(SYSTEM, NOW, reject_codes=["70"], payer_message="NOT COVERED")
    assert [type(e) for e in events] == [ClaimRejected, ClaimSubmitted]
    assert rx.state is RxState.CLAIM_PENDING
    [payment] = other_payments(rx.current_fill.earlier_claims)
    assert (payment.amount_paid, payment.reject_codes) == (None, ("70",))


def test_other_rejects_wait_for_a_technician() -> None:
    rx = _billed(SECONDARY)
    rx.claim_rejected(SYSTEM, NOW, reject_codes=["07"])
    assert rx.state is RxState.CLAIM_REJECTED and rx.current_fill.earlier_claims == []


def test_cancel_reverses_the_secondary_first_then_the_primary() -> None:
    rx = _billed(SECONDARY)
    _primary_pays(rx)
    rx.claim_paid(SYSTEM, NOW, total_paid=Decimal("5.00"), patient_pay=Decimal("0"), fill_number=0)
    first = [e for e in rx.cancel(TECHNICIAN, NOW, "patient declined") if isinstance(e, ClaimReversalRequired)]
    assert [(e.attempt, e.bin) for e in first] == [(2, "999003")]
    second = rx.claim_reversed(SYSTEM, NOW, fill_number=0, attempt=2)
    assert [type(e) for e in second] == [ClaimReversed, ClaimReversalRequired]
    assert isinstance(second[1], ClaimReversalRequired) and (second[1].attempt, second[1].bin) == (1, COVERAGE.bin)
    last = rx.claim_reversed(SYSTEM, NOW, fill_number=0, attempt=1)
    assert [type(e) for e in last] == [ClaimReversed]
    fill = rx.current_fill
    assert fill.claim is not None and fill.claim.status is ClaimStatus.REVERSED
    assert [c.status for c in fill.earlier_claims] == [ClaimStatus.REVERSED]


def test_secondary_rejected_then_cash_charges_the_primary_copay_and_cancel_reverses_the_primary() -> None:
    rx = _billed(SECONDARY)
    _primary_pays(rx)
    rx.claim_rejected(SYSTEM, NOW, reject_codes=["07"])
    rx.bill_cash(TECHNICIAN, NOW)
    assert rx.current_fill.patient_pay == Decimal("5.00")
    [reversal] = [e for e in rx.cancel(TECHNICIAN, NOW, "declined") if isinstance(e, ClaimReversalRequired)]
    assert (reversal.attempt, reversal.bin) == (1, COVERAGE.bin)


def test_correcting_a_paid_claim_rebills_it_for_the_same_date_of_service() -> None:
    rx = _billed()
    _primary_pays(rx)
    paid = rx.current_fill.claim
    assert paid is not None
    later = NOW.replace(day=NOW.day + 1)
    [event] = rx.rebill_claim(TECHNICIAN, later, coverage=CoverageInfo(cardholder_id="CH999", person_code="02"))
    assert isinstance(event, ClaimSubmitted)
    assert (event.transaction, event.attempt, event.cardholder_id, event.date_of_service) == (
        "B3",
        paid.attempt + 1,
        "CH999",
        NOW.date(),
    )
    assert rx.state is RxState.CLAIM_PENDING
    rx.claim_paid(SYSTEM, later, total_paid=Decimal("4.15"), patient_pay=Decimal("5.00"))
    assert rx.state.value == "data_verification"


def test_a_rebill_stays_with_the_payer_that_paid() -> None:
    rx = _billed()
    _primary_pays(rx)
    with pytest.raises(DomainError):
        rx.rebill_claim(TECHNICIAN, NOW, coverage=CoverageInfo(bin="999003"))
    rejected = _billed()
    rejected.claim_rejected(SYSTEM, NOW, reject_codes=["07"])
    with pytest.raises(IllegalTransition):
        rejected.rebill_claim(TECHNICIAN, NOW)


def test_plans_on_file_replace_the_orders_own() -> None:
    rx = received(other_coverages=(SECONDARY,))
    on_file = CoverageInfo(bin="610014", cardholder_id="FILE-2")
    ctx = context(coverage=COVERAGE)
    rx.intake(
        SYSTEM, NOW, IntakeContext(ctx.catalogue, ctx.interactions, coverage=COVERAGE, other_coverages=(on_file,))
    )
    assert rx.other_coverages == [on_file]
    [_, submitted] = _primary_pays(rx)
    assert isinstance(submitted, ClaimSubmitted) and submitted.bin == "610014"


def test_only_the_later_payers_claim_carries_the_earlier_payments() -> None:
    rx = _billed(SECONDARY)
    _primary_pays(rx)
    fill = rx.current_fill
    assert fill.claim is not None and fill.claim_of(1) is fill.earlier_claims[0]
    assert [p.bin for p in payments_before(fill, fill.claim)] == [COVERAGE.bin]
    assert payments_before(fill, fill.earlier_claims[0]) == ()


def test_a_rejected_secondary_resubmitted_stays_the_secondary_with_the_primarys_payment() -> None:
    rx = _billed(SECONDARY)
    _primary_pays(rx)
    rx.claim_rejected(SYSTEM, NOW, reject_codes=["07"])
    [event] = rx.resubmit_claim(TECHNICIAN, NOW, coverage=CoverageInfo(cardholder_id="SEC-CH-10"))
    fill = rx.current_fill
    assert isinstance(event, ClaimSubmitted) and (event.payer, event.attempt, event.bin) == (2, 3, "999003")
    assert fill.claim is not None and [p.bin for p in payments_before(fill, fill.claim)] == [COVERAGE.bin]
    rx.claim_paid(SYSTEM, NOW, total_paid=Decimal("5.00"), patient_pay=Decimal("1.00"))
    assert rx.state.value == "data_verification", "no third plan: the secondary's answer is the last"
