"""The relay's publisher: a whole batch in flight, each message settled on its own confirm."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pika
import pytest

from hub.errors import BrokerUnavailable, PublishNotConfirmed
from hub.messaging.async_publisher import OutgoingMessage
from hub.messaging.pipelined_publisher import PipelinedPublisher


@pytest.fixture
def queue_name(amqp_url: str) -> Iterator[str]:
    name = f"t{uuid.uuid4().hex[:10]}.pipelined"
    conn = pika.BlockingConnection(pika.URLParameters(amqp_url))
    conn.channel().queue_declare(name, durable=True, arguments={"x-queue-type": "quorum"})
    yield name
    conn.channel().queue_delete(name)
    conn.close()


def _message(routing_key: str, n: int) -> OutgoingMessage:
    return OutgoingMessage(
        "",
        routing_key,
        f"body {n}".encode(),
        pika.BasicProperties(message_id=f"m-{n}", delivery_mode=2),
        mandatory=True,
    )


def test_a_batch_is_confirmed_and_an_unroutable_message_fails_alone(amqp_url: str, queue_name: str) -> None:
    publisher = PipelinedPublisher(amqp_url)
    try:
        batch = [_message(queue_name, n) for n in range(100)]
        batch.insert(50, _message(f"{queue_name}.nowhere", 999))
        results = publisher.publish_each(batch)
        assert [r for r in results if r is not None] == [results[50]]
        assert isinstance(results[50], PublishNotConfirmed)
        assert publisher.publish_each([_message(queue_name, 100)]) == [None]  # the connection lives on
    finally:
        publisher.close()
    conn = pika.BlockingConnection(pika.URLParameters(amqp_url))
    depth = conn.channel().queue_declare(queue_name, passive=True).method.message_count
    conn.close()
    assert depth == 101


def test_an_unreachable_broker_is_reported_for_the_batch() -> None:
    publisher = PipelinedPublisher("amqp://guest:guest@127.0.0.1:1/%2F", confirm_timeout_s=2)
    try:
        with pytest.raises(BrokerUnavailable):
            publisher.publish_each([_message("anything", 1)])
    finally:
        publisher.close()
