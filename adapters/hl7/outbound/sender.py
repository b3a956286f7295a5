"""One destination's sender: its durable queue, one message in flight, the AMQP ack only after the ACK.

Queue ``<prefix>.outbound.<name>``: quorum (replicated, survives restarts), single active consumer (a
second hub process waits as standby, so order holds), bound to ``<prefix>.events`` for the configured
event types.  Prefetch is 1: the next event is not even fetched until the current one is settled, which
keeps messages in order per destination and therefore per order.

* accepted (AA/CA)                 → ack
* refused (AE/CE)                  → publish to ``<prefix>.dlx`` with x-rxhub-error (the receiver's text)
                                     and x-rxhub-failure-kind=validation, confirmed, then ack
* AR/CR, timeout, connection loss  → the same bytes resent (delivery.py) up to the destination's
                                     ``max_attempts``/``max_retry_s``, then dead-lettered as
                                     ``transient_exhausted`` with the receiver's last words, and the next goes
* older than an event of the same order already delivered here (a replayed dead letter whose order has
                                     moved on) → not sent: dead-lettered as ``superseded``, saying by what
* not for this destination         → ack (counted as skipped)
* undecodable event                → dead-letter as ``unparseable``, ack
* stop or broker loss mid-delivery → left unacked: the broker requeues it and the next run resends it under
                                     the same control id (derived from the event id)
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime
from typing import Any

import pika
import pika.exceptions as pe
from pika.adapters.blocking_connection import BlockingChannel
from pika.spec import Basic, BasicProperties

from adapters.hl7.outbound.ack_reading import AckKind
from adapters.hl7.outbound.delivery import Deliverer
from adapters.hl7.outbound.destination_state import DestinationState, SenderState
from adapters.hl7.outbound.destinations import SUPPORTED_EVENTS, DestinationConfig
from adapters.hl7.outbound.event_mapping import ReceivedEvent, StoredOrders, decode_cloudevent, message_for
from hub.errors import BrokerUnavailable, MessageContentError, RxHubError
from hub.messaging.blocking_publisher import connect
from hub.messaging.broker_failures import reconnect_level
from hub.messaging.headers import (
    CONTROL_ID_HEADER,
    DESTINATION_HEADER,
    ERROR_HEADER,
    FAILURE_KIND_HEADER,
    FIRST_FAILURE_HEADER,
    LAST_FAILURE_HEADER,
    QUEUE_HEADER,
    RETRIES_HEADER,
)
from hub.messaging.reconnect import keep_running
from hub.messaging.topology import ChannelLike, Topology, declare
from hub.persistence.outbound_state import DeliveredEvent, OutboundStateStore

log = logging.getLogger(__name__)


def outbound_queue(topology: Topology, name: str) -> str:
    """The durable queue holding one destination's backlog."""
    return f"{topology.prefix}.outbound.{name}"


def declare_destination(channel: ChannelLike, topology: Topology, config: DestinationConfig) -> str:
    """Declare the hub topology, this destination's queue and its bindings (idempotent); returns the queue."""
    declare(channel, topology)
    queue = outbound_queue(topology, config.name)
    arguments = {
        "x-queue-type": "quorum",
        "x-single-active-consumer": True,
        # should an operator's policy set a delivery limit, the message is dead-lettered, not dropped
        "x-dead-letter-exchange": topology.dead_letter_exchange,
        "x-dead-letter-routing-key": f"outbound.{config.name}",
    }
    channel.queue_declare(queue=queue, durable=True, arguments=arguments)
    for event_type in config.subscribed:
        channel.queue_bind(queue=queue, exchange=topology.events_exchange, routing_key=event_type)
    return queue


def _unbind_dropped(channel: BlockingChannel, topology: Topology, config: DestinationConfig, queue: str) -> None:
    """Event types removed from the configuration stop flowing into the queue."""
    for event_type in set(SUPPORTED_EVENTS) - set(config.subscribed):
        channel.queue_unbind(queue=queue, exchange=topology.events_exchange, routing_key=event_type)


