"""Events: facts that happened, published on ``rxhub.events`` with the event name as routing key."""

from __future__ import annotations

from typing import ClassVar

from hub.domain.messages import Event as Event
from hub.domain.order_parts import DrugInfo, Identifier, QuantityInfo, ReplyTo, Setting
from hub.domain.partial_events import PUBLISHED as PARTIAL_FILL_EVENTS
from hub.domain.workflow_events import PUBLISHED as WORKFLOW_EVENTS


class PrescriptionReceived(Event):
    """An order was recorded at intake."""

    name: ClassVar[str] = "prescription.received"

    rx_number: str
    #: the patient's identifiers as the order gave them (MRN...): what systems downstream match on
    patient_identifiers: tuple[Identifier, ...] = ()
    #: the sender's message to quote in an application acknowledgement, when it asked for one
    reply: ReplyTo | None = None
    placer_order_number: str
    placer_system: str | None = None
    source: str
    drug: DrugInfo
    quantity: QuantityInfo | None = None
    days_supply: int | None = None
    refills: int = 0
    setting: Setting
    state: str


class PrescriptionCancelled(Event):
    """The prescriber cancelled or discontinued the order."""

    name: ClassVar[str] = "prescription.cancelled"

    rx_number: str
    placer_order_number: str
    placer_system: str | None = None
    setting: Setting | None = None
    patient_identifiers: tuple[Identifier, ...] = ()
    drug: DrugInfo | None = None
    reason: str | None = None
    previous_state: str
    #: what the placer asked for (HL7 ORC-1 CA or DC), None when the pharmacy stopped the order itself
    requested: str | None = None


class OrderRefused(Event):
    """An order the door had accepted (HL7 AA/CA, FHIR 2xx, SCRIPT 010) was refused at intake; nothing was kept."""

    name: ClassVar[str] = "order.refused"

    #: ``prescription_id`` (the subject) is the prescription that holds the refused order's identity
    refusal_id: str
    #: why, as a code (``duplicate-order``) and in words for the sender and staff
    code: str
    reason: str
    placer_order_number: str
    placer_system: str | None = None
    source: str
    #: the principal that sent it
    owner: str | None = None
    #: the sender's message to quote in an application reject (HL7 MSH-16 AL or ER)
    reply: ReplyTo | None = None
    #: the refused order's stored request (``script:<MessageID>``...): where a SCRIPT Error is routed from
    raw_message_ref: str | None = None
    patient_identifiers: tuple[Identifier, ...] = ()
    drug: DrugInfo | None = None
    setting: Setting | None = None


class RefillDeclined(Event):
    """A refill was asked for and cannot be given (no refills left, expired, CII...)."""

    name: ClassVar[str] = "refill.refused"

    rx_number: str
    reason: str


class RenewalRequested(Event):
    """No refills left: the prescriber is asked to renew (a prescriber connector sends SCRIPT RxRenewalRequest)."""

    name: ClassVar[str] = "renewal.requested"

    rx_number: str
    placer_order_number: str
    placer_system: str | None = None
    prescriber_npi: str | None = None
    drug: DrugInfo
    quantity: QuantityInfo | None = None
    #: the door the order came through (hl7, fhir, script, verbal): each origin's adapter asks its own way
    source: str | None = None
    setting: Setting | None = None
    #: why: ``refill-refused`` (asked for with none left) or ``last-refill-dispensed`` (hub.domain.renewals)
    trigger: str = "refill-refused"


class PrescriptionUpdated(Event):
    """Something changed that has no event of its own (product selected, alert overridden, renewal answered)."""

    name: ClassVar[str] = "prescription.updated"

    rx_number: str
    state: str
    change: str


_PUBLISHED_HERE: tuple[type[Event], ...] = (
    PrescriptionReceived,
    PrescriptionCancelled,
    OrderRefused,
    RefillDeclined,
    RenewalRequested,
    PrescriptionUpdated,
)

#: every published event type by its name: the catalogue (AsyncAPI, JSON Schema) and the decoders read it
EVENT_TYPES: dict[str, type[Event]] = {e.name: e for e in (*_PUBLISHED_HERE, *WORKFLOW_EVENTS, *PARTIAL_FILL_EVENTS)}
