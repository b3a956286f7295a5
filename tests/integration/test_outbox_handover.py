"""The relay publishes what its handlers committed from memory, and the table only for what nobody holds:
every row leaves, none twice, and a relay never takes the fresh rows another process's relay is publishing."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select, update

from hub.domain.events import PrescriptionUpdated
from hub.errors import BrokerUnavailable, DatabaseUnavailable
from hub.messaging.async_publisher import OutgoingMessage
from hub.messaging.blocking_publisher import BlockingConfirmingPublisher
from hub.messaging.outbox_relay import OutboxRelay
from hub.messaging.pipelined_publisher import PipelinedPublisher
from hub.messaging.topology import Topology, declare
from hub.persistence.database import create_schema, make_engine
from hub.persistence.outbox_store import OutboxRow, OutboxStore
from hub.persistence.tables import outbox
from hub.persistence.unit_of_work import unit_of_work
from tests.conftest import make_settings
from tests.support.events import EventSubscriber
from tests.support.signing import TEST_KEYS


class CountingPublisher:
    """The real pipelined publisher, counting what it was asked to publish; ``fail_next`` batches fail as when
    the broker is down."""

    def __init__(self, amqp_url: str) -> None:
        self.real = PipelinedPublisher(amqp_url)
        self.asked: list[str] = []
        self.fail_next = 0

    def publish_each(self, messages: list[OutgoingMessage]) -> list[BaseException | None]:
        if self.fail_next:
            self.fail_next -= 1
            raise BrokerUnavailable("broker went away (test)")
        self.asked.extend(str(m.properties.message_id) for m in messages)
        return self.real.publish_each(messages)

    def close(self) -> None:
        self.real.close()


@pytest.fixture
def world(database_url: str, amqp_url: str) -> Iterator[tuple[Engine, Topology, str]]:
    settings = make_settings(amqp_url, database_url)
    topology = Topology(settings.broker_prefix)
    publisher = BlockingConfirmingPublisher(amqp_url)
    declare(publisher._ensure(), topology)
    publisher.close()
    engine = make_engine(database_url)
    create_schema(engine)
    yield engine, topology, amqp_url
    engine.dispose()


def _commit_events(engine: Engine, n: int) -> tuple[list[str], list[OutboxRow]]:
    subject = str(uuid.uuid4())
    with unit_of_work(engine) as uow:
        ids = [
            uow.add_event(
                PrescriptionUpdated(prescription_id=subject, rx_number="1", state="filling", change=f"change {i}"),
                correlation_id=uuid.uuid4(),
            )
            for i in range(n)
        ]
    return ids, uow.written


def _backlog_after(store: OutboxStore, stop: threading.Event, timeout_s: float) -> int:
    """The outbox backlog once it is empty, or when ``timeout_s`` is up."""
    deadline = datetime.now(UTC) + timedelta(seconds=timeout_s)
    while store.backlog() and datetime.now(UTC) < deadline:
        stop.wait(0.05)
    return store.backlog()


def _run(relay: OutboxRelay) -> tuple[threading.Event, threading.Thread]:
    stop = threading.Event()
    thread = threading.Thread(target=relay.run, args=(stop,), daemon=True)
    thread.start()
    return stop, thread


def test_handed_over_rows_leave_once_from_memory_and_are_marked_sent(world: tuple[Engine, Topology, str]) -> None:
    engine, topology, amqp_url = world
    sub = EventSubscriber(amqp_url, topology.events_exchange, "prescription.updated")
    publisher = CountingPublisher(amqp_url)
    store = OutboxStore(engine)
    # orphan_after 0: the poll may take any unpublished row, so only the relay's own bookkeeping keeps a
    # handed-over row from leaving twice
    relay = OutboxRelay(store, publisher, topology, keys=TEST_KEYS, interval_s=0.01, orphan_after_s=0.0)
    stop, thread = _run(relay)
    try:
        ids: list[str] = []
        for _ in range(20):
            batch, written = _commit_events(engine, 3)
            assert [row.id for row in written] == batch
            relay.hand_over(written)
            ids += batch
        events = sub.collect(lambda got: len(got) >= len(ids), timeout_s=20)
        sub.drain(quiet_s=0.5)
        assert _backlog_after(store, stop, 10) == 0, "every published row is marked sent"
    finally:
        stop.set()
        thread.join(10)
        sub.close()
    delivered = [e["id"] for e in sub.events]
    assert sorted(delivered) == sorted(ids), "each event delivered exactly once"
    assert sorted(publisher.asked) == sorted(ids), "nothing published twice by the hand-over and the poll"
    assert len(events) >= len(ids)


def test_the_poll_leaves_fresh_rows_to_their_own_relay_and_takes_orphans(world: tuple[Engine, Topology, str]) -> None:
    engine, topology, amqp_url = world
    publisher = CountingPublisher(amqp_url)
    store = OutboxStore(engine)
    relay = OutboxRelay(store, publisher, topology, keys=TEST_KEYS, orphan_after_s=30.0)
    try:
        fresh, _ = _commit_events(engine, 2)  # committed by "another process" that has them in memory
        assert relay.drain_once() == 0 and publisher.asked == []
        orphans, _ = _commit_events(engine, 2)  # ...and rows whose process died a minute ago
        with engine.begin() as conn:
            conn.execute(
                update(outbox)
                .where(outbox.c.id.in_(orphans))
                .values(created_at=datetime.now(UTC) - timedelta(minutes=1))
            )
        assert relay.drain_once() == 2
        assert sorted(publisher.asked) == sorted(orphans)
        assert store.backlog() == len(fresh)
    finally:
        publisher.close()


def test_a_hand_over_that_comes_after_the_poll_took_its_rows_is_dropped(world: tuple[Engine, Topology, str]) -> None:
    """A handler's hand-over can lag its commit (here: the poll runs in between), as when its transaction
    outlasted ``orphan_after_s``: the rows left once, from the table, and must not leave again."""
    engine, topology, amqp_url = world
    publisher = CountingPublisher(amqp_url)
    store = OutboxStore(engine)
    relay = OutboxRelay(store, publisher, topology, keys=TEST_KEYS, orphan_after_s=0.0)
    try:
        ids, written = _commit_events(engine, 3)
        assert relay.drain_once() == 3
        relay.hand_over(written)
        assert relay.relay_handed() == 0
        assert sorted(publisher.asked) == sorted(ids), "published once, by the poll"
        later, written_later = _commit_events(engine, 2)
        relay.hand_over(written_later)  # in time: the hand-over publishes them and the poll leaves them
        assert relay.relay_handed() == 2 and relay.drain_once() == 0
        assert sorted(publisher.asked) == sorted(ids + later)
    finally:
        publisher.close()


def test_rows_whose_hand_over_failed_are_published_by_the_poll(world: tuple[Engine, Topology, str]) -> None:
    engine, topology, amqp_url = world
    sub = EventSubscriber(amqp_url, topology.events_exchange, "prescription.updated")
    publisher = CountingPublisher(amqp_url)
    publisher.fail_next = 1
    store = OutboxStore(engine)
    relay = OutboxRelay(store, publisher, topology, keys=TEST_KEYS, interval_s=0.05, orphan_after_s=0.5)
    ids, written = _commit_events(engine, 4)
    relay.hand_over(written)
    stop, thread = _run(relay)
    try:
        sub.collect(lambda got: len(got) >= len(ids), timeout_s=20)
        sub.drain(quiet_s=0.5)
    finally:
        stop.set()
        thread.join(10)
        sub.close()
    assert sorted(e["id"] for e in sub.events) == sorted(ids), "the failed batch left once, from the table"
    assert store.backlog() == 0


class FlakyStore(OutboxStore):
    """The database goes away the first time a refused row is parked."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        self.failures = 1

    def mark_failed(self, row_id: str, error: str) -> None:
        if self.failures:
            self.failures -= 1
            raise DatabaseUnavailable("database went away (test)")
        super().mark_failed(row_id, error)


