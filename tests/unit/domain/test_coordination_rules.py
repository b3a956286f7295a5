"""Which of a payer's rejects pass the fill to the patient's next coverage: only a plan that does not cover the
product (70, MR); a reject that the same coverage must be corrected or answered for waits for a technician. And
which claim, left unanswered, is resubmitted: the first to each payer, once."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from hub.domain.coordination import first_claim_to_its_payer, next_after_reject
from hub.domain.order_parts import CoverageInfo
from hub.domain.states import RxState
from tests.unit.domain.builders import COVERAGE, NOW, SYSTEM, TECHNICIAN, at_state, context, received

SECONDARY = CoverageInfo(bin="999003", pcn="SECPCN", cardholder_id="SEC-CH-9")


@pytest.mark.parametrize("codes", [["70"], ["MR"], ["70", "MR"]])
def test_a_product_the_plan_does_not_cover_goes_to_the_next_payer(codes: list[str]) -> None:
    assert next_after_reject([SECONDARY], 1, codes) == SECONDARY


@pytest.mark.parametrize(
    "codes",
    [
        ["65"],  # patient not covered: the coverage on file is wrong or ended, corrected rather than skipped
        ["07"],  # M/I cardholder: a correction of the same coverage
        ["41"],  # submit to the other payer first: the order of the coverages is wrong
        ["75"],  # prior auth: asked of the same plan
        ["76"],
        ["79"],
        ["88"],
        ["92"],  # transient: resent
        ["TO"],  # no answer: reversed, then resubmitted to the same payer
        ["70", "07"],  # not only not covered: the M/I field is fixed first
        [],
    ],
)
def test_other_rejects_stay_with_the_same_coverage(codes: list[str]) -> None:
    assert next_after_reject([SECONDARY], 1, codes) is None


def test_no_next_payer_after_the_last_coverage() -> None:
    assert next_after_reject([SECONDARY], 2, ["70"]) is None


def test_the_first_claim_to_each_payer_is_resubmitted_once_after_no_answer() -> None:
    rx = received(other_coverages=(SECONDARY,))
    rx.intake(SYSTEM, NOW, context(coverage=COVERAGE))
    fill = rx.current_fill
    assert first_claim_to_its_payer(fill), "the primary's first claim"
    rx.claim_paid(SYSTEM, NOW, total_paid=Decimal("4.15"), patient_pay=Decimal("5.00"))
    assert fill.claim is not None and (fill.claim.payer, fill.claim.attempt) == (2, 2)
    assert first_claim_to_its_payer(fill), "the secondary's first claim, attempt 2"
    rx.claim_status_unknown(SYSTEM, NOW, code="TO", payer_message="no answer")
    rx.resubmit_claim(SYSTEM, NOW)
    assert fill.claim is not None and (fill.claim.payer, fill.claim.attempt) == (2, 3)
    assert not first_claim_to_its_payer(fill), "the secondary's resubmission is not resubmitted again"


def test_the_fresh_claim_of_a_fill_rebilled_after_its_window_is_resubmitted_once_too() -> None:
    rx = at_state(RxState.READY)
    rx.return_to_stock(SYSTEM, NOW + timedelta(days=15), "past the window")
    reversing = rx.current_fill.claim
    assert reversing is not None
    rx.claim_reversed(SYSTEM, NOW + timedelta(days=15), fill_number=0, attempt=reversing.attempt)
    rx.rebill_returned(TECHNICIAN, NOW + timedelta(days=16), 14)
    fill = rx.current_fill
    assert fill.claim is not None and fill.claim.attempt == 3 and first_claim_to_its_payer(fill)
    rx.claim_status_unknown(SYSTEM, NOW + timedelta(days=16), code="TO", payer_message="no answer")
    rx.resubmit_claim(SYSTEM, NOW + timedelta(days=16))
    assert not first_claim_to_its_payer(rx.current_fill), "its resubmission is not resubmitted again"
