"""The switch connector (``rxhub switch-connector``): claims from the payer exchange go to real switches.

    <prefix>.payer (topic, one binding per routed BIN/PCN) ──▶ <prefix>.switch-connector ──▶ fence (ledger)
        ──▶ route ──▶ switch over TCP/TLS ──▶ answer to the claim's reply_to (<prefix>.payer-responses)

A BIN without a route is not bound, so its claims go wherever they went before (the payer simulator, or the
outbox parks them and the claim ends as "ND"). Before sending, the per-fill fence in the claim ledger keeps a
duplicate publish or a superseded B1/B2 from the payer, with a note. When the route's switch cannot be reached
the failover switch takes the claim (when none can be reached the claim is answered 92, host unavailable,
as a switch does, and the hub resends it later); once bytes have left, a dropped connection or a timeout is an unknown
answer: nothing is published and the claim takes the hub's status-unknown path at the payer timeout, exactly
as when the payer simulator stays silent.
"""

from __future__ import annotations

import logging
import threading

import pika.exceptions as pe
from pika.spec import BasicProperties
from sqlalchemy import Engine
from sqlalchemy.exc import InterfaceError, OperationalError

from adapters.ncpdp.payer_link.amqp_contract import MessagePublisher, publish_confirmed, response_properties
from adapters.ncpdp.switch import client
from adapters.ncpdp.switch.routing import RoutingTable, SwitchEndpoint
from adapters.ncpdp.switch.unsent import not_sent_answer
from hub.errors import DatabaseUnavailable, InfrastructureError, MessageContentError
from hub.messaging.async_publisher import OutgoingMessage
from hub.messaging.blocking_publisher import BlockingConfirmingPublisher, connect
from hub.messaging.broker_failures import reconnect_level
from hub.messaging.consumer import ConsumerRunner
from hub.messaging.reconnect import until_done
from hub.messaging.topology import Queue, Topology, declare
from hub.observability.metrics import SWITCH_TRANSMISSIONS
from hub.persistence.claims import ClaimLedger, WireEvent

log = logging.getLogger(__name__)

SWITCH_CONNECTOR_STEP = "switch-connector"
#: wire events counted in rxhub_switch_transmissions_total, by outcome label
_COUNTED = {WireEvent.ANSWERED: "answered", WireEvent.NO_ANSWER: "no_answer", WireEvent.UNREACHABLE: "unreachable"}


def connector_queue(topology: Topology) -> Queue:
    """The connector's durable queue, ``<prefix>.switch-connector``."""
    return Queue(f"{topology.prefix}.{SWITCH_CONNECTOR_STEP}")


