"""A running payer link per test, on the session's vhost with the test's own prefix."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hub.config import DATA_DIR, Settings
from hub.messaging.topology import Topology
from tests.integration.payer.link import PayerLink

DATA_FILE = DATA_DIR / "payer-sim.json"


@pytest.fixture
def start_link(settings: Settings) -> Iterator[Callable[[Path], PayerLink]]:
    """Start a link with a given simulator data file."""
    started: list[PayerLink] = []

    def start(config_path: Path = DATA_FILE) -> PayerLink:
        topology = Topology(prefix=settings.broker_prefix, retry_delay_ms=settings.retry_delay_ms)
        link = PayerLink(settings.amqp_url.get_secret_value(), topology, config_path)
        started.append(link)
        return link

    yield start
    for link in started:
        link.close()


@pytest.fixture
def link(start_link: Callable[[Path], PayerLink]) -> PayerLink:
    """A link with the shipped hub/data/payer-sim.json."""
    return start_link(DATA_FILE)
