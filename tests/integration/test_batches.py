"""A worker applies the deliveries it holds in one transaction; a bad message in a batch costs only itself."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from typing import Any

import pika
import pytest
from prometheus_client import REGISTRY
from pydantic import ValidationError
from sqlalchemy import Engine, event, func, select

from hub.domain.commands import CancelPrescription, Command, ReceivePrescription, RecordClaimResponse
from hub.domain.order_parts import Source
from hub.domain.workflow_commands import FillPrescription, ReceiveInventory, RecordVerification, SendClaim
from hub.entrypoints.runtime import STEP_HANDLERS, workflow_context
from hub.errors import NotFound
from hub.messaging.consumer import ConsumerRunner, run_in_thread, wait_ready
from hub.messaging.envelope import Envelope, order_correlation_id
from hub.messaging.topology import Topology
from hub.persistence.audit import AuditTrail
from hub.persistence.database import create_schema, make_engine
from hub.persistence.outbox_store import OutboxRow
from hub.persistence.tables import audit_log, inventory, outbox, prescriptions, processed_messages
from hub.persistence.users import UserStore
from hub.service.bus import MessageBus
from tests.conftest import make_settings
from tests.integration.test_redelivery import order_for_tests
from tests.support.signing import TEST_KEYS, signed_raw


def _order(n: int) -> Envelope:
    placer = f"BATCH-{uuid.uuid4().hex[:8]}-{n}"
    order = order_for_tests().model_copy(update={"placer_order_number": placer})
    assert isinstance(order, ReceivePrescription)
    return Envelope.wrap(
        order, correlation_id=order_correlation_id("EHR", placer), source=Source.HL7, message_id=uuid.uuid4()
    )


def _take_orders(intake: MessageBus, patients: dict[str, str]) -> None:
    """One batch of new orders, each for its own patient: {placer number: patient's family name}."""
    orders = [
        order_for_tests().model_copy(
            update={
                "placer_order_number": placer,
                "patient": order_for_tests().patient.model_copy(update={"family_name": family}),
            }
        )
        for placer, family in patients.items()
    ]
    assert intake.handle_batch(
        [
            Envelope.wrap(
                o,
                correlation_id=order_correlation_id("EHR", o.placer_order_number),
                source=Source.HL7,
                message_id=uuid.uuid4(),
            )
            for o in orders
        ]
    ) == [None] * len(orders)


def _unknown_prescription() -> Envelope:
    """A pharmacist's approval of a prescription nobody has: the handler fails after the batch began."""
    command = RecordVerification(prescription_id=str(uuid.uuid4()), stage="data", approve=True)
    return Envelope.wrap(command, correlation_id=uuid.uuid4(), source=Source.HUB, message_id=uuid.uuid4())


def _count(engine: Engine, table: object) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def test_a_batch_commits_together_and_hands_its_rows_over_once(database_url: str, amqp_url: str) -> None:
    settings = make_settings(amqp_url, database_url, default_bin="999001")
    engine = make_engine(database_url)
    create_schema(engine)
    handed: list[list[OutboxRow]] = []
    bus = MessageBus(
        engine,
        STEP_HANDLERS["intake"](workflow_context(settings)),
        consumer="intake",
        after_commit=[lambda rows: handed.append(list(rows))],
    )
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
    database_url: str, amqp_url: str
) -> None:
    """The batch marks its messages in one statement and writes its outbox rows and audit entries at the
    end: a second copy of a message in the same batch (a resend published twice) is a duplicate, and every
    applied command's rows are there once, audit entries sealed into the chain."""
    settings = make_settings(amqp_url, database_url, default_bin="999001")
    engine = make_engine(database_url)
    create_schema(engine)
    handed: list[OutboxRow] = []
    bus = MessageBus(
        engine, STEP_HANDLERS["intake"](workflow_context(settings)), consumer="intake", after_commit=[handed.extend]
    )
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
        AuditTrail(engine).seal()  # verify only reads: what the sealer has not reached yet would be pending
        report = AuditTrail(engine).verify()
        assert report.ok and report.checked == _count(engine, audit_log), "entries sealed into the chain"
    finally:
        engine.dispose()


