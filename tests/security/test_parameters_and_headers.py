"""Input and output hygiene on every route: NUL and malformed parameters are 400 on both databases, ``limit`` is
bounded, PHI answers are ``no-store``, HTTPS answers carry HSTS, and TLS 1.2 offers AEAD suites only."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.config import Settings
from hub.entrypoints.cli import banner
from hub.security import tls
from tests.conftest import make_settings
from tests.security.conftest import Pki
from tests.security.http_app import App, http_app

NUL = "a%00b"


@pytest.fixture
def app(amqp_url: str, database_url: str) -> Iterator[App]:
    with http_app(make_settings(amqp_url, database_url)) as running:
        yield running


def _get_routes(app: App) -> dict[str, list[str]]:
    """Every GET route in the OpenAPI document, with the names of its query parameters."""
    return {
        path: [p["name"] for p in item["get"].get("parameters", []) if p["in"] == "query"]
        for path, item in app.app.openapi()["paths"].items()
        if "get" in item
    }


def _filled(path: str, value: str) -> str:
    return re.sub(r"\{[^}]+\}", value, path)


def test_a_nul_in_any_path_or_query_parameter_is_400_on_every_route(app: App) -> None:
    admin = app.as_role("admin")
    routes = _get_routes(app)
    assert len(routes) > 20 and any(path.startswith("/fhir") for path in routes)
    wrong = {}
    for path, query in routes.items():
        if "{" in path:
            answer = app.client.get(_filled(path, NUL), headers=admin)
            if answer.status_code != 400:
                wrong[path] = answer.status_code
        for name in query or ["q"]:
            answer = app.client.get(f"{_filled(path, 'x')}?{name}={NUL}", headers=admin)
            if answer.status_code != 400:
                wrong[f"{path}?{name}"] = answer.status_code
    assert wrong == {}


def test_malformed_encodings_are_400_and_clean_ones_pass(app: App) -> None:
    admin = app.as_role("admin")
    assert app.client.get("/api/search?q=%ff%fe", headers=admin).status_code == 400
    assert app.client.get("/api/prescriptions/%ff", headers=admin).status_code == 400
    assert app.client.get("/api/prescriptions/a%01b", headers=admin).status_code == 400
    fhir = app.client.get(f"/fhir/Patient?name={NUL}", headers=admin)
    assert fhir.status_code == 400 and fhir.json()["resourceType"] == "OperationOutcome"
    assert app.client.get("/api/search?family=M%C3%BCller&birth_date=1970-01-01", headers=admin).status_code == 200
    assert app.client.get("/api/me", headers=admin).status_code == 200


def test_the_audit_limit_is_bounded(app: App) -> None:
    admin = app.as_role("admin")
    for bad in ("-1", "0", "5001", "x"):
        assert app.client.get(f"/api/admin/audit?limit={bad}", headers=admin).status_code == 422, bad
    assert app.client.get("/api/admin/audit?limit=5000", headers=admin).status_code == 200


def test_phi_answers_are_not_stored_by_browsers_or_proxies(app: App) -> None:
    admin = app.as_role("admin")
    for path in ("/api/me", "/api/prescriptions", "/fhir/metadata", "/api/prescriptions/nope"):
        answer = app.client.get(path, headers=admin)
        assert answer.headers["cache-control"] == "no-store", path
    assert app.client.get("/api/me").headers["cache-control"] == "no-store", "refusals too"
    assert "no-store" not in app.client.get("/healthz").headers.get("cache-control", "")
    assert "strict-transport-security" not in app.client.get("/api/me", headers=admin).headers, "plain HTTP"


@pytest.fixture
def https(pki: Pki, amqp_url: str, tmp_path: Path) -> Iterator[App]:
    settings = make_settings(
        amqp_url,
        f"sqlite:///{tmp_path / 'rxhub.sqlite3'}",
        http_tls_cert=pki.dev.server_cert,
        http_tls_key=pki.dev.server_key,
    )
    with http_app(settings, verify=tls.client_context(pki.dev.ca)) as running:
        yield running


def _openssl(port: int, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-brief", *options],
        input="",
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_https_answers_carry_hsts_and_offer_aead_suites_only(https: App) -> None:
    answer = https.client.get("/api/me", headers=https.as_role("admin"))
    assert answer.headers["strict-transport-security"].startswith("max-age=")
    assert https.client.get("/healthz").headers["strict-transport-security"].startswith("max-age=")
    port = int(str(https.client.base_url).rsplit(":", 1)[1].rstrip("/"))
    for cbc in ("ECDHE-RSA-AES128-SHA", "ECDHE-RSA-AES256-SHA384", "AES128-SHA256", "ECDHE-ECDSA-AES128-SHA256"):
        refused = _openssl(port, "-tls1_2", "-cipher", cbc)
        assert refused.returncode != 0, f"{cbc} was accepted: {refused.stderr}"
    for aead in (
        "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-GCM-SHA256",
        "ECDHE-RSA-CHACHA20-POLY1305:ECDHE-ECDSA-CHACHA20-POLY1305",
    ):
        accepted = _openssl(port, "-tls1_2", "-cipher", aead)
        assert accepted.returncode == 0 and "Protocol version: TLSv1.2" in accepted.stderr, accepted.stderr
    assert _openssl(port, "-tls1_3").returncode == 0


def test_the_banner_names_https_when_the_hub_serves_it(pki: Pki, settings: Settings) -> None:
    assert "HTTP on http://127.0.0.1:8080" in banner(settings, 2575, 8080)
    tls_settings = settings.model_copy(
        update={"http_tls_cert": pki.dev.server_cert, "http_tls_key": pki.dev.server_key}
    )
    assert "HTTP on https://127.0.0.1:8080" in banner(tls_settings, 2575, 8080)
