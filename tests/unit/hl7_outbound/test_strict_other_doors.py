"""An RDE for an order that came in over FHIR or SCRIPT is as complete as one from HL7: it passes strict validation.

The orders are read by the hub's own FHIR and SCRIPT doors, taken through intake and data verification, and
the cabinet's RDE built from the stored record, as for the HL7 sample in ``test_strict_validation``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from adapters.fhir.mapping import medication_request_commands
from adapters.hl7.outbound.destinations import SUPPORTED_EVENTS, DestinationConfig
from adapters.hl7.outbound.event_mapping import decode_cloudevent, message_for
from adapters.hl7.parsing import parse_message
from adapters.ncpdp.script import read_message, to_command
from hub.domain.commands import ReceivePrescription
from hub.domain.order_parts import Source
from hub.domain.parties import Patient, Prescriber
from hub.domain.prescription import Prescription
from hub.domain.states import RxState
from tests.support.hl7_strict import strict
from tests.unit.domain.builders import NOW, PHARMACIST, SYSTEM, context
from tests.unit.fhir.builders import medication_request
from tests.unit.hl7_outbound import pipeline, samples
from tests.unit.ncpdp_script.samples import NEWRX_2017071_FULL, replace

LISINOPRIL = "00378020801"
GTS = "http://terminology.hl7.org/CodeSystem/v3-GTSAbbreviation"


def fhir_order() -> ReceivePrescription:
    """An inpatient MedicationRequest: 1 TAB BID by mouth, the encounter's bed 4WEST^401^A."""
    order: dict[str, Any] = medication_request(
        medicationCodeableConcept={
            "coding": [{"system": "http://hl7.org/fhir/sid/ndc", "code": LISINOPRIL}],
            "text": "Lisinopril 10 mg tablet",
        },
        encounter={"reference": "#enc1"},
        dosageInstruction=[
            {
                "timing": {"code": {"coding": [{"system": GTS, "code": "BID"}]}},
                "route": {"text": "PO"},
                "doseAndRate": [{"doseQuantity": {"value": 1, "unit": "TAB"}}],
            }
        ],
    )
    order["contained"] += [
        {
            "resourceType": "Encounter",
            "id": "enc1",
            "status": "in-progress",
            "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP"},
            "location": [{"location": {"reference": "#bed"}}],
        },
        {
            "resourceType": "Location",
            "id": "bed",
            "name": "A",
            "physicalType": _kind("bd"),
            "partOf": {"reference": "#room"},
        },
        {
            "resourceType": "Location",
            "id": "room",
            "name": "401",
            "physicalType": _kind("ro"),
            "partOf": {"reference": "#ward"},
        },
        {"resourceType": "Location", "id": "ward", "name": "4WEST", "physicalType": _kind("wa")},
    ]
    (command,) = medication_request_commands(order)
    assert isinstance(command, ReceivePrescription)
    return command


