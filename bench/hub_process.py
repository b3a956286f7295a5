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
_PORT_LINE = re.compile(r"MLLP on [^\s,]*:(\d+)(?:, HTTP on https?://[^\s]*:(\d+))?")
#: every worker step, as ``rxhub worker`` names them (the split layout runs the whole workflow)
#: the simulated payer's process name (the insurer's side: not counted as the hub's CPU or memory)
PAYER_SIM = "rxhub-payer-sim"
ALL_STEPS = ("intake", "claim", "claim-responses", "verification", "fill", "payer-responses")


class Hub(Protocol):
    """What the scenarios need from a running hub, whatever its shape."""

    layout: str

    @property
    def mllp_ports(self) -> list[int]: ...

    @property
    def http_ports(self) -> list[int]: ...

    def rss_kb(self) -> dict[str, int]: ...

    def pids(self) -> dict[str, int]: ...


def descendants(pid: int) -> list[int]:
    """Child processes (and theirs) of ``pid``: ``rxhub run --worker-processes N`` forks its workers."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], list(parents.get(pid, []))
    while todo:
        child = todo.pop()
        found.append(child)
        todo.extend(parents.get(child, []))
    return found


def cpu_s(pids: list[int]) -> float:
    """User + system CPU seconds the processes have used so far (a process that has gone counts 0)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / os.sysconf("SC_CLK_TCK")


#: the machine's services by process name (``/proc/<pid>/comm``), for the CPU they spend during a scenario
SERVICES = {"postgres": "PostgreSQL", "beam.smp": "RabbitMQ"}


def service_pids() -> dict[str, list[int]]:
    """Every process of PostgreSQL and RabbitMQ on this machine (they serve other clients too: read the figures
    of a quiet machine)."""
    found: dict[str, list[int]] = {}
    for comm in Path("/proc").glob("[0-9]*/comm"):
        try:
            name = SERVICES.get(comm.read_text().strip())
        except OSError:
            continue
        if name is not None:
            found.setdefault(name, []).append(int(comm.parent.name))
    return found


#: the first word of a hub process's name in the CPU figures
HUB_GROUP = "hub "
#: the payer simulator's group in them (the insurer, outside the hub)
PAYER_GROUP = "payer simulator"


def machine_groups(hub: Hub) -> dict[str, list[int]]:
    """Where the machine's CPU goes: each hub process (``hub <name>``), the payer simulator (the insurer, outside
    the hub) when one runs, every PostgreSQL and RabbitMQ process, and this process (the load generator)."""
    found = hub.pids()
    payer = [pid for name, pid in found.items() if name.startswith(PAYER_SIM)]
    return {
        **{HUB_GROUP + name: [pid] for name, pid in found.items() if not name.startswith(PAYER_SIM)},
        **({PAYER_GROUP: payer} if payer else {}),
        **service_pids(),
        "load generator (bench)": [os.getpid()],
    }


def cpu_snapshot(groups: dict[str, list[int]]) -> dict[int, float]:
    """CPU seconds so far of every process of the groups, by pid."""
    return {pid: cpu_s([pid]) for group in groups.values() for pid in group}


def cpu_ms_per(
    groups: dict[str, list[int]], before: dict[int, float], count: int, after: dict[int, float] | None = None
) -> dict[str, float]:
    """CPU milliseconds per item of each group between two snapshots (``after``: now); a process not in
    ``before`` (a database session opened meanwhile) counts whole."""
    now = cpu_snapshot(groups) if after is None else after
    return {
        name: round(1000 * sum(now.get(pid, 0.0) - before.get(pid, 0.0) for pid in group) / max(count, 1), 2)
        for name, group in groups.items()
    }


