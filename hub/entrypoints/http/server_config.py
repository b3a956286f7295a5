"""The uvicorn configuration every HTTP listener of the hub uses: the guarded protocol (connection caps, header
limits and deadline), proxy headers believed only from the configured trusted proxies, TLS when set, and the
layers around the app that refuse malformed parameters and mark answers no-store (and HSTS over HTTPS)."""

from __future__ import annotations

import ssl
from collections.abc import Callable
from typing import Any

import uvicorn

from hub.config import Settings
from hub.entrypoints.http.guarded_protocol import HeaderLimits, guarded_protocol, trusted
from hub.entrypoints.http.request_hygiene import RequestHygiene
from hub.entrypoints.http.response_headers import ResponseHeaders
from hub.security import tls
from hub.security.connection_budget import ConnectionBudget


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
) -> uvicorn.Config:
    """A ``uvicorn.Config`` for ``app`` under the settings' limits (``host``/``port`` override the settings')."""
    limits = HeaderLimits(
        max_bytes=settings.http_max_header_bytes,
        max_count=settings.http_max_header_count,
        timeout_s=settings.http_header_timeout_s,
    )
    proxies = trusted(settings.trusted_proxies)
    protocol = guarded_protocol(budget or http_budget(settings), limits, uncapped=proxies)
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
        ssl_certfile=settings.http_tls_cert,
        ssl_keyfile=settings.http_tls_key,
        ssl_context_factory=_tls(settings) if settings.http_tls_cert else None,
    )


def _tls(settings: Settings) -> Callable[[uvicorn.Config, Callable[[], ssl.SSLContext]], ssl.SSLContext]:
    """The hub's own server context (TLS 1.2+, AEAD suites only), not uvicorn's default one."""
    cert, key = settings.http_tls_cert, settings.http_tls_key

    def factory(_config: uvicorn.Config, _default: Callable[[], ssl.SSLContext]) -> ssl.SSLContext:
        assert cert is not None
        return tls.server_context(cert, key or cert)

    return factory