class DestinationRunner:
    """Consumes one destination's queue and delivers each event's message; reconnects to the broker."""

    def __init__(
        self,
        amqp_url: str,
        topology: Topology,
        config: DestinationConfig,
        state: DestinationState | None = None,
        store: OutboundStateStore | None = None,
        *,
        records: StoredOrders | None = None,
    ) -> None:
        self.amqp_url, self.topology, self.config, self.store = amqp_url, topology, config, store
        self.state = state or DestinationState(config.name, store, config.stuck_after_s)
        #: the stored prescriptions, read when a message is built (patient, ward, dose, pharmacists)
        self.records = records
        self.queue = outbound_queue(topology, config.name)
        self.deliverer = Deliverer(config, self.state)

    def run(self, stop: threading.Event) -> None:
        """Consume until ``stop`` is set; survives broker restarts and destination outages."""
        keep_running(self._consume, stop, errors=(pe.AMQPError, OSError, RxHubError), lost=self._lost)
        self.state.set(SenderState.STOPPED)

    def _lost(self, exc: BaseException) -> None:
        self.state.set(SenderState.BROKER_DOWN)
        self.state.error(f"broker or database: {exc!r}")
        log.log(
            reconnect_level(exc), "outbound %s lost the broker or database: %r; reconnecting", self.config.name, exc
        )

    def _consume(self, stop: threading.Event) -> None:
        connection = connect(self.amqp_url)
        try:
            channel = connection.channel()
            declare_destination(channel, self.topology, self.config)
            _unbind_dropped(channel, self.topology, self.config, self.queue)
            channel.basic_qos(prefetch_count=1)
            side = connection.channel()
            side.confirm_delivery()
            self.state.set(SenderState.IDLE)
            self.state.ready.set()
            for method, props, body in channel.consume(self.queue, inactivity_timeout=0.5):
                self.state.heartbeat()
                if stop.is_set() or (
                    method is not None and not self._handle(connection, channel, side, method, props, body, stop)
                ):
                    break
        finally:
            self.state.ready.clear()
            self.deliverer.close()
            if connection.is_open:
                connection.close()

    def _handle(
        self,
        connection: pika.BlockingConnection,
        channel: BlockingChannel,
        side: BlockingChannel,
        method: Basic.Deliver,
        props: BasicProperties,
        body: bytes,
        stop: threading.Event,
    ) -> bool:
        """Settle one event; False when stopped before the destination answered (left unacked)."""
        try:
            received = decode_cloudevent(body)
            message = message_for(self.config, received, self.records)
        except MessageContentError as exc:
            self._dead_letter(side, props, body, str(exc), "unparseable", "")
            channel.basic_ack(method.delivery_tag)
            return True
        if message is None:
            self.state.settle("skipped")
            channel.basic_ack(method.delivery_tag)
            return True
        self.state.begin(message.control_id, received.time)
        newer = self._newer_delivered(received)
        if newer is not None:
            reason = (
                f"superseded: {newer.event_type} of {newer.event_time.isoformat()} (event {newer.event_id}) "
                f"for this order was already delivered to {self.config.name}; sending this older "
                f"{received.type} now would overtake it"
            )
            self._dead_letter(side, props, body, reason, "superseded", message.control_id)
            self.state.settle("superseded")
            channel.basic_ack(method.delivery_tag)
            return True

        def tick() -> None:
            connection.process_data_events(time_limit=0)
            self.state.heartbeat()
            if not channel.is_open:
                raise BrokerUnavailable("channel closed while a message was in flight")

        verdict = self.deliverer.deliver(message, stop, tick)
        if verdict is None:
            return False
        if verdict.kind is AckKind.ACCEPTED:
            self._delivered(received)
        else:
            kind = "validation" if verdict.kind is AckKind.ERROR else "transient_exhausted"
            text = verdict.text or verdict.code
            self._dead_letter(side, props, body, text, kind, message.control_id, self.state.attempts)
            self.state.error(f"{verdict.code} for {message.control_id}: {text}")
            self.state.settle("dead_lettered")
        channel.basic_ack(method.delivery_tag)
        return True

    def _newer_delivered(self, received: ReceivedEvent) -> DeliveredEvent | None:
        """An event of the same order newer than this one that this destination already accepted."""
        if self.store is None or not received.subject:
            return None
        delivered = self.store.delivered(self.config.name, received.subject)
        return delivered if delivered is not None and delivered.event_time > received.time else None

    def _delivered(self, received: ReceivedEvent) -> None:
        """Count it and remember it as its order's newest delivered event (an older replay is refused).

        Only an accepted message counts: a newer one that was dead-lettered never reached the receiver, so an
        older replay does not overtake it there (and its own replay, later, still comes after)."""
        if self.store is not None and received.subject:
            self.store.record_delivered(
                self.config.name,
                received.subject,
                DeliveredEvent(event_id=received.id, event_type=received.type, event_time=received.time),
            )
        self.state.settle("delivered")

    def _dead_letter(
        self,
        side: BlockingChannel,
        props: BasicProperties,
        body: bytes,
        error: str,
        kind: str,
        control_id: str,
        sends: int = 0,
    ) -> None:
        now = datetime.now(UTC).isoformat()
        headers: dict[str, Any] = {
            **(props.headers or {}),
            ERROR_HEADER: error[:1000],
            FAILURE_KIND_HEADER: kind,
            QUEUE_HEADER: self.queue,
            DESTINATION_HEADER: self.config.name,
            CONTROL_ID_HEADER: control_id,
            RETRIES_HEADER: max(sends - 1, 0),
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
        log.error("outbound %s dead-lettered event %s (%s): %s", self.config.name, props.message_id, kind, error)
        side.basic_publish(
            self.topology.dead_letter_exchange, f"outbound.{self.config.name}", body, copy, mandatory=True
        )


def run_destination(
    amqp_url: str,
    topology: Topology,
    config: DestinationConfig,
    stop_event: threading.Event,
    state: DestinationState | None = None,
    store: OutboundStateStore | None = None,
    *,
    records: StoredOrders | None = None,
) -> None:
    """Run one destination's sender in the calling thread until ``stop_event`` is set."""
    DestinationRunner(amqp_url, topology, config, state, store, records=records).run(stop_event)
