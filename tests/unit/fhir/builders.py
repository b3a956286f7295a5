"""Synthetic FHIR R4 resources for tests (made-up people; NPI 1234567893 passes the check digit)."""

from __future__ import annotations

import copy
from typing import Any

NPI = "1234567893"
NDC = "00777310402"


def patient(pid: str = "pat1") -> dict[str, Any]:
    """A synthetic Patient."""
    return {
        "resourceType": "Patient",
        "id": pid,
        "identifier": [{"system": "urn:example:mrn", "value": "MRN-1"}],
        "name": [{"family": "Testpatient", "given": ["Alex"]}],
        "gender": "other",
        "birthDate": "1980-02-29",
    }


def practitioner(pid: str = "doc1") -> dict[str, Any]:
    """A synthetic Practitioner with an NPI."""
    return {
        "resourceType": "Practitioner",
        "id": pid,
        "identifier": [{"system": "http://hl7.org/fhir/sid/us-npi", "value": NPI}],
        "name": [{"family": "Prescriber", "given": ["Pat"]}],
    }


def medication_request(**changes: Any) -> dict[str, Any]:
    """A valid standalone MedicationRequest with contained Patient and Practitioner."""
    resource: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "id": "mr1",
        "contained": [patient(), practitioner()],
        "identifier": [
            {"system": "urn:example:other", "value": "OTHER-1"},
            {
                "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "PLAC"}]},
                "system": "urn:example:ehr",
                "value": "ORD-1",
            },
        ],
        "status": "active",
        "intent": "order",
        "medicationCodeableConcept": {
            "coding": [{"system": "http://hl7.org/fhir/sid/ndc", "code": NDC}],
            "text": "Fluoxetine 10 mg capsule",
        },
        "subject": {"reference": "#pat1"},
        "requester": {"reference": "#doc1"},
        "authoredOn": "2024-03-01T10:00:00Z",
        "dosageInstruction": [
            {
                "timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}},
                "doseAndRate": [{"doseQuantity": {"value": 1, "unit": "capsule"}}],
            }
        ],
        "dispenseRequest": {
            "numberOfRepeatsAllowed": 2,
            "quantity": {"value": 30, "unit": "capsule"},
            "expectedSupplyDuration": {
                "value": 30,
                "unit": "days",
                "system": "http://unitsofmeasure.org",
                "code": "d",
            },
        },
        "substitution": {"allowedBoolean": False},
    }
    resource.update(changes)
    return resource


def bundle_of(kind: str, *resources: dict[str, Any], method: str | None = "POST") -> dict[str, Any]:
    """A Bundle of ``kind`` with urn:uuid fullUrls (n-th resource -> urn:uuid:...0n)."""
    entries = []
    for index, resource in enumerate(resources):
        entry: dict[str, Any] = {
            "fullUrl": f"urn:uuid:00000000-0000-4000-8000-{index:012d}",
            "resource": resource,
        }
        if method is not None and kind in ("transaction", "batch"):
            entry["request"] = {"method": method, "url": resource["resourceType"]}
        entries.append(entry)
    return {"resourceType": "Bundle", "type": kind, "entry": entries}


def urn(index: int) -> str:
    """The fullUrl ``bundle_of`` gives the n-th resource."""
    return f"urn:uuid:00000000-0000-4000-8000-{index:012d}"


def bundled_request(**changes: Any) -> dict[str, Any]:
    """A MedicationRequest whose patient and prescriber are Bundle entries 1 and 2."""
    resource = medication_request(**{"subject": {"reference": urn(1)}, "requester": {"reference": urn(2)}, **changes})
    del resource["contained"]
    return resource


def deep(resource: dict[str, Any]) -> dict[str, Any]:
    """An independent copy."""
    return copy.deepcopy(resource)
