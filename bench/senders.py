"""Closed-loop senders on threads, whatever the door: each sends its next order only after the answer.

An HL7 interface engine and an EHR's FHIR client both behave so: one order in flight per connection.
Each door (MLLP in ``hl7_load``, HTTP in ``fhir_load``) says whether one order was accepted; everything
else (the barrier so all start together, pacing, the deadline, the per-sender logs) is shared here.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol


class Door(Protocol):
    """One sender's connection to one of the hub's doors."""

    def send(self, control_id: str, placer: str) -> str | None:
        """Send one order; None when accepted, else why not. Raises OSError when no answer came."""

    def close(self) -> None:
        """Close the connection."""


@dataclass
class SenderLog:
    """What one sender did: (send time, latency) per accepted message, and every failure."""

    accepted: list[tuple[float, float]] = field(default_factory=list)
    placers: list[str] = field(default_factory=list)
    #: wall-clock (time.time) instant of each accepted answer, beside ``placers``: the workflow's arrival
    answered_at: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


@dataclass
class LoadResult:
    """Every sender's log plus the wall time of the sending phase."""

    logs: list[SenderLog]
    started: float
    elapsed: float

    @property
    def latencies(self) -> list[float]:
        """All answer latencies in seconds."""
        return [lat for log in self.logs for _, lat in log.accepted]

    @property
    def placers(self) -> set[str]:
        """Placer numbers whose order was accepted."""
        return {p for log in self.logs for p in log.placers}

    @property
    def arrivals(self) -> dict[str, float]:
        """Placer number -> wall-clock instant its acceptance arrived."""
        return {p: t for log in self.logs for p, t in zip(log.placers, log.answered_at, strict=True)}

    @property
    def failures(self) -> list[str]:
        """Messages that were not accepted, one line each."""
        return [f for log in self.logs for f in log.failures]


@dataclass(frozen=True)
class LoadPlan:
    """Who sends where, for how long, and (sustained run) at what total rate or (workflow) how many each."""

    ports: list[int]
    senders: int
    seconds: float
    tag: str
    rate: float | None = None
    host: str = "127.0.0.1"
    #: orders per sender, then stop (the workflow offers a fixed batch); None = until the deadline
    per_sender: int | None = None


def run_senders(plan: LoadPlan, open_door: Callable[[int, int], Door]) -> LoadResult:
    """Run every sender to the deadline; all connect first so the clock starts together.

    ``open_door(index, port)`` connects sender ``index``; senders are spread over ``plan.ports``.
    """
    logs = [SenderLog() for _ in range(plan.senders)]
    barrier = threading.Barrier(plan.senders + 1)
    clock: dict[str, float] = {}
    threads = [
        threading.Thread(target=_sender, args=(plan, open_door, i, logs[i], barrier, clock), daemon=True)
        for i in range(plan.senders)
    ]
    for thread in threads:
        thread.start()
    barrier.wait(60)
    clock["start"] = time.monotonic()
    barrier.wait(60)
    for thread in threads:
        thread.join(plan.seconds + 120)
    return LoadResult(logs, clock["start"], time.monotonic() - clock["start"])


def _sender(
    plan: LoadPlan,
    open_door: Callable[[int, int], Door],
    index: int,
    log: SenderLog,
    barrier: threading.Barrier,
    clock: dict[str, float],
) -> None:
    port = plan.ports[index % len(plan.ports)]
    try:
        door = open_door(index, port)
    except OSError as exc:
        log.failures.append(f"sender {index}: cannot connect to {port}: {exc}")
        barrier.wait(60)
        barrier.wait(60)
        return
    try:
        barrier.wait(60)
        barrier.wait(60)
        _send_until_deadline(plan, index, door, log, clock["start"])
    finally:
        door.close()


def _send_until_deadline(plan: LoadPlan, index: int, door: Door, log: SenderLog, start: float) -> None:
    interval = plan.senders / plan.rate if plan.rate else 0.0
    deadline = start + plan.seconds
    sequence = 0
    while (now := time.monotonic()) < deadline and (plan.per_sender is None or sequence < plan.per_sender):
        if interval:
            due = start + sequence * interval + index * interval / plan.senders
            if due > now:
                time.sleep(due - now)
        sequence += 1
        control_id = f"{plan.tag}{index:02d}{sequence:07d}"
        placer = f"{plan.tag}-{index}-{sequence}"
        sent = time.monotonic()
        try:
            refused = door.send(control_id, placer)
        except OSError as exc:  # the message is unacknowledged: the run must fail, not carry on quietly
            log.failures.append(f"{control_id}: no answer ({type(exc).__name__}: {exc})")
            return
        latency = time.monotonic() - sent
        if refused is None:
            log.accepted.append((sent, latency))
            log.placers.append(placer)
            log.answered_at.append(time.time())
        else:
            log.failures.append(f"{control_id}: refused: {refused}")
