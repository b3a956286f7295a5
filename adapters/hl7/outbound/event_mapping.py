"""Which message an event becomes for a destination, built with a control id derived from the event id.

    prescription.received   -> status update, accepted (ORC-1 SC, ORC-5 SC)
    prescription.verified   -> status update, in progress (SC/IP); or, for ``encoded_orders`` destinations
                               and inpatient orders, an RDE^O11 for the original fill only
    prescription.rejected   -> status update, refused (OC/CA, ORC-16 = the pharmacist's reason)
    prescription.cancelled  -> status update, cancelled (OC/CA) before work started, else discontinued (OD/DC)
    prescription.dispensed  -> RDS dispense message
    order.refused           -> to ``application_acks`` destinations only, when the order asked for an
                               application ACK on error (MSH-16 AL/ER): an application reject (MSA AE)
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pydantic import ValidationError

import hub.domain.workflow_events as wf
from adapters.hl7.outbound.application_acks import answers, build_application_ack, build_application_reject
from adapters.hl7.outbound.control_ids import control_id_for
from adapters.hl7.outbound.destinations import DestinationConfig
from adapters.hl7.outbound.dispense_messages import build_dispense
from adapters.hl7.outbound.encoded_order_messages import build_encoded_order
from adapters.hl7.outbound.message_inputs import (
    Dispense,
    EncodedOrder,
    MessageHeader,
    OrderRef,
    OrderStatus,
    StatusUpdate,
)
from adapters.hl7.outbound.status_messages import build_status_update
from hub.domain.events import EVENT_TYPES, Event, OrderRefused, PrescriptionCancelled, PrescriptionReceived
from hub.domain.order_parts import DrugInfo, Frozen, Setting
from hub.errors import MessageContentError

#: fill states in which no pharmacy work has started: a cancel then is a cancel, later a discontinue
_NOT_STARTED = {"received", "needs_product", "claim_pending", "claim_rejected", "data_verification"}


class OutboundMessage(Frozen):
    """One message ready for the wire, with the ids that trace it back to its event."""

    event_id: str
    event_type: str
    #: the prescription id (CloudEvents subject): messages about one order keep their order
    subject: str
    control_id: str
    payload: bytes


class ReceivedEvent(Frozen):
    """The parts of a CloudEvent the mapping reads, with ``data`` decoded into its event model."""

    id: str
    type: str
    subject: str
    time: datetime
    event: Event


def decode_cloudevent(body: bytes) -> ReceivedEvent:
    """Parse a structured-mode CloudEvent of a known type; anything else is a MessageContentError."""
    try:
        raw: Any = json.loads(body)
        model = EVENT_TYPES[raw["type"]]
        return ReceivedEvent(
            id=str(raw["id"]), type=raw["type"], subject=str(raw.get("subject", "")),
            time=datetime.fromisoformat(raw["time"]), event=model.model_validate(raw["data"]),
        )
    except (ValueError, KeyError, TypeError, ValidationError) as exc:
        raise MessageContentError(f"undecodable or unknown event: {exc!r}"[:500]) from exc


def message_for(destination: DestinationConfig, received: ReceivedEvent) -> OutboundMessage | None:
    """The message this destination gets for the event, or None when the event is not for it."""
    event = received.event
    if received.type not in destination.subscribed:
        return None
    if not destination.wants(_field(event, "setting"), _field(event, "placer_system")):
        return None
    control_id = control_id_for(received.id)
    header = MessageHeader(
        sending_application=destination.sending_application, sending_facility=destination.sending_facility,
        receiving_application=destination.receiving_application,
        receiving_facility=destination.receiving_facility, version=destination.version,
        processing_id=destination.processing_id, control_id=control_id, created_at=received.time,
    )
    payload = _build(destination, header, received)
    if payload is None:
        return None
    return OutboundMessage(
        event_id=received.id, event_type=received.type, subject=received.subject, control_id=control_id,
        payload=payload,
    )


def _field(event: Event, name: str) -> str | None:
    value = getattr(event, name, None)
    return None if value is None else str(value)


def _build(destination: DestinationConfig, header: MessageHeader, received: ReceivedEvent) -> bytes | None:
    event, at = received.event, received.time
    if isinstance(event, OrderRefused):
        return _application_reject(destination, header, event)
    if isinstance(event, PrescriptionReceived) and event.reply is not None and destination.application_acks \
            and answers(event.reply, success=True):
        ack = build_application_ack(header, _order(event), event.reply)
        if ack is not None:  # the placer asked for it (MSH-16): it says "accepted" in the placer's own terms
            return ack
    if isinstance(event, wf.PrescriptionDispensed):
        return build_dispense(header, _dispense(event, at))
    if isinstance(event, wf.PrescriptionVerified) and destination.encoded_orders:
        if event.setting is not Setting.INPATIENT or event.fill_number != 0:
            return None
        encoded = EncodedOrder(order=_order(event), ndc=event.ndc, verifier_id=event.actor_id, verified_at=at)
        return build_encoded_order(header, encoded)
    status, reason = _status(event)
    return build_status_update(header, StatusUpdate(order=_order(event), status=status, reason=reason,
                                                    changed_at=at))


def _application_reject(destination: DestinationConfig, header: MessageHeader, event: OrderRefused) -> bytes | None:
    """The placer's application reject for a refused order, if it asked for one here; else nothing."""
    if event.reply is None or not destination.application_acks or not answers(event.reply, success=False):
        return None
    return build_application_reject(header, _order(event), event.reply, event.code, event.reason)


def _status(event: Event) -> tuple[OrderStatus, str | None]:
    if isinstance(event, PrescriptionReceived):
        return OrderStatus.ACCEPTED, None
    if isinstance(event, wf.PrescriptionVerified):
        return OrderStatus.IN_PROGRESS, None
    if isinstance(event, wf.PrescriptionRejected):
        return OrderStatus.REFUSED, event.reason
    if isinstance(event, PrescriptionCancelled):
        started = event.previous_state not in _NOT_STARTED
        return (OrderStatus.DISCONTINUED if started else OrderStatus.CANCELLED), event.reason
    raise MessageContentError(f"no outbound HL7 message is defined for event {event.name!r}")


def _order(event: Event) -> OrderRef:
    drug = getattr(event, "drug", None)
    ndc = getattr(event, "ndc", None)
    return OrderRef(
        placer_order_number=str(getattr(event, "placer_order_number", "")),
        placer_system=_field(event, "placer_system"),
        rx_number=_field(event, "rx_number"),
        setting=getattr(event, "setting", None),
        drug=drug if isinstance(drug, DrugInfo) else (DrugInfo(ndc=ndc) if ndc else None),
        patient_identifiers=tuple(getattr(event, "patient_identifiers", ())),
    )


def _dispense(event: wf.PrescriptionDispensed, at: datetime) -> Dispense:
    return Dispense(
        order=_order(event), fill_number=event.fill_number, ndc=event.ndc, quantity=event.quantity,
        unit=event.unit, picks=event.picks, dispensed_at=at,
        pharmacist_id=event.pharmacist_id or event.actor_id, owed=event.owed,
    )
