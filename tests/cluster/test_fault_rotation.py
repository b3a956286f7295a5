"""The cluster run's faults: the rotation names only known faults (checked before a long run), pids parsed."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.chaos.environment import ChaosEnvironment
from tests.cluster.faults import ROTATION, ClusterFaults, pid_node
from tests.cluster.hub import ClusterProcesses
from tests.cluster.rabbit_nodes import RabbitCluster


def _parts(tmp_path: Path) -> tuple[RabbitCluster, ClusterProcesses]:
    env = ChaosEnvironment("/", "amqp://guest:guest@127.0.0.1:1/%2F", "sqlite://", None, "p", tmp_path, 1, 2)
    return RabbitCluster(tmp_path / "rabbitmq"), ClusterProcesses(env)  # folders and ports only, no process


def test_the_default_rotation_kills_the_hubs_node_and_the_intake_leader(tmp_path: Path) -> None:
    faults = ClusterFaults(*_parts(tmp_path), "p.intake")
    assert set(ROTATION) <= set(faults.actions())
    assert {"hub-node-killed", "intake-leader-killed", "instance-killed"} <= set(ROTATION)


def test_an_unknown_fault_is_refused_before_the_run(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="first-node-killed"):
        ClusterFaults(*_parts(tmp_path), "p.intake", rotation=("node-killed", "first-node-killed"))


def test_a_connections_node_is_read_from_its_pid() -> None:
    assert pid_node("<rxhub-c2@localhost.1701234567.12345.0>\n") == "rxhub-c2@localhost"
