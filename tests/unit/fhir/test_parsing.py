"""parse_resource limits and classify's endpoint checks."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from adapters.fhir.parsing import MAX_DEPTH, ResourceKind, classify, parse_resource
from hub.errors import MessageContentError


def _problem(body: bytes) -> tuple[str, str]:
    with pytest.raises(MessageContentError) as caught:
        parse_resource(body)
    (problem,) = caught.value.problems
    return problem.code, problem.text


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"", "invalid JSON"),
        (b"{", "invalid JSON"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b"[]", "JSON object"),
        (b'"MedicationRequest"', "JSON object"),
        (b'{"a": 1, "a": 2}', "duplicate JSON property"),
        (b'{"a": NaN}', "not a JSON number"),
        (b'{"a": 1e999999}', "out of range"),
        (b'{"a": ' + b"9" * 100 + b"}", "out of range"),
    ],
)
def test_malformed_json_is_a_structure_problem(body: bytes, fragment: str) -> None:
    code, text = _problem(body)
    assert code == "structure"
    assert fragment in text


def test_nesting_limit() -> None:
    ok = b'{"a":' * (MAX_DEPTH - 1) + b"1" + b"}" * (MAX_DEPTH - 1)
    assert parse_resource(ok)
    too_deep = b'{"a":' * (MAX_DEPTH + 1) + b"1" + b"}" * (MAX_DEPTH + 1)
    assert "deeper than" in _problem(too_deep)[1]
    hostile = b"[" * 100_000 + b"]" * 100_000
    assert _problem(hostile)[0] == "structure"


def test_decimals_keep_their_precision_and_bom_is_tolerated() -> None:
    parsed = parse_resource(b"\xef\xbb\xbf" + json.dumps({"resourceType": "X", "v": 0.1}).encode())
    assert parsed["v"] == Decimal("0.1")


@pytest.mark.parametrize(
    ("resource", "kind"),
    [
        ({"resourceType": "MedicationRequest"}, ResourceKind.MEDICATION_REQUEST),
        ({"resourceType": "Bundle", "type": "transaction"}, ResourceKind.TRANSACTION),
        ({"resourceType": "Bundle", "type": "batch"}, ResourceKind.BATCH),
        ({"resourceType": "Bundle", "type": "message"}, ResourceKind.MESSAGE),
        ({"resourceType": "Bundle", "type": "document"}, ResourceKind.DOCUMENT),
    ],
)
def test_classify(resource: dict[str, object], kind: ResourceKind) -> None:
    assert classify(resource) is kind


def test_classify_refuses_what_the_endpoint_does_not_take() -> None:
    with pytest.raises(MessageContentError) as caught:
        classify({"resourceType": "Patient"}, accept=[ResourceKind.MEDICATION_REQUEST])
    assert [(p.code, p.location) for p in caught.value.problems] == [("invalid", "Patient")]
    with pytest.raises(MessageContentError) as caught:
        classify({"resourceType": "Bundle", "type": "searchset"}, accept=[ResourceKind.TRANSACTION])
    assert [(p.code, p.location) for p in caught.value.problems] == [("invalid", "Bundle.type")]
    with pytest.raises(MessageContentError) as caught:
        classify({"resourceType": "Bundle"})
    assert [(p.code, p.location) for p in caught.value.problems] == [("required", "Bundle.type")]
    with pytest.raises(MessageContentError):
        classify({"no": "type"})
