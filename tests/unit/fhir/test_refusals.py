"""What the FHIR door records of a refused request: the id its sender knows it by, the type, and why."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from adapters.fhir.messages import response_message
from adapters.fhir.outcomes import operation_outcome
from adapters.fhir.refusals import READ_MAX_BYTES, refused_request
from hub.errors import Problem
from tests.unit.fhir.builders import medication_request

OUTCOME = json.dumps(
    operation_outcome(
        [
            Problem("value", "it holds a NUL", "MedicationRequest.note[0].text"),
            Problem("required", "subject is required", ""),
        ]
    )
).encode()


def test_a_medication_request_is_known_by_its_placer_identifier() -> None:
    body = json.dumps(medication_request()).encode()  # identifier typed PLAC: urn:example:ehr|ORD-1
    refusal = refused_request(principal="feed:north", body=body, status=400, answer=OUTCOME)
    assert (refusal.control_id, refusal.message_type, refusal.answer_code) == (
        "urn:example:ehr|ORD-1",
        "MedicationRequest",
        "400",
    )
    assert (refusal.actor, refusal.budget_key, refusal.outcome) == ("feed:north", "feed:north", "error")
    assert refusal.reason == "MedicationRequest.note[0].text: it holds a NUL; subject is required"
    assert refusal.raw == body and refusal.answer == OUTCOME


def test_bundles_by_identifier_then_id_then_message_header() -> None:
    header = {"resource": {"resourceType": "MessageHeader", "id": "mh-1"}}
    cases = [({"identifier": {"value": "B-1"}, "id": "b"}, "B-1"), ({"id": "b-2"}, "b-2"), ({}, "mh-1")]
    for extra, wanted in cases:
        body = json.dumps({"resourceType": "Bundle", "type": "message", "entry": [header], **extra}).encode()
        refusal = refused_request(principal="feed:north", body=body, status=503, answer=b"")
        assert (refusal.control_id, refusal.message_type, refusal.outcome) == (wanted, "Bundle/message", "refused")


def test_a_response_message_gives_its_outcome_as_the_reason() -> None:
    reply = response_message("mh-1", "fatal-error", json.loads(OUTCOME), now=datetime.now(UTC))
    refusal = refused_request(principal="feed:north", body=b"{}", status=422, answer=json.dumps(reply).encode())
    assert refusal.reason.startswith("MedicationRequest.note[0].text: it holds a NUL")


def test_an_unreadable_or_huge_body_has_no_control_id() -> None:
    for body in (b"{not json", b"[1]", b'{"resourceType": "MedicationRequest"}' + b" " * READ_MAX_BYTES):
        refusal = refused_request(principal="user:ada", body=body, status=400, answer=b"not json")
        assert (refusal.control_id, refusal.reason) == ("", "refused")
