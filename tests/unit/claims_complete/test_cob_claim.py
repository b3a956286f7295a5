"""Claims to a second payer (issue 33, part 3): the AM05 COB segment field by field (337-4C, 338-5C, 339-6C,
340-7C, 443-E8, 341-HB, 342-HC, 431-DV, 471-5E, 472-6E) with 308-C8, read back by the typed reader, and the
simulated secondary paying what the primary left."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from adapters.ncpdp.d0 import parse_request, read_claim_request
from adapters.ncpdp.payer.adjudicator import Adjudicator
from adapters.ncpdp.payer.config import load_payer_config
from adapters.ncpdp.payer.history import ClaimHistory
from adapters.ncpdp.payer_link import D0ClaimCodec
from hub.config import DATA_DIR
from hub.domain.claim_exchange import OtherPayment
from tests.unit.claims_complete.test_encoded_fields import raw_fields
from tests.unit.ncpdp_payer_link.claim_data import SIM_BIN, claim

SECONDARY_BIN = "999003"
PRIMARY_PAID = OtherPayment(sequence=1, bin=SIM_BIN, answered_on=date(2026, 3, 1), amount_paid=Decimal("4.85"))
PRIMARY_REJECTED = OtherPayment(sequence=1, bin=SIM_BIN, answered_on=date(2026, 3, 1), reject_codes=("70", "MR"))


def test_cob_claim_carries_what_the_primary_paid() -> None:
    body = D0ClaimCodec().encode(claim(bin=SECONDARY_BIN, other_payments=(PRIMARY_PAID,))).body
    am05 = raw_fields(body, "05")
    assert am05 == {
        "4C": ["1"],
        "5C": ["01"],
        "6C": ["03"],
        "7C": [SIM_BIN],
        "E8": ["20260301"],
        "HB": ["1"],
        "HC": ["07"],
        "DV": ["48E"],
    }  # 431-DV signed overpunch: 4.85 -> 48E
    assert raw_fields(body, "07")["C8"] == ["2"]  # other coverage exists, payment collected
    group = parse_request(body).groups[0]
    order = [s.segment_id for s in group.segments]
    assert order.index("03") < order.index("05") < order.index("11")
    [payer] = read_claim_request(parse_request(body)).transactions[0].cob.other_payers  # type: ignore[union-attr]
    assert (payer.coverage_type, payer.payer_id, payer.payer_date, payer.total_paid) == (
        "01",
        SIM_BIN,
        date(2026, 3, 1),
        Decimal("4.85"),
    )


def test_cob_claim_after_a_primary_reject_carries_its_codes() -> None:
    body = D0ClaimCodec().encode(claim(bin=SECONDARY_BIN, other_payments=(PRIMARY_REJECTED,))).body
    am05 = raw_fields(body, "05")
    assert (am05["5E"], am05["6E"]) == (["2"], ["70", "MR"])
    assert "HB" not in am05 and "DV" not in am05
    assert raw_fields(body, "07")["C8"] == ["3"]  # other coverage billed, claim not covered
    [payer] = read_claim_request(parse_request(body)).transactions[0].cob.other_payers  # type: ignore[union-attr]
    assert payer.reject_codes == ("70", "MR") and payer.amounts_paid == ()


def test_primary_claim_has_no_cob_segment() -> None:
    body = D0ClaimCodec().encode(claim()).body
    assert parse_request(body).groups[0].segment("05") is None


def test_simulated_secondary_pays_what_the_primary_left() -> None:
    config = load_payer_config(DATA_DIR / "payer-sim.json")
    payer = Adjudicator(config.model_copy(update={"bins": (*config.bins, SECONDARY_BIN)}))
    codec = D0ClaimCodec()
    primary = payer.adjudicate(codec.claim_request(claim()), ClaimHistory()).transactions[0]
    assert primary.status.transaction_status == "P" and primary.pricing is not None
    left = primary.pricing.patient_pay
    assert left is not None and left > 0
    paid = OtherPayment(bin=SIM_BIN, answered_on=date(2026, 3, 1), amount_paid=primary.pricing.total_paid)
    secondary_claim = codec.claim_request(claim(bin=SECONDARY_BIN, other_payments=(paid,)))
    secondary = payer.adjudicate(secondary_claim, ClaimHistory()).transactions[0]
    assert secondary.status.transaction_status == "P" and secondary.pricing is not None
    assert (secondary.pricing.total_paid, secondary.pricing.patient_pay) == (left, Decimal("0"))
