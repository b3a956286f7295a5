"""The FHIR load generator: POST /fhir/MedicationRequest over keep-alive HTTP, one order in flight per client.

Every request is the same amoxicillin order (the NDC the simulated payer pays) with a fresh placer
identifier (PLAC) and its own contained patient, like ``hl7_load``: so every 201 matches exactly one stored
prescription and one ``prescription.received``, and no patient collects orders.  Plain ``http.client``
rather than httpx: the load generator shares the two cores with the hub, and it should cost little.
"""

from __future__ import annotations

import http.client
import json
from datetime import date
from typing import Any

from bench.senders import LoadPlan, LoadResult, run_senders

NDC = "00093005801"  # amoxicillin 500 mg: in the catalogue, paid by the simulated payer's BIN 999001
PLACER_SYSTEM = "urn:example:bench-ehr"
_PLACER = "\u0000PLACER\u0000"


def medication_request(placer: str, system: str = PLACER_SYSTEM) -> dict[str, Any]:
    """A MedicationRequest with contained Patient and Practitioner; the patient is the placer's twin.

    The chaos run's load (tests/chaos/orders.py) sends the same order under its own placer system.
    """
    return {
        "resourceType": "MedicationRequest",
        "contained": [
            {
                "resourceType": "Patient",
                "id": "pat",
                "identifier": [{"system": "urn:example:mrn", "value": f"F{placer}"}],
                "name": [{"family": f"Fh{placer}", "given": ["Alex"]}],
                "gender": "female",
                "birthDate": "1980-02-01",
            },
            {
                "resourceType": "Practitioner",
                "id": "doc",
                "identifier": [{"system": "http://hl7.org/fhir/sid/us-npi", "value": "1234567893"}],
                "name": [{"family": "Prescriber", "given": ["Pat"]}],
            },
        ],
        "identifier": [
            {
                "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "PLAC"}]},
                "system": system,
                "value": placer,
            }
        ],
        "status": "active",
        "intent": "order",
        "medicationCodeableConcept": {
            "coding": [{"system": "http://hl7.org/fhir/sid/ndc", "code": NDC}],
            "text": "Amoxicillin 500 MG Oral Capsule",
        },
        "subject": {"reference": "#pat"},
        "requester": {"reference": "#doc"},
        "authoredOn": f"{date.today().isoformat()}T08:00:00Z",
        "dosageInstruction": [
            {
                "text": "Take 1 capsule by mouth twice daily for 10 days",
                "timing": {"repeat": {"frequency": 2, "period": 1, "periodUnit": "d"}},
                "doseAndRate": [{"doseQuantity": {"value": 1, "unit": "capsule"}}],
            }
        ],
        "dispenseRequest": {
            "numberOfRepeatsAllowed": 0,
            "quantity": {"value": 20, "unit": "capsule"},
            "expectedSupplyDuration": {"value": 10, "unit": "days", "system": "http://unitsofmeasure.org", "code": "d"},
        },
    }


class FhirTemplate:
    """The request body with the placer number (and patient, its twin) filled in per request."""

    def __init__(self) -> None:
        marker = json.dumps(_PLACER)[1:-1]  # the marker as it reads inside a JSON string
        self._parts = tuple(p.encode() for p in json.dumps(medication_request(_PLACER)).split(marker))

    def render(self, placer: str) -> bytes:
        """The JSON body for one placer number."""
        return placer.encode().join(self._parts)


class FhirDoor:
    """One keep-alive HTTP connection to the FHIR door; an order is accepted only when answered 201."""

    def __init__(self, template: FhirTemplate, host: str, port: int, token: str) -> None:
        self._template = template
        self._connection = http.client.HTTPConnection(host, port, timeout=30)
        self._connection.connect()
        self._headers = {
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/fhir+json",
            "Accept": "application/fhir+json",
        }

    def send(self, control_id: str, placer: str) -> str | None:
        """POST one order and read the whole answer (the connection is reused)."""
        try:
            self._connection.request("POST", "/fhir/MedicationRequest", self._template.render(placer), self._headers)
            response = self._connection.getresponse()
            body = response.read()
        except http.client.HTTPException as exc:  # a broken exchange is an unanswered order, like a lost ACK
            raise ConnectionError(f"{type(exc).__name__}: {exc}") from exc
        return None if response.status == 201 else f"HTTP {response.status} {body[:200]!r}"

    def close(self) -> None:
        """Close the connection."""
        self._connection.close()


def run_fhir_load(plan: LoadPlan, token: str) -> LoadResult:
    """FHIR clients over HTTP, one connection each, spread over the hub's HTTP ports (``plan.ports``)."""
    template = FhirTemplate()
    return run_senders(plan, lambda _index, port: FhirDoor(template, plan.host, port, token))
