"""HTTPS with the TLS handshake done by the hub's own protocol, after the connection has been counted.

Handing uvicorn the server context made asyncio run the handshake before the protocol ever saw the connection:
a socket that opened TCP and never sent a ClientHello was outside the connection caps and held its descriptor
for asyncio's 60 s handshake timeout, so a few thousand of them took every descriptor the door had. The door
now listens on plain TCP; each connection is counted against the caps when it is accepted, then upgraded with
``loop.start_tls`` under the door's own deadline, and a handshake that fails or times out is reported
(hub.security.handshake_refusals) and gives its place back.
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass

from hub.security.handshake_refusals import HandshakeRefusals


@dataclass(frozen=True)
class TlsUpgrade:
    """How a door's connections are made HTTPS: the server context, the handshake deadline, where failures go."""

    context: ssl.SSLContext
    handshake_timeout_s: float
    refusals: HandshakeRefusals

    async def secure(
        self, raw: asyncio.Transport, protocol: asyncio.Protocol, address: str | None
    ) -> asyncio.Transport | None:
        """The TLS transport over ``raw`` for ``protocol``; None (``raw`` closed) when the handshake failed."""
        loop = asyncio.get_running_loop()
        try:
            secured = await loop.start_tls(
                raw, protocol, self.context, server_side=True, ssl_handshake_timeout=self.handshake_timeout_s
            )
        except (OSError, TimeoutError) as error:  # ssl.SSLError and ConnectionError are OSErrors
            self.refusals.failed(address, error)
            return None
        if secured is None or secured.is_closing():  # the peer left as the handshake ended
            raw.close()
            return None
        return secured
