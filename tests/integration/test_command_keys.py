"""The command key in the database, the relay signing what it publishes, and a retry keeping its signature."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import Engine, func, select

from hub.config import Settings
from hub.domain.commands import ReceivePrescription
from hub.domain.events import PrescriptionUpdated
from hub.domain.order_parts import DrugInfo, PatientInfo, PrescriberInfo, Source
from hub.errors import TransientError, UnauthenticatedCommand
from hub.messaging.async_publisher import OutgoingMessage
from hub.messaging.blocking_publisher import BlockingConfirmingPublisher, connect
from hub.messaging.consumer import ConsumerRunner, run_in_thread
from hub.messaging.envelope import Envelope, order_correlation_id
from hub.messaging.outbox_relay import OutboxRelay
from hub.messaging.topology import Topology, declare
from hub.persistence.database import make_engine
from hub.persistence.outbox_store import OutboxStore
from hub.persistence.tables import hub_secrets
from hub.persistence.unit_of_work import unit_of_work
from hub.security.command_signing import SIGNATURE_HEADER, CommandKeys, command_keys
from tests.support.signing import TEST_KEYS, signed


def _order(placer: str) -> Envelope:
    command = ReceivePrescription(
        placer_order_number=placer, patient=PatientInfo(), prescriber=PrescriberInfo(), drug=DrugInfo(ndc="1")
    )
    return Envelope.wrap(command, correlation_id=order_correlation_id("T", placer), source=Source.HUB)


def test_without_a_setting_every_process_on_the_database_gets_the_same_stored_key(
    engine: Engine, database_url: str
) -> None:
    settings = Settings(database_url=database_url)
    engines = [make_engine(database_url) for _ in range(4)]  # as many processes starting at once
    try:
        with ThreadPoolExecutor(4) as pool:
            kids = set(pool.map(lambda e: command_keys(settings, e).signing_kid, engines))
    finally:
        for other in engines:
            other.dispose()
    assert len(kids) == 1
    later = command_keys(settings, engine)
    assert later.signing_kid in kids
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(hub_secrets)).scalar_one() == 1
    body = _order("P1").to_bytes()
    assert command_keys(settings, engine).verify(body, later.headers(body)) == later.signing_kid
    with pytest.raises(UnauthenticatedCommand, match="unknown key id"):
        TEST_KEYS.verify(body, later.headers(body))


class Recording:
    """A BatchPublisher that confirms everything and keeps what it was given."""

    def __init__(self) -> None:
        self.messages: list[OutgoingMessage] = []

    def publish_each(self, messages: list[OutgoingMessage]) -> list[BaseException | None]:
        self.messages.extend(messages)
        return [None] * len(messages)

    def close(self) -> None:
        pass


def test_the_relay_signs_commands_and_delayed_commands_over_the_published_bytes(engine: Engine) -> None:
    command, delayed = _order("P2"), _order("P3")
    with unit_of_work(engine) as uow:
        uow.add_command(command)
        uow.add_raw(
            row_id=str(delayed.message_id),
            target="delay",
            routing_key="t.claim-resend",
            message_type=delayed.type,
            content_type="application/json",
            correlation_id=str(delayed.correlation_id),
            body=delayed.to_bytes(),
        )
        uow.add_event(
            PrescriptionUpdated(prescription_id="rx", rx_number="1", state="filling", change="c"),
            correlation_id=uuid.uuid4(),
        )
    rotated = CommandKeys(["a-newer-command-key-0123456789", "tests-only-command-key-0123456789"])
    publisher = Recording()
    assert OutboxRelay(OutboxStore(engine), publisher, Topology("t"), keys=rotated).drain_once() == 3
    by_target = {m.exchange: m for m in publisher.messages}
    for message in (by_target["t.commands"], by_target[""]):
        assert rotated.verify(message.body, message.properties.headers) == rotated.signing_kid
        with pytest.raises(UnauthenticatedCommand, match="unknown key id"):  # a process not yet rotated
            TEST_KEYS.verify(message.body, message.properties.headers)
    assert SIGNATURE_HEADER not in (by_target["t.events"].properties.headers or {}), "events are not commands"


def test_a_command_retried_after_a_transient_failure_keeps_its_signature(settings: Settings) -> None:
    topology = Topology(prefix=settings.broker_prefix, retry_delay_ms=settings.retry_delay_ms)
    amqp_url = settings.amqp_url.get_secret_value()
    conn = connect(amqp_url)
    declare(conn.channel(), topology)
    conn.close()
    attempts: list[str] = []
    applied = threading.Event()

    def handler(envelope: Envelope) -> None:
        attempts.append(envelope.payload["placer_order_number"])
        if len(attempts) == 1:
            raise TransientError("database busy")
        applied.set()

    stop = threading.Event()
    runner = ConsumerRunner(
        amqp_url=amqp_url, topology=topology, step="intake", handler=handler, keys=TEST_KEYS, max_retries=2
    )
    thread = run_in_thread(runner, stop)
    publisher = BlockingConfirmingPublisher(amqp_url)
    try:
        order = _order("RETRIED")
        publisher.publish(OutgoingMessage(topology.commands_exchange, order.type, *signed(order)))
        assert applied.wait(20), "the retry came back signed and was applied"
    finally:
        stop.set()
        thread.join(5)
        publisher.close()
    assert attempts == ["RETRIED", "RETRIED"]


def test_a_runner_of_commands_cannot_be_made_without_the_keys() -> None:
    with pytest.raises(ValueError, match="command keys"):
        ConsumerRunner(amqp_url="amqp://", topology=Topology("t"), step="intake", handler=lambda _e: None)
