"""MedicationPrescribed/CompoundInformation -> the order's compound (SCRIPT 2017071 structures.xsd).

``FinalCompoundPharmaceuticalDosageForm`` (an NCI dosage form code) gives the final form; each
``CompoundIngredientsLotNotUsed`` one ingredient: ``CompoundIngredient/ItemNumber`` (Code, Qualifier ND = NDC)
with its description, and ``Quantity`` with its unit. The compound's dispensing unit is the unit of the
prescription's own Quantity. Whatever the hub cannot bill whole (an ingredient without an NDC or a quantity, a
form or unit it does not know) is an Error 900 at that element: the order is never taken with an ingredient
dropped.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from adapters.ncpdp.script.codes import NDC_QUALIFIER, quantity_unit, quantity_unit_code
from adapters.ncpdp.script.cursor import Cursor
from adapters.ncpdp.script.values import decimal_of
from adapters.ncpdp.script.xml_writer import add
from hub.domain.compound import (
    MAX_INGREDIENTS,
    Compound,
    CompoundDosageForm,
    CompoundIngredient,
    DispensingUnit,
    IngredientIdKind,
)

#: NCI dosage form codes of FinalCompoundPharmaceuticalDosageForm (FDA SPL dosage forms; unverified)
DOSAGE_FORMS = {
    "C25158": CompoundDosageForm.CAPSULE,
    "C42998": CompoundDosageForm.TABLET,
    "C28944": CompoundDosageForm.CREAM,
    "C42966": CompoundDosageForm.OINTMENT,
    "C42986": CompoundDosageForm.SOLUTION,
    "C42994": CompoundDosageForm.SUSPENSION,
    "C29167": CompoundDosageForm.LOTION,
    "C42993": CompoundDosageForm.SUPPOSITORY,
    "C42996": CompoundDosageForm.SYRUP,
    "C42912": CompoundDosageForm.ELIXIR,
}
DOSAGE_FORM_CODES = {form: code for code, form in DOSAGE_FORMS.items()}
#: Quantity/CodeListQualifier 38: original quantity
_ORIGINAL_QUANTITY = "38"
#: the prescription Quantity's unit (as ``quantity_unit`` reads it) -> the compound's dispensing unit
DISPENSING_UNITS = {
    "g": DispensingUnit.GRAMS,
    "mL": DispensingUnit.MILLILITERS,
    "tablet": DispensingUnit.EACH,
    "capsule": DispensingUnit.EACH,
}


def read_compound(medication: Cursor, unit: str | None) -> Compound | None:
    """The compound MedicationPrescribed describes, None when it has no CompoundInformation; problems are noted."""
    info = medication.at("CompoundInformation")
    if not info.present:
        return None
    form = _dosage_form(info.at("FinalCompoundPharmaceuticalDosageForm").required())
    dispensing = DISPENSING_UNITS.get(unit or "")
    if dispensing is None:
        medication.at("Quantity", "QuantityUnitOfMeasure").invalid(
            f"a compound is dispensed in grams, millilitres or units (tablets, capsules), not {unit or 'no unit'}"
        )
    lines = info.all("CompoundIngredientsLotNotUsed")
    if not 2 <= len(lines) <= MAX_INGREDIENTS:
        info.invalid(f"a compound lists 2 to {MAX_INGREDIENTS} CompoundIngredientsLotNotUsed, not {len(lines)}")
        return None
    ingredients = [_ingredient(line) for line in lines]
    if form is None or dispensing is None or any(i is None for i in ingredients):
        return None
    return Compound(
        ingredients=tuple(i for i in ingredients if i is not None),
        dosage_form=form,
        dispensing_unit=dispensing,
        description=medication.at("DrugDescription").text(),
    )


def _dosage_form(element: Cursor) -> CompoundDosageForm | None:
    code = element.text()
    if code is None:
        return None
    form = DOSAGE_FORMS.get(code) or next((f for f in CompoundDosageForm if f.value == code.casefold()), None)
    if form is None:
        known = ", ".join(f"{c} ({f.value})" for c, f in DOSAGE_FORMS.items())
        element.invalid(f"{code!r} is not a compound dosage form the hub can bill; known: {known}")
    return form


def _ingredient(line: Cursor) -> CompoundIngredient | None:
    ingredient = line.at("CompoundIngredient").required()
    item = ingredient.at("ItemNumber")
    code, qualifier = item.at("Code").text(), item.at("Qualifier").text()
    name = ingredient.at("CompoundIngredientItemDescription").text()
    quantity = line.at("Quantity").required()
    amount = decimal_of(quantity.at("Value"))
    unit = quantity_unit(quantity.at("QuantityUnitOfMeasure", "Code").text())
    if code is None or qualifier != NDC_QUALIFIER:
        item.invalid(f"ingredient {name or ''} needs an NDC (ItemNumber Code with Qualifier ND) to be billed")
        return None
    if amount is None or amount <= 0:
        quantity.invalid(f"ingredient {name or code} needs a quantity above zero")
        return None
    try:
        return CompoundIngredient(product_id=code, quantity=amount, unit=unit, name=name)
    except ValidationError as exc:
        item.invalid(f"ingredient {name or code}: {exc.errors()[0]['msg']}")
        return None


def write_compound(medication: Any, compound: Compound) -> None:
    """CompoundInformation under a medication element, read back by ``read_compound`` to the same compound (a form
    without an NCI code here goes as its word, which the reader takes too)."""
    info = add(medication, "CompoundInformation")
    add(
        info, "FinalCompoundPharmaceuticalDosageForm", DOSAGE_FORM_CODES.get(compound.dosage_form, compound.dosage_form)
    )
    for ingredient in compound.ingredients:
        line = add(info, "CompoundIngredientsLotNotUsed")
        item = add(line, "CompoundIngredient")
        add(item, "CompoundIngredientItemDescription", ingredient.name or ingredient.product_id)
        if ingredient.id_kind is IngredientIdKind.NDC:
            number = add(item, "ItemNumber")
            add(number, "Code", ingredient.product_id)
            add(number, "Qualifier", NDC_QUALIFIER)
        quantity = add(line, "Quantity")
        add(quantity, "Value", format(ingredient.quantity, "f"))
        add(quantity, "CodeListQualifier", _ORIGINAL_QUANTITY)
        add(add(quantity, "QuantityUnitOfMeasure"), "Code", quantity_unit_code(ingredient.unit))
