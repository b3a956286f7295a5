"""A paid claim's payer findings on the prescription: a major one blocks data verification until a pharmacist
overrides it; a payer message is shown but does not block; the same finding twice is one alert."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from hub.domain.alerts import AlertKind, Severity
from hub.domain.claim import PayerDurAlert
from hub.domain.rx_record import UnresolvedAlerts
from hub.domain.states import RxState
from tests.unit.domain.builders import NOW, PHARMACIST, SYSTEM, reach

INTERACTION = PayerDurAlert(
    reason="DD",
    clinical_significance="1",
    other_pharmacy="3",
    previous_fill_date=date(2026, 2, 1),
    free_text="CHECK INR",
)


def test_major_payer_finding_blocks_until_overridden_and_message_does_not() -> None:
    rx = reach(RxState.CLAIM_PENDING)
    rx.claim_paid(
        SYSTEM,
        NOW,
        total_paid=Decimal("9.50"),
        patient_pay=Decimal("3.00"),
        payer_dur=(INTERACTION, INTERACTION),
        payer_message="MAIL ORDER AVAILABLE",
    )
    payer = [a for a in rx.alerts if a.kind in (AlertKind.PAYER_DUR, AlertKind.PAYER_MESSAGE)]
    assert [(a.kind, a.severity) for a in payer] == [
        (AlertKind.PAYER_DUR, Severity.HIGH),
        (AlertKind.PAYER_MESSAGE, Severity.LOW),
    ]
    assert payer[0].fill_number == rx.current_fill.fill_number
    assert "previous fill 2026-02-01" in payer[0].text
    assert rx.current_fill.claim is not None and rx.current_fill.claim.payer_dur == [
        INTERACTION,
        INTERACTION,
    ]  # as the payer sent them
    with pytest.raises(UnresolvedAlerts):
        rx.approve_data_verification(PHARMACIST, NOW)
    rx.override_alert(PHARMACIST, NOW, payer[0].alert_id, "INR checked with the patient")
    rx.approve_data_verification(PHARMACIST, NOW)
    assert rx.state is RxState.FILLING
