"""The switch routing file: validated whole, routes by BIN and PCN, test kept apart from production."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from adapters.ncpdp.switch.routing import RoutingTable, load_routing_table
from hub.config import DATA_DIR, Settings
from hub.entrypoints import preflight
from hub.errors import ConfigurationError


def _table(**changes: Any) -> dict[str, Any]:
    table: dict[str, Any] = {
        "switches": [
            {"name": "a", "host": "sw-a.example", "port": 7301},
            {"name": "b", "host": "sw-b.example", "port": 7302, "framing": "length-prefix"},
            {"name": "cert", "host": "sw-a.example", "port": 7401, "environment": "test"},
        ],
        "routes": [
            {"bin": "610014", "switch": "a", "failover": "b"},
            {"bin": "610014", "pcn": "PCNX", "switch": "b"},
            {"bin": "999001", "switch": "cert", "environment": "test"},
        ],
    }
    table.update(changes)
    return table


def test_the_exact_pcn_route_wins_then_the_bin_route() -> None:
    table = RoutingTable.model_validate(_table())
    assert [s.name for s in table.switches_for(table.route("610014", "PCNX"))] == ["b"]  # type: ignore[arg-type]
    assert [s.name for s in table.switches_for(table.route("610014", "OTHER"))] == ["a", "b"]  # type: ignore[arg-type]
    assert table.route("123456", None) is None
    assert table.bindings() == ["610014.#", "610014.PCNX", "999001.#"]


@pytest.mark.parametrize(
    ("routes", "why"),
    [
        ([{"bin": "610014", "switch": "nowhere"}], "unknown switch"),
        ([{"bin": "610014", "switch": "a", "failover": "a"}], "its own switch"),
        ([{"bin": "610014", "switch": "cert"}], "is production"),
        ([{"bin": "999001", "switch": "a", "environment": "test"}], "is test"),
        ([{"bin": "610014", "switch": "a"}, {"bin": "610014", "switch": "b"}], "only once"),
        ([{"bin": "61001", "switch": "a"}], "pattern"),
    ],
)
def test_a_wrong_routing_file_is_refused(routes: list[dict[str, Any]], why: str) -> None:
    with pytest.raises(ValidationError, match=why):
        RoutingTable.model_validate(_table(routes=routes))


def test_the_example_file_loads() -> None:
    assert load_routing_table(DATA_DIR / "switch-routes.example.json").route("999001", None) is not None


def test_preflight_names_the_setting_of_a_broken_routing_file(tmp_path: Path) -> None:
    broken = tmp_path / "routes.json"
    broken.write_text('{"switches": [], "routes": []}')
    settings = Settings(switch_routes=broken, amqp_url="amqp://guest:guest@127.0.0.1:5672/%2F")
    with pytest.raises(ConfigurationError, match="RXHUB_SWITCH_ROUTES"):
        preflight.check(settings, doors=False, workers=True)


def test_preflight_refuses_switches_slower_than_the_payer_timeout(tmp_path: Path) -> None:
    routes = tmp_path / "routes.json"
    routes.write_text((DATA_DIR / "switch-routes.example.json").read_text())
    url = "amqp://guest:guest@127.0.0.1:5672/%2F"
    preflight.check(Settings(switch_routes=routes, amqp_url=url), doors=False, workers=True)  # 15 s by default
    # switch-a then its failover switch-b: 2 s to connect and 5 s to answer each
    assert load_routing_table(routes).longest_wait_ms() == 14000
    with pytest.raises(ConfigurationError, match="RXHUB_PAYER_TIMEOUT_MS"):
        preflight.check(Settings(switch_routes=routes, amqp_url=url, payer_timeout_ms=14000), doors=False, workers=True)
