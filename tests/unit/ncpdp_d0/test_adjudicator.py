"""The simulated payer answers real D.0 bytes the way hub/data/payer-sim.json says: bytes in, bytes out."""

from datetime import date
from decimal import Decimal

import pytest

from adapters.ncpdp.d0 import (
    ClaimRequest,
    ClaimResponse,
    build_claim_request,
    parse_response,
    read_claim_response,
)
from adapters.ncpdp.d0.request_segments import DurPps
from adapters.ncpdp.payer import Adjudicator, ClaimHistory, load_payer_config
from hub.config import DATA_DIR
from tests.unit.ncpdp_d0.claims import (
    ADALIMUMAB,
    AMOXICILLIN,
    HYDROCODONE,
    INSULIN,
    TRANSIENT,
    WARFARIN,
    request,
    transaction,
)

CONFIG = DATA_DIR / "payer-sim.json"


@pytest.fixture
def payer() -> Adjudicator:
    return Adjudicator(load_payer_config(CONFIG))


@pytest.fixture
def history() -> ClaimHistory:
    return ClaimHistory()


def send(payer: Adjudicator, history: ClaimHistory, claim: ClaimRequest) -> ClaimResponse:
    return read_claim_response(parse_response(payer.respond(build_claim_request(claim), history)))


def status(response: ClaimResponse, index: int = 0) -> tuple[str, tuple[str, ...]]:
    answer = response.transactions[index].status
    return answer.transaction_status, answer.reject_codes


def test_covered_drug_is_paid_with_configured_price(payer: Adjudicator, history: ClaimHistory) -> None:
    response = send(payer, history, request(transaction(AMOXICILLIN, quantity=Decimal("30"))))
    assert response.header_response_status == "A"
    assert status(response) == ("P", ())
    pricing = response.transactions[0].pricing
    assert pricing is not None
    # 30 x 0.12 + 1.75 fee = 5.35 gross; copay 5.00 -> plan pays 0.35
    assert (pricing.ingredient_cost_paid, pricing.patient_pay, pricing.total_paid) == (
        Decimal("3.60"),
        Decimal("5.00"),
        Decimal("0.35"),
    )


def test_not_covered_70(payer: Adjudicator, history: ClaimHistory) -> None:
    assert status(send(payer, history, request(transaction(ADALIMUMAB)))) == ("R", ("70",))


def test_unknown_ndc_is_not_covered(payer: Adjudicator, history: ClaimHistory) -> None:
    assert status(send(payer, history, request(transaction("99999999999")))) == ("R", ("70",))


def test_prior_auth_75_then_paid_with_pa_number(payer: Adjudicator, history: ClaimHistory) -> None:
    assert status(send(payer, history, request(transaction(INSULIN)))) == ("R", ("75",))
    assert status(send(payer, history, request(transaction(INSULIN, prior_auth_number="PA778899")))) == (
        "P",
        (),
    )


@pytest.mark.parametrize(
    "claim",
    [
        transaction(HYDROCODONE, quantity=Decimal("121")),
        transaction(HYDROCODONE, days_supply=31),
        transaction(AMOXICILLIN, days_supply=91),
    ],
)
def test_plan_limits_76(payer: Adjudicator, history: ClaimHistory, claim: object) -> None:
    assert status(send(payer, history, request(claim))) == ("R", ("76",))  # type: ignore[arg-type]


def test_refill_too_soon_79_then_paid_once_75_percent_elapsed(payer: Adjudicator, history: ClaimHistory) -> None:
    first = request(transaction(rx_number="7100001", fill_number=0, days_supply=30), on=date(2026, 3, 1))
    assert status(send(payer, history, first)) == ("P", ())
    early = request(transaction(rx_number="7100001", fill_number=1, days_supply=30), on=date(2026, 3, 22))
    assert status(send(payer, history, early)) == ("R", ("79",))
    # 75% of 30 days = 22.5 -> 23 days after 1 March
    on_time = request(transaction(rx_number="7100001", fill_number=1, days_supply=30), on=date(2026, 3, 24))
    assert status(send(payer, history, on_time)) == ("P", ())


def test_dur_88_then_paid_with_dur_pps_override(payer: Adjudicator, history: ClaimHistory) -> None:
    response = send(payer, history, request(transaction(WARFARIN)))
    assert status(response) == ("R", ("88",))
    dur = response.transactions[0].dur
    assert dur is not None and dur.entries[0].reason == "DD"
    override = DurPps(counter="1", reason="DD", professional_service="M0", result="1G")
    assert status(send(payer, history, request(transaction(WARFARIN, dur=(override,))))) == ("P", ())


