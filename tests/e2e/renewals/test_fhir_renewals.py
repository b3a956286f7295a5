"""A FHIR order with no refills left: the EHR's FHIR server gets a Task asking to approve a renewal (#29).

The order is POSTed through the FHIR door and walked to dispensed; a refill is asked for and refused; the EHR
(HTTPS, client certificate, bearer token) receives a valid R4 Task with the renewal proposal contained. A
refusing EHR's reason lands in the dead letter, and replaying it once the EHR accepts delivers one Task.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.task import Task

from hub.config import Settings
from hub.entrypoints.runtime import topology_for
from hub.messaging.dead_letters import DeadLetterQueue
from hub.persistence.users import UserStore
from hub.security.certs import write_dev_certificates
from tests.conftest import make_settings
from tests.e2e.renewals.ehr_fhir import EhrFhirServer
from tests.support.fhir_validator import FhirValidator, fhir_validator
from tests.support.pharmacy import Pharmacy, pharmacy
from tests.support.waiting import eventually
from tests.unit.fhir.builders import medication_request

__all__ = ["fhir_validator"]
AMOXICILLIN = "00093005801"
TOKEN = "ehr-fhir-token"


def _order(placer: str) -> dict[str, Any]:
    return medication_request(
        identifier=[{"system": "urn:example:ehr", "value": placer}],
        medicationCodeableConcept={
            "coding": [{"system": "http://hl7.org/fhir/sid/ndc", "code": AMOXICILLIN}],
            "text": "Amoxicillin 500 MG Oral Capsule",
        },
        dosageInstruction=[{"text": "Take 1 capsule by mouth twice daily for 10 days"}],
        dispenseRequest={"numberOfRepeatsAllowed": 0, "quantity": {"value": 20, "unit": "CAP"}},
    )


@pytest.fixture
def ehr(tmp_path: Path, fhir_validator: FhirValidator) -> Iterator[tuple[EhrFhirServer, Settings]]:
    pki = write_dev_certificates(tmp_path / "pki", clients=("rxhub-pharmacy",))
    (tmp_path / "token").write_text(TOKEN)
    cert, key = pki.clients["rxhub-pharmacy"]
    with EhrFhirServer(
        fhir_validator, cert=pki.server_cert, key=pki.server_key, client_ca=pki.ca, token=TOKEN
    ) as server:
        endpoint = {
            "name": "ehr",
            "url": server.base,
            "ca_file": str(pki.ca),
            "cert_file": str(cert),
            "key_file": str(key),
            "auth": "bearer",
            "token_file": str(tmp_path / "token"),
            "placer_systems": ["urn:example:ehr"],
            "backoff_initial_s": 0.1,
            "backoff_max_s": 0.2,
            "max_attempts": 3,
        }
        (tmp_path / "renewals.json").write_text(json.dumps({"endpoints": [endpoint]}))
        yield server, tmp_path / "renewals.json"  # type: ignore[misc]


def _settings(amqp_url: str, sqlite_url: str, renewals: Path) -> Settings:
    return make_settings(
        amqp_url,
        sqlite_url,
        fhir_renewals=renewals,
        default_bin="999001",
        default_pcn="RXHUB",
        default_group="GRP1",
        payer_timeout_ms=3000,
    )


def _dispensed_fhir_order(ph: Pharmacy, placer: str) -> str:
    _, token = UserStore(ph.engine).add(f"ehr-feed-{placer.lower()}", "feed")
    import httpx

    with httpx.Client(
        base_url=f"http://127.0.0.1:{ph.hub.http_port}/fhir",
        timeout=30,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/fhir+json"},
    ) as fhir:
        created = fhir.post("/MedicationRequest", json=_order(placer))
        assert created.status_code == 201, created.text
    stock = ph.client("technician").post(
        "/api/inventory", json={"ndc": AMOXICILLIN, "lot": "LOT-F", "expiry": "2030-01-31", "quantity": "500"}
    )
    assert stock.status_code == 202, stock.text
    row = ph.by_placer(placer)
    for stage, state in (("data", "data_verification"), ("product", "product_verification")):
        ph.wait_state(row.id, state)
        r = ph.client("pharmacist").post(f"/api/prescriptions/{row.id}/{stage}-verification", json={"approve": True})
        assert r.status_code == 202, r.text
    ph.wait_state(row.id, "ready")
    assert ph.client("technician").post(f"/api/prescriptions/{row.id}/dispense").status_code == 202
    ph.wait_state(row.id, "dispensed")
    refill = ph.client("technician").post(f"/api/prescriptions/{row.id}/refill")
    assert refill.status_code == 409, refill.text
    return row.rx_number


def test_the_ehr_gets_a_valid_task_to_approve_the_renewal(amqp_url: str, sqlite_url: str, ehr) -> None:  # type: ignore[no-untyped-def]
    server, renewals = ehr
    with pharmacy(_settings(amqp_url, sqlite_url, renewals)) as ph:
        rx_number = _dispensed_fhir_order(ph, "REN-F1")
        (task,) = eventually(lambda: list(server.tasks.values()) or None, "the EHR holds a renewal Task")
        eventually(lambda: ph.hub.workers.fhir_renewals.snapshot().get("delivered"), "the sender settled it")
    Task.model_validate(task)
    assert (task["status"], task["intent"], task["code"]["coding"][0]["code"]) == ("requested", "proposal", "approve")
    assert task["basedOn"][0]["identifier"]["value"] == "REN-F1"
    assert rx_number in task["description"]
    proposal = task["contained"][0]
    assert (proposal["resourceType"], proposal["intent"], task["focus"]["reference"]) == (
        "MedicationRequest",
        "proposal",
        "#renewal",
    )
    assert proposal["medicationCodeableConcept"]["coding"][0]["code"] == AMOXICILLIN
    assert proposal["priorPrescription"]["identifier"]["value"] == "REN-F1"
    assert proposal["dispenseRequest"]["numberOfRepeatsAllowed"] == 1
    assert [cn for cn, _ in server.posts] == ["rxhub-pharmacy"]
    assert server.posts[0][1].startswith("identifier=urn:rxhub:renewal-request|")


def test_an_ehr_refusal_is_dead_lettered_with_its_reason_and_replays_once(amqp_url: str, sqlite_url: str, ehr) -> None:  # type: ignore[no-untyped-def]
    server, renewals = ehr
    server.scripted.extend([503, 422])
    settings = _settings(amqp_url, sqlite_url, renewals)
    letters = DeadLetterQueue(settings.amqp_url.get_secret_value(), topology_for(settings))
    with pharmacy(settings) as ph:
        _dispensed_fhir_order(ph, "REN-F2")
        (letter,) = eventually(
            lambda: [d for d in letters.list() if d.queue.endswith("fhir-renewals")] or None,
            "the refused renewal is dead-lettered",
        )
        assert letter.failure_kind == "validation"
        assert "HTTP 422" in letter.error and "Prescriber not in this practice" in letter.error
        assert server.tasks == {}
        assert [d.message_id for d in letters.replay(queue=letter.queue)] == [letter.message_id]
        eventually(lambda: list(server.tasks.values()) or None, "the replayed renewal is delivered")
    assert len(server.tasks) == 1 and len(server.posts) == 3  # 503 retried, 422 refused, the replay taken