def test_a_failing_message_fails_alone_and_the_rest_apply_once(database_url: str, amqp_url: str) -> None:
    settings = make_settings(amqp_url, database_url, default_bin="999001")
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


def test_a_command_that_cannot_be_decoded_fails_alone_and_the_rest_apply_once(database_url: str, amqp_url: str) -> None:
    """A batch decodes its commands before its transaction (once, for the read-ahead and the handlers)."""
    engine = make_engine(database_url)
    create_schema(engine)
    ctx = workflow_context(make_settings(amqp_url, database_url, default_bin="999001"))
    bus = MessageBus(engine, STEP_HANDLERS["intake"](ctx), consumer="intake")
    good = _order(0)
    broken = good.model_copy(
        update={"message_id": uuid.uuid4(), "payload": {**good.payload, "patient": {"birth_date": "not a date"}}}
    )
    try:
        outcomes = bus.handle_batch([_order(1), broken, _order(2)])
        assert outcomes[0] is None and outcomes[2] is None
        assert isinstance(outcomes[1], ValidationError)
        assert _count(engine, prescriptions) == 2 and _count(engine, processed_messages) == 2
    finally:
        engine.dispose()


def _rows(engine: Engine) -> list[OutboxRow]:
    with engine.connect() as conn:
        return [
            OutboxRow(
                r.id,
                r.target,
                r.routing_key,
                r.message_type,
                r.content_type,
                r.correlation_id,
                r.body,
                dict(r.headers or {}),
            )
            for r in conn.execute(select(outbox))
        ]


def test_the_consumer_hands_over_what_it_holds_and_dead_letters_only_the_bad_one(
    database_url: str, amqp_url: str
) -> None:
    """Forty messages queued before the consumer starts arrive in batches; one unreadable and one that the
    handler refuses are dead-lettered, every other applied exactly once and acked."""
    settings = make_settings(amqp_url, database_url, default_bin="999001")
    topology = Topology(settings.broker_prefix)
    engine = make_engine(database_url)
    create_schema(engine)
    ctx = workflow_context(settings)
    sizes: list[int] = []
    bus = MessageBus(engine, {**STEP_HANDLERS["intake"](ctx), **STEP_HANDLERS["verification"](ctx)}, consumer="intake")

    def batch_handler(envelopes: Sequence[Envelope]) -> list[BaseException | None]:
        sizes.append(len(envelopes))
        return bus.handle_batch(envelopes)

    runner = ConsumerRunner(
        amqp_url=amqp_url,
        topology=topology,
        step="intake",
        handler=bus.handle,
        batch_handler=batch_handler,
        max_batch=8,
        prefetch=32,
        max_retries=0,
        keys=TEST_KEYS,
    )
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
        channel.basic_publish("", topology.work_queue("intake"), body, signed_raw(body, message_id=str(uuid.uuid4())))
    before = _batch_metric()
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
    deliveries, batches = (after - was for after, was in zip(_batch_metric(), before, strict=True))
    assert deliveries == 40, "/metrics counts every delivery taken into a batch"
    assert batches >= len(sizes) and deliveries / batches > 1


def _batch_metric() -> tuple[float, float]:
    """The intake step's rxhub_batch_size sum and count in this process."""
    return tuple(
        REGISTRY.get_sample_value(f"rxhub_batch_size_{part}", {"step": "intake"}) or 0.0 for part in ("sum", "count")
    )  # type: ignore[return-value]


def _dead(channel: pika.adapters.blocking_connection.BlockingChannel, topology: Topology) -> int:
    queue = topology.dead_letter_queue
    return int(channel.queue_declare(queue, passive=True).method.message_count)


