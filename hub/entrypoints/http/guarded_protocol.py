"""uvicorn's HTTP protocol with limits checked before any work: connection caps in all and per address, a
deadline for the request line and headers, and caps on their size and number.

A connection over a cap is answered 503 (over HTTPS: closed) as soon as it opens; one that dribbles its headers
is closed when the deadline passes; oversized headers are answered 431 and the connection closed, so no header
section larger than ``max_header_bytes`` (plus one socket read) is ever held. Over HTTPS the connection is
counted when TCP is accepted, before its handshake (hub.entrypoints.http.tls_upgrade).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.protocols.utils import get_remote_addr

from hub.entrypoints.http.send_queue import unsent
from hub.entrypoints.http.tls_upgrade import TlsUpgrade
from hub.security.connection_budget import ConnectionBudget

log = logging.getLogger(__name__)

_BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: 25\r\n"
    b"retry-after: 5\r\nconnection: close\r\n\r\ntoo many open connections"
)
_TOO_LARGE = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: text/plain; charset=utf-8\r\n"
    b"content-length: 30\r\nconnection: close\r\n\r\nrequest headers are too large\n"
)
_TOO_SLOW = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: 30\r\n"
    b"connection: close\r\n\r\nrequest headers came too slowly"
)


@dataclass(frozen=True)
class HeaderLimits:
    """What a request may send before its headers are complete."""

    max_bytes: int = 32_768
    max_count: int = 100
    timeout_s: float = 10.0


def trusted(networks: tuple[str, ...]) -> Callable[[str | None], bool]:
    """A predicate: is this address one of the trusted proxies (addresses or CIDR networks)?"""
    parsed = [ipaddress.ip_network(n, strict=False) for n in networks]

    def check(address: str | None) -> bool:
        if not parsed or not address:
            return False
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in parsed)

    return check


def guarded_protocol(
    budget: ConnectionBudget,
    limits: HeaderLimits,
    uncapped: Callable[[str | None], bool] = lambda _: False,
    tls: TlsUpgrade | None = None,
) -> type[HttpToolsProtocol]:
    """A protocol class for ``uvicorn.Config(http=...)`` sharing one budget among its connections.

    ``uncapped``: addresses not held to the per-address cap (trusted proxies carry many clients' connections).
    ``tls``: serve HTTPS, the handshake done here once the connection is counted (uvicorn's own ``ssl`` unset).
    """

    class GuardedHttpProtocol(HttpToolsProtocol):
        """One connection, refused or cut short when it would cost more than its share."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._admitted = False
            self._address: str | None = None
            self._reading_headers = True
            self._header_bytes = 0
            self._header_count = 0
            self._deadline: asyncio.TimerHandle | None = None
            self._upgrading: asyncio.Task[None] | None = None
            #: bytes that came with the end of the handshake, before the TLS transport was given to this protocol
            self._early: list[bytes] | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            # registered with the server (its shutdown closes the connection) before the handshake too
            super().connection_made(transport)
            remote = get_remote_addr(transport)
            self._address = remote[0] if remote else None
            per_address = budget.total if uncapped(self._address) else None
            if not budget.admit(self._address, per_address=per_address):
                self._turn_away(transport)
                return
            self._admitted = True
            if tls is None:
                self._arm()
            else:
                self._early = []
                self._upgrading = self.loop.create_task(self._upgrade(tls, transport))

        def _turn_away(self, transport: asyncio.Transport) -> None:
            if (count := budget.refused()) is not None:
                log.warning(
                    "HTTP connections refused at the connection cap: %d", count, extra={"event": "http.conn_cap"}
                )
            if tls is None:  # over TLS nothing can be said before the handshake: just closed
                transport.write(_BUSY)
            transport.close()

        async def _upgrade(self, upgrade: TlsUpgrade, raw: asyncio.Transport) -> None:
            secured = await upgrade.secure(raw, self, self._address)
            if secured is None:
                self.connections.discard(self)
                self._release()
                return
            super().connection_made(secured)  # the HTTP protocol starts on the TLS transport (scheme https)
            self._arm()
            early, self._early = self._early or [], None
            for data in early:
                self.data_received(data)

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            self._release()
            super().connection_lost(exc)

        def _release(self) -> None:
            if self._admitted:
                self._admitted = False
                budget.release(self._address)

        def data_received(self, data: bytes) -> None:
            if self._early is not None:  # asyncio delivers a request sent with the handshake before start_tls returns
                self._early.append(data)
                return
            if not self._admitted or self.transport.is_closing():
                return
            if self._reading_headers:
                self._header_bytes += len(data)
            super().data_received(data)
            if (
                self._reading_headers
                and self.parser is not None
                and not self.transport.is_closing()
                and (self._header_bytes > limits.max_bytes or self._header_count > limits.max_count)
            ):
                self._refuse(_TOO_LARGE)

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._reading_headers = True
            self._header_count = 0
            if self._deadline is None:
                self._arm()

        def on_header(self, name: bytes, value: bytes) -> None:
            self._header_count += 1
            super().on_header(name, value)

        def on_headers_complete(self) -> None:
            size = len(self.url) + sum(len(name) + len(value) + 4 for name, value in self.headers)
            too_many = self._header_count > limits.max_count or size > limits.max_bytes
            self._reading_headers, self._header_bytes = False, 0
            self._disarm()
            if not too_many:
                super().on_headers_complete()
                return
            app, self.app = self.app, _headers_too_large  # answered in order, then the connection closes
            try:
                super().on_headers_complete()
            finally:
                self.app = app

        def on_message_complete(self) -> None:
            super().on_message_complete()
            self._reading_headers = True

        def timeout_keep_alive_handler(self) -> None:
            # uvicorn arms its keep-alive timer when an answer is buffered, not when it has been received: a
            # reader slower than the timer lost its connection while still receiving (its next request on it
            # failed). Idle time counts once the client has the answer; one that stops reading held it as long
            # before (a close waits for the buffer to drain).
            if not self.transport.is_closing() and unsent(self.transport) > 0:
                self.timeout_keep_alive_task = self.loop.call_later(
                    self.timeout_keep_alive, self.timeout_keep_alive_handler
                )
                return
            super().timeout_keep_alive_handler()

        def _arm(self) -> None:
            self._deadline = self.loop.call_later(limits.timeout_s, self._too_slow)

        def _disarm(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def _too_slow(self) -> None:
            self._deadline = None
            if self._reading_headers and (self.cycle is None or self.cycle.response_complete):
                self._refuse(_TOO_SLOW)

        def _refuse(self, answer: bytes) -> None:
            if not self.transport.is_closing():
                self.transport.write(answer)
                self.transport.close()

    return GuardedHttpProtocol


async def _headers_too_large(scope: Any, receive: Any, send: Any) -> None:
    """431 for a request with too many or too large header fields (parsed whole, its body never read)."""
    body = b"request headers are too large\n"
    await send(
        {
            "type": "http.response.start",
            "status": 431,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"connection", b"close"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
