"""Property over real HTTP: whatever JSON (or not-JSON) is POSTed to a FHIR endpoint, the answer is never a 500.

Every answer is FHIR JSON (OperationOutcome, a reply Bundle, or the order) with a 2xx/4xx status. One
hub serves the whole module; examples are bounded so the property stays fast.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.e2e.fhir.conftest import FhirHub
from tests.unit.fhir.builders import bundle_of, bundled_request, medication_request, patient, practitioner

ENDPOINTS = ["/MedicationRequest", "", "/Bundle", "/$process-message"]
ANSWER_TYPES = {"OperationOutcome", "Bundle", "MedicationRequest"}

scalars = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20)
)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=25,
)
FIELDS = [
    "resourceType",
    "id",
    "identifier",
    "status",
    "intent",
    "medicationCodeableConcept",
    "medicationReference",
    "subject",
    "requester",
    "dispenseRequest",
    "dosageInstruction",
    "contained",
    "medication",
    "type",
    "entry",
]


@st.composite
def mutated(draw: st.DrawFn) -> Any:
    """A valid order or Bundle with one element replaced by arbitrary JSON (reaches past the first check)."""
    order = medication_request(
        identifier=[{"system": "urn:example:prop", "value": draw(st.text(min_size=1, max_size=8))}]
    )
    kind = draw(st.sampled_from(["transaction", "batch", "message", "document", "searchset"]))
    base = draw(st.sampled_from([order, bundle_of(kind, bundled_request(), patient(), practitioner())]))
    resource = copy.deepcopy(base)
    target = resource
    if resource["resourceType"] == "Bundle" and draw(st.booleans()):
        target = resource["entry"][draw(st.integers(0, 2))]["resource"]
    target[draw(st.sampled_from(FIELDS))] = draw(json_values)
    return resource


bodies = (
    st.binary(max_size=200)
    | json_values.map(lambda v: json.dumps(v).encode())
    | mutated().map(lambda v: json.dumps(v).encode())
)
#: header values as a client can send them (no leading/trailing blanks: httpx refuses those itself)
headers = st.none() | st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=40).map(
    str.strip
).filter(bool)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(endpoint=st.sampled_from(ENDPOINTS), body=bodies, condition=headers)
@example(endpoint="/MedicationRequest", body=b'{"resourceType": "MedicationRequest", "id": "\\ud800"}', condition=None)
@example(endpoint="/MedicationRequest", body=json.dumps(medication_request()).encode(), condition="identifier=")
@example(endpoint="", body=b"[]", condition=None)
def test_no_body_yields_a_500(fhir_hub: FhirHub, endpoint: str, body: bytes, condition: str | None) -> None:
    extra = {"If-None-Exist": condition} if condition is not None else {}
    with fhir_hub.client() as fhir:
        response = fhir.post(endpoint, content=body, headers=extra)
    assert response.status_code < 500, response.text
    assert response.headers["content-type"].startswith("application/fhir+json")
    assert response.json()["resourceType"] in ANSWER_TYPES