def _statements_on(engine: Engine, table: str, verb: str = "SELECT") -> tuple[list[str], Callable[[], None]]:
    """Statements (SELECTs, or ``verb``) on ``table`` the engine runs from now on (an executemany counts once),
    and how to stop counting."""
    seen: list[str] = []
    target = f"FROM {table}" if verb == "SELECT" else f"{verb} {table}"

    def listen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().startswith(verb) and target in statement:
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", listen)
    return seen, lambda: event.remove(engine, "before_cursor_execute", listen)


@pytest.fixture
def steps(database_url: str, amqp_url: str) -> Iterator[tuple[Engine, dict[str, MessageBus]]]:
    """A fresh database and every workflow step's bus on it (payer coverage on file)."""
    settings = make_settings(amqp_url, database_url, default_bin="999001")
    engine = make_engine(database_url)
    create_schema(engine)
    ctx = workflow_context(settings)
    yield engine, {step: MessageBus(engine, make(ctx), consumer=step) for step, make in STEP_HANDLERS.items()}
    engine.dispose()


def test_a_batch_reads_the_prescriptions_its_commands_name_in_one_statement(
    steps: tuple[Engine, dict[str, MessageBus]], caplog: pytest.LogCaptureFixture
) -> None:
    engine, bus = steps
    assert bus["intake"].handle_batch([_order(i) for i in range(6)]) == [None] * 6
    sends = [Envelope.from_bytes(r.body) for r in _rows(engine) if r.message_type == "SendClaim"]
    assert len(sends) == 6
    selects, stop = _statements_on(engine, "prescriptions")
    try:
        with caplog.at_level(logging.INFO, logger="hub.service.bus"):
            assert bus["claim"].handle_batch(sends) == [None] * 6
    finally:
        stop()
    assert len(selects) == 1, selects  # one IN list, not one SELECT per command
    assert "failed" not in caplog.text, "the batch applied as a whole"
    with engine.connect() as conn:
        states = conn.execute(select(prescriptions.c.state)).scalars().all()
    assert len(states) == 6 and len(set(states)) == 1 and states[0] != "received", states


def test_what_a_batch_read_ahead_does_not_hide_what_the_batch_itself_wrote(
    steps: tuple[Engine, dict[str, MessageBus]], caplog: pytest.LogCaptureFixture
) -> None:
    """An order and its cancel, and an order sent twice under new message ids, in one batch: the cancel finds
    the order the batch stored, the second copy is refused as a duplicate order, without the batch failing."""
    engine, bus = steps
    order, twice = _order(0), _order(1)
    placer = order.payload["placer_order_number"]
    cancel = Envelope.wrap(
        CancelPrescription(placer_order_number=placer, control="CA", reason="wrong drug"),
        correlation_id=order.correlation_id,
        source=Source.HL7,
        message_id=uuid.uuid4(),
    )
    resent = twice.model_copy(update={"message_id": uuid.uuid4()})
    with caplog.at_level(logging.INFO, logger="hub.service.bus"):
        assert bus["intake"].handle_batch([order, twice, cancel, resent]) == [None] * 4
    assert "failed" not in caplog.text, "the batch applied as a whole"
    with engine.connect() as conn:
        stored = dict(conn.execute(select(prescriptions.c.placer_order_number, prescriptions.c.state)).all())
        actions = conn.execute(select(audit_log.c.action, audit_log.c.outcome)).all()
    assert len(stored) == 2 and stored[placer] == "cancelled"
    assert stored[twice.payload["placer_order_number"]] != "cancelled"
    assert ("duplicate-order", "refused") in actions


