"""A contained Medication whose ``ingredient`` items carry NDC codings -> the order's compound.

R4 Medication: ``form`` is the final dosage form; each ``ingredient`` names an item (``itemCodeableConcept``
with an ``http://hl7.org/fhir/sid/ndc`` coding) and its ``strength``, a Ratio of the ingredient per amount of
the compound. The ingredient's quantity in the whole compound is the numerator, scaled to the amount dispensed
(``dispenseRequest.quantity``) when the ratio has a denominator; the dispensing unit is that quantity's unit.
A Medication whose ingredients carry no NDC at all keeps them as text for a technician, as before; one with
some NDC-coded ingredients is billed whole or refused (``not-supported``/``required`` at the element): an
ingredient is never dropped.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from adapters.fhir.elements import JsonObject, codings, concept_text, number, obj, objs, text
from hub.domain.compound import (
    MAX_INGREDIENTS,
    Compound,
    CompoundDosageForm,
    CompoundIngredient,
    DispensingUnit,
    IngredientIdKind,
)
from hub.domain.order_parts import QuantityInfo
from hub.errors import Problem

NDC = "http://hl7.org/fhir/sid/ndc"
#: UCUM codes and plain units of ``dispenseRequest.quantity`` -> the compound's dispensing unit
DISPENSING_UNITS = {
    "g": DispensingUnit.GRAMS,
    "gm": DispensingUnit.GRAMS,
    "ml": DispensingUnit.MILLILITERS,
    "{tbl}": DispensingUnit.EACH,
    "{capsule}": DispensingUnit.EACH,
    "{each}": DispensingUnit.EACH,
    "ea": DispensingUnit.EACH,
    "1": DispensingUnit.EACH,
    "tablet": DispensingUnit.EACH,
    "capsule": DispensingUnit.EACH,
}
_MILLI = Decimal("0.001")


def has_ndc_ingredients(medication: JsonObject) -> bool:
    """Whether any ingredient is coded with an NDC: then the Medication is a compound to bill."""
    return any(_ndc(i) for i in objs(medication, "ingredient"))


def compound_of(medication: JsonObject, request: JsonObject, at: str, problems: list[Problem]) -> Compound | None:
    """The compound ``medication`` (at FHIRPath ``at``) describes; what cannot be carried is added to
    ``problems``."""
    found: list[Problem] = []
    lines = objs(medication, "ingredient")
    if not 2 <= len(lines) <= MAX_INGREDIENTS:
        found.append(
            _problem("not-supported", f"{at}.ingredient", f"a compound has 2 to {MAX_INGREDIENTS} ingredients")
        )
    form = _form(medication, at, found)
    amount = obj(obj(request, "dispenseRequest"), "quantity")
    unit = _dispensing_unit(amount, found)
    dispensed = number(amount, "value")
    ingredients = [_ingredient(line, f"{at}.ingredient[{n}]", dispensed, found) for n, line in enumerate(lines)]
    problems.extend(found)
    if found or form is None or unit is None:
        return None
    return Compound(
        ingredients=tuple(i for i in ingredients if i is not None),
        dosage_form=form,
        dispensing_unit=unit,
        description=concept_text(obj(medication, "code")),
    )


def _ndc(ingredient: JsonObject) -> str | None:
    return next((c.code for c in codings(obj(ingredient, "itemCodeableConcept")) if c.system == NDC), None)


def _form(medication: JsonObject, at: str, found: list[Problem]) -> CompoundDosageForm | None:
    words = (concept_text(obj(medication, "form")) or "").casefold()
    form = next((f for f in CompoundDosageForm if f.value in words.split()), None)
    if form is None:
        known = ", ".join(f.value for f in CompoundDosageForm)
        found.append(_problem("not-supported", f"{at}.form", f"a compound's form must name one of: {known}"))
    return form


def _dispensing_unit(amount: JsonObject | None, found: list[Problem]) -> DispensingUnit | None:
    where = "MedicationRequest.dispenseRequest.quantity"
    if number(amount, "value") is None:
        found.append(_problem("required", where, "a compound needs the quantity to dispense"))
        return None
    named = (text(amount, "code") or text(amount, "unit") or "").casefold()
    unit = DISPENSING_UNITS.get(named)
    if unit is None:
        found.append(_problem("not-supported", where, f"a compound is dispensed in g, mL or units, not {named!r}"))
    return unit


def _ingredient(
    line: JsonObject, at: str, dispensed: Decimal | None, found: list[Problem]
) -> CompoundIngredient | None:
    ndc = _ndc(line)
    name = concept_text(obj(line, "itemCodeableConcept"))
    if ndc is None:
        found.append(_problem("not-supported", f"{at}.itemCodeableConcept", f"ingredient {name or ''} has no NDC"))
        return None
    strength = obj(line, "strength")
    numerator, denominator = obj(strength, "numerator"), obj(strength, "denominator")
    quantity = number(numerator, "value")
    per = number(denominator, "value")
    if quantity is None or quantity <= 0:
        found.append(_problem("required", f"{at}.strength.numerator", f"ingredient {name or ndc} needs an amount"))
        return None
    if denominator is not None:
        if per is None or per <= 0 or dispensed is None:
            found.append(_problem("not-supported", f"{at}.strength.denominator", "the amount it is per is unusable"))
            return None
        quantity = (quantity * dispensed / per).quantize(_MILLI)
    try:
        unit = text(numerator, "code") or text(numerator, "unit")
        return CompoundIngredient(product_id=ndc, quantity=quantity, unit=unit, name=name)
    except ValidationError as exc:
        found.append(
            _problem("value", f"{at}.itemCodeableConcept", f"ingredient {name or ndc}: {exc.errors()[0]['msg']}")
        )
        return None


def _problem(code: str, location: str, message: str) -> Problem:
    return Problem(code, message, location, "error")


def compound_medication(compound: Compound, code: dict[str, Any], whole: QuantityInfo | None) -> dict[str, Any]:
    """The compound as a contained Medication, read back by ``compound_of`` to the same ingredients: each
    strength is its amount per the whole quantity dispensed."""
    return {
        "resourceType": "Medication",
        "id": "compound",
        "code": code or {"text": compound.description or "compound"},
        "form": {"text": compound.dosage_form.value},
        "ingredient": [_ingredient_view(i, whole) for i in compound.ingredients],
    }


def _ingredient_view(ingredient: CompoundIngredient, whole: QuantityInfo | None) -> dict[str, Any]:
    coding = [{"system": NDC, "code": ingredient.product_id}] if ingredient.id_kind is IngredientIdKind.NDC else []
    item: dict[str, Any] = {"coding": coding} | ({"text": ingredient.name} if ingredient.name else {})
    numerator = {"value": _json_number(ingredient.quantity)} | ({"unit": ingredient.unit} if ingredient.unit else {})
    strength: dict[str, Any] = {"numerator": numerator}
    if whole is not None:
        strength["denominator"] = {"value": _json_number(whole.value)} | ({"unit": whole.unit} if whole.unit else {})
    return {"itemCodeableConcept": item, "strength": strength}


def _json_number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral() else float(value)
