"""Orders of two feeds for the search tests: feed A has three (two patients), feed B one under a placer
number feed A also uses, for the same patient as A's first two."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import httpx

from hub.persistence.users import UserStore
from tests.e2e.fhir.conftest import FhirHub
from tests.support.waiting import eventually
from tests.unit.fhir.builders import medication_request, patient, practitioner

PLACER = "urn:example:ehr"
MRN = "urn:example:mrn"


def _order(placer: str, *, mrn: str, family: str, birth: str, authored: date) -> dict[str, Any]:
    person = patient() | {
        "identifier": [{"system": MRN, "value": mrn}],
        "birthDate": birth,
        "name": [{"family": family, "given": ["Alex"]}],
    }
    return medication_request(
        identifier=[{"system": PLACER, "value": placer}],
        contained=[person, practitioner()],
        authoredOn=authored.isoformat(),
    )


@dataclass(frozen=True)
class SearchOrders:
    """What was posted and what the hub made of it: ids as the door hands them out."""

    other_token: str
    #: MedicationRequest ids by placer number (A-1, A-2, A-3 of feed A; B-1 of feed B)
    ids: dict[str, str]
    #: hub patient ids: ``p1`` (A-1, A-2, B-1), ``p2`` (A-3)
    patients: dict[str, str]
    #: authoredOn of A-1, A-2, A-3
    authored: dict[str, date]


def _posted(client: httpx.Client, body: dict[str, Any]) -> str:
    answer = client.post("/MedicationRequest", json=body)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def _recorded(client: httpx.Client, rid: str) -> dict[str, Any]:
    def read() -> dict[str, Any] | None:
        answer = client.get(f"/MedicationRequest/{rid}")
        return dict(answer.json()) if answer.status_code == 200 else None

    return eventually(read, f"MedicationRequest/{rid} recorded")


def seed(hub: FhirHub, prefix: str = "S") -> SearchOrders:
    """Post the orders of both feeds and wait until the pharmacy has recorded each."""
    _, other_token = UserStore(hub.ph.engine).add(f"other-feed-{prefix.lower()}", "feed")
    today = date.today()
    authored = {"A-1": today - timedelta(days=30), "A-2": today - timedelta(days=10), "A-3": today - timedelta(days=2)}
    p1 = {"mrn": f"{prefix}-MRN-1", "family": f"{prefix}searchone", "birth": "1970-05-06"}
    p2 = {"mrn": f"{prefix}-MRN-2", "family": f"{prefix}searchtwo", "birth": "1985-07-08"}
    ids: dict[str, str] = {}
    with hub.client() as feed_a, hub.client(other_token) as feed_b:
        for placer, person in (("A-1", p1), ("A-2", p1), ("A-3", p2)):
            ids[placer] = _posted(feed_a, _order(f"{prefix}{placer}", authored=authored[placer], **person))
        ids["B-1"] = _posted(feed_b, _order(f"{prefix}A-1", authored=authored["A-1"], **p1))
        views = {placer: _recorded(feed_a if placer != "B-1" else feed_b, rid) for placer, rid in ids.items()}
    subject = {placer: view["subject"]["reference"].removeprefix("Patient/") for placer, view in views.items()}
    assert subject["A-1"] == subject["A-2"] == subject["B-1"] != subject["A-3"], subject
    return SearchOrders(other_token, ids, {"p1": subject["A-1"], "p2": subject["A-3"]}, authored)
