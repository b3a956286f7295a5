"""FHIR search over HTTP (issue 30, 1): MedicationRequest, MedicationDispense and Patient searches, paging,
POST _search, self links and unknown parameters, each scoped to the feed that sent the orders."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from hub.persistence.audit import AuditTrail
from tests.e2e.fhir.conftest import FhirHub, issues
from tests.e2e.fhir.search_data import MRN, PLACER, SearchOrders, seed
from tests.support.waiting import eventually

STRICT = {"Prefer": "handling=strict"}


@pytest.fixture(scope="module")
def orders(fhir_hub: FhirHub) -> SearchOrders:
    return seed(fhir_hub)


@pytest.fixture
def feed_a(fhir_hub: FhirHub) -> Iterator[httpx.Client]:
    with fhir_hub.client() as client:
        yield client


@pytest.fixture
def feed_b(fhir_hub: FhirHub, orders: SearchOrders) -> Iterator[httpx.Client]:
    with fhir_hub.client(orders.other_token) as client:
        yield client


def _found(client: httpx.Client, path: str, params: Any = None, **kwargs: Any) -> list[str]:
    answer = client.get(path, params=params, **kwargs)
    assert answer.status_code == 200, answer.text
    bundle = answer.json()
    entries = bundle.get("entry", [])  # R4 JSON: no empty arrays, so no entry when nothing matched
    assert bundle["type"] == "searchset" and bundle["total"] == len(entries), bundle
    assert all(e["search"]["mode"] == "match" for e in entries)
    return [e["resource"]["id"] for e in entries]


def test_medication_request_by_identifier_is_scoped_to_the_sender(
    orders: SearchOrders, feed_a: httpx.Client, feed_b: httpx.Client
) -> None:
    ids = orders.ids
    assert _found(feed_a, "/MedicationRequest", {"identifier": f"{PLACER}|SA-1"}) == [ids["A-1"]]
    assert _found(feed_a, "/MedicationRequest", {"identifier": "SA-1"}) == [ids["A-1"]]
    assert _found(feed_a, "/MedicationRequest", {"identifier": "|SA-1"}) == []  # it has a system
    assert _found(feed_a, "/MedicationRequest", {"identifier": "urn:other|SA-1"}) == []
    either = {"identifier": f"{PLACER}|SA-2,{PLACER}|SA-3"}
    assert _found(feed_a, "/MedicationRequest", either) == [ids["A-2"], ids["A-3"]]
    # feed B sent an order under the same number: each feed finds its own only, never the other's
    assert _found(feed_b, "/MedicationRequest", {"identifier": f"{PLACER}|SA-1"}) == [ids["B-1"]]
    assert _found(feed_b, "/MedicationRequest", {"identifier": f"{PLACER}|SA-2"}) == []
    assert _found(feed_b, "/MedicationRequest", {"_id": ids["A-2"]}) == []
    assert _found(feed_b, "/MedicationRequest") == [ids["B-1"]]
    assert _found(feed_b, "/MedicationDispense", {"prescription": f"MedicationRequest/{ids['A-1']}"}) == []


def test_medication_request_by_patient_status_intent_and_date(orders: SearchOrders, feed_a: httpx.Client) -> None:
    ids, p1, when = orders.ids, f"Patient/{orders.patients['p1']}", orders.authored
    assert _found(feed_a, "/MedicationRequest", {"patient": p1}) == [ids["A-1"], ids["A-2"]]
    assert _found(feed_a, "/MedicationRequest", {"patient": orders.patients["p2"]}) == [ids["A-3"]]
    assert _found(feed_a, "/MedicationRequest", {"subject": p1}) == [ids["A-1"], ids["A-2"]]
    assert _found(feed_a, "/MedicationRequest", [("subject", p1), ("patient", orders.patients["p2"])]) == []
    assert _found(feed_a, "/MedicationRequest", {"patient": p1, "intent": "order"}) == [ids["A-1"], ids["A-2"]]
    assert _found(feed_a, "/MedicationRequest", {"patient": p1, "intent": "plan"}) == []
    assert _found(feed_a, "/MedicationRequest", {"patient": p1, "status": "active,on-hold"}) == [ids["A-1"], ids["A-2"]]
    assert _found(feed_a, "/MedicationRequest", {"patient": p1, "status": "cancelled"}) == []
    a2 = when["A-2"].isoformat()
    assert _found(feed_a, "/MedicationRequest", {"authoredon": f"ge{a2}"}) == [ids["A-2"], ids["A-3"]]
    assert _found(feed_a, "/MedicationRequest", {"authoredon": f"gt{a2}"}) == [ids["A-3"]]
    assert _found(feed_a, "/MedicationRequest", {"authoredon": f"lt{a2}"}) == [ids["A-1"]]
    assert _found(feed_a, "/MedicationRequest", {"authoredon": f"le{a2}"}) == [ids["A-1"], ids["A-2"]]
    assert _found(feed_a, "/MedicationRequest", {"authoredon": a2}) == [ids["A-2"]]
    assert _found(feed_a, "/MedicationRequest", {"authoredon": f"eq{a2}"}) == [ids["A-2"]]
    both = [("authoredon", f"ge{when['A-1'].isoformat()}"), ("authoredon", f"lt{when['A-3'].isoformat()}")]
    assert _found(feed_a, "/MedicationRequest", both) == [ids["A-1"], ids["A-2"]]
    bad = feed_a.get("/MedicationRequest", params={"authoredon": "ge-yesterday"})
    assert bad.status_code == 400 and issues(bad.json())[0][1] == "invalid"


def test_paging_is_stable_and_links_echo_only_what_was_applied(
    fhir_hub: FhirHub, orders: SearchOrders, feed_a: httpx.Client
) -> None:
    first = feed_a.get("/MedicationRequest", params={"_count": "2", "ignored-thing": "x", "intent": "order"})
    bundle = first.json()
    assert bundle["total"] == 3 and len(bundle["entry"]) == 2
    links = {link["relation"]: link["url"] for link in bundle["link"]}
    assert links["self"] == f"{fhir_hub.base}/MedicationRequest?intent=order&_count=2"
    assert "previous" not in links and "ignored-thing" not in links["next"]
    second = feed_a.get(links["next"]).json()
    assert [e["resource"]["id"] for e in second["entry"]] == [orders.ids["A-3"]]
    second_links = {link["relation"]: link["url"] for link in second["link"]}
    assert "next" not in second_links and second_links["previous"] == links["self"]
    pages = [e["resource"]["id"] for e in bundle["entry"] + second["entry"]]
    assert pages == [orders.ids["A-1"], orders.ids["A-2"], orders.ids["A-3"]]
    assert feed_a.get(links["next"]).json() == second  # the same page again

    strict = feed_a.get("/MedicationRequest", params={"ignored-thing": "x"}, headers=STRICT)
    assert strict.status_code == 400 and issues(strict.json()) == [("error", "invalid", ["ignored-thing"])]
    lenient = feed_a.get(
        "/MedicationRequest", params={"identifier": "SA-1", "code:text": "x"}, headers={"Prefer": "handling=lenient"}
    )
    assert lenient.status_code == 200 and lenient.json()["link"][0]["url"].endswith("?identifier=SA-1")


def test_post_search_takes_a_form(orders: SearchOrders, feed_a: httpx.Client) -> None:
    form = {"patient": f"Patient/{orders.patients['p1']}", "_count": "1"}
    answer = feed_a.post(
        "/MedicationRequest/_search", data=form, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["total"] == 2 and [e["resource"]["id"] for e in answer.json()["entry"]] == [orders.ids["A-1"]]
    as_json = feed_a.post("/Patient/_search", json={"family": "x"})
    assert as_json.status_code == 415


def test_dispense_and_patient_searches(orders: SearchOrders, feed_a: httpx.Client, feed_b: httpx.Client) -> None:
    p1, p2 = orders.patients["p1"], orders.patients["p2"]
    dispenses = _found(feed_a, "/MedicationDispense", {"patient": f"Patient/{p1}"})
    assert sorted(dispenses) == sorted(f"{orders.ids[p]}-0" for p in ("A-1", "A-2"))
    assert _found(feed_a, "/MedicationDispense", {"patient": p1, "status": "completed"}) == []
    statuses = ("preparation", "in-progress", "cancelled", "on-hold", "declined", "completed")
    by_status = {s: _found(feed_a, "/MedicationDispense", {"patient": p1, "status": s}) for s in statuses}
    assert sorted(i for found in by_status.values() for i in found) == sorted(dispenses), by_status
    assert _found(feed_a, "/MedicationDispense", {"patient": p1, "whenhandedover": "ge2000"}) == []

    assert _found(feed_a, "/Patient", {"identifier": f"{MRN}|S-MRN-1"}) == [p1]
    assert _found(feed_a, "/Patient", {"name": "ssearch"}) == [p1, p2]
    assert _found(feed_a, "/Patient", {"family": "SSEARCHTWO"}) == [p2]
    assert _found(feed_a, "/Patient", {"given": "alex", "birthdate": "1970-05-06"}) == [p1]
    assert _found(feed_a, "/Patient", {"birthdate": "lt1980"}) == [p1]
    # feed B sent an order for p1 only: it finds p1, never p2
    assert _found(feed_b, "/Patient", {"name": "ssearch"}) == [p1]
    assert _found(feed_b, "/Patient", {"identifier": f"{MRN}|S-MRN-2"}) == []


def test_searches_are_audited_like_reads(fhir_hub: FhirHub, orders: SearchOrders, feed_b: httpx.Client) -> None:
    assert _found(feed_b, "/Patient", {"family": "ssearchone"}) == [orders.patients["p1"]]
    posted = feed_b.post(
        "/MedicationRequest/_search",
        data={"identifier": "SA-1"},
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert posted.status_code == 200

    def audited() -> list[tuple[str, str]] | None:
        entries = [
            (e.detail["path"], e.detail["query"])
            for e in AuditTrail(fhir_hub.ph.engine).query(limit=5000)
            if e.actor == "other-feed-s" and e.action.startswith("read FHIR")
        ]
        return entries if len(entries) >= 2 else None

    entries = eventually(audited, "searches audited")
    assert ("/fhir/Patient", "family=ssearchone") in entries
    assert ("/fhir/MedicationRequest/_search", "") in entries


def test_capability_statement_declares_exactly_the_search_parameters(feed_a: httpx.Client) -> None:
    statement = feed_a.get("/metadata").json()
    samples = {"token": "x", "reference": "Patient/x", "string": "x", "date": "ge2020"}
    for resource in statement["rest"][0]["resource"]:
        if not any(i["code"] == "search-type" for i in resource["interaction"]):
            continue
        if resource["type"] == "AuditEvent":  # admins only: tests/e2e/fhir/test_audit_events_over_http.py
            continue
        for param in resource["searchParam"]:
            answer = feed_a.get(f"/{resource['type']}", params={param["name"]: samples[param["type"]]}, headers=STRICT)
            assert answer.status_code == 200, (resource["type"], param, answer.text)
        undeclared = feed_a.get(f"/{resource['type']}", params={"code": "x"}, headers=STRICT)
        assert undeclared.status_code == 400, resource["type"]
