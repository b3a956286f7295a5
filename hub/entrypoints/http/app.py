"""The hub's HTTP app: staff API, operations endpoints, and the FHIR and SCRIPT doors when present."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse
from sqlalchemy import Engine, text
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.entrypoints.http import (
    admin_routes,
    break_glass_routes,
    command_routes,
    completion_routes,
    coverage_routes,
    eligibility_routes,
    identity_routes,
    metrics_route,
    prescription_views,
    rebill_routes,
    record_routes,
    refused_order_routes,
    search_routes,
    session_routes,
    staff_routes,
    stock_routes,
    work_queues,
)
from hub.entrypoints.http.api_docs import mount_api_docs
from hub.entrypoints.http.auth import require
from hub.entrypoints.http.body_limit import BodyLimit
from hub.entrypoints.http.console import console_router
from hub.entrypoints.http.dependencies import HttpServices, audit_trail, install, services_of
from hub.entrypoints.http.door_metrics import DoorMetrics
from hub.errors import InfrastructureError
from hub.messaging.consumer import FailureKind
from hub.messaging.consumer_counts import StepConsumers
from hub.messaging.topology import PAYER_RESPONSES, Topology
from hub.observability.metrics import start_at_zero
from hub.security.audit_api import audit_router


def create_app(services: HttpServices, door_routers: Sequence[APIRouter] = ()) -> FastAPI:
    """Build the app over ``services`` (``hub.bootstrap`` builds them); every route shares the same
    authorization and the same confirming publisher. ``door_routers``: the FHIR and SCRIPT doors, matched
    first (the feeds' requests are matched soonest)."""
    settings, engine, publisher = services.settings, services.engine, services.publisher
    app = FastAPI(
        title="RxHub",
        version="0.1.0",
        docs_url=None,
        redoc_url=None,  # served locally: api_docs
        description="Pharmacy messaging hub: staff work queues and actions, FHIR R4 and SCRIPT doors.",
    )
    install(app, services)
    mount_api_docs(app, settings.api_docs)
    for router in (*door_routers, *_STAFF_ROUTERS):
        app.include_router(router)
    app.include_router(console_router(settings.console_idle_minutes, settings.pharmacy_timezone))
    app.include_router(audit_router(require("admin"), audit_trail))

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


#: the staff API and operations routers, in the order they are matched
_STAFF_ROUTERS = (
    coverage_routes.router,
    work_queues.router,
    prescription_views.router,
    staff_routes.router,
    record_routes.router,
    search_routes.router,
    stock_routes.router,
    eligibility_routes.router,
    completion_routes.router,
    rebill_routes.router,
    command_routes.router,
    identity_routes.router,
    refused_order_routes.router,
    admin_routes.router,
    break_glass_routes.router,
    session_routes.router,
    metrics_route.router,
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
    audit = services_of(request.app).audit
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
