"""Claims complete for the payer sheet (issue 33, part 2): the new AM07/AM11 fields on the wire, field by field
against the D.0 layout of standards.md §4.2 (460-ET, 419-DJ, 308-C8, 600-28, 343-HD/344-HF/345-HG, 409-D9,
412-DC, 423-DN, 426-DQ, 430-DU), read from the raw segments and back through the typed reader."""

from __future__ import annotations

from decimal import Decimal

from adapters.ncpdp.d0 import parse_request, read_claim_request
from adapters.ncpdp.d0.amounts import decode_overpunch
from adapters.ncpdp.payer_link import D0ClaimCodec
from hub.domain.claim_exchange import ClaimTransaction
from tests.unit.ncpdp_payer_link.claim_data import HYDROCODONE, claim

OXYCODONE_LIKE = {"ndc": HYDROCODONE, "schedule": "2", "quantity_prescribed": Decimal("20"), "quantity": Decimal("20")}


def raw_fields(body: bytes, segment_id: str) -> dict[str, list[str]]:
    group = parse_request(body).groups[0]
    segment = group.segment(segment_id)
    assert segment is not None, f"AM{segment_id} missing"
    fields: dict[str, list[str]] = {}
    for fid, value in segment.fields:
        fields.setdefault(fid, []).append(value)
    return fields


def test_cii_claim_carries_quantity_prescribed_origin_and_unit() -> None:
    body = (
        D0ClaimCodec()
        .encode(claim(**OXYCODONE_LIKE, origin_code="3", unit_of_measure="EA", other_coverage_code="1"))
        .body
    )
    am07 = raw_fields(body, "07")
    assert am07["ET"] == ["20000"]  # 460-ET 9(7)v999: 20 -> 20000
    assert am07["DJ"] == ["3"] and am07["28"] == ["EA"] and am07["C8"] == ["1"]
    assert "HD" not in am07
    typed = read_claim_request(parse_request(body)).transactions[0].claim
    assert (typed.quantity_prescribed, typed.origin_code, typed.unit_of_measure) == (Decimal("20"), "3", "EA")


def test_partial_fill_status_and_intended_amounts() -> None:
    body = (
        D0ClaimCodec()
        .encode(
            claim(
                dispensing_status="P", quantity=Decimal("10"), quantity_intended=Decimal("30"), days_supply_intended=30
            )
        )
        .body
    )
    am07 = raw_fields(body, "07")
    assert (am07["HD"], am07["HF"], am07["HG"]) == (["P"], ["30000"], ["30"])
    assert am07["E7"] == ["10000"]


def test_cost_fields_and_basis_go_in_am11() -> None:
    body = (
        D0ClaimCodec()
        .encode(
            claim(
                ingredient_cost=Decimal("8.25"),
                dispensing_fee=Decimal("1.75"),
                basis_of_cost="01",
                usual_and_customary=Decimal("12.99"),
                gross_amount_due=Decimal("10.00"),
            )
        )
        .body
    )
    am11 = raw_fields(body, "11")
    amounts = {fid: decode_overpunch(am11[fid][0]) for fid in ("D9", "DC", "DQ", "DU")}
    assert amounts == {"D9": Decimal("8.25"), "DC": Decimal("1.75"), "DQ": Decimal("12.99"), "DU": Decimal("10.00")}
    assert am11["DN"] == ["01"]


def test_clarification_codes_repeat_with_their_count() -> None:
    am07 = raw_fields(D0ClaimCodec().encode(claim(clarification_codes=("03", "04"))).body, "07")
    assert am07["NX"] == ["2"] and am07["DK"] == ["03", "04"]


def test_reversal_carries_only_what_matches_the_paid_claim() -> None:
    data = claim(
        transaction=ClaimTransaction.REVERSAL,
        **OXYCODONE_LIKE,
        origin_code="3",
        ingredient_cost=Decimal("1"),
        dispensing_fee=Decimal("1"),
    )
    body = D0ClaimCodec().encode(data).body
    assert set(raw_fields(body, "07")) == {"EM", "D2", "E1", "D7", "D3"}
    assert parse_request(body).groups[0].segment("11") is None
