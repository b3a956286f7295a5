"""A compound claim in D.0: the AM07 fields that say so and the AM10 that lists the ingredients.

Codes (standards.md §4.2; the value lists are in NCPDP's licensed data dictionary, so those marked unverified
are general knowledge): 406-D6 2 = compound, 436-E1 00 with 407-D7 0 (no product id for a compound),
450-EF dosage form, 451-EG dispensing unit, 488-RE product id qualifier.
"""

from __future__ import annotations

from decimal import Decimal

from adapters.ncpdp.d0.compound_segment import CompoundIngredientLine, CompoundSegment
from hub.domain.claim_exchange import ClaimRequestData
from hub.domain.compound import CompoundDosageForm, DispensingUnit, IngredientIdKind

#: 406-D6
COMPOUND = "2"
#: 436-E1 00 (not specified) and 407-D7 0: a compound has no product id of its own
NO_PRODUCT_QUALIFIER = "00"
NO_PRODUCT_ID = "0"
#: 450-EF compound dosage form description code (unverified)
DOSAGE_FORM_CODES = {
    CompoundDosageForm.CAPSULE: "01",
    CompoundDosageForm.OINTMENT: "02",
    CompoundDosageForm.CREAM: "03",
    CompoundDosageForm.SUPPOSITORY: "04",
    CompoundDosageForm.POWDER: "05",
    CompoundDosageForm.EMULSION: "06",
    CompoundDosageForm.LIQUID: "07",
    CompoundDosageForm.TABLET: "10",
    CompoundDosageForm.SOLUTION: "11",
    CompoundDosageForm.SUSPENSION: "12",
    CompoundDosageForm.LOTION: "13",
    CompoundDosageForm.SHAMPOO: "14",
    CompoundDosageForm.ELIXIR: "15",
    CompoundDosageForm.SYRUP: "16",
    CompoundDosageForm.LOZENGE: "17",
    CompoundDosageForm.ENEMA: "18",
}
#: 451-EG compound dispensing unit form indicator
DISPENSING_UNIT_CODES = {DispensingUnit.EACH: "1", DispensingUnit.GRAMS: "2", DispensingUnit.MILLILITERS: "3"}
#: 488-RE compound product id qualifier (the 436-E1 list: 01 UPC, 02 HRI, 03 NDC)
ID_QUALIFIERS = {IngredientIdKind.UPC: "01", IngredientIdKind.HRI: "02", IngredientIdKind.NDC: "03"}
#: 490-UE for an ingredient the pharmacy has no price for: 00 not specified (unverified)
BASIS_NOT_SPECIFIED = "00"


def compound_claim_ids(request: ClaimRequestData) -> dict[str, str]:
    """AM07 fields of a compound claim (406-D6, 436-E1, 407-D7); nothing for a single product."""
    if request.compound is None:
        return {}
    return {"compound_code": COMPOUND, "product_id_qualifier": NO_PRODUCT_QUALIFIER, "product_id": NO_PRODUCT_ID}


def compound_segment(request: ClaimRequestData) -> CompoundSegment | None:
    """AM10 for a compound claim: each ingredient with its quantity and cost, in the order's order."""
    compound = request.compound
    if compound is None:
        return None
    costs = request.compound_costs or (None,) * len(compound.ingredients)
    if len(costs) != len(compound.ingredients):
        raise ValueError(f"{len(costs)} ingredient costs for {len(compound.ingredients)} ingredients")
    lines = tuple(
        CompoundIngredientLine(
            product_id_qualifier=ID_QUALIFIERS[ingredient.id_kind],
            product_id=ingredient.product_id,
            quantity=ingredient.quantity,
            drug_cost=Decimal("0") if cost is None else cost,
            basis_of_cost=(request.basis_of_cost or BASIS_NOT_SPECIFIED) if cost is not None else BASIS_NOT_SPECIFIED,
        )
        for ingredient, cost in zip(compound.ingredients, costs, strict=True)
    )
    return CompoundSegment(
        dosage_form_code=DOSAGE_FORM_CODES[compound.dosage_form],
        dispensing_unit_code=DISPENSING_UNIT_CODES[compound.dispensing_unit],
        ingredients=lines,
    )
