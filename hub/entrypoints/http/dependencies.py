"""What the HTTP routes are given: the process's settings, stores and caches, as typed FastAPI dependencies.

The composition root (``hub.bootstrap``) builds one ``HttpServices`` per app and installs it on the app; a route
names what it needs (``engine: DbEngine``, ``audit: Audit``) and FastAPI hands it over. Every provider takes only
the request, so none adds a query parameter: the OpenAPI description stays what clients know. Helpers called
from a route with the request (the auth gate, the action checks) use ``services_of``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from sqlalchemy import Engine

from hub.config import Settings
from hub.domain.catalogue import Catalogue
from hub.domain.payer_sheet import PayerSheets
from hub.domain.return_window import window_days
from hub.entrypoints.http.idempotency_keys import IdempotencyKeys
from hub.entrypoints.http.queue_lines import QueueItems
from hub.messaging.async_publisher import AsyncConfirmingPublisher
from hub.persistence.audit import AuditTrail
from hub.persistence.break_glass import BreakGlass, GrantCache
from hub.persistence.feeds import FeedDirectory
from hub.persistence.state_reads import PrescriptionStates
from hub.persistence.users import UserStore
from hub.security.rate_limit import AuthThrottle, FailureLimiter
from hub.security.refusal_sampling import RefusalSampler
from hub.security.sessions import IdleSessions
from hub.security.tokens import TokenCache
from hub.service.ports import CommandSink, InboundLog, RefusalLog


@dataclass
class HttpServices:
    """Everything the routes of one app share; built once by the composition root."""

    settings: Settings
    engine: Engine
    sink: CommandSink
    inbound: InboundLog
    publisher: AsyncConfirmingPublisher | None
    users: UserStore
    audit: AuditTrail
    rx_states: PrescriptionStates
    feeds: FeedDirectory
    refusals: RefusalLog
    break_glass: GrantCache
    auth_throttle: AuthThrottle
    #: staff session clocks: the console's idle limit plus a minute, so that the browser, which reports
    #: activity at most once a minute, always signs out first
    idle_sessions: IdleSessions
    #: evict from it whatever this process revokes
    token_cache: TokenCache = field(default_factory=TokenCache)
    lockout_sampler: RefusalSampler = field(default_factory=RefusalSampler)
    idempotency_keys: IdempotencyKeys = field(default_factory=IdempotencyKeys)

    @cached_property
    def catalogue(self) -> Catalogue:
        """The drug catalogue the workers use (``RXHUB_CATALOGUE_PATH``), read on first use."""
        return Catalogue.from_json_text(self.settings.catalogue_path.read_text())

    @cached_property
    def payer_sheets(self) -> PayerSheets:
        """The payer sheets the workers use (``RXHUB_PAYER_SHEETS_PATH``), read on first use."""
        return PayerSheets.from_json_text(self.settings.payer_sheets_path.read_text())

    @cached_property
    def queue_items(self) -> QueueItems:
        """The work queues' lines, with each fill's return-to-stock window (will-call shows its sell-by date)."""
        days = self.settings.return_to_stock_days
        return QueueItems(window=lambda fill: window_days(fill, self.payer_sheets, days))

    def grant_store(self) -> BreakGlass:
        """The break-glass grants' store, with the settings' longest grant."""
        return BreakGlass(self.engine, max_minutes=self.settings.break_glass_max_minutes)


def auth_throttle(settings: Settings) -> AuthThrottle:
    """Failed authentications counted per client address and per token prefix, as the settings say."""
    window, lockout = settings.auth_failure_window_s, settings.auth_lockout_s
    return AuthThrottle(
        FailureLimiter(settings.auth_failure_limit, window, lockout),
        FailureLimiter(settings.auth_prefix_failure_limit, window, lockout),
    )


def install(app: FastAPI, services: HttpServices) -> None:
    """Give ``app``'s routes ``services``."""
    app.state.services = services


def services_of(app: FastAPI) -> HttpServices:
    """The services installed on ``app``."""
    services: HttpServices = app.state.services
    return services


def hub_services(request: Request) -> HttpServices:
    """Provider: the app's services."""
    return services_of(request.app)


def settings(request: Request) -> Settings:
    """Provider: the process's settings."""
    return services_of(request.app).settings


def engine(request: Request) -> Engine:
    """Provider: the database engine."""
    return services_of(request.app).engine


def audit_trail(request: Request) -> AuditTrail:
    """Provider: the audit trail."""
    return services_of(request.app).audit


def command_sink(request: Request) -> CommandSink:
    """Provider: where commands are published with confirms."""
    return services_of(request.app).sink


def users(request: Request) -> UserStore:
    """Provider: the staff and feed users."""
    return services_of(request.app).users


def prescription_states(request: Request) -> PrescriptionStates:
    """Provider: the batched state reads for staff actions' checks."""
    return services_of(request.app).rx_states


Services = Annotated[HttpServices, Depends(hub_services)]
HubSettings = Annotated[Settings, Depends(settings)]
DbEngine = Annotated[Engine, Depends(engine)]
Audit = Annotated[AuditTrail, Depends(audit_trail)]
Sink = Annotated[CommandSink, Depends(command_sink)]
Users = Annotated[UserStore, Depends(users)]
RxStates = Annotated[PrescriptionStates, Depends(prescription_states)]
