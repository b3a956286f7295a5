"""Proof that speed was not bought with loss: every AA'd order is stored once and announced once.

Two independent witnesses after the hub drains: rows in the ``prescriptions`` table (by placer number)
and ``prescription.received`` events consumed from a queue of our own bound to ``<prefix>.events``, counted
by the placer number they announce.  The queue is consumed as the events come, as a real subscriber does:
left to fill for a ten-minute sustained run it held every event of the run, and RabbitMQ's paging of that
queue was part of what the run measured.  With no workers running (listeners only), the witness is the
intake queue itself: one command per AA'd message.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import pika
from pydantic import BaseModel, ConfigDict
from sqlalchemy import Engine, func, select

from bench.event_tap import EventTap
from hub.messaging.topology import Topology
from hub.persistence.database import make_engine
from hub.persistence.tables import outbox, prescriptions

RECEIVED = "prescription.received"


class DeliveryReport(BaseModel):
    """What the witnesses saw for one scenario's accepted messages."""

    model_config = ConfigDict(frozen=True)

    acked: int
    stored: int
    events: int
    missing: int
    unexpected: int
    unacked: int
    drain_s: float
    backlog_at_end: int
    #: "stored+events" normally; "intake-queue" when no worker runs
    witness: str = "stored+events"
    #: seconds after the senders stopped until the hub was idle again: every work queue empty and every outbox
    #: row published (the steps after intake included); None when not waited for
    settled_s: float | None = None

    @property
    def lossless(self) -> bool:
        """Every AA'd order stored and announced exactly once, and no message left without an AA."""
        if self.witness == "intake-queue":
            return self.unacked == 0 and self.backlog_at_end == self.acked
        return (
            self.unacked == 0
            and self.missing == 0
            and self.unexpected == 0
            and self.stored == self.acked
            and self.events == self.acked
        )


class DeliveryWitness:
    """Counts stored orders and received events; owns one bench queue on the run's vhost."""

    def __init__(self, amqp_url: str, database_url: str, topology: Topology) -> None:
        self._params = pika.URLParameters(amqp_url)
        self._topology = topology
        self._engine: Engine = make_engine(database_url)
        self.events_queue = f"{topology.prefix}.bench-received"
        self._tap = EventTap(amqp_url, topology.events_exchange, self.events_queue, binding=RECEIVED)

    def bind(self) -> None:
        """Declare our event queue (classic, durable), bind it to the events exchange and consume it."""
        self._tap.start()

    def reset_events(self) -> None:
        """Forget the events seen so far so the next scenario counts only its own."""
        self._tap.clear()

    def announced(self, tag: str) -> Counter[str]:
        """How many ``prescription.received`` events announced each placer number of one scenario."""
        if self._tap.error:
            raise RuntimeError(f"the delivery witness stopped consuming events: {self._tap.error}")
        return Counter(
            seen.placer
            for seen in self._tap.snapshot()
            if seen.placer is not None and seen.placer.startswith(f"{tag}-")
        )

    def queue_depth(self, name: str) -> tuple[int, int]:
        """(ready messages, consumers) of a queue."""
        result = self._with_channel(lambda ch: ch.queue_declare(name, passive=True))
        return int(result.method.message_count), int(result.method.consumer_count)

    def intake_depth(self) -> int:
        """Commands waiting for the intake workers."""
        return self.queue_depth(self._topology.work_queue("intake"))[0]

    def intake_consumers(self) -> int:
        """Intake consumers attached (readiness of split workers)."""
        return self.queue_depth(self._topology.work_queue("intake"))[1]

    def outbox_pending(self) -> int:
        """Outbox rows not yet published (events the relay still owes)."""
        with self._engine.connect() as conn:
            count = conn.execute(select(func.count()).select_from(outbox).where(outbox.c.published_at.is_(None)))
            return int(count.scalar_one())

    def stored_placers(self, tag: str) -> list[str]:
        """Placer numbers stored for one scenario (its tag prefixes every placer number)."""
        query = select(prescriptions.c.placer_order_number).where(prescriptions.c.placer_order_number.like(f"{tag}-%"))
        with self._engine.connect() as conn:
            return [row[0] for row in conn.execute(query)]

    def await_drained(self, tag: str, accepted: set[str], unacked: int, timeout_s: float) -> DeliveryReport:
        """Wait until the hub has stored and announced everything accepted (or time out), then compare."""
        started = time.monotonic()
        backlog = self.intake_depth()
        stored: list[str] = []
        while time.monotonic() - started < timeout_s:
            stored = self.stored_placers(tag)
            if len(stored) >= len(accepted) and sum(self.announced(tag).values()) >= len(accepted):
                break
            time.sleep(0.25)
        drain = time.monotonic() - started
        time.sleep(0.5)  # late duplicates would show up now rather than in the next scenario
        stored = self.stored_placers(tag)
        announced = self.announced(tag)
        as_set = set(stored)
        unannounced = len(accepted - set(announced))
        return DeliveryReport(
            acked=len(accepted),
            stored=len(stored),
            events=sum(announced.values()),
            missing=len(accepted - as_set) + unannounced,
            unexpected=(
                len(as_set - accepted)
                + (len(stored) - len(as_set))
                + len(set(announced) - accepted)
                + sum(n - 1 for n in announced.values() if n > 1)
            ),
            unacked=unacked,
            drain_s=round(drain, 2),
            backlog_at_end=backlog,
        )

    def await_settled(self, started: float, timeout_s: float) -> float | None:
        """Wait until every step's work queue is empty and the outbox published, twice in a row half a second
        apart (a step may be about to publish into an empty queue); seconds since ``started`` (monotonic),
        None on timeout."""
        queues = [self._topology.work_queue(step) for step in self._topology.steps]
        quiet = 0
        while time.monotonic() - started < timeout_s:
            busy = any(self.queue_depth(name)[0] for name in queues) or self.outbox_pending()
            quiet = 0 if busy else quiet + 1
            if quiet == 2:
                return round(time.monotonic() - started - 0.5, 2)
            time.sleep(0.5)
        return None

    def count_queued(self, accepted: set[str], unacked: int) -> DeliveryReport:
        """Listeners-only runs: the intake queue must hold exactly one command per AA; then empty it."""
        started, queued = time.monotonic(), self.intake_depth()
        while queued < len(accepted) and time.monotonic() - started < 10:
            time.sleep(0.25)
            queued = self.intake_depth()
        self._with_channel(lambda ch: ch.queue_purge(self._topology.work_queue("intake")))
        return DeliveryReport(
            acked=len(accepted),
            stored=0,
            events=0,
            missing=max(len(accepted) - queued, 0),
            unexpected=max(queued - len(accepted), 0),
            unacked=unacked,
            drain_s=round(time.monotonic() - started, 2),
            backlog_at_end=queued,
            witness="intake-queue",
        )

    def close(self) -> None:
        """Stop consuming (the queue is deleted) and release the database engine."""
        self._tap.stop()
        self._engine.dispose()

    def _with_channel(self, action: Any) -> Any:
        # a short-lived connection per question: a long idle BlockingConnection would miss heartbeats
        connection = pika.BlockingConnection(self._params)
        try:
            return action(connection.channel())
        finally:
            connection.close()
