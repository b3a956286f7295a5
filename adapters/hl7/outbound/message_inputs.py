"""What the outbound builders need, as plain models: filled from events, or directly by tests and tools."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from hub.domain.lots import Pick
from hub.domain.order_context import OrderContext, Pharmacist
from hub.domain.order_parts import DrugInfo, Frozen, Identifier, Setting


class OrderStatus(StrEnum):
    """A change the placer is told about, each with its ORC-1 (table 0119) and ORC-5 (table 0038)."""

    ACCEPTED = "accepted"
    IN_PROGRESS = "in_progress"
    ON_HOLD = "on_hold"
    RELEASED = "released"
    CANCELLED = "cancelled"
    DISCONTINUED = "discontinued"
    REFUSED = "refused"
    COMPLETED = "completed"
    CANCELLED_AS_REQUESTED = "cancelled_as_requested"
    DISCONTINUED_AS_REQUESTED = "discontinued_as_requested"


#: (ORC-1, ORC-5) per status: the filler's unsolicited codes (SC status changed, OC cancelled, OD
#: discontinued, OH held, OE released) with the order status after the change
STATUS_CODES: dict[OrderStatus, tuple[str, str]] = {
    OrderStatus.ACCEPTED: ("SC", "SC"),
    OrderStatus.IN_PROGRESS: ("SC", "IP"),
    OrderStatus.ON_HOLD: ("OH", "HD"),
    OrderStatus.RELEASED: ("OE", "IP"),
    OrderStatus.CANCELLED: ("OC", "CA"),
    OrderStatus.DISCONTINUED: ("OD", "DC"),
    OrderStatus.REFUSED: ("OC", "CA"),
    OrderStatus.CANCELLED_AS_REQUESTED: ("CR", "CA"),
    OrderStatus.DISCONTINUED_AS_REQUESTED: ("DR", "DC"),
    OrderStatus.COMPLETED: ("SC", "CM"),
}


class MessageHeader(Frozen):
    """MSH content; ``created_at`` is the event's time so a rebuilt message has the same bytes."""

    sending_application: str
    sending_facility: str
    receiving_application: str = ""
    receiving_facility: str = ""
    version: str
    processing_id: str = "P"
    control_id: str
    created_at: datetime


class OrderRef(Frozen):
    """The order a message is about: the placer's number, our Rx number, the patient's identifiers."""

    placer_order_number: str
    placer_system: str | None = None
    rx_number: str | None = None
    setting: Setting | None = None
    patient_identifiers: tuple[Identifier, ...] = ()
    drug: DrugInfo | None = None
    #: the stored order's patient, ward, prescriber, dose and directions, when the record was found
    context: OrderContext | None = None
    #: the fill the message is about (0 the original)
    fill_number: int | None = None


class StatusUpdate(Frozen):
    """An order status change for the placer; ``reason`` goes to ORC-16 (refusals, cancellations)."""

    order: OrderRef
    status: OrderStatus
    reason: str | None = None
    changed_at: datetime


class Dispense(Frozen):
    """One fill handed over: product, quantity, lots, who dispensed it; ``owed`` > 0 marks a partial fill."""

    order: OrderRef
    fill_number: int
    ndc: str
    quantity: Decimal
    unit: str
    picks: tuple[Pick, ...] = ()
    dispensed_at: datetime
    pharmacist_id: str | None = None
    pharmacist: Pharmacist | None = None
    owed: Decimal | None = None
    refills_remaining: int | None = None
    route: str | None = None


class EncodedOrder(Frozen):
    """A verified order as the pharmacy will supply it, for a MAR or a dispensing cabinet; ``control`` DC or CA
    stops it there."""

    order: OrderRef
    ndc: str
    verifier_id: str
    verified_at: datetime
    pharmacist: Pharmacist | None = None
    #: ORC-1 and ORC-5: NW/IP a new order; DC/DC or CA/CA an order stopped
    control: str = "NW"
    status: str = "IP"
