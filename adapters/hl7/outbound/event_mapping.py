"""Which message an event becomes for a destination, built with a control id derived from the event id.

    prescription.received   -> status update, accepted (ORC-1 SC, ORC-5 SC)
    prescription.verified   -> status update, in progress (SC/IP); or, for ``encoded_orders`` destinations
                               and inpatient orders, an RDE^O11 for the original fill only
    prescription.rejected   -> status update, refused (OC/CA, ORC-16 = the pharmacist's reason)
    prescription.cancelled  -> the placer's CA/DC answered CR/DR; the pharmacy's own stop OC/CA before work
                               started, else OD/DC; to ``encoded_orders`` destinations that hold the order,
                               an RDE with ORC-1 DC or CA (``stop_control``)
    prescription.dispensed  -> RDS dispense message
    order.refused           -> to ``application_acks`` destinations only, when the order asked for an
                               application ACK on error (MSH-16 AL/ER): an application reject (MSA AE)
    renewal.requested       -> for an order that came over HL7: a refill authorization request (RDE^O25,
                               ORC-1 RF; ``refill_requests``); other doors' orders are asked their own way

Events never carry the patient's name: the patient, ward, prescriber, dose and pharmacists are read from the
stored prescription (``records``) when the message is built.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Protocol

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
from adapters.hl7.outbound.refill_requests import build_refill_request_for
from adapters.hl7.outbound.status_messages import build_status_update
from hub.domain.events import (
    EVENT_TYPES,
    Event,
    OrderRefused,
    PrescriptionCancelled,
    PrescriptionReceived,
    RenewalRequested,
)
from hub.domain.order_context import Pharmacist
from hub.domain.order_parts import DrugInfo, Frozen, Setting
from hub.domain.prescription import Prescription
from hub.errors import MessageContentError

#: fill states in which no pharmacy work has started: a cancel then is a cancel, later a discontinue
_NOT_STARTED = {"received", "needs_product", "claim_pending", "claim_rejected", "data_verification"}


class StoredOrders(Protocol):
    """Where the order's stored record is read (``hub.persistence.queries.SqlPrescriptionQueries``)."""

    def prescription(self, prescription_id: str) -> Prescription | None:
        """The prescription aggregate, or None when it is not (or no longer) stored."""


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
            id=str(raw["id"]),
            type=raw["type"],
            subject=str(raw.get("subject", "")),
            time=datetime.fromisoformat(raw["time"]),
            event=model.model_validate(raw["data"]),
        )
    except (ValueError, KeyError, TypeError, ValidationError) as exc:
        raise MessageContentError(f"undecodable or unknown event: {exc!r}"[:500]) from exc


def message_for(
    destination: DestinationConfig, received: ReceivedEvent, records: StoredOrders | None = None
) -> OutboundMessage | None:
    """The message this destination gets for the event, or None when the event is not for it.

    Without ``records`` (or the record) the message carries what the event has: identifiers, no names.
    """
    event = received.event
    if received.type not in destination.subscribed:
        return None
    if not destination.wants(_field(event, "setting"), _field(event, "placer_system")):
        return None
    control_id = control_id_for(received.id, destination.name)
    header = MessageHeader(
        sending_application=destination.sending_application,
        sending_facility=destination.sending_facility,
        receiving_application=destination.receiving_application,
        receiving_facility=destination.receiving_facility,
        version=destination.version,
        processing_id=destination.processing_id,
        control_id=control_id,
        created_at=received.time,
    )
    rx = records.prescription(event.prescription_id) if records is not None else None
    payload = _build(destination, header, received, rx)
    if payload is None:
        return None
    return OutboundMessage(
        event_id=received.id,
        event_type=received.type,
        subject=received.subject,
        control_id=control_id,
        payload=payload,
    )


def _field(event: Event, name: str) -> str | None:
    value = getattr(event, name, None)
    return None if value is None else str(value)


def _build(
    destination: DestinationConfig, header: MessageHeader, received: ReceivedEvent, rx: Prescription | None
) -> bytes | None:
    event, at = received.event, received.time
    al1 = destination.allergies
    if isinstance(event, OrderRefused):
        return _application_reject(destination, header, event)
    if isinstance(event, RenewalRequested):
        return build_refill_request_for(header, event, rx, at)
    order = _order(event, rx)
    if (
        isinstance(event, PrescriptionReceived)
        and event.reply is not None
        and destination.application_acks
        and answers(event.reply, success=True)
    ):
        ack = build_application_ack(header, order, event.reply)
        if ack is not None:  # the placer asked for it (MSH-16): it says "accepted" in the placer's own terms
            return ack
    if isinstance(event, wf.PrescriptionDispensed):
        return build_dispense(header, _dispense(event, at, order, rx), allergies=al1)
    if isinstance(event, wf.PrescriptionVerified) and destination.encoded_orders:
        if event.setting is not Setting.INPATIENT or event.fill_number != 0:
            return None
        encoded = EncodedOrder(
            order=order,
            ndc=event.ndc,
            verifier_id=event.actor_id,
            verified_at=at,
            pharmacist=_pharmacist(rx, event.fill_number, product=False, by=event.actor_id),
        )
        return build_encoded_order(header, encoded, allergies=al1)
    if isinstance(event, PrescriptionCancelled) and destination.encoded_orders:
        return _stop_encoded_order(destination, header, event, order, at)
    status, reason = _status(event)
    return build_status_update(
        header, StatusUpdate(order=order, status=status, reason=reason, changed_at=at), allergies=al1
    )


