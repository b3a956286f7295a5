"""Several coverages from FHIR (issue 33, part 3): Coverage resources in billing order by Coverage.order,
whether the MedicationRequest's insurance names them or the Bundle carries them for its patient."""

from __future__ import annotations

import json
from typing import Any

from adapters.fhir.bundles import bundle_commands
from adapters.fhir.participants import coverages_in_order
from hub.domain.commands import ReceivePrescription
from tests.support.corpus import CORPUS
from tests.unit.fhir.builders import bundle_of, bundled_request, patient, practitioner, urn

COVERAGE_CLASS = "http://terminology.hl7.org/CodeSystem/coverage-class"


def coverage(bin_: str, member: str, order: int | None = None) -> dict[str, Any]:
    """A synthetic pharmacy Coverage of the bundle's patient (entry 1)."""
    resource: dict[str, Any] = {
        "resourceType": "Coverage",
        "status": "active",
        "beneficiary": {"reference": urn(1)},
        "payor": [{"display": f"Plan {bin_}"}],
        "subscriberId": member,
        "class": [{"type": {"coding": [{"system": COVERAGE_CLASS, "code": "rxbin"}]}, "value": bin_}],
    }
    if order is not None:
        resource["order"] = order
    return resource


def _order(*coverages: dict[str, Any]) -> ReceivePrescription:
    bundle = bundle_of("transaction", bundled_request(), patient(), practitioner(), *coverages)
    (order,) = bundle_commands(bundle).commands()
    assert isinstance(order, ReceivePrescription)
    return order


def test_bundle_coverages_are_billed_in_coverage_order() -> None:
    order = _order(coverage("999003", "SEC-1", order=2), coverage("999001", "PRI-1", order=1))
    assert order.coverage is not None and (order.coverage.bin, order.coverage.cardholder_id) == ("999001", "PRI-1")
    assert [(c.bin, c.cardholder_id) for c in order.other_coverages] == [("999003", "SEC-1")]


def test_coverages_without_an_order_follow_the_ordered_ones_as_listed() -> None:
    order = _order(coverage("610014", "X-1"), coverage("999003", "X-2"), coverage("999001", "X-0", order=1))
    assert order.coverage is not None and order.coverage.bin == "999001"
    assert [c.bin for c in order.other_coverages] == ["610014", "999003"]


def test_public_coverage_examples_keep_their_plan_fields() -> None:
    """US Core's Coverage example (no order, no rx classes) and CARIN RTPBC's pharmacy Coverage (rxbin/rxpcn)."""
    uscore = json.loads((CORPUS / "fhir" / "uscore_r4_coverage_example.json").read_text())
    carin_bundle = json.loads(
        (
            CORPUS / "fhir" / "carin_rtpbc_r4_bundle_message_claim_patient_coverage_medicationrequest_practitioner.json"
        ).read_text()
    )
    [carin] = [e["resource"] for e in carin_bundle["entry"] if e["resource"]["resourceType"] == "Coverage"]
    first, second = coverages_in_order([uscore, {**carin, "order": 1}])
    assert (first.bin, first.pcn, first.group_id, first.cardholder_id) == (
        "BIN001",
        "PCN002",
        "GROUP0001",
        "MEMBER000001",
    )
    assert (second.bin, second.group_id, second.cardholder_id, second.plan_name) == (
        None,
        "xyz",
        "888009335",
        "Acme Gold Plan",
    )
