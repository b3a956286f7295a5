"""The FHIR write endpoints over real HTTP: conditional create, transaction, batch, errors, broker down, auth."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle

from hub.persistence.users import UserStore
from tests.e2e.fhir.conftest import FhirHub, issues
from tests.unit.fhir.builders import bundle_of, bundled_request, medication_request, patient, practitioner


def _order(placer: str, **changes: Any) -> dict[str, Any]:
    return medication_request(identifier=[{"system": "urn:example:ehr", "value": placer}], **changes)


def _received(fhir_hub: FhirHub, post: Any, quiet_s: float = 1.5) -> list[str]:
    """Correlation ids of the prescription.received events that follow ``post()``."""
    sub = fhir_hub.subscriber("prescription.received")
    try:
        post()
        sub.drain(quiet_s=quiet_s)
    finally:
        sub.close()
    return [e["correlationid"] for e in sub.events]


def test_repeated_create_returns_the_existing_order_and_publishes_nothing(fhir_hub: FhirHub) -> None:
    answers = []
    with fhir_hub.client() as fhir:
        first = _received(fhir_hub, lambda: answers.append(fhir.post("/MedicationRequest", json=_order("W-1"))))
        again = _received(fhir_hub, lambda: answers.append(fhir.post("/MedicationRequest", json=_order("W-1"))))
        header = fhir.post(
            "/MedicationRequest", json=_order("W-1-OTHER"), headers={"If-None-Exist": "identifier=urn:example:ehr|W-1"}
        )
    created, repeated = answers
    assert (created.status_code, repeated.status_code) == (201, 200)
    assert created.json()["id"] == repeated.json()["id"] == first[0]
    assert again == []
    # If-None-Exist names the existing order: 200 with it, and W-1-OTHER is not created
    assert header.status_code == 200 and header.json()["id"] == created.json()["id"]
    assert header.headers["location"].endswith(f"/MedicationRequest/{created.json()['id']}")


@pytest.mark.parametrize(
    ("body", "status", "code", "expression"),
    [
        (b'{"resourceType": "MedicationRequest",', 400, "structure", None),
        (json.dumps(patient()).encode(), 400, "invalid", ["Patient"]),
        (json.dumps(_order("E-1", status="bogus")).encode(), 400, "code-invalid", ["MedicationRequest.status"]),
        (json.dumps(_order("E-2", intent="proposal")).encode(), 422, "business-rule", ["MedicationRequest.intent"]),
        (
            json.dumps({k: v for k, v in _order("E-3").items() if k != "subject"}).encode(),
            400,
            "required",
            ["MedicationRequest.subject"],
        ),
    ],
)
def test_bad_orders_get_an_operation_outcome_naming_the_element(
    fhir_hub: FhirHub, body: bytes, status: int, code: str, expression: list[str] | None
) -> None:
    with fhir_hub.client() as fhir:
        response = fhir.post("/MedicationRequest", content=body)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/fhir+json")
    assert issues(response.json()) == [("error", code, expression)]


def test_an_r5_shaped_order_is_refused_at_its_r5_element(fhir_hub: FhirHub) -> None:
    r5 = _order("R5-1")
    r5["medication"] = {"concept": r5.pop("medicationCodeableConcept")}
    with fhir_hub.client() as fhir:
        response = fhir.post("/MedicationRequest", json=r5)
    assert response.status_code == 400
    assert issues(response.json()) == [("error", "structure", ["MedicationRequest.medication"])]
    assert "R4" in response.json()["issue"][0]["diagnostics"]


def test_transaction_is_all_or_nothing(fhir_hub: FhirHub) -> None:
    good, bad = (
        bundled_request(identifier=[{"system": "urn:example:ehr", "value": "T-1"}]),
        bundled_request(identifier=[{"system": "urn:example:ehr", "value": "T-2"}], intent="plan"),
    )
    refused: list[Any] = []
    with fhir_hub.client() as fhir:
        none = _received(
            fhir_hub,
            lambda: refused.append(fhir.post("", json=bundle_of("transaction", good, patient(), practitioner(), bad))),
        )
        answers: list[Any] = []
        both = _received(
            fhir_hub,
            lambda: answers.append(
                fhir.post(
                    "",
                    json=bundle_of(
                        "transaction",
                        good,
                        patient(),
                        practitioner(),
                        bundled_request(identifier=[{"system": "urn:example:ehr", "value": "T-3"}]),
                    ),
                )
            ),
        )
    assert refused[0].status_code == 422 and none == []
    # the good order is named too (issue 26): nothing of an all-or-nothing Bundle was taken
    assert issues(refused[0].json()) == [
        ("error", "business-rule", ["Bundle.entry[3].resource.intent"]),
        ("information", "informational", ["Bundle.entry[0].resource"]),
    ]
    reply = answers[0].json()
    Bundle.model_validate(reply)
    assert reply["type"] == "transaction-response"
    statuses = [e["response"]["status"] for e in reply["entry"]]
    assert statuses == ["201 Created", "201 Created", "200 OK", "201 Created"]
    # the Patient both orders name is created with the first (tests/e2e/fhir/test_stored_is_returned.py)
    ids = [
        e["resource"]["id"] for e in reply["entry"] if e.get("resource", {}).get("resourceType") == "MedicationRequest"
    ]
    assert sorted(both) == sorted(ids)
    assert reply["entry"][1]["response"]["location"] == reply["entry"][0]["resource"]["subject"]["reference"]
    assert reply["entry"][2]["response"]["outcome"]["issue"][0]["severity"] == "information"


def test_batch_answers_each_entry_on_its_own(fhir_hub: FhirHub) -> None:
    ok = bundled_request(identifier=[{"system": "urn:example:ehr", "value": "B-1"}])
    bad = bundled_request(identifier=[{"system": "urn:example:ehr", "value": "B-2"}], intent="plan")
    answers: list[Any] = []
    with fhir_hub.client() as fhir:
        events = _received(
            fhir_hub, lambda: answers.append(fhir.post("", json=bundle_of("batch", ok, patient(), practitioner(), bad)))
        )
    reply = answers[0].json()
    assert answers[0].status_code == 200 and reply["type"] == "batch-response"
    Bundle.model_validate(reply)
    assert [e["response"]["status"] for e in reply["entry"]] == [
        "201 Created",
        "200 OK",
        "200 OK",
        "422 Unprocessable Entity",
    ]
    assert issues(reply["entry"][3]["response"]["outcome"]) == [
        ("error", "business-rule", ["Bundle.entry[3].resource.intent"])
    ]
    assert events == [reply["entry"][0]["resource"]["id"]]


def test_broker_down_is_503_transient_and_nothing_half_done(fhir_hub: FhirHub) -> None:
    hub = fhir_hub.ph.hub
    publisher = hub.doors.publisher
    assert publisher is not None
    bundle = bundle_of(
        "transaction",
        bundled_request(identifier=[{"system": "urn:example:ehr", "value": "D-1"}]),
        patient(),
        practitioner(),
        bundled_request(identifier=[{"system": "urn:example:ehr", "value": "D-2"}]),
    )
    asyncio.run_coroutine_threadsafe(publisher.close(), hub.loop).result(10)
    try:
        with fhir_hub.client() as fhir:
            down = fhir.post("", json=bundle)
            single = fhir.post("/MedicationRequest", json=_order("D-3"))
    finally:
        asyncio.run_coroutine_threadsafe(publisher.start(), hub.loop).result(30)
    assert (down.status_code, single.status_code) == (503, 503)
    assert issues(down.json()) == [("error", "transient", None)] and down.headers["retry-after"]
    with fhir_hub.client() as fhir:  # nothing was recorded: the resend is a first acceptance, both orders
        answers: list[Any] = []
        events = _received(fhir_hub, lambda: answers.append(fhir.post("", json=bundle)))
    assert [e["response"]["status"] for e in answers[0].json()["entry"]][::3] == ["201 Created", "201 Created"]
    assert len(events) == 2


def test_auth_is_required_and_answered_in_fhir(fhir_hub: FhirHub) -> None:
    _, technician = UserStore(fhir_hub.ph.engine).add("tech.on.fhir", "technician")
    with fhir_hub.client(token="") as anonymous, fhir_hub.client(token=technician) as staff:
        metadata = anonymous.get("/metadata")
        refused = anonymous.post("/MedicationRequest", json=_order("A-1"))
        forbidden = staff.get("/MedicationRequest/x")
    assert metadata.status_code == 200 and metadata.json()["resourceType"] == "CapabilityStatement"
    assert refused.status_code == 401 and issues(refused.json()) == [("error", "login", None)]
    assert forbidden.status_code == 403 and issues(forbidden.json()) == [("error", "forbidden", None)]


def test_wrong_media_type_and_unknown_paths_get_operation_outcomes(fhir_hub: FhirHub) -> None:
    with fhir_hub.client() as fhir:
        xml = fhir.post(
            "/MedicationRequest", content=b"<MedicationRequest/>", headers={"Content-Type": "application/fhir+xml"}
        )
        other = fhir.post("/Observation", json={"resourceType": "Observation"})
        message_at_base = fhir.post("", json=bundle_of("message", patient()))
    assert xml.status_code == 415 and issues(xml.json())[0][1] == "not-supported"
    assert other.status_code == 404 and issues(other.json())[0][1] == "not-supported"
    assert message_at_base.status_code == 400 and issues(message_at_base.json()) == [
        ("error", "invalid", ["Bundle.type"])
    ]
