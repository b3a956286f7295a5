"""Helpers for end-to-end workflow tests: a running hub with a payer, staff users, and waiting for states."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx
from sqlalchemy import Engine

from adapters.ncpdp.payer.config import load_payer_config
from adapters.ncpdp.payer_link import PayerSimProcess
from adapters.ncpdp.payer_link.simulator import PayerSimulator
from hub.config import Settings
from hub.entrypoints.inprocess import RunningHub, running_hub
from hub.entrypoints.runtime import topology_for
from hub.persistence.database import read_connection
from hub.persistence.prescriptions import PrescriptionRepository, PrescriptionRow, load_aggregate
from hub.persistence.users import UserStore


@dataclass
class Pharmacy:
    """A hub with a payer simulator, and tokens for a technician, a pharmacist and an admin."""

    hub: RunningHub
    tokens: dict[str, str] = field(default_factory=dict)
    payer: PayerSimProcess | None = None
    _payer_started: Callable[[], None] | None = None

    def start_payer(self) -> None:
        """Start the simulated payer now (for tests that begin with the payer away)."""
        assert self._payer_started is not None
        self._payer_started()

    @property
    def engine(self) -> Engine:
        return self.hub.engine

    def client(self, role: str) -> httpx.Client:
        """An HTTP client authenticated as the given role."""
        return httpx.Client(
            base_url=f"http://127.0.0.1:{self.hub.http_port}",
            timeout=20,
            headers={"Authorization": f"Bearer {self.tokens[role]}"},
        )

    def by_placer(self, placer: str, timeout_s: float = 20) -> PrescriptionRow:
        """Wait until the order with this placer number is recorded."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with read_connection(self.engine) as conn:
                row = PrescriptionRepository(conn).by_placer(None, placer)
            if row is not None:
                return row
            time.sleep(0.05)
        raise AssertionError(f"order {placer} never recorded")

    def wait_state(self, prescription_id: str, *states: str, timeout_s: float = 30) -> PrescriptionRow:
        """Wait until the prescription reaches one of the states."""
        deadline = time.monotonic() + timeout_s
        row = None
        while time.monotonic() < deadline:
            with read_connection(self.engine) as conn:
                row = PrescriptionRepository(conn).get(prescription_id)
            if row is not None and row.state in states:
                return row
            time.sleep(0.05)
        detail = load_aggregate(row).current_fill.model_dump(mode="json") if row else None
        raise AssertionError(f"{prescription_id} stayed {row.state if row else None}, wanted {states}: {detail}")


@contextmanager
def pharmacy(
    settings: Settings, *, simulator: PayerSimulator | None = None, payer_up: bool = True
) -> Iterator[Pharmacy]:
    """Start the simulated payer (unless ``payer_up`` is false) and the whole hub; create staff users."""
    stop = threading.Event()
    sim = PayerSimProcess(
        settings.amqp_url.get_secret_value(), topology_for(settings), load_payer_config(settings.payer_sim_config)
    )
    if simulator is not None:
        sim._simulator = simulator  # a payer double with a scripted failure, speaking the same D.0
    thread = threading.Thread(target=sim.run, args=(stop,), daemon=True)

    def start() -> None:
        thread.start()
        assert sim.ready.wait(15), "payer simulator did not start"

    with running_hub(settings) as hub:
        if payer_up:
            start()
        users = UserStore(hub.engine)
        tokens = {
            "technician": users.add("tina.tech", "technician")[1],
            "pharmacist": users.add("paul.pharm", "pharmacist", licence="RPH-12345")[1],
            "admin": users.add("ada.admin", "admin")[1],
        }
        try:
            yield Pharmacy(hub, tokens, sim, start)
        finally:
            stop.set()
            if thread.is_alive():
                thread.join(10)
