"""Ordering: messages for one prescription are applied in order even with several copies of each worker.

How the hub does it (``hub.service.handlers.REGISTRY``, from which the broker routing is derived): a cancel
goes to the same intake queue as its order. With several intake consumers a cancel can still overtake its
order (another copy holds the order mid-transaction); it then finds no prescription, raises TransientError and
is parked in the retry queue until the order exists. Two writers on one prescription (a pharmacist's approval
and a cancel, say) are serialised by the optimistic version check in ``PrescriptionRepository.save``: the
loser gets a TransientError, is retried, and applies its change on top of the winner's."""

from __future__ import annotations

import logging
import threading
import uuid

import pytest
from sqlalchemy import Engine, func, select

from hub.domain.commands import ReceivePrescription
from hub.domain.order_parts import DrugInfo, PatientInfo, PrescriberInfo, QuantityInfo, Setting, Source
from hub.domain.workflow_commands import CancelByPharmacy, RecordVerification
from hub.entrypoints.inprocess import running_hub
from hub.entrypoints.mllp_client import MllpClient
from hub.entrypoints.runtime import STEP_HANDLERS, workflow_context
from hub.errors import DomainError, TransientError
from hub.messaging.dead_letters import DeadLetterQueue
from hub.messaging.envelope import Envelope, order_correlation_id
from hub.messaging.topology import Topology
from hub.persistence.database import create_schema, make_engine
from hub.persistence.prescriptions import PrescriptionRepository
from hub.persistence.tables import outbox, prescriptions
from hub.persistence.users import UserStore
from hub.service.bus import MessageBus
from tests.chaos.orders import PLACER_SYSTEM, ack_code, hl7_order
from tests.conftest import make_settings
from tests.support.events import EventSubscriber

ORDERS = 60
SENDERS = 4


def _send_order_then_cancel(port: int, placers: list[str]) -> None:
    with MllpClient("127.0.0.1", port, timeout_s=30) as client:
        for placer in placers:
            for control in ("NW", "CA"):
                control_id = f"{control}{placer}"
                assert ack_code(client.send(hl7_order(control_id, placer, control)), control_id) == "AA"


def _states(engine: Engine, run: str) -> dict[str, str]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(prescriptions.c.placer_order_number, prescriptions.c.state).where(
                prescriptions.c.placer_order_number.like(f"{run}%")
            )
        ).all()
    return {placer: state for placer, state in rows}


