"""A worker applies the deliveries it holds in one transaction; a bad message in a batch costs only itself."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Sequence
from pathlib import Path

import pika
from sqlalchemy import Engine, func, select

from hub.domain.commands import ReceivePrescription
from hub.domain.order_parts import Source
from hub.domain.workflow_commands import RecordVerification
from hub.entrypoints.runtime import STEP_HANDLERS, workflow_context
from hub.errors import NotFound
from hub.messaging.consumer import ConsumerRunner, run_in_thread, wait_ready
from hub.messaging.envelope import Envelope, order_correlation_id
from hub.messaging.topology import Topology
from hub.persistence.audit import AuditTrail
from hub.persistence.database import create_schema, make_engine
from hub.persistence.outbox_store import OutboxRow
from hub.persistence.tables import audit_log, outbox, prescriptions, processed_messages
from hub.service.bus import MessageBus
from tests.conftest import make_settings
from tests.integration.test_redelivery import order_for_tests


def _order(n: int) -> Envelope:
    placer = f"BATCH-{uuid.uuid4().hex[:8]}-{n}"
    order = order_for_tests().model_copy(update={"placer_order_number": placer})
    assert isinstance(order, ReceivePrescription)
    return Envelope.wrap(order, correlation_id=order_correlation_id("EHR", placer), source=Source.HL7,
                         message_id=uuid.uuid4())


def _unknown_prescription() -> Envelope:
    """A pharmacist's approval of a prescription nobody has: the handler fails after the batch began."""
    command = RecordVerification(prescription_id=str(uuid.uuid4()), stage="data", approve=True)
    return Envelope.wrap(command, correlation_id=uuid.uuid4(), source=Source.HUB, message_id=uuid.uuid4())


def _count(engine: Engine, table: object) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def test_a_batch_commits_together_and_hands_its_rows_over_once(
        database_url: str, amqp_url: str, tmp_path: Path) -> None:
    settings = make_settings(amqp_url, database_url, tmp_path, default_bin="999001")
    engine = make_engine(database_url)
    create_schema(engine)
    handed: list[list[OutboxRow]] = []
    bus = MessageBus(engine, STEP_HANDLERS["intake"](workflow_context(settings)), consumer="intake",
                     after_commit=[lambda rows: handed.append(list(rows))])
    orders = [_order(i) for i in range(5)]
    try:
        assert bus.handle_batch(orders) == [None] * 5
        assert _count(engine, prescriptions) == 5
        assert len(handed) == 1, "one commit, one hand-over"
        assert {row.id for row in handed[0]} == {r.id for r in _rows(engine)}, "every row written, handed over"
        # the same messages again (a redelivery after a lost ack), mixed with a new one: only the new applies
        again = [*orders[:3], _order(9)]
        assert bus.handle_batch(again) == [None] * 4
        assert _count(engine, prescriptions) == 6
        assert len(handed[1]) == len(_rows(engine)) - len(handed[0])
    finally:
        engine.dispose()


def test_a_message_held_twice_in_one_batch_applies_once_with_its_rows_written_once(
        database_url: str, amqp_url: str, tmp_path: Path) -> None:
    """The batch marks its messages in one statement and writes its outbox rows and audit entries at the
    end: a second copy of a message in the same batch (a resend published twice) is a duplicate, and every
    applied command's rows are there once, audit entries sealed into the chain."""
    settings = make_settings(amqp_url, database_url, tmp_path, default_bin="999001")
    engine = make_engine(database_url)
    create_schema(engine)
    handed: list[OutboxRow] = []
    bus = MessageBus(engine, STEP_HANDLERS["intake"](workflow_context(settings)), consumer="intake",
                     after_commit=[handed.extend])
    first, second = _order(0), _order(1)
    try:
        assert bus.handle_batch([first, second, first]) == [None] * 3
        assert _count(engine, prescriptions) == 2
        assert _count(engine, processed_messages) == 2
        with engine.connect() as conn:
            entries = conn.execute(select(audit_log.c.action, audit_log.c.prescription_id)).all()
        assert sorted(action for action, _ in entries) == ["receive", "receive"], "the second copy was not applied"
        assert len({prescription for _, prescription in entries}) == 2, "one audit entry per applied order"
        assert sorted(r.id for r in handed) == sorted(r.id for r in _rows(engine)), "each row written, handed once"
        report = AuditTrail(engine).verify()
        assert report.ok and report.checked == _count(engine, audit_log), "entries sealed into the chain"
    finally:
        engine.dispose()


