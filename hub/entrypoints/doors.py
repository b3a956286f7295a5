"""The doors (MLLP now; HTTP for FHIR, SCRIPT and staff later) wired to the hub on one asyncio loop."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine

from adapters.hl7.listener import MllpListener
from adapters.hl7.listener_handler import AckIdentity, Hl7MessageHandler
from hub.config import Settings
from hub.entrypoints.runtime import topology_for
from hub.messaging.async_publisher import AsyncConfirmingPublisher
from hub.messaging.command_sink import AmqpCommandSink
from hub.persistence.inbound import InboundStore

log = logging.getLogger(__name__)


@dataclass
class Doors:
    """Everything that accepts traffic from outside, sharing one confirming publisher."""

    settings: Settings
    engine: Engine
    publisher: AsyncConfirmingPublisher | None = None
    mllp: MllpListener | None = None
    hl7_handler: Hl7MessageHandler | None = None
    extra: list[object] = field(default_factory=list)
    http_port: int = 0
    http: Any = None
    http_task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Connect the publisher, then open the ports (never accept what we could not store)."""
        s = self.settings
        self.publisher = AsyncConfirmingPublisher(
            s.amqp_url.get_secret_value(), confirm_timeout_s=s.publish_confirm_timeout_s
        )
        await self.publisher.start()
        sink = AmqpCommandSink(self.publisher, topology_for(s))
        identity = AckIdentity(s.sending_application, s.sending_facility, s.accepted_processing_ids,
                               s.hl7_default_processing_id)
        self.hl7_handler = Hl7MessageHandler(sink, InboundStore(self.engine), identity)
        self.mllp = MllpListener(
            self.hl7_handler, self.hl7_handler.refuse_oversize, host=s.mllp_host, port=s.mllp_port,
            max_frame_bytes=s.mllp_max_frame_bytes, idle_timeout_s=s.mllp_idle_timeout_s,
        )
        await self.mllp.start()
        await self._start_http(sink)

    async def _start_http(self, sink: AmqpCommandSink) -> None:
        import uvicorn

        from hub.entrypoints.http.app import create_app

        s = self.settings
        app = create_app(s, self.engine, sink, InboundStore(self.engine), self.publisher)
        config = uvicorn.Config(app, host=s.http_host, port=s.http_port, log_level="warning", lifespan="off",
                                access_log=False)
        self.http = uvicorn.Server(config)
        self.http_task = asyncio.get_running_loop().create_task(self.http.serve())
        while not self.http.started:
            if self.http_task.done():
                self.http_task.result()
                raise RuntimeError("HTTP server did not start")
            await asyncio.sleep(0.02)
        self.http_port = int(self.http.servers[0].sockets[0].getsockname()[1])

    async def stop(self) -> None:
        """Close the ports first, then the publisher."""
        if self.http is not None and self.http_task is not None:
            self.http.should_exit = True
            await asyncio.wait_for(self.http_task, 10)
        if self.mllp:
            await self.mllp.stop()
        if self.publisher:
            await self.publisher.close()
