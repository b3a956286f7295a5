"""Public workflow events: what subscribers (payer worker, stock, notifications, EHR feeds) bind to.

Each event carries what its subscribers need without calling back (rx and fill numbers, placer order,
state, product, quantities, lots, amounts, codes, the deciding pharmacist's id) and never a patient's
name or birth date. ``prescription.received`` and ``prescription.cancelled`` live in ``events.py``.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import ClassVar

from hub.domain.claim import DurPps
from hub.domain.lots import Pick
from hub.domain.messages import Event
from hub.domain.order_parts import Identifier, Setting


class FillEvent(Event):
    """Base of events about one fill of a prescription (not published itself)."""

    rx_number: str
    fill_number: int
    placer_order_number: str
    placer_system: str | None = None
    setting: Setting
    #: the fill's state after the event
    state: str
    #: the patient's identifiers as the order gave them (MRN...): what downstream systems match on
    patient_identifiers: tuple[Identifier, ...] = ()


class PrescriptionRejected(FillEvent):
    """Refused by a pharmacist at data verification (a second order under a held number is ``order.refused``)."""

    name: ClassVar[str] = "prescription.rejected"

    reason: str
    actor_id: str


class ClaimSubmitted(FillEvent):
    """A B1 claim is to be sent; carries what the payer adapter puts in it besides patient demographics."""

    name: ClassVar[str] = "claim.submitted"

    patient_id: str
    prescriber_npi: str | None = None
    ndc: str
    quantity: Decimal
    unit: str
    days_supply: int | None = None
    substitution_allowed: bool
    written_date: date | None = None
    date_of_service: date
    bin: str | None = None
    pcn: str | None = None
    group_id: str | None = None
    cardholder_id: str | None = None
    amount_requested: Decimal | None = None
    attempt: int
    prior_auth_number: str | None = None
    dur_pps: DurPps | None = None
    #: 1 primary, 2 secondary...: which of the patient's coverages is billed
    payer: int = 1
    #: B1 billing, or B3 rebill of a paid claim whose data a technician corrected
    transaction: str = "B1"


class ClaimPaid(FillEvent):
    """The payer paid (or captured) the claim."""

    name: ClassVar[str] = "claim.paid"

    total_paid: Decimal | None = None
    patient_pay: Decimal | None = None
    authorization_number: str | None = None


class ClaimRejected(FillEvent):
    """The payer rejected the claim; the fill waits in the technician's exception queue."""

    name: ClassVar[str] = "claim.rejected"

    reject_codes: tuple[str, ...]
    payer_message: str | None = None
    attempt: int


class ClaimStatusUnknown(FillEvent):
    """The payer did not answer in time; the hub reverses the claim before any resubmission (never paid twice)."""

    name: ClassVar[str] = "claim.status_unknown"

    payer_message: str | None = None
    attempt: int


class ClaimReversalRequired(FillEvent):
    """A claim that was (or may have been) paid belongs to a fill that will not be sold: send a B2."""

    name: ClassVar[str] = "claim.reversal_required"

    ndc: str
    bin: str | None = None
    pcn: str | None = None
    authorization_number: str | None = None
    total_paid: Decimal | None = None
    date_of_service: date | None = None
    reason: str
    #: the claim attempt to reverse: a fill billed to two payers reverses the secondary's, then the primary's
    attempt: int = 0


class ClaimReversed(FillEvent):
    """The payer approved a B2 reversal, one the hub sent itself after a timeout included (see ``reason``)."""

    name: ClassVar[str] = "claim.reversed"

    authorization_number: str | None = None
    #: the claim attempt the payer reversed: with the fill number, what makes this reversal one state change
    attempt: int
    #: why the claim was reversed when the hub itself reversed it: ``status_unknown`` (the payer had paid a claim
    #: it did not answer in time); unset for the reversals a cancel, a reject or a return to stock asked for
    reason: str | None = None


class PrescriptionVerified(FillEvent):
    """A pharmacist approved data verification (DUR reviewed); the fill goes to the fill queue."""

    name: ClassVar[str] = "prescription.verified"

    actor_id: str
    ndc: str
    overridden_alerts: tuple[str, ...] = ()


class FillCompleted(FillEvent):
    """Stock was picked and labelled; the picked lots are now reserved for this fill."""

    name: ClassVar[str] = "fill.completed"

    actor_id: str
    ndc: str
    quantity: Decimal
    unit: str
    owed: Decimal
    picks: tuple[Pick, ...]
    discard_date: date


class FillVerified(FillEvent):
    """A pharmacist approved the product check; the fill is released."""

    name: ClassVar[str] = "fill.verified"

    actor_id: str
    ndc: str


class FillRejected(FillEvent):
    """A pharmacist refused the product check; the fill goes back to the fill queue."""

    name: ClassVar[str] = "fill.rejected"

    actor_id: str
    reason: str


class PrescriptionReady(FillEvent):
    """Ready for pickup (retail will-call) or for delivery to the unit (inpatient)."""

    name: ClassVar[str] = "prescription.ready"

    ndc: str
    quantity: Decimal
    owed: Decimal
    #: what to collect at the register (copay, or the cash price)
    patient_pay: Decimal | None = None


class PrescriptionDispensed(FillEvent):
    """Picked up by the patient (retail) or delivered to the unit (inpatient); the stock has left."""

    name: ClassVar[str] = "prescription.dispensed"

    actor_id: str
    ndc: str
    quantity: Decimal
    unit: str
    picks: tuple[Pick, ...]
    #: still owed after a partial fill (0 when complete)
    owed: Decimal = Decimal("0")
    #: the pharmacist who released it at product verification (HL7 RXD-10)
    pharmacist_id: str | None = None
    refills_remaining: int | None = None
    route: str | None = None


class PrescriptionReturned(FillEvent):
    """Not picked up: back to stock, and a claim reversal if the claim was paid."""

    name: ClassVar[str] = "prescription.returned"

    ndc: str
    picks: tuple[Pick, ...]
    reversal_required: bool


class InventoryReleased(Event):
    """Stock reserved for a fill goes back to free stock (product rejected, cancelled, returned)."""

    name: ClassVar[str] = "inventory.released"

    rx_number: str
    fill_number: int
    ndc: str
    picks: tuple[Pick, ...]


class InventoryLow(Event):
    """Free in-date stock of an NDC fell under its reorder point (``prescription_id``: the trigger, or "")."""

    name: ClassVar[str] = "inventory.low"

    ndc: str
    available: Decimal
    reorder_point: Decimal


#: the events of this module a subscriber can bind to (``FillEvent`` is only their base)
PUBLISHED: tuple[type[Event], ...] = (
    PrescriptionRejected,
    ClaimSubmitted,
    ClaimPaid,
    ClaimRejected,
    ClaimReversalRequired,
    ClaimReversed,
    ClaimStatusUnknown,
    PrescriptionVerified,
    FillCompleted,
    FillVerified,
    FillRejected,
    PrescriptionReady,
    PrescriptionDispensed,
    PrescriptionReturned,
    InventoryReleased,
    InventoryLow,
)

__all__ = [
    "ClaimPaid",
    "ClaimRejected",
    "ClaimReversalRequired",
    "ClaimReversed",
    "ClaimStatusUnknown",
    "ClaimSubmitted",
    "FillCompleted",
    "FillEvent",
    "FillRejected",
    "FillVerified",
    "InventoryLow",
    "InventoryReleased",
    "PrescriptionDispensed",
    "PrescriptionReady",
    "PrescriptionRejected",
    "PrescriptionReturned",
    "PrescriptionVerified",
]