def test_a_database_error_while_parking_a_refused_row_strands_none_of_its_batch(
    world: tuple[Engine, Topology, str],
) -> None:
    engine, topology, amqp_url = world
    publisher = CountingPublisher(amqp_url)
    store = FlakyStore(engine)
    relay = OutboxRelay(store, publisher, topology, keys=TEST_KEYS, interval_s=0.05, orphan_after_s=0.5)
    ids, written = _commit_events(engine, 3)
    # the middle row is a command nothing is bound to: the broker returns it (mandatory), for good
    with engine.begin() as conn:
        conn.execute(update(outbox).where(outbox.c.id == ids[1]).values(target="commands", routing_key="Nowhere"))
    written[1] = replace(written[1], target="commands", routing_key="Nowhere")
    relay.hand_over(written)
    stop, thread = _run(relay)
    try:
        assert _backlog_after(store, stop, 15) == 0, "the confirmed rows are marked sent and the refused one parked"
    finally:
        stop.set()
        thread.join(10)
    with engine.connect() as conn:
        errors = dict(conn.execute(select(outbox.c.id, outbox.c.error).where(outbox.c.id.in_(ids))).all())
    assert errors[ids[0]] is None and errors[ids[2]] is None
    assert errors[ids[1]], "parked with the broker's reason"


