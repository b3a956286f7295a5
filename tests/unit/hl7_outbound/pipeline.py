"""Realistic outbound fixtures: a real inpatient HL7 order (samples/hl7) read by the hub's own HL7 door, then
driven through the prescription aggregate's real steps; every event it publishes, and its stored record."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from adapters.hl7.mapping import to_commands
from adapters.hl7.parsing import parse_message
from hub.domain.commands import ReceivePrescription
from hub.domain.events import Event, PrescriptionReceived
from hub.domain.inventory import InventoryItem, allocate
from hub.domain.order_parts import ReplyTo, Source
from hub.domain.partial_fill import ShortStockChoice
from hub.domain.parties import Patient, Prescriber
from hub.domain.prescription import Prescription
from tests.unit.domain.builders import NOW, PHARMACIST, PHARMACY, SYSTEM, TECHNICIAN, context

ROOT = Path(__file__).resolve().parents[3]
SAMPLE = ROOT / "samples" / "hl7" / "02_rde_o11_inpatient_lisinopril.hl7"
#: the sample's patient with a reported penicillin allergy, as an EHR sends it after PV1
ALLERGY = b"AL1|1|DA|7980^Penicillin^RXNORM|SV|Hives"


def inpatient_order() -> ReceivePrescription:
    """The sample RDE^O11 (Synthetic^Bob, ward 4WEST^401^A, lisinopril 1 TAB QD PO) with an allergy added."""
    segments = SAMPLE.read_bytes().rstrip(b"\r\n").split(b"\r")
    at = next(i for i, s in enumerate(segments) if s.startswith(b"PV1")) + 1
    raw = b"\r".join([*segments[:at], ALLERGY, *segments[at:]]) + b"\r"
    (command,) = to_commands(parse_message(raw))
    assert isinstance(command, ReceivePrescription)
    return command


@dataclass
class StoredRecords:
    """The prescriptions as the hub stores them, read by id (what ``SqlPrescriptionQueries`` answers)."""

    by_id: dict[str, Prescription] = field(default_factory=dict)

    def prescription(self, prescription_id: str) -> Prescription | None:
        """The stored aggregate."""
        return self.by_id.get(prescription_id)


def received(records: StoredRecords, number: int = 1) -> tuple[Prescription, list[Event]]:
    """The sample order recorded at intake and screened: an inpatient order waiting for the pharmacist."""
    command = inpatient_order()
    rx, events = Prescription.receive(
        prescription_id=f"rx-{number}",
        rx_number=f"100000{number}",
        command=command,
        source=Source.HL7,
        patient=Patient.new(f"pat-{number}", command.patient),
        prescriber=Prescriber.new("doc-1", command.prescriber),
        actor=SYSTEM,
        now=NOW,
    )
    events += rx.intake(SYSTEM, NOW, context())
    records.by_id[rx.prescription_id] = rx
    return rx, events


def verified(records: StoredRecords, number: int = 1) -> tuple[Prescription, list[Event]]:
    """Received, then approved at data verification."""
    rx, events = received(records, number)
    return rx, events + rx.approve_data_verification(PHARMACIST, NOW)


def dispensed(records: StoredRecords, number: int = 1, on_hand: str = "500") -> tuple[Prescription, list[Event]]:
    """Verified, filled from one lot (short stock, a technician's partial-fill choice, leaves the rest owed),
    released and delivered to the ward."""
    rx, events = verified(records, number)
    product = rx.product
    assert product is not None
    lots = [InventoryItem(ndc=product.ndc11, lot="LOT-7781", expiry=date(2027, 6, 30), on_hand=Decimal(on_hand))]
    quantity = rx.current_fill.quantity or Decimal(1)
    allocation = allocate(lots, product.ndc11, quantity, NOW.date())
    if allocation.partial:
        events += rx.note_short_stock(NOW, allocation)
        events += rx.decide_short_stock(TECHNICIAN, NOW, ShortStockChoice.PARTIAL, "ward needs today's doses")
        part = rx.current_fill.quantity  # the part on the shelf, the rest owed
        assert part is not None
        allocation = allocate(lots, product.ndc11, part, NOW.date())
    events += rx.complete_fill(TECHNICIAN, NOW, allocation, PHARMACY)
    events += rx.approve_product_verification(PHARMACIST, NOW + timedelta(minutes=5))
    events += rx.dispense(TECHNICIAN, NOW + timedelta(minutes=30))
    return rx, events


def rejected(records: StoredRecords, number: int = 1) -> tuple[Prescription, list[Event]]:
    """Refused by the pharmacist at data verification."""
    rx, events = received(records, number)
    return rx, events + rx.reject_data_verification(PHARMACIST, NOW, "Duplicate therapy | see profile")


def cancelled(records: StoredRecords, requested: str, number: int = 1) -> tuple[Prescription, list[Event]]:
    """Verified, then stopped by the placer (ORC-1 CA or DC) while the ward holds it."""
    rx, events = verified(records, number)
    return rx, events + rx.cancel(SYSTEM, NOW, "Stopped by prescriber", requested)


def asking_for_answers(records: StoredRecords, version: str) -> tuple[Prescription, list[Event]]:
    """The sample order as a placer at ``version`` sends it asking for application acks (MSH-16 AL): received,
    then the same placer number sent again as a new order and refused as a duplicate."""
    trigger = "O11" if version not in ("2.3", "2.3.1") else "O01"
    reply = ReplyTo(
        control_id="RXH-DEMO-0002",
        message_type="RDE",
        trigger_event=trigger,
        version=version,
        application_ack_type="AL",
    )
    command = inpatient_order().model_copy(update={"reply": reply})
    rx, events = Prescription.receive(
        prescription_id="rx-1",
        rx_number="1000001",
        command=command,
        source=Source.HL7,
        patient=Patient.new("pat-1", command.patient),
        prescriber=Prescriber.new("doc-1", command.prescriber),
        actor=SYSTEM,
        now=NOW,
    )
    records.by_id[rx.prescription_id] = rx
    # as the intake step does: the received event quotes the sender's message (hub.service.workflow)
    events = [e.model_copy(update={"reply": reply}) if isinstance(e, PrescriptionReceived) else e for e in events]
    return rx, events + rx.refuse_duplicate_order(command, refusal_id="ref-1", source=Source.HL7, owner="feed:ehr")
