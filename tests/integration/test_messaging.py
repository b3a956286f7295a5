"""The confirming publishers and the consumer runner against the real broker."""

from __future__ import annotations

import asyncio
import threading
import uuid

import pytest

from hub.config import Settings
from hub.domain.commands import ReceivePrescription
from hub.domain.order_parts import DrugInfo, PatientInfo, PrescriberInfo, Source
from hub.errors import BrokerUnavailable, DatabaseUnavailable, PublishNotConfirmed, TransientError
from hub.messaging.amqp_properties import raw_properties
from hub.messaging.async_publisher import AsyncConfirmingPublisher, OutgoingMessage
from hub.messaging.blocking_publisher import BlockingConfirmingPublisher, connect
from hub.messaging.command_sink import AmqpCommandSink
from hub.messaging.consumer import ConsumerRunner, run_in_thread
from hub.messaging.envelope import Envelope, order_correlation_id
from hub.messaging.topology import Topology, declare
from tests.support.signing import TEST_KEYS, signed, signed_raw


def _envelope(placer: str = "P1") -> Envelope:
    command = ReceivePrescription(
        placer_order_number=placer, patient=PatientInfo(), prescriber=PrescriberInfo(), drug=DrugInfo(ndc="1")
    )
    return Envelope.wrap(command, correlation_id=order_correlation_id("T", placer), source=Source.HL7)


def _declared(settings: Settings) -> Topology:
    topology = Topology(prefix=settings.broker_prefix, retry_delay_ms=settings.retry_delay_ms)
    conn = connect(settings.amqp_url.get_secret_value())
    declare(conn.channel(), topology)
    conn.close()
    return topology


def _queue_depth(settings: Settings, queue: str) -> int:
    conn = connect(settings.amqp_url.get_secret_value())
    try:
        return int(conn.channel().queue_declare(queue, passive=True).method.message_count)
    finally:
        conn.close()


def test_async_publisher_confirms_many_in_flight(settings: Settings) -> None:
    topology = _declared(settings)

    async def go() -> None:
        publisher = AsyncConfirmingPublisher(settings.amqp_url.get_secret_value())
        await publisher.start()
        sink = AmqpCommandSink(publisher, topology, TEST_KEYS)
        await asyncio.gather(*(sink.publish_commands([_envelope(f"P{i}")]) for i in range(200)))
        await publisher.close()

    asyncio.run(go())
    assert _queue_depth(settings, topology.work_queue("intake")) == 200


def test_async_publisher_reports_unroutable_as_not_confirmed(settings: Settings) -> None:
    topology = _declared(settings)

    async def go() -> None:
        publisher = AsyncConfirmingPublisher(settings.amqp_url.get_secret_value())
        await publisher.start()
        props = raw_properties(str(uuid.uuid4()), content_type="application/json", message_type="X")
        with pytest.raises(PublishNotConfirmed, match="unroutable"):
            await publisher.publish_all([OutgoingMessage(topology.commands_exchange, "NoSuchCommand", b"{}", props)])
        # the publisher stays usable after a refusal
        env = _envelope()
        await publisher.publish_all([OutgoingMessage(topology.commands_exchange, env.type, *signed(env))])
        await publisher.close()

    asyncio.run(go())


def test_async_publisher_without_broker_raises_broker_unavailable() -> None:
    async def go() -> None:
        publisher = AsyncConfirmingPublisher("amqp://guest:guest@127.0.0.1:1/%2F", connect_timeout_s=1.0)
        with pytest.raises(BrokerUnavailable):
            await publisher.start()
        await publisher.close()

    asyncio.run(go())


def test_blocking_publisher_detects_unroutable(settings: Settings) -> None:
    topology = _declared(settings)
    publisher = BlockingConfirmingPublisher(settings.amqp_url.get_secret_value())
    props = raw_properties("x", content_type="application/json", message_type="X")
    with pytest.raises(PublishNotConfirmed):
        publisher.publish(OutgoingMessage(topology.commands_exchange, "Nope", b"{}", props))
    publisher.close()


