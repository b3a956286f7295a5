"""Cluster faults: broker nodes killed and restarted one at a time, a ``serve`` instance and a worker killed.

One node is down at a time, so every quorum queue keeps a majority (two of three members).  The rotation
includes the node holding the intake queue's leader and the hub's own node: the one the first ``serve``
instance's broker connection is on (given the node list), or else the node holding most client connections
(behind HAProxy, where the hub cannot tell its node); a restarted node rejoins the cluster and catches up.
"""

from __future__ import annotations

import logging
import random
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from tests.cluster.hub import ClusterProcesses
from tests.cluster.rabbit_nodes import RabbitCluster, RabbitNode

log = logging.getLogger(__name__)

ROTATION = (
    "intake-leader-killed",
    "instance-killed",
    "hub-node-killed",
    "worker-killed",
    "node-stopped",
    "instance-killed",
    "node-killed",
)


def pid_node(pid: str) -> str:
    """The node an Erlang pid as rabbitmqctl prints it lives on: ``<rxhub-c2@localhost.1701.2345.0>``."""
    return pid.strip().lstrip("<").split(".", 1)[0]


@dataclass
class ClusterFaults:
    """Injects faults from ``rotation`` every ``interval_s`` until stopped; counts them by kind."""

    cluster: RabbitCluster
    hub: ClusterProcesses
    intake_queue: str
    interval_s: float = 8.0
    outage_s: float = 10.0
    rotation: tuple[str, ...] = ROTATION
    injected: Counter[str] = field(default_factory=Counter)
    failed: list[str] = field(default_factory=list)
    seed: int = 13

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="cluster-faults", daemon=True)
        self._random = random.Random(self.seed)
        unknown = sorted(set(self.rotation) - set(self.actions()))
        if unknown:  # found before the run, not as an uninjected fault at its end
            raise ValueError(f"unknown fault(s) in the rotation: {', '.join(unknown)}")

    def start(self) -> None:
        """Begin injecting (the first fault comes after one interval)."""
        self._thread.start()

    def stop(self) -> None:
        """Finish the fault in progress (a node down is brought back) and stop."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(300)

    def _loop(self) -> None:
        turn = 0
        while not self._stop.wait(self.interval_s):
            self._inject(self.rotation[turn % len(self.rotation)])
            turn += 1

    def actions(self) -> dict[str, Callable[[], None]]:
        """Every fault this controller can inject, by name."""
        return {
            "intake-leader-killed": lambda: self.node_down(self.cluster.leader_of(self.intake_queue), kill=True),
            "hub-node-killed": lambda: self.node_down(self.hub_node(), kill=True),
            "node-killed": lambda: self.node_down(self._random.choice(self.cluster.nodes), kill=True),
            "node-stopped": lambda: self.node_down(self._random.choice(self.cluster.nodes), kill=False),
            "instance-killed": self.kill_instance,
            "worker-killed": self.kill_worker,
        }

    def _inject(self, kind: str) -> None:
        action = self.actions()
        try:
            action[kind]()
            self.injected[kind] += 1
            log.info("fault injected: %s", kind)
        except Exception as exc:  # a fault that could not be injected is reported, not hidden
            self.failed.append(f"{kind}: {exc!r}")

    def node_down(self, node: RabbitNode | None, *, kill: bool) -> None:
        """SIGKILL (or cleanly stop) one node, keep it down for ``outage_s``, start it and wait until it runs."""
        if node is None:
            raise RuntimeError("no node holds the intake queue's leader")
        if kill:
            self.cluster.kill(node)
        else:
            self.cluster.stop(node)
        try:
            time.sleep(self.outage_s)
        finally:
            self.cluster.start(node)

    def hub_node(self) -> RabbitNode:
        """The node the first instance's broker connection is on, else the one with most client connections."""
        pid = self.hub.children[self.hub.instances()[0]].pid
        by_port = {n.port: n for n in self.cluster.nodes}
        sockets = subprocess.run(["ss", "-Htnp", "state", "established"], capture_output=True, text=True, timeout=10)
        for line in sockets.stdout.splitlines():
            fields = line.split()
            if len(fields) >= 5 and f"pid={pid}," in fields[4]:
                node = by_port.get(int(fields[3].rsplit(":", 1)[1]))
                if node is not None:
                    return node
        out = self.cluster.ctl(self.cluster.running_node(), "list_connections", "--no-table-headers", "pid")
        busiest = Counter(pid_node(line) for line in out.splitlines() if line.strip()).most_common(1)
        return next((n for n in self.cluster.nodes if busiest and n.name == busiest[0][0]), self.cluster.nodes[0])

    def kill_instance(self) -> None:
        """SIGKILL one ``serve`` instance (its open MLLP and HTTP sessions die), restart it, wait for its doors."""
        name = self._random.choice(self.hub.instances())
        self.hub.kill(name)
        time.sleep(self._random.uniform(1.0, 3.0))
        self.hub.start(name)
        self.hub.wait_for_instance(name)

    def kill_worker(self) -> None:
        """SIGKILL one worker process mid-step and start it again a moment later."""
        name = self._random.choice(self.hub.workers())
        self.hub.kill(name)
        time.sleep(self._random.uniform(0.3, 1.5))
        self.hub.start(name)