def _stop_encoded_order(
    destination: DestinationConfig, header: MessageHeader, event: PrescriptionCancelled, order: OrderRef, at: datetime
) -> bytes | None:
    """RDE with ORC-1 DC or CA for an inpatient order the cabinet holds (verified); nothing otherwise."""
    if event.setting is Setting.OUTPATIENT or event.previous_state in _NOT_STARTED:
        return None
    control = destination.stop_control
    if control == "as_requested":
        control = "CA" if (event.requested or "").upper() == "CA" else "DC"
    drug = order.drug or (order.context.drug if order.context else None)
    ndc = (order.context.product_ndc if order.context else None) or (drug.ndc if drug else None) or ""
    encoded = EncodedOrder(order=order, ndc=ndc, verifier_id="", verified_at=at, control=control, status=control)
    return build_encoded_order(header, encoded, allergies=destination.allergies)


def _application_reject(destination: DestinationConfig, header: MessageHeader, event: OrderRefused) -> bytes | None:
    """The placer's application reject for a refused order, if it asked for one here; else nothing."""
    if event.reply is None or not destination.application_acks or not answers(event.reply, success=False):
        return None
    return build_application_reject(header, _order(event, None), event.reply, event.code, event.reason)


def _status(event: Event) -> tuple[OrderStatus, str | None]:
    if isinstance(event, PrescriptionReceived):
        return OrderStatus.ACCEPTED, None
    if isinstance(event, wf.PrescriptionVerified):
        return OrderStatus.IN_PROGRESS, None
    if isinstance(event, wf.PrescriptionRejected):
        return OrderStatus.REFUSED, event.reason
    if isinstance(event, PrescriptionCancelled):
        requested = (event.requested or "").upper()
        if requested in ("CA", "DC"):  # the placer asked: answered "cancelled / discontinued as requested"
            return (
                OrderStatus.CANCELLED_AS_REQUESTED if requested == "CA" else OrderStatus.DISCONTINUED_AS_REQUESTED
            ), event.reason
        started = event.previous_state not in _NOT_STARTED
        return (OrderStatus.DISCONTINUED if started else OrderStatus.CANCELLED), event.reason
    raise MessageContentError(f"no outbound HL7 message is defined for event {event.name!r}")


def _order(event: Event, rx: Prescription | None) -> OrderRef:
    drug = getattr(event, "drug", None)
    ndc = getattr(event, "ndc", None)
    context = rx.order_context() if rx is not None else None
    if not isinstance(drug, DrugInfo):
        drug = context.drug.model_copy(update={"ndc": ndc}) if context and ndc else (DrugInfo(ndc=ndc) if ndc else None)
    fill_number = getattr(event, "fill_number", None)
    return OrderRef(
        placer_order_number=str(getattr(event, "placer_order_number", "")),
        placer_system=_field(event, "placer_system"),
        rx_number=_field(event, "rx_number"),
        setting=getattr(event, "setting", None),
        drug=drug,
        # events carry identifiers only where RXHUB_EVENTS_INCLUDE_IDENTIFIERS is set: else the stored order's
        patient_identifiers=tuple(getattr(event, "patient_identifiers", ()))
        or (tuple(rx.patient_identifiers) if rx is not None else ()),
        context=context,
        fill_number=fill_number if isinstance(fill_number, int) else None,
    )


def _pharmacist(
    rx: Prescription | None, fill_number: int, *, product: bool, by: str | None = None
) -> Pharmacist | None:
    """The pharmacist who verified the fill's data (RXE-14) or released its product (RXD-10), as a person.

    A partial fill and its completion share their fill number: the one ``by`` (the event's pharmacist) verified."""
    if rx is None:
        return None
    fills = [f for f in rx.fills if f.fill_number == fill_number]
    if by is not None:
        fills = [f for f in fills if (f.product_verified_by if product else f.data_verified_by) == by] or fills
    if not fills:
        return None
    return fills[-1].product_verifier if product else fills[-1].data_verifier


def _dispense(event: wf.PrescriptionDispensed, at: datetime, order: OrderRef, rx: Prescription | None) -> Dispense:
    return Dispense(
        order=order,
        fill_number=event.fill_number,
        ndc=event.ndc,
        quantity=event.quantity,
        unit=event.unit,
        picks=event.picks,
        dispensed_at=at,
        pharmacist_id=event.pharmacist_id or event.actor_id,
        owed=event.owed,
        pharmacist=_pharmacist(rx, event.fill_number, product=True, by=event.pharmacist_id),
        refills_remaining=event.refills_remaining,
        route=event.route,
    )
