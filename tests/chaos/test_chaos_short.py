"""The short form of the chaos run, inside ``make test``: 300 orders in about two minutes, no broker restart,
claims through the switch connectors and the simulated switch.

The full run (``make chaos CHAOS_ARGS="--orders 2000 --duration 300 --full"``) adds a RabbitMQ application
restart, which would disturb every other test on the machine, so it is never part of the test suite.
"""

from __future__ import annotations

import pytest

from tests.chaos.run import ChaosPlan, run_chaos


@pytest.mark.slow
def test_every_acknowledged_order_ends_once_despite_faults(capsys: pytest.CaptureFixture[str]) -> None:
    report = run_chaos(ChaosPlan(orders=300, duration_s=60, fault_interval_s=3.0, settle_s=120), say=False)
    with capsys.disabled():
        print(report.render())
    assert report.ok, report.render()
    faults = report.figures["faults injected"]
    for kind in (
        "broker-connections-closed",
        "worker-killed",
        "listener-killed",
        "database-locked",
        "database-connections-terminated",
        "database-unavailable",
        "payer-silent",
        "switch-connector-killed",
        "switch-killed",
        "switch-answers-late",
        "switch-drops-connection",
        "switch-down-failover",
    ):
        assert faults.get(kind, 0) >= 1, f"{kind} was never injected: {faults}"
    assert report.figures["orders sent"] == 300
    assert report.figures["switch: failovers"] >= 1
