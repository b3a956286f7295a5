"""The SCRIPT connector against a local network simulator over real HTTPS with client certificates (#29)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from adapters.ncpdp.script.network_simulator import NetworkBehaviour, ScriptNetworkSimulator
from hub.config import Settings
from hub.entrypoints.runtime import topology_for
from hub.messaging.dead_letters import DeadLetterQueue
from hub.security.certs import DevCertificates, write_dev_certificates
from tests.integration.script_network.network import RunningConnector, endpoints_file, publish_renewal
from tests.support.waiting import eventually

TOKEN = "network-token-1"


@pytest.fixture
def pki(tmp_path: Path) -> DevCertificates:
    return write_dev_certificates(tmp_path / "pki", clients=("rxhub-pharmacy",))


@pytest.fixture
def token_file(tmp_path: Path) -> Path:
    path = tmp_path / "token"
    path.write_text(TOKEN + "\n")
    return path


def simulator(pki: DevCertificates, port: int = 0, **behaviour: object) -> ScriptNetworkSimulator:
    """A simulator that wants our client certificate and bearer token."""
    wanted = NetworkBehaviour(authorization=f"Bearer {TOKEN}", **behaviour)  # type: ignore[arg-type]
    return ScriptNetworkSimulator(
        port, behaviour=wanted, cert=pki.server_cert, key=pki.server_key, client_ca=pki.ca
    ).start()


def endpoint(tmp_path: Path, pki: DevCertificates, token_file: Path, port: int, *, cert: bool = True, **extra: object):  # type: ignore[no-untyped-def]
    client_cert, client_key = pki.clients["rxhub-pharmacy"]
    tls = {"cert_file": client_cert, "key_file": client_key} if cert else {}
    return endpoints_file(
        tmp_path,
        url=f"https://localhost:{port}/script",
        ca_file=pki.ca,
        auth="bearer",
        token_file=token_file,
        **tls,
        **extra,
    )


@pytest.fixture
def connector_for(settings: Settings) -> Iterator:  # type: ignore[type-arg]
    running: list[RunningConnector] = []

    def start(endpoints):  # type: ignore[no-untyped-def]
        running.append(RunningConnector(settings.amqp_url.get_secret_value(), topology_for(settings), endpoints))
        return running[-1]

    yield start
    for connector in running:
        connector.close()


def _dead_letters(settings: Settings) -> DeadLetterQueue:
    return DeadLetterQueue(settings.amqp_url.get_secret_value(), topology_for(settings))


def _metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_a_renewal_request_is_delivered_with_our_certificate_and_token(
    settings, pki, token_file, tmp_path, connector_for
) -> None:  # type: ignore[no-untyped-def]
    network = simulator(pki)
    before = _metric("rxhub_outbound_messages_total", destination="script:surescripts-sim", outcome="delivered")
    try:
        connector = connector_for(endpoint(tmp_path, pki, token_file, network.port))
        publish_renewal(settings.amqp_url.get_secret_value(), topology_for(settings), "RENEW-1")
        got = eventually(lambda: network.delivered("RxRenewalRequest") or None, "the renewal reached the network")
        assert [r.message_id for r in got] == ["RENEW-1"]
        assert got[0].client_cn == "rxhub-pharmacy"
        assert got[0].authorization == f"Bearer {TOKEN}"
        assert got[0].to == "9988776655001"
        eventually(lambda: connector.state.snapshot().get("delivered"), "the connector settled it")
        assert (
            _metric("rxhub_outbound_messages_total", destination="script:surescripts-sim", outcome="delivered")
            == before + 1
        )
        assert _dead_letters(settings).depth() == 0
    finally:
        network.stop()


def test_a_verify_answer_is_delivered_and_confirmed(settings, pki, token_file, tmp_path, connector_for) -> None:  # type: ignore[no-untyped-def]
    network = simulator(pki, default="verify")
    try:
        connector = connector_for(endpoint(tmp_path, pki, token_file, network.port))
        publish_renewal(settings.amqp_url.get_secret_value(), topology_for(settings), "RENEW-V")
        eventually(lambda: connector.state.snapshot().get("confirmed"), "the Verify was taken as confirmed")
        assert [r.message_id for r in network.received] == ["RENEW-V"]
        assert _dead_letters(settings).depth() == 0
    finally:
        network.stop()


def test_a_network_error_is_dead_lettered_with_its_reason_and_replays(
    settings, pki, token_file, tmp_path, connector_for
) -> None:  # type: ignore[no-untyped-def]
    network = simulator(pki, default="error:900:Prescriber not found in directory")
    url = settings.amqp_url.get_secret_value()
    try:
        connector = connector_for(endpoint(tmp_path, pki, token_file, network.port))
        publish_renewal(url, topology_for(settings), "RENEW-E")
        letters = eventually(lambda: _dead_letters(settings).list() or None, "the refused renewal dead-lettered")
        assert [(d.message_id, d.failure_kind) for d in letters] == [("RENEW-E", "validation")]
        assert "Error 900" in letters[0].error and "Prescriber not found" in letters[0].error
        assert len(network.received) == 1  # refused once, not retried
        # the directory is fixed: an operator replays it and it goes through
        network.behaviour.default = "status:010"
        assert [d.message_id for d in _dead_letters(settings).replay()] == ["RENEW-E"]
        eventually(lambda: network.delivered() or None, "the replayed renewal was delivered")
        eventually(lambda: connector.state.snapshot().get("delivered"), "the connector settled the replay")
        assert [r.message_id for r in network.received] == ["RENEW-E", "RENEW-E"]
        assert _dead_letters(settings).depth() == 0
    finally:
        network.stop()


def test_a_network_that_is_down_gets_everything_once_when_it_comes_up(
    settings, pki, token_file, tmp_path, connector_for
) -> None:  # type: ignore[no-untyped-def]
    port = _free_port()
    connector = connector_for(endpoint(tmp_path, pki, token_file, port))
    url = settings.amqp_url.get_secret_value()
    for n in range(3):
        publish_renewal(url, topology_for(settings), f"RENEW-D{n}")
    eventually(lambda: connector.state.snapshot()["attempts"] >= 2 or None, "delivery failed while down")
    assert "ConnectError" in (connector.state.snapshot()["last_error"] or "")
    network = simulator(pki, port)
    try:
        eventually(lambda: len(network.delivered()) == 3 or None, "all three delivered once the network is up")
        assert [r.message_id for r in network.received] == ["RENEW-D0", "RENEW-D1", "RENEW-D2"]
        eventually(lambda: connector.state.snapshot().get("delivered") == 3 or None, "all three acked")
        assert _dead_letters(settings).depth() == 0
    finally:
        network.stop()


def test_http_503_is_retried_then_delivered(settings, pki, token_file, tmp_path, connector_for) -> None:  # type: ignore[no-untyped-def]
    from collections import deque

    network = simulator(pki, scripted=deque(["http:503", "error:600:try later", "status:000"]))
    try:
        connector = connector_for(endpoint(tmp_path, pki, token_file, network.port))
        publish_renewal(settings.amqp_url.get_secret_value(), topology_for(settings), "RENEW-R")
        eventually(lambda: connector.state.snapshot().get("delivered"), "delivered after two retries")
        assert [r.answer for r in network.received] == ["http:503", "error:600:try later", "status:000"]
        assert _dead_letters(settings).depth() == 0
    finally:
        network.stop()


def test_without_a_client_certificate_nothing_gets_in_and_it_is_dead_lettered(
    settings, pki, token_file, tmp_path, connector_for
) -> None:  # type: ignore[no-untyped-def]
    network = simulator(pki)
    try:
        connector_for(endpoint(tmp_path, pki, token_file, network.port, cert=False, max_attempts=2))
        publish_renewal(settings.amqp_url.get_secret_value(), topology_for(settings), "RENEW-NC")
        letters = eventually(lambda: _dead_letters(settings).list() or None, "given up after two attempts")
        assert [(d.message_id, d.failure_kind) for d in letters] == [("RENEW-NC", "transient_exhausted")]
        assert "2 attempts" in letters[0].error
        assert network.received == []
    finally:
        network.stop()


def test_a_recipient_no_endpoint_serves_is_dead_lettered(settings, pki, token_file, tmp_path, connector_for) -> None:  # type: ignore[no-untyped-def]
    network = simulator(pki)
    try:
        connector_for(endpoint(tmp_path, pki, token_file, network.port, addresses=["D:1111111111111"]))
        publish_renewal(settings.amqp_url.get_secret_value(), topology_for(settings), "RENEW-U")
        letters = eventually(lambda: _dead_letters(settings).list() or None, "the unroutable renewal")
        assert "no SCRIPT network endpoint serves 'D:9988776655001'" in letters[0].error
        assert network.received == []
    finally:
        network.stop()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_readiness_counts_the_connector_once_configured(settings, pki, token_file, tmp_path, connector_for) -> None:  # type: ignore[no-untyped-def]
    from adapters.ncpdp.script.outbound_topology import ScriptOutTopology
    from hub.messaging.consumer_counts import StepConsumers

    script = ScriptOutTopology.of(topology_for(settings))
    url = settings.amqp_url.get_secret_value()
    publish_renewal(url, topology_for(settings), "RENEW-READY")  # declares script-out, nobody consuming yet
    before = StepConsumers(url, script, ttl_s=0, also=(script.script_out_queue,)).without_consumers()
    assert before is not None and script.script_out_queue in before
    network = simulator(pki)
    try:
        connector_for(endpoint(tmp_path, pki, token_file, network.port))
        after = StepConsumers(url, script, ttl_s=0, also=(script.script_out_queue,)).without_consumers()
        assert after is not None and script.script_out_queue not in after
        eventually(lambda: network.delivered() or None, "the waiting renewal goes once the connector runs")
    finally:
        network.stop()


def test_outbound_status_shows_the_connector_its_backlog_and_dead_letters(
    settings, pki, token_file, tmp_path, connector_for
) -> None:  # type: ignore[no-untyped-def]
    import os
    import subprocess
    import sys

    network = simulator(pki, default="error:900:Prescriber not found")
    endpoints = endpoint(tmp_path, pki, token_file, network.port)
    url = settings.amqp_url.get_secret_value()
    env = {
        **os.environ,
        "RXHUB_AMQP_URL": url,
        "RXHUB_BROKER_PREFIX": settings.broker_prefix,
        "RXHUB_DATABASE_URL": settings.database_url.get_secret_value(),
        "RXHUB_SCRIPT_NETWORK": str(tmp_path / "script-network.json"),
    }

    def status() -> str:
        ran = subprocess.run(
            [sys.executable, "-m", "hub.entrypoints.cli", "outbound", "status"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        return next(line for line in ran.stdout.splitlines() if line.startswith("script connector"))

    try:
        publish_renewal(url, topology_for(settings), "RENEW-S1")
        waiting = status()
        connector_for(endpoints)
        eventually(lambda: _dead_letters(settings).list() or None, "the refused renewal is dead-lettered")
        settled = status()
    finally:
        network.stop()
    assert "NOT RUNNING" in waiting and "backlog=1 " in waiting and "endpoints=surescripts-sim" in waiting
    assert " running " in settled and "backlog=0 " in settled and "dead-lettered=1 " in settled
