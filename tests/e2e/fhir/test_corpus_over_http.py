"""Every public FHIR sample in the corpus POSTed over real HTTP to the running hub, and what came of it.

Routing is by content, as a client would: a lone resource to POST /fhir/MedicationRequest, a message
Bundle to /fhir/$process-message, a document Bundle to POST /fhir/Bundle (created, answered as Prefer:
return=OperationOutcome asks, with an issue per order; its sender reads it back). Accepted orders must each
produce one ``prescription.received`` event whose correlation id is the MedicationRequest id answered;
refusals must name the element in an OperationOutcome (inside the reply message for messages). Either way
every MedicationRequest entry of a Bundle has an issue at its own entry (issue 26: taken, or refused).
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.operationoutcome import OperationOutcome

from tests.e2e.fhir.conftest import FhirHub, issues
from tests.unit.fhir.corpus import corpus_bytes, corpus_names

#: file -> (path, HTTP status, new orders, orders already received, cancellations)
ACCEPTED: dict[str, tuple[str, int, int, int, int]] = {
    "gematik_kbv_erp_r4_bundle_document_compounding.json": ("/Bundle", 201, 1, 0, 0),
    "gematik_kbv_erp_r4_bundle_document_freetext_medication.json": ("/Bundle", 201, 1, 0, 0),
    "gematik_kbv_erp_r4_bundle_document_pzn_coverage.json": ("/Bundle", 201, 1, 0, 0),
    "nhs_eps_r4_bundle_message_4_medicationrequests_send.json": ("/$process-message", 200, 4, 0, 0),
    "nhs_eps_r4_bundle_message_controlled_drug.json": ("/$process-message", 200, 2, 0, 0),
    "nhs_eps_r4_bundle_message_multiple_dosage_instructions.json": ("/$process-message", 200, 4, 0, 0),
    "uscore_r4_medicationrequest_coded_oral_axid.json": ("/MedicationRequest", 201, 1, 0, 0),
    "uscore_r4_medicationrequest_contained_medication.json": ("/MedicationRequest", 201, 1, 0, 0),
}

#: file -> (path, HTTP status, issue code, FHIRPath expression of the element at fault); since issue 26 the
#: MedicationRequest entries without an error of their own (CARIN's benefit-check item, the first item of the
#: mixed course of therapy) each get an informational "not taken" issue beside it, checked in _every_order_named
REFUSED: dict[str, tuple[str, int, str, str]] = {
    "carin_rtpbc_r4_bundle_message_claim_patient_coverage_medicationrequest_practitioner.json": (
        "/$process-message",
        422,
        "not-supported",
        "Bundle.entry[0].resource.focus",
    ),
    # the prescriber cancels an order this sender never sent: not found, never another sender's order
    "nhs_eps_r4_bundle_message_cancel_request.json": (
        "/$process-message",
        404,
        "not-found",
        "Bundle.entry[1].resource.identifier",
    ),
    # it reuses the first line item id of the 4-item send (same system) for another order: the first one stands
    "nhs_eps_r4_bundle_message_repeat_dispensing.json": (
        "/$process-message",
        409,
        "duplicate",
        "Bundle.entry[1].resource.identifier",
    ),
    "nhs_eps_r4_bundle_message_dispense_notification.json": (
        "/$process-message",
        422,
        "not-supported",
        "Bundle.entry[0].resource.focus",
    ),
    "nhs_eps_r4_negative_invalid_intent.json": (
        "/$process-message",
        422,
        "business-rule",
        "Bundle.entry[1].resource.intent",
    ),
    "nhs_eps_r4_negative_mixed_course_of_therapy.json": (
        "/$process-message",
        422,
        "business-rule",
        "Bundle.entry[2].resource.courseOfTherapyType",
    ),
    "uscore_r4_coverage_example.json": ("/MedicationRequest", 400, "invalid", "Coverage"),
    "uscore_r4_medicationrequest_referenced_medication.json": (
        "/MedicationRequest",
        422,
        "not-found",
        "MedicationRequest.medicationReference.reference",
    ),
    "uscore_r4_medicationrequest_self_reported_tylenol.json": (
        "/MedicationRequest",
        422,
        "business-rule",
        "MedicationRequest.intent",
    ),
}

_NOTE = re.compile(r"^MedicationRequest/([0-9a-f-]{36}): (accepted|already received|cancellation accepted)$")


def _reply_parts(response: httpx.Response) -> tuple[str | None, dict[str, Any]]:
    """(MessageHeader.response.code or None, the OperationOutcome) of any answer."""
    body = response.json()
    assert response.headers["content-type"].startswith("application/fhir+json")
    if body["resourceType"] == "OperationOutcome":
        OperationOutcome.model_validate(body)
        return None, body
    Bundle.model_validate(body)
    header, outcome = (e["resource"] for e in body["entry"])
    assert header["response"]["details"]["reference"] == body["entry"][1]["fullUrl"]
    return header["response"]["code"], outcome


def _orders(response: httpx.Response) -> list[tuple[str, str]]:
    """(MedicationRequest id, what happened) for each order an accepted request named."""
    if response.status_code == 201 and response.json()["resourceType"] == "MedicationRequest":
        return [(response.json()["id"], "accepted")]
    _, outcome = _reply_parts(response)
    found = [_NOTE.match(i["diagnostics"]) for i in outcome["issue"]]
    assert all(found), outcome
    return [(m.group(1), m.group(2)) for m in found if m]


def _order_entries(name: str) -> set[int]:
    """The indexes of a corpus Bundle's MedicationRequest entries (none for a lone resource)."""
    body = json.loads(corpus_bytes(name))
    return {i for i, e in enumerate(body.get("entry", ())) if e["resource"]["resourceType"] == "MedicationRequest"}


