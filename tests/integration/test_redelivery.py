"""Every worker, given the same message twice, changes state and publishes once (real database, both kinds)."""

from __future__ import annotations

import uuid
from decimal import Decimal

from sqlalchemy import func, select

from hub.domain.commands import Command, ReceivePrescription, RecordClaimResponse
from hub.domain.order_parts import DrugInfo, PatientInfo, PrescriberInfo, QuantityInfo, Source
from hub.domain.workflow_commands import (
    DispensePrescription,
    FillPrescription,
    ReceiveInventory,
    RecordVerification,
    SendClaim,
)
from hub.entrypoints.runtime import STEP_HANDLERS, workflow_context
from hub.messaging.envelope import Envelope, order_correlation_id
from hub.persistence.database import create_schema, make_engine
from hub.persistence.prescriptions import PrescriptionRepository
from hub.persistence.tables import inventory, outbox
from hub.persistence.users import UserStore
from hub.service.bus import MessageBus
from tests.conftest import make_settings

CORRELATION = order_correlation_id("EHR", "REDELIVER-1")


def _twice(bus: MessageBus, command: Command, actor: str | None = None) -> tuple[int, int]:
    """Apply one envelope twice; return outbox rows written by the first and by the second delivery."""
    envelope = Envelope.wrap(
        command, correlation_id=CORRELATION, source=Source.HL7, actor=actor, message_id=uuid.uuid4()
    )
    counts = []
    for _ in range(2):
        before = _outbox(bus)
        bus.handle(envelope)
        counts.append(_outbox(bus) - before)
    return counts[0], counts[1]


def _outbox(bus: MessageBus) -> int:
    with bus.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(outbox)).scalar_one())


def order_for_tests() -> ReceivePrescription:
    """A retail amoxicillin order with a valid NPI (shared with other integration tests)."""
    return ReceivePrescription(
        placer_order_number="REDELIVER-1",
        placer_system="EHR",
        patient=PatientInfo(family_name="Synthetic", given_name="Ann", birth_date="1970-01-01", sex="F"),
        prescriber=PrescriberInfo(family_name="Prescriber", npi="1234567893"),
        drug=DrugInfo(ndc="00093005801", text="Amoxicillin 500 mg"),
        quantity=QuantityInfo(value=Decimal(20)),
        sig="Take 1 capsule twice daily",
    )


def test_each_step_applies_a_redelivered_message_once(database_url: str, amqp_url: str) -> None:
    settings = make_settings(amqp_url, database_url, default_bin="999001")
    engine = make_engine(database_url)
    create_schema(engine)
    ctx = workflow_context(settings)
    bus = {step: MessageBus(engine, make(ctx), consumer=step) for step, make in STEP_HANDLERS.items()}
    pharmacist, _ = UserStore(engine).add("rph", "pharmacist", licence="RPH-1")
    tech, _ = UserStore(engine).add("tech", "technician")

    assert (
        _twice(
            bus["fill"],
            ReceiveInventory(ndc="00093005801", lot="L1", expiry="2030-01-01", quantity=Decimal(100)),
            tech.id,
        )[1]
        == 0
    )
    with engine.connect() as conn:
        assert conn.execute(select(inventory.c.on_hand)).scalar_one() == 100, "stock received once"

    first, second = _twice(bus["intake"], order_for_tests())
    assert first > 0 and second == 0
    with engine.connect() as conn:
        row = PrescriptionRepository(conn).by_correlation(str(CORRELATION))
    assert row is not None and row.state == "claim_pending"
    pid = row.id

    assert _twice(bus["claim"], SendClaim(prescription_id=pid, fill_number=0, attempt=1))[1] == 0
    paid = RecordClaimResponse(
        exchange_id=f"{pid}:0:1:B1",
        prescription_id=pid,
        fill_number=0,
        attempt=1,
        transaction="B1",
        status="P",
        total_paid=Decimal("4.15"),
        patient_pay=Decimal("4.15"),
    )
    assert _twice(bus["claim-responses"], paid)[1] == 0
    steps = [
        ("verification", RecordVerification(prescription_id=pid, stage="data", approve=True), pharmacist.id),
        ("fill", FillPrescription(prescription_id=pid, fill_number=0), None),
        ("verification", RecordVerification(prescription_id=pid, stage="product", approve=True), pharmacist.id),
        ("fill", DispensePrescription(prescription_id=pid), tech.id),
    ]
    for step, command, actor in steps:
        first, second = _twice(bus[step], command, actor)
        assert first > 0 and second == 0, f"{command.name} published again on redelivery"
    with engine.connect() as conn:
        final = PrescriptionRepository(conn).get(pid)
        on_hand = conn.execute(select(inventory.c.on_hand, inventory.c.reserved)).one()
    assert final is not None and final.state == "dispensed"
    assert (on_hand[0], on_hand[1]) == (80, 0), "20 consumed once, nothing left reserved"
    engine.dispose()
