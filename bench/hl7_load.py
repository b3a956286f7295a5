"""The HL7 load generator: blocking MLLP senders on threads, each waiting for its ACK like an EHR does.

Every message is the sample order with a fresh MSH-10, ORC-2 placer number and patient (PID-3 MRN and
PID-5 family name: intake matches patients on either), so dedupe never
hides a message, every ACK can be matched to exactly one stored prescription, and no patient collects
thousands of orders (intake reads the patient's whole profile for DUR, so one shared patient would make
each order slower than the last).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from hub.entrypoints.mllp_client import MllpClient

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "hl7" / "01_rde_o11_retail_amoxicillin.hl7"
_CID, _PLACER, _MRN, _NAME = "\x00CID\x00", "\x00PLACER\x00", "\x00MRN\x00", "\x00NAME\x00"


class OrderTemplate:
    """A one-order message whose MSH-10, PID-3.1, PID-5.1 and ORC-2.1 are filled in per message."""

    def __init__(self, raw: bytes) -> None:
        text = raw.decode("utf-8").replace("\r\n", "\r").replace("\n", "\r").strip("\r")
        segments = [self._mark(s) for s in text.split("\r")]
        head, rest = "\r".join(segments).split(_CID)
        before_mrn, rest = rest.split(_MRN)
        before_name, rest = rest.split(_NAME)
        before_placer, tail = rest.split(_PLACER)
        self._parts = tuple(p.encode() for p in (head, before_mrn, before_name, before_placer, tail + "\r"))

    @staticmethod
    def _mark(segment: str) -> str:
        fields = segment.split("|")
        if fields[0] == "MSH":
            fields[9] = _CID
        elif fields[0] == "PID":
            fields[3] = "^".join([_MRN, *fields[3].split("~")[0].split("^")[1:]])
            fields[5] = "^".join([_NAME, *fields[5].split("~")[0].split("^")[1:]])
        elif fields[0] == "ORC":
            fields[2] = "^".join([_PLACER, *fields[2].split("^")[1:]])
        return "|".join(fields)

    def render(self, control_id: str, placer: str) -> bytes:
        """The message bytes for one control id and placer order number (the patient is the placer's twin)."""
        head, before_mrn, before_name, before_placer, tail = self._parts
        key = placer.encode()
        return b"".join((head, control_id.encode(), before_mrn, b"M", key, before_name, b"Pt", key, before_placer,
                         key, tail))


def ack_accepts(ack: bytes, control_id: str) -> bool:
    """True for an MSA-1 of AA (or CA) whose MSA-2 echoes our MSH-10."""
    for segment in ack.replace(b"\n", b"\r").split(b"\r"):
        if segment.startswith(b"MSA"):
            fields = segment.split(segment[3:4])
            return len(fields) > 2 and fields[1] in (b"AA", b"CA") and fields[2] == control_id.encode()
    return False


@dataclass
class SenderLog:
    """What one sender did: (send time, latency) per accepted message, and every failure."""

    accepted: list[tuple[float, float]] = field(default_factory=list)
    placers: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


@dataclass
class LoadResult:
    """Every sender's log plus the wall time of the sending phase."""

    logs: list[SenderLog]
    started: float
    elapsed: float

    @property
    def latencies(self) -> list[float]:
        """All ACK latencies in seconds."""
        return [lat for log in self.logs for _, lat in log.accepted]

    @property
    def placers(self) -> set[str]:
        """Placer numbers whose message got an AA."""
        return {p for log in self.logs for p in log.placers}

    @property
    def failures(self) -> list[str]:
        """Messages that were not accepted, one line each."""
        return [f for log in self.logs for f in log.failures]


@dataclass(frozen=True)
class LoadPlan:
    """Who sends where, for how long, and (for the sustained run) at what total rate."""

    ports: list[int]
    senders: int
    seconds: float
    tag: str
    rate: float | None = None
    host: str = "127.0.0.1"


def run_load(plan: LoadPlan, template: OrderTemplate) -> LoadResult:
    """Run every sender to the deadline; all connect first so the clock starts together."""
    logs = [SenderLog() for _ in range(plan.senders)]
    barrier = threading.Barrier(plan.senders + 1)
    clock: dict[str, float] = {}
    threads = [
        threading.Thread(target=_sender, args=(plan, template, i, logs[i], barrier, clock), daemon=True)
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


def _sender(plan: LoadPlan, template: OrderTemplate, index: int, log: SenderLog,
            barrier: threading.Barrier, clock: dict[str, float]) -> None:
    port = plan.ports[index % len(plan.ports)]
    try:
        client = MllpClient(plan.host, port, timeout_s=30)
    except OSError as exc:
        log.failures.append(f"sender {index}: cannot connect to {port}: {exc}")
        barrier.wait(60)
        barrier.wait(60)
        return
    with client:
        barrier.wait(60)
        barrier.wait(60)
        _send_until_deadline(plan, template, index, client, log, clock["start"])


def _send_until_deadline(plan: LoadPlan, template: OrderTemplate, index: int, client: MllpClient,
                         log: SenderLog, start: float) -> None:
    interval = plan.senders / plan.rate if plan.rate else 0.0
    deadline = start + plan.seconds
    sequence = 0
    while (now := time.monotonic()) < deadline:
        if interval:
            due = start + sequence * interval + index * interval / plan.senders
            if due > now:
                time.sleep(due - now)
        sequence += 1
        control_id = f"{plan.tag}{index:02d}{sequence:07d}"
        placer = f"{plan.tag}-{index}-{sequence}"
        message = template.render(control_id, placer)
        sent = time.monotonic()
        try:
            ack = client.send(message)
        except OSError as exc:  # the message is unacknowledged: the run must fail, not carry on quietly
            log.failures.append(f"{control_id}: no ACK ({type(exc).__name__}: {exc})")
            return
        latency = time.monotonic() - sent
        if ack_accepts(ack, control_id):
            log.accepted.append((sent, latency))
            log.placers.append(placer)
        else:
            log.failures.append(f"{control_id}: refused: {ack[:200]!r}")