class SwitchConnector:
    """Consumes claims and carries each to its switch, noting every step in the claim ledger."""

    def __init__(
        self,
        amqp_url: str,
        topology: Topology,
        table: RoutingTable,
        engine: Engine,
        *,
        publisher: MessagePublisher | None = None,
    ) -> None:
        self.amqp_url, self.topology, self.table, self.engine = amqp_url, topology, table, engine
        self.queue = connector_queue(topology).name
        self._own_publisher = publisher is None
        self._publisher: MessagePublisher = publisher or BlockingConfirmingPublisher(amqp_url)
        # one claim at a time per connector; copies in other processes are kept apart by the ledger's unique
        # "transmitting" note per message
        self.runner = ConsumerRunner(
            amqp_url=amqp_url,
            topology=topology,
            step=SWITCH_CONNECTOR_STEP,
            raw_handler=self.handle,
            queue=self.queue,
            prefetch=1,
        )

    @property
    def ready(self) -> threading.Event:
        """Set while the queue is bound and claims are being consumed."""
        return self.runner.ready

    def declare(self) -> None:
        """The topology, the connector's queue and one binding per route."""
        connection = connect(self.amqp_url)
        try:
            channel = connection.channel()
            declare(channel, self.topology)
            queue = connector_queue(self.topology)
            channel.queue_declare(queue=queue.name, durable=True, arguments=queue.declare_arguments())
            for key in self.table.bindings():
                channel.queue_bind(queue=queue.name, exchange=self.topology.payer_exchange, routing_key=key)
        finally:
            connection.close()

    def run(self, stop: threading.Event) -> None:
        """Carry claims until ``stop`` is set; waits for the broker when it is not there yet."""
        try:
            if self._declare(stop):
                log.info("switch-connector routing %s", ", ".join(self.table.bindings()))
                self.runner.run(stop)
        finally:
            if self._own_publisher and isinstance(self._publisher, BlockingConfirmingPublisher):
                self._publisher.close()

    def handle(self, body: bytes, props: BasicProperties) -> None:
        """Carry one claim (raw handler: the runner acks once this returns, retries when it raises); the
        database being down is said as such, so the claim waits for it rather than spending its retries."""
        try:
            self._carry(body, props)
        except (OperationalError, InterfaceError) as exc:
            raise DatabaseUnavailable(f"claim ledger unavailable: {type(exc.orig).__name__}") from exc

    def _carry(self, body: bytes, props: BasicProperties) -> None:
        xid = props.correlation_id
        if not xid or not props.reply_to:
            raise MessageContentError("claim without correlation_id or reply_to: no answer could be tied to it")
        message_id = str(props.message_id) if props.message_id else None
        switches = self._switches(body)
        with self.engine.begin() as conn:
            ledger = ClaimLedger(conn)
            reason = ledger.fence(xid, message_id) if switches else "no route for its BIN/PCN"
            if reason is None and not ledger.start_transmission(xid, message_id, switches[0].name):
                reason = "duplicate: another connector is transmitting this message"
            if reason is not None:
                ledger.note(xid, WireEvent.DROPPED, message_id=message_id, detail=reason)
                SWITCH_TRANSMISSIONS.labels("-", "dropped").inc()
                log.warning("claim %s not sent: %s", xid, reason)
                return
        answer = self._transmit(xid, message_id, body, switches)
        if answer is not None:
            publish_confirmed(self._publisher, OutgoingMessage("", props.reply_to, answer, response_properties(props)))

    def _switches(self, body: bytes) -> list[SwitchEndpoint]:
        """The route's switches for the claim's BIN and PCN (header fields 101-A1 and 104-A4), failover last."""
        bin_, pcn = body[:6].decode("ascii", "replace"), body[10:20].decode("ascii", "replace").strip()
        route = self.table.route(bin_, pcn or None)
        return self.table.switches_for(route) if route is not None else []

    def _transmit(self, xid: str, message_id: str | None, body: bytes, switches: list[SwitchEndpoint]) -> bytes | None:
        """The switch's answer, or None when it is unknown (already noted)."""
        for number, switch in enumerate(switches):
            if number:
                self._note(xid, WireEvent.FAILOVER, message_id, switch=switch.name)
            try:
                answer = client.exchange(switch, body)
            except client.Unreachable as exc:
                self._note(xid, WireEvent.UNREACHABLE, message_id, switch=switch.name, detail=str(exc))
                log.warning("claim %s: %s; trying the failover switch if any", xid, exc)
                continue
            except client.NoAnswer as exc:
                self._note(xid, WireEvent.NO_ANSWER, message_id, switch=switch.name, detail=str(exc))
                log.warning("claim %s: %s; status unknown", xid, exc)
                return None
            self._note(xid, WireEvent.ANSWERED, message_id, switch=switch.name)
            return answer
        log.warning("claim %s: no switch reachable; answered 92 as a switch would", xid)
        return not_sent_answer(body, "no switch reachable; claim not sent")

    def _note(
        self,
        xid: str,
        event: WireEvent,
        message_id: str | None,
        *,
        switch: str | None = None,
        detail: str | None = None,
    ) -> None:
        with self.engine.begin() as conn:
            ClaimLedger(conn).note(xid, event, message_id=message_id, switch=switch, detail=detail)
        if event in _COUNTED:
            SWITCH_TRANSMISSIONS.labels(switch or "-", _COUNTED[event]).inc()

    def _declare(self, stop: threading.Event) -> bool:
        return until_done(self.declare, stop, errors=(InfrastructureError, pe.AMQPError, OSError), failed=_not_declared)


def _not_declared(exc: BaseException) -> None:
    log.log(reconnect_level(exc), "switch-connector cannot declare its queue yet: %s", exc)
