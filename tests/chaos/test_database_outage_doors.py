"""Each door while the database refuses connections: a retryable standard answer, never a 500 or silence.

FHIR and SCRIPT senders need 503 (with Retry-After) to know a resend is safe; an MLLP sender needs an ACK
(AA once the broker confirmed, or AR 207 "resend later"), not a dropped answer it can only time out on.
The chaos run first found the HTTP doors answering 500 here (the token check did not translate the
database error); this guards the fix.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import psycopg
import pytest

from hub.entrypoints.inprocess import RunningHub, running_hub
from hub.entrypoints.mllp_client import MllpClient
from hub.persistence.users import UserStore
from tests.chaos.orders import ack_code, fhir_order, hl7_order
from tests.conftest import make_settings


@contextmanager
def _database_down(admin_url: str, database_url: str) -> Iterator[None]:
    name = database_url.rsplit("/", 1)[1]
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
        try:
            yield
        finally:
            conn.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')


@pytest.fixture
def hub_and_token(postgres_url: str, amqp_url: str) -> Iterator[tuple[RunningHub, str]]:
    settings = make_settings(amqp_url, postgres_url, default_bin="999001")
    with running_hub(settings, steps=["intake"]) as hub:
        yield hub, UserStore(hub.engine).add("outage-feed", "feed")[1]


@pytest.mark.postgres
def test_mllp_answers_while_the_database_is_down(
    hub_and_token: tuple[RunningHub, str], postgres_admin_url: str, postgres_url: str
) -> None:
    hub, _ = hub_and_token
    with (
        _database_down(postgres_admin_url, postgres_url),
        MllpClient("127.0.0.1", hub.mllp_port, timeout_s=15) as client,
    ):
        assert ack_code(client.send(hl7_order("DBDOWN-1", "DBDOWN1")), "DBDOWN-1") in ("AA", "AR")


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("path", "body", "media"),
    [
        ("/fhir/MedicationRequest", fhir_order("DBDOWN2"), "application/fhir+json"),
        ("/script", b"<Message/>", "application/xml"),
    ],
)
def test_http_doors_answer_503_while_the_database_is_down(
    hub_and_token: tuple[RunningHub, str],
    postgres_admin_url: str,
    postgres_url: str,
    path: str,
    body: bytes,
    media: str,
) -> None:
    hub, token = hub_and_token
    headers = {"Authorization": f"Bearer {token}", "Content-Type": media}
    with _database_down(postgres_admin_url, postgres_url):
        response = httpx.post(f"http://127.0.0.1:{hub.http_port}{path}", content=body, headers=headers, timeout=20)
    assert response.status_code == 503, f"{response.status_code}: {response.text[:200]}"
    assert response.headers.get("retry-after")
    if path.startswith("/fhir"):
        assert json.loads(response.content)["resourceType"] == "OperationOutcome"
