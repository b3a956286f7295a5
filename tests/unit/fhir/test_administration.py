"""A MedicationRequest gives the order its dose, repeat code and, for a ward, the bed (RXE-3/5, TQ1-3, PV1-3)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from adapters.fhir.bundles import bundle_commands
from adapters.fhir.mapping import medication_request_commands
from hub.domain.commands import ReceivePrescription
from hub.domain.order_context import Dosage, PatientLocation
from hub.domain.order_parts import Setting
from tests.unit.fhir.builders import bundle_of, bundled_request, medication_request, patient, practitioner, urn

GTS = "http://terminology.hl7.org/CodeSystem/v3-GTSAbbreviation"
PHYSICAL = "http://terminology.hl7.org/CodeSystem/location-physical-type"


def receive(resource: dict[str, Any]) -> ReceivePrescription:
    (command,) = medication_request_commands(resource)
    assert isinstance(command, ReceivePrescription)
    return command


def dosage(**timing: Any) -> list[dict[str, Any]]:
    return [
        {
            "timing": timing,
            "route": {"coding": [{"system": "http://snomed.info/sct", "code": "26643006"}], "text": "PO"},
            "doseAndRate": [{"doseQuantity": {"value": 2, "unit": "mg", "code": "mg"}}],
        }
    ]


@pytest.mark.parametrize(
    ("timing", "frequency"),
    [
        ({"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}}, "QD"),
        ({"repeat": {"frequency": 2, "period": 1, "periodUnit": "d"}}, "BID"),
        ({"repeat": {"frequency": 1, "period": 6, "periodUnit": "h"}}, "Q6H"),
        ({"code": {"coding": [{"system": GTS, "code": "TID"}]}}, "TID"),
        ({"code": {"coding": [{"system": "http://snomed.info/sct", "code": "229797004"}]}}, None),
        ({"repeat": {"frequency": 3, "period": 2, "periodUnit": "d"}}, None),
    ],
)
def test_dose_and_repeat_code(timing: dict[str, Any], frequency: str | None) -> None:
    rx = receive(medication_request(dosageInstruction=dosage(**timing)))
    assert rx.dosage == Dosage(amount=Decimal(2), unit="mg", frequency=frequency)
    assert rx.drug.route == "PO"


def test_as_needed_without_timing_is_prn_and_no_dosage_is_none() -> None:
    prn = receive(medication_request(dosageInstruction=[{"asNeededBoolean": True}]))
    assert prn.dosage == Dosage(frequency="PRN")
    assert receive(medication_request(dosageInstruction=[{"text": "as directed"}])).dosage is None


def location(lid: str, name: str, kind: str, part_of: str | None = None) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Location",
        "id": lid,
        "name": name,
        "physicalType": {"coding": [{"system": PHYSICAL, "code": kind}]},
    }
    if part_of:
        resource["partOf"] = {"reference": part_of}
    return resource


def encounter(where: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "Encounter",
        "id": "enc1",
        "status": "in-progress",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP"},
        "location": [{"location": where}],
    }


def test_contained_encounter_bed_room_and_ward_become_the_patient_location() -> None:
    order = medication_request(encounter={"reference": "#enc1"})
    order["contained"] += [
        encounter({"reference": "#bed"}),
        location("bed", "A", "bd", "#room"),
        location("room", "401", "ro", "#ward"),
        location("ward", "4WEST", "wa"),
    ]
    rx = receive(order)
    assert rx.setting is Setting.INPATIENT
    assert rx.location == PatientLocation(point_of_care="4WEST", room="401", bed="A")


def test_encounter_in_supporting_information_with_only_a_display() -> None:
    order = medication_request(supportingInformation=[{"reference": "#enc1"}])
    order["contained"].append(encounter({"display": "ICU"}))
    rx = receive(order)
    assert (rx.setting, rx.location) == (Setting.INPATIENT, PatientLocation(point_of_care="ICU"))


def test_bundle_encounter_and_locations_are_followed() -> None:
    bundle = bundle_of(
        "transaction",
        bundled_request(encounter={"reference": urn(3)}),
        patient(),
        practitioner(),
        encounter({"reference": urn(4)}),
        location("bed", "B", "bd", urn(5)),
        location("ward", "5EAST", "wa"),
    )
    (order,) = bundle_commands(bundle).commands()
    assert isinstance(order, ReceivePrescription)
    assert order.location == PatientLocation(point_of_care="5EAST", bed="B")


def test_an_outpatient_order_has_no_location() -> None:
    assert receive(medication_request()).location is None
