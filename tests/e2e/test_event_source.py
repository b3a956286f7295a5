"""A subscriber on rxhub.events reads the deployment's configured CloudEvents source."""

from __future__ import annotations

from pathlib import Path

from hub.entrypoints.inprocess import running_hub
from hub.entrypoints.mllp_client import MllpClient
from hub.messaging.cloudevents import event_id
from hub.messaging.topology import Topology
from tests.conftest import make_settings
from tests.support.events import EventSubscriber

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "hl7" / "01_rde_o11_retail_amoxicillin.hl7"


def test_an_event_over_the_broker_carries_the_configured_source(amqp_url: str, sqlite_url: str) -> None:
    settings = make_settings(amqp_url, sqlite_url, event_source="urn:example:pharmacy:store-7")
    sub = EventSubscriber(amqp_url, Topology(settings.broker_prefix).events_exchange, "prescription.received")
    try:
        with running_hub(settings, steps=["intake"]) as hub, MllpClient("127.0.0.1", hub.mllp_port) as client:
            assert b"MSA|AA|" in client.send(SAMPLE.read_bytes())
            received = sub.collect(lambda events: len(events) >= 1)
    finally:
        sub.close()
    assert len(received) == 1
    event = received[0]
    assert event["source"] == "urn:example:pharmacy:store-7"
    assert event["id"] == event_id("urn:example:pharmacy:store-7", event["causationid"], "prescription.received", 0)
