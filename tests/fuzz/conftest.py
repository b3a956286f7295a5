"""One hub (listener and workers as real processes) for the fuzz session, and the tally of inputs per door.

Every fuzz test ends by checking the hub still serves a good client, and the session prints how many
inputs each door was tried with (those figures go into the README).
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from hub.entrypoints.mllp_client import MllpClient
from hub.entrypoints.runtime import declare_topology, open_database, topology_for
from hub.messaging.topology import Topology
from hub.persistence.users import UserStore
from tests.chaos.environment import ChaosEnvironment, chaos_environment
from tests.chaos.orders import ack_code, hl7_order
from tests.chaos.processes import HubProcesses, wait_for_consumers, wait_for_doors

#: inputs tried per door in this session
TRIED: Counter[str] = Counter()
COUNTS_FILE = Path(os.environ.get("RXHUB_FUZZ_COUNTS", "var/fuzz-counts.json"))


@dataclass
class FuzzHub:
    """The running hub, its environment and a feed token for the HTTP doors."""

    env: ChaosEnvironment
    processes: HubProcesses
    token: str
    topology: Topology
    _good: int = 0

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.env.http_port}"

    def client(self) -> httpx.Client:
        """An authenticated HTTP client (the feed role admits FHIR and SCRIPT)."""
        return httpx.Client(base_url=self.http, timeout=30, headers={"Authorization": f"Bearer {self.token}"})

    def rss_kb(self) -> int:
        """RSS of the listener process."""
        return self.processes.rss().get("serve", 0)

    def assert_serving(self) -> None:
        """The listener and workers live, a fresh MLLP client gets AA and HTTP answers."""
        assert not self.processes.dead(), f"hub process died: {self.processes.dead()}"
        self._good += 1
        control_id = f"GOOD{os.getpid()}X{self._good}"
        with MllpClient("127.0.0.1", self.env.mllp_port, timeout_s=20) as client:
            assert ack_code(client.send(hl7_order(control_id, f"FZ{control_id}")), control_id) == "AA"
        assert httpx.get(f"{self.http}/healthz", timeout=10).status_code == 200


@pytest.fixture(scope="session")
def fuzz_hub() -> Iterator[FuzzHub]:
    """``rxhub serve`` plus a worker for intake and payer answers, on a private vhost and SQLite file."""
    with chaos_environment("sqlite") as env:
        settings = env.settings()
        declare_topology(settings)
        _, token = UserStore(open_database(settings)).add("fuzz-feed", "feed")
        processes = HubProcesses(env)
        processes.add("serve", ["serve"])
        processes.add("worker", ["worker", "intake", "claim-responses", "payer-responses"])
        try:
            wait_for_doors(env)
            wait_for_consumers(env, f"{env.prefix}.payer-responses", 1)
            yield FuzzHub(env, processes, token, topology_for(settings))
        finally:
            processes.stop()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print (and save) how many inputs each door was fuzzed with."""
    if not TRIED:
        return
    terminalreporter.section("fuzz inputs per door")
    for door, n in sorted(TRIED.items()):
        terminalreporter.write_line(f"{door:32} {n}")
    COUNTS_FILE.parent.mkdir(parents=True, exist_ok=True)
    COUNTS_FILE.write_text(json.dumps(dict(TRIED), indent=2))
