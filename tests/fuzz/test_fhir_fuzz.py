"""FHIR JSON abuse at POST /fhir/MedicationRequest: deep nesting, huge arrays, wrong types, junk bodies.

Every answer is a 4xx OperationOutcome (or a 2xx when the damage happened to leave a valid order), never a
5xx, and the hub keeps serving."""

from __future__ import annotations

import itertools
import json
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.chaos.orders import fhir_order
from tests.fuzz.conftest import TRIED, FuzzHub

FUZZ = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
FHIR_JSON = {"Content-Type": "application/fhir+json"}
_ids = itertools.count()
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)


def _order() -> dict[str, Any]:
    return dict(json.loads(fhir_order("FZF000000")))


def _check(response: httpx.Response, what: str) -> None:
    TRIED["fhir json"] += 1
    assert response.status_code < 500, f"{what}: {response.status_code} {response.text[:300]}"
    if response.status_code >= 400:
        assert response.json()["resourceType"] == "OperationOutcome", f"{what}: {response.text[:300]}"


def _post(http: httpx.Client, body: bytes) -> httpx.Response:
    return http.post("/fhir/MedicationRequest", content=body, headers=FHIR_JSON)


def test_wrong_types_in_every_element(fuzz_hub: FuzzHub) -> None:
    with fuzz_hub.client() as http:

        @FUZZ
        @given(
            path=st.lists(
                st.sampled_from(
                    [
                        "contained",
                        "identifier",
                        "status",
                        "intent",
                        "subject",
                        "medicationCodeableConcept",
                        "dosageInstruction",
                        "dispenseRequest",
                        "authoredOn",
                        "requester",
                        "0",
                        "1",
                        "value",
                        "coding",
                        "code",
                        "quantity",
                    ]
                ),
                min_size=1,
                max_size=4,
            ),
            value=json_values,
        )
        def post(path: list[str], value: Any) -> None:
            order = _order()
            order["identifier"][0]["value"] = f"FZF{next(_ids):06d}"
            node: Any = order
            for key in path[:-1]:
                nxt = (
                    node[int(key)]
                    if isinstance(node, list) and key.isdigit() and int(key) < len(node)
                    else (node.get(key) if isinstance(node, dict) else None)
                )
                if not isinstance(nxt, dict | list):
                    break
                node = nxt
            if isinstance(node, dict):
                node[path[-1]] = value
            _check(_post(http, json.dumps(order).encode()), f"{path}={value!r}")

        post()
    fuzz_hub.assert_serving()


def test_junk_bodies(fuzz_hub: FuzzHub) -> None:
    with fuzz_hub.client() as http:

        @FUZZ
        @given(body=st.binary(max_size=2000) | json_values.map(lambda v: json.dumps(v).encode()))
        def post(body: bytes) -> None:
            _check(_post(http, body), repr(body[:100]))

        post()
    fuzz_hub.assert_serving()


def test_deep_nesting_and_huge_arrays(fuzz_hub: FuzzHub) -> None:
    before = fuzz_hub.rss_kb()
    order = json.dumps(_order())
    bodies = {
        "nested lists 100k deep": b"[" * 100_000 + b"]" * 100_000,
        "nested objects 50k deep": b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
        "deep extension": order.replace(
            '"status"', '"extension":' + '[{"extension":' * 5000 + "[]" + "}]" * 5000 + ',"status"'
        ).encode(),
        "100k identifiers": order.replace('"identifier": [', '"identifier": [' + '{"value": "x"},' * 100_000).encode(),
        "1M-character text": order.replace('"Amoxicillin 500 MG Oral Capsule"', json.dumps("A" * 1_000_000)).encode(),
        "20 MB body": b'{"resourceType": "MedicationRequest", "note": "' + b"x" * 20_000_000 + b'"}',
    }
    with fuzz_hub.client() as http:
        for what, body in bodies.items():
            _check(_post(http, body), what)
    fuzz_hub.assert_serving()
    assert fuzz_hub.rss_kb() - before < 150_000, "memory not bounded after huge FHIR bodies"