def test_a_batch_reads_each_user_and_each_shelf_once_and_stock_adds_up(
    steps: tuple[Engine, dict[str, MessageBus]],
) -> None:
    """A pharmacist's approvals applied as one batch look the pharmacist up once; fills of one drug applied as
    one batch lock and read its lots once, each fill reserving from what the one before left."""
    engine, bus = steps
    pharmacist, _ = UserStore(engine).add("rph", "pharmacist", licence="RPH-1")
    tech, _ = UserStore(engine).add("tech", "technician")

    def batch(step: str, commands: Sequence[Command], actor: str | None = None) -> None:
        envelopes = [
            Envelope.wrap(
                c,
                correlation_id=uuid.uuid4(),
                source=Source.API if actor else Source.HUB,
                message_id=uuid.uuid4(),
                actor=actor,
            )
            for c in commands
        ]
        assert bus[step].handle_batch(envelopes) == [None] * len(envelopes)

    batch("fill", [ReceiveInventory(ndc="00093005801", lot="L1", expiry="2030-01-01", quantity=Decimal(100))], tech.id)
    _take_orders(bus["intake"], {f"SHELF-{n}": f"Synthetic{n}" for n in range(4)})
    with engine.connect() as conn:
        ids = list(conn.execute(select(prescriptions.c.id)).scalars())
    batch("claim", [SendClaim(prescription_id=p, fill_number=0, attempt=1) for p in ids])
    batch(
        "claim-responses",
        [
            RecordClaimResponse(
                exchange_id=f"{p}:0:1:B1",
                prescription_id=p,
                fill_number=0,
                attempt=1,
                transaction="B1",
                status="P",
                total_paid=Decimal("4.15"),
                patient_pay=Decimal("4.15"),
            )
            for p in ids
        ],
    )
    users, stop_users = _statements_on(engine, "users")
    try:
        batch(
            "verification",
            [RecordVerification(prescription_id=p, stage="data", approve=True) for p in ids],
            pharmacist.id,
        )
    finally:
        stop_users()
    assert len(users) == 1, users
    shelves, stop_shelves = _statements_on(engine, "inventory")
    counts, stop_counts = _statements_on(engine, "inventory", "UPDATE")
    saves, stop_saves = _statements_on(engine, "prescriptions", "UPDATE")
    try:
        batch("fill", [FillPrescription(prescription_id=p, fill_number=0) for p in ids])
    finally:
        stop_shelves()
        stop_counts()
        stop_saves()
    assert len(shelves) == 1, shelves
    assert len(counts) == 1, "the lot's counts written once, with the last fill's"
    assert len(saves) == 1, "the batch's prescriptions saved in one statement"
    with engine.connect() as conn:
        stock = conn.execute(select(inventory.c.on_hand, inventory.c.reserved)).one()
        states = set(conn.execute(select(prescriptions.c.state)).scalars())
    assert (stock[0], stock[1]) == (100, 80), "four fills of 20 reserved, each once"
    assert states == {"product_verification"}, states


def test_a_batch_of_new_orders_draws_its_rx_numbers_together_each_unique_and_in_order(
    steps: tuple[Engine, dict[str, MessageBus]],
) -> None:
    engine, bus = steps
    drawn: list[str] = []

    def listen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "nextval" in statement:
            drawn.append(statement)

    orders = [_order(n) for n in range(5)]
    event.listen(engine, "before_cursor_execute", listen)
    try:
        assert bus["intake"].handle_batch(orders) == [None] * 5
        assert bus["intake"].handle_batch([_order(9)]) == [None]  # alone: one number, as before
        tech, _ = UserStore(engine).add("tech", "technician")
        receipts = [
            Envelope.wrap(
                ReceiveInventory(ndc="00093005801", lot=f"L{n}", expiry="2030-01-01", quantity=Decimal(10)),
                correlation_id=uuid.uuid4(),
                source=Source.API,
                message_id=uuid.uuid4(),
                actor=tech.id,
            )
            for n in range(3)
        ]
        assert bus["fill"].handle_batch(receipts) == [None] * 3  # no prescription in them: no Rx number drawn
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    with engine.connect() as conn:
        numbers = dict(conn.execute(select(prescriptions.c.placer_order_number, prescriptions.c.rx_number)).all())
    in_batch = [int(numbers[o.payload["placer_order_number"]]) for o in orders]
    assert in_batch == sorted(set(in_batch)), "unique, increasing in the batch's order"
    assert len(set(numbers.values())) == 6
    if engine.dialect.name == "postgresql":
        assert len(drawn) == 2, drawn  # one statement for the batch of five, one for the lone order


