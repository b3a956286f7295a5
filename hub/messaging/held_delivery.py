"""Delivering a queue's messages to a system outside the pharmacy, one at a time, acked only once settled.

The connector to the prescribers' SCRIPT network and the FHIR renewal sender share it. Per message the
adapter's ``route`` names a :class:`Target` (or says why there is none: dead letter), and the target's
``send`` says what became of one attempt:

* delivered / confirmed           -> ack
* refused                         -> dead letter (``validation``) with the receiver's reason, ack
* retry                           -> the same bytes again after a growing pause, up to the target's
                                     ``max_attempts``, then dead letter (``transient_exhausted``), ack
* skip                            -> ack (the message is not for this receiver)
* stopped or broker lost meanwhile -> left unacked: the broker redelivers it and the next run sends it again

Dead letters keep the message's headers and name the queue in ``x-rxhub-queue``, so ``rxhub dead-letters
replay`` puts them back here. A message id delivered moments ago (published twice) is acked without a resend.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Protocol

import pika
import pika.exceptions as pe
from pika.adapters.blocking_connection import BlockingChannel
from pika.spec import BasicProperties

from hub.errors import RxHubError
from hub.messaging.blocking_publisher import connect
from hub.messaging.broker_failures import reconnect_level
from hub.messaging.headers import (
    DESTINATION_HEADER,
    ERROR_HEADER,
    FAILURE_KIND_HEADER,
    FIRST_FAILURE_HEADER,
    LAST_FAILURE_HEADER,
    QUEUE_HEADER,
)
from hub.messaging.reconnect import keep_running
from hub.messaging.topology import Topology, declare
from hub.observability.metrics import OUTBOUND, OUTBOUND_FAILURES, start_destination_at_zero

log = logging.getLogger(__name__)

#: how many delivered message ids are remembered to drop a duplicate publish of the same message
_REMEMBERED = 10_000


class Outcome(StrEnum):
    """What one attempt came to."""

    DELIVERED = "delivered"
    CONFIRMED = "confirmed"
    REFUSED = "refused"
    RETRY = "retry"
    SKIP = "skip"


@dataclass(frozen=True)
class Attempt:
    """One attempt's outcome, with the receiver's code and words for logs and dead letters."""

    outcome: Outcome
    text: str = ""


class Target(Protocol):
    """Where one message goes, and how patiently."""

    name: str
    max_attempts: int
    backoff_initial_s: float
    backoff_max_s: float

    def send(self, body: bytes, props: BasicProperties) -> Attempt:
        """One attempt; never raises for the receiver's failures (those are ``retry`` or ``refused``)."""


#: a message's target, or why it has none (the message is then dead-lettered with that reason)
Route = Callable[[BasicProperties, bytes], "Target | str"]


class DeliveryState:
    """What the loop is doing, for readiness and operators (lock-guarded: read from other threads)."""

    def __init__(self) -> None:
        self.ready = threading.Event()
        self._lock = threading.Lock()
        self.in_flight: str | None = None
        self.attempts = 0
        self.last_error: str | None = None
        self.settled: dict[str, int] = {}

    def begin(self, message_id: str) -> None:
        """A message is being delivered."""
        with self._lock:
            self.in_flight, self.attempts = message_id, 0

    def failed(self, error: str) -> None:
        """One attempt got no usable answer."""
        with self._lock:
            self.attempts += 1
            self.last_error = error

    def settle(self, outcome: str, error: str | None = None) -> None:
        """The message in flight is done with."""
        with self._lock:
            self.in_flight, self.attempts = None, 0
            self.settled[outcome] = self.settled.get(outcome, 0) + 1
            if error is not None:
                self.last_error = error

    def snapshot(self) -> dict[str, Any]:
        """A copy for status output."""
        with self._lock:
            return {
                "in_flight": self.in_flight,
                "attempts": self.attempts,
                "last_error": self.last_error,
                **self.settled,
            }


