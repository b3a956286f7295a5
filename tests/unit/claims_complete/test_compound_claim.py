"""Compound claims on the wire: 406-D6 = 2, 436-E1 = 00 and 407-D7 = 0 in AM07, the ingredients in AM10 with
their repeats read back whole, 409-D9 the sum of the ingredients' costs; and the simulated payer pricing a
consistent AM10 from its ingredients while rejecting an inconsistent one with the field's M/I code."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from adapters.ncpdp.d0 import parse_request, parse_response, read_claim_response
from adapters.ncpdp.d0.builder import build_transmission
from adapters.ncpdp.d0.claim_request import read_claim_request
from adapters.ncpdp.d0.claim_response import TransactionResponse
from adapters.ncpdp.payer import Adjudicator, ClaimHistory, load_payer_config
from adapters.ncpdp.payer.config import DrugRule
from adapters.ncpdp.payer_link import D0ClaimCodec
from hub.config import DATA_DIR
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


# the plan covers both NDC ingredients at its own unit costs and pays a compounding fee less a copay
PLAN = load_payer_config(DATA_DIR / "payer-sim.json").model_copy(
    update={
        "drugs": {
            LIDOCAINE: DrugRule(name="lidocaine", unit_cost=Decimal("1.20")),
            PRILOCAINE: DrugRule(name="prilocaine", unit_cost=Decimal("0.80")),
        },
        "compound_dispensing_fee": Decimal("5.00"),
        "compound_copay": Decimal("3.00"),
    }
)
# the same cream with a base the plan can price: every ingredient an NDC it covers
PRICED = CREAM.model_copy(update={"ingredients": CREAM.ingredients[:2]})


def _answer(body: bytes) -> TransactionResponse:
    return read_claim_response(parse_response(Adjudicator(PLAN).respond(body, ClaimHistory()))).transactions[0]


def _with_am10(body: bytes, fields: list[tuple[str, str]]) -> bytes:
    """The request with its AM10 replaced by ``fields`` (what a careless pharmacy system might send)."""
    transmission = parse_request(body)
    group = transmission.groups[0]
    segments = tuple(
        s.model_copy(update={"fields": tuple(fields)}) if s.segment_id == "10" else s for s in group.segments
    )
    update = {"groups": (group.model_copy(update={"segments": segments}),)}
    return build_transmission(transmission.model_copy(update=update))


def test_the_payer_prices_a_consistent_compound_from_its_ingredients() -> None:
    body = D0ClaimCodec().encode(compound_claim(compound=PRICED, compound_costs=COSTS[:2])).body
    answer = _answer(body)
    assert (answer.status.transaction_status, answer.status.reject_codes) == ("P", ())
    assert answer.pricing is not None
    # 2.5 g x 1.20 + 2.5 g x 0.80 = 5.00 ingredients, + 5.00 fee = 10.00, less the 3.00 copay
    assert (answer.pricing.ingredient_cost_paid, answer.pricing.total_paid) == (Decimal("5.00"), Decimal("7.00"))
    assert answer.pricing.patient_pay == Decimal("3.00")


def test_an_uncovered_ingredient_rejects_70_unless_420_dk_08_asks_for_the_covered_ones() -> None:
    rejected = _answer(D0ClaimCodec().encode(compound_claim()).body)
    assert (rejected.status.transaction_status, rejected.status.reject_codes) == ("R", ("70",))
    approved_only = D0ClaimCodec().encode(compound_claim(clarification_codes=("08",))).body
    assert parse_request(approved_only).groups[0].segment("07") is not None
    answer = _answer(approved_only)
    assert answer.status.transaction_status == "P"
    assert answer.pricing is not None and answer.pricing.ingredient_cost_paid == Decimal("5.00")


def test_an_inconsistent_am10_is_rejected_with_the_field_s_mi_code() -> None:
    body = D0ClaimCodec().encode(compound_claim(compound=PRICED, compound_costs=COSTS[:2])).body
    lidocaine = [("RE", "03"), ("TE", LIDOCAINE), ("ED", "2500"), ("EE", "41{"), ("UE", "01")]
    head = [("EF", "03"), ("EG", "2")]
    cases = {
        "EC": [*head, ("EC", "3"), *lidocaine, *lidocaine],  # says three, lists two
        "TE": [*head, ("EC", "2"), *lidocaine, ("RE", "03"), ("ED", "2500"), ("EE", "41{")],  # no product id
        "ED": [*head, ("EC", "2"), *lidocaine, ("RE", "03"), ("TE", PRILOCAINE), ("EE", "41{")],  # no quantity
        "RE": [*head, ("EC", "2"), *lidocaine, ("RE", "99"), ("TE", PRILOCAINE), ("ED", "2500"), ("EE", "1{")],
        "EF": [("EG", "2"), ("EC", "2"), *lidocaine, *lidocaine],
    }
    for code, fields in cases.items():
        answer = _answer(_with_am10(body, fields))
        assert (answer.status.transaction_status, answer.status.reject_codes) == ("R", (code,)), code


def test_a_compound_code_without_am10_or_am10_on_a_single_product_rejects_20() -> None:
    without = D0ClaimCodec().encode(compound_claim(compound=None, compound_costs=())).body
    assert _answer(without.replace(b"\x1cD7", b"\x1cD62\x1cD7", 1)).status.reject_codes == ("20",)
    compound = D0ClaimCodec().encode(compound_claim(compound=PRICED, compound_costs=COSTS[:2])).body
    assert _answer(compound.replace(b"\x1cD62", b"\x1cD61", 1)).status.reject_codes == ("20",)
