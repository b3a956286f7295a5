"""The MLLP listener as the hub runs it: it does the TLS handshake itself, so that a refused handshake, like a
client certificate not on the feed allow-list, is logged and audited with the address and the reason.

With the handshake left to asyncio's server, a wrong CA, an expired or missing client certificate ended the
connection inside asyncio with nothing but a debug line. The connection is now accepted as TCP (counted
against the connection caps first), then upgraded with ``start_tls`` under the same deadline. Audit entries
of refused handshakes are bounded per address (hub.security.refusal_sampling).
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from typing import Any

from adapters.hl7.listener import MllpListener, peer_of
from hub.persistence.audit import AuditTrail
from hub.security import tls
from hub.security.principals import Peer
from hub.security.refusal_sampling import RefusalSampler

log = logging.getLogger(__name__)


class VettedMllpListener(MllpListener):
    """The MLLP listener, closing connections whose TLS handshake fails or whose client certificate is not on
    the feed allow-list; both audited."""

    def __init__(
        self,
        *args: Any,
        allow: tls.SubjectAllowList,
        audit: AuditTrail,
        ssl_context: ssl.SSLContext | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, ssl_context=None, **kwargs)
        self._tls = ssl_context
        self._allow = allow
        self._audit = audit
        self._sampler = RefusalSampler()

    async def _converse(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, peer: Peer) -> None:
        if self._tls is not None:
            try:
                await writer.start_tls(self._tls, ssl_handshake_timeout=min(60.0, self._frame_timeout))
            except (ssl.SSLError, ConnectionError, TimeoutError) as exc:
                reason = getattr(exc, "reason", None) or str(exc) or type(exc).__name__
                await self._refused(peer, "unknown", "mllp tls handshake", f"TLS handshake failed: {reason}")
                return
            peer = peer_of(writer)
        cert = writer.get_extra_info("peercert")
        if not self._allow.admits(cert):
            cn = tls.subject_cn(cert) or "no certificate"
            await self._refused(peer, cn, "mllp connect", f"client certificate {cn!r} is not on the allow-list")
            return
        await super()._converse(reader, writer, peer)

    async def _refused(self, peer: Peer, actor: str, action: str, reason: str) -> None:
        log.warning("MLLP connection refused: %s", reason, extra={"event": "mllp.peer_refused", "door": "hl7"})
        skipped = self._sampler.take((peer.address, action))
        if skipped is not None:
            await self._audit.record_soon(
                actor=actor,
                role="feed",
                action=action,
                outcome="unauthenticated",
                detail={"client": peer.address, "reason": reason, "unaudited_before": skipped},
            )
