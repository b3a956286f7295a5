"""Header checks: which versions, processing ids, types and events the order port takes."""

from __future__ import annotations

import pytest

from adapters.hl7.message_model import Hl7Header
from adapters.hl7.validation import validate_header
from hub.errors import MessageContentError, UnsupportedMessageError

GOOD = Hl7Header(message_type="RDE", trigger_event="O11", control_id="C1", processing_id="P", version="2.5.1")


@pytest.mark.parametrize(
    ("kind", "event", "version"),
    [("RDE", "O11", "2.5.1"), ("RDE", "O01", "2.3"), ("OMP", "O09", "2.8"), ("ORM", "O01", "2.3.1")],
)
def test_supported_messages_pass(kind: str, event: str, version: str) -> None:
    validate_header(GOOD.model_copy(update={"message_type": kind, "trigger_event": event, "version": version}))


@pytest.mark.parametrize(
    ("update", "code", "location"),
    [
        ({"version": "2.1"}, "203", "MSH^1^12"),
        ({"version": "3.0"}, "203", "MSH^1^12"),
        ({"processing_id": "X"}, "202", "MSH^1^11"),
        ({"message_type": "ADT", "trigger_event": "A01"}, "200", "MSH^1^9^1^1"),
        ({"message_type": "RDS", "trigger_event": "O13"}, "200", "MSH^1^9^1^1"),
        ({"message_type": "RDE", "trigger_event": "O25"}, "201", "MSH^1^9^1^2"),
    ],
)
def test_unsupported_is_a_reject(update: dict[str, str], code: str, location: str) -> None:
    with pytest.raises(UnsupportedMessageError) as caught:
        validate_header(GOOD.model_copy(update=update))
    assert [(p.code, p.location) for p in caught.value.problems] == [(code, location)]
    assert caught.value.control_id == "C1"


def test_processing_ids_are_configurable() -> None:
    validate_header(GOOD.model_copy(update={"processing_id": "T"}))
    with pytest.raises(UnsupportedMessageError):
        validate_header(GOOD.model_copy(update={"processing_id": "T"}), processing_ids={"P"})


@pytest.mark.parametrize("field", [9, 10, 11, 12])
def test_missing_required_msh_field_is_a_content_error(field: str) -> None:
    name = {9: "message_type", 10: "control_id", 11: "processing_id", 12: "version"}[int(field)]
    with pytest.raises(MessageContentError) as caught:
        validate_header(GOOD.model_copy(update={name: ""}))
    assert [(p.code, p.location) for p in caught.value.problems] == [("101", f"MSH^1^{field}")]


def test_empty_processing_id_passes_when_a_default_is_configured() -> None:
    validate_header(GOOD.model_copy(update={"processing_id": ""}), default_processing_id="P")


def test_all_problems_are_reported_together() -> None:
    with pytest.raises(UnsupportedMessageError) as caught:
        validate_header(GOOD.model_copy(update={"control_id": "", "version": "2.2", "message_type": "ZPN"}))
    assert [p.code for p in caught.value.problems] == ["101", "203", "200"]
