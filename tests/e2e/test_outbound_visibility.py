"""A stuck and then misbehaving HL7 destination as operators see it on the running hub: /metrics (checked by
promtool), the admin dashboard and ``rxhub outbound status`` agree with what the receiver went through."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx

from adapters.hl7.outbound.control_ids import control_id_for
from hub.config import Settings
from hub.entrypoints.runtime import topology_for
from hub.messaging.amqp_properties import raw_properties
from hub.messaging.blocking_publisher import connect
from hub.messaging.cloudevents import CONTENT_TYPE
from tests.conftest import make_settings
from tests.integration.hl7_outbound.receivers import Ack, Receiver
from tests.support.pharmacy import pharmacy
from tests.support.waiting import eventually
from tests.unit.hl7_outbound import samples
from tests.unit.test_monitoring import promtool


def _publish(settings: Settings, count: int) -> list[str]:
    """Status updates for ``count`` orders on the hub's events exchange, as its outbox relay publishes them."""
    topology = topology_for(settings)
    conn = connect(settings.amqp_url.get_secret_value())
    channel = conn.channel()
    channel.confirm_delivery()
    ids = []
    for n in range(count):
        event, event_id = samples.received(rx=f"RXV{n}"), str(uuid.uuid4())
        channel.basic_publish(
            topology.events_exchange,
            event.name,
            samples.cloudevent(event, event_id, at=datetime.now(UTC)),
            raw_properties(event_id, content_type=CONTENT_TYPE, message_type=event.name),
            mandatory=True,
        )
        ids.append(event_id)
    conn.close()
    return ids


def _scrape(admin: httpx.Client, name: str) -> dict[str, float]:
    """This destination's outbound samples of a /metrics scrape that promtool finds valid."""
    text = admin.get("/metrics").text
    checked = promtool("check", "metrics", stdin=text)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    found = {}
    for line in text.splitlines():
        m = re.match(r'^(rxhub_outbound_\w+)\{destination="' + name + r'"(?:,outcome="(\w+)")?\} (\S+)$', line)
        if m:
            found[m[1] + (f":{m[2]}" if m[2] else "")] = float(m[3])
    return found


def _dashboard(admin: httpx.Client, name: str) -> dict[str, object]:
    [row] = [o for o in admin.get("/api/admin/dashboard").json()["outbound"] if o["name"] == name]
    return dict(row)


def _cli(settings: Settings, config: Path) -> str:
    env = {
        **os.environ,
        "RXHUB_AMQP_URL": settings.amqp_url.get_secret_value(),
        "RXHUB_BROKER_PREFIX": settings.broker_prefix,
        "RXHUB_DATABASE_URL": settings.database_url.get_secret_value(),
        "RXHUB_OUTBOUND_DESTINATIONS": str(config),
    }
    ran = subprocess.run(
        [sys.executable, "-m", "hub.entrypoints.cli", "outbound", "status"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr
    return ran.stdout


def test_a_stuck_then_refusing_destination_shows_in_metrics_dashboard_and_status(
    amqp_url: str,
    sqlite_url: str,
    tmp_path: Path,
) -> None:
    name = f"cab{uuid.uuid4().hex[:6]}"
    refused: list[str] = []
    receiver = Receiver(lambda _i, c: [Ack("AR", error="cabinet drawer jammed")] if c in refused else [Ack()])
    receiver.start()
    receiver.stop()  # down to begin with: connections refused
    config = tmp_path / "destinations.json"
    config.write_text(
        json.dumps(
            {
                "destinations": [
                    {
                        "name": name,
                        "host": "127.0.0.1",
                        "port": receiver.port,
                        "events": ["prescription.received"],
                        "ack_timeout_s": 2,
                        "backoff_initial_s": 0.05,
                        "backoff_max_s": 0.2,
                        "max_attempts": 2,
                        "stuck_after_s": 1,
                    }
                ]
            }
        )
    )
    settings = make_settings(amqp_url, sqlite_url, outbound_destinations=config)
    with pharmacy(settings) as ph:
        admin = ph.client("admin")
        ids = _publish(settings, 2)
        refused.append(control_id_for(ids[0], name))

        stuck = eventually(
            lambda: m if (m := _scrape(admin, name)).get("rxhub_outbound_stuck") == 1 else None,
            "the destination reported stuck",
        )
        assert stuck["rxhub_outbound_connected"] == 0 and stuck["rxhub_outbound_backlog"] == 2
        assert stuck["rxhub_outbound_oldest_age_seconds"] >= 1
        row = _dashboard(admin, name)
        assert row["state"] == "stuck" and row["backlog"] == 2
        assert row["in_flight_control_id"] == control_id_for(ids[0], name)
        assert "cannot connect" in str(row["last_error"])
        line = _cli(settings, config)
        assert line.startswith(name) and " stuck " in line and " disconnected " in line and "backlog=2 " in line

        receiver.start()  # back, and refusing the first message: AR until max_attempts, then the next goes
        assert receiver.wait_delivered(1) == [control_id_for(ids[1], name)]
        after = eventually(
            lambda: (
                m
                if (m := _scrape(admin, name)).get("rxhub_outbound_backlog") == 0
                and m.get("rxhub_outbound_messages_total:delivered") == 1
                else None
            ),
            "the backlog drained",
        )
        row = _dashboard(admin, name)
        line = _cli(settings, config)
    receiver.stop()

    assert after["rxhub_outbound_messages_total:dead_lettered"] == 1
    assert after["rxhub_outbound_sent_total"] == 3 and after["rxhub_outbound_retries_total"] == 1
    assert after["rxhub_outbound_stuck"] == 0 and after["rxhub_outbound_connected"] == 1
    assert after["rxhub_outbound_oldest_age_seconds"] == 0
    assert row["state"] == "idle" and row["dead_lettered"] == 1 and row["delivered"] == 1
    assert "cabinet drawer jammed" in str(row["last_error"])
    assert " idle " in line and "backlog=0 " in line and "dead-lettered=1 " in line
    assert "cabinet drawer jammed" in line
    assert receiver.control_ids().count(control_id_for(ids[0], name)) == 2
