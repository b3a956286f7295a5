"""Bundle mapping on synthetic Bundles: references, transaction/batch/message/document rules."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.fhir.bundles import bundle_commands
from hub.domain.commands import ReceivePrescription
from hub.errors import InboundMessageError, UnsupportedMessageError
from tests.unit.fhir.builders import NPI, bundle_of, bundled_request, patient, practitioner, urn


def problems_of(call: Any, *args: Any) -> list[tuple[str, str]]:
    with pytest.raises(InboundMessageError) as caught:
        call(*args)
    return [(p.code, p.location) for p in caught.value.problems]


def test_transaction_resolves_entries_and_coverage() -> None:
    coverage = {
        "resourceType": "Coverage",
        "status": "active",
        "beneficiary": {"reference": urn(1)},
        "payor": [{"display": "Example Plan"}],
        "subscriberId": "MEM-1",
        "class": [
            {
                "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/coverage-class", "code": code}]},
                "value": value,
            }
            for code, value in (("rxbin", "610014"), ("rxpcn", "PCN1"), ("rxgroup", "GRP1"))
        ],
    }
    bundle = bundle_of("transaction", bundled_request(), patient(), practitioner(), coverage)
    (order,) = bundle_commands(bundle).commands()
    assert isinstance(order, ReceivePrescription)
    assert order.patient.family_name == "Testpatient" and order.prescriber.npi == NPI
    assert order.coverage is not None
    assert (
        order.coverage.bin,
        order.coverage.pcn,
        order.coverage.group_id,
        order.coverage.cardholder_id,
    ) == ("610014", "PCN1", "GRP1", "MEM-1")


def test_practitioner_role_requester_gives_the_practitioner_and_npi() -> None:
    role = {"resourceType": "PractitionerRole", "practitioner": {"reference": urn(3)}}
    bundle = bundle_of("transaction", bundled_request(), patient(), role, practitioner())
    (order,) = bundle_commands(bundle).commands()
    assert isinstance(order, ReceivePrescription)
    assert (order.prescriber.family_name, order.prescriber.npi) == ("Prescriber", NPI)


def test_transaction_is_all_or_nothing_and_lists_every_problem() -> None:
    good = bundled_request()
    bad_intent = bundled_request(intent="plan", identifier=[{"system": "urn:x", "value": "2"}])
    dangling = bundled_request(subject={"reference": "urn:uuid:99999999-0000-4000-8000-000000000000"})
    bundle = bundle_of("transaction", good, patient(), practitioner(), bad_intent, dangling)
    assert problems_of(bundle_commands, bundle) == [
        ("business-rule", "Bundle.entry[3].resource.intent"),
        ("not-found", "Bundle.entry[4].resource.subject.reference"),
    ]


def test_batch_reports_per_entry() -> None:
    bundle = bundle_of("batch", bundled_request(), patient(), practitioner(), bundled_request(intent="plan"))
    result = bundle_commands(bundle)
    assert [len(e.commands) for e in result.entries] == [1, 0, 0, 0]
    assert [(p.code, p.location) for p in result.entries[3].problems] == [
        ("business-rule", "Bundle.entry[3].resource.intent")
    ]


def test_transaction_entry_methods() -> None:
    bundle = bundle_of("transaction", bundled_request(), patient(), practitioner(), method="DELETE")
    found = problems_of(bundle_commands, bundle)
    assert ("not-supported", "Bundle.entry[0].request.method") in found
    no_request = bundle_of("transaction", bundled_request(), patient(), practitioner(), method=None)
    assert ("required", "Bundle.entry[0].request") in problems_of(bundle_commands, no_request)


def test_message_must_start_with_a_message_header() -> None:
    bundle = bundle_of("message", bundled_request(), patient(), practitioner())
    assert problems_of(bundle_commands, bundle) == [("invalid", "Bundle.entry[0].resource")]


def test_message_without_orders_in_focus_is_unsupported() -> None:
    header = {
        "resourceType": "MessageHeader",
        "id": "h1",
        "eventCoding": {"code": "something-else"},
        "source": {"endpoint": "https://ehr.example"},
        "focus": [{"reference": urn(2)}],
    }
    with pytest.raises(UnsupportedMessageError) as caught:
        bundle_commands(bundle_of("message", header, bundled_request(), patient(), practitioner()))
    assert "something-else" in str(caught.value)


def test_message_orders_use_source_endpoint_as_placer_system_when_unidentified() -> None:
    header = {
        "resourceType": "MessageHeader",
        "id": "h1",
        "eventCoding": {"code": "new-rx"},
        "source": {"endpoint": "https://ehr.example"},
        "focus": [{"reference": urn(1)}],
    }
    order = bundled_request(identifier=[], subject={"reference": urn(2)}, requester={"reference": urn(3)})
    result = bundle_commands(bundle_of("message", header, order, patient(), practitioner()))
    (command,) = result.commands()
    assert (command.placer_order_number, command.placer_system) == ("mr1", "https://ehr.example")
    assert result.message is not None and result.message.header_id == "h1"


def test_relative_references_resolve_against_restful_full_urls_only() -> None:
    order = bundled_request(subject={"reference": "Patient/pat1"}, requester={"reference": "Practitioner/doc1"})
    bundle = {
        "resourceType": "Bundle",
        "type": "document",
        "entry": [
            {
                "fullUrl": "https://ehr.example/fhir/Composition/c1",
                "resource": {
                    "resourceType": "Composition",
                    "status": "final",
                    "type": {"text": "Rx"},
                    "date": "2024-03-01",
                    "author": [{"reference": "Practitioner/doc1"}],
                    "title": "Rx",
                },
            },
            {"fullUrl": "https://ehr.example/fhir/MedicationRequest/mr1", "resource": order},
            {"fullUrl": "https://ehr.example/fhir/Patient/pat1", "resource": patient()},
            {"fullUrl": "https://other.example/fhir/Practitioner/doc1", "resource": practitioner()},
        ],
    }
    (command,) = bundle_commands(bundle).commands()
    assert isinstance(command, ReceivePrescription)
    assert command.patient.family_name == "Testpatient"
    # Practitioner/doc1 relative to https://ehr.example/fhir is not the entry on other.example: external
    assert command.prescriber.family_name is None
    assert command.prescriber.identifiers[0].value == "Practitioner/doc1"
