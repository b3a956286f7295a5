"""How an envelope or event maps onto AMQP message properties, shared by every publisher."""

from __future__ import annotations

from typing import Any

import pika

from hub.messaging.envelope import Envelope
from hub.messaging.headers import SOURCE_HEADER

PERSISTENT = 2


def command_properties(envelope: Envelope, headers: dict[str, Any] | None = None) -> pika.BasicProperties:
    """Persistent, typed, with ids a consumer can dedupe and correlate on without parsing the body."""
    return pika.BasicProperties(
        content_type="application/json",
        delivery_mode=PERSISTENT,
        message_id=str(envelope.message_id),
        correlation_id=str(envelope.correlation_id),
        type=envelope.type,
        timestamp=int(envelope.time.timestamp()),
        app_id="rxhub",
        headers={SOURCE_HEADER: envelope.source.value, **(headers or {})},
    )


def raw_properties(
    message_id: str,
    *,
    content_type: str,
    message_type: str,
    correlation_id: str | None = None,
    headers: dict[str, Any] | None = None,
    reply_to: str | None = None,
) -> pika.BasicProperties:
    """Persistent properties for an already-serialised body (events, outbox rows, payer traffic)."""
    return pika.BasicProperties(
        content_type=content_type,
        delivery_mode=PERSISTENT,
        message_id=message_id,
        correlation_id=correlation_id,
        type=message_type,
        app_id="rxhub",
        headers=headers or {},
        reply_to=reply_to,
    )
