"""Publishes committed outbox rows with confirms, then marks them sent.

A crash between publish and mark-sent republishes the row with the same message id (the CloudEvents id
for events, the command's id for commands): subscribers and workers dedupe on it.
"""

from __future__ import annotations

import logging
import threading

from hub.errors import InfrastructureError, PublishNotConfirmed
from hub.messaging.amqp_properties import raw_properties
from hub.messaging.async_publisher import OutgoingMessage
from hub.messaging.blocking_publisher import BlockingConfirmingPublisher
from hub.messaging.topology import Topology
from hub.observability.metrics import EVENTS_PUBLISHED
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
        with self._store.claim(batch) as (rows, record):
            done: list[str] = []
            parked: dict[str, str] = {}
            try:
                for row in rows:
                    try:
                        self._publisher.publish(self._message(row))
                    except PublishNotConfirmed as exc:
                        # refused for good (nothing bound for it): park the row with its error rather than
                        # block every row behind it; a claim parked so is caught by its payer timeout
                        log.error("outbox row %s (%s) parked: %s", row.id, row.routing_key, exc)
                        parked[row.id] = str(exc)
                        continue
                    done.append(row.id)
            finally:
                record(done, parked)
        self.published += len(done)
        EVENTS_PUBLISHED.inc(len(done))
        return len(done)

    def _message(self, row: OutboxRow) -> OutgoingMessage:
        exchange = {
            "events": self._topology.events_exchange,
            "commands": self._topology.commands_exchange,
            "payer": self._topology.payer_exchange,
            "delay": "",
        }[row.target]
        headers = dict(row.headers)
        reply_to = headers.pop("reply_to", None)
        props = raw_properties(
            row.id, content_type=row.content_type, message_type=row.message_type,
            correlation_id=row.correlation_id, headers=headers, reply_to=reply_to,
        )
        return OutgoingMessage(exchange, row.routing_key, row.body, props, mandatory=row.target != "events")
