"""Two different creates racing with one identifier: one is created (201), the other refused at once (409,
``duplicate``, naming the identifier), never answered 2xx with content the hub then drops; a resend of the
created one gets it again (200), a third order under the identifier is refused too."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.e2e.fhir.conftest import FhirHub
from tests.unit.fhir.builders import medication_request

PAIRS = 20


def _order(placer: str, note: str) -> dict[str, object]:
    return medication_request(identifier=[{"system": "urn:example:ehr", "value": placer}], note=[{"text": note}])


def test_of_two_racing_creates_one_is_created(fhir_hub: FhirHub) -> None:
    answers: list[tuple[httpx.Response, httpx.Response]] = []
    with fhir_hub.client() as one, fhir_hub.client() as two, ThreadPoolExecutor(2) as pool:
        for pair in range(PAIRS):
            start = threading.Barrier(2)

            def post(client: httpx.Client, body: dict[str, object], start: threading.Barrier = start) -> httpx.Response:
                start.wait()
                return client.post("/MedicationRequest", json=body)

            first = pool.submit(post, one, _order(f"RACE-{pair}", "first"))
            second = pool.submit(post, two, _order(f"RACE-{pair}", "second"))
            answers.append((first.result(), second.result()))
        for pair, (a, b) in enumerate(answers):
            assert sorted([a.status_code, b.status_code]) == [201, 409], (pair, a.text, b.text)
            created, refused = (a, b) if a.status_code == 201 else (b, a)
            _assert_duplicate(refused, f"RACE-{pair}")
            note = "first" if created is a else "second"
            again = one.post("/MedicationRequest", json=_order(f"RACE-{pair}", note))
            assert again.status_code == 200 and again.json()["id"] == created.json()["id"]
            _assert_duplicate(one.post("/MedicationRequest", json=_order(f"RACE-{pair}", "third")), f"RACE-{pair}")


def _assert_duplicate(answer: httpx.Response, placer: str) -> None:
    assert answer.status_code == 409, answer.text
    (issue,) = answer.json()["issue"]
    assert issue["code"] == "duplicate" and placer in issue["diagnostics"], answer.text