def test_a_cancel_right_behind_its_order_is_applied_after_it_with_three_intake_copies(
    database_url: str, amqp_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(amqp_url, database_url, retry_delay_ms=500, max_retries=3)
    run = f"ORD{uuid.uuid4().hex[:6]}"
    placers = [f"{run}{i:04d}" for i in range(ORDERS)]
    sub = EventSubscriber(amqp_url, Topology(settings.broker_prefix).events_exchange, "prescription.#")
    caplog.set_level(logging.WARNING, "hub.messaging.consumer")
    try:
        with running_hub(settings, steps=["intake"], copies=3) as hub:
            senders = [
                threading.Thread(target=_send_order_then_cancel, args=(hub.mllp_port, placers[i::SENDERS]))
                for i in range(SENDERS)
            ]
            for thread in senders:
                thread.start()
            for thread in senders:
                thread.join(120)
            sub.collect(lambda ev: sum(e["type"] == "prescription.cancelled" for e in ev) >= ORDERS, timeout_s=60)
            states = _states(hub.engine, run)
            dead = DeadLetterQueue(amqp_url, Topology(settings.broker_prefix)).list()
    finally:
        sub.close()
    overtaken = sum("retrying later" in r.getMessage() for r in caplog.records)
    print(f"{overtaken} cancel(s) overtook their order and were retried")
    assert dead == [], [f"{d.message_type}: {d.error}" for d in dead]
    assert states == {p: "cancelled" for p in placers}
    order: dict[str, list[str]] = {}
    for event in sub.events:
        order.setdefault(event["subject"], []).append(event["type"])
    assert len(order) == ORDERS
    out_of_order = {
        s: types for s, types in order.items() if types != ["prescription.received", "prescription.cancelled"]
    }
    assert out_of_order == {}


@pytest.mark.postgres
def test_concurrent_writers_on_one_prescription_are_serialised_by_the_version_check(
    postgres_url: str, amqp_url: str
) -> None:
    engine = make_engine(postgres_url)
    create_schema(engine)
    settings = make_settings(amqp_url, postgres_url)
    ctx = workflow_context(settings)
    intake = MessageBus(engine, STEP_HANDLERS["intake"](ctx), consumer="intake")
    verification = MessageBus(engine, STEP_HANDLERS["verification"](ctx), consumer="verification")
    pharmacist, _ = UserStore(engine).add("rph-race", "pharmacist", licence="RPH-9")
    conflicts = 0
    for round_ in range(15):
        placer = f"RACE-{round_}-{uuid.uuid4().hex[:6]}"
        pid, version = _inpatient_order(engine, intake, placer)
        approve = Envelope.wrap(
            RecordVerification(prescription_id=pid, stage="data", approve=True),
            correlation_id=order_correlation_id(PLACER_SYSTEM, placer),
            source=Source.HUB,
            actor=pharmacist.id,
        )
        cancel = Envelope.wrap(
            CancelByPharmacy(prescription_id=pid, reason="race"),
            correlation_id=order_correlation_id(PLACER_SYSTEM, placer),
            source=Source.HUB,
            actor=pharmacist.id,
        )
        start = threading.Barrier(2)
        outcomes: dict[str, str] = {}
        threads = [
            threading.Thread(target=_apply_with_retries, args=(bus, env, start, outcomes))
            for bus, env in ((verification, approve), (intake, cancel))
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        with engine.connect() as conn:
            row = PrescriptionRepository(conn).get(pid)
            published: dict[str, int] = dict(
                conn.execute(
                    select(outbox.c.message_type, func.count())
                    .where(outbox.c.correlation_id == str(approve.correlation_id), outbox.c.target == "events")
                    .group_by(outbox.c.message_type)
                ).all()
            )
        conflicts += sum(o.endswith("after a version conflict") for o in outcomes.values())
        # the outcome of some serial order: approve then cancel, or cancel then a refused approval
        assert row is not None and row.state == "cancelled", outcomes
        assert outcomes["CancelByPharmacy"].startswith("applied"), outcomes
        approved = outcomes["RecordVerification"].startswith("applied")
        assert row.version == version + (2 if approved else 1), (outcomes, version, row.version)
        assert published.get("prescription.verified", 0) == approved, (outcomes, published)
        assert published.get("prescription.cancelled") == 1, (outcomes, published)
    print(f"{conflicts} write(s) lost the version race and were retried")
    engine.dispose()


def _inpatient_order(engine: Engine, intake: MessageBus, placer: str) -> tuple[str, int]:
    """An inpatient order: it skips the claim and waits at data verification."""
    command = ReceivePrescription(
        placer_order_number=placer,
        placer_system=PLACER_SYSTEM,
        setting=Setting.INPATIENT,
        patient=PatientInfo(family_name=f"Race{placer}", given_name="Ann", birth_date="1970-01-01", sex="F"),
        prescriber=PrescriberInfo(family_name="Prescriber", npi="1234567893"),
        drug=DrugInfo(ndc="00378020801", text="Lisinopril 10 mg"),
        quantity=QuantityInfo(value=30),
        sig="Take 1 tablet by mouth daily",
    )
    intake.handle(Envelope.wrap(command, correlation_id=order_correlation_id(PLACER_SYSTEM, placer), source=Source.HL7))
    with engine.connect() as conn:
        row = PrescriptionRepository(conn).by_placer(PLACER_SYSTEM, placer)
    assert row is not None and row.state == "data_verification", row.state if row else None
    return row.id, row.version


def _apply_with_retries(
    bus: MessageBus, envelope: Envelope, start: threading.Barrier, outcomes: dict[str, str]
) -> None:
    """What the consumer runner does: retry on TransientError; a DomainError is a refusal (dead letter)."""
    start.wait()
    for attempt in range(10):
        try:
            bus.handle(envelope)
        except TransientError:
            continue
        except DomainError as exc:
            outcomes[envelope.type] = f"refused: {exc}"
            return
        outcomes[envelope.type] = "applied" + (" after a version conflict" if attempt else "")
        return
    outcomes[envelope.type] = "never applied"
