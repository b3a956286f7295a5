"""TLS contexts for every door (MLLP, HTTPS) and client (AMQPS), and the per-feed client-certificate allow-list."""

from __future__ import annotations

import ipaddress
import ssl
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

#: peer certificate as ``SSLSocket.getpeercert()`` returns it (a dict, or None without a verified certificate)
PeerCert = dict[str, Any] | None
#: TLS 1.2 suites the doors offer: forward-secret AEAD only (no CBC, no SHA-1 MAC, no static RSA); every TLS 1.3
#: suite is AEAD already
AEAD_CIPHERS = "ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM:DHE+CHACHA20:!aNULL:!eNULL"


def server_context(
    cert: Path, key: Path, *, client_ca: Path | None = None, require_client_cert: bool = False
) -> ssl.SSLContext:
    """A server context (TLS 1.2+, AEAD suites only); with ``client_ca`` client certificates are verified, and
    required if asked."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers(AEAD_CIPHERS)
    context.load_cert_chain(cert, key)
    if client_ca is not None:
        context.load_verify_locations(cafile=client_ca)
        context.verify_mode = ssl.CERT_REQUIRED if require_client_cert else ssl.CERT_OPTIONAL
    elif require_client_cert:
        raise ValueError("client certificates cannot be required without a CA to verify them")
    return context


def client_context(ca_file: Path | None = None, *, cert: Path | None = None, key: Path | None = None) -> ssl.SSLContext:
    """A verifying client context: hostname and chain checked against ``ca_file`` (or the system store)."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=ca_file)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if cert is not None:
        context.load_cert_chain(cert, key)
    return context


def subject_cn(peer: PeerCert) -> str | None:
    """The common name in a verified peer certificate's subject."""
    if not peer:
        return None
    for rdn in peer.get("subject", ()):
        for name, value in rdn:
            if name == "commonName":
                return str(value)
    return None


class SubjectAllowList(BaseModel):
    """Which client-certificate subjects may open an MLLP connection: one CN per feed (empty = any verified)."""

    model_config = ConfigDict(frozen=True)
    subjects: tuple[str, ...] = ()
    require_certificate: bool = False

    def admits(self, peer: PeerCert) -> bool:
        """Whether a connection with this peer certificate may send messages."""
        cn = subject_cn(peer)
        if cn is None:
            return not self.require_certificate and not self.subjects
        return not self.subjects or cn in self.subjects


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach (plain TCP is allowed there)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def amqp_ssl_query(ca_file: Path) -> str:
    """The pika URL query that makes every connection of the process verify the broker against ``ca_file``.

    pika reads ``ssl_options`` from the URL (``pika.URLParameters``), so consumers and adapters that only
    get the URL verify the broker too.
    """
    return "ssl_options=" + repr({"ca_certs": str(ca_file)}).replace(" ", "")