def test_a_failing_message_fails_alone_and_the_rest_apply_once(
        database_url: str, amqp_url: str, tmp_path: Path) -> None:
    settings = make_settings(amqp_url, database_url, tmp_path, default_bin="999001")
    engine = make_engine(database_url)
    create_schema(engine)
    ctx = workflow_context(settings)
    handlers = {**STEP_HANDLERS["intake"](ctx), **STEP_HANDLERS["verification"](ctx)}
    bus = MessageBus(engine, handlers, consumer="mixed")
    batch = [_order(0), _order(1), _unknown_prescription(), _order(3)]
    try:
        outcomes = bus.handle_batch(batch)
        assert [o is None for o in outcomes] == [True, True, False, True]
        assert isinstance(outcomes[2], NotFound)
        assert _count(engine, prescriptions) == 3, "the good ones applied once, after the batch was rolled back"
        assert _count(engine, processed_messages) == 3, "the failed message is not marked applied"
    finally:
        engine.dispose()


def _rows(engine: Engine) -> list[OutboxRow]:
    with engine.connect() as conn:
        return [OutboxRow(r.id, r.target, r.routing_key, r.message_type, r.content_type, r.correlation_id,
                          r.body, dict(r.headers or {})) for r in conn.execute(select(outbox))]


def test_the_consumer_hands_over_what_it_holds_and_dead_letters_only_the_bad_one(
        database_url: str, amqp_url: str, tmp_path: Path) -> None:
    """Forty messages queued before the consumer starts arrive in batches; one unreadable and one that the
    handler refuses are dead-lettered, every other applied exactly once and acked."""
    settings = make_settings(amqp_url, database_url, tmp_path, default_bin="999001")
    topology = Topology(settings.broker_prefix)
    engine = make_engine(database_url)
    create_schema(engine)
    ctx = workflow_context(settings)
    sizes: list[int] = []
    bus = MessageBus(engine, {**STEP_HANDLERS["intake"](ctx), **STEP_HANDLERS["verification"](ctx)},
                     consumer="intake")

    def batch_handler(envelopes: Sequence[Envelope]) -> list[BaseException | None]:
        sizes.append(len(envelopes))
        return bus.handle_batch(envelopes)

    runner = ConsumerRunner(amqp_url=amqp_url, topology=topology, step="intake", handler=bus.handle,
                            batch_handler=batch_handler, max_batch=8, prefetch=32, max_retries=0)
    stop = threading.Event()
    # declare the topology, then queue everything before consuming, so deliveries wait in batches
    thread = run_in_thread(runner, stop)
    assert wait_ready([runner])
    stop.set()
    thread.join(10)
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    channel = connection.channel()
    messages = [_order(i).to_bytes() for i in range(38)]
    messages.insert(10, b"not an envelope")
    messages.insert(25, _unknown_prescription().to_bytes())
    for body in messages:
        channel.basic_publish("", topology.work_queue("intake"), body,
                              pika.BasicProperties(delivery_mode=2, message_id=str(uuid.uuid4())))
    stop = threading.Event()
    thread = run_in_thread(runner, stop)
    try:
        deadline = threading.Event()
        for _ in range(200):
            if _count(engine, prescriptions) == 38 and _dead(channel, topology) == 2:
                break
            deadline.wait(0.1)
        assert _count(engine, prescriptions) == 38
        assert _dead(channel, topology) == 2, "the unreadable and the refused message, dead-lettered"
    finally:
        stop.set()
        thread.join(10)
    left = channel.queue_declare(topology.work_queue("intake"), passive=True).method.message_count
    connection.close()
    engine.dispose()
    assert left == 0, "every delivery acked"
    assert max(sizes) > 1, "queued deliveries were applied in batches"
    assert max(sizes) <= 8


def _dead(channel: pika.adapters.blocking_connection.BlockingChannel, topology: Topology) -> int:
    queue = topology.dead_letter_queue
    return int(channel.queue_declare(queue, passive=True).method.message_count)
