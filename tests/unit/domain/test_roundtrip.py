"""The aggregate's state survives JSON storage exactly, whatever steps were taken (property)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from hub.domain.claim import DurPps
from hub.domain.inventory import allocate
from hub.domain.order_parts import Setting
from hub.domain.prescription import Prescription
from hub.errors import DomainError
from tests.unit.domain.builders import (
    CATALOGUE,
    LISINOPRIL,
    NOW,
    PHARMACIST,
    PHARMACY,
    SYSTEM,
    TECHNICIAN,
    context,
    received,
    stock,
)

CODES = DurPps(reason_for_service="ER", professional_service="M0", result_of_service="1B")
STEPS: list[Callable[[Prescription], object]] = [
    lambda rx: rx.intake(SYSTEM, NOW, context()),
    lambda rx: rx.select_product(TECHNICIAN, NOW, CATALOGUE.by_ndc(LISINOPRIL), context()),  # type: ignore[arg-type]
    lambda rx: rx.claim_paid(
        SYSTEM, NOW, total_paid=Decimal("9.99"), patient_pay=Decimal("1.5"), authorization_number="A"
    ),
    lambda rx: rx.claim_rejected(SYSTEM, NOW, reject_codes=["88", "79"], payer_message="DUR"),
    lambda rx: rx.resubmit_claim(PHARMACIST, NOW, dur_pps=CODES),
    lambda rx: rx.bill_cash(TECHNICIAN, NOW),
    lambda rx: rx.override_alert(PHARMACIST, NOW, "A1", "ok"),
    lambda rx: rx.approve_data_verification(PHARMACIST, NOW),
    lambda rx: rx.reject_data_verification(PHARMACIST, NOW, "no"),
    lambda rx: rx.complete_fill(
        TECHNICIAN, NOW, allocate(stock(quantity="20"), LISINOPRIL, Decimal("30"), NOW.date()), PHARMACY
    ),
    lambda rx: rx.approve_product_verification(PHARMACIST, NOW),
    lambda rx: rx.reject_product_verification(PHARMACIST, NOW, "count"),
    lambda rx: rx.dispense(TECHNICIAN, NOW),
    lambda rx: rx.return_to_stock(TECHNICIAN, NOW),
    lambda rx: rx.cancel(SYSTEM, NOW, "stop"),
    lambda rx: rx.claim_reversed(SYSTEM, NOW, fill_number=rx.current_fill.fill_number),
    lambda rx: rx.request_refill(TECHNICIAN, NOW + timedelta(days=40)),
]


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(list(Setting)),
    st.booleans(),
    st.lists(st.integers(0, len(STEPS) - 1), max_size=25),
)
def test_state_round_trips_through_json_after_any_steps(setting: Setting, insured: bool, steps: list[int]) -> None:
    rx = received(setting=setting, **({} if insured else {"coverage": None}))
    for index in steps:
        try:
            STEPS[index](rx)
        except DomainError:
            pass
        stored = json.loads(json.dumps(rx.model_dump(mode="json")))
        restored = Prescription.model_validate(stored)
        assert restored == rx
        assert restored.model_dump(mode="json") == stored
