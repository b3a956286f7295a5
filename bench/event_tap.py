"""A subscriber of our own on ``<prefix>.events``: every public event, with the hub's timestamp, as it happens.

The workflow scenario reads where each order's time goes from these (CloudEvents ``time`` is stamped in
the transaction that recorded the step, so the gap between two events is what the later step added,
queueing included) and knows an order is done when its ``prescription.ready`` arrives.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import datetime

import pika
from pika.adapters.blocking_connection import BlockingChannel
from pika.spec import Basic, BasicProperties

RECEIVED, READY = "prescription.received", "prescription.ready"
#: events after which an order will not reach READY without a person (the run counts them as failures)
DEAD_ENDS = (
    "claim.rejected",
    "prescription.rejected",
    "fill.rejected",
    "prescription.cancelled",
    "claim.reversal_required",
)


@dataclass(frozen=True)
class Seen:
    """One event as the tap saw it."""

    event_id: str
    type: str
    subject: str
    at: float
    placer: str | None


class EventTap:
    """Consumes a private queue bound to every event on a thread; ``events`` grows while it runs."""

    def __init__(self, amqp_url: str, exchange: str, queue: str, binding: str = "#") -> None:
        self._params = pika.URLParameters(amqp_url)
        self._exchange, self._queue, self._binding = exchange, queue, binding
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="event-tap", daemon=True)
        self._ready = threading.Event()
        self.events: list[Seen] = []
        self.ready_subjects: set[str] = set()
        self.error: str | None = None

    def start(self) -> None:
        """Declare and bind the queue, then consume; returns once consuming."""
        self._thread.start()
        if not self._ready.wait(30):
            raise RuntimeError(f"event tap did not start: {self.error}")

    def stop(self) -> None:
        """Stop consuming and delete the queue."""
        self._stop.set()
        self._thread.join(30)

    def snapshot(self) -> list[Seen]:
        """The events seen so far."""
        with self._lock:
            return list(self.events)

    def clear(self) -> None:
        """Forget what was seen (the next scenario counts only its own events)."""
        with self._lock:
            self.events.clear()
            self.ready_subjects.clear()

    def _run(self) -> None:
        try:
            connection = pika.BlockingConnection(self._params)
            channel = connection.channel()
            channel.queue_declare(self._queue, durable=True)
            channel.queue_bind(self._queue, self._exchange, self._binding)
            channel.basic_qos(prefetch_count=500)
            channel.basic_consume(self._queue, self._on_message, auto_ack=True)
            self._ready.set()
            while not self._stop.is_set():
                connection.process_data_events(time_limit=0.2)
            channel.queue_delete(self._queue)
            connection.close()
        except Exception as exc:  # a dead tap must be reported, not leave the run waiting blind
            self.error = f"{type(exc).__name__}: {exc}"
            self._ready.set()

    def _on_message(self, _ch: BlockingChannel, _method: Basic.Deliver, _props: BasicProperties, body: bytes) -> None:
        event = json.loads(body)
        data = event.get("data") or {}
        seen = Seen(
            event["id"],
            event["type"],
            event.get("subject") or "",
            datetime.fromisoformat(event["time"]).timestamp(),
            data.get("placer_order_number") if event["type"] == RECEIVED else None,
        )
        with self._lock:
            self.events.append(seen)
            if seen.type == READY:
                self.ready_subjects.add(seen.subject)