class HeldDelivery:
    """Consumes ``queue`` (prefetch 1) and settles each message with its target; reconnects to the broker."""

    def __init__(
        self,
        amqp_url: str,
        topology: Topology,
        queue: str,
        route: Route,
        *,
        kind: str,
        targets: tuple[str, ...] = (),
        state: DeliveryState | None = None,
    ) -> None:
        self.amqp_url, self.topology, self.queue, self.route = amqp_url, topology, queue, route
        #: the metric label prefix and the dead letters' routing key prefix (``script``, ``fhir``)
        self.kind = kind
        self.state = state or DeliveryState()
        self._delivered: OrderedDict[str, None] = OrderedDict()
        for name in targets:
            start_destination_at_zero(f"{kind}:{name}")

    def run(self, stop: threading.Event) -> None:
        """Deliver until ``stop`` is set; survives broker restarts and receiver outages."""
        keep_running(self._consume, stop, errors=(pe.AMQPError, OSError, RxHubError), lost=self._lost)

    def _lost(self, exc: BaseException) -> None:
        log.log(reconnect_level(exc), "%s delivery lost the broker: %r; reconnecting", self.kind, exc)

    def _consume(self, stop: threading.Event) -> None:
        connection = connect(self.amqp_url)
        try:
            channel = connection.channel()
            declare(channel, self.topology)
            channel.basic_qos(prefetch_count=1)
            side = connection.channel()
            side.confirm_delivery()
            self.state.ready.set()
            for method, props, body in channel.consume(self.queue, inactivity_timeout=0.5):
                if stop.is_set() or (method is not None and not self._handle(connection, side, props, body, stop)):
                    break
                if method is not None:
                    channel.basic_ack(method.delivery_tag)
        finally:
            self.state.ready.clear()
            if connection.is_open:
                connection.close()

    def _handle(
        self,
        connection: pika.BlockingConnection,
        side: BlockingChannel,
        props: BasicProperties,
        body: bytes,
        stop: threading.Event,
    ) -> bool:
        """Settle one message; False when stopped before it was (left unacked)."""
        message_id = props.message_id or ""
        if message_id in self._delivered:
            log.info("%s %s already delivered; duplicate dropped", self.kind, message_id)
            return True
        try:
            target = self.route(props, body)
        except Exception as exc:  # a loop never dies on one message: it is dead-lettered with the reason
            target = f"cannot route: {type(exc).__name__}: {exc}"
        if isinstance(target, str):
            self._dead_letter(side, props, body, target, "validation", "unrouted")
            OUTBOUND.labels(f"{self.kind}:unrouted", "dead_lettered").inc()  # the dead-letter alert sees it too
            self.state.settle("dead_lettered", target)
            return True
        self.state.begin(message_id)
        attempt = self._deliver(connection, target, body, props, stop)
        if attempt is None:
            return False
        label = f"{self.kind}:{target.name}"
        if attempt.outcome is Outcome.SKIP:
            OUTBOUND.labels(label, "skipped").inc()
            self.state.settle("skipped")
            return True
        if attempt.outcome in (Outcome.DELIVERED, Outcome.CONFIRMED):
            self._remember(message_id)
            OUTBOUND.labels(label, "delivered").inc()
            self.state.settle(attempt.outcome.value)
            log.info("%s %s %s by %s (%s)", self.kind, message_id, attempt.outcome.value, target.name, attempt.text)
            return True
        refused = attempt.outcome is Outcome.REFUSED
        error = attempt.text if refused else f"gave up after {target.max_attempts} attempts: {attempt.text}"
        self._dead_letter(side, props, body, error, "validation" if refused else "transient_exhausted", target.name)
        OUTBOUND.labels(label, "dead_lettered").inc()
        self.state.settle("dead_lettered", error)
        return True

    def _deliver(
        self,
        connection: pika.BlockingConnection,
        target: Target,
        body: bytes,
        props: BasicProperties,
        stop: threading.Event,
    ) -> Attempt | None:
        """Send until an attempt settles it or attempts run out; None when stopped meanwhile."""
        pause = target.backoff_initial_s
        attempt = Attempt(Outcome.RETRY)
        for number in range(1, target.max_attempts + 1):
            attempt = _attempt(target, body, props)
            if attempt.outcome is not Outcome.RETRY:
                return attempt
            OUTBOUND_FAILURES.labels(f"{self.kind}:{target.name}").inc()
            self.state.failed(attempt.text)
            log.warning(
                "%s %s to %s not delivered (attempt %d of %d): %s",
                self.kind,
                props.message_id,
                target.name,
                number,
                target.max_attempts,
                attempt.text,
            )
            if number < target.max_attempts and not _pause(connection, pause, stop):
                return None
            pause = min(pause * 2, target.backoff_max_s)
        return attempt

    def _remember(self, message_id: str) -> None:
        self._delivered[message_id] = None
        while len(self._delivered) > _REMEMBERED:
            self._delivered.popitem(last=False)

    def _dead_letter(
        self, side: BlockingChannel, props: BasicProperties, body: bytes, error: str, failure: str, target: str
    ) -> None:
        now = datetime.now(UTC).isoformat()
        headers: dict[str, Any] = {
            **(props.headers or {}),
            ERROR_HEADER: error[:1000],
            FAILURE_KIND_HEADER: failure,
            QUEUE_HEADER: self.queue,
            DESTINATION_HEADER: f"{self.kind}:{target}",
            FIRST_FAILURE_HEADER: now,
            LAST_FAILURE_HEADER: now,
        }
        copy = pika.BasicProperties(
            content_type=props.content_type,
            delivery_mode=2,
            message_id=props.message_id,
            correlation_id=props.correlation_id,
            type=props.type,
            timestamp=props.timestamp,
            app_id=props.app_id,
            headers=headers,
        )
        log.error("%s %s %s dead-lettered (%s): %s", self.kind, props.type, props.message_id, failure, error)
        side.basic_publish(self.topology.dead_letter_exchange, f"{self.kind}.{target}", body, copy, mandatory=True)


def _attempt(target: Target, body: bytes, props: BasicProperties) -> Attempt:
    """One send; a failure of our own (a bug, a database away) is retried like the receiver's, never fatal."""
    try:
        return target.send(body, props)
    except Exception as exc:
        log.exception("%s send to %s failed", props.type, target.name)
        return Attempt(Outcome.RETRY, f"{type(exc).__name__}: {exc}"[:300])


def _pause(connection: pika.BlockingConnection, seconds: float, stop: threading.Event) -> bool:
    """Wait ``seconds`` while keeping the broker connection alive; False when stopped meanwhile."""
    until = time.monotonic() + seconds
    while (left := until - time.monotonic()) > 0:
        if stop.is_set():
            return False
        connection.process_data_events(time_limit=min(left, 0.25))
    return not stop.is_set()
