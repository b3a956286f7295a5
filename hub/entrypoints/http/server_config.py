"""The uvicorn configuration every HTTP listener of the hub uses: the guarded protocol (connection caps, header
limits and deadline), proxy headers believed only from the configured trusted proxies, TLS when set, and the
layers around the app that refuse malformed parameters and mark answers no-store (and HSTS over HTTPS).

TLS is not uvicorn's: the guarded protocol counts each connection first, then does the handshake itself under
the header deadline (hub.entrypoints.http.tls_upgrade), and failed handshakes are audited."""

from __future__ import annotations

from typing import Any

import uvicorn

from hub.config import Settings
from hub.entrypoints.http.guarded_protocol import HeaderLimits, guarded_protocol, trusted
from hub.entrypoints.http.request_hygiene import RequestHygiene
from hub.entrypoints.http.response_headers import ResponseHeaders
from hub.entrypoints.http.tls_upgrade import TlsUpgrade
from hub.persistence.audit import AuditTrail
from hub.security import tls
from hub.security.connection_budget import ConnectionBudget
from hub.security.handshake_refusals import HandshakeRefusals

#: the action refused HTTPS handshakes are audited under
HANDSHAKE_ACTION = "https tls handshake"


def http_budget(settings: Settings, total: int | None = None) -> ConnectionBudget:
    """The HTTP door's connection budget (``total``: the cap after it was fitted to the descriptor limit)."""
    return ConnectionBudget(total or settings.http_max_connections, settings.http_max_connections_per_address)


def server_config(
    app: Any,
    settings: Settings,
    *,
    budget: ConnectionBudget | None = None,
    host: str | None = None,
    port: int | None = None,
    audit: AuditTrail | None = None,
) -> uvicorn.Config:
    """A ``uvicorn.Config`` for ``app`` under the settings' limits (``host``/``port`` override the settings').

    ``audit``: where refused TLS handshakes are recorded; by default the app's own trail.
    """
    limits = HeaderLimits(
        max_bytes=settings.http_max_header_bytes,
        max_count=settings.http_max_header_count,
        timeout_s=settings.http_header_timeout_s,
    )
    proxies = trusted(settings.trusted_proxies)
    protocol = guarded_protocol(
        budget or http_budget(settings), limits, uncapped=proxies, tls=_tls(settings, audit or _audit_of(app))
    )
    served = ResponseHeaders(RequestHygiene(app))  # no-store and HSTS on every answer, malformed input refused first
    return uvicorn.Config(
        served,
        host=settings.http_host if host is None else host,
        port=settings.http_port if port is None else port,
        http=protocol,
        log_level="warning",
        lifespan="off",
        access_log=False,
        # X-Forwarded-For only from a trusted proxy: anyone else could name any address (lockouts, the audit)
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=list(settings.trusted_proxies) or None,
    )


def _tls(settings: Settings, audit: AuditTrail | None) -> TlsUpgrade | None:
    """The hub's own server context (TLS 1.2+, AEAD suites only), the handshake held to the header deadline."""
    if settings.http_tls_cert is None:
        return None
    context = tls.server_context(settings.http_tls_cert, settings.http_tls_key or settings.http_tls_cert)
    refusals = HandshakeRefusals("http", HANDSHAKE_ACTION, audit)
    return TlsUpgrade(context, settings.http_header_timeout_s, refusals)


def _audit_of(app: Any) -> AuditTrail | None:
    """The app's audit trail, wherever the app keeps it (on its installed services, or on its state)."""
    state = getattr(app, "state", None)
    trail = getattr(getattr(state, "services", None), "audit", None) or getattr(state, "audit", None)
    return trail if isinstance(trail, AuditTrail) else None
