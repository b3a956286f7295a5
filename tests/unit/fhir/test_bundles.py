"""Bundle mapping on synthetic Bundles: references, transaction/batch/message/document rules."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from adapters.fhir.bundles import UNTAKEN, bundle_commands, with_untaken
from adapters.fhir.outcomes import operation_outcome
from hub.domain.commands import ReceivePrescription
from hub.errors import InboundMessageError, Problem, UnsupportedMessageError
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


def _two_item_message(*, focus: list[int], second: dict[str, Any] | None = None) -> dict[str, Any]:
    """Header, two orders of one prescription (entries 1 and 2), patient (3), prescriber (4)."""
    header = {
        "resourceType": "MessageHeader",
        "id": "h2",
        "eventCoding": {"code": "prescription-order"},
        "source": {"endpoint": "https://ehr.example"},
        "focus": [{"reference": urn(i)} for i in focus],
    }
    refs = {"subject": {"reference": urn(3)}, "requester": {"reference": urn(4)}}
    first = bundled_request(identifier=[{"system": "urn:item", "value": "A"}], **refs)
    second = second or bundled_request(identifier=[{"system": "urn:item", "value": "B"}], **refs)
    return bundle_of("message", header, first, second, patient(), practitioner())


def test_a_message_order_that_focus_does_not_name_is_taken_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="adapters.fhir.bundles"):
        result = bundle_commands(_two_item_message(focus=[1]))
    assert [c.placer_order_number for c in result.commands() if isinstance(c, ReceivePrescription)] == ["A", "B"]
    assert [len(e.commands) for e in result.entries] == [0, 1, 1, 0, 0]
    (record,) = caplog.records
    assert record.getMessage().startswith("message Bundle entry 2: a MedicationRequest that MessageHeader.focus")
    assert "Testpatient" not in caplog.text and "Fluoxetine" not in caplog.text, "no patient data in the log"


def test_a_message_whose_focus_names_no_order_takes_none_of_its_orders() -> None:
    with pytest.raises(UnsupportedMessageError):
        bundle_commands(_two_item_message(focus=[3]))


def test_an_unnamed_order_with_a_problem_refuses_the_message_at_its_own_entry() -> None:
    refs = {"subject": {"reference": urn(3)}, "requester": {"reference": urn(4)}}
    bad = bundled_request(identifier=[{"system": "urn:item", "value": "B"}], intent="plan", **refs)
    assert problems_of(bundle_commands, _two_item_message(focus=[1], second=bad)) == [
        ("business-rule", "Bundle.entry[2].resource.intent")
    ]


def test_a_refusal_names_every_order_entry_it_did_not_take() -> None:
    bundle = _two_item_message(focus=[1])
    refused = operation_outcome([Problem("business-rule", "bad", "Bundle.entry[2].resource.intent")])
    issues = [
        (i["severity"], i["code"], i["expression"], i["diagnostics"]) for i in with_untaken(refused, bundle)["issue"]
    ]
    assert issues == [
        ("error", "business-rule", ["Bundle.entry[2].resource.intent"], "bad"),
        ("information", "informational", ["Bundle.entry[1].resource"], UNTAKEN),
    ]
    everywhere = operation_outcome(
        [
            Problem("invalid", "x", "Bundle.entry[1].resource"),
            Problem("invalid", "y", "Bundle.entry[2].resource.status"),
        ]
    )
    assert with_untaken(everywhere, bundle) == everywhere
    nowhere = operation_outcome([Problem("not-supported", "no", "Bundle.entry[0].resource.focus")])
    assert [i["expression"] for i in with_untaken(nowhere, bundle)["issue"]] == [
        ["Bundle.entry[0].resource.focus"],
        ["Bundle.entry[1].resource"],
        ["Bundle.entry[2].resource"],
    ]


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
