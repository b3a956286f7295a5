"""The hub's real HTTP app on a private database, with a sink that keeps what it is given, and a user per role."""

from __future__ import annotations

import asyncio
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import uvicorn
from fastapi import FastAPI
from sqlalchemy import Engine

from hub.bootstrap.doors import build_http_app
from hub.config import Settings
from hub.entrypoints.http.dependencies import HttpServices, services_of
from hub.entrypoints.http.server_config import server_config
from hub.messaging.envelope import Envelope
from hub.persistence.database import create_schema, make_engine
from hub.persistence.inbound import InboundStore
from hub.persistence.users import UserStore

ROLES = ("technician", "pharmacist", "admin", "feed")


class KeepingSink:
    """A CommandSink that confirms at once and keeps the envelopes (the broker is tested elsewhere)."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []

    async def publish_commands(self, envelopes: list[Envelope]) -> None:
        self.envelopes.extend(envelopes)


@dataclass
class App:
    app: FastAPI
    client: httpx.Client
    tokens: dict[str, str]
    sink: KeepingSink

    @property
    def services(self) -> HttpServices:
        """What the app's routes are given (its engine, audit trail, caches)."""
        return services_of(self.app)

    @property
    def engine(self) -> Engine:
        """The app's private database."""
        return self.services.engine

    def as_role(self, role: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"} if role else {}


@contextmanager
def http_app(settings: Settings, verify: ssl.SSLContext | bool = True) -> Iterator[App]:
    engine = make_engine(settings.database_url.get_secret_value())
    create_schema(engine)
    sink = KeepingSink()
    app = build_http_app(settings, engine, sink, InboundStore(engine))
    users = UserStore(engine)
    tokens = {
        role: users.add(f"{role}.user", role, licence="RPH-1" if role == "pharmacist" else None)[1] for role in ROLES
    }
    server = uvicorn.Server(server_config(app, settings, host="127.0.0.1", port=0))  # the hub's own limits
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_until_complete, args=(server.serve(),), daemon=True)
    thread.start()
    try:
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("HTTP server did not start")
            threading.Event().wait(0.02)
        port = server.servers[0].sockets[0].getsockname()[1]
        scheme = "https" if settings.http_tls_cert else "http"
        with httpx.Client(base_url=f"{scheme}://127.0.0.1:{port}", timeout=20, verify=verify) as client:
            yield App(app, client, tokens, sink)
    finally:
        server.should_exit = True
        thread.join(10)
        loop.close()
        engine.dispose()
