"""Compound claims on the wire: 406-D6 = 2, 436-E1 = 00 and 407-D7 = 0 in AM07, the ingredients in AM10 with
their repeats read back whole, 409-D9 the sum of the ingredients' costs; and the simulated payer pricing a
consistent AM10 from its ingredients while rejecting an inconsistent one with the field's M/I code."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from adapters.ncpdp.d0 import parse_request
from adapters.ncpdp.d0.claim_request import read_claim_request
from adapters.ncpdp.payer_link import D0ClaimCodec
from hub.domain.claim_exchange import ClaimRequestData, ClaimTransaction
from hub.domain.compound import Compound, CompoundDosageForm, CompoundIngredient, DispensingUnit
from tests.unit.claims_complete.test_encoded_fields import raw_fields
from tests.unit.ncpdp_payer_link.claim_data import AMOXICILLIN, claim

# a cream of two NDCs in a base: the base has a UPC and no price on file
LIDOCAINE, PRILOCAINE, BASE = "00054418425", "52268015001", "012345678905"
CREAM = Compound(
    ingredients=(
        CompoundIngredient(product_id=LIDOCAINE, quantity=Decimal("2.5"), unit="g", name="lidocaine"),
        CompoundIngredient(product_id=PRILOCAINE, quantity=Decimal("2.5"), unit="g", name="prilocaine"),
        CompoundIngredient(product_id=BASE, id_kind="upc", quantity=Decimal("25"), unit="g", name="cream base"),
    ),
    dosage_form=CompoundDosageForm.CREAM,
    dispensing_unit=DispensingUnit.GRAMS,
)
COSTS = (Decimal("4.10"), Decimal("3.25"), None)


def compound_claim(**changes: Any) -> ClaimRequestData:
    values: dict[str, Any] = {
        "ndc": "00000000000",
        "quantity": Decimal("30"),
        "compound": CREAM,
        "compound_costs": COSTS,
        "ingredient_cost": Decimal("7.35"),
        "dispensing_fee": Decimal("2.00"),
        "basis_of_cost": "01",
        "gross_amount_due": Decimal("9.35"),
        "usual_and_customary": Decimal("25.00"),
        **changes,
    }
    return claim(**values)


def test_a_compound_b1_says_compound_and_names_no_product_in_am07() -> None:
    body = D0ClaimCodec().encode(compound_claim()).body
    am07 = raw_fields(body, "07")
    assert (am07["D6"], am07["E1"], am07["D7"]) == (["2"], ["00"], ["0"])
    assert am07["E7"] == ["30000"]
    am11 = raw_fields(body, "11")
    assert (am11["D9"], am11["DC"], am11["DU"], am11["DN"]) == (["73E"], ["20{"], ["93E"], ["01"])


def test_am10_lists_every_ingredient_field_by_field() -> None:
    body = D0ClaimCodec().encode(compound_claim()).body
    segment = parse_request(body).groups[0].segment("10")
    assert segment is not None
    assert list(segment.fields) == [
        ("EF", "03"),  # 450-EF cream
        ("EG", "2"),  # 451-EG grams
        ("EC", "3"),  # 447-EC three ingredients
        ("RE", "03"),
        ("TE", LIDOCAINE),
        ("ED", "2500"),
        ("EE", "41{"),
        ("UE", "01"),
        ("RE", "03"),
        ("TE", PRILOCAINE),
        ("ED", "2500"),
        ("EE", "32E"),
        ("UE", "01"),
        ("RE", "01"),  # 488-RE UPC
        ("TE", BASE),
        ("ED", "25000"),
        ("EE", "{"),  # no price on file: zero, basis not specified
        ("UE", "00"),
    ]


def test_the_parser_reads_am10_back_with_its_repeats() -> None:
    body = D0ClaimCodec().encode(compound_claim()).body
    transaction = read_claim_request(parse_request(body)).transactions[0]
    compound = transaction.compound
    assert compound is not None
    assert (compound.dosage_form_code, compound.dispensing_unit_code, compound.component_count) == ("03", "2", 3)
    assert [(i.product_id_qualifier, i.product_id, i.quantity, i.drug_cost) for i in compound.ingredients] == [
        ("03", LIDOCAINE, Decimal("2.5"), Decimal("4.10")),
        ("03", PRILOCAINE, Decimal("2.5"), Decimal("3.25")),
        ("01", BASE, Decimal("25"), Decimal("0")),
    ]
    assert transaction.claim.compound_code == "2"


def test_a_compound_reversal_names_no_product_either_and_a_single_product_claim_has_no_am10() -> None:
    reversal = D0ClaimCodec().encode(compound_claim(transaction=ClaimTransaction.REVERSAL)).body
    am07 = raw_fields(reversal, "07")
    assert (am07["E1"], am07["D7"]) == (["00"], ["0"])
    assert parse_request(reversal).groups[0].segment("10") is None
    single = D0ClaimCodec().encode(claim(ndc=AMOXICILLIN)).body
    assert parse_request(single).groups[0].segment("10") is None
    assert "D6" not in raw_fields(single, "07")
