"""A claim the payer has not answered within the payer timeout gets its timeout check, once, from the ledger
sweep (the only payer timer: a claim arms none of its own)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import event, select, update

from hub.entrypoints.runtime import STEP_HANDLERS, workflow_context
from hub.persistence.database import create_schema, make_engine
from hub.persistence.tables import claim_transmissions, outbox
from hub.service.bus import MessageBus
from hub.service.workflow.claim_sweeper import ClaimSweeper
from tests.conftest import make_settings
from tests.integration.test_redelivery import _twice, order_for_tests


def test_overdue_unanswered_claim_is_swept_once(sqlite_url: str, amqp_url: str) -> None:
    settings = make_settings(amqp_url, sqlite_url, default_bin="999001")
    engine = make_engine(sqlite_url)
    create_schema(engine)
    ctx = workflow_context(settings)
    intake = MessageBus(engine, STEP_HANDLERS["intake"](ctx), consumer="intake")
    claim = MessageBus(engine, STEP_HANDLERS["claim"](ctx), consumer="claim")
    _twice(intake, order_for_tests())
    with engine.connect() as conn:
        pid = conn.execute(select(claim_transmissions.c.prescription_id)).first()
    assert pid is None, "nothing sent until the claim worker runs"
    from hub.domain.workflow_commands import SendClaim
    from hub.persistence.prescriptions import PrescriptionRepository

    with engine.connect() as conn:
        rx = PrescriptionRepository(conn).in_states(["claim_pending"])[0]
    _twice(claim, SendClaim(prescription_id=rx.id, fill_number=0, attempt=1))
    sweeper = ClaimSweeper(engine, payer_timeout_ms=1000)
    assert sweeper.sweep_once() == 0, "not overdue yet"
    with engine.begin() as conn:
        conn.execute(update(claim_transmissions).values(sent_at=datetime.now(UTC) - timedelta(minutes=5)))
    assert sweeper.sweep_once() == 1
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    assert sweeper.sweep_once() == 0, "one check per transmission, however often it sweeps"
    reads = [sql for sql in statements if sql != "BEGIN"]  # SQLite's read transaction (no writer lock)
    # the overdue claims, the reversals due again, the outbox rows queued for them: reads, no transaction
    assert len(reads) == 3, "a claim checked before costs the sweep no transaction of its own"
    with engine.connect() as conn:
        checks = conn.execute(select(outbox.c.routing_key).where(outbox.c.routing_key == "CheckClaimTimeout")).all()
    assert len(checks) == 1
    engine.dispose()


def test_a_reversal_due_again_is_queued_once_from_the_ledger(sqlite_url: str, amqp_url: str) -> None:
    """The retry of a status-unknown claim's reversal lives in the ledger (``retry_at``), not in a worker's
    memory or a delay queue: any process's sweep sends it when due, once (issue #33 item 7)."""
    from hub.domain.workflow_commands import SendClaim
    from hub.messaging.envelope import Envelope
    from hub.persistence.prescriptions import PrescriptionRepository

    settings = make_settings(amqp_url, sqlite_url, default_bin="999001")
    engine = make_engine(sqlite_url)
    create_schema(engine)
    ctx = workflow_context(settings)
    _twice(MessageBus(engine, STEP_HANDLERS["intake"](ctx), consumer="intake"), order_for_tests())
    with engine.connect() as conn:
        rx = PrescriptionRepository(conn).in_states(["claim_pending"])[0]
    _twice(
        MessageBus(engine, STEP_HANDLERS["claim"](ctx), consumer="claim"),
        SendClaim(prescription_id=rx.id, fill_number=0, attempt=1),
    )
    later = datetime.now(UTC) + timedelta(minutes=1)
    with engine.begin() as conn:  # as claim_responses leaves a reversal that met a 92 on its third try
        conn.execute(
            update(claim_transmissions).values(answered_at=datetime.now(UTC), status="R", resends=2, retry_at=later)
        )
    sweeper = ClaimSweeper(engine, payer_timeout_ms=1000)
    assert sweeper.sweep_once() == 0, "not due yet"
    assert sweeper.sweep_once(later + timedelta(seconds=1)) == 1
    assert ClaimSweeper(engine, payer_timeout_ms=1000).sweep_once(later + timedelta(seconds=2)) == 0, "queued once"
    with engine.connect() as conn:
        bodies = conn.scalars(select(outbox.c.body).where(outbox.c.routing_key == "SendClaim")).all()
    resends = [c for c in (Envelope.from_bytes(b).command() for b in bodies) if isinstance(c, SendClaim) and c.resend]
    assert [(c.attempt, c.resend) for c in resends] == [(1, 3)]
    engine.dispose()


def test_a_check_another_sweep_queued_first_does_not_stop_this_sweep(
    postgres_url: str, amqp_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every process with the claim-responses step sweeps the same overdue rows in the same order: another
    sweep can commit a row's check between this sweep's look and its insert. Its unique id then fails this
    insert; the sweep goes on with the rows behind it. (PostgreSQL: SQLite's one writer cannot race.)"""
    from hub.domain.order_parts import Source
    from hub.domain.workflow_commands import SendClaim
    from hub.messaging.envelope import Envelope
    from hub.persistence.prescriptions import PrescriptionRepository
    from hub.persistence.unit_of_work import unit_of_work
    from hub.service.workflow import claim_sweeper

    settings = make_settings(amqp_url, postgres_url, default_bin="999001")
    engine = make_engine(postgres_url)
    create_schema(engine)
    ctx = workflow_context(settings)
    intake = MessageBus(engine, STEP_HANDLERS["intake"](ctx), consumer="intake")
    claim = MessageBus(engine, STEP_HANDLERS["claim"](ctx), consumer="claim")
    for n in range(2):
        order = order_for_tests()
        patient = order.patient.model_copy(update={"given_name": f"Ann{n}", "birth_date": date(1970 + n, 1, 1)})
        order = order.model_copy(update={"placer_order_number": f"SWEEP-{n}", "patient": patient})
        intake.handle(Envelope.wrap(order, correlation_id=uuid.uuid4(), source=Source.HL7, message_id=uuid.uuid4()))
    with engine.connect() as conn:
        pending = PrescriptionRepository(conn).in_states(["claim_pending"])
    assert len(pending) == 2
    for rx in pending:
        _twice(claim, SendClaim(prescription_id=rx.id, fill_number=0, attempt=1))
    with engine.begin() as conn:
        conn.execute(update(claim_transmissions).values(sent_at=datetime.now(UTC) - timedelta(minutes=5)))
    real = claim_sweeper.queue_timeout_check
    raced: list[str] = []

    def beaten_to_the_first(uow, check, message_id):  # type: ignore[no-untyped-def]
        if not raced:  # the other process's sweep commits this check after our look, before our insert
            raced.append(check.exchange_id)
            with unit_of_work(engine) as other:
                assert real(other, check, message_id)
            row = uow.prescriptions.get(check.prescription_id)
            uow.add_command(
                Envelope.wrap(check, correlation_id=row.correlation_id, source=Source.HUB, message_id=message_id)
            )
            return True
        return real(uow, check, message_id)

    monkeypatch.setattr(claim_sweeper, "queue_timeout_check", beaten_to_the_first)
    assert ClaimSweeper(engine, payer_timeout_ms=1000).sweep_once() == 1, "the second row's check, by this sweep"
    with engine.connect() as conn:
        checks = conn.execute(select(outbox.c.id).where(outbox.c.routing_key == "CheckClaimTimeout")).all()
    assert len(checks) == 2, "both checks queued, each once"
    engine.dispose()
