"""Whatever arrives, the FHIR adapter answers with our error types only, and every error is a valid outcome.

A crash here would be a 500 at the HTTP layer; an error that is not an InboundMessageError, or whose
OperationOutcome does not validate as R4, would be a wrong answer to the sender.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from fhir.resources.R4B.operationoutcome import OperationOutcome
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from adapters.fhir.bundles import bundle_commands
from adapters.fhir.mapping import medication_request_commands
from adapters.fhir.messages import request_message_info
from adapters.fhir.outcomes import http_status_for, operation_outcome
from adapters.fhir.parsing import classify, parse_resource
from hub.errors import InboundMessageError, MessageContentError, UnsupportedMessageError
from tests.unit.fhir.builders import bundle_of, bundled_request, medication_request, patient, practitioner

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20)
)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)
MR_FIELDS = [
    "status",
    "intent",
    "medicationCodeableConcept",
    "medicationReference",
    "subject",
    "requester",
    "identifier",
    "dispenseRequest",
    "dosageInstruction",
    "substitution",
    "authoredOn",
    "contained",
    "category",
    "encounter",
    "insurance",
    "statusReason",
    "note",
    "medication",
    "resourceType",
    "id",
    "courseOfTherapyType",
]
NESTED_PATHS = [
    ("dispenseRequest", "quantity"),
    ("dispenseRequest", "expectedSupplyDuration"),
    ("dispenseRequest", "numberOfRepeatsAllowed"),
    ("substitution", "allowedBoolean"),
    ("medicationCodeableConcept", "coding"),
    ("subject", "reference"),
    ("requester", "identifier"),
]


def assert_answered(error: InboundMessageError) -> None:
    """The error is ours, carries problems, and they make a valid R4 OperationOutcome."""
    assert type(error) in (MessageContentError, UnsupportedMessageError)
    assert error.problems
    OperationOutcome.model_validate(operation_outcome(error.problems))
    assert http_status_for(error) in (400, 422)


def run(call: Any, *args: Any) -> None:
    try:
        call(*args)
    except InboundMessageError as error:
        assert_answered(error)


@SETTINGS
@given(st.binary(max_size=300))
def test_arbitrary_bytes(body: bytes) -> None:
    run(parse_resource, body)


@SETTINGS
@given(json_values)
def test_arbitrary_json_bodies(value: Any) -> None:
    body = json.dumps(value).encode()

    def everything() -> None:
        resource = parse_resource(body)
        classify(resource)
        medication_request_commands(resource)

    run(everything)


@SETTINGS
@given(st.dictionaries(st.sampled_from(MR_FIELDS), json_values, max_size=5))
def test_medication_request_with_wrong_fields(changes: dict[str, Any]) -> None:
    run(medication_request_commands, medication_request(**changes))


@SETTINGS
@given(st.sampled_from(NESTED_PATHS), json_values)
def test_medication_request_with_wrong_nested_values(path: tuple[str, str], value: Any) -> None:
    resource = medication_request()
    resource.setdefault(path[0], {})[path[1]] = value
    run(medication_request_commands, resource)


@SETTINGS
@example("document", [{}, {"status": None, "resourceType": []}], 0)
@given(
    st.sampled_from(["transaction", "batch", "message", "document"]),
    st.lists(st.dictionaries(st.sampled_from(MR_FIELDS), json_values, max_size=3), max_size=3),
    st.integers(min_value=0, max_value=3),
)
def test_bundles_with_wrong_entries(kind: str, mutations: list[dict[str, Any]], where: int) -> None:
    resources = [bundled_request(), patient(), practitioner()]
    for offset, changes in enumerate(mutations):
        target = resources[(where + offset) % len(resources)]
        target.update(copy.deepcopy(changes))
    run(bundle_commands, bundle_of(kind, *resources))


@SETTINGS
@given(json_values, st.sampled_from(["entry", "type", "resourceType"]))
def test_bundle_shell_with_wrong_values(value: Any, field: str) -> None:
    bundle = bundle_of("transaction", bundled_request(), patient(), practitioner())
    bundle[field] = value
    run(bundle_commands, bundle)
    request_message_info(bundle)  # never raises: the reply to a refused message needs it


@SETTINGS
@given(st.integers(min_value=1, max_value=3000))
def test_deep_nesting(depth: int) -> None:
    body = b'{"resourceType":"MedicationRequest","note":' + b"[" * depth + b"]" * depth + b"}"
    run(lambda: medication_request_commands(parse_resource(body)))
