"""The doors on one asyncio loop: the MLLP listener, and the HTTP app (staff API, FHIR and SCRIPT doors) under
uvicorn, sharing one confirming publisher, one dedupe journal, the feed bindings and the refusal log.

``hub.bootstrap.doors`` makes a ``Doors`` with the factory of its HTTP app; ``start`` builds what needs the running
loop (the publisher, then the MLLP handler and the app over it).
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Protocol

import uvicorn
from fastapi import FastAPI
from sqlalchemy import Engine

from adapters.hl7.listener import MllpListener
from adapters.hl7.listener_handler import AckIdentity, Hl7MessageHandler
from hub.config import Settings
from hub.entrypoints.http.dependencies import HttpServices, services_of
from hub.entrypoints.http.known_orders import KnownOrders
from hub.entrypoints.http.server_config import http_budget, server_config
from hub.entrypoints.runtime import topology_for
from hub.entrypoints.vetted_listener import VettedMllpListener
from hub.messaging.async_publisher import AsyncConfirmingPublisher
from hub.messaging.command_sink import AmqpCommandSink
from hub.persistence.audit import AuditTrail
from hub.persistence.feeds import FeedDirectory
from hub.persistence.inbound import InboundStore
from hub.persistence.inbound_journal import InboundJournal
from hub.persistence.order_index import JournalOrderIndex
from hub.persistence.queries import SqlPrescriptionQueries
from hub.persistence.refused_messages import RefusedMessages
from hub.security import data_key, file_descriptors, posture, tls
from hub.security.command_signing import command_keys
from hub.security.connection_budget import ConnectionBudget

log = logging.getLogger(__name__)


class HttpAppFactory(Protocol):
    """Builds the HTTP app over the doors' publisher and shared stores (``hub.bootstrap.doors.build_http_app``)."""

    def __call__(
        self,
        sink: AmqpCommandSink,
        inbound: InboundStore,
        publisher: AsyncConfirmingPublisher,
        *,
        journal: InboundJournal,
        feeds: FeedDirectory,
        refusals: RefusedMessages,
    ) -> FastAPI: ...


def mllp_tls(s: Settings) -> tuple[ssl.SSLContext | None, tls.SubjectAllowList]:
    """The MLLP server context and allow-list from the settings (no context: plain TCP)."""
    allow = tls.SubjectAllowList(
        subjects=s.mllp_tls_allowed_subjects, require_certificate=s.mllp_tls_require_client_cert
    )
    if s.mllp_tls_cert is None or s.mllp_tls_key is None:
        return None, allow
    context = tls.server_context(
        s.mllp_tls_cert,
        s.mllp_tls_key,
        client_ca=s.mllp_tls_client_ca,
        require_client_cert=s.mllp_tls_require_client_cert,
    )
    return context, allow


def check_posture(s: Settings) -> None:
    """Refuse to start exposed: plain TCP off loopback, guest on a remote broker (secrets never printed)."""
    posture.check_door("MLLP", s.mllp_host, tls=s.mllp_tls_cert is not None, allow_plaintext=s.allow_plaintext)
    posture.check_door("HTTP", s.http_host, tls=s.http_tls_cert is not None, allow_plaintext=s.allow_plaintext)
    posture.check_broker_url(s.amqp_url.get_secret_value(), allow_plaintext=s.allow_plaintext)


def connection_caps(s: Settings) -> tuple[int, int]:
    """The HTTP and MLLP doors' total connection caps, after raising the descriptor limit and fitting them in it."""
    limit = file_descriptors.raise_soft_limit()
    http, mllp = file_descriptors.fit_caps(limit, s.http_max_connections, s.mllp_max_connections)
    return http, mllp


