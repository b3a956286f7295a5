"""The SCRIPT responder: the hub's events become the SCRIPT messages a prescriber is owed.

``CancelRxResponder`` is a raw handler for ``ConsumerRunner`` on ``<prefix>.script-outbound``:

* ``prescription.cancelled`` whose cause was a CancelRx (found by the event's ``causationid``, see
  ``door_records``)                                   -> CancelRxResponse Approved
* ``renewal.requested`` on a prescription that came by SCRIPT -> RxRenewalRequest (recorded, so the
  prescriber's RxRenewalResponse finds its Rx number by RelatesToMessageID)
* ``order.refused`` of an order that came by SCRIPT, whose NewRx is on file -> Error 900 relating to it
  (the route back is the NewRx's From; without the NewRx there is none: logged, staff see the refusal)
* anything else (a cancel the pharmacy made, an HL7 or FHIR order) -> nothing, acked

Each message is published to ``<prefix>.script-out`` with confirms before the event is acked; its
MessageID is derived from the event id, so a redelivered event yields the same message (a connector
dedupes by MessageID). A database or broker failure is retried by the runner, then dead-lettered.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol, TypeVar

from pika.spec import BasicProperties
from pydantic import ValidationError

from adapters.ncpdp.script.door_records import (
    DOOR,
    OUTBOUND_DOOR,
    SENT,
    answer_message_id,
    command_index_key,
    message_id_of,
)
from adapters.ncpdp.script.message import ScriptHeader, read_message
from adapters.ncpdp.script.outbound_messages import OutboundScript, cancel_approved, refusal_error, renewal_request
from adapters.ncpdp.script.outbound_topology import RESPONDER_STEP, ScriptOutTopology
from adapters.ncpdp.script.renewal_request import PharmacyIdentity
from hub.domain.events import Event, OrderRefused, PrescriptionCancelled, RenewalRequested
from hub.domain.order_parts import Source
from hub.errors import BrokerUnavailable, MessageContentError
from hub.messaging.amqp_properties import raw_properties
from hub.messaging.async_publisher import OutgoingMessage
from hub.messaging.blocking_publisher import BlockingConfirmingPublisher
from hub.messaging.consumer import ConsumerRunner
from hub.messaging.envelope import utcnow
from hub.messaging.headers import EVENT_ID_HEADER, SCRIPT_TO_HEADER
from hub.messaging.topology import Topology
from hub.security.principals import dedupe_sender
from hub.service.inbound_entry import InboundEntry
from hub.service.ports import InboundLog, PrescriptionQueries

log = logging.getLogger(__name__)

SCRIPT_CONTENT_TYPE = "application/xml"
#: the prescriber address (qualifier:value) a connector delivers an outbound message to
#: used when a SCRIPT order's NewRx is not on file to say which address the pharmacy was reached at
DEFAULT_PHARMACY = PharmacyIdentity(ncpdp_id="RXHUB", name="RxHub Community Pharmacy")


E = TypeVar("E", bound=Event)


class MessagePublisher(Protocol):
    """A publisher that returns only once the broker confirmed (BlockingConfirmingPublisher)."""

    def publish(self, message: OutgoingMessage) -> None:
        """Raise PublishNotConfirmed or BrokerUnavailable when the message is not stored."""


class CancelRxResponder:
    """Raw handler: one CloudEvent in, at most one confirmed SCRIPT message out."""

    def __init__(
        self,
        inbound: InboundLog,
        queries: PrescriptionQueries,
        publisher: MessagePublisher,
        topology: ScriptOutTopology,
        *,
        pharmacy: PharmacyIdentity = DEFAULT_PHARMACY,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._inbound, self._queries, self._publisher = inbound, queries, publisher
        self._topology, self._pharmacy, self._clock = topology, pharmacy, clock

    def __call__(self, body: bytes, props: BasicProperties) -> None:
        """Build and publish the SCRIPT message the event calls for, if any."""
        event = _decode(body)
        message: OutboundScript | None = None
        if event["type"] == PrescriptionCancelled.name:
            message = self._cancel_response(event)
        elif event["type"] == RenewalRequested.name:
            message = self._renewal_request(event)
        elif event["type"] == OrderRefused.name:
            message = self._refusal_error(event)
        if message is None:
            return
        self._publish(message, event)
        log.info("SCRIPT %s queued for the prescriber", message.kind, extra={"message_id": message.message_id})

    def _cancel_response(self, event: dict[str, Any]) -> OutboundScript | None:
        cancelled = _data(PrescriptionCancelled, event)
        door, sender, control_id = command_index_key(event.get("causationid") or "")
        stored = self._inbound.find(door, sender, control_id)
        if stored is None or stored.raw is None:
            return None  # not caused by a CancelRx: nobody to answer
        return cancel_approved(
            stored.raw, cancelled, message_id=answer_message_id("cancel", event["id"]), now=self._clock()
        )

    def _refusal_error(self, event: dict[str, Any]) -> OutboundScript | None:
        refused = _data(OrderRefused, event)
        if refused.source != Source.SCRIPT.value:
            return None
        new_rx = self._new_rx_header(refused.owner, refused.placer_system, refused.raw_message_ref)
        if new_rx is None or not new_rx.from_:
            log.warning(
                "refused SCRIPT order not answered: its NewRx is not on file",
                extra={"correlation_id": event.get("correlationid")},
            )
            return None
        return refusal_error(new_rx, refused, message_id=answer_message_id("refusal", event["id"]), now=self._clock())

    def _renewal_request(self, event: dict[str, Any]) -> OutboundScript | None:
        renewal = _data(RenewalRequested, event)
        if renewal.source is not None and renewal.source != Source.SCRIPT.value:
            return None  # another door's order: its own adapter asks (HL7 refill request, FHIR Task)
        rx = self._queries.prescription(renewal.prescription_id)
        if rx is None:
            raise MessageContentError(f"renewal requested for unknown prescription {renewal.prescription_id}")
        patient = self._queries.patient(rx.patient_id)
        message = renewal_request(
            renewal,
            rx,
            self._new_rx_header(rx.owner, rx.placer_system, rx.raw_message_ref),
            patient=patient.info if patient is not None else None,
            pharmacy=self._pharmacy,
            message_id=answer_message_id("renewal", event["id"]),
            now=self._clock(),
        )
        if message is None:
            log.info("renewal for Rx %s not sent by SCRIPT: the order did not come by SCRIPT", renewal.rx_number)
            return None
        self._inbound.record(
            InboundEntry(OUTBOUND_DOOR, message.to, message.message_id, message.kind, message.body, SENT, None)
        )
        return message

    def _new_rx_header(
        self, owner: str | None, placer_system: str | None, raw_message_ref: str | None
    ) -> ScriptHeader | None:
        message_id = message_id_of(raw_message_ref)
        if message_id is None:
            return None
        # the door keyed the NewRx by the principal that sent it and its From (orders before owners: From)
        sender = dedupe_sender(owner, placer_system) if owner else placer_system or ""
        stored = self._inbound.find(DOOR, sender, message_id)
        return read_message(stored.raw).header if stored is not None and stored.raw is not None else None

    def _publish(self, message: OutboundScript, event: dict[str, Any]) -> None:
        properties = raw_properties(
            message.message_id,
            content_type=SCRIPT_CONTENT_TYPE,
            message_type=message.kind,
            correlation_id=event.get("correlationid"),
            headers={SCRIPT_TO_HEADER: message.to, EVENT_ID_HEADER: event["id"]},
        )
        outgoing = OutgoingMessage(self._topology.script_out_exchange, message.kind, message.body, properties)
        try:
            self._publisher.publish(outgoing)
        except BrokerUnavailable:
            # an idle blocking connection may have been dropped; the publisher reconnects on the next call
            self._publisher.publish(outgoing)


def script_outbound_runner(
    amqp_url: str,
    topology: Topology,
    queries: PrescriptionQueries,
    *,
    inbound: InboundLog,
    pharmacy: PharmacyIdentity = DEFAULT_PHARMACY,
    prefetch: int = 16,
    max_retries: int = 3,
) -> tuple[ConsumerRunner, BlockingConfirmingPublisher]:
    """The responder's consumer and its publisher (close the publisher when the runner stops)."""
    script_topology = ScriptOutTopology.of(topology)
    publisher = BlockingConfirmingPublisher(amqp_url, script_topology)
    responder = CancelRxResponder(inbound, queries, publisher, script_topology, pharmacy=pharmacy)
    runner = ConsumerRunner(
        amqp_url=amqp_url,
        topology=script_topology,
        step=RESPONDER_STEP,
        raw_handler=responder,
        queue=script_topology.responder_queue,
        prefetch=prefetch,
        max_retries=max_retries,
    )
    return runner, publisher


def run_script_outbound(
    amqp_url: str,
    topology: Topology,
    queries: PrescriptionQueries,
    stop: threading.Event,
    *,
    inbound: InboundLog,
    pharmacy: PharmacyIdentity = DEFAULT_PHARMACY,
) -> None:
    """Run the responder until ``stop`` is set (start it on a thread; it survives broker restarts)."""
    runner, publisher = script_outbound_runner(amqp_url, topology, queries, inbound=inbound, pharmacy=pharmacy)
    try:
        runner.run(stop)
    finally:
        publisher.close()


def _decode(body: bytes) -> dict[str, Any]:
    try:
        event = json.loads(body)
    except ValueError as exc:
        raise MessageContentError(f"undecodable CloudEvent: {exc}") from exc
    if not isinstance(event, dict) or not {"type", "id", "data"} <= event.keys():
        raise MessageContentError("not a CloudEvent with type, id and data")
    return event


def _data(model: type[E], event: dict[str, Any]) -> E:
    try:
        return model.model_validate(event["data"])
    except ValidationError as exc:
        raise MessageContentError(f"{event['type']} event {event['id']} has unreadable data: {exc}") from exc
