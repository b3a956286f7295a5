"""Commands a test publishes by hand must be signed like a hub process signs them (hub.security.command_signing)."""

from __future__ import annotations

from typing import Any

import pika

from hub.config import Settings
from hub.entrypoints.runtime import open_database
from hub.messaging.amqp_properties import command_properties
from hub.messaging.envelope import Envelope
from hub.security.command_signing import CommandKeys, command_keys

#: the key of tests that run a consumer of their own (no database to keep one in)
TEST_KEYS = CommandKeys(["tests-only-command-key-0123456789"])


def hub_keys(settings: Settings) -> CommandKeys:
    """The keys of a hub started with ``settings``: the configured ones, else its database's."""
    engine = open_database(settings)
    try:
        return command_keys(settings, engine)
    finally:
        engine.dispose()


def signed(envelope: Envelope, keys: CommandKeys = TEST_KEYS) -> tuple[bytes, pika.BasicProperties]:
    """The body and properties a hub process would publish ``envelope`` with."""
    body = envelope.to_bytes()
    return body, command_properties(envelope, keys.headers(body))


def signed_raw(body: bytes, keys: CommandKeys = TEST_KEYS, **properties: Any) -> pika.BasicProperties:
    """Persistent properties for any body, with its signature (to reach a consumer's decoding at all)."""
    headers = {**properties.pop("headers", {}), **keys.headers(body)}
    return pika.BasicProperties(delivery_mode=2, headers=headers, **properties)


def publish_signed(settings: Settings, envelope: Envelope) -> str:
    """Publish ``envelope`` straight to the commands exchange, signed as the hub's processes sign (past the
    doors' and the API's checks), confirmed by the broker; its message id."""
    from hub.entrypoints.runtime import topology_for

    connection = pika.BlockingConnection(pika.URLParameters(settings.amqp_url.get_secret_value()))
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        channel.basic_publish(
            topology_for(settings).commands_exchange,
            envelope.type,
            *signed(envelope, hub_keys(settings)),
            mandatory=True,
        )
    finally:
        connection.close()
    return str(envelope.message_id)