@dataclass
class Doors:
    """Everything that accepts traffic from outside, sharing one confirming publisher."""

    settings: Settings
    engine: Engine
    http_app: HttpAppFactory
    publisher: AsyncConfirmingPublisher | None = None
    mllp: MllpListener | None = None
    hl7_handler: Hl7MessageHandler | None = None
    journal: InboundJournal | None = None
    feeds: FeedDirectory | None = None
    known_orders: KnownOrders | None = None
    mllp_audit: AuditTrail | None = None
    #: what every door refused, recorded and audited off the answer's path
    refusals: RefusedMessages | None = None
    extra: list[object] = field(default_factory=list)
    http_port: int = 0
    http: uvicorn.Server | None = None
    http_task: asyncio.Task[None] | None = None
    #: the HTTP app's services: its audit trail's batched writes are finished on stop, and the lane of its
    #: state checks for staff actions gives its connection back
    http_services: HttpServices | None = None
    #: the loop's default executor (dedupe lookups, records, SQL reads of the routes)
    io_pool: ThreadPoolExecutor | None = None

    async def start(self) -> None:
        """Connect the publisher, then open the ports (never accept what we could not store)."""
        # dedupe lookups and records run on threads; the default pool (cores + 4) makes them queue
        self.io_pool = ThreadPoolExecutor(32, thread_name_prefix="doors-io")
        asyncio.get_running_loop().set_default_executor(self.io_pool)
        s = self.settings
        check_posture(s)
        if s.data_key is not None:
            data_key.install(s.data_key.get_secret_value())
        keys = await asyncio.to_thread(command_keys, s, self.engine)  # a bad key fails before a port opens
        amqp_url = s.amqp_url.get_secret_value()
        amqp_tls = tls.client_context(s.amqp_ca_file) if amqp_url.startswith("amqps:") else None
        self.publisher = AsyncConfirmingPublisher(
            amqp_url, confirm_timeout_s=s.publish_confirm_timeout_s, ssl_context=amqp_tls
        )
        await self.publisher.start()
        sink = AmqpCommandSink(self.publisher, topology_for(s), keys)
        identity = AckIdentity(
            s.sending_application, s.sending_facility, s.accepted_processing_ids, s.hl7_default_processing_id
        )
        self.journal = InboundJournal(self.engine)
        self.feeds = FeedDirectory(self.engine)
        self.known_orders = KnownOrders(self.engine, SqlPrescriptionQueries(self.engine))
        self.mllp_audit = AuditTrail(self.engine)
        self.refusals = RefusedMessages(
            self.engine, per_sender_per_minute=s.refused_per_sender_per_minute, max_rows=s.refused_max_rows
        )
        orders = JournalOrderIndex(self.journal, self.known_orders.recorded)
        self.hl7_handler = Hl7MessageHandler(
            sink, self.journal, identity, feeds=self.feeds, orders=orders, refusals=self.refusals
        )
        context, allow = mllp_tls(s)
        http_cap, mllp_cap = connection_caps(s)
        self.mllp = VettedMllpListener(
            self.hl7_handler,
            self.hl7_handler.refuse_oversize,
            host=s.mllp_host,
            port=s.mllp_port,
            max_frame_bytes=s.mllp_max_frame_bytes,
            idle_timeout_s=s.mllp_idle_timeout_s,
            ssl_context=context,
            frame_timeout_s=s.mllp_frame_timeout_s,
            budget=ConnectionBudget(mllp_cap, s.mllp_max_connections_per_address),
            allow=allow,
            audit=self.mllp_audit,
        )
        await self.mllp.start()
        await self._start_http(sink, http_cap)

    async def _start_http(self, sink: AmqpCommandSink, cap: int) -> None:
        s = self.settings
        assert self.publisher is not None and self.journal is not None
        assert self.feeds is not None and self.refusals is not None
        app = self.http_app(
            sink,
            InboundStore(self.engine),
            self.publisher,
            journal=self.journal,
            feeds=self.feeds,
            refusals=self.refusals,
        )
        self.http_services = services_of(app)
        self.http = uvicorn.Server(server_config(app, s, budget=http_budget(s, cap)))
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
        if self.hl7_handler:
            await self.hl7_handler.drain()
        if self.journal:
            await asyncio.to_thread(self.journal.close)
        if self.refusals:
            await asyncio.to_thread(self.refusals.close)
        http = self.http_services
        for trail in (http.audit if http else None, self.mllp_audit):
            if trail is not None:
                await asyncio.to_thread(trail.close)
        if http:
            await asyncio.to_thread(http.rx_states.close)
        if self.publisher:
            await self.publisher.close()
        if self.io_pool is not None:  # its threads outlive the loop otherwise (a hub stopped in a test, say)
            self.io_pool.shutdown(wait=False)
