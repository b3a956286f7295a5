"""Hypothesis property of the compound claim: whatever the ingredients (2 to 25, NDC or UPC, any quantity and
cost D.0 can carry), the AM10 the codec writes reads back as the same ingredients, in order, with 447-EC their
count and 409-D9 as sent."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from adapters.ncpdp.d0 import parse_request, read_claim_request
from adapters.ncpdp.payer_link import D0ClaimCodec
from adapters.ncpdp.payer_link.compound_codes import ID_QUALIFIERS
from hub.domain.compound import MAX_INGREDIENTS, Compound, CompoundDosageForm, CompoundIngredient, DispensingUnit
from tests.unit.ncpdp_payer_link.claim_data import claim

ndcs = st.text("0123456789", min_size=11, max_size=11)
upcs = st.text("0123456789", min_size=12, max_size=12)
quantities = st.decimals(min_value=Decimal("0.001"), max_value=Decimal("9999999.999"), places=3)
costs = st.one_of(st.none(), st.decimals(min_value=Decimal("0"), max_value=Decimal("99999.99"), places=2))
ingredients = st.one_of(
    st.builds(CompoundIngredient, product_id=ndcs, quantity=quantities),
    st.builds(CompoundIngredient, product_id=upcs, id_kind=st.just("upc"), quantity=quantities),
)
compounds = st.builds(
    Compound,
    ingredients=st.lists(ingredients, min_size=2, max_size=MAX_INGREDIENTS).map(tuple),
    dosage_form=st.sampled_from(CompoundDosageForm),
    dispensing_unit=st.sampled_from(DispensingUnit),
)


@given(compounds, st.data())
def test_am10_reads_back_every_ingredient_in_order(compound: Compound, data: st.DataObject) -> None:
    paid = tuple(data.draw(costs) for _ in compound.ingredients)
    total = sum((c for c in paid if c is not None), Decimal("0"))
    body = D0ClaimCodec().encode(claim(compound=compound, compound_costs=paid, ingredient_cost=total)).body
    [transaction] = read_claim_request(parse_request(body)).transactions
    am10 = transaction.compound
    assert am10 is not None and am10.component_count == len(compound.ingredients)
    read = [(i.product_id_qualifier, i.product_id, i.quantity, i.drug_cost) for i in am10.ingredients]
    sent = [
        (ID_QUALIFIERS[i.id_kind], i.product_id, i.quantity, Decimal("0") if c is None else c)
        for i, c in zip(compound.ingredients, paid, strict=True)
    ]
    assert read == sent
    assert transaction.pricing is not None and transaction.pricing.ingredient_cost == total
