"""Publishes committed outbox rows with confirms, then marks them sent.

A crash between publish and mark-sent republishes the row with the same message id (the CloudEvents id
for events, the command's id for commands): subscribers and workers dedupe on it.
"""

from __future__ import annotations

import logging
import threading

from hub.errors import InfrastructureError
from hub.messaging.amqp_properties import raw_properties
from hub.messaging.async_publisher import OutgoingMessage
from hub.messaging.blocking_publisher import BlockingConfirmingPublisher
from hub.messaging.topology import Topology
from hub.persistence.outbox_store import OutboxRow, OutboxStore

log = logging.getLogger(__name__)


class OutboxRelay:
    """Drains the outbox; ``poke()`` after a commit makes it publish at once instead of at the next tick."""

    def __init__(self, store: OutboxStore, publisher: BlockingConfirmingPublisher, topology: Topology,
                 *, interval_s: float = 0.25) -> None:
        self._store = store
        self._publisher = publisher
        self._topology = topology
        self._interval = interval_s
        self._wake = threading.Event()
        self.published = 0

    def poke(self) -> None:
        """Wake the relay (called by handlers after they commit)."""
        self._wake.set()

    def run(self, stop: threading.Event) -> None:
        """Loop until stopped; broker or database trouble only delays publishing."""
        backoff = self._interval
        while not stop.is_set():
            try:
                drained = self.drain_once()
                backoff = self._interval
            except InfrastructureError as exc:
                log.warning("outbox relay: %s; will retry", exc)
                drained = 0
                backoff = min(backoff * 2, 5.0)
            except Exception:  # the relay must outlive any single failure
                log.exception("outbox relay failed; will retry")
                drained = 0
                backoff = min(backoff * 2, 5.0)
            if drained == 0:
                self._wake.wait(backoff)
                self._wake.clear()
        self._publisher.close()

    def drain_once(self, batch: int = 200) -> int:
        """Publish one batch; returns how many rows were published."""
        rows = self._store.pending(batch)
        done: list[str] = []
        try:
            for row in rows:
                self._publisher.publish(self._message(row))
                done.append(row.id)
        finally:
            self._store.mark_published(done)
        self.published += len(done)
        return len(done)

    def _message(self, row: OutboxRow) -> OutgoingMessage:
        exchange = self._topology.events_exchange if row.target == "events" else self._topology.commands_exchange
        props = raw_properties(
            row.id, content_type=row.content_type, message_type=row.message_type,
            correlation_id=row.correlation_id, headers=row.headers,
        )
        return OutgoingMessage(exchange, row.routing_key, row.body, props, mandatory=row.target != "events")
