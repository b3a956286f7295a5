"""XXE and entity bombs refused by the SCRIPT door; SQL injection strings harmless; insecure settings refused."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import inspect

from hub.entrypoints.doors import check_posture
from hub.security.posture import InsecureConfiguration, check_broker_url, check_door
from tests.conftest import make_settings
from tests.security.http_app import App, http_app

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE Message [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<Message xmlns="http://www.ncpdp.org/schema/SCRIPT"><Header><MessageID>&secret;</MessageID></Header></Message>"""
LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<Message><Header><MessageID>&lol3;</MessageID></Header></Message>"""
INJECTIONS = [
    "' OR '1'='1",
    "1; DROP TABLE prescriptions; --",
    '" OR 1=1 --',
    "%' UNION SELECT token_hash FROM users --",
]


@pytest.fixture
def app(amqp_url: str, tmp_path: Path) -> Iterator[App]:
    settings = make_settings(amqp_url, f"sqlite:///{tmp_path / 'rxhub.sqlite3'}")
    with http_app(settings) as running:
        yield running


@pytest.mark.parametrize(
    "body",
    [XXE, LAUGHS, XXE.decode().replace('version="1.0"', 'version="1.0" encoding="UTF-16"').encode("utf-16")],
    ids=["xxe", "billion-laughs", "xxe-utf16"],
)
def test_the_script_door_refuses_entity_declarations(app: App, body: bytes) -> None:
    answer = app.client.post(
        "/script", content=body, headers={**app.as_role("feed"), "Content-Type": "application/xml"}
    )
    assert answer.status_code < 500
    assert b"<Code>900</Code>" in answer.content or b"900" in answer.content
    assert b"root:" not in answer.content and b"lollol" not in answer.content
    assert app.sink.envelopes == []


def test_sql_injection_strings_in_ids_and_query_parameters_are_just_strings(app: App) -> None:
    staff, admin = app.as_role("technician"), app.as_role("admin")
    for attack in INJECTIONS:
        assert app.client.get("/api/prescriptions", params={"rx_number": attack}, headers=staff).json() == []
        assert app.client.get("/api/prescriptions", params={"placer_order_number": attack}, headers=staff).json() == []
        assert app.client.get(f"/api/prescriptions/{attack}", headers=staff).status_code == 404
        assert app.client.get("/api/admin/messages", params={"control_id": attack}, headers=admin).json() == []
        assert (
            app.client.get("/api/admin/audit", params={"actor": attack, "patient_id": attack}, headers=admin).json()
            == []
        )
    tables = set(inspect(app.engine).get_table_names())
    assert {"prescriptions", "users", "audit_log"} <= tables
    assert app.client.get("/api/me", headers=staff).status_code == 200


def test_plain_tcp_only_on_loopback_unless_allowed() -> None:
    check_door("MLLP", "127.0.0.1", tls=False, allow_plaintext=False)
    check_door("MLLP", "0.0.0.0", tls=True, allow_plaintext=False)
    check_door("MLLP", "0.0.0.0", tls=False, allow_plaintext=True)
    with pytest.raises(InsecureConfiguration, match=r"MLLP would listen on 0\.0\.0\.0 without TLS"):
        check_door("MLLP", "0.0.0.0", tls=False, allow_plaintext=False)


@pytest.mark.parametrize(
    "url",
    [
        "amqp://guest:guest@rabbit.internal:5672/%2F",
        "amqps://rabbit.internal/%2F",
        "amqps://guest:s3cret-pw@rabbit.internal/%2F",
    ],
)
def test_guest_on_a_remote_broker_is_refused_without_printing_the_password(url: str) -> None:
    with pytest.raises(InsecureConfiguration) as refused:
        check_broker_url(url, allow_plaintext=False)
    assert "rabbit.internal" in str(refused.value) and "s3cret-pw" not in str(refused.value)


def test_a_remote_broker_needs_amqps_and_own_credentials() -> None:
    check_broker_url("amqp://guest:guest@127.0.0.1:5672/%2F", allow_plaintext=False)
    check_broker_url("amqps://rxhub-listener:pw@rabbit.internal/%2F", allow_plaintext=False)
    with pytest.raises(InsecureConfiguration, match="amqps"):
        check_broker_url("amqp://rxhub-listener:pw@rabbit.internal/%2F", allow_plaintext=False)


def test_the_doors_refuse_to_start_exposed(amqp_url: str, tmp_path: Path) -> None:
    settings = make_settings(amqp_url, f"sqlite:///{tmp_path / 'x.sqlite3'}", http_host="0.0.0.0")
    with pytest.raises(InsecureConfiguration, match=r"HTTP would listen on 0\.0\.0\.0"):
        check_posture(settings)
    remote = settings.model_copy(
        update={"http_host": "127.0.0.1", "amqp_url": SecretStr("amqp://guest:guest@10.1.2.3/%2F")}
    )
    with pytest.raises(InsecureConfiguration, match="guest"):
        check_posture(remote)
