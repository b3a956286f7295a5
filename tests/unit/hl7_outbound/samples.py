"""Synthetic events and CloudEvents for the outbound tests, built from the hub's real event models."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

from hub.domain.events import Event, PrescriptionCancelled, PrescriptionReceived
from hub.domain.lots import Pick
from hub.domain.order_parts import DrugInfo, QuantityInfo, Setting
from hub.domain.workflow_events import PrescriptionDispensed, PrescriptionRejected, PrescriptionVerified
from hub.messaging.cloudevents import DEFAULT_SOURCE, encode, to_cloudevent

AT = datetime(2025, 3, 4, 10, 20, 30, tzinfo=UTC)


def received(
    rx: str = "RX1",
    placer: str = "PL1",
    system: str | None = "CLINIC",
    setting: Setting = Setting.OUTPATIENT,
) -> PrescriptionReceived:
    """An order recorded at intake."""
    return PrescriptionReceived(
        prescription_id=f"p-{rx}",
        rx_number=rx,
        placer_order_number=placer,
        placer_system=system,
        source="hl7",
        drug=DrugInfo(ndc="00071015523", text="Atorvastatin 10 mg tablet", route="PO"),
        quantity=QuantityInfo(value=Decimal(30), unit="TAB"),
        setting=setting,
        state="received",
    )


def _fill(rx: str, placer: str, system: str | None, setting: Setting, state: str) -> dict[str, object]:
    return {
        "prescription_id": f"p-{rx}",
        "rx_number": rx,
        "fill_number": 0,
        "placer_order_number": placer,
        "placer_system": system,
        "setting": setting,
        "state": state,
    }


def verified(
    rx: str = "RX1",
    placer: str = "PL1",
    system: str | None = "CLINIC",
    setting: Setting = Setting.OUTPATIENT,
    fill_number: int = 0,
) -> PrescriptionVerified:
    """Data verification approved by pharmacist ph-7."""
    fields = _fill(rx, placer, system, setting, "filling") | {"fill_number": fill_number}
    return PrescriptionVerified(**fields, actor_id="ph-7", ndc="00071015523")  # type: ignore[arg-type]


def rejected(rx: str = "RX1", reason: str = "Dose exceeds maximum | see note") -> PrescriptionRejected:
    """Refused at data verification."""
    return PrescriptionRejected(
        **_fill(rx, "PL1", "CLINIC", Setting.OUTPATIENT, "rejected"),  # type: ignore[arg-type]
        reason=reason,
        actor_id="ph-7",
    )


def cancelled(rx: str = "RX1", previous_state: str = "received") -> PrescriptionCancelled:
    """Cancelled by the prescriber."""
    return PrescriptionCancelled(
        prescription_id=f"p-{rx}",
        rx_number=rx,
        placer_order_number="PL1",
        reason="Patient request",
        previous_state=previous_state,
    )


def dispensed(
    rx: str = "RX1",
    placer: str = "PL1",
    system: str | None = "CLINIC",
    setting: Setting = Setting.OUTPATIENT,
    fill_number: int = 0,
) -> PrescriptionDispensed:
    """Picked up: 30 tablets from two lots."""
    picks = (
        Pick(lot="LOT-A", expiry=date(2026, 1, 31), quantity=Decimal(20)),
        Pick(lot="LOT-B", expiry=date(2026, 6, 30), quantity=Decimal(10)),
    )
    fields = _fill(rx, placer, system, setting, "dispensed") | {"fill_number": fill_number}
    return PrescriptionDispensed(
        **fields,
        actor_id="ph-7",
        ndc="00071015523",  # type: ignore[arg-type]
        quantity=Decimal(30),
        unit="TAB",
        picks=picks,
    )


def cloudevent(event: Event, event_id: str | None = None, at: datetime = AT) -> bytes:
    """The event exactly as the hub's outbox publishes it."""
    return encode(
        to_cloudevent(
            event,
            event_id=event_id or str(uuid.uuid4()),
            source=DEFAULT_SOURCE,
            time=at,
            correlation_id=str(uuid.uuid4()),
            causation_id=None,
        )
    )