def test_a_batch_of_claims_reads_its_patients_in_one_statement_each_claim_its_own(
    steps: tuple[Engine, dict[str, MessageBus]],
) -> None:
    engine, bus = steps
    _take_orders(bus["intake"], {f"PAT-{n}": f"Synthetic{'ABCD'[n]}" for n in range(4)})
    sends = [Envelope.from_bytes(r.body) for r in _rows(engine) if r.message_type == "SendClaim"]
    patients_read, stop = _statements_on(engine, "patients")
    try:
        assert bus["claim"].handle_batch(sends) == [None] * 4
    finally:
        stop()
    assert len(patients_read) == 1, patients_read
    with engine.connect() as conn:
        names = dict(conn.execute(select(prescriptions.c.id, prescriptions.c.placer_order_number)).all())
    claims = [r for r in _rows(engine) if r.target == "payer"]
    assert len(claims) == 4
    for claim in claims:
        placer = names[claim.correlation_id.split(":")[0]]
        family = f"Synthetic{'ABCD'[int(placer.split('-')[1])]}".upper()
        assert family in claim.body.decode("latin-1").upper(), (placer, claim.body[:200])
        others = {f"Synthetic{c}".upper() for c in "ABCD"} - {family}
        assert not any(other in claim.body.decode("latin-1").upper() for other in others)


def _paced_run(amqp_url: str, database_url: str, *, linger_s: float, gaps: list[float]) -> list[tuple[int, float]]:
    """Publishes one order per gap (waiting the gap first) to a consumer lingering ``linger_s``; each batch's
    size and when it began, counted from the first publish."""
    settings = make_settings(amqp_url, database_url, default_bin="999001")
    topology = Topology(settings.broker_prefix)
    engine = make_engine(database_url)
    create_schema(engine)
    bus = MessageBus(engine, STEP_HANDLERS["intake"](workflow_context(settings)), consumer="intake")
    batches: list[tuple[int, float]] = []
    clock: list[float] = []

    def batch_handler(envelopes: Sequence[Envelope]) -> list[BaseException | None]:
        batches.append((len(envelopes), time.monotonic() - clock[0]))
        return bus.handle_batch(envelopes)

    runner = ConsumerRunner(
        amqp_url=amqp_url,
        topology=topology,
        step="intake",
        handler=bus.handle,
        batch_handler=batch_handler,
        max_batch=4,
        prefetch=32,
        max_retries=0,
        linger_s=linger_s,
        keys=TEST_KEYS,
    )
    stop = threading.Event()
    thread = run_in_thread(runner, stop)
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        assert wait_ready([runner])
        channel = connection.channel()
        for gap in gaps:
            time.sleep(gap)
            clock.append(time.monotonic())
            body = _order(len(clock)).to_bytes()
            channel.basic_publish(
                "", topology.work_queue("intake"), body, signed_raw(body, message_id=str(uuid.uuid4()))
            )
        for _ in range(300):
            if _count(engine, prescriptions) == len(gaps):
                break
            time.sleep(0.05)
        assert _count(engine, prescriptions) == len(gaps)
    finally:
        stop.set()
        thread.join(10)
        connection.close()
        engine.dispose()
    return batches


def test_orders_that_keep_coming_wait_for_company_and_share_a_transaction(database_url: str, amqp_url: str) -> None:
    """Orders 10 ms apart, each of which alone would be a batch of one: while they keep coming the worker
    waits (here up to 2 s) until it holds four."""
    batches = _paced_run(amqp_url, database_url, linger_s=2.0, gaps=[0.0] + [0.01] * 12)
    assert sum(size for size, _ in batches) == 13
    assert batches[0][0] == 1, "the first order of a quiet queue goes alone, at once"
    assert [size for size, _ in batches[1:]] == [4, 4, 4], "then batches of four"


