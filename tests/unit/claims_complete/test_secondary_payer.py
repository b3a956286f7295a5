"""The simulated secondary-only plan (issue 33, part 3): it refuses (41) a claim that does not say what the
primary did (308-C8 and AM05), pays what the primary left, and pays the whole claim the primary did not cover."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from adapters.ncpdp.d0.claim_response import TransactionResponse
from adapters.ncpdp.payer.adjudicator import Adjudicator
from adapters.ncpdp.payer.config import load_payer_config
from adapters.ncpdp.payer.history import ClaimHistory
from adapters.ncpdp.payer_link import D0ClaimCodec
from hub.config import DATA_DIR
from hub.domain.claim_exchange import ClaimRequestData, OtherPayment
from tests.unit.ncpdp_payer_link.claim_data import SIM_BIN, claim

SECONDARY_BIN = "999003"
PAYER = Adjudicator(load_payer_config(DATA_DIR / "payer-sim.json"))
CODEC = D0ClaimCodec()


def _answer(request: ClaimRequestData, history: ClaimHistory | None = None) -> TransactionResponse:
    return PAYER.adjudicate(CODEC.claim_request(request), history or ClaimHistory()).transactions[0]


def test_secondary_plan_refuses_a_claim_billed_to_it_first() -> None:
    bare = _answer(claim(bin=SECONDARY_BIN))
    coded_only = _answer(claim(bin=SECONDARY_BIN, other_coverage_code="2"))
    assert bare.status.transaction_status == coded_only.status.transaction_status == "R"
    assert bare.status.reject_codes == coded_only.status.reject_codes == ("41",)


def test_secondary_plan_pays_what_the_primary_left_to_the_patient() -> None:
    history = ClaimHistory()
    primary = _answer(claim(), history)
    assert primary.status.transaction_status == "P" and primary.pricing is not None
    copay = primary.pricing.patient_pay
    assert copay is not None and copay > 0
    paid = OtherPayment(bin=SIM_BIN, answered_on=date(2026, 3, 1), amount_paid=primary.pricing.total_paid)
    secondary = _answer(claim(bin=SECONDARY_BIN, cardholder_id="SEC-CH-9", other_payments=(paid,)), history)
    assert secondary.status.transaction_status == "P" and secondary.pricing is not None
    assert (secondary.pricing.total_paid, secondary.pricing.patient_pay) == (copay, Decimal("0"))


def test_secondary_plan_pays_the_whole_claim_the_primary_did_not_cover() -> None:
    rejected = OtherPayment(bin=SIM_BIN, answered_on=date(2026, 3, 1), reject_codes=("70",))
    secondary = _answer(claim(bin=SECONDARY_BIN, other_payments=(rejected,)))
    assert secondary.status.transaction_status == "P" and secondary.pricing is not None
    assert secondary.pricing.patient_pay == Decimal("0") and secondary.pricing.total_paid == Decimal("5.35")
