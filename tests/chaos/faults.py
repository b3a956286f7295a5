"""The fault controller: while orders flow, cut connections, kill workers, lock the database, hurt the switch.

Faults run one after another from a fixed rotation (so a short run still sees every kind) at a steady
interval; each is bounded in time and undone before the next starts.  ``rabbitmqctl stop_app`` stops the
broker for every vhost on the machine, so it is only in the full run, once, and awaited.
"""

from __future__ import annotations

import logging
import random
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from tests.chaos.environment import PG_ADMIN_URL, ChaosEnvironment, pg_url, rabbitmqctl
from tests.chaos.processes import HubProcesses, wait_for_doors
from tests.chaos.switch_faults import SwitchFaults

log = logging.getLogger(__name__)

SHORT_ROTATION = (
    "broker-connections-closed",
    "worker-killed",
    "database-locked",
    "listener-killed",
    "worker-killed",
    "database-connections-terminated",
    "broker-connections-closed",
    "database-unavailable",
)
#: the claim path's faults, on a thread of their own so a short run still sees every kind of both rotations
SWITCH_ROTATION = (
    "switch-drops-connection",
    "switch-down-failover",
    "payer-silent",
    "switch-connector-killed",
    "switch-answers-late",
    "switch-killed",
)


@dataclass
class FaultController:
    """Injects faults from ``rotation`` and, beside them, from ``switch_rotation``, every ``interval_s`` until
    stopped; counts them by kind."""

    env: ChaosEnvironment
    hub: HubProcesses
    interval_s: float = 6.0
    rotation: tuple[str, ...] = SHORT_ROTATION
    switch_rotation: tuple[str, ...] = SWITCH_ROTATION
    #: inject one broker application restart (every vhost on the machine!) at this many seconds in
    broker_restart_at_s: float | None = None
    injected: Counter[str] = field(default_factory=Counter)
    failed: list[str] = field(default_factory=list)
    seed: int = 11

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._loop, args=(self.rotation,), name="faults", daemon=True),
            threading.Thread(target=self._loop, args=(self.switch_rotation,), name="switch-faults", daemon=True),
        ]
        self._counting = threading.Lock()
        self._random = random.Random(self.seed)
        self.switch = SwitchFaults(self.env, self.hub, random.Random(self.seed + 1))

    def start(self) -> None:
        """Begin injecting (the first fault comes after one interval)."""
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        """Finish the fault in progress and stop, leaving the switch behaving."""
        self._stop.set()
        for thread in self._threads:
            thread.join(120)
        try:
            self.switch.reset()
        except RuntimeError as exc:
            self.failed.append(f"switch reset: {exc!r}")

    def _loop(self, rotation: tuple[str, ...]) -> None:
        started, turn = time.monotonic(), 0
        while not self._stop.wait(self.interval_s):
            restart_at = self.broker_restart_at_s if rotation is self.rotation else None
            if restart_at is not None and time.monotonic() - started >= restart_at:
                self.broker_restart_at_s = None
                self._inject("broker-app-restarted")
                continue
            self._inject(rotation[turn % len(rotation)])
            turn += 1

    def _inject(self, kind: str) -> None:
        action: dict[str, Callable[[], None]] = {
            "broker-connections-closed": self.close_connections,
            "broker-app-restarted": self.restart_broker_app,
            "worker-killed": self.kill_worker,
            "listener-killed": self.kill_listener,
            "database-locked": self.lock_database,
            "database-connections-terminated": self.terminate_database_connections,
            "database-unavailable": self.database_unavailable,
            **self.switch.actions(),
        }
        if self.env.backend == "sqlite" and kind in ("database-connections-terminated", "database-unavailable"):
            kind = "database-locked"  # SQLite has no server to cut: hold its write lock instead
        try:
            action[kind]()
            with self._counting:
                self.injected[kind] += 1
            log.info("fault injected: %s", kind)
        except Exception as exc:  # a fault that could not be injected is reported, not hidden
            with self._counting:
                self.failed.append(f"{kind}: {exc!r}")

    def close_connections(self) -> None:
        """Force-close every connection of this run's vhost (publishers, consumers, the payer)."""
        rabbitmqctl("close_all_connections", "-p", self.env.vhost, "chaos: connection cut")

    def restart_broker_app(self, outage_s: float = 4.0) -> None:
        """Stop and start the RabbitMQ application: one short outage for the whole machine."""
        rabbitmqctl("stop_app")
        try:
            time.sleep(outage_s)
        finally:
            rabbitmqctl("start_app")
            rabbitmqctl("await_startup", timeout_s=300)

    def kill_worker(self) -> None:
        """SIGKILL one worker process mid-step and start it again a moment later."""
        name = self._random.choice(self.hub.workers())
        self.hub.kill(name)
        time.sleep(self._random.uniform(0.3, 1.5))
        self.hub.start(name)

    def kill_listener(self) -> None:
        """SIGKILL the listener process (open MLLP and HTTP requests die with it) and restart it."""
        self.hub.kill("serve")
        self.hub.start("serve")
        wait_for_doors(self.env)

    def lock_database(self, hold_s: float = 3.0) -> None:
        """Hold the tables every step writes for a few seconds (PostgreSQL) or the write lock (SQLite)."""
        if self.env.backend == "sqlite":
            lite = sqlite3.connect(self.env.sqlite_path, timeout=30, isolation_level=None)
            try:
                lite.execute("BEGIN IMMEDIATE")
                time.sleep(hold_s)
                lite.execute("COMMIT")
            finally:
                lite.close()
            return
        import psycopg

        for attempt in range(5):
            try:
                with psycopg.connect(pg_url(self.env)) as conn:
                    conn.execute(
                        "LOCK TABLE prescriptions, outbox, processed_messages, claim_transmissions "
                        "IN ACCESS EXCLUSIVE MODE"
                    )
                    time.sleep(hold_s)
                    conn.commit()
                return
            except psycopg.errors.DeadlockDetected:
                # taking four locks one by one can cross a hub transaction; PostgreSQL picks us as the
                # victim, which is the right outcome for the hub: try the fault again
                if attempt == 4:
                    raise

    def terminate_database_connections(self) -> None:
        """pg_terminate_backend on every connection the hub holds: in-flight transactions roll back."""
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                (self.env.database_name,),
            )

    def database_unavailable(self, outage_s: float = 2.0) -> None:
        """Refuse new connections and cut the open ones for a couple of seconds."""
        import psycopg

        name = self.env.database_name
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'.encode())
            try:
                conn.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = %s AND pid <> pg_backend_pid()",
                    (name,),
                )
                time.sleep(outage_s)
            finally:
                conn.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'.encode())
