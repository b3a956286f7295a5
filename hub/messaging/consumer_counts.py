"""Which step queues have no consumer, as the broker sees them: what readiness needs beyond a live connection.

A door that accepts orders no worker will take keeps its promise only in the queue; a load balancer and an
operator should see that (``/readyz`` 503), whichever process the workers run in.
"""

from __future__ import annotations

import threading
import time

import pika.exceptions

from hub.errors import BrokerUnavailable
from hub.messaging.blocking_publisher import connect
from hub.messaging.topology import PAYER_RESPONSES, Topology


class StepConsumers:
    """Asks the broker (a passive declare per step queue, on a short-lived connection) at most every ``ttl_s``."""

    def __init__(self, amqp_url: str, topology: Topology, ttl_s: float = 1.0, *, also: tuple[str, ...] = ()) -> None:
        self._url = amqp_url
        #: the step queues, and ``also`` those of the configured outbound connectors (SCRIPT network, FHIR renewals)
        self._queues = [topology.work_queue(step) for step in (*topology.steps, PAYER_RESPONSES)] + list(also)
        self._ttl_s = ttl_s
        self._lock = threading.Lock()
        self._checked_at = float("-inf")
        self._idle: list[str] | None = None

    def without_consumers(self) -> list[str] | None:
        """The step queues no one consumes (missing ones included); None when the broker cannot be asked."""
        with self._lock:
            if time.monotonic() - self._checked_at >= self._ttl_s:
                self._idle = self._ask()
                self._checked_at = time.monotonic()
            return self._idle

    def _ask(self) -> list[str] | None:
        try:
            connection = connect(self._url)
        except BrokerUnavailable:
            return None
        idle: list[str] = []
        try:
            channel = connection.channel()
            for queue in self._queues:
                try:
                    if channel.queue_declare(queue, passive=True).method.consumer_count == 0:
                        idle.append(queue)
                except pika.exceptions.ChannelClosedByBroker:  # not declared yet: nobody consumes it
                    idle.append(queue)
                    channel = connection.channel()
        except pika.exceptions.AMQPError:
            return None
        finally:
            if connection.is_open:
                connection.close()
        return idle
