"""Publishes committed outbox rows with confirms, then marks them sent.

A crash between publish and mark-sent republishes the row with the same message id (the CloudEvents id
for events, the command's id for commands): subscribers and workers dedupe on it.
"""

from __future__ import annotations

import logging
import threading
from typing import Protocol

from hub.errors import InfrastructureError, PublishNotConfirmed
from hub.messaging.amqp_properties import raw_properties
from hub.messaging.async_publisher import OutgoingMessage
from hub.messaging.topology import Topology
from hub.observability.metrics import EVENTS_PUBLISHED
from hub.persistence.outbox_store import OutboxRow, OutboxStore

log = logging.getLogger(__name__)


class BatchPublisher(Protocol):
    """hub.messaging.pipelined_publisher.PipelinedPublisher, or the blocking one (one at a time)."""

    def publish_each(self, messages: list[OutgoingMessage]) -> list[BaseException | None]:
        """Each message's outcome, None when confirmed."""

    def close(self) -> None:
        """Close the connection."""


class OutboxRelay:
    """Drains the outbox; ``poke()`` after a commit makes it publish at once instead of at the next tick."""

    def __init__(self, store: OutboxStore, publisher: BatchPublisher, topology: Topology,
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
        """Publish one batch (all in flight at once); returns how many rows were published."""
        failure: BaseException | None = None
        with self._store.claim(batch) as (rows, record):
            done: list[str] = []
            parked: dict[str, str] = {}
            try:
                results = self._publisher.publish_each([self._message(row) for row in rows]) if rows else []
                for row, result in zip(rows, results, strict=True):
                    if result is None:
                        done.append(row.id)
                    elif isinstance(result, PublishNotConfirmed):
                        # refused for good (nothing bound for it): park the row with its error rather than
                        # block every row behind it; a claim parked so is caught by its payer timeout
                        log.error("outbox row %s (%s) parked: %s", row.id, row.routing_key, result)
                        parked[row.id] = str(result)
                    else:
                        failure = failure or result  # the broker went away mid-batch: the rest stay for later
            finally:
                record(done, parked)
        self.published += len(done)
        EVENTS_PUBLISHED.inc(len(done))
        if failure is not None:
            raise failure
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
