"""Orders racing under one placer identifier over real HTTP, on SQLite and PostgreSQL and across two hubs on one
database: of two different orders the first is accepted and the other refused at once (409, ``duplicate``);
a create, a transaction and a batch entry alike. An identical resend keeps getting its first answer."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, select

from hub.entrypoints.inprocess import running_hub
from hub.persistence.tables import inbound_messages
from hub.persistence.users import UserStore
from tests.conftest import make_settings
from tests.unit.fhir.builders import bundle_of, bundled_request, medication_request, patient, practitioner

PAIRS = 12


@dataclass(frozen=True)
class Write:
    """One kind of write: where it is posted and the body carrying an order under ``value`` with ``note``."""

    name: str
    path: str
    build: Callable[[str, str], dict[str, Any]]

    def body(self, value: str, note: str) -> dict[str, Any]:
        return self.build(value, note)

    def value(self, pair: int) -> str:
        return f"{self.name}-{pair:03d}"


@dataclass
class Doors:
    """Two FHIR bases (one hub twice, or two hubs on one database), a feed token and the database."""

    ports: tuple[int, int]
    token: str
    engine: Engine

    def client(self, which: int) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/fhir+json"}
        return httpx.Client(base_url=f"http://127.0.0.1:{self.ports[which]}/fhir", headers=headers, timeout=30)


@pytest.fixture
def one_hub(amqp_url: str, database_url: str) -> Iterator[Doors]:
    with running_hub(make_settings(amqp_url, database_url), with_workers=False) as hub:
        _, token = UserStore(hub.engine).add("ehr-feed", "feed")
        yield Doors((hub.http_port, hub.http_port), token, hub.engine)


@pytest.fixture
def two_hubs(amqp_url: str, postgres_url: str) -> Iterator[Doors]:
    settings = make_settings(amqp_url, postgres_url)
    with ExitStack() as stack:
        hubs = [stack.enter_context(running_hub(settings, with_workers=False)) for _ in range(2)]
        _, token = UserStore(hubs[0].engine).add("ehr-feed", "feed")
        doors = Doors((hubs[0].http_port, hubs[1].http_port), token, hubs[0].engine)
        _warm(doors)
        yield doors


def _warm(doors: Doors) -> None:
    """One write of each kind to each hub before the race: FastAPI builds a route's dependencies on its first
    request, and two apps doing so at once in one process can fail (500) before any hub code runs."""
    for which in (0, 1):
        with doors.client(which) as client:
            for write in (CREATE, TRANSACTION, BATCH):
                assert client.post(write.path, json=write.body(f"warm-{write.name}-{which}", "warm")).status_code < 300


def _identifier(value: str) -> list[dict[str, str]]:
    return [{"system": "urn:example:ehr", "value": value}]


def _bundled(kind: str) -> Callable[[str, str], dict[str, Any]]:
    def build(value: str, note: str) -> dict[str, Any]:
        order = bundled_request(identifier=_identifier(value), note=[{"text": note}])
        return bundle_of(kind, order, patient(), practitioner())

    return build


CREATE = Write(
    "create", "/MedicationRequest", lambda v, note: medication_request(identifier=_identifier(v), note=[{"text": note}])
)
TRANSACTION = Write("transaction", "", _bundled("transaction"))
BATCH = Write("batch", "", _bundled("batch"))


def _race(doors: Doors, write: Write) -> list[tuple[httpx.Response, httpx.Response]]:
    """Every pair's two orders ("first", "second") sent at the same moment, one to each base."""
    answers = []
    with doors.client(0) as one, doors.client(1) as two, ThreadPoolExecutor(2) as pool:
        for pair in range(PAIRS):
            start = threading.Barrier(2)

            def post(client: httpx.Client, note: str, pair: int = pair, start: threading.Barrier = start) -> Any:
                body = write.body(write.value(pair), note)
                start.wait()
                return client.post(write.path, json=body)

            first, second = pool.submit(post, one, "first"), pool.submit(post, two, "second")
            answers.append((first.result(), second.result()))
    return answers


def _issue_codes(outcome: dict[str, Any]) -> set[str]:
    return {issue["code"] for issue in outcome["issue"] if issue["severity"] in ("error", "fatal")}


