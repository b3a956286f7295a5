"""A MedicationRequest whose contained Medication lists NDC-coded ingredients becomes a compound order with all of
them; one that cannot be billed whole is refused at the element, never taken with an ingredient dropped."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from fhir.resources.R4B.medicationrequest import MedicationRequest

from adapters.fhir.fhir_views_from_hub import prescription_snapshot
from adapters.fhir.mapping import medication_request_commands
from adapters.fhir.views import medication_request_view
from hub.domain.actors import system_actor
from hub.domain.compound import CompoundDosageForm, DispensingUnit
from hub.domain.order_parts import Source
from hub.domain.parties import Patient, Prescriber
from hub.domain.prescription import Prescription
from tests.support.fhir_validator import FhirValidator, fhir_validator
from tests.unit.fhir.builders import medication_request
from tests.unit.fhir.test_mapping import problems_of, receive

__all__ = ["fhir_validator"]  # the session's Medplum validator, a fixture

NDC_SYSTEM = "http://hl7.org/fhir/sid/ndc"
# a cream of two catalogue NDCs in a base the catalogue lacks (synthetic NDC)
LIDOCAINE, PRILOCAINE, BASE = "00054418425", "52268015001", "99999000101"


def ndc_ingredient(ndc: str | None, name: str, grams: int, per: int | None = 30) -> dict[str, Any]:
    coding = [{"system": NDC_SYSTEM, "code": ndc}] if ndc else []
    strength: dict[str, Any] = {"numerator": {"value": grams, "unit": "g", "code": "g"}}
    if per is not None:
        strength["denominator"] = {"value": per, "unit": "g", "code": "g"}
    return {"itemCodeableConcept": {"coding": coding, "text": name}, "strength": strength}


def cream_request(*ingredients: dict[str, Any], form: str = "Cream") -> dict[str, Any]:
    medication = {
        "resourceType": "Medication",
        "id": "cmp1",
        "code": {"text": "Lidocaine/prilocaine cream"},
        "form": {"text": form},
        "ingredient": list(ingredients)
        or [
            ndc_ingredient(LIDOCAINE, "Lidocaine", 3),
            ndc_ingredient(PRILOCAINE, "Prilocaine", 3),
            ndc_ingredient(BASE, "Cream base", 24),
        ],
    }
    resource = medication_request(
        medicationReference={"reference": "#cmp1"},
        dispenseRequest={"quantity": {"value": 60, "unit": "g", "system": "http://unitsofmeasure.org", "code": "g"}},
    )
    resource.pop("medicationCodeableConcept")
    resource["contained"].append(medication)
    return resource


def test_ndc_coded_ingredients_make_a_compound_scaled_to_the_amount_dispensed() -> None:
    command = receive(cream_request())
    compound = command.drug.compound
    assert compound is not None
    assert (compound.dosage_form, compound.dispensing_unit) == (CompoundDosageForm.CREAM, DispensingUnit.GRAMS)
    # strength is per 30 g; 60 g are dispensed
    assert [(i.product_id, i.quantity, i.unit) for i in compound.ingredients] == [
        (LIDOCAINE, Decimal("6.000"), "g"),
        (PRILOCAINE, Decimal("6.000"), "g"),
        (BASE, Decimal("48.000"), "g"),
    ]
    assert compound.description == "Lidocaine/prilocaine cream"


def test_an_ingredient_without_an_ndc_among_coded_ones_is_refused_where_it_is() -> None:
    resource = cream_request(
        ndc_ingredient(LIDOCAINE, "Lidocaine", 3),
        ndc_ingredient(PRILOCAINE, "Prilocaine", 3),
        ndc_ingredient(None, "Base", 24),
    )
    found = problems_of(medication_request_commands, resource)
    assert found == [("not-supported", "MedicationRequest.contained[2].ingredient[2].itemCodeableConcept")]


def test_an_unknown_form_or_unit_is_refused() -> None:
    assert problems_of(medication_request_commands, cream_request(form="Patch")) == [
        ("not-supported", "MedicationRequest.contained[2].form")
    ]
    resource = cream_request()
    resource["dispenseRequest"]["quantity"] = {"value": 2, "unit": "tube"}
    assert problems_of(medication_request_commands, resource) == [
        ("not-supported", "MedicationRequest.dispenseRequest.quantity")
    ]


def test_ingredients_without_any_ndc_stay_text_for_a_technician() -> None:
    resource = cream_request(ndc_ingredient(None, "Lidocaine", 3), ndc_ingredient(None, "Prilocaine", 3))
    command = receive(resource)
    assert command.drug.compound is None and command.drug.text == "Lidocaine/prilocaine cream"


def test_a_compound_reads_back_as_a_contained_medication_with_every_ingredient(fhir_validator: FhirValidator) -> None:
    command = receive(cream_request())
    rx, _ = Prescription.receive(
        prescription_id="rx-c",
        rx_number="1000002",
        command=command,
        source=Source.FHIR,
        patient=Patient.new("pat-1", command.patient),
        prescriber=Prescriber.new("doc-1", command.prescriber),
        actor=system_actor("fhir"),
        now=datetime(2026, 3, 2, 9, 30, tzinfo=UTC),
    )
    view = medication_request_view(prescription_snapshot(rx))
    MedicationRequest.model_validate(view)
    fhir_validator.assert_valid(view, "(a compound read back)")  # Medplum's R4 validator, a peer
    fhir_validator.assert_valid(cream_request(), "(the compound order the test sends)")
    [medication] = view["contained"]
    assert view["medicationReference"] == {"reference": "#compound"} and "medicationCodeableConcept" not in view
    assert [i["itemCodeableConcept"]["coding"][0]["code"] for i in medication["ingredient"]] == [
        LIDOCAINE,
        PRILOCAINE,
        BASE,
    ]
    again = receive(view)
    assert again.drug.compound == command.drug.compound, "what is kept is what was sent"
