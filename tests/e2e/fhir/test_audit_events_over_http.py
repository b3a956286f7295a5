"""GET /fhir/AuditEvent: the audit trail as a FHIR searchset for admins (every body checked by the validator)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hub.persistence.users import UserStore
from tests.e2e.fhir.conftest import FhirHub
from tests.support.waiting import eventually
from tests.unit.fhir.builders import medication_request


def _events(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "searchset"
    entries = bundle.get("entry", [])  # R4 JSON: no empty arrays
    assert bundle["total"] == len(entries)
    return [e["resource"] for e in entries]


def test_admins_search_audit_events_by_patient_agent_and_date(fhir_hub: FhirHub) -> None:
    _, admin_token = UserStore(fhir_hub.ph.engine).add("auditor", "admin")
    order = medication_request(identifier=[{"system": "urn:example:ehr", "value": "AUDIT-1"}])
    with fhir_hub.client() as feed, fhir_hub.client(admin_token) as admin:
        created = feed.post("/MedicationRequest", json=order)
        assert created.status_code == 201, created.text
        recorded = eventually(
            lambda: (
                r.json() if (r := feed.get(f"/MedicationRequest/{created.json()['id']}")).status_code == 200 else None
            ),
            "the order recorded",
        )
        patient_id = recorded["subject"]["reference"].removeprefix("Patient/")
        assert feed.get(f"/Patient/{patient_id}").status_code == 200
        assert feed.get("/AuditEvent").status_code == 403, "a feed may not read the trail"

        by_patient = _events(admin.get("/AuditEvent", params={"patient": f"Patient/{patient_id}"}).json())
        assert by_patient and all(
            any(
                x.get("what", {}).get("identifier", {}).get("value") == patient_id or x.get("detail")
                for x in e["entity"]
            )
            for e in by_patient
        )
        receipt = next(e for e in _events(admin.get("/AuditEvent").json()) if e["type"]["code"] == "110107")
        assert receipt["outcome"] == "0", "an accepted order is a success"
        agent = receipt["agent"][0]["who"]["display"]
        by_agent = _events(admin.get("/AuditEvent", params={"agent": agent}).json())
        assert by_agent and {e["agent"][0]["who"]["display"] for e in by_agent} == {agent}
        today = datetime.now(UTC).date()
        assert _events(admin.get("/AuditEvent", params={"date": f"ge{today}"}).json())
        assert _events(admin.get("/AuditEvent", params={"date": f"lt{today - timedelta(days=1)}"}).json()) == []
        answer = admin.get("/AuditEvent", params={"_count": "1"})
        assert answer.headers["content-type"].startswith("application/fhir+json") and answer.json()["total"] == 1
        assert admin.get("/AuditEvent", params={"date": "soon"}).status_code == 400
        strict = {"Prefer": "handling=strict"}
        assert admin.get("/AuditEvent", params={"code": "x"}, headers=strict).status_code == 400
        assert admin.get("/AuditEvent", params={"code": "x"}).status_code == 200