def switches(pid: int) -> int:
    """Context switches so far of the process's live threads, voluntary (a wait: a round trip, a lock, a poll)
    and not (preempted). The machine's speed moves them far less than CPU time (interpreter-lock contention
    still moves a worker's by about 15% from run to run): fewer round trips and wake-ups per order show here
    when the machine is too noisy for the CPU figures to tell."""
    total = 0
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return 0
    for task in tasks:
        try:
            status = (task / "status").read_text()
        except OSError:
            continue
        total += sum(int(n) for n in re.findall(r"^(?:non)?voluntary_ctxt_switches:\s+(\d+)", status, re.MULTILINE))
    return total


def switch_snapshot(groups: dict[str, list[int]]) -> dict[int, int]:
    """Context switches so far of every process of the groups, by pid."""
    return {pid: switches(pid) for group in groups.values() for pid in group}


def switches_per(
    groups: dict[str, list[int]], before: dict[int, int], count: int, after: dict[int, int] | None = None
) -> dict[str, float]:
    """Context switches per item of each group between two snapshots (a thread that ended meanwhile is lost)."""
    now = switch_snapshot(groups) if after is None else after
    return {
        name: round(sum(now.get(pid, 0) - before.get(pid, 0) for pid in group) / max(count, 1), 1)
        for name, group in groups.items()
    }


def hub_total(per_group: dict[str, float]) -> float:
    """The hub's processes together, from ``cpu_ms_per``'s figures."""
    return round(sum(ms for name, ms in per_group.items() if name.startswith(HUB_GROUP)), 2)


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
    http_port: int | None = None


