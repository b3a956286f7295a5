"""Real FHIR clients search the door (issue 30, 1): fhirpy (Python), fhir-kit-client and Medplum (Node.js), by
identifier and by patient, a page at a time, following the server's next links."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from fhirpy import SyncFHIRClient

from tests.e2e.fhir.conftest import FhirHub
from tests.e2e.fhir.search_data import PLACER, SearchOrders, seed

NODE_DIR = Path(__file__).resolve().parents[2] / "node"


@pytest.fixture(scope="module")
def orders(fhir_hub: FhirHub) -> SearchOrders:
    return seed(fhir_hub, "K")


def test_fhirpy_searches_by_identifier_and_patient_page_by_page(fhir_hub: FhirHub, orders: SearchOrders) -> None:
    client = SyncFHIRClient(fhir_hub.base, authorization=f"Bearer {fhir_hub.feed_token}")
    requests = client.resources("MedicationRequest")
    by_identifier = requests.search(identifier=f"{PLACER}|KA-1").fetch_all()
    assert [r.id for r in by_identifier] == [orders.ids["A-1"]]
    patient = f"Patient/{orders.patients['p1']}"
    paged = requests.search(patient=patient).limit(1)
    assert [r.id for r in paged.fetch()] == [orders.ids["A-1"]]  # one page of one
    assert [r.id for r in paged.fetch_all()] == [orders.ids["A-1"], orders.ids["A-2"]]  # through next links
    assert paged.count() == 2
    assert requests.search(patient=patient, status="active").first().id == orders.ids["A-1"]
    found = client.resources("Patient").search(identifier="urn:example:mrn|K-MRN-2").fetch_all()
    assert [p.id for p in found] == [orders.patients["p2"]]
    # feed B's client never sees feed A's orders
    other = SyncFHIRClient(fhir_hub.base, authorization=f"Bearer {orders.other_token}")
    assert [r.id for r in other.resources("MedicationRequest").search(patient=patient).fetch_all()] == [
        orders.ids["B-1"]
    ]


def _node_client(script: str, fhir_hub: FhirHub, searches: list[dict[str, Any]]) -> dict[str, Any]:
    node = shutil.which("node")
    assert node, "Node.js is needed for the FHIR clients of tests/node"
    request = {"baseUrl": fhir_hub.base, "token": fhir_hub.feed_token, "searches": searches}
    done = subprocess.run(
        [node, str(NODE_DIR / script), json.dumps(request)],
        cwd=NODE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout))


def test_fhir_kit_client_searches_by_identifier_and_patient_page_by_page(
    fhir_hub: FhirHub, orders: SearchOrders
) -> None:
    patient = f"Patient/{orders.patients['p1']}"
    answer = _node_client(
        "fhir-kit-search.mjs",
        fhir_hub,
        [
            {"resourceType": "MedicationRequest", "searchParams": {"identifier": f"{PLACER}|KA-2"}},
            {"resourceType": "MedicationRequest", "searchParams": {"patient": patient, "_count": 1}},
            {"resourceType": "MedicationRequest", "searchParams": {"patient": patient, "_count": 1}, "post": True},
        ],
    )
    assert answer["capabilities"] == {"medicationRequestSearch": True, "identifier": True, "patient": True}
    by_identifier, paged, posted = answer["results"]
    assert by_identifier == [{"total": 1, "ids": [orders.ids["A-2"]]}]
    expected = [{"total": 2, "ids": [orders.ids["A-1"]]}, {"total": 2, "ids": [orders.ids["A-2"]]}]
    assert paged == expected
    assert posted == expected  # POST _search, then the next links


def test_medplum_client_searches_by_identifier_and_patient_page_by_page(
    fhir_hub: FhirHub, orders: SearchOrders
) -> None:
    patient = f"Patient/{orders.patients['p2']}"
    answer = _node_client(
        "medplum-search.mjs",
        fhir_hub,
        [
            {"resourceType": "MedicationRequest", "searchParams": {"identifier": f"{PLACER}|KA-3"}},
            {
                "resourceType": "MedicationRequest",
                "searchParams": {"patient": f"Patient/{orders.patients['p1']}", "_count": "1"},
            },
            {"resourceType": "Patient", "searchParams": {"identifier": "urn:example:mrn|K-MRN-2"}},
        ],
    )
    assert answer["capabilities"] == {"medicationRequestSearch": True, "identifier": True, "patient": True}
    by_identifier, paged, patients = answer["results"]
    assert by_identifier == [{"total": 1, "ids": [orders.ids["A-3"]]}]
    assert paged == [{"total": 2, "ids": [orders.ids["A-1"]]}, {"total": 2, "ids": [orders.ids["A-2"]]}]
    assert patients == [{"total": 1, "ids": [patient.removeprefix("Patient/")]}]
