"""The doors' command sink: envelopes onto the commands exchange with confirms, on the asyncio loop."""

from __future__ import annotations

from hub.messaging.amqp_properties import command_properties
from hub.messaging.async_publisher import AsyncConfirmingPublisher, OutgoingMessage
from hub.messaging.envelope import Envelope
from hub.messaging.topology import Topology


class AmqpCommandSink:
    """Implements ``hub.service.ports.CommandSink`` over an AsyncConfirmingPublisher."""

    def __init__(self, publisher: AsyncConfirmingPublisher, topology: Topology) -> None:
        self.publisher = publisher
        self.topology = topology

    async def publish_commands(self, envelopes: list[Envelope]) -> None:
        """All confirmed, or an exception: never a partial success reported as success."""
        await self.publisher.publish_all([
            OutgoingMessage(
                self.topology.commands_exchange, self.topology.route_for(e.type), e.to_bytes(),
                command_properties(e),
            )
            for e in envelopes
        ])