def test_dur_pps_without_result_does_not_clear_88(payer: Adjudicator, history: ClaimHistory) -> None:
    half = DurPps(counter="1", reason="DD", professional_service="M0")
    assert status(send(payer, history, request(transaction(WARFARIN, dur=(half,))))) == ("R", ("88",))


def test_missing_fields_give_every_m_i_code(payer: Adjudicator, history: ClaimHistory) -> None:
    claim = request(transaction("1234", days_supply=None, prescriber_id=None), cardholder_id=None)
    assert status(send(payer, history, claim)) == ("R", ("07", "21", "19", "25"))


def test_duplicate_of_paid_returns_d_with_original_amounts(payer: Adjudicator, history: ClaimHistory) -> None:
    claim = request(transaction(AMOXICILLIN))
    paid = send(payer, history, claim)
    duplicate = send(payer, history, claim)
    assert status(duplicate) == ("D", ())
    assert duplicate.transactions[0].pricing == paid.transactions[0].pricing
    assert duplicate.transactions[0].status.authorization_number == paid.transactions[0].status.authorization_number


def test_reversal_approved_then_duplicate_reversal(payer: Adjudicator, history: ClaimHistory) -> None:
    send(payer, history, request(transaction(AMOXICILLIN)))
    reversal = request(transaction(AMOXICILLIN), code="B2")
    assert status(send(payer, history, reversal)) == ("A", ())
    assert status(send(payer, history, reversal)) == ("S", ())
    # once reversed, the same fill can be billed again
    assert status(send(payer, history, request(transaction(AMOXICILLIN)))) == ("P", ())


def test_reversal_of_nothing_is_rejected_87(payer: Adjudicator, history: ClaimHistory) -> None:
    assert status(send(payer, history, request(transaction(), code="B2"))) == ("R", ("87",))


def test_rebill_reverses_and_pays_again(payer: Adjudicator, history: ClaimHistory) -> None:
    first = send(payer, history, request(transaction(AMOXICILLIN)))
    rebill = send(payer, history, request(transaction(AMOXICILLIN, quantity=Decimal("20")), code="B3"))
    assert status(rebill) == ("P", ())
    assert rebill.transactions[0].status.authorization_number != first.transactions[0].status.authorization_number


def test_transient_ndc_92_every_time(payer: Adjudicator, history: ClaimHistory) -> None:
    for _ in range(2):
        assert status(send(payer, history, request(transaction(TRANSIENT)))) == ("R", ("92",))


def test_transient_bin_rejects_whole_transmission_92(payer: Adjudicator, history: ClaimHistory) -> None:
    response = send(payer, history, request(transaction(), bin_="999092"))
    assert response.header_response_status == "R"
    assert status(response) == ("R", ("92",))


def test_unknown_bin_01(payer: Adjudicator, history: ClaimHistory) -> None:
    assert status(send(payer, history, request(transaction(), bin_="123456"))) == ("R", ("01",))


def test_each_of_several_transactions_answered_in_order(payer: Adjudicator, history: ClaimHistory) -> None:
    claim = request(
        transaction(AMOXICILLIN, rx_number="1"),
        transaction(ADALIMUMAB, rx_number="2"),
        transaction(INSULIN, rx_number="3"),
    )
    response = send(payer, history, claim)
    assert [status(response, i)[0] for i in range(3)] == ["P", "R", "R"]
    assert [t.claim.rx_number for t in response.transactions if t.claim] == ["1", "2", "3"]


@pytest.mark.parametrize("raw", [b"", b"garbage", b"999001D0B1" + b"\xff" * 60])
def test_unreadable_request_gets_a_readable_rejection(payer: Adjudicator, history: ClaimHistory, raw: bytes) -> None:
    response = read_claim_response(parse_response(payer.respond(raw, history)))
    assert response.header_response_status == "R"
    assert status(response)[1] == ("R8",)


def test_history_is_only_touched_by_paid_claims(payer: Adjudicator, history: ClaimHistory) -> None:
    send(payer, history, request(transaction(ADALIMUMAB)))
    assert status(send(payer, history, request(transaction(ADALIMUMAB), code="B2"))) == ("R", ("87",))


def test_eligibility_for_a_cardholder_is_approved(payer: Adjudicator, history: ClaimHistory) -> None:
    eligibility = ClaimRequest(
        transaction_code="E1",
        bin="999001",
        service_provider_id="1993999998",
        date_of_service=date(2026, 3, 1),
        insurance=request().insurance,
    )
    response = send(payer, history, eligibility)
    assert (response.transaction_code, status(response)) == ("E1", ("A", ()))


def test_claim_request_without_a_transaction_is_refused_at_construction() -> None:
    with pytest.raises(ValueError, match="one to four"):
        ClaimRequest(bin="999001", service_provider_id="1", date_of_service=date(2026, 3, 1))
