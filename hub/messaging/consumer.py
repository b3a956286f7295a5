"""The consumer loop every worker runs: ack only after the handler committed, never die on one message.

Outcome of one delivery:

* handler returned            → ack (its effects, idempotency mark and outbox rows are committed)
* no valid signature          → dead-letter at once as ``unauthenticated``, audited, never decoded or applied
* bad envelope / bad content  → dead-letter at once: retrying cannot fix it
* domain rule broken          → dead-letter at once, classified ``domain_rule``
* the database is down        → park and try again, as often as it takes: the message is not at fault
* anything else               → park in the step's retry queue (TTL) and try again, at most
                                ``max_retries`` times, then dead-letter as ``transient_exhausted``

Retry and dead-letter copies are published with confirms *before* the original is acked, so a crash in
between leaves a duplicate (which the handler's idempotency absorbs), never a loss.

With a ``batch_handler`` the runner hands over every delivery it already holds (up to ``max_batch``) and
acks them together once the batch committed: under load a step pays its transaction and broker overhead
once per batch.  A backlog fills batches by itself; traffic that merely flows (orders a few milliseconds
apart) would arrive one at a time and cost each message a whole transaction, so while deliveries keep
coming (one within ``FLOWING_S`` of the last batch being done) the runner waits up to ``linger_s`` for
company.  A lone message on a quiet queue goes at once.

With a ``decode`` the bodies are not envelopes but foreign messages (payer answers) that the adapter's
function translates; a translation that fails is judged like a handler's failure (bad content: dead letter
as ``validation``), since the body was read and found wanting rather than unreadable.

A staff command (one with an ``actor``) that is dead-lettered has its outcome recorded first (``outcomes``):
refused when a domain rule forbade it, dead-lettered otherwise, with the error; its sender reads it at
``GET /api/commands/{id}`` instead of waiting on a command that will never be applied.

An envelope queue verifies each body's signature (hub.security.command_signing) before reading it: a command
published with broker credentials but without the hub's key is refused. A ``decode`` queue does not: its
bodies are foreign messages (a payer's D.0 answer) that no hub process wrote.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Protocol, TypedDict

import pika
import pika.exceptions as pe
from pika.adapters.blocking_connection import BlockingChannel
from pika.spec import Basic, BasicProperties

from hub.errors import (
    DatabaseUnavailable,
    DomainError,
    InboundMessageError,
    NotAuthorized,
    RxHubError,
    UnauthenticatedCommand,
)
from hub.messaging.blocking_publisher import connect
from hub.messaging.broker_failures import reconnect_level
from hub.messaging.envelope import Envelope
from hub.messaging.headers import (
    ERROR_HEADER,
    FAILURE_KIND_HEADER,
    FIRST_FAILURE_HEADER,
    LAST_FAILURE_HEADER,
    QUEUE_HEADER,
    RETRIES_HEADER,
    TRACEBACK_HEADER,
)
from hub.messaging.reconnect import keep_running
from hub.messaging.refusals import RefusalAudit, audit_refusal
from hub.messaging.topology import Topology, declare
from hub.observability.metrics import BATCH_SIZE, DEAD_LETTERED
from hub.security.command_signing import CommandKeys

log = logging.getLogger(__name__)

Handler = Callable[[Envelope], None]
#: applies several envelopes; each one's outcome, None when applied (hub.service.bus.MessageBus.handle_batch)
BatchHandler = Callable[[Sequence[Envelope]], list[BaseException | None]]
#: for queues whose bodies are not envelopes (outbound traffic): gets the body and the AMQP properties
RawHandler = Callable[[bytes, BasicProperties], None]
#: turns a body that is not an envelope (a payer's answer) into the command envelope it stands for
Decode = Callable[[bytes, BasicProperties], Envelope]


class OutcomeLog(Protocol):
    """Where a dead-lettered staff command's outcome is recorded (hub.persistence.command_outcomes)."""

    def dead_lettered(self, envelope: Envelope, *, refused: bool, reason: str, forbidden: bool = False) -> None:
        """Record it (``forbidden``: the actor may not do this) before the dead letter is published; raise an
        ``RxHubError`` when it cannot be."""


