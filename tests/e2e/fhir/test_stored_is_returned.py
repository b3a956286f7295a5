"""What a write answers is what the hub keeps: every reference in it resolves by GET for the same principal,
every created resource has a Location, and every id the hub hands out reads back a resource with that id.
A real FHIR client (fhirpy) drives create, read, refresh, search and conditional create."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
from fhirpy import SyncFHIRClient

from hub.persistence.queries import SqlPrescriptionQueries
from tests.e2e.fhir.conftest import FhirHub
from tests.support.waiting import eventually
from tests.unit.fhir.builders import bundle_of, bundled_request, medication_request, patient, practitioner, urn


def _order(placer: str, **changes: Any) -> dict[str, Any]:
    return medication_request(identifier=[{"system": "urn:example:ehr", "value": placer}], **changes)


def _new(placer: str) -> dict[str, Any]:
    """An order as a client creates it: no id (fhirpy PUTs a resource that has one)."""
    return {k: v for k, v in _order(placer).items() if k != "id"}


def _references(value: Any) -> Iterator[str]:
    """Every literal reference in a resource, contained ones (``#id``) aside."""
    if isinstance(value, dict):
        reference = value.get("reference")
        if isinstance(reference, str) and not reference.startswith("#"):
            yield reference
        for item in value.values():
            yield from _references(item)
    elif isinstance(value, list):
        for item in value:
            yield from _references(item)


def _read(fhir: httpx.Client, reference: str) -> dict[str, Any]:
    """The resource a relative reference names, once the pharmacy has recorded it; its id is the one read."""

    def found() -> dict[str, Any] | None:
        answer = fhir.get(f"/{reference}")
        return answer.json() if answer.status_code == 200 else None

    resource = eventually(found, f"GET {reference}")
    assert f"{resource['resourceType']}/{resource['id']}" == reference
    return resource


def _resolves(fhir: httpx.Client, resource: dict[str, Any]) -> None:
    """Every reference in ``resource`` (and in what those name) reads back from this server."""
    for reference in _references(resource):
        assert not reference.startswith("urn:"), reference
        _resolves(fhir, _read(fhir, reference))


def test_a_create_answers_the_order_as_kept_with_resolvable_references(fhir_hub: FhirHub) -> None:
    sent = _order("STORED-1", subject={"reference": "Patient/example"})
    sent["contained"] = [practitioner()]
    sent["subject"] = {"reference": "#pat1"}
    sent["contained"].append(patient())
    with fhir_hub.client() as fhir:
        created = fhir.post("/MedicationRequest", json=sent)
        assert created.status_code == 201, created.text
        body = created.json()
        assert "contained" not in body and body["id"] != "mr1"
        assert created.headers["etag"] == f'W/"{body["meta"]["versionId"]}"'
        assert created.headers["location"].endswith(f"/MedicationRequest/{body['id']}")
        assert body["subject"]["reference"] == f"Patient/{body['id']}-patient"
        _resolves(fhir, body)
        order = _read(fhir, f"MedicationRequest/{body['id']}")
        version = order["meta"]["versionId"]
        for held in (f'W/"{version}"', f'"{version}"', version):  # fhirpy's refresh() sends it bare
            assert fhir.get(f"/MedicationRequest/{body['id']}", headers={"If-None-Match": held}).status_code == 304
        named = _read(fhir, body["subject"]["reference"])
        assert named["link"] == [{"other": order["subject"], "type": "refer"}]
        assert named["name"] == [{"family": "Testpatient", "given": ["Alex"]}]
        # the hub's own prescription id (events, staff API) leads to the order's one FHIR id
        rx = SqlPrescriptionQueries(fhir_hub.ph.engine).prescription_by_correlation(body["id"])
        assert rx is not None and rx.prescription_id != body["id"]
        moved = fhir.get(f"/MedicationRequest/{rx.prescription_id}")
        assert moved.status_code == 301 and moved.headers["location"] == created.headers["location"]


def test_an_external_subject_is_not_echoed_as_a_dangling_reference(fhir_hub: FhirHub) -> None:
    sent = _order("STORED-2", subject={"reference": "Patient/example", "display": "Alex Testpatient"})
    with fhir_hub.client() as fhir:
        created = fhir.post("/MedicationRequest", json=sent)
        assert created.status_code == 201, created.text
        assert "Patient/example" not in created.text
        _resolves(fhir, created.json())


def test_a_cancellation_answers_the_order_it_cancels(fhir_hub: FhirHub) -> None:
    with fhir_hub.client() as fhir:
        created = fhir.post("/MedicationRequest", json=_order("STORED-3"))
        cancelled = fhir.post("/MedicationRequest", json=_order("STORED-3", status="cancelled"))
        assert (created.status_code, cancelled.status_code) == (201, 200), cancelled.text
        body = cancelled.json()
        assert body["status"] == "cancelled" and "contained" not in body
        # the order as the hub holds it: its patient the matched profile once intake has recorded it
        unchanged = ("resourceType", "id", "identifier", "medicationCodeableConcept", "requester", "dispenseRequest")
        assert {k: body[k] for k in unchanged} == {k: created.json()[k] for k in unchanged}
        assert cancelled.headers["etag"] != created.headers["etag"]
        _resolves(fhir, body)


def test_a_transaction_answers_201_with_locations_and_no_urn_references(fhir_hub: FhirHub) -> None:
    bundle = bundle_of(
        "transaction",
        bundled_request(identifier=[{"system": "urn:example:ehr", "value": "TX-1"}]),
        patient(),
        practitioner(),
    )
    with fhir_hub.client() as fhir:
        answer = fhir.post("", json=bundle)
        assert answer.status_code == 200, answer.text
        order, named, prescriber = answer.json()["entry"]
        assert order["response"]["status"] == named["response"]["status"] == "201 Created"
        assert order["response"]["location"] == f"MedicationRequest/{order['resource']['id']}"
        assert named["response"]["location"] == order["resource"]["subject"]["reference"]
        assert named["resource"]["id"] == named["response"]["location"].removeprefix("Patient/")
        assert "location" not in prescriber["response"] and prescriber["response"]["status"] == "200 OK"
        assert urn(1) not in answer.text and urn(2) not in answer.text
        _resolves(fhir, order["resource"])
        _read(fhir, named["response"]["location"])
        again = fhir.post("", json=bundle).json()["entry"]
        assert [e["response"]["status"] for e in again] == ["200 OK", "200 OK", "200 OK"]
        assert again[1]["response"]["location"] == named["response"]["location"]


def test_fhirpy_creates_reads_refreshes_searches_and_creates_conditionally(fhir_hub: FhirHub) -> None:
    client = SyncFHIRClient(fhir_hub.base, authorization=f"Bearer {fhir_hub.feed_token}")
    order = client.resource("MedicationRequest", **_new("FHIRPY-1"))
    order.save()
    assert order.id and order["meta"]["versionId"]
    fhir_hub.validator.assert_valid(order.serialize(), "fhirpy save()")
    read = eventually(
        lambda: _or_none(lambda: client.reference("MedicationRequest", order.id).to_resource()),
        "the order read by fhirpy",
    )
    assert read.id == order.id and read["identifier"][0]["value"] == "FHIRPY-1"
    patient_ref = read["subject"]["reference"]
    assert client.reference(reference=patient_ref).to_resource().id == patient_ref.removeprefix("Patient/")
    read.refresh()
    assert read.id == order.id
    found = client.resources("MedicationRequest").search(identifier="urn:example:ehr|FHIRPY-1").fetch()
    assert [r.id for r in found] == [order.id]
    again, created = (
        client.resources("MedicationRequest")
        .search(identifier="urn:example:ehr|FHIRPY-1")
        .get_or_create(client.resource("MedicationRequest", **_new("FHIRPY-1-OTHER")))
    )
    assert (again.id, created) == (order.id, False)
    fresh, created = (
        client.resources("MedicationRequest")
        .search(identifier="urn:example:ehr|FHIRPY-2")
        .get_or_create(client.resource("MedicationRequest", **_new("FHIRPY-2")))
    )
    assert created and fresh.id != order.id
    for resource in (read, again, fresh):
        fhir_hub.validator.assert_valid(resource.serialize(), "fhirpy")


def _or_none(read: Any) -> Any:
    try:
        return read()
    except Exception:  # fhirpy raises ResourceNotFound until the pharmacy has recorded the order
        return None
