"""The admin dashboard lists the outbound HL7 destinations with the state their senders wrote: a destination
that is down shows stuck, with the message in flight and the error, and the page stays accessible."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from adapters.hl7.outbound.control_ids import control_id_for
from hub.entrypoints.runtime import topology_for
from hub.messaging.amqp_properties import raw_properties
from hub.messaging.blocking_publisher import connect
from hub.messaging.cloudevents import CONTENT_TYPE
from tests.browser.console_driver import base_url, screenshot, sign_in
from tests.browser.test_console_accessibility import axe_page, serious_violations  # noqa: F401 (fixture)
from tests.conftest import make_settings
from tests.integration.hl7_outbound.receivers import Receiver
from tests.support.pharmacy import Pharmacy, pharmacy
from tests.unit.hl7_outbound import samples

NAME = "ward-cabinet"


@pytest.fixture
def cabinet_down(amqp_url: str, sqlite_url: str, tmp_path: Path) -> Iterator[tuple[Pharmacy, Receiver]]:
    """The hub with one cabinet destination whose port refuses connections."""
    receiver = Receiver().start()
    receiver.stop()
    config = tmp_path / "destinations.json"
    config.write_text(
        json.dumps(
            {
                "destinations": [
                    {
                        "name": NAME,
                        "host": "127.0.0.1",
                        "port": receiver.port,
                        "events": ["prescription.received"],
                        "backoff_initial_s": 0.05,
                        "backoff_max_s": 0.2,
                        "stuck_after_s": 1,
                    }
                ]
            }
        )
    )
    with pharmacy(make_settings(amqp_url, sqlite_url, outbound_destinations=config)) as ph:  # serves the console
        yield ph, receiver
    receiver.stop()


def _publish_status_update(ph: Pharmacy) -> str:
    settings = ph.hub.settings
    event, event_id = samples.received(rx="RXB1"), str(uuid.uuid4())
    conn = connect(settings.amqp_url.get_secret_value())
    channel = conn.channel()
    channel.confirm_delivery()
    channel.basic_publish(
        topology_for(settings).events_exchange,
        event.name,
        samples.cloudevent(event, event_id, at=datetime.now(UTC)),
        raw_properties(event_id, content_type=CONTENT_TYPE, message_type=event.name),
        mandatory=True,
    )
    conn.close()
    return event_id


def test_the_dashboard_shows_a_stuck_destination_then_it_recovers(
    axe_page: Page,  # noqa: F811 (the fixture imported above)
    cabinet_down: tuple[Pharmacy, Receiver],
) -> None:
    page, (hub, receiver) = axe_page, cabinet_down
    event_id = _publish_status_update(hub)
    sign_in(page, hub, "admin")
    page.goto(base_url(hub) + "/console/dashboard")
    row = page.locator("#outbound tbody tr").filter(has_text=NAME)
    cells = row.locator("td")
    expect(cells.nth(1)).to_have_text("stuck", timeout=20_000)
    expect(cells.nth(2)).to_have_text("disconnected")
    expect(row).to_contain_text(control_id_for(event_id, NAME))
    expect(row).to_contain_text("cannot connect")
    expect(page.locator("#outbound-none")).to_be_hidden()
    assert serious_violations(page) == []
    screenshot(page, "admin-dashboard-outbound-stuck")

    receiver.start()
    expect(cells.nth(1)).to_have_text("idle", timeout=20_000)  # the page refreshes itself every few seconds
    expect(cells.nth(2)).to_have_text("connected")
    expect(cells.nth(6)).to_have_text("1 / 0 / 0")  # delivered / resent / dead-lettered
    assert receiver.delivered == [control_id_for(event_id, NAME)]
