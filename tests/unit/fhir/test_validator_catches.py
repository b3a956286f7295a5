"""The validator the FHIR tests rely on refuses what issue 30 found, so a test passing means something."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.fhir_validator import FhirValidator, InvalidResource, fhir_validator, validating_hook

__all__ = ["fhir_validator"]

V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"
BAD: dict[str, tuple[dict[str, Any], str]] = {
    "collection with total (bdl-1)": ({"resourceType": "Bundle", "type": "collection", "total": 0}, "invariant"),
    "code not in its code system": (
        {
            "resourceType": "Patient",
            "identifier": [
                {"value": "Patient/example", "type": {"coding": [{"system": V2_0203, "code": "fhir-reference"}]}}
            ],
        },
        "code-invalid",
    ),
    "empty string": ({"resourceType": "Patient", "name": [{"family": ""}]}, "value"),
    "empty array": ({"resourceType": "Patient", "identifier": []}, "value"),
    "control character": ({"resourceType": "Patient", "name": [{"family": "A\u001bB"}]}, "structure"),
    "null": (
        {
            "resourceType": "MedicationRequest",
            "status": "active",
            "intent": "order",
            "subject": {"reference": "Patient/1"},
            "medicationCodeableConcept": {"text": "x"},
            "dispenseRequest": None,
        },
        "structure",
    ),
}


@pytest.mark.parametrize("name", BAD)
def test_the_validator_refuses_what_the_issue_found(fhir_validator: FhirValidator, name: str) -> None:
    resource, code = BAD[name]
    assert code in {e.code for e in fhir_validator.errors(resource)}, name


def test_the_response_hook_fails_on_an_invalid_body_and_passes_a_valid_one(fhir_validator: FhirValidator) -> None:
    hook = validating_hook(fhir_validator)
    request = httpx.Request("GET", "http://hub.test/fhir/Bundle/1")
    bad = httpx.Response(
        200,
        json=BAD["collection with total (bdl-1)"][0],
        request=request,
        headers={"Content-Type": "application/fhir+json"},
    )
    with pytest.raises(InvalidResource, match="bdl-1"):
        hook(bad)
    hook(
        httpx.Response(
            200,
            json={"resourceType": "Bundle", "type": "searchset", "total": 0},
            request=request,
            headers={"Content-Type": "application/fhir+json"},
        )
    )
    hook(httpx.Response(304, request=request))
