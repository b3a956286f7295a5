"""Simulated switches on real TCP ports and a switch link per test (real broker, real database)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import Engine

from adapters.ncpdp.payer import load_payer_config
from adapters.ncpdp.switch import RoutingTable, SwitchSimulator
from hub.config import DATA_DIR, Settings
from hub.messaging.topology import Topology
from hub.persistence.database import create_schema, make_engine
from tests.conftest import make_settings
from tests.integration.switch.link import SwitchLink

PAYER_DATA = DATA_DIR / "payer-sim.json"


@pytest.fixture
def switch_settings(amqp_url: str, database_url: str) -> Settings:
    """Settings on the test's own database (SQLite and PostgreSQL)."""
    return make_settings(amqp_url, database_url)


@pytest.fixture
def engine(switch_settings: Settings) -> Iterator[Engine]:
    """The test's database with the hub's schema."""
    engine = make_engine(switch_settings.database_url.get_secret_value())
    create_schema(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def start_switch() -> Iterator[Callable[..., SwitchSimulator]]:
    """Start simulated switches in front of the shipped payer simulator data."""
    started: list[SwitchSimulator] = []

    def start(**kw: Any) -> SwitchSimulator:
        switch = SwitchSimulator(load_payer_config(PAYER_DATA), **kw)
        switch.start()
        started.append(switch)
        return switch

    yield start
    for switch in started:
        switch.stop()


@pytest.fixture
def start_link(switch_settings: Settings, engine: Engine) -> Iterator[Callable[[dict[str, Any]], SwitchLink]]:
    """Start the connector with a routing table given as the routing file's JSON."""
    links: list[SwitchLink] = []

    def start(table: dict[str, Any]) -> SwitchLink:
        topology = Topology(prefix=switch_settings.broker_prefix, retry_delay_ms=switch_settings.retry_delay_ms)
        link = SwitchLink(
            switch_settings.amqp_url.get_secret_value(), topology, engine, RoutingTable.model_validate(table)
        )
        links.append(link)
        return link

    yield start
    for link in links:
        link.close()


def endpoint(name: str, switch: SwitchSimulator, **kw: Any) -> dict[str, Any]:
    """A routing-file switch entry for a simulated switch."""
    return {
        "name": name,
        "host": "127.0.0.1",
        "port": switch.port,
        "framing": str(switch.framing),
        "environment": "test",
        **kw,
    }


def route(switch: str, failover: str | None = None, bin_: str = "999001") -> dict[str, Any]:
    """A routing-file route for the simulated BIN."""
    return {"bin": bin_, "switch": switch, "failover": failover, "environment": "test"}
