"""HTTPS connections are counted from the moment TCP is accepted: sockets that never send a ClientHello meet the
per-address cap and the handshake deadline, and refused handshakes are audited, sampled per address (issue 31)."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from prometheus_client import REGISTRY

from hub.entrypoints.http.server_config import HANDSHAKE_ACTION
from hub.persistence.audit import AuditEntry, AuditTrail
from hub.persistence.database import make_engine
from hub.security import tls
from tests.conftest import make_settings
from tests.security.conftest import Pki
from tests.security.http_app import App, http_app
from tests.support.waiting import eventually

#: long enough that a socket closed within it was closed at once, not at the handshake deadline
PATIENT_S = 60.0
#: what a test waits for a closed socket to show it (asyncio's own handshake timeout is 60 s)
CLOSED_WITHIN_S = 20.0


@dataclass
class Https:
    app: App
    #: the app's audit trail, read through an engine of the test's own
    trail: AuditTrail

    @property
    def port(self) -> int:
        return int(str(self.app.client.base_url).rsplit(":", 1)[1].rstrip("/"))


@contextmanager
def https_app(pki: Pki, amqp_url: str, tmp_path: Path, deadline_s: float) -> Iterator[Https]:
    database = f"sqlite:///{tmp_path / 'rxhub.sqlite3'}"
    settings = make_settings(
        amqp_url,
        database,
        http_tls_cert=pki.dev.server_cert,
        http_tls_key=pki.dev.server_key,
        http_header_timeout_s=deadline_s,
        http_max_connections=12,
        http_max_connections_per_address=5,
    )
    with http_app(settings, verify=tls.client_context(pki.dev.ca)) as running:
        engine = make_engine(database)
        try:
            yield Https(running, AuditTrail(engine))
        finally:
            engine.dispose()


def _silent(port: int, source: str = "127.0.0.1") -> socket.socket:
    """A socket that opens TCP and never says a word."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=CLOSED_WITHIN_S, source_address=(source, 0))
    return sock


def _closed(sock: socket.socket) -> bool:
    """Whether the server ends the connection within ``CLOSED_WITHIN_S`` (a TLS alert may come first)."""
    try:
        while sock.recv(4096):
            pass
        return True
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def _healthz_from(hub: Https, pki: Pki, source: str) -> int:
    transport = httpx.HTTPTransport(local_address=source, verify=tls.client_context(pki.dev.ca))
    with httpx.Client(transport=transport, timeout=CLOSED_WITHIN_S) as client:
        return client.get(f"https://127.0.0.1:{hub.port}/healthz").status_code


def _handshakes(trail: AuditTrail) -> list[AuditEntry]:
    return [e for e in trail.query() if e.action == HANDSHAKE_ACTION]


def _failures(kind: str) -> float:
    labels = {"door": "http", "kind": kind}
    return REGISTRY.get_sample_value("rxhub_tls_handshake_failures_total", labels) or 0.0


def test_sockets_that_never_handshake_meet_the_per_address_cap(pki: Pki, amqp_url: str, tmp_path: Path) -> None:
    with https_app(pki, amqp_url, tmp_path, deadline_s=PATIENT_S) as hub, ExitStack() as held:
        port = hub.port
        for _ in range(5):
            held.enter_context(_silent(port))
        with _silent(port) as sixth:
            assert _closed(sixth), "the sixth silent socket of one address is closed at once"
        assert _healthz_from(hub, pki, "127.0.0.2") == 200, "another address is served meanwhile"
        for source in ("127.0.0.3",) * 5 + ("127.0.0.4",) * 2:
            held.enter_context(_silent(port, source))
        with _silent(port, "127.0.0.5") as over:
            assert _closed(over), "the total cap counts sockets still before their handshake"


def test_a_socket_that_never_handshakes_is_closed_at_the_deadline_and_audited(
    pki: Pki, amqp_url: str, tmp_path: Path
) -> None:
    timeouts = _failures("timeout")
    with https_app(pki, amqp_url, tmp_path, deadline_s=1.0) as hub:
        with _silent(hub.port) as silent:
            assert _healthz_from(hub, pki, "127.0.0.2") == 200, "a client that handshakes is served meanwhile"
            assert _closed(silent), "closed at the handshake deadline, not asyncio's 60 s"
        assert hub.app.client.get("/healthz").headers["strict-transport-security"].startswith("max-age=")
        (entry,) = eventually(lambda: _handshakes(hub.trail) or None, "the timed-out handshake audited")
    assert (entry.actor, entry.outcome, entry.detail["client"]) == ("anonymous", "unauthenticated", "127.0.0.1")
    assert entry.detail["kind"] == "timeout" and "taking longer" in entry.detail["reason"]
    assert _failures("timeout") == timeouts + 1


def _cbc_only() -> ssl.SSLContext:
    """A client that offers TLS 1.2 with CBC suites only, none of which the hub accepts."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers("ECDHE-RSA-AES128-SHA:ECDHE-ECDSA-AES128-SHA:AES128-SHA")
    return context


def test_refused_handshakes_are_audited_once_per_address_and_kind(pki: Pki, amqp_url: str, tmp_path: Path) -> None:
    plain = _failures("not_tls")
    with https_app(pki, amqp_url, tmp_path, deadline_s=PATIENT_S) as hub:
        for _ in range(3):  # plain HTTP spoken to the HTTPS port
            with _silent(hub.port) as sock:
                sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: hub\r\n\r\n")
                assert _closed(sock)
        with _silent(hub.port) as sock:
            try:
                with _cbc_only().wrap_socket(sock) as wrapped:
                    wrapped.recv(1)
            except (ssl.SSLError, ConnectionError):
                pass  # refused: what the hub recorded is what matters
            else:
                raise AssertionError("a handshake with no shared cipher succeeded")
        entries = eventually(lambda: found if len(found := _handshakes(hub.trail)) >= 2 else None, "both kinds audited")
        assert hub.app.client.get("/healthz").status_code == 200
    kinds = sorted((e.detail["kind"], e.detail["client"], e.detail["unaudited_before"]) for e in entries)
    assert kinds == [("no_shared_cipher", "127.0.0.1", 0), ("not_tls", "127.0.0.1", 0)]
    assert all(e.detail["reason"].startswith("TLS handshake failed: ") for e in entries)
    assert _failures("not_tls") == plain + 3, "every refusal counted, one audited"


def test_the_door_stops_while_a_handshake_is_pending(pki: Pki, amqp_url: str, tmp_path: Path) -> None:
    with ExitStack() as held:
        with https_app(pki, amqp_url, tmp_path, deadline_s=PATIENT_S) as hub:
            silent = held.enter_context(_silent(hub.port))
            assert _healthz_from(hub, pki, "127.0.0.2") == 200
        # http_app stopped its server (its thread ended) with the handshake still pending: it was closed
        assert _closed(silent)
