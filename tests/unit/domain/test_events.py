"""Workflow events are registered, decodable by name and free of patient identity."""

from __future__ import annotations

from decimal import Decimal

import pytest

from hub.domain.events import EVENT_TYPES, Event
from hub.domain.states import RxState
from hub.domain.workflow_events import PUBLISHED
from tests.unit.domain.builders import NOW, SYSTEM, TECHNICIAN, reach

PUBLIC_NAMES = {
    "prescription.received",
    "prescription.rejected",
    "prescription.cancelled",
    "claim.submitted",
    "claim.paid",
    "claim.rejected",
    "claim.reversed",
    "prescription.verified",
    "fill.completed",
    "fill.verified",
    "prescription.ready",
    "prescription.dispensed",
    "prescription.returned",
    "inventory.low",
}


def test_every_public_event_name_is_registered() -> None:
    assert PUBLIC_NAMES <= set(EVENT_TYPES)
    assert all(EVENT_TYPES[cls.name] is cls for cls in PUBLISHED)


def all_events() -> list[Event]:
    rx = reach(RxState.READY)
    events = [*rx.return_to_stock(TECHNICIAN, NOW), *rx.claim_reversed(SYSTEM, NOW, fill_number=0)]
    other = reach(RxState.CLAIM_PENDING)
    events += other.claim_rejected(SYSTEM, NOW, reject_codes=["70"])
    events += other.cancel(SYSTEM, NOW, "x")
    return events


@pytest.mark.parametrize("event", all_events(), ids=lambda e: e.name)
def test_events_round_trip_by_name_and_carry_no_patient_identity(event: Event) -> None:
    wire = event.model_dump(mode="json")
    assert EVENT_TYPES[event.name].model_validate(wire) == event
    text = event.model_dump_json()
    assert "Testpatient" not in text and "1970-01-01" not in text and "Sam" not in text
    assert wire["prescription_id"] == "rx-id-1"


def test_claim_submitted_has_what_the_payer_adapter_needs() -> None:
    rx = reach(RxState.CLAIM_REJECTED)
    (event,) = rx.resubmit_claim(TECHNICIAN, NOW, prior_auth_number="PA")
    wire = event.model_dump(mode="json")
    for key in (
        "rx_number",
        "fill_number",
        "ndc",
        "quantity",
        "days_supply",
        "bin",
        "pcn",
        "cardholder_id",
        "prescriber_npi",
        "patient_id",
        "date_of_service",
        "attempt",
        "prior_auth_number",
    ):
        assert wire[key] not in (None, ""), key
    assert Decimal(wire["quantity"]) == 30
