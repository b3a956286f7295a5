"""Every FHIR corpus file through parse -> classify -> map, with the outcome decided per file.

Decisions (see SOURCES.md for each file's provenance):

* US Core standalone MedicationRequests: coded (RxNorm) and contained-Medication orders map; their
  subject/requester point at a server (``Patient/example``) and are kept as external references. The
  one whose Medication lives on another server is refused: we cannot fill what we cannot read.
  The self-reported Tylenol (intent ``plan``) is not an order.
* The US Core Coverage alone is not something these endpoints accept.
* NHS EPS prescription messages map (SNOMED dm+d codes kept as other_codes, for product selection);
  the cancel maps to CancelPrescription; the dispense notification is not an order (not-supported);
  the two negative examples fail naming the element (intent; mixed courseOfTherapyType).
* CARIN RTPBC is a benefit check whose MessageHeader.focus is a Claim: not-supported.
* gematik e-Rezept documents map with their PZN / "freitext" / "rezeptur" codes kept as other_codes
  (accepted; the technician selects the product); no MedicationRequest.identifier, so the placer is
  the resource id under the RESTful base of its fullUrl.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from fhir.resources.R4B.operationoutcome import OperationOutcome

from adapters.fhir.bundles import bundle_commands
from adapters.fhir.mapping import medication_request_commands
from adapters.fhir.outcomes import http_status_for, operation_outcome
from adapters.fhir.parsing import ResourceKind, classify, parse_resource
from hub.domain.commands import CancelPrescription, Command, ReceivePrescription
from hub.domain.order_parts import Setting
from hub.errors import InboundMessageError, MessageContentError, UnsupportedMessageError
from tests.unit.fhir.corpus import corpus_bytes, corpus_names

EPS_ITEM = "https://fhir.nhs.uk/Id/prescription-order-item-number"
SNOMED = "http://snomed.info/sct"
PZN = "http://fhir.de/CodeSystem/ifa/pzn"
KBV_TYPE = "https://fhir.kbv.de/CodeSystem/KBV_CS_ERP_Medication_Type"


def process(body: bytes) -> list[Command]:
    """What the HTTP layer will do with a body posted to any of the FHIR endpoints."""
    resource = parse_resource(body)
    if classify(resource) is ResourceKind.MEDICATION_REQUEST:
        return medication_request_commands(resource)
    return bundle_commands(resource).commands()


def summary(command: Command) -> dict[str, Any]:
    """The facts each corpus expectation pins down."""
    if isinstance(command, CancelPrescription):
        return {
            "cancel": command.placer_order_number,
            "system": command.placer_system,
            "control": command.control,
        }
    assert isinstance(command, ReceivePrescription)
    return {
        "placer": command.placer_order_number,
        "system": command.placer_system,
        "code": command.drug.ndc
        or command.drug.rxnorm
        or (command.drug.other_codes[0].code if command.drug.other_codes else None),
        "quantity": command.quantity.value if command.quantity else None,
        "refills": command.refills,
        "days": command.days_supply,
        "inpatient": command.setting is Setting.INPATIENT,
    }


def _eps(placer: str, code: str, quantity: int, days: int | None, refills: int = 0) -> dict[str, Any]:
    return {
        "placer": placer,
        "system": EPS_ITEM,
        "code": code,
        "quantity": Decimal(quantity),
        "refills": refills,
        "days": days,
        "inpatient": False,
    }


def _us(placer: str, code: str) -> dict[str, Any]:
    return {
        "placer": placer,
        "system": None,
        "code": code,
        "quantity": Decimal(480),
        "refills": 1,
        "days": 30,
        "inpatient": False,
    }


def _kbv(placer: str, base: str, code: str) -> dict[str, Any]:
    return {
        "placer": placer,
        "system": base,
        "code": code,
        "quantity": Decimal(1),
        "refills": 0,
        "days": None,
        "inpatient": False,
    }


ORDERS: dict[str, list[dict[str, Any]]] = {
    "uscore_r4_medicationrequest_coded_oral_axid.json": [_us("medicationrequest-coded-oral-axid", "476872")],
    "uscore_r4_medicationrequest_contained_medication.json": [_us("medicationrequest-contained-oral-axid", "582620")],
    "nhs_eps_r4_bundle_message_4_medicationrequests_send.json": [
        _eps("a54219b8-f741-4c47-b662-e4f8dfa49ab6", "39732311000001104", 20, 10),
        _eps("6989b7bd-8db6-428c-a593-4022e3044c00", "322341003", 20, 10),
        _eps("2868554c-5565-4d31-b92a-c5b8dab8b90a", "321080004", 30, 10),
        _eps("5cb17f5a-11ac-4e18-825f-6470467238b3", "324252006", 30, 10),
    ],
    "nhs_eps_r4_bundle_message_multiple_dosage_instructions.json": [
        _eps("dd0cdc7b-db3f-4f2f-aa21-cb4d77432264", "39732311000001104", 20, 10),
        _eps("8a3a3a72-7a3d-41a1-851d-e7232d752089", "322341003", 20, 10),
        _eps("e4e3b6b9-b2b5-4776-a22f-9dba5063f4ba", "321080004", 30, 10),
        _eps("1567a273-834b-410d-b739-b5519d1d4b24", "324252006", 30, 10),
    ],
    "nhs_eps_r4_bundle_message_controlled_drug.json": [
        _eps("00d3dd04-d162-49ce-a808-6f220906f1c8", "36126511000001106", 28, None),
        _eps("1de954ac-a1ea-49ab-bd4e-88e99f191186", "321196004", 28, None),
    ],
    "nhs_eps_r4_bundle_message_repeat_dispensing.json": [
        _eps("a54219b8-f741-4c47-b662-e4f8dfa49ab6", "15517911000001104", 63, 28, refills=5),
    ],
    "nhs_eps_r4_bundle_message_cancel_request.json": [
        {"cancel": "299c610b-f4f1-4eac-a7d7-4fb6b0556e11", "system": EPS_ITEM, "control": "CA"},
    ],
    "gematik_kbv_erp_r4_bundle_document_pzn_coverage.json": [
        _kbv("e930cdee-9eb5-4b44-88b5-2a18b69f3b9a", "http://pvs.praxis-topp-gluecklich.local/fhir", "06313728"),
    ],
    "gematik_kbv_erp_r4_bundle_document_freetext_medication.json": [
        _kbv("2979e8a3-352e-4d17-8e06-b356666e4daf", "http://pvs.praxis.local/fhir", "freitext"),
    ],
    "gematik_kbv_erp_r4_bundle_document_compounding.json": [
        _kbv("4739972b-52d6-4bea-9ba1-d360f8c22689", "http://pvs.praxis.local/fhir", "rezeptur"),
    ],
}

#: file -> (error type, issue code, FHIRPath expression of the element named)
REFUSED: dict[str, tuple[type[InboundMessageError], str, str]] = {
    "uscore_r4_medicationrequest_referenced_medication.json": (
        MessageContentError,
        "not-found",
        "MedicationRequest.medicationReference.reference",
    ),
    "uscore_r4_medicationrequest_self_reported_tylenol.json": (
        MessageContentError,
        "business-rule",
        "MedicationRequest.intent",
    ),
    "uscore_r4_coverage_example.json": (MessageContentError, "invalid", "Coverage"),
    "nhs_eps_r4_bundle_message_dispense_notification.json": (
        UnsupportedMessageError,
        "not-supported",
        "Bundle.entry[0].resource.focus",
    ),
    "carin_rtpbc_r4_bundle_message_claim_patient_coverage_medicationrequest_practitioner.json": (
        UnsupportedMessageError,
        "not-supported",
        "Bundle.entry[0].resource.focus",
    ),
    "nhs_eps_r4_negative_invalid_intent.json": (
        MessageContentError,
        "business-rule",
        "Bundle.entry[1].resource.intent",
    ),
    "nhs_eps_r4_negative_mixed_course_of_therapy.json": (
        MessageContentError,
        "business-rule",
        "Bundle.entry[2].resource.courseOfTherapyType",
    ),
}


def test_every_corpus_file_has_a_decision() -> None:
    assert sorted(ORDERS.keys() | REFUSED.keys()) == corpus_names()


@pytest.mark.parametrize("name", sorted(ORDERS))
def test_corpus_orders_map(name: str) -> None:
    assert [summary(c) for c in process(corpus_bytes(name))] == ORDERS[name]


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_corpus_refusals_name_the_element(name: str) -> None:
    kind, code, expression = REFUSED[name]
    with pytest.raises(InboundMessageError) as caught:
        process(corpus_bytes(name))
    assert type(caught.value) is kind
    assert [(p.code, p.location) for p in caught.value.problems] == [(code, expression)]
    outcome = OperationOutcome.model_validate(operation_outcome(caught.value.problems))
    assert outcome.issue[0].expression == [expression]
    assert http_status_for(caught.value) == (400 if code == "invalid" else 422)


def test_eps_order_keeps_patient_prescriber_and_sig() -> None:
    first = process(corpus_bytes("nhs_eps_r4_bundle_message_4_medicationrequests_send.json"))[0]
    assert isinstance(first, ReceivePrescription)
    assert (first.patient.family_name, first.patient.sex, first.prescriber.family_name) == (
        "TWITCHETT",
        "F",
        "BOIN",
    )
    assert first.sig == "2 times a day for 10 days"
    assert first.substitution_allowed is False
    assert first.drug.route == "Oral"


def test_eps_cancel_carries_the_reason() -> None:
    (cancel,) = process(corpus_bytes("nhs_eps_r4_bundle_message_cancel_request.json"))
    assert isinstance(cancel, CancelPrescription)
    assert cancel.reason == "Prescribing Error"


def test_kbv_documents_keep_coverage_and_free_text() -> None:
    (order,) = process(corpus_bytes("gematik_kbv_erp_r4_bundle_document_freetext_medication.json"))
    assert isinstance(order, ReceivePrescription)
    assert order.drug.text == "Metformin 850mg Tabletten N3"
    assert order.coverage is not None and order.coverage.plan_name == "AOK Rheinland/Hamburg"
    (compound,) = process(corpus_bytes("gematik_kbv_erp_r4_bundle_document_compounding.json"))
    assert isinstance(compound, ReceivePrescription)
    assert compound.drug.text == "Salicylsäure 5 g + 2-propanol 70 %"
    assert compound.sig == "1\u20133mal/Tag auf die erkrankten Hautstellen auftragen"  # EN DASH as sent


def test_us_core_external_subject_is_kept_not_guessed() -> None:
    (order,) = process(corpus_bytes("uscore_r4_medicationrequest_coded_oral_axid.json"))
    assert isinstance(order, ReceivePrescription)
    assert [(i.value, i.type_code) for i in order.patient.identifiers] == [("Patient/example", "fhir-reference")]
    assert order.patient.family_name is None
    assert order.sig == "10 mL bid"
    assert order.written_date is not None and order.written_date.isoformat() == "2008-04-05"


def test_message_header_facts_for_the_reply() -> None:
    result = bundle_commands(parse_resource(corpus_bytes("nhs_eps_r4_bundle_message_controlled_drug.json")))
    assert result.message is not None
    assert result.message.header_id == "A8F71A7D-B426-4B55-80A5-05436DE80486"
    assert result.message.event_code == "prescription-order"
    assert result.message.source_endpoint == "https://directory.spineservices.nhs.uk/STU3/Organization/RBA"
