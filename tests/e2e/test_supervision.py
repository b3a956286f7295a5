"""``rxhub run`` watches its worker processes: a killed worker is replaced (readiness says so meanwhile), the
workers die with the hub, and a bad configuration file stops it before any door opens."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
from pathlib import Path

import httpx
import pytest

from hub.config import Settings
from tests.support.processes import (
    HOUSE_PLAN,
    RXHUB,
    consumers,
    first_line,
    free_port,
    hub_env,
    retail_order_to_ready,
    stop,
    wait_for,
)

pytestmark = pytest.mark.slow


def _children(pid: int) -> list[int]:
    """The processes ``pid`` forked, whichever of its threads forked them."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(x) for x in (task / "children").read_text().split()]
    return found


def _readyz(http: int) -> int:
    return httpx.get(f"http://127.0.0.1:{http}/readyz", timeout=30).status_code


def test_a_killed_worker_is_started_again_and_orders_still_reach_ready(settings: Settings) -> None:
    env = hub_env(settings, free_port(), free_port()) | HOUSE_PLAN
    http, amqp, intake = (
        int(env["RXHUB_HTTP_PORT"]),
        settings.amqp_url.get_secret_value(),
        f"{settings.broker_prefix}.intake",
    )
    hub = subprocess.Popen([*RXHUB, "run", "--worker-processes", "1"], env=env, stdout=subprocess.PIPE, text=True)
    payer = subprocess.Popen([*RXHUB, "payer-sim"], env=env, text=True)
    try:
        first_line(hub, "MLLP on")
        wait_for(lambda: _readyz(http) == 200, "ready with its worker")
        (worker,) = _children(hub.pid)
        os.kill(worker, signal.SIGKILL)
        wait_for(lambda: _readyz(http) == 503, "not ready without a worker")
        replacement = wait_for(lambda: [p for p in _children(hub.pid) if p != worker], "a new worker process")
        wait_for(lambda: _readyz(http) == 200, "ready again")
        assert consumers(amqp, intake) == 1
        metrics = httpx.get(f"http://127.0.0.1:{http}/metrics", timeout=30).text
        assert "rxhub_worker_restarts_total 1.0" in metrics
        wait_for(lambda: consumers(amqp, f"{settings.broker_prefix}.payer-sim"), "payer simulator consuming")
        retail_order_to_ready(RXHUB, env)
        assert _children(hub.pid) == replacement
    finally:
        stop(payer, hub)
    assert hub.returncode == 0


def test_the_workers_exit_when_the_hub_is_killed(settings: Settings) -> None:
    env = hub_env(settings, free_port(), free_port())
    hub = subprocess.Popen([*RXHUB, "run", "--worker-processes", "2"], env=env, stdout=subprocess.PIPE, text=True)
    pids: list[int] = []
    try:
        first_line(hub, "MLLP on")
        wait_for(
            lambda: consumers(settings.amqp_url.get_secret_value(), f"{settings.broker_prefix}.intake") == 2,
            "two workers consuming",
        )
        pids = _children(hub.pid)
        workers = [os.pidfd_open(pid) for pid in pids]
        assert len(workers) == 2
        hub.kill()
        hub.wait()
        for pidfd in workers:  # readable once the process has exited
            assert select.select([pidfd], [], [], 60)[0] == [pidfd], "a worker outlived its hub"
            os.close(pidfd)
    finally:
        stop(hub)
        for pid in pids:  # when the test fails, leave no orphan behind it
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def test_a_bad_destinations_file_stops_run_before_any_door_opens(settings: Settings, tmp_path: Path) -> None:
    bad = tmp_path / "destinations.json"
    bad.write_text(
        json.dumps(
            {
                "destinations": [
                    {"name": "pos", "host": "127.0.0.1", "port": 2576, "events": ["prescription.teleported"]}
                ]
            }
        )
    )
    # keyed, so that the preflight's warning about an unkeyed audit trail is not among the lines counted
    env = hub_env(settings, free_port(), free_port()) | {
        "RXHUB_OUTBOUND_DESTINATIONS": str(bad),
        "RXHUB_AUDIT_KEY": "k" * 32,
    }
    ran = subprocess.run([*RXHUB, "run"], env=env, capture_output=True, text=True, timeout=120)
    assert ran.returncode == 2 and ran.stdout == ""
    assert ran.stderr.count("\n") == 1 and "Traceback" not in ran.stderr, ran.stderr
    assert ran.stderr.startswith(f"rxhub: configuration: RXHUB_OUTBOUND_DESTINATIONS {bad}: ")
    assert "prescription.teleported" in ran.stderr
