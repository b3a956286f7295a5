"""Outbound HL7 for a compound: the encoded order (RDE) and the dispense (RDS) name it by its text and carry one
RXC per ingredient after RXR, valid under hl7apy's strict validation at every version."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from adapters.hl7.outbound.event_mapping import decode_cloudevent, message_for
from adapters.hl7.parsing import parse_message
from hub.domain.compound import COMPOUND_PRODUCT_ID
from hub.domain.events import Event
from hub.domain.inventory import allocate
from hub.domain.order_parts import QuantityInfo, Source
from hub.domain.parties import Patient, Prescriber
from hub.domain.prescription import Prescription
from tests.support.hl7_strict import strict
from tests.unit.domain.builders import NOW, PHARMACIST, PHARMACY, SYSTEM, TECHNICIAN, context
from tests.unit.domain.test_compound import mouthwash
from tests.unit.hl7_outbound import pipeline, samples
from tests.unit.hl7_outbound.test_strict_validation import VERSIONS, destination

QUANTITY = QuantityInfo(value=Decimal("240"), unit="ML")


def _dispensed_compound(records: pipeline.StoredRecords) -> list[Event]:
    """The sample inpatient order as a mouthwash compound, through intake, both verifications and delivery."""
    command = pipeline.inpatient_order()
    drug = command.drug.model_copy(update={"ndc": None, "text": "Magic mouthwash", "compound": mouthwash()})
    command = command.model_copy(update={"drug": drug, "quantity": QUANTITY})
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
    events += rx.intake(SYSTEM, NOW, context())
    events += rx.approve_data_verification(PHARMACIST, NOW)
    events += rx.complete_fill(TECHNICIAN, NOW, allocate([], COMPOUND_PRODUCT_ID, QUANTITY.value, NOW.date()), PHARMACY)
    events += rx.approve_product_verification(PHARMACIST, NOW + timedelta(minutes=5))
    return events + rx.dispense(TECHNICIAN, NOW + timedelta(minutes=30))


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(
    ("event_type", "cabinet"), [("prescription.verified", True), ("prescription.dispensed", False)]
)
def test_a_compound_goes_out_with_an_rxc_per_ingredient(version: str, event_type: str, cabinet: bool) -> None:
    records = pipeline.StoredRecords()
    events = _dispensed_compound(records)
    (event,) = [e for e in events if e.name == event_type]
    built = message_for(destination(version, cabinet), decode_cloudevent(samples.cloudevent(event)), records)
    assert built is not None
    strict(built.payload)
    parsed = parse_message(built.payload)
    detail = parsed.first("RXE") or parsed.first("RXD")
    assert detail is not None and detail.raw(2) == "^Magic mouthwash suspension", "its name, no placeholder NDC"
    rxcs = [s for s in parsed.segments if s.segment_id == "RXC"]
    assert [(s.get(1), s.get(2, 1), s.get(2, 3), s.get(3), s.get(4)) for s in rxcs] == [
        ("A", "00054418425", "NDC", "6", "EA"),
        ("A", "52268015001", "NDC", "120", "mL"),
        ("A", "99999000101", "NDC", "120", "mL"),
    ]
