"""MedicationRequest mapping on synthetic resources: fields, refusals and their FHIRPath locations."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from adapters.fhir.mapping import medication_request_commands
from adapters.fhir.placer import placer_identifier
from hub.domain.commands import CancelPrescription, ReceivePrescription
from hub.domain.order_parts import Setting
from hub.errors import InboundMessageError, MessageContentError
from tests.unit.fhir.builders import (
    NDC,
    NPI,
    medication_request,
    patient,
)


def receive(resource: dict[str, Any], **kwargs: Any) -> ReceivePrescription:
    (command,) = medication_request_commands(resource, **kwargs)
    assert isinstance(command, ReceivePrescription)
    return command


def problems_of(call: Any, *args: Any, **kwargs: Any) -> list[tuple[str, str]]:
    with pytest.raises(InboundMessageError) as caught:
        call(*args, **kwargs)
    return [(p.code, p.location) for p in caught.value.problems]


def test_standalone_order_maps_every_field() -> None:
    order = receive(medication_request())
    assert (order.placer_order_number, order.placer_system) == ("ORD-1", "urn:example:ehr")
    assert order.drug.ndc == NDC and order.drug.text == "Fluoxetine 10 mg capsule"
    assert order.quantity is not None and order.quantity.value == Decimal(30) and order.quantity.unit == "capsule"
    assert (order.days_supply, order.refills, order.substitution_allowed) == (30, 2, False)
    assert order.sig == "1 capsule once a day"
    assert order.prescriber.npi == NPI and order.prescriber.family_name == "Prescriber"
    assert order.patient.family_name == "Testpatient" and order.patient.sex == "O"
    assert order.written_date is not None and order.written_date.isoformat() == "2024-03-01"
    assert order.setting is Setting.OUTPATIENT


def test_r5_shaped_medication_is_refused_with_a_clear_diagnostic() -> None:
    resource = medication_request()
    resource["medication"] = {"concept": resource.pop("medicationCodeableConcept")}
    with pytest.raises(MessageContentError) as caught:
        medication_request_commands(resource)
    locations = [(p.code, p.location) for p in caught.value.problems]
    assert ("structure", "MedicationRequest.medication") in locations
    assert any("R5" in p.text for p in caught.value.problems)


def test_missing_required_elements_are_located() -> None:
    resource = medication_request()
    del resource["intent"]
    del resource["medicationCodeableConcept"]
    assert sorted(problems_of(medication_request_commands, resource)) == [
        ("required", "MedicationRequest.intent"),
        ("required", "MedicationRequest.medication"),
    ]


def test_wrong_types_are_located_deep_inside() -> None:
    resource = medication_request()
    resource["dispenseRequest"]["quantity"]["value"] = "thirty"
    resource["dosageInstruction"][0]["timing"]["repeat"]["frequency"] = -1
    found = problems_of(medication_request_commands, resource)
    assert ("value", "MedicationRequest.dispenseRequest.quantity.value") in found
    assert ("value", "MedicationRequest.dosageInstruction[0].timing.repeat.frequency") in found


def test_a_negative_quantity_to_dispense_is_refused_where_it_is() -> None:
    resource = medication_request()
    resource["dispenseRequest"]["quantity"]["value"] = -30
    assert problems_of(medication_request_commands, resource) == [
        ("value", "MedicationRequest.dispenseRequest.quantity.value")
    ]


@pytest.mark.parametrize("intent", ["proposal", "plan", "option", "filler-order", "reflex-order"])
def test_non_order_intents_are_business_rule_refusals(intent: str) -> None:
    assert problems_of(medication_request_commands, medication_request(intent=intent)) == [
        ("business-rule", "MedicationRequest.intent")
    ]


def test_unknown_codes_are_invalid_codes() -> None:
    found = problems_of(medication_request_commands, medication_request(intent="bogus", status="nope"))
    assert found == [
        ("code-invalid", "MedicationRequest.intent"),
        ("code-invalid", "MedicationRequest.status"),
    ]


@pytest.mark.parametrize(("status", "control"), [("cancelled", "CA"), ("stopped", "DC")])
def test_cancel_statuses(status: str, control: str) -> None:
    (command,) = medication_request_commands(
        medication_request(status=status, statusReason={"text": "patient allergic"})
    )
    assert isinstance(command, CancelPrescription)
    assert (command.placer_order_number, command.control, command.reason) == (
        "ORD-1",
        control,
        "patient allergic",
    )


@pytest.mark.parametrize("status", ["on-hold", "completed", "entered-in-error", "unknown"])
def test_other_statuses_are_refused(status: str) -> None:
    assert problems_of(medication_request_commands, medication_request(status=status)) == [
        ("business-rule", "MedicationRequest.status")
    ]


def test_draft_is_received() -> None:
    assert receive(medication_request(status="draft")).placer_order_number == "ORD-1"


def test_unresolvable_contained_reference_is_refused() -> None:
    found = problems_of(medication_request_commands, medication_request(subject={"reference": "#nobody"}))
    assert found == [("not-found", "MedicationRequest.subject.reference")]


def test_reference_to_the_wrong_type_is_refused() -> None:
    found = problems_of(medication_request_commands, medication_request(subject={"reference": "#doc1"}))
    assert found == [("business-rule", "MedicationRequest.subject")]


def test_logical_requester_by_npi() -> None:
    resource = medication_request(requester={"identifier": {"system": "http://hl7.org/fhir/sid/us-npi", "value": NPI}})
    assert receive(resource).prescriber.npi == NPI


def test_missing_requester_is_required() -> None:
    resource = medication_request()
    del resource["requester"]
    assert problems_of(medication_request_commands, resource) == [("required", "MedicationRequest.requester")]


def test_inpatient_by_category_and_by_encounter_class() -> None:
    category = [
        {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/medicationrequest-category",
                    "code": "inpatient",
                }
            ]
        }
    ]
    assert receive(medication_request(category=category)).setting is Setting.INPATIENT
    resource = medication_request(encounter={"reference": "#enc"})
    resource["contained"].append(
        {
            "resourceType": "Encounter",
            "id": "enc",
            "status": "in-progress",
            "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP"},
        }
    )
    assert receive(resource).setting is Setting.INPATIENT
    resource["contained"][-1]["class"]["code"] = "AMB"
    assert receive(resource).setting is Setting.OUTPATIENT


def test_substitution_as_codeable_concept() -> None:
    none_allowed = {
        "allowedCodeableConcept": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-substanceAdminSubstitution", "code": "N"}]
        }
    }
    assert receive(medication_request(substitution=none_allowed)).substitution_allowed is False
    generic = {
        "allowedCodeableConcept": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-substanceAdminSubstitution", "code": "G"}]
        }
    }
    assert receive(medication_request(substitution=generic)).substitution_allowed is True


def test_sig_text_wins_and_sequences_join() -> None:
    dosages = [
        {"sequence": 1, "text": "1 tab in the morning"},
        {
            "sequence": 1,
            "timing": {"repeat": {"frequency": 1, "period": 8, "periodUnit": "h"}},
            "asNeededBoolean": True,
        },
        {
            "sequence": 2,
            "timing": {
                "repeat": {
                    "frequency": 2,
                    "period": 1,
                    "periodUnit": "d",
                    "boundsDuration": {"value": 5, "code": "d"},
                }
            },
        },
    ]
    assert receive(medication_request(dosageInstruction=dosages)).sig == (
        "1 tab in the morning and every 8 hours as needed, then twice a day for 5 days"
    )


def test_weeks_of_supply_become_days() -> None:
    resource = medication_request()
    resource["dispenseRequest"]["expectedSupplyDuration"] = {"value": 2, "unit": "weeks", "code": "wk"}
    assert receive(resource).days_supply == 14


def test_placer_identifier_rules() -> None:
    assert placer_identifier(medication_request()).value == "ORD-1"
    first_only = medication_request(identifier=[{"system": "urn:a", "value": "A-1"}])
    assert placer_identifier(first_only).value == "A-1"
    by_id = medication_request(identifier=[])
    found = placer_identifier(by_id, origin="https://ehr.example/fhir")
    assert (found.value, found.system) if found else None == ("mr1", "https://ehr.example/fhir")
    anonymous = medication_request(identifier=[])
    del anonymous["id"]
    assert placer_identifier(anonymous) is None
    assert problems_of(medication_request_commands, anonymous) == [("required", "MedicationRequest.identifier")]


def test_only_a_medication_request_is_mapped_alone() -> None:
    assert problems_of(medication_request_commands, patient()) == [("invalid", "Patient")]