@dataclass
class ChildProcessHub:
    """Listener and worker processes started with ``python -m hub.entrypoints.cli``."""

    env: BenchEnvironment
    layout: str
    log_level: str = "INFO"
    listeners: int = 1
    workers: int = 1
    copies: int = 1
    #: ``rxhub run --worker-processes N`` (all-in-one layout only; 0 = workers on threads of the one process,
    #: None = rxhub run's default)
    worker_processes: int | None = None
    #: more RXHUB_* variables (the workflow scenario's payer coverage)
    extra_env: dict[str, str] = field(default_factory=dict)
    children: list[_Child] = field(default_factory=list)

    @property
    def mllp_ports(self) -> list[int]:
        """Every listening MLLP port (one per listener process)."""
        return [c.port for c in self.children if c.port is not None]

    @property
    def http_ports(self) -> list[int]:
        """Every listening HTTP port (one per listener process)."""
        return [c.http_port for c in self.children if c.http_port is not None]

    def pids(self) -> dict[str, int]:
        """Process id of every hub process, forked workers included (for py-spy)."""
        found = {}
        for child in self.children:
            found[child.name] = child.process.pid
            for index, pid in enumerate(descendants(child.process.pid)):
                found[f"{child.name}/child-{index}"] = pid
        return found

    def rss_kb(self) -> dict[str, int]:
        """RSS per hub process, forked workers included."""
        return {name: rss_kb(pid) for name, pid in self.pids().items()}

    def start(self, intake_consumers: Callable[[], int]) -> None:
        """Start every process and return once each listener printed its port and workers consume."""
        copies = ["--copies", str(self.copies)]
        if self.layout == "all-in-one":
            forks = ["--worker-processes", str(self.worker_processes)] if self.worker_processes is not None else []
            self._spawn("rxhub-run", ["run", *copies, *forks], listens=True)
            self._await_consumers(intake_consumers, max(1, self.worker_processes or 0) * self.copies)
            return
        for index in range(self.listeners):
            self._spawn(f"rxhub-serve-{index}", ["serve"], listens=True)
        for index in range(self.workers):
            self._spawn(f"rxhub-worker-{index}", ["worker", *ALL_STEPS, *copies], listens=False)
        self._await_consumers(intake_consumers, self.workers * self.copies)

    def _await_consumers(self, intake_consumers: Callable[[], int], wanted: int) -> None:
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

    def spawn_payer_sim(self, consumers: Callable[[], int]) -> None:
        """``rxhub payer-sim`` (hub/data/payer-sim.json) as one more child; returns once it consumes claims."""
        self._spawn(PAYER_SIM, ["payer-sim"], listens=False)
        self._await_consumers(consumers, 1)

    def _spawn(self, name: str, args: list[str], *, listens: bool) -> None:
        log = (self.env.workdir / f"{name}.log").open("w")
        process = subprocess.Popen(
            [sys.executable, "-m", "hub.entrypoints.cli", *args],
            cwd=REPO,
            env={**os.environ, **self.env.hub_env(self.log_level), **self.extra_env},
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
        child = _Child(name, process, log)
        self.children.append(child)
        if listens:
            child.port, child.http_port = _read_ports(process, name, Path(log.name))

    def _check_alive(self) -> None:
        for child in self.children:
            if child.process.poll() is not None:
                raise RuntimeError(
                    f"{child.name} exited with {child.process.returncode}:\n{_log_tail(Path(child.log.name))}"
                )


def _log_tail(path: Path, lines: int = 15) -> str:
    """The end of a child's log, for an error message that says why it died."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _read_ports(
    process: subprocess.Popen[str], name: str, log: Path, timeout_s: float = 60.0
) -> tuple[int, int | None]:
    """Wait for the 'MLLP on host:port, HTTP on ...' line, then keep draining stdout so the child never blocks."""
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
                return int(match.group(1)), int(match.group(2)) if match.group(2) else None
    raise RuntimeError(f"{name} did not report its MLLP port within {timeout_s}s")


@dataclass
class InProcessHub:
    """The hub on threads of the benchmark process (``running_hub``): quicker to debug, less realistic."""

    ports: list[int]
    http: list[int]
    layout: str = "inprocess"

    @property
    def mllp_ports(self) -> list[int]:
        """The one listener's port."""
        return self.ports

    @property
    def http_ports(self) -> list[int]:
        """The one HTTP port."""
        return self.http

    def pids(self) -> dict[str, int]:
        """This process: the hub runs on its threads."""
        return {"bench+hub": os.getpid()}

    def rss_kb(self) -> dict[str, int]:
        """RSS of this whole process, load generator included."""
        return {"bench+hub": rss_kb(os.getpid())}


@dataclass(frozen=True)
class HubShape:
    """How to start the hub: layout, process counts, consumer copies, extra RXHUB_* variables."""

    layout: str
    log_level: str = "INFO"
    listeners: int = 1
    workers: int = 1
    copies: int = 1
    worker_processes: int | None = None
    extra_env: dict[str, str] = field(default_factory=dict)


@contextmanager
def started_hub(
    env: BenchEnvironment,
    shape: HubShape,
    *,
    intake_consumers: Callable[[], int],
    exit_codes: dict[str, int | None],
    payer_consumers: Callable[[], int] | None = None,
    prefix: str = "",
) -> Iterator[Hub]:
    """Start the hub (and the simulated payer when ``payer_consumers`` is given); stop all on exit.

    Exit codes land in ``exit_codes`` under ``prefix`` + process name.
    """
    if shape.layout == "inprocess":
        with _in_process(env, shape) as hub:
            yield hub
        return
    children = ChildProcessHub(
        env,
        shape.layout,
        shape.log_level,
        shape.listeners,
        shape.workers,
        shape.copies,
        shape.worker_processes,
        dict(shape.extra_env),
    )
    try:
        children.start(intake_consumers)
        if payer_consumers is not None:
            children.spawn_payer_sim(payer_consumers)
        yield children
    finally:
        exit_codes.update({prefix + name: code for name, code in children.stop().items()})


def _in_process(env: BenchEnvironment, shape: HubShape) -> AbstractContextManager[InProcessHub]:
    from hub.entrypoints.inprocess import running_hub

    settings = env.settings(shape.log_level, shape.extra_env)

    @contextmanager
    def run() -> Iterator[InProcessHub]:
        with running_hub(settings, copies=shape.copies) as hub:
            yield InProcessHub([hub.mllp_port], [hub.http_port])

    return run()
