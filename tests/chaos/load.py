"""The load generator: MLLP and FHIR senders on threads that behave like real interfaces under trouble.

A sender resends the same message (same MSH-10, same FHIR placer identifier) until it gets a positive
answer: that is what interface engines do, and what the hub's dedupe is for.  Only a positive answer
(AA/CA, HTTP 200/201) puts an order in the ledger's ``acked`` set, which is what the auditor holds the
hub to.  Some MLLP sends hang up before reading the ACK and resend on a new connection.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx

from hub.entrypoints.mllp_client import MllpClient
from tests.chaos.orders import ack_code, fhir_order, hl7_order


@dataclass
class Ledger:
    """What the senders sent and what the hub positively acknowledged, per placer number."""

    sent: dict[str, str] = field(default_factory=dict)
    acked: dict[str, str] = field(default_factory=dict)
    gave_up: dict[str, str] = field(default_factory=dict)
    counts: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, what: str, n: int = 1) -> None:
        """Count something a sender saw (retries, refusals, hang-ups)."""
        with self.lock:
            self.counts[what] += n


@dataclass(frozen=True)
class LoadPlan:
    """How many orders, over how long, through which doors."""

    orders: int
    duration_s: float
    mllp_senders: int = 4
    fhir_senders: int = 2
    fhir_share: float = 0.3
    hangup_share: float = 0.03
    give_up_s: float = 120.0


class LoadGenerator:
    """Paces ``plan.orders`` orders evenly over ``plan.duration_s`` across sender threads."""

    def __init__(self, plan: LoadPlan, mllp_port: int, http_port: int, feed_token: str, seed: int = 7) -> None:
        self.plan = plan
        self.ledger = Ledger()
        self._mllp_port = mllp_port
        self._http = f"http://127.0.0.1:{http_port}/fhir"
        self._token = feed_token
        self._random = random.Random(seed)
        fhir_every = round(1 / plan.fhir_share) if plan.fhir_share else 0
        self._queues: dict[str, list[tuple[int, str]]] = {"hl7": [], "fhir": []}
        for i in range(plan.orders):
            door = "fhir" if fhir_every and i % fhir_every == 1 else "hl7"
            self._queues[door].append((i, f"C{seed}X{i:06d}"))
        for queue in self._queues.values():
            queue.reverse()
        self._lock = threading.Lock()
        self._started = 0.0

    def run(self) -> Ledger:
        """Send everything; returns once every order is acknowledged or given up on."""
        self._started = time.monotonic()
        threads = [
            threading.Thread(target=self._mllp_sender, args=(i,), name=f"mllp-{i}", daemon=True)
            for i in range(self.plan.mllp_senders)
        ]
        threads += [
            threading.Thread(target=self._fhir_sender, name=f"fhir-{i}", daemon=True)
            for i in range(self.plan.fhir_senders)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return self.ledger

    def _take(self, door: str) -> tuple[int, str] | None:
        """The next order for this door, after waiting for its slot in the schedule."""
        with self._lock:
            if not self._queues[door]:
                return None
            index, placer = self._queues[door].pop()
        slot = self._started + index * self.plan.duration_s / max(self.plan.orders, 1)
        time.sleep(max(0.0, slot - time.monotonic()))
        return index, placer

    def _mllp_sender(self, number: int) -> None:
        client: MllpClient | None = None
        while (taken := self._take("hl7")) is not None:
            _, placer = taken
            control_id = f"CID{placer}"
            message = hl7_order(control_id, placer)
            with self.ledger.lock:
                self.ledger.sent[placer] = "hl7"
            client = self._deliver(client, placer, control_id, message)
        if client is not None:
            client.close()

    def _deliver(self, client: MllpClient | None, placer: str, control_id: str, message: bytes) -> MllpClient | None:
        """Send until AA/CA; returns the (possibly new) open connection."""
        deadline = time.monotonic() + self.plan.give_up_s
        while time.monotonic() < deadline:
            try:
                if client is None:
                    client = MllpClient("127.0.0.1", self._mllp_port, timeout_s=20)
                if self._random.random() < self.plan.hangup_share:
                    client.sock.sendall(b"\x0b" + message + b"\x1c\r")
                    client.close()  # gone before the ACK: the hub must not store the order twice
                    client = None
                    self.ledger.note("mllp hung up before the ACK, then resent")
                    continue
                code = ack_code(client.send(message), control_id)
            except (OSError, ConnectionError):
                if client is not None:
                    client.close()
                client = None
                self.ledger.note("mllp connection lost, resent")
                time.sleep(0.3)
                continue
            if code in ("AA", "CA"):
                with self.ledger.lock:
                    self.ledger.acked[placer] = "hl7"
                return client
            self.ledger.note(f"mllp answered {code}, resent")
            if code in ("AE", "CE"):  # the content is wrong: resending cannot help
                break
            time.sleep(0.5)
        with self.ledger.lock:
            self.ledger.gave_up[placer] = "hl7"
        return client

    def _fhir_sender(self) -> None:
        headers = {"Authorization": f"Bearer {self._token}", "Content-Type": "application/fhir+json"}
        with httpx.Client(base_url=self._http, headers=headers, timeout=30) as http:
            while (taken := self._take("fhir")) is not None:
                _, placer = taken
                with self.ledger.lock:
                    self.ledger.sent[placer] = "fhir"
                self._post(http, placer)

    def _post(self, http: httpx.Client, placer: str) -> None:
        body = fhir_order(placer)
        deadline = time.monotonic() + self.plan.give_up_s
        while time.monotonic() < deadline:
            try:
                status = http.post("/MedicationRequest", content=body).status_code
            except (OSError, httpx.HTTPError):
                self.ledger.note("fhir connection lost, resent")
                time.sleep(0.3)
                continue
            if status in (200, 201):
                with self.ledger.lock:
                    self.ledger.acked[placer] = "fhir"
                return
            self.ledger.note(f"fhir answered {status}, resent")
            if 400 <= status < 500 and status not in (408, 409, 429):
                break
            time.sleep(0.5)
        with self.ledger.lock:
            self.ledger.gave_up[placer] = "fhir"
