"""The ordered product (DrugInfo) from medicationCodeableConcept or a Medication resource.

NDC and RxNorm codings fill ``ndc``/``rxnorm``; every other coding (SNOMED dm+d, German PZN, a KBV
"freitext"/"rezeptur" marker...) is kept as it came in ``other_codes`` with the free text, so the
technician can select a product at intake instead of the hub guessing one.
"""

from __future__ import annotations

from adapters.fhir.elements import JsonObject, codings, concept_text, obj, objs, quantity_text, text
from hub.domain.order_parts import DrugInfo

NDC = "http://hl7.org/fhir/sid/ndc"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"


def _strength(ratio: object) -> str | None:
    numerator = quantity_text(obj(ratio, "numerator"))
    denominator = obj(ratio, "denominator")
    denominator_text = quantity_text(denominator)
    if numerator is None:
        return None
    if denominator_text is None or (text(denominator, "unit") is None and denominator_text == "1"):
        return numerator
    return f"{numerator}/{denominator_text}"


def _ingredients(medication: JsonObject) -> str | None:
    parts = []
    for ingredient in objs(medication, "ingredient"):
        name = concept_text(obj(ingredient, "itemCodeableConcept")) or text(obj(ingredient, "itemReference"), "display")
        if name is None:
            continue
        strength = _strength(obj(ingredient, "strength"))
        parts.append(f"{name} {strength}" if strength else name)
    return " + ".join(parts) or None


def drug_from_concept(concept: object, *, route: str | None = None) -> DrugInfo:
    """DrugInfo from a CodeableConcept (MedicationRequest.medicationCodeableConcept or Medication.code)."""
    found = codings(concept)
    ndc = next((c.code for c in found if c.system == NDC), None)
    rxnorm = next((c.code for c in found if c.system == RXNORM), None)
    others = tuple(c for c in found if c.system not in (NDC, RXNORM))
    return DrugInfo(ndc=ndc, rxnorm=rxnorm, text=concept_text(concept), other_codes=others, route=route)


def drug_from_medication(medication: JsonObject, *, route: str | None = None) -> DrugInfo:
    """DrugInfo from a Medication resource: code, form, strength; a compound's ingredients as its text."""
    base = drug_from_concept(obj(medication, "code"), route=route)
    ingredients = objs(medication, "ingredient")
    # Medication.amount is the package size (R4), not a strength: only a single ingredient's strength is one
    strength = _strength(obj(ingredients[0], "strength")) if len(ingredients) == 1 else None
    return base.model_copy(
        update={
            "text": text(obj(medication, "code"), "text") or _ingredients(medication) or base.text,
            "form": concept_text(obj(medication, "form")),
            "strength": strength,
        }
    )


def is_described(drug: DrugInfo) -> bool:
    """Whether the drug says anything a person could fill from (a code or some text)."""
    return bool(drug.ndc or drug.rxnorm or drug.text or drug.other_codes)
