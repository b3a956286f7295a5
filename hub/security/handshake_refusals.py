"""TLS handshakes a door refused or that failed: each one counted, and logged and audited sampled per address.

A scanner speaking an old protocol, a client with no cipher in common, plain HTTP sent to the HTTPS port or a
socket that never finishes its ClientHello is someone probing the door, so it belongs in the audit trail with
the address and the reason; one entry per address and kind a period (hub.security.refusal_sampling) keeps a
flood from filling the trail and the log. A peer that closes before saying anything (a TCP health check) is
only counted. Nothing about a patient is known at this point, so nothing about one can be logged.
"""

from __future__ import annotations

import logging
import ssl
from concurrent.futures import Future

from hub.observability.metrics import TLS_HANDSHAKE_FAILURES
from hub.persistence.audit import AuditTrail
from hub.security.refusal_sampling import RefusalSampler

log = logging.getLogger(__name__)

#: OpenSSL's reason codes -> the few kinds the metric is labelled with (``TLS_HANDSHAKE_KINDS``)
_KINDS = {
    "UNSUPPORTED_PROTOCOL": "protocol_version",
    "WRONG_VERSION_NUMBER": "protocol_version",
    "TLSV1_ALERT_PROTOCOL_VERSION": "protocol_version",
    "VERSION_TOO_LOW": "protocol_version",
    "NO_SHARED_CIPHER": "no_shared_cipher",
    "NO_CIPHERS_AVAILABLE": "no_shared_cipher",
    "HTTP_REQUEST": "not_tls",
    "HTTPS_PROXY_REQUEST": "not_tls",
}


def kind_of(error: BaseException) -> str:
    """What went wrong, as one of ``TLS_HANDSHAKE_KINDS`` (a bounded metric label)."""
    if isinstance(error, ssl.SSLError):
        reason = str(error.reason or "")
        if reason in _KINDS:
            return _KINDS[reason]
        return "certificate" if "CERTIFICATE" in reason or "_CA" in reason else "other"
    if isinstance(error, ConnectionAbortedError):
        return "timeout"  # asyncio's handshake deadline ends the connection with this error
    if isinstance(error, TimeoutError):
        return "timeout"
    return "closed"


def describe(error: BaseException) -> str:
    """The reason for the audit trail: OpenSSL's reason code, or the error's own words."""
    reason = getattr(error, "reason", None) or str(error) or type(error).__name__
    return f"TLS handshake failed: {reason}"


class HandshakeRefusals:
    """Where one door reports its failed handshakes (``door``: the metric's label, ``action``: the audit's)."""

    def __init__(self, door: str, action: str, audit: AuditTrail | None, sampler: RefusalSampler | None = None):
        self.door, self.action, self._audit = door, action, audit
        self._sampler = sampler or RefusalSampler()

    def failed(self, address: str | None, error: BaseException) -> None:
        """Count one failed handshake from ``address``; audit it unless one like it was audited lately."""
        kind = kind_of(error)
        TLS_HANDSHAKE_FAILURES.labels(self.door, kind).inc()
        if kind == "closed":
            return
        skipped = self._sampler.take((address, kind))
        if skipped is None:
            return
        reason = describe(error)
        log.warning("TLS handshake refused: %s", reason, extra={"event": "tls.handshake_refused", "door": self.door})
        if self._audit is not None:
            detail = {"client": address or "unknown", "reason": reason, "kind": kind, "unaudited_before": skipped}
            written = self._audit.record_later(
                actor="anonymous", role="none", action=self.action, outcome="unauthenticated", detail=detail
            )
            written.add_done_callback(_report_unwritten)


def _report_unwritten(written: Future[None]) -> None:
    """An entry that could not be written is logged (the connection is gone; nobody else would know)."""
    if written.exception() is not None:
        log.error("a refused TLS handshake could not be audited", extra={"event": "tls.handshake_unaudited"})
