"""A compound order: its ingredients are kept whole, it is billed as one product without an NDC of its own, and
the catalogue's knowledge of an ingredient feeds DUR classes and prices while an unknown one still passes."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from pydantic import ValidationError

from hub.domain.compound import (
    COMPOUND_PRODUCT_ID,
    Compound,
    CompoundDosageForm,
    CompoundIngredient,
    DispensingUnit,
)
from hub.domain.compound_product import ingredient_prices
from hub.domain.inventory import allocate
from hub.domain.order_parts import DrugInfo, QuantityInfo
from hub.domain.states import RxState
from hub.domain.workflow_events import FillCompleted
from tests.unit.domain.builders import (
    CATALOGUE,
    NOW,
    PHARMACIST,
    PHARMACY,
    SYSTEM,
    TECHNICIAN,
    TODAY,
    context,
    received,
)

# dexamethasone 4 mg tablets (in the catalogue), nizatidine oral solution (in it), a synthetic NDC (not in it)
DEXAMETHASONE, NIZATIDINE, UNKNOWN = "00054418425", "52268015001", "99999000101"


def mouthwash() -> Compound:
    return Compound(
        ingredients=(
            CompoundIngredient(product_id=DEXAMETHASONE, quantity=Decimal("6"), unit="EA", name="dexamethasone"),
            CompoundIngredient(product_id="52268-0150-01", quantity=Decimal("120"), unit="mL", name="nizatidine"),
            CompoundIngredient(product_id=UNKNOWN, quantity=Decimal("120"), unit="mL", name="viscous lidocaine"),
        ),
        dosage_form=CompoundDosageForm.SUSPENSION,
        dispensing_unit=DispensingUnit.MILLILITERS,
        description="Magic mouthwash",
    )


def test_a_compound_order_is_billed_as_one_product_with_its_ingredients_kept() -> None:
    rx = received(
        drug=DrugInfo(text="Magic mouthwash", compound=mouthwash()), quantity=QuantityInfo(value=Decimal("240"))
    )
    rx.intake(SYSTEM, NOW, context())
    assert rx.state is RxState.CLAIM_PENDING, "a compound needs no catalogue NDC of its own"
    assert rx.product is not None
    assert (rx.product.ndc11, rx.product.unit, rx.product.form) == (COMPOUND_PRODUCT_ID, "ML", "suspension")
    assert rx.current_fill.ndc == COMPOUND_PRODUCT_ID
    assert rx.drug.compound is not None
    assert [i.product_id for i in rx.drug.compound.ingredients] == [DEXAMETHASONE, NIZATIDINE, UNKNOWN]
    assert "dexamethasone" in rx.product.ingredients
    # its ingredients' classes, so that screening compares what is in it, not "a compound" with any other
    assert rx.product.therapeutic_class == "corticosteroids + h2 receptor antagonists"
    # U&C from the known ingredients: 6 x 0.20 + 120 x 0.10 = 13.20 for the whole 240 mL
    assert rx.current_fill.claim is not None and rx.current_fill.claim.amount_requested == Decimal("13.20")


def test_ingredient_prices_are_per_ingredient_and_none_for_what_the_catalogue_lacks() -> None:
    prices = ingredient_prices(mouthwash(), CATALOGUE.by_ndc, lambda p: p.awp_unit_price)
    assert prices == (Decimal("1.50"), Decimal("15.00"), None)


def test_a_compound_needs_two_ingredients_with_readable_ndcs() -> None:
    one = mouthwash().ingredients[:1]
    with pytest.raises(ValidationError):
        Compound(ingredients=one, dosage_form=CompoundDosageForm.CREAM, dispensing_unit=DispensingUnit.GRAMS)
    with pytest.raises(ValidationError, match="NDC"):
        CompoundIngredient(product_id="5226801500", quantity=Decimal("1"))
    with pytest.raises(ValidationError):
        CompoundIngredient(product_id=DEXAMETHASONE, quantity=Decimal("0"))


def test_a_compound_is_filled_as_made_to_order_dated_by_its_beyond_use_days() -> None:
    rx = received(
        drug=DrugInfo(text="Magic mouthwash", compound=mouthwash()), quantity=QuantityInfo(value=Decimal("240"))
    )
    rx.intake(SYSTEM, NOW, context())
    rx.claim_paid(SYSTEM, NOW, total_paid=Decimal("8.90"), patient_pay=Decimal("2.00"), authorization_number="A1")
    rx.approve_data_verification(PHARMACIST, NOW)
    shelf_pick = allocate([], COMPOUND_PRODUCT_ID, Decimal("240"), TODAY)
    [completed] = rx.complete_fill(TECHNICIAN, NOW, shelf_pick, PHARMACY)
    assert rx.state is RxState.PRODUCT_VERIFICATION
    assert isinstance(completed, FillCompleted)
    assert [(p.lot, p.quantity) for p in completed.picks] == [("COMPOUNDED", Decimal("240"))]
    assert rx.current_fill.label is not None
    assert rx.current_fill.label.discard_date == TODAY + timedelta(days=14), "an aqueous suspension keeps 14 days"
