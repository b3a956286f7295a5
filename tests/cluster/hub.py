"""Two ``serve`` instances, two workers and the payer simulator, as the chaos run's killable processes."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from tests.chaos.environment import PAYER_SIM_CONFIG, ChaosEnvironment
from tests.chaos.processes import ALL_STEPS, HubProcesses, wait_for_consumers, wait_for_doors
from tests.cluster.balancer import Instance


@dataclass
class ClusterProcesses(HubProcesses):
    """Like the chaos run's processes, but each ``serve`` instance listens on its own ports."""

    instance_envs: dict[str, ChaosEnvironment] = field(default_factory=dict)

    def start(self, name: str) -> None:
        """(Re)start a child with its instance's environment (the run's for the others)."""
        shared = self.env
        self.env = self.instance_envs.get(name, shared)
        try:
            super().start(name)
        finally:
            self.env = shared

    def instances(self) -> list[str]:
        """Names of the ``serve`` instances."""
        return list(self.instance_envs)

    def wait_for_instance(self, name: str) -> None:
        """Until that instance's doors answer."""
        wait_for_doors(self.instance_envs[name])


def start_cluster_hub(env: ChaosEnvironment, instances: list[Instance], worker_processes: int = 2) -> ClusterProcesses:
    """Every process of the run, returning once all doors answer and every worker consumes."""
    hub = ClusterProcesses(
        env, instance_envs={i.name: replace(env, mllp_port=i.mllp_port, http_port=i.http_port) for i in instances}
    )
    try:
        for instance in instances:
            hub.add(instance.name, ["serve"])
            hub.wait_for_instance(instance.name)
        hub.add("payer-sim", ["payer-sim", "--config", str(PAYER_SIM_CONFIG)])
        for index in range(worker_processes):
            hub.add(f"worker-{index}", ["worker", *ALL_STEPS])
        wait_for_consumers(env, f"{env.prefix}.intake", worker_processes)
        wait_for_consumers(env, f"{env.prefix}.payer-sim", 1)
    except BaseException:
        hub.stop()  # nothing is left running when the hub cannot start
        raise
    return hub
