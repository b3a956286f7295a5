"""A list of broker nodes with one dead: every connection the hub opens gets through, and says so quietly."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from hub.config import Settings
from hub.entrypoints.inprocess import running_hub
from hub.entrypoints.mllp_client import MllpClient
from hub.errors import BrokerNodesUnreachable
from hub.messaging import broker_nodes
from hub.messaging.async_publisher import AsyncConfirmingPublisher
from hub.messaging.blocking_publisher import connect
from hub.messaging.topology import Topology
from hub.observability.metrics import BROKER_CONNECTION_FAILURES
from tests.conftest import make_settings
from tests.support.events import EventSubscriber
from tests.support.processes import free_port

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "hl7" / "01_rde_o11_retail_amoxicillin.hl7"


def _dead(amqp_url: str) -> tuple[str, str]:
    """The URL of a node that is down (a closed port on this machine) and its label."""
    port = free_port()
    return amqp_url.replace("127.0.0.1:5672", f"127.0.0.1:{port}"), f"127.0.0.1:{port}"


def _failures(label: str) -> float:
    return BROKER_CONNECTION_FAILURES.labels(label)._value.get()


@pytest.fixture
def in_given_order(monkeypatch: pytest.MonkeyPatch) -> None:
    """The nodes in the order the setting lists them, so each test decides which one comes first."""
    monkeypatch.setattr(broker_nodes.random, "shuffle", lambda _nodes: None)


@pytest.mark.parametrize("dead_first", [True, False])
def test_an_order_flows_with_a_dead_node_listed(
    amqp_url: str, sqlite_url: str, in_given_order: None, dead_first: bool
) -> None:
    dead, label = _dead(amqp_url)
    spec = f"{dead},{amqp_url}" if dead_first else f"{amqp_url} {dead}"
    settings = make_settings(spec, sqlite_url)
    before = _failures(label)
    with running_hub(settings) as hub, MllpClient("127.0.0.1", hub.mllp_port) as client:
        sub = EventSubscriber(amqp_url, Topology(settings.broker_prefix).events_exchange, "prescription.received")
        try:
            assert b"MSA|AA" in client.send(SAMPLE.read_bytes())
            sub.collect(lambda events: any(e["data"]["placer_order_number"] == "PLC1001" for e in events))
        finally:
            sub.close()
    assert (_failures(label) > before) is dead_first  # the dead node was tried only when it came first


def test_failures_are_logged_once_per_node_and_counted(
    amqp_url: str, in_given_order: None, caplog: pytest.LogCaptureFixture
) -> None:
    dead, label = _dead(amqp_url)
    before = _failures(label)
    caplog.set_level(logging.DEBUG)
    for _ in range(20):
        connect(f"{dead},{amqp_url}").close()
    assert _failures(label) == before + 20
    errors = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len([r for r in errors if label in r.getMessage()]) <= 1
    assert len(errors) <= 1, [r.getMessage() for r in errors]  # pika's own lines about each attempt are gone
    assert not any("guest:guest" in r.getMessage() for r in caplog.records)


def test_only_dead_nodes_fail_in_one_error(amqp_url: str) -> None:
    first, _ = _dead(amqp_url)
    second, _ = _dead(amqp_url)
    with pytest.raises(BrokerNodesUnreachable) as raised:
        connect(f"{first},{second}", attempts=2, delay_s=0.01)
    assert "guest" not in str(raised.value)


def test_the_doors_publisher_starts_on_the_live_node(amqp_url: str, in_given_order: None) -> None:
    dead, label = _dead(amqp_url)
    before = _failures(label)

    async def start_and_close() -> bool:
        publisher = AsyncConfirmingPublisher(f"{dead},{amqp_url}", connect_timeout_s=10)
        await publisher.start()
        connected = publisher.connected
        await publisher.close()
        return connected

    assert asyncio.run(start_and_close())
    assert _failures(label) == before + 1


@pytest.mark.parametrize(
    "spec",
    [
        "amqp://guest:s3cret@127.0.0.1:5672,127.0.0.1:5673/v",  # the comma-host form pika cannot read
        "amqp://guest:s3cret@127.0.0.1:5672/a,amqp://guest:s3cret@127.0.0.1:5673/b",  # two vhosts
        "amqp://guest:s3cret@127.0.0.1:5672/v,amqps://guest:s3cret@127.0.0.1:5671/v",  # plain and TLS mixed
        "amqp://guest:s3cret@127.0.0.1:5672/v,amqp://guest:s3cret@127.0.0.1:5672/v",  # one node twice
        "amqp://guest:s3,cret@127.0.0.1:5672/v",  # a comma in the password, not written %2C
        " , ",
    ],
)
def test_ambiguous_lists_are_refused_without_the_password(spec: str, sqlite_url: str) -> None:
    from pydantic import ValidationError

    from hub.entrypoints.preflight import one_line

    with pytest.raises(ValidationError) as raised:
        Settings(amqp_url=spec, database_url=sqlite_url)  # type: ignore[arg-type]
    line = one_line(raised.value)
    assert line.startswith("amqp_url: ") and "\n" not in line
    assert "s3" not in line and "cret" not in line


def test_full_urls_separated_by_commas_or_whitespace_are_one_cluster() -> None:
    spec = "amqp://u:p@node1:5672/rx,\n amqp://u:p@node2/rx  amqp://u:p@node3:5673/rx"
    assert [n.label for n in broker_nodes.nodes(spec)] == ["node1:5672", "node2:5672", "node3:5673"]
    assert broker_nodes.vhost(spec) == "rx"
    assert broker_nodes.vhost("amqp://u:p@node1:5672/%2F") == "/"