def _accepted_rows(engine: Engine, value: str) -> list[bytes]:
    """The raw bodies recorded under an identifier: one message holds it, whichever won."""
    c = inbound_messages.c
    query = select(c.raw).where(c.door == "fhir", c.control_id == f"urn:example:ehr|{value}")
    with engine.connect() as conn:
        return [bytes(row.raw) for row in conn.execute(query)]


def _note(raw: bytes) -> str:
    resource = json.loads(raw)
    order = resource if resource["resourceType"] == "MedicationRequest" else resource["entry"][0]["resource"]
    return str(order["note"][0]["text"])


def _kept_note(doors: Doors, value: str) -> str:
    """The note of the one order kept under ``value`` (exactly one message holds the identifier)."""
    (raw,) = _accepted_rows(doors.engine, value)
    return _note(raw)


def _refused_as_duplicate(answer: httpx.Response, value: str) -> None:
    assert answer.status_code == 409, answer.text
    assert "duplicate" in _issue_codes(answer.json()) and value in answer.text, answer.text


def _winner(a: httpx.Response, b: httpx.Response, won: Callable[[httpx.Response], bool]) -> tuple[str, str]:
    """(note of the winner, note of the loser) of a pair whose first request carried "first"."""
    assert won(a) != won(b), (a.text, b.text)
    return ("first", "second") if won(a) else ("second", "first")


def _check_creates(doors: Doors) -> None:
    answers = _race(doors, CREATE)
    with doors.client(1) as again:
        for pair, (a, b) in enumerate(answers):
            value = CREATE.value(pair)
            kept, other = _winner(a, b, lambda r: r.status_code == 201)
            _refused_as_duplicate(b if kept == "first" else a, value)
            assert _kept_note(doors, value) == kept
            resent = again.post(CREATE.path, json=CREATE.body(value, kept))
            created = a if kept == "first" else b
            assert resent.status_code == 200 and resent.json()["id"] == created.json()["id"], resent.text
            _refused_as_duplicate(again.post(CREATE.path, json=CREATE.body(value, other)), value)


def _entry_status(answer: httpx.Response) -> str:
    return str(answer.json()["entry"][0]["response"]["status"])


def _check_transactions(doors: Doors) -> None:
    answers = _race(doors, TRANSACTION)
    with doors.client(0) as again:
        for pair, (a, b) in enumerate(answers):
            value = TRANSACTION.value(pair)
            kept, _ = _winner(a, b, lambda r: r.status_code == 200 and _entry_status(r) == "201 Created")
            _refused_as_duplicate(b if kept == "first" else a, value)
            assert _kept_note(doors, value) == kept
            resent = again.post("", json=TRANSACTION.body(value, kept))
            assert resent.status_code == 200 and _entry_status(resent) == "200 OK", resent.text
            _refused_as_duplicate(again.post("", json=TRANSACTION.body(value, "third")), value)


def _check_batches(doors: Doors) -> None:
    for pair, (a, b) in enumerate(_race(doors, BATCH)):
        value = BATCH.value(pair)
        assert a.status_code == b.status_code == 200, (a.text, b.text)
        kept, _ = _winner(a, b, lambda r: _entry_status(r) == "201 Created")
        loser = b if kept == "first" else a
        assert _entry_status(loser) == "409 Conflict", loser.text
        assert "duplicate" in _issue_codes(loser.json()["entry"][0]["response"]["outcome"]), loser.text
        assert _kept_note(doors, value) == kept


def test_of_two_racing_creates_the_first_is_kept(one_hub: Doors) -> None:
    _check_creates(one_hub)


def test_of_two_racing_transactions_the_first_is_kept(one_hub: Doors) -> None:
    _check_transactions(one_hub)


def test_of_two_racing_batch_entries_the_first_is_kept(one_hub: Doors) -> None:
    _check_batches(one_hub)


def test_two_hubs_on_one_database_keep_only_the_first(two_hubs: Doors) -> None:
    _check_creates(two_hubs)
    _check_transactions(two_hubs)
    _check_batches(two_hubs)
