"""Partial fills on the wire (issue 33, part 5): the part billed 343-HD P (a B3 of the claim paid whole), the rest
C on the same Rx and fill number, 344-HF/345-HG on both, field by field against standards.md §4.2; and the
simulated payer taking P then C, refusing a C without its P or above the quantity intended."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from adapters.ncpdp.d0 import parse_request, parse_response, read_claim_response
from adapters.ncpdp.payer import Adjudicator, ClaimHistory, load_payer_config
from adapters.ncpdp.payer_link import D0ClaimCodec
from hub.config import DATA_DIR
from hub.domain.claim_exchange import ClaimRequestData, ClaimTransaction
from hub.domain.inventory import allocate
from hub.domain.partial_claims import claim_quantities
from hub.domain.partial_fill import ShortStockChoice
from hub.domain.states import RxState
from tests.unit.claims_complete.test_encoded_fields import raw_fields
from tests.unit.domain.builders import LISINOPRIL, NOW, PHARMACIST, PHARMACY, SYSTEM, TECHNICIAN, reach, stock
from tests.unit.ncpdp_payer_link.claim_data import claim

PAYER = Adjudicator(load_payer_config(DATA_DIR / "payer-sim.json"))
PART = {"dispensing_status": "P", "quantity": Decimal("12"), "days_supply": 4}
REST = {"dispensing_status": "C", "quantity": Decimal("18"), "days_supply": 6}
WHOLE = {"quantity_intended": Decimal("30"), "days_supply_intended": 10}
ASSOCIATED = {"associated_rx_number": "7000001", "associated_date": date(2026, 3, 1)}


def _part(**changes: Any) -> ClaimRequestData:
    return claim(attempt=2, transaction=ClaimTransaction.REBILL, **{**PART, **WHOLE, **changes})


def _rest(**changes: Any) -> ClaimRequestData:
    values = {**REST, **WHOLE, **ASSOCIATED, "date_of_service": date(2026, 3, 3), **changes}
    return claim(attempt=3, **values)


def _send(history: ClaimHistory, request: ClaimRequestData) -> tuple[str, tuple[str, ...]]:
    body = D0ClaimCodec().encode(request).body
    answer = read_claim_response(parse_response(PAYER.respond(body, history))).transactions[0].status
    return answer.transaction_status, answer.reject_codes


def test_the_part_is_a_b3_with_status_p_and_the_whole_intended() -> None:
    body = D0ClaimCodec().encode(_part()).body
    assert body[8:10] == b"B3"
    am07 = raw_fields(body, "07")
    assert (am07["D2"], am07["D3"], am07["HD"]) == (["7000001"], ["0"], ["P"])
    assert (am07["E7"], am07["D5"]) == (["12000"], ["4"])  # 442-E7 9(7)v999: the part dispensed now
    assert (am07["HF"], am07["HG"]) == (["30000"], ["10"])  # 344-HF / 345-HG: the whole fill
    assert "EN" not in am07 and "EP" not in am07


def test_the_rest_is_a_b1_with_status_c_on_the_same_rx_and_fill() -> None:
    body = D0ClaimCodec().encode(_rest()).body
    assert body[8:10] == b"B1"
    am07 = raw_fields(body, "07")
    assert (am07["D2"], am07["D3"], am07["HD"]) == (["7000001"], ["0"], ["C"])
    assert (am07["E7"], am07["D5"], am07["HF"], am07["HG"]) == (["18000"], ["6"], ["30000"], ["10"])
    assert (am07["EN"], am07["EP"]) == (["7000001"], ["20260301"])  # 456-EN / 457-EP: the part it completes


def test_a_reversal_of_the_rest_names_its_status() -> None:
    body = D0ClaimCodec().encode(_rest(transaction=ClaimTransaction.REVERSAL)).body
    group = parse_request(body).groups[0]
    assert body[8:10] == b"B2" and raw_fields(body, "07")["HD"] == ["C"] and group.segment("11") is None


def test_the_payer_pays_the_whole_then_the_part_then_the_rest() -> None:
    history = ClaimHistory()
    assert _send(history, claim(quantity=Decimal("30"), days_supply=10)) == ("P", ())
    assert _send(history, _part()) == ("P", ()), "the B3 replaces the claim paid whole"
    assert _send(history, _rest()) == ("P", ()), "the rest is no refill: never 79"
    assert _send(history, _rest()) == ("D", ()), "the same rest twice is a duplicate"
    reversed_rest = _send(history, _rest(transaction=ClaimTransaction.REVERSAL))
    assert reversed_rest == ("A", ()) and _send(history, _rest()) == ("P", ())


def test_the_payer_refuses_a_rest_without_its_part_or_above_the_whole() -> None:
    history = ClaimHistory()
    assert _send(history, _rest()) == ("R", ("HD",))
    assert _send(history, _part()) == ("P", ())
    assert _send(history, _rest(quantity=Decimal("19"))) == ("R", ("HF",))
    assert _send(history, _rest(quantity_intended=Decimal("40"))) == ("R", ("HF",))
    assert _send(history, _part(fill_number=1, quantity_intended=None)) == ("R", ("HF",))
    assert _send(history, _part(fill_number=1, days_supply_intended=None)) == ("R", ("HG",))


def test_the_fill_gives_the_claim_its_part_and_its_whole() -> None:
    rx = reach(RxState.FILLING)
    assert claim_quantities(rx.rx_number, rx.fills, rx.current_fill).dispensing_status is None
    rx.note_short_stock(NOW, allocate(stock(quantity="12"), LISINOPRIL, Decimal("30"), NOW.date()))
    rx.decide_short_stock(TECHNICIAN, NOW, ShortStockChoice.PARTIAL, "back-order")
    part = claim_quantities(rx.rx_number, rx.fills, rx.current_fill)
    assert (part.dispensing_status, part.quantity, part.days_supply) == ("P", 12, 12)
    assert (part.quantity_intended, part.days_supply_intended) == (30, 30)
    assert part.associated_rx_number is None and part.associated_date is None


def test_the_rest_names_the_part_it_completes() -> None:
    rx = reach(RxState.FILLING)
    rx.note_short_stock(NOW, allocate(stock(quantity="12"), LISINOPRIL, Decimal("30"), NOW.date()))
    rx.decide_short_stock(TECHNICIAN, NOW, ShortStockChoice.PARTIAL, "back-order")
    rx.claim_paid(SYSTEM, NOW, total_paid=Decimal("4"), patient_pay=Decimal("1"))
    rx.approve_data_verification(PHARMACIST, NOW)
    rx.complete_fill(TECHNICIAN, NOW, allocate(stock(quantity="12"), LISINOPRIL, Decimal("12"), NOW.date()), PHARMACY)
    rx.approve_product_verification(PHARMACIST, NOW)
    rx.dispense(TECHNICIAN, NOW)
    rx.start_completion(TECHNICIAN, NOW + timedelta(days=2))
    rest = claim_quantities(rx.rx_number, rx.fills, rx.current_fill)
    assert (rest.dispensing_status, rest.quantity, rest.days_supply) == ("C", 18, 18)
    assert (rest.quantity_intended, rest.days_supply_intended) == (30, 30)
    part_claim = rx.fills[0].claim
    assert part_claim is not None and part_claim.submitted_at is not None
    assert (rest.associated_rx_number, rest.associated_date) == (rx.rx_number, part_claim.submitted_at.date())


def test_the_payer_pays_later_portions_of_a_1306_13_b_fill_up_to_the_whole() -> None:
    """Part 12, a later portion of 10 (a P naming the part in 456-EN), then the last 8 as C; never above 30."""
    history = ClaimHistory()
    assert _send(history, claim(quantity=Decimal("30"), days_supply=10)) == ("P", ())
    assert _send(history, _part()) == ("P", ())
    portion = claim(attempt=3, **{**PART, **WHOLE, **ASSOCIATED, "quantity": Decimal("10"), "days_supply": 3})
    assert _send(history, portion.model_copy(update={"quantity": Decimal("19")})) == ("R", ("HF",))
    assert _send(history, portion) == ("P", ()), "a later portion is its own claim, not the first P again"
    assert _send(history, _rest(quantity=Decimal("9"))) == ("R", ("HF",)), "12 + 10 + 9 is above the 30 intended"
    assert _send(history, _rest(quantity=Decimal("8"))) == ("P", ())
