"""The doors' command sink: envelopes onto the commands exchange with confirms, on the asyncio loop."""

from __future__ import annotations

from hub.messaging.amqp_properties import command_properties
from hub.messaging.async_publisher import AsyncConfirmingPublisher, OutgoingMessage
from hub.messaging.envelope import Envelope
from hub.messaging.topology import Topology
from hub.security.command_signing import CommandKeys


class AmqpCommandSink:
    """Implements ``hub.service.ports.CommandSink`` over an AsyncConfirmingPublisher; signs every command
    (hub.security.command_signing), since workers apply no other."""

    def __init__(self, publisher: AsyncConfirmingPublisher, topology: Topology, keys: CommandKeys) -> None:
        self.publisher = publisher
        self.topology = topology
        self.keys = keys

    async def publish_commands(self, envelopes: list[Envelope]) -> None:
        """All confirmed, or an exception: never a partial success reported as success."""
        await self.publisher.publish_all([self._message(e) for e in envelopes])

    def _message(self, envelope: Envelope) -> OutgoingMessage:
        body = envelope.to_bytes()
        return OutgoingMessage(
            self.topology.commands_exchange,
            self.topology.route_for(envelope.type),
            body,
            command_properties(envelope, self.keys.headers(body)),
        )
