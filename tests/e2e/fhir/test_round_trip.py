"""Round trip: an order POSTed as FHIR is read back as FHIR at every step of the pharmacy workflow."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.claimresponse import ClaimResponse
from fhir.resources.R4B.medicationdispense import MedicationDispense
from fhir.resources.R4B.medicationrequest import MedicationRequest
from fhir.resources.R4B.patient import Patient

from hub.persistence.audit import AuditTrail
from tests.e2e.fhir.conftest import FhirHub
from tests.unit.fhir.builders import medication_request

AMOXICILLIN = "00093005801"
PLACER_SYSTEM = "urn:example:ehr"


def amoxicillin_order(placer: str) -> dict[str, Any]:
    """A synthetic retail order for 20 amoxicillin capsules, no refills, 10 days."""
    return medication_request(
        identifier=[{"system": PLACER_SYSTEM, "value": placer}],
        medicationCodeableConcept={
            "coding": [{"system": "http://hl7.org/fhir/sid/ndc", "code": AMOXICILLIN}],
            "text": "Amoxicillin 500 MG Oral Capsule",
        },
        dosageInstruction=[{"text": "Take 1 capsule by mouth twice daily for 10 days"}],
        dispenseRequest={
            "numberOfRepeatsAllowed": 0,
            "quantity": {"value": 20, "unit": "CAP"},
            "expectedSupplyDuration": {"value": 10, "unit": "days", "system": "http://unitsofmeasure.org", "code": "d"},
        },
    )


def wait_for(
    read: Callable[[], httpx.Response], until: Callable[[dict[str, Any]], bool], timeout_s: float = 30
) -> dict[str, Any]:
    """Read until the answer is 200 and satisfies ``until``."""
    deadline, last = time.monotonic() + timeout_s, None
    while time.monotonic() < deadline:
        last = read()
        if last.status_code == 200 and until(last.json()):
            return dict(last.json())
        time.sleep(0.1)
    raise AssertionError(f"never reached: {last.status_code if last else None} {last.text if last else ''}")


def _only(bundle: dict[str, Any]) -> dict[str, Any]:
    Bundle.model_validate(bundle)
    assert bundle["type"] == "searchset" and bundle["total"] == 1, bundle
    return dict(bundle["entry"][0]["resource"])


def test_order_is_read_back_as_fhir_through_the_workflow(fhir_hub: FhirHub) -> None:
    ph = fhir_hub.ph
    stock = ph.client("technician").post(
        "/api/inventory", json={"ndc": AMOXICILLIN, "lot": "LOT-RT", "expiry": "2030-01-31", "quantity": "500"}
    )
    assert stock.status_code == 202, stock.text
    with fhir_hub.client() as fhir:
        created = fhir.post("/MedicationRequest", json=amoxicillin_order("RT-1"))
        assert created.status_code == 201, created.text
        rid = created.json()["id"]
        assert created.headers["location"] == f"{fhir_hub.base}/MedicationRequest/{rid}"

        def order() -> httpx.Response:
            return fhir.get(f"/MedicationRequest/{rid}")

        def dispenses() -> httpx.Response:
            return fhir.get("/MedicationDispense", params={"prescription": f"MedicationRequest/{rid}"})

        received = wait_for(order, lambda body: True)
        MedicationRequest.model_validate(received)
        assert (received["id"], received["status"], received["identifier"][0]["value"]) == (rid, "active", "RT-1")

        row = ph.by_placer("RT-1")
        ph.wait_state(row.id, "data_verification")
        claim = _only(
            wait_for(lambda: fhir.get("/ClaimResponse", params={"request": rid}), lambda body: body["total"] == 1)
        )
        ClaimResponse.model_validate(claim)
        assert claim["outcome"] == "complete" and claim["status"] == "active"
        preparing = _only(dispenses().json())
        assert preparing["status"] == "preparation"
        assert preparing["authorizingPrescription"] == [{"reference": f"MedicationRequest/{rid}"}]

        for stage, state in (("data", "product_verification"), ("product", "ready")):
            r = ph.client("pharmacist").post(
                f"/api/prescriptions/{row.id}/{stage}-verification", json={"approve": True}
            )
            assert r.status_code == 202, r.text
            ph.wait_state(row.id, state)
        ready = _only(dispenses().json())
        MedicationDispense.model_validate(ready)
        assert ready["status"] == "in-progress"
        assert ready["quantity"]["value"] == 20 and ready["daysSupply"]["value"] == 10
        assert ready["contained"][0]["batch"]["lotNumber"] == "LOT-RT"
        assert "whenPrepared" in ready and "whenHandedOver" not in ready
        assert order().json()["status"] == "active"

        assert ph.client("technician").post(f"/api/prescriptions/{row.id}/dispense").status_code == 202
        done = _only(wait_for(dispenses, lambda body: body["entry"][0]["resource"]["status"] == "completed"))
        MedicationDispense.model_validate(done)
        assert "whenHandedOver" in done
        finished = wait_for(order, lambda body: body["status"] == "completed")
        # the ids the searches hand out read back the resource with that id, its references resolving too
        for kind, found in (("MedicationDispense", done), ("ClaimResponse", claim)):
            read = fhir.get(f"/{kind}/{found['id']}")
            assert read.status_code == 200 and read.json()["id"] == found["id"], read.text
            assert read.headers["etag"] == f'W/"{read.json()["meta"]["versionId"]}"'
        assert fhir.get(f"/{done['subject']['reference']}").status_code == 200
        assert fhir.get(f"/{done['authorizingPrescription'][0]['reference']}").json()["id"] == rid
        assert fhir.get(f"/MedicationDispense/{rid}-7").status_code == 404
        patient = fhir.get(f"/{finished['subject']['reference']}")
    assert patient.status_code == 200
    Patient.model_validate(patient.json())
    assert patient.json()["name"][0]["family"] == "Testpatient"
    reads = {e.detail["path"] for e in AuditTrail(ph.engine).query(limit=5000) if e.action.startswith("read FHIR")}
    assert f"/fhir/{finished['subject']['reference']}" in reads, "FHIR reads of patient details are audited"
    assert f"/fhir/MedicationRequest/{rid}" in reads


def test_unknown_order_reads_are_not_found_and_searches_empty(fhir_hub: FhirHub) -> None:
    with fhir_hub.client() as fhir:
        missing = fhir.get("/MedicationRequest/no-such-order")
        empty = fhir.get("/MedicationDispense", params={"prescription": "MedicationRequest/no-such-order"})
        no_patient = fhir.get("/Patient/no-such-patient")
        no_param = fhir.get("/MedicationDispense")
    assert missing.status_code == 404 and missing.json()["issue"][0]["code"] == "not-found"
    assert empty.status_code == 200 and empty.json()["total"] == 0
    assert no_patient.status_code == 404
    assert no_param.status_code == 200 and no_param.json()["type"] == "searchset"  # every dispense of the feed
