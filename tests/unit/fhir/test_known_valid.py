"""Checking only the elements not already known to be valid gives exactly the R4 model's answer.

``r4_problems`` leaves out the optional, non-choice elements of a resource that earlier accepted
resources carried (``KnownValid``). Whatever the resource, the problems with a warm memory must be the
problems of a cold check of the whole resource: same codes, texts and locations, in the same order.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.fhir import validation
from adapters.fhir.parsing import parse_resource
from adapters.fhir.validation import KnownValid, r4_problems
from hub.errors import Problem
from tests.unit.fhir.builders import medication_request, patient, practitioner
from tests.unit.fhir.corpus import corpus_bytes, corpus_names


@pytest.fixture(autouse=True)
def _own_memory(monkeypatch: pytest.MonkeyPatch) -> Iterator[KnownValid]:
    known = KnownValid()
    monkeypatch.setattr(validation, "KNOWN_VALID", known)
    yield known


def cold(resource: dict[str, Any], at: str = "MedicationRequest") -> list[Problem]:
    """The model's answer with nothing remembered."""
    warm = validation.KNOWN_VALID
    validation.KNOWN_VALID = KnownValid(max_entries=0)
    try:
        return r4_problems(resource, at=at)
    finally:
        validation.KNOWN_VALID = warm


def _resources(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict):
        if isinstance(value.get("resourceType"), str):
            yield value
        for item in value.values():
            yield from _resources(item)
    elif isinstance(value, list):
        for item in value:
            yield from _resources(item)


def _warm(known: KnownValid) -> None:
    for name in corpus_names():
        for resource in _resources(parse_resource(corpus_bytes(name))):
            r4_problems(resource, at="X")
    r4_problems(medication_request(), at="MedicationRequest")


def test_a_known_element_is_left_out_and_the_answer_is_the_same(_own_memory: KnownValid) -> None:
    order = medication_request()
    assert r4_problems(order, at="MedicationRequest") == []
    reduced = _own_memory.without_known("MedicationRequest", order)
    assert reduced is not None
    assert {"dosageInstruction", "dispenseRequest", "requester", "contained", "identifier"} - set(reduced) == {
        "dosageInstruction",
        "dispenseRequest",
        "requester",
        "contained",
        "identifier",
    }
    assert {"status", "intent", "subject", "medicationCodeableConcept"} <= set(reduced)  # never left out


BROKEN: list[tuple[str, Any]] = [
    ("dosageInstruction", "append-null"),
    ("dosageInstruction", []),
    ("dosageInstruction", {"text": "not a list"}),
    ("contained", "append-null"),
    ("contained", [practitioner(), {**patient(), "birthDate": "yesterday"}]),
    ("contained", [practitioner(), {**patient(), "unknown": 1}]),
    ("contained", [practitioner(), {"resourceType": "Nonsense"}]),
    ("identifier", [{"system": "urn:example:ehr", "value": 12}]),
    ("requester", None),
    ("requester", {"reference": 5}),
    ("medicationReference", {"reference": "#med"}),
    ("medicationCodeableConcept", None),
    ("subject", None),
    ("status", None),
    ("status", "sometimes"),
    ("unknownElement", {"a": 1}),
    ("medication", {"concept": {"text": "R5"}}),
    ("_status", {"extension": [{"url": "http://example.org", "valueString": "x"}]}),
    ("dispenseRequest", {"quantity": {"value": "twenty"}}),
    ("dispenseRequest", {"numberOfRepeatsAllowed": -1}),
    ("extension", [{"url": "http://example.org/x", "valueString": ""}]),
]


@pytest.mark.parametrize(("element", "value"), BROKEN, ids=[f"{e}={json.dumps(v)[:30]}" for e, v in BROKEN])
def test_a_broken_order_gets_the_models_own_answer(_own_memory: KnownValid, element: str, value: Any) -> None:
    _warm(_own_memory)
    order = medication_request()
    if value == "append-null":
        order[element] = [*order[element], None]
    elif value is None:
        order.pop(element, None)
    else:
        order[element] = copy.deepcopy(value)
    assert r4_problems(order, at="MedicationRequest") == cold(order)


def test_the_broken_orders_are_broken_but_for_what_the_model_leaves_to_the_mapping() -> None:
    accepted = []
    for element, value in BROKEN:
        order = medication_request()
        order[element] = [*order[element], None] if value == "append-null" else copy.deepcopy(value)
        if value is None:
            del order[element]
        if not cold(order):
            accepted.append((element, value))
    assert [e for e, _ in accepted] == ["dosageInstruction", "requester", "status", "_status"]


def test_every_corpus_resource_gets_the_same_answer_warm_and_cold(_own_memory: KnownValid) -> None:
    _warm(_own_memory)
    for name in corpus_names():
        for resource in _resources(parse_resource(corpus_bytes(name))):
            assert r4_problems(resource, at="X") == cold(resource, "X"), name


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=10,
)
ELEMENTS = [
    "contained",
    "identifier",
    "dosageInstruction",
    "dispenseRequest",
    "requester",
    "subject",
    "status",
    "medicationCodeableConcept",
    "medicationReference",
    "note",
    "extension",
    "meta",
    "text",
    "_intent",
]


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(changes=st.dictionaries(st.sampled_from(ELEMENTS), json_values, max_size=3), keep_items=st.booleans())
def test_any_change_to_a_known_order_gets_the_same_answer_warm_and_cold(
    _own_memory: KnownValid, changes: dict[str, Any], keep_items: bool
) -> None:
    order = medication_request()
    r4_problems(order, at="MedicationRequest")  # everything in it is now known
    changed = medication_request()
    for element, value in changes.items():
        if keep_items and isinstance(value, list) and isinstance(changed.get(element), list):
            value = [*changed[element], *value]  # known items beside new ones
        changed[element] = value
    assert r4_problems(changed, at="MedicationRequest") == cold(changed)
