"""HTTPS on the hub's HTTP doors with the dev certificates: verified clients connect, others fail the handshake."""

from __future__ import annotations

import ssl
from pathlib import Path

import httpx
import pytest

from hub.security import tls
from tests.conftest import make_settings
from tests.security.conftest import Pki
from tests.security.http_app import http_app


def test_https_serves_a_client_that_trusts_the_ca_and_fails_one_that_does_not(
    pki: Pki, amqp_url: str, tmp_path: Path
) -> None:
    settings = make_settings(
        amqp_url,
        f"sqlite:///{tmp_path / 'rxhub.sqlite3'}",
        http_tls_cert=pki.dev.server_cert,
        http_tls_key=pki.dev.server_key,
    )
    with http_app(settings, verify=tls.client_context(pki.dev.ca)) as app:
        assert app.client.get("/api/me", headers=app.as_role("admin")).json()["role"] == "admin"
        base = str(app.client.base_url)
        assert base.startswith("https://")
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            httpx.get(f"{base}/healthz", verify=tls.client_context(pki.stranger_ca))
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            httpx.get(base.replace("https://", "http://") + "/healthz")


def test_server_context_refuses_to_require_client_certificates_without_a_ca(pki: Pki) -> None:
    with pytest.raises(ValueError, match="without a CA"):
        tls.server_context(pki.dev.server_cert, pki.dev.server_key, require_client_cert=True)


def test_contexts_refuse_old_protocols(pki: Pki) -> None:
    assert tls.client_context(pki.dev.ca).minimum_version == ssl.TLSVersion.TLSv1_2
    assert tls.server_context(pki.dev.server_cert, pki.dev.server_key).minimum_version == ssl.TLSVersion.TLSv1_2
