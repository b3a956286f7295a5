"""Issue 31, part 3: ``rxhub audit query --patient`` finds every read of that patient's data over real HTTP:
FHIR reads and searches (as an admin: the FHIR door serves feeds and admins), the raw message, and the staff
API's prescription, profile and page reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.config import Settings
from hub.entrypoints.cli_security import main
from hub.entrypoints.mllp_client import MllpClient
from hub.persistence.prescriptions import load_aggregate
from tests.support.pharmacy import pharmacy

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "hl7" / "01_rde_o11_retail_amoxicillin.hl7"


def test_every_read_of_a_patients_data_is_found_by_patient(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with pharmacy(settings) as ph:
        with MllpClient("127.0.0.1", ph.hub.mllp_port) as client:
            client.send(SAMPLE.read_bytes())
        row = ph.wait_state(ph.by_placer("PLC1001").id, "data_verification", "claim_pending", "fill_queue")
        patient = load_aggregate(row).patient_id
        admin, pharmacist = ph.client("admin"), ph.client("pharmacist")
        [message] = admin.get("/api/admin/messages", params={"control_id": "RXH-DEMO-0001"}).json()
        reads = {
            "read raw message": admin.get(f"/api/admin/messages/{message['id']}", params={"raw": "true"}),
            "read FHIR Patient": admin.get(f"/fhir/Patient/{patient}"),
            "read FHIR MedicationRequest": admin.get("/fhir/MedicationRequest", params={"patient": patient}),
            "read prescription": pharmacist.get(f"/api/prescriptions/{row.id}"),
            "read patient profile": pharmacist.get(f"/api/patients/{patient}/prescriptions"),
            "read prescriptions for a page": pharmacist.get("/api/records", params={"ids": row.id}),
        }
        assert {name: r.status_code for name, r in reads.items()} == dict.fromkeys(reads, 200)
        other = admin.get("/fhir/Patient/00000000-0000-0000-0000-000000000000")
        monkeypatch.setenv("RXHUB_DATABASE_URL", ph.hub.settings.database_url.get_secret_value())
        assert main(["audit", "query", "--patient", patient, "--limit", "5000"]) == 0
    found = capsys.readouterr().out
    for action in reads:
        assert action in found, f"{action} not found by patient"
    assert other.status_code == 404
