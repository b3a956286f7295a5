"""What payer traffic carries on AMQP besides the D.0 bytes, shared by the hub side and payer connectors.

A claim leaves with ``correlation_id`` = exchange id, ``reply_to`` = the payer-responses queue and the
order's correlation id in ``ORDER_CORRELATION_HEADER``; a connector answers to ``reply_to`` with the same
``correlation_id`` and header, under a message id of its own.
"""

from __future__ import annotations

import uuid
from typing import Any, Protocol

import pika

from hub.errors import BrokerUnavailable
from hub.messaging.amqp_properties import raw_properties
from hub.messaging.async_publisher import OutgoingMessage
from hub.messaging.headers import ORDER_CORRELATION_HEADER

#: the order's correlation id (a uuid), set by the hub on each claim and echoed on the answer
D0_CONTENT_TYPE = "application/x-ncpdp-d0"
CLAIM_MESSAGE_TYPE = "D0ClaimRequest"
RESPONSE_MESSAGE_TYPE = "D0ClaimResponse"


class MessagePublisher(Protocol):
    """A publisher that returns only once the broker confirmed (BlockingConfirmingPublisher)."""

    def publish(self, message: OutgoingMessage) -> None:
        """Raise PublishNotConfirmed or BrokerUnavailable when the message is not stored."""


def claim_properties(
    exchange_id: str, order_correlation_id: uuid.UUID, reply_to: str, message_id: str | None = None
) -> pika.BasicProperties:
    """The properties the outbox relay gives a claim (tests and tools publish claims the same way)."""
    return raw_properties(
        message_id or str(uuid.uuid4()),
        content_type=D0_CONTENT_TYPE,
        message_type=CLAIM_MESSAGE_TYPE,
        correlation_id=exchange_id,
        headers={ORDER_CORRELATION_HEADER: str(order_correlation_id)},
        reply_to=reply_to,
    )


def response_properties(claim: pika.BasicProperties) -> pika.BasicProperties:
    """A payer answer's properties: a fresh message id, the claim's correlation id and echo header."""
    headers: dict[str, Any] = {}
    echoed = (claim.headers or {}).get(ORDER_CORRELATION_HEADER)
    if echoed is not None:
        headers[ORDER_CORRELATION_HEADER] = echoed
    return raw_properties(
        str(uuid.uuid4()),
        content_type=D0_CONTENT_TYPE,
        message_type=RESPONSE_MESSAGE_TYPE,
        correlation_id=claim.correlation_id,
        headers=headers,
    )


def publish_confirmed(publisher: MessagePublisher, message: OutgoingMessage) -> None:
    """Publish with confirms, replacing a connection the broker dropped while it sat idle, once."""
    try:
        publisher.publish(message)
    except BrokerUnavailable:
        # a blocking connection sends no heartbeats while idle, so the first publish after a quiet spell
        # may find it closed; the publisher reconnects on the next call (a duplicate is deduped by id)
        publisher.publish(message)
