"""AllergyIntolerance to allergies: contained, bundled or named by supportingInformation, with reactions."""

from __future__ import annotations

from typing import Any

from adapters.fhir.bundles import bundle_commands
from adapters.fhir.mapping import medication_request_commands
from hub.domain.commands import ReceivePrescription
from hub.domain.order_parts import Allergy
from tests.unit.fhir.builders import bundle_of, bundled_request, medication_request, patient, practitioner, urn

SNOMED = "http://snomed.info/sct"


def allergy_intolerance(patient_reference: str, **changes: Any) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "AllergyIntolerance",
        "id": "alg1",
        "patient": {"reference": patient_reference},
        "code": {
            "coding": [
                {"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "7980", "display": "Penicillin G"}
            ],
            "text": "Penicillin",
        },
        "reaction": [
            {"manifestation": [{"text": "hives"}], "severity": "moderate"},
            {
                "manifestation": [{"coding": [{"system": SNOMED, "code": "39579001", "display": "anaphylaxis"}]}],
                "severity": "severe",
            },
        ],
    }
    resource.update(changes)
    return resource


def allergies(command: object) -> tuple[Allergy, ...]:
    assert isinstance(command, ReceivePrescription)
    return command.patient.allergies


def test_contained_allergy_of_the_subject_with_every_reaction_and_the_worst_severity() -> None:
    request = medication_request()
    request["contained"].append(allergy_intolerance("#pat1"))
    [command] = medication_request_commands(request)
    assert allergies(command) == (
        Allergy(
            text="Penicillin",
            code="7980",
            system="http://www.nlm.nih.gov/research/umls/rxnorm",
            severity="severe",
            reactions=("hives", "anaphylaxis"),
        ),
    )


def test_bundled_allergy_of_the_patient_is_read_and_another_patients_is_not() -> None:
    other = patient("pat2")
    bundle = bundle_of(
        "transaction",
        bundled_request(),
        patient(),
        practitioner(),
        allergy_intolerance(urn(1)),
        other,
        allergy_intolerance(urn(4), id="alg2", code={"text": "Latex"}),
    )
    [command] = bundle_commands(bundle).commands()
    assert [(a.text, a.reactions) for a in allergies(command)] == [("Penicillin", ("hives", "anaphylaxis"))]


def test_supporting_information_names_the_allergy() -> None:
    request = medication_request(supportingInformation=[{"reference": "#alg1"}])
    request["contained"].append(allergy_intolerance("Patient/elsewhere", reaction=[]))
    [command] = medication_request_commands(request)
    assert [(a.text, a.severity, a.reactions) for a in allergies(command)] == [("Penicillin", None, ())]


def test_refuted_allergy_is_not_an_allergy() -> None:
    request = medication_request()
    refuted = {
        "coding": [
            {"system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification", "code": "refuted"}
        ]
    }
    request["contained"].append(allergy_intolerance("#pat1", verificationStatus=refuted))
    [command] = medication_request_commands(request)
    assert allergies(command) == ()
