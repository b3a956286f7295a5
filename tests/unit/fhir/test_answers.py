"""OperationOutcome, HTTP status, response message, views and CapabilityStatement validate as R4."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.claimresponse import ClaimResponse
from fhir.resources.R4B.medicationdispense import MedicationDispense
from fhir.resources.R4B.medicationrequest import MedicationRequest
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.patient import Patient

from adapters.fhir.capability import capability_statement
from adapters.fhir.messages import MessageInfo, response_message
from adapters.fhir.outcomes import http_status_for, operation_outcome, outcome_for
from adapters.fhir.snapshots import ClaimSnapshot, FillSnapshot, PatientSnapshot, PrescriptionSnapshot
from adapters.fhir.views import (
    NCPDP_REJECT_CODE,
    claim_response_view,
    medication_dispense_view,
    medication_request_view,
    patient_view,
)
from hub.domain.order_parts import Coding, DrugInfo, Identifier, PatientInfo, QuantityInfo, Setting
from hub.errors import (
    BrokerUnavailable,
    IllegalTransition,
    MessageContentError,
    NotAuthorized,
    NotFound,
    Problem,
    TransientError,
    UnsupportedMessageError,
)

NOW = datetime(2024, 3, 1, 12, 30, tzinfo=UTC)


def test_operation_outcome_carries_severity_code_diagnostics_and_expression() -> None:
    outcome = operation_outcome(
        [
            Problem("required", "intent is required", "MedicationRequest.intent"),
            Problem("business-rule", "not an order", "Bundle.entry[2].resource.intent", "W"),
            Problem("207", "HL7-style code"),
        ]
    )
    model = OperationOutcome.model_validate(outcome)
    assert [(i.severity, i.code, i.expression) for i in model.issue] == [
        ("error", "required", ["MedicationRequest.intent"]),
        ("warning", "business-rule", ["Bundle.entry[2].resource.intent"]),
        ("error", "processing", None),
    ]
    assert model.issue[0].diagnostics == "intent is required"
    assert model.issue[0].details is not None and model.issue[0].details.text == "intent is required"


def test_empty_outcome_is_still_valid() -> None:
    OperationOutcome.model_validate(operation_outcome([]))


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (MessageContentError("x", [Problem("structure", "bad json")]), 400),
        (MessageContentError("x", [Problem("business-rule", "plan"), Problem("value", "bad")]), 400),
        (MessageContentError("x", [Problem("business-rule", "plan")]), 422),
        (MessageContentError("x", [Problem("not-found", "no Medication")]), 422),
        (UnsupportedMessageError("x", [Problem("not-supported", "dispense")]), 422),
        (NotFound("no such prescription"), 404),
        (NotAuthorized("technician"), 403),
        (IllegalTransition("dispensed", "cancel"), 409),
        (TransientError("payer slow"), 503),
        (BrokerUnavailable("down"), 503),
        (RuntimeError("bug"), 500),
    ],
)
def test_http_status_and_outcome_for_every_error(error: Exception, status: int) -> None:
    assert http_status_for(error) == status
    OperationOutcome.model_validate(outcome_for(error))


def test_response_message_is_a_valid_reply() -> None:
    request = MessageInfo(header_id="h-1", event_system="urn:e", event_code="new-rx", source_endpoint="https://ehr")
    outcome = operation_outcome([Problem("business-rule", "plan", "Bundle.entry[1].resource.intent")])
    reply = response_message("h-1", "fatal-error", outcome, now=NOW, request=request)
    bundle = Bundle.model_validate(reply)
    assert bundle.type == "message"
    header = reply["entry"][0]["resource"]
    assert header["response"]["identifier"] == "h-1" and header["response"]["code"] == "fatal-error"
    assert header["response"]["details"]["reference"] == reply["entry"][1]["fullUrl"]
    assert header["eventCoding"] == {"system": "urn:e", "code": "new-rx"}
    assert header["destination"] == [{"endpoint": "https://ehr"}]
    ok = response_message("h-1", "ok", None, now=NOW)
    Bundle.model_validate(ok)
    assert len(ok["entry"]) == 1
    assert response_message("h-1", "ok", None, now=NOW) == ok  # same request, same reply ids


def _prescription(state: str, **changes: object) -> PrescriptionSnapshot:
    fields: dict[str, object] = {
        "id": "rx-1",
        "placer_order_number": "ORD-1",
        "placer_system": "urn:example:ehr",
        "state": state,
        "drug": DrugInfo(
            ndc="00777310402",
            rxnorm="310385",
            text="Fluoxetine 10 mg",
            other_codes=(Coding(code="06313728", system="http://fhir.de/CodeSystem/ifa/pzn"),),
        ),
        "quantity": QuantityInfo(value=Decimal("30"), unit="capsule"),
        "days_supply": 30,
        "refills": 2,
        "sig": "1 daily",
        "patient_id": "pat-1",
        "prescriber_npi": "1234567893",
        "written_date": date(2024, 3, 1),
    }
    fields.update(changes)
    return PrescriptionSnapshot.model_validate(fields)


@pytest.mark.parametrize(
    ("state", "status"),
    [
        ("received", "active"),
        ("filling", "active"),
        ("ready", "active"),
        ("cancelled", "cancelled"),
        ("rejected", "cancelled"),
        ("dispensed", "completed"),
        ("on_hold", "on-hold"),
        ("mystery", "unknown"),
    ],
)
def test_medication_request_view(state: str, status: str) -> None:
    view = medication_request_view(_prescription(state))
    model = MedicationRequest.model_validate(view)
    assert model.status == status
    assert view["identifier"][0]["value"] == "ORD-1"
    assert view["medicationCodeableConcept"]["coding"][0] == {
        "system": "http://hl7.org/fhir/sid/ndc",
        "code": "00777310402",
    }
    assert view["dispenseRequest"]["expectedSupplyDuration"]["value"] == 30


def test_dispensed_with_refills_left_is_still_active_and_inpatient_category() -> None:
    view = medication_request_view(_prescription("dispensed", refills_remaining=1, setting=Setting.INPATIENT))
    assert view["status"] == "active"
    assert view["category"][0]["coding"][0]["code"] == "inpatient"


@pytest.mark.parametrize(
    ("state", "status"),
    [
        ("filling", "preparation"),
        ("product_verification", "in-progress"),
        ("ready", "in-progress"),
        ("dispensed", "completed"),
        ("returned_to_stock", "cancelled"),
        ("rejected", "declined"),
    ],
)
def test_medication_dispense_view(state: str, status: str) -> None:
    fill = FillSnapshot(
        id="fill-1",
        prescription_id="rx-1",
        patient_id="pat-1",
        fill_number=1,
        state=state,
        ndc="00777310402",
        quantity=QuantityInfo(value=Decimal("30"), unit="capsule"),
        days_supply=30,
        lot="LOT42",
        expiry=date(2026, 1, 31),
        when_prepared=NOW,
        when_handed_over=NOW if state == "dispensed" else None,
    )
    view = medication_dispense_view(fill)
    model = MedicationDispense.model_validate(view)
    assert model.status == status
    assert view["contained"][0]["batch"] == {"lotNumber": "LOT42", "expirationDate": "2026-01-31"}
    assert view["type"]["coding"][0]["code"] == "RF"
    assert view["daysSupply"]["value"] == 30
    assert ("whenHandedOver" in view) is (status == "completed")


def test_claim_response_view() -> None:
    rejected = ClaimSnapshot(
        id="c-1",
        fill_id="fill-1",
        patient_id="pat-1",
        status="rejected",
        created=NOW,
        payer_name="Example PBM",
        reject_codes=("75", "88"),
    )
    view = claim_response_view(rejected)
    ClaimResponse.model_validate(view)
    assert view["outcome"] == "error"
    assert [e["code"]["coding"][0] for e in view["error"]] == [
        {"system": NCPDP_REJECT_CODE, "code": "75"},
        {"system": NCPDP_REJECT_CODE, "code": "88"},
    ]
    paid = ClaimSnapshot(
        id="c-2",
        fill_id="fill-1",
        patient_id="pat-1",
        status="paid",
        created=NOW,
        bin="610014",
        total_paid=Decimal("42.10"),
        patient_pay=Decimal("10"),
        copay=Decimal("10"),
        authorization_number="AUTH1",
    )
    view = claim_response_view(paid)
    ClaimResponse.model_validate(view)
    assert view["outcome"] == "complete" and view["preAuthRef"] == "AUTH1"
    assert [t["category"]["coding"][0]["code"] for t in view["total"]] == [
        "benefit",
        "copay",
        "paidbypatient",
    ]
    assert view["total"][0]["amount"] == {"value": 42.1, "currency": "USD"}


def test_patient_view() -> None:
    snapshot = PatientSnapshot(
        id="pat-1",
        patient=PatientInfo(
            identifiers=(Identifier(value="MRN-1", system="urn:mrn", type_code="MR"),),
            family_name="Testpatient",
            given_name="Alex",
            birth_date=date(1980, 2, 29),
            sex="F",
            address="1 Main St",
            phone="555-0100",
        ),
    )
    model = Patient.model_validate(patient_view(snapshot))
    assert model.gender == "female" and model.name is not None and model.name[0].family == "Testpatient"


def test_capability_statement_tells_the_truth() -> None:
    statement = capability_statement("https://hub.example/fhir", now=NOW)
    CapabilityStatement.model_validate(statement)
    rest = statement["rest"][0]
    resources = {r["type"]: r for r in rest["resource"]}
    assert set(resources) == {"MedicationRequest", "MedicationDispense", "Patient"}
    assert resources["MedicationRequest"]["conditionalCreate"] is True
    assert [p["name"] for p in resources["MedicationDispense"]["searchParam"]] == [
        "_id",
        "prescription",
        "patient",
        "subject",
        "status",
        "whenhandedover",
    ]
    assert {"identifier", "patient", "status", "authoredon", "intent"} <= {
        p["name"] for p in resources["MedicationRequest"]["searchParam"]
    }
    assert [o["name"] for o in rest["operation"]] == ["process-message"]
    assert statement["format"][0] == "application/fhir+json" and statement["fhirVersion"] == "4.0.1"


def test_reply_facts_survive_a_refused_message() -> None:
    from adapters.fhir.messages import request_message_info
    from adapters.fhir.parsing import parse_resource
    from tests.unit.fhir.corpus import corpus_bytes

    bundle = parse_resource(corpus_bytes("nhs_eps_r4_negative_invalid_intent.json"))
    info = request_message_info(bundle)
    assert info is not None and info.header_id == "0a1fd9ef-a3d5-4e95-84cd-552070a03086"
    assert request_message_info({"resourceType": "Bundle", "entry": "nonsense"}) is None
