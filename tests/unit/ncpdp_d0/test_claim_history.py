"""The simulated payer's paid-claim history: the last fill of an Rx, as the refill-too-soon rule (79) reads it."""

from __future__ import annotations

from datetime import date

from adapters.ncpdp.d0.response_segments import ResponsePricingSegment
from adapters.ncpdp.payer.history import ClaimHistory, ClaimKey, PaidClaim


def paid(rx_number: str, fill_number: int, on: date, cardholder_id: str = "CH1") -> PaidClaim:
    key = ClaimKey(
        bin="999001",
        processor_control_number="SIMPCN",
        service_provider_id="1234567890",
        rx_number=rx_number,
        fill_number=fill_number,
        date_of_service=on,
    )
    return PaidClaim(
        key=key,
        cardholder_id=cardholder_id,
        product_id="00093105201",
        days_supply=30,
        authorization_number=f"SIM{fill_number}",
        pricing=ResponsePricingSegment(),
    )


def test_the_last_fill_is_the_latest_unreversed_one_of_that_cardholder_and_rx() -> None:
    history = ClaimHistory()
    first, second = paid("7100001", 0, date(2026, 3, 1)), paid("7100001", 1, date(2026, 4, 1))
    for claim in (
        first,
        second,
        paid("7100001", 2, date(2026, 5, 1), cardholder_id="CH2"),
        paid("7100002", 0, date(2026, 6, 1)),
    ):
        history.record(claim)
    assert history.last_fill("CH1", "7100001") == second
    history.reverse(second.key)
    assert history.last_fill("CH1", "7100001") == first
    assert history.last_fill("CH3", "7100001") is None


def test_a_reversed_claim_paid_again_counts_once_under_its_new_cardholder() -> None:
    history = ClaimHistory()
    claim = paid("7100001", 0, date(2026, 3, 1))
    history.record(claim)
    history.reverse(claim.key)
    again = claim.model_copy(update={"cardholder_id": "CH9"})
    history.record(again)
    assert history.last_fill("CH1", "7100001") is None
    assert history.last_fill("CH9", "7100001") == again
