"""Connections cut by the broker: the listener answers AR meanwhile (never AA), then everything reconnects."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from hub.config import Settings
from hub.entrypoints.inprocess import running_hub
from hub.entrypoints.mllp_client import MllpClient
from hub.messaging.topology import Topology
from tests.support.events import EventSubscriber

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "hl7"


def test_publisher_consumers_and_relay_recover_from_closed_connections(settings: Settings) -> None:
    vhost = settings.amqp_url.get_secret_value().rsplit("/", 1)[1]
    first = (SAMPLES / "01_rde_o11_retail_amoxicillin.hl7").read_bytes()
    second = (SAMPLES / "02_rde_o11_inpatient_lisinopril.hl7").read_bytes()
    with running_hub(settings, steps=["intake"]) as hub, MllpClient("127.0.0.1", hub.mllp_port) as client:
        assert b"MSA|AA" in client.send(first)
        subprocess.run(
            ["rabbitmqctl", "-q", "close_all_connections", "-p", vhost, "chaos test"],
            check=True,
            capture_output=True,
            timeout=60,
        )
        answers = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            ack = client.send(second)  # an EHR resends until it gets AA
            answers.append(ack.split(b"\r")[1].split(b"|")[1])
            if answers[-1] == b"AA":
                break
            time.sleep(0.2)
        assert answers[-1] == b"AA" and set(answers) <= {b"AA", b"AR"}
        sub = EventSubscriber(
            settings.amqp_url.get_secret_value(),
            Topology(settings.broker_prefix).events_exchange,
            "prescription.received",
        )
        try:
            # the second order's event proves consumers and the relay came back
            sub.collect(lambda ev: any(e["data"]["placer_order_number"] == "PLC1002" for e in ev), timeout_s=30)
        finally:
            sub.close()
    assert any(e["data"]["placer_order_number"] == "PLC1002" for e in sub.events)
