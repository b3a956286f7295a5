"""The hub as real processes (``rxhub serve``, ``rxhub worker``, ``rxhub switch-connector``, ``rxhub switch-sim``)
that faults can kill.

Each child keeps its name across restarts; its stderr (JSON log lines) goes to ``<workdir>/<name>.log``,
appended on every restart, so the auditor can read the payer's decisions and the run's warnings afterwards.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx
import pika
import pika.exceptions as pe

from adapters.ncpdp.switch.connector import SWITCH_CONNECTOR_STEP
from tests.chaos.environment import ChaosEnvironment

REPO = Path(__file__).resolve().parents[2]
RXHUB = REPO / ".venv" / "bin" / "rxhub"
#: every worker step in one process: the chaos run starts two such processes so a kill never stops a step
ALL_STEPS = ("intake", "claim", "claim-responses", "verification", "fill", "payer-responses")


def rss_kb(pid: int) -> int:
    """Resident set size of one process in KiB (VmRSS), 0 once it has gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    match = re.search(r"^VmRSS:\s+(\d+)\s+kB", status, re.MULTILINE)
    return int(match.group(1)) if match else 0


@dataclass
class Child:
    """One named hub process and how to start it again."""

    name: str
    args: list[str]
    #: RXHUB_* variables for this child only (the routing file: a worker given it would run a connector too)
    extra_env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    log: IO[bytes] | None = None
    starts: int = 0

    @property
    def pid(self) -> int:
        """The current process id."""
        assert self.process is not None
        return self.process.pid

    def alive(self) -> bool:
        """True while the process runs (a stopped process counts as alive)."""
        return self.process is not None and self.process.poll() is None


@dataclass
class HubProcesses:
    """Starts, kills, pauses and stops the run's hub processes."""

    env: ChaosEnvironment
    children: dict[str, Child] = field(default_factory=dict)

    def add(self, name: str, args: list[str], extra_env: dict[str, str] | None = None) -> Child:
        """Register and start a child (``args`` after ``rxhub``)."""
        child = Child(name, args, extra_env or {})
        self.children[name] = child
        self.start(name)
        return child

    def start(self, name: str) -> None:
        """(Re)start a child with the run's environment."""
        child = self.children[name]
        if child.log is None:
            child.log = (self.env.workdir / f"{name}.log").open("ab")
        child.process = subprocess.Popen(
            [str(RXHUB), *child.args],
            cwd=REPO,
            env={**os.environ, **self.env.hub_env(), **child.extra_env},
            stdout=child.log,
            stderr=child.log,
        )
        child.starts += 1

    def kill(self, name: str) -> None:
        """SIGKILL: no clean shutdown, whatever the process was doing is cut off."""
        child = self.children[name]
        if child.alive():
            assert child.process is not None
            child.process.kill()
            child.process.wait(10)

    def pause(self, name: str) -> None:
        """SIGSTOP: the process keeps its connections but does nothing (a payer that stops answering)."""
        os.kill(self.children[name].pid, signal.SIGSTOP)

    def resume(self, name: str) -> None:
        """SIGCONT after ``pause``."""
        os.kill(self.children[name].pid, signal.SIGCONT)

    def workers(self) -> list[str]:
        """Names of the worker processes."""
        return [n for n in self.children if n.startswith("worker")]

    def connectors(self) -> list[str]:
        """Names of the switch connector processes."""
        return [n for n in self.children if n.startswith("switch-connector")]

    def rss(self) -> dict[str, int]:
        """RSS in KiB per running child."""
        return {n: rss_kb(c.pid) for n, c in self.children.items() if c.alive()}

    def dead(self) -> list[str]:
        """Children that exited on their own (a crash the faults did not cause)."""
        return [n for n, c in self.children.items() if not c.alive()]

    def stop(self) -> dict[str, int | None]:
        """SIGTERM everything (the clean path), SIGKILL what does not stop; returns exit codes."""
        for child in self.children.values():
            if child.alive():
                assert child.process is not None
                child.process.send_signal(signal.SIGCONT)
                child.process.terminate()
        codes: dict[str, int | None] = {}
        for name, child in self.children.items():
            assert child.process is not None
            try:
                codes[name] = child.process.wait(20)
            except subprocess.TimeoutExpired:
                child.process.kill()
                codes[name] = None
            if child.log is not None:
                child.log.close()
        return codes


def start_hub(
    env: ChaosEnvironment, *, worker_processes: int = 2, copies: int = 1, connector_processes: int = 2
) -> HubProcesses:
    """Listener, switch simulator, switch connectors and workers, returning once all of them are serving."""
    hub = HubProcesses(env)
    hub.add("serve", ["serve"])
    wait_for_doors(env)
    env.write_switch_routes()
    hub.add("switch-sim", switch_sim_args(env))
    for index in range(connector_processes):
        hub.add(f"switch-connector-{index}", ["switch-connector"], {"RXHUB_SWITCH_ROUTES": str(env.switch_routes)})
    for index in range(worker_processes):
        hub.add(f"worker-{index}", ["worker", *ALL_STEPS, "--copies", str(copies)])
    wait_for_consumers(env, f"{env.prefix}.intake", worker_processes * copies)
    wait_for_consumers(env, f"{env.prefix}.{SWITCH_CONNECTOR_STEP}", connector_processes)
    wait_for_switch(env)
    return hub


def switch_sim_args(env: ChaosEnvironment) -> list[str]:
    """``rxhub switch-sim`` with the run's ports, payer plan, journal and fault knob."""
    from tests.chaos.environment import PAYER_SIM_CONFIG

    return [
        "switch-sim",
        *("--port", str(env.switch_port), "--failover-port", str(env.failover_port)),
        *("--config", str(PAYER_SIM_CONFIG), "--journal", str(env.payer_journal)),
        *("--control", str(env.switch_control)),
    ]


def wait_for_switch(env: ChaosEnvironment, timeout_s: float = 60) -> None:
    """Until both of the simulated switch's listeners accept connections."""
    deadline = time.monotonic() + timeout_s
    for port in (env.switch_port, env.failover_port):
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the switch simulator is not listening on {port}; see switch-sim.log") from None
                time.sleep(0.1)


def wait_for_doors(env: ChaosEnvironment, timeout_s: float = 60) -> None:
    """Until the MLLP port accepts and ``/healthz`` answers."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", env.mllp_port), timeout=1).close()
            if httpx.get(f"http://127.0.0.1:{env.http_port}/healthz", timeout=2).status_code == 200:
                return
        except (OSError, httpx.HTTPError):
            pass
        time.sleep(0.2)
    raise RuntimeError("the hub's doors did not open in time; see serve.log")


def consumer_count(env: ChaosEnvironment, queue: str) -> int:
    """Consumers on a queue right now (0 when the queue or the broker is not there)."""
    try:
        conn = pika.BlockingConnection(pika.URLParameters(env.amqp_url))
    except pe.AMQPError:
        return 0
    try:
        return int(conn.channel().queue_declare(queue, passive=True).method.consumer_count)
    except pe.AMQPError:
        return 0
    finally:
        if conn.is_open:
            conn.close()


def wait_for_consumers(env: ChaosEnvironment, queue: str, wanted: int, timeout_s: float = 90) -> None:
    """Until ``wanted`` consumers read ``queue``."""
    deadline = time.monotonic() + timeout_s
    while consumer_count(env, queue) < wanted:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{queue} has fewer than {wanted} consumers after {timeout_s}s")
        time.sleep(0.3)
