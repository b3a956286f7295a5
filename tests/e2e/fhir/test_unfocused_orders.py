"""Issue 26, part 1: every MedicationRequest of an NHS EPS message is an order, named in focus or not.

The reported message carried two MedicationRequests of one prescription (two drugs, two item identifiers, one
groupIdentifier) while its MessageHeader.focus named only the first; the hub answered 200 and kept one. No
corpus sample is like that (each EPS send names all its items), so the test derives one from the real EPS
controlled-drug send (Morphine and Diazepam, one groupIdentifier) by removing the focus reference to the
second item, and sends it over real HTTP with httpx and with fhirpy (a client we did not write), on SQLite
and PostgreSQL: both items recorded, an issue per MedicationRequest, a resend maps to the same two orders.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fhirpy import SyncFHIRClient
from sqlalchemy import select

from hub.persistence.database import read_connection
from hub.persistence.tables import prescriptions
from hub.persistence.users import UserStore
from tests.conftest import make_settings
from tests.support.fhir_validator import FhirValidator, validating_hook
from tests.support.pharmacy import Pharmacy, pharmacy
from tests.unit.fhir.corpus import corpus_bytes

SAMPLE = "nhs_eps_r4_bundle_message_controlled_drug.json"
FHIR_JSON = "application/fhir+json"
_NOTE = re.compile(r"^MedicationRequest/([0-9a-f-]{36}): (accepted|already received)$")


def _second_item_unnamed() -> dict[str, Any]:
    """The EPS sample with MessageHeader.focus no longer naming the second MedicationRequest (entry 2)."""
    bundle: dict[str, Any] = json.loads(corpus_bytes(SAMPLE))
    header, second = bundle["entry"][0]["resource"], bundle["entry"][2]
    header["focus"] = [f for f in header["focus"] if f["reference"] != second["fullUrl"]]
    orders = [e for e in bundle["entry"] if e["resource"]["resourceType"] == "MedicationRequest"]
    named = [e for e in orders if any(f["reference"] == e["fullUrl"] for f in header["focus"])]
    assert (len(orders), len(named)) == (2, 1), "focus names fewer MedicationRequests than the Bundle holds"
    return bundle


def _items(bundle: dict[str, Any]) -> list[str]:
    """The EPS line item identifiers (prescription-order-item-number), in entry order."""
    return [
        e["resource"]["identifier"][0]["value"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "MedicationRequest"
    ]


def _notes(reply: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(entry expression, MedicationRequest id, what happened) of each issue of an ok reply message."""
    header, outcome = (e["resource"] for e in reply["entry"])
    assert header["response"]["code"] == "ok", reply
    found = []
    for issue in outcome["issue"]:
        match = _NOTE.match(issue["diagnostics"])
        assert match is not None and issue["severity"] == "information", issue
        found.append((issue["expression"][0], match.group(1), match.group(2)))
    return found


def _recorded(ph: Pharmacy, placers: list[str], timeout_s: float = 30) -> dict[str, str]:
    """placer number -> correlation id of the orders recorded under these placer numbers, once all are."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with read_connection(ph.engine) as conn:
            rows = conn.execute(
                select(prescriptions.c.placer_order_number, prescriptions.c.correlation_id).where(
                    prescriptions.c.placer_order_number.in_(placers)
                )
            ).all()
        if len(rows) >= len(placers):
            return {r.placer_order_number: r.correlation_id for r in rows}
        time.sleep(0.05)
    raise AssertionError(f"never recorded: {placers}")


@pytest.fixture
def hub(amqp_url: str, database_url: str) -> Iterator[tuple[Pharmacy, str]]:
    settings = make_settings(amqp_url, database_url, default_bin="999001", default_pcn="RXHUB", default_group="GRP1")
    with pharmacy(settings) as ph:
        _, token = UserStore(ph.engine).add("eps-feed", "feed")
        yield ph, token


def test_every_item_of_an_eps_message_is_an_order_when_focus_names_only_the_first(
    hub: tuple[Pharmacy, str], caplog: pytest.LogCaptureFixture, fhir_validator: FhirValidator
) -> None:
    ph, token = hub
    bundle = _second_item_unnamed()
    base = f"http://127.0.0.1:{ph.hub.http_port}/fhir"
    headers = {"Authorization": f"Bearer {token}", "Content-Type": FHIR_JSON, "Accept": FHIR_JSON}
    with (
        caplog.at_level(logging.WARNING, logger="adapters.fhir.bundles"),
        httpx.Client(
            base_url=base, headers=headers, timeout=30, event_hooks={"response": [validating_hook(fhir_validator)]}
        ) as client,
    ):
        first = client.post("/$process-message", content=json.dumps(bundle))
    assert first.status_code == 200, first.text
    notes = _notes(first.json())
    assert [(where, what) for where, _, what in notes] == [
        ("Bundle.entry[1].resource", "accepted"),
        ("Bundle.entry[2].resource", "accepted"),
    ]
    assert "message Bundle entry 2: a MedicationRequest that MessageHeader.focus does not name" in caplog.text
    assert "AKRASI" not in caplog.text and "9449303703" not in caplog.text, "no patient data logged"

    recorded = _recorded(ph, _items(bundle))
    assert sorted(recorded.values()) == sorted(rid for _, rid, _ in notes), "two items, two orders"

    fhir = SyncFHIRClient(base, authorization=f"Bearer {token}")
    again = fhir.execute("$process-message", method="post", data=bundle)
    assert [(where, rid, what) for where, rid, what in _notes(again)] == [
        (where, rid, "already received") for where, rid, _ in notes
    ], "a resend maps to the same two orders"
    read = [fhir.reference("MedicationRequest", rid).to_resource() for _, rid, _ in notes]
    for resource in (again, *read):
        fhir_validator.assert_valid(resource.serialize() if hasattr(resource, "serialize") else resource, "fhirpy")
    assert [r["status"] for r in read] == ["active", "active"]
    assert [r["identifier"][0]["value"] for r in read] == _items(bundle)
    assert len(_recorded(ph, _items(bundle))) == 2, "nothing more was recorded"
