"""HAProxy in front of the hub's doors (and, while the hub takes one broker URL, in front of the nodes).

The configuration is the sample in docs/deployment.md: TCP mode, ``/readyz`` as the health check of each
``serve`` instance, and ``on-marked-down shutdown-sessions`` so an MLLP sender whose instance died is cut
off at once and reconnects to a live one instead of waiting on a half-dead session.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.chaos.environment import free_port

HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"

HEAD = """global
    maxconn 4096

defaults
    mode tcp
    timeout connect 2s
    timeout client 10m
    timeout server 10m
    retries 2
    option redispatch
"""


@dataclass(frozen=True)
class Instance:
    """One ``serve`` process's doors."""

    name: str
    mllp_port: int
    http_port: int
    host: str = "127.0.0.1"


def render_config(
    mllp_port: int,
    http_port: int,
    instances: list[Instance],
    broker_port: int | None = None,
    brokers: list[tuple[str, int]] | None = None,
    bind: str = "127.0.0.1",
) -> str:
    """haproxy.cfg for the doors and, when ``broker_port`` is given, the broker nodes (docs/deployment.md)."""
    parts = [HEAD]
    for door, port, attr in (("mllp", mllp_port, "mllp_port"), ("http", http_port, "http_port")):
        parts.append(f"""
frontend {door}
    bind {bind}:{port}
    default_backend {door}-instances

backend {door}-instances
    balance leastconn
    option httpchk GET /readyz
    http-check expect status 200
    default-server inter 1s fall 2 rise 2 on-marked-down shutdown-sessions
""")
        parts += [f"    server {i.name} {i.host}:{getattr(i, attr)} check port {i.http_port}\n" for i in instances]
    if broker_port is not None:
        parts.append(f"""
frontend amqp
    bind {bind}:{broker_port}
    timeout client 3h
    default_backend rabbitmq-nodes

backend rabbitmq-nodes
    balance leastconn
    timeout server 3h
    default-server inter 1s fall 2 rise 2 on-marked-down shutdown-sessions
""")
        parts += [f"    server {name} 127.0.0.1:{port} check\n" for name, port in brokers or []]
    return "".join(parts)


@dataclass
class Balancer:
    """One foreground haproxy process and its ports."""

    folder: Path
    instances: list[Instance]
    brokers: list[tuple[str, int]] = field(default_factory=list)
    front_brokers: bool = True
    mllp_port: int = field(default_factory=free_port)
    http_port: int = field(default_factory=free_port)
    broker_port: int | None = None
    process: subprocess.Popen[bytes] | None = None

    @property
    def config_path(self) -> Path:
        """Where the configuration is written."""
        return self.folder / "haproxy.cfg"

    def start(self) -> None:
        """Write the configuration, check it, start haproxy and wait for its frontends."""
        if self.front_brokers and self.broker_port is None:
            self.broker_port = free_port()
        self.config_path.write_text(
            render_config(
                self.mllp_port,
                self.http_port,
                self.instances,
                self.broker_port if self.front_brokers else None,
                self.brokers,
            )
        )
        subprocess.run([HAPROXY, "-c", "-q", "-f", str(self.config_path)], check=True, timeout=30)
        log = (self.folder / "haproxy.log").open("ab")
        self.process = subprocess.Popen([HAPROXY, "-db", "-f", str(self.config_path)], stdout=log, stderr=log)
        log.close()
        deadline = time.monotonic() + 30
        ports = [self.mllp_port, self.http_port] + ([self.broker_port] if self.broker_port else [])
        while not all(_listening(p) for p in ports):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"haproxy did not start; see {self.folder / 'haproxy.log'}")
            time.sleep(0.2)

    def stop(self) -> None:
        """SIGTERM (hard stop of every session), SIGKILL if it lingers."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False
