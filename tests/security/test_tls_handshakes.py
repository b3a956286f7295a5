"""Real TLS handshakes on the MLLP listener: good certificates pass; wrong CA, expired, missing or unlisted fail."""

from __future__ import annotations

import asyncio
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from adapters.hl7.mllp_framing import FrameTooLarge
from hub.entrypoints.doors import VettedMllpListener
from hub.entrypoints.mllp_client import MllpClient
from hub.persistence.audit import AuditTrail
from hub.persistence.database import create_schema, make_engine
from hub.security import tls
from hub.security.principals import Peer
from tests.security.conftest import Pki
from tests.support.waiting import eventually

ACK = b"MSH|^~\\&|RXHUB|PHARMACY|||20260101||ACK|1|P|2.5\rMSA|AA|1\r"
MSG = b"MSH|^~\\&|EHR|NORTH|RXHUB|PHARMACY|20260101||RDE^O11|1|P|2.5\r"


async def _answer(_payload: bytes, _peer: Peer) -> bytes:
    return ACK


def _refuse(_item: FrameTooLarge, _peer: Peer) -> bytes:
    return ACK


@contextmanager
def listener(context: ssl.SSLContext, allow: tls.SubjectAllowList, tmp_path: Path) -> Iterator[tuple[int, AuditTrail]]:
    engine = make_engine(f"sqlite:///{tmp_path / 'audit.sqlite3'}")
    create_schema(engine)
    trail = AuditTrail(engine)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    server = VettedMllpListener(
        _answer, _refuse, host="127.0.0.1", port=0, ssl_context=context, allow=allow, audit=trail, idle_timeout_s=5
    )
    asyncio.run_coroutine_threadsafe(server.start(), loop).result(5)
    try:
        yield server.port, trail
    finally:
        asyncio.run_coroutine_threadsafe(server.stop(), loop).result(5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        engine.dispose()


def mutual(pki: Pki, *subjects: str) -> tuple[ssl.SSLContext, tls.SubjectAllowList]:
    context = tls.server_context(
        pki.dev.server_cert, pki.dev.server_key, client_ca=pki.dev.ca, require_client_cert=True
    )
    return context, tls.SubjectAllowList(subjects=subjects, require_certificate=True)


def send(port: int, context: ssl.SSLContext) -> bytes:
    with MllpClient("127.0.0.1", port, timeout_s=5, ssl_context=context) as client:
        return client.send(MSG)


def test_a_client_with_a_good_certificate_gets_its_ack(pki: Pki, tmp_path: Path) -> None:
    context, allow = mutual(pki, "ehr-north")
    with listener(context, allow, tmp_path) as (port, _):
        cert, key = pki.client("ehr-north")
        assert send(port, tls.client_context(pki.dev.ca, cert=cert, key=key)) == ACK


def test_server_only_tls_without_client_certificates(pki: Pki, tmp_path: Path) -> None:
    context = tls.server_context(pki.dev.server_cert, pki.dev.server_key)
    with listener(context, tls.SubjectAllowList(), tmp_path) as (port, _):
        assert send(port, tls.client_context(pki.dev.ca)) == ACK


def test_the_client_refuses_a_server_signed_by_another_ca(pki: Pki, tmp_path: Path) -> None:
    context = tls.server_context(pki.dev.server_cert, pki.dev.server_key)
    with listener(context, tls.SubjectAllowList(), tmp_path) as (port, _):
        with pytest.raises(ssl.SSLCertVerificationError, match="unable to get local issuer"):
            send(port, tls.client_context(pki.stranger_ca))


def test_the_client_refuses_an_expired_server_certificate(pki: Pki, tmp_path: Path) -> None:
    context = tls.server_context(*pki.expired_server)
    with listener(context, tls.SubjectAllowList(), tmp_path) as (port, _):
        with pytest.raises(ssl.SSLCertVerificationError, match="expired"):
            send(port, tls.client_context(pki.dev.ca))


@pytest.mark.parametrize("which", ["stranger", "expired", "missing"])
def test_the_listener_refuses_bad_client_certificates(pki: Pki, tmp_path: Path, which: str) -> None:
    context, allow = mutual(pki, "ehr-north")
    client = tls.client_context(pki.dev.ca)
    if which == "stranger":
        client.load_cert_chain(*pki.stranger_client)
    elif which == "expired":
        client.load_cert_chain(*pki.expired_client)
    with listener(context, allow, tmp_path) as (port, trail):
        # TLS 1.3: the server's verdict on the client certificate arrives after the client's handshake ends
        with pytest.raises((ssl.SSLError, ConnectionError)):
            send(port, client)
        # the refused handshake is audited with the address and the reason (issue 31)
        (entry,) = eventually(
            lambda: [e for e in trail.query() if e.action == "mllp tls handshake"] or None,
            "the refused handshake audited",
        )
    assert (entry.outcome, entry.detail["client"]) == ("unauthenticated", "127.0.0.1")
    assert entry.detail["reason"].startswith("TLS handshake failed: ") and len(entry.detail["reason"]) > 22


def test_a_verified_certificate_not_on_the_allow_list_is_closed_and_audited(pki: Pki, tmp_path: Path) -> None:
    context, allow = mutual(pki, "ehr-north")
    with listener(context, allow, tmp_path) as (port, trail):
        cert, key = pki.client("ehr-south")
        with pytest.raises((ConnectionError, ssl.SSLError)):
            send(port, tls.client_context(pki.dev.ca, cert=cert, key=key))
        refusals = [(e.actor, e.action, e.outcome) for e in trail.query()]
    assert refusals == [("ehr-south", "mllp connect", "unauthenticated")]
    assert trail.query()[0].detail["reason"] == "client certificate 'ehr-south' is not on the allow-list"


def test_subject_allow_list_rules() -> None:
    peer = {"subject": ((("organizationName", "RxHub dev"),), (("commonName", "ehr-north"),))}
    assert tls.subject_cn(peer) == "ehr-north"
    assert tls.SubjectAllowList(subjects=("ehr-north",)).admits(peer)
    assert not tls.SubjectAllowList(subjects=("ehr-south",)).admits(peer)
    assert tls.SubjectAllowList().admits(None)
    assert not tls.SubjectAllowList(require_certificate=True).admits(None)
    assert not tls.SubjectAllowList(subjects=("ehr-north",)).admits(None)
