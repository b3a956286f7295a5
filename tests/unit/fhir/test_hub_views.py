"""Hub aggregates -> FHIR views: ids a client can follow, states, fills with lots, claims, patients."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from fhir.resources.R4B.claimresponse import ClaimResponse
from fhir.resources.R4B.medicationdispense import MedicationDispense
from fhir.resources.R4B.medicationrequest import MedicationRequest
from fhir.resources.R4B.patient import Patient as FhirPatient

from adapters.fhir.fhir_views_from_hub import (
    claim_snapshots,
    fill_snapshots,
    patient_snapshot,
    prescription_snapshot,
    request_id,
)
from adapters.fhir.views import claim_response_view, medication_dispense_view, medication_request_view, patient_view
from hub.domain.actors import system_actor
from hub.domain.claim import Claim, ClaimStatus
from hub.domain.commands import ReceivePrescription
from hub.domain.lots import Pick
from hub.domain.order_parts import DrugInfo, Identifier, PatientInfo, PrescriberInfo, QuantityInfo, Source
from hub.domain.parties import Patient, Prescriber
from hub.domain.prescription import Prescription
from hub.domain.states import RxState
from hub.messaging.envelope import order_correlation_id

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
INFO = PatientInfo(
    identifiers=(Identifier(value="MRN-9", system="urn:example:mrn"),),
    family_name="Synthetic",
    given_name="Fay",
    birth_date=date(1990, 5, 6),
    sex="F",
)


def _rx(refills: int = 0) -> Prescription:
    command = ReceivePrescription(
        placer_order_number="ORD-9",
        placer_system="urn:example:ehr",
        patient=INFO,
        prescriber=PrescriberInfo(family_name="Prescriber", given_name="Pat", npi="1234567893"),
        drug=DrugInfo(ndc="00093005801", text="Amoxicillin 500 MG Oral Capsule"),
        quantity=QuantityInfo(value=Decimal("20"), unit="CAP"),
        days_supply=10,
        refills=refills,
        sig="1 cap bid",
    )
    rx, _ = Prescription.receive(
        prescription_id="rx-1",
        rx_number="1000001",
        command=command,
        source=Source.FHIR,
        patient=Patient.new("pat-1", INFO),
        prescriber=Prescriber.new("doc-1", command.prescriber),
        actor=system_actor("fhir"),
        now=NOW,
    )
    return rx


def test_the_request_id_is_the_correlation_id_known_at_post_time() -> None:
    rx = _rx()
    view = medication_request_view(prescription_snapshot(rx))
    MedicationRequest.model_validate(view)
    assert view["id"] == request_id(rx) == str(order_correlation_id("urn:example:ehr", "ORD-9"))
    assert view["identifier"][0]["value"] == "ORD-9" and view["status"] == "active"
    assert view["subject"] == {"reference": "Patient/pat-1"}
    assert view["requester"]["display"] == "Pat Prescriber"


@pytest.mark.parametrize(
    ("state", "refills", "request_status", "dispense_status"),
    [
        (RxState.NEEDS_PRODUCT, 0, "active", "preparation"),
        (RxState.READY, 0, "active", "in-progress"),
        (RxState.DISPENSED, 0, "completed", "completed"),
        (RxState.DISPENSED, 2, "active", "completed"),
        (RxState.CANCELLED, 0, "cancelled", "cancelled"),
    ],
)
def test_states_follow_the_current_fill(
    state: RxState, refills: int, request_status: str, dispense_status: str
) -> None:
    rx = _rx(refills)
    rx.current_fill.state = state
    (dispense,) = [medication_dispense_view(f) for f in fill_snapshots(rx)]
    assert medication_request_view(prescription_snapshot(rx))["status"] == request_status
    assert dispense["status"] == dispense_status


def test_a_filled_dispense_carries_quantity_lots_and_hand_over() -> None:
    rx = _rx()
    fill = rx.current_fill
    fill.state, fill.ndc, fill.quantity_dispensed = RxState.DISPENSED, "00093005801", Decimal("20")
    fill.picks = [
        Pick(lot="L2", expiry=date(2030, 1, 31), quantity=Decimal("12")),
        Pick(lot="L1", expiry=date(2029, 6, 30), quantity=Decimal("8")),
    ]
    fill.filled_at, fill.dispensed_at = NOW, datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
    (view,) = [medication_dispense_view(f) for f in fill_snapshots(rx)]
    MedicationDispense.model_validate(view)
    assert view["id"] == f"{request_id(rx)}-0"
    assert view["authorizingPrescription"] == [{"reference": f"MedicationRequest/{request_id(rx)}"}]
    assert view["quantity"] == {"value": 20, "unit": "CAP"} and view["daysSupply"]["value"] == 10
    assert view["contained"][0]["batch"] == {"lotNumber": "L2, L1", "expirationDate": "2029-06-30"}
    assert view["whenHandedOver"] == "2026-03-02T15:00:00+00:00"


def test_claims_are_listed_per_billed_fill() -> None:
    rx = _rx()
    assert claim_snapshots(rx) == []
    rx.current_fill.claim = Claim(
        status=ClaimStatus.REJECTED,
        bin="999001",
        amount_requested=Decimal("4.15"),
        submitted_at=NOW,
        reject_codes=["75"],
        payer_message="prior auth required",
    )
    (view,) = [claim_response_view(c) for c in claim_snapshots(rx)]
    ClaimResponse.model_validate(view)
    assert view["id"] == f"{request_id(rx)}-0-claim" and view["outcome"] == "error"
    assert view["error"][0]["code"]["coding"][0]["code"] == "75"
    assert view["disposition"] == "prior auth required"


def test_patient_profile_as_fhir() -> None:
    view = patient_view(patient_snapshot(Patient.new("pat-1", INFO)))
    FhirPatient.model_validate(view)
    assert (view["id"], view["gender"], view["birthDate"]) == ("pat-1", "female", "1990-05-06")
