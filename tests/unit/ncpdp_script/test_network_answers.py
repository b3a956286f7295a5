"""What a SCRIPT network's answer means, the endpoints file, and the simulator's own checks (#29)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from adapters.ncpdp.script.answers import error_response, status_response
from adapters.ncpdp.script.message import read_message
from adapters.ncpdp.script.network_answers import judge_answer
from adapters.ncpdp.script.network_config import endpoint_for, load_script_network
from adapters.ncpdp.script.network_simulator import NetworkBehaviour, ScriptNetworkSimulator
from hub.messaging.held_delivery import Outcome
from hub.messaging.https_endpoints import EndpointConfigError
from tests.integration.script_network.network import renewal_body
from tests.unit.ncpdp_script.samples import NEWRX_2017071_FULL

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
OURS = read_message(renewal_body("OUR-1")).header


def _status(code: str) -> bytes:
    return status_response(OURS, code, message_id="NET-1", now=NOW)


def _error(code: str, text: str = "Prescriber unknown") -> bytes:
    return error_response(OURS, code, "1000", text, message_id="NET-2", now=NOW)


@pytest.mark.parametrize(
    ("status", "body", "outcome", "text"),
    [
        (200, _status("010"), Outcome.DELIVERED, "Status 010"),
        (200, _status("000"), Outcome.DELIVERED, "Status 000"),
        (200, _status("001"), Outcome.RETRY, "Status 001"),
        (200, _error("900"), Outcome.REFUSED, "Error 900 1000: Prescriber unknown"),
        (200, _error("602"), Outcome.REFUSED, "Error 602"),
        (200, _error("600", "try again"), Outcome.RETRY, "Error 600"),
        (503, b"down for maintenance", Outcome.RETRY, "HTTP 503 down for maintenance"),
        (429, b"", Outcome.RETRY, "HTTP 429"),
        (401, b"who are you", Outcome.REFUSED, "HTTP 401 who are you"),
        (200, b"<html>proxy error</html>", Outcome.RETRY, "unreadable answer"),
        (200, NEWRX_2017071_FULL, Outcome.RETRY, "not Status/Error/Verify"),
    ],
)
def test_each_answer_settles_or_retries(status: int, body: bytes, outcome: Outcome, text: str) -> None:
    answer = judge_answer(status, body, "OUR-1")
    assert answer.outcome is outcome
    assert text in answer.text()


def test_an_answer_to_another_message_is_not_taken_for_ours() -> None:
    answer = judge_answer(200, _status("010"), "SOMEONE-ELSES")
    assert answer.outcome is Outcome.RETRY and "relates to OUR-1" in answer.text()


def _write(tmp_path: Path, *endpoints: dict[str, object]) -> Path:
    path = tmp_path / "network.json"
    path.write_text(json.dumps({"endpoints": list(endpoints)}))
    return path


def test_endpoints_route_by_recipient_and_read_secrets_from_files(tmp_path: Path) -> None:
    (tmp_path / "token").write_text("t0ken\n")
    path = _write(
        tmp_path,
        {
            "name": "west",
            "url": "https://west.example/script",
            "addresses": ["D:111"],
            "auth": "bearer",
            "token_file": str(tmp_path / "token"),
        },
        {"name": "rest", "url": "https://rest.example/script"},
    )
    endpoints = load_script_network(path)
    assert [endpoint_for(endpoints, to).name for to in ("D:111", "D:222")] == ["west", "rest"]  # type: ignore[union-attr]
    assert endpoints[0].authorization() == "Bearer t0ken"


@pytest.mark.parametrize(
    ("endpoint", "says"),
    [
        ({"name": "a", "url": "http://plain.example", "auth": "bearer", "token_file": "/x"}, "only sent over https"),
        ({"name": "a", "url": "https://x.example", "auth": "basic", "username": "u"}, "basic auth needs"),
        ({"name": "a", "url": "https://x.example", "cert_file": "/c.pem"}, "go together"),
        (
            {"name": "a", "url": "https://x.example", "auth": "bearer", "token_file": "/no/such/token"},
            "cannot read endpoint secret",
        ),
        ({"name": "Bad Name", "url": "https://x.example"}, "invalid endpoint"),
    ],
)
def test_a_bad_endpoints_file_stops_the_start_with_one_error(
    tmp_path: Path, endpoint: dict[str, object], says: str
) -> None:
    with pytest.raises(EndpointConfigError, match=says):
        load_script_network(_write(tmp_path, endpoint))


def test_the_simulator_refuses_what_a_pharmacy_does_not_send_and_unreadable_xml() -> None:
    network = ScriptNetworkSimulator(behaviour=NetworkBehaviour(default="status:010")).start()
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{network.port}", timeout=10) as http:
            new_rx = read_message(http.post("/script", content=NEWRX_2017071_FULL).content)
            garbage = read_message(http.post("/script", content=b"<not-script/>").content)
            renewal = read_message(http.post("/script", content=renewal_body("OUR-9")).content)
    finally:
        network.stop()
    assert (new_rx.kind, new_rx.body.text_at("Code")) == ("Error", "900")
    assert (garbage.kind, garbage.body.text_at("Code")) == ("Error", "900")
    assert (renewal.kind, renewal.body.text_at("Code"), renewal.header.relates_to_message_id) == (
        "Status",
        "010",
        "OUR-9",
    )
    assert [r.kind for r in network.delivered()] == ["RxRenewalRequest"]