def _every_order_named(name: str, outcome: dict[str, Any]) -> None:
    """Each MedicationRequest entry has an issue at its own entry, and only one."""
    named = [
        (i["severity"], int(m.group(1)))
        for i in outcome["issue"]
        for where in i.get("expression", ())
        if (m := re.match(r"Bundle\.entry\[(\d+)\]", where))
    ]
    errors = {n for severity, n in named if severity == "error"}
    untaken = [n for severity, n in named if severity == "information"]
    assert sorted(untaken) == sorted(_order_entries(name) - errors), (name, outcome)


#: a document's create answers with the Bundle unless told to name its orders
_PREFER = {"/Bundle": {"Prefer": "return=OperationOutcome"}}


def _document_kept(client: httpx.Client, created: httpx.Response, name: str) -> None:
    """The document was created: its Location reads it back as sent, and a resend finds it (200, same id)."""
    assert created.headers["preference-applied"] == "return=OperationOutcome"
    location = created.headers["location"]
    assert re.fullmatch(r".*/fhir/Bundle/[0-9a-f-]{36}", location), location
    read = client.get(location)
    assert read.status_code == 200 and read.headers["etag"] == created.headers["etag"], read.text
    kept, sent = read.json(), json.loads(corpus_bytes(name))
    assert kept["id"] == location.rsplit("/", 1)[1] and kept["entry"] == sent["entry"]
    again = client.post("/Bundle", content=corpus_bytes(name))
    assert again.status_code == 200 and again.headers["location"] == location
    assert again.json() == kept


def test_every_corpus_file_has_an_expectation() -> None:
    assert sorted(ACCEPTED.keys() | REFUSED.keys()) == corpus_names()


def test_corpus_over_http(fhir_hub: FhirHub) -> None:
    sub = fhir_hub.subscriber("prescription.received")
    new_ids: set[str] = set()
    try:
        with fhir_hub.client() as client:
            for name in corpus_names():
                if name in REFUSED:
                    path, status, code, expression = REFUSED[name]
                    response = client.post(path, content=corpus_bytes(name))
                    assert response.status_code == status, (name, response.text)
                    reply_code, outcome = _reply_parts(response)
                    assert reply_code == ("fatal-error" if path == "/$process-message" else None), name
                    assert [i for i in issues(outcome) if i[0] == "error"] == [("error", code, [expression])], name
                    _every_order_named(name, outcome)
                    continue
                path, status, new, known, cancels = ACCEPTED[name]
                response = client.post(path, content=corpus_bytes(name), headers=_PREFER.get(path, {}))
                assert response.status_code == status, (name, response.text)
                if path == "/Bundle":
                    _document_kept(client, response, name)
                if path == "/$process-message":
                    assert _reply_parts(response)[0] == "ok"
                outcomes = [what for _, what in _orders(response)]
                assert (
                    outcomes.count("accepted"),
                    outcomes.count("already received"),
                    outcomes.count("cancellation accepted"),
                ) == (new, known, cancels), name
                if path != "/MedicationRequest":  # a Bundle: one note per MedicationRequest entry
                    assert len(outcomes) == len(_order_entries(name)), name
                new_ids |= {rid for rid, what in _orders(response) if what == "accepted"}
        expected = sum(v[2] for v in ACCEPTED.values())
        sub.collect(lambda events: len(events) >= expected, timeout_s=30)
        sub.drain(quiet_s=1.0)
    finally:
        sub.close()
    received = [e["correlationid"] for e in sub.of_type("prescription.received")]
    assert len(received) == expected == len(new_ids)
    assert set(received) == new_ids


def test_a_resent_corpus_message_publishes_nothing_new(fhir_hub: FhirHub) -> None:
    name = "nhs_eps_r4_bundle_message_controlled_drug.json"
    with fhir_hub.client() as client:
        sub = fhir_hub.subscriber("prescription.received")
        try:
            first = client.post("/$process-message", content=corpus_bytes(name))
            # the first sending's own events (none when an earlier test sent it) come first, as a worker gets to them
            accepted = {rid for rid, what in _orders(first) if what == "accepted"}
            sub.collect(lambda events: {e["correlationid"] for e in events} >= accepted, timeout_s=30)
            sub.events.clear()
            again = client.post("/$process-message", content=corpus_bytes(name))
            sub.drain(quiet_s=1.5)
        finally:
            sub.close()
    assert first.status_code == again.status_code == 200
    assert [what for _, what in _orders(again)] == ["already received", "already received"]
    assert {rid for rid, _ in _orders(again)} == {rid for rid, _ in _orders(first)}
    assert sub.events == []