@pytest.mark.parametrize("path", ["handed over", "polled"])
def test_a_nacked_row_is_published_later_not_parked(world: tuple[Engine, Topology, str], path: str) -> None:
    """A quorum queue nacks publishes while it has no leader (a node died): passing trouble, unlike a return.
    Here a full queue with ``reject-publish`` makes the broker nack the middle row until the queue is replaced.
    """
    engine, topology, amqp_url = world
    store = OutboxStore(engine)
    publisher = CountingPublisher(amqp_url)
    relay = OutboxRelay(store, publisher, topology, keys=TEST_KEYS, interval_s=0.05, orphan_after_s=0.0)
    key, queue = f"Nacked{uuid.uuid4().hex[:6]}", f"{topology.prefix}.nacking-{uuid.uuid4().hex[:6]}"
    admin = BlockingConfirmingPublisher(amqp_url)
    channel = admin._ensure()
    channel.queue_declare(queue, durable=True, arguments={"x-max-length": 0, "x-overflow": "reject-publish"})
    channel.queue_bind(queue, topology.commands_exchange, key)
    ids, written = _commit_events(engine, 3)
    with engine.begin() as conn:
        conn.execute(update(outbox).where(outbox.c.id == ids[1]).values(target="commands", routing_key=key))
    written[1] = replace(written[1], target="commands", routing_key=key)
    if path == "handed over":
        relay.hand_over(written)
    stop, thread = _run(relay)
    try:
        deadline = datetime.now(UTC) + timedelta(seconds=60)
        while publisher.asked.count(ids[1]) < 3 and not _parked(engine, ids[1]) and datetime.now(UTC) < deadline:
            threading.Event().wait(0.05)
        assert not _parked(engine, ids[1]), "a nack parks nothing"
        assert publisher.asked.count(ids[1]) >= 3, "the nacked row is tried again"
        channel.queue_delete(queue)
        channel.queue_declare(queue, durable=True)
        channel.queue_bind(queue, topology.commands_exchange, key)
        assert _backlog_after(store, stop, 30) == 0, "the nacked row left once the broker took it"
    finally:
        stop.set()
        thread.join(10)
        channel.queue_delete(queue)
        admin.close()


def _parked(engine: Engine, row_id: str) -> bool:
    with engine.connect() as conn:
        return conn.execute(select(outbox.c.error).where(outbox.c.id == row_id)).scalar_one() is not None


def test_database_trouble_reaches_the_relay_as_unavailable() -> None:
    """The relay logs DatabaseUnavailable as a warning and backs off; a raw driver error was a traceback per
    poll for as long as a failover lasted."""
    store = OutboxStore(make_engine("postgresql+psycopg://postgres@127.0.0.1:1/nowhere?connect_timeout=2"))
    with pytest.raises(DatabaseUnavailable):
        store.mark_published(["a"])
    with pytest.raises(DatabaseUnavailable):
        with store.claim(10) as (rows, _record):
            assert rows == []
