"""An outbox relay that dies between a confirmed publish and marking the row sent: the row leaves again
under the same message id, so subscribers (and workers, by their idempotency record) apply it once.

The crash is a publisher with the real interface that publishes for real and then ends the relay with a
BaseException, as a SIGKILL would end the process: ``mark_published`` never covers the row it just sent.
(The chaos run kills whole worker processes; its report counts the same-id copies this produces.)
"""

from __future__ import annotations

import uuid

import pytest

from hub.domain.events import PrescriptionUpdated
from hub.messaging.async_publisher import OutgoingMessage
from hub.messaging.blocking_publisher import BlockingConfirmingPublisher
from hub.messaging.outbox_relay import OutboxRelay
from hub.messaging.topology import Topology, declare
from hub.persistence.database import create_schema, make_engine
from hub.persistence.outbox_store import OutboxStore
from hub.persistence.unit_of_work import unit_of_work
from tests.conftest import make_settings
from tests.support.events import EventSubscriber
from tests.support.signing import TEST_KEYS


class ProcessDied(BaseException):
    """The relay's process is gone (BaseException: nothing in the relay may catch it)."""


class DiesAfterPublishing:
    """Publishes through a real confirming publisher, then dies right after the n-th confirm."""

    def __init__(self, real: BlockingConfirmingPublisher, die_after: int) -> None:
        self._real = real
        self._left = die_after

    def publish_each(self, messages: list[OutgoingMessage]) -> list[BaseException | None]:
        for message in messages:
            self._real.publish(message)
            self._left -= 1
            if self._left == 0:
                raise ProcessDied
        return [None] * len(messages)

    def close(self) -> None:
        self._real.close()


def test_a_crash_between_publish_and_mark_sent_republishes_under_the_same_id(database_url: str, amqp_url: str) -> None:
    settings = make_settings(amqp_url, database_url)
    topology = Topology(settings.broker_prefix)
    engine = make_engine(database_url)
    create_schema(engine)
    publisher = BlockingConfirmingPublisher(amqp_url)
    declare(publisher._ensure(), topology)
    sub = EventSubscriber(amqp_url, topology.events_exchange, "prescription.updated")
    subject = str(uuid.uuid4())
    with unit_of_work(engine) as uow:
        ids = [
            uow.add_event(
                PrescriptionUpdated(prescription_id=subject, rx_number="1", state="filling", change=f"change {i}"),
                correlation_id=uuid.uuid4(),
            )
            for i in range(5)
        ]
    store = OutboxStore(engine)
    try:
        with pytest.raises(ProcessDied):
            OutboxRelay(store, DiesAfterPublishing(publisher, 3), topology, keys=TEST_KEYS).drain_once()  # type: ignore[arg-type]
        # the batch is marked only once every row of it is confirmed: 3 published, none marked
        left = store.backlog()
        assert left == 5
        assert OutboxRelay(store, BlockingConfirmingPublisher(amqp_url), topology, keys=TEST_KEYS).drain_once() == left
        assert store.backlog() == 0
        sub.collect(lambda ev: len(ev) >= 5 + left - 2, timeout_s=10)
        sub.drain(quiet_s=1.0)
    finally:
        sub.close()
        publisher.close()
        engine.dispose()
    delivered = [e["id"] for e in sub.events]
    assert sorted(set(delivered)) == sorted(ids), "nothing lost: every event id delivered"
    assert delivered.count(ids[2]) == 2, "the row in flight at the crash left twice, under the same id"
    assert [delivered.count(i) for i in ids[3:]] == [1, 1], "rows never published before left once"
    assert len(delivered) == 5 + left - 2, "the only copies are rows published before the crash"