class ConsumerOptions(TypedDict):
    """How a runner hands its deliveries over, as the workers configure every step's runner alike."""

    handler: Handler
    batch_handler: BatchHandler | None
    max_batch: int
    prefetch: int
    max_retries: int
    linger_s: float


#: a delivery this soon after the previous batch was done means traffic flows: a batch may wait for company
FLOWING_S = 0.05
#: how long a raw queue's message waits before it is tried again while the database is down
OUTAGE_PAUSE_S = 1.0

Delivery = tuple[Basic.Deliver, BasicProperties, bytes]


class FailureKind(StrEnum):
    """Why a message was dead-lettered, for ``rxhub dlq list`` and replay filters."""

    UNPARSEABLE = "unparseable"
    VALIDATION = "validation"
    DOMAIN_RULE = "domain_rule"
    TRANSIENT_EXHAUSTED = "transient_exhausted"
    UNAUTHENTICATED = "unauthenticated"


def classify(error: BaseException, *, decoded: bool) -> FailureKind | None:
    """None means 'retry'; a kind means 'dead-letter now' (or after retries, for transient)."""
    if isinstance(error, UnauthenticatedCommand):
        return FailureKind.UNAUTHENTICATED
    if not decoded:
        return FailureKind.UNPARSEABLE
    if isinstance(error, InboundMessageError):
        return FailureKind.VALIDATION
    if isinstance(error, DomainError):
        return FailureKind.DOMAIN_RULE
    return None


