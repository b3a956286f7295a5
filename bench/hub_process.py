"""The hub under test: ``rxhub run`` (or split listeners and workers) as child processes, or in-process.

Child processes are the realistic form: the load generator then competes with the hub only for CPU, as
a real sender on the same box would, and the hub's RSS is its own (read from /proc, psutil is not here).
"""

from __future__ import annotations

import contextlib
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Protocol

from bench.environment import BenchEnvironment

REPO = Path(__file__).resolve().parents[1]
_PORT_LINE = re.compile(r"MLLP on [^\s,]*:(\d+)")


class Hub(Protocol):
    """What the scenarios need from a running hub, whatever its shape."""

    layout: str

    @property
    def mllp_ports(self) -> list[int]: ...

    def rss_kb(self) -> dict[str, int]: ...


def rss_kb(pid: int) -> int:
    """Resident set size of one process in KiB (VmRSS), 0 once it has gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    match = re.search(r"^VmRSS:\s+(\d+)\s+kB", status, re.MULTILINE)
    return int(match.group(1)) if match else 0


@dataclass
class _Child:
    name: str
    process: subprocess.Popen[str]
    log: IO[str]
    port: int | None = None


@dataclass
class ChildProcessHub:
    """Listener and worker processes started with ``python -m hub.entrypoints.cli``."""

    env: BenchEnvironment
    layout: str
    log_level: str = "INFO"
    listeners: int = 1
    workers: int = 1
    copies: int = 1
    children: list[_Child] = field(default_factory=list)

    @property
    def mllp_ports(self) -> list[int]:
        """Every listening MLLP port (one per listener process)."""
        return [c.port for c in self.children if c.port is not None]

    def rss_kb(self) -> dict[str, int]:
        """RSS per child process."""
        return {c.name: rss_kb(c.process.pid) for c in self.children}

    def start(self, intake_consumers: Callable[[], int]) -> None:
        """Start every process and return once each listener printed its port and workers consume."""
        copies = ["--copies", str(self.copies)]
        if self.layout == "all-in-one":
            self._spawn("rxhub-run", ["run", *copies], listens=True)
            return
        for index in range(self.listeners):
            self._spawn(f"rxhub-serve-{index}", ["serve"], listens=True)
        for index in range(self.workers):
            self._spawn(f"rxhub-worker-{index}", ["worker", "intake", *copies], listens=False)
        wanted = self.workers * self.copies
        deadline = time.monotonic() + 60
        while intake_consumers() < wanted:
            if time.monotonic() > deadline:
                raise RuntimeError(f"workers did not start consuming (wanted {wanted} consumers)")
            self._check_alive()
            time.sleep(0.2)

    def stop(self) -> dict[str, int | None]:
        """SIGTERM everything (the hub's clean shutdown path), then wait; returns exit codes."""
        for child in self.children:
            if child.process.poll() is None:
                child.process.send_signal(signal.SIGTERM)
        codes: dict[str, int | None] = {}
        for child in self.children:
            try:
                codes[child.name] = child.process.wait(20)
            except subprocess.TimeoutExpired:
                child.process.kill()
                codes[child.name] = None
            child.log.close()
        return codes

    def _spawn(self, name: str, args: list[str], *, listens: bool) -> None:
        log = (self.env.workdir / f"{name}.log").open("w")
        process = subprocess.Popen(
            [sys.executable, "-m", "hub.entrypoints.cli", *args], cwd=REPO,
            env={**os.environ, **self.env.hub_env(self.log_level)},
            stdout=subprocess.PIPE, stderr=log, text=True,
        )
        child = _Child(name, process, log)
        self.children.append(child)
        if listens:
            child.port = _read_port(process, name, Path(log.name))

    def _check_alive(self) -> None:
        for child in self.children:
            if child.process.poll() is not None:
                raise RuntimeError(f"{child.name} exited with {child.process.returncode}:\n"
                                   f"{_log_tail(Path(child.log.name))}")



def _log_tail(path: Path, lines: int = 15) -> str:
    """The end of a child's log, for an error message that says why it died."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _read_port(process: subprocess.Popen[str], name: str, log: Path, timeout_s: float = 60.0) -> int:
    """Wait for the 'MLLP on host:port' line, then keep draining stdout so the child never blocks."""
    lines: queue.Queue[str] = queue.Queue()
    assert process.stdout is not None
    stdout = process.stdout

    def pump() -> None:
        for line in stdout:
            lines.put(line)

    threading.Thread(target=pump, name=f"{name}-stdout", daemon=True).start()
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode} before listening:\n{_log_tail(log)}")
        with contextlib.suppress(queue.Empty):
            match = _PORT_LINE.search(lines.get(timeout=0.2))
            if match:
                return int(match.group(1))
    raise RuntimeError(f"{name} did not report its MLLP port within {timeout_s}s")


@dataclass
class InProcessHub:
    """The hub on threads of the benchmark process (``running_hub``): quicker to debug, less realistic."""

    ports: list[int]
    layout: str = "inprocess"

    @property
    def mllp_ports(self) -> list[int]:
        """The one listener's port."""
        return self.ports

    def rss_kb(self) -> dict[str, int]:
        """RSS of this whole process, load generator included."""
        return {"bench+hub": rss_kb(os.getpid())}


@contextmanager
def started_hub(env: BenchEnvironment, layout: str, *, log_level: str, listeners: int, workers: int,
                copies: int, intake_consumers: Callable[[], int],
                exit_codes: dict[str, int | None]) -> Iterator[Hub]:
    """Start the hub in the chosen layout and stop it on exit (exit codes land in ``exit_codes``)."""
    if layout == "inprocess":
        with _in_process(env, log_level, copies) as hub:
            yield hub
        return
    children = ChildProcessHub(env, layout, log_level, listeners, workers, copies)
    try:
        children.start(intake_consumers)
        yield children
    finally:
        exit_codes.update(children.stop())


def _in_process(env: BenchEnvironment, log_level: str, copies: int) -> AbstractContextManager[InProcessHub]:
    from hub.entrypoints.inprocess import running_hub

    @contextmanager
    def run() -> Iterator[InProcessHub]:
        with running_hub(env.settings(log_level), copies=copies) as hub:
            yield InProcessHub([hub.mllp_port])

    return run()
