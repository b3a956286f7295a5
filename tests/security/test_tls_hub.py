"""The running hub with TLS on both doors: a listed feed's order over mutual-TLS MLLP gets AA, HTTPS answers."""

from __future__ import annotations

import ssl
from pathlib import Path

import httpx
import pytest

from hub.entrypoints.inprocess import running_hub
from hub.entrypoints.mllp_client import MllpClient
from hub.persistence.users import UserStore
from hub.security import tls
from tests.conftest import make_settings
from tests.security.conftest import Pki

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "hl7" / "02_rde_o11_inpatient_lisinopril.hl7"


def test_orders_over_mutual_tls_and_staff_over_https(pki: Pki, amqp_url: str, tmp_path: Path) -> None:
    settings = make_settings(
        amqp_url,
        f"sqlite:///{tmp_path / 'rxhub.sqlite3'}",
        mllp_tls_cert=pki.dev.server_cert,
        mllp_tls_key=pki.dev.server_key,
        mllp_tls_client_ca=pki.dev.ca,
        mllp_tls_require_client_cert=True,
        mllp_tls_allowed_subjects=("ehr-north",),
        http_tls_cert=pki.dev.server_cert,
        http_tls_key=pki.dev.server_key,
    )
    with running_hub(settings, with_workers=False) as hub:
        north = tls.client_context(pki.dev.ca, cert=pki.client("ehr-north")[0], key=pki.client("ehr-north")[1])
        with MllpClient("127.0.0.1", hub.mllp_port, timeout_s=10, ssl_context=north) as client:
            assert b"MSA|AA" in client.send(SAMPLE.read_bytes())
        south = tls.client_context(pki.dev.ca, cert=pki.client("ehr-south")[0], key=pki.client("ehr-south")[1])
        with (
            pytest.raises((ConnectionError, ssl.SSLError)),
            MllpClient("127.0.0.1", hub.mllp_port, timeout_s=10, ssl_context=south) as client,
        ):
            client.send(SAMPLE.read_bytes())
        with (
            pytest.raises((ConnectionError, ssl.SSLError, OSError)),
            MllpClient("127.0.0.1", hub.mllp_port, timeout_s=10) as client,
        ):  # plain TCP to the TLS port
            client.send(SAMPLE.read_bytes())
        token = UserStore(hub.engine).add("ada.admin", "admin")[1]
        me = httpx.get(
            f"https://127.0.0.1:{hub.http_port}/api/me",
            headers={"Authorization": f"Bearer {token}"},
            verify=tls.client_context(pki.dev.ca),
        )
        assert me.json()["role"] == "admin"
        audit = httpx.get(
            f"https://127.0.0.1:{hub.http_port}/api/admin/audit",
            params={"actor": "ehr-south"},
            headers={"Authorization": f"Bearer {token}"},
            verify=tls.client_context(pki.dev.ca),
        )
        assert [(e["action"], e["outcome"]) for e in audit.json()] == [("mllp connect", "unauthenticated")]