def _kind(code: str) -> dict[str, Any]:
    return {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/location-physical-type", "code": code}]}


def script_order() -> ReceivePrescription:
    """The full 2017071 NewRx for lisinopril with a structured Sig: 1 tablet every 6 hours by mouth."""
    body = replace(NEWRX_2017071_FULL, b"<Code>00000111122</Code>", f"<Code>{LISINOPRIL}</Code>".encode())
    sig = (
        b"<Sig><SigText>Take 1 tablet by mouth every 6 hours.</SigText><Instruction><DoseAdministration>"
        b"<Dosage><DoseQuantity>1</DoseQuantity><DoseUnitOfMeasure><Text>TAB</Text></DoseUnitOfMeasure></Dosage>"
        b"<RouteOfAdministration><Text>PO</Text></RouteOfAdministration></DoseAdministration>"
        b"<TimingAndDuration><Interval><IntervalNumericValue>6</IntervalNumericValue>"
        b"<IntervalUnits><Text>hour</Text></IntervalUnits></Interval></TimingAndDuration></Instruction></Sig>"
    )
    old = b"<Sig><SigText>Take 1 tablet by mouth every 6 hours as needed for pain.</SigText></Sig>"
    command = to_command(read_message(replace(body, old, sig)))
    assert isinstance(command, ReceivePrescription)
    return command


ORDERS = {"fhir": (fhir_order, Source.FHIR), "script": (script_order, Source.SCRIPT)}


def verified_message(door: str, version: str, *, cabinet: bool) -> bytes:
    """What a destination gets once the pharmacist has verified the door's order: the cabinet an encoded
    order (RDE, inpatient orders only), the EHR a status update (ORM, or OMP from v2.7)."""
    read, source = ORDERS[door]
    command = read()
    records = pipeline.StoredRecords()
    rx, events = Prescription.receive(
        prescription_id="rx-1",
        rx_number="1000001",
        command=command,
        source=source,
        patient=Patient.new("pat-1", command.patient),
        prescriber=Prescriber.new("doc-1", command.prescriber),
        actor=SYSTEM,
        now=NOW,
    )
    events += rx.intake(SYSTEM, NOW, context())
    if rx.state is RxState.CLAIM_PENDING:  # a SCRIPT order is a retail one: the payer answers first
        events += rx.claim_paid(SYSTEM, NOW, total_paid=Decimal("12.00"), patient_pay=Decimal("5.00"))
    for alert in [a for a in rx.alerts_for(rx.current_fill) if a.blocking]:  # the sample's intake findings
        events += rx.override_alert(PHARMACIST, NOW, alert.alert_id, "reviewed with prescriber")
    events += rx.approve_data_verification(PHARMACIST, NOW)
    records.by_id[rx.prescription_id] = rx
    (event,) = [e for e in events if e.name == "prescription.verified"]
    destination = DestinationConfig.model_validate(
        {
            "name": "cabinet" if cabinet else "ehr",
            "host": "127.0.0.1",
            "port": 1,
            "version": version,
            "events": list(SUPPORTED_EVENTS),
            "encoded_orders": cabinet,
            "receiving_application": "PYXIS" if cabinet else "EHR",
            "receiving_facility": "GENHOSP",
        }
    )
    built = message_for(destination, decode_cloudevent(samples.cloudevent(event)), records)
    assert built is not None
    return built.payload


@pytest.mark.parametrize("version", ["2.5.1", "2.4"])
def test_rde_for_a_fhir_inpatient_order_is_complete_and_strictly_valid(version: str) -> None:
    message = verified_message("fhir", version, cabinet=True)
    strict(message)
    parsed = parse_message(message)
    assert parsed.get("MSH", 9, 1) == "RDE"
    assert (parsed.get("RXE", 3), parsed.get("RXE", 5, 1), parsed.get("RXR", 1, 1)) == ("1", "TAB", "PO")
    assert (parsed.get("TQ1", 3) if version == "2.5.1" else parsed.get("RXE", 1, 2)) == "BID"
    assert [parsed.get("PV1", 3, n) for n in (1, 2, 3)] == ["4WEST", "401", "A"]


@pytest.mark.parametrize("version", ["2.5.1", "2.4", "2.7"])
@pytest.mark.parametrize("door", ["fhir", "script"])
def test_status_update_carries_the_dose_from_any_door(door: str, version: str) -> None:
    message = verified_message(door, version, cabinet=False)
    strict(message)
    parsed = parse_message(message)
    assert (parsed.get("RXO", 2), parsed.get("RXO", 4, 1)) == ("1", "TAB")
    if version == "2.4":  # ORC-7 TQ before v2.5; TQ1 replaces it
        assert parsed.get("ORC", 7, 2) == {"fhir": "BID", "script": "Q6H"}[door]


def test_a_script_order_is_retail_so_no_cabinet_gets_an_encoded_order() -> None:
    with pytest.raises(AssertionError):
        verified_message("script", "2.5.1", cabinet=True)
