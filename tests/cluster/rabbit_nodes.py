"""Three private RabbitMQ nodes under one temporary folder, clustered, that faults can kill and restart.

Each node has its own name (``rxhub-cN@localhost``), AMQP and distribution ports, data, logs, configuration
and plugin file, and the nodes share an Erlang cookie in a temporary HOME: the node on 5672 (``rabbit@``)
and its files are never touched.  The Debian wrapper in /usr/sbin would switch to the ``rabbitmq`` user and
its HOME, so the scripts in /usr/lib/rabbitmq/bin are run directly.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.chaos.environment import free_port

RABBIT_BIN = Path(os.environ.get("RXHUB_CLUSTER_RABBIT_BIN", "/usr/lib/rabbitmq/bin"))
#: no alarms on a small test disk, and a minority that loses its peers pauses instead of diverging
NODE_CONFIG = """listeners.tcp.1 = 127.0.0.1:{port}
disk_free_limit.absolute = 50MB
cluster_partition_handling = pause_minority
loopback_users.guest = true
"""


@dataclass
class RabbitNode:
    """One node: where it lives, its ports, and its running ``rabbitmq-server`` (foreground)."""

    index: int
    base: Path
    port: int
    dist_port: int
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def name(self) -> str:
        """The Erlang node name."""
        return f"rxhub-c{self.index}@localhost"

    @property
    def url(self) -> str:
        """AMQP URL of this node's default vhost."""
        return f"amqp://guest:guest@127.0.0.1:{self.port}/%2F"

    def running(self) -> bool:
        """True while the server process lives."""
        return self.process is not None and self.process.poll() is None

    def answers(self) -> bool:
        """True when the AMQP port accepts a connection."""
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
            return True
        except OSError:
            return False


@dataclass
class RabbitCluster:
    """Start, cluster, kill, restart and stop the private nodes."""

    root: Path
    size: int = 3
    nodes: list[RabbitNode] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.home = self.root / "home"
        self.home.mkdir(parents=True, exist_ok=True)
        cookie = self.home / ".erlang.cookie"
        cookie.write_text(secrets.token_hex(16).upper())
        cookie.chmod(0o400)
        for index in range(1, self.size + 1):
            base = self.root / f"c{index}"
            (base / "mnesia").mkdir(parents=True, exist_ok=True)
            (base / "log").mkdir(exist_ok=True)
            node = RabbitNode(index, base, free_port(), free_port())
            (base / "rabbitmq.conf").write_text(NODE_CONFIG.format(port=node.port))
            (base / "enabled_plugins").write_text("[].\n")  # no management plugin: nothing on 15672
            (base / "rabbitmq-env.conf").write_text("")  # not /etc/rabbitmq's, which names rabbit@localhost
            self.nodes.append(node)

    def node_env(self, node: RabbitNode) -> dict[str, str]:
        """The environment that makes a RabbitMQ script act on ``node``'s files and ports only."""
        return {
            **os.environ,
            "HOME": str(self.home),
            "RABBITMQ_NODENAME": node.name,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(node.port),
            "RABBITMQ_DIST_PORT": str(node.dist_port),
            "RABBITMQ_MNESIA_BASE": str(node.base / "mnesia"),
            "RABBITMQ_LOG_BASE": str(node.base / "log"),
            "RABBITMQ_CONFIG_FILE": str(node.base / "rabbitmq.conf"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(node.base / "enabled_plugins"),
            "RABBITMQ_CONF_ENV_FILE": str(node.base / "rabbitmq-env.conf"),
            "RABBITMQ_PID_FILE": str(node.base / "node.pid"),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
        }

    def ctl(self, node: RabbitNode, *args: str, tool: str = "rabbitmqctl", timeout_s: float = 120) -> str:
        """Run ``rabbitmqctl`` (or ``rabbitmq-queues``) against one node; raises on failure."""
        done = subprocess.run(
            [str(RABBIT_BIN / tool), "-q", "-n", node.name, *args],
            env=self.node_env(node),
            capture_output=True,
            text=True,
            timeout=timeout_s,
        )
        if done.returncode:
            raise RuntimeError(f"{tool} {' '.join(args)} on {node.name}: {done.stderr.strip() or done.stdout}")
        return done.stdout

    def start(self, node: RabbitNode, timeout_s: float = 120) -> None:
        """Start the node's server in the foreground (its own process group) and wait until it boots."""
        log = (node.base / "server.out").open("ab")
        node.process = subprocess.Popen(
            [str(RABBIT_BIN / "rabbitmq-server")],
            env=self.node_env(node),
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        log.close()
        node.starts += 1
        deadline = time.monotonic() + timeout_s
        while not node.answers():
            if not node.running():
                raise RuntimeError(f"{node.name} exited while starting; see {node.base / 'server.out'}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{node.name} did not open port {node.port} in {timeout_s}s")
            time.sleep(0.5)
        self.ctl(node, "await_startup", timeout_s=timeout_s)

    def form(self) -> None:
        """Start every node and join the others to the first one."""
        first, *others = self.nodes
        self.start(first)
        for node in others:
            self.start(node)
            self.ctl(node, "stop_app")
            self.ctl(node, "join_cluster", first.name)
            self.ctl(node, "start_app")
            self.ctl(node, "await_startup")
        running = self.ctl(first, "eval", "length(rabbit_nodes:all_running()).").strip()
        if running != str(self.size):
            raise RuntimeError(f"the cluster runs {running} node(s), not {self.size}")

    def kill(self, node: RabbitNode) -> None:
        """SIGKILL the node's whole process group: a crash, no clean shutdown."""
        if node.process is not None and node.running():
            os.killpg(node.process.pid, signal.SIGKILL)
            node.process.wait(30)

    def stop(self, node: RabbitNode) -> None:
        """Stop the node cleanly, killing it when it does not stop."""
        if not node.running():
            return
        try:
            self.ctl(node, "stop", timeout_s=60)
            assert node.process is not None
            node.process.wait(60)
        except (RuntimeError, subprocess.TimeoutExpired):
            self.kill(node)

    def stop_all(self) -> None:
        """Stop every node (last started first); whatever survives is killed."""
        for node in reversed(self.nodes):
            self.stop(node)
        for node in self.nodes:
            self.kill(node)

    def queue_members(self, prefix: str) -> dict[str, tuple[str, int]]:
        """Per queue of this run: (leader node, member count), for quorum queues."""
        out = self.ctl(self.nodes[0], "list_queues", "--no-table-headers", "name", "type", "leader", "members")
        found: dict[str, tuple[str, int]] = {}
        for line in out.splitlines():
            parts = line.split("\t")
            if len(parts) == 4 and parts[0].startswith(prefix) and parts[1] == "quorum":
                found[parts[0]] = (parts[2], parts[3].count("@"))
        return found

    def leader_of(self, queue: str) -> RabbitNode | None:
        """The node holding a quorum queue's leader now."""
        out = self.ctl(self.running_node(), "list_queues", "--no-table-headers", "name", "leader")
        for line in out.splitlines():
            name, _, leader = line.partition("\t")
            if name == queue:
                return next((n for n in self.nodes if n.name == leader.strip()), None)
        return None

    def running_node(self) -> RabbitNode:
        """Some node that is up."""
        return next(n for n in self.nodes if n.running() and n.answers())
