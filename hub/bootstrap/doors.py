"""The composition root's door half: the doors, and the HTTP app with the stores and caches its routes share
(``HttpServices``), the FHIR and SCRIPT routers over them, and the audit routes, mounted once (``rxhub run``,
``serve``, the demo and the tests).
"""

from __future__ import annotations

from functools import partial

from fastapi import APIRouter, FastAPI
from sqlalchemy import Engine

from adapters.fhir.routes import fhir_router
from adapters.ncpdp.script.routes import script_router
from hub.config import Settings
from hub.entrypoints.doors import Doors
from hub.entrypoints.http.app import create_app
from hub.entrypoints.http.auth import require
from hub.entrypoints.http.dependencies import HttpServices, audit_trail, auth_throttle
from hub.entrypoints.http.known_orders import KnownOrders
from hub.messaging.async_publisher import AsyncConfirmingPublisher
from hub.persistence.audit import AuditTrail
from hub.persistence.break_glass import BreakGlass, GrantCache
from hub.persistence.feeds import FeedDirectory
from hub.persistence.order_index import InboundOrderIndex, JournalOrderIndex
from hub.persistence.queries import SqlPrescriptionQueries
from hub.persistence.refused_messages import RefusedMessages
from hub.persistence.state_reads import PrescriptionStates
from hub.persistence.users import UserStore
from hub.security.sessions import IdleSessions
from hub.service.ports import CommandSink, DedupeJournal, InboundLog, RefusalLog


def build_doors(settings: Settings, engine: Engine) -> Doors:
    """The MLLP listener and the HTTP app on one loop; not started."""
    return Doors(settings, engine, http_app=partial(build_http_app, settings, engine))


def build_http_app(
    settings: Settings,
    engine: Engine,
    sink: CommandSink,
    inbound: InboundLog,
    publisher: AsyncConfirmingPublisher | None = None,
    *,
    journal: DedupeJournal | None = None,
    feeds: FeedDirectory | None = None,
    refusals: RefusalLog | None = None,
) -> FastAPI:
    """The HTTP app: staff API, operations, the FHIR and SCRIPT doors and the audit routes.

    ``journal``, ``feeds``, ``refusals``: the doors' own (a serving process shares them with the MLLP door);
    made here when not given, as for an app alone in tests.
    """
    services = http_services(settings, engine, sink, inbound, publisher, feeds=feeds, refusals=refusals)
    return create_app(services, door_routers(services, journal))


def http_services(
    settings: Settings,
    engine: Engine,
    sink: CommandSink,
    inbound: InboundLog,
    publisher: AsyncConfirmingPublisher | None = None,
    *,
    feeds: FeedDirectory | None = None,
    refusals: RefusalLog | None = None,
) -> HttpServices:
    """The stores and caches the routes of one app share."""
    return HttpServices(
        settings=settings,
        engine=engine,
        sink=sink,
        inbound=inbound,
        publisher=publisher,
        users=UserStore(engine),
        audit=AuditTrail(engine),
        rx_states=PrescriptionStates(engine),
        feeds=feeds or FeedDirectory(engine),
        refusals=refusals or refused_messages(settings, engine),
        break_glass=GrantCache(BreakGlass(engine, max_minutes=settings.break_glass_max_minutes)),
        auth_throttle=auth_throttle(settings),
        idle_sessions=IdleSessions(settings.console_idle_minutes * 60 + 60),
    )


def refused_messages(settings: Settings, engine: Engine) -> RefusedMessages:
    """Where the doors record what they refuse, bounded as the settings say."""
    return RefusedMessages(
        engine, per_sender_per_minute=settings.refused_per_sender_per_minute, max_rows=settings.refused_max_rows
    )


def door_routers(services: HttpServices, journal: DedupeJournal | None) -> list[APIRouter]:
    """FHIR and SCRIPT routers from their adapters, behind the hub's own authentication (feeds and admins)."""
    engine, sink, inbound = services.engine, services.sink, services.inbound
    feeds = require("feed", "admin")
    queries = SqlPrescriptionQueries(engine)
    # with the doors' journal (a serving process), the lookup before each publish is batched on its own thread too
    recorded = KnownOrders(engine, queries) if journal is not None else None
    fhir = fhir_router(
        sink=sink,
        inbound=inbound,
        queries=queries,
        auth=feeds,
        admin_auth=require("admin"),
        journal=journal,
        recorded=recorded,
        refusals=services.refusals,
        audit_trail=audit_trail,
        max_body_bytes=services.settings.http_fhir_max_body_bytes,
    )
    known = recorded or KnownOrders(engine, queries)
    orders = (
        JournalOrderIndex(journal, known.recorded)
        if journal is not None
        else InboundOrderIndex(inbound, known.recorded)
    )
    script = script_router(
        sink=sink,
        inbound=inbound,
        queries=queries,
        auth=feeds,
        feeds=services.feeds,
        orders=orders,
        refusals=services.refusals,
    )
    return [fhir, script]
