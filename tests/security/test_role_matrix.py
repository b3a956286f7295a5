"""Every role against every route of the real app: allowed, or 403 and audited; no token: 401.

Routes are enumerated from the app's OpenAPI description, so a new route fails here until it is placed in
the matrix; a route without authentication fails unless it is one of the few public ones.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.config import Settings
from hub.entrypoints.runtime import declare_topology
from hub.persistence.audit import AuditTrail
from tests.conftest import make_settings
from tests.security.http_app import ROLES, App, http_app

STAFF = {"technician", "pharmacist", "admin"}
HANDS_ON = {"technician", "pharmacist"}
PHARMACIST = {"pharmacist"}
#: the staff API, route by route (method, path) -> roles allowed
STAFF_API: dict[tuple[str, str], set[str]] = {
    ("GET", "/api/queues/{queue}"): STAFF,
    ("GET", "/api/prescriptions/{prescription_id}"): STAFF,
    ("GET", "/api/prescriptions"): STAFF,
    ("GET", "/api/patients/{patient_id}/prescriptions"): STAFF,
    ("GET", "/api/records"): STAFF,
    ("GET", "/api/search"): STAFF,
    ("POST", "/api/prescriptions/{prescription_id}/data-verification"): PHARMACIST,
    ("POST", "/api/prescriptions/{prescription_id}/product-verification"): PHARMACIST,
    ("POST", "/api/prescriptions/{prescription_id}/claim-resolution"): HANDS_ON,
    ("POST", "/api/prescriptions/{prescription_id}/product"): HANDS_ON,
    ("POST", "/api/prescriptions/{prescription_id}/dispense"): HANDS_ON,
    ("POST", "/api/prescriptions/{prescription_id}/return-to-stock"): HANDS_ON,
    ("POST", "/api/prescriptions/{prescription_id}/cancel"): HANDS_ON,
    ("POST", "/api/prescriptions/{prescription_id}/refill"): HANDS_ON,
    ("POST", "/api/prescriptions/{prescription_id}/short-stock"): HANDS_ON,
    ("POST", "/api/patients/{patient_id}/eligibility"): HANDS_ON,
    ("GET", "/api/patients/{patient_id}/coverages"): HANDS_ON,
    ("PUT", "/api/patients/{patient_id}/coverages"): HANDS_ON,
    ("POST", "/api/prescriptions/{prescription_id}/claim-correction"): HANDS_ON,
    ("POST", "/api/prescriptions/{prescription_id}/completion"): HANDS_ON,
    ("POST", "/api/prescriptions/{prescription_id}/rebill"): HANDS_ON,
    ("POST", "/api/prescriptions/{prescription_id}/completion/close"): HANDS_ON,
    ("GET", "/api/eligibility/{check_id}"): HANDS_ON,
    ("POST", "/api/inventory"): HANDS_ON,
    ("POST", "/api/inventory/scan"): HANDS_ON,
    ("GET", "/api/inventory"): STAFF,
    ("POST", "/api/verbal-orders"): PHARMACIST,
    ("GET", "/api/identity-conflicts"): STAFF,
    ("POST", "/api/identity-conflicts/{conflict_id}/decision"): STAFF,
    ("GET", "/api/refused-orders"): STAFF,
    ("GET", "/api/commands/{command_id}"): STAFF,
    ("GET", "/api/me"): {*ROLES},
    ("POST", "/api/session"): {*ROLES},
}
#: reachable without a token: probes, the scrape endpoint (no PHI labels), the FHIR capability statement
PUBLIC = {("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/metrics"), ("GET", "/fhir/metadata")}
#: reachable without a token and outside the OpenAPI description (so not enumerated from it): the description
#: itself and the pages that render it, with their assets (hub.entrypoints.http.api_docs)
UNDESCRIBED_PUBLIC = (
    "/openapi.json",
    "/docs",
    "/redoc",
    "/docs/assets/swagger-ui-bundle.js",
    "/docs/assets/swagger-ui.css",
    "/docs/assets/redoc.standalone.js",
    "/docs/assets/favicon.png",
)
PARAMS = {
    "prescription_id": "00000000-0000-0000-0000-000000000000",
    "queue": "intake",
    "message_id": "nope",
    "resource_id": "nope",
    "patient_id": "nope",
    "path": "Observation",
    "conflict_id": "nope",
    "command_id": "nope",
    "check_id": "nope",
    "grant_id": "nope",
    "bundle_id": "nope",
}


def allowed(method: str, path: str) -> set[str]:
    """The roles a route admits (doors by prefix: feeds and admins; the operations API: admins)."""
    if path.startswith(("/api/admin/", "/fhir/AuditEvent")):
        return {"admin"}  # the audit trail, in FHIR too, is the admins' alone
    if path.startswith(("/fhir", "/script")):
        return {"feed", "admin"}
    if path.startswith("/console"):
        pytest.fail(f"place {method} {path} in the matrix")
    return STAFF_API[(method, path)]


def routes(app: App) -> list[tuple[str, str, bool]]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate operation ids of the FHIR catch-all are not ours to fix here
        paths = app.app.openapi()["paths"]
    return [(m.upper(), p, "security" in op) for p, ops in paths.items() for m, op in ops.items()]


@pytest.fixture
def app(amqp_url: str, tmp_path: Path) -> Iterator[App]:
    settings: Settings = make_settings(amqp_url, f"sqlite:///{tmp_path / 'rxhub.sqlite3'}", auth_failure_limit=100_000)
    declare_topology(settings)
    with http_app(settings) as running:
        yield running


def test_every_route_is_either_public_or_authenticated(app: App) -> None:
    found = {(m, p) for m, p, secured in routes(app) if not secured}
    assert found == PUBLIC


def test_the_api_description_is_public_and_its_pages_off_unless_configured(app: App) -> None:
    pages = ("/docs", "/redoc")
    described = tuple(path for path in UNDESCRIBED_PUBLIC if path not in pages)
    assert {path: app.client.get(path).status_code for path in described} == dict.fromkeys(described, 200)
    assert {path: app.client.get(path, headers=app.as_role("admin")).status_code for path in pages} == dict.fromkeys(
        pages, 404
    )


def test_every_staff_route_is_in_the_matrix(app: App) -> None:
    staff = {(m, p) for m, p, _ in routes(app) if p.startswith("/api/") and not p.startswith("/api/admin/")}
    assert staff == set(STAFF_API)


def _call(app: App, method: str, path: str, role: str | None) -> int:
    url = path.format(**PARAMS)
    body = {} if method in ("POST", "PUT", "PATCH") else None
    return app.client.request(method, url, json=body, headers=app.as_role(role)).status_code


def test_each_role_gets_exactly_its_routes_and_refusals_are_audited(app: App) -> None:
    wrong: list[str] = []
    refusals = 0
    for method, path, secured in routes(app):
        if not secured:
            continue
        for role in ROLES:
            status = _call(app, method, path, role)
            if role in allowed(method, path):
                if status in (401, 403):
                    wrong.append(f"{role} refused {status} on {method} {path}")
            elif status != 403:
                wrong.append(f"{role} got {status} on {method} {path}, wanted 403")
            else:
                refusals += 1
        if (status := _call(app, method, path, None)) != 401:
            wrong.append(f"no token got {status} on {method} {path}")
    assert wrong == []
    audited = [e for e in AuditTrail(app.engine).query(limit=100_000) if e.outcome == "forbidden"]
    assert len(audited) == refusals > 50