def test_failing_handler_retries_then_dead_letters_and_the_consumer_goes_on(settings: Settings) -> None:
    topology = _declared(settings)
    seen: list[str] = []
    attempts: dict[str, int] = {}

    def handler(envelope: Envelope) -> None:
        placer = envelope.payload["placer_order_number"]
        attempts[placer] = attempts.get(placer, 0) + 1
        if placer == "POISON":
            raise TransientError("payer unreachable")
        seen.append(placer)

    stop = threading.Event()
    runner = ConsumerRunner(
        amqp_url=settings.amqp_url.get_secret_value(),
        topology=topology,
        step="intake",
        handler=handler,
        prefetch=5,
        max_retries=2,
        keys=TEST_KEYS,
    )
    thread = run_in_thread(runner, stop)
    publisher = BlockingConfirmingPublisher(settings.amqp_url.get_secret_value())
    for placer in ("A", "POISON", "B", "C"):
        env = _envelope(placer)
        publisher.publish(OutgoingMessage(topology.commands_exchange, env.type, *signed(env)))
    conn = connect(settings.amqp_url.get_secret_value())
    channel = conn.channel()
    dead = None
    for _ in range(100):
        method, props, body = channel.basic_get(topology.dead_letter_queue, auto_ack=True)
        if method is not None:
            dead = (props, body)
            break
        conn.sleep(0.1)
    stop.set()
    thread.join(5)
    publisher.close()
    conn.close()
    assert seen == ["A", "B", "C"], "the messages behind the poison one were handled"
    assert attempts["POISON"] == 3, "first attempt plus two retries"
    assert dead is not None
    headers = dead[0].headers
    assert headers["x-rxhub-failure-kind"] == "transient_exhausted"
    assert "payer unreachable" in headers["x-rxhub-error"]
    assert headers["x-rxhub-retries"] == 2
    assert Envelope.from_bytes(dead[1]).payload["placer_order_number"] == "POISON"


def test_undecodable_message_is_dead_lettered_at_once(settings: Settings) -> None:
    topology = _declared(settings)
    calls: list[object] = []
    stop = threading.Event()
    runner = ConsumerRunner(
        amqp_url=settings.amqp_url.get_secret_value(),
        topology=topology,
        step="intake",
        handler=calls.append,
        max_retries=5,
        keys=TEST_KEYS,
    )
    thread = run_in_thread(runner, stop)
    conn = connect(settings.amqp_url.get_secret_value())
    channel = conn.channel()
    # signed, as by a hub process with a bug: it passes the signature check and fails at reading
    channel.basic_publish(
        topology.commands_exchange, "ReceivePrescription", b"not json", signed_raw(b"not json", message_id="junk")
    )
    got = None
    for _ in range(100):
        method, props, _ = channel.basic_get(topology.dead_letter_queue, auto_ack=True)
        if method is not None:
            got = props
            break
        conn.sleep(0.1)
    stop.set()
    thread.join(5)
    conn.close()
    assert got is not None and got.headers["x-rxhub-failure-kind"] == "unparseable"
    assert calls == []


def test_a_message_waits_out_a_database_outage_without_spending_its_retries(settings: Settings) -> None:
    topology = _declared(settings)
    attempts: list[int] = []
    handled = threading.Event()

    def handler(envelope: Envelope) -> None:
        attempts.append(1)
        if len(attempts) <= 4:  # more failures than max_retries allows a faulty message
            raise DatabaseUnavailable("the database is down (test)")
        handled.set()

    stop = threading.Event()
    runner = ConsumerRunner(
        amqp_url=settings.amqp_url.get_secret_value(),
        topology=topology,
        step="intake",
        handler=handler,
        max_retries=2,
        keys=TEST_KEYS,
    )
    thread = run_in_thread(runner, stop)
    publisher = BlockingConfirmingPublisher(settings.amqp_url.get_secret_value())
    env = _envelope("OUTAGE")
    publisher.publish(OutgoingMessage(topology.commands_exchange, env.type, *signed(env)))
    try:
        assert handled.wait(60), f"not handled after {len(attempts)} attempts"
    finally:
        stop.set()
        thread.join(5)
        publisher.close()
    assert len(attempts) == 5
    assert _queue_depth(settings, topology.dead_letter_queue) == 0