class ConsumerRunner:
    """Consumes one step's queue with manual acks; reconnects when the broker goes away."""

    def __init__(
        self,
        *,
        amqp_url: str,
        topology: Topology,
        step: str,
        handler: Handler | None = None,
        raw_handler: RawHandler | None = None,
        batch_handler: BatchHandler | None = None,
        decode: Decode | None = None,
        max_batch: int = 16,
        queue: str | None = None,
        prefetch: int = 32,
        max_retries: int = 3,
        declare_topology: bool = True,
        linger_s: float = 0.0,
        keys: CommandKeys | None = None,
        audit: RefusalAudit | None = None,
        outcomes: OutcomeLog | None = None,
    ) -> None:
        if (handler is None) == (raw_handler is None):
            raise ValueError("give exactly one of handler or raw_handler")
        if handler is not None and decode is None and keys is None:
            raise ValueError("a queue of commands needs the command keys: it applies only what the hub signed")
        self.amqp_url = amqp_url
        self.topology = topology
        self.step = step
        for kind in FailureKind:  # at 0 from the start: an alert on increase() sees the first dead letter
            DEAD_LETTERED.labels(step, kind)
        self.handler = handler
        self.raw_handler = raw_handler
        self.batch_handler = batch_handler if raw_handler is None else None
        self.decode = decode
        self.max_batch = max(1, min(max_batch, prefetch))
        self.prefetch = prefetch
        self.max_retries = max_retries
        self.declare_topology = declare_topology
        self.linger_s = linger_s
        #: verifies envelope bodies (None on raw and decode queues, whose bodies no hub process signed)
        self.keys = keys if raw_handler is None and decode is None else None
        self.audit = audit
        #: only envelope queues: a foreign body (a payer's answer) is no staff command
        self.outcomes = outcomes if raw_handler is None and decode is None else None
        self._done_at = float("-inf")
        self.queue = queue or topology.work_queue(step)
        self.ready = threading.Event()

    def run(self, stop: threading.Event) -> None:
        """Consume until ``stop`` is set; survives broker restarts and bad messages."""
        keep_running(self._consume, stop, errors=(pe.AMQPError, OSError, RxHubError), lost=self._lost)

    def _lost(self, exc: BaseException) -> None:
        self.ready.clear()
        log.log(reconnect_level(exc), "consumer %s lost the broker: %r; reconnecting", self.step, exc)

    def _consume(self, stop: threading.Event) -> None:
        connection = connect(self.amqp_url)
        try:
            channel = connection.channel()
            if self.declare_topology:
                declare(channel, self.topology)
            channel.basic_qos(prefetch_count=self.prefetch)
            side = connection.channel()
            side.confirm_delivery()
            self.ready.set()
            deliveries = channel.consume(self.queue, inactivity_timeout=0.5)
            for method, props, body in deliveries:
                if stop.is_set():
                    break
                if method is None:
                    continue
                if self.batch_handler is None:
                    self._deliver(channel, side, method, props, body)
                else:
                    self._deliver_batch(channel, side, self._held(channel, deliveries, (method, props, body)))
                    self._done_at = time.monotonic()
            channel.cancel()
        finally:
            self.ready.clear()
            if connection.is_open:
                connection.close()

    def _deliver(
        self,
        channel: BlockingChannel,
        side: BlockingChannel,
        method: Basic.Deliver,
        props: BasicProperties,
        body: bytes,
    ) -> None:
        decoded = self.raw_handler is not None or self.decode is not None
        try:
            if self.raw_handler is not None:
                self.raw_handler(body, props)
            else:
                envelope = self._envelope(body, props)
                decoded = True
                assert self.handler is not None
                self.handler(envelope)
        except Exception as exc:  # a consumer never dies on one message
            self._fail(side, props, body, exc, decoded)
        channel.basic_ack(method.delivery_tag)

    def _held(self, channel: BlockingChannel, deliveries: Iterator[Any], first: Delivery) -> list[Delivery]:
        """The first delivery and those already received behind it; while traffic flows, and those arriving
        within ``linger_s``."""
        batch = [first]
        began = time.monotonic()
        until = began + self.linger_s if began - self._done_at < FLOWING_S else began
        while len(batch) < self.max_batch:
            if channel.get_waiting_message_count() == 0:
                left = until - time.monotonic()
                if left <= 0:
                    break
                channel.connection.process_data_events(time_limit=left)  # returns as soon as one arrives
                continue
            method, props, body = next(deliveries)
            if method is None:
                break
            batch.append((method, props, body))
        return batch

    def _deliver_batch(self, channel: BlockingChannel, side: BlockingChannel, batch: list[Delivery]) -> None:
        assert self.batch_handler is not None
        BATCH_SIZE.labels(self.step).observe(len(batch))
        decoded: list[tuple[Delivery, Envelope]] = []
        for delivery in batch:
            try:
                decoded.append((delivery, self._envelope(delivery[2], delivery[1])))
            except Exception as exc:  # unreadable: dead-lettered alone, the rest go on
                self._fail(side, delivery[1], delivery[2], exc, self.decode is not None)
        if decoded:
            try:
                outcomes = self.batch_handler([envelope for _, envelope in decoded])
            except Exception as exc:  # the batch handler itself broke: every message of it is retried
                outcomes = [exc] * len(decoded)
            for ((_, props, body), _), outcome in zip(decoded, outcomes, strict=True):
                if outcome is not None:
                    self._fail(side, props, body, outcome, True)
        channel.basic_ack(batch[-1][0].delivery_tag, multiple=True)

    def _envelope(self, body: bytes, props: BasicProperties) -> Envelope:
        if self.decode is not None:
            return self.decode(body, props)
        if self.keys is not None:  # before the body is read: a forged one is never parsed
            self.keys.verify(body, props.headers)
        return Envelope.from_bytes(body)

    def _fail(
        self, side: BlockingChannel, props: BasicProperties, body: bytes, exc: BaseException, decoded: bool
    ) -> None:
        headers: dict[str, Any] = dict(props.headers or {})
        retries = int(headers.get(RETRIES_HEADER, 0))
        kind = classify(exc, decoded=decoded)
        now = datetime.now(UTC).isoformat()
        headers.setdefault(FIRST_FAILURE_HEADER, now)
        headers[LAST_FAILURE_HEADER] = now
        headers[ERROR_HEADER] = f"{type(exc).__name__}: {exc}"[:1000]
        # the database down is no fault of the message: it waits for the database without spending its retries
        outage = isinstance(exc, DatabaseUnavailable)
        if kind is None and (outage or retries < self.max_retries):
            headers[RETRIES_HEADER] = retries + (0 if outage else 1)
            log.warning(
                "step %s failed (attempt %d): %s; retrying later",
                self.step,
                retries + 1,
                type(exc).__name__,
                extra={"message_id": props.message_id},
            )
            if self.raw_handler is None:
                self._republish(side, "", self.topology.retry_queue(self.step), props, body, headers)
                return
            # raw queues have no retry twin: back to the same queue's tail after a short pause
            time.sleep(OUTAGE_PAUSE_S if outage else min(0.2 * (retries + 1), 2.0))
            self._republish(side, "", self.queue, props, body, headers)
            return
        if kind is FailureKind.UNAUTHENTICATED and self.audit is not None:
            audit_refusal(self.audit, queue=self.queue, props=props, body=body, error=exc)
        headers[FAILURE_KIND_HEADER] = str(kind or FailureKind.TRANSIENT_EXHAUSTED)
        if decoded and kind is not FailureKind.UNAUTHENTICATED:
            self._record_outcome(body, exc, refused=kind is FailureKind.DOMAIN_RULE)
        DEAD_LETTERED.labels(self.step, headers[FAILURE_KIND_HEADER]).inc()
        headers[QUEUE_HEADER] = self.queue
        headers[TRACEBACK_HEADER] = "".join(traceback.format_exception(exc))[-4000:]
        log.error(
            "step %s dead-lettered a message: %s",
            self.step,
            headers[ERROR_HEADER],
            extra={"message_id": props.message_id, "correlation_id": props.correlation_id},
        )
        self._republish(side, self.topology.dead_letter_exchange, self.step, props, body, headers)

    def _record_outcome(self, body: bytes, exc: BaseException, *, refused: bool) -> None:
        """The sender's outcome of a staff command about to be dead-lettered; a database that fails raises (the
        delivery is retried on a new connection), anything else is logged: a consumer never dies on one message."""
        if self.outcomes is None:
            return
        try:
            envelope = Envelope.from_bytes(body)
        except RxHubError:
            return
        try:
            self.outcomes.dead_lettered(
                envelope,
                refused=refused,
                reason=str(exc) or type(exc).__name__,
                forbidden=isinstance(exc, NotAuthorized),
            )
        except RxHubError:
            raise
        except Exception:
            log.exception("step %s could not record a dead-lettered command's outcome", self.step)

    @staticmethod
    def _republish(
        side: BlockingChannel,
        exchange: str,
        key: str,
        props: BasicProperties,
        body: bytes,
        headers: dict[str, Any],
    ) -> None:
        copy = pika.BasicProperties(
            content_type=props.content_type,
            delivery_mode=2,
            message_id=props.message_id,
            correlation_id=props.correlation_id,
            type=props.type,
            timestamp=props.timestamp,
            app_id=props.app_id,
            headers=headers,
            reply_to=props.reply_to,
        )
        side.basic_publish(exchange, key, body, copy, mandatory=True)


def run_in_thread(runner: ConsumerRunner, stop: threading.Event, name: str | None = None) -> threading.Thread:
    """Start a runner on a daemon thread (the all-in-one ``rxhub run`` and tests use this)."""
    thread = threading.Thread(target=runner.run, args=(stop,), name=name or f"worker-{runner.step}", daemon=True)
    thread.start()
    return thread


def wait_ready(runners: list[ConsumerRunner], timeout_s: float = 10.0) -> bool:
    """Block until every runner has declared the topology and is consuming."""
    deadline = time.monotonic() + timeout_s
    return all(r.ready.wait(max(deadline - time.monotonic(), 0)) for r in runners)