def test_a_lone_order_on_a_quiet_queue_does_not_wait_for_company(database_url: str, amqp_url: str) -> None:
    """With a 5 s linger, orders a second apart are each handled alone and long before the linger would
    end: nobody waits for company that is not coming."""
    batches = _paced_run(amqp_url, database_url, linger_s=5.0, gaps=[0.0, 1.0, 1.0])
    assert [size for size, _ in batches] == [1, 1, 1]
    assert batches[-1][1] < 4.0, "the last order did not wait out the 5 s linger"


def test_a_delivery_in_the_middle_of_a_batch_of_fills_is_counted_and_seen_by_the_fills_after_it(
    steps: tuple[Engine, dict[str, MessageBus]],
) -> None:
    """Fills and deliveries share the fill queue, so one batch can hold both. The shelf a batch read before
    a delivery is stale after it: written back (absolute counts), it would erase the delivery."""
    engine, bus = steps
    pharmacist, _ = UserStore(engine).add("rph", "pharmacist", licence="RPH-1")
    tech, _ = UserStore(engine).add("tech", "technician")

    def envelope(command: Command, actor: str | None = None) -> Envelope:
        return Envelope.wrap(
            command,
            correlation_id=uuid.uuid4(),
            source=Source.API if actor else Source.HUB,
            message_id=uuid.uuid4(),
            actor=actor,
        )

    def batch(step: str, envelopes: list[Envelope]) -> None:
        assert bus[step].handle_batch(envelopes) == [None] * len(envelopes)

    batch(
        "fill",
        [envelope(ReceiveInventory(ndc="00093005801", lot="L1", expiry="2030-01-01", quantity=Decimal(100)), tech.id)],
    )
    _take_orders(bus["intake"], {f"MIDDLE-{n}": f"Synthetic{n}" for n in range(3)})
    with engine.connect() as conn:
        ids = list(conn.execute(select(prescriptions.c.id).order_by(prescriptions.c.placer_order_number)).scalars())
    batch("claim", [envelope(SendClaim(prescription_id=p, fill_number=0, attempt=1)) for p in ids])
    batch(
        "claim-responses",
        [
            envelope(
                RecordClaimResponse(
                    exchange_id=f"{p}:0:1:B1",
                    prescription_id=p,
                    fill_number=0,
                    attempt=1,
                    transaction="B1",
                    status="P",
                    total_paid=Decimal("4.15"),
                    patient_pay=Decimal("4.15"),
                )
            )
            for p in ids
        ],
    )
    batch(
        "verification",
        [envelope(RecordVerification(prescription_id=p, stage="data", approve=True), pharmacist.id) for p in ids],
    )
    more = ReceiveInventory(ndc="00093005801", lot="L1", expiry="2030-01-01", quantity=Decimal(50))
    sooner = ReceiveInventory(ndc="0093-0058-01", lot="L0", expiry="2029-01-01", quantity=Decimal(10))
    batch(
        "fill",
        [
            envelope(FillPrescription(prescription_id=ids[0], fill_number=0)),
            envelope(more, tech.id),
            envelope(sooner, tech.id),
            envelope(FillPrescription(prescription_id=ids[1], fill_number=0)),
            envelope(FillPrescription(prescription_id=ids[2], fill_number=0)),
        ],
    )
    with engine.connect() as conn:
        stock = {
            lot: (on_hand, reserved)
            for lot, on_hand, reserved in conn.execute(
                select(inventory.c.lot, inventory.c.on_hand, inventory.c.reserved).where(
                    inventory.c.ndc == "00093005801"
                )
            )
        }
    # the first fill took 20 of L1; the second, after the deliveries, the 10 of L0 (first to expire) and 10 of
    # L1; the third 20 of L1
    assert stock == {"L1": (150, 50), "L0": (10, 10)}, stock
