"""A compound's claim as the claim worker builds it: every ingredient priced from the catalogue where it knows it,
409-D9 their sum, and 420-DK 08 on every claim when the pharmacy's setting asks for approved ingredients only."""

from __future__ import annotations

from decimal import Decimal

from hub.domain.claim_exchange import ClaimRequestData
from hub.domain.order_parts import DrugInfo, QuantityInfo
from tests.unit.domain.test_compound import mouthwash
from tests.unit.service.pharmacy import Pharmacy

COMPOUND = {
    "drug": DrugInfo(text="Magic mouthwash", compound=mouthwash()),
    "quantity": QuantityInfo(value=Decimal("240")),
}


def _claim(pharmacy: Pharmacy) -> ClaimRequestData:
    _, received = pharmacy.ordered(**COMPOUND)
    pharmacy.follow(received)
    (request,) = pharmacy.codec.encoded
    assert isinstance(request, ClaimRequestData)
    return request


def test_a_compound_claim_carries_its_ingredients_and_their_summed_cost() -> None:
    request = _claim(Pharmacy())
    assert request.compound == mouthwash()
    # no payer sheet: the catalogue's usual and customary prices, 6 x 0.20 and 120 x 0.10; the third is unknown
    assert request.compound_costs == (Decimal("1.20"), Decimal("12.00"), None)
    assert request.ingredient_cost == Decimal("13.20")
    assert request.clarification_codes == ()


def test_the_setting_sends_420_dk_08_with_every_compound_claim_only() -> None:
    pharmacy = Pharmacy(compound_approved_ingredients_only=True)
    assert _claim(pharmacy).clarification_codes == ("08",)
    single = Pharmacy(compound_approved_ingredients_only=True)
    single.billed()
    (request,) = single.codec.encoded
    assert request.clarification_codes == ()
