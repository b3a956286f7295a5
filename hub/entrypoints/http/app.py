"""The hub's HTTP app: staff API, operations endpoints, and the FHIR and SCRIPT doors when present."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse
from sqlalchemy import Engine, text
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.config import Settings
from hub.entrypoints.http import (
    admin_routes,
    break_glass_routes,
    command_routes,
    eligibility_routes,
    identity_routes,
    metrics_route,
    record_routes,
    refused_order_routes,
    search_routes,
    session_routes,
    staff_routes,
    stock_routes,
)
from hub.entrypoints.http.api_docs import mount_api_docs
from hub.entrypoints.http.auth import mount_security_routes
from hub.entrypoints.http.body_limit import BodyLimit
from hub.entrypoints.http.console import console_router
from hub.entrypoints.http.door_metrics import DoorMetrics
from hub.errors import InfrastructureError
from hub.messaging.async_publisher import AsyncConfirmingPublisher
from hub.messaging.consumer import FailureKind
from hub.messaging.consumer_counts import StepConsumers
from hub.messaging.topology import PAYER_RESPONSES, Topology
from hub.observability.metrics import start_at_zero
from hub.persistence.audit import AuditTrail
from hub.persistence.feeds import FeedDirectory
from hub.persistence.refused_messages import RefusedMessages
from hub.persistence.state_reads import PrescriptionStates
from hub.persistence.users import UserStore
from hub.service.ports import CommandSink, DedupeJournal, InboundLog, RefusalLog


def create_app(
    settings: Settings,
    engine: Engine,
    sink: CommandSink,
    inbound: InboundLog,
    publisher: AsyncConfirmingPublisher | None = None,
    journal: DedupeJournal | None = None,
    feeds: FeedDirectory | None = None,
    refusals: RefusalLog | None = None,
) -> FastAPI:
    """Build the app; every route shares the same authorization and the same confirming publisher.

    ``journal``: the process's batched dedupe journal (the doors'), used by the FHIR door when given.
    ``feeds``: the process's view of the feed bindings (the doors'); made here when not given.
    ``refusals``: where the FHIR and SCRIPT doors record what they refuse (the doors'); made here when not given.
    """
    app = FastAPI(
        title="RxHub",
        version="0.1.0",
        docs_url=None,
        redoc_url=None,  # served locally: api_docs
        description="Pharmacy messaging hub: staff work queues and actions, FHIR R4 and SCRIPT doors.",
    )
    mount_api_docs(app)
    app.state.settings, app.state.engine, app.state.sink, app.state.inbound = settings, engine, sink, inbound
    app.state.users, app.state.audit, app.state.publisher = UserStore(engine), AuditTrail(engine), publisher
    app.state.rx_states = PrescriptionStates(engine)
    app.state.feeds = feeds or FeedDirectory(engine)
    app.state.refusals = refusals or RefusedMessages(
        engine, per_sender_per_minute=settings.refused_per_sender_per_minute, max_rows=settings.refused_max_rows
    )
    _include_doors(app, engine, sink, inbound, journal)  # first: the feeds' requests are matched soonest
    app.include_router(staff_routes.router)
    app.include_router(record_routes.router)
    app.include_router(search_routes.router)
    app.include_router(stock_routes.router)
    app.include_router(eligibility_routes.router)
    app.include_router(command_routes.router)
    app.include_router(identity_routes.router)
    app.include_router(refused_order_routes.router)
    app.include_router(admin_routes.router)
    app.include_router(break_glass_routes.router)
    app.include_router(session_routes.router)
    app.include_router(metrics_route.router)
    app.include_router(console_router(settings.console_idle_minutes))
    mount_security_routes(app)

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        """People who open the hub's address land on the console."""
        return RedirectResponse("/console/", status_code=307)

    app.add_exception_handler(InfrastructureError, _unavailable)
    app.add_middleware(FhirReadAudit)
    app.add_middleware(DoorMetrics)
    # outermost: no route, token check or metric reads a body this has not bounded
    app.add_middleware(
        BodyLimit,
        api_bytes=settings.http_max_body_bytes,
        door_bytes=settings.http_fhir_max_body_bytes,
        timeout_s=settings.http_body_timeout_s,
    )
    topology = Topology(settings.broker_prefix)
    start_at_zero((*topology.steps, PAYER_RESPONSES), tuple(FailureKind))

    @app.get("/healthz", tags=["operations"])
    def healthz() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    # a configured outbound connector that nobody runs is as unready as a step without workers
    connectors = tuple(
        queue
        for queue, configured in (
            (f"{topology.prefix}.script-out", settings.script_network),
            (f"{topology.prefix}.fhir-renewals", settings.fhir_renewals),
        )
        if configured
    )
    consumers = StepConsumers(settings.amqp_url.get_secret_value(), topology, also=connectors)

    @app.get("/readyz", tags=["operations"])
    async def readyz() -> JSONResponse:
        """Readiness: the broker connection is up, the database answers and every step queue has a consumer."""
        database = await asyncio.to_thread(_db_ok, engine)
        idle = await asyncio.to_thread(consumers.without_consumers)
        checks = {"broker": bool(publisher and publisher.connected), "database": database, "consumers": idle == []}
        body = {"ready": all(checks.values()), **checks, "queues_without_consumers": idle}
        return JSONResponse(body, status_code=200 if all(checks.values()) else 503)

    return app


def _include_doors(
    app: FastAPI, engine: Engine, sink: CommandSink, inbound: InboundLog, journal: DedupeJournal | None
) -> None:
    """FHIR and SCRIPT routers from their adapters, behind the hub's own authentication (feeds and admins)."""
    from adapters.fhir.routes import fhir_router
    from adapters.ncpdp.script.routes import script_router
    from hub.entrypoints.http.auth import require
    from hub.entrypoints.http.known_orders import KnownOrders
    from hub.persistence.order_index import InboundOrderIndex, JournalOrderIndex
    from hub.persistence.queries import SqlPrescriptionQueries

    feeds = require("feed", "admin")
    queries = SqlPrescriptionQueries(engine)
    # with the doors' journal (a serving process), the lookup before each publish is batched on its own thread too
    recorded = KnownOrders(engine, queries) if journal is not None else None
    app.include_router(
        fhir_router(
            sink=sink,
            inbound=inbound,
            queries=queries,
            auth=feeds,
            admin_auth=require("admin"),
            journal=journal,
            recorded=recorded,
            refusals=app.state.refusals,
        )
    )
    known = recorded or KnownOrders(engine, queries)
    orders = (
        JournalOrderIndex(journal, known.recorded)
        if journal is not None
        else InboundOrderIndex(inbound, known.recorded)
    )
    app.include_router(
        script_router(
            sink=sink,
            inbound=inbound,
            queries=queries,
            auth=feeds,
            feeds=app.state.feeds,
            orders=orders,
            refusals=app.state.refusals,
        )
    )


#: FHIR reads and searches that show a patient's or a prescription's details (the staff API audits its own)
_AUDITED_FHIR_READS = ("/fhir/Patient", "/fhir/MedicationRequest", "/fhir/MedicationDispense", "/fhir/ClaimResponse")


def _audited_read(scope: Scope) -> bool:
    """A read (GET, HEAD) or POST [type]/_search under one of the audited FHIR paths."""
    path, method = scope["path"], scope["method"]
    if not path.startswith(_AUDITED_FHIR_READS):
        return False
    return method in ("GET", "HEAD") or (method == "POST" and path.endswith("/_search"))


class FhirReadAudit:
    """Every successful FHIR read of patient or prescription details is in the audit trail: who, what, when,
    and which patients it showed (``audit query --patient`` finds it).

    The answer is held until its body is complete and the entry is written before its first byte leaves (a
    read that cannot be audited is not answered: the write's error becomes a 500); the FHIR door builds its
    answers whole, so holding them costs no latency. A plain ASGI middleware: other requests pass straight
    through.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _audited_read(scope):
            await self.app(scope, receive, send)
            return
        held: list[Message] = []

        async def audited(message: Message) -> None:
            if held or (message["type"] == "http.response.start" and message["status"] == 200):
                held.append(message)
                if message["type"] == "http.response.body" and not message.get("more_body", False):
                    await _audit_read(scope, b"".join(m.get("body", b"") for m in held[1:]))
                    for kept in held:
                        await send(kept)
                return
            await send(message)

        await self.app(scope, receive, audited)


#: a patient named in a FHIR answer: a reference or a Patient resource's address
_PATIENT_REFERENCE = re.compile(rb"Patient/([A-Za-z0-9\-.]{1,64})")


async def _audit_read(scope: Scope, body: bytes) -> None:
    request = Request(scope)
    user = getattr(request.state, "user", None)  # set by the auth dependency (hub.entrypoints.http.auth)
    if user is None:
        return
    path = request.url.path
    audit: AuditTrail = request.app.state.audit
    query = str(request.url.query)[:200]
    resource = path.removeprefix("/fhir/").split("/")[0]
    shown = sorted({m.decode() for m in _PATIENT_REFERENCE.findall(path.encode() + b" " + body)})
    await audit.record_soon(
        actor=user.name,
        role=user.role,
        action=f"read FHIR {resource}",
        patient_id=shown[0] if len(shown) == 1 else None,
        detail={"path": path, "query": query, "patient_ids": shown},
    )


def _db_ok(engine: Engine) -> bool:
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception:
        return False


async def _unavailable(_request: Request, exc: Exception) -> JSONResponse:
    """Broker or database down: 503, nothing half done (the command was not confirmed)."""
    body: dict[str, Any] = {"detail": f"temporarily unavailable: {type(exc).__name__}", "retry": True}
    return JSONResponse(body, status_code=503, headers={"Retry-After": "5"})
